"""Workstation endpoints: where the workstation process reaches each cluster service, and where
redirected traffic reaches the workstation process.

Pure: services, EndpointSlices and the config's external endpoints in, an `EndpointPlan` out. The
only outside knowledge, whether a workstation port is free, comes in as a callable.

What is made reachable: every service of the target namespace, plus the services the config names
(also in other namespaces), plus the config's external endpoints. TCP ports only. Ports listed in
the service annotation `bridgetokubernetes/ignore-ports` (or its alias `kubelocal.dev/ignore-ports`),
e.g. "445,23", are left out; a service left with no port is skipped. Headless services
(`clusterIP: None`) get one endpoint for the service name (the agent dials the DNS name, as a pod
would) plus one per ready endpoint address that has a hostname (StatefulSet pods: `db-0.db`), dialled
at that address. ExternalName services are dialled at their external name.

Two modes:

- hosts: one loopback IP per endpoint from 127.1.1.1 upward (skipping .0 and .255) with the
  service's real ports, and the cluster names in the hosts file. A real port that is taken on that
  IP is moved to a free port from 55049 up, with a note (the env vars still point right).
- no-admin: 127.0.0.1 for everything, one free port per service port from 55049 upward, as the
  original product did; names do not resolve, the service env vars say where to go.

Allocation is deterministic: endpoints are ordered by (namespace, name, kind) and ports by their
order in the service, so the same inputs give the same addresses on every reconnect.

Redirected ports: each port the agent listens on goes to a workstation port on 127.0.0.1; the
`--local-port` values map to the service's target ports in the service's order, then to the other
declared container ports; a port without a value keeps its number.
"""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from kubelocal.engine import errors, names, targets

FIRST_FREE_PORT = 55049
LAST_PORT = 65535
FIRST_HOSTS_IP = ipaddress.IPv4Address("127.1.1.1")
LAST_HOSTS_IP = ipaddress.IPv4Address("127.1.255.254")
NO_ADMIN_IP = "127.0.0.1"
DEFAULT_CLUSTER_DOMAIN = "cluster.local"

PortIsFree = Callable[[str, int], bool]


class Mode(enum.Enum):
    HOSTS = "hosts"
    NO_ADMIN = "no-admin"


class Kind(enum.Enum):
    SERVICE = "service"
    HEADLESS_ADDRESS = "headless-address"
    EXTERNAL = "external"


@dataclasses.dataclass(frozen=True)
class PortAllocation:
    """A cluster port and the workstation port that reaches it. `name` is the service port's name."""

    name: str
    cluster_port: int
    workstation_port: int


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """One cluster destination made reachable on the workstation.

    `service` and `namespace` name the owning service (for an external endpoint: its host and "");
    `cluster_host` is what the agent dials (ClusterIP, pod IP or DNS name); `hostnames` are the
    names the hosts file maps to `workstation_ip` (hosts mode).
    """

    kind: Kind
    service: str
    namespace: str
    cluster_host: str
    workstation_ip: str
    ports: tuple[PortAllocation, ...]
    hostnames: tuple[str, ...]
    address_hostname: str = ""  # a headless address's hostname (`db-0`)

    def port_for(self, cluster_port: int) -> PortAllocation | None:
        return next((p for p in self.ports if p.cluster_port == cluster_port), None)


@dataclasses.dataclass(frozen=True)
class RedirectedPort:
    """Traffic the agent accepts on `container_port` goes to 127.0.0.1:`workstation_port`."""

    container_port: int
    workstation_port: int


@dataclasses.dataclass(frozen=True)
class EndpointPlan:
    mode: Mode
    namespace: str
    endpoints: tuple[Endpoint, ...]
    redirected: tuple[RedirectedPort, ...]
    notes: tuple[str, ...] = ()

    def service(self, name: str, namespace: str | None = None) -> Endpoint | None:
        """The endpoint of service `name` (in the plan's namespace unless given)."""
        namespace = namespace or self.namespace
        return next(
            (
                e
                for e in self.endpoints
                if e.kind is Kind.SERVICE and e.service == name and e.namespace == namespace
            ),
            None,
        )

    def external(self, host: str) -> Endpoint | None:
        return next(
            (e for e in self.endpoints if e.kind is Kind.EXTERNAL and e.service == host.lower()), None
        )


