"""Reading the config's JSON Schema for the editor: pure.

Completion and hover take their words from the schema (`description`, `markdownDescription`,
`enum`, `defaultSnippets` as yaml-language-server reads them), so documentation lives in one place:
`schemas/kubernetes-local-process-config.schema.json`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubelocal.lsp import cursor_contexts

Schema = Mapping[str, Any]


def at(schema: Schema, path: tuple[str, ...]) -> Schema | None:
    """The subschema at `path` (`"*"` steps into a sequence's items), or None when there is none."""
    node: Schema | None = schema
    for segment in path:
        if node is None:
            return None
        if segment == cursor_contexts.ITEM:
            items = node.get("items")
            node = items if isinstance(items, Mapping) else None
        else:
            properties = node.get("properties")
            child = properties.get(segment) if isinstance(properties, Mapping) else None
            node = child if isinstance(child, Mapping) else None
    return node


def _types(node: Schema) -> set[str]:
    declared = node.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return {kind for kind in declared if isinstance(kind, str)}
    return set()


def section_shapes(schema: Schema) -> dict[str, cursor_contexts.SectionShape]:
    """The shape of each top-level key: a scalar, a sequence of mappings, or a sequence of scalars."""
    shapes: dict[str, cursor_contexts.SectionShape] = {}
    for name, node in (schema.get("properties") or {}).items():
        if "array" in _types(node):
            items = node.get("items") if isinstance(node.get("items"), Mapping) else {}
            is_mapping = "object" in _types(items) or "properties" in items
            shapes[name] = (
                cursor_contexts.SectionShape.MAPPINGS if is_mapping else cursor_contexts.SectionShape.SCALARS
            )
        else:
            shapes[name] = cursor_contexts.SectionShape.SCALAR
    return shapes


def documentation(node: Schema) -> str | None:
    """The node's Markdown documentation (`markdownDescription`, else `description`)."""
    text = node.get("markdownDescription") or node.get("description")
    return text if isinstance(text, str) else None


def enum_values(node: Schema) -> list[str]:
    """The node's enum values as YAML text, without duplicates (`"0.1"` and `0.1` are one)."""
    values: list[str] = []
    for value in node.get("enum") or ():
        text = (
            value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
        )
        if text not in values:
            values.append(text)
    return values


def enum_documentation(node: Schema, value: str) -> str | None:
    """The documentation of one enum value (`markdownEnumDescriptions` beside `enum`), if given."""
    descriptions = node.get("markdownEnumDescriptions") or node.get("enumDescriptions")
    if not isinstance(descriptions, list):
        return None
    for index, candidate in enumerate(enum_values(node)):
        if candidate == value and index < len(descriptions) and isinstance(descriptions[index], str):
            return descriptions[index]
    return None


def default_snippets(node: Schema) -> list[Mapping[str, Any]]:
    snippets = node.get("defaultSnippets")
    return (
        [snippet for snippet in snippets if isinstance(snippet, Mapping)]
        if isinstance(snippets, list)
        else []
    )


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def render_yaml(value: object, *, indent: int) -> list[str]:
    """A snippet body (JSON value, strings already in snippet syntax) as YAML lines.

    The first line carries no indentation (it continues the cursor's line); the others are indented
    by `indent` plus their nesting, two spaces a level, with sequences indented under their key.
    """
    lines = _render(value, indent)
    if lines:
        lines[0] = lines[0][indent:]
    return lines


def _render(value: object, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(value, Mapping):
        lines: list[str] = []
        for key, child in value.items():
            if isinstance(child, Mapping | list) and child:
                lines.append(f"{pad}{key}:")
                lines.extend(_render(child, indent + 2))
            else:
                lines.append(
                    f"{pad}{key}: {_scalar(child) if not isinstance(child, Mapping | list) else '{}'}"
                )
        return lines
    if isinstance(value, list):
        lines = []
        for item in value:
            rendered = _render(item, indent + 2)
            if rendered:
                lines.append(f"{pad}- {rendered[0][indent + 2 :]}")
                lines.extend(rendered[1:])
        return lines
    return [pad + _scalar(value)]


def value_snippet(node: Schema, *, indent: int) -> str | None:
    """The text that follows `key:` for a property, from its first default snippet (None without one).

    A mapping or sequence body goes on the following lines, indented under the key. A scalar body
    continues on the key's line (`version: 0.1`) only for an enum: a free text's snippets are
    alternatives offered as values (an env value's tokens), not the value every key should get.
    """
    for snippet in default_snippets(node):
        body = snippet.get("body")
        if isinstance(body, Mapping | list):
            return "\n" + "\n".join(_render(body, indent + 2))
        if "body" in snippet and node.get("enum"):
            return " " + _scalar(body)
    return None
