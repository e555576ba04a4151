"""The resource kinds the sandbox serves, with what discovery and the store need to know of each."""

from __future__ import annotations

import dataclasses

from kubelocal.sandbox import errors


@dataclasses.dataclass(frozen=True)
class Kind:
    """One REST resource: `pods` in the core group `v1`, `deployments` in `apps/v1`..."""

    group: str  # "" for the core group
    version: str  # "v1"
    plural: str  # "pods"
    kind: str  # "Pod"
    namespaced: bool
    subresources: frozenset[str] = frozenset()  # {"status", "scale", "log", "portforward"}
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    # Whether the real server keeps metadata.generation for this kind (bumped on spec changes).
    generation: bool = False

    @property
    def api_version(self) -> str:
        """`v1` for the core group, `apps/v1` otherwise."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def resource(self) -> str:
        """`pods`, `deployments.apps`: the name the real server uses in messages."""
        return errors.qualified_resource(self.plural, self.group)


_STATUS = frozenset({"status"})
_SCALABLE = frozenset({"status", "scale"})

NAMESPACES = Kind("", "v1", "namespaces", "Namespace", False, _STATUS, ("ns",))
NODES = Kind("", "v1", "nodes", "Node", False, _STATUS, ("no",))
PODS = Kind(
    "",
    "v1",
    "pods",
    "Pod",
    True,
    frozenset({"status", "log", "portforward"}),
    ("po",),
    ("all",),
    generation=True,
)
SERVICES = Kind("", "v1", "services", "Service", True, _STATUS, ("svc",), ("all",))
ENDPOINTS = Kind("", "v1", "endpoints", "Endpoints", True, frozenset(), ("ep",))
ENDPOINT_SLICES = Kind("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", True)
CONFIG_MAPS = Kind("", "v1", "configmaps", "ConfigMap", True, frozenset(), ("cm",))
SECRETS = Kind("", "v1", "secrets", "Secret", True)
SERVICE_ACCOUNTS = Kind("", "v1", "serviceaccounts", "ServiceAccount", True, frozenset(), ("sa",))
EVENTS = Kind("", "v1", "events", "Event", True, frozenset(), ("ev",))
DEPLOYMENTS = Kind("apps", "v1", "deployments", "Deployment", True, _SCALABLE, ("deploy",), ("all",), True)
REPLICA_SETS = Kind("apps", "v1", "replicasets", "ReplicaSet", True, _SCALABLE, ("rs",), ("all",), True)
STATEFUL_SETS = Kind("apps", "v1", "statefulsets", "StatefulSet", True, _SCALABLE, ("sts",), ("all",), True)
JOBS = Kind("batch", "v1", "jobs", "Job", True, _STATUS, (), ("all",), True)
INGRESSES = Kind("networking.k8s.io", "v1", "ingresses", "Ingress", True, _STATUS, ("ing",), (), True)
ROLES = Kind("rbac.authorization.k8s.io", "v1", "roles", "Role", True)
ROLE_BINDINGS = Kind("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True)

ALL: tuple[Kind, ...] = (
    NAMESPACES,
    NODES,
    PODS,
    SERVICES,
    ENDPOINTS,
    ENDPOINT_SLICES,
    CONFIG_MAPS,
    SECRETS,
    SERVICE_ACCOUNTS,
    EVENTS,
    DEPLOYMENTS,
    REPLICA_SETS,
    STATEFUL_SETS,
    JOBS,
    INGRESSES,
    ROLES,
    ROLE_BINDINGS,
)

_BY_KIND = {(kind.api_version, kind.kind): kind for kind in ALL}
_BY_PLURAL = {(kind.group, kind.version, kind.plural): kind for kind in ALL}


def by_kind(api_version: str, kind: str) -> Kind:
    """The Kind for an object's apiVersion and kind; errors.NotFound when the sandbox does not serve it."""
    try:
        return _BY_KIND[(api_version, kind)]
    except KeyError:
        raise errors.NotFound(
            f'the server could not find the requested resource: no kind "{kind}" is registered for version '
            f'"{api_version}"; the sandbox serves {", ".join(sorted(k.kind for k in ALL))}'
        ) from None


def by_plural(group: str, version: str, plural: str) -> Kind:
    """The Kind served at /api(s)/group/version/plural; errors.NotFound when none is."""
    try:
        return _BY_PLURAL[(group, version, plural)]
    except KeyError:
        raise errors.NotFound("the server could not find the requested resource") from None


def group_versions() -> list[tuple[str, str]]:
    """Every (group, version) served, core group first, in a stable order."""
    seen: list[tuple[str, str]] = []
    for kind in ALL:
        if (kind.group, kind.version) not in seen:
            seen.append((kind.group, kind.version))
    return seen
