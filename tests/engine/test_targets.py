"""Target resolution: service -> ready pods -> owner chain -> container, and its errors.

Aspects covered:
- owner chains: Deployment through its ReplicaSet (also mid-rollout with two ReplicaSets),
  StatefulSet, bare ReplicaSet, bare Pod; replicas read (absent -> 1)
- unsupported owners (DaemonSet, a CronJob's Job, a ReplicaSet owned by an operator) name what works
- missing owner (uid mismatch after delete/recreate) says to wait and retry
- pods: selector matching, terminating and finished pods ignored, none -> "scale it up",
  none ready -> the kubelet's reason, ready pods of two workloads -> refused
- containers: explicit, missing explicit (lists them), single, covering numeric and named targetPorts,
  only non-sidecar (istio-proxy, linkerd-proxy, daprd...), ambiguous -> lists them and says --container;
  init containers (native sidecars) never chosen
- port mapping: named targetPort resolved through the chosen container, missing targetPort means the
  port itself, string digits, UDP ports skipped, unresolvable name refused
- service: missing, without selector, ExternalName
- property: for random containers, ports and service ports, resolution returns a container of the
  pod (the explicit one when given) with one mapping per TCP port, or a TargetError with a message
- already redirected: kubelocal session label on workload or pod (who/when reported), the original
  product's labels or agent image recognised as another tool
"""

import copy

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from kubelocal.engine import errors, names, targets

from . import objects as k


def resolve(world, **overrides):
    arguments = {
        "service_name": world["service"]["metadata"]["name"],
        "namespace": k.NAMESPACE,
        "service": world["service"],
        "pods": world["pods"],
        "replica_sets": [world["replica_set"]] if world.get("replica_set") else [],
        "deployments": [world["deployment"]] if world.get("deployment") else [],
        "stateful_sets": world.get("stateful_sets", []),
    }
    arguments.update(overrides)
    return targets.resolve(**arguments)


# --- owner chains ---------------------------------------------------------------------------------


def test_deployment_through_its_replica_set():
    world = k.api_world()
    target = resolve(world)
    assert (target.kind, target.name, target.namespace, target.container) == (
        "Deployment",
        "api",
        "shop",
        "api",
    )
    assert target.replicas == 3
    assert target.pods == tuple(sorted(p["metadata"]["name"] for p in world["pods"]))
    assert target.workload == world["deployment"]
    assert target.pod_template == world["deployment"]["spec"]["template"]
    assert target.container_spec["image"] == "registry.example.com/shop/api:1.4.2"


def test_deployment_mid_rollout_with_two_replica_sets_is_one_workload():
    world = k.api_world()
    new_rs = k.replica_set(world["deployment"], name="api-5b6c7d8e9f")
    world["pods"].append(k.pod("api-5b6c7d8e9f-aaaaa", owner=new_rs))
    target = resolve(world, replica_sets=[world["replica_set"], new_rs])
    assert target.kind == "Deployment"
    assert "api-5b6c7d8e9f-aaaaa" in target.pods


def test_absent_replicas_count_as_one():
    world = k.api_world()
    del world["deployment"]["spec"]["replicas"]
    assert resolve(world).replicas == 1


def test_stateful_set():
    sts = k.stateful_set("db")
    pods = [k.pod(f"db-{i}", owner=sts) for i in range(2)]
    svc = k.service("db", ports=[{"name": "pg", "port": 5432, "protocol": "TCP", "targetPort": 5432}])
    target = targets.resolve(
        service_name="db", namespace=k.NAMESPACE, service=svc, pods=pods, stateful_sets=[sts]
    )
    assert (target.kind, target.name, target.container, target.replicas) == (
        "StatefulSet",
        "db",
        "postgres",
        2,
    )
    assert target.ports == (targets.PortMapping("pg", 5432, 5432, "TCP"),)


def test_bare_replica_set():
    world = k.api_world()
    bare = k.replica_set(world["deployment"], name="api-legacy", owner_kind=None)
    pods = [k.pod("api-legacy-abcde", owner=bare)]
    target = resolve(world, pods=pods, replica_sets=[bare], deployments=[])
    assert (target.kind, target.name, target.replicas) == ("ReplicaSet", "api-legacy", 3)


def test_bare_pod_uses_the_pod_as_template():
    world = k.api_world()
    bare = k.pod("api-debug")
    target = resolve(world, pods=[bare], replica_sets=[], deployments=[])
    assert (target.kind, target.name, target.replicas) == ("Pod", "api-debug", 1)
    assert target.pod_template["spec"] is bare["spec"]
    assert target.pod_template["metadata"]["labels"] == {"app": "api"}


