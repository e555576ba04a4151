"""The life of one stream, as an explicit transition table.

A stream is full duplex; each direction ends on its own (CLOSE = EOF one way), and RESET ends
both at once. `TRANSITIONS` maps (state, input) to the next state; a pair absent from the table is
forbidden: for an input received from the peer it is a stream error (the connection resets that
stream with STREAM_CLOSED), for an input the local caller asked for it is
`errors.StreamClosedError`.
"""

from __future__ import annotations

import enum

from kubelocal_agent.protocol import errors


class State(enum.Enum):
    IDLE = "idle"
    OPEN = "open"
    # This side sent CLOSE: it may still receive.
    HALF_CLOSED_LOCAL = "half-closed (local)"
    # The peer sent CLOSE: this side may still send.
    HALF_CLOSED_REMOTE = "half-closed (remote)"
    CLOSED = "closed"


class Input(enum.Enum):
    SEND_OPEN = "send OPEN"
    RECV_OPEN = "receive OPEN"
    SEND_DATA = "send DATA"
    RECV_DATA = "receive DATA"
    SEND_CLOSE = "send CLOSE"
    RECV_CLOSE = "receive CLOSE"
    SEND_RESET = "send RESET"
    RECV_RESET = "receive RESET"
    SEND_WINDOW_UPDATE = "send WINDOW_UPDATE"
    RECV_WINDOW_UPDATE = "receive WINDOW_UPDATE"


_S, _I = State, Input

TRANSITIONS: dict[tuple[State, Input], State] = {
    (_S.IDLE, _I.SEND_OPEN): _S.OPEN,
    (_S.IDLE, _I.RECV_OPEN): _S.OPEN,
    # Open both ways.
    (_S.OPEN, _I.SEND_DATA): _S.OPEN,
    (_S.OPEN, _I.RECV_DATA): _S.OPEN,
    (_S.OPEN, _I.SEND_WINDOW_UPDATE): _S.OPEN,
    (_S.OPEN, _I.RECV_WINDOW_UPDATE): _S.OPEN,
    (_S.OPEN, _I.SEND_CLOSE): _S.HALF_CLOSED_LOCAL,
    (_S.OPEN, _I.RECV_CLOSE): _S.HALF_CLOSED_REMOTE,
    (_S.OPEN, _I.SEND_RESET): _S.CLOSED,
    (_S.OPEN, _I.RECV_RESET): _S.CLOSED,
    # This side is done sending; the peer still sends, and may still grant credit it owed.
    (_S.HALF_CLOSED_LOCAL, _I.RECV_DATA): _S.HALF_CLOSED_LOCAL,
    (_S.HALF_CLOSED_LOCAL, _I.SEND_WINDOW_UPDATE): _S.HALF_CLOSED_LOCAL,
    (_S.HALF_CLOSED_LOCAL, _I.RECV_WINDOW_UPDATE): _S.HALF_CLOSED_LOCAL,
    (_S.HALF_CLOSED_LOCAL, _I.RECV_CLOSE): _S.CLOSED,
    (_S.HALF_CLOSED_LOCAL, _I.SEND_RESET): _S.CLOSED,
    (_S.HALF_CLOSED_LOCAL, _I.RECV_RESET): _S.CLOSED,
    # The peer is done sending; this side still sends. Credit for data consumed late is harmless.
    (_S.HALF_CLOSED_REMOTE, _I.SEND_DATA): _S.HALF_CLOSED_REMOTE,
    (_S.HALF_CLOSED_REMOTE, _I.SEND_WINDOW_UPDATE): _S.HALF_CLOSED_REMOTE,
    (_S.HALF_CLOSED_REMOTE, _I.RECV_WINDOW_UPDATE): _S.HALF_CLOSED_REMOTE,
    (_S.HALF_CLOSED_REMOTE, _I.SEND_CLOSE): _S.CLOSED,
    (_S.HALF_CLOSED_REMOTE, _I.SEND_RESET): _S.CLOSED,
    (_S.HALF_CLOSED_REMOTE, _I.RECV_RESET): _S.CLOSED,
}

_RECEIVED = {_I.RECV_OPEN, _I.RECV_DATA, _I.RECV_CLOSE, _I.RECV_RESET, _I.RECV_WINDOW_UPDATE}


class StreamError(Exception):
    """The peer broke a rule of one stream; the connection resets that stream, not itself."""

    def __init__(self, stream_id: int, message: str, *, error_code: errors.ErrorCode) -> None:
        super().__init__(message)
        self.stream_id = stream_id
        self.error_code = error_code


class StreamMachine:
    """The state of one stream; `process` applies an input or raises."""

    def __init__(self, stream_id: int) -> None:
        self.stream_id = stream_id
        self.state = State.IDLE

    def process(self, event: Input) -> State:
        """Move to the next state. Raises `StreamError` for a forbidden received input and
        `errors.StreamClosedError` for a forbidden local one; the state is then unchanged."""
        next_state = TRANSITIONS.get((self.state, event))
        if next_state is None:
            message = f"{event.value} is not allowed in state {self.state.value}"
            if event in _RECEIVED:
                raise StreamError(self.stream_id, message, error_code=errors.ErrorCode.STREAM_CLOSED)
            raise errors.StreamClosedError(self.stream_id, message)
        self.state = next_state
        return next_state

    @property
    def can_send(self) -> bool:
        return self.state in (State.OPEN, State.HALF_CLOSED_REMOTE)

    @property
    def can_receive(self) -> bool:
        return self.state in (State.OPEN, State.HALF_CLOSED_LOCAL)
