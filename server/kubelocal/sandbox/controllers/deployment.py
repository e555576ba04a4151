"""Deployment: roll the pod template out through ReplicaSets, as kube's deployment controller does (pure).

One step per call, like kube: the next step happens when a ReplicaSet's status changes. A template
change makes a ReplicaSet named `<deployment>-<pod-template-hash>` (labelled, selected and templated
with `pod-template-hash`); RollingUpdate scales it up within maxSurge and the old ones down within
maxUnavailable; Recreate scales the old ones to zero and waits for their pods to be gone first.
Revisions live in the `deployment.kubernetes.io/revision` annotation of the ReplicaSets and the
Deployment. Status conditions use the reasons `kubectl rollout status` reads: Progressing with
NewReplicaSetCreated / FoundNewReplicaSet / ReplicaSetUpdated / NewReplicaSetAvailable /
ProgressDeadlineExceeded, Available with MinimumReplicasAvailable / MinimumReplicasUnavailable.
"""

from __future__ import annotations

import copy
import datetime
import math

from kubelocal.sandbox.controllers import actions, objects

RESOURCE = "deployments"
HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"


def template_hash(template: dict, collision_count: int = 0) -> str:
    """The pod-template-hash of a template: stable, ignores an existing pod-template-hash label."""
    clean = copy.deepcopy(template)
    (clean.get("metadata") or {}).get("labels", {}).pop(HASH_LABEL, None)
    return objects.safe_hash([clean, collision_count])


def _without_hash(template: dict) -> dict:
    clean = copy.deepcopy(template or {})
    labels = (clean.get("metadata") or {}).get("labels")
    if labels is not None:
        labels.pop(HASH_LABEL, None)
    return clean


def _scaled(value: object, total: int, *, round_up: bool) -> int:
    """An IntOrString (3 or "25%") against `total` (kube's GetScaledValueFromIntOrPercent)."""
    if value is None:
        value = "25%"
    if isinstance(value, str) and value.endswith("%"):
        exact = int(value[:-1]) * total / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return int(value)


def surge_and_unavailable(deploy: dict) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) as absolute pod counts; never both zero."""
    spec = deploy.get("spec") or {}
    replicas = int(spec.get("replicas", 1))
    strategy = spec.get("strategy") or {}
    if strategy.get("type") == "Recreate":
        return 0, replicas
    rolling = strategy.get("rollingUpdate") or {}
    surge = _scaled(rolling.get("maxSurge"), replicas, round_up=True)
    unavailable = _scaled(rolling.get("maxUnavailable"), replicas, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, min(unavailable, replicas)


def _replicas(rs: dict) -> int:
    return int((rs.get("spec") or {}).get("replicas", 0))


def _status(rs: dict, field: str) -> int:
    return int((rs.get("status") or {}).get(field) or 0)


def _revision(rs: dict) -> int:
    try:
        return int((objects.meta(rs).get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def _oldest_first(replica_sets: list[dict]) -> list[dict]:
    return sorted(
        replica_sets, key=lambda rs: (objects.meta(rs).get("creationTimestamp") or "", objects.name_of(rs))
    )


def find_new_replica_set(deploy: dict, replica_sets: list[dict]) -> dict | None:
    """The owned ReplicaSet that runs the deployment's current template (oldest if several)."""
    template = (deploy.get("spec") or {}).get("template") or {}
    wanted_hash = template_hash(template, int((deploy.get("status") or {}).get("collisionCount") or 0))
    wanted = _without_hash(template)
    for rs in _oldest_first(replica_sets):
        rs_template = (rs.get("spec") or {}).get("template") or {}
        if objects.labels_of(rs).get(HASH_LABEL) == wanted_hash or _without_hash(rs_template) == wanted:
            return rs
    return None


def new_replica_set(deploy: dict, *, replicas: int, revision: int) -> dict:
    spec = deploy.get("spec") or {}
    template = copy.deepcopy(spec.get("template") or {})
    hash_value = template_hash(template, int((deploy.get("status") or {}).get("collisionCount") or 0))
    template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = hash_value
    selector = copy.deepcopy(spec.get("selector") or {})
    selector.setdefault("matchLabels", {})[HASH_LABEL] = hash_value
    surge, _ = surge_and_unavailable(deploy)
    desired = int(spec.get("replicas", 1))
    rs_spec: dict = {"replicas": replicas, "selector": selector, "template": template}
    if spec.get("minReadySeconds"):
        rs_spec["minReadySeconds"] = spec["minReadySeconds"]
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{objects.name_of(deploy)}-{hash_value}",
            "namespace": objects.namespace_of(deploy),
            "labels": dict(template["metadata"]["labels"]),
            "annotations": {
                REVISION: str(revision),
                DESIRED_REPLICAS: str(desired),
                MAX_REPLICAS: str(desired + surge),
            },
            "ownerReferences": [objects.owner_reference(deploy, api_version="apps/v1", kind="Deployment")],
        },
        "spec": rs_spec,
    }


