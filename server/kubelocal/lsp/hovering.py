"""textDocument/hover: the schema's documentation for a key or a feature, what a token refers to.

Keys and features are found on the cursor's line (so hover works while the file does not parse); tokens come
from the model of the current version's check. `expand` is left None until a connection feature
sets it (see `hovers.Expand`).
"""

from __future__ import annotations

from lsprotocol import types

from kubelocal.config import problems
from kubelocal.lsp import hovers
from kubelocal.lsp import server as lsp_server


async def hover(ls: lsp_server.KubelocalLanguageServer, params: types.HoverParams) -> types.Hover | None:
    uri = params.text_document.uri
    index = ls.text_index(uri)
    if index is None:
        return None
    cursor = index.to_code_points(params.position)
    documented = hovers.key_markdown(index.lines, cursor, schema=ls.schema, sections=ls.sections)
    if documented is not None:
        text, key = documented
        where = types.Range(
            start=index.code_points_to_lsp(problems.Position(key.line, key.start)),
            end=index.code_points_to_lsp(problems.Position(key.line, key.end)),
        )
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text), range=where
        )
    item = hovers.sequence_item_markdown(index.lines, cursor, schema=ls.schema)
    if item is not None:
        text, start, end = item
        where = types.Range(
            start=index.code_points_to_lsp(problems.Position(cursor.line, start)),
            end=index.code_points_to_lsp(problems.Position(cursor.line, end)),
        )
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text), range=where
        )
    checked, config = await ls.checked_model(uri)
    if checked is None or config is None:
        return None
    token = hovers.token_at(config, checked.index.to_checker(params.position))
    if token is None or token.span is None:
        return None
    text = hovers.token_markdown(token, config=config, snapshot=ls.cluster_names(), expand=ls.expand_token)
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
        range=checked.index.to_lsp_range(token.span),
    )


def register(server: lsp_server.KubelocalLanguageServer) -> None:
    server.feature(types.TEXT_DOCUMENT_HOVER)(hover)
