"""Sandbox figures: how fast the controllers decide (more figures join as the sandbox comes together).

`run()` returns a dict of figures; `make bench` prints them.
"""

from __future__ import annotations

import datetime
import time

from kubelocal.sandbox.controllers import deployment, replicaset

NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def _decision_micros(rounds: int = 2000) -> float:
    template = {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "c", "image": "python:3.12-slim"}]},
    }
    deploy = {
        "metadata": {"name": "web", "namespace": "default", "uid": "d", "generation": 1},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": template},
    }
    rs = {
        "metadata": {"name": "web-x", "namespace": "default", "uid": "r", "generation": 1},
        "spec": {"replicas": 3, "template": template},
    }
    start = time.perf_counter()
    for _ in range(rounds):
        deployment.reconcile(deploy, [], [], now=NOW)
        replicaset.reconcile(rs, [], now=NOW)
    return (time.perf_counter() - start) / rounds * 1e6


def run() -> dict:
    return {"controller_decision_us": round(_decision_micros(), 1)}


if __name__ == "__main__":
    print(run())
