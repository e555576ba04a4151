"""Credit-based flow control, one pair of windows per stream and one for the connection.

The receiver announces how much it is ready to buffer (HELLO settings); the sender never sends
more than the smaller of the stream's and the connection's credit. The receiver grants credit
back (WINDOW_UPDATE) only as the application consumes data, so what sits unread in memory is at
most the connection window, and one slow stream holds at most its own stream window of the
connection's credit: the other streams keep flowing as long as the connection window is larger
than the sum of the stream windows of the slow streams.

A stream window may grow (`ReceiveWindow.grow`) beyond its initial size: the receiver grants
more credit than it took, which needs nothing from the sender. `connection` grows the windows of
streams whose reader keeps up, within limits, so a bulk stream crossing several slow hops is not
left waiting for credit while its data is still on the way.
"""

from __future__ import annotations

from kubelocal_agent.protocol import errors, frames


class SendWindow:
    """Credit this side may still spend sending."""

    def __init__(self, initial: int) -> None:
        self.credit = initial

    def spend(self, size: int) -> None:
        if size > self.credit:
            raise errors.FlowControlError(f"sending {size} bytes with only {self.credit} of credit")
        self.credit -= size

    def grant(self, increment: int) -> None:
        """Add credit from a WINDOW_UPDATE; a window pushed beyond 2^31-1 is the peer's error."""
        if self.credit + increment > frames.MAX_WINDOW:
            raise errors.RemoteProtocolError(
                f"credit would exceed {frames.MAX_WINDOW}", error_code=errors.ErrorCode.FLOW_CONTROL_ERROR
            )
        self.credit += increment


class ReceiveWindow:
    """Credit this side granted to the peer, and what the application has consumed since.

    Credit is given back in batches (once at least half the window is consumed) so WINDOW_UPDATE
    frames stay rare on bulk transfers.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.available = size
        self._consumed = 0

    @property
    def outstanding(self) -> int:
        """Bytes received and not yet consumed: what the application still holds or has lost track of."""
        return self.size - self.available - self._consumed

    def receive(self, size: int) -> None:
        """Account for received data; more than was granted is the peer's FLOW_CONTROL_ERROR."""
        if size > self.available:
            raise errors.RemoteProtocolError(
                f"peer sent {size} bytes with only {self.available} of credit",
                error_code=errors.ErrorCode.FLOW_CONTROL_ERROR,
            )
        self.available -= size

    def grow(self, extra: int) -> int:
        """Enlarge the window by `extra` bytes of credit, to be granted with the next increment."""
        self.size += extra
        self.available += extra
        return extra

    def consume(self, size: int) -> int:
        """The application consumed `size` bytes; returns the increment to grant now (0 to wait)."""
        # Never give back more than was taken: a driver acknowledging twice must not inflate credit.
        self._consumed += min(size, self.outstanding)
        if self._consumed < max(1, self.size // 2):
            return 0
        increment, self._consumed = self._consumed, 0
        self.available += increment
        return increment
