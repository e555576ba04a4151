"""Garbage collection by ownerReferences, as kube's garbage collector does it (pure).

- A dependent all of whose owners are gone (no object with that uid) is deleted, in the background.
- A dependent whose owners are all being deleted in the foreground is deleted too (in the
  foreground itself when it can have dependents of its own), so the chain empties bottom-up.
- A dependent with both live and gone owners only loses the references to the gone ones.
- An owner being deleted in the foreground loses its `foregroundDeletion` finalizer once no
  dependent that blocks owner deletion is left; one being deleted with `orphan` propagation first
  drops itself from its dependents' ownerReferences, then loses its `orphan` finalizer.
"""

from __future__ import annotations

import copy

from kubelocal.sandbox.controllers import actions, objects

FOREGROUND = "foregroundDeletion"
ORPHAN = "orphan"

# Kinds that cannot own anything in the sandbox: deleting them in the foreground gains nothing.
LEAF_RESOURCES = frozenset({"pods", "endpointslices", "endpoints", "configmaps", "secrets", "events"})


def _finalizers(obj: dict) -> list[str]:
    return list(objects.meta(obj).get("finalizers") or [])


def waiting_for_dependents(owner: dict) -> bool:
    return objects.is_deleting(owner) and FOREGROUND in _finalizers(owner)


def decide_dependent(resource: str, dependent: dict, owners: dict[str, dict | None]) -> list[actions.Action]:
    """What to do with `dependent` given its owners looked up by uid (None = gone)."""
    refs = objects.meta(dependent).get("ownerReferences") or []
    if not refs or objects.is_deleting(dependent):
        return []
    namespace = objects.namespace_of(dependent)
    name = objects.name_of(dependent)
    gone = [ref for ref in refs if owners.get(ref.get("uid")) is None]
    waiting = [ref for ref in refs if ref not in gone and waiting_for_dependents(owners[ref["uid"]] or {})]
    solid = [ref for ref in refs if ref not in gone and ref not in waiting]
    if solid:
        if len(solid) == len(refs):
            return []
        body = copy.deepcopy(dependent)
        body["metadata"]["ownerReferences"] = solid
        return [actions.Update(resource, body)]
    propagation = "Background" if not waiting or resource in LEAF_RESOURCES else "Foreground"
    return [actions.Delete(resource, namespace, name, propagation=propagation, uid=objects.uid_of(dependent))]


def decide_owner(resource: str, owner: dict, dependents: list[tuple[str, dict]]) -> list[actions.Action]:
    """Finalizer work for an owner being deleted, given its current dependents (resource, object)."""
    if not objects.is_deleting(owner):
        return []
    finalizers = _finalizers(owner)
    uid = objects.uid_of(owner)
    result: list[actions.Action] = []
    if ORPHAN in finalizers:
        for dependent_resource, dependent in dependents:
            body = copy.deepcopy(dependent)
            refs = objects.meta(body).get("ownerReferences") or []
            body["metadata"]["ownerReferences"] = [ref for ref in refs if ref.get("uid") != uid]
            result.append(actions.Update(dependent_resource, body))
        if not dependents:
            body = copy.deepcopy(owner)
            body["metadata"]["finalizers"] = [f for f in finalizers if f != ORPHAN]
            result.append(actions.Update(resource, body))
        return result
    if FOREGROUND in finalizers:
        blocking = []
        for dependent_resource, dependent in dependents:
            ref = next(r for r in objects.meta(dependent).get("ownerReferences") or [] if r.get("uid") == uid)
            if ref.get("blockOwnerDeletion"):
                blocking.append(dependent)
            if not objects.is_deleting(dependent):
                other_owners = [
                    r for r in objects.meta(dependent).get("ownerReferences") or [] if r.get("uid") != uid
                ]
                if other_owners:
                    continue  # decide_dependent weighs the other owners
                propagation = "Background" if dependent_resource in LEAF_RESOURCES else "Foreground"
                result.append(
                    actions.Delete(
                        dependent_resource,
                        objects.namespace_of(dependent),
                        objects.name_of(dependent),
                        propagation=propagation,
                        uid=objects.uid_of(dependent),
                    )
                )
        if not blocking:
            body = copy.deepcopy(owner)
            body["metadata"]["finalizers"] = [f for f in finalizers if f != FOREGROUND]
            result.append(actions.Update(resource, body))
    return result
