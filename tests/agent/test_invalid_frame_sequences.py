"""Frame sequences the protocol forbids, and what each one costs: a stream, or the connection.

Aspects: connection errors (GOAWAY queued, RemoteProtocolError raised, later input ignored):
a frame on a stream never opened, OPEN with this side's parity, OPEN reusing or lowering an id,
a RESPONSE to no request. Stream errors (RESET STREAM_CLOSED, connection lives): DATA or CLOSE
after the peer's CLOSE. Frames for streams already closed are ignored. Events decoded before
the error are kept on the exception. The GOAWAY names the last stream the peer opened.
"""

from __future__ import annotations

import pytest

from kubelocal_agent.protocol import errors, events, frames, targets

from . import wire


def _goaway(data: bytes) -> frames.GoAway:
    (goaway,) = [f for f in wire.decode_all(data) if isinstance(f, frames.GoAway)]
    return goaway


@pytest.mark.parametrize(
    "frame",
    [
        frames.Data(1, b"x"),
        frames.Close(1),
        frames.Reset(1, 0),
        frames.WindowUpdate(1, 5),
        frames.Data(2, b"x"),
    ],
    ids=["data", "close", "reset", "window-update", "data-on-own-parity"],
)
def test_a_frame_on_a_stream_never_opened_ends_the_connection(frame):
    _engine, agent = wire.handshaken_pair()
    with pytest.raises(errors.RemoteProtocolError):
        agent.receive_data(frames.encode(frame))
    assert _goaway(agent.data_to_send()).error_code == errors.ErrorCode.PROTOCOL_ERROR
    assert agent.terminated and agent.receive_data(frames.encode(frames.Ping(b"12345678"))) == []


def test_open_with_this_sides_parity_ends_the_connection():
    _engine, agent = wire.handshaken_pair()
    with pytest.raises(errors.RemoteProtocolError):
        agent.receive_data(frames.encode(frames.Open(2, targets.inbound(port=1))))


def test_open_reusing_or_lowering_an_id_ends_the_connection():
    _engine, agent = wire.handshaken_pair()
    agent.receive_data(frames.encode(frames.Open(5, targets.connect(host="a", port=1))))
    with pytest.raises(errors.RemoteProtocolError):
        agent.receive_data(frames.encode(frames.Open(3, targets.connect(host="a", port=1))))
    assert _goaway(agent.data_to_send()).last_stream_id == 5


def test_a_response_to_no_request_ends_the_connection():
    engine, _agent = wire.handshaken_pair()
    with pytest.raises(errors.RemoteProtocolError):
        engine.receive_data(frames.encode(frames.Response(7, True, {})))


@pytest.mark.parametrize("after_close", [frames.Data(1, b"late"), frames.Close(1)], ids=["data", "close"])
def test_a_frame_after_the_peers_close_resets_only_that_stream(after_close):
    _engine, agent = wire.handshaken_pair()
    agent.receive_data(frames.encode(frames.Open(1, targets.connect(host="a", port=1))))
    agent.receive_data(frames.encode(frames.Close(1)))
    (reset,) = agent.receive_data(frames.encode(after_close))
    assert isinstance(reset, events.StreamReset) and not reset.remote
    assert reset.error_code == errors.ErrorCode.STREAM_CLOSED
    (sent,) = wire.decode_all(agent.data_to_send())
    assert isinstance(sent, frames.Reset) and sent.error_code == errors.ErrorCode.STREAM_CLOSED
    assert not agent.terminated
    agent.receive_data(frames.encode(frames.Open(3, targets.connect(host="a", port=1))))
    assert 3 in agent.open_stream_ids


def test_frames_for_a_closed_stream_are_ignored():
    engine, agent = wire.handshaken_pair()
    sid = engine.open_stream(targets.connect(host="a", port=1))
    wire.settle(engine, agent)
    engine.reset_stream(sid)
    wire.settle(engine, agent)
    late = frames.encode(frames.WindowUpdate(sid, 10)) + frames.encode(frames.Reset(sid, 0))
    late += frames.encode(frames.Close(sid))
    assert engine.receive_data(late) == []
    assert not engine.terminated


def test_events_before_the_error_are_kept_on_the_exception():
    _engine, agent = wire.handshaken_pair()
    data = frames.encode(frames.Ping(b"12345678")) + frames.encode(frames.Data(9, b"x"))
    with pytest.raises(errors.RemoteProtocolError) as raised:
        agent.receive_data(data)
    assert raised.value.events == [events.PingReceived(b"12345678")]
