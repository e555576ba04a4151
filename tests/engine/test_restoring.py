"""`restoring.pending`: when disconnect may consider a workload back.

Aspects: a live agent pod keeps the restore pending (a terminating or finished one does not); a
Deployment is back once the controller observed the restored generation, every replica is updated,
no old replica is left and the updated ones are available, as `kubectl rollout status` judges;
a StatefulSet needs its replicas ready and the update revision current; a ReplicaSet its replicas
ready; a bare Pod the recreated pod (without the session label) ready; a deleted workload has
nothing left to wait for.
"""

from __future__ import annotations

import pytest

from kubelocal.engine import names, restoring


def agent_pod(name="greeter-agent-x", *, terminating=False, phase="Running"):
    metadata = {"name": name, "labels": {names.SESSION_LABEL: "abcd1234"}}
    if terminating:
        metadata["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {"metadata": metadata, "status": {"phase": phase}}


def deployment(*, generation=3, observed=3, replicas=2, updated=2, total=2, available=2):
    return {
        "metadata": {"name": "greeter", "generation": generation},
        "spec": {"replicas": replicas},
        "status": {
            "observedGeneration": observed,
            "updatedReplicas": updated,
            "replicas": total,
            "availableReplicas": available,
        },
    }


def test_a_finished_rollout_without_agent_pods_is_done():
    assert restoring.pending(kind="Deployment", workload=deployment(), session_pods=[]) is None


@pytest.mark.parametrize(
    "pod",
    [agent_pod(terminating=True), agent_pod(phase="Succeeded"), agent_pod(phase="Failed")],
)
def test_agent_pods_on_their_way_out_do_not_count(pod):
    assert restoring.pending(kind="Deployment", workload=deployment(), session_pods=[pod]) is None


def test_a_live_agent_pod_keeps_it_pending_and_is_named():
    reason = restoring.pending(kind="Deployment", workload=deployment(), session_pods=[agent_pod()])
    assert reason == "agent pod greeter-agent-x still running"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ({"observed": 2}, "the controller has not seen the restored spec yet"),
        ({"updated": 1}, "1 of 2 replicas restored"),
        ({"total": 3}, "1 old replica(s) still terminating"),
        ({"available": 1}, "1 of 2 restored replicas available"),
    ],
)
def test_an_unfinished_deployment_rollout_says_what_is_left(status, expected):
    reason = restoring.pending(kind="Deployment", workload=deployment(**status), session_pods=[])
    assert reason == f"Deployment greeter: {expected}"


def stateful_set(*, ready=1, current="catalog-a", update="catalog-a", strategy=None):
    spec = {"replicas": 1, **({"updateStrategy": {"type": strategy}} if strategy else {})}
    return {
        "metadata": {"name": "catalog", "generation": 1},
        "spec": spec,
        "status": {
            "observedGeneration": 1,
            "readyReplicas": ready,
            "updatedReplicas": 0,
            "currentRevision": current,
            "updateRevision": update,
        },
    }


def test_a_stateful_set_needs_ready_replicas_and_the_current_revision():
    assert restoring.pending(kind="StatefulSet", workload=stateful_set(), session_pods=[]) is None
    assert "0 of 1 replicas ready" in restoring.pending(
        kind="StatefulSet", workload=stateful_set(ready=0), session_pods=[]
    )
    assert "0 of 1 replicas restored" in restoring.pending(
        kind="StatefulSet", workload=stateful_set(update="catalog-b"), session_pods=[]
    )
    # OnDelete never moves the current revision: only readiness counts.
    on_delete = stateful_set(update="catalog-b", strategy="OnDelete")
    assert restoring.pending(kind="StatefulSet", workload=on_delete, session_pods=[]) is None


def test_a_replica_set_needs_its_replicas_ready():
    replica_set = {
        "metadata": {"name": "rs", "generation": 1},
        "spec": {"replicas": 2},
        "status": {"observedGeneration": 1, "readyReplicas": 1},
    }
    reason = restoring.pending(kind="ReplicaSet", workload=replica_set, session_pods=[])
    assert reason == "ReplicaSet rs: 1 of 2 replicas ready"
    replica_set["status"]["readyReplicas"] = 2
    assert restoring.pending(kind="ReplicaSet", workload=replica_set, session_pods=[]) is None


def test_a_bare_pod_is_back_when_the_recreated_pod_is_ready():
    ready = {"type": "Ready", "status": "True"}
    pod = {"metadata": {"name": "solo", "labels": {}}, "status": {"phase": "Running", "conditions": [ready]}}
    assert restoring.pending(kind="Pod", workload=pod, session_pods=[]) is None
    absent = restoring.pending(kind="Pod", workload=None, session_pods=[])
    assert absent == "the restored pod does not exist yet"
    pod["status"] = {"phase": "Pending"}
    assert restoring.pending(kind="Pod", workload=pod, session_pods=[]) == "pod solo not ready yet"


def test_a_deleted_workload_has_nothing_to_wait_for():
    assert restoring.pending(kind="Deployment", workload=None, session_pods=[]) is None
