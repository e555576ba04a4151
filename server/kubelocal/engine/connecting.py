"""Connect a cluster service to a workstation process, and disconnect it again.

`connect()` runs the steps in order, each reported to `progress` with its duration:

1. recover: the namespace checked, then sessions on this workstation whose process died are
   disconnected (their ledgers replayed), so a crash never blocks the next start;
2. resolve: the service -> its workload and container (`targets`); a service held by a live
   session (here or elsewhere) is refused, saying by whom and since when;
3. plan: session id, agent token, the workload patch and its inverse (`patches`), every change
   recorded in the ledger (`ledgers`) and saved on disk *before* it is made;
4. restore data: a Secret holding the original workload (read by the restore Job), the ledger and
   the agent's token; then the agent's code in a ConfigMap (zipapp, no image build);
5. replace: the workload patched (or the bare pod recreated), then the new agent pod awaited;
6. restore job: ServiceAccount, Role, RoleBinding (least privilege) and the Job that restores the
   workload when no session has been connected for `restore_timeout` seconds;
7. tunnel: a port-forward to the agent's control port carrying every stream (`tunneling`);
8. endpoints: listeners for the namespace's services and the redirect of the pod's ports to the
   workstation process (`endpoints`, `workstation`);
9. environment: the agent's env report with service variables pointing at the workstation
   endpoints, written to a 0600 env file;
10. hosts: the hosts-file block (hosts mode only; the file path is injectable, tests use a temp
    file through `KUBELOCAL_HOSTS_FILE`).

Any failure undoes what was done, in reverse, and re-raises. `Session.disconnect()` replays the
ledger in reverse: Job and RBAC deleted, workload restored exactly, ConfigMap and Secret deleted,
hosts block and env file removed; then the session file goes.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import datetime
import getpass
import os
import secrets
import socket
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kubelocal.config import model
from kubelocal.engine import (
    downloading,
    endpoints,
    environment,
    errors,
    executing,
    hosts,
    ledgers,
    manifests,
    names,
    patches,
    recording,
    restoring,
    targets,
    tunneling,
    workstation,
)
from kubelocal.kube import errors as kube_errors
from kubelocal.kube import fetching, forwarding, patching, requesting, resources, watching
from kubelocal.kube import pods as kube_pods
from kubelocal_agent import errors as agent_errors
from kubelocal_agent import packing

HOSTS_FILE_ENV = "KUBELOCAL_HOSTS_FILE"
DEFAULT_HOSTS_FILE = "/etc/hosts"
DEFAULT_RESTORE_TIMEOUT = 60.0
# How long disconnect waits for the workload's restore rollout (the original pods back, the agent
# pod gone) before it says so and returns.
DEFAULT_ROLLOUT_TIMEOUT = 120.0
ROLLOUT_POLL_SECONDS = 0.25
MODES = {
    "auto": "auto",
    "hosts": endpoints.Mode.HOSTS.value,
    "env": endpoints.Mode.NO_ADMIN.value,
    "no-admin": endpoints.Mode.NO_ADMIN.value,
}


@dataclasses.dataclass(frozen=True)
class Step:
    """A progress report: `phase` is "begin", "end" (with `seconds`) or "note"."""

    name: str
    phase: str
    message: str = ""
    seconds: float | None = None


Progress = Callable[[Step], None]


@dataclasses.dataclass(frozen=True)
class Options:
    """What to connect and how. `namespace` None means the kubeconfig context's namespace."""

    service: str
    namespace: str | None = None
    container: str | None = None
    workstation_ports: tuple[int, ...] = ()
    mode: str = "auto"  # auto | hosts | env
    hosts_file: str | None = None  # default: $KUBELOCAL_HOSTS_FILE, else /etc/hosts
    agent_image: str = names.DEFAULT_AGENT_IMAGE
    restore_timeout: float = DEFAULT_RESTORE_TIMEOUT
    ready_timeout: float = 120.0
    features: frozenset[str] = frozenset()
    kubeconfig: str = ""
    heartbeat_interval: float = 5.0
    heartbeat_timeout: float = 20.0
    config: model.ConfigModel | None = None  # the checked KubernetesLocalProcessConfig.yaml


