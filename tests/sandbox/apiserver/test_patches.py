"""Patches as the API server applies them (pure functions, no server).

Covers: JSON patch ops (add incl. "-", remove, replace, move, copy, test, failures, atomicity);
JSON merge patch (null deletes, lists replace); strategic merge patch driven by the real schemas
(containers by name, env by name, volumes by name, volumeMounts by mountPath, ports by
containerPort, $patch delete/replace, $retainKeys, $deleteFromPrimitiveList, $setElementOrder,
primitive lists with merge strategy, replace-strategy lists); server-side apply's merge and
managedFields; unsupported patch types.
"""

import pytest

from kubelocal.sandbox import errors, kinds, patches, validation


def deployment():
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "replicas": 1,
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "web:1",
                            "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                            "ports": [{"containerPort": 80, "protocol": "TCP"}],
                            "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                        },
                        {"name": "sidecar", "image": "side:1"},
                    ],
                    "volumes": [
                        {"name": "data", "emptyDir": {}},
                        {"name": "cfg", "configMap": {"name": "c"}},
                    ],
                }
            },
        },
    }


def smp(document, patch, kind=kinds.DEPLOYMENTS):
    schema, resolve = validation.schema_for(kind)
    return patches.strategic_merge_patch(document, patch, schema=schema, resolve=resolve)


def containers(document):
    return document["spec"]["template"]["spec"]["containers"]


def test_json_patch_operations_apply_in_order():
    document = {"a": {"b": [1, 2]}, "c": "x"}
    result = patches.json_patch(
        document,
        [
            {"op": "add", "path": "/a/b/-", "value": 3},
            {"op": "add", "path": "/a/b/0", "value": 0},
            {"op": "replace", "path": "/c", "value": "y"},
            {"op": "copy", "from": "/c", "path": "/d"},
            {"op": "move", "from": "/d", "path": "/e"},
            {"op": "remove", "path": "/a/b/1"},
            {"op": "test", "path": "/e", "value": "y"},
            {"op": "add", "path": "/k~1v", "value": True},
        ],
    )
    assert result == {"a": {"b": [0, 2, 3]}, "c": "y", "e": "y", "k/v": True}
    assert document == {"a": {"b": [1, 2]}, "c": "x"}


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "test", "path": "/c", "value": "other"},
        {"op": "remove", "path": "/missing"},
        {"op": "replace", "path": "/a/b/9", "value": 1},
        {"op": "add", "path": "/nothere/x", "value": 1},
        {"op": "frobnicate", "path": "/c"},
    ],
)
def test_json_patch_failures_are_bad_requests(operation):
    with pytest.raises(errors.BadRequest):
        patches.json_patch({"a": {"b": [1]}, "c": "x"}, [operation])


def test_merge_patch_deletes_with_null_and_replaces_lists():
    result = patches.merge_patch({"a": {"b": 1, "c": 2}, "l": [1, 2]}, {"a": {"b": None, "d": 3}, "l": [9]})
    assert result == {"a": {"c": 2, "d": 3}, "l": [9]}


def test_strategic_merge_merges_containers_and_env_by_name():
    result = smp(
        deployment(),
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {"name": "app", "image": "web:2", "env": [{"name": "B", "value": "changed"}]},
                            {"name": "new", "image": "new:1"},
                        ]
                    }
                }
            }
        },
    )
    app, sidecar, new = containers(result)
    assert (app["name"], app["image"], sidecar["name"], new["name"]) == ("app", "web:2", "sidecar", "new")
    assert app["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "changed"}]
    assert app["volumeMounts"] == [{"name": "data", "mountPath": "/data"}]


def test_strategic_merge_patch_delete_directive_removes_list_items_and_maps():
    result = smp(
        deployment(),
        {
            "metadata": {"labels": {"$patch": "delete"}},
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {"name": "sidecar", "$patch": "delete"},
                            {"name": "app", "env": [{"name": "A", "$patch": "delete"}]},
                        ],
                        "volumes": [{"name": "cfg", "$patch": "delete"}],
                    }
                }
            },
        },
    )
    assert [c["name"] for c in containers(result)] == ["app"]
    assert containers(result)[0]["env"] == [{"name": "B", "value": "2"}]
    assert result["spec"]["template"]["spec"]["volumes"] == [{"name": "data", "emptyDir": {}}]
    assert "labels" not in result["metadata"]


def test_strategic_merge_replace_directive_and_volume_mounts_by_mount_path():
    result = smp(
        deployment(),
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "app",
                                "volumeMounts": [{"mountPath": "/data", "readOnly": True}],
                                "env": [{"$patch": "replace"}, {"name": "ONLY", "value": "x"}],
                            }
                        ]
                    }
                }
            }
        },
    )
    app = containers(result)[0]
    assert app["volumeMounts"] == [{"name": "data", "mountPath": "/data", "readOnly": True}]
    assert app["env"] == [{"name": "ONLY", "value": "x"}]


def test_strategic_merge_ports_merge_by_container_port_and_args_replace():
    document = deployment()
    containers(document)[0]["args"] = ["a", "b"]
    result = smp(
        document,
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {"name": "app", "ports": [{"containerPort": 80, "name": "http"}], "args": ["c"]}
                        ]
                    }
                }
            }
        },
    )
    app = containers(result)[0]
    assert app["ports"] == [{"containerPort": 80, "protocol": "TCP", "name": "http"}]
    assert app["args"] == ["c"]


def test_strategic_merge_primitive_list_directives_and_retain_keys():
    document = {
        "metadata": {"name": "x", "finalizers": ["a", "b"]},
        "spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}},
    }
    result = smp(
        document,
        {
            "metadata": {"finalizers": ["c"], "$deleteFromPrimitiveList/finalizers": ["a"]},
            "spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}},
        },
    )
    assert result["metadata"]["finalizers"] == ["b", "c"]
    assert result["spec"]["strategy"] == {"type": "Recreate"}


def test_strategic_merge_set_element_order():
    result = smp(
        deployment(),
        {
            "spec": {
                "template": {
                    "spec": {
                        "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "app"}],
                        "containers": [{"name": "sidecar", "image": "side:2"}],
                    }
                }
            }
        },
    )
    assert [(c["name"], c["image"]) for c in containers(result)] == [("sidecar", "side:2"), ("app", "web:1")]


def test_apply_configuration_merges_and_records_the_manager():
    live = deployment()
    applied = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"replicas": 3},
    }
    result = patches.apply_configuration(
        live, applied, kind=kinds.DEPLOYMENTS, field_manager="kubectl", now="2026-01-01T00:00:00Z"
    )
    assert result["spec"]["replicas"] == 3
    assert containers(result)[0]["image"] == "web:1"
    (entry,) = result["metadata"]["managedFields"]
    assert entry["manager"] == "kubectl" and entry["operation"] == "Apply"
    assert entry["fieldsV1"]["f:spec"] == {"f:replicas": {}}
    with pytest.raises(errors.BadRequest):
        patches.apply_configuration(live, applied, kind=kinds.DEPLOYMENTS, field_manager="", now="x")


def test_unknown_patch_type_is_unsupported_media_type():
    with pytest.raises(errors.UnsupportedMediaType) as unsupported:
        patches.apply_patch({}, {}, patch_type="text/plain", kind=kinds.PODS)
    assert unsupported.value.code == 415
