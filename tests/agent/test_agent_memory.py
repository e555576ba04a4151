"""The agent keeps freed 256 KiB buffers mapped: churning them faults no fresh page in.

Measured in a child process each, so the allocator setting never leaks into the test run."""

from __future__ import annotations

import pathlib
import subprocess
import sys

from kubelocal_agent import __main__ as agent_main

CHURN = """
import resource, sys
sys.path.insert(0, {agent!r})
if {tuned}:
    from kubelocal_agent import memory
    assert memory.keep_freed_buffers()
def churn():
    for _ in range(500):
        payload = bytes(262144)  # a DATA frame's payload, as a socket read or a frame cut makes it
        joined = payload + b"header"
        del payload, joined
churn()  # let glibc's dynamic mmap threshold settle first
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
churn()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _page_faults(*, tuned: bool) -> int:
    agent = str(pathlib.Path(agent_main.__file__).parents[1])
    code = CHURN.format(agent=agent, tuned=tuned)
    return int(
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    )


def test_freed_buffers_stay_mapped_once_tuned():
    untuned = _page_faults(tuned=False)
    assert untuned > 10_000, f"glibc gave the buffers back and faulted them in only {untuned} times"
    assert _page_faults(tuned=True) < untuned // 20


def test_the_serving_agent_tunes_its_allocator(monkeypatch):
    calls = []
    monkeypatch.setattr(agent_main.memory, "keep_freed_buffers", lambda: calls.append("tuned") or True)
    monkeypatch.setattr(agent_main.asyncio, "run", lambda coroutine: coroutine.close())
    monkeypatch.setenv(agent_main.TOKEN_ENV, "t" * 32)
    assert agent_main.main(["serve", "--ports", "8080"]) == 0
    assert calls == ["tuned"]