def _scale(deploy: dict, rs: dict, replicas: int) -> actions.Patch:
    desired = int((deploy.get("spec") or {}).get("replicas", 1))
    surge, _ = surge_and_unavailable(deploy)
    return actions.Patch(
        "replicasets",
        objects.namespace_of(rs),
        objects.name_of(rs),
        {
            "metadata": {"annotations": {DESIRED_REPLICAS: str(desired), MAX_REPLICAS: str(desired + surge)}},
            "spec": {"replicas": replicas},
        },
    )


def _pods_of(rs: dict, pods: list[dict]) -> list[dict]:
    return [pod for pod in pods if objects.is_controlled_by(pod, rs)]


def _rolling_step(deploy: dict, new_rs: dict, old: list[dict]) -> dict[str, int]:
    """New spec.replicas per ReplicaSet name for one RollingUpdate step (only those that change)."""
    desired = int((deploy.get("spec") or {}).get("replicas", 1))
    surge, max_unavailable = surge_and_unavailable(deploy)
    everything = [new_rs, *old]
    # Scale the new ReplicaSet up within the surge (or down to the desired count).
    new_count = _replicas(new_rs)
    if new_count > desired:
        return {objects.name_of(new_rs): desired}
    if new_count < desired:
        current = sum(_replicas(rs) for rs in everything)
        room = max(0, desired + surge - current)
        grow = min(room, desired - new_count)
        if grow > 0:
            return {objects.name_of(new_rs): new_count + grow}
    # Then the old ones down, keeping at least desired - maxUnavailable available.
    if sum(_replicas(rs) for rs in old) == 0:
        return {}
    all_pods = sum(_replicas(rs) for rs in everything)
    min_available = desired - max_unavailable
    new_unavailable = _replicas(new_rs) - _status(new_rs, "availableReplicas")
    max_scaled_down = all_pods - min_available - new_unavailable
    if max_scaled_down <= 0:
        return {}
    changes: dict[str, int] = {}
    cleaned = 0
    counts = {objects.name_of(rs): _replicas(rs) for rs in old}
    for rs in _oldest_first(old):
        name = objects.name_of(rs)
        if cleaned >= max_scaled_down:
            break
        unhealthy = counts[name] - _status(rs, "availableReplicas")
        if counts[name] == 0 or unhealthy <= 0:
            continue
        down = min(max_scaled_down - cleaned, unhealthy)
        counts[name] -= down
        changes[name] = counts[name]
        cleaned += down
    available = sum(_status(rs, "availableReplicas") for rs in everything)
    if available > min_available:
        to_scale_down = available - min_available
        done = 0
        for rs in _oldest_first(old):
            name = objects.name_of(rs)
            if done >= to_scale_down:
                break
            if counts[name] == 0:
                continue
            down = min(counts[name], to_scale_down - done)
            counts[name] -= down
            changes[name] = counts[name]
            done += down
    return changes


def _condition(condition_type: str, status: str, reason: str, message: str, now: str) -> dict:
    return {
        "type": condition_type,
        "status": status,
        "lastUpdateTime": now,
        "lastTransitionTime": now,
        "reason": reason,
        "message": message,
    }


