"""kube-proxy's in-kernel path: pods' connections to ClusterIPs rewritten by nftables in the node.

On a real cluster kube-proxy rewrites a packet for ClusterIP:port into one for a backend pod
(DNAT) inside the kernel, so a service costs no extra hop and no process ever touches its bytes.
The sandbox does the same in its node namespace, through which every pod's packets to a ClusterIP
pass (the pods' default route): one nftables table, `ip kubelocal`, with a prerouting DNAT rule
per service port and a masquerade of the rewritten connections. Backends
are taken round robin with `numgen inc`, as kube-proxy's nftables mode does, and each rule's
counter counts connections (NAT chains see only a connection's first packet). Pods share one
bridge, so without the masquerade a backend would answer the client directly, from its own
address, and the client would reset the connection; with it, the backend sees the node's address
as the peer, exactly as behind the user-space proxy.

The user-space proxy (`proxying`) keeps listening on every ClusterIP and serves what this path
does not take: sticky services (sessionAffinity ClientIP), service ports without ready backends
(reset), backends on the workstation's loopback (the API server, behind `kubernetes`), and
connections made inside the node namespace itself. It serves everything when nftables is missing
or refused (said once, in the sandbox's log) or when the sandbox is started with
`KUBELOCAL_SANDBOX_SERVICE_PROXY=userspace`.

`ruleset` decides (pure); `KernelProxy` runs `nft` in the node namespace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pathlib
import shutil

from kubelocal.sandbox.kubelet import addressing, errors, network, services

LOGGER = logging.getLogger(__name__)
TABLE = "kubelocal"
MODE_VARIABLE = "KUBELOCAL_SANDBOX_SERVICE_PROXY"
MODES = ("kernel", "userspace")
# Per node namespace: route what the DNAT rewrote, and never tell a pod to skip the node (an ICMP
# redirect would point it at a backend it must not reach directly: the masquerade is in the node).
SYSCTLS = {
    "net/ipv4/ip_forward": "1",
    "net/ipv4/conf/all/send_redirects": "0",
    "net/ipv4/conf/default/send_redirects": "0",
    f"net/ipv4/conf/{addressing.BRIDGE}/send_redirects": "0",
}


def kernel_table(
    table: dict[services.Frontend, list[services.Backend]], *, sticky: set[services.Frontend]
) -> dict[services.Frontend, list[services.Backend]]:
    """The frontends the kernel path takes: ready pod backends only, and not sticky."""
    return {
        frontend: backends
        for frontend, backends in table.items()
        if backends
        and frontend not in sticky
        and all(addressing.is_pod_address(host) for host, _ in backends)
    }


def _target(backends: list[services.Backend]) -> str:
    if len(backends) == 1:
        host, port = backends[0]
        return f"{host}:{port}"
    choices = ", ".join(f"{index} : {host} . {port}" for index, (host, port) in enumerate(backends))
    return f"numgen inc mod {len(backends)} map {{ {choices} }}"


def ruleset(kernel: dict[services.Frontend, list[services.Backend]]) -> str:
    """An `nft -f` script that replaces the whole table at once (one transaction: a connection
    never sees half of a change)."""
    rules = [
        f"        ip daddr {ip} tcp dport {port} counter dnat ip to {_target(backends)}"
        for (ip, port), backends in sorted(kernel.items())
    ]
    return "\n".join(
        [
            f"table ip {TABLE}",
            f"flush table ip {TABLE}",
            f"table ip {TABLE} {{",
            "    chain services {",
            "        type nat hook prerouting priority dstnat; policy accept;",
            *rules,
            "    }",
            "    chain replies {",
            "        type nat hook postrouting priority srcnat; policy accept;",
            "        ct status dnat masquerade",
            "    }",
            "}",
            "",
        ]
    )


def why_not(*, mode: str, node_netns: str | None) -> str | None:
    """None when the kernel path can be tried, else why the user-space proxy serves everything."""
    if mode not in MODES:
        raise ValueError(f"{MODE_VARIABLE}={mode!r} is not one of {', '.join(MODES)}")
    if mode == "userspace":
        return f"{MODE_VARIABLE}=userspace"
    if node_netns is None:
        return "pods share the workstation's network (no node namespace)"
    if shutil.which("nft") is None:
        return "the `nft` command is not installed (Debian: apt install nftables)"
    return None


async def run_nft(netns: str, script: str) -> None:
    """`nft -f -` inside `netns`; NetworkError with nft's message."""
    await network.run_command(["ip", "netns", "exec", netns, "nft", "-f", "-"], stdin=script.encode())


def _write_sysctls() -> None:
    for key, value in SYSCTLS.items():
        pathlib.Path("/proc/sys", key).write_text(value)


class KernelProxy:
    """Keeps the node namespace's nftables table equal to the kernel share of the proxy table."""

    def __init__(self, *, node_netns: str | None, mode: str = "kernel") -> None:
        self._node_netns = node_netns
        self.why_not = why_not(mode=mode, node_netns=node_netns)
        self._applied: str | None = None
        self._lock = asyncio.Lock()

    @property
    def active(self) -> bool:
        return self.why_not is None

    async def program(
        self,
        table: dict[services.Frontend, list[services.Backend]],
        *,
        sticky: set[services.Frontend] = frozenset(),
    ) -> None:
        """Apply the table (idempotent). On failure the kernel path is removed for good, so no stale
        rule ever sends a connection to a backend that left: the user-space proxy takes over."""
        async with self._lock:
            if not self.active or self._node_netns is None:
                return
            script = ruleset(kernel_table(table, sticky=set(sticky)))
            if script == self._applied:
                return
            try:
                if self._applied is None:
                    await asyncio.get_running_loop().run_in_executor(
                        None, network.call_in_namespace, self._node_netns, _write_sysctls
                    )
                await run_nft(self._node_netns, script)
            except (OSError, errors.NetworkError) as error:
                self.why_not = f"nftables refused the rules ({error})"
                LOGGER.warning(
                    "the in-kernel service path is off: %s; pods reach services through the user-space "
                    "proxy, one hop more than on a real cluster",
                    self.why_not,
                )
                with contextlib.suppress(errors.NetworkError):
                    await run_nft(self._node_netns, f"table ip {TABLE}\ndelete table ip {TABLE}\n")
                self._applied = None
                return
            self._applied = script
