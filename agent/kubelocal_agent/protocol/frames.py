"""Frames: the unit on the wire, their encoding and their decoding. No state beyond a byte buffer.

Every frame is a 10-byte header followed by a payload::

    +--------------------------+--------+--------+--------------------------+
    | payload length (u32, BE) | type u8| flags u8| stream id (u32, BE)     |
    +--------------------------+--------+--------+--------------------------+
    | payload (length bytes)                                                |

The high bit of the stream id is reserved and must be zero. Stream 0 is the connection itself.
Flags are reserved in version 1: senders write 0, receivers ignore them (so a later version may
define flags safely). Frames of an unknown type are skipped by the decoder for the same reason.

Decoding checks everything that can be checked on one frame alone (sizes, stream 0 or not,
well-formed payloads) and raises `errors.RemoteProtocolError`; rules that need state (stream
states, windows, the handshake) belong to `connection`.
"""

from __future__ import annotations

import collections
import dataclasses
import enum
import json
import struct
from typing import Any

from kubelocal_agent.protocol import errors

HEADER = struct.Struct("!IBBI")
HEADER_SIZE = HEADER.size
STREAM_ID_MASK = 0x7FFF_FFFF
MAX_WINDOW = 0x7FFF_FFFF
# The absolute ceiling of a payload, whatever the peer announces: bounds the memory one frame can
# make a receiver buffer before it is even decoded.
MAX_PAYLOAD_CEILING = 16 * 1024 * 1024
DEFAULT_MAX_PAYLOAD = 1024 * 1024
# HELLO is read before the peer has proven anything: keep what an unauthenticated peer can send small.
MAX_HELLO_PAYLOAD = 64 * 1024

_U32 = struct.Struct("!I")
_U32_PAIR = struct.Struct("!II")


class FrameType(enum.IntEnum):
    HELLO = 0
    OPEN = 1
    DATA = 2
    CLOSE = 3
    RESET = 4
    WINDOW_UPDATE = 5
    PING = 6
    PONG = 7
    GOAWAY = 8
    REQUEST = 9
    RESPONSE = 10


@dataclasses.dataclass(frozen=True)
class Hello:
    """First frame each way: the sender's protocol version, the session token and its settings."""

    version: int
    token: str = dataclasses.field(repr=False)
    settings: dict[str, int] = dataclasses.field(default_factory=dict)
    info: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Open:
    stream_id: int
    target: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Data:
    stream_id: int
    data: bytes


@dataclasses.dataclass(frozen=True)
class Close:
    """Half-close: the sender will send no more DATA on this stream (EOF in one direction)."""

    stream_id: int


@dataclasses.dataclass(frozen=True)
class Reset:
    """Abort a stream in both directions."""

    stream_id: int
    error_code: int
    reason: str = ""


@dataclasses.dataclass(frozen=True)
class WindowUpdate:
    """Grant `increment` more bytes of credit on a stream, or on the connection when stream_id is 0."""

    stream_id: int
    increment: int


@dataclasses.dataclass(frozen=True)
class Ping:
    opaque: bytes


@dataclasses.dataclass(frozen=True)
class Pong:
    opaque: bytes


@dataclasses.dataclass(frozen=True)
class GoAway:
    last_stream_id: int
    error_code: int
    reason: str = ""


@dataclasses.dataclass(frozen=True)
class Request:
    request_id: int
    method: str
    params: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Response:
    request_id: int
    ok: bool
    body: dict[str, Any]


Frame = Hello | Open | Data | Close | Reset | WindowUpdate | Ping | Pong | GoAway | Request | Response

_STREAM_FRAMES = {FrameType.OPEN, FrameType.DATA, FrameType.CLOSE, FrameType.RESET}


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def _header(frame_type: FrameType, stream_id: int, payload: bytes) -> bytes:
    return HEADER.pack(len(payload), frame_type, 0, stream_id) + payload


