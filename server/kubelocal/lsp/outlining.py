"""textDocument/documentSymbol: the outline of env names, volume mounts and features."""

from __future__ import annotations

from lsprotocol import types

from kubelocal.lsp import outlines
from kubelocal.lsp import server as lsp_server


async def document_symbols(
    ls: lsp_server.KubelocalLanguageServer, params: types.DocumentSymbolParams
) -> list[types.DocumentSymbol] | None:
    checked = await ls.checked(params.text_document.uri)
    if checked is None:
        return None
    config = checked.result.model if checked.result is not None else None
    return outlines.symbols(config, index=checked.index)


def register(server: lsp_server.KubelocalLanguageServer) -> None:
    server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)(document_symbols)
