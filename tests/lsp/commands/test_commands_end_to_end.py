"""The `kubelocal.server.*` commands end to end: a pytest-lsp client (VS Code's capabilities) drives
the language server subprocess against a cluster running real pods with the sample app (the sandbox,
or the cluster of KUBELOCAL_TEST_KUBECONFIG; see tests/connect/e2e_cluster.py).

Aspects:
- pickers' data: the kubeconfig's contexts (the current one marked), namespaces, services with ports;
- a wrong service: an LSP error whose message names the service and says what to do, and the
  `kubelocal/sessionChanged` notifications say connecting then error;
- connect: work-done progress on the client's token, begin then one report per engine step in the
  engine's order, then end; the result is the contract's Session; notifications connecting then
  connected; `status` reports the session;
- env: the pod's environment (ConfigMap and Secret values);
- launch configuration: `env` mode carries the pod's variables; `envFile` mode points at a 0600
  file holding them and keeps the values out of the configuration; the listen port is the local port;
- hover on a `$(services:...)` token while connected shows the address it expands to;
- disconnect: the greeter Deployment is restored exactly, notifications say disconnecting then
  disconnected, the env file is gone;
- re-attach: a session the CLI runs is announced by a server started afterwards (the editor
  reloading), reported by status, its env read, completion offers its namespace's services by
  name, and it is disconnected through the server (the CLI restores the workload and exits);
- a crashed CLI's session (its process killed with SIGKILL) is not announced as connected, and a
  connect through the server right after recovers it (restores the workload, waits for the rollout)
  and connects; after its disconnect the workload is exactly as before and no record is left;
- cancellation: `$/cancelRequest`, or `window/workDoneProgress/cancel` for its progress token, while
  connecting (once the workload was changed) fails the request as cancelled only once everything
  is undone (the state is disconnected by then, the progress ends saying so): the workload as it
  was, its pods without the agent, no object of the session left in the namespace, no session
  record.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import pathlib
import stat
import sys
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pygls import exceptions
from pytest_lsp import client as lsp_client

from kubelocal.engine import names
from kubelocal.kube import fetching, loading, requesting, resources

from .. import helpers

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "connect"))
import e2e_cluster

pytestmark = [pytest.mark.slow, pytest.mark.cluster]

# Every engine step in env mode (no hosts file), in the engine's order.
CONNECT_STEPS = [
    "recover",
    "resolve",
    "restore-data",
    "replace",
    "agent-ready",
    "restore-job",
    "endpoints",
    "tunnel",
    "listeners",
    "volumes",
    "environment",
]


def plain(value: Any) -> Any:
    """pygls hands a custom notification's params over as named tuples: back to JSON shapes."""
    if hasattr(value, "_asdict"):
        return {key: plain(item) for key, item in value._asdict().items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


class CommandClient(lsp_client.LanguageClient):
    session_changes: list[dict[str, Any]]


def make_client() -> CommandClient:
    client = CommandClient(converter_factory=helpers.default_converter)
    client.session_changes = []
    lsp_client.register_lsp_features(client, dict(lsp_client.DEFAULT_CLIENT_FEATURES))

    @client.feature("kubelocal/sessionChanged")
    def session_changed(params: Any) -> None:
        client.session_changes.append(plain(params))

    return client


@pytest.fixture
async def cluster(tmp_path):
    async with e2e_cluster.sample_app(tmp_path) as running:
        yield running


def environment_for(cluster, tmp_path) -> dict[str, str]:
    hosts = tmp_path / "hosts"
    if not hosts.exists():
        hosts.write_text("127.0.0.1\tlocalhost\n")
    return helpers.server_env(
        KUBECONFIG=str(cluster.kubeconfig),
        KUBELOCAL_HOME=str(tmp_path / "home"),
        KUBELOCAL_HOSTS_FILE=str(hosts),
    )


@contextlib.asynccontextmanager
async def language_server(cluster, tmp_path, *, options: dict[str, Any] | None = None):
    config = pytest_lsp.ClientServerConfig(
        server_command=helpers.SERVER_COMMAND,
        server_env=environment_for(cluster, tmp_path),
        client_factory=make_client,
    )
    started = await config.start()
    try:
        await helpers.initialize(started, options)
        yield started
    finally:
        # Also when the test failed: `stop()` waits for the server to exit, which it does on `exit`.
        # Its shutdown disconnects a session it still runs.
        with contextlib.suppress(Exception):
            async with asyncio.timeout(60):
                await started.shutdown_session()
        await started.stop()


@pytest.fixture
async def client(cluster, tmp_path):
    async with language_server(cluster, tmp_path) as started:
        yield started


async def run(
    client: CommandClient, command: str, arguments: dict[str, Any], token: str | None = None
) -> Any:
    if token is not None:
        client.progress_reports[token] = []
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=[arguments], work_done_token=token)
    )


