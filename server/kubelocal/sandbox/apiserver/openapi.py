"""OpenAPI documents (v3 per group-version, and v2) generated from kubernetes-validate's schemas.

kubectl needs them: `apply` checks in the v3 document of a group-version whether PATCH supports the
`fieldValidation` query parameter (then it validates on the server), `explain` reads the schemas,
and some commands still download /openapi/v2. Built once, lazily, and cached (the schemas are a few MB).
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

from kubelocal.sandbox import kinds, validation
from kubelocal.sandbox.apiserver import discovery

_V3_PREFIX = "#/components/schemas/"
_V2_PREFIX = "#/definitions/"


def _convert(schema: Any, prefix: str) -> Any:
    """JSON Schema 2020-12 as kubernetes-validate writes it -> the OpenAPI dialect Kubernetes serves."""
    if isinstance(schema, list):
        return [_convert(item, prefix) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "oneOf" in schema and all(set(option) <= {"type"} for option in schema["oneOf"]):
        types = {t for option in schema["oneOf"] for t in _types(option.get("type"))}
        converted = {k: _convert(v, prefix) for k, v in schema.items() if k != "oneOf"}
        converted["type"] = "string"
        converted["format"] = "int-or-string" if "integer" in types else "quantity"
        if "integer" in types:
            converted["x-kubernetes-int-or-string"] = True
        return converted
    converted: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "$ref" and isinstance(value, str):
            converted[key] = prefix + value.rsplit("/", 1)[-1]
        elif key == "type":
            names = [t for t in _types(value) if t != "null"]
            if names:
                converted["type"] = names[0]
        elif key == "additionalProperties" and value is False:
            continue
        elif key in ("properties",) and isinstance(value, dict):
            converted[key] = {name: _convert(item, prefix) for name, item in value.items()}
        elif key == "enum" and isinstance(value, list):
            converted[key] = [v for v in value if v is not None]
        else:
            converted[key] = _convert(value, prefix)
    return converted


def _types(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _references(schema: Any, found: set[str]) -> None:
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[-1]
            if name not in found:
                found.add(name)
                _references(validation.definitions().get(name, {}), found)
        for value in schema.values():
            _references(value, found)
    elif isinstance(schema, list):
        for item in schema:
            _references(item, found)


def _closure(names: list[str]) -> list[str]:
    found: set[str] = set(names)
    for name in names:
        _references(validation.definitions()[name], found)
    return sorted(found)


_SHARED = [
    "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
]


def _list_definition(kind: kinds.Kind) -> str | None:
    name = validation.definition_name(kind) + "List"
    return name if name in validation.definitions() else None


def _query(name: str, description: str, *, boolean: bool = False) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "description": description,
        "uniqueItems": True,
        "schema": {"type": "boolean" if boolean else "string"},
    }


def _operation(
    kind: kinds.Kind,
    action: str,
    verb: str,
    ref: str | None,
    *,
    body: bool = False,
    extra: list[dict[str, Any]] | None = None,
    v2: bool = False,
) -> dict[str, Any]:
    prefix = _V2_PREFIX if v2 else _V3_PREFIX
    operation: dict[str, Any] = {
        "operationId": f"{action}{kind.kind}",
        "x-kubernetes-action": verb,
        "x-kubernetes-group-version-kind": {"group": kind.group, "version": kind.version, "kind": kind.kind},
        "parameters": list(extra or []),
        "responses": {"200": {"description": "OK"}, "401": {"description": "Unauthorized"}},
    }
    if ref:
        if v2:
            operation["responses"]["200"]["schema"] = {"$ref": prefix + ref}
        else:
            operation["responses"]["200"]["content"] = {
                "application/json": {"schema": {"$ref": prefix + ref}}
            }
    if body:
        if v2:
            operation["parameters"].append(
                {"name": "body", "in": "body", "required": True, "schema": {"$ref": prefix + (ref or "")}}
            )
        else:
            content_types = (
                ["application/json"]
                if verb != "patch"
                else [
                    "application/apply-patch+yaml",
                    "application/json-patch+json",
                    "application/merge-patch+json",
                    "application/strategic-merge-patch+json",
                ]
            )
            operation["requestBody"] = {
                "content": {t: {"schema": {"$ref": prefix + (ref or "")}} for t in content_types},
                "required": True,
            }
    if v2:
        for parameter in operation["parameters"]:
            schema = parameter.pop("schema", None)
            if schema and parameter["in"] == "query":
                parameter["type"] = schema["type"]
    return operation


def _paths(kind: kinds.Kind, *, v2: bool) -> dict[str, Any]:
    base = f"/apis/{kind.group}/{kind.version}" if kind.group else "/api/v1"
    collection = (
        f"{base}/namespaces/{{namespace}}/{kind.plural}" if kind.namespaced else f"{base}/{kind.plural}"
    )
    item = f"{collection}/{{name}}"
    definition = validation.definition_name(kind)
    writes = [
        _query("dryRun", "When present, indicates that modifications should not be persisted."),
        _query(
            "fieldManager", "fieldManager is a name associated with the actor or entity making these changes."
        ),
        _query(
            "fieldValidation",
            "fieldValidation instructs the server on how to handle objects in the request "
            "containing unknown or duplicate fields: Ignore, Warn or Strict.",
        ),
    ]
    path_parameters = [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}]
    if kind.namespaced:
        path_parameters.append(
            {"name": "namespace", "in": "path", "required": True, "schema": {"type": "string"}}
        )
    if v2:
        for parameter in path_parameters:
            parameter["type"] = parameter.pop("schema")["type"]
    paths = {
        collection: {
            "get": _operation(kind, "list", "list", _list_definition(kind), v2=v2),
            "post": _operation(kind, "create", "post", definition, body=True, extra=writes, v2=v2),
            "parameters": path_parameters[1:],
        },
        item: {
            "get": _operation(kind, "read", "get", definition, v2=v2),
            "put": _operation(kind, "replace", "put", definition, body=True, extra=writes, v2=v2),
            "patch": _operation(
                kind,
                "patch",
                "patch",
                definition,
                body=True,
                extra=[*writes, _query("force", "Force is going to force Apply requests.", boolean=True)],
                v2=v2,
            ),
            "delete": _operation(
                kind, "delete", "delete", "io.k8s.apimachinery.pkg.apis.meta.v1.Status", v2=v2
            ),
            "parameters": path_parameters,
        },
    }
    if "status" in kind.subresources:
        paths[f"{item}/status"] = {
            "get": _operation(kind, "read", "get", definition, v2=v2),
            "put": _operation(kind, "replace", "put", definition, body=True, extra=writes, v2=v2),
            "patch": _operation(kind, "patch", "patch", definition, body=True, extra=writes, v2=v2),
            "parameters": path_parameters,
        }
    return paths


@functools.cache
def _group_version_document(group: str, version: str) -> bytes:
    served = [kind for kind in kinds.ALL if (kind.group, kind.version) == (group, version)]
    names = [validation.definition_name(kind) for kind in served]
    names += [n for n in (_list_definition(kind) for kind in served) if n]
    if any("scale" in kind.subresources for kind in served):
        names.append("io.k8s.api.autoscaling.v1.Scale")
    definitions = validation.definitions()
    schemas = {name: _convert(definitions[name], _V3_PREFIX) for name in _closure(names + _SHARED)}
    paths: dict[str, Any] = {}
    for kind in served:
        paths.update(_paths(kind, v2=False))
    document = {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": discovery.GIT_VERSION},
        "paths": paths,
        "components": {"schemas": schemas},
    }
    return json.dumps(document).encode()


def group_version_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def v3_document(path: str) -> bytes | None:
    """The document served at /openapi/v3/<path> (`api/v1`, `apis/apps/v1`); None if not served."""
    for group, version in kinds.group_versions():
        if group_version_path(group, version) == path:
            return _group_version_document(group, version)
    return None


@functools.cache
def v3_index() -> bytes:
    """/openapi/v3: each group-version's document with a hash, as kubectl expects."""
    paths = {}
    for group, version in kinds.group_versions():
        path = group_version_path(group, version)
        digest = hashlib.sha512(_group_version_document(group, version)).hexdigest()[:64].upper()
        paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
    return json.dumps({"paths": paths}).encode()


@functools.cache
def v2_document() -> bytes:
    """/openapi/v2 (Swagger 2.0) with every served kind's definitions and paths."""
    names: list[str] = []
    for kind in kinds.ALL:
        names.append(validation.definition_name(kind))
        list_name = _list_definition(kind)
        if list_name:
            names.append(list_name)
    names.append("io.k8s.api.autoscaling.v1.Scale")
    definitions = validation.definitions()
    converted = {name: _convert(definitions[name], _V2_PREFIX) for name in _closure(names + _SHARED)}
    paths: dict[str, Any] = {}
    for kind in kinds.ALL:
        paths.update(_paths(kind, v2=True))
    document = {
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": discovery.GIT_VERSION},
        "paths": paths,
        "definitions": converted,
    }
    return json.dumps(document).encode()
