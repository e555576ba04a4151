"""The agent's listeners, all in one asyncio loop: the pod's service ports, the control port where
the engine connects, and a small read-only status endpoint for the restore Job.

- Service ports (`service_ports`, on `service_host`, every address by default): each accepted
  connection becomes an `inbound` stream to the engine. With no engine connected the connection
  is aborted at once, so clients fail fast instead of hanging.
- Control port (`control_host`, 127.0.0.1 by default: reachable through a port-forward only, not
  from other pods): the engine connects and shakes hands with the session token. One session at
  a time; a newer session with the right token replaces the older one (the engine reconnecting
  after a dropped port-forward must not wait for the old one to time out).
- Status (`status_host:status_port`): `GET /status` answers the JSON of `Agent.status()`, which
  holds no secret; the restore Job, in another pod, polls it.

Streams opened by the engine: `connect` (dial a cluster address and splice), `volume` (a tar
stream of a path). Requests: `env` (the container's environment without the agent's own
variables), `status`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import signal
import tarfile
import time
from typing import Any

from kubelocal_agent import driving, errors
from kubelocal_agent.protocol import connection, targets, versions
from kubelocal_agent.protocol import errors as protocol_errors

log = logging.getLogger(__name__)

AGENT_ENV_PREFIX = "KUBELOCAL_AGENT_"
DEFAULT_CONTROL_PORT = 47100
DEFAULT_STATUS_PORT = 47101
TAR_BUFFER = 256 * 1024
# A burst of clients (a load test, a reconnect storm) must queue, not see refused connections.
SERVICE_BACKLOG = 4096


@dataclasses.dataclass(frozen=True)
class AgentConfig:
    token: str = dataclasses.field(repr=False)
    service_ports: tuple[int, ...] = ()
    service_host: str = "0.0.0.0"
    control_host: str = "127.0.0.1"
    control_port: int = DEFAULT_CONTROL_PORT
    status_host: str = "0.0.0.0"
    status_port: int | None = DEFAULT_STATUS_PORT
    heartbeat_interval: float = 5.0
    heartbeat_timeout: float = 20.0
    connect_timeout: float = 10.0


def container_environment(environ: dict[str, str]) -> dict[str, str]:
    """The environment the replaced container had: everything but the agent's own variables,
    which hold the session token."""
    return {name: value for name, value in environ.items() if not name.startswith(AGENT_ENV_PREFIX)}


class Agent:
    """All listeners of one agent process; `start`, then `wait_stopped` or `stop`."""

    def __init__(self, config: AgentConfig) -> None:
        self.config = config
        self._servers: list[asyncio.Server] = []
        self._session: driving.Session | None = None
        self._session_peer = ""
        self._started = time.time()
        # None while a session is (or was a moment ago) connected: a session that just dropped
        # must read as idle for 0 s, not since the agent started.
        self._disconnected_since: float | None = time.monotonic()
        self._sessions_accepted = 0
        self._refused = 0
        self._handlers: set[asyncio.Task[Any]] = set()
        self._stopped = asyncio.Event()
        self.control_port = 0
        self.status_port: int | None = None
        # (requested, bound) pairs: they differ only when 0 asked for any free port.
        self.service_ports: list[tuple[int, int]] = []

    async def start(self) -> None:
        """Bind every listener; port 0 picks a free port, reported in the ready line."""
        config = self.config
        control = await driving.serve_tcp(
            lambda tcp: self._track(self._on_control(tcp)), config.control_host, config.control_port
        )
        self._servers.append(control)
        self.control_port = control.sockets[0].getsockname()[1]
        if config.status_port is not None:
            status = await asyncio.start_server(self._on_status, config.status_host, config.status_port)
            self._servers.append(status)
            self.status_port = status.sockets[0].getsockname()[1]
        for requested in config.service_ports:
            server = await driving.serve_tcp(
                lambda tcp, requested=requested: self._track(self._on_inbound(requested, tcp)),
                config.service_host,
                requested,
                backlog=SERVICE_BACKLOG,
            )
            self._servers.append(server)
            self.service_ports.append((requested, server.sockets[0].getsockname()[1]))

    def ready_line(self) -> str:
        return json.dumps(
            {
                "event": "ready",
                "control_port": self.control_port,
                "status_port": self.status_port,
                "service_ports": self.service_ports,
            }
        )

    async def wait_stopped(self) -> None:
        await self._stopped.wait()

    async def stop(self) -> None:
        for server in self._servers:
            server.close()
        if self._session is not None:
            await self._session.close(protocol_errors.ErrorCode.NO_ERROR, "the agent is stopping")
        for task in list(self._handlers):
            task.cancel()
        self._stopped.set()

    def status(self) -> dict[str, Any]:
        """What the restore Job and `kubelocal status` need; never a secret.

        `idle_seconds` is measured by the agent's own clock since the last session ended (or the
        agent started), so the poller needs no synchronised clock. It is 0 while connected.
        """
        session = self._session
        connected = session is not None and not session.closed
        idle_from = self._disconnected_since if self._disconnected_since is not None else time.monotonic()
        return {
            "connected": connected,
            "connected_since": session.connected_since if connected and session else None,
            "last_heartbeat": session.last_received if connected and session else None,
            "peer": self._session_peer if connected else None,
            "idle_seconds": 0.0 if connected else round(time.monotonic() - idle_from, 3),
            "agent_started": self._started,
            "sessions_accepted": self._sessions_accepted,
            "handshakes_refused": self._refused,
            "streams": session.stream_count if connected and session else 0,
            "protocol_version": versions.PROTOCOL_VERSION,
        }

    # -- control -----------------------------------------------------------------------------

    async def _on_control(self, tcp: driving.TcpConnection) -> None:
        peer = _peer_name(tcp)
        try:
            session = await driving.Session.start(
                reader=tcp,
                writer=tcp,
                role=connection.Role.AGENT,
                token=self.config.token,
                info={"pod": os.environ.get("HOSTNAME", ""), "pid": os.getpid()},
                on_stream=self._on_stream,
                on_request=self._on_request,
                heartbeat_interval=self.config.heartbeat_interval,
                heartbeat_timeout=self.config.heartbeat_timeout,
            )
        except (errors.HandshakeFailed, ConnectionError, OSError) as error:
            self._refused += 1
            # The error says why (wrong token, version, timeout); it never contains a token.
            log.warning("refused a control connection from %s: %s", peer, error)
            return
        previous, self._session, self._session_peer = self._session, session, peer
        self._disconnected_since = None
        self._sessions_accepted += 1
        log.info("engine session from %s started (protocol %d)", peer, session.version)
        if previous is not None:
            await previous.close(protocol_errors.ErrorCode.NO_ERROR, "replaced by a newer session")
        await session.wait_closed()
        log.info("engine session from %s ended: %s", peer, session.close_reason)
        if self._session is session:
            self._session = None
            self._disconnected_since = time.monotonic()

    async def _on_request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "env":
            return {"environ": container_environment(dict(os.environ))}
        if method == "status":
            return self.status()
        raise ValueError(f"unknown method {method!r}; this agent knows 'env' and 'status'")

    async def _on_stream(self, stream: driving.Stream) -> None:
        kind = stream.target.get("kind")
        if kind == targets.CONNECT:
            await self._connect_outbound(stream)
        elif kind == targets.VOLUME:
            await self._send_volume(stream)
        else:
            stream.reset(protocol_errors.ErrorCode.UNKNOWN_TARGET, f"this agent cannot open {kind!r} streams")

    # -- inbound -----------------------------------------------------------------------------

    async def _on_inbound(self, port: int, tcp: driving.TcpConnection) -> None:
        port = port or tcp.get_extra_info("sockname")[1]
        session = self._session
        if session is None or session.closed:
            # Fail fast: a reset tells the client now, rather than a connection that never answers.
            tcp.transport.abort()
            return
        try:
            stream = await session.open_stream(targets.inbound(port=port, peer=_peer_name(tcp)))
        except (errors.SessionClosed, errors.StreamRefused):
            tcp.transport.abort()
            return
        await driving.splice(stream, tcp, tcp)

    # -- outbound ----------------------------------------------------------------------------

    async def _connect_outbound(self, stream: driving.Stream) -> None:
        host, port = stream.target.get("host"), targets.port_of(stream.target)
        if not isinstance(host, str) or not host or port is None:
            stream.reset(protocol_errors.ErrorCode.CONNECT_FAILED, "a connect target needs a host and a port")
            return
        try:
            async with asyncio.timeout(self.config.connect_timeout):
                tcp = await driving.open_tcp(host, port)
        except (OSError, TimeoutError) as error:
            reason = f"{host}:{port}: {error or 'timed out'}"
            log.info("outbound connection failed: %s", reason)
            stream.reset(protocol_errors.ErrorCode.CONNECT_FAILED, reason)
            return
        await driving.splice(stream, tcp, tcp)

    # -- volumes -----------------------------------------------------------------------------

    async def _send_volume(self, stream: driving.Stream) -> None:
        path = stream.target.get("path")
        if not isinstance(path, str) or not os.path.exists(path):
            stream.reset(protocol_errors.ErrorCode.NOT_FOUND, f"no such path in the pod: {path}")
            return
        loop = asyncio.get_running_loop()
        sink = _StreamSink(stream, loop)
        try:
            await asyncio.to_thread(_write_tar, path, sink)
        except (errors.StreamReset, errors.SessionClosed):
            return
        except OSError as error:
            stream.reset(protocol_errors.ErrorCode.INTERNAL_ERROR, f"reading {path}: {error}")
            return
        await stream.write_eof()

    # -- status ------------------------------------------------------------------------------

    async def _on_status(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(5):
                request_line = await reader.readline()
                while (await reader.readline()).strip():
                    pass
            parts = request_line.decode("latin-1").split()
            if len(parts) >= 2 and parts[0] == "GET" and parts[1].split("?")[0] == "/status":
                code, body = "200 OK", json.dumps(self.status()).encode()
            else:
                code, body = "404 Not Found", b'{"error": "only GET /status exists"}'
            writer.write(
                f"HTTP/1.1 {code}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        except (TimeoutError, ConnectionError, OSError, ValueError):
            pass
        finally:
            writer.close()

    def _track(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)


class _StreamSink:
    """A blocking file-like object for `tarfile`, running in a worker thread, that writes into a
    stream on the event loop and waits, so the tar is produced no faster than the engine reads."""

    def __init__(self, stream: driving.Stream, loop: asyncio.AbstractEventLoop) -> None:
        self._stream = stream
        self._loop = loop

    def write(self, data: bytes) -> int:
        asyncio.run_coroutine_threadsafe(self._stream.write(bytes(data)), self._loop).result()
        return len(data)


def _write_tar(path: str, sink: _StreamSink) -> None:
    # Symlinks stay links: Kubernetes volumes are `key -> ..data/key` and the tar keeps that shape.
    with tarfile.open(fileobj=sink, mode="w|", bufsize=TAR_BUFFER, format=tarfile.PAX_FORMAT) as tar:  # type: ignore[call-overload]
        # A directory's content lands at the archive root; a single file keeps its name.
        tar.add(path, arcname="." if os.path.isdir(path) else os.path.basename(path), recursive=True)


def _peer_name(writer: asyncio.StreamWriter | driving.TcpConnection) -> str:
    peer = writer.get_extra_info("peername")
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return str(peer or "")


async def run(config: AgentConfig) -> None:
    """Run the agent until SIGTERM or SIGINT, which end the engine's session with a GOAWAY."""
    agent = Agent(config)
    await agent.start()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        # Kubernetes stops the pod with SIGTERM (a restore, a rollout): say so to the engine in a
        # GOAWAY rather than vanishing, so it can tell the user why the session ended.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, lambda: asyncio.ensure_future(agent.stop()))
    print(agent.ready_line(), flush=True)
    try:
        await agent.wait_stopped()
    finally:
        with contextlib.suppress(Exception):
            await agent.stop()
