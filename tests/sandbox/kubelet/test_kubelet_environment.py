"""Container env as a kubelet builds it (pure): `$(VAR)` expansion and its escapes, env vs envFrom
precedence and prefixes, valueFrom (configMapKeyRef, secretKeyRef, fieldRef, resourceFieldRef,
optional and missing references), service-link variables with enableServiceLinks, and
command/args expansion."""

from __future__ import annotations

import pytest
from conftest import FakeResolver, make_pod, make_service

from kubelocal.sandbox.kubelet import environment, errors


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("$(A)-$(B)", "1-two"),
        ("$$(A)", "$(A)"),
        ("$(MISSING)", "$(MISSING)"),
        ("$(A", "$(A"),
        ("a$b", "a$b"),
        ("end$", "end$"),
        ("$(A)$(A)", "11"),
    ],
)
def test_expand_follows_kubernetes_rules(value, expected):
    assert environment.expand(value, {"A": "1", "B": "two"}) == expected


def build(pod, container, resolver, services=()):
    return environment.container_env(
        pod=pod,
        container=container,
        resolver=resolver,
        link_services=list(services),
        pod_ip="10.244.0.7",
        host_ip="10.244.0.1",
    )


def test_env_overrides_env_from_and_expands_earlier_values():
    resolver = FakeResolver()
    resolver.add_config_map("settings", {"MODE": "from-configmap", "LEVEL": "3", "bad key": "x"})
    resolver.add_secret("creds", {"PASSWORD": "hunter2"})
    container = {
        "name": "main",
        "envFrom": [
            {"configMapRef": {"name": "settings"}},
            {"secretRef": {"name": "creds"}, "prefix": "DB_"},
        ],
        "env": [
            {"name": "MODE", "value": "explicit"},
            {"name": "URL", "value": "db://$(DB_PASSWORD)@host/$(LEVEL)"},
        ],
    }
    env = build(make_pod("p", [container]), container, resolver)
    assert env["MODE"] == "explicit"
    assert env["DB_PASSWORD"] == "hunter2"
    assert env["URL"] == "db://hunter2@host/3"
    assert "bad key" not in env


def test_value_from_sources():
    resolver = FakeResolver()
    resolver.add_config_map("settings", {"color": "green"})
    resolver.add_secret("creds", {"token": "s3cret"})
    container = {
        "name": "main",
        "resources": {"limits": {"memory": "64Mi", "cpu": "500m"}},
        "env": [
            {"name": "COLOR", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "color"}}},
            {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token"}}},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "POD_NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {"name": "POD_UID", "valueFrom": {"fieldRef": {"fieldPath": "metadata.uid"}}},
            {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
            {"name": "SA", "valueFrom": {"fieldRef": {"fieldPath": "spec.serviceAccountName"}}},
            {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
            {"name": "TEAM", "valueFrom": {"fieldRef": {"fieldPath": "metadata.annotations['team']"}}},
            {
                "name": "MEM_MI",
                "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}},
            },
            {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},
            {
                "name": "OPTIONAL",
                "valueFrom": {"configMapKeyRef": {"name": "absent", "key": "k", "optional": True}},
            },
        ],
    }
    pod = make_pod("p", [container], serviceAccountName="builder")
    env = build(pod, container, resolver)
    assert env["COLOR"] == "green"
    assert env["TOKEN"] == "s3cret"
    assert env["POD_NAME"] == "p"
    assert env["POD_NS"] == "default"
    assert env["POD_UID"] == pod["metadata"]["uid"]
    assert env["POD_IP"] == "10.244.0.7"
    assert env["NODE"] == pod["spec"]["nodeName"]
    assert env["SA"] == "builder"
    assert env["APP"] == "p"
    assert env["TEAM"] == "blue"
    assert env["MEM_MI"] == "64"
    assert env["CPU"] == "1"  # 500m rounded up, as the kubelet does
    assert "OPTIONAL" not in env


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ({"configMapKeyRef": {"name": "absent", "key": "k"}}, 'configmap "absent" not found'),
        ({"configMapKeyRef": {"name": "settings", "key": "nope"}}, "couldn't find key nope"),
        ({"secretKeyRef": {"name": "absent", "key": "k"}}, 'secret "absent" not found'),
    ],
)
def test_missing_references_are_config_errors(reference, message):
    resolver = FakeResolver()
    resolver.add_config_map("settings", {"a": "b"})
    container = {"name": "main", "env": [{"name": "X", "valueFrom": reference}]}
    with pytest.raises(errors.ContainerConfigError, match=message):
        build(make_pod("p", [container]), container, resolver)


