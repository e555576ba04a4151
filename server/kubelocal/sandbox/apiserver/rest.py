"""The REST front: HTTP requests -> store calls -> JSON (or Table) responses and Status failures.

Paths, as on a real server:
    /api/v1/<plural>[/<name>[/<sub>]]                        cluster-scoped kinds, or all namespaces
    /api/v1/namespaces/<ns>/<plural>[/<name>[/<sub>]]        namespaced kinds
    /apis/<group>/<version>/...                              the same for named groups
Lists honour labelSelector, fieldSelector, limit/continue, watch=true (newline-delimited JSON events,
resourceVersion, timeoutSeconds, allowWatchBookmarks, sendInitialEvents); writes honour dryRun=All,
fieldManager, fieldValidation, force; deletes take DeleteOptions (query or body).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import pathlib
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import yaml
from aiohttp import web

from kubelocal.sandbox import errors, kinds, patches, selectors, store
from kubelocal.sandbox.apiserver import auth, discovery, openapi, streams, tables

log = logging.getLogger(__name__)

PodPorts = Callable[[str, str, int], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]

STORE: web.AppKey[store.Store] = web.AppKey("store", store.Store)
TOKENS: web.AppKey[auth.TokenRegistry | None] = web.AppKey("tokens", auth.TokenRegistry)
_PUBLIC_PATHS = frozenset({"/version", "/version/", "/healthz", "/livez", "/readyz"})
_TABLE = "as=Table"


class PodLogs(Protocol):
    """What pods/log needs from the kubelet (the Kubelet class satisfies it)."""

    def read_log(
        self,
        namespace: str,
        name: str,
        container: str | None,
        *,
        previous: bool = False,
        tail_lines: int | None = None,
    ) -> bytes: ...

    def follow_log(self, namespace: str, name: str, container: str | None) -> AsyncIterator[bytes]: ...


def build_app(
    *,
    store: store.Store,
    pod_ports: PodPorts | None = None,
    pod_logs: PodLogs | None = None,
    tokens: auth.TokenRegistry | None = None,
    watch_bookmark_seconds: float = 60.0,
) -> web.Application:
    """The API server application over store.

    pod_ports opens a TCP connection to a pod's own port (pods/portforward); pod_logs reads container
    logs (pods/log); without them those endpoints answer 503 with what is missing. tokens: the bearer
    tokens accepted (None: no authentication, for tests of the API alone); /version and the health
    endpoints are public, as on a real cluster.
    """
    app = web.Application(
        middlewares=[_errors_middleware, _auth_middleware], client_max_size=64 * 1024 * 1024
    )
    app[STORE] = store
    app[TOKENS] = tokens
    app[streams.POD_PORTS] = pod_ports
    app[streams.POD_LOGS] = pod_logs
    app[streams.BOOKMARK_SECONDS] = watch_bookmark_seconds
    app.router.add_get("/version", _version)
    app.router.add_get("/version/", _version)
    for path in ("/healthz", "/livez", "/readyz"):
        app.router.add_get(path, _healthy)
    app.router.add_get("/api", _api)
    app.router.add_get("/api/", _api)
    app.router.add_get("/apis", _apis)
    app.router.add_get("/apis/", _apis)
    app.router.add_get("/openapi/v2", _openapi_v2)
    app.router.add_get("/openapi/v3", _openapi_v3_index)
    app.router.add_get("/openapi/v3/{path:.+}", _openapi_v3)
    app.router.add_route("*", "/api/{tail:.+}", _resource)
    app.router.add_route("*", "/apis/{tail:.+}", _resource)
    return app


async def serve(
    app: web.Application, *, host: str = "127.0.0.1", port: int = 0, ssl_context: ssl.SSLContext | None = None
) -> tuple[web.AppRunner, int]:
    """Run app on host:port (0 = a free port), over TLS when ssl_context is given.

    Returns the runner (call `cleanup()` to stop) and the bound port.
    """
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port, ssl_context=ssl_context)
    await site.start()
    bound = runner.addresses[0][1]
    return runner, bound


def kubeconfig(
    *,
    server: str,
    token: str,
    certificate_authority: bytes | None = None,
    name: str = "kubelocal-sandbox",
    namespace: str = "default",
) -> str:
    """A kubeconfig (YAML) for kubectl and the official client to reach the sandbox at server.

    kubectl sends the token only over https: give an https server and its certificate_authority (PEM).
    """
    cluster: dict[str, Any] = {"server": server}
    if certificate_authority is not None:
        cluster["certificate-authority-data"] = base64.b64encode(certificate_authority).decode()
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": cluster}],
        "users": [{"name": name, "user": {"token": token}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name, "namespace": namespace}}],
        "current-context": name,
        "preferences": {},
    }
    return yaml.safe_dump(config, sort_keys=False)


def write_kubeconfig(
    path: pathlib.Path, *, server: str, token: str, certificate_authority: bytes | None = None
) -> None:
    """Write kubeconfig() to path, readable by its owner only (it holds the token)."""
    path.write_text(kubeconfig(server=server, token=token, certificate_authority=certificate_authority))
    path.chmod(0o600)


# ------------------------------------------------------------------ middlewares and helpers


def json_response(body: Any, *, status: int = 200) -> web.Response:
    return web.Response(
        body=json.dumps(body, separators=(",", ":")).encode(), status=status, content_type="application/json"
    )


def status_response(problem: errors.ApiError) -> web.Response:
    return json_response(problem.to_status(), status=problem.code)


@web.middleware
async def _errors_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except errors.ApiError as problem:
        return status_response(problem)
    except web.HTTPException:
        raise
    except Exception as problem:  # a bug: answer as the real server would, and keep serving
        log.exception("internal error serving %s %s", request.method, request.path)
        return status_response(
            errors.ApiError(f"Internal error occurred: {type(problem).__name__}: {problem}")
        )


@web.middleware
async def _auth_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    registry = request.app[TOKENS]
    if registry is not None and request.path not in _PUBLIC_PATHS:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token or registry.user_for(token.strip()) is None:
            raise errors.Unauthorized("Unauthorized")
    return await handler(request)


async def _version(request: web.Request) -> web.Response:
    return json_response(discovery.version())


async def _healthy(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def _api(request: web.Request) -> web.Response:
    return json_response(discovery.api_versions(request.host))


async def _apis(request: web.Request) -> web.Response:
    return json_response(discovery.api_group_list())


async def _openapi_v2(request: web.Request) -> web.Response:
    body = await asyncio.get_running_loop().run_in_executor(None, openapi.v2_document)
    return web.Response(body=body, content_type="application/json")


async def _openapi_v3_index(request: web.Request) -> web.Response:
    body = await asyncio.get_running_loop().run_in_executor(None, openapi.v3_index)
    return web.Response(body=body, content_type="application/json")


async def _openapi_v3(request: web.Request) -> web.Response:
    path = request.match_info["path"]
    body = await asyncio.get_running_loop().run_in_executor(None, openapi.v3_document, path)
    if body is None:
        raise errors.NotFound("the server could not find the requested resource")
    return web.Response(body=body, content_type="application/json")


# ------------------------------------------------------------------ resource paths


class Target:
    """What a resource path names: kind, namespace, name and subresource (some may be None)."""

    def __init__(self, kind: kinds.Kind, namespace: str | None, name: str | None, sub: str | None) -> None:
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.sub = sub


def parse_path(path: str) -> Target | dict[str, Any]:
    """A resource Target, or a discovery document for /api/v1, /apis/<g>, /apis/<g>/<v>.

    errors.NotFound for anything else.
    """
    parts = [p for p in path.strip("/").split("/") if p]
    if parts[:1] == ["api"]:
        if len(parts) < 2:
            raise errors.NotFound("the server could not find the requested resource")
        group, version, rest = "", parts[1], parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 2:
        group = parts[1]
        if len(parts) == 2:
            document = discovery.api_group(group)
            if document is None:
                raise errors.NotFound("the server could not find the requested resource")
            return document
        version, rest = parts[2], parts[3:]
    else:
        raise errors.NotFound("the server could not find the requested resource")
    if not rest:
        document = discovery.resource_list(group, version)
        if document is None:
            raise errors.NotFound("the server could not find the requested resource")
        return document
    namespace: str | None = None
    if rest[0] == "namespaces" and len(rest) >= 3 and _is_namespaced_plural(group, version, rest[2]):
        namespace, rest = rest[1], rest[2:]
    kind = kinds.by_plural(group, version, rest[0])
    if namespace is not None and not kind.namespaced:
        raise errors.NotFound("the server could not find the requested resource")
    name = rest[1] if len(rest) >= 2 else None
    sub = rest[2] if len(rest) >= 3 else None
    if len(rest) > 3 or (sub is not None and sub not in kind.subresources):
        raise errors.NotFound("the server could not find the requested resource")
    return Target(kind, namespace, name, sub)


def _is_namespaced_plural(group: str, version: str, plural: str) -> bool:
    try:
        return kinds.by_plural(group, version, plural).namespaced
    except errors.NotFound:
        return False


async def _resource(request: web.Request) -> web.StreamResponse:
    target = parse_path(request.path)
    if isinstance(target, dict):
        if request.method != "GET":
            raise errors.MethodNotAllowed("the server does not allow this method on the requested resource")
        return json_response(target)
    if target.sub == "portforward":
        return await streams.port_forward(
            request, target.namespace or "", target.name or "", request.app[STORE]
        )
    if target.sub == "log":
        return await streams.pod_log(request, target.namespace or "", target.name or "", request.app[STORE])
    handler = {
        ("GET", False): _list_or_watch,
        ("POST", False): _create,
        ("DELETE", False): _delete_collection,
        ("GET", True): _get,
        ("PUT", True): _update,
        ("PATCH", True): _patch,
        ("DELETE", True): _delete,
    }.get((request.method, target.name is not None))
    if handler is None or (target.sub is not None and request.method not in ("GET", "PUT", "PATCH")):
        raise errors.MethodNotAllowed(
            f"the server does not allow this method on the requested resource ({request.method})"
        )
    return await handler(request, target)


# ------------------------------------------------------------------ bodies and parameters


async def _body(request: web.Request) -> Any:
    raw = await request.read()
    if not raw.strip():
        raise errors.BadRequest("the request body is empty; send the object as JSON or YAML")
    content_type = request.content_type
    if "protobuf" in content_type:
        raise errors.UnsupportedMediaType(
            f"the body of the request was in an unknown format - accepted media types include: "
            f"application/json, application/yaml ({content_type} is not served by the sandbox)"
        )
    try:
        if content_type.endswith("yaml"):
            return yaml.safe_load(raw)
        return json.loads(raw)
    except (ValueError, yaml.YAMLError) as problem:
        raise errors.BadRequest(f"the request body cannot be decoded: {problem}") from None


def _write_options(request: web.Request) -> dict[str, Any]:
    query = request.query
    dry_run = query.getall("dryRun", [])
    for value in dry_run:
        if value != "All":
            raise errors.BadRequest(f'dryRun: Unsupported value: "{value}": supported values: "All"')
    field_validation = query.get("fieldValidation", "Warn")
    if field_validation not in ("Ignore", "Warn", "Strict"):
        raise errors.BadRequest(
            f'fieldValidation: Unsupported value: "{field_validation}": '
            'supported values: "Ignore", "Warn", "Strict"'
        )
    return {"dry_run": bool(dry_run), "field_validation": field_validation}


def _wants_table(request: web.Request) -> bool:
    return _TABLE in request.headers.get("Accept", "").replace(" ", "")


def _with_kind(kind: kinds.Kind, obj: dict) -> dict:
    obj["apiVersion"] = kind.api_version
    obj["kind"] = kind.kind
    return obj


def _render(request: web.Request, kind: kinds.Kind, obj: dict, *, status: int = 200) -> web.Response:
    if _wants_table(request) and request.method == "GET":
        return json_response(
            tables.table(
                kind,
                [obj],
                include_object=request.query.get("includeObject", "Metadata"),
                resource_version=obj["metadata"].get("resourceVersion", ""),
            )
        )
    return json_response(_with_kind(kind, obj), status=status)


def _check_identity(target: Target, obj: Any) -> dict:
    if not isinstance(obj, dict):
        raise errors.BadRequest(f"the body of a {target.kind.kind} must be an object")
    metadata = obj.get("metadata")
    if metadata is None:
        metadata = obj["metadata"] = {}
    if not isinstance(metadata, dict):
        raise errors.BadRequest("metadata must be an object")
    if target.kind.namespaced and target.namespace:
        if metadata.get("namespace") and metadata["namespace"] != target.namespace:
            raise errors.BadRequest(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        metadata["namespace"] = target.namespace
    if target.name is not None:
        if metadata.get("name") and metadata["name"] != target.name:
            raise errors.BadRequest(
                f"the name of the object ({metadata['name']}) does not match the name on the URL "
                f"({target.name})"
            )
        metadata["name"] = target.name
    return obj


# ------------------------------------------------------------------ verbs


def _continue_token(key: tuple[str, str], resource_version: str) -> str:
    raw = json.dumps({"rv": resource_version, "start": list(key)}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _parse_continue(token: str) -> tuple[str, str]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        return data["start"][0], data["start"][1]
    except (ValueError, KeyError, IndexError, TypeError):
        raise errors.BadRequest(
            f"continue key is not valid: {token!r}; list again without continue"
        ) from None


async def _list_or_watch(request: web.Request, target: Target) -> web.StreamResponse:
    query = request.query
    if query.get("watch") in ("true", "1"):
        return await streams.watch(
            request, target.kind, target.namespace, request.app[STORE], table=_wants_table(request)
        )
    items, resource_version = request.app[STORE].list(
        target.kind,
        target.namespace,
        label_selector=query.get("labelSelector"),
        field_selector=query.get("fieldSelector"),
    )
    continue_token = ""
    remaining = 0
    if query.get("continue"):
        start = _parse_continue(query["continue"])
        items = [i for i in items if (i["metadata"].get("namespace", ""), i["metadata"]["name"]) > start]
    limit = int(query.get("limit") or 0)
    if limit > 0 and len(items) > limit:
        remaining = len(items) - limit
        items = items[:limit]
        last = items[-1]["metadata"]
        continue_token = _continue_token((last.get("namespace", ""), last["name"]), resource_version)
    if _wants_table(request):
        return json_response(
            tables.table(
                target.kind,
                items,
                include_object=query.get("includeObject", "Metadata"),
                resource_version=resource_version,
                continue_token=continue_token,
            )
        )
    metadata: dict[str, Any] = {"resourceVersion": resource_version}
    if continue_token:
        metadata["continue"] = continue_token
        metadata["remainingItemCount"] = remaining
    return json_response(
        {
            "kind": target.kind.list_kind,
            "apiVersion": target.kind.api_version,
            "metadata": metadata,
            "items": items,
        }
    )


async def _create(request: web.Request, target: Target) -> web.Response:
    if target.kind.namespaced and not target.namespace:
        raise errors.MethodNotAllowed(
            f"the server does not allow this method on the requested resource: create {target.kind.plural} "
            "needs a namespace (/namespaces/<ns>/...)"
        )
    obj = _check_identity(target, await _body(request))
    created = request.app[STORE].create(
        target.kind, obj, namespace=target.namespace, **_write_options(request)
    )
    return _render(request, target.kind, created, status=201)


async def _get(request: web.Request, target: Target) -> web.Response:
    obj = request.app[STORE].get(target.kind, target.namespace, target.name or "")
    if target.sub == "scale":
        return json_response(_scale(target.kind, obj))
    return _render(request, target.kind, obj)


async def _update(request: web.Request, target: Target) -> web.Response:
    body = await _body(request)
    state = request.app[STORE]
    if target.sub == "scale":
        return json_response(_scale(target.kind, _set_scale(request, target, body, state)))
    obj = _check_identity(target, body)
    updated = state.update(target.kind, obj, subresource=target.sub, **_write_options(request))
    return _render(request, target.kind, updated)


async def _patch(request: web.Request, target: Target) -> web.Response:
    patch_type = request.content_type
    if patch_type not in patches.PATCH_TYPES:
        raise errors.UnsupportedMediaType(
            f"the body of the request was in an unknown format - accepted media types include: "
            f"{', '.join(patches.PATCH_TYPES)}"
        )
    raw = await request.read()
    try:
        body = yaml.safe_load(raw) if patch_type == patches.APPLY else json.loads(raw)
    except (ValueError, yaml.YAMLError) as problem:
        raise errors.BadRequest(f"the patch cannot be decoded: {problem}") from None
    state = request.app[STORE]
    name = target.name or ""
    if target.sub == "scale":
        current = state.get(target.kind, target.namespace, name)
        scale = _scale(target.kind, current)
        if patch_type == patches.JSON_PATCH:
            patched = patches.json_patch(scale, body)
        else:
            patched = patches.merge_patch(scale, body)
        return json_response(_scale(target.kind, _set_scale(request, target, patched, state)))
    existed = True
    if patch_type == patches.APPLY:
        try:
            state.get(target.kind, target.namespace, name)
        except errors.NotFound:
            existed = False
    result = state.patch(
        target.kind,
        target.namespace,
        name,
        body,
        patch_type=patch_type,
        subresource=target.sub,
        field_manager=request.query.get("fieldManager"),
        force=request.query.get("force") == "true",
        **_write_options(request),
    )
    return _render(request, target.kind, result, status=200 if existed else 201)


def _delete_options(request: web.Request, body: Any) -> dict[str, Any]:
    options = body if isinstance(body, dict) else {}
    query = request.query
    propagation = query.get("propagationPolicy") or options.get("propagationPolicy")
    orphan = query.get("orphanDependents") or options.get("orphanDependents")
    if propagation is None and orphan in (True, "true"):
        propagation = "Orphan"
    grace = query.get("gracePeriodSeconds", options.get("gracePeriodSeconds"))
    dry_run = query.getall("dryRun", []) or options.get("dryRun") or []
    return {
        "propagation": propagation or "Background",
        "grace_period_seconds": int(grace) if grace is not None else None,
        "preconditions": options.get("preconditions"),
        "dry_run": "All" in dry_run,
    }


async def _optional_body(request: web.Request) -> Any:
    raw = await request.read()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise errors.BadRequest("DeleteOptions in the body cannot be decoded") from None


_RETURNS_DELETED_OBJECT = frozenset({kinds.PODS, kinds.NAMESPACES, kinds.SERVICES})


async def _delete(request: web.Request, target: Target) -> web.Response:
    options = _delete_options(request, await _optional_body(request))
    state = request.app[STORE]
    name = target.name or ""
    deleted = state.delete(target.kind, target.namespace, name, **options)
    try:
        state.get(target.kind, target.namespace, name)
        still_there = True
    except errors.NotFound:
        still_there = False
    if still_there or target.kind in _RETURNS_DELETED_OBJECT:
        return json_response(_with_kind(target.kind, deleted), status=202 if still_there else 200)
    details = {"name": name, "kind": target.kind.plural, "uid": deleted["metadata"].get("uid", "")}
    if target.kind.group:
        details["group"] = target.kind.group
    return json_response(
        {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}
    )


async def _delete_collection(request: web.Request, target: Target) -> web.Response:
    if target.kind == kinds.NAMESPACES:
        raise errors.MethodNotAllowed("the server does not allow this method on the requested resource")
    options = _delete_options(request, await _optional_body(request))
    state = request.app[STORE]
    items, _ = state.list(
        target.kind,
        target.namespace,
        label_selector=request.query.get("labelSelector"),
        field_selector=request.query.get("fieldSelector"),
    )
    deleted = []
    for item in items:
        try:
            deleted.append(
                state.delete(
                    target.kind, item["metadata"].get("namespace"), item["metadata"]["name"], **options
                )
            )
        except errors.NotFound:
            continue  # deleted meanwhile, e.g. by a namespace or owner going away
    return json_response(
        {
            "kind": target.kind.list_kind,
            "apiVersion": target.kind.api_version,
            "metadata": {"resourceVersion": state.resource_version},
            "items": deleted,
        }
    )


# ------------------------------------------------------------------ scale


def _scale(kind: kinds.Kind, obj: dict) -> dict:
    """The autoscaling/v1 Scale of a Deployment, ReplicaSet or StatefulSet."""
    metadata = obj["metadata"]
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            key: metadata[key]
            for key in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if key in metadata
        },
        "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 0)},
        "status": {
            "replicas": (obj.get("status") or {}).get("replicas", 0),
            "selector": selectors.to_string((obj.get("spec") or {}).get("selector")),
        },
    }


def _set_scale(request: web.Request, target: Target, scale: Any, state: store.Store) -> dict:
    if not isinstance(scale, dict) or not isinstance((scale.get("spec") or {}).get("replicas", 0), int):
        raise errors.BadRequest("the Scale must be an object with spec.replicas as an integer")
    current = state.get(target.kind, target.namespace, target.name or "")
    wanted_version = (scale.get("metadata") or {}).get("resourceVersion")
    if wanted_version:
        current["metadata"]["resourceVersion"] = wanted_version
    replicas = (scale.get("spec") or {}).get("replicas", 0)
    if replicas < 0:
        raise errors.invalid(
            kind="Scale",
            group="autoscaling",
            name=target.name or "",
            causes=[
                errors.Cause(
                    "FieldValueInvalid",
                    f"Invalid value: {replicas}: must be greater than or equal to 0",
                    "spec.replicas",
                )
            ],
        )
    current["spec"]["replicas"] = replicas
    return state.update(target.kind, current, **_write_options(request))
