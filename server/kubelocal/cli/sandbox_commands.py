"""`kubelocal sandbox up|down|status|kubeconfig`: a local cluster for the demo and the tests."""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

from kubelocal.sandbox import commands


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sandbox",
        help="a local Kubernetes cluster (pods are local processes) for trying kubelocal",
        description="Run a local Kubernetes API server whose pods are processes on this machine. "
        "kubectl and the official clients use it through the kubeconfig it writes.",
    )
    actions = parser.add_subparsers(dest="sandbox_command", metavar="ACTION", required=True)

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--state-dir",
            type=pathlib.Path,
            default=None,
            help=f"where the sandbox keeps its state (default ${commands.STATE_ENV} or ~/.kubelocal/sandbox)",
        )

    up = actions.add_parser("up", help="start the sandbox (in the background unless --foreground)")
    common(up)
    up.add_argument("--foreground", action="store_true", help="stay attached; Ctrl-C stops the sandbox")
    up.add_argument("--port", type=int, default=0, help="API server port on 127.0.0.1 (default: a free one)")
    up.set_defaults(handler=_up)

    down = actions.add_parser("down", help="stop the sandbox and remove everything it made")
    common(down)
    down.set_defaults(handler=_down)

    status = actions.add_parser("status", help="say whether the sandbox runs, where, and how many pods")
    common(status)
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(handler=_status)

    kubeconfig = actions.add_parser("kubeconfig", help="print the kubeconfig path (or its content)")
    common(kubeconfig)
    kubeconfig.add_argument("--show", action="store_true", help="print the kubeconfig's content instead")
    kubeconfig.set_defaults(handler=_kubeconfig)


def _state_dir(args: argparse.Namespace) -> pathlib.Path:
    return (args.state_dir or commands.default_state_dir()).expanduser().resolve()


def _fail(error: commands.CommandError) -> int:
    print(f"kubelocal sandbox: {error}", file=sys.stderr)
    return 1


def _up(args: argparse.Namespace) -> int:
    state_dir = _state_dir(args)
    try:
        if args.foreground:
            return commands.run_foreground(state_dir=state_dir, port=args.port)
        state = commands.up(state_dir=state_dir, port=args.port)
    except commands.CommandError as error:
        return _fail(error)
    print(commands.usage(state, state_dir))
    return 0


def _down(args: argparse.Namespace) -> int:
    try:
        done = commands.down(state_dir=_state_dir(args))
    except commands.CommandError as error:
        return _fail(error)
    for line in done:
        print(line)
    return 0


def _status(args: argparse.Namespace) -> int:
    current = commands.status(state_dir=_state_dir(args))
    if args.json:
        print(json.dumps(current.__dict__, sort_keys=True))
    elif current.running:
        pods = "unknown" if current.pods is None else str(current.pods)
        print(f"running: API {current.server}, pid {current.pid}, {pods} pods")
        print(f"kubeconfig: {current.kubeconfig}")
        if current.mode:
            print(f"pod network: {current.mode}")
    else:
        print("not running (start it with `kubelocal sandbox up`)")
    return 0 if current.running else 3


def _kubeconfig(args: argparse.Namespace) -> int:
    try:
        path = commands.kubeconfig_path(state_dir=_state_dir(args))
    except commands.CommandError as error:
        return _fail(error)
    print(path.read_text() if args.show else path, end="" if args.show else "\n")
    return 0
