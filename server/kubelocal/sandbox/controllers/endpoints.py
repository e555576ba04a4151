"""Endpoints and EndpointSlices (discovery.k8s.io/v1) of a Service from the pods it selects (pure).

A pod counts once it has an IP and is not terminating: ready pods are `addresses`, the others
`notReadyAddresses` (all of them `addresses` when the service publishes not-ready addresses).
Named targetPorts are resolved per pod from its container ports; a pod without the named port is
left out of that port's subset, as kube does. Services without a selector are not touched (their
endpoints belong to the user). The EndpointSlice for a service is `<service>-<5 chars>`, labelled
`kubernetes.io/service-name` and `endpointslice.kubernetes.io/managed-by`, owned by the Service;
terminating pods appear in it with `terminating: true`, as in kube.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from kubelocal.sandbox.controllers import actions, objects

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MANAGED_BY = "endpointslice-controller.k8s.io"
LAST_CHANGE = "endpoints.kubernetes.io/last-change-trigger-time"


def _resolve_port(pod: dict, target: object) -> int | None:
    if target is None:
        return None
    if isinstance(target, int) or (isinstance(target, str) and target.isdigit()):
        return int(target)
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == target:
                return int(port["containerPort"])
    return None


def _pod_ip(pod: dict) -> str | None:
    return (pod.get("status") or {}).get("podIP") or None


def _selected(service: dict, pods: list[dict]) -> list[dict]:
    selector = (service.get("spec") or {}).get("selector") or {}
    return sorted(
        (
            pod
            for pod in pods
            if objects.namespace_of(pod) == objects.namespace_of(service)
            and objects.matches_labels(objects.labels_of(pod), selector)
            and _pod_ip(pod)
            and objects.pod_phase(pod) not in ("Succeeded", "Failed")
        ),
        key=objects.name_of,
    )


def _target_ref(pod: dict) -> dict:
    return {
        "kind": "Pod",
        "namespace": objects.namespace_of(pod),
        "name": objects.name_of(pod),
        "uid": objects.uid_of(pod),
    }


def _hostname(service: dict, pod: dict) -> str | None:
    pod_spec = pod.get("spec") or {}
    if pod_spec.get("hostname") and pod_spec.get("subdomain") == objects.name_of(service):
        return pod_spec["hostname"]
    return None


def _ports_for(service: dict, pod: dict) -> list[dict]:
    ports = []
    for service_port in (service.get("spec") or {}).get("ports") or []:
        number = _resolve_port(pod, service_port.get("targetPort", service_port.get("port")))
        if number is None:
            continue
        port = {"port": number, "protocol": service_port.get("protocol", "TCP")}
        if service_port.get("name"):
            port["name"] = service_port["name"]
        if service_port.get("appProtocol"):
            port["appProtocol"] = service_port["appProtocol"]
        ports.append(port)
    return ports


def desired_subsets(service: dict, pods: list[dict]) -> list[dict]:
    """`subsets` of the Endpoints: pods grouped by their resolved port list."""
    publish_not_ready = bool((service.get("spec") or {}).get("publishNotReadyAddresses"))
    groups: dict[str, dict] = {}
    for pod in _selected(service, pods):
        if objects.is_deleting(pod):
            continue
        ports = _ports_for(service, pod)
        if not ports:
            continue
        key = repr(sorted((p.get("name", ""), p["port"], p["protocol"]) for p in ports))
        subset = groups.setdefault(key, {"ports": ports})
        address: dict = {"ip": _pod_ip(pod), "targetRef": _target_ref(pod)}
        node = (pod.get("spec") or {}).get("nodeName")
        if node:
            address["nodeName"] = node
        hostname = _hostname(service, pod)
        if hostname:
            address["hostname"] = hostname
        field = "addresses" if publish_not_ready or objects.is_pod_ready(pod) else "notReadyAddresses"
        subset.setdefault(field, []).append(address)
    return [groups[key] for key in sorted(groups)]


def reconcile_endpoints(
    service: dict | None,
    endpoints: dict | None,
    pods: list[dict],
    *,
    name: str,
    namespace: str,
    now: datetime.datetime,
) -> actions.Decision:
    """Create, update or delete the Endpoints named after a service (None = the service is gone)."""
    decision = actions.Decision()
    if service is None or objects.is_deleting(service):
        if endpoints is not None and service is None:
            decision.actions.append(
                actions.Delete("endpoints", namespace, name, uid=objects.uid_of(endpoints))
            )
        return decision
    spec = service.get("spec") or {}
    if not spec.get("selector") or spec.get("type") == "ExternalName":
        return decision
    subsets = desired_subsets(service, pods)
    labels = {**objects.labels_of(service)}
    if endpoints is None:
        body: dict = {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": labels,
                "annotations": {LAST_CHANGE: objects.timestamp(now)},
            },
        }
        if subsets:
            body["subsets"] = subsets
        decision.actions.append(actions.Create("endpoints", namespace, body))
        return decision
    if (endpoints.get("subsets") or []) != subsets or objects.labels_of(endpoints) != labels:
        body = dict(endpoints)
        body["metadata"] = dict(objects.meta(endpoints))
        body["metadata"]["labels"] = labels
        body["metadata"]["annotations"] = {
            **(objects.meta(endpoints).get("annotations") or {}),
            LAST_CHANGE: objects.timestamp(now),
        }
        if subsets:
            body["subsets"] = subsets
        else:
            body.pop("subsets", None)
        decision.actions.append(actions.Update("endpoints", body))
    return decision


def desired_slice_endpoints(service: dict, pods: list[dict]) -> list[tuple[list[dict], dict]]:
    """(ports, endpoint) pairs for the slices, terminating pods included."""
    publish_not_ready = bool((service.get("spec") or {}).get("publishNotReadyAddresses"))
    result = []
    for pod in _selected(service, pods):
        ports = _ports_for(service, pod)
        if not ports:
            continue
        terminating = objects.is_deleting(pod)
        ready = objects.is_pod_ready(pod)
        endpoint: dict = {
            "addresses": [_pod_ip(pod)],
            "conditions": {
                "ready": (ready or publish_not_ready) and not terminating,
                "serving": ready or publish_not_ready,
                "terminating": terminating,
            },
            "targetRef": _target_ref(pod),
        }
        node = (pod.get("spec") or {}).get("nodeName")
        if node:
            endpoint["nodeName"] = node
        hostname = _hostname(service, pod)
        if hostname:
            endpoint["hostname"] = hostname
        result.append((ports, endpoint))
    return result


def reconcile_slices(
    service: dict | None,
    slices: list[dict],
    pods: list[dict],
    *,
    now: datetime.datetime,
    suffix: Callable[[], str] = objects.random_suffix,
) -> actions.Decision:
    """Create, update or delete the controller-managed EndpointSlices of one service.

    `slices` are those labelled with the service's name; slices not managed by this controller are
    left alone. One slice per distinct port list, reusing existing slices in place.
    """
    decision = actions.Decision()
    managed = [s for s in slices if objects.labels_of(s).get(MANAGED_BY_LABEL) == MANAGED_BY]
    if service is None or objects.is_deleting(service):
        return decision  # the garbage collector removes slices owned by a deleted service
    spec = service.get("spec") or {}
    if not spec.get("selector") or spec.get("type") == "ExternalName":
        return decision
    namespace = objects.namespace_of(service) or ""
    name = objects.name_of(service)
    groups: dict[str, tuple[list[dict], list[dict]]] = {}
    for ports, endpoint in desired_slice_endpoints(service, pods):
        key = repr(sorted((p.get("name", ""), p["port"], p["protocol"]) for p in ports))
        groups.setdefault(key, (ports, []))[1].append(endpoint)
    if not groups:
        # Kube keeps one empty slice with the service's ports (port numbers unknown: none).
        groups[""] = ([], [])
    labels = {**objects.labels_of(service), SERVICE_NAME_LABEL: name, MANAGED_BY_LABEL: MANAGED_BY}
    unused = sorted(managed, key=objects.name_of)
    for key in sorted(groups):
        ports, endpoints_list = groups[key]
        existing = next((s for s in unused if _slice_key(s) == key), None) or (unused[0] if unused else None)
        if existing is not None:
            unused.remove(existing)
            if (
                (existing.get("endpoints") or []) != endpoints_list
                or (existing.get("ports") or []) != ports
                or objects.labels_of(existing) != labels
            ):
                body = dict(existing)
                body["metadata"] = {**objects.meta(existing), "labels": labels}
                body["endpoints"] = endpoints_list
                body["ports"] = ports
                decision.actions.append(actions.Update("endpointslices", body))
            continue
        body = {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "name": f"{name}-{suffix()}",
                "generateName": f"{name}-",
                "namespace": namespace,
                "labels": labels,
                "annotations": {LAST_CHANGE: objects.timestamp(now)},
                "ownerReferences": [objects.owner_reference(service, api_version="v1", kind="Service")],
            },
            "addressType": "IPv4",
            "endpoints": endpoints_list,
            "ports": ports,
        }
        decision.actions.append(actions.Create("endpointslices", namespace, body))
    for leftover in unused:
        decision.actions.append(actions.delete_of("endpointslices", leftover))
    return decision


def _slice_key(endpoint_slice: dict) -> str:
    ports = endpoint_slice.get("ports") or []
    if not ports:
        return ""
    return repr(sorted((p.get("name", ""), p["port"], p.get("protocol", "TCP")) for p in ports))
