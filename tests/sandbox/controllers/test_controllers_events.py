"""Events for controller actions: kube's reasons and messages, the involved object, and none for actions
kube does not report (status writes, no-op scales)."""

import datetime

from kubelocal.sandbox.controllers import actions, events

NOW = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.UTC)
OWNER = {"metadata": {"name": "web", "namespace": "default", "uid": "u1", "resourceVersion": "7"}}


def test_replicaset_pod_creation():
    event = events.event_for(
        owner_kind="ReplicaSet",
        owner=OWNER,
        now=NOW,
        action=actions.Create("pods", "default", {"metadata": {"name": "web-abcde"}}),
    )
    assert (event["reason"], event["message"]) == ("SuccessfulCreate", "Created pod: web-abcde")
    assert event["involvedObject"] == {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "name": "web",
        "namespace": "default",
        "uid": "u1",
        "resourceVersion": "7",
    }
    assert event["source"] == {"component": "replicaset-controller"} and event["type"] == "Normal"


def test_deployment_scaling_messages():
    created = events.event_for(
        owner_kind="Deployment",
        owner=OWNER,
        now=NOW,
        action=actions.Create(
            "replicasets", "default", {"metadata": {"name": "web-123"}, "spec": {"replicas": 3}}
        ),
    )
    assert created["message"] == "Scaled up replica set web-123 from 0 to 3"
    down = events.event_for(
        owner_kind="Deployment",
        owner=OWNER,
        now=NOW,
        old_replicas=3,
        action=actions.Patch("replicasets", "default", "web-123", {"spec": {"replicas": 1}}),
    )
    assert (down["reason"], down["message"]) == (
        "ScalingReplicaSet",
        "Scaled down replica set web-123 from 3 to 1",
    )
    same = events.event_for(
        owner_kind="Deployment",
        owner=OWNER,
        now=NOW,
        old_replicas=1,
        action=actions.Patch("replicasets", "default", "web-123", {"spec": {"replicas": 1}}),
    )
    assert same is None


def test_statefulset_wording_and_no_event_for_status():
    created = events.event_for(
        owner_kind="StatefulSet",
        owner=OWNER,
        now=NOW,
        action=actions.Create("pods", "default", {"metadata": {"name": "web-0"}}),
    )
    assert created["message"] == "create Pod web-0 in StatefulSet web successful"
    assert (
        events.event_for(
            owner_kind="Job", owner=OWNER, now=NOW, action=actions.SetStatus("jobs", "default", "web", {})
        )
        is None
    )
