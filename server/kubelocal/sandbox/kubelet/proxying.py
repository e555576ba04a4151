"""The user-space service proxy: kube-proxy's job, inside the node network namespace.

sessionAffinity ClientIP keeps a client on one backend (chosen by its address) while the backends
do not change.

One listener per ClusterIP:port, created in the node namespace (where the ClusterIPs sit on `lo`),
served by the kubelet's asyncio loop. Each accepted connection goes to the next ready backend
(round robin) and bytes are relayed both ways, half-closes included. Backends on pod IPs are
dialled from the node namespace; backends on 127.x (the sandbox's own API server, behind the
`kubernetes` service) from the workstation's namespace, which is the only way pods reach it.
A service port without ready backends resets connections, as kube-proxy's REJECT does.

The relay moves bytes socket -> pipe -> socket with splice(2), so they never enter Python: a
real kube-proxy forwards in the kernel (iptables/IPVS), and a copy loop here would charge every
service hop to the same interpreter that serves the API (and port-forwards). Where splice is
missing, or no pipe can be made (out of file descriptors), it falls back to a copy loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import itertools
import logging
import os
import socket
import struct

from kubelocal.sandbox.kubelet import addressing, network, services

LOGGER = logging.getLogger(__name__)
CONNECT_TIMEOUT_SECONDS = 3.0
CHUNK = 256 * 1024
# Bytes one splice moves at most; the pipe is grown to hold them (Linux allows 1 MiB unprivileged).
PIPE_SIZE = 1024 * 1024
_F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
_SPLICE = getattr(os, "splice", None)
_SPLICE_FLAGS = getattr(os, "SPLICE_F_MOVE", 1) | getattr(os, "SPLICE_F_NONBLOCK", 2)


async def _ready(loop: asyncio.AbstractEventLoop, sock: socket.socket, *, writing: bool) -> None:
    """Wait until `sock` is readable (or writable)."""
    future = loop.create_future()
    fd = sock.fileno()

    def wake() -> None:
        if not future.done():
            future.set_result(None)

    if writing:
        loop.add_writer(fd, wake)
    else:
        loop.add_reader(fd, wake)
    try:
        await future
    finally:
        if writing:
            loop.remove_writer(fd)
        else:
            loop.remove_reader(fd)


def _pipe() -> tuple[int, int] | None:
    """A non-blocking pipe as large as allowed, or None when splice cannot be used."""
    if _SPLICE is None:
        return None
    try:
        read_fd, write_fd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None  # out of file descriptors: copying still works
    with contextlib.suppress(OSError):
        fcntl.fcntl(write_fd, _F_SETPIPE_SZ, PIPE_SIZE)
    return read_fd, write_fd


async def relay(source: socket.socket, target: socket.socket) -> None:
    """Move bytes source -> target until EOF, then half-close the target.

    Raises OSError when either side fails (a reset, for instance); the caller resets both.
    """
    loop = asyncio.get_running_loop()
    pipe = _pipe()
    if pipe is None:
        while chunk := await loop.sock_recv(source, CHUNK):
            await loop.sock_sendall(target, chunk)
    else:
        assert _SPLICE is not None
        read_fd, write_fd = pipe
        try:
            while True:
                try:
                    moved = _SPLICE(source.fileno(), write_fd, PIPE_SIZE, flags=_SPLICE_FLAGS)
                except BlockingIOError:
                    await _ready(loop, source, writing=False)
                    continue
                if moved == 0:
                    break
                while moved:
                    try:
                        moved -= _SPLICE(read_fd, target.fileno(), moved, flags=_SPLICE_FLAGS)
                    except BlockingIOError:
                        await _ready(loop, target, writing=True)
        finally:
            os.close(read_fd)
            os.close(write_fd)
    with contextlib.suppress(OSError):
        target.shutdown(socket.SHUT_WR)


def _reset(sock: socket.socket) -> None:
    """Close with a TCP reset, so the peer sees the failure rather than a clean end."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class ServiceProxy:
    """Listeners for the proxy table, reprogrammed by `program` (idempotent)."""

    def __init__(self, *, node_netns: str | None) -> None:
        self._node_netns = node_netns
        self._listeners: dict[services.Frontend, tuple[socket.socket, asyncio.Task]] = {}
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
        for frontend in [f for f in self._listeners if f not in table]:
            self._stop_listening(frontend)
            self._backends.pop(frontend, None)
        for frontend, backends in table.items():
            self._backends[frontend] = backends
            if frontend in self._listeners:
                continue
            try:
                sock = await network.listen_in(self._node_netns, *frontend)
            except OSError as error:
                if frontend not in self._warned:
                    self._warned.add(frontend)
                    LOGGER.warning("the service proxy cannot listen on %s:%s (%s)", *frontend, error)
                continue
            sock.setblocking(False)
            task = asyncio.get_running_loop().create_task(self._accept_forever(frontend, sock))
            self._listeners[frontend] = (sock, task)

    def _stop_listening(self, frontend: services.Frontend) -> None:
        sock, task = self._listeners.pop(frontend)
        task.cancel()
        sock.close()

    async def _accept_forever(self, frontend: services.Frontend, listener: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                client, peer = await loop.sock_accept(listener)
            except OSError as error:
                if listener.fileno() < 0:
                    return  # closed by _stop_listening
                LOGGER.warning("the service proxy on %s:%s cannot accept (%s)", *frontend, error)
                await asyncio.sleep(0.1)  # out of file descriptors, say: do not spin
                continue
            client.setblocking(False)
            task = loop.create_task(self._serve(frontend, client, peer))
            self._connections.add(task)
            task.add_done_callback(self._connections.discard)

    async def _serve(self, frontend: services.Frontend, client: socket.socket, peer: tuple) -> None:
        backends = self._backends.get(frontend) or []
        if not backends:
            _reset(client)
            return
        first = services.backend_for(
            backends=backends,
            turn=next(self._turns.setdefault(frontend, itertools.count())),
            client=str(peer[0]),
            sticky=frontend in self._sticky,
        )
        # Try each backend once, starting with this connection's turn: one dead pod must not fail it.
        upstream: socket.socket | None = None
        for offset in range(len(backends)):
            host, port = backends[(first + offset) % len(backends)]
            netns = None if addressing.is_workstation_loopback(host) else self._node_netns
            try:
                upstream = await network.connect_socket_in(netns, host, port, timeout=CONNECT_TIMEOUT_SECONDS)
                break
            except (OSError, TimeoutError):
                continue
        if upstream is None:
            _reset(client)
            return
        relays = [
            asyncio.ensure_future(relay(client, upstream)),
            asyncio.ensure_future(relay(upstream, client)),
        ]
        try:
            for finished in asyncio.as_completed(relays):
                try:
                    await finished
                except OSError:
                    # One side failed: reset both, as the kernel's forwarding would pass the reset on.
                    for task in relays:
                        task.cancel()
                    await asyncio.gather(*relays, return_exceptions=True)
                    _reset(client)
                    _reset(upstream)
                    return
        finally:
            for task in relays:
                task.cancel()
            await asyncio.gather(*relays, return_exceptions=True)
            client.close()
            upstream.close()

    async def close(self) -> None:
        for frontend in list(self._listeners):
            self._stop_listening(frontend)
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
