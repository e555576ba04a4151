"""One asyncio client for the API server: JSON requests, streamed watches, error mapping.

`Client` owns an aiohttp session (open it with `async with Client(cluster)`), adds the
credentials to every request and turns failures into `kube.errors` whose messages say what to
do: an unreachable server names the context and suggests checking it and the VPN; 401 asks to
log in again; 403 names the verb, resource and namespace the user lacks; 404 names the object.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp

from kubelocal.kube import errors, loading

JSON = "application/json"
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"

_VERBS = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


class Client:
    """Requests to one cluster. Not thread-safe; one per event loop.

    `request_timeout` bounds each request (connect + answer), not watches or port-forwards.
    """

    def __init__(self, cluster: loading.Cluster, *, request_timeout: float = 30.0) -> None:
        self.cluster = cluster
        self.request_timeout = request_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def namespace(self) -> str:
        return self.cluster.namespace

    async def __aenter__(self) -> Client:
        self.session()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(ssl=self.cluster.ssl_context or False, limit=32)
            self._session = aiohttp.ClientSession(self.cluster.server, connector=connector)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        headers = {"Accept": JSON, **(extra or {})}
        authorization = self.cluster.authorization()
        if authorization:
            headers["Authorization"] = authorization
        return headers

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        content_type: str = JSON,
    ) -> dict[str, Any]:
        """`method path` with a JSON `body`; returns the decoded JSON answer; errors are mapped."""
        data = None if body is None else json.dumps(body).encode()
        headers = await self.headers({"Content-Type": content_type} if data is not None else None)
        timeout = aiohttp.ClientTimeout(total=self.request_timeout)
        try:
            async with self.session().request(
                method, path, params=params, data=data, headers=headers, timeout=timeout
            ) as response:
                payload = await response.read()
                if response.status >= 400:
                    raise api_error(response.status, payload, method=method, path=path, params=params)
                return json.loads(payload) if payload else {}
        except (TimeoutError, aiohttp.ClientConnectionError, OSError) as error:
            raise unreachable(self.cluster, error) from error

    async def stream_lines(
        self, path: str, *, params: Mapping[str, str] | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """GET `path` and yield each JSON line of the answer (watch events) until the server ends it."""
        headers = await self.headers()
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self.request_timeout)
        try:
            async with self.session().get(path, params=params, headers=headers, timeout=timeout) as response:
                if response.status >= 400:
                    raise api_error(
                        response.status, await response.read(), method="WATCH", path=path, params=params
                    )
                while True:
                    line = await response.content.readline()
                    if not line:
                        return
                    if line.strip():
                        yield json.loads(line)
        except (TimeoutError, aiohttp.ClientConnectionError, OSError) as error:
            raise unreachable(self.cluster, error) from error


def unreachable(cluster: loading.Cluster, error: BaseException) -> errors.ClusterUnreachable:
    why = str(error) or error.__class__.__name__
    return errors.ClusterUnreachable(
        f"Cannot reach the Kubernetes API server at {cluster.server} (context {cluster.context!r}): {why}. "
        "Check that the cluster is running, that this is the right context (--context, "
        "`kubectl config current-context`), and your VPN or network."
    )


def api_error(
    status: int, payload: bytes, *, method: str, path: str, params: Mapping[str, str] | None = None
) -> errors.ApiError:
    """The `kube.errors` exception for an error answer, its message saying what to do."""
    try:
        body = json.loads(payload) if payload else {}
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    reason = str(body.get("reason") or "")
    said = str(body.get("message") or payload[:200].decode(errors="replace") or f"HTTP {status}")
    what = _describe(method, path)
    common = {"code": status, "reason": reason, "status": body}
    if status == 401:
        return errors.Unauthorized(
            f"The cluster refused the credentials ({said}). Log in again (refresh your token or "
            "run your cluster's login command) or choose another --context.",
            **common,
        )
    if status == 403:
        verb = _verb(method, path, params)
        return errors.Forbidden(
            f"Permission denied: you may not {verb} {what['resource']}"
            f"{' in namespace ' + repr(what['namespace']) if what['namespace'] else ''} ({said}). "
            f"Ask a cluster administrator for a Role allowing `{verb}` on `{what['resource']}`, "
            "or use a namespace where you have it.",
            **common,
        )
    if status == 404:
        return errors.NotFound(f"{said}. Check the name and the namespace (--namespace).", **common)
    if status == 409 and reason == "AlreadyExists":
        return errors.AlreadyExists(
            f"{said}. A previous session may have left it: run `kubelocal disconnect`.", **common
        )
    if status == 409:
        return errors.Conflict(
            f"{said}. Someone else changed the object at the same time; try again.", **common
        )
    if status == 410:
        return errors.Gone(
            f"{said}. The watch fell too far behind; it is restarted from a fresh list.", **common
        )
    if status == 400:
        return errors.BadRequest(f"The API server refused the request: {said}.", **common)
    if status == 422:
        return errors.Invalid(f"The cluster refused the object: {said}.", **common)
    return errors.ApiError(f"The API server answered {status} to {method} {path}: {said}.", **common)


def _split(path: str) -> tuple[str, list[str]]:
    """(namespace, [plural, name?, subresource?]) of an API path."""
    parts = [part for part in path.split("?")[0].split("/") if part]
    tail = parts[2:] if parts[:1] == ["api"] else parts[3:]
    if tail[:1] == ["namespaces"] and len(tail) >= 3:
        return tail[1], tail[2:]
    return "", tail


def _describe(method: str, path: str) -> dict[str, str]:
    namespace, tail = _split(path)
    resource = tail[0] if tail else "that"
    if len(tail) >= 3:
        resource = f"{tail[0]}/{tail[2]}"
    return {"resource": resource, "namespace": namespace}


def _verb(method: str, path: str, params: Mapping[str, str] | None) -> str:
    if method == "WATCH" or (params and params.get("watch") in ("1", "true")):
        return "watch"
    if method == "GET":
        _, tail = _split(path)
        if len(tail) >= 3 and tail[2] in ("portforward", "exec"):
            return "create"
        return "list" if len(tail) == 1 else "get"
    return _VERBS.get(method, method.lower())
