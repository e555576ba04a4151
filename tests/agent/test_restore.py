"""Restore mode: deciding when to restore, planning the API calls, and doing them against a fake
Kubernetes API on loopback.

Aspects: the watch restores after `grace` seconds without a session (agent clock) or without a running
agent (poller clock), never while connected; an agent that answered and then went silent counts as
gone, one that never answered gets a longer blind grace; an answer resets the silence timer; the
Secret's content is checked with messages saying what is wrong; the PUT body is the current object
with the saved spec, labels and annotations and the current resourceVersion; conflicts are
retried; a deleted workload is an error; a bare pod is deleted and recreated; clean-up deletes by
label with its own Job last (never its RBAC objects, which go with the Job), goes on past a
refusal and refuses an empty selector; `run` waits, restores and cleans up, or only cleans up
when the Secret is gone, and leaves the Secret when the restore fails; an API that cannot list
the agent pods never counts as "no session"; the Job's log says, at each change only, whether
the agent answered its /status and whether a session was connected; the in-cluster
client reads the service account.
"""

from __future__ import annotations

import argparse
import base64
import json

import pytest

from kubelocal_agent import errors, kubeapi, restore, restores

from . import fake_kube

NS = "shop"
DEPLOYMENT = f"/apis/apps/v1/namespaces/{NS}/deployments/cart"
SECRET = f"/api/v1/namespaces/{NS}/secrets/kubelocal-restore"
ORIGINAL = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "cart", "namespace": NS, "labels": {"app": "cart"}, "annotations": {"team": "a"}},
    "spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "cart", "image": "cart:1"}]}}},
}
PATCHED = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {
        "name": "cart",
        "namespace": NS,
        "labels": {"app": "cart", "kubelocal.dev/session": "s1"},
        "annotations": {"kubelocal.dev/by": "me"},
    },
    "spec": {
        "replicas": 1,
        "template": {"spec": {"containers": [{"name": "cart", "image": "python:3.12-slim"}]}},
    },
    "status": {"replicas": 1},
}


def _secret(body: object) -> dict:
    return {"data": {restores.SECRET_KEY: base64.b64encode(json.dumps(body).encode()).decode()}}


def _args(status_url: str | None, **overrides: object) -> argparse.Namespace:
    values = {
        "status_url": status_url,
        "agent_selector": "",
        "status_port": 0,
        "secret": "kubelocal-restore",
        "selector": "kubelocal.dev/session=s1",
        "namespace": NS,
        "grace": 10.0,
        "poll": 5.0,
        "blind_grace": None,
    }
    values.update(overrides)
    return argparse.Namespace(**values)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def api():
    fake = fake_kube.FakeApi()
    with fake.running():
        yield fake


def test_the_watch_never_restores_while_connected():
    watch = restores.Watch(grace=10)
    assert not any(watch.observe(t, {"connected": True, "idle_seconds": 0}) for t in range(0, 100, 5))


def test_the_watch_restores_after_grace_seconds_idle_by_the_agents_clock():
    watch = restores.Watch(grace=10)
    assert not watch.observe(0, {"connected": False, "idle_seconds": 9.9})
    assert watch.observe(1, {"connected": False, "idle_seconds": 10})


def test_the_watch_restores_when_no_agent_runs_for_grace_seconds():
    watch = restores.Watch(grace=10)
    assert not watch.observe(0, None, agent_present=False)
    assert not watch.observe(9, None, agent_present=False)
    assert watch.observe(10, None, agent_present=False)


def test_an_agent_that_answered_then_went_silent_counts_like_a_missing_one_and_an_answer_resets():
    watch = restores.Watch(grace=10)
    assert not watch.observe(0, {"connected": True})
    assert not watch.observe(5, None)
    assert not watch.observe(14, {"connected": True})
    assert not watch.observe(15, None)
    assert watch.observe(25, None)


def test_an_agent_that_never_answered_gets_the_longer_blind_grace():
    watch = restores.Watch(grace=10)
    assert watch.blind_grace == 100
    assert not watch.observe(0, None)
    assert not watch.observe(99, None), "maybe a NetworkPolicy blocks the status port"
    assert watch.observe(100, None)


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ({"data": {}}, "no data.original"),
        ({"data": {restores.SECRET_KEY: "%%%"}}, "not base64 JSON"),
        (_secret([1]), "must be a JSON object"),
        (_secret({"kind": "CronJob", "metadata": {"name": "x"}, "spec": {}}), "cannot restore a 'CronJob'"),
        (_secret({"kind": "Deployment", "metadata": {}, "spec": {}}), "needs metadata.name"),
    ],
)
def test_a_bad_secret_says_what_is_wrong(secret, message):
    with pytest.raises(errors.RestoreError, match=message):
        restores.saved_from_secret(secret, namespace=NS)


