"""Restore planning, pure: when to restore, and which API calls put the workload back.

The contract with the engine, which writes it before replacing the workload: a Secret whose
`data.original` is the base64 of a JSON object holding the workload as it was::

    {"apiVersion": "apps/v1", "kind": "Deployment",
     "metadata": {"name": ..., "namespace": ..., "labels": {...}, "annotations": {...}},
     "spec": {...}}

Deployments, StatefulSets, ReplicaSets and DaemonSets are restored by a PUT of the current
object with the saved spec, labels and annotations (keeping the current resourceVersion, so a
concurrent change makes the PUT fail with 409 and the caller re-reads). A bare Pod cannot be
changed in place: the agent pod is deleted and the saved pod created again under its name.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
from typing import Any

from kubelocal_agent import errors

SECRET_KEY = "original"

WORKLOAD_PATHS = {
    "Deployment": "/apis/apps/v1/namespaces/{namespace}/deployments/{name}",
    "StatefulSet": "/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}",
    "ReplicaSet": "/apis/apps/v1/namespaces/{namespace}/replicasets/{name}",
    "DaemonSet": "/apis/apps/v1/namespaces/{namespace}/daemonsets/{name}",
    "Pod": "/api/v1/namespaces/{namespace}/pods/{name}",
}

# Deleted in this order, the Job last: deleting it stops this very pod (SIGTERM), and its
# ServiceAccount, Role and RoleBinding, which the engine made dependents of the Job, go with it
# through the garbage collector. Deleting those here would revoke the restore's own permissions
# before the end (RBAC is enforced on real clusters) and leave the rest behind.
CLEANUP_COLLECTIONS = (
    "/api/v1/namespaces/{namespace}/secrets",
    "/api/v1/namespaces/{namespace}/configmaps",
    "/apis/batch/v1/namespaces/{namespace}/jobs",
)

_SERVER_FIELDS = ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields", "selfLink")


@dataclasses.dataclass(frozen=True)
class Saved:
    kind: str
    name: str
    namespace: str
    body: dict[str, Any]

    @property
    def path(self) -> str:
        return WORKLOAD_PATHS[self.kind].format(namespace=self.namespace, name=self.name)


def saved_from_secret(secret: dict[str, Any], *, namespace: str) -> Saved:
    """The saved workload in a Secret; raises `errors.RestoreError` saying what is wrong with it."""
    encoded = (secret.get("data") or {}).get(SECRET_KEY)
    if not encoded:
        raise errors.RestoreError(
            f"the restore Secret has no data.{SECRET_KEY}; it was not written by kubelocal"
        )
    try:
        body = json.loads(base64.b64decode(encoded))
    except ValueError as error:
        raise errors.RestoreError(
            f"data.{SECRET_KEY} of the restore Secret is not base64 JSON: {error}"
        ) from None
    if not isinstance(body, dict):
        raise errors.RestoreError(f"data.{SECRET_KEY} of the restore Secret must be a JSON object")
    kind = body.get("kind")
    metadata = body.get("metadata") or {}
    name = metadata.get("name")
    if kind not in WORKLOAD_PATHS:
        raise errors.RestoreError(
            f"cannot restore a {kind!r}; kubelocal restores {', '.join(WORKLOAD_PATHS)}"
        )
    if not isinstance(name, str) or not name or not isinstance(body.get("spec"), dict):
        raise errors.RestoreError("the saved workload needs metadata.name and a spec")
    return Saved(kind=kind, name=name, namespace=metadata.get("namespace") or namespace, body=body)


def restored_object(saved: Saved, current: dict[str, Any]) -> dict[str, Any]:
    """The body of the PUT: the current object with the saved spec, labels and annotations."""
    restored = copy.deepcopy(current)
    metadata = restored.setdefault("metadata", {})
    saved_metadata = saved.body.get("metadata") or {}
    for key in ("labels", "annotations"):
        if saved_metadata.get(key):
            metadata[key] = copy.deepcopy(saved_metadata[key])
        else:
            metadata.pop(key, None)
    restored["spec"] = copy.deepcopy(saved.body["spec"])
    restored.pop("status", None)
    return restored


def recreated_pod(saved: Saved) -> dict[str, Any]:
    """The body of the POST that recreates a bare pod: the saved pod without server-set fields."""
    pod = copy.deepcopy(saved.body)
    metadata = pod.setdefault("metadata", {})
    for key in _SERVER_FIELDS:
        metadata.pop(key, None)
    metadata["namespace"] = saved.namespace
    pod.pop("status", None)
    pod.setdefault("apiVersion", "v1")
    return pod


def describe_poll(url: str | None, status: dict[str, Any] | None) -> str:
    """One log line for a poll of the agent: which agent, and whether a session is connected.

    Stable across polls that saw the same thing (idle seconds are left out), so the caller can log
    transitions only.
    """
    if url is None:
        return "no running agent pod"
    if status is None:
        return f"the agent at {url} does not answer"
    if status.get("connected"):
        return f"the agent at {url} answers: a session is connected"
    return f"the agent at {url} answers: no session connected"


class Watch:
    """Decides when to restore from successive status polls.

    Restore once the agent reports no session for `grace` seconds (by its own clock, in
    `idle_seconds`), or once no agent pod is running for `grace` seconds (by the poller's clock):
    a crashed or deleted agent has no session either.

    An agent pod that runs but does not answer is ambiguous: it may have hung, or a NetworkPolicy
    may keep the restore Job from its status port while a developer is connected. If it answered
    before, silence counts like a missing agent; if it never did, the Job waits `blind_grace`
    seconds (default ten times `grace`) before restoring, so a blocked port cannot restore the
    workload under a connected developer after a mere minute.
    """

    def __init__(self, *, grace: float, blind_grace: float | None = None) -> None:
        self.grace = grace
        self.blind_grace = blind_grace if blind_grace is not None else 10 * grace
        self._silent_since: float | None = None
        self._ever_answered = False

    def observe(self, now: float, status: dict[str, Any] | None, *, agent_present: bool = True) -> bool:
        """True when it is time to restore. `status` is None when the agent did not answer;
        `agent_present` is False when no agent pod is running at all."""
        if status is None:
            if self._silent_since is None:
                self._silent_since = now
            silent_for = now - self._silent_since
            if not agent_present or self._ever_answered:
                return silent_for >= self.grace
            return silent_for >= self.blind_grace
        self._silent_since = None
        self._ever_answered = True
        if status.get("connected"):
            return False
        idle = status.get("idle_seconds")
        return isinstance(idle, int | float) and idle >= self.grace
