"""The API server through the official `kubernetes` Python client, over TLS with a bearer token.

Covers: authentication (401 without the token, accepted registered ServiceAccount tokens); discovery
and /version; CRUD with real Status errors (404 wording, 409 AlreadyExists, 409 Conflict, 422
Invalid with causes, 400 namespace mismatch, 415 unknown patch type); list with label and field
selectors and limit/continue paging; watch (live events, resume from a resourceVersion, 410 Gone as
ApiException); JSON, merge and strategic merge patches (containers/env/volumes with $patch: delete);
the status and scale subresources; dryRun; cascading deletion (foreground finalizer, orphan),
finalizers and namespace deletion; Table output; pods/log; pods/portforward to a fake pod port.
"""

import json
import threading
import time

import kubernetes
import pytest
from kubernetes.client.rest import ApiException
from kubernetes.stream import portforward


def core(server):
    return kubernetes.client.CoreV1Api(server.client())


def apps(server):
    return kubernetes.client.AppsV1Api(server.client())


def deployment(name="web", replicas=1):
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "web:1",
                            "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                            "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                        },
                        {"name": "sidecar", "image": "side:1"},
                    ],
                    "volumes": [{"name": "data", "emptyDir": {}}],
                },
            },
        },
    }


def pod(name, labels=None):
    return {
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {"containers": [{"name": "app", "image": "x:1"}]},
    }


def status_of(error: ApiException) -> dict:
    return json.loads(error.body)


def test_requests_without_the_token_are_unauthorized_and_registered_tokens_work(api_server):
    http = api_server.http()
    anonymous = http.request("GET", f"{api_server.url}/api/v1/namespaces")
    assert anonymous.status == 401
    assert json.loads(anonymous.data)["reason"] == "Unauthorized"
    assert http.request("GET", f"{api_server.url}/version").status == 200
    token = api_server.call(
        lambda: api_server.tokens.issue_service_account_token(namespace="default", service_account="default")
    )
    as_pod = http.request(
        "GET", f"{api_server.url}/api/v1/namespaces", headers={"Authorization": f"Bearer {token}"}
    )
    assert as_pod.status == 200


def test_discovery_and_version(api_server):
    client = api_server.client()
    version = kubernetes.client.VersionApi(client).get_code()
    assert version.major == "1"
    groups = {g.name for g in kubernetes.client.ApisApi(client).get_api_versions().groups}
    assert {"apps", "batch", "networking.k8s.io", "rbac.authorization.k8s.io", "discovery.k8s.io"} <= groups
    resources = {r.name: r for r in kubernetes.client.CoreV1Api(client).get_api_resources().resources}
    assert resources["pods"].short_names == ["po"] and "watch" in resources["pods"].verbs
    assert "pods/portforward" in resources and "pods/log" in resources


