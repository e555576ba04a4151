"""The Events kube's controllers record for what they did, so `kubectl describe` tells the same story (pure).

ReplicaSet and Job: SuccessfulCreate / SuccessfulDelete of pods; StatefulSet: the same with its own
wording; Deployment: ScalingReplicaSet when it creates or scales a ReplicaSet. Messages follow kube's.
"""

from __future__ import annotations

import datetime
import secrets

from kubelocal.sandbox.controllers import actions, objects

COMPONENTS = {
    "ReplicaSet": "replicaset-controller",
    "Deployment": "deployment-controller",
    "StatefulSet": "statefulset-controller",
    "Job": "job-controller",
}


def _message(owner_kind: str, owner: dict, action: actions.Action, old_replicas: int | None) -> str | None:
    owner_name = objects.name_of(owner)
    if owner_kind in ("ReplicaSet", "Job") and action.resource == "pods":
        if isinstance(action, actions.Create):
            return f"SuccessfulCreate|Created pod: {objects.name_of(action.body)}"
        if isinstance(action, actions.Delete):
            return f"SuccessfulDelete|Deleted pod: {action.name}"
    if owner_kind == "StatefulSet" and action.resource == "pods":
        if isinstance(action, actions.Create):
            pod_name = objects.name_of(action.body)
            return f"SuccessfulCreate|create Pod {pod_name} in StatefulSet {owner_name} successful"
        if isinstance(action, actions.Delete):
            return f"SuccessfulDelete|delete Pod {action.name} in StatefulSet {owner_name} successful"
    if owner_kind == "Deployment" and action.resource == "replicasets":
        if isinstance(action, actions.Create):
            replicas = int((action.body.get("spec") or {}).get("replicas", 0))
            return (
                f"ScalingReplicaSet|Scaled up replica set {objects.name_of(action.body)} from 0 to {replicas}"
            )
        if isinstance(action, actions.Patch) and "replicas" in (action.patch.get("spec") or {}):
            new = int(action.patch["spec"]["replicas"])
            if old_replicas is None or old_replicas == new:
                return None
            direction = "up" if new > old_replicas else "down"
            return (
                f"ScalingReplicaSet|Scaled {direction} replica set {action.name} from {old_replicas} to {new}"
            )
    return None


def event_for(
    *,
    owner_kind: str,
    owner: dict,
    action: actions.Action,
    now: datetime.datetime,
    old_replicas: int | None = None,
) -> dict | None:
    """The core/v1 Event recording `action` taken for `owner`, or None when kube records none."""
    described = _message(owner_kind, owner, action, old_replicas)
    if described is None:
        return None
    reason, message = described.split("|", 1)
    stamp = objects.timestamp(now)
    component = COMPONENTS[owner_kind]
    api_version = "batch/v1" if owner_kind == "Job" else "apps/v1"
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": f"{objects.name_of(owner)}.{secrets.token_hex(8)}",
            "namespace": objects.namespace_of(owner),
        },
        "involvedObject": {
            "apiVersion": api_version,
            "kind": owner_kind,
            "name": objects.name_of(owner),
            "namespace": objects.namespace_of(owner),
            "uid": objects.uid_of(owner),
            "resourceVersion": objects.meta(owner).get("resourceVersion", ""),
        },
        "reason": reason,
        "message": message,
        "type": "Normal",
        "source": {"component": component},
        "reportingComponent": component,
        "reportingInstance": "",
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
    }
