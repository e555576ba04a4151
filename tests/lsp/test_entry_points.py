"""The server's entry points: `python -m kubelocal.lsp` and the `kubelocal-lsp` script.

Aspects: both start and explain themselves; stdout carries nothing but the protocol (a server whose
client goes away at once has written nothing to stdout, and logs only to stderr); a built server
holds neither the kubernetes client nor aiohttp until a command needs the cluster (they cost ~30 MB).
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest
from tests.lsp import helpers

pytestmark = pytest.mark.slow


def test_module_and_script_explain_themselves():
    module = subprocess.run(
        [sys.executable, "-m", "kubelocal.lsp", "--help"], capture_output=True, text=True, timeout=30
    )
    assert module.returncode == 0
    assert "Language server for KubernetesLocalProcessConfig.yaml" in module.stdout
    script = pathlib.Path(sys.executable).with_name("kubelocal-lsp")
    installed = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=30)
    assert installed.returncode == 0
    assert installed.stdout == module.stdout


def test_nothing_but_the_protocol_goes_to_stdout():
    finished = subprocess.run(
        [*helpers.SERVER_COMMAND, "--log-level", "DEBUG"],
        input=b"",
        capture_output=True,
        timeout=30,
        env=helpers.server_env(PYTHONWARNINGS="default"),
        cwd=os.getcwd(),
    )
    assert finished.stdout == b""
    assert b"kubelocal-lsp" in finished.stderr  # the debug log went to stderr


def test_a_built_server_loads_the_cluster_clients_only_when_a_command_needs_them():
    probe = (
        "import sys\n"
        "from kubelocal.lsp import server\n"
        "server.build()\n"
        "print(sorted(m for m in ('kubernetes', 'aiohttp', 'pydantic') if m in sys.modules))\n"
    )
    built = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert built.returncode == 0, built.stderr
    assert built.stdout.strip() == "[]"
