"""frontend: the app's entry point; calls greeter and catalog by service name and combines their answers.

GET /        -> {"frontend": identity, "greeter": greeter's answer, "catalog": catalog's answer}
GET /healthz -> {"ok": true}
Service addresses come from GREETER_URL and CATALOG_URL (by default their cluster DNS names).
"""

from __future__ import annotations

import os

import common

GREETER_URL = os.environ.get("GREETER_URL", "http://greeter")
CATALOG_URL = os.environ.get("CATALOG_URL", "http://catalog:8080")


def handle(path: str) -> tuple[int, dict]:
    if path == "/healthz":
        return 200, {"ok": True}
    if path == "/":
        return 200, {
            "frontend": common.identity("frontend"),
            "greeter": common.fetch_json(f"{GREETER_URL}/"),
            "catalog": common.fetch_json(f"{CATALOG_URL}/items"),
        }
    return 404, {"error": f"no route {path}"}


if __name__ == "__main__":
    common.serve(handle, port=int(os.environ.get("PORT", "8080")))
