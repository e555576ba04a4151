"""How API answers become kube errors whose messages say what to do.

Aspects: 401 asks to log in again; 403 names the verb (get/list/watch/create/patch/delete,
portforward as create), the resource and the namespace; 404, 409 AlreadyExists vs Conflict,
410 and 422 map to their classes; an unreachable server names the context and suggests the VPN;
API paths are built and escaped per kind.
"""

from __future__ import annotations

import json

import pytest

from kubelocal.kube import errors, loading, requesting, resources


def status(code: int, reason: str, message: str) -> bytes:
    return json.dumps({"kind": "Status", "code": code, "reason": reason, "message": message}).encode()


def test_unauthorized_asks_to_log_in_again():
    error = requesting.api_error(
        401, status(401, "Unauthorized", "Unauthorized"), method="GET", path="/api/v1/pods"
    )
    assert isinstance(error, errors.Unauthorized)
    assert "Log in again" in str(error)


@pytest.mark.parametrize(
    ("method", "path", "params", "verb", "resource"),
    [
        ("GET", "/api/v1/namespaces/team/pods", None, "list", "pods"),
        ("GET", "/api/v1/namespaces/team/pods/web-1", None, "get", "pods"),
        ("GET", "/api/v1/namespaces/team/pods", {"watch": "1"}, "watch", "pods"),
        ("GET", "/api/v1/namespaces/team/pods/web-1/portforward", None, "create", "pods/portforward"),
        ("PATCH", "/apis/apps/v1/namespaces/team/deployments/web", None, "patch", "deployments"),
        ("POST", "/apis/batch/v1/namespaces/team/jobs", None, "create", "jobs"),
        ("DELETE", "/apis/rbac.authorization.k8s.io/v1/namespaces/team/roles/r", None, "delete", "roles"),
    ],
)
def test_forbidden_names_the_missing_permission(method, path, params, verb, resource):
    error = requesting.api_error(
        403, status(403, "Forbidden", "nope"), method=method, path=path, params=params
    )
    assert isinstance(error, errors.Forbidden)
    assert f"you may not {verb} {resource} in namespace 'team'" in str(error)
    assert f"allowing `{verb}` on `{resource}`" in str(error)


def test_forbidden_on_a_cluster_scoped_kind_names_no_namespace():
    error = requesting.api_error(403, b"", method="GET", path="/api/v1/namespaces/team")
    assert "you may not get namespaces (" in str(error)


@pytest.mark.parametrize(
    ("code", "reason", "cls"),
    [
        (404, "NotFound", errors.NotFound),
        (409, "AlreadyExists", errors.AlreadyExists),
        (409, "Conflict", errors.Conflict),
        (410, "Expired", errors.Gone),
        (422, "Invalid", errors.Invalid),
        (500, "InternalError", errors.ApiError),
    ],
)
def test_status_codes_map_to_classes(code, reason, cls):
    error = requesting.api_error(
        code, status(code, reason, "server words"), method="GET", path="/api/v1/pods"
    )
    assert type(error) is cls
    assert error.code == code and error.reason == reason
    assert "server words" in str(error)


def test_a_body_that_is_not_json_is_quoted():
    error = requesting.api_error(502, b"<html>bad gateway</html>", method="GET", path="/api/v1/pods")
    assert "bad gateway" in str(error)


def test_unreachable_names_the_server_and_context_and_what_to_check():
    cluster = loading.Cluster(server="https://10.0.0.1:6443", context="work", namespace="default")
    error = requesting.unreachable(cluster, ConnectionRefusedError("connection refused"))
    assert isinstance(error, errors.ClusterUnreachable)
    message = str(error)
    assert "https://10.0.0.1:6443" in message and "'work'" in message and "VPN" in message


def test_paths_of_core_and_grouped_kinds():
    assert resources.PODS.path(namespace="a", name="p", subresource="portforward") == (
        "/api/v1/namespaces/a/pods/p/portforward"
    )
    assert resources.DEPLOYMENTS.path(namespace="a") == "/apis/apps/v1/namespaces/a/deployments"
    assert resources.NAMESPACES.path(namespace="ignored", name="a") == "/api/v1/namespaces/a"
    assert resources.by_kind("rbac.authorization.k8s.io/v1", "Role") is resources.ROLES
    with pytest.raises(ValueError):
        resources.PODS.path(namespace="a", name="../secrets")
    with pytest.raises(KeyError):
        resources.by_kind("apps/v1", "DaemonSet")
