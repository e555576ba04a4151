"""The in-process store: the API server's semantics without HTTP.

Covers: initial state of a fresh cluster; create/get/list/update/delete with resourceVersion from
one counter; generateName; AlreadyExists and NotFound wording; 409 Conflict on a stale update;
generation bumps on spec changes only; the status subresource; label and field selectors in list;
watch from a resourceVersion, from "0", 410 Gone after the history is compacted, selector-driven
ADDED/DELETED transitions; finalizers, foreground/orphan propagation, graceful pod deletion;
namespaces (missing -> 404, terminating -> 403, deletion removes contents, default ServiceAccount);
Service ClusterIP allocation.
"""

import asyncio

import pytest

from kubelocal.sandbox import errors, kinds, store


def pod(name, labels=None, **spec):
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}], **spec},
    }


def config_map(name, **data):
    return {"metadata": {"name": name}, "data": data}


@pytest.fixture
def cluster():
    return store.Store(graceful_pod_deletion=False)


def test_fresh_cluster_has_the_initial_namespaces_service_accounts_node_and_kubernetes_service(cluster):
    names = [ns["metadata"]["name"] for ns in cluster.list(kinds.NAMESPACES)[0]]
    assert sorted(names) == ["default", "kube-node-lease", "kube-public", "kube-system"]
    accounts = cluster.list(kinds.SERVICE_ACCOUNTS)[0]
    assert sorted(sa["metadata"]["namespace"] for sa in accounts) == sorted(names)
    assert cluster.get(kinds.SERVICES, "default", "kubernetes")["spec"]["clusterIP"] == "10.96.0.1"
    assert cluster.get(kinds.NODES, None, "sandbox-node")["metadata"]["name"] == "sandbox-node"


def test_create_sets_server_fields_and_resource_versions_increase(cluster):
    first = cluster.create(kinds.CONFIG_MAPS, config_map("a", x="1"))
    second = cluster.create(kinds.CONFIG_MAPS, config_map("b"), namespace="kube-system")
    assert first["metadata"]["uid"] and first["metadata"]["creationTimestamp"]
    assert first["metadata"]["namespace"] == "default"
    assert second["metadata"]["namespace"] == "kube-system"
    assert int(second["metadata"]["resourceVersion"]) > int(first["metadata"]["resourceVersion"])
    items, list_version = cluster.list(kinds.CONFIG_MAPS)
    assert int(list_version) >= int(second["metadata"]["resourceVersion"])
    assert [i["metadata"]["name"] for i in items] == ["a", "b"]
    assert [i["metadata"]["name"] for i in cluster.list(kinds.CONFIG_MAPS, "kube-system")[0]] == ["b"]


def test_returned_objects_are_copies(cluster):
    created = cluster.create(kinds.CONFIG_MAPS, config_map("a", x="1"))
    created["data"]["x"] = "changed"
    assert cluster.get(kinds.CONFIG_MAPS, "default", "a")["data"]["x"] == "1"


def test_generate_name_appends_five_characters(cluster):
    created = cluster.create(kinds.CONFIG_MAPS, {"metadata": {"generateName": "web-"}})
    assert created["metadata"]["name"].startswith("web-")
    assert len(created["metadata"]["name"]) == len("web-") + 5


def test_already_exists_and_not_found_use_the_real_wording(cluster):
    cluster.create(kinds.DEPLOYMENTS, _deployment("web"))
    with pytest.raises(errors.AlreadyExists) as exists:
        cluster.create(kinds.DEPLOYMENTS, _deployment("web"))
    assert exists.value.message == 'deployments.apps "web" already exists'
    with pytest.raises(errors.NotFound) as missing:
        cluster.get(kinds.PODS, "default", "nope")
    assert missing.value.to_status()["message"] == 'pods "nope" not found'
    assert missing.value.to_status()["code"] == 404


def test_stale_update_conflicts_and_a_fresh_one_succeeds(cluster):
    created = cluster.create(kinds.CONFIG_MAPS, config_map("a", x="1"))
    fresh = dict(created, data={"x": "2"})
    updated = cluster.update(kinds.CONFIG_MAPS, fresh)
    assert updated["data"] == {"x": "2"}
    stale = dict(created, data={"x": "3"})
    with pytest.raises(errors.Conflict) as conflict:
        cluster.update(kinds.CONFIG_MAPS, stale)
    assert "the object has been modified; please apply your changes" in conflict.value.message
    assert conflict.value.code == 409


def test_generation_bumps_on_spec_change_only(cluster):
    created = cluster.create(kinds.DEPLOYMENTS, _deployment("web"))
    assert created["metadata"]["generation"] == 1
    labelled = created | {"metadata": created["metadata"] | {"labels": {"x": "y"}}}
    labelled = cluster.update(kinds.DEPLOYMENTS, labelled)
    assert labelled["metadata"]["generation"] == 1
    labelled["spec"]["replicas"] = 3
    scaled = cluster.update(kinds.DEPLOYMENTS, labelled)
    assert scaled["metadata"]["generation"] == 2
    scaled["status"] = {"observedGeneration": 2, "replicas": 3}
    with_status = cluster.update(kinds.DEPLOYMENTS, scaled, subresource="status")
    assert with_status["metadata"]["generation"] == 2
    assert with_status["status"]["observedGeneration"] == 2


