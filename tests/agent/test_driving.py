"""The asyncio driver: Sessions over a socket pair, used the way the agent and the engine use them.

Aspects: streams opened by either side carry data both ways with EOF; many concurrent streams
stay separate; a stream nobody reads does not stall another; a reset reaches the other side with
its code and reason; control requests are answered, failures raise RequestFailed; a wrong token
fails the handshake on both sides; a peer that goes silent is declared dead by the heartbeat; a
closed peer fails every stream and pending request with SessionClosed; splice carries a TCP
connection through a stream and passes EOF and resets on, also as a TcpConnection (open_tcp,
serve_tcp) with more data than its read buffer holds, the slow side pausing the other; a peer
breaking the protocol ends the session, and the other side learns why from the GOAWAY; unread
data of a reset or abandoned stream
gives its connection credit back; beyond the peer's stream limit open_stream raises StreamRefused
until a stream ends; closing a stream after reading it frees it.
"""

from __future__ import annotations

import asyncio
import os
import socket
import struct

import pytest

from kubelocal_agent import driving, errors
from kubelocal_agent.protocol import connection, frames, targets
from kubelocal_agent.protocol import errors as protocol_errors

from . import sessions, wire


async def test_a_stream_carries_data_both_ways_with_eof():
    async with sessions.session_pair(on_stream=sessions.echo) as (engine, _agent):
        stream = await engine.open_stream(targets.connect(host="db", port=5432))
        await stream.write(b"hello " * 1000)
        await stream.write_eof()
        assert await stream.read_all() == b"hello " * 1000
        assert stream.at_eof


async def test_the_agent_opens_streams_to_the_engine_too():
    async with sessions.session_pair() as (engine, agent):
        received: asyncio.Queue[driving.Stream] = asyncio.Queue()
        done = asyncio.Event()

        async def hand_over(stream: driving.Stream) -> None:
            await received.put(stream)
            await done.wait()  # The handler owns the stream: returning would end it.

        engine._on_stream = hand_over
        outgoing = await agent.open_stream(targets.inbound(port=8080, peer="10.0.0.9:5555"))
        await outgoing.write(b"GET /")
        await outgoing.write_eof()
        incoming = await asyncio.wait_for(received.get(), 5)
        assert incoming.target == targets.inbound(port=8080, peer="10.0.0.9:5555")
        assert incoming.stream_id % 2 == 0
        assert await incoming.read_all() == b"GET /"
        done.set()


async def test_many_concurrent_streams_stay_separate():
    async with sessions.session_pair(on_stream=sessions.echo) as (engine, _agent):

        async def exchange(index: int) -> bytes:
            stream = await engine.open_stream(targets.connect(host="h", port=1))
            await stream.write(str(index).encode() * 500)
            await stream.write_eof()
            return await stream.read_all()

        results = await asyncio.gather(*(exchange(i) for i in range(200)))
        assert results == [str(i).encode() * 500 for i in range(200)]


async def test_a_stream_nobody_reads_does_not_stall_another():
    small = connection.Settings(stream_window=64 * 1024, connection_window=1024 * 1024)
    unread: list[driving.Stream] = []

    async def handler(stream: driving.Stream) -> None:
        if stream.target["host"] == "slow":
            unread.append(stream)
            await asyncio.sleep(3600)
        await sessions.echo(stream)

    async with sessions.session_pair(on_stream=handler, agent_settings=small) as (engine, _agent):
        slow = await engine.open_stream(targets.connect(host="slow", port=1))
        blocked = asyncio.ensure_future(slow.write(b"s" * (1024 * 1024)))
        await asyncio.sleep(0.05)
        assert not blocked.done(), "the slow stream's writer must wait for credit"
        fast = await engine.open_stream(targets.connect(host="fast", port=1))
        payload = b"f" * (2 * 1024 * 1024)
        writer = asyncio.ensure_future(fast.write(payload))
        received = bytearray()
        while len(received) < len(payload):
            received += await asyncio.wait_for(fast.read(), 5)
        await writer
        assert bytes(received) == payload
        assert not blocked.done()
        blocked.cancel()


