"""What an OPEN frame asks for: a JSON object with a `kind` and its parameters.

- `inbound` (agent → engine): a connection accepted on the pod's `port`; `peer` is the client's
  address, for logs.
- `connect` (engine → agent): connect to `host` (DNS name or IP) and `port` as seen from the pod.
- `volume` (engine → agent): the files under `path` in the pod, sent as an uncompressed tar stream.

A receiver that does not know a kind resets the stream with UNKNOWN_TARGET, so adding a kind is a
safe change. Extra keys are ignored.
"""

from __future__ import annotations

from typing import Any

INBOUND = "inbound"
CONNECT = "connect"
VOLUME = "volume"


def inbound(*, port: int, peer: str = "") -> dict[str, Any]:
    return {"kind": INBOUND, "port": port, "peer": peer}


def connect(*, host: str, port: int) -> dict[str, Any]:
    return {"kind": CONNECT, "host": host, "port": port}


def volume(*, path: str) -> dict[str, Any]:
    return {"kind": VOLUME, "path": path}


def port_of(target: dict[str, Any]) -> int | None:
    """The target's TCP port when it is an integer in 1..65535, else None."""
    port = target.get("port")
    return port if type(port) is int and 1 <= port <= 65535 else None


def describe(target: dict[str, Any]) -> str:
    """A short human form for logs: `connect db.ns:5432`, `inbound :8080`, `volume /data`."""
    kind = target.get("kind")
    if kind == CONNECT:
        return f"connect {target.get('host')}:{target.get('port')}"
    if kind == INBOUND:
        return f"inbound :{target.get('port')}"
    if kind == VOLUME:
        return f"volume {target.get('path')}"
    return f"{kind}"