class ConnectError(errors.EngineError):
    """Connecting failed in the cluster or on the workstation; the message says what to do."""


class Session:
    """A connected session: the tunnel, the workstation listeners, the env, and the ledger to undo."""

    def __init__(self, *, client: requesting.Client, record: recording.Record, progress: Progress) -> None:
        self.client = client
        self.record = record
        self.progress = progress
        self.tunnel: tunneling.Tunnel | None = None
        self.listeners = workstation.Listeners()
        self.plan: endpoints.EndpointPlan | None = None
        self.environment: dict[str, str] = {}
        self.env_file: Path | None = None
        self.volume_directories: dict[str, str] = {}
        self.agent_pod = ""
        self.timings: dict[str, float] = {}

    @property
    def session_id(self) -> str:
        return self.record.session_id

    @property
    def namespace(self) -> str:
        return self.record.namespace

    # --- the ledger ------------------------------------------------------------------------------

    def _save(self, **changes: Any) -> None:
        self.record = dataclasses.replace(self.record, **changes)
        recording.save(self.record)

    def record_pair(self, pair: tuple[ledgers.Action, ledgers.Action]) -> int:
        ledger, sequence = self.record.ledger.record(*pair)
        self._save(ledger=ledger)
        return sequence

    def mark(self, sequence: int, state: str) -> None:
        self._save(ledger=self.record.ledger.mark(sequence, state))

    async def do(self, pair: tuple[ledgers.Action, ledgers.Action]) -> None:
        """Record the pair, make the change, mark it done (or failed, re-raising)."""
        sequence = self.record_pair(pair)
        await self._execute_recorded(sequence)

    async def _execute_recorded(self, sequence: int) -> None:
        entry = next(entry for entry in self.record.ledger.entries if entry.sequence == sequence)
        try:
            await executing.execute(
                entry.action, client=self.client, hosts_backup=recording.home() / "hosts.backup"
            )
        except BaseException:
            self.mark(sequence, ledgers.FAILED)
            raise
        self.mark(sequence, ledgers.DONE)

    # --- disconnect ------------------------------------------------------------------------------

    async def disconnect(self, *, rollout_timeout: float = DEFAULT_ROLLOUT_TIMEOUT) -> None:
        """Undo everything, newest first; keeps going past failures and raises the first at the end.

        Then waits (up to `rollout_timeout` seconds) until the workload's restore has rolled out,
        so that a connect right after this one finds the service free; `RestoreNotFinished` if it
        has not by then (everything kubelocal made is gone all the same).
        """
        self._save(state="disconnecting")
        started = time.monotonic()
        self.progress(Step("disconnect", "begin", f"restoring {self.record.service}"))
        await self.listeners.stop()
        if self.tunnel is not None:
            await self.tunnel.close()
        failure = await replay(self.client, self.record, progress=self.progress)
        self.progress(
            Step(
                "disconnect",
                "end",
                "workload restored, kubelocal objects removed",
                seconds=time.monotonic() - started,
            )
        )
        if failure is not None:
            raise failure
        try:
            await wait_restored(self.client, self.record, timeout=rollout_timeout, progress=self.progress)
        finally:
            recording.remove(self.session_id)


async def replay(
    client: requesting.Client | None, record: recording.Record, *, progress: Progress | None = None
) -> Exception | None:
    """Replay the undos owed by `record`'s ledger, saving progress; returns the first failure."""
    failure: Exception | None = None
    ledger = record.ledger
    for entry in ledger.undos():
        if client is None and entry.undo.place == ledgers.CLUSTER:
            continue
        try:
            await executing.execute(
                entry.undo,
                client=client,
                tolerate_unapplied=True,
                hosts_backup=recording.home() / "hosts.backup",
            )
        except Exception as error:
            failure = failure or error
            if progress is not None:
                progress(Step("disconnect", "note", f"could not {entry.undo.summary}: {error}"))
            continue
        ledger = ledger.mark(entry.sequence, ledgers.UNDONE)
        record = dataclasses.replace(record, ledger=ledger)
        if recording.path_of(record.session_id).exists():
            recording.save(record)
        if progress is not None:
            progress(Step("disconnect", "note", entry.undo.summary))
    return failure


