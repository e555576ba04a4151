"""Wire error codes, and the Python exceptions of the protocol: two separate things.

An `ErrorCode` travels on the wire (in RESET and GOAWAY frames) and means the same to both peers
whatever language they are written in. The exceptions below are raised to the Python code that
drives a `connection.Connection`; they carry an `ErrorCode` when one is sent to the peer.

Exception tree::

    ProtocolError                    anything the protocol layer raises
    ├── RemoteProtocolError          the peer broke the protocol; the connection is terminated and a
    │                                GOAWAY carrying `error_code` is queued in `data_to_send()`
    └── LocalProtocolError           the caller asked for something the protocol forbids (a bug in
        │                            the driver, never caused by the peer); nothing is sent
        ├── FlowControlError         sending more than the peer's credit allows
        └── StreamClosedError        acting on a stream that is closed in that direction
"""

from __future__ import annotations

import enum


class ErrorCode(enum.IntEnum):
    """Codes carried by RESET (one stream) and GOAWAY (the whole connection).

    Unknown codes received from a newer peer are kept as plain integers (see `describe`), so
    adding a code is a safe change.
    """

    NO_ERROR = 0
    PROTOCOL_ERROR = 1
    INTERNAL_ERROR = 2
    FLOW_CONTROL_ERROR = 3
    STREAM_CLOSED = 4
    FRAME_SIZE_ERROR = 5
    REFUSED_STREAM = 6
    CANCEL = 7
    AUTH_FAILED = 8
    UNSUPPORTED_VERSION = 9
    CONNECT_FAILED = 10
    NOT_FOUND = 11
    TIMEOUT = 12
    UNKNOWN_TARGET = 13


def describe(code: int) -> str:
    """The code's name when this version knows it, else `UNKNOWN(<n>)`."""
    try:
        return ErrorCode(code).name
    except ValueError:
        return f"UNKNOWN({code})"


class ProtocolError(Exception):
    """Base of every exception raised by the protocol layer."""


class RemoteProtocolError(ProtocolError):
    """The peer sent something the protocol forbids; the connection is over.

    `error_code` is what the GOAWAY queued for the peer carries. `events` holds the events decoded
    from the same `receive_data` call before the offending frame, so a driver loses nothing.
    """

    def __init__(self, message: str, *, error_code: ErrorCode = ErrorCode.PROTOCOL_ERROR) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.events: list[object] = []


class LocalProtocolError(ProtocolError):
    """The caller asked the connection for something the protocol forbids; fix the calling code."""


class FlowControlError(LocalProtocolError):
    """More data was offered than the peer's credit allows; send at most `Connection.send_credit()`."""


class StreamClosedError(LocalProtocolError):
    """The stream is closed in the direction the caller tried to use (or reset, or never opened)."""

    def __init__(self, stream_id: int, message: str) -> None:
        super().__init__(f"stream {stream_id}: {message}")
        self.stream_id = stream_id
