"""The kubelocal demo (`make demo`): one cluster service answered by a process on the workstation.

Acts, each printed with its duration:
 1. `kubelocal config check` on the sample configs (the valid one passes, a broken one is flagged);
 2. `kubelocal sandbox up`: a local cluster whose pods are processes (state in a temp directory);
 3. `kubectl apply -f samples/app/manifests/` and `kubectl rollout status`: frontend, greeter, catalog;
 4. a request into the cluster's frontend (through an API-server port-forward), which calls greeter;
 5. `kubelocal connect --service greeter -- python samples/workstation/greeter.py`;
 6. the same request: greeter's part now comes from the workstation process;
 7. `kubelocal disconnect`: greeter answers from the cluster again, its Deployment spec as before;
 8. `kubelocal sandbox down`: no process and no network namespace of the sandbox is left.

Whatever fails, disconnect and `sandbox down` still run. Exit status: 0 when every act did what it
should, 1 when one failed (the message says which and why), 2 when this machine cannot run the
sandbox (it needs root and network namespaces; the message says what is missing).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

from kubelocal.kube import fetching, forwarding, loading, pods, requesting, resources

REPOSITORY = pathlib.Path(__file__).resolve().parent.parent
CONFIGS = REPOSITORY / "samples" / "configs"
CONFIG_NAME = "KubernetesLocalProcessConfig.yaml"
MANIFESTS = REPOSITORY / "samples" / "app" / "manifests"
WORKSTATION_GREETER = REPOSITORY / "samples" / "workstation" / "greeter.py"
NAMESPACE = "default"
KUBELOCAL = [sys.executable, "-m", "kubelocal"]
# Set by the controllers, not by the user: not part of "the spec the user wrote".
CONTROLLER_ANNOTATIONS = ("deployment.kubernetes.io/revision",)


class DemoFailed(Exception):
    """An act did not do what it should; the message says what and what to look at."""


class CannotRun(Exception):
    """This machine cannot run the sandbox; the message says what is missing."""


# --- output ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def act(number: int, title: str) -> Iterator[None]:
    """Print the act's title, then its duration (or that it failed)."""
    print(f"\n[{number}/8] {title}", flush=True)
    started = time.monotonic()
    try:
        yield
    except BaseException:
        print(f"      ✗ failed after {time.monotonic() - started:.2f} s", flush=True)
        raise
    print(f"      ✓ {time.monotonic() - started:.2f} s", flush=True)


def say(line: str) -> None:
    print(f"      {line}", flush=True)


def run(command: list[str], *, env: dict[str, str] | None = None, timeout: float = 60) -> str:
    """Run a command, show it, return its stdout; a non-zero exit -> DemoFailed with its stderr."""
    shown = " ".join(pathlib.Path(c).name if c == sys.executable else c for c in command)
    say(f"$ {shown.replace('python -m kubelocal', 'kubelocal')}")
    result = subprocess.run(
        command, cwd=REPOSITORY, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise DemoFailed(f"`{shown}` exited {result.returncode}: {result.stderr.strip() or result.stdout}")
    return result.stdout


# --- act 1: config check ----------------------------------------------------------------------------


def check_configs() -> None:
    """The valid sample passes; the one with every kind of problem is flagged (first problems shown)."""
    for path, expected in (
        (CONFIGS / "valid" / CONFIG_NAME, 0),
        (CONFIGS / "every-problem" / CONFIG_NAME, 1),
    ):
        relative = path.relative_to(REPOSITORY)
        result = subprocess.run(
            [*KUBELOCAL, "config", "check", "--json", str(relative)],
            cwd=REPOSITORY,
            capture_output=True,
            text=True,
            check=False,
        )
        found = json.loads(result.stdout) if result.stdout.strip() else []
        say(f"$ kubelocal config check {relative}  -> exit {result.returncode}, {len(found)} problem(s)")
        for problem in found[:3]:
            start = problem["start"]
            say(f"    {start['line']}:{start['column']}: {problem['message']} [{problem['code']}]")
        if len(found) > 3:
            say(f"    ... and {len(found) - 3} more")
        if result.returncode != expected:
            raise DemoFailed(f"config check of {relative} exited {result.returncode}, expected {expected}")


# --- the machine -------------------------------------------------------------------------------------


def preflight() -> None:
    """The sandbox puts pods in network namespaces: it needs root, `ip netns` and kubectl."""
    missing = []
    if os.geteuid() != 0:
        missing.append("root (the sandbox creates network namespaces; run `sudo make demo`)")
    if shutil.which("ip") is None:
        missing.append("the `ip` command (iproute2) for network namespaces")
    elif os.geteuid() == 0 and subprocess.run(["ip", "netns", "list"], capture_output=True).returncode != 0:
        missing.append("network namespaces (`ip netns list` fails here: a container without CAP_SYS_ADMIN?)")
    if shutil.which("kubectl") is None:
        missing.append("kubectl on PATH (https://kubernetes.io/docs/tasks/tools/)")
    if missing:
        raise CannotRun("this machine cannot run the demo; missing: " + "; ".join(missing))


def sandbox_namespaces(cluster_id: str) -> list[str]:
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False).stdout
    return [line.split()[0] for line in listed.splitlines() if line.startswith(f"kl-{cluster_id}-")]


