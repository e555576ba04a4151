"""Connect through the language server against connect through the CLI, on the sandbox.

On a sandbox with the sample app, `greeter` is connected (env-var mode) `ROUNDS` times each way,
alternating, with the same service and the same local port:

- through the language server, as the VS Code client does it (`kubelocal.server.connect` over
  stdio): timed from sending the request to the `kubelocal/sessionChanged` notification that says
  `connected` (what the status bar waits for after the quick picks); then `kubelocal.server.disconnect`;
- through the CLI (`kubelocal connect --json`): timed from starting the process to its `connected`
  event (what a terminal user waits for), and the engine's own seconds from that event (the CLI's
  connect without its interpreter start-up); then SIGTERM, which disconnects.

Both run the same engine, so `server_over_cli_engine` should be about 1; `server_over_cli` also
counts the CLI's interpreter start-up and imports, which the long-running server paid once.
Further figures: disconnect seconds through the server, and the server's resident memory (MiB)
idle after initialize and the opening of a config file, and again after the connect/disconnect
cycles.

Between runs the benchmark waits until the greeter Deployment is back to its own pods (none runs
the agent or is terminating, the rollout is complete): a disconnect that returns before the
restore rollout ends would otherwise make the next connect find the service "already
redirected". Once disconnect itself waits for the rollout, that wait returns at its first look.
`waits_after_disconnect_s` reports how long it took (median).

Bounded: after `DEADLINE_SECONDS` no new round starts, and the figures of the finished rounds are
reported. Needs root (the sandbox's network namespaces); reports `skipped` otherwise.
Run alone: `python -m benchmarks.bench_editor`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pathlib
import signal
import statistics
import sys
import tempfile
import time
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[1]
ROUNDS = 3
DEADLINE_SECONDS = 140.0  # `make bench` gives each benchmark 180 s by default
SERVICE = "greeter"
LOCAL_PORT = 18_700
CONFIG_TEXT = "version: 0.1\nenv:\n  - name: CATALOG\n    value: $(services:catalog)\n"


def _rss_mib(pid: int) -> float:
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def _server_pid() -> int:
    """The language server this process started (its child running `kubelocal.lsp`)."""
    for status in pathlib.Path("/proc").glob("[0-9]*/status"):
        with contextlib.suppress(OSError):
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
            if int(fields.get("PPid", "0")) != os.getpid():
                continue
            command = (status.parent / "cmdline").read_bytes().split(b"\0")
            if b"kubelocal.lsp" in command:
                return int(status.parent.name)
    raise RuntimeError("the language server process was not found among this process's children")


def _rolled_back(deployment: dict[str, Any], pods: list[dict[str, Any]]) -> bool:
    """Whether the Deployment runs only its own ready pods again (none with the agent, none leaving)."""
    from kubelocal.engine import names
    from kubelocal.kube import pods as kube_pods

    wanted = int((deployment.get("spec") or {}).get("replicas", 1))
    status = deployment.get("status") or {}
    template_labels = (((deployment.get("spec") or {}).get("template") or {}).get("metadata") or {}).get(
        "labels"
    ) or {}
    return (
        names.SESSION_LABEL not in template_labels
        and int(status.get("observedGeneration", 0)) >= int(deployment["metadata"].get("generation", 1))
        and int(status.get("updatedReplicas", 0)) == wanted == int(status.get("replicas", 0))
        and len(pods) == wanted
        and all(kube_pods.is_ready(pod) for pod in pods)
        and not any(names.SESSION_LABEL in (pod["metadata"].get("labels") or {}) for pod in pods)
    )


async def _wait_rolled_back(kubeconfig: pathlib.Path, namespace: str, timeout: float = 60) -> float:
    """Wait until the greeter Deployment is restored and rolled out; the seconds that took."""
    from kubelocal.kube import fetching, loading, requesting, resources

    started = time.perf_counter()
    async with requesting.Client(loading.load(kubeconfig=kubeconfig, namespace=namespace)) as kube:
        async with asyncio.timeout(timeout):
            while True:
                deployment = await fetching.read(kube, resources.DEPLOYMENTS, name=SERVICE)
                pods = await fetching.list_objects(
                    kube, resources.PODS, namespace=namespace, label_selector=f"app={SERVICE}"
                )
                if _rolled_back(deployment, pods):
                    return time.perf_counter() - started
                await asyncio.sleep(0.2)


async def _cli_connect(
    *, kubeconfig: pathlib.Path, namespace: str, env: dict[str, str]
) -> tuple[float, float]:
    """Connect with the CLI and disconnect it: (seconds to `connected`, the engine's seconds)."""
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kubelocal", "connect", "--service", SERVICE, "--namespace", namespace,
        "--kubeconfig", str(kubeconfig), "--hosts-mode", "env", "--local-port", str(LOCAL_PORT), "--json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    try:
        async with asyncio.timeout(120):
            while True:
                line = await process.stdout.readline()  # type: ignore[union-attr]
                if not line:
                    raise RuntimeError((await process.stderr.read()).decode()[-300:])  # type: ignore[union-attr]
                with contextlib.suppress(ValueError):
                    event = json.loads(line)
                    if event.get("event") == "connected":
                        return time.perf_counter() - started, float(event["seconds"])
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)  # the CLI disconnects on SIGTERM
            async with asyncio.timeout(120):
                await process.communicate()


