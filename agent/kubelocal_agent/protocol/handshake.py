"""The handshake's decision, pure: accept a peer's HELLO (and at which version) or refuse it.

The first frame each way is HELLO, carrying the sender's protocol version and the per-session
token. The token is compared in constant time (`hmac.compare_digest`), so the time a refusal
takes says nothing about how much of a guessed token was right. A refusal's reason never
contains a token. `connection.Connection` queues the GOAWAY and raises; see `docs/protocol.md`.
"""

from __future__ import annotations

import hmac

from kubelocal_agent.protocol import errors, frames, versions


def accept(hello: frames.Hello, *, token: str) -> int:
    """The negotiated version for a valid `hello`; raises `errors.RemoteProtocolError` with
    AUTH_FAILED for a wrong token (checked first, so a stranger learns nothing about versions)
    or UNSUPPORTED_VERSION for a version with nothing in common."""
    if not tokens_match(hello.token, token):
        raise errors.RemoteProtocolError("session token refused", error_code=errors.ErrorCode.AUTH_FAILED)
    version = versions.negotiate(hello.version)
    if version is None:
        raise errors.RemoteProtocolError(
            f"protocol version {hello.version} is not supported; this side speaks "
            f"{versions.MIN_SUPPORTED_VERSION}..{versions.PROTOCOL_VERSION}",
            error_code=errors.ErrorCode.UNSUPPORTED_VERSION,
        )
    return version


def tokens_match(presented: str, expected: str) -> bool:
    """Constant-time comparison of two tokens of any length."""
    return hmac.compare_digest(presented.encode(), expected.encode())
