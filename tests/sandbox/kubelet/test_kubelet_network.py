"""The pod network, end to end with real namespaces: pod-to-pod TCP, pod-to-service by every DNS
name (round robin, reset without endpoints), in the kernel (nftables DNAT) and through the user-space
proxy (sticky services, the `userspace` mode, refused rules), pods reaching a
workstation-loopback endpoint (how they reach the API server), the workstation NOT reaching pod
IPs or ClusterIPs, open_pod_port to a pod's own localhost (IPv4, else IPv6), stop() leaving
nothing behind, and the clean-up of what a crashed sandbox left (processes in its namespaces)."""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import re
import shutil
import socket
import subprocess

import pytest
from conftest import (
    condition,
    make_endpoints,
    make_pod,
    make_service,
    needs_root,
    python_container,
    wait_for,
)

from kubelocal.sandbox.kubelet import addressing, errors, kernelproxy, network, node

pytestmark = [pytest.mark.slow, needs_root]

HTTP_SERVER = """
import http.server, socket, sys
class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("hello from " + socket.gethostname()).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer((sys.argv[1] if len(sys.argv) > 1 else "0.0.0.0", 8080), Hello).serve_forever()
"""

FETCH = """
import json, sys, urllib.request
results = {}
for url in sys.argv[1:]:
    try:
        results[url] = urllib.request.urlopen(url, timeout=3).read().decode()
    except Exception as error:
        results[url] = "error: " + type(error).__name__
print(json.dumps(results))
"""


def web_pod(name: str) -> dict:
    return make_pod(name, [python_container(HTTP_SERVER, readinessProbe={"httpGet": {"port": 8080}})])


async def start_ready(kubelet, pod):
    await kubelet.sync_pod(pod)
    await wait_for(
        lambda: condition(kubelet.pod_status(pod), "Ready"), what=f"pod {pod['metadata']['name']} ready"
    )
    return kubelet.pod_status(pod)["podIP"]


async def run_client(kubelet, name: str, code: str, args: list[str]) -> str:
    container = python_container(code, name="client")
    container["args"] = args
    pod = make_pod(name, [container], restartPolicy="Never")
    await kubelet.sync_pod(pod)
    await wait_for(lambda: kubelet.pod_status(pod)["phase"] in ("Succeeded", "Failed"), what="client exit")
    return kubelet.read_log("default", name, None).decode()


async def test_pods_reach_each_other_and_services_by_every_dns_name(kubelet):
    first, second = web_pod("web-a"), web_pod("web-b")
    for pod in (first, second):
        pod["metadata"]["labels"] = {"app": "web"}
    ip_a, ip_b = await start_ready(kubelet, first), await start_ready(kubelet, second)
    assert ip_a != ip_b and addressing.is_pod_address(ip_a) and addressing.is_pod_address(ip_b)
    service = make_service("web", "10.96.0.10", [{"port": 80, "targetPort": 8080}])
    await kubelet.set_services([service], [make_endpoints("web", [ip_a, ip_b], [{"port": 8080}])])
    urls = [
        f"http://{ip_a}:8080/",
        "http://web/",
        "http://web.default/",
        "http://web.default.svc/",
        "http://web.default.svc.cluster.local/",
        "http://10.96.0.10/",
    ]
    results = json.loads(await run_client(kubelet, "client", FETCH, urls))
    assert results[f"http://{ip_a}:8080/"] == "hello from web-a"
    for url in urls[1:]:
        assert results[url] in ("hello from web-a", "hello from web-b"), url
    # Round robin: five requests through the ClusterIP reach both backends.
    results = json.loads(
        await run_client(kubelet, "client2", FETCH, [f"http://10.96.0.10/?{i}" for i in range(5)])
    )
    assert set(results.values()) == {"hello from web-a", "hello from web-b"}


async def test_service_without_endpoints_refuses_and_dns_follows_set_services(kubelet):
    await kubelet.set_services([make_service("idle", "10.96.0.30", [{"port": 80}])], [])
    results = json.loads(await run_client(kubelet, "client", FETCH, ["http://idle/", "http://gone/"]))
    assert results["http://idle/"].startswith("error")
    assert results["http://gone/"] == "error: URLError"


async def test_pods_reach_workstation_loopback_endpoints_through_a_service(kubelet):
    async def answer(reader, writer):
        writer.write(b"HTTP/1.0 200 OK\r\n\r\nthe api server")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        kubernetes = make_service("kubernetes", "10.96.0.1", [{"name": "https", "port": 443}])
        kubernetes["spec"].pop("selector")
        await kubelet.set_services(
            [kubernetes], [make_endpoints("kubernetes", ["127.0.0.1"], [{"name": "https", "port": port}])]
        )
        results = json.loads(
            await run_client(kubelet, "client", FETCH, ["http://kubernetes.default.svc:443/"])
        )
        assert results["http://kubernetes.default.svc:443/"] == "the api server"
    finally:
        server.close()


