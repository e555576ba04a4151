"""Liveness from timestamps: when to ping, when the peer counts as dead.

Aspects: no ping while frames keep arriving; a ping after an interval of silence, then not again
until another interval; dead only after the timeout with nothing received; a timeout not longer
than the interval is refused.
"""

from __future__ import annotations

import pytest

from kubelocal_agent.protocol import heartbeats


def test_pings_only_after_silence_and_not_twice_in_a_row():
    liveness = heartbeats.Liveness(interval=5, timeout=15, now=0)
    liveness.frame_received(4)
    assert not liveness.ping_due(8)
    assert liveness.ping_due(9.5)
    assert not liveness.ping_due(10)
    assert liveness.ping_due(14.5)


def test_the_peer_is_dead_only_after_the_timeout_of_silence():
    liveness = heartbeats.Liveness(interval=5, timeout=15, now=0)
    liveness.frame_received(10)
    assert not liveness.peer_dead(24.9)
    assert liveness.peer_dead(25)


def test_a_timeout_within_the_interval_is_refused():
    with pytest.raises(ValueError):
        heartbeats.Liveness(interval=5, timeout=5, now=0)