@dataclasses.dataclass(frozen=True)
class ExternalEndpoint:
    """A host outside the cluster reached through the agent (from `$(externalendpoints:HOST:PORT)`)."""

    host: str
    ports: tuple[int, ...]


def choose_mode(can_write_hosts: bool, requested: str = "auto") -> tuple[Mode, str]:
    """The mode to use and a sentence saying why, for the CLI to print.

    `requested` is "auto", "hosts" or "no-admin". Forcing hosts mode without the right to write
    the hosts file is a `ModeError` that says how to get it or how to do without.
    """
    if requested == Mode.NO_ADMIN.value:
        return Mode.NO_ADMIN, (
            "no-admin mode (requested): services are on 127.0.0.1 at free ports from 55049; "
            "use the *_SERVICE_HOST/*_SERVICE_PORT variables to reach them."
        )
    if requested == Mode.HOSTS.value:
        if not can_write_hosts:
            raise errors.ModeError(
                "Hosts mode needs to write the hosts file, which this user cannot. Run kubelocal with "
                "administrator rights (sudo), or use no-admin mode (--mode no-admin)."
            )
        return Mode.HOSTS, "hosts mode (requested): each service has its own loopback address and real ports."
    if requested != "auto":
        raise errors.ModeError(f"Unknown mode {requested!r}: use auto, hosts or no-admin.")
    if can_write_hosts:
        return Mode.HOSTS, (
            "hosts mode: the hosts file is writable, so each service gets its own loopback address "
            "(127.1.1.x) on its real ports and its cluster names resolve on this workstation."
        )
    return Mode.NO_ADMIN, (
        "no-admin mode: the hosts file is not writable, so services are on 127.0.0.1 at free ports "
        "and reached through the *_SERVICE_HOST/*_SERVICE_PORT variables (cluster names do not "
        "resolve). Run with administrator rights for hosts mode."
    )


def plan(
    *,
    mode: Mode,
    namespace: str,
    services: Sequence[Mapping[str, Any]],
    endpoint_slices: Sequence[Mapping[str, Any]] = (),
    wanted_services: Iterable[tuple[str, str]] = (),
    external_endpoints: Sequence[ExternalEndpoint] = (),
    target_ports: Sequence[targets.PortMapping] = (),
    listen_ports: Sequence[int] = (),
    workstation_ports: Sequence[int] = (),
    is_port_free: PortIsFree = lambda ip, port: True,
    cluster_domain: str = DEFAULT_CLUSTER_DOMAIN,
) -> EndpointPlan:
    """Allocate workstation addresses; see the module docstring.

    `services` are the services of `namespace` plus those the config names in other namespaces
    (others are ignored); `wanted_services` are the (name, namespace) pairs the config names, each
    of which must be among `services`. `target_ports`/`listen_ports` come from the target and the
    patch plan; `workstation_ports` are the `--local-port` values.
    """
    wanted = {(name, ns) for name, ns in wanted_services}
    present = {(_meta(s, "name"), _meta(s, "namespace") or namespace) for s in services}
    missing = sorted(wanted - present)
    if missing:
        listed = ", ".join(f"{name}.{ns}" for name, ns in missing)
        raise errors.EndpointError(
            f"The config names services that do not exist: {listed}. Fix the names in "
            "KubernetesLocalProcessConfig.yaml or create the services."
        )
    notes: list[str] = []
    drafts: list[_Draft] = []
    seen: set[tuple[str, str]] = set()
    for service in services:
        service_namespace = _meta(service, "namespace") or namespace
        key = (_meta(service, "name"), service_namespace)
        if key in seen or (service_namespace != namespace and key not in wanted):
            continue  # listed twice (the namespace's list and the config's), or not asked for
        seen.add(key)
        drafts.extend(
            _drafts_for(service, service_namespace, namespace, endpoint_slices, cluster_domain, notes)
        )
    for external in external_endpoints:
        host = external.host.lower()
        ports = tuple(dict.fromkeys(external.ports))
        drafts.append(_Draft(Kind.EXTERNAL, host, "", host, tuple(("", p) for p in ports), (host,)))
    kinds = list(Kind)
    drafts = sorted(
        _merge_externals(drafts), key=lambda d: (d.namespace, d.service, kinds.index(d.kind), d.hostname)
    )

    redirected = _redirects(target_ports, listen_ports, workstation_ports)
    taken = {(NO_ADMIN_IP, r.workstation_port) for r in redirected}
    pool = _PortPool(is_port_free, taken)
    ips = _hosts_ips()
    endpoints = []
    for draft in drafts:
        if mode is Mode.HOSTS:
            try:
                ip = next(ips)
            except StopIteration:
                raise errors.EndpointError(
                    f"More than {_hosts_ip_count()} cluster endpoints to reach: too many for hosts mode. "
                    "Use no-admin mode (--mode no-admin)."
                ) from None
            allocations = []
            for port_name, port in draft.ports:
                if (ip, port) not in pool.taken and is_port_free(ip, port):
                    pool.taken.add((ip, port))
                    allocations.append(PortAllocation(port_name, port, port))
                else:
                    moved = pool.take(ip)
                    notes.append(
                        f"Port {port} of {draft.label} is taken on this workstation; it is on {ip}:{moved} "
                        "instead (the service variables point there)."
                    )
                    allocations.append(PortAllocation(port_name, port, moved))
        else:
            ip = NO_ADMIN_IP
            allocations = [PortAllocation(port_name, port, pool.take(ip)) for port_name, port in draft.ports]
        endpoints.append(
            Endpoint(
                kind=draft.kind,
                service=draft.service,
                namespace=draft.namespace,
                cluster_host=draft.cluster_host,
                workstation_ip=ip,
                ports=tuple(allocations),
                hostnames=draft.hostnames,
                address_hostname=draft.hostname,
            )
        )
    return EndpointPlan(
        mode=mode, namespace=namespace, endpoints=tuple(endpoints), redirected=redirected, notes=tuple(notes)
    )