def reconcile(
    deploy: dict,
    replica_sets: list[dict],
    pods: list[dict],
    *,
    now: datetime.datetime,
) -> actions.Decision:
    """One sync of `deploy` given the ReplicaSets it controls and their pods."""
    decision = actions.Decision()
    if objects.is_deleting(deploy):
        return decision
    spec = deploy.get("spec") or {}
    namespace = objects.namespace_of(deploy)
    name = objects.name_of(deploy)
    desired = int(spec.get("replicas", 1))
    stamp = objects.timestamp(now)
    recreate = (spec.get("strategy") or {}).get("type") == "Recreate"
    paused = bool(spec.get("paused"))
    owned = [
        rs for rs in replica_sets if objects.is_controlled_by(rs, deploy) and not objects.is_deleting(rs)
    ]
    new_rs = find_new_replica_set(deploy, owned)
    old = [rs for rs in owned if rs is not new_rs]
    max_old_revision = max((_revision(rs) for rs in old), default=0)
    progressing: dict | None = None
    # What each ReplicaSet's spec.replicas will be once this step's patches land.
    planned: dict[str, int] = {objects.name_of(rs): _replicas(rs) for rs in owned}

    if new_rs is not None and _revision(new_rs) <= max_old_revision:
        # A rollback to an older template: that ReplicaSet becomes the newest revision again.
        decision.actions.append(
            actions.Patch(
                "replicasets",
                namespace,
                objects.name_of(new_rs),
                {"metadata": {"annotations": {REVISION: str(max_old_revision + 1)}}},
            )
        )
    revision = (
        max_old_revision + 1 if new_rs is None or _revision(new_rs) <= max_old_revision else _revision(new_rs)
    )

    if not paused:
        if recreate:
            old_active = [rs for rs in old if _replicas(rs) > 0]
            old_pods_running = any(
                objects.pod_phase(pod) not in ("Succeeded", "Failed")
                for rs in old
                for pod in _pods_of(rs, pods)
            )
            for rs in old_active:
                decision.actions.append(_scale(deploy, rs, 0))
                planned[objects.name_of(rs)] = 0
            if not old_active and not old_pods_running:
                if new_rs is None:
                    body = new_replica_set(deploy, replicas=desired, revision=revision)
                    decision.actions.append(actions.Create("replicasets", namespace, body))
                    planned[body["metadata"]["name"]] = desired
                    progressing = _condition(
                        "Progressing",
                        "True",
                        "NewReplicaSetCreated",
                        f'Created new replica set "{body["metadata"]["name"]}"',
                        stamp,
                    )
                elif _replicas(new_rs) != desired:
                    decision.actions.append(_scale(deploy, new_rs, desired))
                    planned[objects.name_of(new_rs)] = desired
        else:
            if new_rs is None:
                surge, _ = surge_and_unavailable(deploy)
                current = sum(_replicas(rs) for rs in old)
                start = min(max(0, desired + surge - current), desired)
                body = new_replica_set(deploy, replicas=start, revision=revision)
                decision.actions.append(actions.Create("replicasets", namespace, body))
                planned[body["metadata"]["name"]] = start
                progressing = _condition(
                    "Progressing",
                    "True",
                    "NewReplicaSetCreated",
                    f'Created new replica set "{body["metadata"]["name"]}"',
                    stamp,
                )
            else:
                for rs_name, replicas in _rolling_step(deploy, new_rs, old).items():
                    rs = next(rs for rs in owned if objects.name_of(rs) == rs_name)
                    decision.actions.append(_scale(deploy, rs, replicas))
                    planned[rs_name] = replicas

    annotations = objects.meta(deploy).get("annotations") or {}
    if annotations.get(REVISION) != str(revision) and (new_rs is not None or progressing is not None):
        decision.actions.append(
            actions.Patch(RESOURCE, namespace, name, {"metadata": {"annotations": {REVISION: str(revision)}}})
        )

    new_name = (
        objects.name_of(new_rs)
        if new_rs is not None
        else f"{name}-{template_hash(spec.get('template') or {})}"
    )
    status = _status_for(
        deploy, owned, new_rs, planned=planned, now=now, created=progressing, new_name=new_name
    )
    if status != (deploy.get("status") or {}):
        decision.actions.append(actions.SetStatus(RESOURCE, namespace, name, status))

    # History: drop scaled-down old ReplicaSets beyond revisionHistoryLimit once the rollout is done.
    limit = int(spec.get("revisionHistoryLimit", 10))
    dead = [rs for rs in old if planned[objects.name_of(rs)] == 0 and _status(rs, "replicas") == 0]
    if new_rs is not None and len(dead) > limit and not decision.actions:
        for rs in sorted(dead, key=_revision)[: len(dead) - limit]:
            decision.actions.append(actions.delete_of("replicasets", rs))

    deadline = spec.get("progressDeadlineSeconds", 600)
    current = objects.get_condition(status.get("conditions"), "Progressing")
    if deadline is not None and current is not None and current.get("reason") != "NewReplicaSetAvailable":
        started = objects.parse_time(current.get("lastUpdateTime"))
        if started is not None and current.get("status") == "True":
            decision.requeue_after = max(0.1, int(deadline) - (now - started).total_seconds() + 0.5)
    return decision


