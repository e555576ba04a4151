"""Protocol versioning: one integer, agreed in the handshake, independent of the product version.

Each feature added after version 1 gets a `MIN_VERSION_<FEATURE>` constant beside a
`supports_<feature>(peer_version)` function; code that uses the feature asks the function with the
negotiated version. The list of safe and breaking changes is in `docs/protocol.md`; a breaking
change raises `MIN_SUPPORTED_VERSION`.
"""

from __future__ import annotations

PROTOCOL_VERSION = 1
MIN_SUPPORTED_VERSION = 1

MIN_VERSION_REQUESTS = 1
MIN_VERSION_VOLUME_STREAMS = 1


def negotiate(peer_version: int) -> int | None:
    """The version both sides speak, or None when the peer is too old or this side is."""
    if peer_version < MIN_SUPPORTED_VERSION:
        return None
    return min(PROTOCOL_VERSION, peer_version)


def supports_requests(peer_version: int) -> bool:
    """REQUEST/RESPONSE control messages (env, status, and any later method)."""
    return peer_version >= MIN_VERSION_REQUESTS


def supports_volume_streams(peer_version: int) -> bool:
    """OPEN with a `volume` target answered by a tar stream."""
    return peer_version >= MIN_VERSION_VOLUME_STREAMS