async def wait_restored(
    client: requesting.Client,
    record: recording.Record,
    *,
    timeout: float = DEFAULT_ROLLOUT_TIMEOUT,
    progress: Progress | None = None,
) -> None:
    """Poll until `restoring.pending` says the session's workload is back, as the step "rollout".

    A record that never got as far as a workload has nothing to wait for. Raises
    `errors.RestoreNotFinished` after `timeout` seconds, naming what is still in progress.
    """
    if not record.workload_kind or not record.workload_name:
        return
    kind, name, namespace = record.workload_kind, record.workload_name, record.namespace
    resource = {
        "Deployment": resources.DEPLOYMENTS,
        "StatefulSet": resources.STATEFUL_SETS,
        "ReplicaSet": resources.REPLICA_SETS,
        "Pod": resources.PODS,
    }.get(kind)
    if resource is None:
        return
    started = time.monotonic()
    timings: dict[str, float] = {}
    report = progress or (lambda step: None)
    last = ""
    with _step(report, timings, "rollout", f"waiting for {kind} {name} to be back"):
        while True:
            workload, session_pods = await asyncio.gather(
                fetching.read_optional(client, resource, name=name, namespace=namespace),
                fetching.list_objects(
                    client,
                    resources.PODS,
                    namespace=namespace,
                    label_selector=f"{names.SESSION_LABEL}={record.session_id}",
                ),
            )
            reason = restoring.pending(kind=kind, workload=workload, session_pods=session_pods)
            if reason is None:
                break
            if reason != last:
                report(Step("rollout", "note", reason))
                last = reason
            if time.monotonic() - started > timeout:
                raise errors.RestoreNotFinished(
                    f"{kind} {namespace}/{name} has its original spec back, but its rollout has not "
                    f"finished within {timeout:.0f} s ({reason}). Check it with `kubectl rollout status "
                    f"{kind.lower()}/{name} -n {namespace}` (or `kubectl describe`) before connecting again."
                )
            await asyncio.sleep(ROLLOUT_POLL_SECONDS)


@contextlib.contextmanager
def _step(progress: Progress, timings: dict[str, float], name: str, message: str = "") -> Any:
    started = time.monotonic()
    progress(Step(name, "begin", message))
    yield
    timings[name] = time.monotonic() - started
    progress(Step(name, "end", message, seconds=timings[name]))


def hosts_file(options: Options) -> str:
    return options.hosts_file or os.environ.get(HOSTS_FILE_ENV) or DEFAULT_HOSTS_FILE


# A free port can be taken by another program between the check and the bind; this many tries.
PORT_ATTEMPTS = 5


def _can_write(path: str) -> bool:
    target = Path(path)
    if target.exists():
        return os.access(target, os.W_OK) and os.access(target.parent, os.W_OK)
    return os.access(target.parent, os.W_OK)


