"""Delete objects, tolerating "already gone": every undo must be safe to run twice."""

from __future__ import annotations

import asyncio
import time

from kubelocal.kube import errors, fetching, requesting, resources


async def delete(
    client: requesting.Client,
    resource: resources.Resource,
    *,
    name: str,
    namespace: str | None = None,
    propagation: str = "Background",
    grace_period_seconds: int | None = None,
) -> bool:
    """Delete the object; True if it existed, False if it was already gone."""
    body: dict[str, object] = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation}
    if grace_period_seconds is not None:
        body["gracePeriodSeconds"] = grace_period_seconds
    path = resource.path(
        namespace=(namespace or client.namespace) if resource.namespaced else None, name=name
    )
    try:
        await client.request("DELETE", path, body=body)
    except errors.NotFound:
        return False
    return True


async def delete_matching(
    client: requesting.Client,
    resource: resources.Resource,
    *,
    label_selector: str,
    namespace: str | None = None,
    propagation: str = "Background",
) -> list[str]:
    """Delete every object matching `label_selector` one by one; the names deleted."""
    deleted = []
    for item in await fetching.list_objects(
        client, resource, namespace=namespace, label_selector=label_selector
    ):
        name = item["metadata"]["name"]
        if await delete(client, resource, name=name, namespace=namespace, propagation=propagation):
            deleted.append(name)
    return deleted


async def wait_gone(
    client: requesting.Client,
    resource: resources.Resource,
    *,
    name: str,
    namespace: str | None = None,
    timeout: float = 60.0,
    interval: float = 0.2,
) -> None:
    """Wait until the object no longer exists (finalizers and graceful deletion done); `WaitTimeout`."""
    deadline = time.monotonic() + timeout
    while await fetching.read_optional(client, resource, name=name, namespace=namespace) is not None:
        if time.monotonic() > deadline:
            raise errors.WaitTimeout(
                f"{resource.kind} {name!r} was still there {timeout:.0f} s after being deleted "
                "(a finalizer may hold it). Check it with `kubectl describe` and remove it by hand."
            )
        await asyncio.sleep(interval)
