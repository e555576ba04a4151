"""Every cluster-side name, label and annotation kubelocal uses, in one place.

Objects kubelocal creates in the target namespace, one set per session (`<id>` is the session id):

=====================  ======================================  ==========================================
kind                   name                                    holds
=====================  ======================================  ==========================================
Secret                 ``kubelocal-<id>-restore``              the undo ledger (original spec) + agent token
ConfigMap              ``kubelocal-<id>-agent``                the agent zipapp, mounted at /kubelocal
Job                    ``kubelocal-<id>-restore``              restores the workload if the session dies
ServiceAccount         ``kubelocal-<id>-restore``              the restore Job's identity
Role / RoleBinding     ``kubelocal-<id>-restore``              least privilege for exactly that workload
=====================  ======================================  ==========================================

All of them carry `MANAGED_BY_LABEL=kubelocal`, `SESSION_LABEL=<id>` and a `COMPONENT_LABEL`, so
`selector_for_session(id)` finds everything one session created and `SELECTOR_ALL` finds every
kubelocal object (crash recovery, `kubelocal disconnect --all`). The patched workload, its pod
template and therefore its pods carry `SESSION_LABEL` plus the who/when annotations, which is how
another run detects that the service is already redirected.

The original product (Bridge to Kubernetes) is recognised by its agent image and its label
prefixes, so kubelocal never patches a workload that tool is holding.
"""

from __future__ import annotations

import re

DOMAIN = "kubelocal.dev"

# Labels (selectable) and annotations (free text) on everything kubelocal creates or patches.
SESSION_LABEL = f"{DOMAIN}/session"
COMPONENT_LABEL = f"{DOMAIN}/component"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "kubelocal"
RESTORES_LABEL = f"{DOMAIN}/restores"  # on the restore Job's pods: the session they restore
OWNER_ANNOTATION = f"{DOMAIN}/session-owner"  # "user@workstation"
STARTED_ANNOTATION = f"{DOMAIN}/session-started"  # RFC 3339 UTC
IGNORE_PORTS_ANNOTATION = f"{DOMAIN}/ignore-ports"
ORIGINAL_IGNORE_PORTS_ANNOTATION = "bridgetokubernetes/ignore-ports"

# Values of COMPONENT_LABEL.
COMPONENT_RESTORE_DATA = "restore-data"
COMPONENT_AGENT_CODE = "agent-code"
COMPONENT_RESTORE_JOB = "restore-job"
COMPONENT_RESTORE_RBAC = "restore-rbac"
COMPONENT_WORKLOAD = "workload"

SELECTOR_ALL = f"{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}"

# The agent inside the replaced container.
DEFAULT_AGENT_IMAGE = "python:3.12-slim"
AGENT_MOUNT_PATH = "/kubelocal"
AGENT_ZIPAPP_KEY = "agent.pyz"
AGENT_ZIPAPP_PATH = f"{AGENT_MOUNT_PATH}/{AGENT_ZIPAPP_KEY}"
AGENT_VOLUME_NAME = "kubelocal-agent"
# The agent's defaults (kubelocal_agent.serving): the control listener binds 127.0.0.1 in the pod
# (port-forward only), the status listener 0.0.0.0 (the restore Job polls it). Both must avoid the
# container's own ports.
DEFAULT_AGENT_CONTROL_PORT = 47100
DEFAULT_AGENT_STATUS_PORT = 47101
AGENT_ENV_PREFIX = "KUBELOCAL_AGENT_"  # the agent drops these from the env it reports
AGENT_TOKEN_ENV = "KUBELOCAL_AGENT_TOKEN"
# Keys of the session Secret: the ledger (every undo), the agent's token, and the workload as it
# was (`original`: the restore Job's contract, kubelocal_agent.restores).
AGENT_TOKEN_SECRET_KEY = "agent-token"
LEDGER_SECRET_KEY = "ledger.json"
ORIGINAL_SECRET_KEY = "original"
# A user that exists in no image but satisfies `runAsNonRoot` when the image runs as root.
NON_ROOT_USER_ID = 65534

# The original product's marks: its agent image names and its label/annotation prefixes.
ORIGINAL_AGENT_IMAGE_MARKERS = ("lpkremoteagent", "lpkrestorationjob", "devhostagent")
ORIGINAL_LABEL_PREFIXES = ("routing.visualstudio.io/", "mindaro.io/")
ORIGINAL_PRODUCT_NAME = "Bridge to Kubernetes"

# Sidecars injected by meshes and runtimes: never the container the user means.
KNOWN_SIDECARS = frozenset({"istio-proxy", "linkerd-proxy", "daprd", "jaeger-agent", "nginx-proxy"})

_SESSION_ID = re.compile(r"^[a-z0-9]{4,20}$")
_MAX_NAME = 63


def is_valid_session_id(session_id: str) -> bool:
    """Session ids are 4-20 lowercase letters and digits: safe in names, labels and file names."""
    return bool(_SESSION_ID.fullmatch(session_id))


def _session_object_name(session_id: str, suffix: str) -> str:
    if not is_valid_session_id(session_id):
        raise ValueError(f"invalid session id {session_id!r}: use 4-20 lowercase letters and digits")
    name = f"kubelocal-{session_id}-{suffix}"
    assert len(name) <= _MAX_NAME
    return name


def restore_secret_name(session_id: str) -> str:
    return _session_object_name(session_id, "restore")


def agent_config_map_name(session_id: str) -> str:
    return _session_object_name(session_id, "agent")


def restore_job_name(session_id: str) -> str:
    return _session_object_name(session_id, "restore")


def restore_service_account_name(session_id: str) -> str:
    return _session_object_name(session_id, "restore")


def restore_role_name(session_id: str) -> str:
    return _session_object_name(session_id, "restore")


def restore_role_binding_name(session_id: str) -> str:
    return _session_object_name(session_id, "restore")


def labels_for(session_id: str, component: str) -> dict[str, str]:
    """The labels every object created for `session_id` carries."""
    _session_object_name(session_id, component)  # validates the id
    return {MANAGED_BY_LABEL: MANAGED_BY_VALUE, SESSION_LABEL: session_id, COMPONENT_LABEL: component}


def selector_for_session(session_id: str) -> str:
    """A label selector (API syntax) matching every object created for `session_id`."""
    _session_object_name(session_id, "x")
    return f"{MANAGED_BY_LABEL}={MANAGED_BY_VALUE},{SESSION_LABEL}={session_id}"


def agent_pod_selector(session_id: str) -> str:
    """A label selector matching the agent pods of `session_id` (the patched workload's pods) and
    nothing else kubelocal creates: those carry `COMPONENT_LABEL`, the workload's pods do not.
    (Not `MANAGED_BY_LABEL`: workloads deployed by Helm carry it themselves.)"""
    _session_object_name(session_id, "x")
    return f"{SESSION_LABEL}={session_id},!{COMPONENT_LABEL}"


def session_annotations(*, owner: str, started: str) -> dict[str, str]:
    """The who/when annotations put on the patched workload and its pods."""
    return {OWNER_ANNOTATION: owner, STARTED_ANNOTATION: started}
