"""The sans-IO connection: bytes in, events out; calls in, bytes out. No sockets, no clock, no asyncio.

A driver feeds whatever it read to `receive_data`, acts on the returned events, and writes
whatever `data_to_send` returns. Both peers use the same class; `Role` decides who opens odd
stream ids (the engine) and who opens even ones (the agent), so both can open streams at once
without colliding, and who speaks first in the handshake (the engine: the agent reveals nothing,
not even its version, to a peer that has not shown the token).

Errors: a peer that breaks a connection-level rule makes `receive_data` raise
`errors.RemoteProtocolError` after queueing a GOAWAY with the error code; a peer that breaks a
rule of one stream gets that stream reset (STREAM_CLOSED) and the connection lives on. A caller
that asks for something impossible gets `errors.LocalProtocolError` and nothing is queued.
"""

from __future__ import annotations

import dataclasses
import enum
import os
from typing import Any

from kubelocal_agent.protocol import errors, events, frames, handshake, streams, versions, windows

# The largest DATA payload sent (never above the peer's max_payload). The drivers read 256 KiB per
# socket read and queue all of one read's frames together, so smaller frames bought no
# interleaving between streams, only per-frame work on both sides.
DATA_CHUNK = 256 * 1024
MAX_REASON = 512
# A stream window grows up to this many times `stream_window` while its reader keeps up (see
# `Connection._window_growth`); all streams together grow by at most half the connection window.
STREAM_WINDOW_GROWTH = 4


class Role(enum.Enum):
    ENGINE = "engine"
    AGENT = "agent"


@dataclasses.dataclass(frozen=True)
class Settings:
    """What this side is ready to receive, announced to the peer in HELLO.

    Bounds the memory the peer can make this side hold: at most `connection_window` bytes of
    unconsumed data, at most `stream_window` of it on one stream (STREAM_WINDOW_GROWTH times that
    for a stream whose window grew), frames of at most `max_payload`.
    """

    # 1 MiB to start with: a redirected stream crosses several busy hops, and 256 KiB left a bulk
    # stream waiting for WINDOW_UPDATE about half the time. The window of a stream read promptly
    # grows from there (`Connection._window_growth`).
    stream_window: int = 1024 * 1024
    connection_window: int = 16 * 1024 * 1024
    max_payload: int = frames.DEFAULT_MAX_PAYLOAD
    max_streams: int = 4096

    def to_wire(self) -> dict[str, int]:
        return dataclasses.asdict(self)

    @classmethod
    def from_wire(cls, raw: dict[str, int]) -> Settings:
        """Settings announced by the peer; absent ones take the defaults, unknown ones are ignored."""
        known = {field.name for field in dataclasses.fields(cls)}
        settings = cls(**{key: value for key, value in raw.items() if key in known})
        problem = settings.problem()
        if problem:
            raise errors.RemoteProtocolError(f"peer settings refused: {problem}")
        return settings

    def problem(self) -> str | None:
        if not 1 <= self.stream_window <= frames.MAX_WINDOW:
            return f"stream_window must be in 1..{frames.MAX_WINDOW}"
        if not 1 <= self.connection_window <= frames.MAX_WINDOW:
            return f"connection_window must be in 1..{frames.MAX_WINDOW}"
        if not 1024 <= self.max_payload <= frames.MAX_PAYLOAD_CEILING:
            return f"max_payload must be in 1024..{frames.MAX_PAYLOAD_CEILING}"
        if self.max_streams < 1:
            return "max_streams must be at least 1"
        return None


class _Stream:
    def __init__(self, stream_id: int, *, send_window: int, receive_window: int) -> None:
        self.machine = streams.StreamMachine(stream_id)
        self.send = windows.SendWindow(send_window)
        self.receive = windows.ReceiveWindow(receive_window)


