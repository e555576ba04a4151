"""Sockets made by a thread (in a pod's or the node's namespace) for a caller that may be
cancelled meanwhile: a cancelled caller's socket is closed once made, never left unowned (which
pytest reports as an unclosed-socket warning, and a long-running sandbox as a leaked descriptor);
a caller that waits gets the socket open."""

from __future__ import annotations

import asyncio
import concurrent.futures
import socket
import threading

from kubelocal.sandbox.kubelet import network


async def test_a_cancelled_callers_socket_is_closed_once_the_thread_made_it():
    release = threading.Event()
    made: list[socket.socket] = []

    def make() -> socket.socket:
        release.wait(5)
        made.append(socket.socket())
        return made[-1]

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as executor:
        caller = asyncio.ensure_future(
            network.closed_if_abandoned(asyncio.get_running_loop().run_in_executor(executor, make))
        )
        await asyncio.sleep(0.05)
        caller.cancel()
        release.set()
        await asyncio.gather(caller, return_exceptions=True)
        for _ in range(100):
            if made and made[0].fileno() == -1:
                break
            await asyncio.sleep(0.01)
    assert caller.cancelled()
    assert made and made[0].fileno() == -1


async def test_a_waiting_caller_gets_the_socket_open():
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as executor:
        sock = await network.closed_if_abandoned(
            asyncio.get_running_loop().run_in_executor(executor, socket.socket)
        )
    try:
        assert sock.fileno() >= 0
    finally:
        sock.close()
