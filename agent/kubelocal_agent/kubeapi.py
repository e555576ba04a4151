"""A very small Kubernetes API client on `urllib`, for the restore mode (the agent has no
third-party packages). The base URL is injectable so tests run it against a loopback fake."""

from __future__ import annotations

import json
import os
import ssl
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from kubelocal_agent import errors

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")


class Client:
    def __init__(
        self, *, base_url: str, token: str | None = None, ca_file: str | None = None, timeout: float = 10
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._timeout = timeout
        context = ssl.create_default_context(cafile=ca_file) if base_url.startswith("https") else None
        # No proxy from the environment: the API server is reached directly from inside the cluster.
        handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]
        if context is not None:
            handlers.append(urllib.request.HTTPSHandler(context=context))
        self._opener = urllib.request.build_opener(*handlers)

    @classmethod
    def in_cluster(cls, *, root: Path = SERVICE_ACCOUNT_DIR, environ: dict[str, str] | None = None) -> Client:
        """The API server of the cluster this pod runs in, with its service account's token.

        Raises `errors.RestoreError` outside a pod (no KUBERNETES_SERVICE_HOST or token file).
        """
        environ = dict(os.environ if environ is None else environ)
        host, port = environ.get("KUBERNETES_SERVICE_HOST"), environ.get("KUBERNETES_SERVICE_PORT", "443")
        token_file = root / "token"
        if not host or not token_file.exists():
            raise errors.RestoreError(
                "not running in a pod: KUBERNETES_SERVICE_HOST or the service account token is missing; "
                "pass --api-url to run the restore elsewhere"
            )
        if ":" in host:
            host = f"[{host}]"
        ca_file = root / "ca.crt"
        return cls(
            base_url=f"https://{host}:{port}",
            token=token_file.read_text().strip(),
            ca_file=str(ca_file) if ca_file.exists() else None,
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        query: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> dict[str, Any]:
        """Send one request; the decoded JSON answer, or {} when it has none.

        Raises `errors.KubernetesApiError` with the status for any answer >= 400 (callers test
        `.status == 404` to treat "already gone" as success), and for network failures (status 0).
        """
        url = self.base_url + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", content_type)
        if self._token:
            request.add_header("Authorization", f"Bearer {self._token}")
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            raise errors.KubernetesApiError(
                method=method, path=path, status=error.code, message=_reason(error.read())
            ) from None
        except (urllib.error.URLError, OSError) as error:
            raise errors.KubernetesApiError(method=method, path=path, status=0, message=str(error)) from None
        return json.loads(raw) if raw.strip() else {}


def _reason(raw: bytes) -> str:
    """The `message` of a Kubernetes Status answer, else the start of the raw body."""
    try:
        message = json.loads(raw).get("message")
    except (ValueError, AttributeError):
        message = None
    return str(message) if message else raw[:200].decode("utf-8", errors="replace")
