"""A fast in-process cluster for the connect tests: store, controllers, the node loop driving
`InProcessNode`, the REST app on loopback, and a small sample app in namespace `shop`."""

from __future__ import annotations

import contextlib
import dataclasses
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "kube"))

import api_server
import in_process_node

from kubelocal.sandbox import kinds, store
from kubelocal.sandbox.controllers import node, running

NAMESPACE = "shop"


def deployment(
    name: str,
    *,
    port: int,
    env: dict[str, str] | None = None,
    image: str = "",
    files: pathlib.Path | None = None,
) -> dict:
    """A Deployment of 2 replicas; `files` (a directory of this machine, which the in-process node's
    "pods" share) is mounted as the ConfigMap volume `settings`."""
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": NAMESPACE,
            "labels": {"app": name},
            "annotations": {"team": "shop"},
        },
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": image or f"example/{name}:1",
                            "args": ["--serve"],
                            "ports": [{"name": "http", "containerPort": port}],
                            "env": [{"name": k, "value": v} for k, v in (env or {}).items()],
                            "readinessProbe": {"tcpSocket": {"port": port}, "periodSeconds": 5},
                        }
                    ],
                },
            },
        },
    }
    if files is not None:
        pod_spec = body["spec"]["template"]["spec"]
        pod_spec["volumes"] = [{"name": "settings", "configMap": {"name": f"{name}-settings"}}]
        pod_spec["containers"][0]["volumeMounts"] = [{"name": "settings", "mountPath": str(files)}]
    return body


def service(name: str, *, port: int, target: int) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": port, "targetPort": target}]},
    }


@dataclasses.dataclass
class Sandbox:
    api: api_server.ApiServer
    store: store.Store
    node: in_process_node.InProcessNode
    controllers: running.Controllers

    def get(self, kind, name, namespace=NAMESPACE):
        return self.store.get(kind, namespace, name)

    def kubelocal_objects(self) -> list[str]:
        found = []
        for kind in (
            kinds.SECRETS,
            kinds.CONFIG_MAPS,
            kinds.JOBS,
            kinds.SERVICE_ACCOUNTS,
            kinds.ROLES,
            kinds.ROLE_BINDINGS,
        ):
            items, _ = self.store.list(
                kind, NAMESPACE, label_selector="app.kubernetes.io/managed-by=kubelocal"
            )
            found += [f"{kind.kind}/{item['metadata']['name']}" for item in items]
        return found


def pod_files(directory: pathlib.Path) -> pathlib.Path:
    """A ConfigMap volume as the kubelet lays it out: `key -> ..data/key`."""
    data = directory / "..2026_01_01_00_00_00.000000001"
    data.mkdir(parents=True)
    (data / "greeting.txt").write_text("hello from the volume\n")
    (directory / "..data").symlink_to(data.name)
    (directory / "greeting.txt").symlink_to("..data/greeting.txt")
    return directory


@contextlib.asynccontextmanager
async def running_sandbox(directory: pathlib.Path):
    """The whole in-process cluster with greeter (8080, GREETING=hello) and catalog (9090) deployed."""
    state = store.Store(graceful_pod_deletion=True)
    fake_node = in_process_node.InProcessNode(state)
    controllers = running.Controllers(store=state)
    loop = node.NodeLoop(store=state, kubelet=fake_node)
    async with contextlib.AsyncExitStack() as stack:
        api = await stack.enter_async_context(
            api_server.running(directory, pod_ports=fake_node.open_pod_port, state=state)
        )
        fake_node.api_url, fake_node.api_token = api.url, api.token
        await controllers.start()
        stack.push_async_callback(controllers.stop)
        await loop.start()
        stack.push_async_callback(fake_node.stop)
        stack.push_async_callback(loop.stop)
        state.create(
            kinds.NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
        )
        files = pod_files(directory / "pod-files")
        for name, port, env, mounted in (
            ("greeter", 8080, {"GREETING": "hello"}, files),
            ("catalog", 9090, {}, None),
        ):
            state.create(kinds.DEPLOYMENTS, deployment(name, port=port, env=env, files=mounted))
            state.create(kinds.SERVICES, service(name, port=80, target=port))
        yield Sandbox(api=api, store=state, node=fake_node, controllers=controllers)
