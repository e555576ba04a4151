"""The `kubelocal` entry point: installed, answers --version, and explains itself without a command."""

import subprocess
import sys

import kubelocal


def test_version_through_the_installed_script():
    result = subprocess.run(
        [sys.executable, "-m", "kubelocal", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == f"kubelocal {kubelocal.__version__}"


def test_no_command_prints_help_and_exits_2():
    result = subprocess.run([sys.executable, "-m", "kubelocal"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "usage: kubelocal" in result.stderr