def ignored_ports(service: Mapping[str, Any]) -> frozenset[int]:
    """Ports listed in the ignore-ports annotations ("445, 23"); words that are not ports are skipped."""
    annotations = (service.get("metadata") or {}).get("annotations") or {}
    ports: set[int] = set()
    for key in (names.ORIGINAL_IGNORE_PORTS_ANNOTATION, names.IGNORE_PORTS_ANNOTATION):
        for word in str(annotations.get(key, "")).replace(";", ",").split(","):
            word = word.strip()
            if word.isdigit():
                ports.add(int(word))
    return frozenset(ports)


# --- drafts: what to reach, before addresses are allocated -------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Draft:
    kind: Kind
    service: str
    namespace: str
    cluster_host: str
    ports: tuple[tuple[str, int], ...]
    hostnames: tuple[str, ...]
    hostname: str = ""

    @property
    def label(self) -> str:
        if self.kind is Kind.EXTERNAL:
            return f"external endpoint {self.service}"
        prefix = f"{self.hostname}." if self.hostname else ""
        return f"service {prefix}{self.service}.{self.namespace}"


def _meta(obj: Mapping[str, Any], key: str) -> str:
    return str((obj.get("metadata") or {}).get(key) or "")


def _service_hostnames(name: str, namespace: str, own_namespace: str, cluster_domain: str) -> tuple[str, ...]:
    # A bare name resolves in the pod's own namespace only; other namespaces need the qualified forms.
    qualified = (f"{name}.{namespace}", f"{name}.{namespace}.svc", f"{name}.{namespace}.svc.{cluster_domain}")
    return ((name,) if namespace == own_namespace else ()) + qualified


