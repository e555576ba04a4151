"""Names from the cluster for completion: read in the background, cached, never waited for.

`ClusterCatalog.snapshot()` answers at once with what is known (nothing, at first) and, when that is
older than the cache time (or the last read failed more than `retry_seconds` ago), starts one
background read in a daemon thread. So completion never waits on a slow, absent or unreachable
cluster: it offers the names of the previous read, or none.

`read_cluster()` is the read itself, with the official `kubernetes` client and the current context of
the kubeconfig (`KUBECONFIG`, else `~/.kube/config`): the namespaces, the services (with ports) of at
most `max_namespaces` of them (the context's namespace first), and the volume names of the pods in
the context's namespace. Each request has a timeout and is not retried. Without a kubeconfig file
nothing is read (and the `kubernetes` package, 20 MB of memory, is never imported).
"""

from __future__ import annotations

import dataclasses
import logging
import os
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


@dataclass
class ClusterCatalog:
    """A cache of `Snapshot`s refreshed in the background by `read` (e.g. `read_cluster`).

    `snapshot()` never blocks on a read. At most one read runs at a time. `on_update` is called
    (from the reading thread) with each new snapshot.
    """

    read: Callable[[], Snapshot]
    cache_seconds: float = 60.0
    retry_seconds: float = 10.0
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
