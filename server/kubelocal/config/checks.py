"""The checks a JSON schema cannot express.

- the tokens inside `env[].value` (see `tokens`), each problem on the token or the part of it that
  is wrong, mapped through the value's quoting;
- `duplicate-env-name` (error, on the later name), `env-name-too-long` (error, 255 characters or
  more), `invalid-env-name` (error: empty, or containing `=`), `env-name-not-exportable`
  (warning: the process gets it, but a shell cannot `export` it);
- `invalid-local-path` (error: empty or blank, or containing NUL), `duplicate-volume-mount`
  (warning: the first match wins, so a later entry with the same name is never used);
- `duplicate-feature` (warning).
Values that are not text (a wrong type the schema reports) are skipped here.
"""

from __future__ import annotations

import re

import yaml

from kubelocal.config import locations, model, parsing, problems, tokens

ENV_NAME_LIMIT = 255
_EXPORTABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_STR_TAG = "tag:yaml.org,2002:str"


def run(parsed: parsing.Parsed) -> list[problems.Problem]:
    root = parsed.root
    if not isinstance(root, yaml.MappingNode) or parsed.value is None:
        return []
    found: list[problems.Problem] = []
    found.extend(_env(parsed.index, root))
    found.extend(_volume_mounts(parsed.index, root))
    found.extend(_features(parsed.index, root))
    return found


def _is_text(node: yaml.Node | None) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == _STR_TAG


def _env(index: locations.LineIndex, root: yaml.MappingNode) -> list[problems.Problem]:
    found: list[problems.Problem] = []
    first_names: dict[str, yaml.Node] = {}
    for item in model.list_items(root, "env"):
        name_node, value_node = model.item_fields(item, first="name", second="value")
        if name_node is not None and _is_text(name_node):
            found.extend(_env_name(index, name_node, first_names=first_names))
        if value_node is not None and _is_text(value_node):
            issues = tokens.parse(value_node.value).issues
            if not issues:
                continue
            locator = model.locate_value(index, value_node)
            for issue in issues:
                fix = _token_type_fix(locator, issue)
                found.append(
                    problems.Problem(
                        code=issue.code,
                        severity=problems.Severity.ERROR,
                        message=issue.message,
                        span=locator.span(issue.start, issue.end),
                        fixes=(fix,) if fix is not None else (),
                        data=issue.data,
                    )
                )
    return found


def duplicate_env_name(*, name: str, span: problems.Span, first: problems.Position) -> problems.Problem:
    """The env name at `span` was set before, by the name starting at `first`."""
    return problems.Problem(
        code="duplicate-env-name",
        severity=problems.Severity.ERROR,
        message=(
            f"The environment variable '{name}' is already set on line {first.line + 1}. "
            "Remove one of the two entries or rename one."
        ),
        span=span,
        data={"name": name, "first": {"line": first.line, "column": first.column}},
    )


def duplicate_volume_mount(*, name: str, span: problems.Span, first: problems.Position) -> problems.Problem:
    """The volume name at `span` was mapped before, by the name starting at `first`."""
    return problems.Problem(
        code="duplicate-volume-mount",
        severity=problems.Severity.WARNING,
        message=(
            f"The volume '{name}' is already mapped on line {first.line + 1}, "
            "and the first match wins, so this entry is never used. Remove it."
        ),
        span=span,
        data={"name": name},
    )


def _token_type_fix(locator: model.ValueLocator, issue: tokens.Issue) -> problems.Fix | None:
    suggestion = issue.data.get("suggestion")
    # Only where the type's range is exact: replacing the whole value node would lose the rest.
    if issue.code != "unknown-token-type" or not suggestion or locator.content_start is None:
        return None
    return problems.Fix(
        title=f"Change to '{suggestion}'",
        edits=(problems.TextEdit(span=locator.span(issue.start, issue.end), new_text=suggestion),),
    )


