"""Carry out ledger actions: the one place where a recorded change or undo touches the world.

`execute(action, ...)` performs one `ledgers.Action`. Every verb is safe to repeat and safe when
the change never happened, because crash recovery replays undos of entries that were only
`planned`: deleting a missing object succeeds; an inverse JSON patch whose `test` guards fail
(the forward patch never applied) is skipped when `tolerate_unapplied` is set; removing a missing
file or hosts block does nothing.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from kubelocal.engine import hosts, ledgers
from kubelocal.kube import creating, deleting, errors, fetching, patching, requesting, resources


async def execute(
    action: ledgers.Action,
    *,
    client: requesting.Client | None,
    hosts_backup: Path | None = None,
    tolerate_unapplied: bool = False,
) -> None:
    """Perform `action`; `client` may be None when only workstation actions are replayed."""
    verb, target = action.verb, action.target
    if verb == "nothing":
        return
    if verb in ("write-file", "insert-hosts-block"):
        # The shell does these itself (it holds the contents); the ledger only keeps their undo.
        return
    if verb == "remove-file":
        _remove_path(Path(target["path"]))
        return
    if verb == "remove-hosts-block":
        path = Path(target["path"])
        if path.exists():
            text = hosts.read_hosts(path)
            cleaned = hosts.remove(text, session_id=target["session"])
            if cleaned != text:
                backup = hosts_backup or path.with_name(path.name + ".kubelocal.bak")
                hosts.write_hosts_atomically(path, cleaned, backup_path=backup)
        return
    if client is None:
        raise ValueError(f"{verb} needs a cluster client")
    resource = resources.by_kind(target["apiVersion"], target["kind"])
    namespace, name = target["namespace"], target["name"]
    if verb == "create":
        try:
            await creating.create(client, action.body)
        except errors.AlreadyExists:
            if not tolerate_unapplied:
                raise
    elif verb == "delete":
        await deleting.delete(client, resource, name=name, namespace=namespace)
    elif verb == "json-patch":
        try:
            await patching.json_patch(
                client, resource, name=name, namespace=namespace, operations=action.body
            )
        except (errors.BadRequest, errors.Invalid, errors.Conflict, errors.NotFound):
            if not tolerate_unapplied:
                raise
    elif verb == "recreate-pod":
        await deleting.delete(client, resource, name=name, namespace=namespace, grace_period_seconds=0)
        await deleting.wait_gone(client, resource, name=name, namespace=namespace)
        await creating.create(client, action.body)
    elif verb == "delete-pods":
        await _delete_pods_of(client, resource, name=name, namespace=namespace)
    else:
        raise ValueError(f"cannot execute ledger verb {verb!r}")


async def _delete_pods_of(
    client: requesting.Client, resource: resources.Resource, *, name: str, namespace: str
) -> None:
    workload = await fetching.read_optional(client, resource, name=name, namespace=namespace)
    if workload is None:
        return
    labels: dict[str, Any] = ((workload.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    if not labels:
        return
    selector = ",".join(f"{key}={value}" for key, value in sorted(labels.items()))
    await deleting.delete_matching(client, resources.PODS, namespace=namespace, label_selector=selector)


def _remove_path(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        os.unlink(path)
