"""The session the editor follows: the one this server runs, or one found in the session state on disk.

States (the contract's `Status.state`): disconnected, connecting, connected, disconnecting, error.
Every change is pushed to the client as `kubelocal/sessionChanged` with the same object the
`status` command returns.

Re-attaching: the connection's tunnel lives in the process that connected. When the server starts
(the editor reloaded) and the session state on disk (`engine.recording`, `KUBELOCAL_HOME`) holds a
connected session whose process is alive — the CLI, or a previous server still running — the server
reports it as connected and can read its environment (its 0600 env file) and disconnect it: it
sends that process SIGTERM (it restores the workload and removes its record, as `kubelocal
disconnect` does) and waits for the record to go. A recorded session whose process is gone is
cleaned up by replaying its ledger (the restore Job may have done the cluster part already).
When this server itself is stopped while it runs a session, it disconnects it first (shutdown).

While connected, completion and hover see the cluster from the session (`completion_snapshot`): its
namespace's services (from its endpoint plan, or for a re-attached session from its record) and
the replaced container's volumes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubelocal.config import model
from kubelocal.engine import endpoints, environment, recording
from kubelocal.engine import errors as engine_errors
from kubelocal.kube import cataloging

if TYPE_CHECKING:
    # Imported where a connect or disconnect needs them: they bring aiohttp and the kubernetes
    # client (about 30 MB), which an editor that never connects should not hold.
    from kubelocal.engine import connecting
    from kubelocal.kube import requesting
    from kubelocal.lsp import commanding
    from kubelocal.lsp import server as lsp_server

NOTIFICATION = "kubelocal/sessionChanged"
FOREIGN_STOP_TIMEOUT = 60.0


class NoSession(engine_errors.EngineError):
    """No connected session to act on."""


def session_object(record: recording.Record, *, local_ports: list[int] | None = None) -> dict[str, Any]:
    """The contract's Session from a session record (its `details` hold what `_open` saved)."""
    details = record.details
    redirected = details.get("redirected") or []
    ports = local_ports if local_ports is not None else [int(pair[1]) for pair in redirected]
    mode = details.get("mode", "")
    return {
        "id": record.session_id,
        "context": record.context,
        "namespace": record.namespace,
        "service": record.service,
        "workload": str(details.get("workload", "")),
        "container": str(details.get("container", "")),
        "localPorts": ports,
        "startedAt": record.started,
        "envFile": str(details.get("env_file", "")),
        "hostsMode": "hosts" if mode == "hosts" else "env",
    }


