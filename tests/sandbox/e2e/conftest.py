"""A cluster for end-to-end tests: the sandbox started with `kubelocal sandbox up` in a temporary state
directory (stopped with `down` at the end), or, when KUBELOCAL_TEST_KUBECONFIG is set, that real
cluster instead (then sandbox-internal checks skip). Every test works in its own namespace, removed
afterwards, so a real cluster is left as it was found."""

from __future__ import annotations

import dataclasses
import os
import pathlib
import secrets
import shutil
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
MANIFESTS = ROOT / "samples" / "app" / "manifests"


@dataclasses.dataclass
class ClusterAccess:
    kubeconfig: pathlib.Path
    is_sandbox: bool
    state_dir: pathlib.Path | None = None

    def kubectl(
        self,
        *args: str,
        namespace: str | None = None,
        check: bool = True,
        timeout: float = 90,
        input: str | None = None,
    ) -> subprocess.CompletedProcess:
        command = ["kubectl", f"--kubeconfig={self.kubeconfig}"]
        if namespace:
            command.append(f"--namespace={namespace}")
        result = subprocess.run(
            [*command, *args], capture_output=True, text=True, timeout=timeout, input=input
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} failed ({result.returncode}):\n{result.stderr}{result.stdout}"
            )
        return result

    def api_client(self):
        from kubernetes import config

        return config.new_client_from_config(config_file=str(self.kubeconfig))


def kubelocal(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kubelocal", *args], capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="session")
def cluster(tmp_path_factory) -> ClusterAccess:
    configured = os.environ.get("KUBELOCAL_TEST_KUBECONFIG")
    if configured:
        yield ClusterAccess(kubeconfig=pathlib.Path(configured), is_sandbox=False)
        return
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed")
    state_dir = tmp_path_factory.mktemp("sandbox")
    started = kubelocal("sandbox", "up", "--state-dir", str(state_dir))
    try:
        assert started.returncode == 0, started.stderr + started.stdout
        yield ClusterAccess(kubeconfig=state_dir / "kubeconfig", is_sandbox=True, state_dir=state_dir)
    finally:
        kubelocal("sandbox", "down", "--state-dir", str(state_dir))


@pytest.fixture
def namespace(cluster: ClusterAccess) -> str:
    name = f"kl-e2e-{secrets.token_hex(3)}"
    # `kubectl apply` (JSON on the wire) rather than `kubectl create namespace` (protobuf, not served).
    cluster.kubectl(
        "apply",
        "-f",
        "-",
        input=f'{{"apiVersion": "v1", "kind": "Namespace", "metadata": {{"name": "{name}"}}}}',
    )
    try:
        yield name
    finally:
        cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


def wait_for(check, *, timeout: float = 60.0, interval: float = 0.1, what: str = "condition"):
    """Poll `check` until it returns something truthy; fail with `what` after `timeout` seconds."""
    end = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < end:
        try:
            result = check()
            if result:
                return result
        except Exception as error:  # the cluster may answer 404 while objects appear
            last_error = error
        time.sleep(interval)
    pytest.fail(f"timed out waiting for {what}" + (f": {last_error}" if last_error else ""))


@pytest.fixture
def wait():
    return wait_for
