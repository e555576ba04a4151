"""ReplicaSet: keep `spec.replicas` active pods from the template, and report what exists (pure).

Pods are named `<replicaset>-<5 safe chars>` and carry a controller ownerReference. Scaling down
deletes the pods that matter least first, in kube's order: not yet running, then not ready, then
restarted more, then the newest. A ReplicaSet being deleted is left alone: the garbage collector owns it.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Callable

from kubelocal.sandbox.controllers import actions, objects

RESOURCE = "replicasets"


def pod_from_template(
    *,
    owner: dict,
    owner_api_version: str,
    owner_kind: str,
    template: dict,
    name: str,
    extra_labels: dict | None = None,
) -> dict:
    """A pod as a workload controller creates it from its template."""
    template_meta = template.get("metadata") or {}
    metadata: dict = {
        "name": name,
        "namespace": objects.namespace_of(owner),
        "labels": {**(template_meta.get("labels") or {}), **(extra_labels or {})},
        "ownerReferences": [objects.owner_reference(owner, api_version=owner_api_version, kind=owner_kind)],
    }
    if template_meta.get("annotations"):
        metadata["annotations"] = dict(template_meta["annotations"])
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": copy.deepcopy(template.get("spec") or {}),
    }


def deletion_rank(pod: dict) -> tuple:
    """Sort key: pods that should go first sort first (kube's ActivePods ordering)."""
    phase_rank = {"Pending": 0, "Unknown": 1, "Running": 2}.get(objects.pod_phase(pod), 0)
    created = objects.meta(pod).get("creationTimestamp") or ""
    # Newer pods go first: invert the timestamp's order by negating each character.
    newest_first = tuple(-ord(char) for char in created)
    return (phase_rank, objects.is_pod_ready(pod), -objects.restart_count(pod), newest_first)


def status_for(rs: dict, owned: list[dict], *, now: datetime.datetime) -> dict:
    spec = rs.get("spec") or {}
    active = [pod for pod in owned if objects.is_pod_active(pod)]
    template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    min_ready = int(spec.get("minReadySeconds") or 0)
    status = dict(rs.get("status") or {})
    status.update(
        replicas=len(active),
        fullyLabeledReplicas=sum(
            objects.matches_labels(objects.labels_of(p), template_labels) for p in active
        ),
        readyReplicas=sum(objects.is_pod_ready(p) for p in active),
        availableReplicas=sum(
            objects.is_pod_available(p, min_ready_seconds=min_ready, now=now) for p in active
        ),
        observedGeneration=objects.meta(rs).get("generation", 1),
    )
    return status


def reconcile(
    rs: dict,
    owned: list[dict],
    *,
    now: datetime.datetime,
    suffix: Callable[[], str] = objects.random_suffix,
) -> actions.Decision:
    """Pods to create or delete for `rs`, given the pods it controls, and its new status."""
    decision = actions.Decision()
    if objects.is_deleting(rs):
        return decision
    owned = [pod for pod in owned if objects.is_controlled_by(pod, rs)]
    spec = rs.get("spec") or {}
    name = objects.name_of(rs)
    namespace = objects.namespace_of(rs)
    wanted = int(spec.get("replicas", 1))
    active = [pod for pod in owned if objects.is_pod_active(pod)]
    if len(active) < wanted:
        for _ in range(wanted - len(active)):
            pod = pod_from_template(
                owner=rs,
                owner_api_version="apps/v1",
                owner_kind="ReplicaSet",
                template=spec.get("template") or {},
                name=f"{name}-{suffix()}",
            )
            decision.actions.append(actions.Create("pods", namespace, pod))
    elif len(active) > wanted:
        for pod in sorted(active, key=deletion_rank)[: len(active) - wanted]:
            decision.actions.append(actions.delete_of("pods", pod))
    status = status_for(rs, owned, now=now)
    if status != (rs.get("status") or {}):
        decision.actions.append(actions.SetStatus(RESOURCE, namespace, name, status))
    min_ready = int(spec.get("minReadySeconds") or 0)
    if min_ready and status["readyReplicas"] > status["availableReplicas"]:
        # Nothing changes when a pod becomes available by age alone: look again then.
        decision.requeue_after = float(min_ready)
    return decision
