"""The language server survives any input and keeps answering, end to end.

Aspects: an empty file; NUL and lone-surrogate characters (what binary or non-UTF-8 bytes become
in an editor); CRLF and CR line breaks; tabs; a very long line; several YAML documents; an alias
bomb; a byte-order mark (the first line's columns count it); a 10 MB file, refused with one
diagnostic under the default size limit; a file that takes the checker half a second, checked off
the event loop, so requests on other files are answered meanwhile. For each, diagnostics are
published with ranges inside the document, and completion, hover, symbols and code actions answer
without error.
"""

from __future__ import annotations

import pytest
import pytest_lsp
from lsprotocol import types
from tests.lsp import helpers

pytestmark = [
    pytest.mark.slow,
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning"),
]

ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + level)}: &{chr(98 + level)} [{', '.join(['*' + chr(97 + level)] * 9)}]\n"
    for level in range(8)
)
INPUTS = {
    "empty": "",
    "nul-and-binary": "version: 0.1\nenv:\n  - name: A\x00B\n    value: \x01\x02\udcff\udcfe\n",
    "crlf": "version: 0.1\r\nenv:\r\n  - name: A\r\n    value: $(servics:x)\r\n",
    "cr-only": "version: 0.1\renv:\r  - name: A\r    value: yes\r",
    "tabs": "version:\t0.1\nenv:\n\t- name: A\n\t  value: b\n",
    "long-line": "version: 0.1\nenv:\n  - name: A\n    value: " + "x" * 200_000 + " $(servics:y)\n",
    "documents": "version: 0.1\n---\nversion: 0.2\n---\n- a list\n",
    "alias-bomb": ALIAS_BOMB,
    "not-a-mapping": "- just\n- a list\n",
    "emoji-keys": "😀: 1\nversion: 0.1\n",
    "byte-order-mark": "\ufeffversion: 0.2\n",
}


@pytest_lsp.fixture(scope="module", config=helpers.client_server_config())
async def client(lsp_client: helpers.RecordingClient):
    await helpers.initialize(lsp_client)
    yield
    await lsp_client.shutdown_session()


def assert_inside(text: str, lsp_range: types.Range) -> None:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for where in (lsp_range.start, lsp_range.end):
        assert 0 <= where.line < len(lines)
        assert 0 <= where.character <= len(lines[where.line].encode("utf-16-le", "surrogatepass")) // 2


async def exercise(client: helpers.RecordingClient, uri: str, text: str) -> None:
    """Every request on the document answers; every range published lies inside the document."""
    identifier = types.TextDocumentIdentifier(uri=uri)
    published = await helpers.published_for(client, uri, version=1, timeout=30)
    for diagnostic in published.diagnostics:
        assert_inside(text, diagnostic.range)
    last_line = max(0, text.count("\n") + text.count("\r") - text.count("\r\n") - 1)
    for line, character in ((0, 0), (0, 5), (last_line, 3)):
        at = helpers.position(line, character)
        await client.text_document_completion_async(
            types.CompletionParams(text_document=identifier, position=at)
        )
        await client.text_document_hover_async(types.HoverParams(text_document=identifier, position=at))
    await client.text_document_document_symbol_async(types.DocumentSymbolParams(text_document=identifier))
    if published.diagnostics:
        await client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=identifier,
                range=published.diagnostics[0].range,
                context=types.CodeActionContext(diagnostics=list(published.diagnostics)),
            )
        )


@pytest.mark.parametrize("name", INPUTS)
async def test_any_input_is_answered(client, name):
    uri = helpers.config_uri(name)
    helpers.open_document(client, uri, INPUTS[name])
    await exercise(client, uri, INPUTS[name])


async def test_expected_problems_of_some_inputs(client):
    expectations = {"empty": "empty-file", "nul-and-binary": "invalid-character", "alias-bomb": "alias-limit"}
    for name, code in expectations.items():
        uri = helpers.config_uri(name)
        helpers.open_document(client, uri, INPUTS[name])
        published = await helpers.published_for(client, uri)
        assert code in helpers.codes(published), (name, helpers.codes(published))
    # The byte-order mark is a character of the first line for the editor: columns shift by one.
    bom = helpers.config_uri("bom")
    helpers.open_document(client, bom, INPUTS["byte-order-mark"])
    [version] = (await helpers.published_for(client, bom)).diagnostics
    assert (version.code, version.range) == ("unsupported-version", helpers.lsp_range((0, 10), (0, 13)))
    crlf = helpers.config_uri("crlf")
    helpers.open_document(client, crlf, INPUTS["crlf"])
    [diagnostic] = (await helpers.published_for(client, crlf)).diagnostics
    assert diagnostic.range == helpers.lsp_range((3, 13), (3, 20))


ENTRY = "  - name: VARIABLE_{0:06d}\n    value: $(services:service-{0}.namespace:8080)/path/{0}\n"


def large_config(*, entries: int) -> str:
    return "version: 0.1\nenv:\n" + "".join(ENTRY.format(number) for number in range(entries))


def ten_megabytes() -> str:
    return large_config(entries=10_000_000 // len(ENTRY.format(0)) + 1)


async def test_a_ten_megabyte_file_is_refused_under_the_default_limit(client):
    uri = helpers.config_uri("huge")
    helpers.open_document(client, uri, ten_megabytes())
    published = await helpers.published_for(client, uri, timeout=30)
    assert helpers.codes(published) == ["file-too-large"]
    assert published.diagnostics[0].range == helpers.lsp_range((0, 0), (0, 0))


async def test_a_long_check_does_not_block_requests_on_other_files():
    # 4,000 entries take the checker about half a second (a 10 MB file takes it half a minute: the
    # default size limit refuses that, see above); the check runs beside the event loop.
    async with helpers.running_server(options={"diagnosticsDelayMs": 0}) as client:
        small = helpers.config_uri("small")
        helpers.open_document(client, small, "version: 0.1\n")
        await helpers.published_for(client, small)
        large = helpers.config_uri("large")
        helpers.open_document(client, large, large_config(entries=4_000))
        for _ in range(3):
            result = await helpers.complete(client, small, 1, 0)
            assert "env" in helpers.labels(result)
        # Answered while the large file's check was still running.
        assert not any(params.uri == large for params in client.published)
        published = await helpers.published_for(client, large, timeout=60)
        assert published.version == 1
        assert list(published.diagnostics) == []
