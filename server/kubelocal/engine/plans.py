"""The cluster side of a connect, as ordered (change, undo) pairs for the ledger.

Pure: the resolved target and the session's settings in, a `ConnectPlan` out. The shell walks the
pairs in order: record the pair in the ledger (on disk, and in the session Secret once it exists),
make the change, mark it done. Disconnect and crash recovery replay the undos newest first.

Order, and why:

1. `before_agent`: the restore Job's ServiceAccount, Role and RoleBinding; the session Secret
   (the agent's token, which the patched container reads, and the restore data); the agent
   ConfigMap (the zipapp the patched container runs); then the workload patch (or the bare pod's
   recreation, and for a bare ReplicaSet or an OnDelete StatefulSet the replacement of its pods).
   Everything the new pod needs exists before the pod does.
2. The shell waits for the agent pod and connects to it (no ledger entry: nothing to undo).
3. `after_agent`: the restore Job. It starts only once the agent runs, because it restores the
   workload when the agent has been unreachable for its grace period, and pulling the agent's image
   can take longer than that. A crash before this step leaves no Job, but the ledger on the
   workstation still holds every undo for the next start.
"""

from __future__ import annotations

import dataclasses

from kubelocal.engine import ledgers, manifests, names, patches, targets

Pair = tuple[ledgers.Action, ledgers.Action]


@dataclasses.dataclass(frozen=True)
class ConnectPlan:
    session_id: str
    namespace: str
    workload: patches.PatchPlan | patches.RecreatePlan
    before_agent: tuple[Pair, ...]
    after_agent: tuple[Pair, ...]

    @property
    def pairs(self) -> tuple[Pair, ...]:
        return self.before_agent + self.after_agent

    def new_ledger(self) -> ledgers.Ledger:
        return ledgers.Ledger(session_id=self.session_id, namespace=self.namespace)


def connect_plan(
    *,
    target: targets.Target,
    settings: patches.AgentSettings,
    zipapp: bytes,
    agent_token: str,
    grace_seconds: float = manifests.DEFAULT_GRACE_SECONDS,
) -> ConnectPlan:
    """The ordered pairs that replace `target.container` by the agent; see the module docstring.

    The Secret is created with an empty ledger: the shell rewrites its `ledger.json` key as the
    ledger grows (bookkeeping, not a change with an undo of its own).
    """
    session, namespace = settings.session_id, target.namespace
    workload = patches.plan(target, settings=settings)
    secret_data = ledgers.to_secret_data(
        ledgers.Ledger(session_id=session, namespace=namespace),
        agent_token=agent_token,
        original=ledgers.original_record(target),
    )
    common = {"session_id": session, "namespace": namespace}
    before = [
        ledgers.create_pair(manifests.restore_service_account(**common)),
        ledgers.create_pair(
            manifests.restore_role(**common, workload_kind=target.kind, workload_name=target.name)
        ),
        ledgers.create_pair(manifests.restore_role_binding(**common)),
        ledgers.create_pair(manifests.session_secret(**common, data=secret_data)),
    ]
    if settings.config_map_name is None:
        before.append(ledgers.create_pair(manifests.agent_config_map(**common, zipapp=zipapp)))
    before.extend(ledgers.workload_pairs(workload))
    job = manifests.restore_job(
        **common,
        image=settings.image,
        config_map_name=settings.config_map_name,
        status_port=settings.status_port,
        grace_seconds=grace_seconds,
    )
    return ConnectPlan(
        session_id=session,
        namespace=namespace,
        workload=workload,
        before_agent=tuple(before),
        after_agent=(ledgers.create_pair(job),),
    )


def secret_target(session_id: str, namespace: str) -> dict[str, str]:
    """Where the shell keeps the ledger in the cluster (the `ledger.json` key of this Secret)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "namespace": namespace,
        "name": names.restore_secret_name(session_id),
    }
