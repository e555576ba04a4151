"""The sandbox's API server: an aiohttp application in front of the store.

`build_app(store=..., pod_ports=..., pod_logs=..., tokens=...)` gives the application; `serve()` runs
it on 127.0.0.1 (over TLS with a certificate from `certificates.create`: kubectl sends tokens only
over https) and `kubeconfig()` writes what kubectl and the official client need to reach it.
Served: /version, /healthz, /livez, /readyz, discovery (/api, /apis...), OpenAPI v2 and v3, and every
kind of `kinds.ALL` with list/watch/create/get/update/patch/delete/deletecollection, the status and
scale subresources, pods/log and pods/portforward (WebSocket, `v4.channel.k8s.io`).
"""

from __future__ import annotations

from kubelocal.sandbox.apiserver.rest import PodLogs, PodPorts, build_app, kubeconfig, serve, write_kubeconfig

__all__ = ["PodLogs", "PodPorts", "build_app", "kubeconfig", "serve", "write_kubeconfig"]
