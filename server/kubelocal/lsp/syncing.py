"""Open, change, close: diagnostics published after typing pauses, only for the current version.

On open and on each change the document's check is (re)scheduled `diagnosticsDelayMs` later; a newer
change cancels the pending one, so a burst of typing is checked once. Before publishing, the server
checks that the version it checked is still the document's version: the diagnostics of an outdated
version are never published, and each publication names its version. Closing a document cancels its
pending check and clears its diagnostics.
"""

from __future__ import annotations

import asyncio

from lsprotocol import types

from kubelocal.lsp import server as lsp_server


async def publish_after_delay(server: lsp_server.KubelocalLanguageServer, uri: str) -> None:
    delay = server.settings.diagnostics_delay_seconds
    if delay > 0:
        await asyncio.sleep(delay)
    checked = await server.checked(uri)
    # No await between this test and the publication: the version cannot change in between.
    if checked is None or not server.is_current(uri, checked.version):
        return
    server.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(uri=uri, diagnostics=checked.diagnostics, version=checked.version)
    )
    server.published.add(uri)


def clear(server: lsp_server.KubelocalLanguageServer, uri: str) -> None:
    """Withdraw the diagnostics published for `uri`, if any."""
    if uri in server.published:
        server.published.discard(uri)
        server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


def schedule(server: lsp_server.KubelocalLanguageServer, uri: str) -> None:
    if server.document(uri) is None:
        return
    pending = server.pending_diagnostics.pop(uri, None)
    if pending is not None:
        pending.cancel()
    task = asyncio.ensure_future(publish_after_delay(server, uri))
    server.pending_diagnostics[uri] = task

    def done(finished: asyncio.Task[None]) -> None:
        if server.pending_diagnostics.get(uri) is finished:
            del server.pending_diagnostics[uri]
        if not finished.cancelled() and finished.exception() is not None:
            server.log(f"checking {uri} failed: {finished.exception()!r}", level=types.MessageType.Error)

    task.add_done_callback(done)


def register(server: lsp_server.KubelocalLanguageServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: lsp_server.KubelocalLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        schedule(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: lsp_server.KubelocalLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        schedule(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: lsp_server.KubelocalLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.forget(uri)
        clear(ls, uri)
