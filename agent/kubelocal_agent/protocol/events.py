"""Events: what `Connection.receive_data` reports to the driver. Plain data, no behaviour."""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class HandshakeCompleted:
    """The peer's HELLO was accepted. `version` is the negotiated protocol version."""

    version: int
    peer_version: int
    peer_info: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class StreamOpened:
    """The peer opened a stream towards `target` (see `targets`)."""

    stream_id: int
    target: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class DataReceived:
    """Bytes on a stream. Give them back with `Connection.acknowledge_received_data` once consumed,
    or the peer runs out of credit."""

    stream_id: int
    data: bytes


@dataclasses.dataclass(frozen=True)
class StreamEnded:
    """The peer half-closed the stream: it sends no more data (EOF). It may still receive."""

    stream_id: int


@dataclasses.dataclass(frozen=True)
class StreamReset:
    """The stream is aborted. `remote` is False when this side reset it because the peer broke a
    stream-level rule (the RESET frame is then already queued)."""

    stream_id: int
    error_code: int
    reason: str
    remote: bool = True


@dataclasses.dataclass(frozen=True)
class WindowUpdated:
    """The peer granted credit; stream_id 0 means the connection window."""

    stream_id: int
    increment: int


@dataclasses.dataclass(frozen=True)
class PingReceived:
    """The peer pinged; the PONG is already queued."""

    opaque: bytes


@dataclasses.dataclass(frozen=True)
class PongReceived:
    opaque: bytes


@dataclasses.dataclass(frozen=True)
class RequestReceived:
    """A control request; answer it with `Connection.send_response(request_id, ...)`."""

    request_id: int
    method: str
    params: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class ResponseReceived:
    """The answer to a request this side sent."""

    request_id: int
    ok: bool
    body: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class ConnectionTerminated:
    """The peer sent GOAWAY: it opens no new streams and will close the connection.

    Streams with ids up to `last_stream_id` opened by this side were seen by the peer."""

    error_code: int
    reason: str
    last_stream_id: int


Event = (
    HandshakeCompleted
    | StreamOpened
    | DataReceived
    | StreamEnded
    | StreamReset
    | WindowUpdated
    | PingReceived
    | PongReceived
    | RequestReceived
    | ResponseReceived
    | ConnectionTerminated
)
