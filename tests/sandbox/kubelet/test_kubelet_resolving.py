"""The Resolver adapter over the real sandbox Store: ConfigMaps, Secrets and Services read as the
API returns them, None for missing objects, the kube-root-ca.crt stand-in, tokens naming the
service account, and Events the store accepts (what `kubectl describe pod` lists)."""

from __future__ import annotations

import base64
import json

from kubelocal.sandbox import kinds, store
from kubelocal.sandbox.kubelet import resolving


def make() -> tuple[store.Store, resolving.StoreResolver]:
    objects = store.Store()
    return objects, resolving.StoreResolver(store=objects, cluster_id="c1", ca_certificate="PEM")


def test_reads_objects_and_reports_missing_ones_as_none():
    objects, resolver = make()
    objects.create(kinds.CONFIG_MAPS, {"metadata": {"name": "cfg"}, "data": {"a": "1"}}, namespace="default")
    objects.create(
        kinds.SECRETS,
        {"metadata": {"name": "sec"}, "data": {"p": base64.b64encode(b"x").decode()}},
        namespace="default",
    )
    assert isinstance(resolver, resolving.Resolver)
    assert resolver.get_config_map("default", "cfg")["data"] == {"a": "1"}
    assert resolver.get_secret("default", "sec")["data"]["p"] == "eA=="
    assert resolver.get_config_map("default", "absent") is None
    assert resolver.get_secret("default", "absent") is None
    assert resolver.get_config_map("default", resolving.ROOT_CA_CONFIG_MAP)["data"] == {"ca.crt": "PEM"}
    assert [s["metadata"]["name"] for s in resolver.list_services("default")] == ["kubernetes"]


def test_tokens_name_the_service_account():
    _, resolver = make()
    token = resolver.service_account_token("shop", "builder", audience=None, expiration_seconds=3600)
    claims = token.split(".")[1]
    claims += "=" * (-len(claims) % 4)
    assert json.loads(base64.urlsafe_b64decode(claims))["sub"] == "system:serviceaccount:shop:builder"


def test_events_are_stored_against_the_pod():
    objects, resolver = make()
    pod = {"metadata": {"name": "web", "namespace": "default", "uid": "u1"}}
    resolving.record_event(resolver, pod, reason="StandIn", message="stand-in for redis:7")
    events, _ = objects.list(kinds.EVENTS, "default")
    assert [(e["reason"], e["involvedObject"]["name"], e["type"]) for e in events] == [
        ("StandIn", "web", "Normal")
    ]


def test_wiring_written_for_the_first_version_still_constructs_it():
    from kubelocal.sandbox import errors

    objects = store.Store()
    resolver = resolving.StoreResolver(store=objects, kinds=kinds, not_found=errors.NotFound, cluster_id="c1")
    assert resolver.get_secret("default", "absent") is None
