"""`kubelocal sandbox up|status|kubeconfig|down` as a user runs them: up answers quickly and prints how
to use it, a second up says it already runs, status and kubeconfig report it, and down leaves nothing
(no process, no network namespace or /etc/netns entry with its cluster id, no file) — also after the
sandbox process was killed with -9 while running a pod. Sandbox-only: skipped on a real cluster."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(os.environ.get("KUBELOCAL_TEST_KUBECONFIG")), reason="checks the sandbox itself"),
]

POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "sleeper"},
    "spec": {
        "containers": [
            {
                "name": "s",
                "image": "python:3.12-slim",
                "command": ["python", "-c", "import time; time.sleep(600)"],
            }
        ]
    },
}


def kubelocal(*args, timeout=60, env=None):
    return subprocess.run(
        [sys.executable, "-m", "kubelocal", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def kubectl(state_dir, *args, input=None):
    return subprocess.run(
        ["kubectl", f"--kubeconfig={state_dir / 'kubeconfig'}", *args],
        capture_output=True,
        text=True,
        timeout=60,
        input=input,
    )


def netns_names():
    try:
        return set(os.listdir("/var/run/netns"))
    except FileNotFoundError:
        return set()


def etc_netns_names():
    try:
        return set(os.listdir("/etc/netns"))
    except FileNotFoundError:
        return set()


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def pod_pids(cluster_id):
    """Every process inside the sandbox's network namespaces (the pods' processes)."""
    pids = set()
    for name in netns_names():
        if name.startswith(f"kl-{cluster_id}-"):
            output = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True).stdout
            pids |= {int(pid) for pid in output.split()}
    return pids


def start_with_a_pod(state_dir):
    started = kubelocal("sandbox", "up", "--state-dir", str(state_dir))
    assert started.returncode == 0, started.stderr
    state = json.loads((state_dir / "sandbox.json").read_text())
    created = kubectl(state_dir, "apply", "-f", "-", input=json.dumps(POD))
    assert created.returncode == 0, created.stderr
    end = time.monotonic() + 30
    while time.monotonic() < end:
        phase = kubectl(state_dir, "get", "pod", "sleeper", "-o", "jsonpath={.status.phase}").stdout
        if phase == "Running":
            break
        time.sleep(0.1)
    else:
        pytest.fail("the pod did not start")
    return state


def assert_nothing_left(state_dir, state, pids):
    assert not alive(state["pid"])
    assert not [pid for pid in pids if alive(pid)], "pod processes survived"
    prefix = f"kl-{state['cluster_id']}-"
    assert not [n for n in netns_names() if n.startswith(prefix)], "network namespaces left"
    assert not [n for n in etc_netns_names() if n.startswith(prefix)], "/etc/netns entries left"
    assert not state_dir.exists() or not any(state_dir.iterdir()), f"files left: {list(state_dir.iterdir())}"


def test_up_status_kubeconfig_down_leave_nothing(tmp_path):
    state_dir = tmp_path / "state"
    started = time.monotonic()
    up = kubelocal("sandbox", "up", "--state-dir", str(state_dir))
    elapsed = time.monotonic() - started
    try:
        assert up.returncode == 0, up.stderr
        assert (
            f"export KUBECONFIG={state_dir / 'kubeconfig'}" in up.stdout and "kubectl get pods" in up.stdout
        )
        print(f"sandbox up took {elapsed:.2f} s")
        again = kubelocal("sandbox", "up", "--state-dir", str(state_dir))
        assert again.returncode == 1 and "already running" in again.stderr
        status = kubelocal("sandbox", "status", "--state-dir", str(state_dir), "--json")
        assert status.returncode == 0
        report = json.loads(status.stdout)
        assert report["running"] and report["server"].startswith("https://127.0.0.1:") and report["pods"] == 0
        # As on a real cluster, services cost no hop: kube-proxy's job is done in the kernel.
        assert "services in the kernel (nftables DNAT" in report["mode"], report["mode"]
        path = kubelocal("sandbox", "kubeconfig", "--state-dir", str(state_dir)).stdout.strip()
        assert pathlib.Path(path) == state_dir / "kubeconfig"
        shown = kubelocal("sandbox", "kubeconfig", "--show", "--state-dir", str(state_dir)).stdout
        assert "kubelocal-sandbox" in shown and report["server"] in shown
        nodes = kubectl(state_dir, "get", "namespaces", "-o", "name")
        assert "namespace/default" in nodes.stdout, nodes.stderr
    finally:
        state = (
            json.loads((state_dir / "sandbox.json").read_text())
            if (state_dir / "sandbox.json").exists()
            else None
        )
        down = kubelocal("sandbox", "down", "--state-dir", str(state_dir))
    assert down.returncode == 0, down.stderr
    assert_nothing_left(state_dir, state, set())
    after = kubelocal("sandbox", "status", "--state-dir", str(state_dir))
    assert after.returncode == 3 and "not running" in after.stdout


def test_an_unknown_service_path_is_refused_before_anything_starts(tmp_path):
    state_dir = tmp_path / "state"
    up = kubelocal(
        "sandbox", "up", "--state-dir", str(state_dir), env={"KUBELOCAL_SANDBOX_SERVICE_PROXY": "ipvs"}
    )
    assert up.returncode == 1
    assert "KUBELOCAL_SANDBOX_SERVICE_PROXY='ipvs' is not a service path; use `kernel`" in up.stderr
    assert "Traceback" not in up.stderr and not state_dir.exists()


def test_down_after_kill_9_with_a_running_pod_leaves_nothing(tmp_path):
    state_dir = tmp_path / "state"
    try:
        state = start_with_a_pod(state_dir)
        pids = pod_pids(state["cluster_id"])
        os.kill(state["pid"], signal.SIGKILL)
        end = time.monotonic() + 5
        while alive(state["pid"]) and time.monotonic() < end:
            time.sleep(0.02)
    finally:
        down = kubelocal("sandbox", "down", "--state-dir", str(state_dir))
    assert down.returncode == 0, down.stderr
    assert_nothing_left(state_dir, state, pids)


def test_down_of_a_running_sandbox_stops_its_pods(tmp_path):
    state_dir = tmp_path / "state"
    try:
        state = start_with_a_pod(state_dir)
        pids = pod_pids(state["cluster_id"])
    finally:
        down = kubelocal("sandbox", "down", "--state-dir", str(state_dir))
    assert down.returncode == 0, down.stderr
    assert_nothing_left(state_dir, state, pids)


def test_foreground_stops_cleanly_on_ctrl_c(tmp_path):
    state_dir = tmp_path / "state"
    process = subprocess.Popen(
        [sys.executable, "-m", "kubelocal", "sandbox", "up", "--foreground", "--state-dir", str(state_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        end = time.monotonic() + 30
        while not (state_dir / "kubeconfig").exists() and time.monotonic() < end:
            time.sleep(0.02)
        state = json.loads((state_dir / "sandbox.json").read_text())
        assert state["pid"] == process.pid
        created = kubectl(state_dir, "apply", "-f", "-", input=json.dumps(POD))
        assert created.returncode == 0, created.stderr
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
            kubelocal("sandbox", "down", "--state-dir", str(state_dir))
    assert process.returncode == 0, output
    assert "kubectl get pods" in output
    prefix = f"kl-{state['cluster_id']}-"
    assert not [n for n in netns_names() if n.startswith(prefix)]
    assert not state_dir.exists(), f"files left: {list(state_dir.iterdir())}"
