"""Long-lived responses: watch streams, pods/log and pods/portforward.

Watch: newline-delimited JSON `{"type": ..., "object": ...}` over a chunked 200 response. A
resourceVersion older than the store's history gives one ERROR event carrying the 410 Expired
Status (as the real server's watch cache does), which the official client raises as ApiException.

Port-forward: a WebSocket with subprotocol `v4.channel.k8s.io`. For the i-th requested port, channel
2i carries data and 2i+1 errors; the server's first frame on each channel is the port number as two
little-endian bytes; every frame starts with its channel byte. One TCP connection to the pod's port
per port per WebSocket, opened through the injected `pod_ports` callable. When the pod side has
closed every connection, the WebSocket ends (after CLOSE_GRACE_SECONDS, if the client has not
closed it first).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import struct
from typing import Any

from aiohttp import WSMsgType, web

from kubelocal.sandbox import errors, kinds, store
from kubelocal.sandbox.apiserver import tables

log = logging.getLogger(__name__)

POD_PORTS: web.AppKey[Any] = web.AppKey("pod_ports", object)
POD_LOGS: web.AppKey[Any] = web.AppKey("pod_logs", object)
BOOKMARK_SECONDS: web.AppKey[float] = web.AppKey("bookmark_seconds", float)
PORT_FORWARD_PROTOCOLS = ("v4.channel.k8s.io",)
_DEFAULT_WATCH_SECONDS = 1800.0
CLOSE_GRACE_SECONDS = 1.0
# One WebSocket message per read from the pod: larger reads mean fewer messages, TLS writes and
# loop turns per byte on a busy loop (the sandbox shares it with the engine in tests and benchmarks).
PORT_FORWARD_CHUNK = 256 * 1024


def _line(event_type: str, obj: dict) -> bytes:
    return json.dumps({"type": event_type, "object": obj}, separators=(",", ":")).encode() + b"\n"


def _bookmark(kind: kinds.Kind, resource_version: str, *, initial_end: bool = False) -> dict:
    metadata: dict[str, Any] = {"resourceVersion": resource_version}
    if initial_end:
        metadata["annotations"] = {"k8s.io/initial-events-end": "true"}
    return {"kind": kind.kind, "apiVersion": kind.api_version, "metadata": metadata}


async def watch(
    request: web.Request, kind: kinds.Kind, namespace: str | None, state: store.Store, *, table: bool
) -> web.StreamResponse:
    """Stream the store's events for kind as a watch response until timeoutSeconds or the client leaves."""
    query = request.query
    labels, fields = query.get("labelSelector"), query.get("fieldSelector")
    bookmarks = query.get("allowWatchBookmarks") in ("true", "1")
    timeout = float(query.get("timeoutSeconds") or _DEFAULT_WATCH_SECONDS)
    initial: list[tuple[str, dict]] = []
    gone: errors.Gone | None = None
    stream: store.WatchStream | None = None
    try:
        if query.get("sendInitialEvents") == "true":
            items, list_version = state.list(kind, namespace, label_selector=labels, field_selector=fields)
            stream = state.watch(
                kind, namespace, resource_version=list_version, label_selector=labels, field_selector=fields
            )
            initial = [("ADDED", item) for item in items]
            initial.append(("BOOKMARK", _bookmark(kind, list_version, initial_end=True)))
        else:
            stream = state.watch(
                kind,
                namespace,
                resource_version=query.get("resourceVersion"),
                label_selector=labels,
                field_selector=fields,
            )
    except errors.Gone as expired:
        gone = expired
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    if gone is not None or stream is None:
        if gone is not None:
            await response.write(_line("ERROR", gone.to_status()))
        await response.write_eof()
        return response

    def shown(event_type: str, obj: dict) -> dict:
        if table and event_type != "BOOKMARK":
            return tables.table(
                kind,
                [obj],
                include_object=query.get("includeObject", "Metadata"),
                resource_version=obj["metadata"].get("resourceVersion", ""),
            )
        return obj

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    bookmark_every = request.app[BOOKMARK_SECONDS]
    try:
        for event_type, obj in initial:
            await response.write(_line(event_type, shown(event_type, obj)))
        next_bookmark = loop.time() + bookmark_every
        while (remaining := deadline - loop.time()) > 0:
            wait = min(remaining, 5.0, max(next_bookmark - loop.time(), 0.01) if bookmarks else 5.0)
            try:
                event = await asyncio.wait_for(anext(stream), wait)
            except TimeoutError:
                if request.transport is None or request.transport.is_closing():
                    break  # the client left; aiohttp does not cancel handlers for that
                if bookmarks and loop.time() >= next_bookmark:
                    await response.write(_line("BOOKMARK", _bookmark(kind, state.resource_version)))
                    next_bookmark = loop.time() + bookmark_every
                continue
            except StopAsyncIteration:
                break
            await response.write(_line(event.type, shown(event.type, event.object)))
        await response.write_eof()
    except (ConnectionResetError, ConnectionError):
        pass
    finally:
        stream.close()
    return response


# ------------------------------------------------------------------ logs


