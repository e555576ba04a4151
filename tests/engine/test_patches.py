"""The workload patch and its inverse.

Aspects covered:
- round trip: patch then inverse gives back exactly the original, for realistic Deployments,
  StatefulSets and ReplicaSets and for random-ish specs (hypothesis): absent fields (replicas,
  labels, annotations, env, volumeMounts, volumes, securityContext) come back absent, present ones
  come back with their values, `null` lists come back `null`
- what the patched object holds: agent image and command (listen ports = declared TCP ports +
  service target ports, control port), args gone, token env from the session Secret, agent volume
  and mount, other containers untouched, replicas 1, session label and who/when annotations on the
  workload and the pod template
- probes and lifecycle removed by default, kept with `Probes` / `LifecycleHooks` (any case)
- runAsNonRoot without a user gets runAsUser 65534; with a user set nothing changes
- a paused Deployment is unpaused, and paused again by the inverse
- guards: patch and inverse fail (test op) when the containers were reordered in between; the
  inverse fails as a test failure on a workload the patch never reached
- StatefulSet: a rolling-update partition is lifted (and put back); OnDelete asks for its pods
  to be replaced, as a bare ReplicaSet does; bare Pod is a recreate plan whose original is
  the pod without server-set fields and whose replacement is the patched pod
- a shared agent ConfigMap can be named instead of the session's own
- ephemeral containers (kubectl debug) are not recreated with a bare pod
- notes: a memory limit the agent may not fit in; scaling down (an autoscaler would undo it);
  memory quantities read in every unit
- refusals: Windows workloads, control or status port clash, equal agent ports, leftovers of an
  unrestored session, something mounted at /kubelocal
- the plan never mutates the target's objects
- the API schema accepts the patched Deployment, StatefulSet and the recreated pod (strict)
"""

import copy

import jsonpatch
import kubernetes_validate
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubelocal.engine import errors, names, patches, targets

from . import objects as k

SETTINGS = patches.AgentSettings(
    session_id="s3ss10n1", owner="ana@ana-laptop", started="2026-11-27T09:30:00Z"
)


def target_for(workload, container="api", ports=None, kind=None):
    kind = kind or workload.get("kind", "Deployment")
    template = (
        workload["spec"]["template"]
        if kind != "Pod"
        else {"metadata": {"labels": workload["metadata"].get("labels", {})}, "spec": workload["spec"]}
    )
    return targets.Target(
        kind=kind,
        name=workload["metadata"]["name"],
        namespace=k.NAMESPACE,
        container=container,
        service="api",
        ports=ports if ports is not None else (targets.PortMapping("http", 80, 8080, "TCP", "http"),),
        replicas=workload["spec"].get("replicas", 1),
        pods=("p",),
        pod_template=template,
        workload=workload,
    )


def roundtrip(workload, target=None, agent_settings=SETTINGS):
    plan = patches.plan(target or target_for(workload), settings=agent_settings)
    patched = patches.apply(workload, plan.operations)
    restored = patches.apply(patched, plan.inverse)
    return plan, patched, restored


def container_named(obj, name):
    spec = obj["spec"]["template"]["spec"] if "template" in obj["spec"] else obj["spec"]
    return next(c for c in spec["containers"] if c["name"] == name)


# --- round trips ------------------------------------------------------------------------------------


def test_deployment_round_trip_is_exact():
    deploy = k.deployment()
    deploy["spec"]["template"]["spec"]["containers"].append(
        k.container("istio-proxy", "docker.io/istio/proxyv2:1.22.0", ports=[("http-envoy-prom", 15090)])
    )
    before = copy.deepcopy(deploy)
    _, patched, restored = roundtrip(deploy)
    assert patched != before
    assert restored == before
    assert deploy == before  # nothing mutated


def test_stateful_set_round_trip_is_exact():
    sts = k.stateful_set()
    _, _, restored = roundtrip(sts, target_for(sts, container="postgres", ports=()))
    assert restored == k.stateful_set()


def test_absent_fields_come_back_absent():
    deploy = k.deployment(replicas=None, spec=k.pod_spec(k.container("api", ports=[("http", 8080)])))
    del deploy["metadata"]["annotations"]
    del deploy["spec"]["template"]["spec"]["volumes"]
    before = copy.deepcopy(deploy)
    plan, patched, restored = roundtrip(deploy)
    assert patched["spec"]["replicas"] == 1
    assert patched["metadata"]["annotations"][names.OWNER_ANNOTATION] == "ana@ana-laptop"
    assert restored == before
    assert "replicas" not in restored["spec"] and "annotations" not in restored["metadata"]
    assert {"op": "remove", "path": "/spec/replicas"} in plan.inverse


