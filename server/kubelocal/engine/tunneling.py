"""The tunnel: one byte stream to the agent's control port carrying every stream, kept alive.

A `Tunnel` owns the agent protocol's `driving.Session` over whatever `dial` returns (in
production a port-forward to the agent pod's control port through the API server; in tests a
plain TCP connection). When the session ends unexpectedly (the port-forward dropped, the agent
pod was replaced, heartbeats stopped) it dials again with exponential backoff, telling
`progress` what happened and when it is back. Callers use `open_stream` and `request`, which
wait up to `wait_timeout` for a live session while reconnecting instead of failing at once.

`dial` is called afresh for each attempt, so it can look up the agent pod again. A handshake
refusal (wrong token, incompatible version) is not retried: it will not get better.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

from kubelocal_agent import driving
from kubelocal_agent import errors as agent_errors
from kubelocal_agent.protocol import connection

Dial = Callable[[], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]
Progress = Callable[[str], None]

# Errors a dial attempt may raise that are worth another try (kube errors derive from Exception
# and say what to do; a dropped port-forward surfaces as ConnectionError or OSError).
RETRYABLE = (ConnectionError, OSError, asyncio.TimeoutError, agent_errors.SessionClosed)


class TunnelClosed(ConnectionError):
    """The tunnel was closed on purpose or gave up; the message says why."""


class Tunnel:
    """A self-healing session with the agent; see the module docstring."""

    def __init__(
        self,
        *,
        dial: Dial,
        token: str,
        on_stream: driving.StreamHandler | None = None,
        progress: Progress | None = None,
        heartbeat_interval: float = 5.0,
        heartbeat_timeout: float = 20.0,
        backoff_initial: float = 0.2,
        backoff_max: float = 5.0,
        wait_timeout: float = 30.0,
        info: dict[str, Any] | None = None,
    ) -> None:
        self._dial = dial
        self._token = token
        self._on_stream = on_stream
        self._progress = progress or (lambda message: None)
        self._heartbeat_interval = heartbeat_interval
        self._heartbeat_timeout = heartbeat_timeout
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._wait_timeout = wait_timeout
        self._info = info or {}
        self._session: driving.Session | None = None
        self._live = asyncio.Event()
        self._closing = False
        self._failure: str = ""
        self._supervisor: asyncio.Task[None] | None = None
        self.reconnects = 0
        self.peer_info: dict[str, Any] = {}

    @property
    def connected(self) -> bool:
        return self._session is not None and not self._session.closed

    async def start(self, *, patience: float = 0.0) -> None:
        """Open the first session, then supervise it.

        A dial that fails with a retryable error is tried again for up to `patience` seconds: a pod
        reported Ready may not listen yet (the agent has no readiness probe of its own). After
        that, or on a refused handshake, the error is raised.
        """
        deadline = time.monotonic() + patience
        delay = self._backoff_initial
        while True:
            try:
                await self._connect_once()
                break
            except RETRYABLE as error:
                if time.monotonic() + delay > deadline:
                    raise
                self._progress(f"the agent does not answer yet ({error}); retrying in {delay:.1f} s")
                await asyncio.sleep(delay)
                delay = min(self._backoff_max, delay * 2)
        self._supervisor = asyncio.ensure_future(self._supervise())

    async def close(self) -> None:
        """End the session on purpose; no reconnection follows. Closing twice does nothing."""
        self._closing = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        if self._session is not None:
            await self._session.close(reason="the engine disconnects")
        self._live.clear()

    async def session(self) -> driving.Session:
        """The live session, waiting up to `wait_timeout` while reconnecting."""
        if self._closing:
            raise TunnelClosed(self._failure or "the tunnel is closed")
        if not self.connected:
            try:
                await asyncio.wait_for(self._live.wait(), self._wait_timeout)
            except TimeoutError:
                raise TunnelClosed(
                    f"the tunnel to the agent has been down for {self._wait_timeout:.0f} s; "
                    "check the agent pod (`kubelocal status`) and the cluster connection"
                ) from None
        if self._closing or self._session is None:
            raise TunnelClosed(self._failure or "the tunnel is closed")
        return self._session

    async def open_stream(self, target: dict[str, Any]) -> driving.Stream:
        """Open a stream; a session found dead while opening is replaced and the open retried once."""
        for attempt in (1, 2):
            session = await self.session()
            try:
                return await session.open_stream(target)
            except agent_errors.SessionClosed:
                if attempt == 2 or self._closing:
                    raise
                await self._wait_replaced(session)
        raise AssertionError("unreachable")

    async def request(
        self, method: str, params: dict[str, Any] | None = None, *, timeout: float = 30
    ) -> dict[str, Any]:
        """A control request (they are idempotent: env, status), retried once across a reconnect."""
        for attempt in (1, 2):
            session = await self.session()
            try:
                return await session.request(method, params, timeout=timeout)
            except agent_errors.SessionClosed:
                if attempt == 2 or self._closing:
                    raise
                await self._wait_replaced(session)
        raise AssertionError("unreachable")

    async def _wait_replaced(self, dead: driving.Session) -> None:
        # The supervisor notices the end through wait_closed(); give it the moment it needs.
        deadline = time.monotonic() + self._wait_timeout
        while self._session is dead and not self._closing and time.monotonic() < deadline:
            await asyncio.sleep(0.02)

    # --- internals ------------------------------------------------------------------------------

    async def _connect_once(self) -> None:
        reader, writer = await self._dial()
        session = await driving.Session.start(
            reader=reader,
            writer=writer,
            role=connection.Role.ENGINE,
            token=self._token,
            info=self._info,
            on_stream=self._on_stream,
            heartbeat_interval=self._heartbeat_interval,
            heartbeat_timeout=self._heartbeat_timeout,
        )
        self._session = session
        self.peer_info = session.peer_info
        self._live.set()

    async def _supervise(self) -> None:
        while not self._closing:
            assert self._session is not None
            await self._session.wait_closed()
            if self._closing:
                return
            self._live.clear()
            dropped_at = time.monotonic()
            self._progress(f"tunnel to the agent dropped ({self._session.close_reason}); reconnecting")
            delay = self._backoff_initial
            attempt = 0
            while not self._closing:
                attempt += 1
                try:
                    await self._connect_once()
                except agent_errors.HandshakeFailed as error:
                    self._failure = f"the agent refused the session: {error}"
                    self._progress(f"tunnel cannot be restored: {self._failure}")
                    self._closing = True
                    return
                except RETRYABLE as error:
                    self._progress(
                        f"tunnel reconnect attempt {attempt} failed ({error}); retrying in {delay:.1f} s"
                    )
                except Exception as error:  # kube errors: NotFound while the pod is replaced, etc.
                    self._progress(
                        f"tunnel reconnect attempt {attempt} failed ({error}); retrying in {delay:.1f} s"
                    )
                else:
                    self.reconnects += 1
                    self._progress(
                        f"tunnel to the agent restored after {time.monotonic() - dropped_at:.1f} s"
                    )
                    break
                await asyncio.sleep(delay)
                delay = min(self._backoff_max, delay * 2)
