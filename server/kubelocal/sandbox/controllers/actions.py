"""What a controller asks the shell to do; plain data, so decisions are testable without a store.

Resources are named by their plural (`"pods"`, `"replicasets"`) so that this module does not depend on
the store's kind table; the shell maps them to kinds.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Create:
    resource: str
    namespace: str | None
    body: dict


@dataclasses.dataclass(frozen=True)
class Delete:
    resource: str
    namespace: str | None
    name: str
    propagation: str = "Background"
    # The uid the decision was made about: a same-named successor must never be deleted by mistake.
    uid: str | None = None


@dataclasses.dataclass(frozen=True)
class Patch:
    """A JSON merge patch of the object (or of its status when subresource is "status")."""

    resource: str
    namespace: str | None
    name: str
    patch: dict
    subresource: str | None = None


@dataclasses.dataclass(frozen=True)
class SetStatus:
    """Replace the whole `.status` (merge patches cannot remove list items such as conditions)."""

    resource: str
    namespace: str | None
    name: str
    status: dict


@dataclasses.dataclass(frozen=True)
class Update:
    """Replace the object (with its resourceVersion: a stale decision fails with a conflict)."""

    resource: str
    body: dict


Action = Create | Delete | Patch | SetStatus | Update


@dataclasses.dataclass
class Decision:
    """Actions to apply, and when to look again even if nothing changes (seconds; None = on change)."""

    actions: list[Action] = dataclasses.field(default_factory=list)
    requeue_after: float | None = None


def delete_of(resource: str, obj: dict, *, propagation: str = "Background") -> Delete:
    """Delete this very object (by name, guarded by its uid)."""
    metadata = obj.get("metadata") or {}
    return Delete(
        resource, metadata.get("namespace"), metadata.get("name", ""), propagation, metadata.get("uid")
    )
