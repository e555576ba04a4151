"""`meta.k8s.io/v1 Table` rendering: the columns `kubectl get` shows, computed as the real server does."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from kubelocal.sandbox import kinds, selectors

Column = tuple[str, str, int, str]  # name, type, priority (1 = only with -o wide), description


def human_duration(seconds: float) -> str:
    """kubectl's duration.HumanDuration: 5s, 3m2s, 10m, 5h3m, 2d3h, 10d, 3y45d."""
    seconds = int(seconds)
    if seconds < 0:
        return "<invalid>"
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        rest = seconds % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = seconds // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 192:
        rest = hours % 24
        return f"{hours // 24}d{rest}h" if rest else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y{days}d" if days else f"{hours // 24 // 365}y"
    return f"{hours // 24 // 365}y"


def _age(obj: dict, now: datetime.datetime) -> str:
    created = (obj.get("metadata") or {}).get("creationTimestamp")
    if not created:
        return "<unknown>"
    moment = datetime.datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)
    return human_duration((now - moment).total_seconds())


def _containers(obj: dict) -> tuple[str, str]:
    spec = ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
    containers = spec.get("containers") or []
    return ",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers)


def _pod_status(pod: dict) -> str:
    status = pod.get("status") or {}
    reason = status.get("reason") or status.get("phase") or "Pending"
    for container in status.get("initContainerStatuses") or []:
        state = container.get("state") or {}
        if state.get("terminated", {}).get("exitCode", 0) != 0:
            return "Init:" + (state["terminated"].get("reason") or "Error")
        if state.get("waiting", {}).get("reason") not in (None, "PodInitializing"):
            return "Init:" + state["waiting"]["reason"]
    for container in reversed(status.get("containerStatuses") or []):
        state = container.get("state") or {}
        if state.get("waiting", {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif state.get("terminated", {}).get("reason"):
            reason = state["terminated"]["reason"]
        elif "terminated" in state:
            code = state["terminated"].get("exitCode", 0)
            signal = state["terminated"].get("signal")
            reason = f"Signal:{signal}" if signal else f"ExitCode:{code}"
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        reason = "Terminating"
    return reason


def _pod_row(pod: dict, now: datetime.datetime) -> list[Any]:
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    statuses = status.get("containerStatuses") or []
    ready = sum(1 for s in statuses if s.get("ready"))
    restarts = sum(int(s.get("restartCount", 0)) for s in statuses)
    gates = spec.get("readinessGates") or []
    return [
        pod["metadata"]["name"],
        f"{ready}/{len(spec.get('containers') or [])}",
        _pod_status(pod),
        restarts,
        _age(pod, now),
        status.get("podIP") or "<none>",
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        f"{len(gates)}/{len(gates)}" if gates else "<none>",
    ]


def _service_row(service: dict, now: datetime.datetime) -> list[Any]:
    spec = service.get("spec") or {}
    ports = []
    for port in spec.get("ports") or []:
        node_port = f":{port['nodePort']}" if port.get("nodePort") else ""
        ports.append(f"{port.get('port')}{node_port}/{port.get('protocol', 'TCP')}")
    external = spec.get("externalIPs") or []
    ingress = ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    external_ip = ",".join(external + [i.get("ip") or i.get("hostname", "") for i in ingress])
    if spec.get("type") == "ExternalName":
        external_ip = spec.get("externalName", "")
    elif not external_ip:
        external_ip = "<pending>" if spec.get("type") == "LoadBalancer" else "<none>"
    selector = ",".join(f"{k}={v}" for k, v in sorted((spec.get("selector") or {}).items())) or "<none>"
    return [
        service["metadata"]["name"],
        spec.get("type", "ClusterIP"),
        spec.get("clusterIP") or "<none>",
        external_ip,
        ",".join(ports) or "<none>",
        _age(service, now),
        selector,
    ]


def _deployment_row(obj: dict, now: datetime.datetime) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    names, images = _containers(obj)
    return [
        obj["metadata"]["name"],
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 0)}",
        status.get("updatedReplicas", 0),
        status.get("availableReplicas", 0),
        _age(obj, now),
        names,
        images,
        selectors.to_string(spec.get("selector")),
    ]


