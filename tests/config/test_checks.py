"""Semantic checks beyond the schema, each at its exact place with its severity.

Covers: duplicate env names (on the later one), names a shell cannot export (warning), names of
255 characters or more, empty names; an empty or blank localPath and one with NUL; duplicate
volume mounts (warning); duplicate features (warning); values that are not text are left to the
schema (no token check on `value: 1`).
"""

import pytest

from kubelocal.config import checking, problems

from . import expect


def env(*entries: tuple[str, str]) -> str:
    lines = ["version: 0.1", "env:"]
    for name, value in entries:
        lines += [f"  - name: {name}", f"    value: {value}"]
    return "\n".join(lines) + "\n"


def test_duplicate_env_name_is_on_the_later_name():
    result = checking.check(env(("A", "x"), ("B", "y"), ("A", "z")))
    problem = expect.only(result, "duplicate-env-name")
    assert expect.span_tuple(problem.span) == (6, 10, 6, 11)
    assert problem.severity is problems.Severity.ERROR
    assert problem.message == (
        "The environment variable 'A' is already set on line 3. Remove one of the two entries or rename one."
    )
    assert problem.data == {"name": "A", "first": {"line": 2, "column": 10}}


@pytest.mark.parametrize("name", ["1ABC", "MY-VAR", "my.var", "with space"])
def test_name_a_shell_cannot_export_is_a_warning(name):
    problem = expect.only(checking.check(env((f'"{name}"', "x"))), "env-name-not-exportable")
    assert problem.severity is problems.Severity.WARNING
    assert expect.span_tuple(problem.span) == (2, 10, 2, 12 + len(name))
    assert problem.message == (
        f"A shell cannot export '{name}' (the process still gets it). Use letters, digits and '_', "
        "not starting with a digit, if a shell or script needs it."
    )


@pytest.mark.parametrize("name", ["A", "_a", "lower_case_1", "X" * 254])
def test_exportable_names_pass(name):
    assert checking.check(env((name, "x"))).problems == ()


def test_name_of_255_characters_is_too_long():
    problem = expect.only(checking.check(env(("N" * 255, "x"))), "env-name-too-long")
    assert expect.span_tuple(problem.span) == (2, 10, 2, 265)
    assert problem.message == (
        "The environment variable name is 255 characters long; it must be shorter than 255. Shorten it."
    )


@pytest.mark.parametrize("name", ['""', '"A=B"'])
def test_empty_name_or_name_with_equals_is_invalid(name):
    problem = expect.only(checking.check(env((name, "x"))), "invalid-env-name")
    assert problem.severity is problems.Severity.ERROR
    assert expect.span_tuple(problem.span) == (2, 10, 2, 10 + len(name))


def mounts(*entries: tuple[str, str]) -> str:
    lines = ["version: 0.1", "volumeMounts:"]
    for name, path in entries:
        lines += [f"  - name: {name}", f"    localPath: {path}"]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("path", "reason", "span"),
    [
        ('""', "is empty", (3, 15, 3, 17)),
        ('"   "', "is empty", (3, 15, 3, 20)),
        ('"/tmp/a\\0b"', "contains a NUL character", (3, 15, 3, 26)),
    ],
)
def test_invalid_local_path(path, reason, span):
    problem = expect.only(checking.check(mounts(("config", path))), "invalid-local-path")
    assert expect.span_tuple(problem.span) == span
    assert problem.message == (
        f"localPath {reason}, which no directory can be named. Write the workstation directory where "
        "the volume's files should appear."
    )


def test_valid_local_paths_pass():
    assert (
        checking.check(mounts(("a", "/var/run/x"), ("b", "./relative/dir"), ("c", "C:\\data"))).problems == ()
    )


def test_duplicate_volume_mount_is_a_warning_on_the_later_name():
    problem = expect.only(checking.check(mounts(("data", "/a"), ("data", "/b"))), "duplicate-volume-mount")
    assert problem.severity is problems.Severity.WARNING
    assert expect.span_tuple(problem.span) == (4, 10, 4, 14)


def test_duplicate_feature_is_a_warning():
    result = checking.check("version: 0.1\nenableFeatures: [Probes, LifecycleHooks, Probes]\n")
    problem = expect.only(result, "duplicate-feature")
    assert problem.severity is problems.Severity.WARNING
    assert expect.span_tuple(problem.span) == (1, 41, 1, 47)


def test_a_value_that_is_not_text_gets_no_token_checks():
    result = checking.check(env(("A", "[$(servics:x)]")))
    assert expect.codes(result) == ["wrong-type"]
