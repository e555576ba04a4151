"""The controllers' shell against the real in-memory store (no processes): a deployment rolls out and
rolls over on a template patch, scaling, background and foreground cascading deletion, Endpoints and
EndpointSlices follow pod readiness, a Job completes, a namespace empties. A small stand-in for the
kubelet marks pods Running/Ready (or Succeeded for job pods) through the status subresource."""

import asyncio
import contextlib
import itertools

import pytest

from kubelocal.sandbox import errors, kinds, store
from kubelocal.sandbox.controllers import running


async def mark_pods(the_store):
    """Pods become Running and Ready with an IP, job pods Succeeded: the kubelet's part, minimally."""
    addresses = itertools.count(2)
    async for event in the_store.watch(kinds.PODS):
        pod = event.object
        if event.type == "DELETED" or pod.get("status", {}).get("podIP"):
            continue
        job_pod = "job-name" in pod["metadata"].get("labels", {})
        pod["status"] = {
            "phase": "Succeeded" if job_pod else "Running",
            "podIP": f"10.244.0.{next(addresses)}",
            "conditions": [
                {
                    "type": "Ready",
                    "status": "False" if job_pod else "True",
                    "lastTransitionTime": "2026-01-01T00:00:00Z",
                }
            ],
        }
        with contextlib.suppress(errors.ApiError):
            the_store.update(kinds.PODS, pod, subresource="status")


@pytest.fixture
async def cluster():
    the_store = store.Store(graceful_pod_deletion=False)
    controllers = running.Controllers(store=the_store)
    await controllers.start()
    kubelet = asyncio.create_task(mark_pods(the_store))
    yield the_store
    kubelet.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await kubelet
    await controllers.stop()


async def eventually(check, timeout=5.0):
    end = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            result = check()
            if result:
                return result
        except (AssertionError, errors.NotFound):
            pass
        if asyncio.get_running_loop().time() > end:
            return check()
        await asyncio.sleep(0.02)


def deployment_body(replicas=2, image="python:3.12-slim"):
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {"name": "web", "image": image, "ports": [{"name": "http", "containerPort": 8080}]}
                    ]
                },
            },
        },
    }


def rolled_out(the_store):
    deploy = the_store.get(kinds.DEPLOYMENTS, "default", "web")
    status = deploy.get("status", {})
    replicas = deploy["spec"]["replicas"]
    return (
        status.get("observedGeneration") == deploy["metadata"]["generation"]
        and status.get("updatedReplicas", 0) == replicas == status.get("replicas", 0)
        and status.get("availableReplicas", 0) == replicas
    )


def pods(the_store, namespace="default"):
    return the_store.list(kinds.PODS, namespace)[0]


