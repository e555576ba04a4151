"""Job: run pods to `completions` successes, `parallelism` at a time, within `backoffLimit` (pure).

Pods are named `<job>-<5 safe chars>` and labelled `job-name`, `controller-uid` and their
`batch.kubernetes.io/` twins. Failures are pods in phase Failed (restartPolicy Never) plus container
restarts (restartPolicy OnFailure), as kube counts them against backoffLimit. A finished Job gets
the Complete or Failed condition (with SuccessCriteriaMet / FailureTarget first, as kube ≥ 1.31
writes them), completionTime on success, its remaining pods deleted on failure, and is deleted
`ttlSecondsAfterFinished` after finishing. A suspended Job keeps no active pods. Not done:
Indexed completion mode's per-index bookkeeping (pods get the index annotation only), podFailurePolicy,
the exponential delay between retries.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Callable

from kubelocal.sandbox.controllers import actions, objects

RESOURCE = "jobs"


def _finished_condition(job: dict) -> dict | None:
    for condition in (job.get("status") or {}).get("conditions") or []:
        if condition.get("type") in ("Complete", "Failed") and condition.get("status") == "True":
            return condition
    return None


def _condition(condition_type: str, reason: str, message: str, stamp: str) -> dict:
    return {
        "type": condition_type,
        "status": "True",
        "lastProbeTime": stamp,
        "lastTransitionTime": stamp,
        "reason": reason,
        "message": message,
    }


def pod_for(job: dict, name: str, *, index: int | None = None) -> dict:
    spec = job.get("spec") or {}
    template = spec.get("template") or {}
    template_meta = template.get("metadata") or {}
    job_name = objects.name_of(job)
    uid = objects.uid_of(job)
    labels = {
        **(template_meta.get("labels") or {}),
        "batch.kubernetes.io/controller-uid": uid,
        "batch.kubernetes.io/job-name": job_name,
        "controller-uid": uid,
        "job-name": job_name,
    }
    annotations = dict(template_meta.get("annotations") or {})
    if index is not None:
        annotations["batch.kubernetes.io/job-completion-index"] = str(index)
        labels["batch.kubernetes.io/job-completion-index"] = str(index)
    metadata: dict = {
        "name": name,
        "namespace": objects.namespace_of(job),
        "labels": labels,
        "ownerReferences": [objects.owner_reference(job, api_version="batch/v1", kind="Job")],
    }
    if annotations:
        metadata["annotations"] = annotations
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": copy.deepcopy(template.get("spec") or {}),
    }


def reconcile(
    job: dict,
    owned: list[dict],
    *,
    now: datetime.datetime,
    suffix: Callable[[], str] = objects.random_suffix,
) -> actions.Decision:
    """Pods to create or delete for `job` given the pods it controls, its status, and its TTL deletion."""
    decision = actions.Decision()
    if objects.is_deleting(job):
        return decision
    owned = [pod for pod in owned if objects.is_controlled_by(pod, job)]
    spec = job.get("spec") or {}
    namespace = objects.namespace_of(job)
    name = objects.name_of(job)
    stamp = objects.timestamp(now)
    previous = job.get("status") or {}
    status = dict(previous)

    finished = _finished_condition(job)
    if finished is not None:
        ttl = spec.get("ttlSecondsAfterFinished")
        if ttl is not None:
            since = (
                objects.parse_time(previous.get("completionTime") or finished.get("lastTransitionTime"))
                or now
            )
            remaining = int(ttl) - (now - since).total_seconds()
            if remaining <= 0:
                # kube's TTL controller deletes in the foreground: pods first, then the Job.
                decision.actions.append(
                    actions.Delete(
                        RESOURCE, namespace, name, propagation="Foreground", uid=objects.uid_of(job)
                    )
                )
            else:
                decision.requeue_after = remaining
        # Pods of a finished job that are still running (a failed job's) are stopped.
        for pod in owned:
            if objects.is_pod_active(pod):
                decision.actions.append(actions.delete_of("pods", pod))
        return decision

    restart_policy = ((spec.get("template") or {}).get("spec") or {}).get("restartPolicy", "Never")
    completions = spec.get("completions")
    parallelism = int(spec.get("parallelism", 1) if spec.get("parallelism") is not None else 1)
    backoff_limit = int(spec.get("backoffLimit", 6) if spec.get("backoffLimit") is not None else 6)
    suspended = bool(spec.get("suspend"))

    active = [pod for pod in owned if objects.is_pod_active(pod)]
    succeeded = sum(objects.pod_phase(pod) == "Succeeded" for pod in owned)
    failed_pods = sum(objects.pod_phase(pod) == "Failed" for pod in owned)
    failures = failed_pods
    if restart_policy == "OnFailure":
        failures += sum(objects.restart_count(pod) for pod in active)

    if not suspended and not previous.get("startTime"):
        status["startTime"] = stamp
    conditions = list(previous.get("conditions") or [])

    deadline = spec.get("activeDeadlineSeconds")
    started = objects.parse_time(status.get("startTime"))
    over_deadline = (
        deadline is not None and started is not None and (now - started).total_seconds() >= int(deadline)
    )
    done = completions is not None and succeeded >= int(completions)
    if completions is None and succeeded > 0 and not active:
        done = True  # work-queue mode: one success and nothing left running

    if failures > backoff_limit or over_deadline:
        reason, message = (
            ("DeadlineExceeded", "Job was active longer than specified deadline")
            if over_deadline and failures <= backoff_limit
            else ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
        )
        conditions = [c for c in conditions if c.get("type") not in ("FailureTarget", "Failed")]
        conditions += [
            _condition("FailureTarget", reason, message, stamp),
            _condition("Failed", reason, message, stamp),
        ]
        for pod in active:
            decision.actions.append(actions.delete_of("pods", pod))
        active = []
        ttl = spec.get("ttlSecondsAfterFinished")
        if ttl is not None:
            decision.requeue_after = float(ttl)
    elif done:
        conditions = [c for c in conditions if c.get("type") not in ("SuccessCriteriaMet", "Complete")]
        conditions += [
            _condition(
                "SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods", stamp
            ),
            _condition("Complete", "CompletionsReached", "Reached expected number of succeeded pods", stamp),
        ]
        status["completionTime"] = stamp
        for pod in active:
            decision.actions.append(actions.delete_of("pods", pod))
        active = []
        ttl = spec.get("ttlSecondsAfterFinished")
        if ttl is not None:
            decision.requeue_after = float(ttl)
    else:
        if suspended:
            wanted = 0
        elif completions is None:
            wanted = parallelism if succeeded == 0 else 0
        else:
            wanted = min(parallelism, int(completions) - succeeded)
        if len(active) < wanted:
            indexed = spec.get("completionMode") == "Indexed"
            used = {
                (objects.meta(p).get("annotations") or {}).get("batch.kubernetes.io/job-completion-index")
                for p in active
                if objects.pod_phase(p) != "Failed"
            } | {
                (objects.meta(p).get("annotations") or {}).get("batch.kubernetes.io/job-completion-index")
                for p in owned
                if objects.pod_phase(p) == "Succeeded"
            }
            free = [i for i in range(int(completions or 0)) if str(i) not in used] if indexed else []
            for number in range(wanted - len(active)):
                index = free[number] if indexed and number < len(free) else None
                prefix = f"{name}-{index}" if index is not None else name
                pod = pod_for(job, f"{prefix}-{suffix()}", index=index)
                decision.actions.append(actions.Create("pods", namespace, pod))
        elif len(active) > wanted:
            for pod in sorted(active, key=lambda p: objects.is_pod_ready(p))[: len(active) - wanted]:
                decision.actions.append(actions.delete_of("pods", pod))
        if deadline is not None and started is not None:
            decision.requeue_after = max(0.1, int(deadline) - (now - started).total_seconds())
        if suspended:
            conditions = objects.set_condition(
                conditions,
                {
                    "type": "Suspended",
                    "status": "True",
                    "lastProbeTime": stamp,
                    "lastTransitionTime": stamp,
                    "reason": "JobSuspended",
                    "message": "Job suspended",
                },
                now=stamp,
            )

    # Pods created or deleted by this very decision count as kube counts them: at once.
    created = sum(isinstance(a, actions.Create) for a in decision.actions)
    deleted = {a.name for a in decision.actions if isinstance(a, actions.Delete)}
    status["active"] = len([p for p in active if objects.name_of(p) not in deleted]) + created
    status["succeeded"] = succeeded
    status["failed"] = failures
    status["ready"] = sum(objects.is_pod_ready(pod) for pod in active)
    status["terminating"] = sum(objects.is_deleting(pod) for pod in owned)
    # Kube leaves zero counters out of the stored status.
    for key in ("active", "succeeded", "failed", "terminating"):
        if not status[key]:
            status.pop(key)
    if conditions:
        status["conditions"] = conditions
    if status != previous:
        decision.actions.append(actions.SetStatus(RESOURCE, namespace, name, status))
    return decision
