"""Fixtures for the kubelet tests: a dict-backed Resolver, pod builders, a started Kubelet that is
always stopped (namespaces, processes, files removed) even when the test fails."""

from __future__ import annotations

import asyncio
import base64
import itertools
import os
import re
import time
import uuid

import pytest

from kubelocal.sandbox.kubelet import network, node

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")


class FakeResolver:
    """Resolver over plain dicts; records Events like the store adapter would."""

    def __init__(self) -> None:
        self.config_maps: dict[tuple[str, str], dict] = {}
        self.secrets: dict[tuple[str, str], dict] = {}
        self.services: list[dict] = []
        self.events: list[dict] = []

    def add_config_map(self, name: str, data: dict[str, str], namespace: str = "default") -> None:
        self.config_maps[(namespace, name)] = {
            "metadata": {"name": name, "namespace": namespace},
            "data": data,
        }

    def add_secret(self, name: str, data: dict[str, str], namespace: str = "default") -> None:
        encoded = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
        self.secrets[(namespace, name)] = {
            "metadata": {"name": name, "namespace": namespace},
            "data": encoded,
        }

    def get_config_map(self, namespace: str, name: str) -> dict | None:
        return self.config_maps.get((namespace, name))

    def get_secret(self, namespace: str, name: str) -> dict | None:
        return self.secrets.get((namespace, name))

    def service_account_token(self, namespace, service_account, *, audience, expiration_seconds):
        return f"token-for-{namespace}-{service_account}"

    def list_services(self, namespace: str) -> list[dict]:
        return [s for s in self.services if s["metadata"].get("namespace", "default") == namespace]

    def record_event(self, pod, *, reason, message, event_type="Normal"):
        self.events.append(
            {"pod": pod["metadata"]["name"], "reason": reason, "message": message, "type": event_type}
        )


def make_pod(name: str, containers: list[dict], *, namespace: str = "default", **spec) -> dict:
    return {
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": str(uuid.uuid4()),
            "labels": {"app": name},
            "annotations": {"team": "blue"},
        },
        "spec": {"containers": containers, "nodeName": node.NODE_NAME, **spec},
    }


def python_container(code: str, *, name: str = "main", **extra) -> dict:
    return {"name": name, "image": "python:3.12-slim", "command": ["python", "-u", "-c", code], **extra}


def make_service(
    name: str, cluster_ip: str | None, ports: list[dict], *, namespace: str = "default", **spec
) -> dict:
    return {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"clusterIP": cluster_ip or "None", "selector": {"app": name}, "ports": ports, **spec},
    }


def make_endpoints(name: str, ips: list[str], ports: list[dict], *, namespace: str = "default") -> dict:
    return {
        "kind": "Endpoints",
        "metadata": {"name": name, "namespace": namespace},
        "subsets": [{"addresses": [{"ip": ip} for ip in ips], "ports": ports}],
    }


def condition(status: dict, kind: str) -> bool:
    return any(c["type"] == kind and c["status"] == "True" for c in status.get("conditions", []))


async def wait_for(predicate, *, timeout: float = 8.0, what: str = "condition"):
    """Poll `predicate` until it returns something truthy; fail with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@pytest.fixture
def resolver() -> FakeResolver:
    return FakeResolver()


_CLUSTERS = itertools.count()
_TEST_CLUSTER = re.compile(r"^kl-t([0-9a-f]+)x[0-9a-f]+-")


@pytest.fixture
def cluster_id() -> str:
    """Unique per test and naming this pytest process, so a later run can tell a leftover of a
    killed run (its process is gone) from the namespaces of a run still going on in parallel."""
    return f"t{os.getpid():x}x{next(_CLUSTERS):x}"


@pytest.fixture(scope="session", autouse=True)
def _reap_namespaces_of_killed_test_runs():
    """A test run killed mid-test (e.g. by a timeout) cannot tear down; clean up after it."""
    if os.geteuid() != 0 or not os.path.isdir(network.NETNS_DIR):
        return
    dead = set()
    for name in os.listdir(network.NETNS_DIR):
        match = _TEST_CLUSTER.match(name)
        if match and not os.path.exists(f"/proc/{int(match.group(1), 16)}"):
            dead.add(name.rsplit("-", 1)[0].removeprefix("kl-"))
    for cluster in sorted(dead):
        asyncio.run(network.remove_leftovers(cluster))


@pytest.fixture
async def kubelet(tmp_path, resolver, cluster_id):
    instance = node.Kubelet(state_dir=tmp_path / "state", cluster_id=cluster_id, resolver=resolver)
    try:
        await instance.start()
        yield instance
    finally:
        await instance.stop()
        await network.remove_leftovers(cluster_id)  # belt and braces: never leave a namespace behind
