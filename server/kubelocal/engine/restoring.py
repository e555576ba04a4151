"""Whether a restored workload is really back (pure): what `disconnect` waits for.

Putting the original spec back is one API call, but the workload is only usable again (and free
for the next `connect`) once its controller has rolled the spec out: the agent pod gone or going,
and the original pods up. Until then a new connect would find the old agent pod and refuse the
service as "already redirected". `pending` reads the workload and the session's pods as listed
and says what is still in progress, in words for the progress line; None when nothing is.

The rollout rules are `kubectl rollout status`'s:

- Deployment: the controller has observed the restored generation, every replica is updated,
  no old replica is left (status.replicas counts them) and every updated replica is available;
- StatefulSet: observed, every replica ready and, for RollingUpdate, the update revision current;
- ReplicaSet: observed and every replica ready (the pods were replaced by the restore);
- bare Pod: the recreated pod (no session label) ready.

Terminating pods do not count: they are on their way out and `targets.resolve` ignores them too.
A workload deleted meanwhile has nothing left to roll out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kubelocal.engine import names


def pending(
    *, kind: str, workload: Mapping[str, Any] | None, session_pods: Sequence[Mapping[str, Any]]
) -> str | None:
    """What keeps the restore of `workload` (of `kind`) from being finished, or None when done.

    `session_pods` are the pods labelled with the session (the agent pods, live or terminating);
    for a bare Pod, `workload` is the pod of the workload's name as read now (None if absent).
    """
    live_agents = sorted(_name(pod) for pod in session_pods if not _is_terminating(pod))
    if live_agents:
        return f"agent pod {', '.join(live_agents)} still running"
    if workload is None:
        return "the restored pod does not exist yet" if kind == "Pod" else None
    if kind == "Pod":
        if names.SESSION_LABEL in (_labels(workload)):
            return f"pod {_name(workload)} is still the agent"
        return None if _pod_ready(workload) else f"pod {_name(workload)} not ready yet"
    metadata = workload.get("metadata") or {}
    spec = workload.get("spec") or {}
    status = workload.get("status") or {}
    wanted = int(spec.get("replicas", 1))
    if int(status.get("observedGeneration") or 0) < int(metadata.get("generation") or 0):
        return f"{kind} {_name(workload)}: the controller has not seen the restored spec yet"
    if kind == "Deployment":
        updated = int(status.get("updatedReplicas") or 0)
        if updated < wanted:
            return f"{kind} {_name(workload)}: {updated} of {wanted} replicas restored"
        old = int(status.get("replicas") or 0) - updated
        if old > 0:
            return f"{kind} {_name(workload)}: {old} old replica(s) still terminating"
        available = int(status.get("availableReplicas") or 0)
        if available < updated:
            return f"{kind} {_name(workload)}: {available} of {updated} restored replicas available"
        return None
    ready = int(status.get("readyReplicas") or 0)
    if ready < wanted:
        return f"{kind} {_name(workload)}: {ready} of {wanted} replicas ready"
    if kind == "StatefulSet":
        strategy = (spec.get("updateStrategy") or {}).get("type", "RollingUpdate")
        if strategy == "RollingUpdate" and status.get("updateRevision") != status.get("currentRevision"):
            updated = int(status.get("updatedReplicas") or 0)
            return f"{kind} {_name(workload)}: {updated} of {wanted} replicas restored"
    return None


def _name(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def _labels(obj: Mapping[str, Any]) -> Mapping[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}


def _is_terminating(pod: Mapping[str, Any]) -> bool:
    return bool((pod.get("metadata") or {}).get("deletionTimestamp")) or (pod.get("status") or {}).get(
        "phase"
    ) in ("Succeeded", "Failed")


def _pod_ready(pod: Mapping[str, Any]) -> bool:
    status = pod.get("status") or {}
    return status.get("phase") == "Running" and any(
        condition.get("type") == "Ready" and condition.get("status") == "True"
        for condition in status.get("conditions") or []
    )
