"""A port-forward to one pod port, as an asyncio (StreamReader, StreamWriter) pair.

Speaks the API server's `v4.channel.k8s.io` WebSocket protocol with aiohttp: GET
`.../pods/NAME/portforward?ports=P` upgraded to a WebSocket; every binary message starts with a
channel byte, channel 0 carries the port's data both ways and channel 1 the server's error text
for it. The server first sends, on each channel, the port number (2 bytes, little endian).

The pair behaves like a TCP connection's, with flow control both ways: the writer's `drain()`
waits while more than `WRITE_HIGH_WATER` bytes wait to be sent, and the reader stops reading the
WebSocket while its buffer is full, so the API server's TCP window throttles the pod side.
v4 has no half-close: `write_eof` is not supported and closing the writer closes the
WebSocket, which the server turns into closing the pod connection. An error on the error
channel (the pod refused the connection, the pod went away) ends the reader with a
`ConnectionResetError` carrying the server's words. Reconnecting is the caller's job.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Iterable

import aiohttp

from kubelocal.kube import errors, requesting, resources

SUBPROTOCOL = "v4.channel.k8s.io"
DATA_CHANNEL = 0
ERROR_CHANNEL = 1
MAX_FRAME = 256 * 1024
WRITE_HIGH_WATER = 1024 * 1024
WRITE_LOW_WATER = 256 * 1024
STREAM_LIMIT = 1024 * 1024


async def open_forward(
    client: requesting.Client,
    *,
    pod: str,
    port: int,
    namespace: str | None = None,
    timeout: float = 15.0,
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Open a port-forward to `pod`:`port`; returns once the server confirmed the port.

    Raises `errors.NotFound` (no such pod), `errors.Forbidden` (no `create pods/portforward`),
    `errors.ClusterUnreachable`, or `errors.ForwardError` when the server refused or never
    confirmed the forward within `timeout` seconds.
    """
    namespace = namespace or client.namespace
    path = resources.PODS.path(namespace=namespace, name=pod, subresource="portforward")
    headers = await client.headers()
    loop = asyncio.get_running_loop()
    try:
        websocket = await client.session().ws_connect(
            path,
            params={"ports": str(port)},
            protocols=(SUBPROTOCOL,),
            headers=headers,
            timeout=aiohttp.ClientWSTimeout(ws_close=5.0),
            max_msg_size=0,
            autoping=True,
            compress=0,
        )
    except aiohttp.WSServerHandshakeError as error:
        if error.status >= 400:
            raise requesting.api_error(
                error.status, error.message.encode(), method="GET", path=path
            ) from error
        raise errors.ForwardError(_refused(pod, port, namespace, str(error))) from error
    except (TimeoutError, aiohttp.ClientConnectionError, OSError) as error:
        raise requesting.unreachable(client.cluster, error) from error
    if websocket.protocol != SUBPROTOCOL:
        await websocket.close()
        raise errors.ForwardError(
            f"The API server did not agree to the {SUBPROTOCOL} port-forward protocol "
            f"(it chose {websocket.protocol!r}). kubelocal needs Kubernetes 1.4 or newer."
        )
    reader = asyncio.StreamReader(limit=STREAM_LIMIT, loop=loop)
    protocol = asyncio.StreamReaderProtocol(reader, loop=loop)
    transport = _ForwardTransport(websocket, protocol, port=port, description=f"{namespace}/{pod}:{port}")
    protocol.connection_made(transport)
    writer = asyncio.StreamWriter(transport, protocol, reader, loop)
    try:
        await asyncio.wait_for(transport.confirmed, timeout)
    except (TimeoutError, errors.ForwardError) as error:
        transport.abort()
        why = str(error) if isinstance(error, errors.ForwardError) else f"no answer in {timeout:.0f} s"
        raise errors.ForwardError(_refused(pod, port, namespace, why)) from None
    return reader, writer


def _refused(pod: str, port: int, namespace: str, why: str) -> str:
    return (
        f"The port-forward to pod {namespace}/{pod} port {port} failed: {why}. "
        "Check that the pod is running and listens on that port."
    )