class Follower:
    def __init__(self, server: lsp_server.KubelocalLanguageServer) -> None:
        self.server = server
        self.state = "disconnected"
        self.message: str | None = None
        self.session: connecting.Session | None = None  # run by this server
        self.client: requesting.Client | None = None

    # --- what the client sees ------------------------------------------------------------------

    def _records(self) -> list[recording.Record]:
        return [r for r in recording.all_records() if r.state == "connected" and r.alive]

    def _record(self, session_id: str | None) -> recording.Record:
        if self.session is not None and session_id in (None, self.session.session_id):
            return self.session.record
        records = [r for r in self._records() if session_id in (None, r.session_id)]
        if not records:
            which = f"session {session_id!r}" if session_id else "connected session"
            raise NoSession(f"There is no {which}. Connect first (Kubelocal: Connect to Cluster).")
        return records[-1]

    def status(self) -> dict[str, Any]:
        result: dict[str, Any] = {"state": self.state}
        if self.state in ("disconnected", "error") and self.session is None:
            found = self._records()
            if found and self.state == "disconnected":
                result["state"] = "connected"
                result["session"] = session_object(found[-1])
        elif self.session is not None:
            result["session"] = session_object(self.session.record, local_ports=self._ports(self.session))
        if self.message:
            result["message"] = self.message
        return result

    def _changed(self, state: str, message: str | None = None) -> None:
        self.state, self.message = state, message
        self.server.protocol.notify(NOTIFICATION, self.status())

    def start(self) -> None:
        """After `initialized`: tell the client about a session found on disk (re-attach)."""
        if self._records():
            self.server.protocol.notify(NOTIFICATION, self.status())

    @staticmethod
    def _ports(session: connecting.Session) -> list[int]:
        return [r.workstation_port for r in session.plan.redirected] if session.plan else []

    def redirected(self) -> list[Any]:
        if self.session is not None and self.session.plan is not None:
            return list(self.session.plan.redirected)
        record = self._record(None)
        return [_Redirected(int(pair[0]), int(pair[1])) for pair in record.details.get("redirected") or []]

    def environment(self, session_id: str | None) -> tuple[dict[str, str], str]:
        if self.session is not None and session_id in (None, self.session.session_id):
            return dict(self.session.environment), str(self.session.env_file or "")
        record = self._record(session_id)
        path = Path(str(record.details.get("env_file", "")))
        try:
            return environment.parse_dotenv(path.read_text(encoding="utf-8")), str(path)
        except OSError as error:
            raise NoSession(
                f"The environment of session {record.session_id} cannot be read from {path} "
                f"({error.strerror}). Disconnect and connect again."
            ) from error

    def completion_snapshot(self, snapshot: cataloging.Snapshot) -> cataloging.Snapshot:
        """What completion offers (completion's hook): `snapshot` focused on the connected session.

        The session this server runs knows its namespace's services (its endpoint plan) and the
        replaced container's volumes; a session re-attached from disk knows the services it
        recorded. Disconnected: `snapshot` as it is."""
        session = self.session
        if session is not None and session.plan is not None:
            services = _plan_services(session.plan)
            volumes: tuple[str, ...] | None = tuple(session.volume_directories)
            context, namespace = session.record.context, session.namespace
        else:
            # As `status` does: a session on disk counts while this server runs none of its own.
            records = self._records() if self.state == "disconnected" else []
            if not records:
                return snapshot
            record = records[-1]
            services = _recorded_services(record)
            volumes, context, namespace = None, record.context, record.namespace
        return cataloging.focused(
            snapshot,
            context=context,
            namespace=namespace,
            services=services,
            volumes=volumes,
            now=time.monotonic(),
        )

    def expand_token(self, token: model.Part) -> str | None:
        """What a token expands to in the session this server runs (hover's hook), else None.

        A session re-attached from disk has no endpoint plan in this process: None (hover then
        says what the token names, as when disconnected)."""
        session = self.session
        if session is None or session.plan is None:
            return None
        try:
            return environment.expand(
                [token], endpoint_plan=session.plan, volume_directories=session.volume_directories
            )
        except engine_errors.EngineError as error:
            return f"not reachable in this session ({error})"

    # --- connect and disconnect ---------------------------------------------------------------

    async def connect(
        self, arguments: commanding.ConnectArguments, *, on_step: Callable[[str], None]
    ) -> dict[str, Any]:
        from kubelocal.engine import connecting
        from kubelocal.kube import loading, requesting
        from kubelocal.lsp import commanding

        if self.session is not None or self.state in ("connecting", "disconnecting"):
            raise engine_errors.EngineError(
                "This editor is already connected (or busy connecting). Disconnect first "
                "(Kubelocal: Disconnect), then connect again."
            )
        config = None
        if arguments.config_file:
            config = await asyncio.to_thread(
                _read_config, Path(arguments.workspace_folder, arguments.config_file)
            )
        self._changed("connecting", f"connecting {arguments.service} in {arguments.namespace}")
        try:
            cluster = await asyncio.to_thread(
                loading.load, context=arguments.context, namespace=arguments.namespace
            )
            client = requesting.Client(cluster)
            await client.__aenter__()
            options = connecting.Options(
                service=arguments.service,
                namespace=arguments.namespace,
                container=arguments.container or None,
                workstation_ports=tuple(arguments.local_ports),
                mode=arguments.hosts_mode or "auto",
                features=frozenset(config.features) if config is not None else frozenset(),
                config=config,
                kubeconfig=loading.default_kubeconfig(),
            )

            def progress(step: connecting.Step) -> None:
                if step.phase == "begin" or step.phase == "note":
                    on_step(commanding.step_message(step))

            try:
                session = await connecting.connect(client, options, progress=progress)
            except BaseException:
                await client.__aexit__(None, None, None)
                raise
        except asyncio.CancelledError:
            self._changed("disconnected", "connecting was cancelled")
            raise
        except Exception as error:
            self._changed("error", str(error))
            raise
        self.session, self.client = session, client
        self._changed("connected")
        return session_object(session.record, local_ports=self._ports(session))

    async def disconnect(self, session_id: str | None) -> None:
        if self.session is not None and session_id in (None, self.session.session_id):
            session, client = self.session, self.client
            self._changed("disconnecting")
            try:
                await session.disconnect()
            except Exception as error:
                self._changed("error", f"disconnect failed: {error}")
                raise
            finally:
                self.session = None
                if client is not None:
                    await client.__aexit__(None, None, None)
                    self.client = None
            self._changed("disconnected")
            return
        record = self._record(session_id)
        self._changed("disconnecting")
        try:
            await _disconnect_foreign(record)
        except Exception as error:
            self._changed("error", f"disconnect failed: {error}")
            raise
        self._changed("disconnected")

    async def shutdown(self) -> None:
        if self.session is not None:
            with contextlib.suppress(Exception):
                await self.disconnect(None)


