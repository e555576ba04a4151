"""Deployment decisions, driven to convergence in an in-memory world: first rollout, template change
(new ReplicaSet `<deploy>-<pod-template-hash>` labelled and selected by the hash, old one scaled to
zero) within maxSurge/maxUnavailable, Recreate waits for old pods, revision annotations, rollback
reuses the old ReplicaSet, conditions as `kubectl rollout status` reads them, history limit, hash."""

import datetime
import re

import pytest

from kubelocal.sandbox.controllers import actions, deployment, replicaset

NOW = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.UTC)


def make_deploy(world, *, replicas=3, strategy=None):
    spec = {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}}, "template": world.template()}
    if strategy:
        spec["strategy"] = strategy
    return world.add("deployments", {"metadata": {"name": "web"}, "spec": spec})


def rollout_status(deploy):
    """kubectl's DeploymentStatusViewer, transcribed: (message, done)."""
    status = deploy.get("status") or {}
    if deploy["metadata"]["generation"] > status.get("observedGeneration", 0):
        return "Waiting for deployment spec update to be observed", False
    condition = next((c for c in status.get("conditions", []) if c["type"] == "Progressing"), None)
    if condition and condition["reason"] == "ProgressDeadlineExceeded":
        return "exceeded its progress deadline", True
    replicas = deploy["spec"]["replicas"]
    if status.get("updatedReplicas", 0) < replicas:
        return "new replicas have been updated", False
    if status.get("replicas", 0) > status.get("updatedReplicas", 0):
        return "old replicas are pending termination", False
    if status.get("availableReplicas", 0) < status.get("updatedReplicas", 0):
        return "updated replicas are available", False
    return "successfully rolled out", True


def step(world, *, ready=True):
    """One round of every controller plus a kubelet that makes pods ready; returns the actions taken."""
    taken = []
    for deploy in world.of("deployments"):
        decision = deployment.reconcile(deploy, world.of("replicasets"), world.of("pods"), now=NOW)
        world.apply(decision)
        taken += decision.actions
    for rs in world.of("replicasets"):
        decision = replicaset.reconcile(rs, world.of("pods"), now=NOW)
        world.apply(decision)
        taken += decision.actions
    for pod in world.of("pods"):
        if ready and not pod.get("status"):
            world.set_pod(pod, phase="Running", ready=True)
            taken.append("ready")
    return taken


def converge(world, *, check=None, ready=True, limit=60):
    for _ in range(limit):
        if check:
            check(world)
        if not step(world, ready=ready):
            return
    pytest.fail("did not converge")


