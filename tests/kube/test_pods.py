"""What a pod's status says.

Aspects: readiness needs Running + Ready and no deletion; not-ready reasons name the container
and add a hint for image pulls and crash loops; unschedulable pods say so; image pull back-off,
crash loops and failed pods are fatal (waiting cannot help), ContainerCreating is not.
"""

from __future__ import annotations

from kubelocal.kube import pods


def pod(*, phase="Running", ready=True, waiting=None, terminating=False, conditions=None):
    container = {"name": "app", "ready": ready, "restartCount": 0, "state": {"running": {}}}
    if waiting:
        container["state"] = {"waiting": {"reason": waiting}}
    metadata = {"name": "web-1"}
    if terminating:
        metadata["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {
        "metadata": metadata,
        "status": {
            "phase": phase,
            "conditions": conditions
            if conditions is not None
            else [{"type": "Ready", "status": "True" if ready else "False"}],
            "containerStatuses": [container],
        },
    }


def test_ready_needs_running_ready_and_not_terminating():
    assert pods.is_ready(pod())
    assert not pods.is_ready(pod(ready=False))
    assert not pods.is_ready(pod(phase="Pending"))
    assert not pods.is_ready(pod(terminating=True))


def test_image_pull_back_off_is_fatal_with_a_hint():
    reason = pods.fatal_reason(pod(phase="Pending", ready=False, waiting="ImagePullBackOff"))
    assert reason is not None
    assert "container app: ImagePullBackOff" in reason and "registry" in reason


def test_crash_loop_is_fatal_and_points_at_the_logs():
    reason = pods.fatal_reason(pod(ready=False, waiting="CrashLoopBackOff"))
    assert reason is not None and "kubectl logs --previous" in reason


def test_container_creating_is_not_fatal():
    candidate = pod(phase="Pending", ready=False, waiting="ContainerCreating")
    assert pods.fatal_reason(candidate) is None
    assert pods.not_ready_reason(candidate) == "container app: ContainerCreating"


def test_running_but_not_ready_says_so():
    assert "running but not ready" in pods.not_ready_reason(pod(ready=False))


def test_unschedulable_pod_says_why():
    candidate = {
        "metadata": {"name": "web-1"},
        "status": {
            "phase": "Pending",
            "conditions": [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": "Unschedulable",
                    "message": "0/3 nodes are available",
                }
            ],
        },
    }
    assert pods.not_ready_reason(candidate) == "not scheduled: Unschedulable 0/3 nodes are available"


def test_failed_pod_is_fatal():
    assert pods.fatal_reason(
        {"metadata": {"name": "x"}, "status": {"phase": "Failed", "reason": "Evicted"}}
    ) == ("the pod failed: Evicted")