def _is_port_free(ip: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((ip, port))
        except OSError:
            return False
    return True


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _owner() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


async def recover_crashed(
    client: requesting.Client, *, namespace: str | None = None, progress: Progress | None = None
) -> list[str]:
    """Disconnect every recorded session whose process is gone (optionally only in `namespace`)."""
    recovered = []
    for record in recording.all_records():
        if record.alive or (namespace and record.namespace != namespace):
            continue
        if progress is not None:
            progress(
                Step(
                    "recover",
                    "note",
                    f"cleaning up crashed session {record.session_id} "
                    f"({record.service} in {record.namespace})",
                )
            )
        failure = await replay(client, record, progress=progress)
        if failure is None:
            # The service is resolved next: the crashed session's agent pod must be gone by then.
            try:
                await wait_restored(client, record, progress=progress)
            finally:
                recording.remove(record.session_id)
            recovered.append(record.session_id)
    return recovered


async def connect(client: requesting.Client, options: Options, *, progress: Progress) -> Session:
    """Run the steps of the module docstring and return the connected `Session`.

    On failure, what was done is undone (in reverse) and the error re-raised.
    """
    namespace = options.namespace or client.namespace
    timings: dict[str, float] = {}

    with _step(progress, timings, "recover", "sessions of this workstation whose process died"):
        await fetching.ensure_namespace(client, namespace)
        await recover_crashed(client, namespace=namespace, progress=progress)

    with _step(progress, timings, "resolve", f"service {options.service} in {namespace}"):
        target = await _resolve(client, options, namespace)
    progress(Step("resolve", "note", f"{target.kind} {target.name}, container {target.container}"))

    session_id = recording.new_id()
    token = secrets.token_urlsafe(32)
    settings = patches.AgentSettings(
        session_id=session_id,
        owner=_owner(),
        started=_now(),
        image=options.agent_image,
        control_port=names.DEFAULT_AGENT_CONTROL_PORT,
        features=options.features,
    )
    plan = patches.plan(target, settings=settings)
    record = recording.Record(
        session_id=session_id,
        context=client.cluster.context,
        kubeconfig=options.kubeconfig,
        namespace=namespace,
        service=options.service,
        pid=os.getpid(),
        workstation=socket.gethostname(),
        started=settings.started,
        ledger=ledgers.Ledger(session_id=session_id, namespace=namespace),
        details={"workload": f"{target.kind}/{target.name}", "container": target.container},
        workload_kind=target.kind,
        workload_name=target.name,
        container=target.container,
        owner=settings.owner,
    )
    recording.save(record)
    session = Session(client=client, record=record, progress=progress)
    session.timings = timings
    try:
        await _replace(session, target=target, plan=plan, options=options, token=token)
        await _open(session, target=target, plan=plan, options=options, token=token)
    except BaseException as error:
        progress(Step("connect", "note", f"connect failed ({error}); undoing what was done"))
        with contextlib.suppress(Exception):
            await asyncio.shield(session.disconnect())
        raise
    session._save(state="connected")
    return session


async def _resolve(client: requesting.Client, options: Options, namespace: str) -> targets.Target:
    service = await fetching.read_optional(
        client, resources.SERVICES, name=options.service, namespace=namespace
    )
    if service is None:
        return targets.resolve(service_name=options.service, namespace=namespace, service=None, pods=[])
    selector = ",".join(
        f"{k}={v}" for k, v in sorted(((service.get("spec") or {}).get("selector") or {}).items())
    )
    pods, replica_sets, deployments, stateful_sets = await asyncio.gather(
        fetching.list_objects(client, resources.PODS, namespace=namespace, label_selector=selector or None),
        fetching.list_objects(client, resources.REPLICA_SETS, namespace=namespace),
        fetching.list_objects(client, resources.DEPLOYMENTS, namespace=namespace),
        fetching.list_objects(client, resources.STATEFUL_SETS, namespace=namespace),
    )
    return targets.resolve(
        service_name=options.service,
        namespace=namespace,
        service=service,
        pods=pods if selector else [],
        replica_sets=replica_sets,
        deployments=deployments,
        stateful_sets=stateful_sets,
        container=options.container,
    )


def _restore_secret(
    session_id: str, namespace: str, *, ledger: ledgers.Ledger, token: str, original: dict[str, Any]
) -> dict[str, Any]:
    data = ledgers.to_secret_data(ledger, agent_token=token, original=original)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": names.restore_secret_name(session_id),
            "namespace": namespace,
            "labels": names.labels_for(session_id, names.COMPONENT_RESTORE_DATA),
        },
        "type": "Opaque",
        "data": data,
    }


def _agent_config_map(session_id: str, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": names.agent_config_map_name(session_id),
            "namespace": namespace,
            "labels": names.labels_for(session_id, names.COMPONENT_AGENT_CODE),
        },
        "binaryData": {names.AGENT_ZIPAPP_KEY: base64.b64encode(packing.build()).decode()},
    }


def restore_objects(
    *, session_id: str, namespace: str, target: targets.Target, image: str, grace: float
) -> list[dict[str, Any]]:
    """ServiceAccount, Role, RoleBinding and Job of the restore, in creation order (`manifests`:
    a least-privilege Role, a Job pod that passes the restricted Pod Security Standard and keeps
    service-mesh sidecars out). The Job polls the agent every tenth of `grace` (0.5 to 5 s), so
    a short grace is honoured closely.
    """
    common = {"session_id": session_id, "namespace": namespace}
    return [
        manifests.restore_service_account(**common),
        manifests.restore_role(**common, workload_kind=target.kind, workload_name=target.name),
        manifests.restore_role_binding(**common),
        manifests.restore_job(
            **common, image=image, grace_seconds=grace, poll_seconds=min(5.0, max(0.5, grace / 10))
        ),
    ]