def test_status_is_kept_by_main_updates_and_only_changed_by_the_status_subresource(cluster):
    created = cluster.create(kinds.PODS, pod("p"))
    created["status"] = {"phase": "Running"}
    created["spec"]["activeDeadlineSeconds"] = 100
    updated = cluster.update(kinds.PODS, created)
    assert updated["status"]["phase"] == "Pending"
    assert updated["spec"]["activeDeadlineSeconds"] == 100
    updated["status"] = {"phase": "Running"}
    updated["spec"]["activeDeadlineSeconds"] = 5
    running = cluster.update(kinds.PODS, updated, subresource="status")
    assert running["status"]["phase"] == "Running"
    assert running["spec"]["activeDeadlineSeconds"] == 100


def test_a_no_op_update_keeps_the_resource_version(cluster):
    created = cluster.create(kinds.CONFIG_MAPS, config_map("a", x="1"))
    again = cluster.update(kinds.CONFIG_MAPS, created)
    assert again["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


def test_list_with_label_and_field_selectors(cluster):
    cluster.create(kinds.PODS, pod("a", {"app": "web", "tier": "front"}))
    cluster.create(kinds.PODS, pod("b", {"app": "web", "tier": "back"}))
    cluster.create(kinds.PODS, pod("c", {"app": "db"}))

    def names(**selectors):
        return [p["metadata"]["name"] for p in cluster.list(kinds.PODS, "default", **selectors)[0]]

    assert names(label_selector="app=web") == ["a", "b"]
    assert names(label_selector="app=web,tier!=back") == ["a"]
    assert names(label_selector="tier in (front,back),app") == ["a", "b"]
    assert names(label_selector="!tier") == ["c"]
    assert names(label_selector="app notin (web)") == ["c"]
    assert names(field_selector="metadata.name=b") == ["b"]
    assert names(field_selector="spec.nodeName=sandbox-node,metadata.name!=a") == ["b", "c"]
    assert names(field_selector="status.phase=Pending", label_selector="app=db") == ["c"]
    with pytest.raises(errors.BadRequest):
        names(field_selector="spec.image=x")


async def test_watch_from_a_resource_version_replays_later_changes_then_streams_live(cluster):
    first = cluster.create(kinds.CONFIG_MAPS, config_map("a"))
    cluster.create(kinds.CONFIG_MAPS, config_map("b"))
    stream = cluster.watch(
        kinds.CONFIG_MAPS, "default", resource_version=first["metadata"]["resourceVersion"]
    )
    cluster.delete(kinds.CONFIG_MAPS, "default", "a")
    events = [await asyncio.wait_for(anext(stream), 1) for _ in range(2)]
    assert [(e.type, e.object["metadata"]["name"]) for e in events] == [("ADDED", "b"), ("DELETED", "a")]
    await stream.aclose()


async def test_watch_from_zero_starts_with_current_objects(cluster):
    cluster.create(kinds.CONFIG_MAPS, config_map("a"))
    stream = cluster.watch(kinds.CONFIG_MAPS, "default", resource_version="0")
    first = await asyncio.wait_for(anext(stream), 1)
    assert (first.type, first.object["metadata"]["name"]) == ("ADDED", "a")
    cluster.create(kinds.CONFIG_MAPS, config_map("b"))
    second = await asyncio.wait_for(anext(stream), 1)
    assert (second.type, second.object["metadata"]["name"]) == ("ADDED", "b")
    stream.close()


async def test_watch_with_selector_sees_objects_enter_and_leave(cluster):
    created = cluster.create(kinds.PODS, pod("a", {"app": "web"}))
    stream = cluster.watch(
        kinds.PODS, "default", resource_version=cluster.resource_version, label_selector="app=web"
    )
    created["metadata"]["labels"] = {"app": "other"}
    relabelled = cluster.update(kinds.PODS, created)
    relabelled["metadata"]["labels"] = {"app": "web"}
    cluster.update(kinds.PODS, relabelled)
    events = [await asyncio.wait_for(anext(stream), 1) for _ in range(2)]
    assert [e.type for e in events] == ["DELETED", "ADDED"]
    stream.close()


def test_watch_from_a_compacted_resource_version_is_gone():
    small = store.Store(history_size=3)
    old = small.create(kinds.CONFIG_MAPS, config_map("a"))["metadata"]["resourceVersion"]
    for index in range(5):
        small.create(kinds.CONFIG_MAPS, config_map(f"n{index}"))
    with pytest.raises(errors.Gone) as gone:
        small.watch(kinds.CONFIG_MAPS, resource_version=old)
    assert gone.value.code == 410
    assert gone.value.to_status()["reason"] == "Expired"


def test_finalizers_keep_the_object_until_they_are_removed(cluster):
    cluster.create(kinds.CONFIG_MAPS, {"metadata": {"name": "a", "finalizers": ["example.com/hold"]}})
    deleting = cluster.delete(kinds.CONFIG_MAPS, "default", "a")
    assert deleting["metadata"]["deletionTimestamp"]
    assert cluster.get(kinds.CONFIG_MAPS, "default", "a")["metadata"]["deletionTimestamp"]
    deleting["metadata"]["finalizers"] = []
    cluster.update(kinds.CONFIG_MAPS, deleting)
    with pytest.raises(errors.NotFound):
        cluster.get(kinds.CONFIG_MAPS, "default", "a")


def test_foreground_deletion_waits_for_dependents_and_orphan_strips_owner_references(cluster):
    owner = cluster.create(kinds.CONFIG_MAPS, config_map("owner"))
    reference = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner["metadata"]["uid"]}
    cluster.create(kinds.CONFIG_MAPS, {"metadata": {"name": "child", "ownerReferences": [reference]}})
    deleting = cluster.delete(kinds.CONFIG_MAPS, "default", "owner", propagation="Foreground")
    assert deleting["metadata"]["finalizers"] == ["foregroundDeletion"]
    cluster.delete(kinds.CONFIG_MAPS, "default", "child")  # what the garbage collector does
    with pytest.raises(errors.NotFound):
        cluster.get(kinds.CONFIG_MAPS, "default", "owner")

    owner = cluster.create(kinds.CONFIG_MAPS, config_map("owner2"))
    reference = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner2", "uid": owner["metadata"]["uid"]}
    cluster.create(kinds.CONFIG_MAPS, {"metadata": {"name": "child2", "ownerReferences": [reference]}})
    cluster.delete(kinds.CONFIG_MAPS, "default", "owner2", propagation="Orphan")
    assert "ownerReferences" not in cluster.get(kinds.CONFIG_MAPS, "default", "child2")["metadata"]