async def test_deployment_rolls_out_and_rolls_over_on_a_template_patch(cluster):
    cluster.create(kinds.DEPLOYMENTS, deployment_body())
    assert await eventually(lambda: rolled_out(cluster))
    (first_rs,) = cluster.list(kinds.REPLICA_SETS, "default")[0]
    cluster.patch(
        kinds.DEPLOYMENTS,
        "default",
        "web",
        {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "python:3.13-slim"}]}}}},
        patch_type="application/strategic-merge-patch+json",
    )
    assert await eventually(lambda: rolled_out(cluster) and len(pods(cluster)) == 2)
    replica_sets = {rs["metadata"]["name"]: rs for rs in cluster.list(kinds.REPLICA_SETS, "default")[0]}
    assert len(replica_sets) == 2
    assert replica_sets[first_rs["metadata"]["name"]]["spec"]["replicas"] == 0
    assert {p["spec"]["containers"][0]["image"] for p in pods(cluster)} == {"python:3.13-slim"}
    deploy = cluster.get(kinds.DEPLOYMENTS, "default", "web")
    assert deploy["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    progressing = next(c for c in deploy["status"]["conditions"] if c["type"] == "Progressing")
    assert progressing["reason"] == "NewReplicaSetAvailable"


async def test_scale_through_the_scale_of_the_deployment(cluster):
    cluster.create(kinds.DEPLOYMENTS, deployment_body(replicas=1))
    assert await eventually(lambda: rolled_out(cluster))
    cluster.patch(
        kinds.DEPLOYMENTS,
        "default",
        "web",
        {"spec": {"replicas": 3}},
        patch_type="application/merge-patch+json",
    )
    assert await eventually(lambda: rolled_out(cluster) and len(pods(cluster)) == 3)


@pytest.mark.parametrize("propagation", ["Background", "Foreground"])
async def test_deleting_a_deployment_removes_its_replicasets_and_pods(cluster, propagation):
    cluster.create(kinds.DEPLOYMENTS, deployment_body())
    assert await eventually(lambda: rolled_out(cluster))
    cluster.delete(kinds.DEPLOYMENTS, "default", "web", propagation=propagation)
    assert await eventually(lambda: not pods(cluster) and not cluster.list(kinds.REPLICA_SETS, "default")[0])
    assert await eventually(lambda: not cluster.list(kinds.DEPLOYMENTS, "default")[0])


async def test_endpoints_and_slices_follow_ready_pods(cluster):
    cluster.create(
        kinds.SERVICES,
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web"},
            "spec": {
                "selector": {"app": "web"},
                "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
            },
        },
    )
    cluster.create(kinds.DEPLOYMENTS, deployment_body())

    def two_ready():
        ep = cluster.get(kinds.ENDPOINTS, "default", "web")
        (subset,) = ep["subsets"]
        assert len(subset["addresses"]) == 2 and subset["ports"][0]["port"] == 8080
        (endpoint_slice,) = cluster.list(
            kinds.ENDPOINT_SLICES, "default", label_selector="kubernetes.io/service-name=web"
        )[0]
        assert len(endpoint_slice["endpoints"]) == 2
        return True

    assert await eventually(two_ready)
    cluster.delete(kinds.SERVICES, "default", "web")
    assert await eventually(
        lambda: (
            not cluster.list(kinds.ENDPOINTS, "default")[0]
            and not cluster.list(kinds.ENDPOINT_SLICES, "default")[0]
        )
    )


async def test_job_completes(cluster):
    cluster.create(
        kinds.JOBS,
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "once"},
            "spec": {
                "completions": 2,
                "template": {
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [{"name": "c", "image": "python:3.12-slim"}],
                    }
                },
            },
        },
    )

    def complete():
        status = cluster.get(kinds.JOBS, "default", "once").get("status", {})
        return (
            any(c["type"] == "Complete" and c["status"] == "True" for c in status.get("conditions", []))
            and status
        )

    status = await eventually(complete)
    assert status["succeeded"] == 2 and status["completionTime"]


async def test_namespace_deletion_empties_it(cluster):
    cluster.create(kinds.NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}})
    cluster.create(kinds.DEPLOYMENTS, {**deployment_body(), "metadata": {"name": "web", "namespace": "demo"}})
    assert await eventually(lambda: len(pods(cluster, "demo")) == 2)
    # The store removes a namespace that empties at once and then reports it NotFound (an apiserver
    # quirk, reported); the namespace's fate is what this test checks.
    with contextlib.suppress(errors.NotFound):
        cluster.delete(kinds.NAMESPACES, None, "demo")
    assert await eventually(
        lambda: (
            not cluster.list(kinds.NAMESPACES, label_selector=None, field_selector="metadata.name=demo")[0]
        )
    )
    assert not pods(cluster, "demo")


async def test_root_ca_is_published_in_every_namespace_and_kept():
    the_store = store.Store(graceful_pod_deletion=False)
    controllers = running.Controllers(store=the_store, root_ca="PEM")
    await controllers.start()
    try:
        the_store.create(
            kinds.NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}}
        )

        def published(namespace):
            return the_store.get(kinds.CONFIG_MAPS, namespace, "kube-root-ca.crt")["data"] == {
                "ca.crt": "PEM"
            }

        assert await eventually(lambda: published("default") and published("demo"))
        the_store.delete(kinds.CONFIG_MAPS, "demo", "kube-root-ca.crt")
        assert await eventually(lambda: published("demo"))
    finally:
        await controllers.stop()


async def test_controllers_record_events_as_kube_does(cluster):
    cluster.create(kinds.DEPLOYMENTS, deployment_body())
    assert await eventually(lambda: rolled_out(cluster))
    recorded = {
        (e["involvedObject"]["kind"], e["reason"], e["message"].split(" ")[0])
        for e in cluster.list(kinds.EVENTS, "default")[0]
    }
    assert ("Deployment", "ScalingReplicaSet", "Scaled") in recorded
    assert ("ReplicaSet", "SuccessfulCreate", "Created") in recorded
