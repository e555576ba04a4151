"""Sandbox figures: `sandbox up` time, pod start-to-ready time, API request latency, controller speed.

`run()` starts a sandbox in a temporary state directory with `kubelocal sandbox up` (as a user
would), measures against it over HTTP, and always stops it with `kubelocal sandbox down`.
Targets (issue 3): up < 2 s, pod ready < 500 ms, API p50 < 5 ms.
"""

from __future__ import annotations

import datetime
import http.client
import json
import pathlib
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

from kubelocal.sandbox.controllers import deployment, replicaset

NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
API_REQUESTS = 300
PODS = 5


def _decision_micros(rounds: int = 2000) -> float:
    template = {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "c", "image": "python:3.12-slim"}]},
    }
    deploy = {
        "metadata": {"name": "web", "namespace": "default", "uid": "d", "generation": 1},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": template},
    }
    rs = {
        "metadata": {"name": "web-x", "namespace": "default", "uid": "r", "generation": 1},
        "spec": {"replicas": 3, "template": template},
    }
    start = time.perf_counter()
    for _ in range(rounds):
        deployment.reconcile(deploy, [], [], now=NOW)
        replicaset.reconcile(rs, [], now=NOW)
    return (time.perf_counter() - start) / rounds * 1e6


class Api:
    """A keep-alive JSON client for the sandbox's API (what kubectl and the client do per request)."""

    def __init__(self, server: str, token: str, certificate_authority: str) -> None:
        url = urllib.parse.urlsplit(server)
        context = ssl.create_default_context(cafile=certificate_authority or None)
        self.connection = http.client.HTTPSConnection(url.hostname, url.port, timeout=10, context=context)
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        }

    def call(self, method: str, path: str, body: object = None) -> tuple[int, dict]:
        self.connection.request(
            method, path, body=None if body is None else json.dumps(body), headers=self.headers
        )
        response = self.connection.getresponse()
        payload = response.read()
        return response.status, json.loads(payload) if payload else {}


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _api_latency(api: Api) -> dict:
    api.call(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "bench"}, "data": {"a": "1"}},
    )
    samples = []
    for _ in range(API_REQUESTS):
        start = time.perf_counter()
        status, _ = api.call("GET", "/api/v1/namespaces/default/configmaps/bench")
        samples.append((time.perf_counter() - start) * 1000)
        assert status == 200, status
    return {
        "api_get_p50_ms": round(statistics.median(samples), 2),
        "api_get_p99_ms": round(_percentile(samples, 0.99), 2),
    }


def _pod_ready_ms(api: Api, name: str) -> float:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [
                {
                    "name": "c",
                    "image": "python:3.12-slim",
                    "command": ["python", "-c", "import time; time.sleep(60)"],
                }
            ],
        },
    }
    start = time.perf_counter()
    status, body = api.call("POST", "/api/v1/namespaces/default/pods", pod)
    assert status == 201, body
    deadline = start + 30
    while time.perf_counter() < deadline:
        _, current = api.call("GET", f"/api/v1/namespaces/default/pods/{name}")
        conditions = (current.get("status") or {}).get("conditions") or []
        if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions):
            return (time.perf_counter() - start) * 1000
        time.sleep(0.002)
    raise RuntimeError(f"pod {name} not ready within 30 s")


def _kubelocal(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kubelocal", *args], capture_output=True, text=True, timeout=120
    )


def run() -> dict:
    figures: dict = {"controller_decision_us": round(_decision_micros(), 1)}
    with tempfile.TemporaryDirectory(prefix="kubelocal-bench-") as temporary:
        state_dir = pathlib.Path(temporary) / "sandbox"
        start = time.perf_counter()
        up = _kubelocal("sandbox", "up", "--state-dir", str(state_dir))
        figures["sandbox_up_s"] = round(time.perf_counter() - start, 3)
        try:
            if up.returncode != 0:
                figures["error"] = up.stderr.strip()[-500:]
                return figures
            state = json.loads((state_dir / "sandbox.json").read_text())
            api = Api(state["server"], state["token"], state.get("certificate_authority", ""))
            figures.update(_api_latency(api))
            ready = [_pod_ready_ms(api, f"bench-{index}") for index in range(PODS)]
            figures["pod_ready_median_ms"] = round(statistics.median(ready), 1)
            figures["pod_ready_max_ms"] = round(max(ready), 1)
        finally:
            start = time.perf_counter()
            _kubelocal("sandbox", "down", "--state-dir", str(state_dir))
            figures["sandbox_down_s"] = round(time.perf_counter() - start, 3)
    figures["targets"] = "up < 2 s, pod ready < 500 ms, API p50 < 5 ms"
    return figures


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
