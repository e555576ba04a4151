"""StatefulSet decisions: ordered names, OrderedReady creation one at a time, hostname/subdomain,
scale down from the highest ordinal, Parallel policy, rolling update from the top with the
revision labels and the status fields `kubectl rollout status sts` reads."""

import datetime

from kubelocal.sandbox.controllers import actions, statefulset

NOW = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.UTC)


def make_sts(world, replicas=3, **spec):
    return world.add(
        "statefulsets",
        {
            "metadata": {"name": "db"},
            "spec": {
                "replicas": replicas,
                "serviceName": "db",
                "selector": {"matchLabels": {"app": "web"}},
                "template": world.template(),
                **spec,
            },
        },
    )


def run(world):
    decision = statefulset.reconcile(world.get("statefulsets", "db"), world.of("pods"), now=NOW)
    world.apply(decision)
    return decision


def make_ready(world):
    for pod in world.of("pods"):
        if not pod.get("status"):
            world.set_pod(pod, phase="Running", ready=True)


def names(world):
    return sorted(p["metadata"]["name"] for p in world.of("pods"))


def test_ordered_ready_creates_the_next_pod_only_when_the_previous_is_ready(world):
    make_sts(world)
    run(world)
    assert names(world) == ["db-0"]
    run(world)
    assert names(world) == ["db-0"]
    make_ready(world)
    run(world)
    assert names(world) == ["db-0", "db-1"]
    pod = world.get("pods", "db-1")
    assert pod["spec"]["hostname"] == "db-1" and pod["spec"]["subdomain"] == "db"
    assert pod["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] == "db-1"


def test_rollout_status_fields_once_all_ready(world):
    make_sts(world)
    for _ in range(4):
        run(world)
        make_ready(world)
    run(world)
    status = world.get("statefulsets", "db")["status"]
    assert status["readyReplicas"] == 3 and status["replicas"] == 3
    assert status["currentRevision"] == status["updateRevision"]
    assert status["observedGeneration"] == 1


def test_scale_down_removes_the_highest_ordinal_first(world):
    make_sts(world)
    for _ in range(4):
        run(world)
        make_ready(world)
    world.get("statefulsets", "db")["spec"]["replicas"] = 1
    decision = run(world)
    assert [a.name for a in decision.actions if isinstance(a, actions.Delete)] == ["db-2"]


def test_parallel_creates_every_pod_at_once(world):
    make_sts(world, podManagementPolicy="Parallel")
    run(world)
    assert names(world) == ["db-0", "db-1", "db-2"]


def test_rolling_update_replaces_from_the_top_one_at_a_time(world):
    make_sts(world, replicas=2)
    for _ in range(3):
        run(world)
        make_ready(world)
    sts = world.get("statefulsets", "db")
    old_revision = sts["status"]["updateRevision"]
    sts["spec"]["template"]["spec"]["containers"][0]["image"] = "python:3.13-slim"
    sts["metadata"]["generation"] = 2
    decision = run(world)
    assert [a.name for a in decision.actions if isinstance(a, actions.Delete)] == ["db-1"]
    status = world.get("statefulsets", "db")["status"]
    assert status["currentRevision"] == old_revision != status["updateRevision"]
    for _ in range(6):
        run(world)
        make_ready(world)
    status = world.get("statefulsets", "db")["status"]
    assert status["currentRevision"] == status["updateRevision"]
    assert {p["spec"]["containers"][0]["image"] for p in world.of("pods")} == {"python:3.13-slim"}
