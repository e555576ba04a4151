"""The stand-in: what runs for an image the sandbox has no program for (run as a script).

Usage: `python -I -S standin.py --image IMAGE --pod NAMESPACE/NAME --container NAME --ports-file F`.
Standard library only. It listens on every TCP port listed in F (a JSON list, re-read on SIGHUP so
the kubelet can add ports when a service starts targeting the pod), on all the pod's addresses,
and answers:
- an HTTP request (the first bytes look like an HTTP method) with `200 OK` and a one-line body
  naming the image, the pod, the container and the port; it keeps the connection alive;
- any other connection with that same line, once it has sent something or stayed silent for a
  moment (clients of servers that speak first, e.g. SMTP or MySQL, wait for a greeting).
So readiness probes pass, services have endpoints, and traffic shows where it arrived.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys

HTTP_METHODS = (
    b"GET ",
    b"HEAD ",
    b"POST ",
    b"PUT ",
    b"DELETE ",
    b"PATCH ",
    b"OPTIONS ",
    b"CONNECT ",
    b"TRACE ",
)
GREETING_DELAY_SECONDS = 0.3


def describe(*, image: str, pod: str, container: str, port: int) -> str:
    return f"kubelocal stand-in for image {image}: pod {pod}, container {container}, port {port}\n"


def http_response(body: bytes, *, head: bool) -> bytes:
    header = (
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nX-Kubelocal-Stand-In: true\r\n\r\n"
    ).encode()
    return header if head else header + body


async def _serve_http(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, first: bytes, body: bytes
) -> None:
    buffered = first
    while True:
        while b"\r\n\r\n" not in buffered:
            chunk = await reader.read(65536)
            if not chunk:
                return
            buffered += chunk
        head, _, buffered = buffered.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip() or 0)
        while len(buffered) < length:
            chunk = await reader.read(65536)
            if not chunk:
                return
            buffered += chunk
        buffered = buffered[length:]
        writer.write(http_response(body, head=head.startswith(b"HEAD ")))
        await writer.drain()
        if b"connection: close" in head.lower():
            return
        if not buffered:
            buffered = await reader.read(65536)
            if not buffered:
                return


def handler(*, image: str, pod: str, container: str, port: int):  # noqa: ANN201 - a stream callback
    body = describe(image=image, pod=pod, container=container, port=port).encode()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            try:
                first = await asyncio.wait_for(reader.read(65536), GREETING_DELAY_SECONDS)
            except TimeoutError:
                first = b""
            if first.startswith(HTTP_METHODS):
                await _serve_http(reader, writer, first, body)
            else:
                writer.write(body)
                await writer.drain()
                while await reader.read(65536):  # keep the connection until the client closes
                    pass
        except (ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    return handle


def read_ports(path: str) -> list[int]:
    try:
        with open(path) as ports_file:
            return sorted({int(p) for p in json.load(ports_file)})
    except (OSError, ValueError, TypeError) as error:
        print(f"kubelocal stand-in: cannot read ports from {path}: {error}", file=sys.stderr)
        return []


async def serve(*, image: str, pod: str, container: str, ports_file: str) -> None:
    servers: dict[int, asyncio.Server] = {}

    async def open_ports() -> None:
        for port in read_ports(ports_file):
            if port in servers:
                continue
            try:
                servers[port] = await asyncio.start_server(
                    handler(image=image, pod=pod, container=container, port=port), None, port
                )
            except OSError as error:
                print(f"kubelocal stand-in: cannot listen on port {port}: {error}", file=sys.stderr)
        print(
            f"kubelocal stand-in for image {image}: pod {pod}, container {container}, ports {sorted(servers)}"
        )
        sys.stdout.flush()

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    reopening: set[asyncio.Task] = set()

    def reopen() -> None:
        task = loop.create_task(open_ports())
        reopening.add(task)
        task.add_done_callback(reopening.discard)

    loop.add_signal_handler(signal.SIGHUP, reopen)
    await open_ports()
    await stop.wait()
    for server in servers.values():
        server.close()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description="kubelocal sandbox stand-in for an image")
    parser.add_argument("--image", required=True)
    parser.add_argument("--pod", required=True)
    parser.add_argument("--container", required=True)
    parser.add_argument("--ports-file", required=True)
    options = parser.parse_args(argv[1:])
    asyncio.run(
        serve(
            image=options.image, pod=options.pod, container=options.container, ports_file=options.ports_file
        )
    )


if __name__ == "__main__":
    main(sys.argv)