async def read_greeter(cluster) -> dict:
    async with requesting.Client(
        loading.load(kubeconfig=cluster.kubeconfig, namespace=cluster.namespace)
    ) as kube:
        return await fetching.read(kube, resources.DEPLOYMENTS, name="greeter")


async def restored_greeter(cluster) -> dict:
    """The greeter Deployment as the user wrote it (`e2e_cluster.comparable`), once it is ready."""
    async with requesting.Client(
        loading.load(kubeconfig=cluster.kubeconfig, namespace=cluster.namespace)
    ) as kube:
        await e2e_cluster.wait_ready(kube, cluster.namespace, ["greeter"])
        return e2e_cluster.comparable(await fetching.read(kube, resources.DEPLOYMENTS, name="greeter"))


async def states_until(client: CommandClient, state: str, timeout: float = 10) -> list[str]:
    async with asyncio.timeout(timeout):
        while not client.session_changes or client.session_changes[-1]["state"] != state:
            await asyncio.sleep(0.05)
    return [change["state"] for change in client.session_changes]


async def test_pickers_connect_with_progress_env_launch_and_disconnect(client, cluster, tmp_path):
    contexts = await run(client, "kubelocal.server.contexts", {})
    [current] = [row for row in contexts if row["current"]]
    assert set(current) == {"name", "cluster", "namespace", "current"}
    namespaces = await run(client, "kubelocal.server.namespaces", {"context": current["name"]})
    assert cluster.namespace in namespaces
    services = await run(
        client, "kubelocal.server.services", {"context": current["name"], "namespace": cluster.namespace}
    )
    by_name = {service["name"]: service for service in services}
    assert {"frontend", "greeter", "catalog"} <= set(by_name)
    [port] = by_name["greeter"]["ports"]
    assert port["port"] == 80 or port["port"] > 0
    assert set(port) == {"name", "port", "targetPort", "protocol"}

    arguments = {
        "context": current["name"],
        "namespace": cluster.namespace,
        "localPorts": [18_611],
        "workspaceFolder": str(tmp_path),
        "hostsMode": "env",
    }
    with pytest.raises(exceptions.JsonRpcException) as raised:
        await run(client, "kubelocal.server.connect", {**arguments, "service": "no-such-service"})
    assert "no-such-service" in str(raised.value)
    assert await states_until(client, "error") == ["connecting", "error"]

    original = e2e_cluster.comparable(await read_greeter(cluster))
    client.session_changes.clear()
    session = await run(
        client, "kubelocal.server.connect", {**arguments, "service": "greeter"}, token="connect-1"
    )
    reports = client.progress_reports["connect-1"]
    assert isinstance(reports[0], types.WorkDoneProgressBegin) and reports[0].cancellable
    assert isinstance(reports[-1], types.WorkDoneProgressEnd)
    messages = [r.message or "" for r in reports if isinstance(r, types.WorkDoneProgressReport)]
    steps = [_step_of(message) for message in messages]
    in_order = [step for index, step in enumerate(steps) if index == 0 or steps[index - 1] != step]
    assert in_order == CONNECT_STEPS
    assert session["service"] == "greeter" and session["namespace"] == cluster.namespace
    assert session["localPorts"] == [18_611] and session["hostsMode"] == "env"
    assert session["workload"].endswith("/greeter")
    assert await states_until(client, "connected") == ["connecting", "connected"]
    status = await run(client, "kubelocal.server.status", {})
    assert status["state"] == "connected" and status["session"]["id"] == session["id"]

    env = await run(client, "kubelocal.server.env", {})
    assert env["env"]["GREETING"] == "Hello"
    assert env["env"]["API_KEY"] == "sample-api-key-not-a-real-secret"
    assert env["envFile"] == session["envFile"]

    base = {
        "name": "Greeter",
        "type": "debugpy",
        "request": "launch",
        "program": "app.py",
        "env": {"DEBUG": "1"},
    }
    inline = await run(
        client,
        "kubelocal.server.launchConfiguration",
        {"workspaceFolder": str(tmp_path), "base": base, "useEnvFile": False},
    )
    assert inline["configuration"]["name"] == "Greeter with Kubernetes"
    assert inline["configuration"]["env"]["GREETING"] == "Hello"
    assert inline["configuration"]["env"]["DEBUG"] == "1"
    assert inline["listenPort"] == 18_611
    with_file = await run(
        client,
        "kubelocal.server.launchConfiguration",
        {"workspaceFolder": str(tmp_path), "base": base, "useEnvFile": True},
    )
    env_file = pathlib.Path(with_file["configuration"]["envFile"])
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert "sample-api-key-not-a-real-secret" in env_file.read_text()
    assert "sample-api-key-not-a-real-secret" not in str(with_file["configuration"])
    assert "GREETING" not in with_file["configuration"].get("env", {})

    # Hover on a token shows what it expands to in the running session: catalog's workstation address.
    uri = helpers.config_uri()
    helpers.open_document(
        client, uri, "version: 0.1\nenv:\n  - name: CATALOG\n    value: $(services:catalog)\n"
    )
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=3, character=20)
        )
    )
    catalog = f"{env['env']['CATALOG_SERVICE_HOST']}:{env['env']['CATALOG_SERVICE_PORT']}"
    assert f"When connected: `{catalog}`" in hover.contents.value

    client.session_changes.clear()
    assert await run(client, "kubelocal.server.disconnect", {}) is None
    assert await states_until(client, "disconnected") == ["disconnecting", "disconnected"]
    assert not env_file.exists()
    assert await restored_greeter(cluster) == original
    assert (await run(client, "kubelocal.server.status", {}))["state"] == "disconnected"


