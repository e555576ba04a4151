"""Containers end to end: env from every source and volumes as the process sees them (mount
paths that do not exist on the workstation, read-only projections, a shared emptyDir, hostname),
the workstation's files untouched afterwards, init containers, restartPolicy Never / OnFailure /
Always with back-off and previous logs, config errors until the ConfigMap appears, an image of a
`.invalid` registry failing to pull (ErrImagePull, then ImagePullBackOff) without running anything,
probes making a pod ready and restarting it, exec inside a container, sidecar init containers, stand-ins
answering on declared and targeted ports (stand-in init and Job containers completing at once), logs
(tail, previous, follow), termination grace periods with postStart/preStop hooks, a zipapp from a
ConfigMap run on a stock Python image (how kubelocal's agent runs), ConfigMap volumes following
changes, a container's (and its hooks') writes staying inside the container, files on nested
mounts staying visible, and pods killed while starting leaving no process."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import pathlib
import subprocess
import zipapp

import pytest
from conftest import condition, make_pod, make_service, needs_root, python_container, wait_for

from kubelocal.sandbox.kubelet import errors, network, node

pytestmark = [pytest.mark.slow, needs_root]

SHOW = """
import json, os, pathlib, socket
def read(path):
    p = pathlib.Path(path)
    return {f.name: f.read_text() for f in sorted(p.iterdir()) if f.is_file()} if p.is_dir() else None
def writable(path):
    try:
        open(os.path.join(path, "probe-write"), "w").close()
        return True
    except OSError:
        return False
