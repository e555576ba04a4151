"""Watch objects and wait for a ready pod.

`watch` yields the API's watch events; `wait_for_ready_pod` lists then watches pods matching a
selector until one is ready, calling `progress` with a phrase each time the reason changes, and
fails early with `PodCannotStart` when the pod needs a fix (image pull, crash loop) or with
`WaitTimeout` saying what the pod was doing when time ran out.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Collection
from typing import Any

from kubelocal.kube import errors, fetching, pods, requesting, resources

Progress = Callable[[str], None]


async def watch(
    client: requesting.Client,
    resource: resources.Resource,
    *,
    namespace: str | None = None,
    resource_version: str = "",
    label_selector: str | None = None,
    timeout_seconds: int = 60,
) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """(type, object) for each change after `resource_version`; ends when the server closes the watch.

    Raises `errors.Gone` when the version is too old (re-list and watch again).
    """
    params = {"watch": "1", "timeoutSeconds": str(timeout_seconds), "allowWatchBookmarks": "true"}
    if resource_version:
        params["resourceVersion"] = resource_version
    if label_selector:
        params["labelSelector"] = label_selector
    path = resource.path(namespace=(namespace or client.namespace) if resource.namespaced else None)
    async for event in client.stream_lines(path, params=params):
        kind = event.get("type", "")
        obj = event.get("object") or {}
        if kind == "ERROR":
            code = int(obj.get("code") or 500)
            raise requesting.api_error(code, _encode(obj), method="WATCH", path=path)
        yield kind, obj


async def wait_for_ready_pod(
    client: requesting.Client,
    *,
    label_selector: str,
    namespace: str | None = None,
    timeout: float = 120.0,
    progress: Progress | None = None,
    exclude: Collection[str] = (),
) -> dict[str, Any]:
    """The first ready pod matching `label_selector` (not named in `exclude`, not terminating)."""
    deadline = time.monotonic() + timeout
    last_reason = ""
    latest: dict[str, dict[str, Any]] = {}

    def consider(pod: dict[str, Any]) -> dict[str, Any] | None:
        nonlocal last_reason
        if pods.name(pod) in exclude or pods.is_terminating(pod):
            return None
        if pods.is_ready(pod):
            return pod
        fatal = pods.fatal_reason(pod)
        if fatal:
            raise errors.PodCannotStart(
                f"Pod {pods.name(pod)!r} cannot start: {fatal}. Fix that and connect again "
                "(kubelocal restores the workload meanwhile)."
            )
        reason = f"pod {pods.name(pod)}: {pods.not_ready_reason(pod)}"
        if reason != last_reason and progress is not None:
            progress(reason)
        last_reason = reason
        return None

    async def run() -> dict[str, Any]:
        while True:
            items, version = await fetching.list_with_version(
                client, resources.PODS, namespace=namespace, label_selector=label_selector
            )
            latest.clear()
            for item in items:
                latest[pods.name(item)] = item
                if (found := consider(item)) is not None:
                    return found
            try:
                remaining = max(1, int(deadline - time.monotonic()) + 1)
                async for kind, pod in watch(
                    client, resources.PODS, namespace=namespace, resource_version=version,
                    label_selector=label_selector, timeout_seconds=remaining,
                ):  # fmt: skip
                    if kind == "DELETED":
                        latest.pop(pods.name(pod), None)
                        continue
                    if kind not in ("ADDED", "MODIFIED"):
                        continue
                    latest[pods.name(pod)] = pod
                    if (found := consider(pod)) is not None:
                        return found
            except errors.Gone:
                continue

    try:
        return await asyncio.wait_for(run(), timeout=max(0.0, deadline - time.monotonic()))
    except TimeoutError:
        doing = "; ".join(
            f"{name}: {pods.not_ready_reason(pod)}" for name, pod in latest.items() if name not in exclude
        )
        raise errors.WaitTimeout(
            f"No pod matching {label_selector} became ready within {timeout:.0f} s "
            f"({doing or 'no pod was created: check the workload events with `kubectl describe`'}). "
            "Check the pod with `kubectl describe pod`, or raise the timeout."
        ) from None


def _encode(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj).encode()
