"""The packed agent as a real process on loopback, with this test acting as the engine.

Aspects: the handshake succeeds with the token and a wrong token is refused and logged without
any token; inbound: a TCP client on the agent's service port reaches the engine through a
stream and gets its answer; with no session a client is turned away at once; outbound: the
engine reaches a loopback echo server through the agent, and an unreachable address resets the
stream with CONNECT_FAILED; the environment report holds the container's variables and not the
agent's token; a volume arrives as a tar stream with files, directories and links, and a missing
path is NOT_FOUND; 200 concurrent streams; a stalled stream does not stall a fast one; when the
engine disappears the status says "no session"; the restore mode of the same zipapp restores a
workload once the agent has had no session for the grace period.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import subprocess
import sys
import tarfile

import pytest

from kubelocal_agent import driving, errors, restore, restores
from kubelocal_agent.protocol import connection, targets
from kubelocal_agent.protocol import errors as protocol_errors

from . import fake_kube, running

pytestmark = pytest.mark.slow


@pytest.fixture
def agent():
    with running.agent_process(service_ports=2, extra_env={"SAMPLE_SETTING": "from-the-pod"}) as process:
        yield process


async def _engine(agent: running.RunningAgent, *, token: str = running.TOKEN, **kwargs) -> driving.Session:
    reader, writer = await asyncio.open_connection("127.0.0.1", agent.control_port)
    return await driving.Session.start(
        reader=reader, writer=writer, role=connection.Role.ENGINE, token=token, handshake_timeout=5, **kwargs
    )


async def _status(agent: running.RunningAgent) -> dict:
    status = await asyncio.to_thread(restore.fetch_status, agent.status_url)
    assert status is not None
    return status


async def _echo_server():
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()

    return await asyncio.start_server(echo, "127.0.0.1", 0)


async def test_the_handshake_needs_the_token_and_a_refusal_leaks_no_token(agent):
    with pytest.raises(errors.HandshakeFailed) as raised:
        await _engine(agent, token="wrong-token-xyz")
    assert raised.value.error_code == protocol_errors.ErrorCode.AUTH_FAILED
    session = await _engine(agent)
    assert session.peer_info["pid"] == agent.process.pid
    assert (await _status(agent))["connected"]
    await session.close()
    log = agent.log()
    assert "refused a control connection" in log
    assert "wrong-token-xyz" not in log and running.TOKEN not in log


async def test_inbound_connections_reach_the_engine_and_get_its_answer(agent):
    async def answer(stream: driving.Stream) -> None:
        request = await stream.read_all()
        await stream.write(b"workstation saw %s on port %d" % (request, stream.target["port"]))
        await stream.write_eof()

    session = await _engine(agent, on_stream=answer)
    try:
        for port in agent.service_ports:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /")
            writer.write_eof()
            assert await asyncio.wait_for(reader.read(), 5) == b"workstation saw GET / on port %d" % port
            writer.close()
    finally:
        await session.close()


async def test_without_a_session_inbound_clients_are_turned_away_at_once(agent):
    reader, writer = await asyncio.open_connection("127.0.0.1", agent.service_ports[0])
    try:
        data = await asyncio.wait_for(reader.read(), 2)
    except ConnectionResetError:
        data = b""
    assert data == b""
    writer.close()


async def test_outbound_streams_reach_cluster_addresses_through_the_agent(agent):
    server = await _echo_server()
    port = server.sockets[0].getsockname()[1]
    session = await _engine(agent)
    try:
        stream = await session.open_stream(targets.connect(host="localhost", port=port))
        await stream.write(b"to the cluster and back")
        await stream.write_eof()
        assert await asyncio.wait_for(stream.read_all(), 5) == b"to the cluster and back"
        server.close()
        await server.wait_closed()
        refused = await session.open_stream(targets.connect(host="127.0.0.1", port=port))
        with pytest.raises(errors.StreamReset) as raised:
            await asyncio.wait_for(refused.read(), 5)
        assert raised.value.error_code == protocol_errors.ErrorCode.CONNECT_FAILED
    finally:
        await session.close()


async def test_the_environment_report_holds_the_containers_variables_only(agent):
    session = await _engine(agent)
    try:
        environ = (await session.request("env"))["environ"]
    finally:
        await session.close()
    assert environ["SAMPLE_SETTING"] == "from-the-pod"
    assert not any(name.startswith("KUBELOCAL_AGENT_") for name in environ)
    assert running.TOKEN not in json.dumps(environ)


async def test_a_volume_arrives_as_a_tar_stream(agent, tmp_path):
    volume = tmp_path / "volume"
    (volume / "..2026_data" / "nested").mkdir(parents=True)
    (volume / "..2026_data" / "config.yaml").write_text("key: value\n")
    (volume / "..2026_data" / "nested" / "big.bin").write_bytes(os.urandom(3 * 1024 * 1024))
    (volume / "..data").symlink_to("..2026_data")
    (volume / "config.yaml").symlink_to("..data/config.yaml")
    session = await _engine(agent)
    try:
        stream = await session.open_stream(targets.volume(path=str(volume)))
        raw = await asyncio.wait_for(stream.read_all(), 10)
        missing = await session.open_stream(targets.volume(path=str(tmp_path / "nope")))
        with pytest.raises(errors.StreamReset) as raised:
            await asyncio.wait_for(missing.read(), 5)
        assert raised.value.error_code == protocol_errors.ErrorCode.NOT_FOUND
    finally:
        await session.close()
    with tarfile.open(fileobj=io.BytesIO(raw)) as archive:
        members = {member.name: member for member in archive.getmembers()}
        assert archive.extractfile("./..2026_data/config.yaml").read() == b"key: value\n"  # type: ignore[union-attr]
        big = archive.extractfile("./..2026_data/nested/big.bin").read()  # type: ignore[union-attr]
    assert big == (volume / "..2026_data" / "nested" / "big.bin").read_bytes()
    assert members["./config.yaml"].issym() and members["./config.yaml"].linkname == "..data/config.yaml"


async def test_two_hundred_concurrent_streams(agent):
    server = await _echo_server()
    port = server.sockets[0].getsockname()[1]
    session = await _engine(agent)

    async def exchange(index: int) -> bytes:
        stream = await session.open_stream(targets.connect(host="127.0.0.1", port=port))
        await stream.write(b"%d;" % index * 300)
        await stream.write_eof()
        return await stream.read_all()

    try:
        results = await asyncio.wait_for(asyncio.gather(*(exchange(i) for i in range(200))), 30)
    finally:
        await session.close()
        server.close()
    assert results == [b"%d;" % i * 300 for i in range(200)]


async def test_a_stalled_stream_does_not_stall_a_fast_one(agent):
    stalled = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            first = await reader.read(1)
            if first == b"s":
                stalled.set()
                await asyncio.sleep(3600)  # Never reads again: its TCP buffers and then its stream fill up.
            writer.write(first)
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    session = await _engine(agent)
    try:
        slow = await session.open_stream(targets.connect(host="127.0.0.1", port=port))
        flood = asyncio.ensure_future(slow.write(b"s" * (32 * 1024 * 1024)))
        await asyncio.wait_for(stalled.wait(), 5)
        fast = await session.open_stream(targets.connect(host="127.0.0.1", port=port))
        payload = os.urandom(4 * 1024 * 1024)
        await fast.write(payload)
        await fast.write_eof()
        assert await asyncio.wait_for(fast.read_all(), 20) == payload
        assert not flood.done(), "the stalled stream's sender waits for credit"
        flood.cancel()
    finally:
        await session.close()
        server.close()


async def test_when_the_engine_disappears_the_status_says_no_session(agent):
    session = await _engine(agent)
    status = await _status(agent)
    assert status["connected"] and status["idle_seconds"] == 0
    session._writer.transport.abort()  # Like the engine process being killed.
    for _ in range(50):
        status = await _status(agent)
        if not status["connected"]:
            break
        await asyncio.sleep(0.1)
    assert not status["connected"] and status["sessions_accepted"] == 1


async def test_a_silent_engine_is_dropped_by_the_heartbeat(agent):
    reader, writer = await asyncio.open_connection("127.0.0.1", agent.control_port)
    silent = connection.Connection(role=connection.Role.ENGINE, token=running.TOKEN)
    silent.initiate()
    writer.write(silent.data_to_send())
    while not silent.handshake_complete:
        silent.receive_data(await reader.read(65536))
    assert (await _status(agent))["connected"]
    await asyncio.sleep(1.6)  # The agent's heartbeat timeout is 1 s in these tests.
    assert not (await _status(agent))["connected"]
    writer.close()


def test_the_restore_mode_restores_once_the_session_is_gone(agent):
    api = fake_kube.FakeApi()
    deployment = "/apis/apps/v1/namespaces/shop/deployments/cart"
    original = {"kind": "Deployment", "metadata": {"name": "cart"}, "spec": {"replicas": 2}}
    encoded = base64.b64encode(json.dumps(original).encode()).decode()
    with api.running():
        api.put_object(
            deployment, {"kind": "Deployment", "metadata": {"name": "cart"}, "spec": {"replicas": 1}}
        )
        api.put_object("/api/v1/namespaces/shop/secrets/saved", {"data": {restores.SECRET_KEY: encoded}})
        result = subprocess.run(
            [
                sys.executable,
                str(agent.pyz),
                "restore",
                *("--status-url", agent.status_url, "--api-url", api.base_url, "--namespace", "shop"),
                *(
                    "--secret",
                    "saved",
                    "--selector",
                    "kubelocal.dev/session=s1",
                    "--grace",
                    "0.3",
                    "--poll",
                    "0.1",
                ),
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode == 0, result.stderr
        assert api.objects[deployment]["spec"] == {"replicas": 2}
        assert len(api.calls("DELETE")) == len(restores.CLEANUP_COLLECTIONS)
