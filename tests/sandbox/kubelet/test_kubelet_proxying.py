"""The service proxy's relay, on loopback TCP connections (no namespaces needed).

Aspects: every byte arrives in order in both directions at once (more than a pipe holds, so the
relay waits on a full target), a half-close is passed on while the other direction keeps flowing,
a peer's reset ends the relay with an error, and the copy fallback (no splice, or no pipe) behaves
the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import struct

import pytest

from kubelocal.sandbox.kubelet import proxying


@contextlib.asynccontextmanager
async def _connected_pair():
    """(workstation side, relay side) of one loopback TCP connection, both non-blocking."""
    loop = asyncio.get_running_loop()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    outer = socket.socket()
    outer.setblocking(False)
    try:
        accepting = asyncio.ensure_future(loop.sock_accept(listener))
        await loop.sock_connect(outer, listener.getsockname())
        inner, _ = await accepting
        inner.setblocking(False)
        try:
            yield outer, inner
        finally:
            inner.close()
    finally:
        outer.close()
        listener.close()


async def _receive_all(sock: socket.socket) -> bytes:
    loop = asyncio.get_running_loop()
    parts = []
    while chunk := await loop.sock_recv(sock, 1 << 20):
        parts.append(chunk)
    return b"".join(parts)


@pytest.fixture(params=["splice", "copy"])
def mode(request, monkeypatch):
    if request.param == "copy":
        monkeypatch.setattr(proxying, "_SPLICE", None)
    elif proxying._SPLICE is None:
        pytest.skip("os.splice is not available here")
    return request.param


async def test_relays_both_directions_and_passes_half_closes_on(mode):
    loop = asyncio.get_running_loop()
    upward = os.urandom(3 * proxying.PIPE_SIZE + 12345)
    downward = os.urandom(2 * proxying.PIPE_SIZE + 777)
    async with _connected_pair() as (client, client_side), _connected_pair() as (backend, backend_side):
        relays = asyncio.gather(
            proxying.relay(client_side, backend_side), proxying.relay(backend_side, client_side)
        )

        async def client_sends() -> None:
            await loop.sock_sendall(client, upward)
            client.shutdown(socket.SHUT_WR)

        async def backend_answers() -> bytes:
            # Reads everything up to the client's EOF first: the other direction must stay open.
            received = await _receive_all(backend)
            await loop.sock_sendall(backend, downward)
            backend.shutdown(socket.SHUT_WR)
            return received

        sending = asyncio.ensure_future(client_sends())
        at_backend, at_client = await asyncio.wait_for(
            asyncio.gather(backend_answers(), _receive_all(client)), 30
        )
        await sending
        await asyncio.wait_for(relays, 5)
    assert at_backend == upward
    assert at_client == downward


async def test_a_reset_peer_ends_the_relay_with_an_error(mode):
    loop = asyncio.get_running_loop()
    async with _connected_pair() as (client, client_side), _connected_pair() as (backend, backend_side):
        relaying = asyncio.ensure_future(proxying.relay(backend_side, client_side))
        await loop.sock_sendall(backend, b"x" * 1000)
        assert await loop.sock_recv(client, 1000)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
        with pytest.raises(OSError):
            for _ in range(200):  # the reset shows on a later write
                await loop.sock_sendall(backend, b"y" * 65536)
                await asyncio.sleep(0.005)
                if relaying.done():
                    break
            await asyncio.wait_for(relaying, 5)
