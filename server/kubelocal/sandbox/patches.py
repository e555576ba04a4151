"""Patches as the API server applies them: pure functions over JSON-like values.

- JSON patch (RFC 6902, `application/json-patch+json`): add, remove, replace, move, copy, test.
- JSON merge patch (RFC 7386, `application/merge-patch+json`): objects merge, null deletes, lists
  replace.
- Strategic merge patch (`application/strategic-merge-patch+json`): like a merge patch, but lists
  whose schema says `x-kubernetes-patch-strategy: merge` merge their items by
  `x-kubernetes-patch-merge-key` (containers by name, ports by containerPort, env by name, volumes
  by name, volumeMounts by mountPath...), lists of primitives with strategy merge are unioned; the
  directives `$patch: delete|replace|merge`, `$retainKeys`, `$deleteFromPrimitiveList/<field>` and
  `$setElementOrder/<field>` are honoured. The schema comes from kubernetes-validate (see
  `validation.schema_for`), not from a hand-kept list of keys.
- Server-side apply (`application/apply-patch+yaml`): a subset — the applied configuration is
  merged into the live object as a strategic merge patch and the manager is recorded in
  managedFields; fields a manager stopped applying are not removed.

Failures raise errors.BadRequest / errors.Invalid / errors.UnsupportedMediaType with the real
server's wording where clients show it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubelocal.sandbox import errors, kinds

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY)

# A schema node as in kubernetes-validate's _definitions.json, and a function resolving its $ref.
Schema = dict[str, Any]
Resolver = Callable[[Schema], Schema]


def apply_patch(document: dict, patch: object, *, patch_type: str, kind: kinds.Kind) -> Any:
    """Apply a patch of patch_type to document (not modified; a new value is returned)."""
    if patch_type == JSON_PATCH:
        if not isinstance(patch, list):
            raise errors.BadRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
        return json_patch(document, patch)
    if patch_type == MERGE_PATCH:
        if not isinstance(patch, dict):
            raise errors.BadRequest("the merge patch must be a JSON object")
        return merge_patch(document, patch)
    if patch_type == STRATEGIC_MERGE_PATCH:
        if not isinstance(patch, dict):
            raise errors.BadRequest("the strategic merge patch must be a JSON object")
        from kubelocal.sandbox import validation

        schema, resolve = validation.schema_for(kind)
        return strategic_merge_patch(document, patch, schema=schema, resolve=resolve)
    raise errors.UnsupportedMediaType(
        "the body of the request was in an unknown format - accepted media types include: "
        + ", ".join(PATCH_TYPES)
    )


# ---------------------------------------------------------------- JSON patch (RFC 6902)


def _pointer(path: object) -> list[str]:
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise errors.BadRequest(f"invalid JSON pointer {path!r}: it must be empty or start with /")
    if path == "":
        return []
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _index(container: list, token: str, *, for_add: bool, path: str) -> int:
    if token == "-" and for_add:
        return len(container)
    if not token.isdigit() or (token != "0" and token.startswith("0")):
        raise errors.BadRequest(f"invalid array index {token!r} in path {path!r}")
    index = int(token)
    if index > len(container) or (index == len(container) and not for_add):
        raise errors.BadRequest(f"unable to access invalid index: {index} in path {path!r}")
    return index


def _parent(document: Any, tokens: list[str], path: str) -> Any:
    node = document
    for token in tokens[:-1]:
        if isinstance(node, dict):
            if token not in node:
                raise errors.BadRequest(f"doc is missing path: {path!r}: missing value")
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, for_add=False, path=path)]
        else:
            raise errors.BadRequest(f"doc is missing path: {path!r}: missing value")
    return node


def _get(document: Any, path: str) -> Any:
    tokens = _pointer(path)
    if not tokens:
        return document
    parent = _parent(document, tokens, path)
    token = tokens[-1]
    if isinstance(parent, dict):
        if token not in parent:
            raise errors.BadRequest(f"doc is missing path: {path!r}: missing value")
        return parent[token]
    if isinstance(parent, list):
        return parent[_index(parent, token, for_add=False, path=path)]
    raise errors.BadRequest(f"doc is missing path: {path!r}: missing value")


def _add(document: Any, path: str, value: Any) -> Any:
    tokens = _pointer(path)
    if not tokens:
        return value
    parent = _parent(document, tokens, path)
    token = tokens[-1]
    if isinstance(parent, dict):
        parent[token] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, token, for_add=True, path=path), value)
    else:
        raise errors.BadRequest(f"doc is missing path: {path!r}: missing value")
    return document


def _remove(document: Any, path: str) -> Any:
    tokens = _pointer(path)
    if not tokens:
        raise errors.BadRequest("unable to remove the whole document")
    parent = _parent(document, tokens, path)
    token = tokens[-1]
    if isinstance(parent, dict):
        if token not in parent:
            raise errors.BadRequest(f"Unable to remove nonexistent key: {token}: missing value")
        del parent[token]
    elif isinstance(parent, list):
        del parent[_index(parent, token, for_add=False, path=path)]
    else:
        raise errors.BadRequest(f"doc is missing path: {path!r}: missing value")
    return document


def json_patch(document: Any, operations: list) -> Any:
    """Apply RFC 6902 operations in order; errors.BadRequest on a failed operation or test (atomic)."""
    from kubelocal.sandbox import store

    result = store.copy_object(document)
    for operation in operations:
        if not isinstance(operation, dict) or "op" not in operation or "path" not in operation:
            raise errors.BadRequest(f"invalid JSON patch operation {operation!r}: it needs op and path")
        op, path = operation["op"], operation["path"]
        if op in ("add", "replace", "test") and "value" not in operation:
            raise errors.BadRequest(f'the JSON patch operation "{op}" on {path!r} has no value')
        if op == "add":
            result = _add(result, path, store.copy_object(operation["value"]))
        elif op == "remove":
            result = _remove(result, path)
        elif op == "replace":
            _get(result, path)
            tokens = _pointer(path)
            result = (
                store.copy_object(operation["value"]) if not tokens else _replace(result, path, operation)
            )
        elif op in ("move", "copy"):
            source = operation.get("from")
            if not isinstance(source, str):
                raise errors.BadRequest(f'the JSON patch operation "{op}" needs "from"')
            value = store.copy_object(_get(result, source))
            if op == "move":
                if path.startswith(source + "/"):
                    raise errors.BadRequest(f"cannot move {source!r} into its own child {path!r}")
                result = _remove(result, source)
            result = _add(result, path, value)
        elif op == "test":
            if _get(result, path) != operation["value"]:
                raise errors.BadRequest(f"testing value {path} failed: test failed")
        else:
            raise errors.BadRequest(f'Unexpected kind: "{op}"')
    return result


def _replace(document: Any, path: str, operation: dict) -> Any:
    from kubelocal.sandbox import store

    tokens = _pointer(path)
    parent = _parent(document, tokens, path)
    value = store.copy_object(operation["value"])
    if isinstance(parent, dict):
        parent[tokens[-1]] = value
    else:
        parent[_index(parent, tokens[-1], for_add=False, path=path)] = value
    return document


# ---------------------------------------------------------------- JSON merge patch (RFC 7386)


def merge_patch(document: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, null removes a key, anything else replaces."""
    from kubelocal.sandbox import store

    if not isinstance(patch, dict):
        return store.copy_object(patch)
    result = store.copy_object(document) if isinstance(document, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# ---------------------------------------------------------------- strategic merge patch


def strategic_merge_patch(document: Any, patch: Any, *, schema: Schema | None, resolve: Resolver) -> Any:
    """Apply a strategic merge patch to document, driven by the schema's patch strategies."""
    from kubelocal.sandbox import store

    return _smp_object(
        store.copy_object(document) if isinstance(document, dict) else {}, patch, schema, resolve
    )


def _properties(schema: Schema | None, resolve: Resolver) -> tuple[dict[str, Schema], Schema | None]:
    """(properties, additionalProperties schema) of an object schema."""
    if not schema:
        return {}, None
    schema = resolve(schema)
    additional = schema.get("additionalProperties")
    return schema.get("properties") or {}, additional if isinstance(additional, dict) else None


def _smp_object(document: dict, patch: dict, schema: Schema | None, resolve: Resolver) -> Any:
    from kubelocal.sandbox import store

    directive = patch.get("$patch")
    if directive == "delete":
        return None
    if directive == "replace":
        replaced = {k: v for k, v in patch.items() if k != "$patch"}
        return store.copy_object(replaced)
    if directive not in (None, "merge"):
        raise errors.BadRequest(f"Unknown patch type: {directive}")
    properties, additional = _properties(schema, resolve)
    retain = patch.get("$retainKeys")
    if retain is not None:
        if not isinstance(retain, list):
            raise errors.BadRequest("$retainKeys must be a list of field names")
        for key in list(document):
            if key not in retain:
                del document[key]
    for key, value in patch.items():
        if key in ("$patch", "$retainKeys") or key.startswith("$setElementOrder/"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.partition("/")[2]
            if isinstance(document.get(field), list) and isinstance(value, list):
                document[field] = [item for item in document[field] if item not in value]
            continue
        field_schema = properties.get(key, additional)
        if value is None:
            document.pop(key, None)
            continue
        if isinstance(value, dict):
            current = document.get(key)
            merged = _smp_object(current if isinstance(current, dict) else {}, value, field_schema, resolve)
            if merged is None:
                document.pop(key, None)
            else:
                document[key] = merged
        elif isinstance(value, list):
            document[key] = _smp_list(document.get(key), value, field_schema, resolve)
        else:
            document[key] = value
    for key, order in patch.items():
        if key.startswith("$setElementOrder/") and isinstance(order, list):
            field = key.partition("/")[2]
            field_schema = properties.get(field, additional)
            if isinstance(document.get(field), list):
                document[field] = _reorder(document[field], order, field_schema, resolve)
    return document


def _list_strategy(schema: Schema | None, resolve: Resolver) -> tuple[str | None, str | None, Schema | None]:
    """(patch strategy, merge key, item schema) of a list field."""
    if not schema:
        return None, None, None
    resolved = resolve(schema) if "$ref" in schema else schema
    strategy = schema.get("x-kubernetes-patch-strategy") or resolved.get("x-kubernetes-patch-strategy")
    merge_key = schema.get("x-kubernetes-patch-merge-key") or resolved.get("x-kubernetes-patch-merge-key")
    return strategy, merge_key, resolved.get("items")


def _smp_list(current: Any, patch: list, schema: Schema | None, resolve: Resolver) -> list:
    from kubelocal.sandbox import store

    strategy, merge_key, item_schema = _list_strategy(schema, resolve)
    strategies = set((strategy or "").split(","))
    if "merge" not in strategies or not isinstance(current, list):
        # Replace, but still honour (and strip) per-item directives such as {"$patch": "replace"}.
        if any(isinstance(item, dict) and item.get("$patch") == "replace" for item in patch):
            return [
                store.copy_object(item) for item in patch if not (isinstance(item, dict) and "$patch" in item)
            ]
        return [
            store.copy_object(item)
            for item in patch
            if not (isinstance(item, dict) and item.get("$patch") == "delete")
        ]
    if any(isinstance(item, dict) and item.get("$patch") == "replace" for item in patch):
        return [
            store.copy_object(item) for item in patch if not (isinstance(item, dict) and "$patch" in item)
        ]
    result = store.copy_object(current)
    if merge_key is None:
        # A list of primitives with strategy merge: union, keeping the live order first.
        for item in patch:
            if item not in result:
                result.append(store.copy_object(item))
        return result
    for item in patch:
        if not isinstance(item, dict):
            raise errors.BadRequest(f"a list merged by {merge_key} must contain objects, found {item!r}")
        if merge_key not in item:
            raise errors.BadRequest(f"map: {item} does not contain declared merge key: {merge_key}")
        position = next(
            (
                i
                for i, existing in enumerate(result)
                if isinstance(existing, dict) and existing.get(merge_key) == item[merge_key]
            ),
            None,
        )
        if item.get("$patch") == "delete":
            result = [
                existing
                for existing in result
                if not (isinstance(existing, dict) and existing.get(merge_key) == item[merge_key])
            ]
            continue
        if position is None:
            cleaned = _smp_object({}, item, item_schema, resolve)
            result.append(cleaned)
        else:
            result[position] = _smp_object(result[position], item, item_schema, resolve)
    return result


def _reorder(items: list, order: list, schema: Schema | None, resolve: Resolver) -> list:
    """Honour $setElementOrder: items named in order come in that order; others keep their place after."""
    _, merge_key, _ = _list_strategy(schema, resolve)

    def identity(item: Any) -> Any:
        if merge_key and isinstance(item, dict):
            return item.get(merge_key)
        return item

    wanted = [identity(entry) if isinstance(entry, dict) else entry for entry in order]
    ranked = {value: index for index, value in enumerate(wanted)}
    ordered = sorted(
        (item for item in items if identity(item) in ranked), key=lambda item: ranked[identity(item)]
    )
    return ordered + [item for item in items if identity(item) not in ranked]


# ---------------------------------------------------------------- server-side apply


def apply_configuration(
    live: dict | None, applied: dict, *, kind: kinds.Kind, field_manager: str, now: str
) -> dict:
    """The object after server-side applying `applied` (by field_manager) to `live` (None: create).

    A subset of the real algorithm: the applied configuration is merged like a strategic merge patch,
    and managedFields records the manager's apply with its time. errors.BadRequest without a manager.
    """
    from kubelocal.sandbox import validation

    if not field_manager:
        raise errors.BadRequest("PATCH requests with the apply content type require a fieldManager")
    if applied.get("apiVersion") not in (None, kind.api_version) or applied.get("kind") not in (
        None,
        kind.kind,
    ):
        raise errors.BadRequest(
            f"the applied configuration is for {applied.get('apiVersion')}/{applied.get('kind')}, "
            f"not {kind.api_version}/{kind.kind}"
        )
    schema, resolve = validation.schema_for(kind)
    result = strategic_merge_patch(live or {}, applied, schema=schema, resolve=resolve)
    entry = {
        "manager": field_manager,
        "operation": "Apply",
        "apiVersion": kind.api_version,
        "time": now,
        "fieldsType": "FieldsV1",
        "fieldsV1": _fields_v1(applied),
    }
    managed = [
        m
        for m in (result.get("metadata", {}).get("managedFields") or [])
        if not (m.get("manager") == field_manager and m.get("operation") == "Apply")
    ]
    result.setdefault("metadata", {})["managedFields"] = [*managed, entry]
    return result


def _fields_v1(value: Any) -> dict:
    """A FieldsV1 set for an applied configuration (objects as f:field, list items as v: / k:)."""
    if not isinstance(value, dict):
        return {}
    fields: dict[str, Any] = {}
    for key, item in value.items():
        if key in ("apiVersion", "kind") or key.startswith("$"):
            continue
        if isinstance(item, dict):
            fields[f"f:{key}"] = _fields_v1(item) or {}
        else:
            fields[f"f:{key}"] = {}
    return fields
