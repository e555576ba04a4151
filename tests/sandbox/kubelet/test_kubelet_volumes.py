"""Volume plans (pure) and their projection: configMap/secret items and modes, downwardAPI,
the default projected service-account volume (token, ca.crt, namespace), optional and missing
sources, unsafe item paths, mounts ordered parent-first, and the atomic `..data` layout."""

from __future__ import annotations

import os

import pytest
from conftest import FakeResolver, make_pod

from kubelocal.sandbox.kubelet import errors, projecting, volumes


def plan(volume, resolver, pod=None):
    return volumes.plan(
        volume, pod=pod or make_pod("p", []), resolver=resolver, pod_ip="10.244.0.2", host_ip="10.244.0.1"
    )


def files(result):
    return {f.path: (f.content, f.mode) for f in result.files}


def test_config_map_and_secret_items_and_modes():
    resolver = FakeResolver()
    resolver.add_config_map("cfg", {"a.txt": "A", "b.txt": "B"})
    resolver.add_secret("sec", {"password": "pw"})
    assert files(plan({"name": "c", "configMap": {"name": "cfg"}}, resolver)) == {
        "a.txt": (b"A", 0o644),
        "b.txt": (b"B", 0o644),
    }
    chosen = plan(
        {
            "name": "c",
            "configMap": {"name": "cfg", "items": [{"key": "b.txt", "path": "sub/b", "mode": 0o600}]},
        },
        resolver,
    )
    assert files(chosen) == {"sub/b": (b"B", 0o600)}
    secret = plan({"name": "s", "secret": {"secretName": "sec", "defaultMode": 0o400}}, resolver)
    assert files(secret) == {"password": (b"pw", 0o400)}
    assert secret.read_only


def test_missing_sources_fail_unless_optional():
    resolver = FakeResolver()
    with pytest.raises(errors.ContainerConfigError, match='configmap "nope" not found'):
        plan({"name": "c", "configMap": {"name": "nope"}}, resolver)
    assert plan({"name": "c", "configMap": {"name": "nope", "optional": True}}, resolver).files == ()
    with pytest.raises(errors.ContainerConfigError, match='secret "nope" not found'):
        plan({"name": "s", "secret": {"secretName": "nope"}}, resolver)


def test_item_paths_cannot_escape_the_volume():
    resolver = FakeResolver()
    resolver.add_config_map("cfg", {"k": "v"})
    with pytest.raises(errors.ContainerConfigError, match="inside it"):
        plan(
            {"name": "c", "configMap": {"name": "cfg", "items": [{"key": "k", "path": "../../etc/passwd"}]}},
            resolver,
        )


def test_default_projected_service_account_volume():
    resolver = FakeResolver()
    resolver.add_config_map("kube-root-ca.crt", {"ca.crt": "PEM"}, namespace="shop")
    volume = {
        "name": "kube-api-access-x1",
        "projected": {
            "defaultMode": 420,
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {
                    "downwardAPI": {
                        "items": [{"path": "namespace", "fieldRef": {"fieldPath": "metadata.namespace"}}]
                    }
                },
            ],
        },
    }
    pod = make_pod("p", [], namespace="shop", serviceAccountName="builder")
    assert files(plan(volume, resolver, pod)) == {
        "token": (b"token-for-shop-builder", 420),
        "ca.crt": (b"PEM", 420),
        "namespace": (b"shop", 420),
    }


def test_downward_api_labels_file():
    volume = {
        "name": "info",
        "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]},
    }
    assert files(plan(volume, FakeResolver())) == {"labels": (b'app="p"', 0o644)}


def test_directory_volumes_and_substitutes():
    assert plan({"name": "scratch", "emptyDir": {}}, FakeResolver()).kind == "emptyDir"
    assert plan({"name": "h", "hostPath": {"path": "/etc"}}, FakeResolver()).host_path == "/etc"
    claim = plan({"name": "data", "persistentVolumeClaim": {"claimName": "x"}}, FakeResolver())
    assert claim.kind == "substitute" and "persistentVolumeClaim" in claim.note


def test_container_mounts_are_parent_first_and_read_only_for_projected_volumes():
    plans = {
        "cfg": volumes.Plan(name="cfg", kind="files"),
        "data": volumes.Plan(name="data", kind="emptyDir"),
    }
    container = {
        "name": "main",
        "volumeMounts": [
            {"name": "cfg", "mountPath": "/data/config/"},
            {"name": "data", "mountPath": "/data"},
        ],
    }
    mounts = volumes.container_mounts(container, plans)
    assert [(m.mount_path, m.read_only) for m in mounts] == [("/data", False), ("/data/config", True)]
    with pytest.raises(errors.ContainerConfigError, match="does not declare"):
        volumes.container_mounts({"name": "x", "volumeMounts": [{"name": "nope", "mountPath": "/x"}]}, plans)


def test_projection_switches_generations_atomically(tmp_path):
    first = (volumes.File("a.txt", b"1", 0o644), volumes.File("dir/b.txt", b"2", 0o600))
    projecting.write_files(tmp_path, first)
    assert (tmp_path / "a.txt").read_bytes() == b"1"
    assert (tmp_path / "dir" / "b.txt").read_bytes() == b"2"
    assert os.readlink(tmp_path / "a.txt") == "..data/a.txt"
    assert oct((tmp_path / "dir" / "b.txt").stat().st_mode & 0o777) == oct(0o600)
    old_generation = os.readlink(tmp_path / "..data")
    projecting.write_files(tmp_path, (volumes.File("a.txt", b"changed", 0o644),))
    assert (tmp_path / "a.txt").read_bytes() == b"changed"
    assert not (tmp_path / "dir").exists()
    assert not (tmp_path / old_generation).exists()