async def _replace(
    session: Session,
    *,
    target: targets.Target,
    plan: patches.PatchPlan | patches.RecreatePlan,
    options: Options,
    token: str,
) -> None:
    progress, timings, namespace, session_id = (
        session.progress,
        session.timings,
        session.namespace,
        session.session_id,
    )

    def restore_secret() -> dict[str, Any]:
        return _restore_secret(
            session_id,
            namespace,
            ledger=session.record.ledger,
            token=token,
            original=ledgers.original_record(target),
        )

    secret_pair = ledgers.create_pair(restore_secret())
    config_map_pair = ledgers.create_pair(_agent_config_map(session_id, namespace))
    workload_pairs = ledgers.workload_pairs(plan)
    # Every cluster change is recorded before the first is made, so the Secret carries the full list:
    # its body is made again once the ledger holds all of them.
    sequences = [session.record_pair(pair) for pair in (secret_pair, config_map_pair, *workload_pairs)]
    secret_body = restore_secret()
    first = session.record.ledger.entries[-len(sequences)]
    session._save(
        ledger=dataclasses.replace(
            session.record.ledger,
            entries=(
                *session.record.ledger.entries[: -len(sequences)],
                dataclasses.replace(first, action=dataclasses.replace(first.action, body=secret_body)),
                *session.record.ledger.entries[-len(sequences) + 1 :],
            ),
        )
    )

    with _step(
        progress, timings, "restore-data", "Secret with the original workload, ConfigMap with the agent"
    ):
        await session._execute_recorded(sequences[0])
        await session._execute_recorded(sequences[1])
    with _step(
        progress, timings, "replace", f"{target.kind} {target.name}: container {target.container} -> agent"
    ):
        for sequence in sequences[2:]:
            await session._execute_recorded(sequence)
    with _step(progress, timings, "agent-ready", "waiting for the agent pod"):
        pod = await watching.wait_for_ready_pod(
            session.client,
            namespace=namespace,
            label_selector=f"{names.SESSION_LABEL}={session_id}",
            timeout=options.ready_timeout,
            progress=lambda message: progress(Step("agent-ready", "note", message)),
        )
        session.agent_pod = str(pod["metadata"]["name"])
    with _step(
        progress, timings, "restore-job", f"restores after {options.restore_timeout:g} s without a session"
    ):
        bodies = restore_objects(
            session_id=session_id,
            namespace=namespace,
            target=target,
            image=options.agent_image,
            grace=options.restore_timeout,
        )
        for body in bodies:
            await session.do(ledgers.create_pair(body))
        await _make_dependents_of_the_job(session.client, namespace=namespace, bodies=bodies)


async def _make_dependents_of_the_job(
    client: requesting.Client, *, namespace: str, bodies: Sequence[dict[str, Any]]
) -> None:
    """Give the restore Job's ServiceAccount, Role and RoleBinding an ownerReference to the Job.

    The restore mode cannot delete them itself: removing any one of the three revokes its own
    permissions (RBAC is enforced on real clusters), and deleting its Job stops its pod. So it
    deletes its Job last and the garbage collector removes these with it. They exist before the
    Job (its pod needs them at once), hence a patch once the Job's uid is known.
    """
    *rbac, job = bodies
    created = await fetching.read(client, resources.JOBS, name=job["metadata"]["name"], namespace=namespace)
    owner = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "name": created["metadata"]["name"],
        "uid": created["metadata"]["uid"],
    }
    kinds = {
        "ServiceAccount": resources.SERVICE_ACCOUNTS,
        "Role": resources.ROLES,
        "RoleBinding": resources.ROLE_BINDINGS,
    }
    await asyncio.gather(
        *(
            patching.merge_patch(
                client,
                kinds[body["kind"]],
                name=body["metadata"]["name"],
                namespace=namespace,
                patch={"metadata": {"ownerReferences": [owner]}},
            )
            for body in rbac
        )
    )