async def test_a_reset_reaches_the_other_side_with_its_code():
    async def refuse(stream: driving.Stream) -> None:
        stream.reset(protocol_errors.ErrorCode.CONNECT_FAILED, "db:5432: connection refused")

    async with sessions.session_pair(on_stream=refuse) as (engine, _agent):
        stream = await engine.open_stream(targets.connect(host="db", port=5432))
        with pytest.raises(errors.StreamReset) as raised:
            await asyncio.wait_for(stream.read(), 5)
        assert raised.value.error_code == protocol_errors.ErrorCode.CONNECT_FAILED
        assert "connection refused" in str(raised.value)
        with pytest.raises(errors.StreamReset):
            await stream.write(b"x")


async def test_requests_are_answered_and_failures_raise():
    async def answer(method: str, params: dict) -> dict:
        if method == "env":
            return {"environ": {"A": "1"}, "echo": params}
        raise ValueError(f"unknown method {method!r}")

    async with sessions.session_pair(on_request=answer) as (engine, agent):
        assert await engine.request("env", {"x": 1}) == {"environ": {"A": "1"}, "echo": {"x": 1}}
        with pytest.raises(errors.RequestFailed, match="unknown method 'nope'"):
            await engine.request("nope")
        with pytest.raises(errors.RequestFailed, match="unknown method"):
            await agent.request("status")  # The engine has no request handler.


async def test_a_wrong_token_fails_the_handshake_on_both_sides():
    engine_socket, agent_socket = socket.socketpair()
    engine_io = await asyncio.open_connection(sock=engine_socket)
    agent_io = await asyncio.open_connection(sock=agent_socket)
    results = await asyncio.gather(
        driving.Session.start(
            reader=engine_io[0], writer=engine_io[1], role=connection.Role.ENGINE, token=wire.TOKEN
        ),
        driving.Session.start(
            reader=agent_io[0], writer=agent_io[1], role=connection.Role.AGENT, token="other"
        ),
        return_exceptions=True,
    )
    assert all(isinstance(result, errors.HandshakeFailed) for result in results)
    assert all(result.error_code == protocol_errors.ErrorCode.AUTH_FAILED for result in results)  # type: ignore[union-attr]
    assert all(wire.TOKEN not in str(result) and "other" not in str(result) for result in results)


async def test_a_silent_peer_is_declared_dead_by_the_heartbeat():
    engine_socket, agent_socket = socket.socketpair()
    engine_reader, engine_writer = await asyncio.open_connection(sock=engine_socket)
    # A peer that completes the handshake and then never says anything again.
    silent = connection.Connection(role=connection.Role.AGENT, token=wire.TOKEN)
    silent_reader, silent_writer = await asyncio.open_connection(sock=agent_socket)

    async def silent_peer() -> None:
        while not silent.handshake_complete:
            silent.receive_data(await silent_reader.read(65536))
        silent_writer.write(silent.data_to_send())

    peer = asyncio.ensure_future(silent_peer())
    engine = await driving.Session.start(
        reader=engine_reader,
        writer=engine_writer,
        role=connection.Role.ENGINE,
        token=wire.TOKEN,
        heartbeat_interval=0.05,
        heartbeat_timeout=0.3,
    )
    await peer
    await asyncio.wait_for(engine.wait_closed(), 5)
    assert "heartbeat timeout" in engine.close_reason
    silent_writer.close()


