"""A real VS Code for the tests: code-server (installed in tests/vscode/driver by its install.sh)
with the built .vsix, and the Node driver that works its page in Debian's headless Chromium.

Everything started here lives in a temp directory and its own process group, and is stopped when
the context managers exit, also on failure: code-server and the extension host (with the language
server they started), the driver and its Chromium.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import pathlib
import shutil
import signal
import socket
import sys
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[2]
DRIVER_DIR = pathlib.Path(__file__).resolve().parent / "driver"
CODE_SERVER = DRIVER_DIR / "node_modules" / ".bin" / "code-server"
DRIVER_SCRIPT = DRIVER_DIR / "vscode_driver.mjs"
VSIX = ROOT / "vscode-extension" / "kubelocal.vsix"
CHROMIUM = pathlib.Path("/usr/bin/chromium")
EXTENSION_ID = "kubelocal.kubelocal"
INSTALL_HINT = "run `make vscode-test` (it installs code-server, builds the .vsix and runs this test)"


class DriverError(AssertionError):
    """The page did not show what an action waited for; the message says what it showed."""


def missing_tools() -> list[str]:
    """What this machine lacks to run a real VS Code, each with how to get it."""
    missing = []
    if not CODE_SERVER.exists():
        missing.append(f"code-server in {CODE_SERVER.parent} (tests/vscode/driver/install.sh)")
    if not CHROMIUM.exists():
        missing.append("Debian's chromium (apt-get install -y chromium)")
    if not VSIX.exists():
        missing.append(f"{VSIX.relative_to(ROOT)} (make extension-test)")
    if shutil.which("node") is None:
        missing.append("node on PATH")
    return missing


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclasses.dataclass
class Layout:
    """The directories of one VS Code run, all under `base`."""

    base: pathlib.Path

    @property
    def user_data(self) -> pathlib.Path:
        return self.base / "user-data"

    @property
    def extensions(self) -> pathlib.Path:
        return self.base / "extensions"

    @property
    def xdg(self) -> pathlib.Path:
        """code-server's own config and logs (else ~/.config/code-server, ~/.local/share/code-server)."""
        return self.base / "xdg"

    def extension_logs(self) -> list[pathlib.Path]:
        """The Kubelocal output channel's log files (a log output channel writes one per window)."""
        return sorted(self.user_data.glob(f"logs/**/{EXTENSION_ID}/*.log"))

    def exthost_logs(self) -> list[pathlib.Path]:
        return sorted(self.user_data.glob("logs/**/exthost*.log"))


def write_user_settings(layout: Layout, settings: dict[str, Any]) -> None:
    user = layout.user_data / "User"
    user.mkdir(parents=True, exist_ok=True)
    (user / "settings.json").write_text(json.dumps(settings, indent=2))


def code_server_env(layout: Layout, extra: dict[str, str]) -> dict[str, str]:
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(layout.xdg / "config"),
        "XDG_DATA_HOME": str(layout.xdg / "data"),
        "XDG_CACHE_HOME": str(layout.xdg / "cache"),
        # Only loopback addresses: the extension gallery (open-vsx.org by default) points nowhere.
        "EXTENSIONS_GALLERY": json.dumps(
            {"serviceUrl": "http://127.0.0.1:9/gallery", "itemUrl": "http://127.0.0.1:9/items"}
        ),
        **extra,
    }
    # The test's own pytest variables must not leak into the language server's Python.
    env.pop("PYTEST_CURRENT_TEST", None)
    return env


async def install_extension(layout: Layout, env: dict[str, str]) -> str:
    """`code-server --install-extension kubelocal.vsix`; returns its output."""
    process = await asyncio.create_subprocess_exec(
        str(CODE_SERVER),
        "--user-data-dir",
        str(layout.user_data),
        "--extensions-dir",
        str(layout.extensions),
        "--install-extension",
        str(VSIX),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), 120)
    finally:
        await stop_process_group(process)
    text = output.decode(errors="replace")
    if process.returncode != 0:
        raise AssertionError(f"code-server --install-extension exited {process.returncode}: {text}")
    return text


