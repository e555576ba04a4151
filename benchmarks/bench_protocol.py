"""Benchmark of the wire protocol through the real agent on loopback, against plain loopback TCP.

Run with the other benchmarks (`make bench`) or alone: `python -m benchmarks.bench_protocol`.
`run()` returns the figures; everything is bounded to a few seconds:

- bulk throughput (MB/s) of one stream engine -> agent process -> a loopback sink, against the
  same bytes sent straight to the sink over TCP, and their ratio;
- small-request latency (p50/p99, microseconds) of a 64-byte echo on an open stream, against the
  same echo over a plain TCP connection, and the added p50;
- opening a new stream to a cluster address (the agent dials) and one echo, p50/p99;
- 1000 clients at once on the agent's service port, answered through the engine session;
- the sans-IO layer alone (encode, decode, credit; no sockets): the protocol's own ceiling;
- CPU seconds per GB moved (agent process, and this process with its sink), which a loaded
  machine does not distort the way it distorts MB/s, and the resident memory of both processes
  after 1000 concurrent clients.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from kubelocal_agent import driving, packing
from kubelocal_agent.protocol import connection, events, targets

BULK_BYTES = 32 * 1024 * 1024
# Bulk runs are repeated and the median kept: the machine is shared, single runs are noisy.
BULK_REPEATS = 3
CHUNK = 256 * 1024
ROUND_TRIPS = 1000
NEW_STREAMS = 200
CONCURRENT_CLIENTS = 1000
TOKEN = "benchmark-token"


async def _sink(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Counts bytes until EOF, then answers the count: the client's clock stops at the answer."""
    total = 0
    while data := await reader.read(CHUNK):
        total += len(data)
    writer.write(str(total).encode())
    await writer.drain()
    writer.close()


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return ordered[len(ordered) // 2] * 1e6, ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e6


async def _direct_bulk(port: int) -> float:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    block = os.urandom(CHUNK)
    start = time.perf_counter()
    for _ in range(BULK_BYTES // CHUNK):
        writer.write(block)
        await writer.drain()
    writer.write_eof()
    assert int(await reader.read()) == BULK_BYTES
    elapsed = time.perf_counter() - start
    writer.close()
    return BULK_BYTES / elapsed / 1e6


async def _tunneled_bulk(session: driving.Session, port: int) -> float:
    stream = await session.open_stream(targets.connect(host="127.0.0.1", port=port))
    block = os.urandom(CHUNK)
    start = time.perf_counter()
    for _ in range(BULK_BYTES // CHUNK):
        await stream.write(block)
    await stream.write_eof()
    assert int(await stream.read_all()) == BULK_BYTES
    return BULK_BYTES / (time.perf_counter() - start) / 1e6


async def _direct_latency(port: int) -> list[float]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    samples = []
    for _ in range(ROUND_TRIPS):
        start = time.perf_counter()
        writer.write(b"x" * 64)
        await reader.readexactly(64)
        samples.append(time.perf_counter() - start)
    writer.close()
    return samples


async def _tunneled_latency(session: driving.Session, port: int) -> list[float]:
    stream = await session.open_stream(targets.connect(host="127.0.0.1", port=port))
    samples = []
    for _ in range(ROUND_TRIPS):
        start = time.perf_counter()
        await stream.write(b"x" * 64)
        received = b""
        while len(received) < 64:
            received += await stream.read()
        samples.append(time.perf_counter() - start)
    stream.reset()
    return samples


async def _new_stream_latency(session: driving.Session, port: int) -> list[float]:
    samples = []
    for _ in range(NEW_STREAMS):
        start = time.perf_counter()
        stream = await session.open_stream(targets.connect(host="127.0.0.1", port=port))
        await stream.write(b"x" * 64)
        await stream.write_eof()
        await stream.read_all()
        samples.append(time.perf_counter() - start)
    return samples


async def _concurrent_inbound(service_port: int) -> tuple[int, float]:
    """CONCURRENT_CLIENTS clients at once on the agent's service port, each answered through the
    engine session; returns (failures, seconds)."""

    async def client(index: int) -> bool:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", service_port)
            message = b"client %d" % index
            writer.write(message)
            writer.write_eof()
            answer = await reader.read()
            writer.close()
            return answer == message
        except OSError:
            return False

    start = time.perf_counter()
    results = await asyncio.gather(*(client(i) for i in range(CONCURRENT_CLIENTS)))
    return results.count(False), time.perf_counter() - start


async def _answer_inbound(stream: driving.Stream) -> None:
    await stream.write(await stream.read_all())
    await stream.write_eof()


def _process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process, from /proc (None where there is no /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _resident_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


async def _measure(control_port: int, service_port: int, agent_pid: int) -> dict[str, Any]:
    sink = await asyncio.start_server(_sink, "127.0.0.1", 0)
    echo = await asyncio.start_server(_echo, "127.0.0.1", 0)
    sink_port, echo_port = (server.sockets[0].getsockname()[1] for server in (sink, echo))
    reader, writer = await asyncio.open_connection("127.0.0.1", control_port)
    session = await driving.Session.start(
        reader=reader, writer=writer, role=connection.Role.ENGINE, token=TOKEN, on_stream=_answer_inbound
    )
    try:
        direct_mb_s = statistics.median([await _direct_bulk(sink_port) for _ in range(BULK_REPEATS)])
        # CPU time is what the protocol costs whatever else loads the machine; wall time is not.
        agent_cpu_before, engine_cpu_before = _process_cpu_seconds(agent_pid), time.process_time()
        tunneled_mb_s = statistics.median(
            [await _tunneled_bulk(session, sink_port) for _ in range(BULK_REPEATS)]
        )
        agent_cpu_after, engine_cpu_after = _process_cpu_seconds(agent_pid), time.process_time()
        gigabytes = BULK_BYTES * BULK_REPEATS / 1e9
        agent_cpu = (
            round((agent_cpu_after - agent_cpu_before) / gigabytes, 2)
            if agent_cpu_after is not None and agent_cpu_before is not None
            else None
        )
        # The engine side's figure includes the sink it feeds, which a real engine does not run.
        engine_cpu = round((engine_cpu_after - engine_cpu_before) / gigabytes, 2)
        direct_p50, direct_p99 = _percentiles(await _direct_latency(echo_port))
        tunneled_p50, tunneled_p99 = _percentiles(await _tunneled_latency(session, echo_port))
        new_p50, new_p99 = _percentiles(await _new_stream_latency(session, echo_port))
        failures, concurrent_seconds = await _concurrent_inbound(service_port)
        agent_rss = _resident_mb(agent_pid)
    finally:
        await session.close()
        sink.close()
        echo.close()
    return {
        "bulk_mb": BULK_BYTES // (1024 * 1024),
        "bulk_repeats": BULK_REPEATS,
        "direct_mb_s": round(direct_mb_s, 1),
        "tunneled_mb_s": round(tunneled_mb_s, 1),
        "throughput_ratio": round(tunneled_mb_s / direct_mb_s, 3),
        "agent_cpu_s_per_gb": agent_cpu,
        "engine_and_sink_cpu_s_per_gb": engine_cpu,
        "agent_rss_mb_after": agent_rss,
        "engine_rss_mb_after": _resident_mb(os.getpid()),
        "direct_latency_us": {"p50": round(direct_p50), "p99": round(direct_p99)},
        "tunneled_latency_us": {"p50": round(tunneled_p50), "p99": round(tunneled_p99)},
        "added_p50_us": round(tunneled_p50 - direct_p50),
        "new_stream_latency_us": {"p50": round(new_p50), "p99": round(new_p99)},
        "round_trips": ROUND_TRIPS,
        "concurrent_inbound": {
            "clients": CONCURRENT_CLIENTS,
            "failures": failures,
            "seconds": round(concurrent_seconds, 2),
        },
    }


def _sans_io_mb_s() -> float:
    """Bulk data through two Connections in memory, as fast as one core encodes and decodes it."""
    engine = connection.Connection(role=connection.Role.ENGINE, token=TOKEN)
    agent = connection.Connection(role=connection.Role.AGENT, token=TOKEN)
    engine.initiate()
    agent.receive_data(engine.data_to_send())
    engine.receive_data(agent.data_to_send())
    stream_id = engine.open_stream(targets.connect(host="h", port=1))
    block = os.urandom(CHUNK)
    sent = 0
    start = time.perf_counter()
    while sent < BULK_BYTES:
        size = min(engine.send_credit(stream_id), CHUNK)
        if size:
            engine.send_data(stream_id, block if size == CHUNK else block[:size])
            sent += size
        for event in agent.receive_data(engine.data_to_send()):
            if isinstance(event, events.DataReceived):
                agent.acknowledge_received_data(event.stream_id, len(event.data))
        engine.receive_data(agent.data_to_send())
    return BULK_BYTES / (time.perf_counter() - start) / 1e6


def run() -> dict[str, Any]:
    """Start the packed agent as a process on loopback, measure, stop it; returns the figures."""
    with tempfile.TemporaryDirectory(prefix="kubelocal-bench-") as workdir:
        pyz = Path(workdir) / "agent.pyz"
        packing.write(pyz)
        process = subprocess.Popen(
            [
                sys.executable,
                str(pyz),
                "--control-port",
                "0",
                "--status-port",
                "0",
                "--status-host",
                "127.0.0.1",
                "--ports",
                "0",
                "--service-host",
                "127.0.0.1",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "KUBELOCAL_AGENT_TOKEN": TOKEN},
        )
        try:
            assert process.stdout is not None
            ready = json.loads(process.stdout.readline())
            figures = asyncio.run(_measure(ready["control_port"], ready["service_ports"][0][1], process.pid))
        finally:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
            if process.stdout is not None:
                process.stdout.close()
    figures["sans_io_mb_s"] = round(statistics.median(_sans_io_mb_s() for _ in range(BULK_REPEATS)), 1)
    figures["summary"] = (
        f"protocol: {figures['tunneled_mb_s']} MB/s through the agent "
        f"vs {figures['direct_mb_s']} MB/s direct "
        f"(ratio {figures['throughput_ratio']}); echo p50 {figures['tunneled_latency_us']['p50']} us "
        f"vs {figures['direct_latency_us']['p50']} us direct (+{figures['added_p50_us']} us); "
        f"{CONCURRENT_CLIENTS} concurrent inbound clients, {figures['concurrent_inbound']['failures']} failed"
    )
    return figures


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
