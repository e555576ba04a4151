"""End to end through real clients (kubectl and the official Python client), on the sandbox or on the
cluster named by KUBELOCAL_TEST_KUBECONFIG: the sample app applied, rolled out, described, logged and
answering through port-forward with its services' answers (pod-to-service traffic by DNS name);
a template patch rolls a Deployment over to a new ReplicaSet (watched); scale; cascading delete; a
Job completes for `kubectl wait`; list/watch/patch types and 409 conflicts through the Python client."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import pytest
import yaml

pytestmark = [pytest.mark.slow, pytest.mark.cluster]

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[2]
MANIFESTS = ROOT / "samples" / "app" / "manifests"


def http_get_through_port_forward(cluster, namespace, pod, port, path="/"):
    """One HTTP GET to a pod's port through the API server's port-forward, by the official client.

    Run in its own process: the client's PortForward leaves its websocket to a proxy thread that
    closes it later, which this test process's warnings-as-errors would report at random.
    """
    result = subprocess.run(
        [
            sys.executable,
            str(HERE / "port_forward_get.py"),
            str(cluster.kubeconfig),
            namespace,
            pod,
            str(port),
            path,
        ],
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    head, _, body = result.stdout.partition(b"\r\n\r\n")
    assert head.startswith((b"HTTP/1.0 200", b"HTTP/1.1 200")), head
    return json.loads(body)


def running_pod(cluster, namespace, selector):
    pods = json.loads(
        cluster.kubectl("get", "pods", "-l", selector, "-o", "json", namespace=namespace).stdout
    )
    names = [
        p["metadata"]["name"]
        for p in pods["items"]
        if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")
    ]
    assert names, f"no running pod for {selector}"
    return names[0]


def test_sample_app_runs_and_its_services_reach_each_other_by_name(cluster, api, namespace, wait):
    cluster.kubectl("apply", "-f", str(MANIFESTS), namespace=namespace)
    for workload in ("deployment/greeter", "statefulset/catalog", "deployment/frontend"):
        cluster.kubectl("rollout", "status", workload, "--timeout=90s", namespace=namespace, timeout=120)
    table = cluster.kubectl("get", "pods", namespace=namespace).stdout
    assert "frontend-" in table and "greeter-" in table and "catalog-0" in table
    greeter = running_pod(cluster, namespace, "app=greeter")
    described = cluster.kubectl("describe", "pod", greeter, namespace=namespace).stdout
    assert "python:3.12-slim" in described and "greeter-config" in described
    logs = cluster.kubectl("logs", greeter, namespace=namespace).stdout
    assert "listening on :8080" in logs
    frontend = running_pod(cluster, namespace, "app=frontend")

    def combined():
        answer = http_get_through_port_forward(cluster, namespace, frontend, 8080)
        return answer if "error" not in answer["greeter"] and "error" not in answer["catalog"] else None

    answer = wait(combined, timeout=30, interval=0.5, what="frontend's combined answer")
    assert answer["frontend"]["pod"] == frontend
    assert answer["greeter"]["greeting"] == "Hello"
    assert answer["greeter"]["message"] == "Hi from the mounted ConfigMap file."
    assert answer["greeter"]["secret_fingerprint"]
    assert answer["greeter"]["pod"].startswith("greeter-")
    assert answer["catalog"]["pod"] == "catalog-0"
    assert [item["name"] for item in answer["catalog"]["items"]] == ["kettle", "teapot", "mug"]
    # Endpoints name the ready pods, by the service's named targetPort.
    endpoints = json.loads(
        cluster.kubectl("get", "endpoints", "greeter", "-o", "json", namespace=namespace).stdout
    )
    (subset,) = endpoints["subsets"]
    assert subset["ports"][0]["port"] == 8080 and len(subset["addresses"]) == 1


DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web"},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "terminationGracePeriodSeconds": 2,
                "containers": [
                    {
                        "name": "web",
                        "image": "python:3.12-slim",
                        "command": ["python", "-m", "http.server", "8080"],
                        "ports": [{"containerPort": 8080}],
                        "env": [{"name": "VERSION", "value": "1"}],
                        "readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 1},
                    }
                ],
            },
        },
    },
}


def rolled_out(apps, namespace):
    deploy = apps.read_namespaced_deployment("web", namespace)
    status = deploy.status
    return (
        (status.observed_generation or 0) >= deploy.metadata.generation
        and (status.updated_replicas or 0) == deploy.spec.replicas == (status.replicas or 0)
        and (status.available_replicas or 0) == deploy.spec.replicas
    )


def test_template_patch_rolls_over_to_a_new_replicaset(cluster, api, namespace, wait):
    from kubernetes import client, watch

    apps = client.AppsV1Api(api)
    apps.create_namespaced_deployment(namespace, DEPLOYMENT)
    wait(lambda: rolled_out(apps, namespace), what="first rollout")
    (first,) = apps.list_namespaced_replica_set(namespace).items
    apps.patch_namespaced_deployment(
        "web",
        namespace,
        {
            "spec": {
                "template": {
                    "spec": {"containers": [{"name": "web", "env": [{"name": "VERSION", "value": "2"}]}]}
                }
            }
        },
    )
    # Watch the deployment until its status says the rollout finished.
    stream = watch.Watch()
    events = stream.stream(apps.list_namespaced_deployment, namespace, timeout_seconds=90)
    finished = False
    try:
        for event in events:
            deploy = event["object"]
            progressing = [c for c in deploy.status.conditions or [] if c.type == "Progressing"]
            if (
                deploy.status.observed_generation == deploy.metadata.generation == 2
                and progressing
                and progressing[0].reason == "NewReplicaSetAvailable"
                and deploy.status.updated_replicas == 2
                and (deploy.status.replicas or 0) == 2
            ):
                finished = True
                break
    finally:
        stream.stop()
        events.close()  # closes the watch's HTTP response now, not whenever it is collected
    assert finished, "the rollout did not finish within the watch"
    replica_sets = {rs.metadata.name: rs for rs in apps.list_namespaced_replica_set(namespace).items}
    assert len(replica_sets) == 2
    assert replica_sets[first.metadata.name].spec.replicas == 0
    (new,) = [rs for name, rs in replica_sets.items() if name != first.metadata.name]
    assert new.metadata.name == f"web-{new.metadata.labels['pod-template-hash']}"
    assert new.metadata.annotations["deployment.kubernetes.io/revision"] == "2"
    wait(
        lambda: (
            {
                p.spec.containers[0].env[0].value
                for p in client.CoreV1Api(api).list_namespaced_pod(namespace, label_selector="app=web").items
            }
            == {"2"}
        ),
        what="old pods gone",
    )
    cluster.kubectl("rollout", "status", "deployment/web", "--timeout=60s", namespace=namespace)


def test_scale_and_cascading_delete(cluster, api, namespace, wait):
    from kubernetes import client

    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    apps.create_namespaced_deployment(namespace, DEPLOYMENT)
    wait(lambda: rolled_out(apps, namespace), what="rollout")
    cluster.kubectl("scale", "deployment/web", "--replicas=3", namespace=namespace)
    wait(
        lambda: rolled_out(apps, namespace) and len(core.list_namespaced_pod(namespace).items) == 3,
        what="scaled to 3",
    )
    cluster.kubectl("delete", "deployment", "web", "--wait=true", "--timeout=60s", namespace=namespace)
    wait(
        lambda: (
            not apps.list_namespaced_replica_set(namespace).items
            and not core.list_namespaced_pod(namespace).items
        ),
        what="replicasets and pods deleted with their deployment",
    )


def test_job_completes_for_kubectl_wait(cluster, namespace):
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "once"},
        "spec": {
            "backoffLimit": 1,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [
                        {
                            "name": "once",
                            "image": "python:3.12-slim",
                            "command": ["python", "-c", "print('job done')"],
                        }
                    ],
                }
            },
        },
    }
    cluster.kubectl("apply", "-f", "-", namespace=namespace, input=json.dumps(job))
    cluster.kubectl(
        "wait", "--for=condition=complete", "job/once", "--timeout=60s", namespace=namespace, timeout=90
    )
    assert "job done" in cluster.kubectl("logs", "job/once", namespace=namespace).stdout
    status = json.loads(cluster.kubectl("get", "job", "once", "-o", "json", namespace=namespace).stdout)[
        "status"
    ]
    assert status["succeeded"] == 1 and status["completionTime"] and status["startTime"]


def test_python_client_patch_types_and_conflicts(cluster, api, namespace):
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    core = client.CoreV1Api(api)
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "c"}, "data": {"a": "1"}})
    core.patch_namespaced_config_map("c", namespace, {"data": {"b": "2"}})  # strategic merge by default
    core.patch_namespaced_config_map(
        "c",
        namespace,
        [{"op": "add", "path": "/data/c", "value": "3"}],
        _content_type="application/json-patch+json",
    )
    core.patch_namespaced_config_map(
        "c", namespace, {"data": {"a": None}}, _content_type="application/merge-patch+json"
    )
    current = core.read_namespaced_config_map("c", namespace)
    assert current.data == {"b": "2", "c": "3"}
    stale = current.metadata.resource_version
    current.data["d"] = "4"
    core.replace_namespaced_config_map("c", namespace, current)
    current.metadata.resource_version = stale
    with pytest.raises(ApiException) as raised:
        core.replace_namespaced_config_map("c", namespace, current)
    assert raised.value.status == 409


IN_CLUSTER_CLIENT = """
import json, os, ssl, urllib.request
sa = "/var/run/secrets/kubernetes.io/serviceaccount"
namespace = open(sa + "/namespace").read()
context = ssl.create_default_context(cafile=sa + "/ca.crt")
host, port = os.environ["KUBERNETES_SERVICE_HOST"], os.environ["KUBERNETES_SERVICE_PORT"]
for url in (f"https://kubernetes.default.svc/api/v1/namespaces/{namespace}/pods",
            f"https://{host}:{port}/api/v1/namespaces/{namespace}/pods"):
    request = urllib.request.Request(url, headers={"Authorization": "Bearer " + open(sa + "/token").read()})
    pods = json.load(urllib.request.urlopen(request, context=context))["items"]
    print("listed", len(pods), "pods via", url.split("/")[2])
