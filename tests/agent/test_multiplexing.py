"""Many streams over one connection: ids, interleaving, half-close, reset, requests, pings, GOAWAY.

Aspects: the engine opens odd ids and the agent even ones, so both open at once without
collision; data of interleaved streams reaches the right stream in order; CLOSE ends one
direction only and the stream disappears when both ends closed; RESET ends both; data still in
flight after a reset is dropped and its connection credit returned; requests get their responses
by id; PING is answered by PONG automatically; after GOAWAY no new stream can be opened; the
peer's stream limit is respected both ways; large data is split into frames within the peer's limit.
"""

from __future__ import annotations

import pytest

from kubelocal_agent.protocol import connection, errors, events, frames, streams, targets

from . import wire


def test_engine_opens_odd_and_agent_even_ids_at_the_same_time():
    engine, agent = wire.handshaken_pair()
    engine_ids = [engine.open_stream(targets.connect(host="db", port=5432)) for _ in range(3)]
    agent_ids = [agent.open_stream(targets.inbound(port=8080)) for _ in range(3)]
    engine_events, agent_events = wire.settle(engine, agent)
    assert engine_ids == [1, 3, 5] and agent_ids == [2, 4, 6]
    assert [e.stream_id for e in agent_events if isinstance(e, events.StreamOpened)] == engine_ids
    assert [e.stream_id for e in engine_events if isinstance(e, events.StreamOpened)] == agent_ids
    assert engine_events[0] == events.StreamOpened(2, targets.inbound(port=8080))


def test_interleaved_data_reaches_each_stream_in_order():
    engine, agent = wire.handshaken_pair()
    first, second = (
        engine.open_stream(targets.volume(path="/a")),
        engine.open_stream(targets.volume(path="/b")),
    )
    for index in range(5):
        engine.send_data(first, f"a{index}".encode())
        engine.send_data(second, f"b{index}".encode())
    _, agent_events = wire.settle(engine, agent)
    received: dict[int, bytes] = {first: b"", second: b""}
    for event in agent_events:
        if isinstance(event, events.DataReceived):
            received[event.stream_id] += event.data
    assert received == {first: b"a0a1a2a3a4", second: b"b0b1b2b3b4"}


def test_half_close_ends_one_direction_only():
    engine, agent = wire.handshaken_pair()
    sid = engine.open_stream(targets.connect(host="db", port=1))
    engine.send_data(sid, b"request")
    engine.close_stream(sid)
    _, agent_events = wire.settle(engine, agent)
    assert agent_events[-1] == events.StreamEnded(sid)
    assert agent.stream_state(sid) is streams.State.HALF_CLOSED_REMOTE
    with pytest.raises(errors.StreamClosedError):
        engine.send_data(sid, b"more")
    agent.send_data(sid, b"response")
    agent.close_stream(sid)
    engine_events, _ = wire.settle(engine, agent)
    assert engine_events == [events.DataReceived(sid, b"response"), events.StreamEnded(sid)]
    assert sid not in engine.open_stream_ids and sid not in agent.open_stream_ids
    assert engine.stream_state(sid) is streams.State.CLOSED


def test_reset_ends_both_directions_with_its_code_and_reason():
    engine, agent = wire.handshaken_pair()
    sid = engine.open_stream(targets.connect(host="nowhere", port=1))
    wire.settle(engine, agent)
    agent.reset_stream(sid, errors.ErrorCode.CONNECT_FAILED, "connection refused")
    engine_events, _ = wire.settle(engine, agent)
    assert engine_events == [events.StreamReset(sid, errors.ErrorCode.CONNECT_FAILED, "connection refused")]
    assert sid not in engine.open_stream_ids
    agent.reset_stream(sid)  # A second reset of a closed stream is harmless.
    assert agent.data_to_send() == b""


def test_data_in_flight_after_a_reset_is_dropped_and_its_credit_returned():
    engine, agent = wire.handshaken_pair(
        agent_settings=connection.Settings(connection_window=4096, stream_window=4096)
    )
    sid = engine.open_stream(targets.connect(host="db", port=1))
    wire.settle(engine, agent)
    engine.send_data(sid, b"x" * 4096)
    agent.reset_stream(sid)
    in_flight = engine.data_to_send()
    assert agent.receive_data(in_flight) == []
    engine_events, _ = wire.settle(engine, agent)
    assert events.WindowUpdated(0, 4096) in engine_events


def test_requests_are_answered_by_id():
    engine, agent = wire.handshaken_pair()
    first = engine.send_request("env")
    second = engine.send_request("status", {"verbose": True})
    _, agent_events = wire.settle(engine, agent)
    assert agent_events == [
        events.RequestReceived(first, "env", {}),
        events.RequestReceived(second, "status", {"verbose": True}),
    ]
    agent.send_response(second, ok=True, body={"connected": True})
    agent.send_response(first, ok=False, body={"message": "nope"})
    engine_events, _ = wire.settle(engine, agent)
    assert engine_events == [
        events.ResponseReceived(second, True, {"connected": True}),
        events.ResponseReceived(first, False, {"message": "nope"}),
    ]


def test_ping_is_answered_with_the_same_opaque_bytes():
    engine, agent = wire.handshaken_pair()
    opaque = engine.ping()
    engine_events, agent_events = wire.settle(engine, agent)
    assert agent_events == [events.PingReceived(opaque)]
    assert engine_events == [events.PongReceived(opaque)]


def test_after_goaway_no_new_streams_open_on_either_side():
    engine, agent = wire.handshaken_pair()
    sid = engine.open_stream(targets.connect(host="db", port=1))
    wire.settle(engine, agent)
    agent.close(errors.ErrorCode.NO_ERROR, "replaced by a newer session")
    (terminated,) = wire.deliver(agent, engine)
    assert terminated == events.ConnectionTerminated(
        errors.ErrorCode.NO_ERROR, "replaced by a newer session", sid
    )
    with pytest.raises(errors.LocalProtocolError):
        engine.open_stream(targets.connect(host="db", port=1))
    with pytest.raises(errors.LocalProtocolError):
        agent.open_stream(targets.inbound(port=1))


def test_streams_beyond_the_receivers_limit_are_refused():
    engine, _agent = wire.handshaken_pair(agent_settings=connection.Settings(max_streams=2))
    for _ in range(2):
        engine.open_stream(targets.connect(host="db", port=1))
    with pytest.raises(errors.LocalProtocolError):
        engine.open_stream(targets.connect(host="db", port=1))
    # A peer that ignores the limit gets its extra stream refused, not the connection killed.
    _, sneaky = wire.handshaken_pair(agent_settings=connection.Settings(max_streams=1))
    sneaky.receive_data(frames.encode(frames.Open(1, targets.inbound(port=1))))
    assert sneaky.receive_data(frames.encode(frames.Open(3, targets.inbound(port=1)))) == []
    assert wire.decode_all(sneaky.data_to_send()) == [
        frames.Reset(3, errors.ErrorCode.REFUSED_STREAM, "too many streams")
    ]


def test_large_data_is_split_within_the_peers_frame_limit():
    engine, agent = wire.handshaken_pair(
        agent_settings=connection.Settings(max_payload=4096, stream_window=100_000)
    )
    sid = engine.open_stream(targets.volume(path="/"))
    wire.deliver(engine, agent)
    engine.send_data(sid, bytes(range(256)) * 100)
    sent = wire.decode_all(engine.data_to_send())
    assert all(isinstance(f, frames.Data) and len(f.data) <= 4096 for f in sent)
    assert b"".join(f.data for f in sent if isinstance(f, frames.Data)) == bytes(range(256)) * 100
