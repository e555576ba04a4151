"""The JSON schema of KubernetesLocalProcessConfig.yaml, and validation mapped to node ranges.

The schema file is the one source of truth (completion and hover in editors read it too). It is
packaged into the wheel as `kubelocal/config/kubernetes-local-process-config.schema.json`; in a
source checkout it is read from `schemas/` at the repository root.

Where a schema error is reported:
- a wrong type or an unknown enum value: on the value node;
- an unknown key: on that key node, with a fix replacing it by the closest valid key;
- a missing required key: on the key that holds the mapping, or the mapping's first key (a list
  item, the top level), or an empty span where the mapping starts when it has no keys.
A plain scalar that YAML reads as a boolean, number, date or null where text is expected is an
`ambiguous-scalar` problem with a fix that quotes it.

jsonschema-rs validates (0.2 ms where jsonschema takes 30 ms for 2,000 entries); jsonschema
checks the schema itself and takes over for values jsonschema-rs cannot take (dates, bytes).
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import importlib.resources
import json
import pathlib
from collections.abc import Collection
from typing import Any

import jsonschema
import jsonschema_rs
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


@functools.cache
def fast_validator() -> Any:
    """jsonschema-rs's validator: hundreds of times faster than jsonschema's on a large file."""
    return jsonschema_rs.validator_for(load_schema())


@dataclasses.dataclass(frozen=True)
class SchemaError:
    """One schema error, whichever validator found it.

    `keyword` is the schema keyword that failed (`type`, `enum`, `required`,
    `additionalProperties`, ...); `unexpected` and `allowed` are set for additionalProperties,
    `missing` for required, `types` for type; `message` is the validator's own text.
    """

    path: tuple[str | int, ...]
    keyword: str
    instance: Any
    message: str
    unexpected: tuple[str, ...] = ()
    allowed: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    types: tuple[str, ...] = ()


def schema_errors(value: Any) -> list[SchemaError]:
    """Every schema error of `value`.

    jsonschema-rs does the work; values it cannot take (dates and bytes, which YAML 1.1 makes of
    `2001-12-14` and `!!binary`) go to the pure-Python jsonschema instead.
    """
    try:
        return [_from_rust(error) for error in fast_validator().iter_errors(value)]
    except ValueError:
        return [_from_python(error) for error in validator().iter_errors(value)]


def _from_rust(error: Any) -> SchemaError:
    keyword = str(error.schema_path[-1]) if error.schema_path else ""
    path = tuple(error.instance_path)
    kind = error.kind
    if keyword == "additionalProperties":
        parent = _schema_at(tuple(error.schema_path)[:-1])
        return SchemaError(
            path=path,
            keyword=keyword,
            instance=error.instance,
            message=error.message,
            unexpected=tuple(kind.unexpected),
            allowed=tuple(parent.get("properties", {})),
        )
    if keyword == "required":
        return SchemaError(
            path=path,
            keyword=keyword,
            instance=error.instance,
            message=error.message,
            missing=(kind.property,),
        )
    if keyword == "type":
        return SchemaError(
            path=path,
            keyword=keyword,
            instance=error.instance,
            message=error.message,
            types=tuple(kind.types),
        )
    return SchemaError(path=path, keyword=keyword, instance=error.instance, message=error.message)


def _from_python(error: jsonschema.ValidationError) -> SchemaError:
    keyword = str(error.validator)
    path = tuple(error.absolute_path)
    if keyword == "additionalProperties":
        allowed = tuple(error.schema.get("properties", {}))
        return SchemaError(
            path=path,
            keyword=keyword,
            instance=error.instance,
            message=error.message,
            unexpected=tuple(key for key in error.instance if key not in allowed),
            allowed=allowed,
        )
    if keyword == "required":
        missing = tuple(key for key in error.validator_value if key not in error.instance)
        return SchemaError(
            path=path, keyword=keyword, instance=error.instance, message=error.message, missing=missing
        )
    if keyword == "type":
        expected = error.validator_value
        types = tuple(expected) if isinstance(expected, list) else (expected,)
        return SchemaError(
            path=path, keyword=keyword, instance=error.instance, message=error.message, types=types
        )
    return SchemaError(path=path, keyword=keyword, instance=error.instance, message=error.message)


def _schema_at(schema_path: tuple[Any, ...]) -> dict[str, Any]:
    node: Any = load_schema()
    for step in schema_path:
        node = node[step]
    return node


def validate(parsed: parsing.Parsed) -> list[problems.Problem]:
    """Validate the built value against the schema; problems sit on the nodes they are about."""
    if parsed.root is None or parsed.value is None:
        return []
    by_path: dict[tuple[Any, ...], list[SchemaError]] = {}
    for error in schema_errors(parsed.value):
        by_path.setdefault(error.path, []).append(error)
    found: list[problems.Problem] = []
    reported: set[tuple[str, int, tuple[str, ...], tuple[str, ...]]] = set()
    # Once per file, not per unknown feature: n unknown features would cost n scans of n items.
    enabled_features = _enabled_features(parsed.value)
    for path, path_errors in by_path.items():
        key_node, node = parsing.resolve_path(parsed.root, path, lookup=parsed.lookup)
        if node is None:
            continue
        has_type_error = any(error.keyword == "type" for error in path_errors)
        for error in path_errors:
            if has_type_error and error.keyword != "type":
                continue  # `enableFeatures: [1]`: "not text" says it; "not a feature" is noise.
            # An aliased node fails once per alias; it is one place in the text, so one problem.
            place = (error.keyword, id(node), error.missing, error.unexpected)
            if place in reported:
                continue
            reported.add(place)
            found.extend(
                _problems_for(
                    parsed,
                    path,
                    key_node=key_node,
                    node=node,
                    error=error,
                    enabled_features=enabled_features,
                )
            )
    return found


def _problems_for(
    parsed: parsing.Parsed,
    path: tuple[Any, ...],
    *,
    key_node: yaml.Node | None,
    node: yaml.Node,
    error: SchemaError,
    enabled_features: frozenset[str],
) -> list[problems.Problem]:
    index = parsed.index
    where = describe_path(path)
    match error.keyword:
        case "additionalProperties":
            return _unknown_keys(parsed, path, error=error)
        case "required":
            return _missing_keys(parsed, path, key_node=key_node, node=node, error=error)
        case "type":
            expected_types = sorted(error.types, key=_type_order)
            value_start = parsing.plain_scalar_start(index, node)
            if "string" in expected_types and value_start is not None:
                return [
                    _ambiguous_scalar(index, node, value_start=value_start, value=error.instance, where=where)
                ]
            return [
                problems.Problem(
                    code="wrong-type",
                    severity=problems.Severity.ERROR,
                    message=(
                        f"{where} must be {_describe_expected(path, expected_types)}, "
                        f"but it is {_describe_value(error.instance)}. {_TYPE_HINTS[expected_types[0]]}"
                    ),
                    span=_value_span(index, key_node=key_node, node=node),
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
            return [_unknown_feature(index, node, feature=str(error.instance), enabled=enabled_features)]
        case _:
            return [
                problems.Problem(
                    code="invalid-value",
                    severity=problems.Severity.ERROR,
                    message=f"{where}: {error.message}. Fix the value.",
                    span=_value_span(index, key_node=key_node, node=node),
                )
            ]


def _unknown_keys(
    parsed: parsing.Parsed, path: tuple[Any, ...], *, error: SchemaError
) -> list[problems.Problem]:
    assert parsed.root is not None
    allowed = list(error.allowed)
    found = []
    for key in error.unexpected:
        key_node, _ = parsing.resolve_path(parsed.root, (*path, key), lookup=parsed.lookup)
        if key_node is None:
            continue
        found.append(
            unknown_key_problem(
                key=key,
                span=parsing.node_span(parsed.index, key_node),
                path=path,
                allowed=allowed,
                present=error.instance if isinstance(error.instance, dict) else (),
            )
        )
    return found


def top_level_keys() -> list[str]:
    """The keys the schema allows at the top level, in its order."""
    return list(load_schema()["properties"])


def unknown_key_problem(
    *, key: str, span: problems.Span, path: tuple[Any, ...], allowed: list[str], present: Collection[str]
) -> problems.Problem:
    """`key` (at `span`) is not one of `allowed` in the mapping at `path`, which has the keys `present`."""
    # A key already present is no suggestion: renaming to it would make a duplicate key.
    absent = [name for name in allowed if name not in present]
    suggestion = suggestions.closest(key, absent)
    hint = f" Did you mean '{suggestion}'?" if suggestion else ""
    place = f"in {describe_path(path)}" if path else "at the top level"
    return problems.Problem(
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


def _missing_keys(
    parsed: parsing.Parsed,
    path: tuple[Any, ...],
    *,
    key_node: yaml.Node | None,
    node: yaml.Node,
    error: SchemaError,
) -> list[problems.Problem]:
    index = parsed.index
    if key_node is not None:
        span = parsing.node_span(index, key_node)
    elif isinstance(node, yaml.MappingNode) and node.value:
        span = parsing.node_span(index, node.value[0][0])
    else:
        span = index.span(node.start_mark.index, node.start_mark.index)
    found = []
    for key in error.missing:
        if not path and key == "version":
            supported = supported_version()
            found.append(
                problems.Problem(
                    code="missing-version",
                    severity=problems.Severity.ERROR,
                    message=f"The required key 'version' is missing. Add version: {supported} at the top.",
                    span=span,
                    fixes=(fixes.insert_version(index, node, version=supported),),
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
    index: locations.LineIndex, node: yaml.ScalarNode, *, value_start: int, value: Any, where: str
) -> problems.Problem:
    # The scalar's own text, after an anchor (`&default yes`) that must stay.
    span = index.span(value_start, node.end_mark.index)
    fix = fixes.quote_scalar(span, node.value)
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
        span=span,
        fixes=(fix,),
        data={"text": node.value, "quoted": quoted},
    )


def _unknown_feature(
    index: locations.LineIndex, node: yaml.Node, *, feature: str, enabled: frozenset[str]
) -> problems.Problem:
    span = parsing.node_span(index, node)
    valid = list(feature_names())
    # A feature already enabled is no suggestion: the fix would only make a duplicate.
    suggestion = suggestions.closest(feature, [name for name in valid if name not in enabled])
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


def _enabled_features(value: Any) -> frozenset[str]:
    """The texts listed under `enableFeatures` (other items cannot name a feature)."""
    enabled = value.get("enableFeatures") if isinstance(value, dict) else None
    if not isinstance(enabled, list):
        return frozenset()
    return frozenset(item for item in enabled if isinstance(item, str))


def describe_path(path: tuple[Any, ...]) -> str:
    """`("env", 2, "value")` -> `env[2].value`; the empty path is "the file"."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text or "The file"


