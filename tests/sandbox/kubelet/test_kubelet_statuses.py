"""Pod status (pure): phase rules (Pending, Running, Succeeded, Failed, restarting containers),
Ready/ContainersReady/Initialized conditions and their transition times, container status shape."""

from __future__ import annotations

from kubelocal.sandbox.kubelet import statuses


def container(**fields) -> statuses.ContainerState:
    return statuses.ContainerState(name=fields.pop("name", "c"), image="img", **fields)


def ended(code: int) -> statuses.Termination:
    return statuses.Termination(
        exit_code=code, reason="Error" if code else "Completed", started_at=1, finished_at=2, container_id="x"
    )


def test_phases():
    def phase(*states, **kw):
        return statuses.phase(
            list(states), initialized=kw.get("initialized", True), init_failed=kw.get("init_failed", False)
        )

    assert phase(container()) == "Pending"
    assert phase(container(state="running"), initialized=False) == "Pending"
    assert phase(container(state="running"), container()) == "Pending"
    assert phase(container(state="running")) == "Running"
    assert phase(container(state="waiting", last_terminated=ended(1))) == "Running"
    assert phase(container(state="terminated", terminated=ended(0))) == "Succeeded"
    assert (
        phase(
            container(state="terminated", terminated=ended(0)),
            container(state="terminated", terminated=ended(2)),
        )
        == "Failed"
    )
    assert phase(container(state="terminated", terminated=ended(0)), container(state="running")) == "Running"
    assert phase(container(), init_failed=True) == "Failed"


def build(containers, conditions, now):
    return statuses.pod_status(
        containers=containers,
        init_containers=[],
        conditions=conditions,
        initialized=True,
        init_failed=False,
        network_ready=True,
        pod_ip="10.244.0.2",
        host_ip="10.244.0.1",
        start_time=100,
        now=now,
    )


def test_ready_conditions_follow_containers_and_keep_transition_times():
    conditions = statuses.Conditions()
    web = container(state="running", started=True)
    status = build([web], conditions, now=200)
    ready = {c["type"]: c for c in status["conditions"]}
    assert ready["Ready"]["status"] == "False"
    assert "[c]" in ready["Ready"]["message"]
    web.ready = True
    build([web], conditions, now=300)
    status = build([web], conditions, now=400)
    ready = {c["type"]: c for c in status["conditions"]}
    assert ready["Ready"]["status"] == ready["ContainersReady"]["status"] == "True"
    assert ready["Ready"]["lastTransitionTime"] == statuses.timestamp(300)
    assert ready["PodScheduled"]["lastTransitionTime"] == statuses.timestamp(100)
    assert status["podIP"] == "10.244.0.2" and status["podIPs"] == [{"ip": "10.244.0.2"}]
    assert status["phase"] == "Running"


def test_container_status_shape():
    state = container(state="waiting", reason="CrashLoopBackOff", restart_count=2, last_terminated=ended(3))
    reported = state.as_status()
    assert reported["state"] == {"waiting": {"reason": "CrashLoopBackOff"}}
    assert reported["lastState"]["terminated"]["exitCode"] == 3
    assert reported["restartCount"] == 2
    assert reported["ready"] is False
