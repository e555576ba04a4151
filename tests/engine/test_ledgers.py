"""The undo ledger.

Aspects covered:
- recording: entries numbered in order, recorded as `planned`, immutable (record returns a new ledger)
- states: done / failed / undone; unknown state or entry refused
- replay order: undos newest first, only planned and done (failed and undone skipped), filtered by
  place (cluster for the restore Job, workstation for hosts/files; `nothing` in both)
- replaying a real patch pair through the ledger restores the workload exactly
- a bare ReplicaSet's pods are replaced after the inverse patch, not before
- bare Pod recreate pair carries the original
- the Secret's `original` follows the restore Job's contract (saved spec, labels, annotations
  put back on the patched object give the original; a bare pod as it can be created again)
- serialisation: JSON round trip (hypothesis over random entries), Secret data round trip,
  corrupt / foreign / newer-format documents give LedgerError saying what to do, too-big ledgers refused
- secrets: action bodies (pod specs, hosts text) are hidden from repr; file contents never recorded
"""

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubelocal.engine import errors, ledgers, names, patches, targets

from . import objects as k

SETTINGS = patches.AgentSettings(session_id="l3dg3r00", owner="o@h", started="2026-11-27T10:00:00Z")


def deployment_target(workload):
    return targets.Target(
        kind=workload.get("kind", "Deployment"), name=workload["metadata"]["name"], namespace=k.NAMESPACE,
        container="api", service="api", ports=(targets.PortMapping("http", 80, 8080, "TCP", "http"),),
        replicas=3, pods=("p",), pod_template=workload["spec"]["template"], workload=workload,
    )  # fmt: skip


def empty():
    return ledgers.Ledger(session_id="l3dg3r00", namespace=k.NAMESPACE)


def test_record_appends_planned_entries_in_order_without_mutating():
    ledger = empty()
    first, one = ledger.record(*ledgers.file_pair(path="/tmp/a.env", purpose="the env file"))
    second, two = first.record(*ledgers.hosts_pair(path="/etc/hosts", session_id="l3dg3r00", entries=[]))
    assert (one, two) == (1, 2)
    assert ledger.entries == () and len(first.entries) == 1
    assert [e.state for e in second.entries] == ["planned", "planned"]


def test_undos_are_newest_first_and_skip_failed_and_undone():
    ledger = empty()
    for i in range(4):
        ledger, _ = ledger.record(*ledgers.file_pair(path=f"/tmp/{i}", purpose="f"))
    ledger = ledger.mark(1, ledgers.DONE).mark(2, ledgers.FAILED).mark(3, ledgers.UNDONE)
    assert [e.sequence for e in ledger.undos()] == [4, 1]
    assert not ledger.settled
    assert ledger.mark(4, ledgers.UNDONE).mark(1, ledgers.UNDONE).settled


def test_mark_refuses_unknown_entries_and_states():
    ledger, sequence = empty().record(*ledgers.file_pair(path="/tmp/x", purpose="f"))
    with pytest.raises(ValueError):
        ledger.mark(sequence + 1, ledgers.DONE)
    with pytest.raises(ValueError):
        ledger.mark(sequence, "half-done")


def test_undos_by_place():
    ledger = empty()
    ledger, _ = ledger.record(*ledgers.create_pair(config_map()))
    ledger, _ = ledger.record(
        *ledgers.hosts_pair(path="/etc/hosts", session_id="l3dg3r00", entries=[("127.1.1.1", ("a", "a.ns"))])
    )
    assert [e.undo.verb for e in ledger.undos(place=ledgers.CLUSTER)] == ["delete"]
    assert [e.undo.verb for e in ledger.undos(place=ledgers.WORKSTATION)] == ["remove-hosts-block"]


def config_map():
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": names.agent_config_map_name("l3dg3r00"), "namespace": k.NAMESPACE,
                     "labels": names.labels_for("l3dg3r00", names.COMPONENT_AGENT_CODE)},
        "binaryData": {names.AGENT_ZIPAPP_KEY: "UEsDBA=="},
    }  # fmt: skip


def test_create_pair_deletes_the_same_object():
    do, undo = ledgers.create_pair(config_map())
    assert do.verb == "create" and undo.verb == "delete"
    assert do.target == undo.target == {
        "apiVersion": "v1", "kind": "ConfigMap", "namespace": "shop", "name": "kubelocal-l3dg3r00-agent",
    }  # fmt: skip
    assert "delete ConfigMap shop/kubelocal-l3dg3r00-agent" == undo.summary


def replay(workload, ledger):
    """A toy executor: applies the undos of json-patch entries to `workload`."""
    for entry in ledger.undos(place=ledgers.CLUSTER):
        if entry.undo.verb == "json-patch":
            workload = patches.apply(workload, entry.undo.body)
    return workload


def test_replaying_the_workload_pair_restores_exactly_even_after_a_json_round_trip():
    original = k.deployment()
    plan = patches.plan(deployment_target(original), settings=SETTINGS)
    ledger = empty()
    for pair in ledgers.workload_pairs(plan):
        ledger, sequence = ledger.record(*pair)
        ledger = ledger.mark(sequence, ledgers.DONE)
    patched = patches.apply(original, ledger.entries[0].action.body)
    stored = ledgers.from_json(ledger.to_json())
    assert replay(patched, stored) == original


def test_bare_replica_set_pods_are_replaced_after_the_inverse_patch():
    rs = k.replica_set(k.deployment(), owner_kind=None)
    rs["kind"] = "ReplicaSet"
    target = deployment_target(rs)
    plan = patches.plan(target, settings=SETTINGS)
    ledger = empty()
    for pair in ledgers.workload_pairs(plan):
        ledger, _ = ledger.record(*pair)
    assert [e.action.verb for e in ledger.entries] == ["nothing", "json-patch", "delete-pods"]
    assert [e.undo.verb for e in ledger.undos(place=ledgers.CLUSTER)] == [
        "nothing",
        "json-patch",
        "delete-pods",
    ]


