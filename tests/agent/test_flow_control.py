"""Credit-based flow control, per stream and per connection.

Aspects: initial credit is what the receiver announced; a sender cannot queue beyond credit
(FlowControlError, nothing queued); credit comes back only when the application acknowledges
consumed data, batched at half a window; a stream whose reader is stalled holds only its own
window, so another stream keeps flowing; the connection window caps all unread data; a peer
sending beyond credit or granting beyond 2^31-1 is a FLOW_CONTROL_ERROR; acknowledging twice
does not inflate credit; credit is not granted on a stream the peer closed; the window of a stream
whose reader keeps up grows to STREAM_WINDOW_GROWTH times its initial size and no further, that of
a lagging reader never grows, and all growth together stays within half the connection window.
"""

from __future__ import annotations

import pytest

from kubelocal_agent.protocol import connection, errors, events, frames, targets, windows

from . import wire

SMALL = connection.Settings(stream_window=1024, connection_window=4096)


def _open(engine: connection.Connection, agent: connection.Connection) -> int:
    sid = engine.open_stream(targets.connect(host="db", port=5432))
    wire.deliver(engine, agent)
    return sid


def test_initial_credit_is_what_the_receiver_announced():
    engine, agent = wire.handshaken_pair(agent_settings=SMALL)
    assert engine.send_credit(_open(engine, agent)) == 1024


def test_a_sender_cannot_exceed_credit_and_nothing_is_queued():
    engine, agent = wire.handshaken_pair(agent_settings=SMALL)
    sid = _open(engine, agent)
    engine.send_data(sid, b"x" * 1000)
    with pytest.raises(errors.FlowControlError):
        engine.send_data(sid, b"x" * 25)
    assert engine.send_credit(sid) == 24
    assert (
        sum(len(f.data) for f in wire.decode_all(engine.data_to_send()) if isinstance(f, frames.Data)) == 1000
    )


def test_credit_returns_only_when_the_application_consumes():
    engine, agent = wire.handshaken_pair(agent_settings=SMALL)
    sid = _open(engine, agent)
    engine.send_data(sid, b"x" * 1024)
    wire.settle(engine, agent)
    assert engine.send_credit(sid) == 0
    agent.acknowledge_received_data(sid, 100)
    wire.settle(engine, agent)
    assert engine.send_credit(sid) == 0, "small acknowledgements are batched"
    agent.acknowledge_received_data(sid, 412)
    engine_events, _ = wire.settle(engine, agent)
    assert events.WindowUpdated(sid, 512) in engine_events
    assert engine.send_credit(sid) == 512


def test_a_stalled_stream_does_not_stall_another():
    engine, agent = wire.handshaken_pair(agent_settings=SMALL)
    slow, fast = _open(engine, agent), _open(engine, agent)
    engine.send_data(slow, b"s" * 1024)  # Never read by the agent's application.
    moved = 0
    for _ in range(50):
        chunk = engine.send_credit(fast)
        engine.send_data(fast, b"f" * chunk)
        _, agent_events = wire.settle(engine, agent)
        for event in agent_events:
            if isinstance(event, events.DataReceived) and event.stream_id == fast:
                moved += len(event.data)
                agent.acknowledge_received_data(fast, len(event.data))
        wire.settle(engine, agent)
    assert engine.send_credit(slow) == 0
    assert moved >= 50 * 512


def test_the_connection_window_caps_all_unread_data():
    engine, agent = wire.handshaken_pair(agent_settings=SMALL)
    sids = [_open(engine, agent) for _ in range(6)]
    sent = 0
    for sid in sids:
        credit = engine.send_credit(sid)
        engine.send_data(sid, b"x" * credit)
        sent += credit
    wire.settle(engine, agent)
    assert sent == 4096
    assert all(engine.send_credit(sid) == 0 for sid in sids)


