"""Helpers for driver tests: an engine session and an agent session over a socket pair."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

from kubelocal_agent import driving
from kubelocal_agent.protocol import connection

from . import wire


async def echo(stream: driving.Stream) -> None:
    """Stream handler that sends back everything, then EOF."""
    while data := await stream.read():
        await stream.write(data)
    await stream.write_eof()


@contextlib.asynccontextmanager
async def session_pair(
    *,
    agent_token: str = wire.TOKEN,
    engine_settings: connection.Settings | None = None,
    agent_settings: connection.Settings | None = None,
    **agent_kwargs: Any,
) -> AsyncIterator[tuple[driving.Session, driving.Session]]:
    engine_socket, agent_socket = socket.socketpair()
    engine_reader, engine_writer = await asyncio.open_connection(sock=engine_socket)
    agent_reader, agent_writer = await asyncio.open_connection(sock=agent_socket)
    engine_start = driving.Session.start(
        reader=engine_reader,
        writer=engine_writer,
        role=connection.Role.ENGINE,
        token=wire.TOKEN,
        settings=engine_settings,
        handshake_timeout=5,
    )
    agent_start = driving.Session.start(
        reader=agent_reader,
        writer=agent_writer,
        role=connection.Role.AGENT,
        token=agent_token,
        settings=agent_settings,
        handshake_timeout=5,
        **agent_kwargs,
    )
    engine, agent = await asyncio.gather(engine_start, agent_start)
    try:
        yield engine, agent
    finally:
        await engine.close()
        await agent.close()