async def test_the_workstation_cannot_reach_pod_ips_or_cluster_ips(kubelet):
    pod = web_pod("web")
    ip = await start_ready(kubelet, pod)
    await kubelet.set_services([make_service("web", "10.96.0.10", [{"port": 80, "targetPort": 8080}])],
                               [make_endpoints("web", [ip], [{"port": 8080}])])  # fmt: skip
    # The workstation namespace holds no sandbox address or interface...
    addresses = subprocess.run(["ip", "-o", "addr"], capture_output=True, text=True, check=True).stdout
    assert ip not in addresses and "10.96.0.10" not in addresses and addressing.BRIDGE not in addresses
    # ...so its only route to them is its default gateway, off this machine; a connection that
    # is not allowed to leave the machine (bound to lo) fails. Nothing is sent off the machine.
    for address, port in ((ip, 8080), ("10.96.0.10", 80)):
        route = subprocess.run(["ip", "route", "get", address], capture_output=True, text=True).stdout
        assert addressing.BRIDGE not in route and "vp" not in route
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"lo")
        sock.settimeout(0.3)
        try:
            with pytest.raises(OSError):
                sock.connect((address, port))
        finally:
            sock.close()
    # From the node namespace the same pod is reachable: the test above is not vacuous.
    reader, writer = await network.connect_in(kubelet.network.node_netns, ip, 8080, timeout=2)
    writer.write(b"GET / HTTP/1.0\r\n\r\n")
    assert b"hello from web" in await reader.read()
    writer.close()


async def test_open_pod_port_reaches_the_pods_own_localhost(kubelet):
    container = python_container(HTTP_SERVER, readinessProbe={"exec": {"command": ["true"]}})
    container["args"] = ["127.0.0.1"]
    pod = make_pod("private", [container])
    await start_ready(kubelet, pod)
    reader, writer = None, None
    for _ in range(100):  # the server may bind a moment after the exec probe passes
        try:
            reader, writer = await kubelet.open_pod_port("default", "private", 8080)
            break
        except errors.PortUnreachable:
            await asyncio.sleep(0.05)
    assert writer is not None
    writer.write(b"GET / HTTP/1.0\r\n\r\n")
    assert (await reader.read()).endswith(b"hello from private")
    writer.close()
    ipv6_only = python_container(
        "import socket, time\ns = socket.socket(socket.AF_INET6); s.bind(('::1', 7070)); s.listen()\n"
        "while True:\n    c, _ = s.accept(); c.sendall(b'six'); c.close()",
        name="six",
    )
    six = make_pod("six", [ipv6_only])
    await kubelet.sync_pod(six)
    await wait_for(lambda: kubelet.pod_status(six)["phase"] == "Running", what="ipv6 pod running")
    for _ in range(100):
        try:
            reader, writer = await kubelet.open_pod_port("default", "six", 7070)
            break
        except errors.PortUnreachable:
            await asyncio.sleep(0.05)
    assert await reader.read() == b"six"
    writer.close()
    with pytest.raises(errors.PortUnreachable, match="port 9"):
        await kubelet.open_pod_port("default", "private", 9)
    with pytest.raises(errors.PodNotFound):
        await kubelet.open_pod_port("default", "nobody", 8080)


async def test_stop_leaves_no_namespace_process_or_file(tmp_path, resolver, cluster_id):
    from kubelocal.sandbox.kubelet import node

    kubelet = node.Kubelet(state_dir=tmp_path / "state", cluster_id=cluster_id, resolver=resolver)
    try:
        await kubelet.start()
        pods = [web_pod("web-a"), web_pod("web-b")]
        for pod in pods:
            await start_ready(kubelet, pod)
        await kubelet.set_services([make_service("web", "10.96.0.10", [{"port": 80}])], [])
        pids = [p.pid for runtime_pod in kubelet._pods.values() for p in runtime_pod.processes.values()]
        assert len(pids) == 2
        assert len(network.leftover_namespaces(cluster_id)) == 3
        assert len(network.leftover_dns_dirs(cluster_id)) == 2
    finally:
        await kubelet.stop()
    assert network.leftover_namespaces(cluster_id) == []
    assert network.leftover_dns_dirs(cluster_id) == []
    for pid in pids:
        assert not os.path.exists(f"/proc/{pid}")
    assert list((tmp_path / "state").iterdir()) == []


