"""Target resolution: a Service -> its ready pods -> the workload that owns them -> one container.

Pure: takes the objects as the API returns them in JSON (list items carry no `kind`, so each kind
comes in its own parameter) and returns a `Target` or raises a `errors.TargetError` whose message
says what to do.

Rules, in order:

1. The service must exist and have a selector (ExternalName services and services with manually
   managed endpoints select no pods, so there is nothing to replace).
2. Pods: those whose labels contain the selector, not terminating, not finished (Succeeded/Failed).
   None -> `NoPods`. Some but none ready -> `PodNotReady` with the reasons the kubelet gives.
3. Before anything else is judged, a workload or pod marked by another kubelocal session (or by the
   original product) -> `AlreadyRedirected`, naming who and since when.
4. Owner chain through the controlling ownerReference: Pod -> ReplicaSet -> Deployment; Pod ->
   StatefulSet; Pod -> ReplicaSet without a Deployment; no controller -> the bare Pod. Anything
   else (DaemonSet, Job from a CronJob, operators' kinds) -> `UnsupportedOwner`. Ready pods of
   several workloads (a canary beside the main Deployment) -> `SeveralWorkloads`.
5. Container: the explicit name; else the only container whose declared ports cover every TCP
   targetPort of the service (named targetPorts resolved by port name); else the only one that
   covers some; else the only container that is not a known sidecar; else `SeveralContainers`.
   Init containers (including native sidecars, `restartPolicy: Always`) are never candidates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubelocal.engine import errors, names

SUPPORTED_OWNERS = "Deployment (through its ReplicaSet), StatefulSet, ReplicaSet, or a bare Pod"


@dataclass(frozen=True)
class PortMapping:
    """One service port and the container port it reaches.

    `service_port_name` is "" for an unnamed port; `target_port_name` is the name the service used
    as targetPort, or "" when it used a number.
    """

    service_port_name: str
    service_port: int
    container_port: int
    protocol: str
    target_port_name: str = ""


@dataclass(frozen=True)
class Target:
    """The resolved workload and container to replace.

    `workload` is the full object (Deployment, StatefulSet, ReplicaSet or Pod) as read, the base
    of the patch and its inverse; `pod_template` is its template (for a bare Pod: the pod's
    metadata and spec). `replicas` is the workload's desired count (1 for a bare Pod; an absent
    `spec.replicas` counts as Kubernetes' default, 1). `ports` maps the service's TCP ports to the
    container; `pods` names the ready pods that were matched.
    """

    kind: str
    name: str
    namespace: str
    container: str
    service: str
    ports: tuple[PortMapping, ...]
    replicas: int
    pods: tuple[str, ...]
    pod_template: dict[str, Any] = field(repr=False, compare=False)
    workload: dict[str, Any] = field(repr=False, compare=False)

    @property
    def container_spec(self) -> dict[str, Any]:
        for container in self.pod_template.get("spec", {}).get("containers", []):
            if container.get("name") == self.container:
                return container
        raise AssertionError("resolve() only builds targets whose container exists")


def resolve(
    *,
    service_name: str,
    namespace: str,
    service: Mapping[str, Any] | None,
    pods: Sequence[Mapping[str, Any]],
    replica_sets: Sequence[Mapping[str, Any]] = (),
    deployments: Sequence[Mapping[str, Any]] = (),
    stateful_sets: Sequence[Mapping[str, Any]] = (),
    container: str | None = None,
) -> Target:
    """Resolve `service_name` in `namespace` to a `Target`; see the module docstring for the rules.

    `service` is None when the API answered 404. `pods` are the pods of the namespace (or those
    matching the selector); the owners are looked up by name among the given ReplicaSets,
    Deployments and StatefulSets, and a uid mismatch (an object deleted and recreated under the
    same name) counts as not found.
    """
    if service is None:
        raise errors.ServiceNotFound(
            f"Service {service_name!r} was not found in namespace {namespace!r}. "
            "Check the name and the namespace (`kubelocal list services --namespace ...`)."
        )
    spec = service.get("spec") or {}
    selector = spec.get("selector") or {}
    if not selector:
        why = (
            f"it is of type ExternalName ({spec.get('externalName')})"
            if spec.get("type") == "ExternalName"
            else "it has no selector (its endpoints are managed by hand or by a controller)"
        )
        raise errors.ServiceWithoutSelector(
            f"Service {service_name!r} in {namespace!r} cannot be redirected: {why}. "
            "Connect to a service that selects the pods of a Deployment, StatefulSet, ReplicaSet or Pod."
        )

    # Only live pods count: a disconnected session's agent pod lingers for its grace period.
    matching = [pod for pod in pods if _selects(selector, pod) and _is_live(pod)]
    if not matching:
        raise errors.NoPods(
            f"Service {service_name!r} in {namespace!r} selects no running pod "
            f"(selector {_format_selector(selector)}). Scale its workload up or check the selector."
        )
    _refuse_if_redirected(service_name, matching, replica_sets, deployments, stateful_sets)

    ready = [pod for pod in matching if _is_ready(pod)]
    if not ready:
        reasons = "; ".join(f"{_name(pod)}: {_not_ready_reason(pod)}" for pod in matching)
        raise errors.PodNotReady(
            f"No pod of service {service_name!r} is ready ({reasons}). "
            "Fix the workload so that one pod becomes ready (`kubectl describe pod ...`), then connect again."
        )

    workloads: dict[tuple[str, str], tuple[Mapping[str, Any], dict[str, Any]]] = {}
    for pod in ready:
        kind, workload, template = _owner_of(
            pod, namespace=namespace, replica_sets=replica_sets, deployments=deployments,
            stateful_sets=stateful_sets,
        )  # fmt: skip
        workloads.setdefault((kind, _name(workload)), (workload, template))
    if len(workloads) > 1:
        listed = ", ".join(f"{kind} {name}" for kind, name in sorted(workloads))
        raise errors.SeveralWorkloads(
            f"Service {service_name!r} selects ready pods of several workloads ({listed}). "
            "kubelocal replaces one workload: scale the others to 0 or connect through a service "
            "that selects only one of them."
        )
    ((kind, workload_name),) = workloads
    workload, template = workloads[(kind, workload_name)]

    containers = list(template.get("spec", {}).get("containers", []))
    service_ports = [port for port in spec.get("ports") or [] if port.get("protocol", "TCP") == "TCP"]
    chosen = _choose_container(service_name, containers, service_ports, explicit=container)
    mappings = tuple(_map_ports(service_name, chosen, service_ports))
    replicas = 1 if kind == "Pod" else _replicas(workload)
    return Target(
        kind=kind,
        name=workload_name,
        namespace=namespace,
        container=chosen["name"],
        service=service_name,
        ports=mappings,
        replicas=replicas,
        pods=tuple(sorted(_name(pod) for pod in ready if _belongs(pod, kind, workload, replica_sets))),
        pod_template=template,
        workload=dict(workload),
    )


# --- pods -------------------------------------------------------------------------------------


def _name(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def _labels(obj: Mapping[str, Any]) -> Mapping[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}


def _annotations(obj: Mapping[str, Any]) -> Mapping[str, str]:
    return (obj.get("metadata") or {}).get("annotations") or {}


def _selects(selector: Mapping[str, str], pod: Mapping[str, Any]) -> bool:
    labels = _labels(pod)
    return all(labels.get(key) == value for key, value in selector.items())


def _is_live(pod: Mapping[str, Any]) -> bool:
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    return (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")


def _is_ready(pod: Mapping[str, Any]) -> bool:
    status = pod.get("status") or {}
    if status.get("phase") != "Running":
        return False
    return any(
        condition.get("type") == "Ready" and condition.get("status") == "True"
        for condition in status.get("conditions") or []
    )


def _not_ready_reason(pod: Mapping[str, Any]) -> str:
    status = pod.get("status") or {}
    for container in status.get("containerStatuses") or []:
        state = container.get("state") or {}
        waiting = state.get("waiting")
        if waiting:
            return f"container {container.get('name')} is waiting: {waiting.get('reason', 'unknown reason')}"
        terminated = state.get("terminated")
        if terminated:
            return (
                f"container {container.get('name')} terminated: {terminated.get('reason', 'unknown reason')}"
            )
        if not container.get("ready"):
            return f"container {container.get('name')} is running but not ready (readiness probe)"
    for condition in status.get("conditions") or []:
        if condition.get("status") != "True" and condition.get("reason"):
            return f"{condition.get('type')}: {condition.get('reason')}"
    return f"phase {status.get('phase', 'unknown')}"


def _format_selector(selector: Mapping[str, str]) -> str:
    return ",".join(f"{key}={value}" for key, value in sorted(selector.items()))


# --- another session -----------------------------------------------------------------------------


def _refuse_if_redirected(
    service_name: str,
    pods: Sequence[Mapping[str, Any]],
    replica_sets: Sequence[Mapping[str, Any]],
    deployments: Sequence[Mapping[str, Any]],
    stateful_sets: Sequence[Mapping[str, Any]],
) -> None:
    """Raise `AlreadyRedirected` if a matching pod or its owners carry a session's or the original's marks."""
    owners_by_name = (
        {("ReplicaSet", _name(obj)): obj for obj in replica_sets}
        | {("Deployment", _name(obj)): obj for obj in deployments}
        | {("StatefulSet", _name(obj)): obj for obj in stateful_sets}
    )
    for pod in pods:
        chain: list[Mapping[str, Any]] = [pod]
        current: Mapping[str, Any] | None = pod
        while current is not None:
            reference = _controller_reference(current)
            current = (
                owners_by_name.get((reference.get("kind"), reference.get("name"))) if reference else None
            )
            if current is not None:
                chain.append(current)
        for obj in chain:
            session = _labels(obj).get(names.SESSION_LABEL)
            if session:
                annotations = _annotations(obj)
                owner = annotations.get(names.OWNER_ANNOTATION)
                started = annotations.get(names.STARTED_ANNOTATION)
                raise errors.AlreadyRedirected(
                    f"Service {service_name!r} is already redirected by kubelocal session {session} "
                    f"(by {owner or 'an unknown user'}, since {started or 'an unknown time'}). "
                    f"Ask them to disconnect, or if that session crashed run `kubelocal disconnect --session "
                    f"{session}` (its restore Job also restores the workload within a minute).",
                    session=session, owner=owner, started=started,
                )  # fmt: skip
            if _marked_by_original(obj):
                raise errors.AlreadyRedirected(
                    f"Service {service_name!r} is held by another tool ({names.ORIGINAL_PRODUCT_NAME}: "
                    f"{_kind_hint(obj)} {_name(obj)} carries its agent or labels). "
                    "Disconnect it from that tool (or delete its objects) before connecting with kubelocal.",
                    session=None, owner=names.ORIGINAL_PRODUCT_NAME, started=None,
                )  # fmt: skip


def _kind_hint(obj: Mapping[str, Any]) -> str:
    return str(obj.get("kind") or ("Pod" if "containers" in (obj.get("spec") or {}) else "workload"))


def _marked_by_original(obj: Mapping[str, Any]) -> bool:
    keys = list(_labels(obj)) + list(_annotations(obj))
    if any(key.startswith(names.ORIGINAL_LABEL_PREFIXES) for key in keys):
        return True
    spec = obj.get("spec") or {}
    pod_spec = spec if "containers" in spec else (spec.get("template") or {}).get("spec") or {}
    images = [str(c.get("image", "")) for c in pod_spec.get("containers") or []]
    return any(marker in image for image in images for marker in names.ORIGINAL_AGENT_IMAGE_MARKERS)


# --- owners --------------------------------------------------------------------------------------


def _controller_reference(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for reference in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if reference.get("controller"):
            return reference
    return None


def _find(
    reference: Mapping[str, Any], candidates: Sequence[Mapping[str, Any]], *, namespace: str, child: str
) -> Mapping[str, Any]:
    for candidate in candidates:
        metadata = candidate.get("metadata") or {}
        if metadata.get("name") != reference.get("name"):
            continue
        if reference.get("uid") and metadata.get("uid") and reference["uid"] != metadata["uid"]:
            continue
        return candidate
    raise errors.OwnerNotFound(
        f"{child} is owned by {reference.get('kind')} {reference.get('name')!r} in {namespace!r}, "
        "which could not be read (it may be being replaced). "
        "Wait for the rollout to finish and connect again."
    )


def _owner_of(
    pod: Mapping[str, Any],
    *,
    namespace: str,
    replica_sets: Sequence[Mapping[str, Any]],
    deployments: Sequence[Mapping[str, Any]],
    stateful_sets: Sequence[Mapping[str, Any]],
) -> tuple[str, Mapping[str, Any], dict[str, Any]]:
    """(kind, workload object, pod template) of the workload that controls `pod`."""
    reference = _controller_reference(pod)
    if reference is None:
        template = {"metadata": _template_metadata(pod), "spec": pod.get("spec") or {}}
        return "Pod", pod, template
    kind = reference.get("kind")
    child = f"Pod {_name(pod)!r}"
    if kind == "StatefulSet":
        stateful_set = _find(reference, stateful_sets, namespace=namespace, child=child)
        return "StatefulSet", stateful_set, _template(stateful_set)
    if kind == "ReplicaSet":
        replica_set = _find(reference, replica_sets, namespace=namespace, child=child)
        parent = _controller_reference(replica_set)
        if parent is None:
            return "ReplicaSet", replica_set, _template(replica_set)
        if parent.get("kind") == "Deployment":
            deployment = _find(
                parent, deployments, namespace=namespace, child=f"ReplicaSet {_name(replica_set)!r}"
            )
            return "Deployment", deployment, _template(deployment)
        raise _unsupported(f"ReplicaSet {_name(replica_set)!r} is controlled by {parent.get('kind')} "
                           f"{parent.get('name')!r}")  # fmt: skip
    raise _unsupported(f"{child} is controlled by {kind} {reference.get('name')!r}")


def _unsupported(what: str) -> errors.UnsupportedOwner:
    return errors.UnsupportedOwner(
        f"{what}, which kubelocal cannot replace (it would undo or fight the change). "
        f"Supported: {SUPPORTED_OWNERS}. Connect to a service whose pods belong to one of those."
    )


def _template(workload: Mapping[str, Any]) -> dict[str, Any]:
    return dict((workload.get("spec") or {}).get("template") or {})


def _template_metadata(pod: Mapping[str, Any]) -> dict[str, Any]:
    metadata = pod.get("metadata") or {}
    return {key: metadata[key] for key in ("labels", "annotations") if key in metadata}


def _replicas(workload: Mapping[str, Any]) -> int:
    replicas = (workload.get("spec") or {}).get("replicas")
    return 1 if replicas is None else int(replicas)


def _belongs(
    pod: Mapping[str, Any], kind: str, workload: Mapping[str, Any], replica_sets: Sequence[Mapping[str, Any]]
) -> bool:
    reference = _controller_reference(pod)
    if kind == "Pod":
        return reference is None and _name(pod) == _name(workload)
    if reference is None:
        return False
    if kind == "Deployment":
        owning = [rs for rs in replica_sets if _name(rs) == reference.get("name")]
        return any((_controller_reference(rs) or {}).get("name") == _name(workload) for rs in owning)
    return reference.get("kind") == kind and reference.get("name") == _name(workload)


# --- containers ----------------------------------------------------------------------------------


def _declared_ports(container: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [port for port in container.get("ports") or [] if port.get("protocol", "TCP") == "TCP"]


def _covers(container: Mapping[str, Any], target_port: int | str) -> bool:
    for port in _declared_ports(container):
        if isinstance(target_port, str) and port.get("name") == target_port:
            return True
        if isinstance(target_port, int) and port.get("containerPort") == target_port:
            return True
    return False


def _target_port(service_port: Mapping[str, Any]) -> int | str:
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, str) and target.isdigit():
        return int(target)
    return target


def _choose_container(
    service_name: str,
    containers: Sequence[Mapping[str, Any]],
    service_ports: Sequence[Mapping[str, Any]],
    *,
    explicit: str | None,
) -> Mapping[str, Any]:
    available = [str(c.get("name")) for c in containers]
    if explicit is not None:
        for candidate in containers:
            if candidate.get("name") == explicit:
                return candidate
        raise errors.ContainerNotFound(
            f"The pods of service {service_name!r} have no container {explicit!r}; they have "
            f"{', '.join(available)}. Pass one of those with --container."
        )
    if len(containers) == 1:
        return containers[0]
    targets = [_target_port(port) for port in service_ports]
    if targets:
        covering_all = [c for c in containers if all(_covers(c, t) for t in targets)]
        if len(covering_all) == 1:
            return covering_all[0]
        covering_some = [c for c in containers if any(_covers(c, t) for t in targets)]
        if len(covering_some) == 1:
            return covering_some[0]
        narrowed = [c for c in (covering_all or covering_some) if c.get("name") not in names.KNOWN_SIDECARS]
        if len(narrowed) == 1:
            return narrowed[0]
    applications = [c for c in containers if c.get("name") not in names.KNOWN_SIDECARS]
    if len(applications) == 1:
        return applications[0]
    candidates = [str(c.get("name")) for c in (applications or containers)]
    raise errors.SeveralContainers(
        f"The pods of service {service_name!r} have several containers that could serve it: "
        f"{', '.join(candidates)}. Choose one with --container NAME."
    )


def _map_ports(
    service_name: str, container: Mapping[str, Any], service_ports: Sequence[Mapping[str, Any]]
) -> list[PortMapping]:
    mappings = []
    for port in service_ports:
        target = _target_port(port)
        if isinstance(target, str):
            declared = [p for p in _declared_ports(container) if p.get("name") == target]
            if not declared:
                raise errors.UnresolvedTargetPort(
                    f"Service {service_name!r} port {port.get('port')} targets the port named {target!r}, "
                    f"which container {container.get('name')!r} does not declare. Declare it in the "
                    "container's ports, or choose the container that does with --container."
                )
            container_port, target_name = int(declared[0]["containerPort"]), target
        else:
            container_port, target_name = int(target), ""
        mappings.append(
            PortMapping(
                service_port_name=str(port.get("name") or ""),
                service_port=int(port["port"]),
                container_port=container_port,
                protocol="TCP",
                target_port_name=target_name,
            )
        )
    return mappings