def test_crud_and_status_errors(api_server):
    api = core(api_server)
    created = api.create_namespaced_config_map("default", {"metadata": {"name": "cfg"}, "data": {"a": "1"}})
    assert created.metadata.uid
    with pytest.raises(ApiException) as exists:
        api.create_namespaced_config_map("default", {"metadata": {"name": "cfg"}})
    assert exists.value.status == 409 and status_of(exists.value)["reason"] == "AlreadyExists"
    created.data = {"a": "2"}
    updated = api.replace_namespaced_config_map("cfg", "default", created)
    assert updated.data == {"a": "2"}
    created.data = {"a": "3"}
    with pytest.raises(ApiException) as conflict:
        api.replace_namespaced_config_map("cfg", "default", created)
    assert conflict.value.status == 409
    assert (
        "the object has been modified; please apply your changes to the latest version"
        in (status_of(conflict.value)["message"])
    )
    api.delete_namespaced_config_map("cfg", "default")
    with pytest.raises(ApiException) as missing:
        api.read_namespaced_config_map("cfg", "default")
    assert missing.value.status == 404
    assert status_of(missing.value)["message"] == 'configmaps "cfg" not found'
    with pytest.raises(ApiException) as invalid:
        api.create_namespaced_pod(
            "default", {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}]}}
        )
    status = status_of(invalid.value)
    assert invalid.value.status == 422 and status["reason"] == "Invalid"
    assert status["details"]["causes"] == [
        {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.containers[0].image"}
    ]
    with pytest.raises(ApiException) as mismatch:
        api.create_namespaced_config_map("kube-system", {"metadata": {"name": "x", "namespace": "default"}})
    assert mismatch.value.status == 400
    with pytest.raises(ApiException) as no_namespace:
        api.create_namespaced_config_map("nowhere", {"metadata": {"name": "x"}})
    assert status_of(no_namespace.value)["message"] == 'namespaces "nowhere" not found'


def test_pods_read_back_with_defaults_and_service_account_volume(api_server):
    created = core(api_server).create_namespaced_pod("default", pod("p"))
    assert (created.spec.restart_policy, created.spec.dns_policy, created.spec.node_name) == (
        "Always",
        "ClusterFirst",
        "sandbox-node",
    )
    assert created.spec.volumes[0].name.startswith("kube-api-access-")
    assert (
        created.spec.containers[0].volume_mounts[0].mount_path
        == "/var/run/secrets/kubernetes.io/serviceaccount"
    )
    assert created.status.phase == "Pending"


def test_list_with_selectors_and_paging(api_server):
    api = core(api_server)
    for index in range(5):
        api.create_namespaced_pod("default", pod(f"p{index}", {"app": "web" if index < 3 else "db"}))
    names = [p.metadata.name for p in api.list_namespaced_pod("default", label_selector="app=web").items]
    assert names == ["p0", "p1", "p2"]
    names = [
        p.metadata.name for p in api.list_namespaced_pod("default", field_selector="metadata.name!=p0").items
    ]
    assert names == ["p1", "p2", "p3", "p4"]
    first = api.list_namespaced_pod("default", limit=2)
    assert [p.metadata.name for p in first.items] == ["p0", "p1"]
    assert first.metadata.remaining_item_count == 3
    second = api.list_namespaced_pod("default", limit=2, _continue=first.metadata._continue)
    assert [p.metadata.name for p in second.items] == ["p2", "p3"]
    everywhere = api.list_pod_for_all_namespaces(label_selector="app=db")
    assert [p.metadata.name for p in everywhere.items] == ["p3", "p4"]


def test_watch_streams_events_and_resumes(api_server):
    api = core(api_server)
    listed = api.list_namespaced_config_map("default")
    watcher = kubernetes.watch.Watch()
    seen = []

    def create_later():
        time.sleep(0.2)
        api.create_namespaced_config_map("default", {"metadata": {"name": "a", "labels": {"w": "1"}}})
        api.patch_namespaced_config_map("a", "default", {"data": {"k": "v"}})
        api.delete_namespaced_config_map("a", "default")

    thread = threading.Thread(target=create_later)
    thread.start()
    for event in watcher.stream(
        api.list_namespaced_config_map,
        "default",
        resource_version=listed.metadata.resource_version,
        label_selector="w=1",
        timeout_seconds=5,
    ):
        seen.append((event["type"], event["object"].metadata.name))
        if len(seen) == 3:
            watcher.stop()
    thread.join()
    assert seen == [("ADDED", "a"), ("MODIFIED", "a"), ("DELETED", "a")]


def test_watch_from_a_compacted_resource_version_raises_gone(api_server):
    api = core(api_server)
    old = api.create_namespaced_config_map("default", {"metadata": {"name": "old"}}).metadata.resource_version
    for index in range(210):  # the fixture keeps 200 changes
        api.create_namespaced_config_map("default", {"metadata": {"name": f"n{index}"}})
    with pytest.raises(ApiException) as gone:
        for _ in kubernetes.watch.Watch().stream(
            api.list_namespaced_config_map, "default", resource_version=old, timeout_seconds=2
        ):
            pass
    assert gone.value.status == 410


def test_json_merge_and_strategic_merge_patches(api_server):
    api = apps(api_server)
    api.create_namespaced_deployment("default", deployment())
    merged = api.patch_namespaced_deployment(
        "web",
        "default",
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {"name": "sidecar", "$patch": "delete"},
                            {
                                "name": "app",
                                "image": "web:2",
                                "env": [{"name": "A", "$patch": "delete"}],
                                "volumeMounts": [{"mountPath": "/data", "$patch": "delete"}],
                            },
                        ],
                        "volumes": [{"name": "data", "$patch": "delete"}],
                    }
                }
            }
        },
    )
    # The Python client sends dict patches as strategic merge patches.
    containers = merged.spec.template.spec.containers
    assert [(c.name, c.image) for c in containers] == [("app", "web:2")]
    assert [(e.name, e.value) for e in containers[0].env] == [("B", "2")]
    assert merged.spec.template.spec.volumes is None
    assert merged.metadata.generation == 2

    client = api_server.client()
    client.set_default_header("Content-Type", "application/json-patch+json")
    patched = kubernetes.client.AppsV1Api(client).patch_namespaced_deployment(
        "web", "default", [{"op": "replace", "path": "/spec/replicas", "value": 4}]
    )
    assert patched.spec.replicas == 4
    client.set_default_header("Content-Type", "application/merge-patch+json")
    labelled = kubernetes.client.AppsV1Api(client).patch_namespaced_deployment(
        "web", "default", {"metadata": {"labels": {"tier": "front"}}}
    )
    assert labelled.metadata.labels == {"app": "web", "tier": "front"}
    with pytest.raises(ApiException) as failed_test:
        client.set_default_header("Content-Type", "application/json-patch+json")
        kubernetes.client.AppsV1Api(client).patch_namespaced_deployment(
            "web", "default", [{"op": "test", "path": "/spec/replicas", "value": 1}]
        )
    assert failed_test.value.status == 400
    raw = client.rest_client.pool_manager.request(
        "PATCH",
        f"{api_server.url}/apis/apps/v1/namespaces/default/deployments/web",
        body=b"{}",
        headers={"Content-Type": "text/plain", "Authorization": f"Bearer {api_server.token}"},
    )
    assert raw.status == 415