def _status_for(
    deploy: dict,
    owned: list[dict],
    new_rs: dict | None,
    *,
    planned: dict[str, int],
    now: datetime.datetime,
    created: dict | None,
    new_name: str,
) -> dict:
    spec = deploy.get("spec") or {}
    desired = int(spec.get("replicas", 1))
    previous = deploy.get("status") or {}
    stamp = objects.timestamp(now)
    _, max_unavailable = surge_and_unavailable(deploy)
    available = sum(_status(rs, "availableReplicas") for rs in owned)
    total_spec = sum(planned.values())
    status: dict = {
        "observedGeneration": objects.meta(deploy).get("generation", 1),
        "replicas": sum(_status(rs, "replicas") for rs in owned),
        "updatedReplicas": _status(new_rs, "replicas") if new_rs is not None else 0,
        "readyReplicas": sum(_status(rs, "readyReplicas") for rs in owned),
        "availableReplicas": available,
        "unavailableReplicas": max(0, total_spec - available),
    }
    if "collisionCount" in previous:
        status["collisionCount"] = previous["collisionCount"]
    # Kube omits zero counters from the stored status (omitempty); kubectl treats absent as zero.
    status = {key: value for key, value in status.items() if value or key == "observedGeneration"}
    conditions = list(previous.get("conditions") or [])
    if available >= desired - max_unavailable:
        available_condition = _condition(
            "Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.", stamp
        )
    else:
        available_condition = _condition(
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
            stamp,
        )
    conditions = objects.set_condition(conditions, available_condition, now=stamp)
    conditions = objects.set_condition(
        conditions,
        _progressing(deploy, status, previous, conditions, created=created, new_name=new_name, now=now),
        now=stamp,
    )
    status["conditions"] = conditions
    return status


def _progressing(
    deploy: dict,
    status: dict,
    previous: dict,
    conditions: list[dict],
    *,
    created: dict | None,
    new_name: str,
    now: datetime.datetime,
) -> dict:
    spec = deploy.get("spec") or {}
    desired = int(spec.get("replicas", 1))
    stamp = objects.timestamp(now)
    current = objects.get_condition(conditions, "Progressing")
    if created is not None:
        return created
    if spec.get("paused"):
        return _condition("Progressing", "Unknown", "DeploymentPaused", "Deployment is paused", stamp)
    if (
        current is not None
        and current.get("reason") == "NewReplicaSetAvailable"
        and status.get("replicas", 0) == status.get("updatedReplicas", 0)
    ):
        # A finished rollout stays finished through scaling (kube's isCompleteDeployment).
        return current
    complete = (
        status.get("updatedReplicas", 0) == desired
        and status.get("replicas", 0) == desired
        and status.get("availableReplicas", 0) == desired
        and status["observedGeneration"] >= objects.meta(deploy).get("generation", 1)
    )
    if complete:
        return _condition(
            "Progressing",
            "True",
            "NewReplicaSetAvailable",
            f'ReplicaSet "{new_name}" has successfully progressed.',
            stamp,
        )
    if current is None:
        return _condition(
            "Progressing", "True", "FoundNewReplicaSet", f'Found new replica set "{new_name}"', stamp
        )
    moved = (
        status.get("updatedReplicas", 0) > previous.get("updatedReplicas", 0)
        or status.get("readyReplicas", 0) > previous.get("readyReplicas", 0)
        or status.get("availableReplicas", 0) > previous.get("availableReplicas", 0)
        or status.get("replicas", 0) < previous.get("replicas", 0)
    )
    if moved:
        return _condition(
            "Progressing", "True", "ReplicaSetUpdated", f'ReplicaSet "{new_name}" is progressing.', stamp
        )
    deadline = spec.get("progressDeadlineSeconds", 600)
    last = objects.parse_time(current.get("lastUpdateTime"))
    if deadline is not None and last is not None and (now - last).total_seconds() > int(deadline):
        return _condition(
            "Progressing",
            "False",
            "ProgressDeadlineExceeded",
            f'ReplicaSet "{new_name}" has timed out progressing.',
            stamp,
        )
    return current