def _drafts_for(
    service: Mapping[str, Any],
    namespace: str,
    own_namespace: str,
    endpoint_slices: Sequence[Mapping[str, Any]],
    cluster_domain: str,
    notes: list[str],
) -> list[_Draft]:
    name = _meta(service, "name")
    spec = service.get("spec") or {}
    ignored = ignored_ports(service)
    ports = tuple(
        (str(port.get("name") or ""), int(port["port"]))
        for port in spec.get("ports") or []
        if port.get("protocol", "TCP") == "TCP" and int(port["port"]) not in ignored
    )
    slices = [
        s
        for s in endpoint_slices
        if (s.get("metadata") or {}).get("labels", {}).get("kubernetes.io/service-name") == name
        and (_meta(s, "namespace") or namespace) == namespace
    ]
    headless = spec.get("clusterIP") == "None"
    if headless and not ports:
        # A headless service may declare no ports; its EndpointSlices still list what the pods serve.
        ports = tuple(
            dict.fromkeys(
                (str(p.get("name") or ""), int(p["port"]))
                for s in slices
                for p in s.get("ports") or []
                if p.get("protocol", "TCP") == "TCP"
                and p.get("port") is not None
                and int(p["port"]) not in ignored
            )
        )
    if not ports:
        notes.append(f"Service {name}.{namespace} has no TCP port to reach; it is skipped.")
        return []
    hostnames = _service_hostnames(name, namespace, own_namespace, cluster_domain)
    if spec.get("type") == "ExternalName":
        return [_Draft(Kind.SERVICE, name, namespace, str(spec.get("externalName")), ports, hostnames)]
    if not headless:
        return [_Draft(Kind.SERVICE, name, namespace, str(spec.get("clusterIP", "")), ports, hostnames)]
    drafts = [_Draft(Kind.SERVICE, name, namespace, f"{name}.{namespace}.svc", ports, hostnames)]
    seen: set[str] = set()
    for endpoint_slice in slices:
        for endpoint in endpoint_slice.get("endpoints") or []:
            hostname = endpoint.get("hostname")
            addresses = endpoint.get("addresses") or []
            ready = (endpoint.get("conditions") or {}).get("ready", True) is not False
            if not hostname or not addresses or not ready or hostname in seen:
                continue
            seen.add(hostname)
            address_names = tuple(f"{hostname}.{host}" for host in hostnames)
            drafts.append(
                _Draft(Kind.HEADLESS_ADDRESS, name, namespace, addresses[0], ports, address_names, hostname)
            )
    return drafts


def _merge_externals(drafts: list[_Draft]) -> list[_Draft]:
    """One endpoint per external host, with the union of the ports the config asks for."""
    merged: dict[str, _Draft] = {}
    others = []
    for draft in drafts:
        if draft.kind is not Kind.EXTERNAL:
            others.append(draft)
        elif draft.service in merged:
            previous = merged[draft.service]
            ports = tuple(dict.fromkeys(previous.ports + draft.ports))
            merged[draft.service] = dataclasses.replace(previous, ports=ports)
        else:
            merged[draft.service] = draft
    return others + list(merged.values())


# --- allocation -----------------------------------------------------------------------------------------


def _hosts_ip_count() -> int:
    return sum(1 for _ in _hosts_ips())


def _hosts_ips() -> Iterator[str]:
    address = FIRST_HOSTS_IP
    while address <= LAST_HOSTS_IP:
        if int(address) & 0xFF not in (0, 255):
            yield str(address)
        address += 1


class _PortPool:
    """Free workstation ports from 55049 upward, per IP, never handing out one twice."""

    def __init__(self, is_port_free: PortIsFree, taken: set[tuple[str, int]]) -> None:
        self.is_port_free = is_port_free
        self.taken = taken
        self._next: dict[str, int] = {}

    def take(self, ip: str) -> int:
        port = self._next.get(ip, FIRST_FREE_PORT)
        while port <= LAST_PORT:
            if (ip, port) not in self.taken and self.is_port_free(ip, port):
                self.taken.add((ip, port))
                self._next[ip] = port + 1
                return port
            port += 1
        raise errors.EndpointError(
            f"No free port left on {ip} between {FIRST_FREE_PORT} and {LAST_PORT}. Stop other sessions or "
            "programs holding ports in that range, or use hosts mode."
        )


def _redirects(
    target_ports: Sequence[targets.PortMapping], listen_ports: Sequence[int], workstation_ports: Sequence[int]
) -> tuple[RedirectedPort, ...]:
    ordered = list(dict.fromkeys([m.container_port for m in target_ports] + sorted(listen_ports)))
    if len(workstation_ports) > len(ordered):
        listed = ", ".join(str(p) for p in ordered) or "none"
        raise errors.EndpointError(
            f"{len(workstation_ports)} --local-port values given, but the container has {len(ordered)} "
            f"port(s) to redirect ({listed}). Give at most one --local-port per port, in that order."
        )
    for port in workstation_ports:
        if not 1 <= port <= LAST_PORT:
            raise errors.EndpointError(f"--local-port {port} is not a port: use 1-65535.")
    chosen = list(workstation_ports) + ordered[len(workstation_ports) :]
    if len(set(chosen)) != len(chosen):
        pairs = ", ".join(f"{c}->{w}" for c, w in zip(ordered, chosen, strict=True))
        raise errors.EndpointError(
            f"Two redirected ports would go to the same workstation port ({pairs}). Give each its own "
            "--local-port, in that order."
        )
    return tuple(RedirectedPort(c, w) for c, w in zip(ordered, chosen, strict=True))
