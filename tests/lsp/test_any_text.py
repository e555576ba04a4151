"""Property tests of the pure editor logic over any text and any cursor (hypothesis).

Aspects: cursor analysis, completion and key lookup never raise, and the replace range lies on the
cursor's line around the cursor; diagnostics, hover lookups and document symbols of any checked
text have ranges inside the document, children inside their parents.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types

from kubelocal.config import checking, problems, schema
from kubelocal.kube import cataloging
from kubelocal.lsp import completions, cursor_contexts, diagnostics, hovers, outlines, positions, schemas

SCHEMA = schema.load_schema()
SECTIONS = schemas.section_shapes(SCHEMA)
# Text that looks like a config often enough to reach every branch, and anything else too.
FRAGMENTS = st.sampled_from(
    [
        "version: 0.1",
        "env:",
        "  - name: A",
        "    value: ",
        "$(",
        "services:",
        "volumeMounts:",
        "enableFeatures: [",
        "Probes, ",
        "- ",
        "  ",
        "\t",
        "#",
        '"',
        "'",
        ":",
        ".",
        ",",
        ")",
        "\n",
        "\r\n",
        "---\n",
        "😀",
        "é",
        "&a ",
        "*a",
    ]
)
TEXTS = st.one_of(st.text(max_size=200), st.lists(FRAGMENTS, max_size=40).map("".join))
SNAPSHOT = cataloging.Snapshot(
    context="c",
    namespace="shop",
    namespaces=("shop",),
    services=(cataloging.Service(name="cart", namespace="shop", ports=(cataloging.ServicePort(80),)),),
    volumes=("data",),
    read_at=1.0,
)


def inside(index: positions.TextIndex, lsp_range: types.Range) -> bool:
    def ok(where: types.Position) -> bool:
        return 0 <= where.line < len(index.lines) and where.character <= positions.unit_length(
            index.lines[where.line]
        )

    ordered = (lsp_range.start.line, lsp_range.start.character) <= (
        lsp_range.end.line,
        lsp_range.end.character,
    )
    return ok(lsp_range.start) and ok(lsp_range.end) and ordered


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS, st.integers(min_value=0, max_value=30), st.integers(min_value=0, max_value=80))
def test_completion_never_raises_and_replaces_around_the_cursor(text, line, column):
    index = positions.TextIndex(text)
    cursor = index.to_code_points(types.Position(line=line, character=column))
    context = cursor_contexts.analyse(index.lines, cursor, sections=SECTIONS)
    cursor_contexts.key_at(index.lines, cursor, sections=SECTIONS)
    if context.place is cursor_contexts.Place.NOWHERE:
        return
    assert context.line == cursor.line
    assert 0 <= context.replace_start <= cursor.column <= context.replace_end <= len(index.lines[cursor.line])
    replace = types.Range(
        start=index.code_points_to_lsp(problems.Position(cursor.line, context.replace_start)),
        end=index.code_points_to_lsp(problems.Position(cursor.line, context.replace_end)),
    )
    for item in completions.items(context, schema=SCHEMA, snapshot=SNAPSHOT, replace=replace):
        assert isinstance(item.text_edit, types.TextEdit) and item.text_edit.range == replace


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(TEXTS)
def test_diagnostics_hovers_and_symbols_of_any_text_stay_inside_the_document(text):
    index = positions.TextIndex(text)
    result = checking.check(index.checker_text)
    for diagnostic in diagnostics.to_diagnostics(result.problems, index=index, version=1):
        assert inside(index, diagnostic.range)
        for fix in diagnostic.data["fixes"]:
            for edit in fix["edits"]:
                start, end = edit["range"]["start"], edit["range"]["end"]
                assert inside(index, types.Range(start=types.Position(**start), end=types.Position(**end)))
    if result.model is not None:
        for line in range(len(index.lines)):
            hovers.token_at(result.model, problems.Position(line, 3))

    def check(symbol: types.DocumentSymbol, parent: types.Range | None) -> None:
        assert inside(index, symbol.range) and inside(index, symbol.selection_range)
        if parent is not None:
            assert (parent.start.line, parent.start.character) <= (
                symbol.range.start.line,
                symbol.range.start.character,
            )
            assert (symbol.range.end.line, symbol.range.end.character) <= (
                parent.end.line,
                parent.end.character,
            )
        for child in symbol.children or []:
            check(child, symbol.range)

    for symbol in outlines.symbols(result.model, index=index):
        check(symbol, None)
