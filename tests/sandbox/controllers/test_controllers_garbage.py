"""Garbage collection decisions: orphans of a gone owner deleted, dependents of a foreground-deleting
owner deleted (foreground when they can own things), dangling references dropped when another owner
lives, the foregroundDeletion and orphan finalizers released at the right time."""

from kubelocal.sandbox.controllers import actions, garbage


def obj(name, uid, *, owners=(), finalizers=None, deleting=False):
    metadata = {
        "name": name,
        "namespace": "default",
        "uid": uid,
        "ownerReferences": [
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": o,
                "uid": o,
                "controller": True,
                "blockOwnerDeletion": True,
            }
            for o in owners
        ],
    }
    if finalizers:
        metadata["finalizers"] = finalizers
    if deleting:
        metadata["deletionTimestamp"] = "2026-01-01T12:00:00Z"
    return {"metadata": metadata}


def test_dependent_of_a_gone_owner_is_deleted_in_the_background():
    pod = obj("p", "p1", owners=["rs1"])
    (action,) = garbage.decide_dependent("pods", pod, {"rs1": None})
    assert action == actions.Delete("pods", "default", "p", "Background", "p1")


def test_dependent_with_live_owner_is_kept():
    pod = obj("p", "p1", owners=["rs1"])
    assert garbage.decide_dependent("pods", pod, {"rs1": obj("rs", "rs1")}) == []


def test_dangling_reference_is_dropped_when_another_owner_lives():
    pod = obj("p", "p1", owners=["rs1", "rs2"])
    (action,) = garbage.decide_dependent("pods", pod, {"rs1": None, "rs2": obj("rs", "rs2")})
    assert isinstance(action, actions.Update)
    assert [r["uid"] for r in action.body["metadata"]["ownerReferences"]] == ["rs2"]


def test_dependents_of_a_foreground_deletion_go_first_foreground_for_owners():
    owner = obj("d", "d1", finalizers=["foregroundDeletion"], deleting=True)
    rs = obj("rs", "rs1", owners=["d1"])
    (action,) = garbage.decide_dependent("replicasets", rs, {"d1": owner})
    assert (action.name, action.propagation) == ("rs", "Foreground")
    pod = obj("p", "p1", owners=["d1"])
    (action,) = garbage.decide_dependent("pods", pod, {"d1": owner})
    assert action.propagation == "Background"


def test_foreground_finalizer_released_only_when_no_blocking_dependent_remains():
    owner = obj("d", "d1", finalizers=["foregroundDeletion", "example.com/keep"], deleting=True)
    rs = obj("rs", "rs1", owners=["d1"], deleting=True)
    assert garbage.decide_owner("deployments", owner, [("replicasets", rs)]) == []
    (action,) = garbage.decide_owner("deployments", owner, [])
    assert isinstance(action, actions.Update)
    assert action.body["metadata"]["finalizers"] == ["example.com/keep"]


def test_orphan_finalizer_strips_references_then_releases():
    owner = obj("rs", "rs1", finalizers=["orphan"], deleting=True)
    pod = obj("p", "p1", owners=["rs1"])
    (action,) = garbage.decide_owner("replicasets", owner, [("pods", pod)])
    assert action.body["metadata"]["ownerReferences"] == []
    (release,) = garbage.decide_owner("replicasets", owner, [])
    assert release.body["metadata"].get("finalizers") == []


def test_live_owner_needs_nothing():
    assert (
        garbage.decide_owner(
            "deployments", obj("d", "d1"), [("replicasets", obj("rs", "rs1", owners=["d1"]))]
        )
        == []
    )
