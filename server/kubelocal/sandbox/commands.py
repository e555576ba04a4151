"""`kubelocal sandbox up|down|status|kubeconfig`: start, stop and inspect the sandbox process.

State lives in one directory (default `~/.kubelocal/sandbox`, else `--state-dir` or the
`KUBELOCAL_SANDBOX_DIR` environment variable):

    sandbox.json   pid, API address, cluster id (written before any network namespace exists,
                   so `down` can clean up by prefix even after the process was killed with -9)
    kubeconfig     for kubectl and the official client (server, bearer token, context)
    sandbox.log    the sandbox process's output
    kubelet/       the kubelet's files (pod rootfs mirrors, logs)
    pki/           the API server's self-signed certificate and key

`up` starts `python -m kubelocal sandbox up --foreground` detached, in its own session, and returns
once `/readyz` answers. `down` stops that process (SIGTERM, then SIGKILL after a grace period),
then removes whatever is left: processes of its session and network namespaces, /etc/netns
entries named with its cluster id, and its files.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import pathlib
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

STATE_ENV = "KUBELOCAL_SANDBOX_DIR"
STATE_FILE = "sandbox.json"
KUBECONFIG_FILE = "kubeconfig"
LOG_FILE = "sandbox.log"
KUBELET_DIR = "kubelet"
PKI_DIR = "pki"
UP_TIMEOUT_SECONDS = 20.0
STOP_GRACE_SECONDS = 15.0


class CommandError(Exception):
    """A sandbox command failed; the message says what is wrong and what to do next.

    (The sandbox's `errors` module holds the API server's errors; this one never crosses the API.)
    """


def default_state_dir() -> pathlib.Path:
    configured = os.environ.get(STATE_ENV)
    if configured:
        return pathlib.Path(configured).expanduser()
    return pathlib.Path.home() / ".kubelocal" / "sandbox"


@dataclasses.dataclass(frozen=True)
class State:
    """What a running (or crashed) sandbox recorded about itself."""

    pid: int
    cluster_id: str
    server: str = ""
    kubeconfig: str = ""
    token: str = ""
    mode: str = ""
    certificate_authority: str = ""

    @staticmethod
    def read(state_dir: pathlib.Path) -> State | None:
        try:
            raw = json.loads((state_dir / STATE_FILE).read_text())
        except (FileNotFoundError, ValueError):
            return None
        return State(
            **{
                field.name: raw.get(field.name, field.default)
                for field in dataclasses.fields(State)
                if field.name in raw or field.default is not dataclasses.MISSING
            }
        )

    def write(self, state_dir: pathlib.Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        temporary = state_dir / (STATE_FILE + ".tmp")
        temporary.write_text(json.dumps(dataclasses.asdict(self), indent=2) + "\n")
        temporary.chmod(0o600)
        temporary.replace(state_dir / STATE_FILE)


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child (up --foreground started from this very process) counts as dead.
    with contextlib.suppress(OSError):
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def is_sandbox_process(pid: int) -> bool:
    """True when `pid` is alive and runs `kubelocal sandbox` (not some later process that reuses the pid)."""
    if not process_alive(pid):
        return False
    try:
        arguments = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True  # no /proc: trust the pid
    return any(argument.endswith(b"kubelocal") for argument in arguments) and b"sandbox" in arguments


def tls_context(state: State) -> ssl.SSLContext:
    """Trusts the sandbox's own CA (the API server serves https with a certificate it made)."""
    context = ssl.create_default_context()
    if state.certificate_authority:
        context.load_verify_locations(cafile=state.certificate_authority)
    return context


def ready(state: State, *, timeout: float = 0.5) -> bool:
    try:
        with urllib.request.urlopen(
            f"{state.server}/readyz", timeout=timeout, context=tls_context(state)
        ) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def running_state(state_dir: pathlib.Path) -> State | None:
    """The state of a sandbox whose process is alive, else None."""
    state = State.read(state_dir)
    if state is None or not is_sandbox_process(state.pid):
        return None
    return state


# ---------------------------------------------------------------------- up


