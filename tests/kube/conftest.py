from __future__ import annotations

import api_server
import pytest

from kubelocal.kube import loading, requesting


@pytest.fixture
async def api(tmp_path):
    async with api_server.running(tmp_path) as server:
        yield server


@pytest.fixture
async def client(api):
    async with requesting.Client(loading.load(kubeconfig=api.kubeconfig)) as kube_client:
        yield kube_client
