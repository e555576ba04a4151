"""The session commands end to end: `kubelocal connect|disconnect|status|env` as real processes
against the in-process cluster (REST app on loopback, real agent, real restore mode).

Aspects: `connect -- COMMAND` runs COMMAND with the cluster environment (service variables
pointing at workstation endpoints), returns its exit status and restores the workload exactly;
`--json` prints a `connected` event a tool can read; `status --json` and `env --format` see a
session started by another process; `disconnect` ends a running session through its process;
after `kill -9` of the CLI the restore Job restores the workload within its timeout and removes
every kubelocal object, `status` reports the session as crashed and `disconnect` cleans it up;
a wrong service exits 1 with a message saying what to do.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys

import pytest
from connect_cluster import NAMESPACE, comparable

from kubelocal.engine import sessions
from kubelocal.sandbox import kinds

pytestmark = pytest.mark.slow


async def kubelocal(*args, check_env=None):
    """Start `python -m kubelocal ARGS` with this test's KUBELOCAL_HOME and hosts file."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kubelocal", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=dict(os.environ),
    )  # fmt: skip


async def read_event(process, wanted, *, seen=None, timeout=30):
    """The first JSON line of stdout whose event is `wanted`; earlier events go to `seen`."""
    async with asyncio.timeout(timeout):
        while True:
            line = await process.stdout.readline()
            if not line:
                stderr = await process.stderr.read()
                raise AssertionError(f"kubelocal ended before {wanted!r}: {stderr.decode()}")
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                if isinstance(event, dict) and event.get("event") == wanted:
                    return event
                if seen is not None:
                    seen.append(event)


async def ready_deployment(sandbox, name, timeout=20):
    async with asyncio.timeout(timeout):
        while True:
            workload = sandbox.get(kinds.DEPLOYMENTS, name)
            status = workload.get("status") or {}
            if status.get("readyReplicas") == workload["spec"]["replicas"] and names_clean(workload):
                return workload
            await asyncio.sleep(0.1)


def names_clean(workload):
    return "kubelocal.dev/session" not in (workload["metadata"].get("labels") or {})


def cluster_args(sandbox):
    return ["--namespace", NAMESPACE, "--kubeconfig", str(sandbox.api.kubeconfig)]


def connect_args(sandbox):
    return ["connect", "--service", "greeter", *cluster_args(sandbox), "--hosts-mode", "env", "--json"]


@contextlib.asynccontextmanager
async def reaped(process):
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def test_connect_runs_the_command_with_the_environment(sandbox):
    original = comparable(await ready_deployment(sandbox, "greeter"))
    script = (
        "import os, sys; "
        "print('CATALOG', os.environ['CATALOG_SERVICE_HOST'], os.environ['CATALOG_SERVICE_PORT']); "
        "sys.exit(3)"
    )
    process = await kubelocal(*connect_args(sandbox), "--", sys.executable, "-c", script)
    steps = []
    async with reaped(process):
        connected = await read_event(process, "connected", seen=steps)
        catalog = next(e for e in connected["endpoints"] if e["service"] == "catalog")
        output, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 3, stderr.decode()
    assert f"CATALOG 127.0.0.1 {catalog['ports']['80']}" in output.decode()
    ended = {step["step"]: step["seconds"] for step in steps if step.get("phase") == "end"}
    assert {"recover", "resolve", "replace", "agent-ready", "tunnel", "environment"} <= set(ended)
    assert comparable(await ready_deployment(sandbox, "greeter")) == original
    assert sandbox.kubelocal_objects() == []
    assert sessions.all_records() == []


async def test_status_env_and_disconnect_see_a_session_of_another_process(sandbox):
    original = comparable(await ready_deployment(sandbox, "greeter"))
    process = await kubelocal(*connect_args(sandbox))
    async with reaped(process):
        connected = await read_event(process, "connected")
        status = await kubelocal("status", "--json")
        out, _ = await status.communicate()
        [listed] = json.loads(out)
        assert (
            listed["session"] == connected["session"] and listed["alive"] and listed["state"] == "connected"
        )
        env = await kubelocal("env", "--format", "json")
        out, _ = await env.communicate()
        assert json.loads(out)["CATALOG_SERVICE_HOST"] == "127.0.0.1"
        disconnect = await kubelocal("disconnect", "--session", connected["session"])
        _, err = await asyncio.wait_for(disconnect.communicate(), 30)
        assert disconnect.returncode == 0, err.decode()
        await asyncio.wait_for(process.wait(), 30)
    assert process.returncode == 0
    assert comparable(await ready_deployment(sandbox, "greeter")) == original
    assert sandbox.kubelocal_objects() == []


async def test_after_kill_9_the_restore_job_restores_and_disconnect_cleans_up(sandbox):
    original = comparable(await ready_deployment(sandbox, "greeter"))
    process = await kubelocal(*connect_args(sandbox), "--restore-timeout", "2")
    async with reaped(process):
        connected = await read_event(process, "connected")
        process.send_signal(signal.SIGKILL)
    # The Job polls every 0.5 s and restores 2 s after the session ended; allow for the rollout.
    restored = await ready_deployment(sandbox, "greeter", timeout=20)
    assert comparable(restored) == original
    async with asyncio.timeout(10):
        while sandbox.kubelocal_objects():
            await asyncio.sleep(0.1)
    assert 0 in sandbox.node.restore_exits

    status = await kubelocal("status", "--json")
    out, _ = await status.communicate()
    [listed] = json.loads(out)
    assert listed["session"] == connected["session"] and not listed["alive"]
    disconnect = await kubelocal("disconnect")
    _, err = await asyncio.wait_for(disconnect.communicate(), 30)
    assert disconnect.returncode == 0, err.decode()
    assert sessions.all_records() == []
    assert comparable(sandbox.get(kinds.DEPLOYMENTS, "greeter")) == original


async def test_a_wrong_service_exits_1_saying_what_to_do(sandbox):
    process = await kubelocal("connect", "--service", "nope", *cluster_args(sandbox))
    _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 1
    assert "Service 'nope' was not found in namespace 'shop'" in err.decode()
    assert "kubelocal list services" in err.decode()
