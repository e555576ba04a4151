"""A whole connect planned, executed against an in-memory cluster, and undone.

The executor here is a test double of the I/O shell: it applies each ledger action to a dict of
objects the way the API server would (create refuses an existing name, JSON patches are atomic and
honour `test` operations, deletes of missing objects are fine for undos).

Aspects covered:
- order: RBAC, Secret, ConfigMap and the workload change before the agent; the restore Job after;
  a shared agent ConfigMap is not created
- connect then disconnect leaves the cluster exactly as it was (every object, every field), for a
  Deployment, a StatefulSet, a bare ReplicaSet (pods replaced after the inverse) and a bare Pod
- crash at any step, before or after the change was made, and the ledger read back from JSON:
  replaying the undos restores exactly
- the restore Job's path (saved spec/labels/annotations put back, then every object with the
  session's labels deleted) also restores exactly
- the workstation side: the hosts block pair inserts and removes through `hosts`
"""

import copy
import json

import jsonpatch
import pytest

from kubelocal.engine import hosts, ledgers, manifests, names, patches, plans, targets

from . import objects as k

SESSION = "p1ans000"
SETTINGS = patches.AgentSettings(session_id=SESSION, owner="ana@laptop", started="2026-11-27T10:00:00Z")


class FakeCluster:
    """Objects by (kind, namespace, name); records pod replacements."""

    def __init__(self, objects):
        self.objects = {self.key(obj): copy.deepcopy(obj) for obj in objects}
        self.pod_replacements = []

    @staticmethod
    def key(obj):
        return (obj["kind"], obj["metadata"]["namespace"], obj["metadata"]["name"])

    def snapshot(self):
        return copy.deepcopy(self.objects)

    def run(self, action, *, undoing_planned=False):
        target = action.target
        key = (target.get("kind"), target.get("namespace"), target.get("name"))
        if action.verb == "create":
            if key in self.objects:
                raise RuntimeError(f"409 {key} exists")
            self.objects[key] = copy.deepcopy(action.body)
        elif action.verb == "delete":
            self.objects.pop(key, None)
        elif action.verb == "json-patch":
            try:
                self.objects[key] = jsonpatch.apply_patch(self.objects[key], action.body)
            except jsonpatch.JsonPatchTestFailed:
                if not undoing_planned:
                    raise  # a planned patch that never happened fails its guard: nothing to undo
        elif action.verb == "recreate-pod":
            self.objects[key] = copy.deepcopy(action.body)
        elif action.verb == "delete-pods":
            self.pod_replacements.append(key)
        elif action.verb != "nothing":
            raise AssertionError(f"not a cluster verb: {action.verb}")


def pods_of(world):
    return [dict(p, kind="Pod", apiVersion="v1") for p in world["pods"]]


def deployment_world():
    world = k.api_world()
    cluster = FakeCluster(
        [world["deployment"], dict(world["replica_set"], kind="ReplicaSet"), *pods_of(world)]
    )
    target = targets.resolve(
        service_name="api", namespace=k.NAMESPACE, service=world["service"], pods=world["pods"],
        replica_sets=[world["replica_set"]], deployments=[world["deployment"]],
    )  # fmt: skip
    return cluster, target


def stateful_set_world():
    sts = k.stateful_set()
    pods = [k.pod(f"db-{i}", owner=sts) for i in range(2)]
    svc = k.service("db", ports=[{"name": "pg", "port": 5432, "targetPort": 5432}])
    target = targets.resolve(
        service_name="db", namespace=k.NAMESPACE, service=svc, pods=pods, stateful_sets=[sts]
    )
    return FakeCluster([sts]), target


def replica_set_world():
    rs = dict(k.replica_set(k.deployment(), name="api-legacy", owner_kind=None), kind="ReplicaSet")
    pods = [k.pod("api-legacy-1", owner=rs)]
    target = targets.resolve(
        service_name="api", namespace=k.NAMESPACE, service=k.service(), pods=pods, replica_sets=[rs]
    )
    return FakeCluster([rs]), target


def bare_pod_world():
    pod = dict(k.pod("api-debug"), kind="Pod", apiVersion="v1")
    target = targets.resolve(service_name="api", namespace=k.NAMESPACE, service=k.service(), pods=[pod])
    # What the API returns for a pod carries server-set fields; what kubelocal recreates does not.
    cluster = FakeCluster([patches.sanitized_pod(pod)])
    return cluster, target


WORLDS = [deployment_world, stateful_set_world, replica_set_world, bare_pod_world]


def connect(cluster, target, *, stop_after=None, crash_before_doing=False, **settings_overrides):
    """Walk the plan like the shell; optionally crash at step `stop_after`. Returns the ledger."""
    settings = SETTINGS if not settings_overrides else patches.AgentSettings(
        session_id=SESSION, owner="o", started="t", **settings_overrides
    )  # fmt: skip
    plan = plans.connect_plan(target=target, settings=settings, zipapp=b"PK\x05\x06", agent_token="t0k3n")
    ledger = plan.new_ledger()
    for step, (action, undo) in enumerate(plan.pairs):
        ledger, sequence = ledger.record(action, undo)
        if stop_after == step and crash_before_doing:
            return ledger
        cluster.run(action)
        if stop_after == step:
            return ledger  # crashed after doing, before marking done
        ledger = ledger.mark(sequence, ledgers.DONE)
    return ledger


def disconnect(cluster, ledger):
    ledger = ledgers.from_json(ledger.to_json())  # as read back from disk or the Secret
    for entry in ledger.undos(place=ledgers.CLUSTER):
        cluster.run(entry.undo, undoing_planned=entry.state == ledgers.PLANNED)
        ledger = ledger.mark(entry.sequence, ledgers.UNDONE)
    return ledger


