"""The sandbox's parts in one process without the HTTP front: store, controllers, node loop and the real
kubelet run the sample app; every workload rolls out, Endpoints name the ready pods, and the frontend
pod's answer carries greeter's and catalog's (pod-to-service traffic by DNS name through ClusterIPs);
deleting a deployment stops its pods and the kubelet leaves no network namespace behind."""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import secrets

import pytest
import yaml

from kubelocal.sandbox import errors, kinds, kubelet, store
from kubelocal.sandbox.controllers import node, running

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(os.environ.get("KUBELOCAL_TEST_KUBECONFIG")), reason="checks the sandbox itself"),
]

MANIFESTS = pathlib.Path(__file__).resolve().parents[3] / "samples" / "app" / "manifests"


@pytest.fixture
async def stack(tmp_path):
    cluster_id = "t" + secrets.token_hex(4)
    the_store = store.Store()
    resolver = kubelet.StoreResolver(
        store=the_store, kinds=kinds, not_found=errors.NotFound, cluster_id=cluster_id
    )
    the_kubelet = kubelet.Kubelet(state_dir=tmp_path / "kubelet", cluster_id=cluster_id, resolver=resolver)
    # Any PEM text will do: nothing in this test verifies TLS; pods only need the ConfigMap to exist.
    controllers = running.Controllers(store=the_store, root_ca="-----BEGIN CERTIFICATE-----\nstub\n")
    loop = node.NodeLoop(store=the_store, kubelet=the_kubelet)
    try:
        await controllers.start()
        await the_kubelet.start()
        await loop.start()
        yield the_store, the_kubelet, cluster_id
    finally:
        await loop.stop()
        await controllers.stop()
        await the_kubelet.stop()
    netns = os.listdir("/var/run/netns") if os.path.isdir("/var/run/netns") else []
    assert not [name for name in netns if name.startswith(f"kl-{cluster_id}-")]


async def eventually(check, timeout=20.0):
    end = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if result or asyncio.get_running_loop().time() > end:
            return result
        await asyncio.sleep(0.05)


def ready(pod):
    return any(
        c["type"] == "Ready" and c["status"] == "True" for c in pod.get("status", {}).get("conditions", [])
    )


async def http_get(the_kubelet, namespace, pod, port, path="/"):
    reader, writer = await the_kubelet.open_pod_port(namespace, pod, port)
    writer.write(f"GET {path} HTTP/1.0\r\n\r\n".encode())
    await writer.drain()
    response = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return json.loads(response.partition(b"\r\n\r\n")[2])


async def test_sample_app_rolls_out_and_frontend_reaches_its_services(stack):
    the_store, the_kubelet, _ = stack
    for path in sorted(MANIFESTS.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            the_store.create(kinds.by_kind(doc["apiVersion"], doc["kind"]), doc, namespace="default")

    def all_rolled_out():
        pods = the_store.list(kinds.PODS, "default")[0]
        deployments = the_store.list(kinds.DEPLOYMENTS, "default")[0]
        return (
            len(pods) == 3
            and all(ready(p) for p in pods)
            and all(d.get("status", {}).get("availableReplicas") == 1 for d in deployments)
        )

    if not await eventually(all_rolled_out):
        pods = the_store.list(kinds.PODS, "default")[0]
        logs = {}
        for pod in pods:
            if not ready(pod):
                for previous in (True, False):
                    try:
                        logs[(pod["metadata"]["name"], previous)] = the_kubelet.read_log(
                            "default", pod["metadata"]["name"], None, previous=previous
                        )[-1500:]
                    except Exception as error:
                        logs[(pod["metadata"]["name"], previous)] = repr(error)
        logs["statuses"] = [
            (p["metadata"]["name"], p.get("status", {}).get("containerStatuses")) for p in pods
        ]
        pytest.fail(repr(logs))
    (subset,) = the_store.get(kinds.ENDPOINTS, "default", "greeter")["subsets"]
    assert len(subset["addresses"]) == 1 and subset["ports"][0]["port"] == 8080
    (frontend,) = the_store.list(kinds.PODS, "default", label_selector="app=frontend")[0]

    async def combined():
        answer = await http_get(the_kubelet, "default", frontend["metadata"]["name"], 8080)
        return answer if "error" not in answer["greeter"] and "error" not in answer["catalog"] else None

    answer = None
    for _ in range(40):
        answer = await combined()
        if answer:
            break
        await asyncio.sleep(0.1)
    assert answer, "the frontend never reached both services"
    assert answer["greeter"]["greeting"] == "Hello" and answer["greeter"]["pod"].startswith("greeter-")
    assert answer["catalog"]["pod"] == "catalog-0"

    the_store.delete(kinds.DEPLOYMENTS, "default", "frontend")
    assert await eventually(
        lambda: not the_store.list(kinds.PODS, "default", label_selector="app=frontend")[0]
    )
