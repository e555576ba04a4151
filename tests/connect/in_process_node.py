"""A small in-process stand-in for the sandbox kubelet, so the connect flow runs in seconds.

Pods are not processes here. A pod whose container runs kubelocal's agent (`agent.pyz`) gets the
real agent (`kubelocal_agent.serving.Agent`) started in this event loop, with the token its
Secret holds, listening on its real port numbers at a loopback address of its own (127.R.0.N,
standing in for the pod IP); any other pod gets an "app" that answers `<pod name>: <request>` on
every declared port. `open_pod_port` (the API server's pods/portforward) connects to those.
Statuses are Running and Ready at once. A restore Job's pod runs the agent's real restore mode
in a thread against the REST app (`api_url`, `api_token`); stopping the pod stops that thread at
its next poll, so nothing outlives the test.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime
import random
import threading

from kubelocal.sandbox import errors, kinds, store
from kubelocal_agent import kubeapi, restore, serving


class _Stopped(Exception):
    """Raised inside a restore thread's sleep when its pod is stopped."""


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class InProcessNode:
    """Implements the kubelet API the node loop and the API server's port-forward use."""

    def __init__(self, state: store.Store) -> None:
        self._store = state
        self._callbacks = []
        self._ports: dict[tuple[str, str], dict[int, tuple[str, int]]] = {}
        self._next_address = 0
        # A range per node, so tests running side by side do not share pod addresses.
        self._range = random.randrange(64, 250)
        self._addresses: dict[tuple[str, str], str] = {}
        self._agents: dict[tuple[str, str], serving.Agent] = {}
        self._servers: dict[tuple[str, str], list[asyncio.Server]] = {}
        self._statuses: dict[tuple[str, str], dict] = {}
        self.started: list[str] = []
        self.api_url = ""
        self.api_token = ""
        self._restores: dict[tuple[str, str], tuple[threading.Event, asyncio.Future]] = {}

    # --- the kubelet API ---------------------------------------------------------------------------

    def on_status_change(self, callback) -> None:
        self._callbacks.append(callback)

    async def set_services(self, services, endpoints) -> None:
        return None

    def pod_status(self, pod: dict) -> dict:
        key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
        return self._statuses.get(key) or {}

    async def sync_pod(self, pod: dict) -> None:
        key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
        if key in self._statuses:
            return
        container = pod["spec"]["containers"][0]
        command = container.get("command") or []
        if any(part.endswith("agent.pyz") for part in command) and "restore" not in command:
            await self._start_agent(key, pod, container, command)
            self._statuses[key] = self._status(pod, ready=True)
        elif "restore" in command:
            self._start_restore(key, command)
            self._statuses[key] = self._status(pod, ready=True)
        else:
            await self._start_app(key, pod)
            self._statuses[key] = self._status(pod, ready=True)
        self.started.append(key[1])
        self._notify(key)

    async def kill_pod(self, pod: dict, *, grace_period_seconds: int) -> None:
        key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
        await self._stop(key)

    async def open_pod_port(self, namespace: str, name: str, port: int):
        bound = self._ports.get((namespace, name), {}).get(port)
        if bound is None:
            raise ConnectionRefusedError(f"nothing listens on port {port} of pod {namespace}/{name}")
        return await asyncio.open_connection(*bound)

    async def stop(self) -> None:
        for key in list(self._statuses):
            await self._stop(key)

    # --- what runs in a "pod" ------------------------------------------------------------------------

    def agent_of(self, namespace: str, name: str) -> serving.Agent | None:
        return self._agents.get((namespace, name))

    def address_of(self, namespace: str, name: str, port: int) -> tuple[str, int]:
        """Where a pod's port listens: what a client in the cluster would connect to."""
        return self._ports[(namespace, name)][port]

    def pod_address(self) -> str:
        self._next_address += 1
        return f"127.{self._range}.{self._next_address // 250}.{self._next_address % 250 + 1}"

    async def _start_agent(self, key, pod, container, command) -> None:
        token = ""
        for entry in container.get("env") or []:
            reference = ((entry.get("valueFrom") or {}).get("secretKeyRef")) or {}
            if entry.get("name") == "KUBELOCAL_AGENT_TOKEN" and reference:
                secret = self._store.get(kinds.SECRETS, key[0], reference["name"])
                token = base64.b64decode(secret["data"][reference["key"]]).decode()
        ports = [int(p) for p in command[command.index("--ports") + 1].split(",") if p]
        control = int(command[command.index("--control-port") + 1])
        status = int(command[command.index("--status-port") + 1]) if "--status-port" in command else 0
        for _ in range(5):
            # Another program may hold an address of this range: stop what bound and take the next one.
            address = self.pod_address()
            agent = serving.Agent(
                serving.AgentConfig(
                    token=token,
                    service_ports=tuple(ports),
                    service_host=address,
                    control_host=address,
                    control_port=0,
                    status_port=status,
                    status_host=address,
                )
            )
            try:
                await agent.start()
                break
            except OSError:
                await agent.stop()
        else:
            raise OSError(f"no free loopback address for pod {key[1]}")
        mapping = {control: (address, agent.control_port)}
        for requested, (_, bound) in zip(ports, agent.service_ports, strict=True):
            mapping[requested] = (address, bound)
        self._agents[key] = agent
        self._ports[key] = mapping
        self._addresses[key] = address

    def _start_restore(self, key, command) -> None:
        stop = threading.Event()
        args = restore.parser().parse_args(command[command.index("restore") + 1 :])
        client = kubeapi.Client(base_url=self.api_url, token=self.api_token)

        def sleep(seconds: float) -> None:
            if stop.wait(seconds):
                raise _Stopped

        def run() -> int:
            try:
                return restore.run(args, client=client, sleep=sleep)
            except _Stopped:
                return -1

        future = asyncio.ensure_future(asyncio.to_thread(run))
        future.add_done_callback(lambda done: self._restore_finished(key, done))
        self._restores[key] = (stop, future)

    def _restore_finished(self, key, future) -> None:
        if future.cancelled() or future.exception() is not None:
            return
        status = self._statuses.get(key)
        if status is not None and future.result() == 0:
            status["phase"] = "Succeeded"
            status["conditions"] = [{"type": "Ready", "status": "False"}]
            for container in status["containerStatuses"]:
                container["ready"] = False
                container["state"] = {"terminated": {"exitCode": 0, "reason": "Completed"}}
            self._notify(key)

    async def _start_app(self, key, pod) -> None:
        name = key[1]

        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                request = await reader.read(65536)
                writer.write(f"{name}: ".encode() + request)
                await writer.drain()
            writer.close()

        mapping, servers = {}, []
        for container in pod["spec"]["containers"]:
            for port in container.get("ports") or []:
                server = await asyncio.start_server(answer, "127.0.0.1", 0)
                servers.append(server)
                mapping[int(port["containerPort"])] = ("127.0.0.1", server.sockets[0].getsockname()[1])
        self._servers[key] = servers
        self._ports[key] = mapping

    async def _stop(self, key) -> None:
        restoring = self._restores.pop(key, None)
        if restoring is not None:
            restoring[0].set()
            await asyncio.wait({restoring[1]}, timeout=15)
        agent = self._agents.pop(key, None)
        if agent is not None:
            await agent.stop()
        for server in self._servers.pop(key, []):
            server.close()
            await server.wait_closed()
        self._ports.pop(key, None)
        self._statuses.pop(key, None)

    def _status(self, pod: dict, *, ready: bool, waiting: str = "") -> dict:
        state = {"waiting": {"reason": waiting}} if waiting else {"running": {"startedAt": _now()}}
        return {
            "phase": "Running" if ready else "Pending",
            "podIP": self._addresses.get(
                (pod["metadata"]["namespace"], pod["metadata"]["name"]), "127.0.0.1"
            ),
            "hostIP": "127.0.0.1",
            "startTime": _now(),
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "containerStatuses": [
                {
                    "name": c["name"],
                    "ready": ready,
                    "restartCount": 0,
                    "image": c.get("image", ""),
                    "imageID": "",
                    "started": ready,
                    "state": state,
                }
                for c in pod["spec"]["containers"]
            ],
        }

    def _notify(self, key) -> None:
        for callback in self._callbacks:
            with contextlib.suppress(errors.ApiError):
                callback(*key)
