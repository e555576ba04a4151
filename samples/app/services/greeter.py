"""greeter: answers with a greeting built from a ConfigMap env var, a Secret env var and a mounted file.

GET /        -> {"greeting", "message" (from the mounted file), "secret_fingerprint", identity}
GET /healthz -> 200 once the mounted message file is readable (the readiness probe), else 503
The secret itself is never returned: only the first 12 hex digits of its SHA-256, enough for a test
to check that a copy of this service sees the same secret.
"""

from __future__ import annotations

import hashlib
import os
import pathlib

import common

MESSAGE_FILE = pathlib.Path(os.environ.get("MESSAGE_FILE", "/config/greeter/message.txt"))


def handle(path: str) -> tuple[int, dict]:
    if path == "/healthz":
        if MESSAGE_FILE.is_file():
            return 200, {"ok": True}
        return 503, {"ok": False, "missing": str(MESSAGE_FILE)}
    if path == "/":
        secret = os.environ.get("API_KEY", "")
        return 200, {
            **common.identity("greeter"),
            "greeting": os.environ.get("GREETING", ""),
            "message": MESSAGE_FILE.read_text().strip() if MESSAGE_FILE.is_file() else None,
            "secret_fingerprint": hashlib.sha256(secret.encode()).hexdigest()[:12] if secret else None,
        }
    return 404, {"error": f"no route {path}"}


if __name__ == "__main__":
    common.serve(handle, port=int(os.environ.get("PORT", "8080")))
