"""Exceptions of the agent package outside the wire protocol (which has its own `protocol.errors`).

Exception tree::

    AgentError
    ├── HandshakeFailed        the peer refused the handshake, broke it, or did not answer in time
    ├── SessionClosed          the session is over (peer gone, GOAWAY, heartbeat timeout); also a
    │                          ConnectionError, so code that handles sockets handles it too
    ├── StreamReset            a stream was aborted by either side; carries the wire error code;
    │                          also a ConnectionResetError
    ├── RequestFailed          a control request was answered with an error
    └── RestoreError           the restore mode could not put the workload back; says what to check
        └── KubernetesApiError an API call answered with an error status

Messages never contain the session token or a service-account token.
"""

from __future__ import annotations

from kubelocal_agent.protocol import errors as protocol_errors


class AgentError(Exception):
    """Base of the agent package's exceptions."""


class HandshakeFailed(AgentError):
    def __init__(self, message: str, *, error_code: int | None = None) -> None:
        super().__init__(message)
        self.error_code = error_code


class SessionClosed(AgentError, ConnectionError):
    """The session ended; open a new one (the engine reconnects on its own)."""


class StreamReset(AgentError, ConnectionResetError):
    def __init__(self, stream_id: int, error_code: int, reason: str) -> None:
        super().__init__(
            f"stream {stream_id} reset: {protocol_errors.describe(error_code)}"
            + (f" ({reason})" if reason else "")
        )
        self.stream_id = stream_id
        self.error_code = error_code
        self.reason = reason


class RequestFailed(AgentError):
    def __init__(self, method: str, message: str) -> None:
        super().__init__(f"request {method!r} failed: {message}")
        self.method = method


class RestoreError(AgentError):
    """The workload could not be restored; the message says which object and what to check."""


class KubernetesApiError(RestoreError):
    def __init__(self, *, method: str, path: str, status: int, message: str) -> None:
        super().__init__(
            f"{method} {path} answered {status}: {message}; check the restore Job's Role allows it "
            "and that the object still exists"
        )
        self.status = status