def process_alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie waiting for its parent to reap it counts as gone)."""
    try:
        status = pathlib.Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def gone_within(pid: int, seconds: float) -> bool:
    """`down` returns once the sandbox has been told to stop; its process may take a moment to end."""
    deadline = time.monotonic() + seconds
    while process_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- requests into the cluster -----------------------------------------------------------------------


async def ask_frontend(kubeconfig: pathlib.Path) -> dict[str, Any]:
    """GET / from a ready frontend pod through the API server's port-forward (as a real cluster)."""
    cluster = loading.load(kubeconfig=str(kubeconfig), namespace=NAMESPACE)
    async with requesting.Client(cluster) as client:
        ready = [
            p
            for p in await fetching.list_objects(client, resources.PODS, label_selector="app=frontend")
            if pods.is_ready(p)
        ]
        if not ready:
            raise DemoFailed("no frontend pod is ready (see `kubectl get pods` with the demo's kubeconfig)")
        reader, writer = await forwarding.open_forward(client, pod=pods.name(ready[0]), port=8080)
        try:
            writer.write(b"GET / HTTP/1.1\r\nHost: frontend\r\nConnection: close\r\n\r\n")
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 15)
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            return json.loads(await asyncio.wait_for(reader.readexactly(length), 15))
        finally:
            writer.close()


def greeter_part(answer: dict[str, Any]) -> dict[str, Any]:
    part = answer.get("greeter")
    if not isinstance(part, dict):
        raise DemoFailed(f"frontend's answer has no greeter part: {answer}")
    return part


def from_workstation(part: dict[str, Any]) -> bool:
    return str(part.get("greeting", "")).startswith("hello from the workstation")


def show_answer(answer: dict[str, Any]) -> None:
    part = greeter_part(answer)
    frontend = answer.get("frontend") or {}
    say(f"frontend pod {frontend.get('pod', '?')} answered; greeter's part:")
    if from_workstation(part):
        say(f'  greeting: "{part["greeting"]}"   <- the workstation process')
    else:
        say(f'  greeting: "{part.get("greeting")}" from pod {part.get("pod")}   <- the cluster\'s greeter')