def test_null_lists_come_back_null():
    deploy = k.deployment(
        spec=k.pod_spec(k.container("api", ports=[("http", 8080)], env=None, volumeMounts=None))
    )
    _, patched, restored = roundtrip(deploy)
    assert container_named(patched, "api")["env"][0]["name"] == names.AGENT_TOKEN_ENV
    assert container_named(restored, "api")["env"] is None


# --- what the patch does ------------------------------------------------------------------------------


def test_patched_deployment_runs_the_agent():
    deploy = k.deployment()
    sidecar = k.container("istio-proxy", "docker.io/istio/proxyv2:1.22.0")
    deploy["spec"]["template"]["spec"]["containers"].append(sidecar)
    plan, patched, _ = roundtrip(deploy)
    agent = container_named(patched, "api")
    assert agent["image"] == "python:3.12-slim"
    assert agent["command"] == [
        "python", "/kubelocal/agent.pyz", "serve", "--ports", "8080,9090",
        "--control-port", "47100", "--status-port", "47101",
    ]  # fmt: skip
    assert plan.listen_ports == (8080, 9090)
    assert "args" not in agent
    for field in (*patches.PROBES, "lifecycle"):
        assert field not in agent
    assert agent["env"][:3] == k.api_container()["env"]  # the app's env is what the agent reports
    assert agent["env"][-1]["valueFrom"]["secretKeyRef"] == {
        "name": "kubelocal-s3ss10n1-restore",
        "key": "agent-token",
    }
    assert agent["volumeMounts"][-1] == {
        "name": "kubelocal-agent",
        "mountPath": "/kubelocal",
        "readOnly": True,
    }
    volumes = patched["spec"]["template"]["spec"]["volumes"]
    assert volumes[-1]["configMap"]["name"] == "kubelocal-s3ss10n1-agent"
    assert container_named(patched, "istio-proxy") == sidecar
    assert patched["spec"]["replicas"] == 1
    for metadata in (patched["metadata"], patched["spec"]["template"]["metadata"]):
        assert metadata["labels"][names.SESSION_LABEL] == "s3ss10n1"
        assert metadata["annotations"][names.STARTED_ANNOTATION] == "2026-11-27T09:30:00Z"
    assert patched["spec"]["template"]["metadata"]["labels"]["app"] == "api"  # selector still matches


def test_service_target_ports_are_listened_on_even_when_undeclared():
    deploy = k.deployment(spec=k.pod_spec(k.container("api")))
    mapping = targets.PortMapping("", 80, 3000, "TCP")
    plan = patches.plan(target_for(deploy, ports=(mapping,)), settings=SETTINGS)
    assert plan.listen_ports == (3000,)


def test_custom_image_and_control_port():
    custom = patches.AgentSettings(
        session_id="abcd1234",
        owner="o",
        started="t",
        image="registry.corp/kubelocal-agent:0.1",
        control_port=41000,
    )
    _, patched, _ = roundtrip(k.deployment(), agent_settings=custom)
    agent = container_named(patched, "api")
    assert agent["image"] == "registry.corp/kubelocal-agent:0.1"
    assert agent["command"][-3] == "41000"


@pytest.mark.parametrize("features", [{"Probes"}, {"probes"}, {"PROBES", "ManagedIdentity"}])
def test_probes_kept_when_enabled(features):
    agent_settings = patches.AgentSettings(
        session_id="abcd1234", owner="o", started="t", features=frozenset(features)
    )
    _, patched, restored = roundtrip(k.deployment(), agent_settings=agent_settings)
    agent = container_named(patched, "api")
    assert agent["livenessProbe"] == k.api_container()["livenessProbe"]
    assert "lifecycle" not in agent
    assert restored == k.deployment()


def test_lifecycle_kept_when_enabled():
    agent_settings = patches.AgentSettings(
        session_id="abcd1234", owner="o", started="t", features=frozenset({"LifecycleHooks"})
    )
    _, patched, _ = roundtrip(k.deployment(), agent_settings=agent_settings)
    agent = container_named(patched, "api")
    assert agent["lifecycle"] == k.api_container()["lifecycle"]
    assert "readinessProbe" not in agent


def test_run_as_non_root_without_user_gets_a_user():
    deploy = k.deployment()
    deploy["spec"]["template"]["spec"]["securityContext"] = {"runAsNonRoot": True}
    _, patched, restored = roundtrip(deploy)
    assert container_named(patched, "api")["securityContext"] == {"runAsUser": 65534}
    assert restored == copy.deepcopy(deploy) and "securityContext" not in container_named(restored, "api")