def _value_span(index: locations.LineIndex, *, key_node: yaml.Node | None, node: yaml.Node) -> problems.Span:
    # An empty value (`env:`) has an empty range right after the colon: underline the key instead.
    if node.start_mark.index == node.end_mark.index and key_node is not None:
        return parsing.node_span(index, key_node)
    return parsing.node_span(index, node)


def _scalar_text(node: yaml.Node) -> str:
    return node.value if isinstance(node, yaml.ScalarNode) else "?"


_TYPE_NAMES = {
    "string": "text",
    "number": "a number",
    "array": "a list",
    "object": "a mapping of keys to values",
    "integer": "a whole number",
    "boolean": "true or false",
    "null": "empty",
}


_TYPE_HINTS = {
    "string": "Write it as text (quoted if it contains ': ', '#' or starts with a special character).",
    "number": "Write it as text or a number.",
    "array": "Write each item on its own line, starting with '- '.",
    "object": "Write it as 'key: value' lines.",
    "integer": "Write a whole number.",
    "boolean": "Write true or false.",
    "null": "Leave it empty.",
}


def _describe_expected(path: tuple[Any, ...], types: list[str]) -> str:
    """What the schema expects at `path`, e.g. "a list of entries with name and value"."""
    node: dict[str, Any] = load_schema()
    for step in path:
        node = node.get("items", {}) if isinstance(step, int) else node.get("properties", {}).get(step, {})
    items = node.get("items", {})
    if types == ["array"] and items.get("type") == "object":
        return f"a list of entries with {' and '.join(items.get('properties', {}))}"
    if types == ["array"] and items.get("type") == "string":
        return "a list of names"
    return _describe_types(types)


def _type_order(name: str) -> int:
    order = list(_TYPE_NAMES)
    return order.index(name) if name in order else len(order)


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
    if isinstance(value, datetime.date):  # datetime.datetime too: YAML 1.1 timestamps
        return f"the date {value.isoformat()}"
    if isinstance(value, bytes):
        return "binary data"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"