async def _open(
    session: Session,
    *,
    target: targets.Target,
    plan: patches.PatchPlan | patches.RecreatePlan,
    options: Options,
    token: str,
) -> None:
    progress, timings, namespace, session_id = (
        session.progress,
        session.timings,
        session.namespace,
        session.session_id,
    )
    client = session.client
    selector = f"{names.SESSION_LABEL}={session_id}"

    async def dial() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        # The agent pod may have been replaced since the last dial: find the ready one again.
        for pod in await fetching.list_objects(
            client, resources.PODS, namespace=namespace, label_selector=selector
        ):
            if kube_pods.is_ready(pod):
                session.agent_pod = kube_pods.name(pod)
                break
        return await forwarding.open_forward(
            client, pod=session.agent_pod, port=names.DEFAULT_AGENT_CONTROL_PORT, namespace=namespace
        )

    with _step(progress, timings, "endpoints", "choosing workstation addresses"):
        path = hosts_file(options)
        mode, why = endpoints.choose_mode(_can_write(path), MODES.get(options.mode, options.mode))
        progress(Step("endpoints", "note", why))
        services, slices = await asyncio.gather(
            fetching.list_objects(client, resources.SERVICES, namespace=namespace),
            _endpoint_slices(client, namespace),
        )
        wanted = environment.wanted_services(options.config, namespace=namespace)
        elsewhere = [
            found
            for name, other in wanted
            if other != namespace
            if (found := await fetching.read_optional(client, resources.SERVICES, name=name, namespace=other))
        ]
        # Ports another program took between planning and binding: the plan is made again without them.
        taken: set[tuple[str, int]] = set()

        def plan_endpoints() -> endpoints.EndpointPlan:
            return endpoints.plan(
                mode=mode,
                namespace=namespace,
                services=[*services, *elsewhere],
                endpoint_slices=slices,
                wanted_services=wanted,
                external_endpoints=environment.external_endpoints(options.config),
                target_ports=target.ports,
                listen_ports=plan.listen_ports,
                workstation_ports=options.workstation_ports,
                is_port_free=lambda ip, port: (ip, port) not in taken and _is_port_free(ip, port),
            )

        endpoint_plan = plan_endpoints()
        session.plan = endpoint_plan
        for note in endpoint_plan.notes:
            progress(Step("endpoints", "note", note))

    def refused(container_port: int, workstation_port: int) -> None:
        progress(
            Step(
                "redirect",
                "note",
                f"a request for pod port {container_port} arrived but nothing listens on "
                f"127.0.0.1:{workstation_port}: start your process there",
            )
        )

    with _step(
        progress, timings, "tunnel", f"port-forward to {session.agent_pod}:{names.DEFAULT_AGENT_CONTROL_PORT}"
    ):
        session.tunnel = tunneling.Tunnel(
            dial=dial,
            token=token,
            on_stream=workstation.inbound_handler(endpoint_plan, on_refused=refused),
            progress=lambda message: progress(Step("tunnel", "note", message)),
            heartbeat_interval=options.heartbeat_interval,
            heartbeat_timeout=options.heartbeat_timeout,
            info={"session": session_id},
        )
        await session.tunnel.start(patience=options.ready_timeout)
    with _step(progress, timings, "listeners", f"{len(endpoint_plan.endpoints)} services on the workstation"):
        for attempt in range(1, PORT_ATTEMPTS + 1):
            try:
                await session.listeners.start(endpoint_plan, session.tunnel)
                break
            except workstation.PortTaken as error:
                await session.listeners.stop()
                # Hosts mode uses the services' real ports: another free port would not be the service's.
                if endpoint_plan.mode is endpoints.Mode.HOSTS or attempt == PORT_ATTEMPTS:
                    raise
                taken.add((error.ip, error.port))
                note = f"{error.ip}:{error.port} was taken meanwhile; choosing another port"
                progress(Step("listeners", "note", note))
                endpoint_plan = plan_endpoints()
                session.plan = endpoint_plan
    with _step(progress, timings, "volumes", "the container's volume files"):
        directories = await _download_volumes(session, target=target, options=options)
        session.volume_directories = directories
    with _step(progress, timings, "environment", "the container's environment, services pointing here"):
        report = await session.tunnel.request("env")
        env_plan = environment.plan(
            pod_env=report.get("environ") or {},
            endpoint_plan=endpoint_plan,
            config=options.config,
            explicit_names=[entry.get("name", "") for entry in target.container_spec.get("env") or []],
            volume_directories=directories,
            cluster_services=[str(s["metadata"]["name"]) for s in services],
        )
        for note in env_plan.notes:
            progress(Step("environment", "note", note))
        session.environment = dict(env_plan.variables)
        env_path = recording.home() / "env" / f"{session_id}.env"
        session.env_file = env_path
        await session.do(ledgers.file_pair(path=str(env_path), purpose="the session's environment"))
        _write_private(env_path, environment.render_dotenv(session.environment))
    if mode is endpoints.Mode.HOSTS:
        with _step(progress, timings, "hosts", f"names of the services in {path}"):
            entries = hosts.entries_for(endpoint_plan)
            await session.do(ledgers.hosts_pair(path=path, session_id=session_id, entries=entries))
    session._save(
        mode=mode.value,
        env_file=str(session.env_file),
        hosts_path=path if mode is endpoints.Mode.HOSTS else None,
        details={
            **session.record.details,
            "mode": mode.value,
            "agent_pod": session.agent_pod,
            "env_file": str(session.env_file),
            "hosts_file": path if mode is endpoints.Mode.HOSTS else "",
            "endpoints": [
                {
                    "service": e.service,
                    "namespace": e.namespace,
                    "address": e.workstation_ip,
                    "ports": [[p.cluster_port, p.workstation_port] for p in e.ports],
                }
                for e in endpoint_plan.endpoints
            ],
            "redirected": [[r.container_port, r.workstation_port] for r in endpoint_plan.redirected],
        },
    )


