"""Patch objects: RFC 6902 JSON patches (with `test` guards) and merge patches."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kubelocal.kube import requesting, resources


async def json_patch(
    client: requesting.Client,
    resource: resources.Resource,
    *,
    name: str,
    operations: Sequence[Mapping[str, Any]],
    namespace: str | None = None,
) -> dict[str, Any]:
    """Apply `operations` atomically; a failed `test` operation raises `errors.BadRequest`,
    `Invalid` or `Conflict` (API servers differ: 400, 422 or 409) and changes nothing."""
    return await client.request(
        "PATCH",
        resource.path(namespace=namespace or client.namespace, name=name),
        body=[dict(operation) for operation in operations],
        content_type=requesting.JSON_PATCH,
    )


async def merge_patch(
    client: requesting.Client,
    resource: resources.Resource,
    *,
    name: str,
    patch: Mapping[str, Any],
    namespace: str | None = None,
) -> dict[str, Any]:
    """Apply an RFC 7386 merge patch (`None` values remove keys)."""
    return await client.request(
        "PATCH",
        resource.path(namespace=namespace or client.namespace, name=name),
        body=dict(patch),
        content_type=requesting.MERGE_PATCH,
    )