print(json.dumps({
    "env": dict(os.environ),
    "config": read("/etc/app-config"),
    "sa": read("/var/run/secrets/kubernetes.io/serviceaccount"),
    "agent": read("/agent"),
    "shared": read("/shared"),
    "hostname": socket.gethostname(),
    "config_writable": writable("/etc/app-config"),
    "cwd": os.getcwd(),
    "hosts": open("/etc/hosts").read(),
}))
"""

SERVICE_ACCOUNT_VOLUME = {
    "name": "kube-api-access-abcde",
    "projected": {
        "sources": [
            {"serviceAccountToken": {"path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {
                "downwardAPI": {
                    "items": [{"path": "namespace", "fieldRef": {"fieldPath": "metadata.namespace"}}]
                }
            },
        ]
    },
}


async def finished(kubelet, pod, timeout=8.0) -> dict:
    await wait_for(
        lambda: kubelet.pod_status(pod)["phase"] in ("Succeeded", "Failed"), timeout=timeout, what="pod end"
    )
    return kubelet.pod_status(pod)


async def test_env_and_volumes_as_the_process_sees_them(kubelet, resolver):
    resolver.add_config_map("app", {"settings.ini": "[app]\ncolor=green\n", "MODE": "demo"})
    resolver.add_config_map("kube-root-ca.crt", {"ca.crt": "-----BEGIN CERTIFICATE-----"})
    resolver.add_config_map("agent-code", {"agent.py": "print('agent')"})
    resolver.add_secret("db", {"password": "hunter2"})
    resolver.services = [make_service("db", "10.96.0.5", [{"port": 5432}])]
    writer = python_container("open('/shared/note','w').write('from writer')", name="writer")
    reader = python_container(
        SHOW,
        name="show",
        env=[
            {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
            {"name": "MY_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "GREETING", "value": "mode=$(MODE)"},
        ],
        envFrom=[{"configMapRef": {"name": "app"}}],
        volumeMounts=[
            {"name": "config", "mountPath": "/etc/app-config"},
            {
                "name": SERVICE_ACCOUNT_VOLUME["name"],
                "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                "readOnly": True,
            },
            {"name": "agent", "mountPath": "/agent"},
            {"name": "scratch", "mountPath": "/shared"},
            {"name": "host", "mountPath": "/host-data"},
        ],
    )
    absent_host_path = f"/tmp/kubelocal-test-absent-{os.getpid()}"
    pod = make_pod(
        "show",
        [reader],
        initContainers=[{**writer, "volumeMounts": [{"name": "scratch", "mountPath": "/shared"}]}],
        restartPolicy="Never",
        volumes=[
            {
                "name": "config",
                "configMap": {"name": "app", "items": [{"key": "settings.ini", "path": "settings.ini"}]},
            },
            SERVICE_ACCOUNT_VOLUME,
            {"name": "agent", "configMap": {"name": "agent-code"}},
            {"name": "scratch", "emptyDir": {}},
            {"name": "host", "hostPath": {"path": absent_host_path, "type": "DirectoryOrCreate"}},
        ],
    )
    watched = ("/etc/app-config", "/var/run/secrets", "/agent", "/shared", "/host-data", absent_host_path)
    before = {path: os.path.exists(path) for path in watched}
    await kubelet.sync_pod(pod)
    status = await finished(kubelet, pod)
    assert status["phase"] == "Succeeded", kubelet.read_log("default", "show", "show")
    assert status["initContainerStatuses"][0]["state"]["terminated"]["reason"] == "Completed"
    seen = json.loads(kubelet.read_log("default", "show", "show"))
    env = seen["env"]
    assert env["PASSWORD"] == "hunter2"
    assert env["MY_IP"] == status["podIP"]
    assert env["GREETING"] == "mode=demo"
    assert env["DB_SERVICE_HOST"] == "10.96.0.5" and env["DB_PORT_5432_TCP_PORT"] == "5432"
    assert env["HOSTNAME"] == "show"
    assert seen["config"] == {"settings.ini": "[app]\ncolor=green\n"}
    assert seen["sa"] == {
        "token": "token-for-default-default",
        "ca.crt": "-----BEGIN CERTIFICATE-----",
        "namespace": "default",
    }
    assert seen["agent"] == {"agent.py": "print('agent')"}
    assert seen["shared"] == {"note": "from writer"}
    assert seen["hostname"] == "show"
    assert seen["config_writable"] is False
    assert "show" in seen["hosts"]
    assert pathlib.Path(seen["cwd"]).is_relative_to(kubelet.state_dir)
    after = {path: os.path.exists(path) for path in before}
    assert after == before, "the workstation's filesystem must not change"


async def test_missing_config_map_waits_then_starts_when_it_appears(kubelet, resolver):
    container = python_container("import os; print(os.environ['COLOR'])")
    container["env"] = [{"name": "COLOR", "valueFrom": {"configMapKeyRef": {"name": "late", "key": "color"}}}]
    pod = make_pod("late", [container], restartPolicy="Never")
    await kubelet.sync_pod(pod)
    waiting = await wait_for(
        lambda: (
            kubelet.pod_status(pod)["containerStatuses"][0]["state"].get("waiting", {}).get("reason")
            == "CreateContainerConfigError"
        ),
        what="config error",
    )
    assert waiting
    assert (
        'configmap "late" not found'
        in kubelet.pod_status(pod)["containerStatuses"][0]["state"]["waiting"]["message"]
    )
    failed = [e for e in resolver.events if e["reason"] == "Failed"]
    assert len(failed) == 1 and failed[0]["type"] == "Warning"  # recorded once, not once per retry
    resolver.add_config_map("late", {"color": "teal"})
    assert (await finished(kubelet, pod))["phase"] == "Succeeded"
    assert kubelet.read_log("default", "late", None) == b"teal\n"


async def test_an_image_that_cannot_be_pulled_waits_in_image_pull_back_off(kubelet, resolver):
    container = python_container("print('must not run')")
    container["image"] = "registry.invalid/kubelocal/agent:missing"
    pod = make_pod("unpullable", [container], restartPolicy="Always")
    await kubelet.sync_pod(pod)

    def waiting_reason():
        return kubelet.pod_status(pod)["containerStatuses"][0]["state"].get("waiting", {}).get("reason")

    await wait_for(lambda: waiting_reason() == "ErrImagePull", what="ErrImagePull")
    message = kubelet.pod_status(pod)["containerStatuses"][0]["state"]["waiting"]["message"]
    assert "lookup registry.invalid: no such host" in message
    await wait_for(lambda: waiting_reason() == "ImagePullBackOff", what="ImagePullBackOff")
    assert kubelet.pod_status(pod)["phase"] == "Pending"
    with pytest.raises(errors.ContainerNotFound, match="waiting to start"):  # it never ran
        kubelet.read_log("default", "unpullable", None)
    failed = [e for e in resolver.events if e["reason"] == "Failed"]
    assert len(failed) == 1 and "Failed to pull image" in failed[0]["message"]


async def test_restart_policies(kubelet):
    never = make_pod(
        "never",
        [python_container("open('/dev/termination-log', 'w').write('out of cheese'); raise SystemExit(3)")],
        restartPolicy="Never",
    )
    flaky = (
        "import os; p='/shared/ran'; first=not os.path.exists(p); open(p,'w').close(); print('run')\n"
        "raise SystemExit(1 if first else 0)"
    )
    on_failure = make_pod(
        "onfailure",
        [python_container(flaky, volumeMounts=[{"name": "s", "mountPath": "/shared"}])],
        restartPolicy="OnFailure",
        volumes=[{"name": "s", "emptyDir": {}}],
    )
    always = make_pod("always", [python_container("print('tick')")])
    for pod in (never, on_failure, always):
        await kubelet.sync_pod(pod)
    status = await finished(kubelet, never)
    assert status["phase"] == "Failed"
    terminated = status["containerStatuses"][0]["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"], terminated["message"]) == (
        3,
        "Error",
        "out of cheese",
    )
    assert not os.path.exists("/dev/termination-log")
    assert status["containerStatuses"][0]["restartCount"] == 0
    status = await finished(kubelet, on_failure)
    assert status["phase"] == "Succeeded"
    assert status["containerStatuses"][0]["restartCount"] == 1
    assert status["containerStatuses"][0]["lastState"]["terminated"]["exitCode"] == 1
    await wait_for(
        lambda: kubelet.pod_status(always)["containerStatuses"][0]["restartCount"] >= 2, what="restarts"
    )
    assert any(e["reason"] == "BackOff" and e["pod"] == "always" for e in kubelet.resolver.events)
    status = kubelet.pod_status(always)
    assert status["phase"] == "Running"
    assert kubelet.read_log("default", "always", None, previous=True) == b"tick\n"


async def test_probes_make_ready_and_liveness_restarts(kubelet):
    # Ready only once the container itself created /ready (exec runs inside the container's root).
    ready_later = python_container(
        "import time; time.sleep(0.4); open('/ready','w').close(); time.sleep(60)",
        readinessProbe={"exec": {"command": ["test", "-f", "/ready"]}, "periodSeconds": 1},
    )
    pod = make_pod("slow", [ready_later])
    await kubelet.sync_pod(pod)
    await wait_for(lambda: kubelet.pod_status(pod)["phase"] == "Running", what="running")
    assert not condition(kubelet.pod_status(pod), "Ready")
    await wait_for(lambda: condition(kubelet.pod_status(pod), "Ready"), what="ready")
    assert not os.path.exists("/ready")
    shell = await kubelet.exec_in_container("default", "slow", None, ["sh", "-c", "ls /ready && hostname"])
    out, _ = await shell.communicate()
    assert (shell.returncode, out) == (0, b"/ready\nslow\n")
    dead = python_container(
        "print('started', flush=True); import time; time.sleep(60)",
        livenessProbe={"tcpSocket": {"port": 9}, "periodSeconds": 0.2, "failureThreshold": 2},
    )
    sick = make_pod("sick", [dead], terminationGracePeriodSeconds=1)
    await kubelet.sync_pod(sick)
    await wait_for(
        lambda: kubelet.pod_status(sick)["containerStatuses"][0]["restartCount"] >= 1, what="liveness restart"
    )
    last = kubelet.pod_status(sick)["containerStatuses"][0]["lastState"]["terminated"]
    assert last["exitCode"] == 143  # SIGTERM
    assert any(e["reason"] == "Unhealthy" and e["pod"] == "sick" for e in kubelet.resolver.events)


async def test_stand_in_answers_on_declared_and_targeted_ports(kubelet, resolver):
    redis = {"name": "redis", "image": "redis:7", "ports": [{"name": "redis", "containerPort": 6379}],
             "readinessProbe": {"tcpSocket": {"port": "redis"}}}  # fmt: skip
    # A busybox "wait for the database" init container completes at once instead of blocking the pod.
    wait = {
        "name": "wait-for-db",
        "image": "busybox:1.36",
        "command": ["sh", "-c", "until nslookup db; do sleep 2; done"],
    }
    pod = make_pod("cache", [redis], initContainers=[wait])
    resolver.services = [make_service("cache", "10.96.0.40", [{"port": 9121, "targetPort": 9121}])]
    await kubelet.sync_pod(pod)
    await wait_for(lambda: condition(kubelet.pod_status(pod), "Ready"), what="stand-in ready")
    ip = kubelet.pod_status(pod)["podIP"]
    for port in (6379, 9121):
        reader, writer = await network.connect_in(kubelet.network.node_netns, ip, port, timeout=2)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        response = await reader.read()
        writer.close()
        assert response.startswith(b"HTTP/1.1 200 OK")
        assert f"image redis:7: pod default/cache, container redis, port {port}".encode() in response
    reader, writer = await network.connect_in(kubelet.network.node_netns, ip, 6379, timeout=2)
    writer.write(b"PING\r\n")
    assert (await reader.readline()).startswith(b"kubelocal stand-in for image redis:7")
    writer.close()
    status = kubelet.pod_status(pod)
    assert status["initContainerStatuses"][0]["state"]["terminated"]["reason"] == "Completed"
    assert status["containerStatuses"][0]["imageID"] == "kubelocal://stand-in/redis:7"
    assert "stand-in" in status["message"]
    assert kubelet.stand_in_annotations("default", "cache") == {node.STAND_IN_ANNOTATION: "wait-for-db,redis"}
    assert any(e["reason"] == "StandIn" for e in resolver.events)
    # A service that starts targeting the pod later opens its port too.
    resolver.services.append(make_service("cache", "10.96.0.41", [{"port": 80, "targetPort": 7000}]))
    await kubelet.set_services(resolver.services, [])

    async def answers_on_7000():
        try:
            _, writer = await network.connect_in(kubelet.network.node_netns, ip, 7000, timeout=1)
        except OSError:
            return False
        writer.close()
        return True

    for _ in range(100):
        if await answers_on_7000():
            break
        await asyncio.sleep(0.05)
    assert await answers_on_7000()


async def test_logs_tail_and_follow(kubelet):
    counting = "import time\nfor i in range(5):\n    print(i, flush=True); time.sleep(0.05)"
    pod = make_pod("talk", [python_container(counting)],
                   restartPolicy="Never")  # fmt: skip
    await kubelet.sync_pod(pod)
    followed = b""
    await wait_for(lambda: "main" in kubelet._pods[("default", "talk")].log_runs, what="first run")
    async for chunk in kubelet.follow_log("default", "talk", "main"):
        followed += chunk
    assert followed == b"0\n1\n2\n3\n4\n"
    await finished(kubelet, pod)
    assert kubelet.read_log("default", "talk", None, tail_lines=2) == b"3\n4\n"
    with pytest.raises(Exception, match="previous terminated container"):
        kubelet.read_log("default", "talk", None, previous=True)


async def test_kill_pod_honours_the_grace_period(kubelet, tmp_path):
    graceful = python_container(
        "import signal, sys, time\n"
        "def bye(*_):\n    print('bye', flush=True); sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, bye)\nprint('up', flush=True)\ntime.sleep(60)",
        readinessProbe={"exec": {"command": ["true"]}},
    )
    stubborn = python_container(
        "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('up', flush=True)\ntime.sleep(60)",
        name="stubborn",
    )
    graceful["lifecycle"] = {
        "postStart": {"exec": {"command": ["sh", "-c", "echo started > /tmp/hooks"]}},
        "preStop": {
            "exec": {"command": ["sh", "-c", "echo stopping >> /tmp/hooks; cp /tmp/hooks /shared/hooks"]}
        },
    }
    graceful["volumeMounts"] = [{"name": "shared", "mountPath": "/shared"}]
    # A hostPath that exists is the workstation's own directory: the hooks' trace outlives the pod.
    pod = make_pod(
        "both", [graceful, stubborn], volumes=[{"name": "shared", "hostPath": {"path": str(tmp_path)}}]
    )
    await kubelet.sync_pod(pod)
    runtime_pod = kubelet._pods[("default", "both")]
    logs = [runtime_pod.log_path("main", 0), runtime_pod.log_path("stubborn", 0)]
    await wait_for(lambda: all(p.exists() and b"up" in p.read_bytes() for p in logs), what="both up")
    # As on a real kubelet, a container counts as running only once its postStart hook has finished;
    # killing before that would race the hook's trace.
    await wait_for(
        lambda: all("running" in c["state"] for c in kubelet.pod_status(pod)["containerStatuses"]),
        what="both running",
    )
    log_path = runtime_pod.log_path("main", 0)
    processes = dict(runtime_pod.processes)
    began = asyncio.get_running_loop().time()
    await kubelet.kill_pod(pod, grace_period_seconds=1)
    elapsed = asyncio.get_running_loop().time() - began
    assert (tmp_path / "hooks").read_text() == "started\nstopping\n"
    assert processes["main"].returncode == 0
    assert processes["stubborn"].returncode == -9
    assert 0.9 < elapsed < 5
    assert not log_path.exists()
    final = kubelet.pod_status(pod)  # what a kubelet reports last for a deleted pod
    assert final["phase"] == "Failed"
    assert {c["name"]: c["state"]["terminated"]["exitCode"] for c in final["containerStatuses"]} == {
        "main": 0,
        "stubborn": 137,
    }
    assert not any(c["ready"] for c in final["containerStatuses"])
    assert final["podIP"]
    assert kubelet.pod_status(make_pod("both", []))["phase"] == "Pending"  # another pod of that name


async def test_a_zipapp_from_a_config_map_runs_on_a_stock_python_image(kubelet, resolver, tmp_path):
    # kubelocal's agent reaches clusters this way: python:3.12-slim running /agent/agent.pyz.
    source = tmp_path / "app"
    source.mkdir()
    (source / "__main__.py").write_text("import sys; print('agent', sys.argv[1:])")
    archive = tmp_path / "agent.pyz"
    zipapp.create_archive(source, archive)
    resolver.config_maps[("default", "agent")] = {
        "metadata": {"name": "agent", "namespace": "default"},
        "binaryData": {"agent.pyz": base64.b64encode(archive.read_bytes()).decode()},
    }
    container = {
        "name": "agent",
        "image": "python:3.12-slim",
        "command": ["python", "/agent/agent.pyz"],
        "args": ["--serve"],
        "volumeMounts": [{"name": "code", "mountPath": "/agent"}],
    }
    pod = make_pod(
        "agent",
        [container],
        restartPolicy="Never",
        volumes=[{"name": "code", "configMap": {"name": "agent"}}],
    )
    await kubelet.sync_pod(pod)
    assert (await finished(kubelet, pod))["phase"] == "Succeeded", kubelet.read_log("default", "agent", None)
    assert kubelet.read_log("default", "agent", None) == b"agent ['--serve']\n"


CONNECT_9901 = "import socket; socket.create_connection(('127.0.0.1', 9901))"


async def test_sidecar_init_containers_keep_running_beside_the_containers(kubelet):
    sidecar = python_container(
        "import http.server\n"
        "class H(http.server.BaseHTTPRequestHandler):\n"
        "    def do_GET(self):\n"
        "        self.send_response(200); self.end_headers(); self.wfile.write(b'sidecar')\n"
        "http.server.HTTPServer(('127.0.0.1', 9901), H).serve_forever()\n",
        name="proxy",
        restartPolicy="Always",
        startupProbe={"exec": {"command": ["python", "-c", CONNECT_9901]}, "periodSeconds": 0.1},
    )
    main = python_container(
        "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:9901').read())"
    )
    pod = make_pod("with-sidecar", [main], initContainers=[sidecar], restartPolicy="Never")
    await kubelet.sync_pod(pod)
    await wait_for(
        lambda: kubelet.pod_status(pod)["containerStatuses"][0]["state"].get("terminated"), what="main done"
    )
    status = kubelet.pod_status(pod)
    assert status["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 0
    assert kubelet.read_log("default", "with-sidecar", "main") == b"b'sidecar'\n"
    assert status["initContainerStatuses"][0]["started"] is True
    # Once the containers have ended for good, the sidecar is stopped and the pod completes.
    await wait_for(
        lambda: kubelet.pod_status(pod)["initContainerStatuses"][0]["state"].get("terminated"),
        what="sidecar stop",
    )
    assert kubelet.pod_status(pod)["phase"] == "Succeeded"
    assert kubelet.pod_status(pod)["initContainerStatuses"][0]["restartCount"] == 0


async def test_config_map_volumes_follow_changes_while_the_pod_runs(kubelet, resolver):
    resolver.add_config_map("live", {"color": "red"})
    watcher = python_container(
        "import time\nseen = None\nwhile True:\n"
        "    now = open('/config/color').read()\n"
        "    if now != seen:\n        print(now, flush=True); seen = now\n"
        "    time.sleep(0.05)",
        volumeMounts=[{"name": "config", "mountPath": "/config"}],
    )
    pod = make_pod("watcher", [watcher], volumes=[{"name": "config", "configMap": {"name": "live"}}])
    await kubelet.sync_pod(pod)

    def log() -> bytes:
        try:
            return kubelet.read_log("default", "watcher", None)
        except errors.ContainerNotFound:  # not started yet
            return b""

    await wait_for(lambda: log() == b"red\n", what="first content")
    resolver.add_config_map("live", {"color": "blue"})
    await wait_for(lambda: log() == b"red\nblue\n", what="updated content")


async def test_container_writes_and_hooks_never_reach_the_workstations_files(kubelet):
    marker = f"kubelocal-test-{os.getpid()}-{id(kubelet)}"
    code = (
        "import os, time\n"
        f"for path in ('/tmp/{marker}', '/usr/{marker}', '/etc/{marker}'):\n"
        "    open(path, 'w').write('written')\n"
        f"while not os.path.exists('/{marker}'):\n"
        "    time.sleep(0.02)\n"
        f"print(open('/{marker}').read().strip(), open('/usr/{marker}').read())"
    )
    container = python_container(
        code, lifecycle={"postStart": {"exec": {"command": ["sh", "-c", f"echo hooked > /{marker}"]}}}
    )
    pod = make_pod("writer", [container], restartPolicy="Never")
    await kubelet.sync_pod(pod)
    assert (await finished(kubelet, pod))["phase"] == "Succeeded", kubelet.read_log("default", "writer", None)
    assert kubelet.read_log("default", "writer", None) == b"hooked written\n"
    for path in (f"/tmp/{marker}", f"/usr/{marker}", f"/etc/{marker}", f"/{marker}"):
        assert not os.path.exists(path), path


def processes_with(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    if marker.encode() in cmdline.read():
                        found.append(int(entry))
            except OSError:
                pass
    return found


@pytest.mark.parametrize("delay", [0.0, 0.01, 0.03, 0.08])
async def test_a_pod_killed_while_starting_leaves_no_process(kubelet, delay):
    marker = f"kubelocal-starting-{os.getpid()}-{delay}"
    pod = make_pod("brief", [python_container(f"import time; time.sleep(60)  # {marker}")])
    await kubelet.sync_pod(pod)
    await asyncio.sleep(delay)
    await kubelet.kill_pod(pod, grace_period_seconds=0)
    await asyncio.sleep(0.1)
    assert processes_with(marker) == []


async def test_files_on_nested_mounts_of_the_workstation_stay_visible(kubelet, tmp_path):
    # A repository or virtualenv on a filesystem mounted below / (here a tmpfs under /tmp) must
    # still be there for the container, although /tmp is an overlay in the container.
    nested = tmp_path / "nested-mount"
    nested.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "kubelocal-test", str(nested)], check=True)
    try:
        (nested / "app.py").write_text("print('from the nested mount')")
        pod = make_pod(
            "nested",
            [python_container("", command=["python", str(nested / "app.py")])],
            restartPolicy="Never",
        )
        await kubelet.sync_pod(pod)
        assert (await finished(kubelet, pod))["phase"] == "Succeeded", kubelet.read_log(
            "default", "nested", None
        )
        assert kubelet.read_log("default", "nested", None) == b"from the nested mount\n"
    finally:
        subprocess.run(["umount", str(nested)], check=True)


async def test_a_jobs_container_without_a_program_completes_at_once(kubelet):
    perl = {"name": "pi", "image": "perl:5.34", "command": ["perl", "-e", "print 1"]}
    pod = make_pod("pi-x1", [perl], restartPolicy="Never")
    pod["metadata"]["ownerReferences"] = [
        {"apiVersion": "batch/v1", "kind": "Job", "name": "pi", "uid": "j1"}
    ]
    await kubelet.sync_pod(pod)
    status = await finished(kubelet, pod)
    assert status["phase"] == "Succeeded"
    assert status["containerStatuses"][0]["imageID"] == "kubelocal://stand-in/perl:5.34"
