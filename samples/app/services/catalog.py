"""catalog: a StatefulSet answering with a fixed list of items and which replica served it.

GET /items   -> {"items": [...], identity}
GET /healthz -> {"ok": true} (the readiness probe)
"""

from __future__ import annotations

import os

import common

ITEMS = [
    {"id": 1, "name": "kettle"},
    {"id": 2, "name": "teapot"},
    {"id": 3, "name": "mug"},
]


def handle(path: str) -> tuple[int, dict]:
    if path == "/healthz":
        return 200, {"ok": True}
    if path == "/items":
        return 200, {**common.identity("catalog"), "items": ITEMS}
    return 404, {"error": f"no route {path}"}


if __name__ == "__main__":
    common.serve(handle, port=int(os.environ.get("PORT", "8080")))
