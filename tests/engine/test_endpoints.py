"""Workstation endpoints and the mode choice.

Aspects covered:
- choose_mode: auto picks hosts when the hosts file is writable, no-admin otherwise, each with a
  reason to print; forcing either works; forcing hosts without rights says what to do; unknown mode
- which services: every service of the namespace, others only when the config names them; a named
  service that does not exist is an error naming it; a service listed twice counts once; TCP ports
  only; services without TCP ports skipped with a note
- ignore-ports: the original annotation and the kubelocal alias, with spaces and junk words
- hosts mode: one IP per endpoint from 127.1.1.1, real ports, names (bare name only in the own
  namespace, qualified forms with the cluster domain); a taken real port moves to a free port with
  a note; IPs skip .0/.255 across the third octet
- no-admin mode: 127.0.0.1, ports from 55049 upward skipping taken ones and the redirected ports
- headless services: the service name dialled by DNS, plus one endpoint per ready address with a
  hostname (StatefulSet pods), ports taken from the slices when the service declares none
- ExternalName services dialled at their external name; external endpoints from the config merged
  per host, case-insensitive
- redirected ports: defaults to the same numbers, --local-port in the service's order then the other
  declared ports, too many / duplicate / out-of-range values refused
- determinism: input order does not change the allocation (hypothesis), no port handed out twice
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubelocal.engine import endpoints, errors, targets

from . import objects as k

HOSTS = endpoints.Mode.HOSTS
NO_ADMIN = endpoints.Mode.NO_ADMIN


def svc(name, namespace=k.NAMESPACE, ports=((None, 80),), cluster_ip="10.96.0.10", annotations=None, **spec):
    body = k.service(
        name,
        ports=[
            {"name": n, "port": p, "protocol": proto, "targetPort": p}
            for n, p, proto in ((*entry, "TCP")[:3] for entry in ports)
        ],
        cluster_ip=cluster_ip,
        **spec,
    )
    for port in body["spec"]["ports"]:
        if port["name"] is None:
            del port["name"]
    body["metadata"]["namespace"] = namespace
    if annotations:
        body["metadata"]["annotations"] = annotations
    return body


def plan(services, mode=HOSTS, **kwargs):
    return endpoints.plan(mode=mode, namespace=k.NAMESPACE, services=services, **kwargs)


# --- choose_mode ----------------------------------------------------------------------------------------


def test_auto_mode_follows_the_right_to_write_hosts():
    mode, reason = endpoints.choose_mode(True, "auto")
    assert mode is HOSTS and "127.1.1.x" in reason
    mode, reason = endpoints.choose_mode(False, "auto")
    assert mode is NO_ADMIN and "not writable" in reason and "administrator" in reason


def test_forced_modes():
    assert endpoints.choose_mode(True, "no-admin")[0] is NO_ADMIN
    assert endpoints.choose_mode(True, "hosts")[0] is HOSTS
    with pytest.raises(errors.ModeError, match="sudo") as caught:
        endpoints.choose_mode(False, "hosts")
    assert "--mode no-admin" in str(caught.value)
    with pytest.raises(errors.ModeError, match="auto, hosts or no-admin"):
        endpoints.choose_mode(True, "fast")


# --- which services ---------------------------------------------------------------------------------------


def test_hosts_mode_gives_each_service_an_ip_and_its_real_ports():
    result = plan([svc("web", ports=(("http", 80), ("https", 443))), svc("api", cluster_ip="10.96.0.11")])
    api, web = result.endpoints
    assert (api.service, api.workstation_ip, api.cluster_host) == ("api", "127.1.1.1", "10.96.0.11")
    assert web.workstation_ip == "127.1.1.2"
    assert web.ports == (
        endpoints.PortAllocation("http", 80, 80),
        endpoints.PortAllocation("https", 443, 443),
    )
    assert web.hostnames == ("web", "web.shop", "web.shop.svc", "web.shop.svc.cluster.local")
    assert result.service("web") is web and result.service("web", "other") is None


def test_other_namespaces_only_when_named_and_without_the_bare_name():
    services = [svc("api"), svc("redis", namespace="cache"), svc("ldap", namespace="infra")]
    result = plan(services, wanted_services=[("redis", "cache")], cluster_domain="corp.internal")
    assert [(e.service, e.namespace) for e in result.endpoints] == [("redis", "cache"), ("api", "shop")]
    redis = result.service("redis", "cache")
    assert redis.hostnames == ("redis.cache", "redis.cache.svc", "redis.cache.svc.corp.internal")


def test_a_service_listed_twice_gets_one_endpoint():
    api = svc("api")
    result = plan([api, dict(api)], wanted_services=[("api", "shop")])
    assert [e.service for e in result.endpoints] == ["api"]


def test_named_service_that_does_not_exist():
    with pytest.raises(errors.EndpointError, match=r"redis\.cache") as caught:
        plan([svc("api")], wanted_services=[("redis", "cache")])
    assert "KubernetesLocalProcessConfig.yaml" in str(caught.value)


def test_only_tcp_ports_and_port_less_services_are_skipped_with_a_note():
    result = plan(
        [
            svc("dns", ports=(("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"))),
            svc("syslog", ports=((None, 514, "UDP"),)),
        ]
    )
    assert [(e.service, [p.name for p in e.ports]) for e in result.endpoints] == [("dns", ["dns-tcp"])]
    assert any("syslog.shop has no TCP port" in note for note in result.notes)


@pytest.mark.parametrize(
    "annotations",
    [{"bridgetokubernetes/ignore-ports": "445,23"}, {"kubelocal.dev/ignore-ports": " 445 , 23, junk,"}],
)
def test_ignore_ports_annotations(annotations):
    files = svc("files", ports=(("smb", 445), ("telnet", 23), ("http", 80)), annotations=annotations)
    (endpoint,) = plan([files]).endpoints
    assert [p.cluster_port for p in endpoint.ports] == [80]


def test_all_ports_ignored_skips_the_service():
    files = svc("files", ports=(("smb", 445),), annotations={"bridgetokubernetes/ignore-ports": "445"})
    assert plan([files]).endpoints == ()


# --- modes ---


def test_hosts_mode_moves_a_taken_real_port_with_a_note():
    def is_free(ip, port):
        return not (ip == "127.1.1.1" and port == 80)

    result = plan([svc("web", ports=(("http", 80), ("https", 443)))], is_port_free=is_free)
    (web,) = result.endpoints
    assert web.ports == (
        endpoints.PortAllocation("http", 80, 55049),
        endpoints.PortAllocation("https", 443, 443),
    )
    assert any(
        "Port 80 of service web.shop is taken" in note and "127.1.1.1:55049" in note for note in result.notes
    )


def test_no_admin_mode_uses_free_loopback_ports_from_55049():
    taken = {55050}
    result = plan(
        [svc("a", ports=(("x", 80), ("y", 81))), svc("b", ports=(("z", 80),))],
        mode=NO_ADMIN,
        is_port_free=lambda ip, port: port not in taken,
    )
    a, b = result.endpoints
    assert {a.workstation_ip, b.workstation_ip} == {"127.0.0.1"}
    assert [p.workstation_port for p in a.ports + b.ports] == [55049, 55051, 55052]


def test_no_admin_never_hands_out_a_redirected_port():
    mapping = targets.PortMapping("http", 80, 55049, "TCP")
    result = plan([svc("a")], mode=NO_ADMIN, target_ports=[mapping], listen_ports=[55049])
    assert result.endpoints[0].ports[0].workstation_port == 55050


def test_no_free_port_left():
    with pytest.raises(errors.EndpointError, match="No free port"):
        plan([svc("a")], mode=NO_ADMIN, is_port_free=lambda ip, port: False)


def test_hosts_ips_skip_network_and_broadcast_octets():
    ips = list(endpoints._hosts_ips())
    assert ips[0] == "127.1.1.1" and ips[253] == "127.1.1.254" and ips[254] == "127.1.2.1"
    assert not any(ip.endswith((".0", ".255")) for ip in ips)


# --- headless, ExternalName, external endpoints ---------------------------------------------------------


def endpoint_slice(service, *endpoints_):
    return {
        "metadata": {
            "name": f"{service}-abc12",
            "namespace": k.NAMESPACE,
            "labels": {"kubernetes.io/service-name": service},
        },
        "addressType": "IPv4",
        "endpoints": list(endpoints_),
        "ports": [{"name": "pg", "port": 5432, "protocol": "TCP"}],
    }


def address(ip, hostname=None, ready=True):
    body = {"addresses": [ip], "conditions": {"ready": ready}}
    if hostname:
        body["hostname"] = hostname
    return body


def test_headless_service_is_expanded_per_ready_address_with_a_hostname():
    db = svc("db", ports=(("pg", 5432),), cluster_ip="None")
    slices = [endpoint_slice("db", address("10.244.1.5", "db-0"), address("10.244.2.7", "db-1"),
                             address("10.244.3.9", "db-2", ready=False), address("10.244.4.1"))]  # fmt: skip
    result = plan([db], endpoint_slices=slices)
    kinds = [(e.kind, e.address_hostname, e.cluster_host, e.workstation_ip) for e in result.endpoints]
    assert kinds == [
        (endpoints.Kind.SERVICE, "", "db.shop.svc", "127.1.1.1"),
        (endpoints.Kind.HEADLESS_ADDRESS, "db-0", "10.244.1.5", "127.1.1.2"),
        (endpoints.Kind.HEADLESS_ADDRESS, "db-1", "10.244.2.7", "127.1.1.3"),
    ]
    assert result.endpoints[1].hostnames[:2] == ("db-0.db", "db-0.db.shop")
    assert result.service("db").kind is endpoints.Kind.SERVICE


def test_headless_service_without_ports_uses_the_slices_ports():
    db = svc("db", ports=(), cluster_ip="None")
    result = plan([db], endpoint_slices=[endpoint_slice("db", address("10.244.1.5", "db-0"))])
    assert [p.cluster_port for p in result.endpoints[0].ports] == [5432]


def test_external_name_service_is_dialled_at_its_name():
    legacy = svc("legacy", cluster_ip="", type="ExternalName", externalName="legacy.corp.example")
    assert plan([legacy]).endpoints[0].cluster_host == "legacy.corp.example"


def test_external_endpoints_are_merged_per_host():
    externals = [
        endpoints.ExternalEndpoint("Server.Database.Windows.Net", (1433,)),
        endpoints.ExternalEndpoint("server.database.windows.net", (1433, 11000)),
    ]
    result = plan([], external_endpoints=externals)
    (db,) = result.endpoints
    assert db.kind is endpoints.Kind.EXTERNAL and db.hostnames == ("server.database.windows.net",)
    assert [p.cluster_port for p in db.ports] == [1433, 11000]
    assert result.external("SERVER.database.windows.net") is db


# --- redirected ports ---------------------------------------------------------------------------------------


MAPPINGS = [targets.PortMapping("http", 80, 8080, "TCP"), targets.PortMapping("grpc", 9000, 9000, "TCP")]


def test_redirected_ports_default_to_the_same_numbers_and_include_other_declared_ports():
    result = plan([], target_ports=MAPPINGS, listen_ports=[8080, 9000, 9090])
    assert [(r.container_port, r.workstation_port) for r in result.redirected] == [
        (8080, 8080),
        (9000, 9000),
        (9090, 9090),
    ]


def test_local_ports_follow_the_service_order():
    result = plan([], target_ports=MAPPINGS, listen_ports=[8080, 9000], workstation_ports=[5000])
    assert [(r.container_port, r.workstation_port) for r in result.redirected] == [(8080, 5000), (9000, 9000)]


@pytest.mark.parametrize(
    ("given_ports", "expected"),
    [([1, 2, 3], "at most one --local-port per port"), ([9000], "same workstation port"), ([0], "1-65535")],
)
def test_bad_local_ports_are_refused(given_ports, expected):
    with pytest.raises(errors.EndpointError, match=expected):
        plan([], target_ports=MAPPINGS, listen_ports=[8080, 9000], workstation_ports=given_ports)


# --- determinism ---


SERVICES = [svc(f"svc-{i}", ports=(("a", 80 + i), ("b", 8000 + i))) for i in range(6)] + [
    svc("redis", namespace="cache", ports=(("redis", 6379),))
]


@given(st.permutations(SERVICES), st.sampled_from([HOSTS, NO_ADMIN]))
def test_property_allocation_does_not_depend_on_input_order(services, mode):
    def allocate(items):
        return plan(
            items, mode=mode, wanted_services=[("redis", "cache")], is_port_free=lambda ip, p: p % 7 != 0
        )

    assert allocate(services) == allocate(SERVICES)
    pairs = [(e.workstation_ip, p.workstation_port) for e in allocate(services).endpoints for p in e.ports]
    assert len(pairs) == len(set(pairs))
