"""Decoding, defaulting and validation of objects through the store, as the real API server does.

Covers: wrong JSON types -> 400 with the decoder's wording; unknown fields dropped, or 400 with
fieldValidation=Strict; Secret stringData folded into data; 422 Invalid with every cause (names,
containers, images, ports, duplicate names, selectors vs template labels, restart policies, service
ports, volume mounts); immutable fields (service clusterIP, selectors, job template, pod spec except
image); defaults read back (pods, deployments, services, jobs).
"""

import pytest

from kubelocal.sandbox import errors, kinds, store


@pytest.fixture
def cluster():
    return store.Store(graceful_pod_deletion=False)


def pod(name="p", **spec):
    return {"metadata": {"name": name}, "spec": {"containers": [{"name": "app", "image": "nginx"}], **spec}}


def deployment(name="web", labels=None, selector=None):
    labels = labels or {"app": name}
    return {
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": selector or labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "app", "image": "web:1"}]},
            },
        },
    }


def test_wrong_type_is_a_bad_request_with_the_decoder_wording(cluster):
    with pytest.raises(errors.BadRequest) as bad:
        cluster.create(kinds.PODS, {"metadata": {"name": "p"}, "spec": {"containers": "app"}})
    assert bad.value.message.startswith(
        'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal'
    )


def test_unknown_fields_are_dropped_unless_strict(cluster):
    created = cluster.create(kinds.PODS, pod(bogus=1))
    assert "bogus" not in created["spec"]
    with pytest.raises(errors.BadRequest) as strict:
        cluster.create(kinds.PODS, pod("q", bogus=1), field_validation="Strict")
    assert strict.value.message == 'strict decoding error: unknown field "spec.bogus"'


def test_secret_string_data_becomes_base64_data(cluster):
    created = cluster.create(
        kinds.SECRETS, {"metadata": {"name": "s"}, "stringData": {"password": "hunter2"}}
    )
    assert created["data"] == {"password": "aHVudGVyMg=="}
    assert "stringData" not in created
    assert created["type"] == "Opaque"


def test_invalid_pod_lists_every_cause(cluster):
    bad = {
        "metadata": {"name": "p"},
        "spec": {
            "containers": [
                {"name": "app"},
                {
                    "name": "app",
                    "image": "x",
                    "ports": [{"containerPort": 0}],
                    "volumeMounts": [{"name": "v", "mountPath": "/v"}],
                },
            ],
            "restartPolicy": "Sometimes",
        },
    }
    with pytest.raises(errors.Invalid) as invalid:
        cluster.create(kinds.PODS, bad)
    status = invalid.value.to_status()
    assert status["code"] == 422 and status["reason"] == "Invalid"
    fields = {cause["field"]: cause["reason"] for cause in status["details"]["causes"]}
    assert fields == {
        "spec.containers[0].image": "FieldValueRequired",
        "spec.containers[1].name": "FieldValueDuplicate",
        "spec.containers[1].ports[0].containerPort": "FieldValueInvalid",
        "spec.containers[1].volumeMounts[0].name": "FieldValueNotFound",
        "spec.restartPolicy": "FieldValueNotSupported",
    }
    assert status["message"].startswith('Pod "p" is invalid: [spec.containers[0].image: Required value, ')


