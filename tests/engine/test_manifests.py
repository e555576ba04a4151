"""The session's cluster objects and their names.

Aspects covered:
- every object is valid for the Kubernetes API schema (kubernetes-validate, strict: no unknown
  fields), for old and new cluster versions
- names: per session, DNS-safe, at most 63 characters; invalid session ids refused
- labels: everything carries managed-by, session and component, so the session selector and the
  all-sessions selector find it; the agent pod selector matches the patched workload's pods but
  not the restore Job's pods, also for workloads that carry managed-by themselves (Helm)
- creation order: RBAC, Secret, ConfigMap, then the Job
- Role: least privilege (exactly the workload and the Secret by name; pod create/delete only for
  bare pods; no wildcard verbs or resources; nothing cluster-wide)
- restore Job: the agent's restore command with the session's Secret, selectors, status port and
  grace; restricted pod security; no mesh sidecar; bounded retries; no deadline
- the ConfigMap holds the zipapp bytes exactly
"""

import base64

import kubernetes_validate
import pytest

from kubelocal.engine import manifests, names, patches, targets

from . import objects as k

SESSION = "m4n1f35t"


def objects(kind="Deployment", name="api"):
    return manifests.session_objects(
        session_id=SESSION, namespace=k.NAMESPACE, workload_kind=kind, workload_name=name,
        secret_data={"ledger.json": "e30=", "agent-token": "dA==", "original": "e30="},
        zipapp=b"#!pyz\x00\xff",
    )  # fmt: skip


@pytest.mark.parametrize("version", ["1.27.0", kubernetes_validate.latest_version()])
@pytest.mark.parametrize("kind", ["Deployment", "StatefulSet", "ReplicaSet", "Pod"])
def test_every_object_is_valid_for_the_api(version, kind):
    for obj in objects(kind):
        kubernetes_validate.validate(obj, version, strict=True)


def test_the_validator_catches_a_wrong_field():
    job = objects()[-1]
    job["spec"]["template"]["spec"]["containers"][0]["comand"] = ["typo"]
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(job, kubernetes_validate.latest_version(), strict=True)


def test_creation_order_puts_the_restore_machinery_first():
    kinds = [obj["kind"] for obj in objects()]
    assert kinds == ["ServiceAccount", "Role", "RoleBinding", "Secret", "ConfigMap", "Job"]


def test_names_are_per_session_and_dns_safe():
    created = [obj["metadata"]["name"] for obj in objects()]
    assert all(name.startswith(f"kubelocal-{SESSION}-") and len(name) <= 63 for name in created)
    assert names.agent_config_map_name(SESSION) != names.restore_secret_name(SESSION)
    longest = "a" * 20
    assert len(names.restore_secret_name(longest)) <= 63


@pytest.mark.parametrize("bad", ["", "abc", "UPPER123", "has-dash", "a" * 21, "sp ace1", "abcd\n"])
def test_invalid_session_ids_are_refused(bad):
    assert not names.is_valid_session_id(bad)
    with pytest.raises(ValueError, match="invalid session id"):
        names.restore_secret_name(bad)


def selects(selector, labels):
    """Label selector semantics for `key=value` and `!key` terms (what the API server does)."""
    for term in selector.split(","):
        if term.startswith("!"):
            if term[1:] in labels:
                return False
        else:
            key, value = term.split("=", 1)
            if labels.get(key) != value:
                return False
    return True


def test_selectors_find_what_the_session_created():
    for obj in objects():
        labels = obj["metadata"]["labels"]
        assert selects(names.selector_for_session(SESSION), labels)
        assert selects(names.SELECTOR_ALL, labels)
        assert not selects(names.selector_for_session("0th3r5e5"), labels)


def test_agent_selector_matches_the_workload_pods_only():
    deploy = k.deployment()
    deploy["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/managed-by"] = "Helm"
    target = targets.Target(
        kind="Deployment", name="api", namespace=k.NAMESPACE, container="api", service="api", ports=(),
        replicas=3, pods=(), pod_template=deploy["spec"]["template"], workload=deploy,
    )  # fmt: skip
    settings = patches.AgentSettings(session_id=SESSION, owner="o", started="t")
    patched = patches.apply(deploy, patches.plan(target, settings=settings).operations)
    agent_pod_labels = patched["spec"]["template"]["metadata"]["labels"]
    job = objects()[-1]
    restore_pod_labels = job["spec"]["template"]["metadata"]["labels"]
    assert selects(names.agent_pod_selector(SESSION), agent_pod_labels)
    assert not selects(names.agent_pod_selector(SESSION), restore_pod_labels)
    assert names.SESSION_LABEL not in restore_pod_labels