async def test_remove_leftovers_kills_what_a_crashed_sandbox_left(cluster_id):
    name = addressing.pod_namespace(cluster_id, 2)
    await network.run_ip(["netns", "add", name])
    orphan = None
    try:
        orphan = subprocess.Popen(["ip", "netns", "exec", name, "sleep", "60"])

        def inside() -> bytes:
            return subprocess.run(["ip", "netns", "pids", name], capture_output=True).stdout.strip()

        await wait_for(inside, what="orphan inside")
        assert await network.remove_leftovers(cluster_id) == [name]
        assert orphan.wait(timeout=5) == -9
        assert network.leftover_namespaces(cluster_id) == []
    finally:
        if orphan is not None and orphan.poll() is None:
            orphan.kill()
            orphan.wait()
        await network.remove_leftovers(cluster_id)


# -- the in-kernel service path (kernelproxy) -------------------------------------------------------


def _kernel_rules(kubelet) -> str:
    """The node namespace's kubelocal nftables table as `nft` lists it ('' when there is none)."""
    listed = subprocess.run(
        ["ip", "netns", "exec", kubelet.network.node_netns, "nft", "list", "table", "ip", kernelproxy.TABLE],
        capture_output=True,
        text=True,
    )
    return listed.stdout if listed.returncode == 0 else ""


def _connections_counted(rules: str, cluster_ip: str) -> int:
    """Connections the DNAT rule of `cluster_ip` rewrote (its counter counts first packets only)."""
    match = re.search(rf"ip daddr {re.escape(cluster_ip)} .*counter packets (\d+)", rules)
    assert match, f"no kernel rule for {cluster_ip} in:\n{rules}"
    return int(match.group(1))


def _put_nft_first_on_path(tmp_path, monkeypatch, body: str) -> None:
    """An `nft` of the test's own (a shell script `body`), found before the real one."""
    fake = tmp_path / "bin" / "nft"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\n" + body)
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:{os.environ['PATH']}")


async def _two_web_pods(kubelet) -> tuple[str, str]:
    first, second = web_pod("web-a"), web_pod("web-b")
    for pod in (first, second):
        pod["metadata"]["labels"] = {"app": "web"}
    return await start_ready(kubelet, first), await start_ready(kubelet, second)


async def test_the_kernel_rewrites_cluster_ip_connections_and_follows_the_endpoints(kubelet):
    forwarding = pathlib.Path("/proc/sys/net/ipv4/ip_forward")
    workstation_forwarding = forwarding.read_text()
    assert shutil.which("nft"), (
        "install nftables (apt install nftables): the sandbox's in-kernel service path"
    )
    ip_a, ip_b = await _two_web_pods(kubelet)
    service = make_service("web", "10.96.0.10", [{"port": 80, "targetPort": 8080}])
    await kubelet.set_services([service], [make_endpoints("web", [ip_a, ip_b], [{"port": 8080}])])
    assert kubelet.service_path.startswith("in the kernel")
    results = json.loads(await run_client(kubelet, "c1", FETCH, [f"http://web/?{i}" for i in range(4)]))
    assert sorted(results.values()) == ["hello from web-a"] * 2 + ["hello from web-b"] * 2  # round robin
    assert _connections_counted(_kernel_rules(kubelet), "10.96.0.10") == 4  # none went through user space
    # Forwarding is on in the node namespace only: the workstation's own setting is never touched.
    in_node = ["ip", "netns", "exec", kubelet.network.node_netns, "cat", str(forwarding)]
    assert subprocess.run(in_node, capture_output=True, text=True, check=True).stdout.strip() == "1"
    assert forwarding.read_text() == workstation_forwarding

    await kubelet.set_services([service], [make_endpoints("web", [ip_b], [{"port": 8080}])])
    results = json.loads(await run_client(kubelet, "c2", FETCH, [f"http://web/?{i}" for i in range(3)]))
    assert set(results.values()) == {"hello from web-b"}
    assert _connections_counted(_kernel_rules(kubelet), "10.96.0.10") == 3  # a new rule, counting anew

    # No ready backend: the rule goes and the user-space proxy refuses, as kube-proxy's REJECT does.
    await kubelet.set_services([service], [])
    assert "10.96.0.10" not in _kernel_rules(kubelet)
    results = json.loads(await run_client(kubelet, "c3", FETCH, ["http://web/"]))
    assert results["http://web/"].startswith("error")


async def test_sticky_services_stay_in_user_space_and_keep_each_client_on_one_backend(kubelet):
    ip_a, ip_b = await _two_web_pods(kubelet)
    sticky = make_service("web", "10.96.0.12", [{"port": 80, "targetPort": 8080}], sessionAffinity="ClientIP")
    await kubelet.set_services([sticky], [make_endpoints("web", [ip_a, ip_b], [{"port": 8080}])])
    assert "10.96.0.12" not in _kernel_rules(kubelet)
    results = json.loads(await run_client(kubelet, "c1", FETCH, [f"http://web/?{i}" for i in range(4)]))
    assert len(set(results.values())) == 1 and not next(iter(results.values())).startswith("error")