def test_order_puts_everything_the_agent_needs_first_and_the_job_last():
    _, target = deployment_world()
    plan = plans.connect_plan(target=target, settings=SETTINGS, zipapp=b"z", agent_token="t")
    before = [(a.verb, a.target.get("kind")) for a, _ in plan.before_agent]
    assert before == [
        ("create", "ServiceAccount"), ("create", "Role"), ("create", "RoleBinding"), ("create", "Secret"),
        ("create", "ConfigMap"), ("json-patch", "Deployment"),
    ]  # fmt: skip
    assert [(a.verb, a.target["kind"]) for a, _ in plan.after_agent] == [("create", "Job")]


def test_a_shared_config_map_is_not_created():
    _, target = deployment_world()
    settings = patches.AgentSettings(
        session_id=SESSION, owner="o", started="t", config_map_name="kubelocal-agent-ab"
    )
    plan = plans.connect_plan(target=target, settings=settings, zipapp=b"z", agent_token="t")
    assert "ConfigMap" not in [a.target.get("kind") for a, _ in plan.pairs]
    job = plan.after_agent[0][0].body
    assert job["spec"]["template"]["spec"]["volumes"][0]["configMap"]["name"] == "kubelocal-agent-ab"


@pytest.mark.parametrize("world", WORLDS)
def test_connect_then_disconnect_restores_the_cluster_exactly(world):
    cluster, target = world()
    before = cluster.snapshot()
    ledger = connect(cluster, target)
    workload_key = (target.kind, target.namespace, target.name)
    assert cluster.objects[workload_key] != before[workload_key]
    created = {key for key in cluster.objects if key not in before}
    assert {kind for kind, _, _ in created} == {
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "Secret",
        "ConfigMap",
        "Job",
    }
    ledger = disconnect(cluster, ledger)
    assert cluster.objects == before
    assert ledger.settled


def test_bare_replica_set_pods_are_replaced_after_the_patch_and_after_the_inverse():
    cluster, target = replica_set_world()
    ledger = connect(cluster, target)
    assert len(cluster.pod_replacements) == 1
    disconnect(cluster, ledger)
    assert len(cluster.pod_replacements) == 2


@pytest.mark.parametrize("world", WORLDS)
def test_crash_at_any_step_is_undone_exactly(world):
    steps = len(plans.connect_plan(target=world()[1], settings=SETTINGS, zipapp=b"", agent_token="t").pairs)
    for step in range(steps):
        for crash_before_doing in (True, False):
            cluster, target = world()
            before = cluster.snapshot()
            ledger = connect(cluster, target, stop_after=step, crash_before_doing=crash_before_doing)
            assert ledger.entries[-1].state == ledgers.PLANNED
            disconnect(cluster, ledger)
            assert cluster.objects == before, (step, crash_before_doing)


@pytest.mark.parametrize("world", [deployment_world, stateful_set_world, bare_pod_world])
def test_the_restore_jobs_path_restores_exactly_too(world):
    """What kubelocal_agent.restores does: PUT the saved spec, labels and annotations (or recreate
    the saved pod), then delete every object carrying the session's labels."""
    cluster, target = world()
    before = cluster.snapshot()
    connect(cluster, target)
    secret = cluster.objects[("Secret", k.NAMESPACE, names.restore_secret_name(SESSION))]
    saved = json.loads(ledgers.base64.b64decode(secret["data"][names.ORIGINAL_SECRET_KEY]))
    key = (saved["kind"], saved["metadata"]["namespace"], saved["metadata"]["name"])
    if saved["kind"] == "Pod":
        cluster.objects[key] = saved
    else:
        current = cluster.objects[key]
        current["spec"] = saved["spec"]
        for field in ("labels", "annotations"):
            if saved["metadata"].get(field):
                current["metadata"][field] = saved["metadata"][field]
            else:
                current["metadata"].pop(field, None)
    selector = dict(term.split("=") for term in names.selector_for_session(SESSION).split(","))
    for object_key, obj in list(cluster.objects.items()):
        labels = obj["metadata"].get("labels", {})
        if all(labels.get(label) == value for label, value in selector.items()):
            del cluster.objects[object_key]
    assert cluster.objects == before


def test_restore_job_of_the_plan_is_the_manifest():
    _, target = deployment_world()
    plan = plans.connect_plan(
        target=target, settings=SETTINGS, zipapp=b"z", agent_token="t", grace_seconds=30
    )
    job = plan.after_agent[0][0].body
    assert job == manifests.restore_job(session_id=SESSION, namespace=k.NAMESPACE, grace_seconds=30)
    assert plans.secret_target(SESSION, k.NAMESPACE)["name"] == names.restore_secret_name(SESSION)


def test_hosts_pair_round_trip_through_the_hosts_text():
    entries = [("127.1.1.1", ("api", "api.shop", "api.shop.svc", "api.shop.svc.cluster.local"))]
    do, undo = ledgers.hosts_pair(path="/etc/hosts", session_id=SESSION, entries=entries)
    stored = ledgers.from_json(ledgers.Ledger(SESSION, k.NAMESPACE).record(do, undo)[0].to_json()).entries[0]
    original = "127.0.0.1 localhost\n"
    written = hosts.insert(
        original, session_id=stored.action.target["session"],
        entries=[(ip, tuple(hostnames)) for ip, hostnames in stored.action.body],
    )  # fmt: skip
    assert "127.1.1.1\tapi api.shop" in written
    assert hosts.remove(written, session_id=stored.undo.target["session"]) == original