def _make_client() -> Any:
    from pygls.protocol import default_converter
    from pytest_lsp import client as lsp_client

    client = lsp_client.LanguageClient(converter_factory=default_converter)
    client.connected_at = []  # type: ignore[attr-defined]
    lsp_client.register_lsp_features(client, dict(lsp_client.DEFAULT_CLIENT_FEATURES))

    @client.feature("kubelocal/sessionChanged")
    def session_changed(params: Any) -> None:
        if getattr(params, "state", None) == "connected":
            client.connected_at.append(time.perf_counter())  # type: ignore[attr-defined]

    return client


async def _server_connect(client: Any, arguments: dict[str, Any]) -> float:
    """Connect through the server: seconds from the request to the `connected` notification."""
    from lsprotocol import types

    seen = len(client.connected_at)
    started = time.perf_counter()
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="kubelocal.server.connect", arguments=[arguments])
    )
    async with asyncio.timeout(10):  # the notification precedes the response; a little slack anyway
        while len(client.connected_at) == seen:
            await asyncio.sleep(0.01)
    return client.connected_at[seen] - started


async def _measure(directory: pathlib.Path) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "tests" / "connect"))
    import e2e_cluster
    import pytest_lsp
    from lsprotocol import types

    deadline = time.monotonic() + DEADLINE_SECONDS
    async with e2e_cluster.sample_app(directory) as cluster:
        hosts = directory / "hosts"
        hosts.write_text("127.0.0.1\tlocalhost\n")
        env = dict(os.environ) | {
            "KUBECONFIG": str(cluster.kubeconfig),
            "KUBELOCAL_HOME": str(directory / "home"),
            "KUBELOCAL_HOSTS_FILE": str(hosts),
        }
        config = pytest_lsp.ClientServerConfig(
            server_command=[sys.executable, "-m", "kubelocal.lsp"],
            server_env=env,
            client_factory=_make_client,
        )
        client = await config.start()
        try:
            await client.initialize_session(
                types.InitializeParams(capabilities=pytest_lsp.client_capabilities("visual-studio-code"))
            )
            pid = _server_pid()
            uri = (directory / "KubernetesLocalProcessConfig.yaml").as_uri()
            client.text_document_did_open(
                types.DidOpenTextDocumentParams(
                    text_document=types.TextDocumentItem(
                        uri=uri, language_id="yaml", version=1, text=CONFIG_TEXT
                    )
                )
            )
            async with asyncio.timeout(30):
                while uri not in client.diagnostics:
                    await asyncio.sleep(0.05)
            await asyncio.sleep(1)  # let the catalog's first read and the idle collection settle
            idle = _rss_mib(pid)
            [current] = [
                row
                for row in await client.workspace_execute_command_async(
                    types.ExecuteCommandParams(command="kubelocal.server.contexts", arguments=[{}])
                )
                if row["current"]
            ]
            arguments = {
                "context": current["name"],
                "namespace": cluster.namespace,
                "service": SERVICE,
                "localPorts": [LOCAL_PORT],
                "workspaceFolder": str(directory),
                "hostsMode": "env",
            }
            server_times: list[float] = []
            cli_times: list[float] = []
            cli_engine_times: list[float] = []
            disconnect_times: list[float] = []
            waits: list[float] = []
            failures: list[str] = []
            for _ in range(ROUNDS):
                if time.monotonic() > deadline:
                    break
                try:
                    server_times.append(await _server_connect(client, arguments))
                    started = time.perf_counter()
                    await client.workspace_execute_command_async(
                        types.ExecuteCommandParams(command="kubelocal.server.disconnect", arguments=[{}])
                    )
                    disconnect_times.append(time.perf_counter() - started)
                except Exception as error:  # counted: a failed connect is a figure too
                    failures.append(f"server: {str(error)[:200]}")
                waits.append(await _wait_rolled_back(cluster.kubeconfig, cluster.namespace))
                try:
                    total, engine = await _cli_connect(
                        kubeconfig=cluster.kubeconfig, namespace=cluster.namespace, env=env
                    )
                    cli_times.append(total)
                    cli_engine_times.append(engine)
                except RuntimeError as error:
                    failures.append(f"cli: {str(error)[-200:]}")
                waits.append(await _wait_rolled_back(cluster.kubeconfig, cluster.namespace))
            await asyncio.sleep(1)
            after = _rss_mib(pid)
            await client.shutdown_session()
        finally:
            await client.stop()
    if not server_times or not cli_times:
        return {"failed": failures}
    server_median = statistics.median(server_times)
    cli_median, cli_engine_median = statistics.median(cli_times), statistics.median(cli_engine_times)
    return {
        "rounds": min(len(server_times), len(cli_times)),
        "failed_connects": len(failures),
        "first_failure": failures[0] if failures else "",
        "connect_via_server_s": round(server_median, 3),
        "connect_via_cli_s": round(cli_median, 3),
        "connect_via_cli_engine_s": round(cli_engine_median, 3),
        "server_over_cli_engine": round(server_median / cli_engine_median, 2),
        "server_over_cli": round(server_median / cli_median, 2),
        "disconnect_via_server_s": round(statistics.median(disconnect_times), 3)
        if disconnect_times
        else None,
        "waits_after_disconnect_s": round(statistics.median(waits), 3),
        "server_rss_idle_mib": idle,
        "server_rss_after_sessions_mib": after,
    }


def run() -> dict[str, Any]:
    if os.geteuid() != 0:
        return {"skipped": "needs root for the sandbox's network namespaces"}
    with tempfile.TemporaryDirectory(prefix="kubelocal-bench-editor-") as directory:
        return asyncio.run(_measure(pathlib.Path(directory)))


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