class _ForwardTransport(asyncio.Transport):
    """An asyncio transport over one port's channels of a port-forward WebSocket."""

    def __init__(
        self, websocket: aiohttp.ClientWebSocketResponse, protocol: asyncio.Protocol, *, port: int,
        description: str,
    ) -> None:  # fmt: skip
        super().__init__(extra={"peername": description, "sockname": None})
        self._websocket = websocket
        self._protocol = protocol
        self._port = port
        self._description = description
        loop = asyncio.get_running_loop()
        self.confirmed: asyncio.Future[None] = loop.create_future()
        self._outgoing: collections.deque[bytes | memoryview] = collections.deque()
        self._outgoing_size = 0
        self._has_outgoing = asyncio.Event()
        self._reading_allowed = asyncio.Event()
        self._reading_allowed.set()
        self._writing_paused = False
        self._closing = False
        self._lost = False
        self._initialized = {DATA_CHANNEL: False, ERROR_CHANNEL: False}
        self._error_text = ""
        self._closer: asyncio.Task[bool] | None = None
        self._receiver = loop.create_task(self._receive(), name=f"forward-rx {description}")
        self._sender = loop.create_task(self._send(), name=f"forward-tx {description}")

    # --- asyncio.Transport ---------------------------------------------------------------------

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closing or self._lost:
            return
        if not data:
            return
        # Kept as given (a copy only of a mutable buffer the caller may reuse), and joined with
        # the channel byte once per message in `_send`: one copy on the way to the WebSocket.
        self._outgoing.append(data if type(data) is bytes else bytes(data))
        self._outgoing_size += len(data)
        self._has_outgoing.set()
        if not self._writing_paused and self._outgoing_size > WRITE_HIGH_WATER:
            self._writing_paused = True
            self._protocol.pause_writing()

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        # Piece by piece, not joined first (asyncio's default): the tunnel's frames arrive as
        # header and payload apart, and `_next_message` joins them with the channel byte anyway.
        for data in list_of_data:
            self.write(data)

    def can_write_eof(self) -> bool:
        return False

    def write_eof(self) -> None:
        raise NotImplementedError("the v4 port-forward protocol has no half-close")

    def get_write_buffer_size(self) -> int:
        return self._outgoing_size

    def is_closing(self) -> bool:
        return self._closing or self._lost

    def close(self) -> None:
        """Send what is buffered, then close the WebSocket."""
        if self._closing:
            return
        self._closing = True
        self._has_outgoing.set()

    def abort(self) -> None:
        self._closing = True
        self._sender.cancel()
        self._receiver.cancel()
        self._close_websocket()
        self._connection_lost(None)

    def pause_reading(self) -> None:
        self._reading_allowed.clear()

    def resume_reading(self) -> None:
        self._reading_allowed.set()

    def is_reading(self) -> bool:
        return self._reading_allowed.is_set()

    # --- the two pumps -------------------------------------------------------------------------

    async def _send(self) -> None:
        prefix = bytes((DATA_CHANNEL,))
        try:
            while True:
                await self._has_outgoing.wait()
                while self._outgoing:
                    message = self._next_message(prefix)
                    await self._websocket.send_bytes(message)
                    if self._writing_paused and self._outgoing_size <= WRITE_LOW_WATER:
                        self._writing_paused = False
                        self._protocol.resume_writing()
                self._has_outgoing.clear()
                if self._closing:
                    await self._websocket.close()
                    return
        except asyncio.CancelledError:
            raise
        except (aiohttp.ClientError, ConnectionError, RuntimeError) as error:
            self._fail(ConnectionResetError(f"port-forward {self._description} broke while sending: {error}"))

    def _next_message(self, prefix: bytes) -> bytes:
        """The channel byte and up to MAX_FRAME queued bytes, joined: one copy per message.

        Messages are filled: a write that does not fit whole is split, its rest starting the next.
        """
        pieces: list[bytes | memoryview] = [prefix]
        size = 0
        while self._outgoing and size < MAX_FRAME:
            piece = self._outgoing[0]
            room = MAX_FRAME - size
            if len(piece) > room:
                view = memoryview(piece)
                pieces.append(view[:room])
                self._outgoing[0] = view[room:]
                size = MAX_FRAME
                break
            pieces.append(self._outgoing.popleft())
            size += len(piece)
        self._outgoing_size -= size
        return b"".join(pieces)

    async def _receive(self) -> None:
        try:
            while True:
                await self._reading_allowed.wait()
                message = await self._websocket.receive()
                if message.type == aiohttp.WSMsgType.BINARY:
                    self._on_frame(message.data)
                elif message.type == aiohttp.WSMsgType.TEXT:
                    self._on_frame(message.data.encode("latin-1"))
                elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING,
                                      aiohttp.WSMsgType.CLOSED):  # fmt: skip
                    break
                elif message.type == aiohttp.WSMsgType.ERROR:
                    raise ConnectionResetError(f"port-forward {self._description} broke: {message.data}")
                if self._lost:
                    return
        except asyncio.CancelledError:
            raise
        except (ConnectionError, aiohttp.ClientError, errors.ForwardError) as error:
            self._fail(error if isinstance(error, ConnectionError) else ConnectionResetError(str(error)))
            return
        if self._error_text:
            self._fail(ConnectionResetError(self._error_text))
            return
        if not self.confirmed.done():
            self.confirmed.set_exception(errors.ForwardError("the API server closed the connection"))
        self._protocol.eof_received()
        self._connection_lost(None)

    def _on_frame(self, data: bytes) -> None:
        if not data:
            return
        # A view, not a copy: the reader's buffer copies the payload anyway.
        channel, payload = data[0], memoryview(data)[1:]
        if channel not in self._initialized:
            raise errors.ForwardError(f"unexpected channel {channel} in a single-port forward")
        if not self._initialized[channel]:
            # The first frame of each channel names the port: the server's confirmation.
            if len(payload) >= 2 and int.from_bytes(payload[:2], "little") != self._port:
                raise errors.ForwardError(
                    f"the server confirmed port {int.from_bytes(payload[:2], 'little')}"
                )
            self._initialized[channel] = True
            if all(self._initialized.values()) and not self.confirmed.done():
                self.confirmed.set_result(None)
            return
        if channel == DATA_CHANNEL:
            if payload:
                self._protocol.data_received(payload)
        elif payload:
            # The pod side failed (connection refused, pod gone): nothing more will flow.
            self._error_text += bytes(payload).decode(errors="replace")
            raise ConnectionResetError(f"port-forward {self._description}: {self._error_text}")

    def _fail(self, error: Exception) -> None:
        if not self.confirmed.done():
            self.confirmed.set_exception(errors.ForwardError(str(error)))
        self._closing = True
        self._sender.cancel()
        self._close_websocket()
        self._connection_lost(error)

    def _close_websocket(self) -> None:
        if self._websocket.closed or self._closer is not None:
            return
        with contextlib.suppress(RuntimeError):  # the loop is closing: the session closes it anyway
            self._closer = asyncio.get_running_loop().create_task(self._websocket.close())

    def _connection_lost(self, error: Exception | None) -> None:
        if self._lost:
            return
        self._lost = True
        if self.confirmed.done() and not self.confirmed.cancelled():
            self.confirmed.exception()  # retrieved: a late failure must not warn as unretrieved
        self._protocol.connection_lost(error)

    def __repr__(self) -> str:
        return f"<port-forward {self._description}>"
