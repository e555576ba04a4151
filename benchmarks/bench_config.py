"""How long `checking.check` takes on a small and a large KubernetesLocalProcessConfig.yaml.

`run()` returns the figures (milliseconds, p50 and p95 of a bounded number of runs); the
benchmark runner (`python -m benchmarks`) prints them. Run alone: `python -m benchmarks.bench_config`.
"""

from __future__ import annotations

import statistics
import time

from kubelocal.config import checking


def config_text(entries: int) -> str:
    lines = ["version: 0.1", "env:"]
    for number in range(entries):
        lines.append(f"  - name: SERVICE_{number}_HOST")
        lines.append(f"    value: $(services:service-{number}.namespace-{number % 7}:80,443)/api/v{number}")
    return "\n".join(lines) + "\n"


def _time(text: str, runs: int, *, with_model: bool = False) -> dict[str, float]:
    durations = []
    for _ in range(runs):
        started = time.perf_counter()
        result = checking.check(text)
        if with_model:
            _ = result.model  # built on first access
        durations.append((time.perf_counter() - started) * 1000)
    durations.sort()
    return {
        "p50_ms": round(statistics.median(durations), 2),
        "p95_ms": round(durations[int(0.95 * (len(durations) - 1))], 2),
    }


def run() -> dict:
    small = config_text(20)
    large = config_text(2_000)  # 4,002 lines
    ten_megabytes = config_text(2_000) + "# " + "x" * (10 * 1024 * 1024) + "\n"
    checking.check(small)  # warm the schema and validator caches
    return {
        "config_check_20_entries": _time(small, runs=50),
        "config_check_2000_entries_4002_lines": _time(large, runs=20),
        "config_check_and_model_2000_entries": _time(large, runs=10, with_model=True),
        "config_check_10_MB": _time(ten_megabytes, runs=3),
    }


if __name__ == "__main__":
    for name, figures in run().items():
        print(f"{name}: {figures}")
