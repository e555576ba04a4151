"""The choice of event loop (`kubelocal.eventloops`).

Aspects: uvloop is taken when it can be imported; the standard loop when it cannot, or when
`KUBELOCAL_EVENT_LOOP=asyncio` asks for it (any case, spaces); `run` runs a coroutine on the
chosen loop and returns its result.
"""

from __future__ import annotations

import asyncio

import pytest

from kubelocal import eventloops


def fake_factory() -> asyncio.AbstractEventLoop:
    return asyncio.new_event_loop()


def test_uvloop_when_importable_and_not_refused() -> None:
    assert eventloops.choose(requested=None, uvloop_factory=fake_factory) == ("uvloop", fake_factory)
    assert eventloops.choose(requested="uvloop", uvloop_factory=fake_factory)[0] == "uvloop"


@pytest.mark.parametrize("requested", ["asyncio", " Asyncio ", "ASYNCIO"])
def test_the_standard_loop_when_asked(requested: str) -> None:
    assert eventloops.choose(requested=requested, uvloop_factory=fake_factory) == ("asyncio", None)


def test_the_standard_loop_without_uvloop() -> None:
    assert eventloops.choose(requested=None, uvloop_factory=None) == ("asyncio", None)


@pytest.mark.parametrize("requested", ["asyncio", ""])
def test_run_uses_the_chosen_loop(requested: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(eventloops.ENVIRONMENT_VARIABLE, requested)

    async def loop_module() -> str:
        return type(asyncio.get_running_loop()).__module__

    chosen = eventloops.name()
    module = eventloops.run(loop_module())
    assert module.startswith("uvloop") == (chosen == "uvloop")
    if requested == "asyncio":
        assert chosen == "asyncio"
