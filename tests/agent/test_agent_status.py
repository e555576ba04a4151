"""The agent's session status, in process (the restore Job decides from it).

Aspects: before any session the agent is idle since it started; a session shows connected, since
when, its peer, its stream count and no idle time; refused handshakes are counted; a session that
has just dropped reads as idle for (about) 0 s, never as idle since the agent started, so a
restore cannot fire on a mere reconnect; the status holds no token.
"""

from __future__ import annotations

import asyncio
import json
import time

from kubelocal_agent import driving, errors, serving
from kubelocal_agent.protocol import connection

from . import sessions, wire


async def _started_agent() -> serving.Agent:
    agent = serving.Agent(
        serving.AgentConfig(token=wire.TOKEN, control_port=0, status_port=None, service_host="127.0.0.1")
    )
    await agent.start()
    return agent


async def _engine(agent: serving.Agent, *, token: str = wire.TOKEN) -> driving.Session:
    reader, writer = await asyncio.open_connection("127.0.0.1", agent.control_port)
    return await driving.Session.start(
        reader=reader, writer=writer, role=connection.Role.ENGINE, token=token, on_stream=sessions.echo
    )


async def test_status_follows_the_session_and_a_fresh_drop_reads_as_idle_zero():
    agent = await _started_agent()
    try:
        agent._disconnected_since = time.monotonic() - 3600  # As if started an hour ago.
        assert agent.status()["idle_seconds"] >= 3600
        try:
            await _engine(agent, token="wrong")
        except errors.HandshakeFailed:
            pass
        engine = await _engine(agent)
        await asyncio.sleep(0.05)
        status = agent.status()
        assert status["connected"] and status["idle_seconds"] == 0
        assert status["peer"].startswith("127.0.0.1:") and status["connected_since"] <= time.time()
        assert status["sessions_accepted"] == 1 and status["handshakes_refused"] == 1
        assert wire.TOKEN not in json.dumps(status)
        assert agent._session is not None
        # Exactly what the read loop does when the connection drops; status is read before the
        # agent's bookkeeping task had a chance to run.
        agent._session._shutdown("connection lost")
        just_dropped = agent.status()
        assert not just_dropped["connected"] and just_dropped["idle_seconds"] < 60
        await asyncio.wait_for(engine.wait_closed(), 5)
        await asyncio.sleep(0.05)
        assert agent.status()["idle_seconds"] < 60
    finally:
        await agent.stop()
