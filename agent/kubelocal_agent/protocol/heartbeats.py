"""Deciding when to ping and when the peer is dead, from timestamps the driver supplies.

Any frame received proves the peer alive (not only PONG), so a busy connection needs no pings.
"""

from __future__ import annotations


class Liveness:
    """Ping after `interval` seconds of silence; the peer is dead after `timeout` seconds of it."""

    def __init__(self, *, interval: float, timeout: float, now: float) -> None:
        if timeout <= interval:
            raise ValueError("the timeout must be longer than the ping interval, or every pause is fatal")
        self.interval = interval
        self.timeout = timeout
        self.last_received = now
        self._last_ping = now

    def frame_received(self, now: float) -> None:
        self.last_received = now

    def ping_due(self, now: float) -> bool:
        """True when nothing was received nor pinged for `interval`; records the ping as sent."""
        if now - max(self.last_received, self._last_ping) < self.interval:
            return False
        self._last_ping = now
        return True

    def peer_dead(self, now: float) -> bool:
        return now - self.last_received >= self.timeout
