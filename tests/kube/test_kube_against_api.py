"""The kube layer against the sandbox's REST app (fake pod ports: a loopback echo server).

Aspects: create/read/list (selector)/merge and JSON patch/delete round trips; a failed JSON patch
`test` changes nothing; deleting twice is fine; a missing object and a missing namespace are
clear errors; a wrong token is 401 with a hint; an unreachable server names the context;
watching sees changes; waiting for a ready pod returns it, reports progress, fails early on an
image pull back-off and times out with the pod's reason; a port-forward carries bytes both ways
(large transfers included, writes of every size in order, several at once), reports a refused pod
port, a missing pod, and ends the reader when the API server goes away.
"""

from __future__ import annotations

import asyncio

import pytest

from kubelocal.kube import (
    creating,
    deleting,
    errors,
    fetching,
    forwarding,
    loading,
    patching,
    requesting,
    resources,
    watching,
)
from kubelocal.sandbox import kinds


def config_map(name, **labels):
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default", "labels": labels},
        "data": {"key": "value"},
    }


def pod(name, **labels):
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": labels},
        "spec": {"containers": [{"name": "app", "image": "example/app:1"}]},
    }


def set_status(store, name, status):
    current = store.get(kinds.PODS, "default", name)
    current["status"] = status
    store.update(kinds.PODS, current, subresource="status")


READY = {
    "phase": "Running",
    "conditions": [{"type": "Ready", "status": "True"}],
    "containerStatuses": [
        {
            "name": "app",
            "ready": True,
            "restartCount": 0,
            "image": "example/app:1",
            "imageID": "",
            "state": {"running": {}},
        }
    ],
}


async def test_create_read_list_patch_delete(client):
    created = await creating.create(client, config_map("one", app="a"))
    assert created["metadata"]["uid"]
    await creating.create(client, config_map("two", app="b"))
    assert (await fetching.read(client, resources.CONFIG_MAPS, name="one"))["data"] == {"key": "value"}
    listed = await fetching.list_objects(client, resources.CONFIG_MAPS, label_selector="app=a")
    assert [item["metadata"]["name"] for item in listed] == ["one"]
    assert listed[0]["kind"] == "ConfigMap"
    await patching.merge_patch(
        client, resources.CONFIG_MAPS, name="one", patch={"data": {"key": None, "k2": "v"}}
    )
    operations = [
        {"op": "test", "path": "/data/k2", "value": "v"},
        {"op": "replace", "path": "/data/k2", "value": "w"},
    ]
    patched = await patching.json_patch(client, resources.CONFIG_MAPS, name="one", operations=operations)
    assert patched["data"] == {"k2": "w"}
    assert await deleting.delete(client, resources.CONFIG_MAPS, name="one") is True
    assert await deleting.delete(client, resources.CONFIG_MAPS, name="one") is False
    assert await fetching.read_optional(client, resources.CONFIG_MAPS, name="one") is None


async def test_a_failed_test_operation_changes_nothing(client):
    await creating.create(client, config_map("guarded"))
    operations = [
        {"op": "test", "path": "/data/key", "value": "other"},
        {"op": "remove", "path": "/data/key"},
    ]
    with pytest.raises((errors.BadRequest, errors.Invalid, errors.Conflict)):
        await patching.json_patch(client, resources.CONFIG_MAPS, name="guarded", operations=operations)
    assert (await fetching.read(client, resources.CONFIG_MAPS, name="guarded"))["data"] == {"key": "value"}


async def test_missing_object_and_namespace(client):
    with pytest.raises(errors.NotFound, match="Service 'nope' was not found in namespace 'default'"):
        await fetching.read(client, resources.SERVICES, name="nope")
    with pytest.raises(errors.NamespaceNotFound, match="Namespace 'nowhere' does not exist"):
        await fetching.ensure_namespace(client, "nowhere")
    await fetching.ensure_namespace(client, "default")


async def test_wrong_token_is_unauthorized(api, tmp_path):
    cluster = loading.load(kubeconfig=api.kubeconfig)
    wrong = loading.Cluster(
        server=cluster.server, context="test", namespace="default", authorization=lambda: "Bearer wrong"
    )
    async with requesting.Client(wrong) as client:
        with pytest.raises(errors.Unauthorized, match="Log in again"):
            await fetching.list_objects(client, resources.PODS)


async def test_unreachable_server_names_the_context():
    cluster = loading.Cluster(server="http://127.0.0.1:1", context="gone", namespace="default")
    async with requesting.Client(cluster) as client:
        with pytest.raises(errors.ClusterUnreachable, match=r"context 'gone'.*VPN"):
            await fetching.list_objects(client, resources.PODS)


async def test_watch_sees_changes(client):
    _, version = await fetching.list_with_version(client, resources.CONFIG_MAPS)
    seen = []

    async def follow():
        async for kind, obj in watching.watch(
            client, resources.CONFIG_MAPS, resource_version=version, timeout_seconds=5
        ):
            seen.append((kind, obj["metadata"]["name"]))
            if kind == "DELETED":
                return

    task = asyncio.ensure_future(follow())
    await creating.create(client, config_map("watched"))
    await deleting.delete(client, resources.CONFIG_MAPS, name="watched")
    await asyncio.wait_for(task, 5)
    assert seen == [("ADDED", "watched"), ("DELETED", "watched")]


