"""Job decisions: pods labelled like kube's, parallelism and completions, Complete condition with
completionTime, backoffLimit with restartPolicy Never (failed pods) and OnFailure (restarts), TTL
deletion after finishing, suspend, work-queue mode."""

import datetime

from kubelocal.sandbox.controllers import actions, job

NOW = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.UTC)


def make_job(world, **spec):
    template = world.template()
    template["spec"]["restartPolicy"] = spec.pop("restartPolicy", "Never")
    return world.add("jobs", {"metadata": {"name": "migrate"}, "spec": {"template": template, **spec}})


def run(world, name="migrate", now=NOW):
    decision = job.reconcile(world.get("jobs", name), world.of("pods"), now=now)
    world.apply(decision)
    return decision


def conditions(world):
    return {c["type"]: c for c in world.get("jobs", "migrate")["status"].get("conditions", [])}


def test_pods_carry_the_job_labels_and_owner(world):
    created = make_job(world)
    run(world)
    (pod,) = world.of("pods")
    uid = created["metadata"]["uid"]
    assert pod["metadata"]["name"].startswith("migrate-")
    labels = pod["metadata"]["labels"]
    assert labels["job-name"] == labels["batch.kubernetes.io/job-name"] == "migrate"
    assert labels["controller-uid"] == labels["batch.kubernetes.io/controller-uid"] == uid
    assert pod["metadata"]["ownerReferences"][0]["kind"] == "Job"
    status = world.get("jobs", "migrate")["status"]
    assert status["active"] == 1 and status["startTime"]


def test_completions_run_parallelism_at_a_time_then_complete(world):
    make_job(world, completions=3, parallelism=2)
    run(world)
    assert len(world.of("pods")) == 2
    for pod in world.of("pods"):
        world.set_pod(pod, phase="Succeeded", ready=False)
    run(world)
    active = [p for p in world.of("pods") if not p.get("status")]
    assert len(active) == 1
    world.set_pod(active[0], phase="Succeeded", ready=False)
    run(world)
    status = world.get("jobs", "migrate")["status"]
    assert status["succeeded"] == 3 and "active" not in status
    assert conditions(world)["Complete"]["status"] == "True"
    assert status["completionTime"]
    assert run(world).actions == []  # finished: nothing more to do


def test_backoff_limit_with_never_counts_failed_pods_and_fails_the_job(world):
    make_job(world, backoffLimit=1)
    for _ in range(2):
        run(world)
        for pod in world.of("pods"):
            if not pod.get("status"):
                world.set_pod(pod, phase="Failed", ready=False)
    run(world)
    assert conditions(world)["Failed"]["reason"] == "BackoffLimitExceeded"
    assert world.get("jobs", "migrate")["status"]["failed"] == 2
    assert len(world.of("pods")) == 2  # failed pods stay for their logs; no new one


def test_on_failure_counts_container_restarts(world):
    make_job(world, backoffLimit=2, restartPolicy="OnFailure")
    run(world)
    (pod,) = world.of("pods")
    world.set_pod(pod, phase="Running", ready=False, restarts=3)
    decision = run(world)
    assert conditions(world)["Failed"]["status"] == "True"
    assert any(isinstance(a, actions.Delete) and a.name == pod["metadata"]["name"] for a in decision.actions)


def test_ttl_after_finished_deletes_the_job_in_the_foreground(world):
    make_job(world, ttlSecondsAfterFinished=30)
    run(world)
    world.set_pod(world.of("pods")[0], phase="Succeeded", ready=False)
    decision = run(world)
    assert decision.requeue_after == 30
    later = job.reconcile(
        world.get("jobs", "migrate"), world.of("pods"), now=NOW + datetime.timedelta(seconds=10)
    )
    assert later.actions == [] and 19 <= later.requeue_after <= 20
    expired = job.reconcile(
        world.get("jobs", "migrate"), world.of("pods"), now=NOW + datetime.timedelta(seconds=31)
    )
    (delete,) = expired.actions
    assert (delete.resource, delete.name, delete.propagation) == ("jobs", "migrate", "Foreground")


def test_suspended_job_runs_nothing(world):
    make_job(world, suspend=True)
    run(world)
    assert world.of("pods") == []
    assert conditions(world)["Suspended"]["status"] == "True"


def test_work_queue_mode_completes_after_one_success_when_none_run(world):
    make_job(world, parallelism=2)
    run(world)
    first, second = world.of("pods")
    world.set_pod(first, phase="Succeeded", ready=False)
    run(world)
    assert "Complete" not in conditions(world)
    world.set_pod(second, phase="Succeeded", ready=False)
    run(world)
    assert conditions(world)["Complete"]["status"] == "True"