@pytest.mark.parametrize(
    ("kind", "name"), [("DaemonSet", "node-agent"), ("Job", "report-28791440"), ("Rollout", "api")]
)
def test_unsupported_owner_names_what_is_supported(kind, name):
    world = k.api_world()
    owner = {"metadata": {"name": name, "uid": "uid-x"}, "spec": world["deployment"]["spec"]}
    world["pods"] = [k.pod("api-zzz", owner=owner, owner_kind=kind)]
    with pytest.raises(errors.UnsupportedOwner) as caught:
        resolve(world)
    message = str(caught.value)
    assert f"{kind} {name!r}" in message
    assert "Deployment" in message and "StatefulSet" in message and "bare Pod" in message


def test_replica_set_owned_by_an_operator_is_unsupported():
    world = k.api_world()
    world["replica_set"]["metadata"]["ownerReferences"][0]["kind"] = "Rollout"
    with pytest.raises(errors.UnsupportedOwner, match="Rollout"):
        resolve(world)


def test_owner_recreated_under_the_same_name_counts_as_missing():
    world = k.api_world()
    world["replica_set"]["metadata"]["uid"] = "uid-of-a-newer-object"
    with pytest.raises(errors.OwnerNotFound, match="Wait for the rollout"):
        resolve(world)


# --- pods -------------------------------------------------------------------------------------------


def test_no_matching_pod_says_scale_up_or_check_selector():
    world = k.api_world()
    world["service"]["spec"]["selector"] = {"app": "api", "tier": "backend"}
    with pytest.raises(errors.NoPods) as caught:
        resolve(world)
    assert "app=api,tier=backend" in str(caught.value)
    assert "Scale" in str(caught.value) and "selector" in str(caught.value)


def test_terminating_and_finished_pods_are_ignored():
    world = k.api_world()
    world["pods"][0]["metadata"]["deletionTimestamp"] = "2026-11-27T10:00:00Z"
    world["pods"][1]["status"]["phase"] = "Succeeded"
    assert resolve(world).pods == (world["pods"][2]["metadata"]["name"],)
    world["pods"] = world["pods"][:2]
    with pytest.raises(errors.NoPods):
        resolve(world)


def test_no_ready_pod_reports_the_kubelet_reason():
    world = k.api_world()
    world["pods"] = [k.pod("api-crash", owner=world["replica_set"], ready=False)]
    with pytest.raises(errors.PodNotReady) as caught:
        resolve(world)
    assert "api-crash" in str(caught.value) and "CrashLoopBackOff" in str(caught.value)


def test_pending_pod_is_not_ready():
    world = k.api_world()
    world["pods"] = [k.pod("api-pending", owner=world["replica_set"], phase="Pending")]
    with pytest.raises(errors.PodNotReady):
        resolve(world)


def test_only_ready_pods_are_listed():
    world = k.api_world()
    world["pods"].append(k.pod("api-7d9f8c6b5d-notyet", owner=world["replica_set"], ready=False))
    assert "api-7d9f8c6b5d-notyet" not in resolve(world).pods


def test_ready_pods_of_two_workloads_are_refused():
    world = k.api_world()
    canary = k.deployment("api-canary", labels={"app": "api", "track": "canary"})
    canary_rs = k.replica_set(canary)
    world["pods"].append(k.pod("api-canary-1", owner=canary_rs))
    with pytest.raises(errors.SeveralWorkloads) as caught:
        resolve(
            world, replica_sets=[world["replica_set"], canary_rs], deployments=[world["deployment"], canary]
        )
    assert "Deployment api" in str(caught.value) and "Deployment api-canary" in str(caught.value)


# --- service ----------------------------------------------------------------------------------------


def test_missing_service():
    with pytest.raises(errors.ServiceNotFound, match="'shop'"):
        resolve(k.api_world(), service=None)


def test_service_without_selector():
    world = k.api_world()
    del world["service"]["spec"]["selector"]
    with pytest.raises(errors.ServiceWithoutSelector, match="no selector"):
        resolve(world)


def test_external_name_service():
    world = k.api_world()
    world["service"]["spec"] = {"type": "ExternalName", "externalName": "api.example.com"}
    with pytest.raises(errors.ServiceWithoutSelector, match=r"ExternalName \(api.example.com\)"):
        resolve(world)


# --- containers -------------------------------------------------------------------------------------


def world_with(*containers, service_ports=None):
    deploy = k.deployment(spec=k.pod_spec(*containers))
    rs = k.replica_set(deploy)
    svc = k.service(ports=service_ports) if service_ports is not None else k.service()
    return {"deployment": deploy, "replica_set": rs, "pods": [k.pod("api-1", owner=rs)], "service": svc}


ISTIO = k.container("istio-proxy", "docker.io/istio/proxyv2:1.22.0", ports=[("http-envoy-prom", 15090)])


def test_explicit_container_wins():
    world = world_with(k.api_container(), ISTIO, service_ports=[{"port": 80, "targetPort": 8080}])
    assert resolve(world, container="istio-proxy").container == "istio-proxy"