def _env_name(
    index: locations.LineIndex, name_node: yaml.ScalarNode, *, first_names: dict[str, yaml.Node]
) -> list[problems.Problem]:
    name = name_node.value
    found: list[problems.Problem] = []
    if name in first_names:
        found.append(
            duplicate_env_name(
                name=name,
                span=parsing.node_span(index, name_node),
                first=index.position(first_names[name].start_mark.index),
            )
        )
    else:
        first_names[name] = name_node
    if _EXPORTABLE_NAME.fullmatch(name) and len(name) < ENV_NAME_LIMIT:
        return found  # the common case, decided without computing a span
    span = parsing.node_span(index, name_node)
    if not name or "=" in name or "\0" in name:
        found.append(
            problems.Problem(
                code="invalid-env-name",
                severity=problems.Severity.ERROR,
                message=(
                    "An environment variable name cannot be empty or contain '=' or NUL. "
                    "Use letters, digits and '_'."
                ),
                span=span,
                data={"name": name},
            )
        )
    elif len(name) >= ENV_NAME_LIMIT:
        found.append(
            problems.Problem(
                code="env-name-too-long",
                severity=problems.Severity.ERROR,
                message=(
                    f"The environment variable name is {len(name)} characters long; "
                    f"it must be shorter than {ENV_NAME_LIMIT}. Shorten it."
                ),
                span=span,
                data={"length": len(name), "limit": ENV_NAME_LIMIT},
            )
        )
    elif not _EXPORTABLE_NAME.fullmatch(name):
        found.append(
            problems.Problem(
                code="env-name-not-exportable",
                severity=problems.Severity.WARNING,
                message=(
                    f"A shell cannot export '{name}' (the process still gets it). Use letters, digits "
                    "and '_', not starting with a digit, if a shell or script needs it."
                ),
                span=span,
                data={"name": name},
            )
        )
    return found


def _volume_mounts(index: locations.LineIndex, root: yaml.MappingNode) -> list[problems.Problem]:
    found = []
    first_names: dict[str, yaml.Node] = {}
    for item in model.list_items(root, "volumeMounts"):
        name_node, path_node = model.item_fields(item, first="name", second="localPath")
        if name_node is not None and _is_text(name_node):
            if name_node.value in first_names:
                found.append(
                    duplicate_volume_mount(
                        name=name_node.value,
                        span=parsing.node_span(index, name_node),
                        first=index.position(first_names[name_node.value].start_mark.index),
                    )
                )
            else:
                first_names[name_node.value] = name_node
        if path_node is not None and _is_text(path_node):
            path = path_node.value
            reason = None
            if not path.strip():
                reason = "is empty"
            elif "\0" in path:
                reason = "contains a NUL character"
            if reason is not None:
                found.append(
                    problems.Problem(
                        code="invalid-local-path",
                        severity=problems.Severity.ERROR,
                        message=(
                            f"localPath {reason}, which no directory can be named. Write the workstation "
                            "directory where the volume's files should appear."
                        ),
                        span=_value_or_key_span(index, item, key="localPath", value_node=path_node),
                        data={"reason": reason},
                    )
                )
    return found


def _value_or_key_span(
    index: locations.LineIndex, item: yaml.Node, *, key: str, value_node: yaml.Node
) -> problems.Span:
    if value_node.start_mark.index < value_node.end_mark.index:
        return parsing.node_span(index, value_node)
    key_node, _ = parsing.resolve_path(item, (key,))
    return parsing.node_span(index, key_node or value_node)


def _features(index: locations.LineIndex, root: yaml.MappingNode) -> list[problems.Problem]:
    found = []
    seen: set[str] = set()
    for item in model.list_items(root, "enableFeatures"):
        if not _is_text(item):
            continue
        if item.value in seen:
            found.append(
                problems.Problem(
                    code="duplicate-feature",
                    severity=problems.Severity.WARNING,
                    message=f"The feature '{item.value}' is already enabled above. Remove this line.",
                    span=parsing.node_span(index, item),
                    data={"feature": item.value},
                )
            )
        seen.add(item.value)
    return found
