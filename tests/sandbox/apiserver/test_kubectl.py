"""The API server through kubectl (the installed 1.32+ binary), as a person would use it.

Covers: `apply` client-side (created, unchanged, configured) and `--server-side`, with the
OpenAPI documents kubectl downloads first; `get` with the server's Table columns and `-o jsonpath`;
`describe`; `patch --type json|merge|strategic`; `scale`; `edit` with EDITOR set to a script;
`delete` and `wait --for=delete`; `wait --for=condition=Ready` after a status patch; `explain`;
`auth can-i`; `get --watch` seeing a change; the error kubectl prints for a 404.
"""

import json
import os
import shutil
import subprocess
import time

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed"),
]

MANIFEST = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: nginx:1.27
        ports: [{containerPort: 80, name: http}]
        env: [{name: MODE, value: blue}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {level: debug}
"""


def kubectl(server, *arguments, check=True, env=None, timeout=20):
    result = subprocess.run(
        ["kubectl", "--kubeconfig", str(server.kubeconfig), *arguments],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "KUBECACHEDIR": str(server.kubeconfig.parent / "kube-cache"), **(env or {})},
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def manifest(tmp_path):
    path = tmp_path / "app.yaml"
    path.write_text(MANIFEST)
    return path


def test_apply_client_side_then_server_side_and_get(api_server, manifest):
    first = kubectl(api_server, "apply", "-f", str(manifest)).stdout
    assert "deployment.apps/web created" in first and "service/web created" in first
    assert "deployment.apps/web unchanged" in kubectl(api_server, "apply", "-f", str(manifest)).stdout
    manifest.write_text(MANIFEST.replace("replicas: 2", "replicas: 3"))
    assert "deployment.apps/web configured" in kubectl(api_server, "apply", "-f", str(manifest)).stdout
    assert kubectl(api_server, "get", "deploy", "web", "-o", "jsonpath={.spec.replicas}").stdout == "3"
    manifest.write_text(MANIFEST.replace("replicas: 2", "replicas: 4"))
    server_side = kubectl(
        api_server, "apply", "--server-side", "--force-conflicts", "-f", str(manifest)
    ).stdout
    assert "deployment.apps/web serverside-applied" in server_side
    assert kubectl(api_server, "get", "deploy", "web", "-o", "jsonpath={.spec.replicas}").stdout == "4"
    manifest.write_text(
        MANIFEST.replace("replicas: 2", "replicas: 4").replace("env: [{name: MODE, value: blue}]", "")
    )
    kubectl(api_server, "apply", "--server-side", "-f", str(manifest))
    env = kubectl(
        api_server, "get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[0].env}"
    )
    assert env.stdout == ""  # what this manager stopped applying is removed
    table = kubectl(api_server, "get", "deployments").stdout.splitlines()
    assert table[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert table[1].split()[:2] == ["web", "0/4"]
    services = kubectl(api_server, "get", "svc", "web").stdout.splitlines()
    assert services[0].split()[:5] == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)"]
    assert services[1].split()[1] == "ClusterIP" and services[1].split()[2].startswith("10.96.")
    described = kubectl(api_server, "describe", "deployment", "web").stdout
    assert "RollingUpdateStrategy:  25% max unavailable, 25% max surge" in described
    assert any(line.split() == ["Image:", "nginx:1.27"] for line in described.splitlines())


def test_patch_scale_and_edit(api_server, manifest, tmp_path):
    kubectl(api_server, "apply", "-f", str(manifest))
    kubectl(
        api_server,
        "patch",
        "deploy",
        "web",
        "--type",
        "json",
        "-p",
        '[{"op": "replace", "path": "/spec/replicas", "value": 5}]',
    )
    kubectl(
        api_server,
        "patch",
        "deploy",
        "web",
        "--type",
        "merge",
        "-p",
        '{"metadata": {"labels": {"tier": "front"}}}',
    )
    kubectl(
        api_server,
        "patch",
        "deploy",
        "web",
        "--type",
        "strategic",
        "-p",
        json.dumps(
            {
                "spec": {
                    "template": {
                        "spec": {"containers": [{"name": "app", "env": [{"name": "EXTRA", "value": "1"}]}]}
                    }
                }
            }
        ),
    )
    jsonpath = "{.spec.replicas} {.metadata.labels.tier} {.spec.template.spec.containers[0].env[*].name}"
    assert (
        kubectl(api_server, "get", "deploy", "web", "-o", f"jsonpath={jsonpath}").stdout
        == "5 front MODE EXTRA"
    )
    kubectl(api_server, "scale", "deploy", "web", "--replicas=1")
    assert kubectl(api_server, "get", "deploy", "web", "-o", "jsonpath={.spec.replicas}").stdout == "1"
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nsed -i "s/level: debug/level: quiet/" "$1"\n')
    editor.chmod(0o755)
    edited = kubectl(api_server, "edit", "configmap", "settings", env={"EDITOR": str(editor)})
    assert "configmap/settings edited" in edited.stdout
    assert kubectl(api_server, "get", "cm", "settings", "-o", "jsonpath={.data.level}").stdout == "quiet"


def test_delete_wait_and_errors(api_server, manifest, tmp_path):
    kubectl(api_server, "apply", "-f", str(manifest))
    pod = tmp_path / "pod.yaml"
    pod.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: solo}\nspec:\n"
        "  containers: [{name: c, image: busybox, command: [sleep, '100']}]\n"
    )
    kubectl(api_server, "apply", "-f", str(pod))
    waiting = subprocess.Popen(
        [
            "kubectl",
            "--kubeconfig",
            str(api_server.kubeconfig),
            "wait",
            "--for=condition=Ready",
            "pod/solo",
            "--timeout=10s",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(0.5)
        kubectl(
            api_server,
            "patch",
            "pod",
            "solo",
            "--subresource=status",
            "--type=merge",
            "-p",
            '{"status": {"conditions": [{"type": "Ready", "status": "True"}]}}',
        )
        out, err = waiting.communicate(timeout=15)
    finally:
        waiting.kill()
    assert waiting.returncode == 0, err
    assert "condition met" in out
    kubectl(api_server, "delete", "-f", str(manifest))
    kubectl(api_server, "wait", "--for=delete", "deployment/web", "--timeout=5s")
    namespace = tmp_path / "namespace.yaml"
    namespace.write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n")
    kubectl(api_server, "apply", "-f", str(namespace))
    kubectl(api_server, "apply", "-n", "team", "-f", str(manifest))
    assert 'namespace "team" deleted' in kubectl(api_server, "delete", "namespace", "team").stdout
    missing = kubectl(api_server, "get", "deployment", "web", check=False)
    assert missing.returncode != 0
    assert 'Error from server (NotFound): deployments.apps "web" not found' in missing.stderr


def test_explain_auth_and_watch(api_server, manifest):
    explained = kubectl(api_server, "explain", "deployment.spec.replicas").stdout
    assert "FIELD: replicas <integer>" in explained
    assert kubectl(api_server, "auth", "can-i", "patch", "deployments").stdout.strip() == "yes"
    watcher = subprocess.Popen(
        [
            "kubectl",
            "--kubeconfig",
            str(api_server.kubeconfig),
            "get",
            "configmaps",
            "--watch",
            "--request-timeout=2500ms",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(0.8)
        kubectl(api_server, "apply", "-f", str(manifest))
        out, _ = watcher.communicate(timeout=15)
    finally:
        watcher.kill()
    assert any(line.split()[:1] == ["settings"] for line in out.splitlines())
