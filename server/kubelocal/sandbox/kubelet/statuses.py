"""Pod status as a kubelet reports it, computed from what the kubelet knows about each container.

Pure: `ContainerState` is the kubelet's record of one container (mutated by the runtime), and
`pod_status` turns a pod's records into `.status` with phase, conditions, container statuses, IPs.
Phase follows the kubelet's rules: any container waiting for its first start -> Pending; any
running or about to restart -> Running; all stopped for good -> Failed if any failed, else
Succeeded.
"""

from __future__ import annotations

import dataclasses
import datetime


def timestamp(moment: float) -> str:
    return datetime.datetime.fromtimestamp(moment, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclasses.dataclass
class Termination:
    exit_code: int
    reason: str
    started_at: float
    finished_at: float
    container_id: str
    message: str = ""
    signal: int = 0

    def as_state(self) -> dict:
        state: dict = {
            "exitCode": self.exit_code,
            "reason": self.reason,
            "startedAt": timestamp(self.started_at),
            "finishedAt": timestamp(self.finished_at),
            "containerID": self.container_id,
        }
        if self.message:
            state["message"] = self.message
        if self.signal:
            state["signal"] = self.signal
        return state


@dataclasses.dataclass
class ContainerState:
    """The kubelet's record of one container; `state` is waiting, running or terminated."""

    name: str
    image: str
    image_id: str = ""
    state: str = "waiting"
    reason: str = "ContainerCreating"
    message: str = ""
    started_at: float = 0.0
    container_id: str = ""
    restart_count: int = 0
    ready: bool = False
    started: bool = False
    terminated: Termination | None = None
    last_terminated: Termination | None = None

    def as_status(self) -> dict:
        if self.state == "running":
            state: dict = {"running": {"startedAt": timestamp(self.started_at)}}
        elif self.state == "terminated" and self.terminated is not None:
            state = {"terminated": self.terminated.as_state()}
        else:
            state = {
                "waiting": {"reason": self.reason, **({"message": self.message} if self.message else {})}
            }
        status: dict = {
            "name": self.name,
            "image": self.image,
            "imageID": self.image_id,
            "ready": self.ready,
            "started": self.started,
            "restartCount": self.restart_count,
            "state": state,
            "lastState": {"terminated": self.last_terminated.as_state()} if self.last_terminated else {},
        }
        if self.container_id:
            status["containerID"] = self.container_id
        return status


def phase(containers: list[ContainerState], *, initialized: bool, init_failed: bool) -> str:
    """The pod phase. A container the runtime will restart waits with `last_terminated` set; one it
    will not restart stays `terminated` (restartPolicy decided that already)."""
    if init_failed:
        return "Failed"
    if not initialized or not containers:
        return "Pending"
    if any(c.state == "waiting" and c.last_terminated is None for c in containers):
        return "Pending"
    if any(c.state != "terminated" for c in containers):
        return "Running"
    failed = any(c.terminated is not None and c.terminated.exit_code != 0 for c in containers)
    return "Failed" if failed else "Succeeded"


@dataclasses.dataclass
class Conditions:
    """Condition values with the time each last changed (kept across status computations)."""

    since: dict[str, tuple[bool, float]] = dataclasses.field(default_factory=dict)

    def set(self, kind: str, value: bool, now: float) -> None:
        previous = self.since.get(kind)
        if previous is None or previous[0] != value:
            self.since[kind] = (value, now)

    def as_list(self, reasons: dict[str, str]) -> list[dict]:
        order = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]
        result = []
        for kind in order:
            if kind not in self.since:
                continue
            value, moment = self.since[kind]
            condition = {"type": kind, "status": "True" if value else "False", "lastProbeTime": None,
                         "lastTransitionTime": timestamp(moment)}  # fmt: skip
            if not value and kind in reasons:
                condition["reason"] = reasons[kind]
            result.append(condition)
        return result


def pod_status(
    *,
    containers: list[ContainerState],
    init_containers: list[ContainerState],
    conditions: Conditions,
    initialized: bool,
    init_failed: bool,
    network_ready: bool,
    pod_ip: str,
    host_ip: str,
    start_time: float,
    now: float,
    message: str = "",
) -> dict:
    """`.status` of a pod; `conditions` is updated with the transitions it implies."""
    pod_phase = phase(containers, initialized=initialized, init_failed=init_failed)
    containers_ready = initialized and bool(containers) and all(c.ready for c in containers)
    conditions.set("PodScheduled", True, start_time)
    conditions.set("PodReadyToStartContainers", network_ready, now)
    conditions.set("Initialized", initialized, now)
    conditions.set("ContainersReady", containers_ready and pod_phase == "Running", now)
    conditions.set("Ready", containers_ready and pod_phase == "Running", now)
    not_ready = [c.name for c in containers if not c.ready]
    reasons = {
        "Initialized": "ContainersNotInitialized",
        "ContainersReady": "ContainersNotReady" if pod_phase in ("Pending", "Running") else "PodCompleted",
        "Ready": "ContainersNotReady" if pod_phase in ("Pending", "Running") else "PodCompleted",
    }
    status: dict = {
        "phase": pod_phase,
        "conditions": conditions.as_list(reasons),
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "startTime": timestamp(start_time),
        "qosClass": "BestEffort",
        "containerStatuses": [c.as_status() for c in containers],
    }
    if not_ready and pod_phase in ("Pending", "Running"):
        for condition in status["conditions"]:
            if condition["type"] in ("Ready", "ContainersReady") and condition["status"] == "False":
                condition["message"] = f"containers with unready status: [{' '.join(not_ready)}]"
    if init_containers:
        status["initContainerStatuses"] = [c.as_status() for c in init_containers]
    if pod_ip:
        status["podIP"] = pod_ip
        status["podIPs"] = [{"ip": pod_ip}]
    if message:
        status["message"] = message
    return status
