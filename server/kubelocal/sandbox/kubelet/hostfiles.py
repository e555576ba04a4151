"""The DNS of the sandbox, as hosts files: what each pod's /etc/hosts and /etc/resolv.conf say.

There is no DNS server: every pod gets a hosts file naming every service by the names a cluster's
DNS answers (`svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster.local`, and `svc` for its own namespace's
services, since a hosts file has no search list), pointing at the ClusterIP, or for headless
services at each ready endpoint (plus `<hostname>.<svc>.<ns>.svc.cluster.local` per endpoint with a
hostname, as StatefulSet pods have). Pure functions.
"""

from __future__ import annotations

import dataclasses

CLUSTER_DOMAIN = "cluster.local"


@dataclasses.dataclass(frozen=True)
class PodIdentity:
    namespace: str
    hostname: str
    address: str
    subdomain: str = ""


def pod_identity(pod: dict, address: str) -> PodIdentity:
    """Hostname as Kubernetes sets it: spec.hostname, else the pod's name (cut to 63 chars)."""
    spec = pod.get("spec") or {}
    metadata = pod["metadata"]
    return PodIdentity(
        namespace=metadata.get("namespace", "default"),
        hostname=(spec.get("hostname") or metadata["name"])[:63],
        address=address,
        subdomain=spec.get("subdomain", ""),
    )


def service_records(services: list[dict], endpoints: list[dict]) -> list[tuple[str, str, str]]:
    """(namespace, name-relative-to-namespace, address) for every resolvable service name.

    The relative name is `svc` or `host.svc` (headless endpoints with a hostname); ExternalName
    services and services with neither a ClusterIP nor ready endpoints give nothing.
    """
    endpoints_by_key = {
        (e["metadata"].get("namespace", "default"), e["metadata"]["name"]): e for e in endpoints
    }
    records: list[tuple[str, str, str]] = []
    for service in services:
        metadata = service["metadata"]
        namespace = metadata.get("namespace", "default")
        name = metadata["name"]
        spec = service.get("spec") or {}
        if spec.get("type") == "ExternalName":
            continue
        cluster_ip = spec.get("clusterIP")
        if cluster_ip and cluster_ip != "None":
            records.append((namespace, name, cluster_ip))
            continue
        endpoint = endpoints_by_key.get((namespace, name)) or {}
        for subset in endpoint.get("subsets") or []:
            for address in subset.get("addresses") or []:
                records.append((namespace, name, address["ip"]))
                if address.get("hostname"):
                    records.append((namespace, f"{address['hostname']}.{name}", address["ip"]))
    return sorted(set(records))


def hosts_file(pod: PodIdentity, records: list[tuple[str, str, str]]) -> str:
    """The hosts file of `pod`: localhost, the pod's own names, then the service names."""
    own_names = [pod.hostname]
    if pod.subdomain:
        own_names.insert(0, f"{pod.hostname}.{pod.subdomain}.{pod.namespace}.svc.{CLUSTER_DOMAIN}")
    lines = [
        "# Kubernetes-managed hosts file (kubelocal sandbox).",
        "127.0.0.1\tlocalhost",
        "::1\tlocalhost ip6-localhost ip6-loopback",
        f"{pod.address}\t{' '.join(own_names)}",
    ]
    for namespace, relative, address in records:
        names = [
            f"{relative}.{namespace}.svc.{CLUSTER_DOMAIN}",
            f"{relative}.{namespace}.svc",
            f"{relative}.{namespace}",
        ]
        if namespace == pod.namespace:
            names.append(relative)
        lines.append(f"{address}\t{' '.join(names)}")
    return "\n".join(lines) + "\n"


def resolv_conf(namespace: str) -> str:
    """resolv.conf with the cluster's search list (no nameserver answers: the hosts file does)."""
    return (
        "# kubelocal sandbox: names resolve through /etc/hosts; there is no cluster DNS server.\n"
        f"search {namespace}.svc.{CLUSTER_DOMAIN} svc.{CLUSTER_DOMAIN} {CLUSTER_DOMAIN}\n"
        "nameserver 127.0.0.53\n"
        "options ndots:5 timeout:1 attempts:1\n"
    )