def test_status_and_scale_subresources_and_dry_run(api_server):
    api = apps(api_server)
    api.create_namespaced_deployment("default", deployment())
    api.patch_namespaced_deployment_status("web", "default", {"status": {"replicas": 1, "readyReplicas": 1}})
    current = api.read_namespaced_deployment("web", "default")
    assert current.status.ready_replicas == 1 and current.metadata.generation == 1
    scale = api.patch_namespaced_deployment_scale("web", "default", {"spec": {"replicas": 3}})
    assert scale.spec.replicas == 3 and scale.status.selector == "app=web"
    assert api.read_namespaced_deployment("web", "default").spec.replicas == 3
    dry = api.patch_namespaced_deployment("web", "default", {"spec": {"replicas": 9}}, dry_run="All")
    assert dry.spec.replicas == 9
    assert api.read_namespaced_deployment("web", "default").spec.replicas == 3


def test_cascading_deletion_finalizers_and_namespace_deletion(api_server):
    api = core(api_server)
    owner = api.create_namespaced_config_map("default", {"metadata": {"name": "owner"}})
    reference = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner.metadata.uid}
    api.create_namespaced_config_map(
        "default", {"metadata": {"name": "child", "ownerReferences": [reference]}}
    )
    body = kubernetes.client.V1DeleteOptions(propagation_policy="Foreground")
    api.delete_namespaced_config_map("owner", "default", body=body)
    waiting = api.read_namespaced_config_map("owner", "default")
    assert waiting.metadata.finalizers == ["foregroundDeletion"] and waiting.metadata.deletion_timestamp
    api.delete_namespaced_config_map("child", "default")
    with pytest.raises(ApiException):
        api.read_namespaced_config_map("owner", "default")

    api.create_namespace({"metadata": {"name": "team"}})
    api.create_namespaced_config_map("team", {"metadata": {"name": "held", "finalizers": ["example.com/x"]}})
    api.delete_namespace("team")
    assert api.read_namespace("team").status.phase == "Terminating"
    api.patch_namespaced_config_map("held", "team", {"metadata": {"$patch": "merge", "finalizers": None}})
    with pytest.raises(ApiException) as gone:
        api.read_namespace("team")
    assert gone.value.status == 404


def test_table_output_for_pods(api_server):
    core(api_server).create_namespaced_pod("default", pod("p"))
    http = api_server.http()
    response = http.request(
        "GET",
        f"{api_server.url}/api/v1/namespaces/default/pods",
        headers={
            "Authorization": f"Bearer {api_server.token}",
            "Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
        },
    )
    table = json.loads(response.data)
    assert table["kind"] == "Table"
    assert [c["name"] for c in table["columnDefinitions"]][:5] == [
        "Name",
        "Ready",
        "Status",
        "Restarts",
        "Age",
    ]
    assert table["rows"][0]["cells"][:4] == ["p", "0/1", "Pending", 0]


def test_pod_logs(api_server):
    api = core(api_server)
    api.create_namespaced_pod("default", pod("p"))
    assert api.read_namespaced_pod_log("p", "default", tail_lines=2) == "p/app line 4\np/app line 5\n"
    assert "(previous)" in api.read_namespaced_pod_log("p", "default", previous=True)
    followed = (
        api.read_namespaced_pod_log("p", "default", follow=True, _preload_content=False).read().decode()
    )
    assert followed.endswith("p/app line 5\np/app followed\n")
    with pytest.raises(ApiException) as wrong:
        api.read_namespaced_pod_log("p", "default", container="nope")
    assert wrong.value.status == 400


def test_port_forward_relays_to_the_pod_port_and_reports_errors(api_server):
    api = core(api_server)
    api.create_namespaced_pod("default", pod("p"))
    forward = portforward(api.connect_get_namespaced_pod_portforward, "p", "default", ports="8080,1")
    connection = forward.socket(8080)
    connection.settimeout(5)
    connection.sendall(b"hello through the tunnel")
    received = b""
    while len(received) < len(b"hello through the tunnel"):
        received += connection.recv(1024)
    assert received == b"hello through the tunnel"
    connection.close()
    deadline = time.monotonic() + 5
    while forward.error(1) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "nothing listens on port 1" in forward.error(1)
    forward.close()
    assert ("default", "p", 8080) in api_server.kubelet.opened
