"""The session commands end to end: `kubelocal connect|disconnect|status|env` as real processes
against a cluster that runs real pods (the sandbox, or KUBELOCAL_TEST_KUBECONFIG's; one per
module, a fresh namespace with the sample app per test, see `e2e_cluster`).

Aspects: `connect --config FILE -- COMMAND` runs COMMAND with the cluster environment and the
config's env entries, their `$(services:…)`, `$(volumeMounts:…)` and `$(externalendpoints:…)`
tokens expanded to working workstation endpoints and the downloaded volume directory, returns
COMMAND's exit status, reports each step with its duration (`--json`) and restores the workload
exactly; a config with errors, and a wrong service, are refused with a message saying where and
what to do (file:line:col for the config) before anything in the cluster changes; `status` and
`env` see a session of another process, `disconnect` ends it through that process and waits for
the restore rollout, so an immediate second connect succeeds; after `kill -9` of the CLI the
restore Job, having seen the session through the agent's /status, restores the workload within
its (short) timeout and removes every kubelocal object, `status` reports the session as crashed
and `disconnect` cleans up the workstation; a connect after a crash (session file and agent left
in place) cleans the crashed session up and connects.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sys

import e2e_cluster
import pytest

from kubelocal.engine import names, recording
from kubelocal.kube import fetching, pods, resources

pytestmark = [pytest.mark.slow, pytest.mark.cluster, pytest.mark.asyncio(loop_scope="module")]


async def kubelocal(*args):
    """Start `python -m kubelocal ARGS` with this test's KUBELOCAL_HOME and hosts file."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kubelocal", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=dict(os.environ),
    )  # fmt: skip


async def finished(*args, timeout=90) -> tuple[int, str, str]:
    process = await kubelocal(*args)
    async with reaped(process):
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    return process.returncode, out.decode(), err.decode()


async def read_event(process, wanted, *, seen=None, timeout=90):
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


@contextlib.asynccontextmanager
async def reaped(process):
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


def connect_args(cluster, *extra):
    return [
        "connect", "--service", "greeter", "--namespace", cluster.namespace,
        "--kubeconfig", str(cluster.kubeconfig), "--hosts-mode", "env", "--json", *extra,
    ]  # fmt: skip


async def original_greeter(client, namespace) -> dict:
    return e2e_cluster.comparable(await e2e_cluster.greeter(client, namespace))


async def assert_restored(client, namespace, original) -> None:
    assert await original_greeter(client, namespace) == original
    assert await e2e_cluster.kubelocal_objects(client, namespace) == []


SHOW_ENVIRONMENT = """
import json, os, pathlib, sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
items = json.loads(opener.open(os.environ["CATALOG_URL"], timeout=20).read())
message = pathlib.Path(os.environ["MESSAGE_DIR"], "message.txt").read_text()
print(json.dumps({
    "catalog_url": os.environ["CATALOG_URL"], "catalog_items": items,
    "message_dir": os.environ["MESSAGE_DIR"], "message": message,
    "payments": os.environ["PAYMENTS"], "greeting": os.environ["GREETING"],
}))
sys.exit(3)
"""


async def test_connect_with_a_config_runs_the_command_with_its_env_expanded(e2e, e2e_client, tmp_path):
    original = await original_greeter(e2e_client, e2e.namespace)
    message_dir = tmp_path / "message-files"
    config = tmp_path / "KubernetesLocalProcessConfig.yaml"
    config.write_text(
        "version: 0.1\n"
        "env:\n"
        "  - name: CATALOG_URL\n"
        "    value: http://$(services:catalog)/items\n"
        "  - name: MESSAGE_DIR\n"
        "    value: $(volumeMounts:message)\n"
        "  - name: PAYMENTS\n"
        "    value: $(externalendpoints:payments.example.com:443)\n"
        "volumeMounts:\n"
        "  - name: message\n"
        f"    localPath: {message_dir}\n"
    )
    process = await kubelocal(
        *connect_args(e2e, "--config", str(config)), "--", sys.executable, "-c", SHOW_ENVIRONMENT
    )
    steps = []
    async with reaped(process):
        connected = await read_event(process, "connected", seen=steps)
        output, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 3, stderr.decode()
    # The command's output shares stdout with the JSON events.
    shown = json.loads(next(line for line in output.decode().splitlines() if "catalog_url" in line))
    ports = {e["service"]: e["ports"] for e in connected["endpoints"]}
    assert shown["catalog_url"] == f"http://127.0.0.1:{ports['catalog']['8080']}/items"
    assert shown["catalog_items"] and "error" not in shown["catalog_items"]
    assert shown["message_dir"] == str(message_dir)
    assert shown["message"] == "Hi from the mounted ConfigMap file.\n"
    assert re.fullmatch(r"127\.0\.0\.1:\d+", shown["payments"])
    assert shown["greeting"] == "Hello"  # the pod's own env is there too
    ended = {step["step"]: step["seconds"] for step in steps if step.get("phase") == "end"}
    assert {"recover", "resolve", "replace", "agent-ready", "tunnel", "volumes", "environment"} <= set(ended)
    assert all(seconds >= 0 for seconds in ended.values())
    assert not message_dir.exists()  # the volume files went with the session
    await assert_restored(e2e_client, e2e.namespace, original)
    assert recording.all_records() == []


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (
            "config",
            [
                r"KubernetesLocalProcessConfig\.yaml:3:5: error: Unknown key 'nmae'.*Did you mean 'name'",
                "nothing was changed",
            ],
        ),
        ("service", [r"Service 'nope' was not found in namespace", r"kubelocal list services"]),
    ],
)
async def test_errors_are_refused_before_the_cluster_changes(e2e, e2e_client, tmp_path, case, expected):
    original = await original_greeter(e2e_client, e2e.namespace)
    if case == "config":
        config = tmp_path / "KubernetesLocalProcessConfig.yaml"
        config.write_text("version: 0.1\nenv:\n  - nmae: X\n    value: y\n")
        args = connect_args(e2e, "--config", str(config))
    else:
        args = [*connect_args(e2e), "--service", "nope"]
    code, out, err = await finished(*args, "--", sys.executable, "-c", "print('must not run')")
    assert code == 1
    for pattern in expected:
        assert re.search(pattern, err), err
    assert "must not run" not in out
    if case == "config":  # refused before the first step
        assert not [line for line in out.splitlines() if '"event": "step"' in line]
    await assert_restored(e2e_client, e2e.namespace, original)
    assert recording.all_records() == []


