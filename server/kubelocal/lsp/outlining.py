"""textDocument/documentSymbol: the outline of env names, volume mounts and features.

A tree for clients that support hierarchical symbols (VS Code does), else a flat list.
"""

from __future__ import annotations

from lsprotocol import types

from kubelocal.lsp import outlines
from kubelocal.lsp import server as lsp_server


def _hierarchical(ls: lsp_server.KubelocalLanguageServer) -> bool:
    text_document = ls.client_capabilities.text_document
    symbols = text_document.document_symbol if text_document else None
    return bool(symbols and symbols.hierarchical_document_symbol_support)


async def document_symbols(
    ls: lsp_server.KubelocalLanguageServer, params: types.DocumentSymbolParams
) -> list[types.DocumentSymbol] | list[types.SymbolInformation] | None:
    checked, config = await ls.checked_model(params.text_document.uri)
    if checked is None:
        return None
    tree = outlines.symbols(config, index=checked.index)
    if _hierarchical(ls):
        return tree
    return outlines.flattened(tree, uri=params.text_document.uri)


def register(server: lsp_server.KubelocalLanguageServer) -> None:
    server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)(document_symbols)
