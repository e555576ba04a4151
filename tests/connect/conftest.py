"""Fixtures: the in-process cluster of `connect_cluster` with its sample app, plus KUBELOCAL_HOME
and KUBELOCAL_HOSTS_FILE in tmp_path. Everything is stopped and removed after each test, also on
failure."""

from __future__ import annotations

import connect_cluster
import pytest

from kubelocal.kube import loading, requesting


@pytest.fixture
def kubelocal_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("KUBELOCAL_HOME", str(home))
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n")
    monkeypatch.setenv("KUBELOCAL_HOSTS_FILE", str(hosts))
    return home


@pytest.fixture
async def sandbox(tmp_path, kubelocal_home):
    async with connect_cluster.running_sandbox(tmp_path) as running_sandbox:
        yield running_sandbox


@pytest.fixture
async def client(sandbox):
    cluster = loading.load(kubeconfig=sandbox.api.kubeconfig, namespace=connect_cluster.NAMESPACE)
    async with requesting.Client(cluster) as kube_client:
        yield kube_client
