"""Frame encoding and decoding on their own, without connection state.

Aspects: every frame type survives a round trip; malformed frames (wrong payload sizes, a stream
frame on stream 0, a connection frame on a stream, bad JSON, zero increments, the reserved stream
bit, oversized frames) raise RemoteProtocolError with the right code; unknown frame types and
flags are skipped so later versions can add them; the encoder refuses values the wire cannot carry.
"""

from __future__ import annotations

import pytest

from kubelocal_agent.protocol import errors, frames

from . import wire

ALL_FRAMES = [
    frames.Hello(1, "token", {"stream_window": 10}, {"pod": "p"}),
    frames.Open(3, {"kind": "connect", "host": "db.ns", "port": 5432}),
    frames.Data(3, b"\x00\xffpayload"),
    frames.Data(5, b""),
    frames.Close(3),
    frames.Reset(3, errors.ErrorCode.CONNECT_FAILED, "connection refused ✗"),
    frames.WindowUpdate(0, 1),
    frames.WindowUpdate(7, frames.MAX_WINDOW),
    frames.Ping(b"abcdefgh"),
    frames.Pong(b"abcdefgh"),
    frames.GoAway(9, errors.ErrorCode.NO_ERROR, "bye"),
    frames.Request(4, "env", {}),
    frames.Response(4, True, {"environ": {"A": "1"}}),
]


@pytest.mark.parametrize("frame", ALL_FRAMES, ids=lambda frame: type(frame).__name__)
def test_every_frame_survives_a_round_trip(frame):
    assert wire.decode_all(frames.encode(frame), after_hello=not isinstance(frame, frames.Hello)) == [frame]


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (wire.raw_frame(frames.FrameType.DATA, 0, b"x"), errors.ErrorCode.PROTOCOL_ERROR),
        (wire.raw_frame(frames.FrameType.PING, 1, b"12345678"), errors.ErrorCode.PROTOCOL_ERROR),
        (wire.raw_frame(frames.FrameType.PING, 0, b"1234567"), errors.ErrorCode.FRAME_SIZE_ERROR),
        (wire.raw_frame(frames.FrameType.CLOSE, 1, b"x"), errors.ErrorCode.FRAME_SIZE_ERROR),
        (wire.raw_frame(frames.FrameType.RESET, 1, b"\x00"), errors.ErrorCode.FRAME_SIZE_ERROR),
        (wire.raw_frame(frames.FrameType.GOAWAY, 0, b"\x00" * 7), errors.ErrorCode.FRAME_SIZE_ERROR),
        (wire.raw_frame(frames.FrameType.WINDOW_UPDATE, 1, b"\x00" * 4), errors.ErrorCode.FLOW_CONTROL_ERROR),
        (
            wire.raw_frame(frames.FrameType.WINDOW_UPDATE, 1, b"\x80\x00\x00\x00"),
            errors.ErrorCode.FLOW_CONTROL_ERROR,
        ),
        (wire.raw_frame(frames.FrameType.OPEN, 1, b"{not json"), errors.ErrorCode.PROTOCOL_ERROR),
        (wire.raw_frame(frames.FrameType.OPEN, 1, b'{"host":"x"}'), errors.ErrorCode.PROTOCOL_ERROR),
        (wire.raw_frame(frames.FrameType.OPEN, 1, b"[1]"), errors.ErrorCode.PROTOCOL_ERROR),
        (wire.raw_frame(frames.FrameType.REQUEST, 0, b"\x00\x00\x00\x01{}"), errors.ErrorCode.PROTOCOL_ERROR),
        (
            wire.raw_frame(frames.FrameType.RESPONSE, 0, b'\x00\x00\x00\x01{"ok":1}'),
            errors.ErrorCode.PROTOCOL_ERROR,
        ),
        (wire.raw_frame(frames.FrameType.DATA, 0x8000_0001, b"x"), errors.ErrorCode.PROTOCOL_ERROR),
    ],
    ids=[
        "data-on-stream-0",
        "ping-on-a-stream",
        "short-ping",
        "close-with-payload",
        "short-reset",
        "short-goaway",
        "zero-increment",
        "huge-increment",
        "open-bad-json",
        "open-without-kind",
        "open-not-object",
        "request-without-method",
        "response-non-boolean",
        "reserved-bit",
    ],
)
def test_malformed_frames_raise_with_their_error_code(raw, code):
    buffer = frames.FrameBuffer()
    buffer.expect_hello_only = False
    buffer.feed(raw)
    with pytest.raises(errors.RemoteProtocolError) as raised:
        buffer.frames()
    assert raised.value.error_code == code


def test_an_oversized_frame_is_refused_before_its_payload_arrives():
    buffer = frames.FrameBuffer(max_payload=2048)
    buffer.expect_hello_only = False
    buffer.feed(frames.HEADER.pack(2049, frames.FrameType.DATA, 0, 1))
    with pytest.raises(errors.RemoteProtocolError) as raised:
        buffer.frames()
    assert raised.value.error_code == errors.ErrorCode.FRAME_SIZE_ERROR


def test_unknown_types_and_flags_are_skipped():
    raw = wire.raw_frame(42, 0, b"future") + wire.raw_frame(frames.FrameType.DATA, 1, b"x", flags=0xFF)
    assert wire.decode_all(raw) == [None, frames.Data(1, b"x")]


def test_a_partial_frame_waits_for_the_rest():
    buffer = frames.FrameBuffer()
    buffer.expect_hello_only = False
    encoded = frames.encode(frames.Data(1, b"hello"))
    buffer.feed(encoded[:-1])
    assert buffer.frames() == []
    buffer.feed(encoded[-1:])
    assert buffer.frames() == [(frames.FrameType.DATA, frames.Data(1, b"hello"))]


@pytest.mark.parametrize(
    "frame",
    [frames.Data(0, b"x"), frames.WindowUpdate(1, 0), frames.Ping(b"short"), frames.Close(1 << 31)],
    ids=["data-stream-0", "zero-increment", "short-ping", "stream-id-too-large"],
)
def test_the_encoder_refuses_what_the_wire_cannot_carry(frame):
    with pytest.raises(errors.LocalProtocolError):
        frames.encode(frame)


def test_unknown_error_codes_are_described_not_rejected():
    assert errors.describe(errors.ErrorCode.AUTH_FAILED) == "AUTH_FAILED"
    assert errors.describe(999) == "UNKNOWN(999)"
