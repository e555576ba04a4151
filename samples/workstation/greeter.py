"""The developer's copy of the sample app's greeter, run on the workstation by `kubelocal connect`.

It answers GET / the way the cluster's greeter does (JSON with `service` and `greeting`), but its
greeting says where it runs: "hello from the workstation (pid N)", so a request that went into the
cluster and came back shows at a glance who answered. It also lists which of the cluster's variables
it received (names only: values such as API_KEY are secrets and never leave the process).

Usage: python samples/workstation/greeter.py --port PORT   (127.0.0.1 only; Ctrl-C or SIGTERM stops)
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import signal
import sys

# Names the cluster's greeter container gets (ConfigMap, Secret, downward API, service links).
CLUSTER_NAMES = ("GREETING", "API_KEY", "POD_NAME", "POD_NAMESPACE", "CATALOG_SERVICE_HOST")


def answer(path: str) -> tuple[int, dict]:
    """The status and JSON body for GET `path`."""
    if path == "/healthz":
        return 200, {"ok": True}
    if path == "/":
        return 200, {
            "service": "greeter",
            "greeting": f"hello from the workstation (pid {os.getpid()})",
            "cluster_variables": [name for name in CLUSTER_NAMES if name in os.environ],
        }
    return 404, {"error": f"no route {path}"}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status, body = answer(self.path)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        print(f"workstation greeter: {format % args}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    # kubelocal ends the command with SIGTERM on disconnect: leave as on Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    print(f"workstation greeter: listening on 127.0.0.1:{args.port} (pid {os.getpid()})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