async def test_the_user_space_mode_proxies_every_service_without_kernel_rules(tmp_path, resolver, cluster_id):
    kubelet = node.Kubelet(
        state_dir=tmp_path / "state", cluster_id=cluster_id, resolver=resolver, service_proxy="userspace"
    )
    try:
        await kubelet.start()
        ip_a, ip_b = await _two_web_pods(kubelet)
        service = make_service("web", "10.96.0.10", [{"port": 80, "targetPort": 8080}])
        await kubelet.set_services([service], [make_endpoints("web", [ip_a, ip_b], [{"port": 8080}])])
        assert kubelet.service_path == f"through the user-space proxy ({kernelproxy.MODE_VARIABLE}=userspace)"
        results = json.loads(await run_client(kubelet, "c1", FETCH, [f"http://web/?{i}" for i in range(4)]))
        assert set(results.values()) == {"hello from web-a", "hello from web-b"}
        assert _kernel_rules(kubelet) == ""
    finally:
        await kubelet.stop()


async def test_refused_rules_remove_the_kernel_path_and_the_user_space_proxy_takes_over(
    kubelet, tmp_path, monkeypatch, caplog
):
    ip_a, ip_b = await _two_web_pods(kubelet)
    service = make_service("web", "10.96.0.10", [{"port": 80, "targetPort": 8080}])
    await kubelet.set_services([service], [make_endpoints("web", [ip_a], [{"port": 8080}])])
    assert "10.96.0.10" in _kernel_rules(kubelet)
    # An `nft` that refuses every change of the rules (but still deletes the table when asked):
    # the old rule, which sends everything to web-a, must not outlive the refusal.
    real_nft = shutil.which("nft")
    _put_nft_first_on_path(
        tmp_path,
        monkeypatch,
        "script=$(cat)\n"
        "case \"$script\" in *flush*) echo 'Error: refused by the test' >&2; exit 1;; esac\n"
        f'printf "%s\\n" "$script" | {real_nft} "$@"\n',
    )
    await kubelet.set_services([service], [make_endpoints("web", [ip_b], [{"port": 8080}])])
    assert "refused by the test" in caplog.text and "user-space proxy" in caplog.text
    assert kubelet.service_path.startswith("through the user-space proxy (nftables refused the rules")
    assert _kernel_rules(kubelet) == ""
    results = json.loads(await run_client(kubelet, "c1", FETCH, [f"http://web/?{i}" for i in range(3)]))
    assert set(results.values()) == {"hello from web-b"}


async def test_a_kernel_without_nftables_is_found_at_start(
    tmp_path, resolver, cluster_id, monkeypatch, caplog
):
    _put_nft_first_on_path(
        tmp_path, monkeypatch, "echo 'Error: Could not process rule: Operation not supported' >&2\nexit 1\n"
    )
    kubelet = node.Kubelet(state_dir=tmp_path / "state", cluster_id=cluster_id, resolver=resolver)
    try:
        await kubelet.start()
        assert kubelet.service_path.startswith("through the user-space proxy (nftables refused the rules")
        assert "Operation not supported" in caplog.text
    finally:
        await kubelet.stop()


async def test_a_pod_reaches_itself_through_its_own_service_in_the_kernel(kubelet):
    # Hairpin: the DNAT sends the connection back out of the bridge port it came in on (where
    # br_netfilter is loaded: on the bridge itself).
    code = HTTP_SERVER.replace(
        "http.server.HTTPServer(",
        "import threading, urllib.request, time\n"
        "def ask():\n"
        "    time.sleep(0.5)\n"
        "    while True:\n"
        "        try:\n"
        "            answer = urllib.request.urlopen('http://self/', timeout=3).read().decode()\n"
        "            print('SELF ' + answer, flush=True)\n"
        "        except Exception as error:\n"
        "            print('SELF error ' + type(error).__name__, flush=True)\n"
        "        time.sleep(0.2)\n"
        "threading.Thread(target=ask, daemon=True).start()\n"
        "http.server.HTTPServer(",
    )
    pod = make_pod("self", [python_container(code, readinessProbe={"httpGet": {"port": 8080}})])
    ip = await start_ready(kubelet, pod)
    await kubelet.set_services(
        [make_service("self", "10.96.0.20", [{"port": 80, "targetPort": 8080}])],
        [make_endpoints("self", [ip], [{"port": 8080}])],
    )
    await wait_for(
        lambda: b"SELF hello from self" in kubelet.read_log("default", "self", None),
        what="an answer from itself",
    )
    assert _connections_counted(_kernel_rules(kubelet), "10.96.0.20") >= 1  # the kernel path, not user space
