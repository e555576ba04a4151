"""Service DNS as hosts files (pure): every name form a cluster DNS answers, short names only for
the pod's own namespace, headless services to endpoint IPs with per-endpoint hostnames, the pod's
own hostname and subdomain, and the resolv.conf search list."""

from __future__ import annotations

from conftest import make_endpoints, make_pod, make_service

from kubelocal.sandbox.kubelet import hostfiles


def lines_for(content: str, address: str) -> set[str]:
    names: set[str] = set()
    for line in content.splitlines():
        if line.startswith(address + "\t"):
            names.update(line.split("\t", 1)[1].split())
    return names


def test_services_resolve_by_every_cluster_name_and_short_names_stay_in_namespace():
    records = hostfiles.service_records(
        [
            make_service("web", "10.96.0.10", [{"port": 80}]),
            make_service("db", "10.96.0.11", [{"port": 5432}], namespace="data"),
        ],
        [],
    )
    content = hostfiles.hosts_file(hostfiles.PodIdentity("default", "client", "10.244.0.5"), records)
    assert lines_for(content, "10.96.0.10") == {
        "web", "web.default", "web.default.svc", "web.default.svc.cluster.local",
    }  # fmt: skip
    assert lines_for(content, "10.96.0.11") == {"db.data", "db.data.svc", "db.data.svc.cluster.local"}
    assert "client" in lines_for(content, "10.244.0.5")
    assert "localhost" in lines_for(content, "127.0.0.1")


def test_headless_services_resolve_to_ready_endpoints_and_their_hostnames():
    service = make_service("db", None, [{"port": 5432}])
    endpoints = make_endpoints("db", ["10.244.0.8", "10.244.0.9"], [{"port": 5432}])
    endpoints["subsets"][0]["addresses"][0]["hostname"] = "db-0"
    records = hostfiles.service_records([service], [endpoints])
    content = hostfiles.hosts_file(hostfiles.PodIdentity("default", "client", "10.244.0.5"), records)
    assert "db" in lines_for(content, "10.244.0.8")
    assert "db" in lines_for(content, "10.244.0.9")
    assert "db-0.db.default.svc.cluster.local" in lines_for(content, "10.244.0.8")
    assert "db-0.db.default.svc.cluster.local" not in lines_for(content, "10.244.0.9")


def test_external_name_and_unready_headless_services_have_no_records():
    external = make_service("ext", None, [], type="ExternalName", externalName="example.invalid")
    headless = make_service("idle", None, [{"port": 1}])
    assert hostfiles.service_records([external, headless], []) == []


def test_pod_identity_uses_hostname_and_subdomain():
    pod = make_pod("web-0", [], hostname="web-0", subdomain="web")
    identity = hostfiles.pod_identity(pod, "10.244.0.4")
    content = hostfiles.hosts_file(identity, [])
    assert lines_for(content, "10.244.0.4") == {"web-0", "web-0.web.default.svc.cluster.local"}


def test_resolv_conf_searches_the_namespace_first():
    assert "search shop.svc.cluster.local svc.cluster.local cluster.local" in hostfiles.resolv_conf("shop")