async def stop_process_group(process: asyncio.subprocess.Process, timeout: float = 15) -> None:
    """SIGTERM the process's group (code-server's extension host and language server are in it),
    then SIGKILL what is left after `timeout`."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError:
            continue
        # The leader is gone; its group may still hold children (the language server): end them too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        return


async def wait_healthy(url: str, process: asyncio.subprocess.Process, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout

    def probe() -> int:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as answer:
            return int(answer.status)

    while loop.time() < deadline:
        if process.returncode is not None:
            raise AssertionError(f"code-server exited {process.returncode} before it answered /healthz")
        with contextlib.suppress(OSError):
            if await asyncio.to_thread(probe) == 200:
                return
        await asyncio.sleep(0.3)
    raise AssertionError(f"code-server did not answer {url}/healthz within {timeout:.0f} s")


@contextlib.asynccontextmanager
async def code_server(layout: Layout, *, folder: pathlib.Path, env: dict[str, str]) -> AsyncIterator[str]:
    """code-server on a free loopback port with `folder` open; yields the URL to browse."""
    port = free_port()
    log = (layout.base / "code-server.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        str(CODE_SERVER),
        "--auth",
        "none",
        "--bind-addr",
        f"127.0.0.1:{port}",
        "--disable-telemetry",
        "--disable-update-check",
        "--disable-workspace-trust",
        "--disable-getting-started-override",
        "--user-data-dir",
        str(layout.user_data),
        "--extensions-dir",
        str(layout.extensions),
        str(folder),
        env=env,
        stdout=log,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        await wait_healthy(url, process, timeout=60)
        yield f"{url}/?folder={folder}"
    finally:
        await stop_process_group(process)
        log.close()


class Driver:
    """The Node driver (tests/vscode/driver/vscode_driver.mjs): `await driver.act(name, **args)`
    returns what the page showed, or raises DriverError with what it showed instead."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.next_id = 0

    async def act(self, action: str, *, timeout: float = 60, **args: Any) -> Any:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.next_id += 1
        request = {"id": self.next_id, "action": action, "args": {**args, "timeout": int(timeout * 1000)}}
        self.process.stdin.write((json.dumps(request) + "\n").encode())
        await self.process.stdin.drain()
        # The driver bounds its own waits by `timeout`; the margin covers a stuck browser.
        line = await asyncio.wait_for(self.process.stdout.readline(), timeout + 30)
        if not line:
            raise DriverError(f"the driver ended during {action} (exit {self.process.returncode})")
        answer = json.loads(line)
        if not answer["ok"]:
            raise DriverError(f"{action}: {answer['error']}")
        return answer["result"]


@contextlib.asynccontextmanager
async def driver(log_path: pathlib.Path) -> AsyncIterator[Driver]:
    log = log_path.open("wb")
    process = await asyncio.create_subprocess_exec(
        "node",
        str(DRIVER_SCRIPT),
        cwd=DRIVER_DIR,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=log,
        start_new_session=True,
        env={**os.environ, "KUBELOCAL_E2E_CHROMIUM": str(CHROMIUM)},
    )
    try:
        yield Driver(process)
    finally:
        # Closing stdin makes the driver close Chromium and exit; the group kill is the backstop.
        if process.stdin is not None:
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 20)
        except TimeoutError:
            pass
        await stop_process_group(process, timeout=5)
        log.close()


def python_for_server() -> str:
    """The interpreter that has kubelocal installed: the one running the tests (the project's .venv)."""
    return sys.executable


def reap(*, marker: str) -> list[int]:
    """SIGKILL every process whose command line mentions `marker` or that runs in it: a backstop for
    what escaped the process groups (Playwright starts Chromium in a group of its own; the language
    server runs in the workspace folder). `marker` is a directory this test created, so nothing
    else matches. Returns the pids it killed."""
    killed = []
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command_line = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if marker in command_line or cwd == marker or cwd.startswith(marker + "/"):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry.name), signal.SIGKILL)
                killed.append(int(entry.name))
    return killed
