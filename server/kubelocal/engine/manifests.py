"""The objects kubelocal creates in the target namespace for one session, as API bodies.

Pure builders; each object carries `names.labels_for(session, component)`, so one label selector
finds everything a session created. Creation order (`session_objects`) puts the restore machinery
in place before the workload is touched: ServiceAccount, Role, RoleBinding, the Secret with the
restore data, the agent ConfigMap, then the restore Job.

The restore Job runs the agent's restore mode (`python /kubelocal/agent.pyz restore ...`, from the
same ConfigMap, on the same stock image). Its Role grants what that code does and nothing more:

- read and update exactly the patched workload (`resourceNames`); for a bare Pod: create and
  delete pods (a recreated pod has no name to restrict to before it exists);
- list pods, to find the agent pod's address (list cannot be restricted by name);
- read exactly the session Secret;
- deletecollection of Secrets, ConfigMaps and Jobs, for the clean-up by label selector. RBAC
  cannot restrict deletecollection to a selector, so this is the widest grant; per-name deletes in
  the restore mode would allow `resourceNames` here too. Its own ServiceAccount, Role and
  RoleBinding are not deleted by it (that would revoke its permissions midway): they are made
  dependents of the Job, which it deletes last.

The Job's pod passes the "restricted" Pod Security Standard (non-root, no privilege escalation, all
capabilities dropped, RuntimeDefault seccomp, read-only root filesystem), opts out of Istio and
Linkerd injection (a sidecar would keep the Job from ever completing), restarts on failure a
bounded number of times (the original product's restore pod could respawn forever), and has no
deadline: it waits as long as the session lives.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from kubelocal.engine import names

DEFAULT_GRACE_SECONDS = 60
DEFAULT_POLL_SECONDS = 5
RESTORE_BACKOFF_LIMIT = 5
# A failed restore Job stays a day for `kubectl logs`, then goes; a successful one deletes itself.
RESTORE_JOB_TTL_SECONDS = 24 * 3600

_WORKLOAD_RESOURCES = {
    "Deployment": "deployments",
    "StatefulSet": "statefulsets",
    "ReplicaSet": "replicasets",
}
# What the restore mode deletes by label. Not its own ServiceAccount, Role and RoleBinding: the
# engine makes them dependents of the Job, which goes last, and the garbage collector removes them.
_CLEANED_UP = (
    ("", "secrets"),
    ("", "configmaps"),
    ("batch", "jobs"),
)


def _metadata(name: str, namespace: str, session_id: str, component: str) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "labels": names.labels_for(session_id, component)}


def session_secret(*, session_id: str, namespace: str, data: Mapping[str, str]) -> dict[str, Any]:
    """The Secret holding the restore data and the agent token (`ledgers.to_secret_data`)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _metadata(
            names.restore_secret_name(session_id), namespace, session_id, names.COMPONENT_RESTORE_DATA
        ),
        "type": "Opaque",
        "data": dict(data),
    }


def agent_config_map(*, session_id: str, namespace: str, zipapp: bytes) -> dict[str, Any]:
    """The ConfigMap holding the agent zipapp (binary, so `binaryData`; limit 1 MiB)."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(
            names.agent_config_map_name(session_id), namespace, session_id, names.COMPONENT_AGENT_CODE
        ),
        "binaryData": {names.AGENT_ZIPAPP_KEY: base64.b64encode(zipapp).decode()},
    }


def restore_service_account(*, session_id: str, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _metadata(
            names.restore_service_account_name(session_id),
            namespace,
            session_id,
            names.COMPONENT_RESTORE_RBAC,
        ),
        "automountServiceAccountToken": True,
    }


def restore_role(
    *, session_id: str, namespace: str, workload_kind: str, workload_name: str
) -> dict[str, Any]:
    """The least-privilege Role of the restore Job; see the module docstring."""
    rules: list[dict[str, Any]] = [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}]
    if workload_kind == "Pod":
        rules.append({"apiGroups": [""], "resources": ["pods"], "verbs": ["create", "delete"]})
    else:
        rules.append(
            {
                "apiGroups": ["apps"],
                "resources": [_WORKLOAD_RESOURCES[workload_kind]],
                "resourceNames": [workload_name],
                "verbs": ["get", "update"],
            }
        )
    rules.append(
        {
            "apiGroups": [""],
            "resources": ["secrets"],
            "resourceNames": [names.restore_secret_name(session_id)],
            "verbs": ["get"],
        }
    )
    for group in dict.fromkeys(group for group, _ in _CLEANED_UP):
        resources = [resource for g, resource in _CLEANED_UP if g == group]
        rules.append({"apiGroups": [group], "resources": resources, "verbs": ["deletecollection"]})
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": _metadata(
            names.restore_role_name(session_id), namespace, session_id, names.COMPONENT_RESTORE_RBAC
        ),
        "rules": rules,
    }


def restore_role_binding(*, session_id: str, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": _metadata(
            names.restore_role_binding_name(session_id), namespace, session_id, names.COMPONENT_RESTORE_RBAC
        ),
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": names.restore_role_name(session_id),
        },
        "subjects": [
            {
                "kind": "ServiceAccount",
                "name": names.restore_service_account_name(session_id),
                "namespace": namespace,
            }
        ],
    }


def restore_command(
    *, session_id: str, namespace: str, status_port: int, grace_seconds: float, poll_seconds: float
) -> list[str]:
    """The restore mode's command line (`kubelocal_agent.restore`)."""
    return [
        "python", names.AGENT_ZIPAPP_PATH, "restore",
        "--namespace", namespace,
        "--secret", names.restore_secret_name(session_id),
        "--selector", names.selector_for_session(session_id),
        "--agent-selector", names.agent_pod_selector(session_id),
        "--status-port", str(status_port),
        "--grace", f"{grace_seconds:g}",
        "--poll", f"{poll_seconds:g}",
    ]  # fmt: skip


