"""Errors of the language server.

    LanguageServerError          base of every error this package raises on purpose (none yet)

The `kubelocal.server.*` commands (`commanding`) raise no exception type of their own: the engine's
(`engine.errors.EngineError`, including `following.NoSession` for "connect first") and the kube
layer's (`kube.errors.KubeError`) already say what to do, and are returned to the client as an LSP
error response (`pygls.exceptions.JsonRpcServerError`, code `commanding.COMMAND_FAILED`) carrying
that message; a cancelled connect answers RequestCancelled.

Today nothing in the editing features raises on purpose: a problem in the file is a diagnostic, a
setting of the wrong type is ignored with a window/logMessage, an unreachable cluster is an error
snapshot in the cluster catalog (completion goes on with the static items), and a bug in the
checker becomes one `check-failed` diagnostic instead of a crash.
"""

from __future__ import annotations


class LanguageServerError(Exception):
    """Base of the language server's errors; the message says what is wrong and what to do."""
