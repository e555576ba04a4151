"""The undo ledger: every change to the cluster or the workstation, paired with its undo.

A `Ledger` is an ordered, immutable list of `Entry`s. The shell records an entry (state
`planned`) and persists the ledger (on disk and in the session's Secret) *before* making the
change, then marks it `done` (or `failed` when it knows the change did not happen). Disconnect and
crash recovery replay `undos()`: the undo of every entry that is `planned` or `done`, newest first,
and mark each `undone`.

Because a `planned` entry may or may not have happened before a crash, every undo must be
tolerant of "never happened" and "already undone": deleting a missing object is success; an
inverse JSON patch starts with `test` operations, and their failure on a `planned` entry means
the patch was never applied. The executors (not here) implement that; this module only keeps
the list and its serialised form.

Each action has a `place` (`anywhere` for `nothing`): `cluster` actions can be replayed by the
in-cluster restore Job (it reads the ledger from the Secret), `workstation` actions (hosts file, env
files) only by kubelocal on the workstation. Serialised as JSON with a format name and version; a
newer version is refused with a message to upgrade, and the cluster copy must fit in a Secret (1 MiB).
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from kubelocal.engine import errors, names, patches, targets

FORMAT = "kubelocal-ledger"
VERSION = 1
SECRET_LIMIT = 1024 * 1024
# Room for the agent token and the Secret's own metadata.
_SECRET_HEADROOM = 16 * 1024

CLUSTER = "cluster"
WORKSTATION = "workstation"
ANYWHERE = "anywhere"  # replayed by whichever side replays

# verb -> place. `body` holds what the verb needs (object, operations, text); `target` says where.
VERBS: Mapping[str, str] = {
    "create": CLUSTER,  # target: apiVersion/kind/namespace/name; body: the object
    "delete": CLUSTER,  # target: apiVersion/kind/namespace/name; body: None
    "json-patch": CLUSTER,  # target: the workload; body: list of operations
    "recreate-pod": CLUSTER,  # target: the pod; body: the pod to create after deleting it
    "delete-pods": CLUSTER,  # target: the workload whose pods are deleted (and recreated by it)
    "insert-hosts-block": WORKSTATION,  # target: path + session; body: [[ip, [names...]], ...]
    "remove-hosts-block": WORKSTATION,  # target: path + session; body: None
    "write-file": WORKSTATION,  # target: path; body: None (contents are never logged or kept)
    "remove-file": WORKSTATION,  # target: path; body: None
    "nothing": ANYWHERE,  # the undo of something that needs none (or the do of a late undo)
}

_API_VERSIONS = {"Deployment": "apps/v1", "StatefulSet": "apps/v1", "ReplicaSet": "apps/v1", "Pod": "v1"}

PLANNED = "planned"
DONE = "done"
FAILED = "failed"
UNDONE = "undone"
STATES = (PLANNED, DONE, FAILED, UNDONE)


@dataclasses.dataclass(frozen=True)
class Action:
    """One change: `verb` on `target`, with `body`. `summary` is what the CLI prints.

    The body is hidden from repr: it can hold a pod spec with env values.
    """

    verb: str
    target: Mapping[str, str]
    summary: str
    body: Any = dataclasses.field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.verb not in VERBS:
            raise ValueError(f"unknown ledger verb {self.verb!r}")

    @property
    def place(self) -> str:
        return VERBS[self.verb]

    def to_dict(self) -> dict[str, Any]:
        return {"verb": self.verb, "target": dict(self.target), "summary": self.summary, "body": self.body}


@dataclasses.dataclass(frozen=True)
class Entry:
    sequence: int
    action: Action
    undo: Action
    state: str = PLANNED


@dataclasses.dataclass(frozen=True)
class Ledger:
    session_id: str
    namespace: str
    entries: tuple[Entry, ...] = ()

    def record(self, action: Action, undo: Action) -> tuple[Ledger, int]:
        """A ledger with the pair appended as `planned`, and the entry's sequence number."""
        sequence = 1 + max((entry.sequence for entry in self.entries), default=0)
        entry = Entry(sequence=sequence, action=action, undo=undo)
        return dataclasses.replace(self, entries=(*self.entries, entry)), sequence

    def mark(self, sequence: int, state: str) -> Ledger:
        """A ledger with entry `sequence` in `state`; unknown sequence or state -> ValueError."""
        if state not in STATES:
            raise ValueError(f"unknown state {state!r}")
        if not any(entry.sequence == sequence for entry in self.entries):
            raise ValueError(f"no ledger entry {sequence}")
        return dataclasses.replace(
            self,
            entries=tuple(
                dataclasses.replace(entry, state=state) if entry.sequence == sequence else entry
                for entry in self.entries
            ),
        )

    def undos(self, *, place: str | None = None) -> tuple[Entry, ...]:
        """Entries whose undo is still owed (planned or done), newest first; optionally one place."""
        owed = [entry for entry in self.entries if entry.state in (PLANNED, DONE)]
        if place is not None:
            owed = [entry for entry in owed if entry.undo.place in (place, ANYWHERE)]
        return tuple(reversed(owed))

    @property
    def settled(self) -> bool:
        """True when nothing is left to undo: the session's traces are gone."""
        return not self.undos()

    def to_json(self) -> str:
        document = {
            "format": FORMAT,
            "version": VERSION,
            "session": self.session_id,
            "namespace": self.namespace,
            "entries": [
                {
                    "sequence": e.sequence,
                    "state": e.state,
                    "action": e.action.to_dict(),
                    "undo": e.undo.to_dict(),
                }
                for e in self.entries
            ],
        }
        return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def from_json(text: str | bytes) -> Ledger:
    """Read a ledger back; anything malformed -> `LedgerError` saying what to do."""
    try:
        document = json.loads(text)
    except (ValueError, UnicodeDecodeError) as error:
        raise _corrupt(f"it is not JSON ({error.__class__.__name__})") from error
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise _corrupt("it is not a kubelocal ledger")
    version = document.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise errors.LedgerError(
            f"The session ledger was written by a newer kubelocal (format {version}, this one reads "
            f"{VERSION}). Upgrade kubelocal to disconnect that session."
        )
    try:
        entries = tuple(
            Entry(
                sequence=int(raw["sequence"]),
                state=_state(raw["state"]),
                action=_action(raw["action"]),
                undo=_action(raw["undo"]),
            )
            for raw in document["entries"]
        )
        return Ledger(
            session_id=str(document["session"]), namespace=str(document["namespace"]), entries=entries
        )
    except (KeyError, TypeError, ValueError) as error:
        raise _corrupt(f"an entry is malformed ({error})") from error


