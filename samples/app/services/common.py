"""What every sample service shares: a small JSON HTTP server and who-am-I details (standard library only).

Delivered next to each service in the same ConfigMap, so `python /app/<service>.py` finds it.
"""

from __future__ import annotations

import http.server
import json
import os
import signal
import socket
import sys
import threading
import urllib.request
from collections.abc import Callable

Handler = Callable[[str], tuple[int, dict]]


def identity(service: str) -> dict:
    """Names a redirect test can recognise: the service, its pod and the machine it runs on."""
    return {
        "service": service,
        "pod": os.environ.get("POD_NAME", ""),
        "namespace": os.environ.get("POD_NAMESPACE", ""),
        "hostname": socket.gethostname(),
    }


def fetch_json(url: str, *, timeout: float = 3.0) -> dict:
    """GET a JSON document; failures come back as {"error": ...} so one broken service shows as such."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return json.loads(response.read().decode())
    except (OSError, ValueError) as error:
        return {"error": f"{url}: {error}"}


def serve(handler: Handler, *, port: int) -> None:
    """Answer GET requests with handler(path) -> (status, json body) until SIGTERM."""

    class RequestHandler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = handler(self.path)
            payload = json.dumps(body, sort_keys=True).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            print(f"{self.address_string()} {format % args}", file=sys.stdout, flush=True)

    # Pods listen on every address; a workstation copy may be told to stay on loopback with BIND.
    server = http.server.ThreadingHTTPServer((os.environ.get("BIND", "0.0.0.0"), port), RequestHandler)
    # SIGTERM is how the kubelet stops a container: shut down cleanly and exit 0.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    print(f"listening on :{port}", flush=True)
    server.serve_forever()
    server.server_close()
