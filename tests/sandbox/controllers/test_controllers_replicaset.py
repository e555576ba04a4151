"""ReplicaSet decisions: scale up with named, owned pods; scale down least-valuable first; status counts;
no action at steady state; hands off a ReplicaSet being deleted."""

import datetime
import re

from kubelocal.sandbox.controllers import actions, replicaset

NOW = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.UTC)


def make_rs(world, replicas=3):
    return world.add(
        "replicasets",
        {
            "metadata": {"name": "web-abc"},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": "web"}},
                "template": world.template(),
            },
        },
    )


def test_scale_up_creates_owned_pods_named_after_the_replicaset(world):
    rs = make_rs(world)
    world.apply(replicaset.reconcile(rs, [], now=NOW))
    pods = world.of("pods")
    assert len(pods) == 3
    for pod in pods:
        assert re.fullmatch(r"web-abc-[bcdfghjklmnpqrstvwxz2456789]{5}", pod["metadata"]["name"])
        (ref,) = pod["metadata"]["ownerReferences"]
        assert ref == {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "name": "web-abc",
            "uid": rs["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
        assert pod["metadata"]["labels"] == {"app": "web"}
        assert pod["spec"] == world.template()["spec"]


def test_status_counts_ready_and_available_and_observes_generation(world):
    rs = make_rs(world, replicas=2)
    world.apply(replicaset.reconcile(rs, [], now=NOW))
    first, second = world.of("pods")
    world.set_pod(first, phase="Running", ready=True)
    world.set_pod(second, phase="Running", ready=False)
    rs = world.get("replicasets", "web-abc")
    rs["metadata"]["generation"] = 4
    world.apply(replicaset.reconcile(rs, world.of("pods"), now=NOW))
    status = world.get("replicasets", "web-abc")["status"]
    assert status == {
        "replicas": 2,
        "fullyLabeledReplicas": 2,
        "readyReplicas": 1,
        "availableReplicas": 1,
        "observedGeneration": 4,
    }


def test_steady_state_takes_no_action(world):
    rs = make_rs(world, replicas=1)
    world.apply(replicaset.reconcile(rs, [], now=NOW))
    world.apply(replicaset.reconcile(world.get("replicasets", "web-abc"), world.of("pods"), now=NOW))
    decision = replicaset.reconcile(world.get("replicasets", "web-abc"), world.of("pods"), now=NOW)
    assert decision.actions == []


def test_scale_down_deletes_not_ready_pods_before_ready_ones(world):
    rs = make_rs(world, replicas=3)
    world.apply(replicaset.reconcile(rs, [], now=NOW))
    pods = world.of("pods")
    for pod in pods:
        world.set_pod(pod, phase="Running", ready=True)
    world.set_pod(pods[1], phase="Running", ready=False)
    rs = world.get("replicasets", "web-abc")
    rs["spec"]["replicas"] = 2
    decision = replicaset.reconcile(rs, pods, now=NOW)
    deletes = [a for a in decision.actions if isinstance(a, actions.Delete)]
    assert [(d.name, d.uid) for d in deletes] == [(pods[1]["metadata"]["name"], pods[1]["metadata"]["uid"])]


def test_finished_and_terminating_pods_are_replaced(world):
    rs = make_rs(world, replicas=2)
    world.apply(replicaset.reconcile(rs, [], now=NOW))
    first, second = world.of("pods")
    world.set_pod(first, phase="Failed", ready=False)
    second["metadata"]["deletionTimestamp"] = "2026-01-01T12:00:00Z"
    decision = replicaset.reconcile(world.get("replicasets", "web-abc"), world.of("pods"), now=NOW)
    assert sum(isinstance(a, actions.Create) for a in decision.actions) == 2


def test_pods_of_other_owners_are_ignored(world):
    rs = make_rs(world, replicas=1)
    stranger = world.add(
        "pods",
        {
            "metadata": {
                "name": "stranger",
                "labels": {"app": "web"},
                "ownerReferences": [{"uid": "someone-else", "controller": True}],
            }
        },
    )
    decision = replicaset.reconcile(rs, [stranger], now=NOW)
    assert sum(isinstance(a, actions.Create) for a in decision.actions) == 1


def test_replicaset_being_deleted_is_left_to_the_garbage_collector(world):
    rs = make_rs(world)
    rs["metadata"]["deletionTimestamp"] = "2026-01-01T12:00:00Z"
    assert replicaset.reconcile(rs, [], now=NOW).actions == []
