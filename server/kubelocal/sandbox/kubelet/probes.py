"""Probe decisions: what a probe checks and when its result flips. Pure; `probing` runs them.

As a kubelet: a readiness or startup probe starts failing (unknown), a liveness probe succeeding;
the result flips after `successThreshold` consecutive successes or `failureThreshold` consecutive
failures. Timing uses the spec's initialDelaySeconds/periodSeconds/timeoutSeconds, except that a
readiness probe that has not yet succeeded is retried quickly (from `FIRST_RETRY_SECONDS`,
doubling up to `FAST_RETRY_SECONDS`, never slower than the spec's period), so pods become Ready
promptly without busy probing; failures still need the spec's threshold.
"""

from __future__ import annotations

import dataclasses
import enum

FIRST_RETRY_SECONDS = 0.01
FAST_RETRY_SECONDS = 0.2


class Kind(enum.Enum):
    READINESS = "readiness"
    LIVENESS = "liveness"
    STARTUP = "startup"


@dataclasses.dataclass(frozen=True)
class Check:
    """What to do: `action` is httpGet, tcpSocket, exec or grpc."""

    action: str
    port: int = 0
    host: str = ""
    path: str = "/"
    scheme: str = "HTTP"
    headers: tuple[tuple[str, str], ...] = ()
    command: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Timing:
    initial_delay: float
    period: float
    timeout: float
    success_threshold: int
    failure_threshold: int


def resolve_port(port: int | str, container: dict) -> int:
    """A probe's port: a number, or the name of one of the container's ports (ValueError if none)."""
    if isinstance(port, int) or (isinstance(port, str) and port.isdigit()):
        return int(port)
    for declared in container.get("ports") or []:
        if declared.get("name") == port:
            return int(declared["containerPort"])
    raise ValueError(f"probe port {port!r} names no port of container {container.get('name')!r}")


def check(probe: dict, container: dict) -> Check:
    """The check a probe spec describes; ValueError when it describes none."""
    if "httpGet" in probe:
        spec = probe["httpGet"]
        return Check(
            action="httpGet",
            port=resolve_port(spec["port"], container),
            host=spec.get("host", ""),
            path=spec.get("path") or "/",
            scheme=(spec.get("scheme") or "HTTP").upper(),
            headers=tuple((h["name"], h["value"]) for h in spec.get("httpHeaders") or []),
        )
    if "tcpSocket" in probe:
        spec = probe["tcpSocket"]
        return Check(
            action="tcpSocket", port=resolve_port(spec["port"], container), host=spec.get("host", "")
        )
    if "exec" in probe:
        return Check(action="exec", command=tuple(probe["exec"].get("command") or ()))
    if "grpc" in probe:
        return Check(action="grpc", port=int(probe["grpc"]["port"]))
    raise ValueError("probe has no httpGet, tcpSocket, exec or grpc handler")


def timing(probe: dict, kind: Kind) -> Timing:
    success_threshold = int(probe.get("successThreshold") or 1)
    if kind is not Kind.READINESS:
        success_threshold = 1  # the API server rejects anything else for liveness/startup
    return Timing(
        initial_delay=float(probe.get("initialDelaySeconds") or 0),
        period=float(probe.get("periodSeconds") or 10),
        timeout=float(probe.get("timeoutSeconds") or 1),
        success_threshold=success_threshold,
        failure_threshold=int(probe.get("failureThreshold") or 3),
    )


class Tracker:
    """Consecutive-result counting for one probe of one container run.

    `succeeded` is the probe's current result; `failed_out` turns True once `failureThreshold`
    consecutive failures happened (for liveness and startup probes: restart the container).
    """

    def __init__(self, kind: Kind, probe_timing: Timing) -> None:
        self.kind = kind
        self.timing = probe_timing
        self.succeeded = kind is Kind.LIVENESS
        self.failed_out = False
        self._successes = 0
        self._failures = 0
        self._attempts = 0

    def observe(self, success: bool) -> None:
        self._attempts += 1
        if success:
            self._successes += 1
            self._failures = 0
            if self._successes >= self.timing.success_threshold:
                self.succeeded = True
        else:
            self._failures += 1
            self._successes = 0
            if self._failures >= self.timing.failure_threshold:
                self.succeeded = False
                self.failed_out = True

    def next_delay(self) -> float:
        """Seconds until the next probe."""
        if self.kind is Kind.READINESS and not self.succeeded:
            fast = FIRST_RETRY_SECONDS * 2 ** max(0, self._attempts - 1)
            return min(fast, FAST_RETRY_SECONDS, self.timing.period)
        return self.timing.period


def http_success(status: int) -> bool:
    """httpGet succeeds for 200 <= status < 400, as a kubelet judges it."""
    return 200 <= status < 400