def _plan_services(plan: endpoints.EndpointPlan) -> tuple[cataloging.Service, ...]:
    """The services of a session's endpoint plan, with their cluster ports (external hosts left out;
    a headless service, planned as one endpoint per address, listed once)."""
    services: dict[tuple[str, str], cataloging.Service] = {}
    for endpoint in plan.endpoints:
        if endpoint.kind is endpoints.Kind.EXTERNAL:
            continue
        ports = tuple(
            cataloging.ServicePort(port=p.cluster_port, name=p.name or None) for p in endpoint.ports
        )
        services.setdefault(
            (endpoint.service, endpoint.namespace),
            cataloging.Service(name=endpoint.service, namespace=endpoint.namespace, ports=ports),
        )
    return tuple(services.values())


def _recorded_services(record: recording.Record) -> tuple[cataloging.Service, ...]:
    """The services a session record lists (`details["endpoints"]`), with their cluster ports."""
    services: dict[tuple[str, str], cataloging.Service] = {}
    for entry in record.details.get("endpoints") or []:
        name, namespace = str(entry.get("service", "")), str(entry.get("namespace") or "")
        if not namespace:  # an external endpoint: a host, not a service
            continue
        ports = tuple(cataloging.ServicePort(port=int(pair[0])) for pair in entry.get("ports") or [])
        services.setdefault(
            (name, namespace), cataloging.Service(name=name, namespace=namespace, ports=ports)
        )
    return tuple(services.values())


class _Redirected:
    """A redirected port read back from a record (the shape `launches` reads)."""

    def __init__(self, container_port: int, workstation_port: int) -> None:
        self.container_port = container_port
        self.workstation_port = workstation_port


async def _disconnect_foreign(record: recording.Record) -> None:
    if record.alive and record.pid != os.getpid():
        os.kill(record.pid, signal.SIGTERM)  # its process restores and removes its record
        deadline = time.monotonic() + FOREIGN_STOP_TIMEOUT
        while recording.path_of(record.session_id).exists():
            if time.monotonic() > deadline:
                raise engine_errors.EngineError(
                    f"The process {record.pid} running session {record.session_id} did not finish within "
                    f"{FOREIGN_STOP_TIMEOUT:.0f} s. Run `kubelocal disconnect --session {record.session_id}` "
                    "once it has stopped."
                )
            await asyncio.sleep(0.2)
        return
    from kubelocal.engine import connecting
    from kubelocal.kube import loading, requesting

    cluster = await asyncio.to_thread(
        loading.load, kubeconfig=record.kubeconfig or None, context=record.context, namespace=record.namespace
    )
    async with requesting.Client(cluster) as client:
        failure = await connecting.replay(client, record)
        if failure is not None:
            raise failure
        # As `kubelocal disconnect` does: answer once the workload is back, so a connect right
        # after does not meet the agent pod still running.
        try:
            await connecting.wait_restored(client, record)
        finally:
            recording.remove(record.session_id)


def _read_config(path: Path) -> Any:
    from kubelocal.config import checking, problems

    try:
        result = checking.check_bytes(path.read_bytes())
    except OSError as error:
        raise engine_errors.EngineError(
            f"Cannot read {path}: {error.strerror}. Check the configFile argument."
        ) from error
    failing = [p for p in result.problems if p.severity is problems.Severity.ERROR]
    if failing:
        raise engine_errors.EngineError(
            f"{path} has {len(failing)} error(s), the first: {failing[0].message}. Fix them (the Problems "
            "panel lists them) and connect again."
        )
    return result.model
