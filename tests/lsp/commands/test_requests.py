"""Commands as requests, through the real entry point (`python -m kubelocal.lsp`), without a cluster
that answers: how `workspace/executeCommand` behaves around the commands themselves.

Aspects:
- an unknown command, and arguments that do not fit the command's, are InvalidParams errors that
  name what is wrong (the commands there are; the field) and what to send;
- a command that needs no cluster answers (`status`: disconnected);
- `$/cancelRequest` cancels the running command itself, not only its answer: the command stops
  waiting for a cluster that never answers and closes its connection (its own request timeout is
  30 s, far beyond this test's patience).
"""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types
from pygls import exceptions

from .. import fake_api, helpers

pytestmark = pytest.mark.slow
NO_CLUSTER_NAMES = {"clusterCompletion": False, "diagnosticsDelayMs": 10}


def execute(command: str, arguments: list) -> types.ExecuteCommandParams:
    return types.ExecuteCommandParams(command=command, arguments=arguments)


async def test_wrong_commands_and_arguments_are_invalid_params():
    async with helpers.running_server(options=NO_CLUSTER_NAMES) as client:
        with pytest.raises(exceptions.JsonRpcInvalidParams) as unknown:
            await client.workspace_execute_command_async(execute("kubelocal.server.nothing", [{}]))
        assert "There is no command 'kubelocal.server.nothing'" in str(unknown.value)
        assert "kubelocal.server.connect" in str(unknown.value)  # the ones there are
        with pytest.raises(exceptions.JsonRpcInvalidParams) as misfit:
            await client.workspace_execute_command_async(
                execute("kubelocal.server.namespaces", [{"namespace": "shop"}])
            )
        assert "required field missing @ $.context" in str(misfit.value)
        assert "kubelocal.server.namespaces" in str(misfit.value)
        status = await client.workspace_execute_command_async(execute("kubelocal.server.status", [{}]))
        assert status == {"state": "disconnected"}


async def test_a_cancelled_command_stops_waiting_for_the_cluster(tmp_path):
    connections: asyncio.Queue[asyncio.StreamReader] = asyncio.Queue()
    writers: list[asyncio.StreamWriter] = []

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        await connections.put(reader)

    black_hole = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    try:
        port = black_hole.sockets[0].getsockname()[1]
        kubeconfig = fake_api.write_kubeconfig(tmp_path / "kubeconfig", server=f"http://127.0.0.1:{port}")
        async with helpers.running_server(options=NO_CLUSTER_NAMES, KUBECONFIG=str(kubeconfig)) as client:
            request = asyncio.wrap_future(
                client.protocol.send_request(
                    types.WORKSPACE_EXECUTE_COMMAND,
                    execute("kubelocal.server.namespaces", [{"context": "fake-context"}]),
                    msg_id="namespaces-1",
                )
            )
            reader = await asyncio.wait_for(connections.get(), 20)  # the command waits for the cluster
            client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="namespaces-1"))
            with pytest.raises(exceptions.JsonRpcRequestCancelled):
                await asyncio.wait_for(request, 10)
            async with asyncio.timeout(10):
                while await reader.read(65_536):  # the request's bytes, then the end: closed
                    pass
    finally:
        for writer in writers:
            writer.close()
        black_hole.close()
        await black_hole.wait_closed()
