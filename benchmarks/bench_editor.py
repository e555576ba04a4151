"""Connect through the language server against connect through the CLI, on the sandbox.

On a sandbox with the sample app, `greeter` is connected (env-var mode) `ROUNDS` times each way,
alternating: through the language server (`kubelocal.server.connect`, from sending the command to
its Session result, which is what "Connect to Cluster" waits for after the quick picks) and through
the CLI (`kubelocal connect --json`, from starting the process to its `connected` event). Both run
the same engine, so the figures should match within the CLI's interpreter start-up. Figures:

- connect seconds, median of each way, and their ratio (server / CLI);
- disconnect seconds through the server;
- the server's resident memory (MiB) idle after initialize, and after a connect and disconnect.

Needs root (the sandbox's network namespaces); reports `skipped` otherwise.
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


def _rss_mib(pid: int) -> float:
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


async def _cli_connect(
    directory: pathlib.Path, kubeconfig: pathlib.Path, namespace: str, env: dict[str, str]
) -> float:
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kubelocal", "connect", "--service", "greeter", "--namespace", namespace,
        "--kubeconfig", str(kubeconfig), "--hosts-mode", "env", "--json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    try:
        async with asyncio.timeout(120):
            while True:
                line = await process.stdout.readline()  # type: ignore[union-attr]
                if not line:
                    raise RuntimeError((await process.stderr.read()).decode())  # type: ignore[union-attr]
                with contextlib.suppress(ValueError):
                    if json.loads(line).get("event") == "connected":
                        break
        return time.perf_counter() - started
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)  # the CLI disconnects on SIGTERM
            async with asyncio.timeout(120):
                await process.communicate()


async def _measure(directory: pathlib.Path) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "tests" / "connect"))
    import e2e_cluster
    import pytest_lsp
    from lsprotocol import types

    async with e2e_cluster.sample_app(directory) as cluster:
        hosts = directory / "hosts"
        hosts.write_text("127.0.0.1\tlocalhost\n")
        env = dict(os.environ) | {
            "KUBECONFIG": str(cluster.kubeconfig),
            "KUBELOCAL_HOME": str(directory / "home"),
            "KUBELOCAL_HOSTS_FILE": str(hosts),
        }
        config = pytest_lsp.ClientServerConfig(
            server_command=[sys.executable, "-m", "kubelocal.lsp"], server_env=env
        )
        client = await config.start()
        try:
            await client.initialize_session(
                types.InitializeParams(capabilities=pytest_lsp.client_capabilities("visual-studio-code"))
            )
            pid = client._server.pid  # type: ignore[union-attr]
            await asyncio.sleep(1)
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
                "service": "greeter",
                "localPorts": [18_700],
                "workspaceFolder": str(directory),
                "hostsMode": "env",
            }
            server_times, cli_times, disconnect_times = [], [], []
            failures: list[str] = []
            for _ in range(ROUNDS):
                started = time.perf_counter()
                try:
                    await client.workspace_execute_command_async(
                        types.ExecuteCommandParams(command="kubelocal.server.connect", arguments=[arguments])
                    )
                except Exception as error:  # counted: a failed connect is a figure too
                    failures.append(str(error)[:200])
                    continue
                server_times.append(time.perf_counter() - started)
                started = time.perf_counter()
                await client.workspace_execute_command_async(
                    types.ExecuteCommandParams(command="kubelocal.server.disconnect", arguments=[{}])
                )
                disconnect_times.append(time.perf_counter() - started)
                try:
                    cli_times.append(
                        await _cli_connect(directory, cluster.kubeconfig, cluster.namespace, env)
                    )
                except RuntimeError as error:
                    failures.append(str(error)[-200:])
            after = _rss_mib(pid)
            await client.shutdown_session()
        finally:
            await client.stop()
    if not server_times or not cli_times:
        return {"failed": failures}
    server_median, cli_median = statistics.median(server_times), statistics.median(cli_times)
    return {
        "rounds": ROUNDS,
        "failed_connects": len(failures),
        "first_failure": failures[0] if failures else "",
        "connect_via_server_s": round(server_median, 3),
        "connect_via_cli_s": round(cli_median, 3),
        "server_over_cli": round(server_median / cli_median, 2),
        "disconnect_via_server_s": round(statistics.median(disconnect_times), 3),
        "server_rss_idle_mib": idle,
        "server_rss_after_session_mib": after,
    }


def run() -> dict[str, Any]:
    if os.geteuid() != 0:
        return {"skipped": "needs root for the sandbox's network namespaces"}
    with tempfile.TemporaryDirectory(prefix="kubelocal-bench-editor-") as directory:
        return asyncio.run(_measure(pathlib.Path(directory)))


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
