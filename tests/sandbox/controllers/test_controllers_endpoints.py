"""Endpoints and EndpointSlices decisions: ready vs not-ready addresses, named targetPort resolution,
pods without IP or terminating, selector-less services left alone, slice labels/owner/conditions,
no update at steady state, cleanup when the service goes."""

import datetime

from kubelocal.sandbox.controllers import actions, endpoints

NOW = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.UTC)


def make_service(world, **spec):
    body = {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}], **spec}
    return world.add("services", {"metadata": {"name": "web", "labels": {"tier": "front"}}, "spec": body})


def make_pod(world, name, *, ready=True, ip="10.0.0.1", labels=None):
    pod = world.add(
        "pods",
        {"metadata": {"name": name, "labels": labels or {"app": "web"}}, "spec": world.template()["spec"]},
    )
    if ip:
        world.set_pod(pod, phase="Running", ready=ready, ip=ip)
    return pod


def sync(world):
    service = world.get("services", "web")
    existing = world.objects.get(("endpoints", "default", "web"))
    decision = endpoints.reconcile_endpoints(
        service, existing, world.of("pods"), name="web", namespace="default", now=NOW
    )
    world.apply(decision)
    slices = endpoints.reconcile_slices(service, world.of("endpointslices"), world.of("pods"), now=NOW)
    world.apply(slices)
    return decision.actions + slices.actions


def test_ready_and_not_ready_pods_with_named_port_resolved(world):
    make_service(world)
    make_pod(world, "a", ready=True, ip="10.0.0.1")
    make_pod(world, "b", ready=False, ip="10.0.0.2")
    make_pod(world, "c", ip=None)
    make_pod(world, "other", labels={"app": "other"}, ip="10.0.0.9")
    sync(world)
    (subset,) = world.get("endpoints", "web")["subsets"]
    assert [a["ip"] for a in subset["addresses"]] == ["10.0.0.1"]
    assert [a["ip"] for a in subset["notReadyAddresses"]] == ["10.0.0.2"]
    assert subset["addresses"][0]["targetRef"]["name"] == "a"
    assert subset["ports"] == [{"port": 8080, "protocol": "TCP", "name": "http"}]
    assert world.get("endpoints", "web")["metadata"]["labels"] == {"tier": "front"}


def test_slice_has_kube_labels_owner_and_conditions(world):
    service = make_service(world)
    make_pod(world, "a", ready=True, ip="10.0.0.1")
    terminating = make_pod(world, "b", ready=True, ip="10.0.0.2")
    terminating["metadata"]["deletionTimestamp"] = "2026-01-01T12:00:00Z"
    sync(world)
    (endpoint_slice,) = world.of("endpointslices")
    labels = endpoint_slice["metadata"]["labels"]
    assert labels["kubernetes.io/service-name"] == "web"
    assert labels["endpointslice.kubernetes.io/managed-by"] == "endpointslice-controller.k8s.io"
    assert endpoint_slice["metadata"]["ownerReferences"][0]["uid"] == service["metadata"]["uid"]
    assert endpoint_slice["addressType"] == "IPv4"
    by_ip = {e["addresses"][0]: e["conditions"] for e in endpoint_slice["endpoints"]}
    assert by_ip == {
        "10.0.0.1": {"ready": True, "serving": True, "terminating": False},
        "10.0.0.2": {"ready": False, "serving": True, "terminating": True},
    }
    # The terminating pod is not in Endpoints at all.
    (subset,) = world.get("endpoints", "web")["subsets"]
    assert [a["ip"] for a in subset["addresses"]] == ["10.0.0.1"]


def test_steady_state_writes_nothing_and_changes_update_in_place(world):
    make_service(world)
    pod = make_pod(world, "a", ready=False)
    sync(world)
    assert sync(world) == []
    world.set_pod(pod, phase="Running", ready=True)
    changes = sync(world)
    assert {type(a) for a in changes} == {actions.Update}
    assert len(world.of("endpointslices")) == 1


def test_numeric_target_port_and_publish_not_ready(world):
    make_service(world, ports=[{"port": 80, "targetPort": 9000}], publishNotReadyAddresses=True)
    make_pod(world, "a", ready=False)
    sync(world)
    (subset,) = world.get("endpoints", "web")["subsets"]
    assert subset["ports"] == [{"port": 9000, "protocol": "TCP"}]
    assert [a["ip"] for a in subset["addresses"]] == ["10.0.0.1"]


def test_services_without_selector_are_left_to_their_owner(world):
    service = world.add("services", {"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}})
    assert (
        endpoints.reconcile_endpoints(service, None, [], name="web", namespace="default", now=NOW).actions
        == []
    )
    assert endpoints.reconcile_slices(service, [], [], now=NOW).actions == []


def test_endpoints_go_with_their_service(world):
    make_service(world)
    sync(world)
    ep = world.get("endpoints", "web")
    decision = endpoints.reconcile_endpoints(None, ep, [], name="web", namespace="default", now=NOW)
    assert [(a.resource, a.name) for a in decision.actions] == [("endpoints", "web")]
