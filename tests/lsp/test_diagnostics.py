"""Diagnostics through the language server, end to end (server as a subprocess, VS Code's client).

Aspects: problems published at their exact ranges in UTF-16 units (astral characters before the
error), with code, severity, source and the version they belong to; only the last of several quick
changes is ever published; diagnostics cleared on close; files that are not ours ignored, and extra
files served through the `configFileGlobs` setting, also when it changes (diagnostics of files no
longer served are withdrawn); a duplicate names its first occurrence as related information; an
edit inside a file (checked incrementally) moves and renumbers the later problems.
"""

from __future__ import annotations

import asyncio

import pytest
import pytest_lsp
from lsprotocol import types
from tests.lsp import helpers

pytestmark = [
    pytest.mark.slow,
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning"),
]


@pytest_lsp.fixture(scope="module", config=helpers.client_server_config())
async def client(lsp_client: helpers.RecordingClient):
    await helpers.initialize(
        lsp_client, {"diagnosticsDelayMs": 50, "configFileGlobs": ["**/*.kubelocal.yaml"]}
    )
    yield
    await lsp_client.shutdown_session()


async def test_a_problem_is_published_at_its_exact_range_with_its_version(client: helpers.RecordingClient):
    uri = helpers.config_uri()
    helpers.open_document(
        client, uri, "version: 0.1\nenv:\n  - name: A\n    value: $(servics:myapp)\n", version=3
    )
    published = await helpers.published_for(client, uri)
    assert published.version == 3
    [diagnostic] = published.diagnostics
    assert diagnostic.code == "unknown-token-type"
    assert diagnostic.source == "kubelocal"
    assert diagnostic.severity == types.DiagnosticSeverity.Error
    assert diagnostic.range == helpers.lsp_range((3, 13), (3, 20))
    assert "Did you mean 'services'?" in diagnostic.message


async def test_columns_count_utf16_units_after_astral_characters(client: helpers.RecordingClient):
    # Two emoji (two UTF-16 units each) and an é (one) before the bad token: the token type starts
    # at code point 17 and ends at 24, which are UTF-16 columns 19 and 26.
    line = "    value: 😀😀é $(servics:x)"
    uri = helpers.config_uri()
    helpers.open_document(client, uri, f"version: 0.1\nenv:\n  - name: A\n{line}\n")
    published = await helpers.published_for(client, uri)
    [diagnostic] = published.diagnostics
    assert line.index("servics") == 17
    assert diagnostic.range == helpers.lsp_range((3, 19), (3, 26))


async def test_only_the_last_of_quick_changes_is_published(client: helpers.RecordingClient):
    uri = helpers.config_uri()
    helpers.open_document(client, uri, "version: 0.1\n", version=1)
    for version in range(2, 8):
        helpers.replace_all(
            client,
            uri,
            f"version: 0.1\nenv:\n  - name: V{version}\n    value: $(x{version}:y)\n",
            version=version,
        )
    published = await helpers.published_for(client, uri, version=7)
    assert helpers.codes(published) == ["unknown-token-type"]
    assert "'x7'" in published.diagnostics[0].message
    await asyncio.sleep(0.3)  # anything still in flight would arrive now
    versions = [params.version for params in client.published if params.uri == uri]
    assert versions == [7], f"published versions {versions}: an outdated version was published"


async def test_closing_a_file_clears_its_diagnostics(client: helpers.RecordingClient):
    uri = helpers.config_uri()
    helpers.open_document(client, uri, "evn: []\n")
    published = await helpers.published_for(client, uri)
    assert published.diagnostics
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    for _ in range(500):
        if client.published[-1].uri == uri and not client.published[-1].diagnostics:
            break
        await asyncio.sleep(0.01)
    assert list(client.diagnostics[uri]) == []


async def test_other_yaml_files_are_ignored_and_globs_add_files(client: helpers.RecordingClient):
    ignored = "file:///workspace/other/deployment.yaml"
    served = "file:///workspace/other/dev.kubelocal.yaml"
    helpers.open_document(client, ignored, "evn: []\n")
    helpers.open_document(client, served, "evn: []\n")
    published = await helpers.published_for(client, served)
    assert "unknown-key" in helpers.codes(published)
    await asyncio.sleep(0.2)
    assert all(params.uri != ignored for params in client.published)


async def test_changed_settings_serve_and_withdraw_open_files(client: helpers.RecordingClient):
    uri = "file:///workspace/late/bridge.yaml"
    helpers.open_document(client, uri, "evn: []\n")

    def change(globs: list[str]) -> None:
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"kubelocal": {"configFileGlobs": globs}})
        )

    change(["**/*.kubelocal.yaml", "late/*.yaml"])
    published = await helpers.published_for(client, uri)
    assert "unknown-key" in helpers.codes(published)
    change(["**/*.kubelocal.yaml"])
    for _ in range(500):
        if not client.diagnostics[uri]:
            break
        await asyncio.sleep(0.01)
    assert list(client.diagnostics[uri]) == []


async def test_a_duplicate_points_at_its_first_occurrence(client: helpers.RecordingClient):
    uri = helpers.config_uri()
    text = "version: 0.1\nenv:\n  - name: TWICE\n    value: a\n  - name: TWICE\n    value: b\n"
    helpers.open_document(client, uri, text)
    published = await helpers.published_for(client, uri)
    [duplicate] = [d for d in published.diagnostics if d.code == "duplicate-env-name"]
    assert duplicate.range == helpers.lsp_range((4, 10), (4, 15))
    [related] = duplicate.related_information or []
    assert related.location.uri == uri
    assert related.location.range == helpers.lsp_range((2, 10), (2, 15))
    assert related.message == "first written here: TWICE"


async def test_edits_inside_a_large_file_publish_what_a_full_check_finds(client: helpers.RecordingClient):
    # Checked incrementally: an item inserted above moves the later problems down two lines and
    # renumbers the list index in their messages; the duplicate name is in an unchanged chunk.
    uri = helpers.config_uri()
    entries = "".join(f"  - name: N{number}\n    value: v\n" for number in range(30))
    text = f"version: 0.1\nenv:\n{entries}  - name: LAST\n    valeu: x\n"
    helpers.open_document(client, uri, text, version=1)
    published = await helpers.published_for(client, uri, version=1)
    assert [(d.code, d.range.start.line, d.message.split(".")[0]) for d in published.diagnostics] == [
        ("missing-key", 62, "env[30] needs a 'value' key"),
        ("unknown-key", 63, "Unknown key 'valeu' in env[30]"),
    ]
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=helpers.lsp_range((10, 0), (10, 0)), text="  - name: N29\n    value: again\n"
                )
            ],
        )
    )
    published = await helpers.published_for(client, uri, version=2)
    assert [(d.code, d.range.start.line, d.message.split(".")[0]) for d in published.diagnostics] == [
        ("duplicate-env-name", 62, "The environment variable 'N29' is already set on line 11"),
        ("missing-key", 64, "env[31] needs a 'value' key"),
        ("unknown-key", 65, "Unknown key 'valeu' in env[31]"),
    ]
    assert published.diagnostics[0].range == helpers.lsp_range((62, 10), (62, 13))
