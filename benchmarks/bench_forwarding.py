"""Port-forward through the API server: kubelocal's asyncio client against the official client.

Both talk `v4.channel.k8s.io` to the sandbox's REST app, whose pod port is a loopback echo
server; the same traffic also goes straight to the echo server for reference. Figures: bulk
throughput (MB/s, echo of `BULK_BYTES` both ways), small-request latency (p50/p99 of
`ROUNDS` 64-byte round trips, microseconds), time to open one forward (ms), and a REST GET
through kubelocal's aiohttp client against the official client (ms, p50).

The API server runs in a process of its own, so that neither client shares an interpreter lock
with it and the official (blocking) client can be driven from the main thread.
Run alone: `python -m benchmarks.bench_forwarding`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import pathlib
import secrets
import socket
import statistics
import tempfile
import threading
import time
from typing import Any

BULK_BYTES = 16 * 1024 * 1024
CHUNK = 64 * 1024
ROUNDS = 300
OPENS = 20
GETS = 100


class _Server:
    """The REST app (fake pod ports -> an echo server) in a process of its own, so that neither
    client shares an interpreter lock with the server."""

    def __init__(self, directory: pathlib.Path) -> None:
        self.directory = directory
        self.token = secrets.token_urlsafe(24)
        self.echo_port = 0
        self.url = ""
        context = multiprocessing.get_context("spawn")
        self._parent, child = context.Pipe()
        self._process = context.Process(target=_serve_in_process, args=(child, self.token), daemon=True)

    def start(self) -> None:
        self._process.start()
        if not self._parent.poll(60):
            raise RuntimeError("the benchmark's API server did not start")
        self.url, self.echo_port = self._parent.recv()

    def stop(self) -> None:
        self._parent.send("stop")
        self._process.join(30)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()

    def kubeconfig(self) -> pathlib.Path:
        path = self.directory / "kubeconfig"
        path.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "current-context": "bench",
                    "clusters": [{"name": "bench", "cluster": {"server": self.url}}],
                    "users": [{"name": "bench", "user": {"token": self.token}}],
                    "contexts": [
                        {
                            "name": "bench",
                            "context": {"cluster": "bench", "user": "bench", "namespace": "default"},
                        }
                    ],
                }
            )
        )
        return path


def _serve_in_process(pipe: Any, token: str) -> None:
    asyncio.run(_serve(pipe, token))


async def _serve(pipe: Any, token: str) -> None:
    from kubelocal.sandbox import apiserver, kinds, store
    from kubelocal.sandbox.apiserver import auth

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(256 * 1024):
                writer.write(data)
                await writer.drain()
        writer.close()

    echo_server = await asyncio.start_server(echo, "127.0.0.1", 0)
    echo_port = echo_server.sockets[0].getsockname()[1]

    async def pod_ports(namespace: str, name: str, port: int) -> Any:
        return await asyncio.open_connection("127.0.0.1", echo_port)

    state = store.Store(graceful_pod_deletion=False)
    state.create(
        kinds.PODS,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "echo", "namespace": "default"},
            "spec": {"containers": [{"name": "echo", "image": "example/echo:1"}]},
        },
    )
    tokens = auth.TokenRegistry()
    tokens.add(token, user="kubernetes-admin")
    runner, port = await apiserver.serve(
        apiserver.build_app(store=state, pod_ports=pod_ports, tokens=tokens), host="127.0.0.1", port=0
    )
    pipe.send((f"http://127.0.0.1:{port}", echo_port))
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, pipe.recv)
    await runner.cleanup()
    echo_server.close()
    await echo_server.wait_closed()


def _percentiles(samples: list[float]) -> dict[str, float]:
    samples = sorted(samples)
    return {
        "p50": round(samples[len(samples) // 2], 1),
        "p99": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))], 1),
    }


# --- kubelocal's asyncio forward ---------------------------------------------------------------


async def _asyncio_figures(kubeconfig: pathlib.Path) -> dict[str, Any]:
    from kubelocal.kube import fetching, forwarding, loading, requesting, resources

    async with requesting.Client(loading.load(kubeconfig=kubeconfig)) as client:
        opens = []
        for _ in range(OPENS):
            started = time.perf_counter()
            _, writer = await forwarding.open_forward(client, pod="echo", port=80)
            opens.append((time.perf_counter() - started) * 1000)
            writer.close()
        reader, writer = await forwarding.open_forward(client, pod="echo", port=80)
        throughput = await _bulk_async(reader, writer)
        latencies = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            writer.write(b"x" * 64)
            await reader.readexactly(64)
            latencies.append((time.perf_counter() - started) * 1e6)
        writer.close()
        gets = []
        for _ in range(GETS):
            started = time.perf_counter()
            await fetching.read(client, resources.PODS, name="echo", namespace="default")
            gets.append((time.perf_counter() - started) * 1000)
    return {
        "throughput_mb_s": throughput,
        "latency_us": _percentiles(latencies),
        "open_ms_p50": round(statistics.median(opens), 2),
        "rest_get_ms_p50": round(statistics.median(gets), 3),
    }


async def _bulk_async(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> float:
    chunk = b"b" * CHUNK
    started = time.perf_counter()

    async def send() -> None:
        for _ in range(BULK_BYTES // CHUNK):
            writer.write(chunk)
            await writer.drain()

    sender = asyncio.ensure_future(send())
    received = 0
    while received < BULK_BYTES:
        data = await reader.read(1024 * 1024)
        if not data:
            raise ConnectionError("the forward closed early")
        received += len(data)
    await sender
    return round(BULK_BYTES / (time.perf_counter() - started) / 1e6, 1)


async def _direct_figures(port: int) -> dict[str, Any]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    throughput = await _bulk_async(reader, writer)
    latencies = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        writer.write(b"x" * 64)
        await reader.readexactly(64)
        latencies.append((time.perf_counter() - started) * 1e6)
    writer.close()
    return {"throughput_mb_s": throughput, "latency_us": _percentiles(latencies)}


# --- the official client's forward (threads and socket pairs) ------------------------------------


def _official_figures(kubeconfig: pathlib.Path) -> dict[str, Any]:
    import kubernetes
    from kubernetes.stream import portforward

    configuration = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    api_client = kubernetes.client.ApiClient(configuration)
    api = kubernetes.client.CoreV1Api(api_client)
    try:
        opens = []
        for _ in range(OPENS):
            started = time.perf_counter()
            forward = portforward(api.connect_get_namespaced_pod_portforward, "echo", "default", ports="80")
            forward.socket(80)
            opens.append((time.perf_counter() - started) * 1000)
            forward.close()
        forward = portforward(api.connect_get_namespaced_pod_portforward, "echo", "default", ports="80")
        sock = forward.socket(80)
        sock.setblocking(True)
        throughput = _bulk_blocking(sock)
        latencies = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            sock.sendall(b"x" * 64)
            _recv_exactly(sock, 64)
            latencies.append((time.perf_counter() - started) * 1e6)
        forward.close()
        gets = []
        for _ in range(GETS):
            started = time.perf_counter()
            api.read_namespaced_pod("echo", "default")
            gets.append((time.perf_counter() - started) * 1000)
    finally:
        api_client.close()
    return {
        "throughput_mb_s": throughput,
        "latency_us": _percentiles(latencies),
        "open_ms_p50": round(statistics.median(opens), 2),
        "rest_get_ms_p50": round(statistics.median(gets), 3),
    }


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    parts, received = [], 0
    while received < size:
        data = sock.recv(size - received)
        if not data:
            raise ConnectionError("the forward closed early")
        parts.append(data)
        received += len(data)
    return b"".join(parts)


def _bulk_blocking(sock: socket.socket) -> float:
    chunk = b"b" * CHUNK
    started = time.perf_counter()

    def send() -> None:
        for _ in range(BULK_BYTES // CHUNK):
            sock.sendall(chunk)

    sender = threading.Thread(target=send)
    sender.start()
    received = 0
    while received < BULK_BYTES:
        data = sock.recv(1024 * 1024)
        if not data:
            raise ConnectionError("the forward closed early")
        received += len(data)
    sender.join()
    return round(BULK_BYTES / (time.perf_counter() - started) / 1e6, 1)


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as directory:
        server = _Server(pathlib.Path(directory))
        server.start()
        try:
            kubeconfig = server.kubeconfig()
            kubelocal = asyncio.run(_asyncio_figures(kubeconfig))
            official = _official_figures(kubeconfig)
            direct = asyncio.run(_direct_figures(server.echo_port))
        finally:
            server.stop()
    return {
        "kubelocal_asyncio": kubelocal,
        "official_client": official,
        "direct_loopback": direct,
        "throughput_ratio_kubelocal_vs_official": round(
            kubelocal["throughput_mb_s"] / max(official["throughput_mb_s"], 1e-9), 2
        ),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
