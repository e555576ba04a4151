"""Hover, quick fixes and document symbols through the language server, end to end.

Aspects: hover shows the schema's documentation for top-level and item keys, with the key's range,
and for a feature;
hover on a token says what it refers to (service, namespace, ports; volume and its workstation
directory; external host), with the token's range in UTF-16 units; quick fixes carry their
diagnostic and, applied to the text, make the diagnostic go away on the next check (quote a value,
replace a misspelt token type, add the missing version); a diagnostic of an outdated version (moved
by the client) gets the fix of the current text, not its stale edit; document symbols for env
names, volume mounts and features with ranges that hold their children.
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

CONFIG = """version: 0.1
env:
  - name: CART_URL
    value: http://$(services:cart.shop:8080,8081)/api
  - name: CONFIG_DIR
    value: "😀 $(volumeMounts:app-config)"
  - name: DB
    value: $(externalendpoints:db.example.com:5432)
volumeMounts:
  - name: app-*
    localPath: /tmp/app
enableFeatures: [Probes, LifecycleHooks]
"""


@pytest_lsp.fixture(scope="module", config=helpers.client_server_config())
async def client(lsp_client: helpers.RecordingClient):
    await helpers.initialize(lsp_client)
    yield
    await lsp_client.shutdown_session()


async def hover(client, uri: str, line: int, character: int) -> types.Hover | None:
    return await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=helpers.position(line, character)
        )
    )


def markdown(result: types.Hover | None) -> str:
    assert result is not None
    assert isinstance(result.contents, types.MarkupContent)
    return result.contents.value


async def test_hover_on_keys_shows_the_schema_documentation(client):
    uri = helpers.config_uri()
    helpers.open_document(client, uri, CONFIG)
    top = await hover(client, uri, 1, 1)
    assert "**env**" in markdown(top)
    assert "literal text mixed with tokens" in markdown(top)
    assert top.range == helpers.lsp_range((1, 0), (1, 3))
    local_path = await hover(client, uri, 10, 6)
    assert "Directory on the workstation" in markdown(local_path)
    assert local_path.range == helpers.lsp_range((10, 4), (10, 13))


async def test_hover_on_a_feature_shows_its_documentation(client):
    uri = helpers.config_uri()
    helpers.open_document(client, uri, CONFIG)
    probes = await hover(client, uri, 11, 20)
    assert markdown(probes).startswith("**Probes**")
    assert "probes" in markdown(probes).split("\n\n", 1)[1].lower()
    assert probes.range == helpers.lsp_range((11, 17), (11, 23))


async def test_hover_on_tokens_says_what_they_refer_to(client):
    uri = helpers.config_uri()
    helpers.open_document(client, uri, CONFIG)
    service = await hover(client, uri, 3, 25)
    assert "**Service `cart`** in namespace `shop`" in markdown(service)
    assert "Ports: 8080, 8081" in markdown(service)
    assert service.range == helpers.lsp_range((3, 18), (3, 49))
    volume = await hover(client, uri, 5, 20)
    assert "**Volume `app-config`**" in markdown(volume)
    assert "`/tmp/app`" in markdown(volume)
    # The emoji before the token counts two UTF-16 units: the token starts at unit 15, not 14.
    assert volume.range == helpers.lsp_range((5, 15), (5, 41))
    external = await hover(client, uri, 7, 20)
    assert "**External endpoint `db.example.com`**, ports 5432" in markdown(external)
    assert await hover(client, uri, 3, 12) is None  # literal text of a value


async def code_actions(client, uri: str, diagnostics: list[types.Diagnostic]) -> list[types.CodeAction]:
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=diagnostics[0].range,
            context=types.CodeActionContext(diagnostics=diagnostics),
        )
    )
    assert result is not None
    return [action for action in result if isinstance(action, types.CodeAction)]


def edits_of(action: types.CodeAction) -> list[types.TextEdit]:
    assert action.edit is not None and action.edit.document_changes
    [change] = action.edit.document_changes
    assert isinstance(change, types.TextDocumentEdit)
    return [edit for edit in change.edits if isinstance(edit, types.TextEdit)]


@pytest.mark.parametrize(
    ("text", "code", "fixed"),
    [
        ("version: 0.1\nenv:\n  - name: A\n    value: yes\n", "ambiguous-scalar", '    value: "yes"'),
        (
            "version: 0.1\nenv:\n  - name: A\n    value: 😀$(servics:x)\n",
            "unknown-token-type",
            "$(services:x)",
        ),
        ("env:\n  - name: A\n    value: b\n", "missing-version", "version: 0.1"),
    ],
)
async def test_a_quick_fix_applied_makes_its_diagnostic_go_away(client, text, code, fixed):
    uri = helpers.config_uri()
    helpers.open_document(client, uri, text, version=1)
    published = await helpers.published_for(client, uri, version=1)
    diagnostic = next(d for d in published.diagnostics if d.code == code)
    [action, *_] = await code_actions(client, uri, [diagnostic])
    assert action.kind == types.CodeActionKind.QuickFix
    assert list(action.diagnostics or []) == [diagnostic]
    new_text = helpers.apply_edits(text, edits_of(action))
    assert fixed in new_text
    helpers.replace_all(client, uri, new_text, version=2)
    republished = await helpers.published_for(client, uri, version=2)
    assert code not in helpers.codes(republished)


async def test_an_outdated_diagnostic_gets_the_fix_of_the_current_text(client):
    uri = helpers.config_uri()
    text = "version: 0.1\nenv:\n  - name: A\n    value: yes\n"
    helpers.open_document(client, uri, text, version=1)
    old = (await helpers.published_for(client, uri, version=1)).diagnostics[0]
    moved = "# a comment line moves everything down\n" + text
    helpers.replace_all(client, uri, moved, version=2)
    await helpers.published_for(client, uri, version=2)
    # As VS Code does, the client moved the marker with the edit; its data still speaks of version 1.
    shifted = helpers.lsp_range(
        (old.range.start.line + 1, old.range.start.character),
        (old.range.end.line + 1, old.range.end.character),
    )
    stale = types.Diagnostic(
        range=shifted, message=old.message, code=old.code, source=old.source, data=old.data
    )
    [action, *_] = await code_actions(client, uri, [stale])
    [edit] = edits_of(action)
    assert edit.range.start.line == 4  # the value's line in the current text, not the old one
    assert helpers.apply_edits(moved, [edit]).endswith('    value: "yes"\n')


async def test_document_symbols(client):
    uri = helpers.config_uri()
    helpers.open_document(client, uri, CONFIG)
    result = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert result is not None
    sections = {symbol.name: symbol for symbol in result if isinstance(symbol, types.DocumentSymbol)}
    assert list(sections) == ["version", "env", "volumeMounts", "enableFeatures"]
    env = sections["env"]
    assert [child.name for child in env.children or []] == ["CART_URL", "CONFIG_DIR", "DB"]
    cart = (env.children or [])[0]
    assert cart.selection_range == helpers.lsp_range((2, 10), (2, 18))
    assert cart.range == helpers.lsp_range((2, 10), (3, 53))
    assert env.range.start == helpers.position(1, 0) and env.range.end == helpers.position(7, 51)
    [mount] = sections["volumeMounts"].children or []
    assert (mount.name, mount.detail) == ("app-*", "/tmp/app")
    features = sections["enableFeatures"].children or []
    assert [(feature.name, feature.range) for feature in features] == [
        ("Probes", helpers.lsp_range((11, 17), (11, 23))),
        ("LifecycleHooks", helpers.lsp_range((11, 25), (11, 39))),
    ]
