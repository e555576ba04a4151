"""The sandbox's REST app on a loopback port, in the test's own event loop, for the kube layer.

`pod_ports` is a fake kubelet whose pod ports lead to a loopback echo server (port 1 refuses), so
port-forwards can be tested without pods. Each `ApiServer` writes a kubeconfig with a bearer token.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import pathlib
import secrets

import yaml
from aiohttp import web

from kubelocal.sandbox import apiserver, store
from kubelocal.sandbox.apiserver import auth


def write_kubeconfig(
    path: pathlib.Path, *, server: str, token: str, namespace: str = "default"
) -> pathlib.Path:
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "test", "cluster": {"server": server}}],
                "users": [{"name": "test", "user": {"token": token}}],
                "contexts": [
                    {"name": "test", "context": {"cluster": "test", "user": "test", "namespace": namespace}}
                ],
                "current-context": "test",
            }
        )
    )
    path.chmod(0o600)
    return path


class EchoPods:
    """Pod ports: an echo server for every port but 1, which refuses."""

    def __init__(self) -> None:
        self.opened: list[tuple[str, str, int]] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await reader.read(256 * 1024):
                    writer.write(data)
                    await writer.drain()
            writer.close()

        self._server = await asyncio.start_server(echo, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def open_pod_port(self, namespace: str, name: str, port: int):
        self.opened.append((namespace, name, port))
        if port == 1:
            raise ConnectionRefusedError(f"nothing listens on port {port} of pod {namespace}/{name}")
        return await asyncio.open_connection("127.0.0.1", self.port)


@dataclasses.dataclass
class ApiServer:
    url: str
    token: str
    kubeconfig: pathlib.Path
    store: store.Store
    pods: EchoPods
    runner: web.AppRunner


@contextlib.asynccontextmanager
async def running(directory: pathlib.Path, *, pod_ports=None, state: store.Store | None = None):
    """Serve the REST app over a fresh store (or `state`); stop it on the way out."""
    state = state or store.Store(graceful_pod_deletion=False)
    pods = EchoPods()
    await pods.start()
    tokens = auth.TokenRegistry()
    token = secrets.token_urlsafe(24)
    tokens.add(token, user="kubernetes-admin")
    app = apiserver.build_app(store=state, pod_ports=pod_ports or pods.open_pod_port, tokens=tokens)
    runner, port = await apiserver.serve(app, host="127.0.0.1", port=0)
    url = f"http://127.0.0.1:{port}"
    try:
        yield ApiServer(
            url=url,
            token=token,
            kubeconfig=write_kubeconfig(directory / "kubeconfig", server=url, token=token),
            store=state,
            pods=pods,
            runner=runner,
        )
    finally:
        await runner.cleanup()
        await pods.stop()
