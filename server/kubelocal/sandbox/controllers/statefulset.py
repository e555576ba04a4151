"""StatefulSet: pods `<sts>-0 .. <sts>-(n-1)` with stable names and hostnames (pure).

OrderedReady (the default) creates pod i only when pods 0..i-1 are Running and Ready, removes the
highest ordinal first and one at a time; Parallel creates and removes them all at once. A template
change is a new revision (`<sts>-<hash>`, the pods' `controller-revision-hash` label); RollingUpdate
replaces pods from the highest ordinal down, one at a time, each only when all others are Ready,
honouring `partition`. Pods that finished (Succeeded/Failed) are deleted and recreated.
ControllerRevision objects and volumeClaimTemplates are not made: the sandbox has neither kind.
"""

from __future__ import annotations

import copy
import datetime

from kubelocal.sandbox.controllers import actions, objects

RESOURCE = "statefulsets"
REVISION_LABEL = "controller-revision-hash"
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"


def update_revision(sts: dict) -> str:
    """The revision name of the current template, `<sts>-<hash>` as kube names ControllerRevisions."""
    template = (sts.get("spec") or {}).get("template") or {}
    return f"{objects.name_of(sts)}-{objects.safe_hash(template)}"


def ordinal(sts: dict, pod: dict) -> int | None:
    prefix = objects.name_of(sts) + "-"
    name = objects.name_of(pod)
    if not name.startswith(prefix) or not name[len(prefix) :].isdigit():
        return None
    return int(name[len(prefix) :])


def pod_for(sts: dict, index: int, revision: str) -> dict:
    spec = sts.get("spec") or {}
    template = copy.deepcopy(spec.get("template") or {})
    template_meta = template.get("metadata") or {}
    name = f"{objects.name_of(sts)}-{index}"
    pod_spec = template.get("spec") or {}
    pod_spec["hostname"] = name
    if spec.get("serviceName"):
        pod_spec["subdomain"] = spec["serviceName"]
    metadata: dict = {
        "name": name,
        "namespace": objects.namespace_of(sts),
        "labels": {
            **(template_meta.get("labels") or {}),
            REVISION_LABEL: revision,
            POD_NAME_LABEL: name,
            POD_INDEX_LABEL: str(index),
        },
        "ownerReferences": [objects.owner_reference(sts, api_version="apps/v1", kind="StatefulSet")],
    }
    if template_meta.get("annotations"):
        metadata["annotations"] = dict(template_meta["annotations"])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": pod_spec}


def _running_and_ready(pod: dict) -> bool:
    return objects.pod_phase(pod) == "Running" and objects.is_pod_ready(pod) and not objects.is_deleting(pod)


def reconcile(sts: dict, owned: list[dict], *, now: datetime.datetime) -> actions.Decision:
    """Pods to create or delete for `sts` given the pods it controls, and its new status."""
    decision = actions.Decision()
    if objects.is_deleting(sts):
        return decision
    owned = [pod for pod in owned if objects.is_controlled_by(pod, sts)]
    spec = sts.get("spec") or {}
    namespace = objects.namespace_of(sts)
    replicas = int(spec.get("replicas", 1))
    parallel = spec.get("podManagementPolicy") == "Parallel"
    strategy = spec.get("updateStrategy") or {}
    rolling = strategy.get("type", "RollingUpdate") == "RollingUpdate"
    partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0)
    revision = update_revision(sts)
    previous = sts.get("status") or {}
    current_revision = previous.get("currentRevision") or revision

    by_ordinal: dict[int, dict] = {}
    for pod in owned:
        index = ordinal(sts, pod)
        if index is not None:
            by_ordinal[index] = pod

    blocked = False
    for index in range(replicas):
        pod = by_ordinal.get(index)
        if pod is None:
            if not blocked:
                pod_revision = revision if index >= partition or not rolling else current_revision
                decision.actions.append(actions.Create("pods", namespace, pod_for(sts, index, pod_revision)))
            if not parallel:
                blocked = True
            continue
        if objects.is_deleting(pod):
            blocked = blocked or not parallel
            continue
        if objects.pod_phase(pod) in ("Succeeded", "Failed"):
            decision.actions.append(actions.delete_of("pods", pod))
            blocked = blocked or not parallel
            continue
        if not parallel and not _running_and_ready(pod):
            blocked = True

    # Scale down: highest ordinal first; OrderedReady waits until every remaining pod is ready.
    extra = sorted((i for i in by_ordinal if i >= replicas), reverse=True)
    all_ready = all(_running_and_ready(by_ordinal[i]) for i in by_ordinal if i < replicas)
    for index in extra:
        pod = by_ordinal[index]
        if objects.is_deleting(pod):
            if not parallel:
                break
            continue
        if not parallel and not all_ready:
            break
        decision.actions.append(actions.delete_of("pods", pod))
        if not parallel:
            break

    # Rolling update: replace the highest out-of-date pod once all pods are ready and none is going.
    creating_or_deleting = any(isinstance(a, actions.Create | actions.Delete) for a in decision.actions)
    wanted = [by_ordinal.get(i) for i in range(replicas)]
    if rolling and not creating_or_deleting and all(p is not None and _running_and_ready(p) for p in wanted):
        for index in range(replicas - 1, partition - 1, -1):
            pod = by_ordinal[index]
            if objects.labels_of(pod).get(REVISION_LABEL) != revision:
                decision.actions.append(actions.delete_of("pods", pod))
                break

    present = [by_ordinal[i] for i in sorted(by_ordinal) if objects.is_pod_active(by_ordinal[i])]
    updated = sum(objects.labels_of(p).get(REVISION_LABEL) == revision for p in present)
    current = sum(objects.labels_of(p).get(REVISION_LABEL) == current_revision for p in present)
    if updated == replicas and len(present) == replicas:
        current_revision, current = revision, updated
    min_ready = int(spec.get("minReadySeconds") or 0)
    status = dict(previous)
    status.update(
        observedGeneration=objects.meta(sts).get("generation", 1),
        replicas=len(present),
        readyReplicas=sum(objects.is_pod_ready(p) for p in present),
        availableReplicas=sum(
            objects.is_pod_available(p, min_ready_seconds=min_ready, now=now) for p in present
        ),
        currentReplicas=current,
        updatedReplicas=updated,
        currentRevision=current_revision,
        updateRevision=revision,
        collisionCount=int(previous.get("collisionCount") or 0),
    )
    if status != previous:
        decision.actions.append(actions.SetStatus(RESOURCE, namespace, objects.name_of(sts), status))
    return decision
