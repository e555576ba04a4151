"""The checker's work grows linearly with the file, whatever the file holds.

Work is counted, not timed, so the test is deterministic on any machine: the lines of
`kubelocal.config` that run (`sys.settrace`) while a file of n and then 2n repetitions of one
pattern is checked and modelled. Twice the file may cost about twice the lines; a step that is
quadratic in the number of entries or problems costs four times as many and fails.

Covers: clean entries; unknown keys at the top level and inside one entry (once quadratic:
every problem listed the whole mapping again); unknown and duplicate features; duplicate keys
at the top and inside an entry; duplicate env names and volume mounts; values of the wrong
type; missing keys; broken tokens; names a shell cannot export; empty paths; anchors, aliases
and merges; a syntax error after many entries. Work done in C (libyaml, a list scan) is not
counted here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

import pytest

from kubelocal.config import checking, tokens

SMALL = 150
CHECKER_PACKAGE = "kubelocal/config/"


def _env(count: int, entry: Callable[[int], str]) -> str:
    return "version: 0.1\nenv:\n" + "".join(entry(number) for number in range(count))


PATTERNS: dict[str, Callable[[int], str]] = {
    "clean entries": lambda n: _env(
        n, lambda i: f"  - name: VARIABLE_{i}\n    value: http://$(services:api-{i}.shop:80,443)/v{i}\n"
    ),
    "unknown top-level keys": lambda n: "version: 0.1\n" + "".join(f"key{i}: 1\n" for i in range(n)),
    "unknown keys in one entry": lambda n: (
        "version: 0.1\nenv:\n  - name: A\n    value: b\n" + "".join(f"    key{i}: 1\n" for i in range(n))
    ),
    "unknown features": lambda n: (
        "version: 0.1\nenableFeatures:\n" + "".join(f"  - Feature{i}\n" for i in range(n))
    ),
    "duplicate features": lambda n: "version: 0.1\nenableFeatures:\n" + "  - Probes\n" * n,
    "duplicate top-level keys": lambda n: "version: 0.1\n" + "env: []\n" * n,
    "duplicate keys in one entry": lambda n: (
        "version: 0.1\nenv:\n  - name: A\n    value: b\n" + "    name: C\n" * n
    ),
    "duplicate env names": lambda n: _env(n, lambda i: "  - name: SAME\n    value: x\n"),
    "duplicate volume mounts": lambda n: (
        "version: 0.1\nvolumeMounts:\n" + "  - name: data\n    localPath: /data\n" * n
    ),
    "values of the wrong type": lambda n: _env(n, lambda i: f"  - name: V{i}\n    value: {i}\n"),
    "missing keys": lambda n: _env(n, lambda i: f"  - name: V{i}\n"),
    "broken tokens": lambda n: _env(
        n, lambda i: f"  - name: V{i}\n    value: $(foo{i}:x) $(services:A_{i}:0) $(volumeMounts:X\n"
    ),
    "names a shell cannot export": lambda n: _env(n, lambda i: f"  - name: 9-{i}\n    value: x\n"),
    "empty paths": lambda n: (
        "version: 0.1\nvolumeMounts:\n" + "".join(f"  - name: v{i}\n    localPath: ''\n" for i in range(n))
    ),
    "anchors and aliases": lambda n: _env(n, lambda i: f"  - &e{i} {{name: V{i}, value: x}}\n  - *e{i}\n"),
    "merges": lambda n: (
        "version: 0.1\nbase: &base {name: X, value: y}\nenv:\n"
        + "".join(f"  - <<: *base\n    name: V{i}\n" for i in range(n))
    ),
    "a syntax error after the entries": lambda n: (
        _env(n, lambda i: f"  - name: V{i}\n    value: x\n") + "  - [\n"
    ),
}


def checker_lines(text: str) -> int:
    """How many lines of the checker run to check `text` and build its model."""
    tokens._parse_cached.cache_clear()  # each count starts from the same cache state
    count = 0

    def count_lines(frame: FrameType, event: str, argument: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return count_lines

    def enter(frame: FrameType, event: str, argument: Any) -> Any:
        if event == "call" and CHECKER_PACKAGE in frame.f_code.co_filename.replace("\\", "/"):
            return count_lines
        return None

    previous = sys.gettrace()
    sys.settrace(enter)
    try:
        result = checking.check(text)
        _ = result.model
    finally:
        sys.settrace(previous)
    return count


@pytest.fixture(scope="module", autouse=True)
def _warm_caches() -> None:
    # The schema and its validators are loaded once per process, not per file.
    checking.check("version: 0.1\nenv:\n  - name: A\n    value: b\n")


@pytest.mark.parametrize("pattern", list(PATTERNS))
def test_twice_the_file_costs_about_twice_the_work(pattern: str) -> None:
    build = PATTERNS[pattern]
    small = checker_lines(build(SMALL))
    large = checker_lines(build(2 * SMALL))
    assert SMALL < small < large, "the count follows the checker's work"
    assert large <= 2.2 * small, f"{pattern}: {small} lines for {SMALL} repetitions, {large} for {2 * SMALL}"
