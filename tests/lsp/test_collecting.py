"""The language server's garbage-collection policy (`kubelocal.lsp.collecting`), in process.

Aspects: the collector is off while a check runs and back on after it (and stays off when a caller
had paused it); what a check built is frozen out of the collector's walks, yet still freed when its
last reference goes; a reference cycle that became garbage after being frozen is reclaimed by the
collection of everything; the idle collection runs once, only after the last of several touches.

Every test leaves the process's collector as it found it: enabled and with nothing frozen.
"""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from kubelocal.lsp import collecting


class Node:
    """Weak-referenceable, so a test can see when it is freed."""

    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    was_enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if was_enabled:
        gc.enable()


def test_the_collector_is_off_during_the_body_and_on_after_it():
    gc.enable()
    with collecting.paused_then_frozen():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_paused_by_the_caller_stays_paused():
    gc.disable()
    with collecting.paused_then_frozen():
        pass
    assert not gc.isenabled()


def test_what_the_body_built_is_frozen_but_freed_by_its_last_reference():
    gc.unfreeze()
    with collecting.paused_then_frozen():
        built = [Node() for _ in range(1000)]
    assert gc.get_freeze_count() >= 1000
    assert all(gc.is_tracked(node) for node in built[:3])
    watcher = weakref.ref(built[0])
    del built
    assert watcher() is None


def test_a_cycle_frozen_while_alive_is_reclaimed_by_collecting_everything():
    with collecting.paused_then_frozen():
        first, second = Node(), Node()
        first.other, second.other = second, first
    watcher = weakref.ref(first)
    del first, second
    gc.collect()
    assert watcher() is not None, "a plain collection must not see frozen objects"
    assert collecting.collect_all() >= 2
    assert watcher() is None
    assert gc.get_freeze_count() > 0, "the survivors are frozen again"


async def test_the_idle_collection_runs_once_after_the_last_touch():
    idle = collecting.IdleCollection(idle_seconds=0.05)
    loop = asyncio.get_running_loop()
    for _ in range(3):
        idle.touch(loop)
        await asyncio.sleep(0.02)
    assert idle.collections == 0
    await asyncio.sleep(0.15)
    assert idle.collections == 1


async def test_a_cancelled_idle_collection_does_not_run():
    idle = collecting.IdleCollection(idle_seconds=0.02)
    idle.touch(asyncio.get_running_loop())
    idle.cancel()
    await asyncio.sleep(0.06)
    assert idle.collections == 0
