"""End to end on a cluster that runs real pods: the sandbox, or the cluster of
KUBELOCAL_TEST_KUBECONFIG (see `e2e_cluster`).

Aspects: a request to the cluster's frontend that calls greeter travels to the workstation's
greeter and the answer comes back through the frontend; the workstation process reaches catalog
through the service variables (env-var mode); the environment and the volume files are the pod's
(ConfigMap and Secret values, downward API, the mounted message file); disconnect restores the
greeter Deployment exactly (every field a user sets) and leaves no kubelocal object.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import pathlib

import e2e_cluster
import pytest

from kubelocal.engine import connecting
from kubelocal.kube import fetching, forwarding, loading, pods, requesting, resources

pytestmark = [pytest.mark.slow, pytest.mark.cluster]

CONTROLLER_ANNOTATIONS = ("deployment.kubernetes.io/revision",)


def comparable(workload: dict) -> dict:
    metadata = workload["metadata"]
    annotations = {
        k: v for k, v in (metadata.get("annotations") or {}).items() if k not in CONTROLLER_ANNOTATIONS
    }
    return copy.deepcopy(
        {"labels": metadata.get("labels"), "annotations": annotations, "spec": workload["spec"]}
    )


@pytest.fixture
async def cluster(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBELOCAL_HOME", str(tmp_path / "home"))
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1\tlocalhost\n")
    monkeypatch.setenv("KUBELOCAL_HOSTS_FILE", str(hosts))
    async with e2e_cluster.sample_app(tmp_path) as running:
        yield running


@contextlib.asynccontextmanager
async def workstation_greeter():
    """The developer's copy of greeter: answers GET / with a recognisable JSON body."""

    async def answer(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        body = json.dumps({"service": "greeter", "greeting": "from the workstation"}).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\nConnection: close\r\n\r\n"
            + body
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def http_get(reader, writer, path: str, host: str = "x") -> dict:
    """GET `path`; reads by Content-Length (a port-forward need not end when the pod closes)."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 20)
    lines = head.split(b"\r\n")
    length = next(
        int(line.split(b":", 1)[1]) for line in lines if line.lower().startswith(b"content-length:")
    )
    body = await asyncio.wait_for(reader.readexactly(length), 20)
    writer.close()
    return json.loads(body)


async def test_traffic_env_volumes_and_exact_restore(cluster):
    async with requesting.Client(
        loading.load(kubeconfig=cluster.kubeconfig, namespace=cluster.namespace)
    ) as client:
        original = comparable(await fetching.read(client, resources.DEPLOYMENTS, name="greeter"))
        async with workstation_greeter() as port:
            options = connecting.Options(
                service="greeter",
                namespace=cluster.namespace,
                mode="env",
                workstation_ports=(port,),
                restore_timeout=60,
                ready_timeout=90,
            )
            session = await connecting.connect(client, options, progress=lambda step: None)
            try:
                # A request into the cluster's frontend, which calls greeter by its service name.
                [frontend] = [
                    p
                    for p in await fetching.list_objects(
                        client, resources.PODS, label_selector="app=frontend"
                    )
                    if pods.is_ready(p)
                ]
                reader, writer = await forwarding.open_forward(client, pod=pods.name(frontend), port=8080)
                answer = await http_get(reader, writer, "/")
                assert answer["greeter"] == {"service": "greeter", "greeting": "from the workstation"}

                # The workstation reaches catalog through the service variables.
                env = session.environment
                reader, writer = await asyncio.open_connection(
                    env["CATALOG_SERVICE_HOST"], int(env["CATALOG_SERVICE_PORT"])
                )
                items = await http_get(reader, writer, "/items")
                assert "error" not in items

                # The pod's environment and volume files.
                assert env["GREETING"] == "Hello"
                assert env["API_KEY"] == "sample-api-key-not-a-real-secret"
                assert env["POD_NAMESPACE"] == cluster.namespace
                message = pathlib.Path(session.volume_directories["message"]) / "message.txt"
                assert message.read_text() == "Hi from the mounted ConfigMap file.\n"
            finally:
                await session.disconnect()
        await e2e_cluster.wait_ready(client, cluster.namespace, ["greeter"])
        assert comparable(await fetching.read(client, resources.DEPLOYMENTS, name="greeter")) == original
        for resource in (resources.SECRETS, resources.CONFIG_MAPS, resources.JOBS, resources.ROLES):
            assert (
                await fetching.list_objects(
                    client, resource, label_selector="app.kubernetes.io/managed-by=kubelocal"
                )
                == []
            )
