"""Discovery documents (legacy JSON) and /version, as pure functions of the served kinds."""

from __future__ import annotations

from typing import Any

from kubelocal.sandbox import kinds

GIT_VERSION = "v1.33.0-kubelocal"
_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

# Create-only resources that answer questions instead of storing objects: (group, version, plural, kind).
REVIEWS = (
    ("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview"),
    ("authorization.k8s.io", "v1", "selfsubjectrulesreviews", "SelfSubjectRulesReview"),
    ("authentication.k8s.io", "v1", "selfsubjectreviews", "SelfSubjectReview"),
)


def _group_versions() -> list[tuple[str, str]]:
    served = kinds.group_versions()
    for group, version, _, _ in REVIEWS:
        if (group, version) not in served:
            served.append((group, version))
    return served


def version() -> dict[str, Any]:
    return {
        "major": "1",
        "minor": "33",
        "gitVersion": GIT_VERSION,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.24",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def api_versions(server_address: str) -> dict[str, Any]:
    """GET /api."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def _group(group: str) -> dict[str, Any]:
    versions = [
        {"groupVersion": f"{group}/{version}", "version": version}
        for g, version in _group_versions()
        if g == group
    ]
    return {"name": group, "versions": versions, "preferredVersion": versions[0]}


def groups() -> list[str]:
    """The named API groups served (the core group is not one)."""
    seen: list[str] = []
    for group, _ in _group_versions():
        if group and group not in seen:
            seen.append(group)
    return seen


def api_group_list() -> dict[str, Any]:
    """GET /apis."""
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [_group(g) for g in groups()]}


def api_group(group: str) -> dict[str, Any] | None:
    """GET /apis/<group>; None when the group is not served."""
    if group not in groups():
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(group)}


def resource_list(group: str, version: str) -> dict[str, Any] | None:
    """GET /api/v1 or /apis/<group>/<version>; None when not served."""
    served = [kind for kind in kinds.ALL if (kind.group, kind.version) == (group, version)]
    reviews = [
        {"name": plural, "singularName": kind.lower(), "namespaced": False, "kind": kind, "verbs": ["create"]}
        for g, v, plural, kind in REVIEWS
        if (g, v) == (group, version)
    ]
    if not served and not reviews:
        return None
    resources: list[dict[str, Any]] = list(reviews)
    for kind in served:
        verbs = [v for v in _VERBS if not (kind == kinds.NAMESPACES and v == "deletecollection")]
        entry: dict[str, Any] = {
            "name": kind.plural,
            "singularName": kind.singular,
            "namespaced": kind.namespaced,
            "kind": kind.kind,
            "verbs": verbs,
        }
        if kind.short_names:
            entry["shortNames"] = list(kind.short_names)
        if kind.categories:
            entry["categories"] = list(kind.categories)
        resources.append(entry)
        for sub in sorted(kind.subresources):
            resources.append(_subresource(kind, sub))
    group_version = f"{group}/{version}" if group else version
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }


def _subresource(kind: kinds.Kind, sub: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": f"{kind.plural}/{sub}",
        "singularName": "",
        "namespaced": kind.namespaced,
    }
    if sub == "status":
        entry.update(kind=kind.kind, verbs=["get", "patch", "update"])
    elif sub == "scale":
        entry.update(group="autoscaling", version="v1", kind="Scale", verbs=["get", "patch", "update"])
    elif sub == "log":
        entry.update(kind="Pod", verbs=["get"])
    elif sub == "portforward":
        entry.update(kind="PodPortForwardOptions", verbs=["create", "get"])
    return entry


AGGREGATED_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


def wants_aggregated(accept: str) -> bool:
    """Whether an Accept header asks for aggregated discovery v2 (kubectl 1.30+ asks first)."""
    for option in accept.replace(" ", "").split(","):
        parameters = set(option.split(";")[1:])
        if {"g=apidiscovery.k8s.io", "v=v2", "as=APIGroupDiscoveryList"} <= parameters:
            return True
    return False


def _aggregated_version(group: str, version: str) -> dict[str, Any]:
    listing = resource_list(group, version) or {"resources": []}
    resources: dict[str, dict[str, Any]] = {}
    for entry in listing["resources"]:
        name, _, sub = entry["name"].partition("/")
        response_kind = {
            "group": entry.get("group", group),
            "version": entry.get("version", version),
            "kind": entry["kind"],
        }
        if not sub:
            resource: dict[str, Any] = {
                "resource": name,
                "responseKind": response_kind,
                "scope": "Namespaced" if entry["namespaced"] else "Cluster",
                "singularResource": entry["singularName"],
                "verbs": entry["verbs"],
            }
            for field in ("shortNames", "categories"):
                if field in entry:
                    resource[field] = entry[field]
            resources[name] = resource
        else:
            resources[name].setdefault("subresources", []).append(
                {"subresource": sub, "responseKind": response_kind, "verbs": entry["verbs"]}
            )
    return {"version": version, "resources": list(resources.values()), "freshness": "Current"}


def aggregated(*, core: bool) -> dict[str, Any]:
    """GET /api (core=True) or /apis as an apidiscovery.k8s.io/v2 APIGroupDiscoveryList."""
    if core:
        items = [{"metadata": {"name": ""}, "versions": [_aggregated_version("", "v1")]}]
    else:
        items = [
            {
                "metadata": {"name": group},
                "versions": [_aggregated_version(g, v) for g, v in _group_versions() if g == group],
            }
            for group in groups()
        ]
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    }
