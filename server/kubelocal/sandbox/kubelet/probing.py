"""Runs probe checks, from where a kubelet runs them.

httpGet and tcpSocket connect to the pod's IP from the node namespace (as a kubelet connects from
the node), so a server bound to the pod's 127.0.0.1 only fails them, as on a real cluster. exec
runs the command inside the container (its mount, UTS and network namespaces, root and working
directory, via nsenter) with the container's env. grpc probes are checked as tcpSocket.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import ssl

from kubelocal.sandbox.kubelet import network, probes


async def _http(check: probes.Check, *, netns: str | None, host: str, timeout: float) -> bool:
    reader, writer = await network.connect_in(netns, host, check.port, timeout=timeout)
    try:
        if check.scheme == "HTTPS":
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE  # a kubelet does not verify probe certificates either
            await asyncio.wait_for(writer.start_tls(context), timeout)
        headers = {
            "Host": f"{host}:{check.port}",
            "User-Agent": "kube-probe/1.32",
            "Accept": "*/*",
            "Connection": "close",
        }
        headers.update(dict(check.headers))
        request = (
            f"GET {check.path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        )
        writer.write(request.encode())
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout)
        parts = status_line.split()
        return len(parts) >= 2 and parts[1].isdigit() and probes.http_success(int(parts[1]))
    finally:
        writer.close()


async def _tcp(check: probes.Check, *, netns: str | None, host: str, timeout: float) -> bool:
    _, writer = await network.connect_in(netns, host, check.port, timeout=timeout)
    writer.close()
    return True


async def _exec(check: probes.Check, *, pid: int | None, env: dict[str, str], timeout: float) -> bool:
    if not check.command or pid is None:
        return False
    command = ["nsenter", "-t", str(pid), "-m", "-u", "-n", "-r", "-w", "--", *check.command]
    if os.geteuid() != 0:
        command = list(check.command)
    process = await asyncio.create_subprocess_exec(
        *command,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        return await asyncio.wait_for(process.wait(), timeout) == 0
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()
        return False


async def run(
    check: probes.Check,
    *,
    node_netns: str | None,
    pod_ip: str,
    pid: int | None,
    env: dict[str, str],
    timeout: float,
) -> bool:
    """One probe attempt: True on success; any error or timeout is a failure."""
    try:
        if check.action == "exec":
            return await _exec(check, pid=pid, env=env, timeout=timeout)
        host = check.host or pod_ip
        if check.action == "httpGet":
            return await asyncio.wait_for(
                _http(check, netns=node_netns, host=host, timeout=timeout), timeout + 0.5
            )
        return await asyncio.wait_for(
            _tcp(check, netns=node_netns, host=host, timeout=timeout), timeout + 0.5
        )
    except (OSError, TimeoutError, ValueError, ssl.SSLError):
        return False