def encode_data(stream_id: int, data: bytes | memoryview) -> tuple[bytes, bytes | memoryview]:
    """The header and the payload of a DATA frame, apart, so bulk data is not copied to join them."""
    _check_stream_id(stream_id, nonzero=True)
    return HEADER.pack(len(data), FrameType.DATA, 0, stream_id), data


def encode(frame: Frame) -> bytes:
    """The bytes of one frame. Raises `errors.LocalProtocolError` for values the wire cannot carry."""
    match frame:
        case Data(stream_id=sid, data=data):
            _check_stream_id(sid, nonzero=True)
            return _header(FrameType.DATA, sid, bytes(data))
        case WindowUpdate(stream_id=sid, increment=inc):
            _check_stream_id(sid, nonzero=False)
            if not 1 <= inc <= MAX_WINDOW:
                raise errors.LocalProtocolError(f"window increment {inc} outside 1..{MAX_WINDOW}")
            return _header(FrameType.WINDOW_UPDATE, sid, _U32.pack(inc))
        case Open(stream_id=sid, target=target):
            _check_stream_id(sid, nonzero=True)
            return _header(FrameType.OPEN, sid, _json(target))
        case Close(stream_id=sid):
            _check_stream_id(sid, nonzero=True)
            return _header(FrameType.CLOSE, sid, b"")
        case Reset(stream_id=sid, error_code=code, reason=reason):
            _check_stream_id(sid, nonzero=True)
            return _header(FrameType.RESET, sid, _U32.pack(code) + reason.encode())
        case Ping(opaque=opaque):
            return _header(FrameType.PING, 0, _check_opaque(opaque))
        case Pong(opaque=opaque):
            return _header(FrameType.PONG, 0, _check_opaque(opaque))
        case GoAway(last_stream_id=last, error_code=code, reason=reason):
            return _header(FrameType.GOAWAY, 0, _U32_PAIR.pack(last, code) + reason.encode())
        case Request(request_id=rid, method=method, params=params):
            return _header(FrameType.REQUEST, 0, _U32.pack(rid) + _json({"method": method, "params": params}))
        case Response(request_id=rid, ok=ok, body=body):
            return _header(FrameType.RESPONSE, 0, _U32.pack(rid) + _json({"ok": ok, "body": body}))
        case Hello(version=version, token=token, settings=settings, info=info):
            payload = _json({"version": version, "token": token, "settings": settings, "info": info})
            return _header(FrameType.HELLO, 0, payload)
    raise errors.LocalProtocolError(f"not a frame: {type(frame).__name__}")


def _check_stream_id(stream_id: int, *, nonzero: bool) -> None:
    if not 0 <= stream_id <= STREAM_ID_MASK or (nonzero and stream_id == 0):
        raise errors.LocalProtocolError(f"stream id {stream_id} cannot be sent")


def _check_opaque(opaque: bytes) -> bytes:
    if len(opaque) != 8:
        raise errors.LocalProtocolError("PING and PONG carry exactly 8 opaque bytes")
    return bytes(opaque)