async def test_a_closed_peer_fails_every_stream_and_pending_request():
    async def never_answer(method: str, params: dict) -> dict:
        await asyncio.sleep(3600)
        return {}

    async def hold(stream: driving.Stream) -> None:
        await asyncio.sleep(3600)

    async with sessions.session_pair(on_stream=hold, on_request=never_answer) as (engine, agent):
        stream = await engine.open_stream(targets.connect(host="db", port=1))
        pending = asyncio.ensure_future(engine.request("env"))
        await asyncio.sleep(0.05)
        await agent.close(protocol_errors.ErrorCode.NO_ERROR, "agent stopping")
        with pytest.raises(errors.SessionClosed):
            await asyncio.wait_for(stream.read(), 5)
        with pytest.raises(errors.SessionClosed):
            await asyncio.wait_for(pending, 5)
        await asyncio.wait_for(engine.wait_closed(), 5)
        assert "agent stopping" in engine.close_reason
        with pytest.raises(errors.SessionClosed):
            await engine.open_stream(targets.connect(host="db", port=1))


async def test_splice_carries_a_tcp_connection_through_a_stream():
    async def tcp_echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data.upper())
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(tcp_echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]

    async def dial(stream: driving.Stream) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", stream.target["port"])
        await driving.splice(stream, reader, writer)

    async with server, sessions.session_pair(on_stream=dial) as (engine, _agent):
        stream = await engine.open_stream(targets.connect(host="127.0.0.1", port=port))
        await stream.write(b"ping through the tunnel")
        await stream.write_eof()
        assert await asyncio.wait_for(stream.read_all(), 5) == b"PING THROUGH THE TUNNEL"


async def test_splice_carries_tcp_connections_both_ways_with_half_closes_and_back_pressure():
    payload = os.urandom(6 * driving.TcpConnection.HIGH_WATER + 1234)
    at_server: list[bytes] = []

    async def sink_then_answer(tcp: driving.TcpConnection) -> None:
        # Reads slowly at first, so the client side must pause; answers only after the client's EOF.
        parts = []
        while chunk := await tcp.read():
            parts.append(chunk)
            if len(parts) < 4:
                await asyncio.sleep(0.05)
        at_server.append(b"".join(parts))
        tcp.write(b"got it")
        await tcp.drain()
        tcp.write_eof()
        assert await tcp.read() == b""
        tcp.close()
        await tcp.wait_closed()

    handlers: set[asyncio.Task] = set()
    server = await driving.serve_tcp(
        lambda tcp: handlers.add(asyncio.ensure_future(sink_then_answer(tcp))), "127.0.0.1", 0
    )
    port = server.sockets[0].getsockname()[1]

    async def dial(stream: driving.Stream) -> None:
        tcp = await driving.open_tcp("127.0.0.1", stream.target["port"])
        await driving.splice(stream, tcp, tcp)

    async with server, sessions.session_pair(on_stream=dial) as (engine, _agent):
        stream = await engine.open_stream(targets.connect(host="127.0.0.1", port=port))
        await asyncio.wait_for(stream.write(payload), 10)
        await stream.write_eof()
        assert await asyncio.wait_for(stream.read_all(), 10) == b"got it"
    await asyncio.gather(*handlers)
    assert at_server == [payload]


async def test_a_tcp_connection_reset_by_its_peer_resets_the_stream():
    accepted: asyncio.Future[driving.TcpConnection] = asyncio.get_running_loop().create_future()
    server = await driving.serve_tcp(accepted.set_result, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]

    async def dial(stream: driving.Stream) -> None:
        tcp = await driving.open_tcp("127.0.0.1", stream.target["port"])
        await driving.splice(stream, tcp, tcp)

    async with server, sessions.session_pair(on_stream=dial) as (engine, _agent):
        stream = await engine.open_stream(targets.connect(host="127.0.0.1", port=port))
        await stream.write(b"hello")
        peer = await asyncio.wait_for(accepted, 5)
        assert await asyncio.wait_for(peer.read(), 5) == b"hello"
        linger_zero = struct.pack("ii", 1, 0)  # close with a TCP reset, not a FIN
        peer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger_zero)
        peer.transport.abort()
        with pytest.raises(errors.StreamReset):
            await asyncio.wait_for(stream.read_all(), 5)


