"""Sandbox API server latency: in-process store calls and HTTP requests over TLS with a bearer token.

`run()` starts the API server on a free loopback port (its own thread and event loop), then measures
with a raw aiohttp client: POST a pod, GET a pod, LIST 100 pods (JSON) and LIST them as a Table (what
kubectl asks for); and in-process `Store.create`/`Store.get` as the controllers and the kubelet call
them. Figures are milliseconds (p50/p99). Bounded: a few hundred requests, a few seconds.
Runnable alone: `python benchmarks/bench_sandbox_api.py`.
"""

from __future__ import annotations

import asyncio
import json
import pathlib
import ssl
import statistics
import tempfile
import threading
import time

import aiohttp

from kubelocal.sandbox import kinds, store
from kubelocal.sandbox.apiserver import auth, certificates, rest

REQUESTS = 300
POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"labels": {"app": "bench"}},
    "spec": {"containers": [{"name": "app", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]},
}


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 3),
    }


def _in_process() -> dict[str, dict[str, float]]:
    state = store.Store(graceful_pod_deletion=False)
    creates, gets = [], []
    for index in range(REQUESTS):
        pod = json.loads(json.dumps(POD))
        pod["metadata"]["name"] = f"p{index}"
        started = time.perf_counter()
        state.create(kinds.PODS, pod)
        creates.append(time.perf_counter() - started)
        started = time.perf_counter()
        state.get(kinds.PODS, "default", f"p{index}")
        gets.append(time.perf_counter() - started)
    return {"store_create_pod": _percentiles(creates), "store_get_pod": _percentiles(gets)}


async def _http(url: str, token: str, context: ssl.SSLContext) -> dict[str, dict[str, float]]:
    headers = {"Authorization": f"Bearer {token}"}
    base = f"{url}/api/v1/namespaces/default/pods"
    results: dict[str, list[float]] = {
        "http_create_pod": [],
        "http_get_pod": [],
        "http_list_100_pods": [],
        "http_list_100_pods_table": [],
    }
    async with aiohttp.ClientSession(headers=headers, connector=aiohttp.TCPConnector(ssl=context)) as session:
        for index in range(100):
            pod = json.loads(json.dumps(POD))
            pod["metadata"]["name"] = f"p{index}"
            started = time.perf_counter()
            async with session.post(base, json=pod) as response:
                await response.read()
                assert response.status == 201, response.status
            results["http_create_pod"].append(time.perf_counter() - started)
        for index in range(REQUESTS):
            started = time.perf_counter()
            async with session.get(f"{base}/p{index % 100}") as response:
                await response.read()
            results["http_get_pod"].append(time.perf_counter() - started)
        for _ in range(REQUESTS // 3):
            started = time.perf_counter()
            async with session.get(base) as response:
                body = await response.read()
            results["http_list_100_pods"].append(time.perf_counter() - started)
            assert len(json.loads(body)["items"]) == 100
            started = time.perf_counter()
            table_accept = {"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}
            async with session.get(base, headers=table_accept) as response:
                await response.read()
            results["http_list_100_pods_table"].append(time.perf_counter() - started)
    return {name: _percentiles(samples) for name, samples in results.items()}


def run() -> dict:
    """Latency figures (ms, p50/p99) of the sandbox API, in-process and over HTTPS."""
    figures: dict = {"in_process": _in_process()}
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    with tempfile.TemporaryDirectory() as directory:
        certificate = certificates.create(pathlib.Path(directory))
        token = auth.new_token()

        async def start() -> tuple[rest.web.AppRunner, int]:
            tokens = auth.TokenRegistry()
            tokens.add(token, user="bench")
            app = rest.build_app(store=store.Store(graceful_pod_deletion=False), tokens=tokens)
            return await rest.serve(app, ssl_context=certificate.server_context())

        runner, port = asyncio.run_coroutine_threadsafe(start(), loop).result(30)
        try:
            context = ssl.create_default_context(cafile=str(certificate.certificate_file))
            figures["https"] = asyncio.run(_http(f"https://127.0.0.1:{port}", token, context))
        finally:
            asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)
            loop.close()
    return figures


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
