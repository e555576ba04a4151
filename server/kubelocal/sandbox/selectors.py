"""Label and field selectors, parsed and matched as the real API server does.

Label selectors (string form, as in `?labelSelector=`): comma-separated requirements, each one of
`key=value`, `key==value`, `key!=value`, `key in (a,b)`, `key notin (a,b)`, `key` (exists) and
`!key` (does not exist). `key!=value` and `notin` also match objects without the label, as on a real
cluster. The structured form (`matchLabels` / `matchExpressions`, as in a Deployment's
`spec.selector`) is matched by `matches_label_selector`.

Field selectors support `=`, `==` and `!=` on the fields the real server indexes per kind
(`metadata.name`, `metadata.namespace` everywhere; `spec.nodeName`, `status.phase`... for pods).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from kubelocal.sandbox import errors

_KEY_RE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$")
_VALUE_RE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_IN_RE = re.compile(r"^\s*([^\s!=(),]+)\s+(in|notin)\s*\(([^)]*)\)\s*$")


@dataclasses.dataclass(frozen=True)
class Requirement:
    key: str
    operator: str  # "=", "!=", "in", "notin", "exists", "!"
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.operator == "exists":
            return present
        if self.operator == "!":
            return not present
        if self.operator in ("=", "in"):
            return present and labels[self.key] in self.values
        # "!=" and "notin" match objects without the key too.
        return not present or labels[self.key] not in self.values


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts: list[str] = []
    depth = 0
    current = ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [part.strip() for part in parts if part.strip()]


def parse_labels(selector: str | None) -> tuple[Requirement, ...]:
    """Parse a label selector string; errors.BadRequest says which requirement is malformed."""
    if not selector or not selector.strip():
        return ()
    requirements: list[Requirement] = []
    for part in _split_top_level(selector):
        match = _IN_RE.match(part)
        if match:
            values = tuple(value.strip() for value in match.group(3).split(",") if value.strip())
            requirement = Requirement(match.group(1), match.group(2), values)
        elif part.startswith("!") and "=" not in part:
            requirement = Requirement(part[1:].strip(), "!")
        elif "=" in part:
            operator = "!=" if "!=" in part else "==" if "==" in part else "="
            key, _, value = part.partition(operator)
            requirement = Requirement(key.strip(), "!=" if operator == "!=" else "=", (value.strip(),))
        else:
            requirement = Requirement(part, "exists")
        if not _KEY_RE.match(requirement.key) or not all(_VALUE_RE.match(v) for v in requirement.values):
            raise errors.BadRequest(
                f'unable to parse requirement: found "{part}", expected key, key=value, key!=value, '
                "key in (a,b), key notin (a,b), key or !key"
            )
        requirements.append(requirement)
    return tuple(requirements)


def matches_labels(requirements: tuple[Requirement, ...], labels: Mapping[str, str] | None) -> bool:
    labels = labels or {}
    return all(requirement.matches(labels) for requirement in requirements)


def from_label_selector(selector: Mapping[str, Any] | None) -> tuple[Requirement, ...]:
    """Requirements of a structured LabelSelector (`matchLabels` and `matchExpressions`)."""
    if not selector:
        return ()
    requirements = [
        Requirement(key, "=", (str(value),)) for key, value in (selector.get("matchLabels") or {}).items()
    ]
    operators = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for expression in selector.get("matchExpressions") or []:
        operator = operators.get(expression.get("operator", ""))
        if operator is None:
            raise errors.BadRequest(f'"{expression.get("operator")}" is not a valid label selector operator')
        requirements.append(Requirement(expression["key"], operator, tuple(expression.get("values") or ())))
    return tuple(requirements)


def matches_label_selector(selector: Mapping[str, Any] | None, labels: Mapping[str, str] | None) -> bool:
    """Whether labels match a structured LabelSelector. An empty selector matches everything."""
    return matches_labels(from_label_selector(selector), labels)


def to_string(selector: Mapping[str, Any] | None) -> str:
    """A structured LabelSelector as the string form (`app=web,tier in (a,b)`), as kubectl prints it."""
    parts: list[str] = []
    for requirement in from_label_selector(selector):
        if requirement.operator == "=":
            parts.append(f"{requirement.key}={requirement.values[0]}")
        elif requirement.operator in ("in", "notin"):
            parts.append(f"{requirement.key} {requirement.operator} ({','.join(requirement.values)})")
        elif requirement.operator == "exists":
            parts.append(requirement.key)
        else:
            parts.append(f"!{requirement.key}")
    return ",".join(parts)


# Fields the real server lets you select on, besides metadata.name and metadata.namespace.
_FIELDS: dict[str, tuple[str, ...]] = {
    "Pod": (
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    ),
    "Secret": ("type",),
    "Namespace": ("status.phase",),
    "Node": ("spec.unschedulable",),
    "Event": (
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ),
    "ReplicaSet": ("status.replicas",),
    "Job": ("status.successful",),
}


@dataclasses.dataclass(frozen=True)
class FieldRequirement:
    field: str
    value: str
    negated: bool


def parse_fields(selector: str | None, *, kind: str) -> tuple[FieldRequirement, ...]:
    """Parse a field selector for a kind; errors.BadRequest for a field the real server does not index."""
    if not selector or not selector.strip():
        return ()
    allowed = ("metadata.name", "metadata.namespace", *_FIELDS.get(kind, ()))
    requirements: list[FieldRequirement] = []
    for part in _split_top_level(selector):
        for operator in ("!=", "==", "="):
            if operator in part:
                field, _, value = part.partition(operator)
                field = field.strip()
                if field not in allowed:
                    raise errors.BadRequest(f"field label not supported: {field}")
                requirements.append(FieldRequirement(field, value.strip(), operator == "!="))
                break
        else:
            raise errors.BadRequest(f"invalid selector: '{selector}'; can't understand '{part}'")
    return tuple(requirements)


def field_value(obj: Mapping[str, Any], field: str) -> str:
    """The string value of a dotted field path, "" when absent (as the real server's field sets)."""
    value: Any = obj
    for part in field.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if value is None:
        return "false" if field in ("spec.hostNetwork", "spec.unschedulable") else ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def matches_fields(requirements: tuple[FieldRequirement, ...], obj: Mapping[str, Any]) -> bool:
    return all((field_value(obj, r.field) == r.value) != r.negated for r in requirements)