def test_run_as_non_root_with_a_user_is_left_alone():
    spec = k.pod_spec(k.api_container(securityContext={"runAsNonRoot": True, "runAsUser": 1000}))
    _, patched, _ = roundtrip(k.deployment(spec=spec))
    assert container_named(patched, "api")["securityContext"] == {"runAsNonRoot": True, "runAsUser": 1000}


def test_paused_deployment_is_unpaused_and_paused_again():
    deploy = k.deployment()
    deploy["spec"]["paused"] = True
    _, patched, restored = roundtrip(deploy)
    assert patched["spec"]["paused"] is False
    assert restored["spec"]["paused"] is True


def test_replicas_already_one_are_not_touched():
    plan = patches.plan(target_for(k.deployment(replicas=1)), settings=SETTINGS)
    assert not any(op["path"] == "/spec/replicas" for op in plan.operations + plan.inverse)


def test_guards_fail_both_ways_when_containers_were_reordered():
    deploy = k.deployment()
    deploy["spec"]["template"]["spec"]["containers"].append(k.container("worker"))
    plan = patches.plan(target_for(deploy), settings=SETTINGS)
    reordered = copy.deepcopy(deploy)
    reordered["spec"]["template"]["spec"]["containers"].reverse()
    with pytest.raises(jsonpatch.JsonPatchTestFailed):
        patches.apply(reordered, plan.operations)
    patched = patches.apply(deploy, plan.operations)
    patched["spec"]["template"]["spec"]["containers"].reverse()
    with pytest.raises(jsonpatch.JsonPatchTestFailed):
        patches.apply(patched, plan.inverse)


def test_inverse_fails_cleanly_on_a_workload_the_patch_never_reached():
    deploy = k.deployment()
    plan = patches.plan(target_for(deploy), settings=SETTINGS)
    with pytest.raises(jsonpatch.JsonPatchTestFailed):
        patches.apply(deploy, plan.inverse)


def test_json_pointer_escapes_slashes_in_label_keys():
    plan = patches.plan(target_for(k.deployment()), settings=SETTINGS)
    assert {
        "op": "add",
        "path": "/metadata/labels/kubelocal.dev~1session",
        "value": "s3ss10n1",
    } in plan.operations


def test_bare_replica_set_asks_for_its_pods_to_be_replaced():
    rs = k.replica_set(k.deployment(), owner_kind=None)
    rs["kind"] = "ReplicaSet"
    plan, _, restored = roundtrip(rs, target_for(rs, kind="ReplicaSet"))
    assert plan.replace_pods and restored == rs


def test_stateful_set_partition_is_lifted_and_put_back():
    sts = k.stateful_set()
    sts["spec"]["updateStrategy"]["rollingUpdate"]["partition"] = 2
    plan, patched, restored = roundtrip(sts, target_for(sts, container="postgres", ports=()))
    assert patched["spec"]["updateStrategy"]["rollingUpdate"]["partition"] == 0
    assert restored == sts and not plan.replace_pods


def test_stateful_set_on_delete_asks_for_its_pods_to_be_replaced():
    sts = k.stateful_set()
    sts["spec"]["updateStrategy"] = {"type": "OnDelete"}
    plan, _, restored = roundtrip(sts, target_for(sts, container="postgres", ports=()))
    assert plan.replace_pods and restored == sts


def test_deployment_does_not_replace_pods_by_hand():
    assert patches.plan(target_for(k.deployment()), settings=SETTINGS).replace_pods is False


def test_bare_pod_is_recreated():
    pod = k.pod("api-debug")
    before = copy.deepcopy(pod)
    plan = patches.plan(target_for(pod, kind="Pod"), settings=SETTINGS)
    assert isinstance(plan, patches.RecreatePlan)
    assert plan.original["spec"] == before["spec"]
    assert plan.original["metadata"]["labels"] == before["metadata"]["labels"]
    for server_set in ("uid", "resourceVersion", "creationTimestamp"):
        assert server_set not in plan.original["metadata"]
    assert "status" not in plan.original and plan.original["kind"] == "Pod"
    agent = container_named(plan.replacement, "api")
    assert agent["image"] == "python:3.12-slim" and "livenessProbe" not in agent
    assert plan.replacement["metadata"]["labels"][names.SESSION_LABEL] == "s3ss10n1"
    assert plan.replacement["metadata"]["name"] == "api-debug"
    assert pod == before
    assert "replacement=" not in repr(plan)  # pod bodies (env values) stay out of logs


