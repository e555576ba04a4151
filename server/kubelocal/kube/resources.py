"""The kinds kubelocal reads and writes, and the REST paths that reach them (pure).

`Resource` mirrors what discovery would tell; the set is fixed because kubelocal only touches
core and apps kinds plus Jobs and RBAC, all of which exist on every supported Kubernetes.
"""

from __future__ import annotations

import dataclasses
import urllib.parse


@dataclasses.dataclass(frozen=True)
class Resource:
    group: str  # "" for the core group
    version: str
    plural: str
    kind: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(
        self, *, namespace: str | None = None, name: str | None = None, subresource: str | None = None
    ) -> str:
        """`/api/v1/namespaces/NS/pods/NAME/SUB`; a namespaced kind without namespace lists all of them."""
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        parts = [base]
        if self.namespaced and namespace:
            parts.append(f"namespaces/{_segment(namespace)}")
        parts.append(self.plural)
        if name is not None:
            parts.append(_segment(name))
            if subresource:
                parts.append(subresource)
        return "/".join(parts)


def _segment(value: str) -> str:
    if not value or "/" in value:
        raise ValueError(f"invalid name {value!r} in an API path")
    return urllib.parse.quote(value, safe="")


NAMESPACES = Resource("", "v1", "namespaces", "Namespace", namespaced=False)
PODS = Resource("", "v1", "pods", "Pod")
SERVICES = Resource("", "v1", "services", "Service")
ENDPOINTS = Resource("", "v1", "endpoints", "Endpoints")
CONFIG_MAPS = Resource("", "v1", "configmaps", "ConfigMap")
SECRETS = Resource("", "v1", "secrets", "Secret")
SERVICE_ACCOUNTS = Resource("", "v1", "serviceaccounts", "ServiceAccount")
EVENTS = Resource("", "v1", "events", "Event")
DEPLOYMENTS = Resource("apps", "v1", "deployments", "Deployment")
REPLICA_SETS = Resource("apps", "v1", "replicasets", "ReplicaSet")
STATEFUL_SETS = Resource("apps", "v1", "statefulsets", "StatefulSet")
JOBS = Resource("batch", "v1", "jobs", "Job")
ROLES = Resource("rbac.authorization.k8s.io", "v1", "roles", "Role")
ROLE_BINDINGS = Resource("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding")

ALL = (
    NAMESPACES, PODS, SERVICES, ENDPOINTS, CONFIG_MAPS, SECRETS, SERVICE_ACCOUNTS, EVENTS,
    DEPLOYMENTS, REPLICA_SETS, STATEFUL_SETS, JOBS, ROLES, ROLE_BINDINGS,
)  # fmt: skip


def by_kind(api_version: str, kind: str) -> Resource:
    """The resource of `kind` in `api_version` ("apps/v1", "Deployment"); unknown -> KeyError."""
    for resource in ALL:
        if resource.api_version == api_version and resource.kind == kind:
            return resource
    raise KeyError(f"kubelocal does not handle {kind} in {api_version}")
