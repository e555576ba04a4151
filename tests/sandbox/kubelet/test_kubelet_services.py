"""Services seen from the node (pure): the proxy table from Endpoints and EndpointSlices (named
ports, not-ready endpoints, services without endpoints, headless and UDP ports skipped), and the
ports a stand-in must open (declared, probed, targeted by name or number)."""

from __future__ import annotations

from conftest import make_pod, make_service

from kubelocal.sandbox.kubelet import services


def test_proxy_table_maps_cluster_ports_to_ready_backends_by_port_name():
    web = make_service("web", "10.96.0.10", [{"name": "http", "port": 80}, {"name": "admin", "port": 81}])
    endpoints = {
        "kind": "Endpoints",
        "metadata": {"name": "web", "namespace": "default"},
        "subsets": [
            {
                "addresses": [{"ip": "10.244.0.3"}, {"ip": "10.244.0.2"}],
                "notReadyAddresses": [{"ip": "10.244.0.9"}],
                "ports": [{"name": "http", "port": 8080}, {"name": "admin", "port": 9090}],
            }
        ],
    }
    idle = make_service("idle", "10.96.0.11", [{"port": 80}])
    udp = make_service("dns", "10.96.0.12", [{"port": 53, "protocol": "UDP"}])
    table = services.proxy_table([web, idle, udp, make_service("headless", None, [{"port": 1}])], [endpoints])
    assert table == {
        ("10.96.0.10", 80): [("10.244.0.2", 8080), ("10.244.0.3", 8080)],
        ("10.96.0.10", 81): [("10.244.0.2", 9090), ("10.244.0.3", 9090)],
        ("10.96.0.11", 80): [],
    }


def test_proxy_table_reads_endpoint_slices():
    web = make_service("web", "10.96.0.10", [{"port": 80}])
    slice_ = {
        "kind": "EndpointSlice",
        "metadata": {
            "name": "web-abc",
            "namespace": "default",
            "labels": {"kubernetes.io/service-name": "web"},
        },
        "ports": [{"port": 8080, "protocol": "TCP"}],
        "endpoints": [
            {"addresses": ["10.244.0.5"], "conditions": {"ready": True}},
            {"addresses": ["10.244.0.6"], "conditions": {"ready": False}},
        ],
    }
    assert services.proxy_table([web], [slice_]) == {("10.96.0.10", 80): [("10.244.0.5", 8080)]}


def test_stand_in_ports_cover_declared_probed_and_targeted_ports():
    container = {
        "name": "redis",
        "image": "redis:7",
        "ports": [{"name": "redis", "containerPort": 6379}],
        "livenessProbe": {"tcpSocket": {"port": 6380}},
    }
    pod = make_pod("cache", [container])
    by_name = make_service("cache", "10.96.0.20", [{"port": 6379, "targetPort": "redis"}])
    by_number = make_service("cache-metrics", "10.96.0.21", [{"port": 80, "targetPort": 9121}])
    by_number["spec"]["selector"] = {"app": "cache"}
    other = make_service("other", "10.96.0.22", [{"port": 80, "targetPort": 7000}])
    ports = services.stand_in_ports(
        pod=pod, container=container, services=[by_name, by_number, other], only_stand_ins=True
    )
    assert ports == [6379, 6380, 9121]
    ports = services.stand_in_ports(
        pod=pod, container=container, services=[by_name, by_number], only_stand_ins=False
    )
    assert ports == [6379, 6380]


def test_selects_needs_a_non_empty_matching_selector():
    pod = make_pod("web", [])
    assert services.selects(make_service("web", "10.96.0.1", []), pod)
    assert not services.selects(make_service("db", "10.96.0.1", []), pod)
    no_selector = make_service("web", "10.96.0.1", [])
    no_selector["spec"]["selector"] = {}
    assert not services.selects(no_selector, pod)