def test_first_rollout_completes_with_kubectl_readable_status(world):
    make_deploy(world)
    converge(world)
    deploy = world.get("deployments", "web")
    (rs,) = world.of("replicasets")
    pod_hash = rs["metadata"]["labels"]["pod-template-hash"]
    assert re.fullmatch(r"[bcdfghjklmnpqrstvwxz2456789]{10}", pod_hash)
    assert rs["metadata"]["name"] == f"web-{pod_hash}"
    assert rs["spec"]["selector"]["matchLabels"] == {"app": "web", "pod-template-hash": pod_hash}
    assert rs["spec"]["template"]["metadata"]["labels"]["pod-template-hash"] == pod_hash
    assert rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    assert deploy["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    assert len(world.of("pods")) == 3
    assert rollout_status(deploy) == ("successfully rolled out", True)
    conditions = {c["type"]: c for c in deploy["status"]["conditions"]}
    assert conditions["Available"]["reason"] == "MinimumReplicasAvailable"
    assert conditions["Progressing"]["reason"] == "NewReplicaSetAvailable"
    assert deploy["status"]["observedGeneration"] == 1


def bump_image(world, image):
    deploy = world.get("deployments", "web")
    deploy["spec"]["template"]["spec"]["containers"][0]["image"] = image
    deploy["metadata"]["generation"] += 1


@pytest.mark.parametrize(("surge", "unavailable"), [(1, 0), (0, 1), ("50%", "50%"), ("25%", "25%")])
def test_rolling_update_stays_within_surge_and_unavailable(world, surge, unavailable):
    make_deploy(
        world,
        replicas=4,
        strategy={
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable},
        },
    )
    converge(world)
    bump_image(world, "python:3.13-slim")
    max_surge, max_unavailable = deployment.surge_and_unavailable(world.get("deployments", "web"))

    def check(world):
        pods = [p for p in world.of("pods")]
        ready = [p for p in pods if p.get("status")]
        assert len(pods) <= 4 + max_surge
        assert len(ready) >= 4 - max_unavailable

    converge(world, check=check)
    deploy = world.get("deployments", "web")
    assert rollout_status(deploy) == ("successfully rolled out", True)
    old, new = sorted(
        world.of("replicasets"),
        key=lambda rs: rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
    )
    assert old["spec"]["replicas"] == 0 and new["spec"]["replicas"] == 4
    assert new["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    assert deploy["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    assert {p["spec"]["containers"][0]["image"] for p in world.of("pods")} == {"python:3.13-slim"}


def test_rollout_in_progress_is_reported_as_not_done(world):
    make_deploy(world, replicas=2)
    converge(world)
    bump_image(world, "python:3.13-slim")
    step(world, ready=False)
    step(world, ready=False)
    deploy = world.get("deployments", "web")
    assert rollout_status(deploy)[1] is False
    progressing = next(c for c in deploy["status"]["conditions"] if c["type"] == "Progressing")
    assert progressing["reason"] in ("NewReplicaSetCreated", "ReplicaSetUpdated")


def test_recreate_scales_old_to_zero_and_waits_for_old_pods(world):
    make_deploy(world, replicas=2, strategy={"type": "Recreate"})
    converge(world)
    bump_image(world, "python:3.13-slim")
    world.apply(
        deployment.reconcile(
            world.get("deployments", "web"), world.of("replicasets"), world.of("pods"), now=NOW
        )
    )
    (old,) = world.of("replicasets")
    assert old["spec"]["replicas"] == 0
    # Old pods still exist: no new ReplicaSet yet.
    decision = deployment.reconcile(
        world.get("deployments", "web"), world.of("replicasets"), world.of("pods"), now=NOW
    )
    assert not any(isinstance(a, actions.Create) for a in decision.actions)
    converge(world)
    assert rollout_status(world.get("deployments", "web")) == ("successfully rolled out", True)
    assert {p["spec"]["containers"][0]["image"] for p in world.of("pods")} == {"python:3.13-slim"}


def test_rollback_reuses_the_old_replicaset_with_a_new_revision(world):
    make_deploy(world, replicas=1)
    converge(world)
    bump_image(world, "python:3.13-slim")
    converge(world)
    bump_image(world, "python:3.12-slim")
    converge(world)
    replica_sets = world.of("replicasets")
    assert len(replica_sets) == 2
    revisions = {
        rs["spec"]["template"]["spec"]["containers"][0]["image"]: rs["metadata"]["annotations"][
            "deployment.kubernetes.io/revision"
        ]
        for rs in replica_sets
    }
    assert revisions == {"python:3.12-slim": "3", "python:3.13-slim": "2"}


def test_scaling_a_finished_deployment_scales_its_replicaset(world):
    make_deploy(world, replicas=1)
    converge(world)
    deploy = world.get("deployments", "web")
    deploy["spec"]["replicas"] = 3
    deploy["metadata"]["generation"] += 1
    converge(world)
    assert len(world.of("pods")) == 3
    assert rollout_status(world.get("deployments", "web")) == ("successfully rolled out", True)


def test_revision_history_limit_deletes_the_oldest_replicasets(world):
    deploy = make_deploy(world, replicas=1)
    deploy["spec"]["revisionHistoryLimit"] = 1
    converge(world)
    for image in ("a", "b", "c"):
        bump_image(world, image)
        converge(world)
    images = sorted(
        rs["spec"]["template"]["spec"]["containers"][0]["image"] for rs in world.of("replicasets")
    )
    assert images == ["b", "c"]


def test_template_hash_is_stable_and_ignores_the_hash_label(world):
    template = world.template()
    labelled = world.template()
    labelled["metadata"]["labels"]["pod-template-hash"] = "whatever"
    assert deployment.template_hash(template) == deployment.template_hash(labelled)
    other = world.template(image="python:3.13-slim")
    assert deployment.template_hash(template) != deployment.template_hash(other)


def test_surge_and_unavailable_round_like_kube(world):
    deploy = make_deploy(world, replicas=10)
    assert deployment.surge_and_unavailable(deploy) == (3, 2)  # 25% up, 25% down
    deploy["spec"]["strategy"] = {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}}
    assert deployment.surge_and_unavailable(deploy) == (0, 1)
