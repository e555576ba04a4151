"""The `kubelocal.server.*` commands (workspace/executeCommand) of the editor contract.

`contract.json` (next to this module) names the commands, their arguments and results, and the
`kubelocal/sessionChanged` notification; the VS Code extension codes against the same file.

- Pickers' data (`contexts`, `namespaces`, `services`) from the kubeconfig of the server's
  environment (`KUBECONFIG`, else ~/.kube/config); the kubeconfig is parsed off the event loop.
- `connect` runs the CLI's engine (`engine.connecting.connect`) inside the server process: each
  engine step is one work-done progress report, on the client's `workDoneToken` when it sent one,
  else on a token the server creates. A client cancel (`$/cancelRequest` for the request, or
  `window/workDoneProgress/cancel` for the token) cancels the engine, which undoes what it did
  before re-raising; the command then fails with RequestCancelled, once the undo is done. The
  connection keeps running in the server after the command returns the Session.
- `disconnect`, `status`, `env` and `launchConfiguration` work on the server's own session or on
  a session found in the session state on disk (`following.Follower`).

Failures are LSP errors (`JsonRpcServerError`, code `COMMAND_FAILED`) whose message is the engine's
or kube layer's, which already says what to do next.

The request's params (its `workDoneToken`) and its cancellation reach the handlers through
`executing.CommandProtocol`, the server's pygls protocol class.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import pathlib
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs
from lsprotocol import types
from pygls import exceptions

from kubelocal.engine import errors as engine_errors
from kubelocal.engine import launches
from kubelocal.kube import errors as kube_errors
from kubelocal.kube import resources
from kubelocal.lsp import executing, following
from kubelocal.lsp import server as lsp_server

if TYPE_CHECKING:
    # The engine and the kube layer's client bring aiohttp and the kubernetes client (about 30 MB):
    # the shell below imports them on a command's first use, so an editor that only edits files
    # never pays for them.
    from kubelocal.engine import connecting
    from kubelocal.kube import requesting

CONTRACT_PATH = pathlib.Path(__file__).with_name("contract.json")
COMMAND_FAILED = -32001  # in the server-defined range: "the command ran and failed; see message"

STEP_TITLES = {  # the engine's steps, in its order (`engine.connecting`)
    "recover": "Cleaning up crashed sessions",
    "resolve": "Finding the service's workload",
    "restore-data": "Saving restore data in the cluster",
    "replace": "Replacing the container with the kubelocal agent",
    "agent-ready": "Waiting for the agent",
    "restore-job": "Starting the restore job",
    "endpoints": "Choosing workstation addresses",
    "tunnel": "Opening the tunnel",
    "listeners": "Listening for the cluster's services",
    "volumes": "Downloading volume files",
    "environment": "Preparing the environment",
    "hosts": "Writing the hosts file",
}


def contract() -> dict[str, Any]:
    """The editor contract (`contract.json`)."""
    return dict(json.loads(CONTRACT_PATH.read_text(encoding="utf-8")))


def contract_command_names() -> set[str]:
    return {str(command["name"]) for command in contract()["commands"].values()}


# --- arguments (structured by pygls from the client's one argument object, camelCase keys) ------


@attrs.define
class NoArguments:
    pass


@attrs.define
class NamespacesArguments:
    context: str


@attrs.define
class ServicesArguments:
    context: str
    namespace: str


@attrs.define
class ConnectArguments:
    context: str
    namespace: str
    service: str
    workspace_folder: str
    local_ports: list[int] = attrs.field(factory=list)
    container: str | None = None
    config_file: str | None = None
    hosts_mode: str | None = None


@attrs.define
class SessionArguments:
    session_id: str | None = None


NO_ARGUMENTS = NoArguments()
ANY_SESSION = SessionArguments()


@attrs.define
class LaunchArguments:
    workspace_folder: str
    base: dict[str, Any]
    use_env_file: bool | None = None


# --- pure helpers ---------------------------------------------------------------------------------


def failure(message: str) -> exceptions.JsonRpcServerError:
    return exceptions.JsonRpcServerError(message, COMMAND_FAILED)


def context_rows(kubeconfig_document: dict[str, Any]) -> list[dict[str, Any]]:
    """The contexts of a merged kubeconfig, as the `contexts` command returns them."""
    current = kubeconfig_document.get("current-context")
    rows = []
    for entry in kubeconfig_document.get("contexts") or []:
        details = entry.get("context") or {}
        rows.append(
            {
                "name": str(entry.get("name")),
                "cluster": str(details.get("cluster") or ""),
                "namespace": str(details.get("namespace") or "default"),
                "current": entry.get("name") == current,
            }
        )
    return rows


def service_row(service: dict[str, Any]) -> dict[str, Any]:
    metadata = service.get("metadata") or {}
    ports = []
    for port in (service.get("spec") or {}).get("ports") or []:
        ports.append(
            {
                "name": str(port.get("name") or ""),
                "port": int(port.get("port") or 0),
                "targetPort": port.get("targetPort", port.get("port")),
                "protocol": str(port.get("protocol") or "TCP"),
            }
        )
    return {
        "name": str(metadata.get("name")),
        "namespace": str(metadata.get("namespace") or ""),
        "ports": ports,
    }


def step_message(step: connecting.Step) -> str:
    title = STEP_TITLES.get(step.name, step.name)
    return f"{title}: {step.message}" if step.message else title


# --- the shell ------------------------------------------------------------------------------------


def _kubeconfig_document() -> dict[str, Any]:
    from kubernetes.config import kube_config

    from kubelocal.kube import loading

    path = loading.default_kubeconfig()
    try:
        merged = kube_config.KubeConfigMerger(path).config
        return {
            "current-context": merged.safe_get("current-context"),
            "contexts": [entry.value for entry in merged["contexts"] or []],
        }
    except Exception as error:  # the merger raises many kinds for a broken file
        raise failure(
            f"The kubeconfig {path} cannot be read ({error}). Fix it, or start the editor with KUBECONFIG "
            "pointing to a working one."
        ) from error


async def _client(context: str | None, namespace: str | None = None) -> requesting.Client:
    from kubelocal.kube import loading, requesting

    try:
        cluster = await asyncio.to_thread(loading.load, context=context or None, namespace=namespace)
    except kube_errors.KubeError as error:
        raise failure(str(error)) from error
    return requesting.Client(cluster)


@contextlib.asynccontextmanager
async def _reported() -> Any:
    """Turn the engine's and kube layer's errors (whose messages say what to do) into LSP errors."""
    try:
        yield
    except (kube_errors.KubeError, engine_errors.EngineError) as error:
        raise failure(str(error)) from error
    except OSError as error:
        raise failure(f"{error}. Check the path or the port, then try again.") from error


class Progress:
    """Work-done progress for one command: the client's token, else one the server creates."""

    def __init__(self, server: lsp_server.KubelocalLanguageServer, token: types.ProgressToken | None) -> None:
        self.server = server
        self.token = token

    async def begin(self, title: str) -> None:
        if self.token is None:
            window = self.server.client_capabilities.window
            if not (window and window.work_done_progress):
                return
            self.token = str(uuid.uuid4())
            await self.server.work_done_progress.create_async(self.token)
        self.server.work_done_progress.begin(
            self.token, types.WorkDoneProgressBegin(title=title, cancellable=True)
        )

    def report(self, message: str) -> None:
        if self.token is not None:
            self.server.work_done_progress.report(self.token, types.WorkDoneProgressReport(message=message))

    def end(self, message: str) -> None:
        if self.token is not None:
            self.server.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))

    def on_cancel(self, cancel: Callable[[], None]) -> None:
        """Call `cancel` (on the event loop) when the client cancels this progress
        (window/workDoneProgress/cancel: pygls cancels the token's future, maybe from another thread)."""
        future = self.server.work_done_progress.tokens.get(self.token) if self.token is not None else None
        if future is None:
            return
        loop = asyncio.get_running_loop()
        future.add_done_callback(lambda done: loop.call_soon_threadsafe(cancel) if done.cancelled() else None)


