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
import dataclasses
import os
import pathlib
import secrets

import yaml

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


@contextlib.asynccontextmanager
async def sample_app(directory: pathlib.Path):
    """Yield an `E2ECluster` whose namespace holds the ready sample app."""
    async with contextlib.AsyncExitStack() as stack:
        real = os.environ.get(KUBECONFIG_ENV)
        if real:
            kubeconfig, is_sandbox = pathlib.Path(real), False
        else:
            from kubelocal.sandbox import cluster as sandbox_cluster

            sandbox = sandbox_cluster.Cluster(state_dir=directory / "sandbox")
            await sandbox.start()
            stack.push_async_callback(sandbox.stop)
            kubeconfig, is_sandbox = sandbox.kubeconfig_path, True
        namespace = f"kubelocal-e2e-{secrets.token_hex(3)}"
        client = await stack.enter_async_context(requesting.Client(loading.load(kubeconfig=kubeconfig)))
        await creating.create(
            client, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
        )

        async def remove_namespace() -> None:
            await deleting.delete(client, resources.NAMESPACES, name=namespace)
            with contextlib.suppress(Exception):
                await deleting.wait_gone(client, resources.NAMESPACES, name=namespace, timeout=60)

        stack.push_async_callback(remove_namespace)
        for body in sample_objects(namespace):
            await creating.create(client, body)
        await wait_ready(client, namespace, ["frontend", "greeter", "catalog"])
        yield E2ECluster(kubeconfig=pathlib.Path(kubeconfig), namespace=namespace, is_sandbox=is_sandbox)