def _replica_set_row(obj: dict, now: datetime.datetime) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    names, images = _containers(obj)
    return [
        obj["metadata"]["name"],
        spec.get("replicas", 0),
        status.get("replicas", 0),
        status.get("readyReplicas", 0),
        _age(obj, now),
        names,
        images,
        selectors.to_string(spec.get("selector")),
    ]


def _stateful_set_row(obj: dict, now: datetime.datetime) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    names, images = _containers(obj)
    return [
        obj["metadata"]["name"],
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 0)}",
        _age(obj, now),
        names,
        images,
    ]


def _job_row(obj: dict, now: datetime.datetime) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    state = "Running"
    if conditions.get("Complete") == "True":
        state = "Complete"
    elif conditions.get("Failed") == "True":
        state = "Failed"
    elif conditions.get("Suspended") == "True":
        state = "Suspended"
    duration = ""
    if status.get("startTime"):
        start = datetime.datetime.strptime(status["startTime"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.UTC
        )
        end = now
        if status.get("completionTime"):
            end = datetime.datetime.strptime(status["completionTime"], "%Y-%m-%dT%H:%M:%SZ").replace(
                tzinfo=datetime.UTC
            )
        duration = human_duration((end - start).total_seconds())
    names, images = _containers(obj)
    return [
        obj["metadata"]["name"],
        state,
        f"{status.get('succeeded', 0)}/{spec.get('completions', 1)}",
        duration,
        _age(obj, now),
        names,
        images,
        selectors.to_string(spec.get("selector")),
    ]


def _endpoints_row(obj: dict, now: datetime.datetime) -> list[Any]:
    addresses = []
    for subset in obj.get("subsets") or []:
        for address in subset.get("addresses") or []:
            for port in subset.get("ports") or [{}]:
                addresses.append(f"{address.get('ip')}:{port.get('port')}" if port else address.get("ip"))
    shown = ",".join(addresses[:3]) + (f" + {len(addresses) - 3} more..." if len(addresses) > 3 else "")
    return [obj["metadata"]["name"], shown or "<none>", _age(obj, now)]


def _endpoint_slice_row(obj: dict, now: datetime.datetime) -> list[Any]:
    ports = ",".join(str(p.get("port")) for p in obj.get("ports") or []) or "<unset>"
    addresses = [a for e in obj.get("endpoints") or [] for a in e.get("addresses") or []]
    shown = ",".join(addresses[:3]) + (f" + {len(addresses) - 3} more..." if len(addresses) > 3 else "")
    return [obj["metadata"]["name"], obj.get("addressType", ""), ports, shown or "<unset>", _age(obj, now)]


def _ingress_row(obj: dict, now: datetime.datetime) -> list[Any]:
    spec = obj.get("spec") or {}
    hosts = ",".join(r.get("host", "*") or "*" for r in spec.get("rules") or []) or "*"
    ingress = ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    address = ",".join(i.get("ip") or i.get("hostname", "") for i in ingress)
    ports = "80, 443" if spec.get("tls") else "80"
    return [
        obj["metadata"]["name"],
        spec.get("ingressClassName") or "<none>",
        hosts,
        address,
        ports,
        _age(obj, now),
    ]


def _node_row(obj: dict, now: datetime.datetime) -> list[Any]:
    conditions = {c.get("type"): c.get("status") for c in (obj.get("status") or {}).get("conditions") or []}
    roles = [
        k.rpartition("/")[2]
        for k in (obj["metadata"].get("labels") or {})
        if k.startswith("node-role.kubernetes.io/")
    ]
    info = (obj.get("status") or {}).get("nodeInfo") or {}
    return [
        obj["metadata"]["name"],
        "Ready" if conditions.get("Ready") == "True" else "NotReady",
        ",".join(roles) or "<none>",
        _age(obj, now),
        info.get("kubeletVersion", ""),
    ]


def _event_row(obj: dict, now: datetime.datetime) -> list[Any]:
    involved = obj.get("involvedObject") or {}
    last = obj.get("lastTimestamp") or obj.get("eventTime") or obj["metadata"].get("creationTimestamp")
    seen = "<unknown>"
    if isinstance(last, str):
        try:
            moment = datetime.datetime.strptime(last[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.UTC)
            seen = human_duration((now - moment).total_seconds())
        except ValueError:
            pass
    return [
        seen,
        obj.get("type", ""),
        obj.get("reason", ""),
        f"{(involved.get('kind') or '').lower()}/{involved.get('name', '')}",
        obj.get("message", ""),
    ]


_NAME = ("Name", "string", 0, "Name must be unique within a namespace.")
_AGE = (
    "Age",
    "string",
    0,
    "CreationTimestamp is a timestamp representing the server time when this object was created.",
)
_TABLES: dict[str, tuple[list[Column], Callable[[dict, datetime.datetime], list[Any]]]] = {
    "Pod": (
        [
            _NAME,
            ("Ready", "string", 0, "The aggregate readiness state of this pod for accepting traffic."),
            ("Status", "string", 0, "The aggregate status of the containers in this pod."),
            ("Restarts", "string", 0, "The number of times the containers in this pod have been restarted."),
            _AGE,
            ("IP", "string", 1, "IP address allocated to the pod."),
            ("Node", "string", 1, "Name of the Node this pod is scheduled on."),
            ("Nominated Node", "string", 1, "Name of the Node nominated for this pod."),
            ("Readiness Gates", "string", 1, "Readiness gates of the pod."),
        ],
        _pod_row,
    ),
    "Service": (
        [
            _NAME,
            ("Type", "string", 0, "The type of service."),
            ("Cluster-IP", "string", 0, "The cluster IP."),
            ("External-IP", "string", 0, "External IPs."),
            ("Port(s)", "string", 0, "The ports."),
            _AGE,
            ("Selector", "string", 1, "The selector."),
        ],
        _service_row,
    ),
    "Deployment": (
        [
            _NAME,
            ("Ready", "string", 0, "Number of the pod with ready state"),
            (
                "Up-to-date",
                "string",
                0,
                "Total number of non-terminated pods with the desired template spec.",
            ),
            ("Available", "string", 0, "Total number of available pods."),
            _AGE,
            ("Containers", "string", 1, "Names of each container in the template."),
            ("Images", "string", 1, "Images referenced by each container in the template."),
            ("Selector", "string", 1, "Label selector for pods."),
        ],
        _deployment_row,
    ),
    "ReplicaSet": (
        [
            _NAME,
            ("Desired", "integer", 0, "Number of desired pods."),
            ("Current", "integer", 0, "Number of pods."),
            ("Ready", "integer", 0, "Number of ready pods."),
            _AGE,
            ("Containers", "string", 1, "Names of each container in the template."),
            ("Images", "string", 1, "Images referenced by each container in the template."),
            ("Selector", "string", 1, "Label selector for pods."),
        ],
        _replica_set_row,
    ),
    "StatefulSet": (
        [
            _NAME,
            ("Ready", "string", 0, "Number of the pod with ready state"),
            _AGE,
            ("Containers", "string", 1, "Names of each container in the template."),
            ("Images", "string", 1, "Images referenced by each container in the template."),
        ],
        _stateful_set_row,
    ),
    "Job": (
        [
            _NAME,
            ("Status", "string", 0, "Status of the job."),
            ("Completions", "string", 0, "The completion status of the job."),
            ("Duration", "string", 0, "Time required to complete the job."),
            _AGE,
            ("Containers", "string", 1, "Names of each container in the template."),
            ("Images", "string", 1, "Images referenced by each container in the template."),
            ("Selector", "string", 1, "Label selector for pods."),
        ],
        _job_row,
    ),
    "Namespace": (
        [_NAME, ("Status", "string", 0, "The status of the namespace"), _AGE],
        lambda o, now: [o["metadata"]["name"], (o.get("status") or {}).get("phase", ""), _age(o, now)],
    ),
    "ConfigMap": (
        [_NAME, ("Data", "string", 0, "Number of keys."), _AGE],
        lambda o, now: [
            o["metadata"]["name"],
            len(o.get("data") or {}) + len(o.get("binaryData") or {}),
            _age(o, now),
        ],
    ),
    "Secret": (
        [
            _NAME,
            ("Type", "string", 0, "The type of the secret"),
            ("Data", "string", 0, "Number of keys."),
            _AGE,
        ],
        lambda o, now: [o["metadata"]["name"], o.get("type", ""), len(o.get("data") or {}), _age(o, now)],
    ),
    "ServiceAccount": (
        [_NAME, ("Secrets", "string", 0, "Number of secrets."), _AGE],
        lambda o, now: [o["metadata"]["name"], len(o.get("secrets") or []), _age(o, now)],
    ),
    "Endpoints": ([_NAME, ("Endpoints", "string", 0, "Endpoints."), _AGE], _endpoints_row),
    "EndpointSlice": (
        [
            _NAME,
            ("AddressType", "string", 0, "Address type."),
            ("Ports", "string", 0, "Ports."),
            ("Endpoints", "string", 0, "Endpoints."),
            _AGE,
        ],
        _endpoint_slice_row,
    ),
    "Ingress": (
        [
            _NAME,
            ("Class", "string", 0, "Ingress class."),
            ("Hosts", "string", 0, "Hosts."),
            ("Address", "string", 0, "Address."),
            ("Ports", "string", 0, "Ports."),
            _AGE,
        ],
        _ingress_row,
    ),
    "Node": (
        [
            _NAME,
            ("Status", "string", 0, "Node status."),
            ("Roles", "string", 0, "Node roles."),
            _AGE,
            ("Version", "string", 0, "Kubelet version."),
        ],
        _node_row,
    ),
    "Event": (
        [
            ("Last Seen", "string", 0, "Last seen."),
            ("Type", "string", 0, "Type."),
            ("Reason", "string", 0, "Reason."),
            ("Object", "string", 0, "Object."),
            ("Message", "string", 0, "Message."),
        ],
        _event_row,
    ),
    "RoleBinding": (
        [_NAME, ("Role", "string", 0, "Role."), _AGE],
        lambda o, now: [
            o["metadata"]["name"],
            f"{(o.get('roleRef') or {}).get('kind', '')}/{(o.get('roleRef') or {}).get('name', '')}",
            _age(o, now),
        ],
    ),
    "Role": (
        [_NAME, ("Created At", "date", 0, "Creation time.")],
        lambda o, now: [o["metadata"]["name"], o["metadata"].get("creationTimestamp", "")],
    ),
}
_DEFAULT: tuple[list[Column], Callable[[dict, datetime.datetime], list[Any]]] = (
    [_NAME, _AGE],
    lambda o, now: [o["metadata"]["name"], _age(o, now)],
)


def table(
    kind: kinds.Kind,
    objects: list[dict],
    *,
    include_object: str = "Metadata",
    resource_version: str = "",
    continue_token: str = "",
) -> dict[str, Any]:
    """A Table of objects, with each row's object as the real server includes it (None/Metadata/Object)."""
    columns, row = _TABLES.get(kind.kind, _DEFAULT)
    now = datetime.datetime.now(datetime.UTC)
    rows = []
    for obj in objects:
        entry: dict[str, Any] = {"cells": row(obj, now)}
        if include_object == "Object":
            entry["object"] = obj
        elif include_object != "None":
            entry["object"] = partial_metadata(obj)
        rows.append(entry)
    metadata: dict[str, Any] = {"resourceVersion": resource_version}
    if continue_token:
        metadata["continue"] = continue_token
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": [
            {
                "name": name,
                "type": kind_,
                "format": "name" if name == "Name" else "",
                "description": text,
                "priority": priority,
            }
            for name, kind_, priority, text in columns
        ],
        "rows": rows,
    }


def partial_metadata(obj: dict) -> dict[str, Any]:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata", {}),
    }
