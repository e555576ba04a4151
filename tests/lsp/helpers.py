"""Helpers for the language server's end-to-end tests: start it, open files, wait for diagnostics.

The server runs as a subprocess (`python -m kubelocal.lsp`) speaking JSON-RPC over stdio to a
pytest-lsp client that declares VS Code's capabilities; every publishDiagnostics notification is
recorded (`client.published`), not only the last one per file, so tests can prove that no outdated
version was ever published.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest_lsp
from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import client as lsp_client

SERVER_COMMAND = [sys.executable, "-m", "kubelocal.lsp"]
# Never the developer's own cluster: a kubeconfig path that does not exist, unless a test sets one.
NO_KUBECONFIG = "/nonexistent/kubelocal-tests/kubeconfig"


def server_env(**overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env["KUBECONFIG"] = NO_KUBECONFIG
    env.update(overrides)
    return env


class RecordingClient(lsp_client.LanguageClient):
    published: list[types.PublishDiagnosticsParams]


def make_recording_client() -> RecordingClient:
    client = RecordingClient(converter_factory=default_converter)
    client.published = []

    def publish_diagnostics(client: RecordingClient, params: types.PublishDiagnosticsParams) -> None:
        client.published.append(params)
        client.diagnostics[params.uri] = params.diagnostics

    features = dict(lsp_client.DEFAULT_CLIENT_FEATURES)
    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = publish_diagnostics
    lsp_client.register_lsp_features(client, features)
    return client


def client_server_config(**env: str) -> pytest_lsp.ClientServerConfig:
    return pytest_lsp.ClientServerConfig(
        server_command=SERVER_COMMAND, server_env=server_env(**env), client_factory=make_recording_client
    )


async def initialize(client: lsp_client.LanguageClient, options: dict[str, Any] | None = None) -> None:
    await client.initialize_session(
        types.InitializeParams(
            capabilities=pytest_lsp.client_capabilities("visual-studio-code"),
            initialization_options=options if options is not None else {"diagnosticsDelayMs": 10},
        )
    )


_counter = iter(range(1_000_000))


def config_uri(folder: str = "project") -> str:
    """A fresh URI of a file named KubernetesLocalProcessConfig.yaml (the file need not exist)."""
    return f"file:///workspace/{folder}-{next(_counter)}/KubernetesLocalProcessConfig.yaml"


def open_document(client: lsp_client.LanguageClient, uri: str, text: str, *, version: int = 1) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="yaml", version=version, text=text)
        )
    )


def replace_all(client: lsp_client.LanguageClient, uri: str, text: str, *, version: int) -> None:
    """Send a full-text change (what a client does after a big edit)."""
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


async def published_for(
    client: RecordingClient, uri: str, *, version: int | None = None, timeout: float = 10.0
) -> types.PublishDiagnosticsParams:
    """The latest diagnostics published for `uri` (of `version`, when given), waiting for them."""
    deadline = time.monotonic() + timeout
    while True:
        for params in reversed(client.published):
            if params.uri == uri and (version is None or params.version == version):
                return params
        if time.monotonic() > deadline:
            raise AssertionError(f"no diagnostics for {uri} version {version} within {timeout} s")
        await asyncio.sleep(0.01)


def codes(params: types.PublishDiagnosticsParams) -> list[str]:
    return [str(diagnostic.code) for diagnostic in params.diagnostics]


def position(line: int, character: int) -> types.Position:
    return types.Position(line=line, character=character)


def lsp_range(start: tuple[int, int], end: tuple[int, int]) -> types.Range:
    return types.Range(start=position(*start), end=position(*end))


@contextlib.asynccontextmanager
async def running_server(
    *, options: dict[str, Any] | None = None, **env: str
) -> AsyncIterator[RecordingClient]:
    """A started and initialized server (for fixtures whose environment is known only at run time)."""
    client = await client_server_config(**env).start()
    assert isinstance(client, RecordingClient)
    try:
        await initialize(client, options)
        yield client
        await asyncio.wait_for(client.shutdown_session(), 10)
    finally:
        # After a failure the server was never told to exit, and stop() waits for it: end it first.
        if client._server is not None and client._server.returncode is None:
            client._server.kill()
        await client.stop()


async def complete(
    client: lsp_client.LanguageClient, uri: str, line: int, character: int
) -> types.CompletionList:
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=position(line, character)
        )
    )
    assert isinstance(result, types.CompletionList)
    return result


async def complete_at_bar(client: lsp_client.LanguageClient, text: str) -> types.CompletionList:
    """Open `text` (ASCII) as a fresh config file and complete at its `|` (the bar is removed)."""
    before, _, after = text.partition("|")
    uri = config_uri()
    open_document(client, uri, before + after)
    lines = before.split("\n")
    return await complete(client, uri, len(lines) - 1, len(lines[-1]))


def labels(result: types.CompletionList) -> list[str]:
    return [item.label for item in result.items]


def apply_edits(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP edits (UTF-16 ranges) to `text`, as an editor does: from the last to the first."""
    lines = text.split("\n")

    def offset(where: types.Position) -> int:
        before = sum(len(line) + 1 for line in lines[: where.line])
        line = lines[where.line] if where.line < len(lines) else ""
        units = 0
        for index, character in enumerate(line):
            if units >= where.character:
                return before + index
            units += 2 if ord(character) > 0xFFFF else 1
        return before + len(line)

    for edit in sorted(
        edits, key=lambda edit: (edit.range.start.line, edit.range.start.character), reverse=True
    ):
        start, end = offset(edit.range.start), offset(edit.range.end)
        text = text[:start] + edit.new_text + text[end:]
        lines = text.split("\n")
    return text
