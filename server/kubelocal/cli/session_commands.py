"""`kubelocal connect | disconnect | status | env | list services`.

`connect` redirects a cluster service to this workstation and prints each step with its duration
(JSON lines with `--json`). With `-- COMMAND ...` it runs COMMAND with the cluster's environment
and disconnects when COMMAND exits (its exit status becomes kubelocal's) or on Ctrl-C/SIGTERM;
without COMMAND it stays connected until Ctrl-C, SIGTERM or `kubelocal disconnect`.
Exit status: 0 done, 1 a cluster or session error (the message says what to do), 2 usage.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from kubelocal import eventloops
from kubelocal.cli import config_commands
from kubelocal.config import checking, problems
from kubelocal.engine import connecting, endpoints, environment, recording
from kubelocal.engine import errors as engine_errors
from kubelocal.kube import errors as kube_errors
from kubelocal.kube import fetching, loading, requesting, resources

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def register(subparsers: argparse._SubParsersAction) -> None:
    connect = subparsers.add_parser(
        "connect", help="redirect a cluster service to this workstation", description=__doc__.split("\n\n")[1]
    )
    connect.add_argument("--service", required=True, help="the service whose traffic comes here")
    _cluster_options(connect)
    connect.add_argument("--container", help="the container to replace (default: chosen from the ports)")
    connect.add_argument(
        "--local-port",
        type=int,
        action="append",
        default=[],
        dest="local_ports",
        metavar="PORT",
        help="workstation port for the service's ports, in order (repeatable)",
    )
    connect.add_argument(
        "--config", type=Path, help="KubernetesLocalProcessConfig.yaml (default: ./ if present)"
    )
    connect.add_argument(
        "--hosts-mode",
        choices=("auto", "hosts", "env"),
        default="auto",
        help="hosts: names in the hosts file (admin); env: free ports and env vars only",
    )
    connect.add_argument(
        "--hosts-file", help=f"hosts file to edit (default ${connecting.HOSTS_FILE_ENV} or /etc/hosts)"
    )
    connect.add_argument(
        "--restore-timeout",
        type=float,
        default=connecting.DEFAULT_RESTORE_TIMEOUT,
        help="seconds without a session before the cluster restores on its own (default 60)",
    )
    connect.add_argument(
        "--agent-image", default=None, help="image that runs the agent (default python:3.12-slim)"
    )
    connect.add_argument("--json", action="store_true", help="JSON lines on stdout for tools")
    connect.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARGS...] to run connected")
    connect.set_defaults(handler=run_connect)

    disconnect = subparsers.add_parser("disconnect", help="end a session and restore the cluster")
    disconnect.add_argument("--session", help="session id (default: every session on this workstation)")
    disconnect.add_argument(
        "--all", action="store_true", help="every session on this workstation (the default without --session)"
    )
    disconnect.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="seconds to wait for the session's process, and for the restore rollout (default 60)",
    )
    disconnect.add_argument("--json", action="store_true")
    disconnect.set_defaults(handler=run_disconnect)

    status = subparsers.add_parser("status", help="the sessions of this workstation")
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=run_status)

    env = subparsers.add_parser("env", help="print a session's environment")
    env.add_argument("--session", help="session id (default: the newest connected session)")
    env.add_argument("--format", choices=environment.FORMATS, default="dotenv")
    env.set_defaults(handler=run_env)

    listing = subparsers.add_parser("list", help="list what can be connected")
    listing_sub = listing.add_subparsers(dest="list_command", metavar="WHAT", required=True)
    services = listing_sub.add_parser("services", help="the services of a namespace")
    _cluster_options(services)
    services.add_argument("--json", action="store_true")
    services.set_defaults(handler=run_list_services)


def _cluster_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--namespace", "-n", help="default: the context's namespace")
    parser.add_argument("--context", help="kubeconfig context (default: the current one)")
    parser.add_argument("--kubeconfig", help="default: $KUBECONFIG or ~/.kube/config")


# --- output ---------------------------------------------------------------------------------------


class Printer:
    """Steps and messages to stderr for people, or JSON lines to stdout with --json."""

    def __init__(self, *, as_json: bool) -> None:
        self.as_json = as_json

    def emit(self, event: dict[str, Any]) -> None:
        if self.as_json:
            print(json.dumps(event), flush=True)

    def step(self, step: connecting.Step) -> None:
        if self.as_json:
            self.emit(
                {
                    "event": "step",
                    "step": step.name,
                    "phase": step.phase,
                    "message": step.message,
                    "seconds": step.seconds,
                }
            )
            return
        if step.phase == "end":
            print(f"  ✓ {step.name:<12} {step.seconds:6.2f} s  {step.message}", file=sys.stderr, flush=True)
        elif step.phase == "note":
            print(f"    {step.message}", file=sys.stderr, flush=True)

    def error(self, message: str, *, kind: str = "error") -> None:
        if self.as_json:
            self.emit({"event": "error", "kind": kind, "message": message})
        print(f"kubelocal: {message}", file=sys.stderr, flush=True)

    def say(self, message: str) -> None:
        if not self.as_json:
            print(message, file=sys.stderr, flush=True)


def _client(args: argparse.Namespace) -> requesting.Client:
    cluster = loading.load(kubeconfig=args.kubeconfig, context=args.context, namespace=args.namespace)
    return requesting.Client(cluster)


def _read_config(path: Path | None, printer: Printer) -> Any:
    if path is None:
        default = Path("KubernetesLocalProcessConfig.yaml")
        if not default.exists():
            return None
        path = default
    try:
        result = checking.check_bytes(path.read_bytes())
    except OSError as error:
        raise engine_errors.EngineError(
            f"Cannot read {path}: {error.strerror}. Check the --config path."
        ) from error
    failing = [p for p in result.problems if p.severity is problems.Severity.ERROR]
    for problem in result.problems:
        if problem.severity is not problems.Severity.ERROR:
            printer.say(config_commands.format_problem(str(path), problem))
    if failing:
        # The errors are in the message itself, so `--json` readers get them too; nothing in the
        # cluster has been touched yet.
        listed = "\n".join(f"  {config_commands.format_problem(str(path), p)}" for p in failing)
        raise engine_errors.EngineError(
            f"{path} has {len(failing)} error(s):\n{listed}\n"
            f"Fix them (`kubelocal config check {path}`) and connect again; "
            "nothing was changed in the cluster."
        )
    return result.model


# --- connect ----------------------------------------------------------------------------------------


def run_connect(args: argparse.Namespace) -> int:
    command = list(args.command)
    if command[:1] == ["--"]:
        command = command[1:]
    printer = Printer(as_json=args.json)
    try:
        return eventloops.run(_connect(args, command, printer))
    except (kube_errors.KubeError, engine_errors.EngineError, OSError) as error:
        printer.error(str(error), kind=type(error).__name__)
        return EXIT_FAILED


async def _connect(args: argparse.Namespace, command: list[str], printer: Printer) -> int:
    config = _read_config(args.config, printer)
    features = frozenset(config.features) if config is not None else frozenset()
    async with _client(args) as client:
        options = connecting.Options(
            service=args.service,
            namespace=args.namespace,
            container=args.container,
            workstation_ports=tuple(args.local_ports),
            mode=args.hosts_mode,
            hosts_file=args.hosts_file,
            restore_timeout=args.restore_timeout,
            features=features,
            config=config,
            kubeconfig=args.kubeconfig or "",
            **({"agent_image": args.agent_image} if args.agent_image else {}),
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        started = time.monotonic()
        connect_task = asyncio.ensure_future(connecting.connect(client, options, progress=printer.step))
        stop_task = asyncio.ensure_future(stop.wait())
        await asyncio.wait({connect_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
        if not connect_task.done():
            connect_task.cancel()  # connect() undoes what it did before re-raising
            with contextlib.suppress(asyncio.CancelledError):
                await connect_task
            printer.error("interrupted while connecting; everything was undone", kind="Interrupted")
            return 130
        stop_task.cancel()
        session = connect_task.result()
        _announce(session, printer, seconds=time.monotonic() - started)
        exit_code = EXIT_OK
        try:
            if command:
                exit_code = await _run_command(command, session, stop)
            else:
                printer.say("Connected. Press Ctrl-C (or run `kubelocal disconnect`) to disconnect.")
                await stop.wait()
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)
            await session.disconnect()
        printer.emit({"event": "disconnected", "session": session.session_id})
        return exit_code


def _announce(session: connecting.Session, printer: Printer, *, seconds: float) -> None:
    plan = session.plan
    assert plan is not None
    summary = {
        "event": "connected",
        "session": session.session_id,
        "service": session.record.service,
        "namespace": session.namespace,
        "seconds": round(seconds, 3),
        "mode": plan.mode.value,
        "env_file": str(session.env_file),
        "redirected": [
            {"pod_port": r.container_port, "workstation_port": r.workstation_port} for r in plan.redirected
        ],
        "endpoints": [
            {
                "service": e.service,
                "namespace": e.namespace,
                "address": e.workstation_ip,
                "ports": {str(p.cluster_port): p.workstation_port for p in e.ports},
                "hostnames": list(e.hostnames),
            }
            for e in plan.endpoints
        ],
    }
    printer.emit(summary)
    printer.say(
        f"Connected {session.record.service} in {session.namespace} in {seconds:.2f} s "
        f"(session {session.session_id}, {plan.mode.value} mode)."
    )
    for redirect in plan.redirected:
        printer.say(
            f"  pod port {redirect.container_port} -> 127.0.0.1:{redirect.workstation_port} (your process)"
        )
    for endpoint in plan.endpoints:
        ports = ", ".join(f"{p.cluster_port}->{p.workstation_port}" for p in endpoint.ports)
        via = endpoint.hostnames[0] if plan.mode is endpoints.Mode.HOSTS and endpoint.hostnames else ""
        printer.say(
            f"  {endpoint.service}.{endpoint.namespace} at {endpoint.workstation_ip} ({ports}) {via}".rstrip()
        )
    printer.say(f"  environment: {session.env_file}")


async def _run_command(command: list[str], session: connecting.Session, stop: asyncio.Event) -> int:
    env = {**os.environ, **session.environment}
    try:
        process = await asyncio.create_subprocess_exec(*command, env=env)
    except OSError as error:
        raise engine_errors.EngineError(
            f"Cannot run {command[0]!r}: {error.strerror}. Check the command."
        ) from error
    waiter = asyncio.ensure_future(process.wait())
    stopper = asyncio.ensure_future(stop.wait())
    await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
    if not waiter.done():
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            await asyncio.wait_for(asyncio.shield(waiter), 10)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await waiter
    stopper.cancel()
    return int(waiter.result())


# --- disconnect, status, env, list -------------------------------------------------------------------


def run_disconnect(args: argparse.Namespace) -> int:
    printer = Printer(as_json=args.json)
    records = [r for r in recording.all_records() if args.session in (None, r.session_id)]
    if args.session and not records:
        printer.error(f"No session {args.session!r} on this workstation; `kubelocal status` lists them.")
        return EXIT_FAILED
    failed = False
    for record in records:
        try:
            eventloops.run(_disconnect(record, printer, timeout=args.timeout))
        except (kube_errors.KubeError, engine_errors.EngineError, OSError, TimeoutError) as error:
            printer.error(f"session {record.session_id}: {error}")
            failed = True
    if not records:
        printer.say("No session to disconnect.")
    return EXIT_FAILED if failed else EXIT_OK


async def _disconnect(record: recording.Record, printer: Printer, *, timeout: float) -> None:
    if record.alive and record.pid != os.getpid():
        # The process that runs the session restores on SIGTERM; wait for its file to go.
        os.kill(record.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while recording.path_of(record.session_id).exists():
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"the session's process {record.pid} did not finish within {timeout:.0f} s; "
                    "run `kubelocal disconnect` again once it has stopped"
                )
            await asyncio.sleep(0.2)
        printer.say(f"Session {record.session_id} disconnected by its process.")
        printer.emit({"event": "disconnected", "session": record.session_id})
        return
    cluster = loading.load(
        kubeconfig=record.kubeconfig or None, context=record.context, namespace=record.namespace
    )
    async with requesting.Client(cluster) as client:
        failure = await connecting.replay(client, record, progress=printer.step)
        if failure is not None:
            raise failure
        try:
            await connecting.wait_restored(client, record, timeout=timeout, progress=printer.step)
        finally:
            recording.remove(record.session_id)
    printer.say(f"Session {record.session_id} cleaned up (its process had stopped).")
    printer.emit({"event": "disconnected", "session": record.session_id})


def run_status(args: argparse.Namespace) -> int:
    described = connecting.describe_sessions(recording.all_records())
    if args.json:
        print(json.dumps(described, indent=2))
        return EXIT_OK
    if not described:
        print("No kubelocal session on this workstation.")
    for item in described:
        alive = "running" if item["alive"] else "crashed (run `kubelocal disconnect` to clean up)"
        print(
            f"{item['session']}  {item['service']} in {item['namespace']} ({item['context']})  "
            f"{item['state']}, {alive}, since {item['started']}"
        )
        if item.get("mode"):
            print(
                f"    {item['mode']} mode, agent pod {item.get('agent_pod')}, env file {item.get('env_file')}"
            )
    return EXIT_OK


def run_env(args: argparse.Namespace) -> int:
    records = [
        r
        for r in recording.all_records()
        if args.session in (None, r.session_id) and r.details.get("env_file")
    ]
    if not records:
        print(
            "kubelocal: no connected session with an environment; connect first "
            "(`kubelocal connect --service ...`).",
            file=sys.stderr,
        )
        return EXIT_FAILED
    path = Path(records[-1].details["env_file"])
    try:
        variables = environment.parse_dotenv(path.read_text(encoding="utf-8"))
    except OSError as error:
        print(f"kubelocal: cannot read {path}: {error.strerror}", file=sys.stderr)
        return EXIT_FAILED
    sys.stdout.write(environment.render(variables, args.format))
    return EXIT_OK


def run_list_services(args: argparse.Namespace) -> int:
    try:
        return eventloops.run(_list_services(args))
    except kube_errors.KubeError as error:
        print(f"kubelocal: {error}", file=sys.stderr)
        return EXIT_FAILED


async def _list_services(args: argparse.Namespace) -> int:
    async with _client(args) as client:
        await fetching.ensure_namespace(client)
        items = await fetching.list_objects(client, resources.SERVICES)
    rows = [
        {
            "name": s["metadata"]["name"],
            "namespace": s["metadata"].get("namespace", client.namespace),
            "type": (s.get("spec") or {}).get("type", "ClusterIP"),
            "ports": [p.get("port") for p in (s.get("spec") or {}).get("ports") or []],
            "selector": (s.get("spec") or {}).get("selector") or {},
        }
        for s in items
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    if not rows:
        print(f"No services in namespace {client.namespace!r}.")
    for row in rows:
        ports = ",".join(str(port) for port in row["ports"])
        print(f"{row['name']:<30} {row['type']:<12} {ports}")
    return EXIT_OK
