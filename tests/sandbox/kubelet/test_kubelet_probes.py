"""Probe decisions (pure): what a probe checks (named ports, defaults), timing defaults, and when
results flip: thresholds, initial states per probe kind, fast retries before first readiness."""

from __future__ import annotations

import pytest

from kubelocal.sandbox.kubelet import probes

CONTAINER = {"name": "web", "ports": [{"name": "http", "containerPort": 8080}]}


def test_checks_resolve_named_ports_and_defaults():
    check = probes.check({"httpGet": {"port": "http"}}, CONTAINER)
    assert (check.action, check.port, check.path, check.scheme) == ("httpGet", 8080, "/", "HTTP")
    assert probes.check({"tcpSocket": {"port": 9000}}, CONTAINER).port == 9000
    assert probes.check({"exec": {"command": ["true"]}}, CONTAINER).command == ("true",)
    with pytest.raises(ValueError, match="names no port"):
        probes.check({"httpGet": {"port": "metrics"}}, CONTAINER)
    with pytest.raises(ValueError, match="no httpGet"):
        probes.check({}, CONTAINER)


def test_timing_defaults_are_the_kubernetes_ones():
    timing = probes.timing({}, probes.Kind.LIVENESS)
    assert timing == probes.Timing(
        initial_delay=0, period=10, timeout=1, success_threshold=1, failure_threshold=3
    )


def tracker(kind, **spec):
    return probes.Tracker(kind, probes.timing(spec, kind))


def test_readiness_needs_success_threshold_and_fails_after_failure_threshold():
    readiness = tracker(probes.Kind.READINESS, successThreshold=2, failureThreshold=2)
    assert not readiness.succeeded
    readiness.observe(True)
    assert not readiness.succeeded
    readiness.observe(True)
    assert readiness.succeeded
    readiness.observe(False)
    assert readiness.succeeded
    readiness.observe(False)
    assert not readiness.succeeded


def test_liveness_starts_alive_and_fails_out_after_consecutive_failures_only():
    liveness = tracker(probes.Kind.LIVENESS, failureThreshold=3)
    assert liveness.succeeded
    for result in (False, False, True, False, False):
        liveness.observe(result)
    assert not liveness.failed_out
    liveness.observe(False)
    assert liveness.failed_out


def test_unready_readiness_probes_retry_fast_but_never_slower_than_spec():
    readiness = tracker(probes.Kind.READINESS, periodSeconds=5)
    delays = []
    for _ in range(8):
        readiness.observe(False)
        delays.append(readiness.next_delay())
    assert delays[0] == probes.FIRST_RETRY_SECONDS
    assert delays == sorted(delays) and delays[-1] == probes.FAST_RETRY_SECONDS
    readiness.observe(True)
    assert readiness.next_delay() == 5
    short = tracker(probes.Kind.READINESS, periodSeconds=0.1)
    for _ in range(8):
        short.observe(False)
    assert short.next_delay() == 0.1
    assert tracker(probes.Kind.LIVENESS, periodSeconds=7).next_delay() == 7


@pytest.mark.parametrize(
    ("status", "ok"), [(200, True), (302, True), (399, True), (400, False), (500, False)]
)
def test_http_success_range(status, ok):
    assert probes.http_success(status) is ok