async def test_a_peer_breaking_the_protocol_ends_the_session_with_goaway():
    engine_socket, agent_socket = socket.socketpair()
    engine_reader, engine_writer = await asyncio.open_connection(sock=engine_socket)
    agent_io = await asyncio.open_connection(sock=agent_socket)
    engine_start = driving.Session.start(
        reader=engine_reader, writer=engine_writer, role=connection.Role.ENGINE, token=wire.TOKEN
    )
    agent_start = driving.Session.start(
        reader=agent_io[0], writer=agent_io[1], role=connection.Role.AGENT, token=wire.TOKEN
    )
    engine, agent = await asyncio.gather(engine_start, agent_start)
    engine_writer.write(wire.raw_frame(frames.FrameType.DATA, 99, b"on a stream never opened"))
    await asyncio.wait_for(agent.wait_closed(), 5)
    await asyncio.wait_for(engine.wait_closed(), 5)
    assert "protocol error" in agent.close_reason
    assert "PROTOCOL_ERROR" in engine.close_reason and "never opened" in engine.close_reason


async def test_unread_data_of_reset_or_abandoned_streams_gives_its_credit_back():
    # A connection window of two stream windows: two leaked streams would stall the session.
    tight = connection.Settings(stream_window=64 * 1024, connection_window=128 * 1024)
    buffered: asyncio.Queue[driving.Stream] = asyncio.Queue()

    async def handler(stream: driving.Stream) -> None:
        if stream.target["host"] == "echo":
            await sessions.echo(stream)
            return
        while stream._buffered < 64 * 1024:  # Wait until its whole window sits unread.
            await asyncio.sleep(0.01)
        if stream.target["host"] == "reset":
            stream.reset(protocol_errors.ErrorCode.CANCEL, "not interested")
        await buffered.put(stream)  # "abandon" just returns, leaving the data unread.

    async with sessions.session_pair(on_stream=handler, agent_settings=tight) as (engine, _agent):
        for host in ("reset", "abandon") * 3:
            stream = await engine.open_stream(targets.connect(host=host, port=1))
            await asyncio.wait_for(stream.write(b"x" * 64 * 1024), 5)
            await asyncio.wait_for(buffered.get(), 5)
        stream = await engine.open_stream(targets.connect(host="echo", port=1))
        payload = os.urandom(512 * 1024)
        writer = asyncio.ensure_future(stream.write(payload))
        received = bytearray()
        while len(received) < len(payload):
            received += await asyncio.wait_for(stream.read(), 5)
        await writer
        assert bytes(received) == payload


async def test_beyond_the_peers_stream_limit_open_stream_is_refused_until_one_ends():
    async with sessions.session_pair(
        on_stream=sessions.echo, agent_settings=connection.Settings(max_streams=2)
    ) as (engine, _agent):
        first = await engine.open_stream(targets.connect(host="h", port=1))
        await engine.open_stream(targets.connect(host="h", port=1))
        with pytest.raises(errors.StreamRefused, match="at most 2"):
            await engine.open_stream(targets.connect(host="h", port=1))
        await first.write_eof()
        assert await asyncio.wait_for(first.read_all(), 5) == b""
        third = await engine.open_stream(targets.connect(host="h", port=1))
        assert third.stream_id == 5


async def test_closing_a_read_stream_frees_it_for_the_peers_limit():
    async def answer_once(stream: driving.Stream) -> None:
        await stream.write(b"tar bytes")  # Then returns: the handler's end sends EOF.

    async with sessions.session_pair(
        on_stream=answer_once, agent_settings=connection.Settings(max_streams=1)
    ) as (engine, _agent):
        for _ in range(3):
            stream = await engine.open_stream(targets.volume(path="/data"))
            assert await asyncio.wait_for(stream.read_all(), 5) == b"tar bytes"
            await stream.close()
            await stream.close()  # Twice is harmless.