class FrameBuffer:
    """Accumulates received bytes and yields complete frames, however the bytes were chunked.

    `max_payload` is the largest payload this side accepts (announced to the peer in HELLO); a
    larger frame is a FRAME_SIZE_ERROR, detected from the header alone so it is never buffered.
    Until `expect_hello_only` is cleared, the buffer applies the smaller HELLO limit.

    Received chunks are kept as they came and each payload is cut out of them once: bulk data is
    copied a single time on its way from the socket to a frame (not at all when a chunk holds
    exactly one payload), where appending to one buffer copied it twice.
    """

    def __init__(self, *, max_payload: int = DEFAULT_MAX_PAYLOAD) -> None:
        self._chunks: collections.deque[bytes] = collections.deque()
        # Bytes of the first chunk already decoded: skipped by moving this offset.
        self._offset = 0
        self._size = 0  # undecoded bytes in all chunks
        self.max_payload = max_payload
        self.expect_hello_only = True

    def feed(self, data: bytes) -> None:
        if data:
            # Kept as is: a caller's buffer must not change under us, so anything but bytes is copied.
            self._chunks.append(data if type(data) is bytes else bytes(data))
            self._size += len(data)

    def frames(self) -> list[tuple[FrameType | int, Frame | None]]:
        """Decode every complete frame; unknown frame types come back as `(type, None)`."""
        decoded: list[tuple[FrameType | int, Frame | None]] = []
        while True:
            item = self._next()
            if item is None:
                return decoded
            decoded.append(item)

    def next_frame(self) -> tuple[FrameType | int, Frame | None] | None:
        """The next complete frame, or None until more bytes arrive."""
        return self._next()

    def _header(self) -> tuple[int, int, int, int]:
        first = self._chunks[0]
        if len(first) - self._offset >= HEADER_SIZE:
            return HEADER.unpack_from(first, self._offset)
        header = bytearray()
        for index, chunk in enumerate(self._chunks):  # a header split across chunks: rare, 10 bytes
            header += chunk[self._offset :] if index == 0 else chunk
            if len(header) >= HEADER_SIZE:
                break
        return HEADER.unpack_from(header)

    def _take(self, size: int) -> bytes:
        """Remove `size` bytes (all available) from the front and return them, copied once at most."""
        self._size -= size
        first = self._chunks[0]
        start = self._offset
        if len(first) - start >= size:
            self._offset = start + size
            if self._offset == len(first):
                self._chunks.popleft()
                self._offset = 0
                if start == 0:
                    return first  # the chunk is exactly this piece: no copy at all
            return first[start : start + size]
        parts = []
        while size:
            first = self._chunks[0]
            available = len(first) - self._offset
            if available > size:
                parts.append(memoryview(first)[self._offset : self._offset + size])
                self._offset += size
                break
            parts.append(memoryview(first)[self._offset :] if self._offset else first)
            self._chunks.popleft()
            self._offset = 0
            size -= available
        return b"".join(parts)

    def _next(self) -> tuple[FrameType | int, Frame | None] | None:
        if self._size < HEADER_SIZE:
            return None
        length, raw_type, _flags, raw_stream_id = self._header()
        limit = MAX_HELLO_PAYLOAD if self.expect_hello_only else self.max_payload
        if length > limit:
            raise errors.RemoteProtocolError(
                f"frame of {length} bytes exceeds the limit of {limit}",
                error_code=errors.ErrorCode.FRAME_SIZE_ERROR,
            )
        if self._size < HEADER_SIZE + length:
            return None
        self._take(HEADER_SIZE)
        payload = self._take(length) if length else b""
        if raw_stream_id & ~STREAM_ID_MASK:
            raise errors.RemoteProtocolError("the reserved bit of the stream id is set")
        try:
            frame_type = FrameType(raw_type)
        except ValueError:
            return raw_type, None
        return frame_type, decode_payload(frame_type, raw_stream_id, payload)


