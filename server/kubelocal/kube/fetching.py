"""Read objects: one by name, lists by selector, and the namespace check.

Answers are the API's JSON as dicts. List items carry no `kind`/`apiVersion` (as the API returns
them); `list_objects` adds both so ledgers and plans can name them.
"""

from __future__ import annotations

from typing import Any

from kubelocal.kube import errors, requesting, resources


async def read(
    client: requesting.Client, resource: resources.Resource, *, name: str, namespace: str | None = None
) -> dict[str, Any]:
    """The object; `errors.NotFound` (naming kind, namespace and name) when it does not exist."""
    namespace = _namespace(client, resource, namespace)
    try:
        return await client.request("GET", resource.path(namespace=namespace, name=name))
    except errors.NotFound as error:
        where = f" in namespace {namespace!r}" if namespace else ""
        raise errors.NotFound(
            f"{resource.kind} {name!r} was not found{where}. Check the name and the namespace (--namespace).",
            code=404, reason="NotFound", status=error.status,
        ) from error  # fmt: skip


async def read_optional(
    client: requesting.Client, resource: resources.Resource, *, name: str, namespace: str | None = None
) -> dict[str, Any] | None:
    """The object, or None when it does not exist."""
    try:
        return await read(client, resource, name=name, namespace=namespace)
    except errors.NotFound:
        return None


async def list_objects(
    client: requesting.Client,
    resource: resources.Resource,
    *,
    namespace: str | None = None,
    label_selector: str | None = None,
    field_selector: str | None = None,
) -> list[dict[str, Any]]:
    """The items (with kind and apiVersion filled in); an empty list when none match."""
    items, _ = await list_with_version(
        client, resource, namespace=namespace, label_selector=label_selector, field_selector=field_selector
    )
    return items


async def list_with_version(
    client: requesting.Client,
    resource: resources.Resource,
    *,
    namespace: str | None = None,
    label_selector: str | None = None,
    field_selector: str | None = None,
) -> tuple[list[dict[str, Any]], str]:
    """(items, the list's resourceVersion): watch from that version to miss nothing."""
    namespace = _namespace(client, resource, namespace)
    params = {}
    if label_selector:
        params["labelSelector"] = label_selector
    if field_selector:
        params["fieldSelector"] = field_selector
    answer = await client.request("GET", resource.path(namespace=namespace), params=params)
    items = answer.get("items") or []
    for item in items:
        item.setdefault("apiVersion", resource.api_version)
        item.setdefault("kind", resource.kind)
    return items, str((answer.get("metadata") or {}).get("resourceVersion") or "")


async def ensure_namespace(client: requesting.Client, namespace: str | None = None) -> None:
    """Raise `NamespaceNotFound` when the namespace does not exist.

    Listing in a missing namespace answers an empty list, which would read as "no such service";
    this check makes the message right. Users without `get namespaces` (common) skip it silently.
    """
    namespace = namespace or client.namespace
    try:
        await client.request("GET", resources.NAMESPACES.path(name=namespace))
    except errors.Forbidden:
        return
    except errors.NotFound as error:
        raise errors.NamespaceNotFound(
            f"Namespace {namespace!r} does not exist in context {client.cluster.context!r}. "
            "Check the name (`kubectl get namespaces`) or pass --namespace.",
            code=404, reason="NotFound", status=error.status,
        ) from error  # fmt: skip


def _namespace(client: requesting.Client, resource: resources.Resource, namespace: str | None) -> str | None:
    if not resource.namespaced:
        return None
    return namespace or client.namespace