async def pod_log(request: web.Request, namespace: str, name: str, state: store.Store) -> web.StreamResponse:
    """GET pods/<name>/log: container, follow, previous, tailLines (timestamps are not kept)."""
    if request.method != "GET":
        raise errors.MethodNotAllowed("the server does not allow this method on the requested resource")
    pod = state.get(kinds.PODS, namespace, name)
    spec = pod.get("spec") or {}
    names = [c["name"] for c in spec.get("containers") or []]
    every = names + [c["name"] for c in spec.get("initContainers") or []]
    container = request.query.get("container")
    if not container:
        if len(names) != 1:
            raise errors.BadRequest(
                f"a container name must be specified for pod {name}, choose one of: [{' '.join(names)}]"
            )
        container = names[0]
    elif container not in every:
        raise errors.BadRequest(f"container {container} is not valid for pod {name}")
    logs = request.app[POD_LOGS]
    if logs is None:
        raise errors.ApiError("this API server runs without a kubelet, so there are no container logs")
    tail_lines = int(request.query["tailLines"]) if request.query.get("tailLines") else None
    previous = request.query.get("previous") == "true"
    try:
        if request.query.get("follow") != "true" or previous:
            content = logs.read_log(namespace, name, container, previous=previous, tail_lines=tail_lines)
            return web.Response(body=content, content_type="text/plain")
        shown = logs.read_log(namespace, name, container, tail_lines=tail_lines)
        skip = len(logs.read_log(namespace, name, container)) if tail_lines is not None else 0
    except Exception as problem:  # the kubelet says why (waiting to start, no previous run...)
        raise errors.BadRequest(str(problem)) from None
    response = web.StreamResponse(headers={"Content-Type": "text/plain"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    try:
        if tail_lines is not None:
            await response.write(shown)
        async for chunk in logs.follow_log(namespace, name, container):
            if skip:
                dropped = min(skip, len(chunk))
                chunk, skip = chunk[dropped:], skip - dropped
            if chunk:
                await response.write(chunk)
        await response.write_eof()
    except (ConnectionResetError, ConnectionError):
        pass
    return response


# ------------------------------------------------------------------ port-forward


def _ports(request: web.Request) -> list[int]:
    ports: list[int] = []
    for value in request.query.getall("ports", []):
        for part in value.split(","):
            part = part.strip()
            if not part.isdigit() or not 0 < int(part) < 65536:
                raise errors.BadRequest(f'invalid port "{part}" in ports; give ports as numbers 1-65535')
            ports.append(int(part))
    if not ports:
        raise errors.BadRequest("query parameter ports is required: the pod ports to forward")
    return ports


async def port_forward(
    request: web.Request, namespace: str, name: str, state: store.Store
) -> web.StreamResponse:
    """pods/<name>/portforward over WebSocket (`v4.channel.k8s.io`), relaying to the pod's ports."""
    state.get(kinds.PODS, namespace, name)
    ports = _ports(request)
    opener = request.app[POD_PORTS]
    if opener is None:
        raise errors.ApiError("this API server runs without a kubelet, so it cannot reach pod ports")
    socket = web.WebSocketResponse(protocols=PORT_FORWARD_PROTOCOLS, autoping=True, max_msg_size=0)
    if not socket.can_prepare(request).ok:
        raise errors.BadRequest(
            "pods/portforward needs a WebSocket upgrade with subprotocol v4.channel.k8s.io; "
            "SPDY (kubectl port-forward) is not served by the sandbox"
        )
    await socket.prepare(request)
    writers: dict[int, asyncio.StreamWriter] = {}
    pumps: list[asyncio.Task[None]] = []
    send_lock = asyncio.Lock()

    async def send(channel: int, payload: bytes) -> None:
        async with send_lock:
            await socket.send_bytes(bytes((channel,)) + payload)

    async def pump(index: int, reader: asyncio.StreamReader) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            while chunk := await reader.read(PORT_FORWARD_CHUNK):
                await send(2 * index, chunk)

    try:
        for index, port in enumerate(ports):
            await send(2 * index, struct.pack("<H", port))
            await send(2 * index + 1, struct.pack("<H", port))
        for index, port in enumerate(ports):
            try:
                reader, writer = await opener(namespace, name, port)
            except Exception as problem:  # the kubelet says why (no network yet, nothing listening...)
                await send(2 * index + 1, f"error forwarding port {port} to pod {name}: {problem}".encode())
                continue
            writers[index] = writer
            pumps.append(asyncio.create_task(pump(index, reader)))

        async def close_when_the_pod_side_ends(relays: list[asyncio.Task[None]]) -> None:
            # v4.channel.k8s.io has no per-port close: ending the WebSocket is how the client learns
            # that the pod closed its connections (as a real kubelet does). A moment's grace first:
            # the official client closes cleanly when it goes first, but leaks its socket when the
            # server does, and most clients close right after reading a response.
            await asyncio.gather(*relays, return_exceptions=True)
            await asyncio.sleep(CLOSE_GRACE_SECONDS)
            await socket.close()

        pumps.append(asyncio.create_task(close_when_the_pod_side_ends(list(pumps))))
        async for message in socket:
            if message.type != WSMsgType.BINARY or not message.data:
                continue
            # A view, not a slice: the message is not copied again on its way to the pod.
            channel, payload = message.data[0], memoryview(message.data)[1:]
            writer = writers.get(channel // 2)
            if channel % 2 or writer is None or not payload:
                continue
            writer.write(payload)
            await writer.drain()
    except (ConnectionError, RuntimeError) as problem:
        log.debug("port-forward to %s/%s ended: %s", namespace, name, problem)
    finally:
        for task in pumps:
            task.cancel()
        for writer in writers.values():
            writer.close()
        await socket.close()
    return socket
