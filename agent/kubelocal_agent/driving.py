"""Drive a `protocol.connection.Connection` over an asyncio (reader, writer) pair.

Used by both peers: the agent (`serving`) and the engine, which imports this module too, so
nothing here assumes it runs in a pod. A `Session` owns one connection: it reads bytes and turns
events into `Stream` objects with `read`/`write`/`write_eof`, answers control requests through
an `on_request` callback, hands streams the peer opens to `on_stream`, pings when the line is
quiet, declares the peer dead after `heartbeat_timeout` seconds without a frame, and on
disconnect fails every stream and pending request with `errors.SessionClosed`.

A stream handler owns its stream: when it returns, EOF is sent if it was not, and data it did
not read is discarded (its credit given back); a handler that raises resets its stream.

Flow control: `Stream.write` waits for credit and `Stream.read` returns credit as it hands data
to the caller, so a stream nobody reads stops its sender without holding up other streams.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
import typing
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from kubelocal_agent import errors
from kubelocal_agent.protocol import connection, events, heartbeats, targets
from kubelocal_agent.protocol import errors as protocol_errors

log = logging.getLogger(__name__)

READ_SIZE = 256 * 1024


class ByteReader(Protocol):
    """What a Session reads from: `asyncio.StreamReader`, or an adapter over another tunnel
    (a WebSocket port-forward, for instance). `read` returns b"" at the end."""

    async def read(self, n: int = -1) -> bytes: ...


class ByteWriter(Protocol):
    """What a Session writes to: `asyncio.StreamWriter`, or an adapter with these methods."""

    def write(self, data: bytes) -> None: ...

    def writelines(self, data: list[bytes]) -> None: ...

    async def drain(self) -> None: ...

    def is_closing(self) -> bool: ...

    def close(self) -> None: ...

    async def wait_closed(self) -> None: ...


class SpliceReader(Protocol):
    """The TCP side `splice` reads: `asyncio.StreamReader` or `TcpConnection`."""

    async def read(self, n: int = -1) -> bytes: ...


class SpliceWriter(Protocol):
    """The TCP side `splice` writes: `asyncio.StreamWriter` or `TcpConnection`."""

    @property
    def transport(self) -> asyncio.WriteTransport: ...

    def write(self, data: bytes) -> None: ...

    async def drain(self) -> None: ...

    def can_write_eof(self) -> bool: ...

    def write_eof(self) -> None: ...

    def is_closing(self) -> bool: ...

    def close(self) -> None: ...

    async def wait_closed(self) -> None: ...


class TcpConnection(asyncio.Protocol):
    """A TCP connection to splice to a Stream, both its reader and its writer.

    Unlike `asyncio.StreamReader`, which appends every received chunk to one buffer and copies
    each read out of it again, it hands the chunks on as the socket produced them: bulk data
    crosses the agent (and the engine) without a copy in Python. Back-pressure both ways: reading
    pauses while more than `HIGH_WATER` bytes wait unread, and `drain` waits while the transport's
    write buffer is above its high-water mark. EOF from the peer is a half-close: writing goes on.
    Create it with `open_tcp` or `serve_tcp`.
    """

    HIGH_WATER = 2 * READ_SIZE

    def __init__(self, on_connected: Callable[[TcpConnection], None] | None = None) -> None:
        self._on_connected = on_connected
        self._transport: asyncio.Transport | None = None
        self._chunks: collections.deque[bytes] = collections.deque()
        self._buffered = 0
        self._eof = False
        self._lost = False
        self._error: BaseException | None = None
        self._paused = False
        self._readable = asyncio.Event()
        self._writable = asyncio.Event()
        self._writable.set()
        self._closed = asyncio.get_running_loop().create_future()

    # -- asyncio.Protocol ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Not an isinstance check: uvloop's transports (the engine may run on uvloop) have the
        # methods of asyncio.Transport without deriving from it.
        self._transport = typing.cast(asyncio.Transport, transport)
        if self._on_connected is not None:
            self._on_connected(self)

    def data_received(self, data: bytes) -> None:
        self._chunks.append(data)
        self._buffered += len(data)
        self._readable.set()
        if self._buffered > self.HIGH_WATER and not self._paused and self._transport is not None:
            self._paused = True
            self._transport.pause_reading()

    def eof_received(self) -> bool:
        self._eof = True
        self._readable.set()
        return True  # keep the transport open: the other direction may still be sending

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        self._error = exc
        self._readable.set()
        self._writable.set()
        if not self._closed.done():
            self._closed.set_result(None)

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    # -- reading ----------------------------------------------------------------------------

    async def read(self, n: int = READ_SIZE) -> bytes:
        """Up to `n` bytes as they arrived; b"" at EOF. Raises the connection's error, if any."""
        while not self._chunks and not self._eof and not self._lost:
            self._readable.clear()
            await self._readable.wait()
        if not self._chunks:
            if self._error is not None and not self._eof:
                raise ConnectionResetError(str(self._error) or "the connection was reset")
            return b""
        chunk = self._chunks.popleft()
        if len(chunk) > n:
            chunk, rest = chunk[:n], chunk[n:]
            self._chunks.appendleft(rest)
        elif self._chunks and len(chunk) + len(self._chunks[0]) <= n:
            # Small pieces queued behind each other: one piece, one frame on the tunnel.
            parts = [chunk]
            size = len(chunk)
            while self._chunks and size + len(self._chunks[0]) <= n:
                parts.append(self._chunks.popleft())
                size += len(parts[-1])
            chunk = b"".join(parts)
        self._buffered -= len(chunk)
        if self._paused and self._buffered <= self.HIGH_WATER // 2 and self._transport is not None:
            self._paused = False
            self._transport.resume_reading()
        return chunk

    # -- writing ----------------------------------------------------------------------------

    @property
    def transport(self) -> asyncio.Transport:
        assert self._transport is not None, "not connected yet"
        return self._transport

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.transport.get_extra_info(name, default)

    def write(self, data: bytes) -> None:
        self.transport.write(data)

    def writelines(self, pieces: list[bytes]) -> None:
        # The transport's own: sendmsg on Python 3.12+ and the engine's port-forward take the
        # pieces without joining them first.
        self.transport.writelines(pieces)

    async def drain(self) -> None:
        if self._lost:
            raise ConnectionResetError("the connection is closed")
        await self._writable.wait()
        if self._lost:
            raise ConnectionResetError("the connection is closed")

    def can_write_eof(self) -> bool:
        return self.transport.can_write_eof()

    def write_eof(self) -> None:
        self.transport.write_eof()

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    def close(self) -> None:
        self.transport.close()

    async def wait_closed(self) -> None:
        await asyncio.shield(self._closed)


