"""A cluster that runs real pods, for the end-to-end connect tests.

The sandbox (`kubelocal.sandbox.cluster.Cluster`, pods as processes in network namespaces, needs
root) started in the test's event loop, or, when KUBELOCAL_TEST_KUBECONFIG is set, that real
cluster instead. Either way each test gets a fresh namespace with the sample app (frontend,
greeter, catalog) deployed and ready, removed afterwards (also on failure), so a real cluster is
left as it was found.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import os
import pathlib
import secrets

import yaml

from kubelocal.engine import names
from kubelocal.kube import creating, deleting, fetching, loading, pods, requesting, resources

ROOT = pathlib.Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "samples" / "app" / "manifests"
KUBECONFIG_ENV = "KUBELOCAL_TEST_KUBECONFIG"


@dataclasses.dataclass
class E2ECluster:
    kubeconfig: pathlib.Path
    namespace: str
    is_sandbox: bool


def sample_objects(namespace: str) -> list[dict]:
    objects = []
    for path in sorted(MANIFESTS.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                document.setdefault("metadata", {})["namespace"] = namespace
                objects.append(document)
    return objects


async def wait_ready(client: requesting.Client, namespace: str, apps: list[str], timeout: float = 90) -> None:
    """Until each app (label `app`) has ready pods only (none starting or terminating)."""
    async with asyncio.timeout(timeout):
        while True:
            listed = await fetching.list_objects(client, resources.PODS, namespace=namespace)
            by_app: dict[str, list[dict]] = {}
            for pod in listed:
                by_app.setdefault((pod["metadata"].get("labels") or {}).get("app", ""), []).append(pod)
            if all(by_app.get(app) and all(pods.is_ready(pod) for pod in by_app[app]) for app in apps):
                return
            await asyncio.sleep(0.2)


@dataclasses.dataclass
class Base:
    """A running cluster, before any test namespace: the sandbox's kubeconfig or the real one."""

    kubeconfig: pathlib.Path
    is_sandbox: bool


@contextlib.asynccontextmanager
async def running_cluster(directory: pathlib.Path):
    """Yield a `Base`: the sandbox started in this event loop (stopped afterwards), or the real
    cluster of KUBELOCAL_TEST_KUBECONFIG (left running)."""
    real = os.environ.get(KUBECONFIG_ENV)
    if real:
        yield Base(kubeconfig=pathlib.Path(real), is_sandbox=False)
        return
    from kubelocal.sandbox import cluster as sandbox_cluster

    sandbox = sandbox_cluster.Cluster(state_dir=directory / "sandbox")
    await sandbox.start()
    try:
        yield Base(kubeconfig=pathlib.Path(sandbox.kubeconfig_path), is_sandbox=True)
    finally:
        await sandbox.stop()


@contextlib.asynccontextmanager
async def sample_namespace(base: Base, apps: tuple[str, ...] = ("frontend", "greeter", "catalog")):
    """Yield an `E2ECluster` whose fresh namespace holds the ready sample app; the namespace is
    deleted afterwards (also on failure), so a shared cluster is left as it was found."""
    namespace = f"kubelocal-e2e-{secrets.token_hex(3)}"
    async with requesting.Client(loading.load(kubeconfig=base.kubeconfig)) as client:
        await creating.create(
            client, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
        )
        try:
            for body in sample_objects(namespace):
                await creating.create(client, body)
            await wait_ready(client, namespace, list(apps))
            yield E2ECluster(kubeconfig=base.kubeconfig, namespace=namespace, is_sandbox=base.is_sandbox)
        finally:
            await deleting.delete(client, resources.NAMESPACES, name=namespace)
            with contextlib.suppress(Exception):
                await deleting.wait_gone(client, resources.NAMESPACES, name=namespace, timeout=60)


@contextlib.asynccontextmanager
async def sample_app(directory: pathlib.Path):
    """Yield an `E2ECluster` whose namespace holds the ready sample app, on a cluster of its own."""
    async with running_cluster(directory) as base, sample_namespace(base) as cluster:
        yield cluster


# Written by the Deployment controller on every rollout (the patch and its inverse are two), as
# on a real cluster: not part of what a user declared.
CONTROLLER_ANNOTATIONS = ("deployment.kubernetes.io/revision",)
KUBELOCAL_KINDS = (
    resources.SECRETS,
    resources.CONFIG_MAPS,
    resources.JOBS,
    resources.SERVICE_ACCOUNTS,
    resources.ROLES,
    resources.ROLE_BINDINGS,
)


def comparable(workload: dict) -> dict:
    """Every field a user sets: metadata labels/annotations and the whole spec."""
    metadata = workload["metadata"]
    annotations = {
        k: v for k, v in (metadata.get("annotations") or {}).items() if k not in CONTROLLER_ANNOTATIONS
    }
    return copy.deepcopy(
        {"labels": metadata.get("labels"), "annotations": annotations, "spec": workload["spec"]}
    )


async def kubelocal_objects(client: requesting.Client, namespace: str) -> list[str]:
    """`Kind/name` of every object labelled as kubelocal's in `namespace`, pods included."""
    found = []
    for resource in KUBELOCAL_KINDS:
        listed = await fetching.list_objects(
            client, resource, namespace=namespace, label_selector=names.SELECTOR_ALL
        )
        found += [f"{resource.kind}/{item['metadata']['name']}" for item in listed]
    # Agent pods carry the session label, the restore Job's pods the managed-by label; pods on
    # their way out (terminating, or finished and about to be collected with their Job) do not count.
    for selector in (names.SESSION_LABEL, names.SELECTOR_ALL):
        for pod in await fetching.list_objects(
            client, resources.PODS, namespace=namespace, label_selector=selector
        ):
            if not pods.is_terminating(pod) and f"Pod/{pods.name(pod)}" not in found:
                found.append(f"Pod/{pods.name(pod)}")
    return found


async def greeter(client: requesting.Client, namespace: str) -> dict:
    return await fetching.read(client, resources.DEPLOYMENTS, name="greeter", namespace=namespace)


async def wait_clean(client: requesting.Client, namespace: str, timeout: float = 60) -> list[str]:
    """Until no kubelocal object is left in `namespace` (the restore Job cleans up after itself)."""
    left = await kubelocal_objects(client, namespace)
    deadline = asyncio.get_running_loop().time() + timeout
    while left:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"kubelocal objects left after {timeout:g} s: {left}")
        await asyncio.sleep(0.2)
        left = await kubelocal_objects(client, namespace)
    return left