async def test_wait_for_ready_pod_reports_progress_then_returns_it(api, client):
    api.store.create(kinds.PODS, pod("web-1", app="web"))
    messages = []
    waiting = asyncio.ensure_future(
        watching.wait_for_ready_pod(client, label_selector="app=web", timeout=5, progress=messages.append)
    )
    await asyncio.sleep(0.2)
    set_status(
        api.store,
        "web-1",
        {
            "phase": "Pending",
            "containerStatuses": [
                {
                    "name": "app",
                    "ready": False,
                    "restartCount": 0,
                    "image": "example/app:1",
                    "imageID": "",
                    "state": {"waiting": {"reason": "ContainerCreating"}},
                }
            ],
        },
    )
    await asyncio.sleep(0.2)
    set_status(api.store, "web-1", READY)
    found = await asyncio.wait_for(waiting, 5)
    assert found["metadata"]["name"] == "web-1"
    assert "pod web-1: container app: ContainerCreating" in messages


async def test_wait_fails_early_when_the_image_cannot_be_pulled(api, client):
    api.store.create(kinds.PODS, pod("web-1", app="web"))
    set_status(
        api.store,
        "web-1",
        {
            "phase": "Pending",
            "containerStatuses": [
                {
                    "name": "app",
                    "ready": False,
                    "restartCount": 0,
                    "image": "example/app:1",
                    "imageID": "",
                    "state": {"waiting": {"reason": "ImagePullBackOff", "message": "not found"}},
                }
            ],
        },
    )
    with pytest.raises(errors.PodCannotStart, match="ImagePullBackOff"):
        await watching.wait_for_ready_pod(client, label_selector="app=web", timeout=5)


async def test_wait_times_out_with_the_reason(api, client):
    api.store.create(kinds.PODS, pod("web-1", app="web"))
    with pytest.raises(errors.WaitTimeout, match="web-1: phase Pending"):
        await watching.wait_for_ready_pod(client, label_selector="app=web", timeout=1)


async def test_port_forward_carries_bytes_both_ways(api, client):
    api.store.create(kinds.PODS, pod("web-1"))
    reader, writer = await forwarding.open_forward(client, pod="web-1", port=8080)
    payload = bytes(range(256)) * 8192  # 2 MiB: exercises flow control both ways
    writer.write(payload)
    await writer.drain()
    received = await asyncio.wait_for(reader.readexactly(len(payload)), 10)
    assert received == payload
    writer.close()
    assert api.pods.opened == [("default", "web-1", 8080)]


async def test_port_forward_keeps_order_across_writes_of_every_size(api, client):
    api.store.create(kinds.PODS, pod("web-1"))
    reader, writer = await forwarding.open_forward(client, pod="web-1", port=8080)
    sizes = [1, forwarding.MAX_FRAME - 1, 2, forwarding.MAX_FRAME * 2 + 3, 7, forwarding.MAX_FRAME, 100_000]
    expected = bytearray()
    for index, size in enumerate(sizes):
        piece = bytearray((index * 31 + offset) % 251 for offset in range(size))
        writer.write(piece)
        expected += piece
        piece[:] = b"\0" * size  # the caller reuses its buffer: what was written must not change
    await writer.drain()
    received = await asyncio.wait_for(reader.readexactly(len(expected)), 10)
    assert received == expected
    writer.close()


async def test_port_forward_keeps_order_across_writelines_of_frame_sized_pieces(api, client):
    # As the tunnel writes: small headers, each followed by a payload as large as a message.
    api.store.create(kinds.PODS, pod("web-1"))
    reader, writer = await forwarding.open_forward(client, pod="web-1", port=8080)
    pieces = []
    for index in range(6):
        pieces.append(bytes([index]) * 9)
        pieces.append(bytes([100 + index]) * (forwarding.MAX_FRAME - index))
    writer.writelines(pieces)
    await writer.drain()
    expected = b"".join(pieces)
    received = await asyncio.wait_for(reader.readexactly(len(expected)), 10)
    assert received == expected
    writer.close()


async def test_several_forwards_at_once(api, client):
    api.store.create(kinds.PODS, pod("web-1"))

    async def one(index):
        reader, writer = await forwarding.open_forward(client, pod="web-1", port=80)
        message = f"message {index}".encode() * 1000
        writer.write(message)
        data = await asyncio.wait_for(reader.readexactly(len(message)), 10)
        writer.close()
        return data == message

    assert all(await asyncio.gather(*(one(i) for i in range(10))))


async def test_port_forward_to_a_refused_port_ends_the_reader(api, client):
    api.store.create(kinds.PODS, pod("web-1"))
    try:
        reader, writer = await forwarding.open_forward(client, pod="web-1", port=1)
    except errors.ForwardError as error:
        assert "port 1" in str(error)
        return
    with pytest.raises(ConnectionResetError, match="nothing listens on port 1"):
        await asyncio.wait_for(reader.read(), 5)
    writer.close()


async def test_port_forward_to_a_missing_pod(client):
    with pytest.raises(errors.NotFound):
        await forwarding.open_forward(client, pod="absent", port=80)


async def test_the_reader_ends_when_the_api_server_stops(api, client):
    api.store.create(kinds.PODS, pod("web-1"))
    reader, writer = await forwarding.open_forward(client, pod="web-1", port=80)
    writer.write(b"ping")
    assert await reader.readexactly(4) == b"ping"
    await api.runner.cleanup()
    with pytest.raises((ConnectionError, asyncio.IncompleteReadError)):
        await asyncio.wait_for(reader.readexactly(1), 5)
    writer.close()
