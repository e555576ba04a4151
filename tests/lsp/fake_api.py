"""A tiny fake Kubernetes API server on loopback, for cluster completion and hover tests.

Serves the three lists the cluster catalog reads (namespaces, services of a namespace, pods of a
namespace) from a dict, records the paths asked for, and can hold every request unanswered
(`hang`) to play a cluster that does not respond. `kubeconfig(path)` writes a kubeconfig whose
current context points at it with namespace `shop`.
"""

from __future__ import annotations

import asyncio
import pathlib
import socket
from typing import Any

from aiohttp import web

NAMESPACES = ("default", "payments", "shop")
SERVICES: dict[str, list[dict[str, Any]]] = {
    "shop": [
        {
            "name": "cart",
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
            "clusterIP": "10.0.0.10",
        },
        {"name": "catalog", "ports": [{"port": 80, "protocol": "TCP"}, {"port": 9090, "name": "metrics"}]},
    ],
    "payments": [{"name": "ledger", "ports": [{"port": 5432, "protocol": "TCP"}]}],
    "default": [{"name": "kubernetes", "ports": [{"port": 443, "name": "https"}]}],
}
VOLUMES = {"shop": ["app-config", "cache"]}


def _list(kind: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"kind": kind, "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": items}


class FakeApiServer:
    def __init__(self) -> None:
        self.requests: list[str] = []
        self.hang = False
        self._released = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/api/v1/namespaces", self._namespaces)
        app.router.add_get("/api/v1/namespaces/{namespace}/services", self._services)
        app.router.add_get("/api/v1/namespaces/{namespace}/pods", self._pods)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        self._released.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _answer(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        self.requests.append(request.path)
        if self.hang:
            await self._released.wait()
        return web.json_response(body)

    async def _namespaces(self, request: web.Request) -> web.Response:
        items = [{"metadata": {"name": name}} for name in NAMESPACES]
        return await self._answer(request, _list("NamespaceList", items))

    async def _services(self, request: web.Request) -> web.Response:
        namespace = request.match_info["namespace"]
        items = [
            {
                "metadata": {"name": service["name"], "namespace": namespace},
                "spec": {"ports": service["ports"], "clusterIP": service.get("clusterIP")},
            }
            for service in SERVICES.get(namespace, [])
        ]
        return await self._answer(request, _list("ServiceList", items))

    async def _pods(self, request: web.Request) -> web.Response:
        namespace = request.match_info["namespace"]
        volumes = [{"name": name, "emptyDir": {}} for name in VOLUMES.get(namespace, [])]
        items = [
            {
                "metadata": {"name": "cart-7d9f", "namespace": namespace},
                "spec": {"containers": [{"name": "cart", "image": "cart:1"}], "volumes": volumes},
            }
        ]
        return await self._answer(request, _list("PodList", items))


def write_kubeconfig(path: pathlib.Path, *, server: str, namespace: str = "shop") -> pathlib.Path:
    path.write_text(
        f"""apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: {server}
users:
- name: tester
  user:
    token: not-a-secret
contexts:
- name: fake-context
  context:
    cluster: fake
    user: tester
    namespace: {namespace}
current-context: fake-context
"""
    )
    return path


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
