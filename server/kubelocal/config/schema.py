"""The JSON schema of KubernetesLocalProcessConfig.yaml, and validation mapped to node ranges.

The schema file is the one source of truth (completion and hover in editors read it too). It is
packaged into the wheel as `kubelocal/config/kubernetes-local-process-config.schema.json`; in a
source checkout it is read from `schemas/` at the repository root.

Where a schema error is reported:
- a wrong type or an unknown enum value: on the value node;
- an unknown key: on that key node, with a fix replacing it by the closest valid key;
- a missing required key: on the key that holds the mapping, or the mapping's first key (a list
  item, the top level), or an empty span where the mapping starts when it has no keys.
A plain scalar that YAML reads as a boolean, number or null where text is expected is an
`ambiguous-scalar` problem with a fix that quotes it.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import pathlib
from typing import Any

import jsonschema
import yaml

from kubelocal.config import errors, fixes, locations, parsing, problems, suggestions

SCHEMA_FILENAME = "kubernetes-local-process-config.schema.json"
REPOSITORY_SCHEMA_PATH = pathlib.Path(__file__).resolve().parents[3] / "schemas" / SCHEMA_FILENAME


def packaged_schema_text() -> str | None:
    """The schema packaged next to this module (an installed wheel), or None in a source checkout."""
    resource = importlib.resources.files("kubelocal.config").joinpath(SCHEMA_FILENAME)
    if resource.is_file():
        return resource.read_text(encoding="utf-8")
    return None


def schema_text() -> str:
    packaged = packaged_schema_text()
    if packaged is not None:
        return packaged
    if REPOSITORY_SCHEMA_PATH.is_file():
        return REPOSITORY_SCHEMA_PATH.read_text(encoding="utf-8")
    raise errors.SchemaNotFoundError(
        f"The config schema {SCHEMA_FILENAME} is neither installed with kubelocal nor at "
        f"{REPOSITORY_SCHEMA_PATH}. Reinstall kubelocal (pip install --force-reinstall kubelocal)."
    )


@functools.cache
def load_schema() -> dict[str, Any]:
    """The schema as a dict (cached: callers must not modify it)."""
    return json.loads(schema_text())


@functools.cache
def validator() -> jsonschema.Draft202012Validator:
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def supported_version() -> str:
    """The supported `version`, named by the schema (the first text in its enum)."""
    return next(v for v in load_schema()["properties"]["version"]["enum"] if isinstance(v, str))


def feature_names() -> tuple[str, ...]:
    return tuple(load_schema()["properties"]["enableFeatures"]["items"]["enum"])


def validate(parsed: parsing.Parsed) -> list[problems.Problem]:
    """Validate the built value against the schema; problems sit on the nodes they are about."""
    if parsed.root is None or parsed.value is None:
        return []
    by_path: dict[tuple[Any, ...], list[jsonschema.ValidationError]] = {}
    for error in validator().iter_errors(parsed.value):
        by_path.setdefault(tuple(error.absolute_path), []).append(error)
    found: list[problems.Problem] = []
    for path, path_errors in by_path.items():
        has_type_error = any(error.validator == "type" for error in path_errors)
        for error in path_errors:
            if has_type_error and error.validator != "type":
                continue  # `enableFeatures: [1]`: "not text" says it; "not a feature" is noise.
            found.extend(_problems_for(parsed, path, error))
    return found


def _problems_for(
    parsed: parsing.Parsed, path: tuple[Any, ...], error: jsonschema.ValidationError
) -> list[problems.Problem]:
    index = parsed.index
    assert parsed.root is not None
    key_node, node = parsing.resolve_path(parsed.root, path)
    if node is None:
        return []
    where = describe_path(path)
    match error.validator:
        case "additionalProperties":
            return _unknown_keys(parsed, path, error)
        case "required":
            return _missing_keys(parsed, path, key_node, node, error)
        case "type":
            expected = error.validator_value
            expected_types = expected if isinstance(expected, list) else [expected]
            if "string" in expected_types and parsing.is_plain_scalar(node):
                return [_ambiguous_scalar(index, node, error.instance, where)]
            return [
                problems.Problem(
                    code="wrong-type",
                    severity=problems.Severity.ERROR,
                    message=(
                        f"{where} must be {_describe_types(expected_types)}, "
                        f"but it is {_describe_value(error.instance)}. "
                        f"Write {_describe_types(expected_types)} here."
                    ),
                    span=_value_span(index, key_node, node),
                    data={"expected": expected_types},
                )
            ]
        case "enum" if path == ("version",):
            supported = supported_version()
            return [
                problems.Problem(
                    code="unsupported-version",
                    severity=problems.Severity.ERROR,
                    message=(
                        f"Version '{_scalar_text(node)}' is not supported; the supported version is "
                        f"{supported}. Write version: {supported}."
                    ),
                    span=parsing.node_span(index, node),
                    fixes=(
                        fixes.replace(
                            title=f"Change to version {supported}",
                            span=parsing.node_span(index, node),
                            new_text=supported,
                        ),
                    ),
                    data={"supported": supported},
                )
            ]
        case "enum" if len(path) == 2 and path[0] == "enableFeatures":
            return [_unknown_feature(index, node, str(error.instance))]
        case _:
            return [
                problems.Problem(
                    code="invalid-value",
                    severity=problems.Severity.ERROR,
                    message=f"{where}: {error.message}. Fix the value.",
                    span=_value_span(index, key_node, node),
                )
            ]


def _unknown_keys(
    parsed: parsing.Parsed, path: tuple[Any, ...], error: jsonschema.ValidationError
) -> list[problems.Problem]:
    assert parsed.root is not None
    allowed = list(error.schema.get("properties", {}))
    found = []
    for key in error.instance:
        if key in allowed:
            continue
        key_node, _ = parsing.resolve_path(parsed.root, (*path, key))
        if key_node is None:
            continue
        span = parsing.node_span(parsed.index, key_node)
        suggestion = suggestions.closest(key, allowed)
        hint = f" Did you mean '{suggestion}'?" if suggestion else ""
        place = f"in {describe_path(path)}" if path else "at the top level"
        found.append(
            problems.Problem(
                code="unknown-key",
                severity=problems.Severity.ERROR,
                message=(f"Unknown key '{key}' {place}.{hint} Valid keys here: {', '.join(allowed)}."),
                span=span,
                fixes=(
                    (fixes.replace(title=f"Change to '{suggestion}'", span=span, new_text=suggestion),)
                    if suggestion
                    else ()
                ),
                data={"key": key, "suggestion": suggestion, "valid": allowed},
            )
        )
    return found


def _missing_keys(
    parsed: parsing.Parsed,
    path: tuple[Any, ...],
    key_node: yaml.Node | None,
    node: yaml.Node,
    error: jsonschema.ValidationError,
) -> list[problems.Problem]:
    index = parsed.index
    if key_node is not None:
        span = parsing.node_span(index, key_node)
    elif isinstance(node, yaml.MappingNode) and node.value:
        span = parsing.node_span(index, node.value[0][0])
    else:
        span = index.span(node.start_mark.index, node.start_mark.index)
    found = []
    for key in error.validator_value:
        if key in error.instance:
            continue
        if not path and key == "version":
            supported = supported_version()
            found.append(
                problems.Problem(
                    code="missing-version",
                    severity=problems.Severity.ERROR,
                    message=f"The required key 'version' is missing. Add version: {supported} at the top.",
                    span=span,
                    fixes=(fixes.insert_version(index, node),),
                    data={"supported": supported},
                )
            )
            continue
        found.append(
            problems.Problem(
                code="missing-key",
                severity=problems.Severity.ERROR,
                message=f"{describe_path(path)} needs a '{key}' key. Add {key}: to it.",
                span=span,
                data={"key": key},
            )
        )
    return found


def _ambiguous_scalar(
    index: locations.LineIndex, node: yaml.ScalarNode, value: Any, where: str
) -> problems.Problem:
    fix = fixes.quote_scalar(index, node)
    quoted = fix.edits[0].new_text.strip()
    if node.value == "":
        message = (
            f"{where} is empty, which YAML reads as null, but it must be text. Write {quoted} for empty text."
        )
    else:
        message = (
            f"YAML reads {node.value} as {_describe_value(value)}, but {where} must be text. "
            f"Quote it: {quoted}."
        )
    return problems.Problem(
        code="ambiguous-scalar",
        severity=problems.Severity.ERROR,
        message=message,
        span=parsing.node_span(index, node),
        fixes=(fix,),
        data={"text": node.value, "quoted": quoted},
    )


def _unknown_feature(index: locations.LineIndex, node: yaml.Node, feature: str) -> problems.Problem:
    span = parsing.node_span(index, node)
    valid = list(feature_names())
    suggestion = suggestions.closest(feature, valid)
    hint = f" Did you mean '{suggestion}'?" if suggestion else ""
    return problems.Problem(
        code="unknown-feature",
        severity=problems.Severity.WARNING,
        message=f"Unknown feature '{feature}'; it is ignored.{hint} Valid features: {', '.join(valid)}.",
        span=span,
        fixes=(
            (fixes.replace(title=f"Change to '{suggestion}'", span=span, new_text=suggestion),)
            if suggestion
            else ()
        ),
        data={"feature": feature, "suggestion": suggestion, "valid": valid},
    )


def describe_path(path: tuple[Any, ...]) -> str:
    """`("env", 2, "value")` -> `env[2].value`; the empty path is "the file"."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text or "The file"


def _value_span(index: locations.LineIndex, key_node: yaml.Node | None, node: yaml.Node) -> problems.Span:
    # An empty value (`env:`) has an empty range right after the colon: underline the key instead.
    if node.start_mark.index == node.end_mark.index and key_node is not None:
        return parsing.node_span(index, key_node)
    return parsing.node_span(index, node)


def _scalar_text(node: yaml.Node) -> str:
    return node.value if isinstance(node, yaml.ScalarNode) else "?"


_TYPE_NAMES = {
    "array": "a list",
    "object": "a mapping of keys to values",
    "string": "text",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "null": "empty",
}


def _describe_types(types: list[str]) -> str:
    return " or ".join(_TYPE_NAMES.get(name, name) for name in types)


def _describe_value(value: Any) -> str:
    if value is None:
        return "null (no value)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"