def _state(value: Any) -> str:
    if value not in STATES:
        raise ValueError(f"unknown state {value!r}")
    return str(value)


def _action(raw: Mapping[str, Any]) -> Action:
    return Action(
        verb=raw["verb"], target=dict(raw["target"]), summary=str(raw["summary"]), body=raw.get("body")
    )


def _corrupt(why: str) -> errors.LedgerError:
    return errors.LedgerError(
        f"The session ledger cannot be read: {why}. Restore by hand with `kubectl rollout undo` or "
        "delete the objects labelled app.kubernetes.io/managed-by=kubelocal, then remove the session file."
    )


# --- the cluster copy ---------------------------------------------------------------------------


def original_record(target: targets.Target) -> dict[str, Any]:
    """The workload as it was, in the shape the restore Job reads (`kubelocal_agent.restores`):
    apiVersion, kind, metadata (name, namespace, labels, annotations) and spec; for a bare Pod
    the pod as it can be created again."""
    if target.kind == "Pod":
        return patches.sanitized_pod(target.workload)
    source = target.workload.get("metadata") or {}
    metadata: dict[str, Any] = {"name": target.name, "namespace": target.namespace}
    for key in ("labels", "annotations"):
        if source.get(key):
            metadata[key] = dict(source[key])
    return {
        "apiVersion": _API_VERSIONS[target.kind],
        "kind": target.kind,
        "metadata": metadata,
        "spec": target.workload.get("spec") or {},
    }


