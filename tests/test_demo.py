"""`make demo` (samples/demo.py) and the workstation greeter it connects.

Aspects: the demo exits 0; its first act shows the valid sample config passing and the broken one
flagged with problem codes; its output shows the cluster's greeter answering, then the
workstation process, then the cluster again, then the cleanup line; after it no network namespace
of its sandbox, no sandbox process, no workstation greeter and no temp directory is left; without
kubectl, or as an ordinary user, it stops before starting anything, exits 2 and says what is
missing; when an act fails the demo still disconnects and stops its sandbox, exits 1 and says what
failed; the workstation greeter's answer names its pid and lists the cluster variables it received
by name, never a value.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys

import pytest

REPOSITORY = pathlib.Path(__file__).resolve().parent.parent
DEMO = REPOSITORY / "samples" / "demo.py"
CLUSTER_ANSWER = "<- the cluster's greeter"
WORKSTATION_ANSWER = "<- the workstation process"
CLEANUP_LINE = "nothing left"


def load_workstation_greeter():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "workstation_greeter", REPOSITORY / "samples" / "workstation" / "greeter.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def alive(pid: int) -> bool:
    try:
        status = pathlib.Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if text.encode() in (entry / "cmdline").read_bytes() and alive(int(entry.name)):
                    found.append(int(entry.name))
    return found


@contextlib.contextmanager
def running_demo(env: dict[str, str] | None = None, command: list[str] | None = None):
    """Run the demo in its own process group; whatever happens, leave nothing of it behind."""
    process = subprocess.Popen(
        command or [sys.executable, str(DEMO)],
        cwd=REPOSITORY,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output: list[str] = []
    try:
        yield process, output
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        text = "".join(output)
        # A demo killed half way leaves its sandbox: stop it the way a user would.
        state = re.search(r"sandbox up --state-dir (\S+)", text)
        if state and pathlib.Path(state.group(1)).exists():
            subprocess.run(
                [sys.executable, "-m", "kubelocal", "sandbox", "down", "--state-dir", state.group(1)],
                capture_output=True,
                check=False,
                timeout=60,
            )


@pytest.mark.slow
def test_the_demo_shows_the_workstation_answer_between_cluster_answers_and_leaves_nothing():
    with running_demo() as (process, output):
        stdout, _ = process.communicate(timeout=120)
        output.append(stdout)
    assert process.returncode == 0, stdout
    # Act 1: the valid sample passes, the every-problem one is flagged with its first problem's code.
    assert "valid/KubernetesLocalProcessConfig.yaml  -> exit 0, 0 problem(s)" in stdout
    assert re.search(r"every-problem/KubernetesLocalProcessConfig.yaml  -> exit 1, \d+ problem", stdout)
    assert "[unsupported-version]" in stdout
    lines = stdout.splitlines()
    answers = [line for line in lines if CLUSTER_ANSWER in line or WORKSTATION_ANSWER in line]
    assert [WORKSTATION_ANSWER in line for line in answers] == [False, True, False], answers
    assert "hello from the workstation (pid " in answers[1]
    cleanup = next(i for i, line in enumerate(lines) if CLEANUP_LINE in line)
    assert cleanup > lines.index(answers[2])
    # What the demo made, as its output names it: nothing of it may be left.
    cluster_id = re.search(r"cluster id (\w+)", stdout).group(1)
    sandbox_pid = int(re.search(r"sandbox is running: API \S+ \(pid (\d+)", stdout).group(1))
    greeter_pid = int(re.search(r"hello from the workstation \(pid (\d+)\)", stdout).group(1))
    workdir = re.search(r"--state-dir (/\S*kubelocal-demo-[^/\s]+)/", stdout).group(1)
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    assert [n for n in namespaces.split() if n.startswith(f"kl-{cluster_id}-")] == []
    assert not alive(sandbox_pid) and not alive(greeter_pid)
    assert processes_mentioning(workdir) == []
    assert not pathlib.Path(workdir).exists()


@pytest.mark.slow
def test_without_kubectl_the_demo_says_so_and_starts_nothing(tmp_path):
    # A PATH with python and ip but no kubectl.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("ip",):
        found = subprocess.run(["which", tool], capture_output=True, text=True, check=False).stdout.strip()
        if found:
            (bin_dir / tool).symlink_to(found)
    env = {**os.environ, "PATH": str(bin_dir)}
    with running_demo(env) as (process, output):
        stdout, _ = process.communicate(timeout=60)
        output.append(stdout)
    assert process.returncode == 2, stdout
    assert "missing" in stdout and "kubectl" in stdout
    assert "sandbox up" not in stdout


def test_the_workstation_greeter_names_its_pid_and_only_the_names_of_cluster_variables(monkeypatch):
    greeter = load_workstation_greeter()
    monkeypatch.setenv("API_KEY", "s3cr3t-value")
    monkeypatch.setenv("GREETING", "Hello")
    monkeypatch.delenv("CATALOG_SERVICE_HOST", raising=False)
    status, body = greeter.answer("/")
    assert status == 200
    assert body["greeting"] == f"hello from the workstation (pid {os.getpid()})"
    assert "API_KEY" in body["cluster_variables"] and "GREETING" in body["cluster_variables"]
    assert "CATALOG_SERVICE_HOST" not in body["cluster_variables"]
    assert "s3cr3t-value" not in repr(body) and "Hello" not in repr(body)
    assert greeter.answer("/nowhere")[0] == 404


# Runs the demo with act 6 failing on purpose: the cleanup acts must still run.
FAILING_ACT_6 = """
import runpy, sys
sys.argv = [sys.argv[1]]
demo = runpy.run_path(sys.argv[0], run_name="demo_under_test")
original = demo["ask_until"]

def ask_until(kubeconfig, *, workstation, timeout=20):
    if workstation:
        raise demo["DemoFailed"]("injected: the workstation never answered")
    return original(kubeconfig, workstation=workstation, timeout=timeout)

demo["demo"].__globals__["ask_until"] = ask_until
raise SystemExit(demo["main"]())
"""


@pytest.mark.slow
def test_a_failing_act_still_disconnects_and_stops_the_sandbox():
    command = [sys.executable, "-c", FAILING_ACT_6, str(DEMO)]
    with running_demo(command=command) as (process, output):
        stdout, _ = process.communicate(timeout=120)
        output.append(stdout)
    assert process.returncode == 1, stdout
    assert "demo failed: injected: the workstation never answered" in stdout
    assert "kubelocal disconnect --session" in stdout
    assert CLEANUP_LINE in stdout
    cluster_id = re.search(r"cluster id (\w+)", stdout).group(1)
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    assert [n for n in namespaces.split() if n.startswith(f"kl-{cluster_id}-")] == []
    workdir = re.search(r"--state-dir (/\S*kubelocal-demo-[^/\s]+)/", stdout).group(1)
    assert processes_mentioning(workdir) == []


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root to drop it")
def test_as_an_ordinary_user_the_demo_says_root_is_missing_and_starts_nothing():
    command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, str(DEMO)]
    with running_demo(command=command) as (process, output):
        stdout, _ = process.communicate(timeout=60)
        output.append(stdout)
    assert process.returncode == 2, stdout
    assert "missing: root" in stdout
    assert "sandbox up" not in stdout
