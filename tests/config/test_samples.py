"""The samples are runnable and say what they claim.

Covers: the valid sample (the bridge-compat example) has no problems; the every-problem sample
shows each expected problem at its exact place (1-based, as the CLI prints it) and nothing else;
each file-problems sample shows the problem it is named after. (`samples/demo.py`, whose first act
checks the samples, is tested in tests/test_demo.py.)
"""

import pathlib

import pytest

from kubelocal.config import checking, problems

SAMPLES = pathlib.Path(__file__).resolve().parents[2] / "samples"
CONFIGS = SAMPLES / "configs"

# (line, column, code), 1-based like the CLI; the comments in the sample say what each line is.
EVERY_PROBLEM = [
    (4, 10, "unsupported-version"),
    (5, 1, "unknown-key"),
    (10, 12, "ambiguous-scalar"),
    (12, 12, "ambiguous-scalar"),
    (14, 12, "ambiguous-scalar"),
    (16, 14, "unknown-token-type"),
    (16, 44, "invalid-service-name"),
    (16, 73, "invalid-namespace"),
    (16, 80, "invalid-port"),
    (18, 13, "invalid-external-endpoint"),
    (18, 68, "invalid-volume-name"),
    (18, 93, "invalid-service-name"),
    (20, 12, "unterminated-token"),
    (21, 11, "duplicate-env-name"),
    (23, 11, "env-name-not-exportable"),
    (25, 11, "env-name-too-long"),
    (27, 11, "invalid-env-name"),
    (29, 5, "missing-key"),
    (31, 12, "unknown-tag"),
    (32, 5, "duplicate-key"),
    (35, 16, "invalid-local-path"),
    (36, 11, "duplicate-volume-mount"),
    (39, 5, "unknown-feature"),
    (41, 5, "duplicate-feature"),
    (42, 5, "wrong-type"),
    (43, 1, "multiple-documents"),
]


def test_valid_sample_has_no_problems():
    result = checking.check_bytes((CONFIGS / "valid" / "KubernetesLocalProcessConfig.yaml").read_bytes())
    assert result.problems == ()


def test_every_problem_sample_shows_each_problem_at_its_place():
    result = checking.check_bytes(
        (CONFIGS / "every-problem" / "KubernetesLocalProcessConfig.yaml").read_bytes()
    )
    found = [(p.span.start.line + 1, p.span.start.column + 1, p.code) for p in result.problems]
    assert found == EVERY_PROBLEM


@pytest.mark.parametrize("path", sorted((CONFIGS / "file-problems").iterdir()), ids=lambda path: path.stem)
def test_each_file_problem_sample_shows_its_problem(path):
    result = checking.check_bytes(path.read_bytes())
    assert [p.code for p in result.problems] == [path.stem]


def test_the_samples_show_every_code_the_checker_has():
    shown = {code for _, _, code in EVERY_PROBLEM} | {
        path.stem for path in (CONFIGS / "file-problems").iterdir()
    }
    # invalid-value is the fallback for schema keywords this schema does not use.
    assert shown == set(problems.CODES) - {"invalid-value"}
