"""Validation (placeholder until the schema-driven version lands)."""

from __future__ import annotations

from typing import Any

from kubelocal.sandbox import errors, kinds


def schema_for(kind: kinds.Kind) -> tuple[dict[str, Any] | None, Any]:
    return None, lambda schema: schema


def decode(kind: kinds.Kind, obj: dict) -> None:
    if not isinstance(obj.get("metadata"), dict):
        raise errors.BadRequest("metadata must be an object")


def validate(kind: kinds.Kind, obj: dict) -> None:
    name = obj["metadata"].get("name")
    if not name:
        raise errors.invalid(
            kind=kind.kind,
            group=kind.group,
            name="",
            causes=[
                errors.Cause(
                    "FieldValueRequired", "Required value: name or generateName is required", "metadata.name"
                )
            ],
        )


def validate_update(kind: kinds.Kind, new: dict, old: dict) -> None:
    return None
