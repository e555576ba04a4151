"""Quick fixes from diagnostics (pure): the fixes travel in the diagnostic's data.

Aspects: a diagnostic of the current version gives its fixes as versioned document edits, or as
plain `changes` for a client without `documentChanges`; the first fix is preferred; a diagnostic
of an older version is matched to the current one by code and overlapping range; diagnostics of
other sources, unknown ones and malformed data give nothing.
"""

from __future__ import annotations

from lsprotocol import types

from kubelocal.config import checking
from kubelocal.lsp import diagnostics, positions

URI = "file:///w/KubernetesLocalProcessConfig.yaml"
TEXT = "version: 0.1\nenv:\n  - name: A\n    value: yes\n"


def current(text: str = TEXT, version: int = 4) -> list[types.Diagnostic]:
    index = positions.TextIndex(text)
    return diagnostics.to_diagnostics(checking.check(text).problems, index=index, version=version)


def test_fixes_of_the_current_version_as_versioned_edits():
    [diagnostic] = current()
    [action] = diagnostics.quick_fixes([diagnostic], uri=URI, version=4, current=current())
    assert action.title == 'Quote as text: "yes"'
    assert action.is_preferred is True
    [change] = action.edit.document_changes
    assert change.text_document == types.OptionalVersionedTextDocumentIdentifier(uri=URI, version=4)
    assert [(edit.range, edit.new_text) for edit in change.edits] == [(diagnostic.range, '"yes"')]


def test_plain_changes_for_a_client_without_document_changes():
    [diagnostic] = current()
    [action] = diagnostics.quick_fixes(
        [diagnostic], uri=URI, version=4, current=current(), versioned_edits=False
    )
    assert action.edit.document_changes is None
    assert [edit.new_text for edit in action.edit.changes[URI]] == ['"yes"']


def test_an_older_diagnostic_is_matched_to_the_current_one():
    moved = "\n" + TEXT
    [old] = current(version=1)
    shifted = types.Diagnostic(
        range=types.Range(
            start=types.Position(line=old.range.start.line + 1, character=old.range.start.character),
            end=types.Position(line=old.range.end.line + 1, character=old.range.end.character),
        ),
        message=old.message,
        code=old.code,
        source=old.source,
        data=old.data,
    )
    [action] = diagnostics.quick_fixes([shifted], uri=URI, version=2, current=current(moved, version=2))
    [change] = action.edit.document_changes
    assert change.edits[0].range.start.line == 4


def test_foreign_unknown_and_malformed_diagnostics_give_nothing():
    [diagnostic] = current()
    foreign = types.Diagnostic(range=diagnostic.range, message="x", source="yaml", data=diagnostic.data)
    unknown = types.Diagnostic(range=diagnostic.range, message="x", source="kubelocal", code="gone", data={})
    malformed = types.Diagnostic(
        range=diagnostic.range,
        message="x",
        source="kubelocal",
        code=diagnostic.code,
        data={"version": 4, "fixes": [{"title": "broken", "edits": [{"range": "nowhere", "newText": 1}]}]},
    )
    assert diagnostics.quick_fixes([foreign, unknown, malformed], uri=URI, version=4, current=current()) == []