@pytest.mark.parametrize("kind", ["Deployment", "StatefulSet", "ReplicaSet"])
def test_role_grants_exactly_the_workload_and_the_secret(kind):
    role = manifests.restore_role(
        session_id=SESSION, namespace=k.NAMESPACE, workload_kind=kind, workload_name="api"
    )
    rules = role["rules"]
    workload_rule = next(r for r in rules if r["apiGroups"] == ["apps"])
    assert workload_rule["resourceNames"] == ["api"] and workload_rule["verbs"] == ["get", "update"]
    secret_rule = next(r for r in rules if r.get("resourceNames") and r["resources"] == ["secrets"])
    assert secret_rule["resourceNames"] == [names.restore_secret_name(SESSION)]
    pod_verbs = {verb for r in rules if "pods" in r["resources"] for verb in r["verbs"]}
    assert pod_verbs == {"list"}
    for rule in rules:
        assert "*" not in rule["verbs"] and "*" not in rule["resources"] and "*" not in rule["apiGroups"]
        if "resourceNames" not in rule:
            assert set(rule["verbs"]) <= {"list", "deletecollection"}


def test_role_for_a_bare_pod_can_recreate_it():
    role = manifests.restore_role(
        session_id=SESSION, namespace=k.NAMESPACE, workload_kind="Pod", workload_name="x"
    )
    pod_verbs = {verb for r in role["rules"] if "pods" in r["resources"] for verb in r["verbs"]}
    assert pod_verbs == {"list", "create", "delete"}
    assert not any(r["apiGroups"] == ["apps"] for r in role["rules"])


def test_role_binding_ties_the_role_to_the_service_account():
    binding = manifests.restore_role_binding(session_id=SESSION, namespace=k.NAMESPACE)
    assert binding["roleRef"]["name"] == names.restore_role_name(SESSION)
    assert binding["subjects"] == [
        {
            "kind": "ServiceAccount",
            "name": names.restore_service_account_name(SESSION),
            "namespace": k.NAMESPACE,
        }
    ]


def test_restore_job_runs_the_agents_restore_mode():
    job = manifests.restore_job(
        session_id=SESSION, namespace=k.NAMESPACE, image="registry.corp/python:3.12-slim", grace_seconds=90
    )
    pod = job["spec"]["template"]
    container = pod["spec"]["containers"][0]
    command = container["command"]
    assert command[:3] == ["python", "/kubelocal/agent.pyz", "restore"]
    options = dict(zip(command[3::2], command[4::2], strict=True))
    assert options == {
        "--namespace": k.NAMESPACE,
        "--secret": names.restore_secret_name(SESSION),
        "--selector": names.selector_for_session(SESSION),
        "--agent-selector": names.agent_pod_selector(SESSION),
        "--status-port": "47101",
        "--grace": "90",
        "--poll": "5",
    }
    assert container["image"] == "registry.corp/python:3.12-slim"
    assert pod["spec"]["serviceAccountName"] == names.restore_service_account_name(SESSION)
    assert pod["spec"]["volumes"][0]["configMap"]["name"] == names.agent_config_map_name(SESSION)
    assert pod["metadata"]["annotations"]["sidecar.istio.io/inject"] == "false"
    assert job["spec"]["backoffLimit"] == manifests.RESTORE_BACKOFF_LIMIT
    assert "activeDeadlineSeconds" not in job["spec"]


def test_restore_job_passes_the_restricted_pod_security_standard():
    container = manifests.restore_job(session_id=SESSION, namespace=k.NAMESPACE)["spec"]["template"]["spec"][
        "containers"
    ][0]
    security = container["securityContext"]
    assert security["allowPrivilegeEscalation"] is False and security["runAsNonRoot"] is True
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}


def test_config_map_holds_the_zipapp_bytes():
    config_map = manifests.agent_config_map(
        session_id=SESSION, namespace=k.NAMESPACE, zipapp=b"PK\x03\x04\xff\x00"
    )
    assert base64.b64decode(config_map["binaryData"][names.AGENT_ZIPAPP_KEY]) == b"PK\x03\x04\xff\x00"
