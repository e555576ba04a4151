"""End to end through the engine's API on a cluster that runs real pods: the sandbox, or the
cluster of KUBELOCAL_TEST_KUBECONFIG (see `e2e_cluster`); one cluster per module, a fresh
namespace with the sample app per test.

Aspects: a request to the cluster's frontend that calls greeter travels to the workstation's
greeter and the answer comes back through the frontend; the workstation process reaches catalog
through the service variables (env-var mode); the environment and the volume files are the pod's
(ConfigMap and Secret values, downward API, the mounted message file); disconnect restores the
greeter Deployment exactly (every field a user sets), waits for its rollout and leaves no
kubelocal object; the restore Job sees the connected session through the agent's /status (its
log says so); a wrong service, namespace or container and an agent image that cannot be pulled
give clear errors and leave the cluster as it was; a port-forward cut under the tunnel is
re-established (with progress messages) and traffic from the cluster flows again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import pathlib

import e2e_cluster
import pytest

from kubelocal.engine import connecting, errors, names
from kubelocal.kube import errors as kube_errors
from kubelocal.kube import fetching, forwarding, pods, resources

pytestmark = [pytest.mark.slow, pytest.mark.cluster, pytest.mark.asyncio(loop_scope="module")]

UNPULLABLE_IMAGE = "registry.invalid/kubelocal/agent:missing"  # .invalid never resolves (RFC 2606)


def options(cluster, **overrides) -> connecting.Options:
    base = dict(
        service="greeter",
        namespace=cluster.namespace,
        mode="env",
        restore_timeout=60,
        ready_timeout=90,
        heartbeat_interval=1,
        heartbeat_timeout=5,
    )
    return connecting.Options(**(base | overrides))


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


async def greeter_through_frontend(client, namespace) -> dict:
    """What the cluster's frontend got from greeter, asked through a port-forward to the frontend."""
    [frontend] = [
        p
        for p in await fetching.list_objects(
            client, resources.PODS, namespace=namespace, label_selector="app=frontend"
        )
        if pods.is_ready(p)
    ]
    reader, writer = await forwarding.open_forward(
        client, pod=pods.name(frontend), port=8080, namespace=namespace
    )
    return (await http_get(reader, writer, "/"))["greeter"]


async def restore_job_log(client, namespace, session_id) -> str:
    job_pods = await fetching.list_objects(
        client,
        resources.PODS,
        namespace=namespace,
        label_selector=f"job-name={names.restore_job_name(session_id)}",
    )
    text = ""
    for pod in job_pods:
        async with client.session().get(
            f"/api/v1/namespaces/{namespace}/pods/{pods.name(pod)}/log", headers=await client.headers()
        ) as response:
            if response.status == 200:
                text += (await response.read()).decode()
    return text


async def assert_untouched(client, namespace, original) -> None:
    assert e2e_cluster.comparable(await e2e_cluster.greeter(client, namespace)) == original
    assert await e2e_cluster.kubelocal_objects(client, namespace) == []


async def test_traffic_env_volumes_and_exact_restore(e2e, e2e_client):
    client = e2e_client
    original = e2e_cluster.comparable(await e2e_cluster.greeter(client, e2e.namespace))
    async with workstation_greeter() as port:
        session = await connecting.connect(
            client, options(e2e, workstation_ports=(port,)), progress=lambda step: None
        )
        try:
            answer = await greeter_through_frontend(client, e2e.namespace)
            assert answer == {"service": "greeter", "greeting": "from the workstation"}

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
            assert env["POD_NAMESPACE"] == e2e.namespace
            message = pathlib.Path(session.volume_directories["message"]) / "message.txt"
            assert message.read_text() == "Hi from the mounted ConfigMap file.\n"

            # The restore Job polls the agent's /status from its own pod and sees the session.
            async with asyncio.timeout(60):
                while "answers: a session is connected" not in (
                    log := await restore_job_log(client, e2e.namespace, session.session_id)
                ):
                    await asyncio.sleep(0.5)
            assert "does not answer" not in log
        finally:
            await session.disconnect()
    # disconnect waited for the rollout: the original pods are back, no agent pod is left.
    await assert_untouched(client, e2e.namespace, original)
    await e2e_cluster.wait_ready(client, e2e.namespace, ["greeter"], timeout=5)


@pytest.mark.parametrize(
    ("overrides", "error", "message"),
    [
        ({"service": "nope"}, errors.ServiceNotFound, r"Service 'nope' was not found in namespace"),
        ({"namespace": "kubelocal-e2e-absent"}, kube_errors.NamespaceNotFound, "does not exist"),
        ({"container": "sidecar"}, errors.ContainerNotFound, "no container 'sidecar'; they have greeter"),
    ],
)
async def test_wrong_names_give_clear_errors_and_change_nothing(e2e, e2e_client, overrides, error, message):
    original = e2e_cluster.comparable(await e2e_cluster.greeter(e2e_client, e2e.namespace))
    with pytest.raises(error, match=message):
        await connecting.connect(e2e_client, options(e2e, **overrides), progress=lambda step: None)
    await assert_untouched(e2e_client, e2e.namespace, original)


async def test_an_agent_image_that_cannot_be_pulled_is_reported_and_undone(e2e, e2e_client):
    original = e2e_cluster.comparable(await e2e_cluster.greeter(e2e_client, e2e.namespace))
    with pytest.raises(kube_errors.PodCannotStart, match=r"ErrImagePull|ImagePullBackOff") as raised:
        await connecting.connect(
            e2e_client, options(e2e, agent_image=UNPULLABLE_IMAGE), progress=lambda step: None
        )
    assert "cannot start" in str(raised.value) and "connect again" in str(raised.value)
    await assert_untouched(e2e_client, e2e.namespace, original)


async def test_a_cut_port_forward_is_reestablished_and_traffic_flows_again(e2e, e2e_client, monkeypatch):
    forwards = []
    open_forward = forwarding.open_forward

    async def recorded(*args, **kwargs):
        reader, writer = await open_forward(*args, **kwargs)
        forwards.append(writer)
        return reader, writer

    # The tunnel dials through `forwarding.open_forward`; keeping its writers lets the test cut the
    # connection under it, as a network failure or an API server restart would, on any cluster.
    monkeypatch.setattr(forwarding, "open_forward", recorded)
    steps = []
    async with workstation_greeter() as port:
        session = await connecting.connect(
            e2e_client, options(e2e, workstation_ports=(port,)), progress=steps.append
        )
        try:
            cut = [writer for writer in forwards if not writer.is_closing()]
            assert cut, "the tunnel's port-forward was not seen"
            for writer in cut:
                writer.transport.abort()
            async with asyncio.timeout(30):
                while session.tunnel.reconnects < 1:
                    await asyncio.sleep(0.05)
            answer = await greeter_through_frontend(e2e_client, e2e.namespace)
            assert answer == {"service": "greeter", "greeting": "from the workstation"}
        finally:
            await session.disconnect()
    messages = [step.message for step in steps if step.name == "tunnel" and step.phase == "note"]
    assert any("dropped" in message for message in messages)
    assert any("restored after" in message for message in messages)
    assert await e2e_cluster.kubelocal_objects(e2e_client, e2e.namespace) == []