def test_a_peer_sending_beyond_credit_is_a_flow_control_error():
    engine, agent = wire.handshaken_pair(agent_settings=SMALL)
    sid = _open(engine, agent)
    with pytest.raises(errors.RemoteProtocolError) as raised:
        agent.receive_data(frames.encode(frames.Data(sid, b"x" * 1025)))
    assert raised.value.error_code == errors.ErrorCode.FLOW_CONTROL_ERROR
    (goaway,) = wire.decode_all(agent.data_to_send())
    assert isinstance(goaway, frames.GoAway) and goaway.error_code == errors.ErrorCode.FLOW_CONTROL_ERROR


def test_a_grant_beyond_the_maximum_window_is_a_flow_control_error():
    engine, agent = wire.handshaken_pair()
    sid = _open(engine, agent)
    with pytest.raises(errors.RemoteProtocolError) as raised:
        engine.receive_data(frames.encode(frames.WindowUpdate(sid, frames.MAX_WINDOW)))
    assert raised.value.error_code == errors.ErrorCode.FLOW_CONTROL_ERROR


def test_acknowledging_twice_does_not_inflate_credit():
    window = windows.ReceiveWindow(1000)
    window.receive(600)
    assert window.consume(600) == 600
    assert window.consume(600) == 0
    assert window.available == 1000


def test_no_stream_credit_is_granted_after_the_peer_closed():
    engine, agent = wire.handshaken_pair(
        agent_settings=connection.Settings(stream_window=1024, connection_window=2048)
    )
    sid = _open(engine, agent)
    engine.send_data(sid, b"x" * 1024)
    engine.close_stream(sid)
    wire.settle(engine, agent)
    agent.acknowledge_received_data(sid, 1024)
    assert wire.decode_all(agent.data_to_send()) == [frames.WindowUpdate(0, 1024)]


def _pump(engine: connection.Connection, agent: connection.Connection, sid: int, *, unread: int = 0) -> int:
    """Send what credit allows; the agent's application reads all but `unread` bytes of it.
    Returns the credit the engine had before sending."""
    credit = engine.send_credit(sid)
    engine.send_data(sid, b"x" * credit)
    _, agent_events = wire.settle(engine, agent)
    received = sum(len(e.data) for e in agent_events if isinstance(e, events.DataReceived))
    agent.acknowledge_received_data(sid, received - unread)
    wire.settle(engine, agent)
    return credit


def test_a_window_grows_while_its_reader_keeps_up_and_stops_at_its_limit():
    settings = connection.Settings(stream_window=1024, connection_window=64 * 1024)
    engine, agent = wire.handshaken_pair(agent_settings=settings)
    sid = _open(engine, agent)
    credits = [_pump(engine, agent, sid) for _ in range(8)]
    assert credits[0] == 1024
    assert max(credits) == 1024 * connection.STREAM_WINDOW_GROWTH
    assert credits[-1] == credits[-2] == 1024 * connection.STREAM_WINDOW_GROWTH


def test_a_lagging_readers_window_never_grows():
    settings = connection.Settings(stream_window=1024, connection_window=64 * 1024)
    engine, agent = wire.handshaken_pair(agent_settings=settings)
    sid = _open(engine, agent)
    # The application leaves 300 bytes unread each time (more than an eighth of the window).
    credits = [_pump(engine, agent, sid, unread=300) for _ in range(3)]
    assert credits[0] == 1024
    assert all(credit <= 1024 for credit in credits)


def test_all_growth_together_stays_within_half_the_connection_window():
    settings = connection.Settings(stream_window=1024, connection_window=8 * 1024)
    engine, agent = wire.handshaken_pair(agent_settings=settings)
    sids = [_open(engine, agent) for _ in range(4)]
    for _ in range(6):
        for sid in sids:
            _pump(engine, agent, sid)
    extra = sum(engine.send_credit(sid) - 1024 for sid in sids)
    assert 0 < extra <= 4 * 1024
