"""Quick fixes as text edits computed from node ranges: comments and formatting stay untouched.

Each function returns a `problems.Fix` whose edits touch only the offending key, value or token.
"""

from __future__ import annotations

import json

import yaml

from kubelocal.config import locations, problems


def replace(*, title: str, span: problems.Span, new_text: str) -> problems.Fix:
    return problems.Fix(title=title, edits=(problems.TextEdit(span=span, new_text=new_text),))


def quote_scalar(span: problems.Span, text: str) -> problems.Fix:
    """Quote the plain scalar `text` at `span` so YAML reads it as text: `yes` -> `"yes"`.

    An empty plain scalar (`value:` with nothing after it) sits right after the colon, so the
    quotes are inserted with a space before them (`value:""` would be one plain scalar).
    """
    if text == "":
        return replace(title='Set to the empty text ""', span=span, new_text=' ""')
    # A JSON string is a valid YAML double-quoted scalar; keep non-ASCII characters readable.
    quoted = json.dumps(text, ensure_ascii=False)
    return replace(title=f"Quote as text: {quoted}", span=span, new_text=quoted)


def insert_version(index: locations.LineIndex, root: yaml.Node, *, version: str) -> problems.Fix:
    """Insert `version: VERSION` as the first key of the top-level mapping, in its style.

    A block mapping gets a new first line at the mapping's indentation, so comments above the
    mapping stay above; a flow mapping (`{env: []}`) gets `version: VERSION, ` after its brace.
    """
    start = root.start_mark.index
    if isinstance(root, yaml.MappingNode) and root.flow_style:
        after_brace = start + 1
        separator = ", " if root.value else ""
        return replace(
            title=f"Add version: {version}",
            span=index.span(after_brace, after_brace),
            new_text=f"version: {version}{separator}",
        )
    # The mapping's indentation in the text (not the position's column, which counts a leading BOM).
    column = start - index.line_starts[index.position(start).line]
    return replace(
        title=f"Add version: {version}",
        span=index.span(start, start),
        new_text=f"version: {version}\n{' ' * column}",
    )


def apply_edits(text: str, edits: tuple[problems.TextEdit, ...]) -> str:
    """The text with `edits` applied (positions refer to the original text; edits must not overlap).

    Applied from the last to the first, so earlier positions stay valid. A leading byte-order mark
    stays in front.
    """
    index = locations.LineIndex(text)
    result = index.text
    for edit in sorted(edits, key=lambda edit: (edit.span.start, edit.span.end), reverse=True):
        result = (
            result[: index.offset(edit.span.start)] + edit.new_text + result[index.offset(edit.span.end) :]
        )
    return text[: index.first_line_shift] + result
