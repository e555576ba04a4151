"""The sandbox's process kubelet: pods as local processes, each in its own network namespace.

Modules: `node` (the Kubelet), `network`/`addressing` (namespaces, bridge, addresses),
`proxying`/`services` (ClusterIPs), `hostfiles` (DNS), `runtime`/`launcher` (processes, mounts),
`environment`, `volumes`/`projecting`, `images`/`standin`, `probes`/`probing`, `statuses`,
`resolving` (what it reads from the API), `errors`.
"""

from kubelocal.sandbox.kubelet import node, resolving

Kubelet = node.Kubelet
Resolver = resolving.Resolver
StoreResolver = resolving.StoreResolver

__all__ = ["Kubelet", "Resolver", "StoreResolver"]
