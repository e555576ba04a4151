"""The `kubelocal` command line.

Each command group lives in its own module with a `register(subparsers)` function that adds its
parser and sets `handler` (a function taking the parsed namespace and returning an exit code).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import kubelocal
from kubelocal.cli import config_commands, sandbox_commands, session_commands

# One line per command group; the order is the order of `kubelocal --help`.
COMMAND_GROUPS: list = [
    config_commands,
    sandbox_commands,
    session_commands,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kubelocal",
        description="Run and debug one service on your workstation while it stays connected to its cluster.",
    )
    parser.add_argument("--version", action="version", version=f"kubelocal {kubelocal.__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in COMMAND_GROUPS:
        group.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(handler(args))
    except KeyboardInterrupt:
        print("kubelocal: interrupted", file=sys.stderr)
        return 130
