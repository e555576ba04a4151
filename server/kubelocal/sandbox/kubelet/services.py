"""Services seen from the node: the service proxy's table and the ports a pod is targeted on.

Pure functions over Service and Endpoints (or EndpointSlice) dicts as the API returns them.
"""

from __future__ import annotations

from kubelocal.sandbox.kubelet import probes

Backend = tuple[str, int]
Frontend = tuple[str, int]


def _endpoint_backends(endpoint: dict) -> dict[str, list[Backend]]:
    """Ready backends of one Endpoints or EndpointSlice object, by port name ("" for unnamed)."""
    backends: dict[str, list[Backend]] = {}
    if "subsets" in endpoint or endpoint.get("kind") == "Endpoints":
        for subset in endpoint.get("subsets") or []:
            for port in subset.get("ports") or []:
                if port.get("protocol", "TCP") != "TCP":
                    continue
                for address in subset.get("addresses") or []:
                    backends.setdefault(port.get("name") or "", []).append((address["ip"], int(port["port"])))
        return backends
    for port in endpoint.get("ports") or []:
        if port.get("protocol", "TCP") != "TCP" or port.get("port") is None:
            continue
        for entry in endpoint.get("endpoints") or []:
            if (entry.get("conditions") or {}).get("ready", True) is False:
                continue
            for address in entry.get("addresses") or []:
                backends.setdefault(port.get("name") or "", []).append((address, int(port["port"])))
    return backends


def _service_of(endpoint: dict) -> tuple[str, str]:
    metadata = endpoint["metadata"]
    name = (metadata.get("labels") or {}).get("kubernetes.io/service-name") or metadata["name"]
    if endpoint.get("kind") == "Endpoints" or "subsets" in endpoint:
        name = metadata["name"]
    return metadata.get("namespace", "default"), name


def proxy_table(services: list[dict], endpoints: list[dict]) -> dict[Frontend, list[Backend]]:
    """ClusterIP:port -> ready backends (pod IP, target port), for every TCP service port.

    A service port whose service has no ready endpoints maps to an empty list: the proxy then
    refuses connections, as kube-proxy does. Headless and ExternalName services are not proxied.
    """
    by_service: dict[tuple[str, str], dict[str, list[Backend]]] = {}
    for endpoint in endpoints:
        merged = by_service.setdefault(_service_of(endpoint), {})
        for port_name, backends in _endpoint_backends(endpoint).items():
            merged.setdefault(port_name, [])
            merged[port_name] += [b for b in backends if b not in merged[port_name]]
    table: dict[Frontend, list[Backend]] = {}
    for service in services:
        spec = service.get("spec") or {}
        cluster_ip = spec.get("clusterIP")
        if not cluster_ip or cluster_ip == "None" or spec.get("type") == "ExternalName":
            continue
        metadata = service["metadata"]
        ready = by_service.get((metadata.get("namespace", "default"), metadata["name"]), {})
        for port in spec.get("ports") or []:
            if port.get("protocol", "TCP") != "TCP":
                continue
            table[(cluster_ip, int(port["port"]))] = sorted(ready.get(port.get("name") or "", []))
    return table


def selects(service: dict, pod: dict) -> bool:
    """True when the service's selector (non-empty) matches the pod's labels."""
    selector = (service.get("spec") or {}).get("selector") or {}
    labels = pod["metadata"].get("labels") or {}
    return bool(selector) and all(labels.get(key) == value for key, value in selector.items())


def stand_in_ports(*, pod: dict, container: dict, services: list[dict], only_stand_ins: bool) -> list[int]:
    """Every TCP port a stand-in for `container` must accept: its declared ports, its probes'
    ports, and the target ports of services selecting the pod that name one of its ports, or (when
    every container of the pod is a stand-in and this is the first) are numbers no container declares.
    """
    ports: set[int] = {
        int(p["containerPort"]) for p in container.get("ports") or [] if p.get("protocol", "TCP") == "TCP"
    }
    for key in ("readinessProbe", "livenessProbe", "startupProbe"):
        probe = container.get(key)
        if probe and ("httpGet" in probe or "tcpSocket" in probe):
            try:
                ports.add(probes.check(probe, container).port)
            except (ValueError, KeyError):
                pass
    containers = (pod.get("spec") or {}).get("containers") or []
    declared_anywhere = {int(p["containerPort"]) for c in containers for p in c.get("ports") or []}
    is_first = bool(containers) and containers[0].get("name") == container.get("name")
    for service in services:
        if not selects(service, pod):
            continue
        for port in (service.get("spec") or {}).get("ports") or []:
            if port.get("protocol", "TCP") != "TCP":
                continue
            target = port.get("targetPort", port["port"])
            if isinstance(target, str) and not target.isdigit():
                named = [p for p in container.get("ports") or [] if p.get("name") == target]
                ports.update(int(p["containerPort"]) for p in named)
            elif int(target) not in declared_anywhere and only_stand_ins and is_first:
                ports.add(int(target))
    return sorted(ports)