def test_pods_are_deleted_gracefully_until_confirmed_with_grace_zero():
    cluster = store.Store()
    cluster.create(kinds.PODS, pod("p"))
    terminating = cluster.delete(kinds.PODS, "default", "p")
    assert terminating["metadata"]["deletionGracePeriodSeconds"] == 30
    assert cluster.get(kinds.PODS, "default", "p")["metadata"]["deletionTimestamp"]
    cluster.delete(kinds.PODS, "default", "p", grace_period_seconds=0)
    with pytest.raises(errors.NotFound):
        cluster.get(kinds.PODS, "default", "p")


def test_delete_preconditions(cluster):
    cluster.create(kinds.CONFIG_MAPS, config_map("a"))
    with pytest.raises(errors.Conflict):
        cluster.delete(kinds.CONFIG_MAPS, "default", "a", preconditions={"uid": "not-it"})


def test_namespaces_missing_terminating_and_deleted_with_contents(cluster):
    with pytest.raises(errors.NotFound) as missing:
        cluster.create(kinds.CONFIG_MAPS, config_map("a"), namespace="team")
    assert missing.value.message == 'namespaces "team" not found'
    cluster.create(kinds.NAMESPACES, {"metadata": {"name": "team"}})
    assert cluster.get(kinds.SERVICE_ACCOUNTS, "team", "default")
    cluster.create(kinds.CONFIG_MAPS, {"metadata": {"name": "held", "finalizers": ["x/y"]}}, namespace="team")
    cluster.create(kinds.CONFIG_MAPS, config_map("free"), namespace="team")
    terminating = cluster.delete(kinds.NAMESPACES, None, "team")
    assert terminating["status"]["phase"] == "Terminating"
    assert [c["metadata"]["name"] for c in cluster.list(kinds.CONFIG_MAPS, "team")[0]] == ["held"]
    with pytest.raises(errors.Forbidden):
        cluster.create(kinds.CONFIG_MAPS, config_map("late"), namespace="team")
    held = cluster.get(kinds.CONFIG_MAPS, "team", "held")
    held["metadata"]["finalizers"] = []
    cluster.update(kinds.CONFIG_MAPS, held)
    with pytest.raises(errors.NotFound):
        cluster.get(kinds.NAMESPACES, None, "team")


def test_services_get_cluster_ips_that_are_released_and_cannot_be_taken_twice(cluster):
    service = {"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}
    created = cluster.create(kinds.SERVICES, service)
    address = created["spec"]["clusterIP"]
    assert address.startswith("10.96.") and address != "10.96.0.1"
    assert created["spec"]["ports"][0] == {"port": 80, "protocol": "TCP", "targetPort": 80}
    taken = {"metadata": {"name": "copy"}, "spec": {"clusterIP": address, "ports": [{"port": 80}]}}
    with pytest.raises(errors.Invalid):
        cluster.create(kinds.SERVICES, taken)
    cluster.delete(kinds.SERVICES, "default", "web")
    assert cluster.create(kinds.SERVICES, taken)["spec"]["clusterIP"] == address
    headless = {"metadata": {"name": "h"}, "spec": {"clusterIP": "None", "ports": [{"port": 80}]}}
    assert cluster.create(kinds.SERVICES, headless)["spec"]["clusterIP"] == "None"


def _deployment(name):
    return {
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "nginx"}]},
            },
        },
    }
