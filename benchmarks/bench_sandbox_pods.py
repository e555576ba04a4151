"""Sandbox kubelet: pod start-to-ready time (target: under 500 ms).

Starts `PODS` python:3.12 pods one after the other (an HTTP server with an httpGet readiness
probe, the common case) on a fresh kubelet, and measures from `sync_pod` to the Ready condition.
Needs root (network namespaces); reports `skipped` otherwise.
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import statistics
import tempfile
import time
import uuid

from kubelocal.sandbox.kubelet import node

PODS = 8
SERVER = (
    "import http.server\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        self.send_response(200); self.end_headers()\n"
    "http.server.HTTPServer(('0.0.0.0', 8080), H).serve_forever()\n"
)


class _Resolver:
    def get_config_map(self, namespace, name):
        return None

    def get_secret(self, namespace, name):
        return None

    def service_account_token(self, namespace, service_account, *, audience, expiration_seconds):
        return "token"

    def list_services(self, namespace):
        return []


def _ready(status: dict) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions", []))


async def _measure() -> list[float]:
    with tempfile.TemporaryDirectory(prefix="kubelocal-bench-") as state:
        kubelet = node.Kubelet(
            state_dir=pathlib.Path(state), cluster_id=f"b{uuid.uuid4().hex[:8]}", resolver=_Resolver()
        )
        await kubelet.start()
        try:
            figures = []
            for index in range(PODS):
                pod = {
                    "metadata": {"name": f"bench-{index}", "namespace": "default", "uid": uuid.uuid4().hex},
                    "spec": {
                        "containers": [
                            {
                                "name": "web",
                                "image": "python:3.12-slim",
                                "command": ["python", "-c", SERVER],
                                "readinessProbe": {"httpGet": {"path": "/", "port": 8080}},
                            }
                        ]
                    },
                }
                began = time.perf_counter()
                await kubelet.sync_pod(pod)
                while not _ready(kubelet.pod_status(pod)):
                    if time.perf_counter() - began > 10:
                        raise RuntimeError(f"pod {index} not ready after 10 s: {kubelet.pod_status(pod)}")
                    await asyncio.sleep(0.005)
                figures.append(time.perf_counter() - began)
                await kubelet.kill_pod(pod, grace_period_seconds=0)
            return figures
        finally:
            await kubelet.stop()


def run() -> dict:
    if os.geteuid() != 0:
        return {"name": "sandbox pod start-to-ready", "skipped": "needs root for network namespaces"}
    figures = asyncio.run(_measure())
    p50 = statistics.median(figures)
    return {
        "name": "sandbox pod start-to-ready",
        "pods": len(figures),
        "p50_ms": round(p50 * 1000, 1),
        "max_ms": round(max(figures) * 1000, 1),
        "target_ms": 500,
        "ratio_to_target": round(p50 * 1000 / 500, 3),
    }


if __name__ == "__main__":
    print(run())
