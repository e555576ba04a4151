"""workspace/executeCommand as one cancellable request whose handler can read the request's params.

pygls 2.1 runs a command as a second step of its built-in executeCommand handler (a generator that
yields the command's handler): the command's handler never sees the request's params, so not its
`workDoneToken`; and a `$/cancelRequest` cancels only the outer request's future, so the client is
told "cancelled" at once while the command keeps running (a connect would finish and stay connected).

`CommandProtocol`, given to pygls as its public `protocol_cls`, replaces that built-in handler (with
pygls' public `lsp_method` decorator) by a coroutine that runs the command's handler itself. pygls
runs a coroutine handler as the request's asyncio task and cancels that task on `$/cancelRequest`,
so the cancellation reaches whatever the command awaits; a command that undoes its work on
`CancelledError` answers only once the undo is done. The argument checks stay pygls' own: the
built-in generator is driven to its first step, which raises InvalidParams for an unknown command or
arguments that do not fit the handler's annotations; its message is made to say which field is wrong
(pygls' says "While structuring NamespacesArguments (1 sub-exception)").

`current_params()` gives the running command the request's `ExecuteCommandParams`.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
from collections.abc import Iterable
from typing import Any

import cattrs
from lsprotocol import types
from pygls import exceptions, feature_manager
from pygls import protocol as pygls_protocol

_params: contextvars.ContextVar[types.ExecuteCommandParams | None] = contextvars.ContextVar(
    "kubelocal_execute_command_params", default=None
)


def current_params() -> types.ExecuteCommandParams | None:
    """The params of the executeCommand request the calling code runs for (None outside one)."""
    return _params.get()


def invalid_params_message(command: str, cause: BaseException | None, *, commands: Iterable[str]) -> str:
    """What pygls' InvalidParams for an executeCommand request means, and what to send instead.

    `cause` is what pygls caught: a ValueError for an unknown command, cattrs' validation errors
    for arguments that do not fit the handler's annotations (turned into one line per field)."""
    if command not in commands:
        return f"There is no command {command!r}. This server's commands: {', '.join(sorted(commands))}."
    if isinstance(cause, cattrs.BaseValidationError):
        details = "; ".join(cattrs.transform_error(cause))
    else:
        details = str(cause) if cause is not None else "unknown reason"
    return (
        f"The arguments of {command} do not fit ({details}). Send one object with the fields the "
        "kubelocal editor contract (contract.json) names for this command."
    )


class CommandProtocol(pygls_protocol.LanguageServerProtocol):
    @pygls_protocol.lsp_method(types.WORKSPACE_EXECUTE_COMMAND)
    async def lsp_workspace__execute_command(self, params: types.ExecuteCommandParams) -> Any:  # type: ignore[override]
        steps = super().lsp_workspace__execute_command(params)
        try:
            handler, args, kwargs = next(steps)
        except exceptions.JsonRpcInvalidParams as error:
            raise exceptions.JsonRpcInvalidParams(
                invalid_params_message(params.command, error.__context__, commands=self.fm.commands)
            ) from error
        # The request's task runs in a copy of the context: this value is seen by this command only.
        _params.set(params)
        if feature_manager.is_thread_function(handler):
            result = await asyncio.to_thread(handler, *args, **kwargs)
        else:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                result = await result
        try:
            steps.send(result)
        except StopIteration as finished:
            return finished.value
        raise RuntimeError("pygls' executeCommand handler asked for a second step")
