"""The sample app on its own: manifests are generated from the sources and up to date, valid against the
real Kubernetes schemas, meet the issue's shape (three services, ConfigMap + Secret + mounted volume,
readiness probes, stock image); and its three services answer each other over loopback."""

import contextlib
import json
import os
import pathlib
import socket
import subprocess
import sys
import time
import urllib.request

import kubernetes_validate
import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]
APP = ROOT / "samples" / "app"


def manifests():
    return [
        doc
        for path in sorted((APP / "manifests").glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
    ]


def test_manifests_are_generated_from_the_current_sources():
    result = subprocess.run(
        [sys.executable, str(APP / "build_manifests.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("doc", manifests(), ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_every_manifest_is_valid_for_a_real_cluster(doc):
    kubernetes_validate.validate(doc, "1.32", strict=True)
    assert "namespace" not in doc["metadata"]


def test_manifests_have_the_promised_shape():
    by_kind = {}
    for doc in manifests():
        by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
    assert set(by_kind["Service"]) == {"frontend", "greeter", "catalog"}
    assert set(by_kind["Deployment"]) == {"frontend", "greeter"}
    assert set(by_kind["StatefulSet"]) == {"catalog"}
    greeter = by_kind["Deployment"]["greeter"]["spec"]["template"]["spec"]
    (container,) = greeter["containers"]
    sources = {e["name"]: e.get("valueFrom", {}) for e in container["env"]}
    assert "configMapKeyRef" in sources["GREETING"] and "secretKeyRef" in sources["API_KEY"]
    assert any(v.get("configMap", {}).get("name") == "greeter-config" for v in greeter["volumes"])
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    images = {
        c["image"]
        for kind in ("Deployment", "StatefulSet")
        for d in by_kind[kind].values()
        for c in d["spec"]["template"]["spec"]["containers"]
    }
    assert images == {"python:3.12-slim"}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url, deadline=10.0):
    end = time.monotonic() + deadline
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return json.loads(response.read())
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.05)


@pytest.mark.slow
def test_services_answer_each_other_on_loopback(tmp_path):
    (tmp_path / "message.txt").write_text("mounted words\n")
    ports = {name: free_port() for name in ("frontend", "greeter", "catalog")}
    base = {**os.environ, "BIND": "127.0.0.1", "PYTHONUNBUFFERED": "1"}
    env = {
        "greeter": {
            "GREETING": "Hi",
            "API_KEY": "s3cret",
            "MESSAGE_FILE": str(tmp_path / "message.txt"),
            "POD_NAME": "greeter-pod",
        },
        "catalog": {},
        "frontend": {
            "GREETER_URL": f"http://127.0.0.1:{ports['greeter']}",
            "CATALOG_URL": f"http://127.0.0.1:{ports['catalog']}",
        },
    }
    with contextlib.ExitStack() as stack:
        for name, extra in env.items():
            process = subprocess.Popen(
                [sys.executable, str(APP / "services" / f"{name}.py")],
                env={**base, **extra, "PORT": str(ports[name])},
                stdout=subprocess.DEVNULL,
            )
            stack.callback(process.wait, 5)
            stack.callback(process.terminate)
        answer = get_json(f"http://127.0.0.1:{ports['frontend']}/")
        # The frontend may answer before the others listen: ask until both answered.
        end = time.monotonic() + 10
        while ("error" in answer["greeter"] or "error" in answer["catalog"]) and time.monotonic() < end:
            time.sleep(0.05)
            answer = get_json(f"http://127.0.0.1:{ports['frontend']}/")
    assert answer["frontend"]["service"] == "frontend"
    assert answer["greeter"]["greeting"] == "Hi"
    assert answer["greeter"]["message"] == "mounted words"
    assert answer["greeter"]["pod"] == "greeter-pod"
    assert answer["greeter"]["secret_fingerprint"] and "s3cret" not in json.dumps(answer)
    assert [item["name"] for item in answer["catalog"]["items"]] == ["kettle", "teapot", "mug"]
