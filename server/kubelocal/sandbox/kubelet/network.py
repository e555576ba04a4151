"""The sandbox's pod network on the machine: network namespaces, bridge, veths, ClusterIPs.

`addressing` decides names and addresses; this module runs `ip` and `setns`. Everything it makes
carries the sandbox's prefix (`kl-<cluster id>-`), so `remove_leftovers` finds what a crashed
sandbox left. Sockets "inside" a namespace are created by a thread that has entered it with
libc `setns` (os.setns needs Python 3.12) and then used from the asyncio loop as usual: a socket
keeps the namespace it was created in.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import ctypes
import logging
import os
import pathlib
import shutil
import signal
import socket
from collections.abc import Callable
from typing import TypeVar

from kubelocal.sandbox.kubelet import addressing, errors

LOGGER = logging.getLogger(__name__)
NETNS_DIR = pathlib.Path("/var/run/netns")
ETC_NETNS_DIR = pathlib.Path("/etc/netns")
CLONE_NEWNET = 0x40000000
# Reader buffer limit of the connections the sandbox relays (service proxy, port-forward to a pod):
# asyncio's 64 KiB default pauses and resumes the socket around every 256 KiB read, an extra
# pair of epoll changes and loop turns per chunk; this bounds each connection at about 512 KiB.
STREAM_LIMIT = 256 * 1024
T = TypeVar("T")

_libc = ctypes.CDLL(None, use_errno=True)


def namespaces_possible() -> str | None:
    """None when this process can make network namespaces, else why not."""
    if os.geteuid() != 0:
        return "the sandbox does not run as root"
    if shutil.which("ip") is None:
        return "the `ip` command (iproute2) is not installed"
    return None


def namespace_path(name: str) -> str:
    return str(NETNS_DIR / name)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"setns: {os.strerror(error)}")


def call_in_namespace(netns: str | None, function: Callable[[], T]) -> T:
    """Run `function` on this thread inside network namespace `netns` (None: stay), then return.

    The thread's own namespace is restored afterwards, so pooled threads can be reused.
    """
    if netns is None:
        return function()
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        target = os.open(namespace_path(netns), os.O_RDONLY)
        try:
            _setns(target)
        finally:
            os.close(target)
        try:
            return function()
        finally:
            _setns(own)
    finally:
        os.close(own)


def new_socket(family: int = socket.AF_INET, kind: int = socket.SOCK_STREAM) -> socket.socket:
    sock = socket.socket(family, kind)
    sock.setblocking(False)
    return sock


async def socket_in(
    netns: str | None, executor: concurrent.futures.Executor | None = None, *, family: int = socket.AF_INET
) -> socket.socket:
    """A non-blocking TCP socket belonging to namespace `netns` (None: this process's)."""
    if netns is None:
        return new_socket(family)
    return await closed_if_abandoned(
        asyncio.get_running_loop().run_in_executor(
            executor, call_in_namespace, netns, lambda: new_socket(family)
        )
    )


async def closed_if_abandoned(making: asyncio.Future[socket.socket]) -> socket.socket:
    """The socket `making` (a thread making it in a namespace) gives; if the caller is cancelled
    first, the socket is closed once the thread has made it, instead of leaking unowned."""
    try:
        return await asyncio.shield(making)
    except asyncio.CancelledError:
        making.add_done_callback(_close_made_socket)
        raise


def _close_made_socket(making: asyncio.Future[socket.socket]) -> None:
    if not making.cancelled() and making.exception() is None:
        making.result().close()


async def connect_in(
    netns: str | None, host: str, port: int, *, timeout: float
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Open a TCP connection from inside `netns` (OSError/TimeoutError when it cannot)."""
    sock = await connect_socket_in(netns, host, port, timeout=timeout)
    return await asyncio.open_connection(sock=sock, limit=STREAM_LIMIT)


async def connect_socket_in(netns: str | None, host: str, port: int, *, timeout: float) -> socket.socket:
    """A connected non-blocking TCP socket from inside `netns` (OSError/TimeoutError when it cannot)."""
    sock = await socket_in(netns, family=socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, (host, port)), timeout)
    except BaseException:
        sock.close()
        raise
    return sock


async def listen_in(netns: str | None, host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port inside `netns`."""

    def make() -> socket.socket:
        sock = new_socket()
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            sock.listen(128)
        except BaseException:
            sock.close()
            raise
        return sock

    if netns is None:
        return make()
    return await closed_if_abandoned(
        asyncio.get_running_loop().run_in_executor(None, call_in_namespace, netns, make)
    )


async def run_ip(args: list[str], *, batch: list[str] | None = None) -> None:
    """Run `ip ARGS` (with `-batch -` lines on stdin when given); NetworkError with ip's message."""
    await run_command(
        ["ip", *args, *(["-batch", "-"] if batch is not None else [])],
        stdin=("\n".join(batch) + "\n").encode() if batch is not None else None,
        hint="check that the sandbox runs as root and iproute2 is installed",
    )


async def run_command(command: list[str], *, stdin: bytes | None, hint: str = "") -> None:
    """Run a network tool to its end; NetworkError with its message (and `hint`) when it fails."""
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    communicating = asyncio.ensure_future(process.communicate(stdin))
    try:
        _, stderr = await asyncio.shield(communicating)
    except asyncio.CancelledError:
        # Let the tool finish: a cancelled caller must not leave a namespace being made behind its back.
        await asyncio.wait([communicating])
        raise
    if process.returncode != 0:
        message = f"`{' '.join(command)}` failed: {stderr.decode(errors='replace').strip()}"
        raise errors.NetworkError(f"{message}; {hint}" if hint else message)


def leftover_namespaces(cluster_id: str) -> list[str]:
    """Network namespaces of sandbox `cluster_id` that exist now."""
    prefix = addressing.namespace_prefix(cluster_id)
    try:
        return sorted(name for name in os.listdir(NETNS_DIR) if name.startswith(prefix))
    except FileNotFoundError:
        return []


def leftover_dns_dirs(cluster_id: str) -> list[pathlib.Path]:
    prefix = addressing.namespace_prefix(cluster_id)
    try:
        return sorted(path for path in ETC_NETNS_DIR.iterdir() if path.name.startswith(prefix))
    except FileNotFoundError:
        return []


async def remove_namespace(name: str) -> None:
    """Delete network namespace `name` (its veths go with it) and its /etc/netns directory."""
    if os.path.exists(namespace_path(name)):
        await run_ip(["netns", "delete", name])
    shutil.rmtree(ETC_NETNS_DIR / name, ignore_errors=True)


async def kill_processes_in(name: str) -> int:
    """SIGKILL every process inside network namespace `name` (what a crashed sandbox left running:
    container processes die with the kubelet, but their children may not); return how many."""
    process = await asyncio.create_subprocess_exec(
        "ip", "netns", "pids", name, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    output, _ = await process.communicate()
    killed = 0
    for pid in output.split():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), signal.SIGKILL)
            killed += 1
    return killed


async def remove_leftovers(cluster_id: str) -> list[str]:
    """Remove every namespace and /etc/netns directory of sandbox `cluster_id` (after killing any
    process still inside); return the namespaces' names. Safe to call at any time, e.g. by
    `kubelocal sandbox down` after a crash.

    Pod namespaces go first: deleting them destroys their veths, then the node namespace goes."""
    names = leftover_namespaces(cluster_id)
    node = addressing.node_namespace(cluster_id)
    for name in sorted(names, key=lambda n: n == node):
        if await kill_processes_in(name):
            LOGGER.warning("killed processes left in network namespace %s", name)
        await remove_namespace(name)
    for path in leftover_dns_dirs(cluster_id):
        shutil.rmtree(path, ignore_errors=True)
    return names


class Network:
    """The namespaces of one sandbox. `netns` names are None in loopback-fallback mode."""

    def __init__(self, cluster_id: str) -> None:
        self.cluster_id = addressing.check_cluster_id(cluster_id)
        self.isolated = True
        self.node_netns: str | None = addressing.node_namespace(cluster_id)
        self.allocator = addressing.Allocator()
        self._service_addresses: set[str] = set()

    async def start(self) -> None:
        """Make the node namespace and bridge, or fall back to loopback aliases (with a warning)."""
        why_not = namespaces_possible()
        if why_not is None:
            removed = await remove_leftovers(self.cluster_id)
            if removed:
                LOGGER.warning(
                    "removed network namespaces left by an earlier sandbox %s: %s", self.cluster_id, removed
                )
            try:
                await run_ip(["netns", "add", str(self.node_netns)])
                await run_ip(["-n", str(self.node_netns)], batch=addressing.node_setup_commands())
                return
            except errors.NetworkError as error:
                await remove_leftovers(self.cluster_id)
                why_not = str(error)
        LOGGER.warning(
            "network namespaces are impossible here (%s): pods share the workstation's network on "
            "127.244.x.y loopback aliases; they can reach each other AND the workstation can reach them, "
            "unlike a real cluster. Run the sandbox as root for isolated pod networks.",
            why_not,
        )
        self.isolated = False
        self.node_netns = None
        self.allocator = addressing.Allocator(addressing.FALLBACK_POD_CIDR)

    async def add_pod(self) -> tuple[addressing.PodSlot, str | None]:
        """A slot and a network namespace (None in fallback mode) for a new pod."""
        slot = self.allocator.allocate()
        if not self.isolated:
            return slot, None
        netns = addressing.pod_namespace(self.cluster_id, slot.index)
        try:
            if os.path.exists(namespace_path(netns)):
                await remove_namespace(netns)
            await run_ip(["netns", "add", netns])
            await run_ip(
                ["-n", str(self.node_netns)], batch=addressing.pod_link_commands(slot=slot, pod_netns=netns)
            )
            await run_ip(["-n", netns], batch=addressing.pod_setup_commands(slot))
        except BaseException:
            await remove_namespace(netns)
            self.allocator.release(slot)
            raise
        return slot, netns

    async def remove_pod(self, slot: addressing.PodSlot, netns: str | None) -> None:
        if netns is not None:
            # The kernel destroys a deleted namespace's veths asynchronously; delete the pair now so
            # the slot's interface name is free for the next pod at once.
            with contextlib.suppress(errors.NetworkError):
                veth = addressing.node_side_veth(slot.index)
                await run_ip(["-n", str(self.node_netns), "link", "del", veth])
            await remove_namespace(netns)
        self.allocator.release(slot)

    async def set_service_addresses(self, addresses: set[str]) -> None:
        """Own exactly `addresses` (ClusterIPs) on the node namespace's `lo`."""
        if not self.isolated:
            return
        add = sorted(addresses - self._service_addresses)
        remove = sorted(self._service_addresses - addresses)
        if add or remove:
            await run_ip(
                ["-n", str(self.node_netns)],
                batch=addressing.service_address_commands(add=add, remove=remove),
            )
        self._service_addresses = set(addresses)

    async def stop(self) -> None:
        if self.isolated:
            await remove_leftovers(self.cluster_id)
        self._service_addresses = set()
