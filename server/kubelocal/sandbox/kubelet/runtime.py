"""Container processes: start one through the launcher, stop its whole process group, read logs.

A container's process is `ip netns exec <pod netns> python -I -S launcher.py SPEC` (the launcher
execs the program, so the pid is the container's), in its own session and process group, with
stdin from /dev/null and stdout+stderr appended to the run's log file.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pathlib
import signal
import sys

LAUNCHER = pathlib.Path(__file__).with_name("launcher.py")
STAND_IN = pathlib.Path(__file__).with_name("standin.py")


def launcher_argv(*, netns: str | None, spec_path: pathlib.Path) -> list[str]:
    prefix = ["ip", "netns", "exec", netns] if netns else []
    return [*prefix, sys.executable, "-I", "-S", str(LAUNCHER), str(spec_path)]


async def start(
    *, spec: dict, spec_path: pathlib.Path, netns: str | None, log_path: pathlib.Path
) -> asyncio.subprocess.Process:
    """Start a container process as `spec` (see `launcher`) describes."""
    spec_path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(spec_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as spec_file:
        json.dump(spec, spec_file)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        return await asyncio.create_subprocess_exec(
            *launcher_argv(netns=netns, spec_path=spec_path),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )


def exit_code(returncode: int) -> int:
    """A container's exit code: a death by signal N reads 128+N, as container runtimes report it."""
    return 128 - returncode if returncode < 0 else returncode


async def terminate(process: asyncio.subprocess.Process, *, grace_seconds: float) -> int:
    """SIGTERM the process group, SIGKILL it after `grace_seconds`; return the exit code."""
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), grace_seconds)
        except TimeoutError:
            pass
    # The leader may be gone while its group lives on: kill the group regardless.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    await process.wait()
    return exit_code(process.returncode or 0)


def tail(content: bytes, lines: int | None) -> bytes:
    """The last `lines` lines of `content` (all when None)."""
    if lines is None:
        return content
    if lines <= 0:
        return b""
    parts = content.splitlines(keepends=True)
    return b"".join(parts[-lines:])
