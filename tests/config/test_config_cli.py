"""`kubelocal config check` and `kubelocal config init` through the real entry point (subprocesses).

Covers: `FILE:LINE:COL: severity: message [code]` lines, 1-based; exit 1 with an error, 0 with
warnings only or nothing; the default file in the current folder; `--json` (1-based start and end,
code, severity, message, fixes); a missing file (exit 2, says to run init); non-UTF-8 bytes (an
`encoding` problem); `init` writes the starter file, which checks clean, and never overwrites
without --force.
"""

import json
import os
import subprocess
import sys

import pytest

from kubelocal.config import template

pytestmark = pytest.mark.slow


def kubelocal(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kubelocal", *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_problems_are_printed_one_per_line_and_errors_exit_1(tmp_path):
    (tmp_path / "c.yaml").write_text("version: 0.1\nevn: []\nenableFeatures: [probes]\n")
    result = kubelocal("config", "check", "c.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "c.yaml:2:1: error: Unknown key 'evn' at the top level. Did you mean 'env'? "
        "Valid keys here: version, env, volumeMounts, enableFeatures. [unknown-key]",
        "c.yaml:3:18: warning: Unknown feature 'probes'; it is ignored. Did you mean 'Probes'? "
        "Valid features: ManagedIdentity, Probes, LifecycleHooks. [unknown-feature]",
    ]


def test_warnings_alone_exit_0(tmp_path):
    (tmp_path / "c.yaml").write_text("version: 0.1\nenableFeatures: [Teleport]\n")
    result = kubelocal("config", "check", "c.yaml", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.count("warning:") == 1


def test_default_file_in_the_current_folder(tmp_path):
    (tmp_path / template.FILENAME).write_text("version: 0.1\n")
    result = kubelocal("config", "check", cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_json_output(tmp_path):
    (tmp_path / "c.yaml").write_text("version: 0.1\nenv:\n  - name: A\n    value: yes\n")
    result = kubelocal("config", "check", "--json", "c.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert json.loads(result.stdout) == [
        {
            "code": "ambiguous-scalar",
            "severity": "error",
            "message": 'YAML reads yes as the boolean true, but env[0].value must be text. Quote it: "yes".',
            "start": {"line": 4, "column": 12},
            "end": {"line": 4, "column": 15},
            "fixes": [
                {
                    "title": 'Quote as text: "yes"',
                    "edits": [
                        {
                            "start": {"line": 4, "column": 12},
                            "end": {"line": 4, "column": 15},
                            "newText": '"yes"',
                        }
                    ],
                }
            ],
            "data": {"text": "yes", "quoted": '"yes"'},
        }
    ]


def test_json_output_of_a_clean_file_is_an_empty_list(tmp_path):
    (tmp_path / "c.yaml").write_text("version: 0.1\n")
    result = kubelocal("config", "check", "--json", "c.yaml", cwd=tmp_path)
    assert (result.returncode, json.loads(result.stdout)) == (0, [])


def test_missing_file_exits_2_and_says_what_to_do(tmp_path):
    result = kubelocal("config", "check", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == (
        f"kubelocal: {template.FILENAME} does not exist. Pass the path of your "
        f"KubernetesLocalProcessConfig.yaml, or create one with 'kubelocal config init {template.FILENAME}'."
    )


def test_bytes_that_are_not_utf8_are_an_encoding_problem(tmp_path):
    (tmp_path / "c.yaml").write_bytes(b"version: 0.1\nenv:\n  - name: CAF\xc9\n")
    result = kubelocal("config", "check", "c.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "c.yaml:3:14: error: The file is not UTF-8 text: byte 0xC9 at line 3, column 14 cannot be decoded. "
        "Save the file as UTF-8 and check again. [encoding]"
    ]


def test_binary_file_does_not_crash(tmp_path):
    (tmp_path / "c.yaml").write_bytes(bytes(range(256)) * 4)
    result = kubelocal("config", "check", "c.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == ""
    assert "[encoding]" in result.stdout or "[invalid-character]" in result.stdout


def test_init_writes_a_starter_file_that_checks_clean(tmp_path):
    result = kubelocal("config", "init", cwd=tmp_path)
    assert result.returncode == 0
    assert (tmp_path / template.FILENAME).read_text() == template.STARTER_CONFIG
    assert kubelocal("config", "check", cwd=tmp_path).returncode == 0


def test_init_never_overwrites_without_force(tmp_path):
    target = tmp_path / template.FILENAME
    target.write_text("version: 0.1\n# mine\n")
    result = kubelocal("config", "init", cwd=tmp_path)
    assert result.returncode == 2
    assert "already exists" in result.stderr and "--force" in result.stderr
    assert target.read_text() == "version: 0.1\n# mine\n"
    assert kubelocal("config", "init", "--force", cwd=tmp_path).returncode == 0
    assert target.read_text() == template.STARTER_CONFIG


def test_a_terminal_that_cannot_show_the_text_gets_escapes(tmp_path):
    (tmp_path / "c.yaml").write_text("version: 0.1\nenvé😀: []\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "kubelocal", "config", "check", "c.yaml"],
        cwd=tmp_path,
        capture_output=True,
        env={**os.environ, "PYTHONIOENCODING": "ascii"},
        timeout=60,
    )
    assert result.returncode == 1
    assert b"Unknown key 'env\\xe9\\U0001f600'" in result.stdout
