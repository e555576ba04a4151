"""Pure parts of the API server: discovery, OpenAPI documents, Table rows, tokens, certificates.

Covers: discovery lists every kind with verbs, short names, categories and subresources, also as
aggregated discovery v2 when asked for; the
OpenAPI v3 index points at per-group-version documents whose PATCH operations carry the GVK and the
fieldValidation parameter (what kubectl's apply checks) and whose schemas resolve; v2 is Swagger 2.0;
Table rows for pods, services and deployments and kubectl's duration format; ServiceAccount tokens
are registered for their user; the serving certificate names 127.0.0.1, 10.96.0.1 and the
kubernetes service names.
"""

import json
import ssl

import pytest

from kubelocal.sandbox import kinds
from kubelocal.sandbox.apiserver import auth, certificates, discovery, openapi, tables


def test_discovery_lists_kinds_with_verbs_short_names_and_subresources():
    core = {r["name"]: r for r in discovery.resource_list("", "v1")["resources"]}
    assert core["pods"]["shortNames"] == ["po"] and core["pods"]["categories"] == ["all"]
    assert core["pods/portforward"]["verbs"] == ["create", "get"]
    assert "deletecollection" not in core["namespaces"]["verbs"]
    apps = {r["name"]: r for r in discovery.resource_list("apps", "v1")["resources"]}
    assert (
        apps["deployments/scale"]["kind"] == "Scale" and apps["deployments/scale"]["group"] == "autoscaling"
    )
    groups = [g["name"] for g in discovery.api_group_list()["groups"]]
    assert set(groups) == {
        "apps",
        "batch",
        "discovery.k8s.io",
        "networking.k8s.io",
        "rbac.authorization.k8s.io",
        "authorization.k8s.io",
        "authentication.k8s.io",
    }
    assert discovery.resource_list("nope", "v1") is None


def test_aggregated_discovery_when_asked_for():
    accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
    assert discovery.wants_aggregated(accept)
    assert not discovery.wants_aggregated(
        "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
    )
    (core,) = discovery.aggregated(core=True)["items"]
    pods = next(r for r in core["versions"][0]["resources"] if r["resource"] == "pods")
    assert pods["scope"] == "Namespaced" and pods["shortNames"] == ["po"]
    assert {s["subresource"] for s in pods["subresources"]} == {"status", "log", "portforward"}
    groups = {item["metadata"]["name"]: item for item in discovery.aggregated(core=False)["items"]}
    deployments = next(
        r for r in groups["apps"]["versions"][0]["resources"] if r["resource"] == "deployments"
    )
    scale = next(s for s in deployments["subresources"] if s["subresource"] == "scale")
    assert scale["responseKind"] == {"group": "autoscaling", "version": "v1", "kind": "Scale"}


def test_openapi_v3_documents_serve_what_kubectl_apply_checks():
    index = json.loads(openapi.v3_index())
    assert set(index["paths"]) >= {"api/v1", "apis/apps/v1", "apis/batch/v1", "apis/networking.k8s.io/v1"}
    assert index["paths"]["apis/apps/v1"]["serverRelativeURL"].startswith("/openapi/v3/apis/apps/v1?hash=")
    document = json.loads(openapi.v3_document("apis/apps/v1"))
    patch = document["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {
        "group": "apps",
        "version": "v1",
        "kind": "Deployment",
    }
    assert any(p["name"] == "fieldValidation" and p["in"] == "query" for p in patch["parameters"])
    schemas = document["components"]["schemas"]
    text = json.dumps(schemas)
    for reference in {part.split('"')[0] for part in text.split('"$ref": "#/components/schemas/')[1:]}:
        assert reference in schemas, reference
    replicas = schemas["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["replicas"]
    assert replicas["type"] == "integer"
    assert openapi.v3_document("apis/nope/v1") is None
    swagger = json.loads(openapi.v2_document())
    assert swagger["swagger"] == "2.0" and "io.k8s.api.core.v1.Pod" in swagger["definitions"]


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (5, "5s"),
        (119, "119s"),
        (150, "2m30s"),
        (600, "10m"),
        (3 * 3600 + 120, "3h2m"),
        (30 * 3600, "30h"),
        (3 * 86400 + 3600, "3d1h"),
        (20 * 86400, "20d"),
    ],
)
def test_durations_as_kubectl_shows_them(seconds, shown):
    assert tables.human_duration(seconds) == shown


def test_table_rows_for_pods_services_and_deployments():
    pod = {
        "metadata": {"name": "p", "creationTimestamp": "2026-01-01T00:00:00Z", "deletionTimestamp": "x"},
        "spec": {"containers": [{"name": "a"}, {"name": "b"}], "nodeName": "sandbox-node"},
        "status": {
            "phase": "Running",
            "podIP": "10.244.0.5",
            "containerStatuses": [{"ready": True, "restartCount": 2}, {"ready": False, "restartCount": 1}],
        },
    }
    row = tables.table(kinds.PODS, [pod], include_object="None")["rows"][0]
    assert row["cells"][:4] == ["p", "1/2", "Terminating", 3] and row["cells"][5:7] == [
        "10.244.0.5",
        "sandbox-node",
    ]
    assert "object" not in row
    service = {
        "metadata": {"name": "s", "creationTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {
            "type": "NodePort",
            "clusterIP": "10.96.0.9",
            "ports": [{"port": 80, "nodePort": 30001, "protocol": "TCP"}],
        },
    }
    assert tables.table(kinds.SERVICES, [service])["rows"][0]["cells"][:5] == [
        "s",
        "NodePort",
        "10.96.0.9",
        "<none>",
        "80:30001/TCP",
    ]
    deployment = {
        "metadata": {"name": "d", "creationTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "d"}}},
        "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
    }
    table = tables.table(kinds.DEPLOYMENTS, [deployment], include_object="Object")
    assert table["rows"][0]["cells"][:4] == ["d", "2/3", 3, 2]
    assert table["rows"][0]["object"] is deployment


def test_service_account_tokens_are_registered_for_their_user():
    registry = auth.TokenRegistry()
    token = registry.issue_service_account_token(namespace="team", service_account="restore")
    assert registry.user_for(token) == "system:serviceaccount:team:restore"
    assert registry.user_for(token + "x") is None
    registry.remove(token)
    assert registry.user_for(token) is None


def test_certificate_names_every_address_clients_use(tmp_path):
    certificate = certificates.create(tmp_path)
    decoded = ssl._ssl._test_decode_cert(str(certificate.certificate_file))
    names = set(decoded["subjectAltName"])
    assert {
        ("IP Address", "127.0.0.1"),
        ("IP Address", "10.96.0.1"),
        ("DNS", "kubernetes.default.svc"),
    } <= names
    assert oct(certificate.key_file.stat().st_mode & 0o777) == "0o600"
    certificate.server_context()  # the key matches the certificate
