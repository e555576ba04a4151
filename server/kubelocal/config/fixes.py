"""Quick fixes as text edits computed from node ranges: comments and formatting stay untouched.

Each function returns a `problems.Fix` whose edits touch only the offending key, value or token.
"""

from __future__ import annotations

import json

import yaml

from kubelocal.config import locations, problems

SUPPORTED_VERSION_TEXT = "0.1"


def replace(*, title: str, span: problems.Span, new_text: str) -> problems.Fix:
    return problems.Fix(title=title, edits=(problems.TextEdit(span=span, new_text=new_text),))


def quote_scalar(index: locations.LineIndex, node: yaml.ScalarNode) -> problems.Fix:
    """Quote a plain scalar so YAML reads it as text: `yes` -> `"yes"`, an empty value -> `""`.

    An empty plain scalar (`value:` with nothing after it) sits right after the colon, so the
    quotes are inserted with a space before them (`value:""` would be one plain scalar).
    """
    span = index.span(node.start_mark.index, node.end_mark.index)
    if node.value == "":
        return problems.Fix(
            title='Set to the empty text ""', edits=(problems.TextEdit(span=span, new_text=' ""'),)
        )
    # A JSON string is a valid YAML double-quoted scalar; keep non-ASCII characters readable.
    quoted = json.dumps(node.value, ensure_ascii=False)
    return problems.Fix(
        title=f"Quote as text: {quoted}", edits=(problems.TextEdit(span=span, new_text=quoted),)
    )


def insert_version(index: locations.LineIndex, root: yaml.Node) -> problems.Fix:
    """Insert `version: 0.1` as the first key of the top-level mapping, in its style.

    A block mapping gets a new first line at the mapping's indentation, so comments above the
    mapping stay above; a flow mapping (`{env: []}`) gets `version: 0.1, ` after its brace.
    """
    start = root.start_mark.index
    if isinstance(root, yaml.MappingNode) and root.flow_style:
        after_brace = start + 1
        separator = ", " if root.value else ""
        return replace(
            title=f"Add version: {SUPPORTED_VERSION_TEXT}",
            span=index.span(after_brace, after_brace),
            new_text=f"version: {SUPPORTED_VERSION_TEXT}{separator}",
        )
    column = index.position(start).column
    return replace(
        title=f"Add version: {SUPPORTED_VERSION_TEXT}",
        span=index.span(start, start),
        new_text=f"version: {SUPPORTED_VERSION_TEXT}\n{' ' * column}",
    )
