"""Run every `benchmarks/bench_*.py` module's `run()` in turn, each in its own process, and print a table.

    python -m benchmarks                 # all of them
    python -m benchmarks bench_lsp       # only these
    BENCH_TIMEOUT=300 python -m benchmarks

Exits 1 when a benchmark failed or ran out of time (its row says which), 0 otherwise.
"""

from __future__ import annotations

import importlib
import json
import os
import pathlib
import subprocess
import sys
import time
from typing import Any

PACKAGE_DIR = pathlib.Path(__file__).resolve().parent
DEFAULT_TIMEOUT_SECONDS = 180.0


def discover() -> list[str]:
    return sorted(path.stem for path in PACKAGE_DIR.glob("bench_*.py"))


def _flatten(figures: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for name, value in figures.items():
        if isinstance(value, dict):
            rows.extend(_flatten(value, f"{prefix}{name}."))
        else:
            rows.append((f"{prefix}{name}", value))
    return rows


def _format(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, float):
        return str(value)
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def run_one(name: str, timeout: float) -> tuple[dict[str, Any] | None, str | None, float]:
    """Run one benchmark module in a child process: (figures, error, seconds)."""
    started = time.monotonic()
    try:
        finished = subprocess.run(
            [sys.executable, "-m", "benchmarks", "--child", name],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=PACKAGE_DIR.parent,
        )
    except subprocess.TimeoutExpired:
        return None, f"ran out of time ({timeout:.0f} s; raise BENCH_TIMEOUT)", time.monotonic() - started
    seconds = time.monotonic() - started
    if finished.returncode != 0:
        tail = (finished.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"failed (exit {finished.returncode}): {tail}", seconds
    try:
        return json.loads(finished.stdout.strip().splitlines()[-1]), None, seconds
    except (json.JSONDecodeError, IndexError):
        return None, "printed no figures", seconds


def _child(name: str) -> int:
    module = importlib.import_module(f"benchmarks.{name}")
    figures = module.run()
    print(json.dumps(figures, default=str))
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        return _child(argv[1])
    names = argv or discover()
    timeout = float(os.environ.get("BENCH_TIMEOUT", DEFAULT_TIMEOUT_SECONDS))
    failed = False
    rows: list[tuple[str, str, str]] = []
    for name in names:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        figures, error, seconds = run_one(name, timeout)
        if error is not None:
            failed = True
            rows.append((name, "ERROR", error))
            continue
        for figure, value in _flatten(figures or {}):
            rows.append((name, figure, _format(value)))
        rows.append((name, "(benchmark seconds)", f"{seconds:.1f}"))
    widths = [
        max([len(header), *(len(row[column]) for row in rows)])
        for column, header in enumerate(("benchmark", "figure", "value"))
    ]
    print(f"{'benchmark':<{widths[0]}}  {'figure':<{widths[1]}}  value")
    print(f"{'-' * widths[0]}  {'-' * widths[1]}  {'-' * widths[2]}")
    for benchmark, figure, value in rows:
        print(f"{benchmark:<{widths[0]}}  {figure:<{widths[1]}}  {value}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
