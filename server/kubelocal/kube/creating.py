"""Create objects. The body names its kind (`apiVersion`, `kind`) and, if namespaced, its namespace."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubelocal.kube import requesting, resources


async def create(client: requesting.Client, body: Mapping[str, Any]) -> dict[str, Any]:
    """Create `body`; `errors.AlreadyExists` when its name is taken; returns the created object."""
    resource = resources.by_kind(str(body.get("apiVersion", "")), str(body.get("kind", "")))
    namespace = (body.get("metadata") or {}).get("namespace") or client.namespace
    path = resource.path(namespace=namespace if resource.namespaced else None)
    return await client.request("POST", path, body=dict(body))