def test_bare_pod_pair_keeps_the_original():
    pod = k.pod("api-debug")
    target = targets.Target(
        kind="Pod", name="api-debug", namespace=k.NAMESPACE, container="api", service="api", ports=(),
        replicas=1, pods=("api-debug",), pod_template={"metadata": {}, "spec": pod["spec"]}, workload=pod,
    )  # fmt: skip
    plan = patches.plan(target, settings=SETTINGS)
    ((do, undo),) = ledgers.workload_pairs(plan)
    assert do.verb == undo.verb == "recreate-pod"
    assert undo.body == plan.original and do.body == plan.replacement
    assert do.target["apiVersion"] == "v1"


def test_secret_data_round_trip_and_token():
    ledger, _ = empty().record(*ledgers.create_pair(config_map()))
    data = ledgers.to_secret_data(ledger, agent_token="t0k3n", original={"kind": "Deployment"})
    assert base64.b64decode(data["agent-token"]) == b"t0k3n"
    assert ledgers.from_secret_data(data) == ledger


def test_original_record_follows_the_restore_jobs_contract():
    """The restore Job PUTs the current object with the saved spec, labels and annotations."""
    original = k.deployment()
    target = deployment_target(original)
    data = ledgers.to_secret_data(empty(), agent_token="t", original=ledgers.original_record(target))
    saved = json.loads(base64.b64decode(data["original"]))
    assert saved["apiVersion"] == "apps/v1" and saved["kind"] == "Deployment"
    assert saved["metadata"] == {
        "name": "api", "namespace": "shop", "labels": {"app": "api"},
        "annotations": {"deployment.kubernetes.io/revision": "4"},
    }  # fmt: skip
    patched = patches.apply(original, patches.plan(target, settings=SETTINGS).operations)
    restored = dict(patched, spec=saved["spec"])
    restored["metadata"] = dict(patched["metadata"], labels=saved["metadata"]["labels"],
                                annotations=saved["metadata"]["annotations"])  # fmt: skip
    assert restored == original


def test_original_record_of_a_bare_pod_can_be_created_again():
    pod = k.pod("api-debug")
    target = targets.Target(
        kind="Pod", name="api-debug", namespace=k.NAMESPACE, container="api", service="api", ports=(),
        replicas=1, pods=("api-debug",), pod_template={"metadata": {}, "spec": pod["spec"]}, workload=pod,
    )  # fmt: skip
    record = ledgers.original_record(target)
    assert record["kind"] == "Pod" and record["spec"] == pod["spec"]
    assert "status" not in record and "uid" not in record["metadata"]


def test_too_big_for_a_secret_is_refused():
    huge = config_map()
    huge["binaryData"][names.AGENT_ZIPAPP_KEY] = "A" * ledgers.SECRET_LIMIT
    ledger, _ = empty().record(*ledgers.create_pair(huge))
    with pytest.raises(errors.LedgerError, match="too big for a Secret"):
        ledgers.to_secret_data(ledger, agent_token="t", original={})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("not json {", "not JSON"),
        ('{"format": "something-else"}', "not a kubelocal ledger"),
        ('{"format": "kubelocal-ledger", "version": 1, "session": "s", "namespace": "n", '
         '"entries": [{"sequence": 1}]}', "malformed"),
        ('{"format": "kubelocal-ledger", "version": 1, "session": "s", "namespace": "n", "entries": '
         '[{"sequence": 1, "state": "done", "action": {"verb": "explode", "target": {}, "summary": ""}, '
         '"undo": {"verb": "nothing", "target": {}, "summary": ""}}]}', "malformed"),
    ],
)  # fmt: skip
def test_corrupt_ledgers_say_what_to_do(text, expected):
    with pytest.raises(errors.LedgerError, match=expected) as caught:
        ledgers.from_json(text)
    assert "managed-by=kubelocal" in str(caught.value)


def test_newer_format_says_upgrade():
    document = json.loads(empty().to_json()) | {"version": ledgers.VERSION + 1}
    with pytest.raises(errors.LedgerError, match="Upgrade kubelocal"):
        ledgers.from_json(json.dumps(document))


def test_secret_without_ledger():
    with pytest.raises(errors.LedgerError):
        ledgers.from_secret_data({"agent-token": "eA=="})


def test_bodies_are_hidden_from_repr_and_file_contents_never_recorded():
    secret_value = "hunter2-database-password"
    deploy = k.deployment()
    deploy["spec"]["template"]["spec"]["containers"][0]["env"].append({"name": "PW", "value": secret_value})
    ledger = empty()
    for pair in ledgers.workload_pairs(patches.plan(deployment_target(deploy), settings=SETTINGS)):
        ledger, _ = ledger.record(*pair)
    assert secret_value not in repr(ledger)
    do, undo = ledgers.file_pair(path="/home/ana/.kubelocal/s.env", purpose="the env file")
    assert do.body is None and undo.body is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**31), 2**31) | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)
actions = st.builds(
    ledgers.Action,
    verb=st.sampled_from(sorted(ledgers.VERBS)),
    target=st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3),
    summary=st.text(max_size=20),
    body=json_values,
)


@given(st.lists(st.tuples(actions, actions, st.sampled_from(ledgers.STATES)), max_size=6))
def test_property_json_round_trip(pairs):
    ledger = empty()
    for action, undo, state in pairs:
        ledger, sequence = ledger.record(action, undo)
        ledger = ledger.mark(sequence, state)
    assert ledgers.from_json(ledger.to_json()) == ledger
