"""How long the engine's planning takes at sizes well past real clusters and hosts files.

`run()` returns the figures (milliseconds, p50 and p95 of a bounded number of runs); the
benchmark runner (`python -m benchmarks`) prints them. Run alone: `python -m benchmarks.bench_engine`.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from kubelocal.engine import endpoints, environment, hosts, patches, targets

NAMESPACE = "bench"


def _time(action: Callable[[], object], runs: int) -> dict[str, float]:
    durations = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        durations.append((time.perf_counter() - started) * 1000)
    durations.sort()
    return {
        "p50_ms": round(statistics.median(durations), 2),
        "p95_ms": round(durations[int(0.95 * (len(durations) - 1))], 2),
    }


def _services(count: int) -> list[dict]:
    return [
        {
            "metadata": {"name": f"service-{number}", "namespace": NAMESPACE},
            "spec": {
                "clusterIP": f"10.96.{number // 250}.{number % 250 + 1}",
                "ports": [{"name": "http", "port": 80, "protocol": "TCP"}, {"name": "grpc", "port": 9000}],
            },
        }
        for number in range(count)
    ]


def _deployment(containers: int) -> dict:
    return {
        "kind": "Deployment",
        "metadata": {"name": "big", "namespace": NAMESPACE, "labels": {"app": "big"}},
        "spec": {
            "replicas": 5,
            "template": {
                "metadata": {"labels": {"app": "big"}},
                "spec": {
                    "containers": [
                        {
                            "name": f"c{index}",
                            "image": "example/app:1",
                            "env": [{"name": f"V{n}", "value": "x" * 40} for n in range(200)],
                            "ports": [{"containerPort": 8000 + index}],
                            "livenessProbe": {"tcpSocket": {"port": 8000 + index}},
                        }
                        for index in range(containers)
                    ],
                    "volumes": [{"name": f"v{n}", "emptyDir": {}} for n in range(50)],
                },
            },
        },
    }


def run() -> dict:
    services = _services(1_000)
    hosts_plan = endpoints.plan(mode=endpoints.Mode.HOSTS, namespace=NAMESPACE, services=services)
    no_admin = endpoints.plan(mode=endpoints.Mode.NO_ADMIN, namespace=NAMESPACE, services=services)
    entries = hosts.entries_for(hosts_plan)
    user_hosts = "".join(
        f"10.{n // 65536}.{n // 256 % 256}.{n % 256}\thost-{n}.corp\n" for n in range(10_000)
    )
    with_block = hosts.insert(user_hosts, session_id="bench1", entries=entries)
    deployment = _deployment(containers=5)
    target = targets.Target(
        kind="Deployment", name="big", namespace=NAMESPACE, container="c2", service="big", ports=(),
        replicas=5, pods=(), pod_template=deployment["spec"]["template"], workload=deployment,
    )  # fmt: skip
    settings = patches.AgentSettings(session_id="bench1", owner="o", started="t")
    pod_env = {f"VARIABLE_{n}": f"value '{n}' $HOME\n" for n in range(2_000)}
    env_plan = environment.plan(pod_env=pod_env, endpoint_plan=no_admin)
    return {
        "endpoints_plan_1000_services_hosts_mode": _time(
            lambda: endpoints.plan(mode=endpoints.Mode.HOSTS, namespace=NAMESPACE, services=services), runs=10
        ),
        "endpoints_plan_1000_services_no_admin": _time(
            lambda: endpoints.plan(mode=endpoints.Mode.NO_ADMIN, namespace=NAMESPACE, services=services),
            runs=10,
        ),
        "hosts_insert_1000_entries_into_10000_lines": _time(
            lambda: hosts.insert(user_hosts, session_id="bench1", entries=entries), runs=10
        ),
        "hosts_remove_from_11002_lines": _time(
            lambda: hosts.remove(with_block, session_id="bench1"), runs=10
        ),
        "patch_and_inverse_5_containers_x_200_env": _time(
            lambda: patches.plan(target, settings=settings), runs=20
        ),
        "environment_2000_pod_vars_1000_services": _time(
            lambda: environment.plan(pod_env=pod_env, endpoint_plan=no_admin), runs=10
        ),
        "render_sh_15000_vars": _time(lambda: environment.render_sh(env_plan.variables), runs=10),
    }


if __name__ == "__main__":
    for name, figures in run().items():
        print(f"{name}: {figures}")