def register(server: lsp_server.KubelocalLanguageServer) -> None:
    follower = following.Follower(server)
    server.follower = follower  # type: ignore[attr-defined]
    server.expand_token = follower.expand_token
    server.focus_on_session = follower.completion_snapshot
    # Re-attach once the client is initialized (the configuring feature owns that notification).
    server.after_initialized.append(follower.start)

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: lsp_server.KubelocalLanguageServer, params: None) -> None:
        # A session this server runs ends with it: restore the workload now rather than leave it to
        # the restore Job's grace period.
        await follower.shutdown()

    @server.command("kubelocal.server.contexts")
    async def contexts(ls: lsp_server.KubelocalLanguageServer, arguments: NoArguments = NO_ARGUMENTS) -> Any:
        return context_rows(await asyncio.to_thread(_kubeconfig_document))

    @server.command("kubelocal.server.namespaces")
    async def namespaces(ls: lsp_server.KubelocalLanguageServer, arguments: NamespacesArguments) -> Any:
        from kubelocal.kube import fetching

        async with _reported(), await _client(arguments.context) as client:
            listed = await fetching.list_objects(client, resources.NAMESPACES)
        return sorted(str(item["metadata"]["name"]) for item in listed)

    @server.command("kubelocal.server.services")
    async def services(ls: lsp_server.KubelocalLanguageServer, arguments: ServicesArguments) -> Any:
        from kubelocal.kube import fetching

        async with _reported(), await _client(arguments.context, arguments.namespace) as client:
            listed = await fetching.list_objects(client, resources.SERVICES, namespace=arguments.namespace)
        return sorted((service_row(item) for item in listed), key=lambda row: row["name"])

    @server.command("kubelocal.server.connect")
    async def connect(ls: lsp_server.KubelocalLanguageServer, arguments: ConnectArguments) -> Any:
        params = executing.current_params()
        progress = Progress(ls, params.work_done_token if params is not None else None)
        await progress.begin(f"Connecting {arguments.service} in {arguments.namespace}")
        # `$/cancelRequest` cancels this request's task (see `executing`); a progress cancel does too.
        request_task = asyncio.current_task()
        if request_task is not None:
            progress.on_cancel(request_task.cancel)
        try:
            async with _reported():
                session = await follower.connect(arguments, on_step=progress.report)
        except asyncio.CancelledError:
            progress.end("Cancelled; everything done so far was undone")
            raise exceptions.JsonRpcRequestCancelled(
                "Connecting was cancelled; everything done so far was undone."
            ) from None
        except BaseException:
            progress.end("Failed")
            raise
        progress.end("Connected")
        return session

    @server.command("kubelocal.server.disconnect")
    async def disconnect(
        ls: lsp_server.KubelocalLanguageServer, arguments: SessionArguments = ANY_SESSION
    ) -> Any:
        async with _reported():
            await follower.disconnect(arguments.session_id)
        return None

    @server.command("kubelocal.server.status")
    async def status(ls: lsp_server.KubelocalLanguageServer, arguments: NoArguments = NO_ARGUMENTS) -> Any:
        return follower.status()

    @server.command("kubelocal.server.env")
    async def env(ls: lsp_server.KubelocalLanguageServer, arguments: SessionArguments = ANY_SESSION) -> Any:
        async with _reported():
            variables, env_file = follower.environment(arguments.session_id)
        return {"env": variables, "envFile": env_file}

    @server.command("kubelocal.server.launchConfiguration")
    async def launch_configuration(ls: lsp_server.KubelocalLanguageServer, arguments: LaunchArguments) -> Any:
        # The request's own choice wins over the `useEnvFile` setting.
        use_env_file = ls.settings.use_env_file if arguments.use_env_file is None else arguments.use_env_file
        async with _reported():
            variables, env_file = follower.environment(None)
            plan = launches.with_kubernetes(
                arguments.base,
                variables=variables,
                redirected=follower.redirected(),
                env_file=env_file if use_env_file else None,
            )
        for note in plan.notes:
            ls.log(note)
        listen = plan.listen_ports[0] if plan.listen_ports else 0
        return {"configuration": plan.configuration, "listenPort": listen}