async def test_disconnect_from_another_process_then_connect_again_at_once(e2e, e2e_client):
    original = await original_greeter(e2e_client, e2e.namespace)
    process = await kubelocal(*connect_args(e2e))
    async with reaped(process):
        connected = await read_event(process, "connected")
        code, out, _ = await finished("status", "--json")
        [listed] = json.loads(out)
        assert listed["session"] == connected["session"] and listed["alive"]
        assert listed["state"] == "connected"
        code, out, _ = await finished("env", "--format", "json")
        assert json.loads(out)["CATALOG_SERVICE_HOST"] == "127.0.0.1"
        code, _, err = await finished("disconnect", "--session", connected["session"])
        assert code == 0, err
        await asyncio.wait_for(process.wait(), 30)
    assert process.returncode == 0
    await assert_restored(e2e_client, e2e.namespace, original)

    # At once: the old agent pod must not hold the service any more.
    code, out, err = await finished(*connect_args(e2e), "--", sys.executable, "-c", "print('second session')")
    assert code == 0, err
    assert "second session" in out
    await assert_restored(e2e_client, e2e.namespace, original)


async def poll_job_log(client, namespace, session_id, seen: list[str]) -> None:
    """Keep the restore Job's log text in `seen` (the Job deletes itself with its pods at the end)."""
    selector = f"job-name={names.restore_job_name(session_id)}"
    while True:
        for pod in await fetching.list_objects(
            client, resources.PODS, namespace=namespace, label_selector=selector
        ):
            path = f"/api/v1/namespaces/{namespace}/pods/{pods.name(pod)}/log"
            with contextlib.suppress(Exception):
                async with client.session().get(path, headers=await client.headers()) as response:
                    if response.status == 200:
                        text = (await response.read()).decode()
                        if len(text) >= len(seen[0]):
                            seen[0] = text
        await asyncio.sleep(0.3)


async def test_after_kill_9_the_restore_job_restores_and_disconnect_cleans_up(e2e, e2e_client):
    original = await original_greeter(e2e_client, e2e.namespace)
    process = await kubelocal(*connect_args(e2e, "--restore-timeout", "2"))
    log = [""]
    async with reaped(process):
        connected = await read_event(process, "connected")
        poller = asyncio.ensure_future(poll_job_log(e2e_client, e2e.namespace, connected["session"], log))
        try:
            async with asyncio.timeout(60):
                while "answers: a session is connected" not in log[0]:
                    await asyncio.sleep(0.2)
            process.send_signal(signal.SIGKILL)
            # The Job polls every 0.5 s and restores 2 s after the session ended, then cleans up.
            await e2e_cluster.wait_clean(e2e_client, e2e.namespace, timeout=60)
        finally:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller
    # It saw the session end through /status, not by waiting out its blind grace.
    assert "answers: no session connected" in log[0], log[0]
    assert "does not answer" not in log[0]
    async with asyncio.timeout(60):
        while await original_greeter(e2e_client, e2e.namespace) != original:
            await asyncio.sleep(0.2)
    await e2e_cluster.wait_ready(e2e_client, e2e.namespace, ["greeter"])

    code, out, _ = await finished("status", "--json")
    [listed] = json.loads(out)
    assert listed["session"] == connected["session"] and not listed["alive"]
    code, _, err = await finished("disconnect")
    assert code == 0, err
    assert recording.all_records() == []
    await assert_restored(e2e_client, e2e.namespace, original)


async def test_a_connect_after_a_crash_cleans_it_up_and_connects(e2e, e2e_client):
    original = await original_greeter(e2e_client, e2e.namespace)
    process = await kubelocal(*connect_args(e2e))
    async with reaped(process):
        crashed = await read_event(process, "connected")
        process.send_signal(signal.SIGKILL)
    # The session file and every cluster object stay: the restore Job waits its 60 s.
    assert [record.session_id for record in recording.all_records()] == [crashed["session"]]
    assert await e2e_cluster.kubelocal_objects(e2e_client, e2e.namespace)

    process = await kubelocal(*connect_args(e2e), "--", sys.executable, "-c", "print('after the crash')")
    steps = []
    async with reaped(process):
        await read_event(process, "connected", seen=steps)
        output, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
    assert "after the crash" in output.decode()
    notes = [step.get("message", "") for step in steps if step.get("step") == "recover"]
    assert any(f"crashed session {crashed['session']}" in note for note in notes)
    assert recording.all_records() == []
    await assert_restored(e2e_client, e2e.namespace, original)
