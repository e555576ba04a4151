"""The event loop kubelocal's own processes run on: uvloop when it is installed, else asyncio's.

The engine moves every redirected byte through Python (TLS to the API server, the agent protocol,
the workstation sockets), and so does the sandbox's API server for port-forwards; uvloop (libuv,
in Cython) does a loop turn, a socket read or write and a TLS record with less interpreter work
than asyncio's selector loop. It is a dependency of kubelocal, but a missing or broken uvloop
(an unusual platform, a build without wheels) only costs speed: the standard loop is used.
`KUBELOCAL_EVENT_LOOP=asyncio` forces the standard loop, to compare or to rule uvloop out.

The agent never uses this module: it stays standard library only.
"""

from __future__ import annotations

import asyncio
import logging
import os
import warnings
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
ENVIRONMENT_VARIABLE = "KUBELOCAL_EVENT_LOOP"

LoopFactory = Callable[[], asyncio.AbstractEventLoop]


def choose(*, requested: str | None, uvloop_factory: LoopFactory | None) -> tuple[str, LoopFactory | None]:
    """The loop to use: ("uvloop", its factory) or ("asyncio", None, meaning asyncio's default).

    `requested` is the environment variable's value: "asyncio" forces the standard loop, anything
    else (or nothing) takes uvloop when `uvloop_factory` is not None.
    """
    if (requested or "").strip().lower() == "asyncio" or uvloop_factory is None:
        return "asyncio", None
    return "uvloop", uvloop_factory


def _uvloop_factory() -> LoopFactory | None:
    try:
        import uvloop
    except ImportError:
        return None
    except Exception as error:  # a broken build: fall back rather than fail to start
        log.debug("uvloop cannot be imported (%s): using asyncio's event loop", error)
        return None
    return uvloop.new_event_loop


def loop_factory() -> LoopFactory | None:
    """The factory of the chosen loop, None for asyncio's default (see `choose`)."""
    return choose(requested=os.environ.get(ENVIRONMENT_VARIABLE), uvloop_factory=_uvloop_factory())[1]


def name() -> str:
    """The loop `run` would use: "uvloop" or "asyncio"."""
    return choose(requested=os.environ.get(ENVIRONMENT_VARIABLE), uvloop_factory=_uvloop_factory())[0]


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(coroutine)` on the chosen loop."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(coroutine)


def install() -> None:
    """Make the chosen loop the default of later `asyncio.run` calls in this process, for code
    that runs its own loop (pygls's `start_io`)."""
    if loop_factory() is not None:
        import uvloop

        with warnings.catch_warnings():
            # Policies are deprecated from Python 3.14 on, but still what asyncio.run consults.
            warnings.simplefilter("ignore", DeprecationWarning)
            asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
