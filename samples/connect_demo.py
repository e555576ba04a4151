"""The connect demo: a cluster service answered by a copy of its code on this workstation.

1. starts the sandbox (`kubelocal sandbox up`, in a temporary state directory) and deploys the
   sample app (frontend -> greeter, catalog);
2. asks the cluster's frontend for `/` through a port-forward: greeter answers from its pod;
3. `kubelocal connect --service greeter -- python samples/app/services/greeter.py`: the workstation
   copy runs with the pod's environment, the mounted message file downloaded, and a greeting set
   by KubernetesLocalProcessConfig.yaml;
4. asks the frontend again: the answer now comes from the workstation copy, through the cluster;
5. stops kubelocal (Ctrl-C), which restores greeter, and shows the cluster as it was.

Needs root (the sandbox's network namespaces). Unattended; exits 0 when every step did what it
should, 1 otherwise. Run: `python samples/connect_demo.py`.
"""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import tempfile

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
MANIFESTS = ROOT / "samples" / "app" / "manifests"
GREETER_CODE = ROOT / "samples" / "app" / "services" / "greeter.py"
CONFIG = """\
version: 0.1
env:
  - name: GREETING
    value: Hello from the workstation
  - name: MESSAGE_FILE
    value: $(volumeMounts:message)/message.txt
"""


def say(text: str) -> None:
    print(f"\n=== {text}", flush=True)


def kubelocal(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "kubelocal", *args], env=env, capture_output=True, text=True
    )
    if check and result.returncode != 0:
        raise SystemExit(f"kubelocal {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result


async def frontend_answer(kubeconfig: pathlib.Path) -> dict:
    from kubelocal.kube import fetching, forwarding, loading, pods, requesting, resources

    async with requesting.Client(loading.load(kubeconfig=kubeconfig)) as client:
        [frontend] = [
            pod
            for pod in await fetching.list_objects(client, resources.PODS, label_selector="app=frontend")
            if pods.is_ready(pod)
        ]
        reader, writer = await forwarding.open_forward(client, pod=pods.name(frontend), port=8080)
        writer.write(b"GET / HTTP/1.1\r\nHost: frontend\r\nConnection: close\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 20)
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
        body = await asyncio.wait_for(reader.readexactly(length), 20)
        writer.close()
        return json.loads(body)


async def deploy(kubeconfig: pathlib.Path) -> None:
    from kubelocal.kube import creating, fetching, loading, pods, requesting, resources

    async with requesting.Client(loading.load(kubeconfig=kubeconfig)) as client:
        for path in sorted(MANIFESTS.glob("*.yaml")):
            for body in yaml.safe_load_all(path.read_text()):
                if body:
                    await creating.create(client, body)
        await _wait_ready(client, fetching, pods, resources)


async def _wait_ready(client, fetching, pods, resources) -> None:  # noqa: ANN001
    async with asyncio.timeout(90):
        while True:
            # Pods on their way out (the agent's, after a restore) do not count.
            listed = [
                p for p in await fetching.list_objects(client, resources.PODS) if not pods.is_terminating(p)
            ]
            apps = {(p["metadata"].get("labels") or {}).get("app") for p in listed}
            if {"frontend", "greeter", "catalog"} <= apps and all(pods.is_ready(p) for p in listed):
                return
            await asyncio.sleep(0.3)


async def greeter_image(kubeconfig: pathlib.Path) -> str:
    from kubelocal.kube import fetching, loading, requesting, resources

    async with requesting.Client(loading.load(kubeconfig=kubeconfig)) as client:
        greeter = await fetching.read(client, resources.DEPLOYMENTS, name="greeter")
        leftovers = await fetching.list_objects(
            client, resources.SECRETS, label_selector="app.kubernetes.io/managed-by=kubelocal"
        )
    container = greeter["spec"]["template"]["spec"]["containers"][0]
    return f"{container['image']} {' '.join(container['command'])} (kubelocal objects left: {len(leftovers)})"


def describe(greeter: dict) -> str:
    where = f"pod {greeter.get('pod') or '-'} on host {greeter.get('hostname')}"
    what = f"message {greeter.get('message')!r}, secret fingerprint {greeter.get('secret_fingerprint')}"
    return f"{greeter.get('greeting')!r} from {where}, {what}"


async def wait_restored(kubeconfig: pathlib.Path) -> None:
    from kubelocal.kube import fetching, loading, pods, requesting, resources

    async with requesting.Client(loading.load(kubeconfig=kubeconfig)) as client:
        await _wait_ready(client, fetching, pods, resources)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> int:
    if os.geteuid() != 0:
        print("The demo needs root: the sandbox runs pods in network namespaces.", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="kubelocal-demo-") as directory:
        work = pathlib.Path(directory)
        env = {
            **os.environ,
            "KUBELOCAL_SANDBOX_DIR": str(work / "sandbox"),
            "KUBELOCAL_HOME": str(work / "home"),
            "KUBELOCAL_HOSTS_FILE": str(work / "hosts"),
        }
        (work / "hosts").write_text("127.0.0.1\tlocalhost\n")
        (work / "KubernetesLocalProcessConfig.yaml").write_text(CONFIG)
        say("kubelocal sandbox up")
        kubelocal("sandbox", "up", env=env)
        kubeconfig = work / "sandbox" / "kubeconfig"
        try:
            return asyncio.run(_demo(work, env, kubeconfig))
        finally:
            say("kubelocal sandbox down")
            kubelocal("sandbox", "down", env=env, check=False)


async def _demo(work: pathlib.Path, env: dict[str, str], kubeconfig: pathlib.Path) -> int:
    say("deploying the sample app (frontend -> greeter, catalog)")
    await deploy(kubeconfig)
    before = await frontend_answer(kubeconfig)
    print(f"frontend says greeter answered: {describe(before['greeter'])}")

    port = free_port()
    say(f"kubelocal connect --service greeter --local-port {port} -- python {GREETER_CODE.relative_to(ROOT)}")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "kubelocal",
        "connect",
        "--service",
        "greeter",
        "--kubeconfig",
        str(kubeconfig),
        "--hosts-mode",
        "env",
        "--local-port",
        str(port),
        "--config",
        str(work / "KubernetesLocalProcessConfig.yaml"),
        "--json",
        "--",
        sys.executable,
        str(GREETER_CODE),
        env={**env, "PORT": str(port), "BIND": "127.0.0.1"},
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    ok = False
    try:
        async with asyncio.timeout(60):
            while True:
                line = await process.stdout.readline()
                if not line:
                    raise SystemExit("kubelocal connect ended early")
                event = json.loads(line) if line.startswith(b"{") else {}
                if event.get("event") == "connected":
                    break
        await asyncio.sleep(0.5)  # the workstation copy binds its port
        after = await frontend_answer(kubeconfig)
        greeter = after["greeter"]
        print(f"frontend says greeter answered: {describe(greeter)}")
        ok = greeter.get("greeting") == "Hello from the workstation" and greeter.get("message") == before[
            "greeter"
        ].get("message")
    finally:
        say("Ctrl-C: kubelocal disconnects and restores greeter")
        process.send_signal(signal.SIGINT)
        await asyncio.wait_for(process.wait(), 60)
    restored = await greeter_image(kubeconfig)
    print(f"greeter runs again: {restored}")
    await wait_restored(kubeconfig)
    final = await frontend_answer(kubeconfig)
    print(f"frontend says greeter answered: {describe(final['greeter'])}")
    ok = (
        ok and final["greeter"].get("greeting") == before["greeter"].get("greeting") and "left: 0" in restored
    )
    print("\nDemo " + ("succeeded." if ok else "FAILED."))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