def test_ephemeral_containers_are_not_recreated():
    pod = k.pod("api-debug")
    pod["spec"]["ephemeralContainers"] = [
        {"name": "debugger-x7", "image": "busybox", "targetContainerName": "api"}
    ]
    plan = patches.plan(target_for(pod, kind="Pod"), settings=SETTINGS)
    assert "ephemeralContainers" not in plan.original["spec"]
    assert "ephemeralContainers" not in plan.replacement["spec"]
    assert "ephemeralContainers" in pod["spec"]


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [("128Mi", 128 * 2**20), ("1G", 1e9), ("134217728", 134217728), ("0.5Gi", 2**29), ("64k", 64e3),
     ("lots", None), ("", None)],
)  # fmt: skip
def test_memory_quantities(quantity, expected):
    assert patches.memory_bytes(quantity) == expected


def test_notes_on_a_tight_memory_limit_and_scaling_down():
    spec = k.pod_spec(k.api_container(resources={"limits": {"memory": "32Mi"}}))
    plan = patches.plan(target_for(k.deployment(spec=spec)), settings=SETTINGS)
    assert any("memory limit of 32Mi" in note for note in plan.notes)
    assert any("scaled from 3 to 1" in note and "HorizontalPodAutoscaler" in note for note in plan.notes)
    quiet = patches.plan(target_for(k.deployment(replicas=1)), settings=SETTINGS)
    assert quiet.notes == ()


# --- refusals -------------------------------------------------------------------------------------------


def test_windows_workloads_are_refused():
    spec = k.pod_spec(k.api_container(), nodeSelector={"kubernetes.io/os": "windows"})
    with pytest.raises(errors.PatchError, match="Windows nodes"):
        patches.plan(target_for(k.deployment(spec=spec)), settings=SETTINGS)


def test_control_port_clash_is_refused():
    spec = k.pod_spec(k.container("api", ports=[("http", 8080), ("admin", 47100)]))
    with pytest.raises(errors.PatchError, match="--agent-control-port"):
        patches.plan(target_for(k.deployment(spec=spec)), settings=SETTINGS)


def test_status_port_clash_and_equal_ports_are_refused():
    spec = k.pod_spec(k.container("api", ports=[("http", 8080), ("admin", 47101)]))
    with pytest.raises(
        errors.PatchError, match=r"status endpoint\. Choose another port with --agent-status-port"
    ):
        patches.plan(target_for(k.deployment(spec=spec)), settings=SETTINGS)
    same = patches.AgentSettings(
        session_id="abcd1234", owner="o", started="t", control_port=41000, status_port=41000
    )
    with pytest.raises(errors.PatchError, match="must differ"):
        patches.plan(target_for(k.deployment()), settings=same)


def test_shared_agent_config_map_can_be_named():
    shared = patches.AgentSettings(
        session_id="abcd1234", owner="o", started="t", config_map_name="kubelocal-agent-0123"
    )
    _, patched, _ = roundtrip(k.deployment(), agent_settings=shared)
    assert patched["spec"]["template"]["spec"]["volumes"][-1]["configMap"]["name"] == "kubelocal-agent-0123"


def test_leftovers_of_an_unrestored_session_are_refused():
    patched = patches.apply(
        k.deployment(), patches.plan(target_for(k.deployment()), settings=SETTINGS).operations
    )
    for label_holder in (patched["metadata"], patched["spec"]["template"]["metadata"]):
        del label_holder["labels"][names.SESSION_LABEL]
    other = patches.AgentSettings(session_id="0th3r5e5", owner="o", started="t")
    with pytest.raises(errors.PatchError, match="disconnect --all"):
        patches.plan(target_for(patched), settings=other)


def test_something_already_mounted_at_the_agent_path_is_refused():
    mounts = [{"name": "tools", "mountPath": "/kubelocal"}]
    spec = k.pod_spec(k.container("api", ports=[("http", 8080)], volumeMounts=mounts))
    with pytest.raises(errors.PatchError, match="/kubelocal"):
        patches.plan(target_for(k.deployment(spec=spec)), settings=SETTINGS)


# --- property: patch then inverse is the identity ----------------------------------------------------------

names_st = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=8).filter(
    lambda s: s[0] != "-" and s[-1] != "-"
)
maybe = st.booleans()
probe = st.fixed_dictionaries({"tcpSocket": st.fixed_dictionaries({"port": st.integers(1, 65535)})})


