"""The tunnel to the agent, against the real agent running on loopback (no cluster).

Aspects: control requests (env) reach the agent; outbound streams reach a cluster-side server
through the agent and back; inbound connections accepted by the agent arrive at the engine's
stream handler; when the connection under the tunnel drops, it reconnects with progress
messages and later streams work; a wrong token is refused at start, not retried.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from kubelocal.engine import tunneling
from kubelocal_agent import driving, serving
from kubelocal_agent import errors as agent_errors
from kubelocal_agent.protocol import targets

TOKEN = "t" * 32


@pytest.fixture
async def agent():
    instance = serving.Agent(
        serving.AgentConfig(
            token=TOKEN,
            service_ports=(0,),
            service_host="127.0.0.1",
            control_port=0,
            status_port=None,
            heartbeat_interval=0.5,
            heartbeat_timeout=3,
        )
    )
    await instance.start()
    yield instance
    await instance.stop()


@pytest.fixture
async def echo_server():
    async def echo(reader, writer):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


class Dialer:
    """Dials the agent's control port and keeps the writers, so a test can cut the line."""

    def __init__(self, port):
        self.port = port
        self.writers = []

    async def __call__(self):
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.writers.append(writer)
        return reader, writer


async def round_trip(tunnel, port, payload):
    stream = await tunnel.open_stream(targets.connect(host="127.0.0.1", port=port))
    await stream.write(payload)
    await stream.write_eof()
    return await asyncio.wait_for(stream.read_all(), 5)


@contextlib.asynccontextmanager
async def running(tunnel):
    await tunnel.start()
    try:
        yield tunnel
    finally:
        await tunnel.close()


async def test_requests_and_outbound_streams(agent, echo_server):
    async with running(tunneling.Tunnel(dial=Dialer(agent.control_port), token=TOKEN)) as tunnel:
        environ = (await tunnel.request("env"))["environ"]
        assert "PATH" in environ
        assert all(not name.startswith("KUBELOCAL_AGENT_") for name in environ)
        payload = b"x" * 300_000
        assert await round_trip(tunnel, echo_server, payload) == payload


async def test_inbound_connections_reach_the_stream_handler(agent):
    arrived = asyncio.Queue()

    async def on_stream(stream: driving.Stream):
        data = await stream.read_all()
        await arrived.put((stream.target, data))
        await stream.write(b"answer:" + data)
        await stream.write_eof()

    async with running(tunneling.Tunnel(dial=Dialer(agent.control_port), token=TOKEN, on_stream=on_stream)):
        service_port = agent.service_ports[0][1]
        reader, writer = await asyncio.open_connection("127.0.0.1", service_port)
        writer.write(b"hello")
        writer.write_eof()
        assert await asyncio.wait_for(reader.read(), 5) == b"answer:hello"
        writer.close()
        target, data = await arrived.get()
        assert target["kind"] == targets.INBOUND and data == b"hello"


async def test_reconnects_after_the_line_drops(agent, echo_server):
    messages = []
    dialer = Dialer(agent.control_port)
    tunnel = tunneling.Tunnel(dial=dialer, token=TOKEN, progress=messages.append, backoff_initial=0.05)
    async with running(tunnel):
        assert await round_trip(tunnel, echo_server, b"before") == b"before"
        dialer.writers[-1].transport.abort()
        assert await round_trip(tunnel, echo_server, b"after") == b"after"
        assert tunnel.reconnects == 1 and len(dialer.writers) == 2
        assert any("dropped" in message for message in messages)
        assert any("restored after" in message for message in messages)


async def test_keeps_retrying_while_the_agent_is_unreachable(agent, echo_server):
    messages = []
    dialer = Dialer(agent.control_port)
    real_port = agent.control_port
    tunnel = tunneling.Tunnel(dial=dialer, token=TOKEN, progress=messages.append, backoff_initial=0.05)
    async with running(tunnel):
        dialer.port = 1  # nothing listens there: dials fail until the port is right again
        dialer.writers[-1].transport.abort()
        await asyncio.sleep(0.3)
        assert any("attempt 2 failed" in message for message in messages)
        dialer.port = real_port
        assert await round_trip(tunnel, echo_server, b"back") == b"back"


async def test_a_wrong_token_is_refused_at_start(agent):
    tunnel = tunneling.Tunnel(dial=Dialer(agent.control_port), token="wrong" * 8)
    with pytest.raises(agent_errors.HandshakeFailed):
        await tunnel.start()
