"""Names from the cluster for completion: read in the background, cached, never waited for.

`ClusterCatalog.snapshot()` answers at once with what is known (nothing, at first) and, when that is
older than the cache time (or the last read failed more than `retry_seconds` ago), starts one
background read in a daemon thread. So completion never waits on a slow, absent or unreachable
cluster: it offers the names of the previous read, or none.

`read_cluster()` is the read itself, with the official `kubernetes` client and the current context of
the kubeconfig (`KUBECONFIG`, else `~/.kube/config`): the namespaces, the services (with ports) of at
most `max_namespaces` of them (the context's namespace first), and the volume names of the pods in
the context's namespace. Each request has a timeout and is not retried.

`read_cluster_in_child()` runs that read in a child process (`python -m kubelocal.kube.cataloging`,
which prints the snapshot as JSON), so the language server never loads the `kubernetes` package
(20 MB of resident memory for as long as the editor runs), and a read that hangs (a cluster that
accepts connections but never answers, an exec credential plugin waiting for a login) is killed
after its time limit instead of holding a thread forever. Without a kubeconfig file nothing is
started.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServicePort:
    port: int
    name: str | None = None
    protocol: str = "TCP"


@dataclass(frozen=True)
class Service:
    name: str
    namespace: str
    ports: tuple[ServicePort, ...] = ()
    cluster_ip: str | None = None


@dataclass(frozen=True)
class Snapshot:
    """What was read from the cluster, when (monotonic seconds), and why it failed if it did."""

    context: str | None = None
    namespace: str | None = None
    namespaces: tuple[str, ...] = ()
    services: tuple[Service, ...] = ()
    volumes: tuple[str, ...] = ()
    read_at: float | None = None
    error: str | None = None

    def services_in(self, namespace: str | None) -> tuple[Service, ...]:
        """The services of `namespace` (the context's namespace when None)."""
        wanted = namespace or self.namespace
        return tuple(service for service in self.services if service.namespace == wanted)

    def service(self, name: str, namespace: str | None) -> Service | None:
        return next((service for service in self.services_in(namespace) if service.name == name), None)


EMPTY = Snapshot()


def focused(
    snapshot: Snapshot,
    *,
    context: str,
    namespace: str,
    services: tuple[Service, ...],
    volumes: tuple[str, ...] | None,
    now: float,
) -> Snapshot:
    """`snapshot` as completion sees it while a session is connected: pure.

    The session's namespace becomes the one whose services need no `.NAMESPACE`; its services are the
    session's (what the cluster held when it connected), those of other namespaces stay the catalog's.
    `volumes` are the replaced container's volumes; when the session does not know them (None: a
    session re-attached from disk), the catalog's pod volumes are kept if they were read in that
    namespace. A snapshot the catalog has not read yet counts as read now: the session's names are
    there.
    """
    same_namespace = snapshot.namespace == namespace
    if volumes is None:
        volumes = snapshot.volumes if same_namespace else ()
    return dataclasses.replace(
        snapshot,
        context=context,
        namespace=namespace,
        namespaces=tuple(sorted({*snapshot.namespaces, namespace})),
        services=tuple(s for s in snapshot.services if s.namespace != namespace) + services,
        volumes=tuple(sorted(volumes)),
        read_at=snapshot.read_at if snapshot.read_at is not None else now,
    )


def kubeconfig_paths() -> list[str]:
    """The kubeconfig files the `kubernetes` client would read, that exist."""
    configured = os.environ.get("KUBECONFIG")
    candidates = configured.split(os.pathsep) if configured else [os.path.expanduser("~/.kube/config")]
    return [path for path in candidates if path and os.path.isfile(path)]


def read_cluster(*, timeout: float, max_namespaces: int = 20) -> Snapshot:
    """Read names from the cluster of the current kubeconfig context (blocking; run it in a thread).

    Returns a snapshot with `error` set (and whatever was read before the failure) when there is no
    kubeconfig, it cannot be loaded, or the cluster does not answer within `timeout` per request.
    """
    paths = kubeconfig_paths()
    if not paths:
        return Snapshot(read_at=time.monotonic(), error="no kubeconfig file")
    # Imported here: the package is large and only needed when a kubeconfig exists.
    from kubernetes import client, config

    try:
        _contexts, active = config.list_kube_config_contexts(config_file=paths[0])
        context_name = (active or {}).get("name")
        namespace = ((active or {}).get("context") or {}).get("namespace") or "default"
        configuration = client.Configuration()
        config.load_kube_config(config_file=paths[0], client_configuration=configuration)
        configuration.retries = False
    except Exception as error:  # the kubeconfig is the user's file: any mistake in it lands here
        return Snapshot(read_at=time.monotonic(), error=f"cannot load the kubeconfig: {error}")

    namespaces: list[str] = []
    services: list[Service] = []
    volumes: set[str] = set()
    with client.ApiClient(configuration) as api_client:
        core = client.CoreV1Api(api_client)
        try:
            try:
                listed = core.list_namespace(_request_timeout=timeout)
                namespaces = sorted(item.metadata.name for item in listed.items)
            except client.ApiException as error:
                if error.status != 403:  # may not list namespaces: still read its own one
                    raise
            wanted = [namespace, *(name for name in namespaces if name != namespace)][:max_namespaces]
            for name in wanted:
                listed_services = core.list_namespaced_service(name, _request_timeout=timeout)
                services.extend(_service(item) for item in listed_services.items)
            pods = core.list_namespaced_pod(namespace, _request_timeout=timeout)
            for pod in pods.items:
                volumes.update(volume.name for volume in (pod.spec.volumes or ()))
        except Exception as error:  # unreachable, timed out, refused, forbidden: keep what was read
            return Snapshot(
                context=context_name,
                namespace=namespace,
                namespaces=tuple(namespaces),
                services=tuple(services),
                volumes=tuple(sorted(volumes)),
                read_at=time.monotonic(),
                error=f"cannot read the cluster of context {context_name!r}: {type(error).__name__}",
            )
    return Snapshot(
        context=context_name,
        namespace=namespace,
        namespaces=tuple(namespaces) or (namespace,),
        services=tuple(services),
        volumes=tuple(sorted(volumes)),
        read_at=time.monotonic(),
    )


def _service(item: object) -> Service:
    metadata = item.metadata  # type: ignore[attr-defined]
    spec = item.spec  # type: ignore[attr-defined]
    listed_ports = (spec.ports if spec is not None else None) or ()
    ports = tuple(
        ServicePort(port=port.port, name=port.name, protocol=port.protocol or "TCP") for port in listed_ports
    )
    return Service(
        name=metadata.name,
        namespace=metadata.namespace,
        ports=ports,
        cluster_ip=getattr(spec, "cluster_ip", None),
    )


def snapshot_to_json(snapshot: Snapshot) -> str:
    return json.dumps(dataclasses.asdict(snapshot))


def snapshot_from_json(text: str) -> Snapshot:
    """The snapshot a child printed; raises ValueError (or KeyError, TypeError) when it is not one."""
    data = json.loads(text)
    services = tuple(
        Service(
            name=service["name"],
            namespace=service["namespace"],
            ports=tuple(ServicePort(**port) for port in service["ports"]),
            cluster_ip=service.get("cluster_ip"),
        )
        for service in data["services"]
    )
    return Snapshot(
        context=data["context"],
        namespace=data["namespace"],
        namespaces=tuple(data["namespaces"]),
        services=services,
        volumes=tuple(data["volumes"]),
        read_at=data["read_at"],
        error=data["error"],
    )


class ChildReader:
    """Reads the cluster in a child process (see the module's docstring); `stop()` kills a running one."""

    def __init__(self, *, timeout: Callable[[], float], max_namespaces: int = 20) -> None:
        self._timeout = timeout
        self._max_namespaces = max_namespaces
        self._child: subprocess.Popen[str] | None = None
        self._stopped = False

    def __call__(self) -> Snapshot:
        if not kubeconfig_paths():
            return Snapshot(error="no kubeconfig file")
        timeout = self._timeout()
        # Each request has `timeout`; the whole read (namespaces, services, pods) gets a few of them.
        limit = timeout * 4 + 5
        command = [sys.executable, "-m", "kubelocal.kube.cataloging", "--timeout", str(timeout)]
        command += ["--max-namespaces", str(self._max_namespaces)]
        if self._stopped:
            return Snapshot(error="the language server is stopping")
        child = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self._child = child
        try:
            output, errors = child.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            return Snapshot(error=f"the cluster did not answer within {limit:.0f} s")
        finally:
            self._child = None
        try:
            return snapshot_from_json(output.strip().splitlines()[-1])
        except (IndexError, KeyError, TypeError, ValueError):
            detail = (errors.strip().splitlines() or [f"exit status {child.returncode}"])[-1]
            return Snapshot(error=f"reading the cluster failed: {detail}")

    def stop(self) -> None:
        self._stopped = True
        child = self._child
        if child is not None and child.poll() is None:
            child.kill()


def main(argv: list[str] | None = None) -> int:
    """The child's side: read the cluster once and print the snapshot as one line of JSON."""
    parser = argparse.ArgumentParser(prog="python -m kubelocal.kube.cataloging")
    parser.add_argument("--timeout", type=float, default=3.0)
    parser.add_argument("--max-namespaces", type=int, default=20)
    args = parser.parse_args(argv)
    print(snapshot_to_json(read_cluster(timeout=args.timeout, max_namespaces=args.max_namespaces)))
    return 0


@dataclass
class ClusterCatalog:
    """A cache of `Snapshot`s refreshed in the background by `read` (e.g. `read_cluster`).

    `snapshot()` never blocks on a read. At most one read runs at a time. `on_update` is called
    (from the reading thread) with each new snapshot.
    """

    read: Callable[[], Snapshot]
    cache_seconds: float = 60.0
    retry_seconds: float = 30.0  # each read starts a process: do not retry an absent cluster too often
    clock: Callable[[], float] = time.monotonic
    on_update: Callable[[Snapshot], None] | None = None
    _current: Snapshot = field(default=EMPTY, init=False)
    _reading: threading.Thread | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def snapshot(self) -> Snapshot:
        """What is known now; starts a background read when that is stale."""
        current = self._current
        if self._is_stale(current):
            self.refresh()
        return current

    def refresh(self) -> None:
        """Start a background read unless one is running."""
        with self._lock:
            if self._reading is not None and self._reading.is_alive():
                return
            self._reading = threading.Thread(target=self._read, name="kubelocal-cluster-catalog", daemon=True)
            self._reading.start()

    def wait(self, timeout: float) -> bool:
        """Wait for a running read to end (for tests and shutdown); True when none is running."""
        reading = self._reading
        if reading is not None:
            reading.join(timeout)
            return not reading.is_alive()
        return True

    def _is_stale(self, snapshot: Snapshot) -> bool:
        if snapshot.read_at is None:
            return True
        age = self.clock() - snapshot.read_at
        return age > (self.retry_seconds if snapshot.error else self.cache_seconds)

    def _read(self) -> None:
        try:
            snapshot = self.read()
        except Exception as error:  # a bug in reading must not kill completion: report it as an error
            logger.exception("reading the cluster failed")
            snapshot = Snapshot(error=f"reading the cluster failed: {error}")
        # The catalog's clock decides staleness, whatever clock the reader used.
        snapshot = dataclasses.replace(snapshot, read_at=self.clock())
        current = self._current
        if snapshot.error and (current.namespaces or current.services or current.volumes):
            # Keep the names read before, but remember the failure and its time for the retry.
            snapshot = dataclasses.replace(current, read_at=snapshot.read_at, error=snapshot.error)
        self._current = snapshot
        if self.on_update is not None:
            self.on_update(snapshot)


if __name__ == "__main__":
    raise SystemExit(main())
