"""Connect and disconnect against the in-process cluster (real agent, REST app, controllers), for
what needs no real pods; the error paths, crash recovery and a dropped port-forward run on real
pods in `test_e2e.py` and `test_e2e_cli.py`.

Aspects: traffic arriving at the agent's pod port reaches the workstation process and the answer
comes back; the workload is replaced by the agent (image, session label, probes gone) with the
restore Secret, agent ConfigMap, restore Job and its RBAC in place; the environment points the
other services at workstation endpoints and is written 0600; volume files are downloaded into a
workstation directory (Kubernetes' symlink layout kept) and removed on disconnect; env-var mode
listens on 127.0.0.1 free ports; hosts mode writes a block mapping the service names to the
127.1.1.x listeners and removes it byte for byte; disconnect restores the workload exactly and
leaves nothing (objects, session file, env file); a workstation port taken between planning and
binding is replaced by another; the wait for the restore rollout is bounded and says what is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pathlib
import socket
import stat

import e2e_cluster
import pytest
from connect_cluster import NAMESPACE

from kubelocal.engine import connecting, errors, hosts, names, recording
from kubelocal.sandbox import kinds


@contextlib.asynccontextmanager
async def workstation_process():
    """A process on the workstation that answers `workstation: <request>`."""

    async def answer(reader, writer):
        request = await reader.read(65536)
        writer.write(b"workstation: " + request)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def ask(host, port, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(request)
    writer.write_eof()
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return answer


async def ready_deployment(sandbox, name):
    for _ in range(600):
        workload = sandbox.get(kinds.DEPLOYMENTS, name)
        if (workload.get("status") or {}).get("readyReplicas") == workload["spec"]["replicas"]:
            return workload
        await asyncio.sleep(0.05)
    raise AssertionError(f"deployment {name} never became ready")


def options(**overrides):
    base = dict(
        service="greeter",
        namespace=NAMESPACE,
        mode="env",
        restore_timeout=30,
        ready_timeout=60,
        heartbeat_interval=1,
        heartbeat_timeout=5,
    )
    return connecting.Options(**(base | overrides))


async def test_traffic_reaches_the_workstation_and_disconnect_restores_exactly(sandbox, client):
    original = e2e_cluster.comparable(await ready_deployment(sandbox, "greeter"))
    steps = []
    async with workstation_process() as port:
        session = await connecting.connect(client, options(workstation_ports=(port,)), progress=steps.append)
        try:
            patched = sandbox.get(kinds.DEPLOYMENTS, "greeter")
            container = patched["spec"]["template"]["spec"]["containers"][0]
            assert container["image"] == names.DEFAULT_AGENT_IMAGE
            assert "readinessProbe" not in container and "args" not in container
            assert patched["spec"]["replicas"] == 1
            assert patched["metadata"]["labels"][names.SESSION_LABEL] == session.session_id
            assert sorted(sandbox.kubelocal_objects()) == sorted(
                f"{kind}/kubelocal-{session.session_id}-{suffix}"
                for kind, suffix in (
                    ("Secret", "restore"),
                    ("ConfigMap", "agent"),
                    ("Job", "restore"),
                    ("ServiceAccount", "restore"),
                    ("Role", "restore"),
                    ("RoleBinding", "restore"),
                )
            )

            pod_address = sandbox.node.address_of(NAMESPACE, session.agent_pod, 8080)
            answer = await ask(*pod_address, b"hi from a pod")
            assert answer == b"workstation: hi from a pod"

            environment = session.environment
            assert environment["CATALOG_SERVICE_HOST"] == "127.0.0.1"
            catalog_port = int(environment["CATALOG_SERVICE_PORT"])
            assert catalog_port >= 55049
            assert ("127.0.0.1", catalog_port) in [(ip, p) for ip, p, _, _ in session.listeners.bound]
            assert stat.S_IMODE(os.stat(session.env_file).st_mode) == 0o600
            assert f"CATALOG_SERVICE_PORT={catalog_port}" in session.env_file.read_text()
            volume = session.volume_directories["settings"]
            assert (pathlib.Path(volume) / "greeting.txt").read_text() == "hello from the volume\n"
            record = recording.load(session.session_id)
            assert record.state == "connected" and record.details["mode"] == "no-admin"
        finally:
            await session.disconnect()

    names_of_steps = [step.name for step in steps if step.phase == "end"]
    assert names_of_steps[:4] == ["recover", "resolve", "restore-data", "replace"]
    assert all(step.seconds is not None and step.seconds >= 0 for step in steps if step.phase == "end")
    restored = await ready_deployment(sandbox, "greeter")
    assert e2e_cluster.comparable(restored) == original
    assert sandbox.kubelocal_objects() == []
    assert not session.env_file.exists()
    assert not pathlib.Path(volume).exists()
    assert recording.all_records() == []


async def test_hosts_mode_maps_names_to_the_listeners_and_removes_the_block(sandbox, client):
    hosts_file = os.environ["KUBELOCAL_HOSTS_FILE"]
    before = pathlib.Path(hosts_file).read_bytes()
    await ready_deployment(sandbox, "greeter")
    session = await connecting.connect(client, options(mode="hosts"), progress=lambda step: None)
    try:
        text = hosts.read_hosts(hosts_file)
        assert hosts.sessions_in(text) == [session.session_id]
        mapped = {}
        for line in text.splitlines():
            if line.startswith("127.1.1."):
                ip, hostnames = line.split("\t")
                for hostname in hostnames.split():
                    mapped[hostname] = ip
        catalog_ip = mapped["catalog"]
        assert mapped["catalog.shop.svc.cluster.local"] == catalog_ip
        assert session.environment["CATALOG_SERVICE_HOST"] == catalog_ip
        assert (catalog_ip, 80) in [(ip, p) for ip, p, _, _ in session.listeners.bound]
        # A workstation process resolving "catalog" through this file connects here:
        _, writer = await asyncio.open_connection(catalog_ip, 80)
        writer.close()
    finally:
        await session.disconnect()
    assert pathlib.Path(hosts_file).read_bytes() == before


async def test_a_port_taken_between_planning_and_binding_is_replaced_by_another(sandbox, client, monkeypatch):
    """No-admin mode: another program binds a chosen port after the free-port check."""
    held = socket.socket()
    for candidate in range(55049, 56049):  # where the planner starts looking, as the original did
        try:
            held.bind(("127.0.0.1", candidate))
            break
        except OSError:
            continue
    held.listen()
    held_port = held.getsockname()[1]
    really_free = connecting._is_port_free
    # The check says the held port is free (as it was a moment before) and every other port below
    # it is taken, so the planner picks the held port first: the race, made certain.
    monkeypatch.setattr(
        connecting,
        "_is_port_free",
        lambda ip, port: port == held_port or (port > held_port and really_free(ip, port)),
    )
    await ready_deployment(sandbox, "greeter")
    steps = []
    try:
        async with workstation_process() as port:
            session = await connecting.connect(
                client, options(workstation_ports=(port,)), progress=steps.append
            )
            try:
                bound_ports = [bound_port for _, bound_port, _, _ in session.listeners.bound]
                assert held_port not in bound_ports and bound_ports
                assert any("was taken meanwhile" in (step.message or "") for step in steps)
                catalog_port = int(session.environment["CATALOG_SERVICE_PORT"])
                assert catalog_port in bound_ports
            finally:
                await session.disconnect()
    finally:
        held.close()
    assert sandbox.kubelocal_objects() == []


async def test_waiting_for_a_restore_that_does_not_finish_says_what_is_left(sandbox, client):
    """The rollout wait is bounded: here the agent is still in place, so it can only time out."""
    await ready_deployment(sandbox, "greeter")
    session = await connecting.connect(client, options(), progress=lambda step: None)
    steps = []
    try:
        with pytest.raises(errors.RestoreNotFinished) as raised:
            await connecting.wait_restored(client, session.record, timeout=0, progress=steps.append)
        message = str(raised.value)
        assert f"agent pod {session.agent_pod} still running" in message
        assert f"kubectl rollout status deployment/greeter -n {NAMESPACE}" in message
        assert [step.message for step in steps if step.phase == "note"] == [
            f"agent pod {session.agent_pod} still running"
        ]
    finally:
        await session.disconnect()
    assert sandbox.kubelocal_objects() == []
