"""Fixtures: the in-process cluster of `connect_cluster` with its sample app, plus KUBELOCAL_HOME
and KUBELOCAL_HOSTS_FILE in tmp_path; and for the end-to-end tests (`e2e_cluster`) one cluster with
real pods per test module (the sandbox, or KUBELOCAL_TEST_KUBECONFIG's) with a fresh namespace
holding the sample app per test. Modules using `e2e` run in one event loop per module
(`pytest.mark.asyncio(loop_scope="module")`), since the sandbox lives in it. Everything is stopped
and removed afterwards, also on failure."""

from __future__ import annotations

import connect_cluster
import e2e_cluster
import pytest
import pytest_asyncio

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


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def e2e_base(tmp_path_factory):
    async with e2e_cluster.running_cluster(tmp_path_factory.mktemp("e2e")) as base:
        yield base


@pytest_asyncio.fixture(loop_scope="module")
async def e2e(e2e_base, kubelocal_home):
    async with e2e_cluster.sample_namespace(e2e_base) as cluster:
        yield cluster


@pytest_asyncio.fixture(loop_scope="module")
async def e2e_client(e2e):
    async with requesting.Client(loading.load(kubeconfig=e2e.kubeconfig, namespace=e2e.namespace)) as client:
        yield client