def restore_job(
    *,
    session_id: str,
    namespace: str,
    image: str = names.DEFAULT_AGENT_IMAGE,
    config_map_name: str | None = None,
    status_port: int = names.DEFAULT_AGENT_STATUS_PORT,
    grace_seconds: float = DEFAULT_GRACE_SECONDS,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
) -> dict[str, Any]:
    """The Job that restores the workload once no session has been connected for `grace_seconds`."""
    # The Job's pods must not carry the session label: the restore mode finds the agent pod by it.
    pod_labels = {
        names.MANAGED_BY_LABEL: names.MANAGED_BY_VALUE,
        names.COMPONENT_LABEL: names.COMPONENT_RESTORE_JOB,
        names.RESTORES_LABEL: session_id,
    }
    container = {
        "name": "restore",
        "image": image,
        "command": restore_command(
            session_id=session_id,
            namespace=namespace,
            status_port=status_port,
            grace_seconds=grace_seconds,
            poll_seconds=poll_seconds,
        ),
        "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "runAsUser": names.NON_ROOT_USER_ID,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": [
            {"name": names.AGENT_VOLUME_NAME, "mountPath": names.AGENT_MOUNT_PATH, "readOnly": True}
        ],
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _metadata(
            names.restore_job_name(session_id), namespace, session_id, names.COMPONENT_RESTORE_JOB
        ),
        "spec": {
            "backoffLimit": RESTORE_BACKOFF_LIMIT,
            "ttlSecondsAfterFinished": RESTORE_JOB_TTL_SECONDS,
            "template": {
                "metadata": {
                    "labels": pod_labels,
                    "annotations": {"sidecar.istio.io/inject": "false", "linkerd.io/inject": "disabled"},
                },
                "spec": {
                    "serviceAccountName": names.restore_service_account_name(session_id),
                    "restartPolicy": "OnFailure",
                    "containers": [container],
                    "volumes": [
                        {
                            "name": names.AGENT_VOLUME_NAME,
                            "configMap": {
                                "name": config_map_name or names.agent_config_map_name(session_id),
                                "defaultMode": 0o444,
                            },
                        }
                    ],
                },
            },
        },
    }


def session_objects(
    *,
    session_id: str,
    namespace: str,
    workload_kind: str,
    workload_name: str,
    secret_data: Mapping[str, str],
    zipapp: bytes,
    image: str = names.DEFAULT_AGENT_IMAGE,
    status_port: int = names.DEFAULT_AGENT_STATUS_PORT,
    grace_seconds: float = DEFAULT_GRACE_SECONDS,
) -> list[dict[str, Any]]:
    """Every object of the session, in creation order (restore machinery before the workload patch)."""
    common = {"session_id": session_id, "namespace": namespace}
    return [
        restore_service_account(**common),
        restore_role(**common, workload_kind=workload_kind, workload_name=workload_name),
        restore_role_binding(**common),
        session_secret(**common, data=secret_data),
        agent_config_map(**common, zipapp=zipapp),
        restore_job(**common, image=image, status_port=status_port, grace_seconds=grace_seconds),
    ]