def test_explicit_container_that_does_not_declare_the_named_port_is_refused():
    # The named port lives in another container, which keeps running and keeps the port bound.
    world = world_with(k.api_container(), ISTIO)
    with pytest.raises(errors.UnresolvedTargetPort, match="'istio-proxy' does not declare"):
        resolve(world, container="istio-proxy")


def test_explicit_container_missing_lists_the_containers():
    world = world_with(k.api_container(), ISTIO)
    with pytest.raises(errors.ContainerNotFound) as caught:
        resolve(world, container="app")
    assert "api, istio-proxy" in str(caught.value) and "--container" in str(caught.value)


def test_container_covering_the_named_target_port():
    worker = k.container("worker", ports=[("admin", 7000)])
    world = world_with(worker, k.api_container())
    target = resolve(world)
    assert target.container == "api"
    assert target.ports == (targets.PortMapping("http", 80, 8080, "TCP", target_port_name="http"),)


def test_container_covering_the_numeric_target_port_among_many():
    web = k.container("web", ports=[("", 3000)])
    world = world_with(
        k.container("cache", "redis:7", ports=[("", 6379)]), web,
        service_ports=[{"name": "web", "port": 80, "protocol": "TCP", "targetPort": 3000}],
    )  # fmt: skip
    assert resolve(world).container == "web"


def test_target_port_as_string_digits_and_absent_target_port():
    world = world_with(
        k.container("web", ports=[("", 3000), ("", 8443)]), ISTIO,
        service_ports=[{"port": 3000, "protocol": "TCP"}, {"name": "tls", "port": 443, "targetPort": "8443"}],
    )  # fmt: skip
    target = resolve(world)
    assert target.container == "web"
    assert [(m.service_port, m.container_port) for m in target.ports] == [(3000, 3000), (443, 8443)]


def test_udp_service_ports_are_not_redirected():
    world = world_with(
        k.container("dns", ports=[("", 5353)]),
        service_ports=[{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 5353},
                       {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 5353}],
    )  # fmt: skip
    assert [m.service_port_name for m in resolve(world).ports] == ["dns-tcp"]


@pytest.mark.parametrize("sidecar", sorted(names.KNOWN_SIDECARS))
def test_the_only_non_sidecar_when_ports_do_not_decide(sidecar):
    # The app declares no ports (declared ports are informational), so ports cannot decide.
    app = k.container("app")
    world = world_with(k.container(sidecar, "sidecar:1"), app,
                       service_ports=[{"name": "http", "port": 80, "targetPort": 8080}])  # fmt: skip
    assert resolve(world).container == "app"


def test_several_candidates_are_listed_with_the_container_option():
    world = world_with(k.container("frontend"), k.container("backend"), ISTIO,
                       service_ports=[{"name": "http", "port": 80, "targetPort": 8080}])  # fmt: skip
    with pytest.raises(errors.SeveralContainers) as caught:
        resolve(world)
    message = str(caught.value)
    assert "frontend, backend" in message and "istio-proxy" not in message and "--container NAME" in message


def test_two_containers_covering_the_port_prefer_the_non_sidecar():
    app = k.container("app", ports=[("", 8080)])
    proxy = k.container("nginx-proxy", "nginx:1.27", ports=[("", 8080)])
    world = world_with(proxy, app, service_ports=[{"port": 80, "targetPort": 8080}])
    assert resolve(world).container == "app"


def test_init_containers_are_never_candidates():
    spec = k.pod_spec(k.api_container())
    spec["initContainers"] = [k.container("log-shipper", "fluent-bit:3", restartPolicy="Always")]
    deploy = k.deployment(spec=spec)
    rs = k.replica_set(deploy)
    world = {
        "deployment": deploy,
        "replica_set": rs,
        "pods": [k.pod("api-1", owner=rs)],
        "service": k.service(),
    }
    assert resolve(world).container == "api"


def test_named_target_port_missing_from_the_chosen_container():
    world = world_with(k.container("app", ports=[("web", 8080)]), ISTIO,
                       service_ports=[{"name": "grpc", "port": 50051, "targetPort": "grpc"}])  # fmt: skip
    with pytest.raises(errors.UnresolvedTargetPort, match="'grpc'"):
        resolve(world)


# --- already redirected -----------------------------------------------------------------------------


def mark(obj, session="a1b2c3d4"):
    obj["metadata"].setdefault("labels", {})[names.SESSION_LABEL] = session
    obj["metadata"].setdefault("annotations", {}).update(
        names.session_annotations(owner="ana@ana-laptop", started="2026-11-27T09:30:00Z")
    )