@pytest.mark.parametrize(
    ("kind", "obj", "field"),
    [
        (kinds.CONFIG_MAPS, {"metadata": {"name": "Upper"}}, "metadata.name"),
        (kinds.SERVICES, {"metadata": {"name": "1svc"}, "spec": {"ports": [{"port": 80}]}}, "metadata.name"),
        (
            kinds.SERVICES,
            {"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}, {"port": 81}]}},
            "spec.ports[0].name",
        ),
        (
            kinds.SERVICES,
            {"metadata": {"name": "s"}, "spec": {"ports": [{"port": 99999}]}},
            "spec.ports[0].port",
        ),
        (kinds.CONFIG_MAPS, {"metadata": {"name": "c", "labels": {"a": "not ok"}}}, "metadata.labels"),
        (kinds.DEPLOYMENTS, deployment(selector={"app": "other"}), "spec.template.metadata.labels"),
        (
            kinds.DEPLOYMENTS,
            {"metadata": {"name": "d"}, "spec": {"template": deployment()["spec"]["template"]}},
            "spec.selector",
        ),
    ],
)
def test_semantic_checks_name_the_field(cluster, kind, obj, field):
    with pytest.raises(errors.Invalid) as invalid:
        cluster.create(kind, obj)
    assert field in [cause["field"] for cause in invalid.value.details["causes"]]


def test_workload_restart_policies(cluster):
    wrong = deployment()
    wrong["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    with pytest.raises(errors.Invalid) as invalid:
        cluster.create(kinds.DEPLOYMENTS, wrong)
    assert 'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"' in (
        invalid.value.message
    )
    job = {
        "metadata": {"name": "j"},
        "spec": {"template": {"spec": {"containers": [{"name": "a", "image": "x"}]}}},
    }
    with pytest.raises(errors.Invalid) as job_invalid:
        cluster.create(kinds.JOBS, job)
    assert "spec.template.spec.restartPolicy: Required value" in job_invalid.value.message


def test_immutable_fields(cluster):
    created = cluster.create(kinds.DEPLOYMENTS, deployment())
    created["spec"]["selector"] = {"matchLabels": {"app": "web", "x": "y"}}
    created["spec"]["template"]["metadata"]["labels"]["x"] = "y"
    with pytest.raises(errors.Invalid) as invalid:
        cluster.update(kinds.DEPLOYMENTS, created)
    assert (
        "spec.selector: Invalid value" in invalid.value.message
        and "field is immutable" in invalid.value.message
    )

    service = cluster.create(kinds.SERVICES, {"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}})
    service["spec"]["clusterIP"] = "10.96.100.100"
    service["spec"]["clusterIPs"] = ["10.96.100.100"]
    with pytest.raises(errors.Invalid):
        cluster.update(kinds.SERVICES, service)

    running = cluster.create(kinds.PODS, pod())
    running["spec"]["containers"][0]["image"] = "nginx:2"
    assert cluster.update(kinds.PODS, running)["spec"]["containers"][0]["image"] == "nginx:2"
    running = cluster.get(kinds.PODS, "default", "p")
    running["spec"]["containers"][0]["command"] = ["sh"]
    with pytest.raises(errors.Invalid) as pod_invalid:
        cluster.update(kinds.PODS, running)
    assert "pod updates may not change fields other than" in pod_invalid.value.message


def test_defaults_read_back(cluster):
    created = cluster.create(kinds.DEPLOYMENTS, deployment())
    spec = created["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
    }
    assert (spec["revisionHistoryLimit"], spec["progressDeadlineSeconds"]) == (10, 600)
    pod_spec = spec["template"]["spec"]
    assert (pod_spec["restartPolicy"], pod_spec["dnsPolicy"], pod_spec["terminationGracePeriodSeconds"]) == (
        "Always",
        "ClusterFirst",
        30,
    )
    assert pod_spec["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    assert created["status"] == {}
    service = cluster.create(
        kinds.SERVICES, {"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80, "targetPort": "http"}]}}
    )["spec"]
    assert (
        service["type"],
        service["sessionAffinity"],
        service["ipFamilies"],
        service["ipFamilyPolicy"],
    ) == (
        "ClusterIP",
        "None",
        ["IPv4"],
        "SingleStack",
    )
    assert service["ports"] == [{"port": 80, "targetPort": "http", "protocol": "TCP"}]
    latest = cluster.create(
        kinds.PODS, {"metadata": {"name": "l"}, "spec": {"containers": [{"name": "a", "image": "x:latest"}]}}
    )
    assert latest["spec"]["containers"][0]["imagePullPolicy"] == "Always"
    assert latest["spec"]["serviceAccountName"] == "default"


def test_patch_through_the_store_keeps_conflict_semantics(cluster):
    created = cluster.create(kinds.DEPLOYMENTS, deployment())
    patched = cluster.patch(
        kinds.DEPLOYMENTS,
        "default",
        "web",
        {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "web:2"}]}}}},
        patch_type="application/strategic-merge-patch+json",
    )
    assert patched["spec"]["template"]["spec"]["containers"][0]["image"] == "web:2"
    assert patched["metadata"]["generation"] == 2
    with pytest.raises(errors.Conflict):
        cluster.patch(
            kinds.DEPLOYMENTS,
            "default",
            "web",
            {
                "metadata": {"resourceVersion": created["metadata"]["resourceVersion"]},
                "spec": {"replicas": 2},
            },
            patch_type="application/merge-patch+json",
        )
    applied = cluster.patch(
        kinds.CONFIG_MAPS,
        "default",
        "fresh",
        {"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "b"}},
        patch_type="application/apply-patch+yaml",
        field_manager="me",
    )
    assert applied["data"] == {"a": "b"} and applied["metadata"]["managedFields"][0]["manager"] == "me"
