"""Fixtures: the sandbox API server on a free loopback port, in a thread with its own event loop.

`api_server` starts it over TLS (a session-wide self-signed certificate) with a fresh store (no
graceful pod deletion: no kubelet here), a fake kubelet whose pod ports lead to a loopback echo
server and whose logs are canned, and a kubeconfig with a bearer token in tmp_path. Everything is
stopped and removed after the test, also on failure.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import gc
import pathlib
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import kubernetes
import pytest
import urllib3

from kubelocal.sandbox import store, validation
from kubelocal.sandbox.apiserver import auth, certificates, rest


class FakeKubelet:
    """Pod ports lead to one loopback echo server; logs are a fixed text per container."""

    def __init__(self, echo_port: int) -> None:
        self.echo_port = echo_port
        self.opened: list[tuple[str, str, int]] = []

    async def open_pod_port(self, namespace: str, name: str, port: int):
        self.opened.append((namespace, name, port))
        if port == 1:
            raise ConnectionRefusedError(f"nothing listens on port {port} of pod {namespace}/{name}")
        return await asyncio.open_connection("127.0.0.1", self.echo_port)

    def read_log(self, namespace, name, container, *, previous=False, tail_lines=None) -> bytes:
        lines = [f"{name}/{container} line {i}{' (previous)' if previous else ''}" for i in range(1, 6)]
        if tail_lines is not None:
            lines = lines[-tail_lines:] if tail_lines else []
        return "".join(line + "\n" for line in lines).encode()

    async def follow_log(self, namespace, name, container) -> AsyncIterator[bytes]:
        yield self.read_log(namespace, name, container)
        await asyncio.sleep(0.05)
        yield f"{name}/{container} followed\n".encode()


@dataclasses.dataclass
class ApiServer:
    url: str
    token: str
    kubeconfig: pathlib.Path
    loop: asyncio.AbstractEventLoop
    state: store.Store
    kubelet: FakeKubelet
    tokens: auth.TokenRegistry
    certificate: certificates.Certificate
    clients: list[kubernetes.client.ApiClient] = dataclasses.field(default_factory=list)
    pools: list[urllib3.PoolManager] = dataclasses.field(default_factory=list)

    def call(self, function: Callable[[], Any]) -> Any:
        """Run function on the server's loop (the store is not thread-safe) and return its result."""

        async def run() -> Any:
            return function()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(5)

    def client(self) -> kubernetes.client.ApiClient:
        """An official client configured from the kubeconfig; closed when the test ends."""
        configuration = kubernetes.client.Configuration()
        kubernetes.config.load_kube_config(
            config_file=str(self.kubeconfig), client_configuration=configuration
        )
        client = kubernetes.client.ApiClient(configuration)
        self.clients.append(client)
        return client

    def http(self) -> urllib3.PoolManager:
        """A plain HTTPS client trusting the server's certificate; closed when the test ends."""
        pool = urllib3.PoolManager(ca_certs=str(self.certificate.certificate_file))
        self.pools.append(pool)
        return pool


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


@pytest.fixture(scope="session", autouse=True)
def _long_lived_objects_frozen() -> None:
    """Load the schemas once and keep them out of the collector's sight: teardown's gc.collect()
    then takes milliseconds instead of walking megabytes of schema dicts."""
    validation.definitions()
    gc.freeze()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> certificates.Certificate:
    return certificates.create(tmp_path_factory.mktemp("apiserver-tls"))


@pytest.fixture
def api_server(tmp_path: pathlib.Path, certificate: certificates.Certificate) -> Iterator[ApiServer]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="sandbox-apiserver", daemon=True)
    thread.start()
    token = auth.new_token()

    async def start() -> tuple[Any, Any, ApiServer]:
        echo = await asyncio.start_server(_echo, "127.0.0.1", 0)
        kubelet = FakeKubelet(echo.sockets[0].getsockname()[1])
        state = store.Store(graceful_pod_deletion=False, history_size=200, root_ca=certificate.pem.decode())
        tokens = auth.TokenRegistry()
        tokens.add(token, user="admin")
        app = rest.build_app(
            store=state,
            pod_ports=kubelet.open_pod_port,
            pod_logs=kubelet,
            tokens=tokens,
            watch_bookmark_seconds=0.5,
        )
        runner, port = await rest.serve(app, ssl_context=certificate.server_context())
        url = f"https://127.0.0.1:{port}"
        path = tmp_path / "kubeconfig"
        rest.write_kubeconfig(path, server=url, token=token, certificate_authority=certificate.pem)
        return runner, echo, ApiServer(url, token, path, loop, state, kubelet, tokens, certificate)

    runner, echo, server = asyncio.run_coroutine_threadsafe(start(), loop).result(30)
    try:
        yield server
    finally:
        for client in server.clients:
            client.close()
        for pool in server.pools:
            pool.clear()
        # Client responses kept by ApiExceptions hold their sockets open; free them so the server's
        # TLS connections see the close instead of waiting out their shutdown timeout.
        gc.collect()

        async def stop() -> None:
            echo.close()
            await runner.cleanup()
            await echo.wait_closed()
            await asyncio.sleep(0.05)  # let TLS transports finish closing

        try:
            asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
        except concurrent.futures.TimeoutError:
            pass
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
        gc.collect()  # surface unclosed sockets in the test that left them
