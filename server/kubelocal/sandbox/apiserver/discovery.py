"""Discovery documents (legacy JSON) and /version, as pure functions of the served kinds."""

from __future__ import annotations

from typing import Any

from kubelocal.sandbox import kinds

GIT_VERSION = "v1.33.0-kubelocal"
_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


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
        for g, version in kinds.group_versions()
        if g == group
    ]
    return {"name": group, "versions": versions, "preferredVersion": versions[0]}


def groups() -> list[str]:
    """The named API groups served (the core group is not one)."""
    seen: list[str] = []
    for group, _ in kinds.group_versions():
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
    if not served:
        return None
    resources: list[dict[str, Any]] = []
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
