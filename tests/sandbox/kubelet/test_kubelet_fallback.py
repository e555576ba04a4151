"""Without network namespaces (forced here): the kubelet says so in a warning, gives pods
127.244.x.y loopback addresses, and still runs them with env, DNS files, probes and
open_pod_port, while nothing of the cluster network is made."""

from __future__ import annotations

import logging
import socket

import pytest
from conftest import condition, make_pod, python_container, wait_for

from kubelocal.sandbox.kubelet import addressing, network, node

pytestmark = [pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_loopback_fallback_runs_pods_and_warns(tmp_path, resolver, cluster_id, monkeypatch, caplog):
    monkeypatch.setattr(network, "namespaces_possible", lambda: "forced by the test")
    port = free_port()
    server = (
        "import http.server, os\n"
        "class H(http.server.BaseHTTPRequestHandler):\n"
        "    def do_GET(self):\n"
        "        self.send_response(200); self.end_headers()\n"
        "        self.wfile.write(os.environ['POD_IP'].encode())\n"
        f"http.server.HTTPServer(('0.0.0.0', {port}), H).serve_forever()\n"
    )
    container = python_container(
        server,
        env=[{"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}],
        readinessProbe={"tcpSocket": {"port": port}},
    )
    pod = make_pod("web", [container])
    kubelet = node.Kubelet(state_dir=tmp_path / "state", cluster_id=cluster_id, resolver=resolver)
    try:
        with caplog.at_level(logging.WARNING):
            await kubelet.start()
        assert "forced by the test" in caplog.text and "127.244" in caplog.text
        assert not kubelet.network.isolated
        await kubelet.sync_pod(pod)
        await wait_for(lambda: condition(kubelet.pod_status(pod), "Ready"), what="ready on loopback")
        ip = kubelet.pod_status(pod)["podIP"]
        assert addressing.is_pod_address(ip, network=addressing.FALLBACK_POD_CIDR)
        reader, writer = await kubelet.open_pod_port("default", "web", port)
        writer.write(b"GET / HTTP/1.0\r\n\r\n")
        assert (await reader.read()).endswith(ip.encode())
        writer.close()
        assert network.leftover_namespaces(cluster_id) == []
    finally:
        await kubelet.stop()
    assert list((tmp_path / "state").iterdir()) == []