async def open_tcp(host: str, port: int) -> TcpConnection:
    """Connect to host:port for splicing (OSError when it cannot)."""
    _transport, protocol = await asyncio.get_running_loop().create_connection(TcpConnection, host, port)
    return protocol


async def serve_tcp(
    on_connected: Callable[[TcpConnection], None], host: str | None, port: int, *, backlog: int = 100
) -> asyncio.Server:
    """Listen on host:port; `on_connected` gets each accepted connection, ready for `splice`."""
    return await asyncio.get_running_loop().create_server(
        lambda: TcpConnection(on_connected), host, port, backlog=backlog
    )


StreamHandler = Callable[["Stream"], Awaitable[None]]
RequestHandler = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


class Stream:
    """One multiplexed stream, used like a socket: `read`, `write`, `write_eof`, `reset`."""

    def __init__(self, session: Session, stream_id: int, target: dict[str, Any]) -> None:
        self.session = session
        self.stream_id = stream_id
        self.target = target
        self._chunks: collections.deque[bytes] = collections.deque()
        self._buffered = 0
        self._eof_received = False
        self._eof_sent = False
        self._error: Exception | None = None
        self._discarding = False
        self._readable = asyncio.Event()
        self._writable = asyncio.Event()

    def __repr__(self) -> str:
        return f"<Stream {self.stream_id} {targets.describe(self.target)}>"

    @property
    def at_eof(self) -> bool:
        return self._eof_received and not self._chunks

    async def read(self, max_bytes: int = READ_SIZE) -> bytes:
        """Up to `max_bytes` bytes; b"" once the peer half-closed and everything was read.

        Raises `errors.StreamReset` if the stream was reset, `errors.SessionClosed` if the
        session ended before the peer's EOF; data received before either is still returned first.
        """
        while not self._chunks and not self._eof_received and self._error is None:
            self._readable.clear()
            await self._readable.wait()
        if self._chunks:
            chunk = self._chunks.popleft()
            if len(chunk) > max_bytes:
                chunk, rest = chunk[:max_bytes], chunk[max_bytes:]
                self._chunks.appendleft(rest)
            elif self._chunks and len(chunk) + len(self._chunks[0]) <= max_bytes:
                # Several frames arrived together: hand them over in one piece, one write downstream.
                parts = [chunk]
                size = len(chunk)
                while self._chunks and size + len(self._chunks[0]) <= max_bytes:
                    parts.append(self._chunks.popleft())
                    size += len(parts[-1])
                chunk = b"".join(parts)
            self._buffered -= len(chunk)
            self.session._acknowledge(self.stream_id, len(chunk))
            return chunk
        if self._eof_received:
            return b""
        assert self._error is not None
        raise self._error

    async def read_all(self, *, limit: int = 64 * 1024 * 1024) -> bytes:
        """Everything until the peer's EOF; raises `errors.AgentError` beyond `limit` bytes."""
        parts: list[bytes] = []
        size = 0
        while chunk := await self.read():
            size += len(chunk)
            if size > limit:
                self.reset(protocol_errors.ErrorCode.CANCEL, "too much data")
                raise errors.AgentError(f"{self!r} sent more than {limit} bytes")
            parts.append(chunk)
        return b"".join(parts)

    async def write(self, data: bytes) -> None:
        """Send `data`, waiting for credit as needed. Raises `errors.StreamReset` or
        `errors.SessionClosed` if the stream can no longer send."""
        view = memoryview(data)
        while view:
            self._raise_if_unwritable()
            try:
                credit = self.session._conn.send_credit(self.stream_id)
            except protocol_errors.StreamClosedError:
                raise self._error or self._closed_error("the stream is closed") from None
            if credit == 0:
                self._writable.clear()
                await self._writable.wait()
                continue
            size = min(credit, len(view))
            whole = size == len(data) and isinstance(data, bytes)
            self.session._conn.send_data(self.stream_id, data if whole else bytes(view[:size]))
            view = view[size:]
            await self.session._flush_and_drain()

    async def write_eof(self) -> None:
        """Half-close: the peer reads EOF; this side can still read. Closing twice does nothing."""
        if self._eof_sent:
            return
        self._raise_if_unwritable()
        self._eof_sent = True
        self.session._conn.close_stream(self.stream_id)
        self.session._forget_if_closed(self.stream_id)
        await self.session._flush_and_drain()

    async def close(self) -> None:
        """Done with the stream: send EOF if not sent yet, and drop whatever the peer still sends.

        Unlike `reset`, data already written still reaches the peer. A stream opened with
        `Session.open_stream` is only freed once both directions ended, so close it (or read to
        EOF after `write_eof`, or reset it) when done. Closing twice, or after a reset, does nothing.
        """
        if self._error is not None:
            return
        if not self._eof_sent:
            await self.write_eof()
        self.session._acknowledge(self.stream_id, self._discard())

    def reset(self, error_code: int = protocol_errors.ErrorCode.CANCEL, reason: str = "") -> None:
        """Abort both directions; pending reads and writes raise `errors.StreamReset`."""
        if self._error is not None:
            return
        if not self.session.closed:
            self.session._conn.reset_stream(self.stream_id, error_code, reason)
        dropped = self._fail(errors.StreamReset(self.stream_id, error_code, reason))
        # Unread data still holds connection credit: give it back, or every reset shrinks the
        # window the other streams share.
        self.session._acknowledge(self.stream_id, dropped)
        self.session._forget(self.stream_id)

    def _raise_if_unwritable(self) -> None:
        if self._error is not None:
            raise self._error
        if self._eof_sent:
            raise self._closed_error("EOF already sent")

    def _closed_error(self, reason: str) -> errors.StreamReset:
        return errors.StreamReset(self.stream_id, protocol_errors.ErrorCode.STREAM_CLOSED, reason)

    def _feed(self, data: bytes) -> None:
        self._chunks.append(data)
        self._buffered += len(data)
        self._readable.set()

    def _feed_eof(self) -> None:
        self._eof_received = True
        self._readable.set()

    def _discard(self) -> int:
        """From now on drop what arrives; returns the unread bytes dropped now."""
        self._discarding = True
        dropped, self._buffered = self._buffered, 0
        self._chunks.clear()
        return dropped

    def _fail(self, error: Exception) -> int:
        """Wake everyone waiting with `error`; returns the unread bytes dropped when it is a reset."""
        if self._error is None:
            self._error = error
        dropped = 0
        if isinstance(error, errors.StreamReset):
            dropped = self._buffered
            self._chunks.clear()
            self._buffered = 0
        self._readable.set()
        self._writable.set()
        return dropped