def to_secret_data(ledger: Ledger, *, agent_token: str, original: Mapping[str, Any]) -> dict[str, str]:
    """The `data` of the session Secret (base64 values): the ledger, the agent's token, and the
    workload as it was (`original_record`) for the restore Job."""
    encoded = base64.b64encode(ledger.to_json().encode()).decode()
    original_encoded = base64.b64encode(json.dumps(original, sort_keys=True).encode()).decode()
    if len(encoded) + len(original_encoded) + _SECRET_HEADROOM > SECRET_LIMIT:
        raise errors.LedgerError(
            f"The session's restore data is {len(encoded) + len(original_encoded)} bytes encoded, too big "
            "for a Secret (1 MiB). "
            "The workload spec is unusually large; kubelocal cannot keep its restore data in the cluster."
        )
    return {
        names.LEDGER_SECRET_KEY: encoded,
        names.AGENT_TOKEN_SECRET_KEY: base64.b64encode(agent_token.encode()).decode(),
        names.ORIGINAL_SECRET_KEY: original_encoded,
    }


def from_secret_data(data: Mapping[str, str]) -> Ledger:
    """The ledger kept in a session Secret's `data`."""
    try:
        raw = base64.b64decode(data[names.LEDGER_SECRET_KEY], validate=True)
    except (KeyError, ValueError) as error:
        raise _corrupt("the Secret has no readable ledger") from error
    return from_json(raw)


# --- pairs: a change and its undo ---------------------------------------------------------------


def object_target(obj: Mapping[str, Any]) -> dict[str, str]:
    metadata = obj.get("metadata") or {}
    return {
        "apiVersion": str(obj.get("apiVersion", "")),
        "kind": str(obj.get("kind", "")),
        "namespace": str(metadata.get("namespace", "")),
        "name": str(metadata.get("name", "")),
    }


def _label(target: Mapping[str, str]) -> str:
    return f"{target['kind']} {target['namespace']}/{target['name']}"


def create_pair(obj: Mapping[str, Any]) -> tuple[Action, Action]:
    """Create `obj` (it needs apiVersion, kind, metadata.namespace and name); undo: delete it."""
    target = object_target(obj)
    return (
        Action("create", target, f"create {_label(target)}", body=dict(obj)),
        Action("delete", target, f"delete {_label(target)}"),
    )


def workload_pairs(plan: patches.PatchPlan | patches.RecreatePlan) -> list[tuple[Action, Action]]:
    """The pairs that put the agent in place; when `plan.replace_pods` the pods are replaced too."""
    target = {
        "apiVersion": _API_VERSIONS[plan.kind],
        "kind": plan.kind,
        "namespace": plan.namespace,
        "name": plan.name,
    }
    if isinstance(plan, patches.RecreatePlan):
        return [
            (
                Action(
                    "recreate-pod", target, f"replace {_label(target)} by the agent", body=plan.replacement
                ),
                Action("recreate-pod", target, f"restore {_label(target)}", body=plan.original),
            )
        ]
    pairs = [
        (
            Action(
                "json-patch", target, f"patch {_label(target)}: agent in place", body=list(plan.operations)
            ),
            Action("json-patch", target, f"restore {_label(target)}", body=list(plan.inverse)),
        )
    ]
    if plan.replace_pods:
        # Undone first on restore, so the pods are replaced after the inverse patch, not before.
        pairs.insert(
            0,
            (
                Action("nothing", {}, "nothing to undo before the pods are replaced"),
                Action("delete-pods", target, f"replace the pods of {_label(target)} again"),
            ),
        )
        pairs.append(
            (
                Action("delete-pods", target, f"replace the pods of {_label(target)}"),
                Action("nothing", {}, "nothing to undo: the restore replaces the pods"),
            )
        )
    return pairs


def hosts_pair(
    *, path: str, session_id: str, entries: Sequence[tuple[str, Sequence[str]]]
) -> tuple[Action, Action]:
    """Insert the session's hosts block (`hosts.insert` with these entries); undo: remove it."""
    target = {"path": path, "session": session_id}
    body = [[ip, list(hostnames)] for ip, hostnames in entries]
    return (
        Action("insert-hosts-block", target, f"add the kubelocal block to {path}", body=body),
        Action("remove-hosts-block", target, f"remove the kubelocal block from {path}"),
    )


def file_pair(*, path: str, purpose: str) -> tuple[Action, Action]:
    """Write a workstation file (its contents stay out of the ledger); undo: remove it."""
    target = {"path": path}
    return (
        Action("write-file", target, f"write {purpose} to {path}"),
        Action("remove-file", target, f"remove {purpose} {path}"),
    )
