"""Containers end to end: env from every source and volumes as the process sees them (mount
paths that do not exist on the workstation, read-only projections, a shared emptyDir, hostname),
the workstation's files untouched afterwards, init containers, restartPolicy Never / OnFailure /
Always with back-off and previous logs, config errors until the ConfigMap appears, probes making
a pod ready and restarting it, exec inside a container, stand-ins answering on declared and
targeted ports, logs (tail, previous, follow), termination grace periods, and a zipapp from a
ConfigMap run on a stock Python image (how kubelocal's agent runs)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import pathlib
import zipapp

import pytest
from conftest import condition, make_pod, make_service, needs_root, python_container, wait_for

from kubelocal.sandbox.kubelet import network, node

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


async def test_restart_policies(kubelet):
    never = make_pod("never", [python_container("raise SystemExit(3)")], restartPolicy="Never")
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
    assert (terminated["exitCode"], terminated["reason"]) == (3, "Error")
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
    pod = make_pod("cache", [redis])
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
    assert status["containerStatuses"][0]["imageID"] == "kubelocal://stand-in/redis:7"
    assert "stand-in" in status["message"]
    assert kubelet.stand_in_annotations("default", "cache") == {node.STAND_IN_ANNOTATION: "redis"}
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


async def test_kill_pod_honours_the_grace_period(kubelet):
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
    pod = make_pod("both", [graceful, stubborn])
    await kubelet.sync_pod(pod)
    runtime_pod = kubelet._pods[("default", "both")]
    logs = [runtime_pod.log_path("main", 0), runtime_pod.log_path("stubborn", 0)]
    await wait_for(lambda: all(p.exists() and b"up" in p.read_bytes() for p in logs), what="both up")
    log_path = runtime_pod.log_path("main", 0)
    processes = dict(runtime_pod.processes)
    began = asyncio.get_running_loop().time()
    await kubelet.kill_pod(pod, grace_period_seconds=1)
    elapsed = asyncio.get_running_loop().time() - began
    assert processes["main"].returncode == 0
    assert processes["stubborn"].returncode == -9
    assert 0.9 < elapsed < 5
    assert not log_path.exists()
    assert kubelet.pod_status(pod)["phase"] == "Pending"


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
