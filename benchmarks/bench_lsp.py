"""The language server's latency and memory, measured over stdio like an editor sees them.

- diagnostics: time from sending `didChange` (one character of a value edited) to receiving the
  `publishDiagnostics` of that version, with the debounce set to 0 ms (`diagnosticsDelayMs: 0`), so
  the figure is the server's own cost (in an editor add the 150 ms debounce);
- diagnostics when the edit forces a full check: the same edit of the last entry in a 2,000-entry
  file whose first value has an anchor (`value: &first ...`), which the incremental checker does
  not split, so every change is checked in full (`diagnostics_2000_entries_full_check`);
- diagnostics for an edit in the middle: one character of the middle entry's value
  (`diagnostics_2000_entries_middle_edit`);
- hover after a change: round trip of a hover on a token right after each change's diagnostics
  arrived, on the 2,000-entry file; the first request for a version builds the whole file's model
  (an incremental check does not), so this is where that cost went (`hover_2000_entries_after_change`);
- completion: round trip of a `textDocument/completion` request inside an env value (`$(`) and at a
  new key, no cluster configured;
- server CPU: the server process's user + system CPU time per change or completion, on average
  (clock ticks of 10 ms, so meaningful over the rounds only); steadier than wall time when the
  machine is shared;
- memory: the server process's resident set (VmRSS, and its peak VmHWM) after the runs; and for an
  idle server with a kubeconfig (pointing at a closed loopback port), after its cluster catalog's
  first read (done in a child process, so the server never loads the `kubernetes` client).

For a 20-entry and a 2,000-entry file (4,002 lines). Targets: diagnostics p95 < 30 ms on the large
file, completion p95 < 10 ms, RSS < 80 MB.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import sys
import tempfile
import time
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

ROUNDS = {20: 60, 2000: 25}
COMPLETIONS = 100
ENTRY = "  - name: VARIABLE_{0:05d}\n    value: http://$(services:service-{1}.shop:8080)/v{0}\n"


def config_text(entries: int) -> str:
    return "version: 0.1\nenv:\n" + "".join(ENTRY.format(number, number % 7) for number in range(entries))


def unsplittable_config_text(entries: int) -> str:
    """`config_text` with an anchor on the first value (`&first`), which makes the incremental
    checker check every version in full; the same lines, so the edits land on the same places."""
    return config_text(entries).replace("    value: http", "    value: &first http", 1)


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_ms": statistics.median(ordered) * 1000, "p95_ms": p95 * 1000, "samples": len(ordered)}


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process `pid` so far: steadier than wall time on a shared machine."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_mb(pid: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                figures[name] = int(value.split()[0]) / 1024
    return {"rss_mb": figures.get("VmRSS", 0.0), "peak_rss_mb": figures.get("VmHWM", 0.0)}


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def memory_after_cluster_read(tmp: str) -> dict[str, float]:
    """RSS of an idle server whose cluster catalog has tried to read a cluster."""
    kubeconfig = os.path.join(tmp, "kubeconfig")
    with open(kubeconfig, "w") as file:
        file.write(
            "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
            f"clusters: [{{name: k, cluster: {{server: 'https://127.0.0.1:{closed_port()}'}}}}]\n"
            "users: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n"
        )
    client = LanguageClient("kubelocal-bench", "1")
    logged: list[str] = []

    @client.feature(types.WINDOW_LOG_MESSAGE)
    def log(params: types.LogMessageParams) -> None:
        logged.append(params.message)

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def published(params: types.PublishDiagnosticsParams) -> None:
        pass

    await client.start_io(sys.executable, "-m", "kubelocal.lsp", env=dict(os.environ, KUBECONFIG=kubeconfig))
    assert client._server is not None
    try:
        await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities()))
        client.initialized(types.InitializedParams())
        deadline = time.perf_counter() + 30
        while not any("Cluster names" in message for message in logged) and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        return memory_mb(client._server.pid)
    finally:
        client._server.kill()
        await client.stop()


async def measure() -> dict[str, Any]:
    client = LanguageClient("kubelocal-bench", "1")
    arrivals: dict[tuple[str, int | None], float] = {}

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def published(params: types.PublishDiagnosticsParams) -> None:
        arrivals[(params.uri, params.version)] = time.perf_counter()

    @client.feature(types.WINDOW_LOG_MESSAGE)
    def logged(params: types.LogMessageParams) -> None:
        pass

    env = dict(os.environ, KUBECONFIG="/nonexistent/kubelocal-bench/kubeconfig")
    await client.start_io(sys.executable, "-m", "kubelocal.lsp", env=env)
    assert client._server is not None
    pid = client._server.pid
    figures: dict[str, Any] = {"debounce_ms": 0}
    try:
        await client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(),
                initialization_options={"diagnosticsDelayMs": 0, "clusterCompletion": False},
            )
        )
        client.initialized(types.InitializedParams())
        for entries, rounds in ROUNDS.items():
            uri = f"file:///bench/{entries}/KubernetesLocalProcessConfig.yaml"
            # The value of the last entry ends in "/v{N}"; flip its last digit each round. The
            # document stays open for the completion rounds below.
            figures[f"diagnostics_{entries}_entries"] = await edit_latencies(
                client, arrivals, uri=uri, text=config_text(entries), line=2 * entries + 1,
                rounds=rounds, pid=pid, close=False,
            )  # fmt: skip
            completion_times = []
            cpu_before = cpu_seconds(pid)
            value_line = 2 * (entries // 2) + 1
            positions = [
                types.Position(line=value_line, character=len("    value: http://$(")),
                types.Position(line=2 * entries + 2, character=0),
            ]
            for number in range(COMPLETIONS):
                started = time.perf_counter()
                result = await client.text_document_completion_async(
                    types.CompletionParams(
                        text_document=types.TextDocumentIdentifier(uri=uri), position=positions[number % 2]
                    )
                )
                completion_times.append(time.perf_counter() - started)
                assert result is not None and result.items, "completion offered nothing"
            figures[f"completion_{entries}_entries"] = percentiles(completion_times)
            figures[f"completion_{entries}_entries"]["server_cpu_ms_mean"] = (
                (cpu_seconds(pid) - cpu_before) / COMPLETIONS * 1000
            )
        for name, text, line in (
            ("diagnostics_2000_entries_full_check", unsplittable_config_text(2000), 2 * 2000 + 1),
            ("diagnostics_2000_entries_middle_edit", config_text(2000), 2 * 1000 + 1),
        ):
            figures[name] = await edit_latencies(
                client, arrivals, uri=f"file:///bench/{name}/KubernetesLocalProcessConfig.yaml", text=text,
                line=line, rounds=ROUNDS[2000], pid=pid,
            )  # fmt: skip
        figures["hover_2000_entries_after_change"] = await hover_after_change(
            client, arrivals, uri="file:///bench/hover/KubernetesLocalProcessConfig.yaml", rounds=ROUNDS[2000]
        )
        figures["server_memory"] = memory_mb(pid)
        await client.shutdown_async(None)
        client.exit(None)
        await asyncio.wait_for(client._server.wait(), 10)
    finally:
        if client._server.returncode is None:
            client._server.kill()
        await client.stop()
    return figures


async def edit_latencies(
    client: LanguageClient,
    arrivals: dict[tuple[str, int | None], float],
    *,
    uri: str,
    text: str,
    line: int,
    rounds: int,
    pid: int,
    close: bool = True,
) -> dict[str, float]:
    """didChange to publishDiagnostics for `rounds` edits of the last character of `line`, as above;
    the document is closed after unless `close` is False."""
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="yaml", version=1, text=text)
        )
    )
    await wait_for(arrivals, (uri, 1))
    line_text = text.split("\n")[line]
    latencies = []
    cpu_before = cpu_seconds(pid)
    for round_number in range(rounds):
        version = round_number + 2
        started = time.perf_counter()
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(
                            start=types.Position(line=line, character=len(line_text) - 1),
                            end=types.Position(line=line, character=len(line_text)),
                        ),
                        text=str(round_number % 10),
                    )
                ],
            )
        )
        await wait_for(arrivals, (uri, version))
        latencies.append(arrivals[(uri, version)] - started)
    figures = percentiles(latencies)
    figures["server_cpu_ms_mean"] = (cpu_seconds(pid) - cpu_before) / rounds * 1000
    if close:
        client.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
    return figures


async def hover_after_change(
    client: LanguageClient, arrivals: dict[tuple[str, int | None], float], *, uri: str, rounds: int
) -> dict[str, float]:
    """Hover on the middle entry's token after each edit of the last entry has been published."""
    text = config_text(2000)
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="yaml", version=1, text=text)
        )
    )
    await wait_for(arrivals, (uri, 1))
    lines = text.split("\n")
    last_line = 2 * 2000 + 1
    middle_token = types.Position(line=2 * 1000 + 1, character=lines[2 * 1000 + 1].index("$(") + 3)
    latencies = []
    for round_number in range(rounds):
        version = round_number + 2
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(
                            start=types.Position(line=last_line, character=len(lines[last_line]) - 1),
                            end=types.Position(line=last_line, character=len(lines[last_line])),
                        ),
                        text=str(round_number % 10),
                    )
                ],
            )
        )
        await wait_for(arrivals, (uri, version))
        started = time.perf_counter()
        hover = await client.text_document_hover_async(
            types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=middle_token)
        )
        latencies.append(time.perf_counter() - started)
        assert hover is not None, "no hover on a token"
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    return percentiles(latencies)


async def wait_for(
    arrivals: dict[tuple[str, int | None], float], key: tuple[str, int], timeout: float = 60
) -> None:
    deadline = time.perf_counter() + timeout
    while key not in arrivals:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"no diagnostics for {key} within {timeout} s")
        await asyncio.sleep(0.0005)


def run() -> dict[str, Any]:
    figures = asyncio.run(measure())
    with tempfile.TemporaryDirectory() as tmp:
        figures["server_memory_idle_after_cluster_read"] = asyncio.run(memory_after_cluster_read(tmp))
    large = figures["diagnostics_2000_entries"]["p95_ms"]
    completion = max(figures[f"completion_{n}_entries"]["p95_ms"] for n in ROUNDS)
    figures["targets"] = {
        "diagnostics_p95_2000_under_30_ms": large < 30,
        "completion_p95_under_10_ms": completion < 10,
        "rss_under_80_mb": figures["server_memory"]["rss_mb"] < 80,
    }
    return figures