def decode_payload(frame_type: FrameType, stream_id: int, payload: bytes) -> Frame:
    """One frame from its type, stream id and payload; raises `errors.RemoteProtocolError` if malformed."""
    if frame_type in _STREAM_FRAMES:
        if stream_id == 0:
            raise errors.RemoteProtocolError(f"{frame_type.name} needs a stream id, got 0")
    elif frame_type is not FrameType.WINDOW_UPDATE and stream_id != 0:
        raise errors.RemoteProtocolError(f"{frame_type.name} belongs to stream 0, got {stream_id}")
    match frame_type:
        case FrameType.DATA:
            return Data(stream_id, payload)
        case FrameType.CLOSE:
            _expect_length(frame_type, payload, 0)
            return Close(stream_id)
        case FrameType.WINDOW_UPDATE:
            _expect_length(frame_type, payload, 4)
            (increment,) = _U32.unpack(payload)
            if not 1 <= increment <= MAX_WINDOW:
                raise errors.RemoteProtocolError(
                    f"window increment {increment} outside 1..{MAX_WINDOW}",
                    error_code=errors.ErrorCode.FLOW_CONTROL_ERROR,
                )
            return WindowUpdate(stream_id, increment)
        case FrameType.RESET:
            _expect_at_least(frame_type, payload, 4)
            (code,) = _U32.unpack_from(payload)
            return Reset(stream_id, code, _text(payload[4:]))
        case FrameType.PING | FrameType.PONG:
            _expect_length(frame_type, payload, 8)
            return Ping(payload) if frame_type is FrameType.PING else Pong(payload)
        case FrameType.GOAWAY:
            _expect_at_least(frame_type, payload, 8)
            last, code = _U32_PAIR.unpack_from(payload)
            return GoAway(last & STREAM_ID_MASK, code, _text(payload[8:]))
        case FrameType.OPEN:
            target = _object(frame_type, payload)
            if not isinstance(target.get("kind"), str):
                raise errors.RemoteProtocolError("OPEN target needs a string 'kind'")
            return Open(stream_id, target)
        case FrameType.REQUEST:
            _expect_at_least(frame_type, payload, 4)
            body = _object(frame_type, payload[4:])
            method, params = body.get("method"), body.get("params", {})
            if not isinstance(method, str) or not isinstance(params, dict):
                raise errors.RemoteProtocolError("REQUEST needs a string 'method' and object 'params'")
            return Request(_U32.unpack_from(payload)[0], method, params)
        case FrameType.RESPONSE:
            _expect_at_least(frame_type, payload, 4)
            body = _object(frame_type, payload[4:])
            ok, content = body.get("ok"), body.get("body", {})
            if not isinstance(ok, bool) or not isinstance(content, dict):
                raise errors.RemoteProtocolError("RESPONSE needs a boolean 'ok' and object 'body'")
            return Response(_U32.unpack_from(payload)[0], ok, content)
        case FrameType.HELLO:
            body = _object(frame_type, payload)
            version, token = body.get("version"), body.get("token")
            settings, info = body.get("settings", {}), body.get("info", {})
            if type(version) is not int or not isinstance(token, str):
                raise errors.RemoteProtocolError("HELLO needs an integer 'version' and a string 'token'")
            if not isinstance(settings, dict) or not all(
                isinstance(k, str) and type(v) is int and v >= 0 for k, v in settings.items()
            ):
                raise errors.RemoteProtocolError("HELLO 'settings' must map names to non-negative integers")
            if not isinstance(info, dict):
                raise errors.RemoteProtocolError("HELLO 'info' must be an object")
            return Hello(version, token, settings, info)
    raise AssertionError(frame_type)  # pragma: no cover - every FrameType is matched above


def _expect_length(frame_type: FrameType, payload: bytes, size: int) -> None:
    if len(payload) != size:
        raise errors.RemoteProtocolError(
            f"{frame_type.name} payload must be {size} bytes, got {len(payload)}",
            error_code=errors.ErrorCode.FRAME_SIZE_ERROR,
        )


def _expect_at_least(frame_type: FrameType, payload: bytes, size: int) -> None:
    if len(payload) < size:
        raise errors.RemoteProtocolError(
            f"{frame_type.name} payload must be at least {size} bytes, got {len(payload)}",
            error_code=errors.ErrorCode.FRAME_SIZE_ERROR,
        )


def _text(raw: bytes) -> str:
    # Reasons are for humans and logs: a peer's bad UTF-8 must not kill the connection.
    return raw.decode("utf-8", errors="replace")


def _object(frame_type: FrameType, raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise errors.RemoteProtocolError(f"{frame_type.name} payload is not JSON: {error}") from None
    if not isinstance(value, dict):
        raise errors.RemoteProtocolError(f"{frame_type.name} payload must be a JSON object")
    return value