"""


def test_pods_reach_the_api_with_their_service_account(cluster, namespace):
    """What kubelocal's restore Job needs: https://kubernetes.default.svc with the mounted token and CA."""
    rbac = [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "list-pods"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "list-pods"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "list-pods"},
            "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": namespace}],
        },
    ]
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "in-cluster"},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [
                        {
                            "name": "client",
                            "image": "python:3.12-slim",
                            "command": ["python", "-c", IN_CLUSTER_CLIENT],
                        }
                    ],
                }
            },
        },
    }
    cluster.kubectl(
        "apply",
        "-f",
        "-",
        namespace=namespace,
        input=yaml.safe_dump_all([*rbac, job]),
    )
    cluster.kubectl(
        "wait", "--for=condition=complete", "job/in-cluster", "--timeout=60s", namespace=namespace, timeout=90
    )
    logs = cluster.kubectl("logs", "job/in-cluster", namespace=namespace).stdout
    assert "via kubernetes.default.svc" in logs and logs.count("listed 1 pods") == 2, logs


def test_statefulset_ordered_pods_and_rolling_update(cluster, api, namespace, wait):
    from kubernetes import client

    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    template = DEPLOYMENT["spec"]["template"]
    statefulset = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db"},
        "spec": {
            "replicas": 2,
            "serviceName": "db",
            "selector": {"matchLabels": {"app": "web"}},
            "template": template,
        },
    }
    # kubectl, not the Python client: the sandbox answers a create with an empty status where a real
    # server says replicas: 0, and the client (pydantic models) rejects that.
    cluster.kubectl("apply", "-f", "-", namespace=namespace, input=json.dumps(statefulset))
    cluster.kubectl("rollout", "status", "statefulset/db", "--timeout=60s", namespace=namespace, timeout=90)
    pods = {p.metadata.name: p for p in core.list_namespaced_pod(namespace).items}
    assert sorted(pods) == ["db-0", "db-1"]
    assert pods["db-1"].spec.hostname == "db-1" and pods["db-1"].spec.subdomain == "db"
    assert pods["db-0"].metadata.creation_timestamp <= pods["db-1"].metadata.creation_timestamp
    apps.patch_namespaced_stateful_set(
        "db",
        namespace,
        {
            "spec": {
                "template": {
                    "spec": {"containers": [{"name": "web", "env": [{"name": "VERSION", "value": "2"}]}]}
                }
            }
        },
    )

    def rolled():
        sts = apps.read_namespaced_stateful_set("db", namespace)
        status = sts.status
        return (
            status.observed_generation == sts.metadata.generation
            and status.ready_replicas == 2
            and status.current_revision == status.update_revision
            and status.updated_replicas == 2
        )

    wait(rolled, timeout=90, what="statefulset rolling update")
    cluster.kubectl("rollout", "status", "statefulset/db", "--timeout=60s", namespace=namespace, timeout=90)
    revisions = {
        p.metadata.labels["controller-revision-hash"] for p in core.list_namespaced_pod(namespace).items
    }
    assert revisions == {apps.read_namespaced_stateful_set("db", namespace).status.update_revision}