def test_workload_marked_by_another_session_says_who_and_when():
    world = k.api_world()
    mark(world["deployment"])
    with pytest.raises(errors.AlreadyRedirected) as caught:
        resolve(world)
    error = caught.value
    assert (error.session, error.owner, error.started) == (
        "a1b2c3d4",
        "ana@ana-laptop",
        "2026-11-27T09:30:00Z",
    )
    assert "ana@ana-laptop" in str(error) and "2026-11-27T09:30:00Z" in str(error)
    assert "kubelocal disconnect --session a1b2c3d4" in str(error)


def test_agent_pod_marked_even_when_not_ready_is_reported_as_redirected():
    world = k.api_world()
    agent_pod = k.pod("api-agent", owner=world["replica_set"], ready=False)
    mark(agent_pod, session="ffff0000")
    world["pods"] = [agent_pod]
    with pytest.raises(errors.AlreadyRedirected, match="ffff0000"):
        resolve(world)


def test_a_disconnected_sessions_terminating_agent_pod_does_not_count():
    world = k.api_world()
    agent_replica_set = k.replica_set(world["deployment"], name="api-agent0rs")
    mark(agent_replica_set, session="ffff0000")
    agent_pod = k.pod("api-agent0rs-q7w2e", owner=agent_replica_set)
    mark(agent_pod, session="ffff0000")
    agent_pod["metadata"]["deletionTimestamp"] = "2026-11-27T10:00:00Z"
    world["pods"].append(agent_pod)
    both = [world["replica_set"], agent_replica_set]
    assert agent_pod["metadata"]["name"] not in resolve(world, replica_sets=both).pods
    del agent_pod["metadata"]["deletionTimestamp"]
    with pytest.raises(errors.AlreadyRedirected, match="ffff0000"):
        resolve(world, replica_sets=both)


def test_original_product_labels_are_another_tool():
    world = k.api_world()
    for p in world["pods"]:
        p["metadata"]["labels"]["routing.visualstudio.io/route-from"] = "api"
    with pytest.raises(errors.AlreadyRedirected, match="Bridge to Kubernetes") as caught:
        resolve(world)
    assert caught.value.session is None


def test_original_product_agent_image_is_another_tool():
    world = k.api_world()
    template = world["deployment"]["spec"]["template"]["spec"]["containers"][0]
    template["image"] = "bridgetokubernetes.azurecr.io/lpkremoteagent:1.3.0"
    with pytest.raises(errors.AlreadyRedirected, match="another tool"):
        resolve(world)


def test_unrelated_labels_do_not_count_as_redirected():
    world = k.api_world()
    world["deployment"]["metadata"]["labels"]["kubelocal.dev/other"] = "x"
    world["deployment"]["metadata"]["labels"]["visualstudio.io/route"] = "x"
    assert resolve(world).kind == "Deployment"


def test_resolution_does_not_mutate_its_inputs():
    world = k.api_world()
    before = copy.deepcopy(world)
    resolve(world)
    assert world == before


def test_service_without_ports_still_resolves_by_sidecar_rule():
    world = world_with(k.api_container(), ISTIO, service_ports=[])
    target = resolve(world)
    assert (target.container, target.ports) == ("api", ())


# --- property: any pod shape gives a container of the pod or a TargetError -------------------------------

port_numbers = st.integers(1, 20)
container_shapes = st.lists(
    st.tuples(
        st.sampled_from(["app", "web", "worker", *sorted(names.KNOWN_SIDECARS)]),
        st.lists(st.tuples(st.sampled_from(["", "http", "grpc"]), port_numbers), max_size=3),
    ),
    min_size=1,
    max_size=4,
    unique_by=lambda shape: shape[0],
)
service_port_shapes = st.lists(
    st.fixed_dictionaries(
        {"port": port_numbers},
        optional={"targetPort": st.one_of(port_numbers, st.sampled_from(["http", "grpc", "7"])),
                  "protocol": st.sampled_from(["TCP", "UDP"])},
    ),
    max_size=3,
)  # fmt: skip


@given(container_shapes, service_port_shapes, st.one_of(st.none(), st.sampled_from(["app", "web", "nope"])))
def test_property_resolution_picks_a_container_of_the_pod_or_explains(shapes, service_ports, explicit):
    containers = []
    for name, ports in shapes:
        named = {}
        for port_name, number in ports:  # port names are unique within a container
            named.setdefault(port_name or f"unnamed-{number}", (port_name, number))
        containers.append(k.container(name, ports=list(named.values())))
    world = world_with(*containers, service_ports=service_ports)
    try:
        target = resolve(world, container=explicit)
    except errors.TargetError as error:
        assert str(error).endswith(".") and len(str(error)) > 40
        event(type(error).__name__)
        return
    event("resolved")
    assert target.container in [name for name, _ in shapes]
    if explicit is not None:
        assert target.container == explicit
    assert len(target.ports) == len([p for p in service_ports if p.get("protocol", "TCP") == "TCP"])