@pytest.mark.parametrize("how", ["cancel-request", "cancel-progress"])
async def test_cancelling_connect_undoes_it(client, cluster, tmp_path, how):
    contexts = await run(client, "kubelocal.server.contexts", {})
    [current] = [row for row in contexts if row["current"]]
    original = e2e_cluster.comparable(await read_greeter(cluster))
    client.progress_reports["connect-2"] = []
    request = asyncio.wrap_future(
        client.protocol.send_request(
            types.WORKSPACE_EXECUTE_COMMAND,
            types.ExecuteCommandParams(
                command="kubelocal.server.connect",
                arguments=[
                    {
                        "context": current["name"],
                        "namespace": cluster.namespace,
                        "service": "greeter",
                        "localPorts": [18_612],
                        "workspaceFolder": str(tmp_path),
                        "hostsMode": "env",
                    }
                ],
                work_done_token="connect-2",
            ),
            msg_id="connect-request-2",
        )
    )
    # Cancel once the agent is being started: the workload has been changed by then.
    async with asyncio.timeout(60):
        while not any(
            (r.message or "").startswith(_title("replace"))
            for r in client.progress_reports["connect-2"]
            if isinstance(r, types.WorkDoneProgressReport)
        ):
            await asyncio.sleep(0.05)
    if how == "cancel-request":
        client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="connect-request-2"))
    else:  # the Cancel button of VS Code's progress notification
        client.protocol.notify(
            types.WINDOW_WORK_DONE_PROGRESS_CANCEL, types.WorkDoneProgressCancelParams(token="connect-2")
        )
    with pytest.raises(exceptions.JsonRpcRequestCancelled):
        await request
    # The answer comes once the undo is done: the session is over by then.
    assert [change["state"] for change in client.session_changes] == ["connecting", "disconnected"]
    reports = client.progress_reports["connect-2"]
    assert isinstance(reports[-1], types.WorkDoneProgressEnd) and "undone" in (reports[-1].message or "")
    async with requesting.Client(
        loading.load(kubeconfig=cluster.kubeconfig, namespace=cluster.namespace)
    ) as kube:
        await e2e_cluster.wait_ready(kube, cluster.namespace, ["greeter"])
        left = [
            f"{kind.kind} {item['metadata']['name']}"
            for kind in e2e_cluster.KUBELOCAL_KINDS
            for item in await fetching.list_objects(
                kube, kind, namespace=cluster.namespace, label_selector=names.SELECTOR_ALL
            )
        ]
        assert left == []
        greeter_pods = await fetching.list_objects(
            kube, resources.PODS, namespace=cluster.namespace, label_selector="app=greeter"
        )
        assert not any(names.SESSION_LABEL in pod["metadata"].get("labels", {}) for pod in greeter_pods)
    assert e2e_cluster.comparable(await read_greeter(cluster)) == original
    assert not list((tmp_path / "home" / "sessions").glob("*.json"))
    assert (await run(client, "kubelocal.server.status", {}))["state"] == "disconnected"


