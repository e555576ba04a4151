"""The node loop between the store and a kubelet (here a recording in-memory runtime): pods synced once
per generation, statuses written back on the kubelet's callback, graceful deletion waits for the
kubelet then removes the pod, force-deleted pods are still stopped, services pushed after changes."""

import asyncio

import pytest

from kubelocal.sandbox import kinds, store
from kubelocal.sandbox.controllers import node


class RecordingRuntime:
    def __init__(self):
        self.synced = []
        self.killed = []
        self.services = None
        self.callback = None
        self.running = set()

    def on_status_change(self, callback):
        self.callback = callback

    async def sync_pod(self, pod):
        self.synced.append(pod["metadata"]["name"])
        self.running.add(pod["metadata"]["uid"])

    async def kill_pod(self, pod, *, grace_period_seconds):
        self.killed.append((pod["metadata"]["name"], grace_period_seconds))
        self.running.discard(pod["metadata"]["uid"])

    def pod_status(self, pod):
        running = pod["metadata"]["uid"] in self.running
        return {"phase": "Running" if running else "Pending", "podIP": "10.244.0.7" if running else None}

    async def set_services(self, services, endpoints):
        self.services = (
            [s["metadata"]["name"] for s in services],
            [e["metadata"]["name"] for e in endpoints],
        )


async def eventually(check, timeout=3.0):
    end = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > end:
            pytest.fail("condition not reached")
        await asyncio.sleep(0.01)


@pytest.fixture
async def setup():
    the_store = store.Store()
    runtime = RecordingRuntime()
    loop = node.NodeLoop(store=the_store, kubelet=runtime)
    await loop.start()
    yield the_store, runtime
    await loop.stop()


POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "p"},
    "spec": {"terminationGracePeriodSeconds": 7, "containers": [{"name": "c", "image": "python:3.12-slim"}]},
}


async def test_pod_is_synced_once_and_its_status_written(setup):
    the_store, runtime = setup
    the_store.create(kinds.PODS, POD)
    await eventually(
        lambda: the_store.get(kinds.PODS, "default", "p").get("status", {}).get("phase") == "Running"
    )
    assert the_store.get(kinds.PODS, "default", "p")["status"]["podIP"] == "10.244.0.7"
    the_store.patch(
        kinds.PODS,
        "default",
        "p",
        {"metadata": {"labels": {"x": "y"}}},
        patch_type="application/merge-patch+json",
    )
    await asyncio.sleep(0.05)
    assert runtime.synced == ["p"]


async def test_status_callback_writes_the_new_status(setup):
    the_store, runtime = setup
    the_store.create(kinds.PODS, POD)
    await eventually(lambda: runtime.synced == ["p"])
    runtime.running.clear()
    runtime.callback("default", "p")
    await eventually(lambda: the_store.get(kinds.PODS, "default", "p")["status"]["phase"] == "Pending")


async def test_graceful_deletion_kills_with_the_grace_period_then_removes(setup):
    the_store, runtime = setup
    the_store.create(kinds.PODS, POD)
    await eventually(lambda: runtime.synced == ["p"])
    deleted = the_store.delete(kinds.PODS, "default", "p")
    assert deleted["metadata"]["deletionTimestamp"]  # the store waits for the kubelet
    await eventually(lambda: not the_store.list(kinds.PODS, "default")[0])
    assert runtime.killed[0] == ("p", 7)


async def test_force_deleted_pod_is_still_stopped(setup):
    the_store, runtime = setup
    the_store.create(kinds.PODS, POD)
    await eventually(lambda: runtime.synced == ["p"])
    the_store.delete(kinds.PODS, "default", "p", grace_period_seconds=0)
    await eventually(lambda: ("p", 0) in runtime.killed)


async def test_services_and_endpoints_are_pushed_after_changes(setup):
    the_store, runtime = setup
    the_store.create(
        kinds.SERVICES,
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
        },
    )
    await eventually(lambda: runtime.services is not None and "web" in runtime.services[0])
    assert "kubernetes" in runtime.services[0]
