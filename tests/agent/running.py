"""The packed agent as a real subprocess on loopback, for end-to-end tests and the benchmark."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from kubelocal_agent import packing

TOKEN = "e2e-session-token-0123456789"


@dataclasses.dataclass
class RunningAgent:
    process: subprocess.Popen[str]
    control_port: int
    status_port: int
    service_ports: list[int]
    pyz: Path
    log_path: Path

    @property
    def status_url(self) -> str:
        return f"http://127.0.0.1:{self.status_port}/status"

    def log(self) -> str:
        return self.log_path.read_text()


@contextlib.contextmanager
def agent_process(
    *,
    service_ports: int = 1,
    extra_env: dict[str, str] | None = None,
    heartbeat: tuple[float, float] = (0.2, 1.0),
) -> Iterator[RunningAgent]:
    """Build the zipapp, start it with free loopback ports, stop it (kill if it lingers) at the end."""
    with tempfile.TemporaryDirectory(prefix="kubelocal-agent-") as workdir:
        pyz = Path(workdir) / "agent.pyz"
        packing.write(pyz)
        log_path = Path(workdir) / "agent.log"
        env = {**os.environ, "KUBELOCAL_AGENT_TOKEN": TOKEN, **(extra_env or {})}
        command = [
            sys.executable,
            str(pyz),
            "--ports",
            ",".join("0" * service_ports),
            "--service-host",
            "127.0.0.1",
            "--control-port",
            "0",
            "--status-host",
            "127.0.0.1",
            "--status-port",
            "0",
            "--heartbeat-interval",
            str(heartbeat[0]),
            "--heartbeat-timeout",
            str(heartbeat[1]),
        ]
        with log_path.open("w") as log_file:
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log_file, text=True, env=env)
        try:
            ready = _ready_line(process, deadline=time.monotonic() + 20)
            yield RunningAgent(
                process=process,
                control_port=ready["control_port"],
                status_port=ready["status_port"],
                service_ports=[bound for _requested, bound in ready["service_ports"]],
                pyz=pyz,
                log_path=log_path,
            )
        finally:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
            assert process.stdout is not None
            process.stdout.close()


def _ready_line(process: subprocess.Popen[str], *, deadline: float) -> dict:
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line or time.monotonic() > deadline:
        raise RuntimeError(f"the agent did not start (exit code {process.poll()})")
    return json.loads(line)