def test_the_put_body_is_the_current_object_with_the_saved_spec_and_metadata():
    saved = restores.saved_from_secret(_secret(ORIGINAL), namespace="ignored")
    current = json.loads(json.dumps(PATCHED))
    current["metadata"]["resourceVersion"] = "42"
    restored = restores.restored_object(saved, current)
    assert restored["spec"] == ORIGINAL["spec"]
    assert restored["metadata"]["labels"] == {"app": "cart"}
    assert restored["metadata"]["annotations"] == {"team": "a"}
    assert restored["metadata"]["resourceVersion"] == "42"
    assert "status" not in restored
    assert saved.path == DEPLOYMENT and current == {**PATCHED, "metadata": {**current["metadata"]}}


def test_a_deployment_is_restored_with_a_put_and_conflicts_are_retried(api):
    api.put_object(DEPLOYMENT, json.loads(json.dumps(PATCHED)))
    api.put_conflicts = 2
    saved = restores.saved_from_secret(_secret(ORIGINAL), namespace=NS)
    restore.restore_workload(kubeapi.Client(base_url=api.base_url), saved, sleep=lambda _s: None)
    assert api.objects[DEPLOYMENT]["spec"] == ORIGINAL["spec"]
    assert api.objects[DEPLOYMENT]["metadata"]["labels"] == ORIGINAL["metadata"]["labels"]
    assert len(api.calls("PUT")) == 3


def test_a_deleted_workload_cannot_be_restored(api):
    saved = restores.saved_from_secret(_secret(ORIGINAL), namespace=NS)
    with pytest.raises(errors.RestoreError, match="no longer exists"):
        restore.restore_workload(kubeapi.Client(base_url=api.base_url), saved, sleep=lambda _s: None)


def test_a_bare_pod_is_deleted_and_recreated(api):
    pod_path = f"/api/v1/namespaces/{NS}/pods/worker"
    original = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "worker", "uid": "u1"},
        "spec": {"x": 1},
    }
    api.put_object(pod_path, {"kind": "Pod", "metadata": {"name": "worker"}, "spec": {"agent": True}})
    api.post_conflicts = 1
    saved = restores.saved_from_secret(_secret(original), namespace=NS)
    restore.restore_workload(kubeapi.Client(base_url=api.base_url), saved, sleep=lambda _s: None)
    assert api.calls("DELETE")[0][:2] == (pod_path, {"gracePeriodSeconds": "0"})
    assert api.objects[pod_path]["spec"] == {"x": 1}
    assert "uid" not in api.objects[pod_path]["metadata"]


def test_clean_up_deletes_by_label_its_own_job_last_and_goes_on_past_a_refusal(api):
    api.forbidden.add(f"/api/v1/namespaces/{NS}/configmaps")
    client = kubeapi.Client(base_url=api.base_url)
    done = restore.clean_up(client, namespace=NS, selector="kubelocal.dev/session=s1")
    deletes = api.calls("DELETE")
    # Never its own RBAC objects: that would revoke its permissions; they go with the Job.
    assert [path.rsplit("/", 1)[1] for path, _q, _b in deletes] == ["secrets", "configmaps", "jobs"]
    assert all(query["labelSelector"] == "kubelocal.dev/session=s1" for _p, query, _b in deletes)
    assert all(query["propagationPolicy"] == "Background" for _p, query, _b in deletes)
    assert f"/api/v1/namespaces/{NS}/configmaps" not in done and len(done) == 2
    with pytest.raises(errors.RestoreError, match="empty label selector"):
        restore.clean_up(client, namespace=NS, selector=" ")


def test_run_waits_for_the_session_to_be_gone_then_restores_and_cleans_up(api, caplog):
    caplog.set_level("INFO", logger="kubelocal_agent.restore")
    api.put_object(DEPLOYMENT, json.loads(json.dumps(PATCHED)))
    api.put_object(SECRET, _secret(ORIGINAL))
    clock = FakeClock()
    statuses = [{"connected": True}, {"connected": True}, {"connected": False, "idle_seconds": 3}]
    statuses.append({"connected": False, "idle_seconds": 12})
    with fake_kube.status_server(statuses) as url:
        code = restore.run(
            _args(url), client=kubeapi.Client(base_url=api.base_url), clock=clock, sleep=clock.sleep
        )
    assert code == 0
    assert clock.now == 15.0, "three polls waited before the fourth said idle long enough"
    assert api.objects[DEPLOYMENT]["spec"] == ORIGINAL["spec"]
    assert len(api.calls("DELETE")) == len(restores.CLEANUP_COLLECTIONS)
    seen = [record.getMessage() for record in caplog.records if "agent at" in record.getMessage()]
    assert seen == [
        f"the agent at {url} answers: a session is connected",
        f"the agent at {url} answers: no session connected",
    ]


