"""How long `checking.check` takes on a small and a large KubernetesLocalProcessConfig.yaml.

`run()` returns the figures (milliseconds, p50 and p95 of a bounded number of runs); the
benchmark runner (`python -m benchmarks`) prints them. Run alone: `python -m benchmarks.bench_config`.

How the cost grows: the same entries 2,000, 20,000 and 100,000 times (10 MB), and 2,000 unknown
keys (each a problem found through the node tree); `cpu_growth_100000_vs_2000` is the CPU time per
entry at 100,000 entries over that at 2,000 (1.0 is linear; memory caches make it somewhat more).
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
    """Wall-clock p50/p95 and the median CPU time of this process (steadier on a shared machine)."""
    durations = []
    cpu_durations = []
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = checking.check(text)
        if with_model:
            _ = result.model  # built on first access
        durations.append((time.perf_counter() - started) * 1000)
        cpu_durations.append((time.process_time() - cpu_started) * 1000)
    durations.sort()
    return {
        "p50_ms": round(statistics.median(durations), 2),
        "p95_ms": round(durations[int(0.95 * (len(durations) - 1))], 2),
        "cpu_p50_ms": round(statistics.median(cpu_durations), 2),
    }


def unknown_keys_text(keys: int) -> str:
    return "version: 0.1\n" + "".join(f"setting{number}: {number}\n" for number in range(keys))


def run() -> dict:
    small = config_text(20)
    large = config_text(2_000)  # 4,002 lines
    ten_megabytes = config_text(2_000) + "# " + "x" * (10 * 1024 * 1024) + "\n"
    checking.check(small)  # warm the schema and validator caches
    figures = {
        "config_check_20_entries": _time(small, runs=50),
        "config_check_2000_entries_4002_lines": _time(large, runs=20),
        "config_check_and_model_2000_entries": _time(large, runs=10, with_model=True),
        "config_check_10_MB": _time(ten_megabytes, runs=3),
        "config_check_2000_unknown_keys": _time(unknown_keys_text(2_000), runs=5),
        "config_check_20000_entries": _time(config_text(20_000), runs=3),
        "config_check_100000_entries_10_MB": _time(config_text(100_000), runs=1),
    }
    per_entry_2000 = figures["config_check_2000_entries_4002_lines"]["cpu_p50_ms"] / 2_000
    per_entry_100000 = figures["config_check_100000_entries_10_MB"]["cpu_p50_ms"] / 100_000
    figures["cpu_growth_100000_vs_2000"] = round(per_entry_100000 / per_entry_2000, 2)
    return figures


if __name__ == "__main__":
    for name, figures in run().items():
        print(f"{name}: {figures}")