@st.composite
def containers_st(draw, name):
    body = {"name": name, "image": draw(st.sampled_from(["nginx:1.27", "ghcr.io/x/y@sha256:abc", "busybox"]))}
    optional = {
        "command": st.lists(st.text(max_size=5), max_size=3),
        "args": st.lists(st.text(max_size=5), max_size=3),
        "env": st.one_of(st.none(), st.lists(
            st.fixed_dictionaries({"name": names_st, "value": st.text(max_size=5)}), max_size=3)),
        "volumeMounts": st.one_of(st.none(), st.lists(st.fixed_dictionaries({"name": names_st,
                                                                              "mountPath": st.just("/data")}),
                                                       max_size=2)),
        "ports": st.lists(st.fixed_dictionaries({"containerPort": st.integers(1, 40000),
                                                 "protocol": st.sampled_from(["TCP", "UDP"])}), max_size=3),
        "livenessProbe": probe, "readinessProbe": probe, "startupProbe": probe,
        "lifecycle": st.just({"preStop": {"exec": {"command": ["sleep", "1"]}}}),
        "securityContext": st.one_of(st.just({}), st.fixed_dictionaries({}, optional={
            "runAsNonRoot": st.booleans(), "runAsUser": st.integers(0, 70000)})),
        "workingDir": st.just("/app"),
    }  # fmt: skip
    for key, strategy in optional.items():
        if draw(maybe):
            body[key] = draw(strategy)
    return body


@st.composite
def workloads_st(draw):
    kind = draw(st.sampled_from(["Deployment", "StatefulSet", "ReplicaSet"]))
    container_names = draw(st.lists(names_st, min_size=1, max_size=3, unique=True))
    spec = {"containers": [draw(containers_st(name)) for name in container_names]}
    if draw(maybe):
        spec["volumes"] = draw(st.one_of(st.none(), st.lists(st.fixed_dictionaries(
            {"name": names_st, "emptyDir": st.just({})}), max_size=2)))  # fmt: skip
    if draw(maybe):
        spec["securityContext"] = draw(st.fixed_dictionaries({}, optional={"runAsNonRoot": st.booleans()}))
    template = {"spec": spec}
    if draw(maybe):
        template["metadata"] = {"labels": {"app": "x"}} if draw(maybe) else {}
    metadata = {"name": "w", "namespace": k.NAMESPACE}
    if draw(maybe):
        metadata["labels"] = draw(st.dictionaries(names_st, names_st, max_size=2))
    if draw(maybe):
        metadata["annotations"] = draw(st.dictionaries(names_st, st.text(max_size=5), max_size=2))
    workload = {"kind": kind, "metadata": metadata, "spec": {"template": template}}
    if draw(maybe):
        workload["spec"]["replicas"] = draw(st.integers(0, 5))
    if kind == "Deployment" and draw(maybe):
        workload["spec"]["paused"] = draw(st.booleans())
    chosen = draw(st.sampled_from(container_names))
    features = frozenset(draw(st.sets(st.sampled_from(["Probes", "LifecycleHooks", "ManagedIdentity"]))))
    return workload, chosen, features


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workloads_st())
def test_property_patch_then_inverse_is_identity(case):
    workload, chosen, features = case
    spec = workload["spec"]["template"]["spec"]
    container = next(c for c in spec["containers"] if c["name"] == chosen)
    if any(p["containerPort"] in (47100, 47101) for p in container.get("ports", [])):
        return
    before = copy.deepcopy(workload)
    agent_settings = patches.AgentSettings(session_id="pr0pert1", owner="o", started="t", features=features)
    target = target_for(workload, container=chosen, ports=(), kind=workload["kind"])
    plan = patches.plan(target, settings=agent_settings)
    patched = patches.apply(workload, plan.operations)
    assert container_named(patched, chosen)["image"] == names.DEFAULT_AGENT_IMAGE
    assert patched["spec"]["replicas"] == 1
    assert ("livenessProbe" in container_named(patched, chosen)) == (
        "Probes" in features and "livenessProbe" in container
    )
    assert patches.apply(patched, plan.inverse) == before
    assert workload == before


# --- the API accepts what the patch makes ---------------------------------------------------------------


def test_patched_objects_are_valid_for_the_api():
    version = kubernetes_validate.latest_version()
    deploy = k.deployment()
    deploy["spec"]["template"]["spec"]["securityContext"] = {"runAsNonRoot": True}
    _, patched, _ = roundtrip(deploy)
    kubernetes_validate.validate(patched, version, strict=True)
    sts = k.stateful_set()
    _, patched_sts, _ = roundtrip(sts, target_for(sts, container="postgres", ports=()))
    kubernetes_validate.validate(patched_sts, version, strict=True)
    plan = patches.plan(target_for(k.pod("api-debug"), kind="Pod"), settings=SETTINGS)
    kubernetes_validate.validate(plan.replacement, version, strict=True)
    kubernetes_validate.validate(plan.original, version, strict=True)
