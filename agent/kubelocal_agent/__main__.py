"""Entry point: `python agent.pyz [serve] ...` runs the agent, `python agent.pyz restore ...` the
restore mode. The session token is read from the environment or a file, never from the command
line, where any process in the pod could read it."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from kubelocal_agent import memory, restore, serving

TOKEN_ENV = "KUBELOCAL_AGENT_TOKEN"
PORTS_ENV = "KUBELOCAL_AGENT_PORTS"


def parse_ports(text: str) -> tuple[int, ...]:
    """`"80,8080"` -> (80, 8080); raises ValueError naming the bad entry."""
    ports: list[int] = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        if not item.isdigit() or not 0 <= int(item) <= 65535:
            raise ValueError(f"port {item!r} is not an integer in 0..65535")
        ports.append(int(item))
    return tuple(ports)


def serve_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kubelocal-agent", description="The kubelocal agent.")
    parser.add_argument("--ports", default=os.environ.get(PORTS_ENV, ""), help=f"service ports ({PORTS_ENV})")
    parser.add_argument("--service-host", default="0.0.0.0")
    parser.add_argument("--control-host", default="127.0.0.1")
    parser.add_argument("--control-port", type=int, default=serving.DEFAULT_CONTROL_PORT)
    parser.add_argument("--status-host", default="0.0.0.0")
    parser.add_argument("--status-port", type=int, default=serving.DEFAULT_STATUS_PORT)
    parser.add_argument("--token-file", type=Path, help=f"file holding the session token (else {TOKEN_ENV})")
    parser.add_argument("--heartbeat-interval", type=float, default=5.0)
    parser.add_argument("--heartbeat-timeout", type=float, default=20.0)
    return parser


def _token(token_file: Path | None) -> str:
    if token_file is not None:
        return token_file.read_text().strip()
    return os.environ.get(TOKEN_ENV, "").strip()


def _raise_open_file_limit() -> None:
    """Every carried connection costs a descriptor: lift the soft limit (often 1024) to the hard one."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Windows, where the agent does not run anyway
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            logging.getLogger(__name__).warning("could not raise the open-file limit from %d", soft)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if argv[:1] == ["restore"]:
        return restore.main(argv[1:])
    if argv[:1] == ["serve"]:
        argv = argv[1:]
    parser = serve_parser()
    args = parser.parse_args(argv)
    try:
        ports = parse_ports(args.ports)
        token = _token(args.token_file)
    except (ValueError, OSError) as error:
        parser.error(str(error))
    if not token:
        parser.error(f"no session token: set {TOKEN_ENV} or pass --token-file")
    config = serving.AgentConfig(
        token=token,
        service_ports=ports,
        service_host=args.service_host,
        control_host=args.control_host,
        control_port=args.control_port,
        status_host=args.status_host,
        status_port=args.status_port,
        heartbeat_interval=args.heartbeat_interval,
        heartbeat_timeout=args.heartbeat_timeout,
    )
    _raise_open_file_limit()
    memory.keep_freed_buffers()
    try:
        asyncio.run(serving.run(config))
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