class Session:
    """A connection between engine and agent, driven over asyncio streams; see the module docstring.

    Create it with `Session.start(...)`, which performs the handshake and starts the background
    tasks, then use `open_stream`, `request`, `close`, `wait_closed`.
    """

    def __init__(
        self,
        *,
        conn: connection.Connection,
        reader: ByteReader,
        writer: ByteWriter,
        on_stream: StreamHandler | None = None,
        on_request: RequestHandler | None = None,
        heartbeat_interval: float = 5.0,
        heartbeat_timeout: float = 20.0,
    ) -> None:
        self._conn = conn
        self._reader = reader
        self._writer = writer
        self._on_stream = on_stream
        self._on_request = on_request
        self._streams: dict[int, Stream] = {}
        self._pending: dict[int, tuple[str, asyncio.Future[dict[str, Any]]]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._background: list[asyncio.Task[Any]] = []
        self._loop = asyncio.get_running_loop()
        self._liveness = heartbeats.Liveness(
            interval=heartbeat_interval, timeout=heartbeat_timeout, now=self._loop.time()
        )
        self._closed = asyncio.Event()
        self.close_reason = ""
        self.peer_info: dict[str, Any] = {}
        self.connected_since = time.time()
        self.last_received = self.connected_since

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    async def start(
        cls,
        *,
        reader: ByteReader,
        writer: ByteWriter,
        role: connection.Role,
        token: str,
        settings: connection.Settings | None = None,
        info: dict[str, Any] | None = None,
        on_stream: StreamHandler | None = None,
        on_request: RequestHandler | None = None,
        heartbeat_interval: float = 5.0,
        heartbeat_timeout: float = 20.0,
        handshake_timeout: float = 10.0,
    ) -> Session:
        """Handshake over (reader, writer) and return the running session.

        Raises `errors.HandshakeFailed` when the peer refuses (wrong token, version), breaks the
        protocol, closes, or stays silent for `handshake_timeout` seconds; the writer is closed.
        """
        conn = connection.Connection(role=role, token=token, settings=settings, info=info)
        session = cls(
            conn=conn,
            reader=reader,
            writer=writer,
            on_stream=on_stream,
            on_request=on_request,
            heartbeat_interval=heartbeat_interval,
            heartbeat_timeout=heartbeat_timeout,
        )
        try:
            async with asyncio.timeout(handshake_timeout):
                await session._handshake()
        except TimeoutError:
            writer.close()
            raise errors.HandshakeFailed(f"no handshake within {handshake_timeout} s") from None
        except BaseException:
            writer.close()
            raise
        session._background = [
            asyncio.ensure_future(session._read_loop()),
            asyncio.ensure_future(session._heartbeat_loop()),
        ]
        return session

    async def _handshake(self) -> None:
        if self._conn.role is connection.Role.ENGINE:
            self._conn.initiate()
            self._flush()
        while not self._conn.handshake_complete:
            data = await self._reader.read(READ_SIZE)
            if not data:
                raise errors.HandshakeFailed("the peer closed the connection during the handshake")
            try:
                received = self._conn.receive_data(data)
            except protocol_errors.RemoteProtocolError as error:
                self._flush()
                with contextlib.suppress(ConnectionError):
                    await self._writer.drain()
                raise errors.HandshakeFailed(
                    f"handshake refused: {error}", error_code=error.error_code
                ) from None
            for event in received:
                if isinstance(event, events.ConnectionTerminated):
                    raise errors.HandshakeFailed(
                        f"the peer refused the handshake: {protocol_errors.describe(event.error_code)}"
                        + (f" ({event.reason})" if event.reason else ""),
                        error_code=event.error_code,
                    )
                if isinstance(event, events.HandshakeCompleted):
                    self.peer_info = event.peer_info
            self._flush()
        if self._conn.data_to_send():  # pragma: no cover - everything was flushed above
            raise AssertionError("unflushed handshake bytes")
        self._mark_received()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    @property
    def version(self) -> int:
        assert self._conn.negotiated_version is not None
        return self._conn.negotiated_version

    @property
    def stream_count(self) -> int:
        return len(self._streams)

    async def close(self, error_code: int = protocol_errors.ErrorCode.NO_ERROR, reason: str = "") -> None:
        """Send GOAWAY, close the transport and fail every stream. Closing twice does nothing."""
        if self.closed:
            return
        self._conn.close(error_code, reason)
        self._flush()
        # Closed at once, so nothing uses the terminated connection while the GOAWAY drains;
        # closing the transport still sends what is buffered.
        self._shutdown(reason or "closed by this side")
        with contextlib.suppress(ConnectionError, OSError, TimeoutError):
            async with asyncio.timeout(1):
                await self._writer.wait_closed()

    async def wait_closed(self) -> None:
        await self._closed.wait()

    # -- streams and requests ----------------------------------------------------------------

    async def open_stream(self, target: dict[str, Any]) -> Stream:
        """Open a stream towards `target` (see `protocol.targets`); data may be written at once.

        Raises `errors.SessionClosed` when the session is over or going away, and
        `errors.StreamRefused` while the peer's limit of concurrent streams is reached.
        """
        if self.closed or not self._conn.accepting_streams:
            raise errors.SessionClosed(
                f"cannot open a stream: {self.close_reason or 'the session is going away'}"
            )
        try:
            stream_id = self._conn.open_stream(target)
        except protocol_errors.LocalProtocolError as error:
            raise errors.StreamRefused(str(error)) from None
        stream = Stream(self, stream_id, target)
        self._streams[stream_id] = stream
        await self._flush_and_drain()
        return stream

    async def request(
        self, method: str, params: dict[str, Any] | None = None, *, timeout: float = 30
    ) -> dict[str, Any]:
        """Send a control request and return the peer's answer.

        Raises `errors.RequestFailed` when the peer answers with an error, `TimeoutError` after
        `timeout` seconds, `errors.SessionClosed` if the session ends first.
        """
        if self.closed:
            raise errors.SessionClosed(f"cannot send {method!r}: {self.close_reason}")
        request_id = self._conn.send_request(method, params)
        future: asyncio.Future[dict[str, Any]] = self._loop.create_future()
        self._pending[request_id] = (method, future)
        await self._flush_and_drain()
        try:
            async with asyncio.timeout(timeout):
                return await future
        finally:
            self._pending.pop(request_id, None)

    # -- internals ---------------------------------------------------------------------------

    def _spawn(self, coroutine: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _mark_received(self) -> None:
        self._liveness.frame_received(self._loop.time())
        self.last_received = time.time()

    async def _read_loop(self) -> None:
        reason = "the peer closed the connection"
        try:
            while not self.closed:
                data = await self._reader.read(READ_SIZE)
                if not data:
                    break
                self._mark_received()
                try:
                    received = self._conn.receive_data(data)
                except protocol_errors.RemoteProtocolError as error:
                    self._dispatch(error.events)  # type: ignore[arg-type]
                    self._flush()
                    reason = f"protocol error: {error}"
                    log.warning("closing the session: %s", reason)
                    break
                self._dispatch(received)
                self._flush()
        except (ConnectionError, OSError) as error:
            reason = f"connection lost: {error}"
        finally:
            self._shutdown(reason)

    async def _heartbeat_loop(self) -> None:
        period = min(self._liveness.interval, self._liveness.timeout - self._liveness.interval) / 2
        while not self.closed:
            await asyncio.sleep(period)
            now = self._loop.time()
            if self._liveness.peer_dead(now):
                log.warning("the peer sent nothing for %.0f s: closing the session", self._liveness.timeout)
                await self.close(protocol_errors.ErrorCode.TIMEOUT, "heartbeat timeout")
                return
            if self._liveness.ping_due(now) and not self._conn.terminated:
                self._conn.ping()
                self._flush()

    def _dispatch(self, received: list[events.Event]) -> None:
        for event in received:
            match event:
                case events.DataReceived(stream_id=sid, data=data):
                    stream = self._streams.get(sid)
                    if stream is None or stream._error is not None or stream._discarding:
                        self._conn.acknowledge_received_data(sid, len(data))
                    else:
                        stream._feed(data)
                case events.WindowUpdated(stream_id=0):
                    for stream in self._streams.values():
                        stream._writable.set()
                case events.WindowUpdated(stream_id=sid):
                    if (stream := self._streams.get(sid)) is not None:
                        stream._writable.set()
                case events.StreamOpened(stream_id=sid, target=target):
                    self._accept_stream(sid, target)
                case events.StreamEnded(stream_id=sid):
                    if (stream := self._streams.get(sid)) is not None:
                        stream._feed_eof()
                        self._forget_if_closed(sid)
                case events.StreamReset(stream_id=sid, error_code=code, reason=reason):
                    if (stream := self._streams.pop(sid, None)) is not None:
                        dropped = stream._fail(errors.StreamReset(sid, code, reason))
                        self._conn.acknowledge_received_data(sid, dropped)
                case events.RequestReceived(request_id=rid, method=method, params=params):
                    self._spawn(self._answer(rid, method, params))
                case events.ResponseReceived(request_id=rid, ok=ok, body=body):
                    pending = self._pending.get(rid)
                    if pending is not None and not pending[1].done():
                        method, future = pending
                        if ok:
                            future.set_result(body)
                        else:
                            future.set_exception(errors.RequestFailed(method, str(body.get("message", body))))
                case events.ConnectionTerminated(error_code=code, reason=reason):
                    self.close_reason = (
                        f"the peer is going away: {protocol_errors.describe(code)} {reason}".strip()
                    )
                case events.PingReceived() | events.PongReceived() | events.HandshakeCompleted():
                    pass

    def _accept_stream(self, stream_id: int, target: dict[str, Any]) -> None:
        if self._on_stream is None:
            self._conn.reset_stream(stream_id, protocol_errors.ErrorCode.REFUSED_STREAM, "no handler")
            return
        stream = Stream(self, stream_id, target)
        self._streams[stream_id] = stream
        self._spawn(self._run_stream_handler(stream))

    async def _run_stream_handler(self, stream: Stream) -> None:
        assert self._on_stream is not None
        try:
            await self._on_stream(stream)
            if not self.closed:
                # The handler is done with the stream: the peer must not wait for more.
                await stream.close()
        except (ConnectionError, OSError):
            stream.reset(protocol_errors.ErrorCode.CANCEL, "connection lost")
        except Exception:
            log.exception("stream handler for %r failed", stream)
            stream.reset(protocol_errors.ErrorCode.INTERNAL_ERROR, "handler failed")

    async def _answer(self, request_id: int, method: str, params: dict[str, Any]) -> None:
        if self._on_request is None:
            ok, body = False, {"message": f"unknown method {method!r}"}
        else:
            try:
                ok, body = True, await self._on_request(method, params)
            except Exception as error:
                ok, body = False, {"message": str(error) or type(error).__name__}
        if not self.closed:
            self._conn.send_response(request_id, ok=ok, body=body)
            await self._flush_and_drain()

    def _acknowledge(self, stream_id: int, size: int) -> None:
        if self.closed:
            return
        self._conn.acknowledge_received_data(stream_id, size)
        self._flush()

    def _forget_if_closed(self, stream_id: int) -> None:
        stream = self._streams.get(stream_id)
        if stream is not None and stream._eof_sent and stream._eof_received:
            # Both directions ended; unread data stays readable by whoever holds the stream.
            del self._streams[stream_id]

    def _forget(self, stream_id: int) -> None:
        self._streams.pop(stream_id, None)

    def _flush(self) -> None:
        pieces = self._conn.pieces_to_send()
        if pieces and not self._writer.is_closing():
            self._writer.writelines(pieces)

    async def _flush_and_drain(self) -> None:
        self._flush()
        if self.closed:
            raise errors.SessionClosed(self.close_reason)
        try:
            await self._writer.drain()
        except ConnectionError as error:
            self._shutdown(f"connection lost: {error}")
            raise errors.SessionClosed(self.close_reason) from None

    def _shutdown(self, reason: str) -> None:
        if self.closed:
            return
        self.close_reason = self.close_reason or reason
        self._closed.set()
        failure = errors.SessionClosed(f"session closed: {self.close_reason}")
        for stream in list(self._streams.values()):
            stream._fail(failure)
        self._streams.clear()
        for _method, future in self._pending.values():
            if not future.done():
                future.set_exception(failure)
        self._writer.close()
        current = asyncio.current_task()
        for task in self._background:
            if task is not current:
                task.cancel()


async def splice(stream: Stream, reader: SpliceReader, writer: SpliceWriter) -> None:
    """Copy bytes both ways between a stream and a TCP connection until both directions ended.

    The TCP side is an asyncio (StreamReader, StreamWriter) pair, or a `TcpConnection` given as
    both (which copies less).

    EOF is passed on as a half-close each way. A reset stream aborts the TCP connection (the
    client sees a connection reset), and a TCP error resets the stream, so neither side hangs.
    """

    async def tcp_to_stream() -> None:
        try:
            while data := await reader.read(READ_SIZE):
                await stream.write(data)
            await stream.write_eof()
        except (ConnectionError, OSError):
            stream.reset(protocol_errors.ErrorCode.CANCEL, "the TCP peer went away")

    async def stream_to_tcp() -> None:
        try:
            while data := await stream.read():
                writer.write(data)
                await writer.drain()
            if writer.can_write_eof() and not writer.is_closing():
                writer.write_eof()
        except errors.StreamReset:
            writer.transport.abort()
        except (ConnectionError, OSError):
            stream.reset(protocol_errors.ErrorCode.CANCEL, "the TCP peer went away")
            writer.transport.abort()

    try:
        await asyncio.gather(tcp_to_stream(), stream_to_tcp())
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()
