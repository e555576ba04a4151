"""The workstation side of a session: listeners for cluster services, and redirected traffic.

- `Listeners.start(plan, tunnel)`: for every endpoint of an `endpoints.EndpointPlan`, a TCP
  listener on its workstation address (127.1.1.x on the service's ports in hosts mode, 127.0.0.1
  on free ports otherwise); each accepted connection becomes an outbound stream through the agent
  to the endpoint's cluster address (ClusterIP, pod IP or DNS name) and port.
- `inbound_handler(plan)`: the tunnel's stream handler for connections the agent accepted in the
  pod: each goes to 127.0.0.1:<workstation port> where the developer's process listens. When that
  process is not listening the stream is reset, so the cluster client sees a reset rather than a
  hang, and `on_refused` is told once per port (the CLI prints a hint).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from kubelocal.engine import endpoints, tunneling
from kubelocal_agent import driving
from kubelocal_agent.protocol import errors as protocol_errors
from kubelocal_agent.protocol import targets as agent_targets

# A burst of connections from the workstation process (a pool warming up, a load test) must queue
# in the kernel: with a backlog of 100, 1,000 connections at once overflowed it and the dropped
# SYNs were retried after 1 s and 3 s (the kernel caps this at net.core.somaxconn).
LISTEN_BACKLOG = 4096


class PortTaken(OSError):
    """A workstation address could not be bound: another program holds `ip`:`port`."""

    def __init__(self, errno: int | None, message: str, *, ip: str, port: int) -> None:
        super().__init__(errno, message)
        self.ip = ip
        self.port = port


class Listeners:
    """The workstation listeners of one session; `stop` closes them and their connections."""

    def __init__(self) -> None:
        self._servers: list[asyncio.Server] = []
        self._connections: set[asyncio.Task[Any]] = set()
        self.bound: list[tuple[str, int, str, int]] = []  # (workstation ip, port, cluster host, port)

    async def start(self, plan: endpoints.EndpointPlan, tunnel: tunneling.Tunnel) -> None:
        """Bind every endpoint's ports; an address that cannot be bound raises OSError naming it."""
        for endpoint in plan.endpoints:
            for allocation in endpoint.ports:
                host, port = endpoint.cluster_host, allocation.cluster_port

                def accept(tcp: driving.TcpConnection, host: str = host, port: int = port) -> None:
                    self._track(self._relay(tunnel, host, port, tcp))

                try:
                    server = await driving.serve_tcp(
                        accept, endpoint.workstation_ip, allocation.workstation_port, backlog=LISTEN_BACKLOG
                    )
                except OSError as error:
                    advice = (
                        "use the env-var mode, --hosts-mode env, to get free ports instead"
                        if plan.mode is endpoints.Mode.HOSTS
                        else "close that program or try again"
                    )
                    raise PortTaken(
                        error.errno,
                        f"cannot listen on {endpoint.workstation_ip}:{allocation.workstation_port} "
                        f"for service {endpoint.service}.{endpoint.namespace} ({error.strerror}); "
                        f"another program uses it ({advice})",
                        ip=endpoint.workstation_ip,
                        port=allocation.workstation_port,
                    ) from error
                self._servers.append(server)
                self.bound.append((endpoint.workstation_ip, allocation.workstation_port, host, port))

    async def stop(self) -> None:
        for server in self._servers:
            server.close()
        for task in list(self._connections):
            task.cancel()
        for server in self._servers:
            with contextlib.suppress(Exception):
                await server.wait_closed()
        self._servers.clear()
        self.bound.clear()

    def _track(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._connections.add(task)
        task.add_done_callback(self._connections.discard)

    @staticmethod
    async def _relay(tunnel: tunneling.Tunnel, host: str, port: int, tcp: driving.TcpConnection) -> None:
        try:
            stream = await tunnel.open_stream(agent_targets.connect(host=host, port=port))
        except (ConnectionError, OSError, tunneling.TunnelClosed):
            tcp.transport.abort()
            return
        await driving.splice(stream, tcp, tcp)


def inbound_handler(
    plan: endpoints.EndpointPlan, *, on_refused: Callable[[int, int], None] | None = None
) -> driving.StreamHandler:
    """The stream handler that carries the agent's inbound connections to the workstation process."""
    by_container_port = {redirect.container_port: redirect.workstation_port for redirect in plan.redirected}
    warned: set[int] = set()

    async def handle(stream: driving.Stream) -> None:
        if stream.target.get("kind") != agent_targets.INBOUND:
            stream.reset(protocol_errors.ErrorCode.UNKNOWN_TARGET, "the engine only accepts inbound streams")
            return
        container_port = agent_targets.port_of(stream.target) or 0
        workstation_port = by_container_port.get(container_port, container_port)
        try:
            tcp = await driving.open_tcp("127.0.0.1", workstation_port)
        except OSError:
            stream.reset(
                protocol_errors.ErrorCode.CONNECT_FAILED,
                f"nothing listens on workstation port {workstation_port}",
            )
            if on_refused is not None and workstation_port not in warned:
                warned.add(workstation_port)
                on_refused(container_port, workstation_port)
            return
        await driving.splice(stream, tcp, tcp)

    return handle
