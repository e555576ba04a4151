"""The whole sandbox in one asyncio process: store, REST API, controllers, node loop and kubelet.

`Cluster.start()` brings them up in dependency order and writes a kubeconfig (server
https://127.0.0.1:PORT with the sandbox's own CA, a bearer token, context `kubelocal-sandbox`,
namespace default); `Cluster.stop()` stops them in reverse order, the kubelet last so that it
removes every process, network namespace and file it made. Pods reach the API as on a real cluster:
`https://kubernetes.default.svc` (10.96.0.1:443, relayed by the kubelet's service proxy to the API
server's loopback port), with a ServiceAccount token the API server accepts and its CA in
`kube-root-ca.crt`. `serve()` is `kubelocal sandbox up --foreground`: it records the cluster id in
the state directory before any namespace exists, runs until SIGTERM/SIGINT, and removes its state
file on the way out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pathlib
import secrets
import signal
import string

from aiohttp import web

from kubelocal.sandbox import apiserver, commands, errors, kinds
from kubelocal.sandbox import store as store_module
from kubelocal.sandbox.apiserver import auth, certificates
from kubelocal.sandbox.controllers import node, running

log = logging.getLogger(__name__)

HOST = "127.0.0.1"

ADMIN_USER = "kubelocal-sandbox-admin"


def new_cluster_id() -> str:
    """8 lowercase letters/digits: short enough for interface and namespace names."""
    return "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(8))


class Cluster:
    """One sandbox. `with_kubelet=False` runs the API and controllers only (pods are never run)."""

    def __init__(
        self,
        *,
        state_dir: pathlib.Path,
        port: int = 0,
        cluster_id: str | None = None,
        with_kubelet: bool = True,
    ) -> None:
        self.state_dir = pathlib.Path(state_dir)
        self.requested_port = port
        self.cluster_id = cluster_id or new_cluster_id()
        self.token = auth.new_token()
        self.tokens = auth.TokenRegistry()
        self.tokens.add(self.token, user=ADMIN_USER)
        self.certificate: certificates.Certificate | None = None
        self.store = store_module.Store(graceful_pod_deletion=with_kubelet)
        self.controllers: running.Controllers | None = None
        self.with_kubelet = with_kubelet
        self.kubelet = None
        self.node: node.NodeLoop | None = None
        self.mode = "no kubelet: pods are stored but never run"
        self.port = 0
        self._runner: web.AppRunner | None = None

    @property
    def server(self) -> str:
        return f"https://{HOST}:{self.port}"

    @property
    def kubeconfig_path(self) -> pathlib.Path:
        return self.state_dir / commands.KUBECONFIG_FILE

    async def start(self) -> None:
        """Start everything; on failure, stop what already started and re-raise."""
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.certificate = certificates.create(self.state_dir / commands.PKI_DIR)
        self.controllers = running.Controllers(store=self.store, root_ca=self.certificate.pem.decode())
        if self.with_kubelet:
            from kubelocal.sandbox import kubelet as kubelet_module  # needs root for namespaces

            resolver = kubelet_module.StoreResolver(
                store=self.store,
                kinds=kinds,
                not_found=errors.NotFound,
                cluster_id=self.cluster_id,
                ca_certificate=self.certificate.pem.decode(),
                token_factory=self.tokens.issue_service_account_token,
            )
            self.kubelet = kubelet_module.Kubelet(
                state_dir=self.state_dir / commands.KUBELET_DIR,
                cluster_id=self.cluster_id,
                resolver=resolver,
                service_proxy=commands.service_proxy_mode(),
            )
            self.node = node.NodeLoop(store=self.store, kubelet=self.kubelet)
        app = apiserver.build_app(
            store=self.store,
            pod_ports=self.kubelet.open_pod_port if self.kubelet is not None else None,
            pod_logs=self.kubelet,
            tokens=self.tokens,
        )
        self._runner, self.port = await apiserver.serve(
            app, host=HOST, port=self.requested_port, ssl_context=self.certificate.server_context()
        )
        await self.controllers.start()
        if self.kubelet is not None and self.node is not None:
            await self.kubelet.start()
            self.mode = self._network_mode()
            self._publish_api_endpoints()
            await self.node.start()
        apiserver.write_kubeconfig(
            self.kubeconfig_path,
            server=self.server,
            token=self.token,
            certificate_authority=self.certificate.pem,
        )

    def _network_mode(self) -> str:
        netns = getattr(getattr(self.kubelet, "network", None), "node_netns", None)
        if netns:
            return (
                f"network namespaces (node namespace {netns}); pod and service IPs answer only inside it; "
                f"services {self.kubelet.service_path}"
            )
        return "loopback fallback (not root): pods listen on 127.244.x.y addresses of this machine"

    def _publish_api_endpoints(self) -> None:
        """Point the `kubernetes` Service at this API server, so pods reach it as in a real cluster.

        The kubelet's service proxy dials 127.x backends from the workstation's namespace.
        """
        subsets = [
            {"addresses": [{"ip": HOST}], "ports": [{"name": "https", "port": self.port, "protocol": "TCP"}]}
        ]
        try:
            current = self.store.get(kinds.ENDPOINTS, "default", "kubernetes")
        except errors.NotFound:
            current = None
        try:
            if current is None:
                self.store.create(
                    kinds.ENDPOINTS,
                    {
                        "apiVersion": "v1",
                        "kind": "Endpoints",
                        "metadata": {
                            "name": "kubernetes",
                            "namespace": "default",
                            "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"},
                        },
                        "subsets": subsets,
                    },
                )
            else:
                current["subsets"] = subsets
                self.store.update(kinds.ENDPOINTS, current)
        except errors.ApiError as error:
            log.warning("pods cannot reach the API server through the kubernetes service: %s", error)

    async def stop(self) -> None:
        """Stop everything started, in reverse order; never raises for a part that did not start."""
        if self.node is not None:
            await self.node.stop()
        if self.controllers is not None:
            await self.controllers.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.kubelet is not None:
            try:
                await self.kubelet.stop()
            except Exception:
                log.exception("the kubelet did not stop cleanly; `kubelocal sandbox down` removes leftovers")
            with contextlib.suppress(OSError):
                (self.state_dir / commands.KUBELET_DIR).rmdir()  # only when the kubelet left it empty
        with contextlib.suppress(FileNotFoundError):
            self.kubeconfig_path.unlink()
        if self.certificate is not None:
            for path in (self.certificate.certificate_file, self.certificate.key_file):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
            with contextlib.suppress(OSError):
                self.certificate.certificate_file.parent.rmdir()


async def serve(*, state_dir: pathlib.Path, port: int = 0) -> int:
    """Run a sandbox until SIGTERM or SIGINT (`kubelocal sandbox up --foreground`)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # One line per request (kubectl, watches, probes of the status command) would swamp the log.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    cluster = Cluster(state_dir=state_dir, port=port)
    # Recorded first: if this process dies from here on, `down` finds its leftovers by this id.
    commands.State(pid=os.getpid(), cluster_id=cluster.cluster_id).write(state_dir)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    try:
        await cluster.start()
        state = commands.State(
            pid=os.getpid(),
            cluster_id=cluster.cluster_id,
            server=cluster.server,
            kubeconfig=str(cluster.kubeconfig_path),
            token=cluster.token,
            mode=cluster.mode,
            certificate_authority=str(cluster.certificate.certificate_file) if cluster.certificate else "",
        )
        state.write(state_dir)
        print(commands.usage(state, state_dir), flush=True)
        await stopping.wait()
    finally:
        await cluster.stop()
        # The log stays for `up` to show why a start failed; `down` removes it.
        with contextlib.suppress(FileNotFoundError):
            (state_dir / commands.STATE_FILE).unlink()
        with contextlib.suppress(OSError):
            state_dir.rmdir()  # only when empty (a foreground run leaves nothing behind)
    return 0