def test_service_link_variables_match_kubernetes_names():
    service = make_service(
        "redis-primary",
        "10.96.0.20",
        [{"name": "redis", "port": 6379, "protocol": "TCP"}, {"name": "metrics-http", "port": 9121}],
    )
    variables = environment.service_link_variables([service, make_service("headless", None, [{"port": 1}])])
    assert variables == {
        "REDIS_PRIMARY_SERVICE_HOST": "10.96.0.20",
        "REDIS_PRIMARY_SERVICE_PORT": "6379",
        "REDIS_PRIMARY_SERVICE_PORT_REDIS": "6379",
        "REDIS_PRIMARY_SERVICE_PORT_METRICS_HTTP": "9121",
        "REDIS_PRIMARY_PORT": "tcp://10.96.0.20:6379",
        "REDIS_PRIMARY_PORT_6379_TCP": "tcp://10.96.0.20:6379",
        "REDIS_PRIMARY_PORT_6379_TCP_PROTO": "tcp",
        "REDIS_PRIMARY_PORT_6379_TCP_PORT": "6379",
        "REDIS_PRIMARY_PORT_6379_TCP_ADDR": "10.96.0.20",
        "REDIS_PRIMARY_PORT_9121_TCP": "tcp://10.96.0.20:9121",
        "REDIS_PRIMARY_PORT_9121_TCP_PROTO": "tcp",
        "REDIS_PRIMARY_PORT_9121_TCP_PORT": "9121",
        "REDIS_PRIMARY_PORT_9121_TCP_ADDR": "10.96.0.20",
    }


def test_service_links_honour_enable_service_links_but_keep_kubernetes():
    kubernetes = make_service("kubernetes", "10.96.0.1", [{"name": "https", "port": 443}])
    web = make_service("web", "10.96.0.9", [{"port": 80}], namespace="shop")
    pod = make_pod("p", [], namespace="shop")
    chosen = environment.services_for_links(pod=pod, namespace_services=[web], default_services=[kubernetes])
    assert {s["metadata"]["name"] for s in chosen} == {"web", "kubernetes"}
    pod["spec"]["enableServiceLinks"] = False
    chosen = environment.services_for_links(pod=pod, namespace_services=[web], default_services=[kubernetes])
    assert [s["metadata"]["name"] for s in chosen] == ["kubernetes"]


def test_explicit_env_wins_over_service_links_and_can_use_them():
    container = {"name": "main", "env": [{"name": "WEB_SERVICE_HOST", "value": "override"},
                                         {"name": "TARGET", "value": "$(WEB_SERVICE_PORT)"}]}  # fmt: skip
    env = build(
        make_pod("p", [container]),
        container,
        FakeResolver(),
        [make_service("web", "10.96.0.9", [{"port": 80}])],
    )
    assert env["WEB_SERVICE_HOST"] == "override"
    assert env["TARGET"] == "80"
    assert env["WEB_PORT"] == "tcp://10.96.0.9:80"


def test_command_and_args_expand_with_env():
    command, args = environment.expand_command(
        {"command": ["echo", "$(GREETING)"], "args": ["$(NAME)", "$$(NAME)"]},
        {"GREETING": "hi", "NAME": "pod"},
    )
    assert command == ["echo", "hi"]
    assert args == ["pod", "$(NAME)"]
    assert environment.expand_command({}, {}) == (None, None)