@pytest.mark.parametrize(
    ("url", "status", "expected"),
    [
        (None, None, "no running agent pod"),
        ("http://10.0.0.5:47101/status", None, "the agent at http://10.0.0.5:47101/status does not answer"),
        (
            "http://a/status",
            {"connected": True},
            "the agent at http://a/status answers: a session is connected",
        ),
        (
            "http://a/status",
            {"connected": False, "idle_seconds": 4},
            "the agent at http://a/status answers: no session connected",
        ),
    ],
)
def test_each_poll_is_described_without_its_idle_seconds(url, status, expected):
    assert restores.describe_poll(url, status) == expected


def test_run_only_cleans_up_when_the_secret_is_gone(api):
    clock = FakeClock()
    code = restore.run(
        _args("http://127.0.0.1:9/status"),  # Nothing listens there: unreachable counts as no session.
        client=kubeapi.Client(base_url=api.base_url),
        clock=clock,
        sleep=clock.sleep,
    )
    assert code == 0 and clock.now >= 10
    assert api.calls("PUT") == []
    assert len(api.calls("DELETE")) == len(restores.CLEANUP_COLLECTIONS)


def test_run_keeps_the_secret_when_the_restore_fails(api):
    api.put_object(SECRET, _secret(ORIGINAL))  # The Deployment itself is gone.
    clock = FakeClock()
    with fake_kube.status_server([{"connected": False, "idle_seconds": 60}]) as url:
        code = restore.run(
            _args(url), client=kubeapi.Client(base_url=api.base_url), clock=clock, sleep=clock.sleep
        )
    assert code == 1
    assert api.calls("DELETE") == [] and SECRET in api.objects


def test_the_agent_is_found_through_the_api_by_its_label(api):
    pods = f"/api/v1/namespaces/{NS}/pods"
    api.put_object(
        f"{pods}/old",
        {
            "metadata": {"labels": {"a": "1"}, "deletionTimestamp": "now"},
            "status": {"phase": "Running", "podIP": "10.0.0.1"},
        },
    )
    api.put_object(
        f"{pods}/new",
        {"metadata": {"labels": {"a": "1"}}, "status": {"phase": "Running", "podIP": "10.0.0.2"}},
    )
    api.put_object(
        f"{pods}/other",
        {"metadata": {"labels": {"a": "2"}}, "status": {"phase": "Running", "podIP": "10.0.0.3"}},
    )
    client = kubeapi.Client(base_url=api.base_url)
    assert (
        restore.discover_status_url(client, namespace=NS, selector="a=1", port=47101)
        == "http://10.0.0.2:47101/status"
    )
    assert restore.discover_status_url(client, namespace=NS, selector="a=9", port=1) is None


def test_the_in_cluster_client_reads_the_service_account(tmp_path):
    (tmp_path / "token").write_text("sa-token\n")
    client = kubeapi.Client.in_cluster(
        root=tmp_path, environ={"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    )
    assert client.base_url == "https://10.96.0.1:443"
    with pytest.raises(errors.RestoreError, match="not running in a pod"):
        kubeapi.Client.in_cluster(root=tmp_path, environ={})


def test_api_errors_carry_the_status_and_the_servers_message(api):
    client = kubeapi.Client(base_url=api.base_url, token="sa-token")
    with pytest.raises(errors.KubernetesApiError) as raised:
        client.request("GET", "/api/v1/namespaces/x/secrets/missing")
    assert raised.value.status == 404
    assert "not found" in str(raised.value) and "sa-token" not in str(raised.value)


def test_an_api_that_cannot_list_the_agent_pods_never_triggers_a_restore(api):
    api.forbidden.add(f"/api/v1/namespaces/{NS}/pods")
    api.put_object(DEPLOYMENT, json.loads(json.dumps(PATCHED)))
    api.put_object(SECRET, _secret(ORIGINAL))
    clock = FakeClock()

    class Enough(Exception):
        pass

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if clock.now > 10 * 60:
            raise Enough

    args = _args(None, agent_selector="app=cart", status_port=47101)
    with pytest.raises(Enough):
        restore.run(args, client=kubeapi.Client(base_url=api.base_url), clock=clock, sleep=sleep)
    assert api.calls("PUT") == [] and api.calls("DELETE") == []
    assert len(api.calls("GET")) > 100, "it kept polling"
