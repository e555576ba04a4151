"""textDocument/codeAction: quick fixes from the checker's fixes, carried in the diagnostics.

A diagnostic of the current version carries its fixes in `data`; one of an older version is matched
against the current check (see `diagnostics.quick_fixes`), so a fix never edits text that moved.
"""

from __future__ import annotations

from lsprotocol import types

from kubelocal.lsp import diagnostics
from kubelocal.lsp import server as lsp_server


def _supports_document_changes(ls: lsp_server.KubelocalLanguageServer) -> bool:
    workspace = ls.client_capabilities.workspace
    edit = workspace.workspace_edit if workspace else None
    return bool(edit and edit.document_changes)


async def code_actions(
    ls: lsp_server.KubelocalLanguageServer, params: types.CodeActionParams
) -> list[types.CodeAction] | None:
    only = params.context.only
    if only and not any(types.CodeActionKind.QuickFix.value.startswith(kind) for kind in only):
        return None
    checked = await ls.checked(params.text_document.uri)
    if checked is None:
        return None
    return diagnostics.quick_fixes(
        params.context.diagnostics,
        uri=params.text_document.uri,
        version=checked.version,
        current=checked.diagnostics,
        versioned_edits=_supports_document_changes(ls),
    )


def register(server: lsp_server.KubelocalLanguageServer) -> None:
    server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
    )(code_actions)