async def _download_volumes(session: Session, *, target: targets.Target, options: Options) -> dict[str, str]:
    """Download every volume the replaced container mounts; {volume name: workstation directory}.

    Directories come from the config's `volumeMounts` (glob names, first match wins) or a
    per-session temp root; each is recorded for removal before it is written, and a directory
    that already holds files is refused rather than mixed or later deleted. A volume that cannot
    be read is reported and skipped: the process may not need it.
    """
    assert session.tunnel is not None
    mounts = [
        mount
        for mount in target.container_spec.get("volumeMounts") or []
        if mount.get("name") != names.AGENT_VOLUME_NAME
    ]
    if not mounts:
        return {}
    root = recording.home() / "volumes" / session.session_id
    directories = environment.volume_directories(
        options.config, mounted_volumes=[str(m["name"]) for m in mounts], temporary_root=str(root)
    )
    if any(Path(directory).is_relative_to(root) for directory in directories.values()):
        await session.do(ledgers.file_pair(path=str(root), purpose="the session's volume files"))
    for mount in mounts:
        directory = Path(directories[str(mount["name"])])
        if directory.exists() and any(directory.iterdir()):
            raise ConnectError(
                f"The directory {directory} for volume {mount['name']!r} already holds files. Empty it or "
                "choose another localPath in KubernetesLocalProcessConfig.yaml, then connect again."
            )
        if not directory.is_relative_to(root):
            await session.do(ledgers.file_pair(path=str(directory), purpose=f"volume {mount['name']}"))
        try:
            size = await downloading.download_volume(
                session.tunnel, pod_path=str(mount["mountPath"]), directory=directory
            )
        except (agent_errors.AgentError, ValueError) as error:
            session.progress(
                Step(
                    "volumes",
                    "note",
                    f"volume {mount['name']} ({mount['mountPath']}) not downloaded: {error}",
                )
            )
            continue
        session.progress(Step("volumes", "note", f"volume {mount['name']}: {size} bytes in {directory}"))
    return directories


async def _endpoint_slices(client: requesting.Client, namespace: str) -> list[dict[str, Any]]:
    slices = resources.Resource("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice")
    try:
        return await fetching.list_objects(client, slices, namespace=namespace)
    except kube_errors.ApiError:
        return []  # headless services then get their name only, not one endpoint per pod


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def describe_sessions(records: Sequence[recording.Record]) -> list[dict[str, Any]]:
    return [
        {
            "session": r.session_id,
            "service": r.service,
            "namespace": r.namespace,
            "context": r.context,
            "state": r.state,
            "alive": r.alive,
            "pid": r.pid,
            "started": r.started,
            **r.details,
        }
        for r in records
    ]
