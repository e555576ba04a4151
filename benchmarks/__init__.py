"""kubelocal's benchmarks: `make bench` (`python -m benchmarks`).

Each `benchmarks/bench_*.py` module has a `run() -> dict` returning its figures (name -> number or
text; nested dicts are flattened to dotted names). The runner runs each module in its own process
with a time limit, so one slow or broken benchmark neither hangs the run nor skews the next one's
memory figures, and prints every figure as a table.
"""
