"""Packing the agent as a zipapp, and the agent's standard-library-only rule.

Aspects: two builds are byte-identical (so the hash names the version) and a changed source
changes the hash; the archive holds `__main__.py` and the package's `.py` files only, all with the
fixed timestamp; every module of the agent imports only the standard library and itself; the
packed agent runs under `python -I -S` (no site-packages at all) and answers `--help`.
"""

from __future__ import annotations

import ast
import io
import subprocess
import sys
import zipfile

import pytest

from kubelocal_agent import packing


def test_two_builds_are_identical_and_a_change_changes_the_digest():
    first, second = packing.build(), packing.build()
    assert first == second
    files = packing.sources(packing.package_dir())
    changed = [
        (name, content + b"\n# changed\n" if name.endswith("driving.py") else content)
        for name, content in files
    ]
    assert packing.digest(packing.build(changed)) != packing.digest(first)


def test_the_archive_holds_the_package_sources_with_fixed_timestamps():
    pyz = packing.build()
    assert pyz.startswith(packing.SHEBANG)
    with zipfile.ZipFile(io.BytesIO(pyz)) as archive:
        names = archive.namelist()
        assert names[0] == "__main__.py"
        assert "kubelocal_agent/protocol/connection.py" in names
        assert "kubelocal_agent/__main__.py" in names
        assert all(name.endswith(".py") for name in names)
        assert {info.date_time for info in archive.infolist()} == {packing.FIXED_DATE}


def test_the_agent_imports_only_the_standard_library():
    allowed = set(sys.stdlib_module_names) | {"kubelocal_agent"}
    offenders = []
    for name, content in packing.sources(packing.package_dir()):
        for node in ast.walk(ast.parse(content)):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            offenders += [f"{name}: {m}" for m in modules if m.split(".")[0] not in allowed]
    assert offenders == []


@pytest.mark.slow
def test_the_packed_agent_runs_without_site_packages(tmp_path):
    target = tmp_path / "agent.pyz"
    digest = packing.write(target)
    assert digest == packing.digest(target.read_bytes())
    for command in ([], ["restore"]):
        result = subprocess.run(
            [sys.executable, "-I", "-S", str(target), *command, "--help"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode == 0, result.stderr
        assert "usage: kubelocal-agent" in result.stdout