def ask_until(kubeconfig: pathlib.Path, *, workstation: bool, timeout: float = 20) -> dict[str, Any]:
    """Ask frontend until greeter's part comes from where it should (a rollout takes a moment)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            answer = asyncio.run(ask_frontend(kubeconfig))
            if from_workstation(greeter_part(answer)) == workstation:
                return answer
            last = answer
        # While pods roll, a forward or a call inside the cluster can fail for a moment: ask again.
        except Exception as error:
            last = error
        time.sleep(0.3)
    where = "the workstation process" if workstation else "the cluster's greeter"
    raise DemoFailed(f"greeter's answer did not come from {where} within {timeout:.0f} s; last: {last}")


def greeter_spec(env: dict[str, str]) -> dict[str, Any]:
    """The greeter Deployment as the user wrote it: labels, annotations (minus controllers'), spec."""
    out = run(["kubectl", "-n", NAMESPACE, "get", "deployment", "greeter", "-o", "json"], env=env)
    workload = json.loads(out)
    metadata = workload["metadata"]
    annotations = {
        k: v for k, v in (metadata.get("annotations") or {}).items() if k not in CONTROLLER_ANNOTATIONS
    }
    return copy.deepcopy(
        {"labels": metadata.get("labels"), "annotations": annotations, "spec": workload["spec"]}
    )


# --- connect -----------------------------------------------------------------------------------------


class Connection:
    """`kubelocal connect ... -- python samples/workstation/greeter.py` running in the background."""

    def __init__(self, *, env: dict[str, str]) -> None:
        self.port = free_port()
        self.env = env
        self.session = ""
        command = [
            *KUBELOCAL,
            "connect",
            "--namespace",
            NAMESPACE,
            "--service",
            "greeter",
            "--local-port",
            str(self.port),
            # env mode: service addresses on 127.0.0.1 ports, /etc/hosts untouched.
            "--hosts-mode",
            "env",
            "--json",
            "--",
            sys.executable,
            str(WORKSTATION_GREETER.relative_to(REPOSITORY)),
            "--port",
            str(self.port),
        ]
        say(
            f"$ kubelocal connect --service greeter --local-port {self.port} --hosts-mode env -- "
            f"python samples/workstation/greeter.py --port {self.port}"
        )
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            command, cwd=REPOSITORY, env=env, stdout=subprocess.PIPE, stderr=self.log, text=True
        )

    def wait_connected(self, timeout: float = 30) -> dict[str, Any]:
        """Show connect's steps until it says "connected"; it ending first -> DemoFailed."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        for line in self.process.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                say(f"  {line.rstrip()}")  # the workstation greeter's own output
                continue
            if event.get("event") == "step" and event.get("phase") == "end":
                say(f"  ✓ {event['step']:<12} {event['seconds']:6.2f} s  {event['message']}")
            elif event.get("event") == "error":
                raise DemoFailed(f"kubelocal connect: {event.get('message')}")
            elif event.get("event") == "connected":
                self.session = str(event["session"])
                return event
            if time.monotonic() > deadline:
                break
        raise DemoFailed(f"kubelocal connect did not connect: {self.stderr()}")

    def stderr(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace").strip()[-2000:]

    def close(self) -> None:
        """Disconnect: `kubelocal disconnect`, then make sure the connect process has ended."""
        if self.process.poll() is None and self.session:
            with contextlib.suppress(DemoFailed, subprocess.TimeoutExpired):
                run([*KUBELOCAL, "disconnect", "--session", self.session], env=self.env, timeout=60)
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # kubelocal restores on SIGTERM
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.log.close()


# --- the demo ----------------------------------------------------------------------------------------


def demo(workdir: pathlib.Path, cleanups: contextlib.ExitStack) -> None:
    state_dir = workdir / "sandbox"
    env = {**os.environ, "KUBELOCAL_HOME": str(workdir / "home")}

    with act(1, "Check the sample configs"):
        check_configs()

    with act(2, "Start the sandbox cluster"):
        cleanups.callback(stop_sandbox, state_dir, env)
        for line in run([*KUBELOCAL, "sandbox", "up", "--state-dir", str(state_dir)], env=env).splitlines()[
            :2
        ]:
            say(line)
        kubeconfig = pathlib.Path(
            run([*KUBELOCAL, "sandbox", "kubeconfig", "--state-dir", str(state_dir)]).strip()
        )

    with act(3, "Deploy the sample app (frontend -> greeter, catalog)"):
        env["KUBECONFIG"] = str(kubeconfig)
        say(f"$ export KUBECONFIG={kubeconfig}")
        kubectl = ["kubectl", "-n", NAMESPACE]
        applied = run([*kubectl, "apply", "-f", str(MANIFESTS.relative_to(REPOSITORY))], env=env)
        say(f"  {len(applied.splitlines())} objects applied")
        for workload in ("deployment/frontend", "deployment/greeter", "statefulset/catalog"):
            run([*kubectl, "rollout", "status", workload, "--timeout", "60s"], env=env, timeout=70)
        original = greeter_spec(env)

    with act(4, "Ask the cluster's frontend (port-forward through the API server)"):
        show_answer(ask_until(kubeconfig, workstation=False))

    with act(5, "Connect greeter to a process on this workstation"):
        connection = Connection(env=env)
        cleanups.callback(connection.close)
        connected = connection.wait_connected()
        seconds, mode = connected["seconds"], connected["mode"]
        say(f"  session {connected['session']} connected in {seconds:.2f} s ({mode} mode)")

    with act(6, "Ask frontend again: greeter's part comes from the workstation"):
        answer = ask_until(kubeconfig, workstation=True)
        show_answer(answer)
        received = greeter_part(answer).get("cluster_variables") or []
        say(f"  the workstation process received the cluster's {', '.join(received)} (names only)")

    with act(7, "Disconnect: the cluster is restored"):
        connection.close()
        run([*kubectl, "rollout", "status", "deployment/greeter", "--timeout", "60s"], env=env, timeout=70)
        show_answer(ask_until(kubeconfig, workstation=False))
        if greeter_spec(env) != original:
            raise DemoFailed("the greeter Deployment differs from the original after disconnect")
        say("  greeter's Deployment (labels, annotations, spec) equals the original")


def stop_sandbox(state_dir: pathlib.Path, env: dict[str, str]) -> None:
    """`kubelocal sandbox down`, then prove nothing is left: no process, no network namespace."""
    with act(8, "Stop the sandbox and check nothing is left"):
        state_file = state_dir / "sandbox.json"
        state = json.loads(state_file.read_text()) if state_file.is_file() else {}
        for line in run([*KUBELOCAL, "sandbox", "down", "--state-dir", str(state_dir)], env=env).splitlines()[
            :3
        ]:
            say(line)
        left = []
        if state.get("pid") and not gone_within(int(state["pid"]), 10):
            left.append(f"sandbox process {state['pid']}")
        if state.get("cluster_id"):
            left += [f"network namespace {name}" for name in sandbox_namespaces(str(state["cluster_id"]))]
        if left:
            raise DemoFailed(f"left after `sandbox down`: {', '.join(left)}")
        say(f"  no sandbox process, no network namespace kl-{state.get('cluster_id', '?')}-*: nothing left")


def main() -> int:
    started = time.monotonic()
    print("kubelocal demo: a cluster service answered by a process on this workstation", flush=True)
    try:
        preflight()
    except CannotRun as error:
        print(f"\ndemo: {error}", file=sys.stderr)
        return 2
    failure: str | None = None
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="kubelocal-demo-"))
    try:
        with contextlib.ExitStack() as cleanups:
            try:
                demo(workdir, cleanups)
            except (DemoFailed, subprocess.TimeoutExpired) as error:
                failure = str(error)
            except KeyboardInterrupt:
                failure = "interrupted"
            # A bug here still cleans up and says what broke.
            except Exception as error:
                failure = f"unexpected {type(error).__name__}: {error}"
    # A clean-up failure is reported unless an earlier failure is (that one caused it).
    except Exception as error:
        failure = failure or f"clean-up failed: {error}"
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if failure:
        print(f"\ndemo failed: {failure}", file=sys.stderr)
        return 1
    print(f"\ndemo: done in {time.monotonic() - started:.1f} s; the cluster is gone and nothing is left.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
