"""A tiny fake Kubernetes API server on loopback, for the restore mode's tests.

It stores objects by path, answers GET/PUT/POST/DELETE like the real API for the few calls the
restore makes, records every request, and can be told to answer 409 a number of times.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
import urllib.parse
from collections.abc import Iterator
from typing import Any


class FakeApi:
    def __init__(self) -> None:
        self.objects: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        self.put_conflicts = 0
        self.post_conflicts = 0
        self.forbidden: set[str] = set()
        self._version = 100
        self._server: http.server.ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def put_object(self, path: str, body: dict[str, Any]) -> None:
        self._version += 1
        body.setdefault("metadata", {})["resourceVersion"] = str(self._version)
        self.objects[path] = body

    def calls(self, method: str) -> list[tuple[str, dict[str, str], Any]]:
        return [(path, query, body) for m, path, query, body in self.requests if m == method]

    def handle(self, method: str, raw_path: str, body: Any) -> tuple[int, Any]:
        parsed = urllib.parse.urlsplit(raw_path)
        path, query = parsed.path, dict(urllib.parse.parse_qsl(parsed.query))
        self.requests.append((method, path, query, body))
        if path in self.forbidden:
            return 403, {"kind": "Status", "message": "forbidden by the test"}
        if method == "GET":
            if path in self.objects:
                return 200, self.objects[path]
            items = [obj for key, obj in self.objects.items() if key.rsplit("/", 1)[0] == path]
            if items or path.endswith("/pods"):
                selector = dict(
                    part.split("=", 1) for part in filter(None, query.get("labelSelector", "").split(","))
                )
                labels = lambda obj: (obj.get("metadata") or {}).get("labels") or {}  # noqa: E731
                matching = [obj for obj in items if all(labels(obj).get(k) == v for k, v in selector.items())]
                return 200, {"items": matching}
            return 404, {"kind": "Status", "message": f"{path} not found"}
        if method == "PUT":
            if self.put_conflicts:
                self.put_conflicts -= 1
                self._version += 1  # Someone else changed it.
                return 409, {"kind": "Status", "message": "the object has been modified"}
            current = self.objects.get(path)
            if current is None:
                return 404, {"kind": "Status", "message": "not found"}
            if body["metadata"].get("resourceVersion") != current["metadata"]["resourceVersion"]:
                return 409, {"kind": "Status", "message": "stale resourceVersion"}
            self.put_object(path, body)
            return 200, body
        if method == "POST":
            if self.post_conflicts:
                self.post_conflicts -= 1
                return 409, {"kind": "Status", "message": "already exists"}
            self.put_object(f"{path}/{body['metadata']['name']}", body)
            return 201, body
        if method == "DELETE":
            if path in self.objects:
                return 200, self.objects.pop(path)
            if "labelSelector" in query:
                return 200, {"kind": "Status", "status": "Success"}
            return 404, {"kind": "Status", "message": "not found"}
        return 405, {}

    @contextlib.contextmanager
    def running(self) -> Iterator[FakeApi]:
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                status, answer = api.handle(self.command, self.path, body)
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_PUT = do_POST = do_DELETE = _serve

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            thread.join(5)


@contextlib.contextmanager
def status_server(statuses: list[dict[str, Any] | None]) -> Iterator[str]:
    """A stand-in for the agent's status endpoint answering `statuses` in turn (the last one
    repeats); a None entry answers 500, like an agent that is not ready."""
    remaining = list(statuses)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status = remaining.pop(0) if len(remaining) > 1 else remaining[0]
            payload = json.dumps(status).encode()
            self.send_response(200 if status is not None else 500)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/status"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
