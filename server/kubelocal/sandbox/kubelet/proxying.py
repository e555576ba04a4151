"""The user-space service proxy: kube-proxy's job, inside the node network namespace.

sessionAffinity ClientIP keeps a client on one backend (chosen by its address) while the backends
do not change.

One listener per ClusterIP:port, created in the node namespace (where the ClusterIPs sit on `lo`),
served by the kubelet's asyncio loop. Each accepted connection goes to the next ready backend
(round robin) and bytes are relayed both ways, half-closes included. Backends on pod IPs are
dialled from the node namespace; backends on 127.x (the sandbox's own API server, behind the
`kubernetes` service) from the workstation's namespace, which is the only way pods reach it.
A service port without ready backends resets connections, as kube-proxy's REJECT does.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import socket
import struct

from kubelocal.sandbox.kubelet import addressing, network, services

LOGGER = logging.getLogger(__name__)
CONNECT_TIMEOUT_SECONDS = 3.0
CHUNK = 256 * 1024


async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy reader -> writer until EOF, then half-close the writer."""
    try:
        while chunk := await reader.read(CHUNK):
            writer.write(chunk)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        writer.transport.abort()


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class ServiceProxy:
    """Listeners for the proxy table, reprogrammed by `program` (idempotent)."""

    def __init__(self, *, node_netns: str | None) -> None:
        self._node_netns = node_netns
        self._servers: dict[services.Frontend, asyncio.Server] = {}
        self._backends: dict[services.Frontend, list[services.Backend]] = {}
        self._turns: dict[services.Frontend, itertools.count] = {}
        self._sticky: set[services.Frontend] = set()
        self._warned: set[services.Frontend] = set()
        self._connections: set[asyncio.Task] = set()

    async def program(
        self,
        table: dict[services.Frontend, list[services.Backend]],
        *,
        sticky: set[services.Frontend] = frozenset(),
    ) -> None:
        self._sticky = set(sticky)
        for frontend in [f for f in self._servers if f not in table]:
            self._servers.pop(frontend).close()
            self._backends.pop(frontend, None)
        for frontend, backends in table.items():
            self._backends[frontend] = backends
            if frontend in self._servers:
                continue
            try:
                sock = await network.listen_in(self._node_netns, *frontend)
            except OSError as error:
                if frontend not in self._warned:
                    self._warned.add(frontend)
                    LOGGER.warning("the service proxy cannot listen on %s:%s (%s)", *frontend, error)
                continue
            self._servers[frontend] = await asyncio.start_server(
                lambda r, w, f=frontend: self._accept(f, r, w), sock=sock, limit=network.STREAM_LIMIT
            )

    def _accept(
        self, frontend: services.Frontend, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.get_running_loop().create_task(self._serve(frontend, reader, writer))
        self._connections.add(task)
        task.add_done_callback(self._connections.discard)

    async def _serve(
        self, frontend: services.Frontend, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        backends = self._backends.get(frontend) or []
        if not backends:
            _reset(writer)
            return
        peer = writer.get_extra_info("peername") or ("", 0)
        first = services.backend_for(
            backends=backends,
            turn=next(self._turns.setdefault(frontend, itertools.count())),
            client=str(peer[0]),
            sticky=frontend in self._sticky,
        )
        # Try each backend once, starting with this connection's turn: one dead pod must not fail it.
        for offset in range(len(backends)):
            host, port = backends[(first + offset) % len(backends)]
            netns = None if addressing.is_workstation_loopback(host) else self._node_netns
            try:
                upstream_reader, upstream_writer = await network.connect_in(
                    netns, host, port, timeout=CONNECT_TIMEOUT_SECONDS
                )
                break
            except (OSError, TimeoutError):
                continue
        else:
            _reset(writer)
            return
        try:
            await asyncio.gather(relay(reader, upstream_writer), relay(upstream_reader, writer))
        finally:
            upstream_writer.close()
            writer.close()

    async def close(self) -> None:
        for server in self._servers.values():
            server.close()
        self._servers.clear()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
