"""What a pod's status says (pure): ready or not, why not, and whether waiting can help."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Waiting reasons that will not clear without a fix: report at once instead of waiting for the timeout.
FATAL_WAITING_REASONS = frozenset({
    "ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull",
    "CreateContainerConfigError", "CreateContainerError", "CrashLoopBackOff", "RunContainerError",
})  # fmt: skip

_HINTS = {
    "ImagePullBackOff": "the image cannot be pulled: check its name, the registry access and "
    "imagePullSecrets (clusters without access to Docker Hub can use kubelocal's agent/Dockerfile "
    "and --agent-image)",
    "ErrImagePull": "the image cannot be pulled: check its name, the registry access and imagePullSecrets",
    "InvalidImageName": "the image name is invalid",
    "ErrImageNeverPull": "the image is not on the node and imagePullPolicy is Never",
    "CreateContainerConfigError": "a ConfigMap, Secret or key the container needs is missing",
    "CrashLoopBackOff": "the container keeps exiting: read its log with `kubectl logs --previous`",
}


def name(pod: Mapping[str, Any]) -> str:
    return str((pod.get("metadata") or {}).get("name", ""))


def is_terminating(pod: Mapping[str, Any]) -> bool:
    return bool((pod.get("metadata") or {}).get("deletionTimestamp"))


def is_ready(pod: Mapping[str, Any]) -> bool:
    """Running, not being deleted, and the Ready condition True."""
    status = pod.get("status") or {}
    if status.get("phase") != "Running" or is_terminating(pod):
        return False
    return any(
        condition.get("type") == "Ready" and condition.get("status") == "True"
        for condition in status.get("conditions") or []
    )


def not_ready_reason(pod: Mapping[str, Any]) -> str:
    """A short phrase: why the pod is not ready (the kubelet's or the scheduler's reason)."""
    status = pod.get("status") or {}
    if is_terminating(pod):
        return "terminating"
    for container in [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]:
        state = container.get("state") or {}
        if state.get("waiting"):
            waiting = state["waiting"]
            reason = waiting.get("reason", "waiting")
            hint = _HINTS.get(reason)
            detail = f" ({waiting['message']})" if waiting.get("message") else ""
            return f"container {container.get('name')}: {reason}{detail}" + (f" - {hint}" if hint else "")
        if state.get("terminated"):
            terminated = state["terminated"]
            return (
                f"container {container.get('name')} exited with code {terminated.get('exitCode')} "
                f"({terminated.get('reason', 'terminated')}), {container.get('restartCount', 0)} restarts"
            )
        if "running" in state and not container.get("ready"):
            return f"container {container.get('name')} is running but not ready yet"
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            return f"not scheduled: {condition.get('reason', '')} {condition.get('message', '')}".strip()
    return f"phase {status.get('phase', 'Pending')}"


def fatal_reason(pod: Mapping[str, Any]) -> str | None:
    """The reason, when the pod cannot start without someone fixing something; else None."""
    status = pod.get("status") or {}
    if status.get("phase") == "Failed":
        return f"the pod failed: {status.get('reason') or not_ready_reason(pod)}"
    for container in [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]:
        waiting = (container.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in FATAL_WAITING_REASONS:
            return not_ready_reason(pod)
    return None