def _step_of(message: str) -> str | None:
    from kubelocal.lsp import commanding

    return next((step for step, title in commanding.STEP_TITLES.items() if message.startswith(title)), None)


def _title(step: str) -> str:
    from kubelocal.lsp import commanding

    return commanding.STEP_TITLES[step]


async def test_a_session_of_another_process_is_reattached_and_disconnected(cluster, tmp_path):
    original = e2e_cluster.comparable(await read_greeter(cluster))
    cli = await _cli_connect(cluster, tmp_path)
    try:
        await _connected_event(cli)
        # The editor (re)starts: the server finds the CLI's session on disk.
        async with language_server(cluster, tmp_path) as client:
            [announced] = await _changes(client, 1)
            assert announced["state"] == "connected" and announced["session"]["service"] == "greeter"
            status = await run(client, "kubelocal.server.status", {})
            assert status["session"]["id"] == announced["session"]["id"]
            env = await run(client, "kubelocal.server.env", {"sessionId": status["session"]["id"]})
            assert env["env"]["GREETING"] == "Hello"
            # Completion sees the cluster from the re-attached session: its namespace's services by name.
            services = await helpers.complete_at_bar(
                client, "version: 0.1\nenv:\n  - name: A\n    value: $(services:|\n"
            )
            by_label = {item.label: item for item in services.items}
            assert {"frontend", "greeter", "catalog"} <= set(by_label)
            assert "80/TCP" in (by_label["greeter"].detail or "")
            assert await run(client, "kubelocal.server.disconnect", {}) is None
            assert [c["state"] for c in client.session_changes[1:]] == ["disconnecting", "disconnected"]
            assert (await run(client, "kubelocal.server.status", {}))["state"] == "disconnected"
        async with asyncio.timeout(30):
            await cli.wait()  # the server's SIGTERM made the CLI restore and exit
        assert not list((tmp_path / "home" / "sessions").glob("*.json"))
        assert await restored_greeter(cluster) == original
    finally:
        if cli.returncode is None:
            cli.terminate()
            await cli.communicate()


async def test_a_crashed_cli_session_is_recovered_by_the_next_connect_through_the_server(cluster, tmp_path):
    original = e2e_cluster.comparable(await read_greeter(cluster))
    cli = await _cli_connect(cluster, tmp_path)
    try:
        crashed = (await _connected_event(cli))["session"]
    finally:
        cli.kill()
        await cli.communicate()
    assert list((tmp_path / "home" / "sessions").glob("*.json")), "the killed CLI left its record"
    async with language_server(cluster, tmp_path) as client:
        assert (await run(client, "kubelocal.server.status", {}))["state"] == "disconnected"
        [current] = [row for row in await run(client, "kubelocal.server.contexts", {}) if row["current"]]
        session = await run(
            client,
            "kubelocal.server.connect",
            {
                "context": current["name"],
                "namespace": cluster.namespace,
                "service": "greeter",
                "localPorts": [18_612],
                "workspaceFolder": str(tmp_path),
                "hostsMode": "env",
            },
        )
        assert session["id"] != crashed
        env = await run(client, "kubelocal.server.env", {})
        assert env["env"]["GREETING"] == "Hello"
        assert await run(client, "kubelocal.server.disconnect", {}) is None
    assert await restored_greeter(cluster) == original
    assert not list((tmp_path / "home" / "sessions").glob("*.json"))


async def _cli_connect(cluster, tmp_path) -> asyncio.subprocess.Process:
    """`kubelocal connect --json` redirecting greeter, as a process of its own (another terminal)."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kubelocal", "connect", "--service", "greeter",
        "--namespace", cluster.namespace, "--kubeconfig", str(cluster.kubeconfig), "--hosts-mode", "env",
        "--json", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=environment_for(cluster, tmp_path),
    )  # fmt: skip


async def _connected_event(cli: asyncio.subprocess.Process) -> dict[str, Any]:
    """The CLI's `connected` event; its stderr as the failure message if it ends before that."""
    async with asyncio.timeout(90):
        while True:
            line = await cli.stdout.readline()
            assert line, (await cli.stderr.read()).decode()
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                if event.get("event") == "connected":
                    return event


async def _changes(client: CommandClient, count: int, timeout: float = 10) -> list[dict[str, Any]]:
    async with asyncio.timeout(timeout):
        while len(client.session_changes) < count:
            await asyncio.sleep(0.05)
    return client.session_changes[:count]
