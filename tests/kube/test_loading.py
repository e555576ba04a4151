"""Loading a kubeconfig.

Aspects: the current context and its namespace by default; --context and --namespace override;
a bearer token becomes the Authorization header; KUBECONFIG is honoured; a missing file, an
unknown context (listing the known ones) and a file without current context are clear errors.
"""

from __future__ import annotations

import pytest
import yaml

from kubelocal.kube import errors, loading


def write_kubeconfig(path, *, current="dev"):
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "one", "cluster": {"server": "http://127.0.0.1:6443"}},
            {"name": "two", "cluster": {"server": "http://127.0.0.1:7443/"}},
        ],
        "users": [
            {"name": "alice", "user": {"token": "alice-token"}},
            {"name": "bob", "user": {"token": "bob-token"}},
        ],
        "contexts": [
            {"name": "dev", "context": {"cluster": "one", "user": "alice", "namespace": "team"}},
            {"name": "prod", "context": {"cluster": "two", "user": "bob"}},
        ],
    }
    if current:
        document["current-context"] = current
    path.write_text(yaml.safe_dump(document))
    return path


def test_current_context_and_its_namespace(tmp_path):
    cluster = loading.load(kubeconfig=write_kubeconfig(tmp_path / "config"))
    assert (cluster.server, cluster.context, cluster.namespace) == ("http://127.0.0.1:6443", "dev", "team")
    assert cluster.authorization() == "Bearer alice-token"
    assert cluster.ssl_context is None


def test_context_and_namespace_override(tmp_path):
    config = write_kubeconfig(tmp_path / "config")
    cluster = loading.load(kubeconfig=config, context="prod")
    assert (cluster.server, cluster.namespace) == ("http://127.0.0.1:7443", "default")
    assert cluster.authorization() == "Bearer bob-token"
    assert loading.load(kubeconfig=config, namespace="other").namespace == "other"


def test_kubeconfig_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "config", current="prod")))
    assert loading.load().context == "prod"


def test_missing_file(tmp_path):
    with pytest.raises(errors.KubeconfigError, match=r"No kubeconfig found at .*--kubeconfig"):
        loading.load(kubeconfig=tmp_path / "absent")


def test_unknown_context_lists_the_known_ones(tmp_path):
    with pytest.raises(errors.KubeconfigError, match=r"'staging' is not in the kubeconfig .* dev, prod"):
        loading.load(kubeconfig=write_kubeconfig(tmp_path / "config"), context="staging")


def test_no_current_context_asks_for_one(tmp_path):
    with pytest.raises(errors.KubeconfigError, match=r"no current context\. Choose one with --context"):
        loading.load(kubeconfig=write_kubeconfig(tmp_path / "config", current=None))
