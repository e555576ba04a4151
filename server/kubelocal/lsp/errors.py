"""Errors of the language server.

    LanguageServerError          base of every error this package raises on purpose
    └── (commands add theirs here: a later feature's connect/disconnect failures, each turned
         into an LSP error response whose message says what to do next)

Today nothing in the editing features raises on purpose: a problem in the file is a diagnostic, a
setting of the wrong type is ignored with a window/logMessage, an unreachable cluster is an error
snapshot in the cluster catalog (completion goes on with the static items), and a bug in the
checker becomes one `check-failed` diagnostic instead of a crash.
"""

from __future__ import annotations


class LanguageServerError(Exception):
    """Base of the language server's errors; the message says what is wrong and what to do."""
