"""The workload patch that swaps the target container for the agent, and its exact inverse.

Pure: a `targets.Target` and `AgentSettings` in, a plan out.

- Deployment, StatefulSet, ReplicaSet: a `PatchPlan`, an RFC 6902 JSON patch against the object as
  read, and its inverse computed from that same object, so applying the inverse to the patched
  object gives back exactly the original, fields that were absent included (what the patch `add`s
  the inverse `remove`s; what it `replace`s or `remove`s the inverse puts back). Both start with
  `test` operations on the container's name, so either fails cleanly instead of patching the wrong
  container if someone reordered the containers in between. The inverse also tests the session
  label, so on a workload the patch never reached (a crash between recording and patching) it
  fails cleanly as a test failure, which the shell reads as "nothing to undo".
- A bare Pod: most pod spec fields are immutable, so a `RecreatePlan`: delete the pod and create
  `replacement` under the same name; restore deletes it and creates `original` (the pod as read,
  minus what the API server sets: uid, resourceVersion, status...).

What the patch changes, and nothing else:

- the target container: `image` -> the agent image; `command` -> `python /kubelocal/agent.pyz`
  with the ports to listen on (the container's declared TCP ports and the service's target ports)
  and the control port; `args` removed (they would be appended to our command); an env var with
  the session token from the session's Secret; a mount of the agent ConfigMap at /kubelocal;
  `livenessProbe`/`readinessProbe`/`startupProbe` removed unless `Probes` is enabled, `lifecycle`
  removed unless `LifecycleHooks` is (the agent answers neither); when `runAsNonRoot` applies and
  no user is set, `runAsUser: 65534` (the stock Python image runs as root and would be refused);
- the pod spec: one volume for the agent ConfigMap; other containers, init containers and volumes
  are kept as they are;
- the workload: `replicas` -> 1 (several agents would split the traffic); a paused Deployment is
  unpaused and a StatefulSet's rolling-update partition set to 0 (otherwise the pod that stays is
  never updated); the session label and who/when annotations on the
  workload and its pod template, so the pods carry them too.

A bare ReplicaSet, and a StatefulSet with the `OnDelete` update strategy, do not replace their
pods when the template changes: `PatchPlan.replace_pods` tells the shell to delete them after
applying the patch and after applying the inverse.
A HorizontalPodAutoscaler on the workload would scale it back up; the shell should warn about it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import jsonpatch

from kubelocal.engine import errors, names, targets

PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
FEATURE_PROBES = "probes"
FEATURE_LIFECYCLE_HOOKS = "lifecyclehooks"

# Set by the API server; a pod created from a copy must not carry them.
_SERVER_SET_METADATA = (
    "uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "selfLink",
    "deletionTimestamp", "deletionGracePeriodSeconds",
)  # fmt: skip

Operation = dict[str, Any]


@dataclass(frozen=True)
class AgentSettings:
    """How the agent runs in the replaced container.

    `features` are the config's `enableFeatures`, compared case-insensitively. `owner` ("user@host")
    and `started` (RFC 3339) become annotations so another run can say who holds the service.
    """

    session_id: str
    owner: str
    started: str
    image: str = names.DEFAULT_AGENT_IMAGE
    control_port: int = names.DEFAULT_AGENT_CONTROL_PORT
    status_port: int = names.DEFAULT_AGENT_STATUS_PORT
    features: frozenset[str] = frozenset()
    # None: the session's own ConfigMap (names.agent_config_map_name), deleted with the session.
    config_map_name: str | None = None

    def enabled(self, feature: str) -> bool:
        return feature in {name.lower() for name in self.features}


@dataclass(frozen=True)
class PatchPlan:
    """Apply `operations` (JSON patch) to the workload; restore by applying `inverse`."""

    kind: str
    name: str
    namespace: str
    operations: tuple[Operation, ...]
    inverse: tuple[Operation, ...]
    listen_ports: tuple[int, ...]
    replace_pods: bool = False
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class RecreatePlan:
    """Delete the bare pod and create `replacement`; restore: delete it and create `original`."""

    name: str
    namespace: str
    replacement: dict[str, Any] = field(repr=False)
    original: dict[str, Any] = field(repr=False)
    listen_ports: tuple[int, ...] = ()
    kind: str = "Pod"
    notes: tuple[str, ...] = ()


def plan(target: targets.Target, *, settings: AgentSettings) -> PatchPlan | RecreatePlan:
    """The plan that puts the agent in place of `target.container`; see the module docstring."""
    listen_ports = _listen_ports(target)
    for port, purpose, option in (
        (settings.control_port, "control connection", "--agent-control-port"),
        (settings.status_port, "status endpoint", "--agent-status-port"),
    ):
        if port in listen_ports:
            raise errors.PatchError(
                f"Container {target.container!r} uses port {port}, which the agent needs for its {purpose}. "
                f"Choose another port with {option}."
            )
    if settings.control_port == settings.status_port:
        raise errors.PatchError("The agent's control and status ports must differ: choose two ports.")
    pod_spec = target.pod_template.get("spec") or {}
    if (pod_spec.get("nodeSelector") or {}).get("kubernetes.io/os") == "windows":
        raise errors.PatchError(
            f"{target.kind} {target.name!r} runs on Windows nodes, where the agent's Linux image cannot run. "
            "kubelocal supports Linux workloads only."
        )
    notes = tuple(_notes(target))
    if target.kind == "Pod":
        original = sanitized_pod(target.workload)
        recorder = _Recorder(original)
        _replace_container(recorder, target=target, settings=settings, listen_ports=listen_ports, template="")
        return RecreatePlan(
            name=target.name,
            namespace=target.namespace,
            replacement=recorder.document,
            original=original,
            listen_ports=listen_ports,
            notes=notes,
        )
    recorder = _Recorder(target.workload)
    spec = target.workload.get("spec") or {}
    if spec.get("replicas") != 1:
        recorder.set(("spec", "replicas"), 1)
    if target.kind == "Deployment" and spec.get("paused"):
        recorder.set(("spec", "paused"), False)
    update_strategy = spec.get("updateStrategy") or {}
    if target.kind == "StatefulSet" and (update_strategy.get("rollingUpdate") or {}).get("partition"):
        # Pods below the partition are never updated: pod 0 would keep the application.
        recorder.set(("spec", "updateStrategy", "rollingUpdate", "partition"), 0)
    on_delete = target.kind == "StatefulSet" and update_strategy.get("type") == "OnDelete"
    _mark(recorder, ("metadata",), settings)
    recorder.guard_inverse(("metadata", "labels", names.SESSION_LABEL), settings.session_id)
    _replace_container(
        recorder, target=target, settings=settings, listen_ports=listen_ports, template="/spec/template"
    )
    return PatchPlan(
        kind=target.kind,
        name=target.name,
        namespace=target.namespace,
        operations=tuple(recorder.operations),
        inverse=tuple(recorder.inverse()),
        listen_ports=listen_ports,
        replace_pods=target.kind == "ReplicaSet" or on_delete,
        notes=notes,
    )


def agent_command(*, listen_ports: Iterable[int], control_port: int, status_port: int) -> list[str]:
    """The agent's command line inside the pod (`kubelocal_agent.__main__`); the token comes from
    the environment, never the command line."""
    ports = ",".join(str(port) for port in listen_ports)
    return [
        "python", names.AGENT_ZIPAPP_PATH, "serve", "--ports", ports,
        "--control-port", str(control_port), "--status-port", str(status_port),
    ]  # fmt: skip


def sanitized_pod(pod: dict[str, Any]) -> dict[str, Any]:
    """A copy of `pod` that can be created again: no status, no metadata the API server sets, and
    no ephemeral containers (left by `kubectl debug`; the API refuses them on create, and they are
    a debugging session's, not the workload's)."""
    body = copy.deepcopy(pod)
    body.pop("status", None)
    (body.get("spec") or {}).pop("ephemeralContainers", None)
    metadata = body.setdefault("metadata", {})
    for key in _SERVER_SET_METADATA:
        metadata.pop(key, None)
    body.setdefault("apiVersion", "v1")
    body.setdefault("kind", "Pod")
    return body


def apply(document: dict[str, Any], operations: Sequence[Operation]) -> dict[str, Any]:
    """`document` with the JSON patch applied (a copy); what the API server does on a json-patch."""
    return jsonpatch.apply_patch(document, list(operations), in_place=False)


# Below this the agent (a Python process holding buffers for many streams) may be OOM-killed.
AGENT_MEMORY_FLOOR = 48 * 1024 * 1024
_QUANTITY = re.compile(r"^([0-9.]+)(Ki|Mi|Gi|Ti|k|M|G|T|m)?$")
_FACTORS = {
    None: 1, "m": 0.001, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
}  # fmt: skip


def memory_bytes(quantity: str | int | float) -> float | None:
    """A Kubernetes memory quantity in bytes ("128Mi", "1G", "134217728"); None if unreadable."""
    match = _QUANTITY.fullmatch(str(quantity).strip())
    if not match:
        return None
    return float(match.group(1)) * _FACTORS[match.group(2)]


def _notes(target: targets.Target) -> list[str]:
    notes = []
    limit = ((target.container_spec.get("resources") or {}).get("limits") or {}).get("memory")
    limit_bytes = memory_bytes(limit) if limit is not None else None
    if limit_bytes is not None and limit_bytes < AGENT_MEMORY_FLOOR:
        notes.append(
            f"Container {target.container!r} has a memory limit of {limit}; the agent may need more "
            "under heavy traffic. If its pod restarts with OOMKilled, raise the limit for the session."
        )
    if target.kind != "Pod" and target.replicas > 1:
        notes.append(
            f"{target.kind} {target.name!r} is scaled from {target.replicas} to 1 for the session; a "
            "HorizontalPodAutoscaler on it would scale it back up (pause it while connected)."
        )
    return notes


# --- building ------------------------------------------------------------------------------------


def _listen_ports(target: targets.Target) -> tuple[int, ...]:
    declared = {
        int(port["containerPort"])
        for port in target.container_spec.get("ports") or []
        if port.get("protocol", "TCP") == "TCP"
    }
    return tuple(sorted(declared | {mapping.container_port for mapping in target.ports}))


def _mark(recorder: _Recorder, metadata: tuple[str, ...], settings: AgentSettings) -> None:
    recorder.set((*metadata, "labels", names.SESSION_LABEL), settings.session_id)
    annotations = names.session_annotations(owner=settings.owner, started=settings.started)
    for key, value in annotations.items():
        recorder.set((*metadata, "annotations", key), value)


def _replace_container(
    recorder: _Recorder,
    *,
    target: targets.Target,
    settings: AgentSettings,
    listen_ports: tuple[int, ...],
    template: str,
) -> None:
    base: tuple[str, ...] = tuple(part for part in template.split("/") if part)
    pod_spec = recorder.get((*base, "spec")) or {}
    containers = pod_spec.get("containers") or []
    index = next(i for i, container in enumerate(containers) if container.get("name") == target.container)
    container = containers[index]
    here = (*base, "spec", "containers", str(index))
    recorder.guard((*here, "name"), target.container)

    _mark(recorder, (*base, "metadata"), settings)
    recorder.set((*here, "image"), settings.image)
    command = agent_command(
        listen_ports=listen_ports, control_port=settings.control_port, status_port=settings.status_port
    )
    recorder.set((*here, "command"), command)
    recorder.remove((*here, "args"))
    if not settings.enabled(FEATURE_PROBES):
        for probe in PROBES:
            recorder.remove((*here, probe))
    if not settings.enabled(FEATURE_LIFECYCLE_HOOKS):
        recorder.remove((*here, "lifecycle"))

    if any(env.get("name") == names.AGENT_TOKEN_ENV for env in container.get("env") or []):
        raise errors.PatchError(
            f"Container {target.container!r} already defines {names.AGENT_TOKEN_ENV}: it was patched by "
            "kubelocal and not restored. Run `kubelocal disconnect --all` in this namespace first."
        )
    token = {
        "name": names.AGENT_TOKEN_ENV,
        "valueFrom": {
            "secretKeyRef": {
                "name": names.restore_secret_name(settings.session_id),
                "key": names.AGENT_TOKEN_SECRET_KEY,
            }
        },
    }
    recorder.append((*here, "env"), token)

    volumes = pod_spec.get("volumes") or []
    if any(volume.get("name") == names.AGENT_VOLUME_NAME for volume in volumes):
        raise errors.PatchError(
            f"The pod already has a volume {names.AGENT_VOLUME_NAME!r}: it was patched by kubelocal and not "
            "restored. Run `kubelocal disconnect --all` in this namespace first."
        )
    mounts = container.get("volumeMounts") or []
    if any(mount.get("mountPath") == names.AGENT_MOUNT_PATH for mount in mounts):
        raise errors.PatchError(
            f"Container {target.container!r} already mounts something at {names.AGENT_MOUNT_PATH}, where the "
            "agent's code goes. kubelocal cannot replace this container as it is."
        )
    mount = {"name": names.AGENT_VOLUME_NAME, "mountPath": names.AGENT_MOUNT_PATH, "readOnly": True}
    recorder.append((*here, "volumeMounts"), mount)
    volume = {
        "name": names.AGENT_VOLUME_NAME,
        "configMap": {
            "name": settings.config_map_name or names.agent_config_map_name(settings.session_id),
            "defaultMode": 0o444,
        },
    }
    recorder.append((*base, "spec", "volumes"), volume)

    security = container.get("securityContext") or {}
    pod_security = pod_spec.get("securityContext") or {}
    run_as_non_root = security.get("runAsNonRoot", pod_security.get("runAsNonRoot", False))
    user_set = security.get("runAsUser") is not None or pod_security.get("runAsUser") is not None
    if run_as_non_root and not user_set:
        recorder.set((*here, "securityContext", "runAsUser"), names.NON_ROOT_USER_ID)


# --- the recorder: forward operations and their inverses ----------------------------------------


def _pointer(parts: Sequence[str]) -> str:
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


class _Recorder:
    """Builds forward operations against a working copy, and the inverse of each as it goes."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = copy.deepcopy(document)
        self.operations: list[Operation] = []
        self._undo: list[list[Operation]] = []
        self._guards: list[Operation] = []

    def inverse(self) -> list[Operation]:
        # Guards first: they check the patched object; the values they test are not changed by it.
        undo = [operation for step in reversed(self._undo) for operation in step]
        return [*self._guards, *undo]

    def get(self, parts: Sequence[str]) -> Any:
        found, value = self._lookup(parts)
        return value if found else None

    def guard_inverse(self, parts: Sequence[str], value: Any) -> None:
        """A `test` in the inverse only, of a value the patch sets."""
        self._guards.append({"op": "test", "path": _pointer(parts), "value": value})

    def guard(self, parts: Sequence[str], value: Any) -> None:
        operation = {"op": "test", "path": _pointer(parts), "value": value}
        self._guards.append(operation)
        self._do(operation, undo=[])

    def set(self, parts: Sequence[str], value: Any) -> None:
        """Set `parts` to `value`, creating missing parent objects (undone by removing the topmost)."""
        found, old = self._lookup(parts)
        if found:
            if old == value:
                return
            self._do(
                {"op": "replace", "path": _pointer(parts), "value": copy.deepcopy(value)},
                undo=[{"op": "replace", "path": _pointer(parts), "value": copy.deepcopy(old)}],
            )
            return
        depth = len(parts) - 1
        while depth > 0 and not self._lookup(parts[:depth])[0]:
            depth -= 1
        nested: Any = copy.deepcopy(value)
        for part in reversed(parts[depth + 1 :]):
            nested = {part: nested}
        path = _pointer(parts[: depth + 1])
        self._do({"op": "add", "path": path, "value": nested}, undo=[{"op": "remove", "path": path}])

    def remove(self, parts: Sequence[str]) -> None:
        found, old = self._lookup(parts)
        if not found:
            return
        path = _pointer(parts)
        self._do(
            {"op": "remove", "path": path}, undo=[{"op": "add", "path": path, "value": copy.deepcopy(old)}]
        )

    def append(self, parts: Sequence[str], item: Any) -> None:
        found, old = self._lookup(parts)
        if not found or old is None:
            self.set(parts, [item])
            return
        self._do(
            {"op": "add", "path": _pointer(parts) + "/-", "value": copy.deepcopy(item)},
            undo=[{"op": "remove", "path": _pointer((*parts, str(len(old))))}],
        )

    def _do(self, operation: Operation, *, undo: list[Operation]) -> None:
        self.document = jsonpatch.apply_patch(self.document, [operation], in_place=True)
        self.operations.append(operation)
        self._undo.append(undo)

    def _lookup(self, parts: Sequence[str]) -> tuple[bool, Any]:
        current: Any = self.document
        for part in parts:
            if isinstance(current, dict) and part in current:
                current = current[part]
            elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
                current = current[int(part)]
            else:
                return False, None
        return True, current
