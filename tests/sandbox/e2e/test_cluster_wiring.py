"""The Cluster wiring in-process, without a kubelet: https with its own CA, the kubeconfig (server,
token, context, namespace), the bearer token enforced, controllers running behind the API, the root CA
published, and stop() removing the kubeconfig and certificate."""

import json
import ssl
import urllib.error
import urllib.request

import pytest
import yaml

from kubelocal.sandbox import cluster as cluster_module
from kubelocal.sandbox import kinds

pytestmark = pytest.mark.slow


def call(server, path, *, token, ca, method="GET", body=None):
    request = urllib.request.Request(
        server + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    context = ssl.create_default_context(cafile=ca)
    with urllib.request.urlopen(request, context=context, timeout=5) as response:
        return json.loads(response.read())


async def test_cluster_without_kubelet_serves_https_and_runs_controllers(tmp_path):
    import asyncio

    sandbox = cluster_module.Cluster(state_dir=tmp_path, with_kubelet=False)
    await sandbox.start()
    try:
        config = yaml.safe_load(sandbox.kubeconfig_path.read_text())
        assert config["current-context"] == "kubelocal-sandbox"
        (context,) = config["contexts"]
        assert context["context"]["namespace"] == "default"
        assert config["clusters"][0]["cluster"]["server"] == sandbox.server
        assert sandbox.server.startswith("https://127.0.0.1:")
        assert config["users"][0]["user"]["token"] == sandbox.token
        ca = str(sandbox.certificate.certificate_file)
        loop = asyncio.get_running_loop()
        body = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": "web"},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "c", "image": "python:3.12-slim"}]},
                },
            },
        }
        await loop.run_in_executor(
            None,
            lambda: call(
                sandbox.server,
                "/apis/apps/v1/namespaces/default/replicasets",
                token=sandbox.token,
                ca=ca,
                method="POST",
                body=body,
            ),
        )
        for _ in range(100):
            pods, _ = sandbox.store.list(kinds.PODS, "default")
            if len(pods) == 2:
                break
            await asyncio.sleep(0.02)
        assert len(pods) == 2
        for _ in range(100):
            if sandbox.store.list(
                kinds.CONFIG_MAPS, "default", field_selector="metadata.name=kube-root-ca.crt"
            )[0]:
                break
            await asyncio.sleep(0.02)
        (root_ca,) = sandbox.store.list(
            kinds.CONFIG_MAPS, "default", field_selector="metadata.name=kube-root-ca.crt"
        )[0]
        assert root_ca["data"]["ca.crt"] == sandbox.certificate.pem.decode()
        with pytest.raises(urllib.error.HTTPError) as refused:
            await loop.run_in_executor(
                None, lambda: call(sandbox.server, "/api/v1/pods", token="wrong", ca=ca)
            )
        refused.value.close()
        assert refused.value.code == 401
    finally:
        await sandbox.stop()
    assert not sandbox.kubeconfig_path.exists()
    assert not sandbox.certificate.certificate_file.exists() and not sandbox.certificate.key_file.exists()