def service_proxy_mode() -> str:
    """The service path the environment asks for (CommandError for an unknown one, before any start)."""
    from kubelocal.sandbox.kubelet import kernelproxy

    mode = os.environ.get(kernelproxy.MODE_VARIABLE) or "kernel"
    if mode not in kernelproxy.MODES:
        raise CommandError(
            f"{kernelproxy.MODE_VARIABLE}={mode!r} is not a service path; use `kernel` (the default: "
            "nftables rewrites connections to ClusterIPs, as kube-proxy does) or `userspace` (a proxy in "
            "the sandbox process carries them)"
        )
    return mode


def up(*, state_dir: pathlib.Path, port: int = 0, out: object = sys.stdout) -> State:
    """Start the sandbox in the background and return once its API answers."""
    service_proxy_mode()
    state = running_state(state_dir)
    if state is not None:
        raise CommandError(
            f"the sandbox is already running (pid {state.pid}, API {state.server or 'starting'}); "
            f"use it with `export KUBECONFIG={state_dir / KUBECONFIG_FILE}`, or stop it first with "
            f"`kubelocal sandbox down{_state_flag(state_dir)}`"
        )
    if State.read(state_dir) is not None:
        # A previous sandbox died without `down`: clear what it left before starting again.
        clean(state_dir=state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    log_path = state_dir / LOG_FILE
    command = [
        sys.executable,
        "-m",
        "kubelocal",
        "sandbox",
        "up",
        "--foreground",
        "--state-dir",
        str(state_dir),
        "--port",
        str(port),
    ]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    deadline = time.monotonic() + UP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CommandError(
                f"the sandbox process exited with code {process.returncode} while starting:\n"
                f"{_tail(log_path)}\nfix the cause above, then run `kubelocal sandbox up` again"
            )
        state = State.read(state_dir)
        if state is not None and state.server and state.pid == process.pid and ready(state):
            return state
        time.sleep(0.01)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    clean(state_dir=state_dir)
    raise CommandError(
        f"the sandbox did not answer within {UP_TIMEOUT_SECONDS:.0f} s; its log said:\n{_tail(log_path)}"
    )


def usage(state: State, state_dir: pathlib.Path) -> str:
    lines = [
        f"kubelocal sandbox is running: API {state.server} (pid {state.pid}, cluster id {state.cluster_id})",
    ]
    if state.mode:
        lines.append(f"pod network: {state.mode}")
    lines += [
        "use it with:",
        f"  export KUBECONFIG={state.kubeconfig or state_dir / KUBECONFIG_FILE}",
        "  kubectl get pods",
        f"stop it with: kubelocal sandbox down{_state_flag(state_dir)}",
    ]
    return "\n".join(lines)


def _state_flag(state_dir: pathlib.Path) -> str:
    if state_dir == default_state_dir():
        return ""
    return f" --state-dir {state_dir}"


def _tail(path: pathlib.Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


# ---------------------------------------------------------------------- foreground


def run_foreground(*, state_dir: pathlib.Path, port: int = 0) -> int:
    """Run the sandbox in this process until SIGTERM or SIGINT; returns the exit code."""
    from kubelocal import eventloops
    from kubelocal.sandbox import cluster  # the heavy part (aiohttp, kubelet) only when serving

    service_proxy_mode()
    state = running_state(state_dir)
    if state is not None and state.pid != os.getpid():
        raise CommandError(
            f"the sandbox is already running (pid {state.pid}); stop it first with "
            f"`kubelocal sandbox down{_state_flag(state_dir)}`"
        )
    # On uvloop when installed, as the engine: its port-forwards move every byte through this loop.
    return eventloops.run(cluster.serve(state_dir=state_dir, port=port))


# ---------------------------------------------------------------------- down


def down(*, state_dir: pathlib.Path) -> list[str]:
    """Stop the sandbox and remove everything it made; returns what was done (for the user).

    Works after a crash or kill -9 too: leftovers are found by the cluster id in the state file.
    """
    state = State.read(state_dir)
    if state is None:
        raise CommandError(
            f"no sandbox is running from {state_dir} (no {STATE_FILE}); nothing to stop. "
            "Start one with `kubelocal sandbox up`"
        )
    done = []
    if is_sandbox_process(state.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(state.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while process_alive(state.pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        if process_alive(state.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(state.pid, signal.SIGKILL)
            done.append(
                f"killed the sandbox process {state.pid} (it did not stop within {STOP_GRACE_SECONDS:.0f} s)"
            )
        else:
            done.append(f"stopped the sandbox process {state.pid}")
    done += clean(state_dir=state_dir, state=state)
    return done


def clean(*, state_dir: pathlib.Path, state: State | None = None) -> list[str]:
    """Remove what a stopped (or dead) sandbox left: processes, network namespaces, files.

    `state` is what the sandbox recorded (read from state_dir when not given): a sandbox that stops
    cleanly removes its state file on the way out, so `down` reads it before stopping it.
    """
    state = state or State.read(state_dir)
    done: list[str] = []
    if state is not None:
        # Pod processes run in the sandbox's session; a killed sandbox leaves them orphaned there.
        # Linux never hands out a pid still used as a session id, so members of that session are
        # the sandbox's own, unless the pid now leads an unrelated live process.
        reused = process_alive(state.pid) and not is_sandbox_process(state.pid)
        leftovers = [] if reused else session_members(state.pid)
        for pid in leftovers:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        if leftovers:
            done.append(f"killed {len(leftovers)} leftover processes of the sandbox's session {state.pid}")
        done += _clean_network(state.cluster_id)
    for name in (STATE_FILE, STATE_FILE + ".tmp", KUBECONFIG_FILE, LOG_FILE):
        with contextlib.suppress(FileNotFoundError):
            (state_dir / name).unlink()
    shutil.rmtree(state_dir / KUBELET_DIR, ignore_errors=True)
    shutil.rmtree(state_dir / PKI_DIR, ignore_errors=True)
    with contextlib.suppress(OSError):
        state_dir.rmdir()  # only when empty: never remove what someone else put there
    done.append(f"removed the sandbox's files in {state_dir}")
    return done


def session_members(session_id: int) -> list[int]:
    """Processes whose session is `session_id` (the sandbox's, started with start_new_session)."""
    members = []
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # Fields after the command: state ppid pgrp session ...
        if int(fields[3]) == session_id and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def _clean_network(cluster_id: str) -> list[str]:
    try:
        from kubelocal.sandbox.kubelet import network
    except ImportError:
        return []
    done = []
    for name in network.leftover_namespaces(cluster_id):
        # Processes inside a namespace survive its deletion: stop them first.
        pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True).stdout.split()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid), signal.SIGKILL)
    removed = asyncio.run(network.remove_leftovers(cluster_id))
    if removed:
        done.append(f"removed network namespaces {', '.join(removed)}")
    return done


# ---------------------------------------------------------------------- status / kubeconfig


@dataclasses.dataclass(frozen=True)
class Status:
    running: bool
    server: str = ""
    pid: int = 0
    pods: int | None = None
    kubeconfig: str = ""
    mode: str = ""


def status(*, state_dir: pathlib.Path) -> Status:
    state = running_state(state_dir)
    if state is None or not state.server:
        return Status(running=False)
    return Status(
        running=True,
        server=state.server,
        pid=state.pid,
        pods=_count_pods(state),
        kubeconfig=state.kubeconfig,
        mode=state.mode,
    )


def _count_pods(state: State) -> int | None:
    request = urllib.request.Request(
        f"{state.server}/api/v1/pods",
        headers={"Authorization": f"Bearer {state.token}", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=2, context=tls_context(state)) as response:
            return len(json.loads(response.read()).get("items") or [])
    except (OSError, ValueError, urllib.error.URLError):
        return None


def kubeconfig_path(*, state_dir: pathlib.Path) -> pathlib.Path:
    state = running_state(state_dir)
    if state is None:
        raise CommandError(
            f"the sandbox is not running (state in {state_dir}); start it with `kubelocal sandbox up`"
        )
    return pathlib.Path(state.kubeconfig or state_dir / KUBECONFIG_FILE)
