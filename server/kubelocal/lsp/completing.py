"""textDocument/completion: answers at once from the text and what the cluster catalog knows.

The cursor's context comes from the latest text, line by line (`cursor_contexts`), so completion works
in half-typed, invalid YAML and never waits for a check or for the cluster: the catalog answers with
its last snapshot and refreshes itself in the background when that is stale. While a session is
connected, the names are seen from it: its namespace's services, the replaced container's volumes.
"""

from __future__ import annotations

from lsprotocol import types

from kubelocal.config import problems
from kubelocal.kube import cataloging
from kubelocal.lsp import completions, cursor_contexts
from kubelocal.lsp import server as lsp_server

TRIGGER_CHARACTERS = ["$", "(", ":", ".", ",", "-", " "]


def _supports_as_is(ls: lsp_server.KubelocalLanguageServer) -> bool:
    capabilities = ls.client_capabilities.text_document
    completion = capabilities.completion if capabilities else None
    item = completion.completion_item if completion else None
    support = item.insert_text_mode_support if item else None
    return bool(support and types.InsertTextMode.AsIs in support.value_set)


def complete(
    ls: lsp_server.KubelocalLanguageServer, params: types.CompletionParams
) -> types.CompletionList | None:
    index = ls.text_index(params.text_document.uri)
    if index is None:
        return None
    cursor = index.to_code_points(params.position)
    context = cursor_contexts.analyse(index.lines, cursor, sections=ls.sections)
    if context.place is cursor_contexts.Place.NOWHERE:
        return types.CompletionList(is_incomplete=False, items=[])
    replace = types.Range(
        start=index.code_points_to_lsp(problems.Position(cursor.line, context.replace_start)),
        end=index.code_points_to_lsp(problems.Position(cursor.line, max(context.replace_end, cursor.column))),
    )
    snapshot = ls.cluster_names() if ls.settings.cluster_completion else cataloging.EMPTY
    line = index.line(cursor.line)
    items = completions.items(
        context,
        schema=ls.schema,
        snapshot=snapshot,
        replace=replace,
        line_indent=len(line) - len(line.lstrip(" \t")),
        absolute_indent=_supports_as_is(ls),
    )
    # Incomplete while the cluster has not answered yet: the client asks again as the user types.
    waiting = ls.settings.cluster_completion and snapshot.read_at is None and _offers_cluster_names(context)
    return types.CompletionList(is_incomplete=waiting, items=items)


_CLUSTER_PLACES = {
    cursor_contexts.Place.SERVICE_NAME,
    cursor_contexts.Place.SERVICE_NAMESPACE,
    cursor_contexts.Place.SERVICE_PORT,
    cursor_contexts.Place.VOLUME_NAME,
}
_CLUSTER_VALUES = {("env", cursor_contexts.ITEM, "value"), ("volumeMounts", cursor_contexts.ITEM, "name")}


def _offers_cluster_names(context: cursor_contexts.CursorContext) -> bool:
    if context.place is cursor_contexts.Place.VALUE:
        return context.path in _CLUSTER_VALUES
    return context.place in _CLUSTER_PLACES


def register(server: lsp_server.KubelocalLanguageServer) -> None:
    server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=TRIGGER_CHARACTERS, resolve_provider=False),
    )(complete)