class Connection:
    """One multiplexed connection between the engine and the agent; see the module docstring."""

    def __init__(
        self,
        *,
        role: Role,
        token: str,
        settings: Settings | None = None,
        info: dict[str, Any] | None = None,
    ) -> None:
        if not token:
            raise ValueError("a session token is required: an empty one would let anyone in")
        self.role = role
        self.settings = settings or Settings()
        problem = self.settings.problem()
        if problem:
            raise ValueError(f"invalid settings: {problem}")
        self.peer_settings: Settings | None = None
        self.negotiated_version: int | None = None
        self._token = token
        self._info = info or {}
        self._buffer = frames.FrameBuffer(max_payload=self.settings.max_payload)
        # Encoded pieces, joined once in data_to_send: DATA payloads are never copied before that.
        self._outbound: list[bytes] = []
        self._streams: dict[int, _Stream] = {}
        self._next_local_id = 1 if role is Role.ENGINE else 2
        self._highest_local = 0
        self._highest_remote = 0
        self._send_window = windows.SendWindow(0)
        self._receive_window = windows.ReceiveWindow(self.settings.connection_window)
        self._next_request_id = 1
        self._pending_requests: set[int] = set()
        self._hello_sent = False
        self._goaway_sent = False
        self._goaway_received = False
        self._terminated = False
        self._ping_counter = 0

    # -- state -------------------------------------------------------------------------------

    @property
    def handshake_complete(self) -> bool:
        return self.negotiated_version is not None

    @property
    def terminated(self) -> bool:
        """True once a GOAWAY was sent: nothing more is received or sent."""
        return self._terminated

    @property
    def accepting_streams(self) -> bool:
        """True while this side may open new streams (handshake done, no GOAWAY either way)."""
        return self.handshake_complete and not (self._goaway_sent or self._goaway_received)

    @property
    def open_stream_ids(self) -> list[int]:
        return sorted(self._streams)

    @property
    def unacknowledged_bytes(self) -> int:
        """Bytes received on any stream and not yet given back with `acknowledge_received_data`:
        what this side holds in memory (at most the connection window). Once the application has
        consumed everything, anything above 0 is credit leaked for good."""
        return self._receive_window.outstanding

    def stream_state(self, stream_id: int) -> streams.State:
        stream = self._streams.get(stream_id)
        if stream is not None:
            return stream.machine.state
        return streams.State.IDLE if self._is_idle(stream_id) else streams.State.CLOSED

    def send_credit(self, stream_id: int) -> int:
        """How many bytes `send_data` accepts on the stream right now (0 while waiting for credit)."""
        stream = self._sending_stream(stream_id)
        return max(0, min(stream.send.credit, self._send_window.credit))

    def data_to_send(self) -> bytes:
        """Everything queued for the peer since the last call; empty when nothing is."""
        return b"".join(self.pieces_to_send())

    def pieces_to_send(self) -> list[bytes]:
        """`data_to_send` unjoined: frame headers and DATA payloads apart, for a writer that sends
        them without copying them into one buffer first (writev, or a message it joins anyway)."""
        pieces, self._outbound = self._outbound, []
        return pieces

    # -- actions -----------------------------------------------------------------------------

    def initiate(self) -> None:
        """Engine only: queue the HELLO that starts the handshake."""
        if self.role is not Role.ENGINE:
            raise errors.LocalProtocolError("the agent speaks second: it answers the engine's HELLO")
        if self._hello_sent:
            raise errors.LocalProtocolError("the handshake was already started")
        self._send_hello()

    def open_stream(self, target: dict[str, Any]) -> int:
        """Queue an OPEN towards `target` (see `targets`) and return the new stream's id."""
        self._require_usable()
        if not self.accepting_streams:
            raise errors.LocalProtocolError("no new streams: the connection is going away")
        assert self.peer_settings is not None
        opened_here = sum(1 for sid in self._streams if self._is_local(sid))
        if opened_here >= self.peer_settings.max_streams:
            raise errors.LocalProtocolError(
                f"the peer accepts at most {self.peer_settings.max_streams} concurrent streams"
            )
        stream_id = self._next_local_id
        if stream_id > frames.STREAM_ID_MASK:
            raise errors.LocalProtocolError("stream ids exhausted: open a new connection")
        self._next_local_id += 2
        self._highest_local = stream_id
        stream = _Stream(
            stream_id,
            send_window=self.peer_settings.stream_window,
            receive_window=self.settings.stream_window,
        )
        stream.machine.process(streams.Input.SEND_OPEN)
        self._streams[stream_id] = stream
        self._queue(frames.Open(stream_id, dict(target)))
        return stream_id

    def send_data(self, stream_id: int, data: bytes) -> None:
        """Queue `data` on the stream. Raises `errors.FlowControlError` beyond `send_credit`."""
        self._require_usable()
        stream = self._sending_stream(stream_id)
        if len(data) > self.send_credit(stream_id):
            raise errors.FlowControlError(
                f"stream {stream_id}: {len(data)} bytes offered, credit is {self.send_credit(stream_id)}"
            )
        if not isinstance(data, bytes):
            data = bytes(data)  # Queued pieces must not change if the caller reuses its buffer.
        stream.machine.process(streams.Input.SEND_DATA)
        stream.send.spend(len(data))
        self._send_window.spend(len(data))
        assert self.peer_settings is not None
        chunk = min(DATA_CHUNK, self.peer_settings.max_payload)
        if not data:
            return  # Nothing to say: an empty DATA frame would only wake the peer for nothing.
        if len(data) <= chunk:
            self._outbound += frames.encode_data(stream_id, data)
            return
        view = memoryview(data)
        for start in range(0, len(data), chunk):
            self._outbound += frames.encode_data(stream_id, view[start : start + chunk])

    def close_stream(self, stream_id: int) -> None:
        """Half-close: queue CLOSE, the peer reads EOF. This side may still receive."""
        self._require_usable()
        stream = self._sending_stream(stream_id)
        self._transition(stream, streams.Input.SEND_CLOSE)
        self._queue(frames.Close(stream_id))

    def reset_stream(
        self, stream_id: int, error_code: int = errors.ErrorCode.CANCEL, reason: str = ""
    ) -> None:
        """Abort the stream both ways. Resetting a stream that is already closed does nothing,
        because the peer may have closed it at the same moment."""
        self._require_usable()
        stream = self._streams.get(stream_id)
        if stream is None:
            if self._is_idle(stream_id):
                raise errors.StreamClosedError(stream_id, "was never opened")
            return
        self._transition(stream, streams.Input.SEND_RESET)
        self._queue(frames.Reset(stream_id, int(error_code), reason[:MAX_REASON]))

    def acknowledge_received_data(self, stream_id: int, size: int) -> None:
        """The application consumed (or discarded) `size` bytes received on the stream: grant
        credit back. Call it for data of streams closed since, too, or the connection's credit
        leaks away."""
        if self._terminated or size <= 0:
            return
        increment = self._receive_window.consume(size)
        if increment:
            self._queue(frames.WindowUpdate(0, increment))
        stream = self._streams.get(stream_id)
        if stream is None or not stream.machine.can_receive:
            return
        increment = stream.receive.consume(size)
        if increment:
            increment += self._window_growth(stream.receive)
            stream.machine.process(streams.Input.SEND_WINDOW_UPDATE)
            self._queue(frames.WindowUpdate(stream_id, increment))

    def ping(self, opaque: bytes | None = None) -> bytes:
        """Queue a PING and return its opaque bytes, which come back in `events.PongReceived`."""
        self._require_usable()
        if opaque is None:
            self._ping_counter += 1
            opaque = self._ping_counter.to_bytes(8, "big")
        self._queue(frames.Ping(opaque))
        return opaque

    def send_request(self, method: str, params: dict[str, Any] | None = None) -> int:
        """Queue a control REQUEST and return its id, which the peer's RESPONSE carries."""
        self._require_usable()
        request_id = self._next_request_id
        self._next_request_id += 1
        self._queue(frames.Request(request_id, method, params or {}))
        self._pending_requests.add(request_id)
        return request_id

    def send_response(self, request_id: int, *, ok: bool, body: dict[str, Any]) -> None:
        self._require_usable()
        self._queue(frames.Response(request_id, ok, body))

    def close(self, error_code: int = errors.ErrorCode.NO_ERROR, reason: str = "") -> None:
        """Queue a GOAWAY and stop: nothing more is sent or received. Closing twice does nothing."""
        if self._terminated:
            return
        # Reasons are for people; bound them so a long one never breaks the frame limit.
        self._queue(frames.GoAway(self._highest_remote, int(error_code), reason[:MAX_REASON]))
        self._goaway_sent = True
        self._terminated = True

    # -- receiving ---------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> list[events.Event]:
        """Decode `data` (any chunk of the byte stream) and return the events it completes.

        Raises `errors.RemoteProtocolError` when the peer broke the protocol; the GOAWAY is then
        queued, the exception's `events` holds what was decoded before, and later calls return [].
        """
        if self._terminated:
            return []
        self._buffer.feed(data)
        received: list[events.Event] = []
        try:
            while not self._terminated:
                item = self._buffer.next_frame()
                if item is None:
                    break
                received.extend(self._handle(*item))
        except errors.RemoteProtocolError as error:
            self.close(error.error_code, str(error))
            error.events = list(received)
            raise
        return received

    def _handle(self, frame_type: frames.FrameType | int, frame: frames.Frame | None) -> list[events.Event]:
        if not self.handshake_complete:
            return self._handle_handshake(frame)
        match frame:
            case None:
                return []  # An unknown frame type from a newer peer: skipped on purpose.
            case frames.Data():
                return self._on_data(frame)
            case frames.Open():
                return self._on_open(frame)
            case frames.Close():
                return self._on_stream_input(frame.stream_id, streams.Input.RECV_CLOSE)
            case frames.Reset():
                return self._on_stream_input(
                    frame.stream_id, streams.Input.RECV_RESET, reset=(frame.error_code, frame.reason)
                )
            case frames.WindowUpdate():
                return self._on_window_update(frame)
            case frames.Ping(opaque=opaque):
                self._queue(frames.Pong(opaque))
                return [events.PingReceived(opaque)]
            case frames.Pong(opaque=opaque):
                return [events.PongReceived(opaque)]
            case frames.GoAway():
                self._goaway_received = True
                return [events.ConnectionTerminated(frame.error_code, frame.reason, frame.last_stream_id)]
            case frames.Request():
                return [events.RequestReceived(frame.request_id, frame.method, frame.params)]
            case frames.Response():
                if frame.request_id not in self._pending_requests:
                    raise errors.RemoteProtocolError(f"RESPONSE to unknown request {frame.request_id}")
                self._pending_requests.discard(frame.request_id)
                return [events.ResponseReceived(frame.request_id, frame.ok, frame.body)]
            case frames.Hello():
                raise errors.RemoteProtocolError("HELLO after the handshake")
        raise AssertionError(frame)  # pragma: no cover

    def _handle_handshake(self, frame: frames.Frame | None) -> list[events.Event]:
        if isinstance(frame, frames.GoAway) and self._hello_sent:
            # The agent refused our HELLO: report why instead of complaining about the frame.
            self._goaway_received = True
            self._terminated = True
            return [events.ConnectionTerminated(frame.error_code, frame.reason, frame.last_stream_id)]
        if not isinstance(frame, frames.Hello):
            raise errors.RemoteProtocolError("the first frame must be HELLO")
        version = handshake.accept(frame, token=self._token)
        self.peer_settings = Settings.from_wire(frame.settings)
        self._send_window = windows.SendWindow(self.peer_settings.connection_window)
        if not self._hello_sent:
            self._send_hello()
        self.negotiated_version = version
        self._buffer.expect_hello_only = False
        return [events.HandshakeCompleted(version, frame.version, dict(frame.info))]

    def _on_open(self, frame: frames.Open) -> list[events.Event]:
        stream_id = frame.stream_id
        if self._is_local(stream_id):
            raise errors.RemoteProtocolError(f"OPEN of stream {stream_id}, whose parity is this side's")
        if stream_id <= self._highest_remote:
            raise errors.RemoteProtocolError(f"OPEN of stream {stream_id}: ids must increase")
        self._highest_remote = stream_id
        opened_by_peer = sum(1 for sid in self._streams if not self._is_local(sid))
        if self._goaway_sent or opened_by_peer >= self.settings.max_streams:
            self._queue(frames.Reset(stream_id, errors.ErrorCode.REFUSED_STREAM, "too many streams"))
            return []
        assert self.peer_settings is not None
        stream = _Stream(
            stream_id,
            send_window=self.peer_settings.stream_window,
            receive_window=self.settings.stream_window,
        )
        stream.machine.process(streams.Input.RECV_OPEN)
        self._streams[stream_id] = stream
        return [events.StreamOpened(stream_id, frame.target)]

    def _on_data(self, frame: frames.Data) -> list[events.Event]:
        size = len(frame.data)
        self._receive_window.receive(size)
        stream = self._known_stream(frame.stream_id, "DATA")
        if stream is None:
            # Data in flight on a stream closed meanwhile: drop it, and give its credit back.
            self.acknowledge_received_data(frame.stream_id, size)
            return []
        try:
            stream.machine.process(streams.Input.RECV_DATA)
        except streams.StreamError as error:
            self.acknowledge_received_data(frame.stream_id, size)
            return self._reset_for(error)
        stream.receive.receive(size)
        return [events.DataReceived(frame.stream_id, frame.data)]

    def _on_stream_input(
        self, stream_id: int, event: streams.Input, *, reset: tuple[int, str] | None = None
    ) -> list[events.Event]:
        stream = self._known_stream(stream_id, event.value)
        if stream is None:
            return []
        try:
            self._transition(stream, event)
        except streams.StreamError as error:
            return self._reset_for(error)
        if reset is not None:
            return [events.StreamReset(stream_id, reset[0], reset[1])]
        return [events.StreamEnded(stream_id)]

    def _on_window_update(self, frame: frames.WindowUpdate) -> list[events.Event]:
        if frame.stream_id == 0:
            self._send_window.grant(frame.increment)
            return [events.WindowUpdated(0, frame.increment)]
        stream = self._known_stream(frame.stream_id, "WINDOW_UPDATE")
        if stream is None:
            return []
        try:
            stream.machine.process(streams.Input.RECV_WINDOW_UPDATE)
        except streams.StreamError as error:
            return self._reset_for(error)
        stream.send.grant(frame.increment)
        return [events.WindowUpdated(frame.stream_id, frame.increment)]

    # -- helpers -----------------------------------------------------------------------------

    def _window_growth(self, window: windows.ReceiveWindow) -> int:
        """Extra credit to grant a stream now: its window doubles while its reader keeps up.

        A redirected connection crosses several busy hops, so much of a bulk stream's window is
        in flight at any moment and the sender waits for credit although nothing piles up here.
        A reader that keeps up (at most an eighth of the window unread when credit is returned)
        gets its window doubled, up to STREAM_WINDOW_GROWTH times `stream_window`, while all
        streams together stay within half the connection window of growth. A stream whose reader
        lags never grows, so a stalled stream holds at most the window it had when it stalled.
        """
        initial = self.settings.stream_window
        limit = min(initial * STREAM_WINDOW_GROWTH, frames.MAX_WINDOW)
        if window.size >= limit or window.outstanding > window.size // 8:
            return 0
        extra = min(window.size, limit - window.size)
        grown = sum(stream.receive.size - initial for stream in self._streams.values())
        if grown + extra > self.settings.connection_window // 2:
            return 0
        return window.grow(extra)

    def _send_hello(self) -> None:
        self._hello_sent = True
        self._queue(frames.Hello(versions.PROTOCOL_VERSION, self._token, self.settings.to_wire(), self._info))

    def _queue(self, frame: frames.Frame) -> None:
        encoded = frames.encode(frame)
        limit = self.peer_settings.max_payload if self.peer_settings else frames.MAX_HELLO_PAYLOAD
        if len(encoded) - frames.HEADER_SIZE > limit:
            raise errors.LocalProtocolError(
                f"{type(frame).__name__} of {len(encoded)} bytes exceeds the peer's frame limit"
            )
        self._outbound.append(encoded)

    def _require_usable(self) -> None:
        if self._terminated:
            raise errors.LocalProtocolError("the connection is closed")
        if not self.handshake_complete:
            raise errors.LocalProtocolError("the handshake is not complete yet")

    def _is_local(self, stream_id: int) -> bool:
        return stream_id % 2 == (1 if self.role is Role.ENGINE else 0)

    def _is_idle(self, stream_id: int) -> bool:
        highest = self._highest_local if self._is_local(stream_id) else self._highest_remote
        return stream_id > highest

    def _known_stream(self, stream_id: int, what: str) -> _Stream | None:
        """The stream a received frame is for; None if it was closed (the frame is then ignored);
        a frame for a stream never opened is a connection error."""
        stream = self._streams.get(stream_id)
        if stream is None and self._is_idle(stream_id):
            raise errors.RemoteProtocolError(f"{what} on stream {stream_id}, which was never opened")
        return stream

    def _sending_stream(self, stream_id: int) -> _Stream:
        stream = self._streams.get(stream_id)
        if stream is None:
            raise errors.StreamClosedError(stream_id, "is not open")
        return stream

    def _transition(self, stream: _Stream, event: streams.Input) -> None:
        stream.machine.process(event)
        if stream.machine.state is streams.State.CLOSED:
            del self._streams[stream.machine.stream_id]

    def _reset_for(self, error: streams.StreamError) -> list[events.Event]:
        stream = self._streams.pop(error.stream_id, None)
        if stream is not None:
            stream.machine.state = streams.State.CLOSED
        self._queue(frames.Reset(error.stream_id, error.error_code, str(error)))
        return [events.StreamReset(error.stream_id, error.error_code, str(error), remote=False)]


def new_token() -> str:
    """A fresh per-session token: 32 random bytes, hex."""
    return os.urandom(32).hex()
