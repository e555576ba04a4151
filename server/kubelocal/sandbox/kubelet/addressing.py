"""Names and addresses of the sandbox's pod network, decided without touching the system.

Layout (one sandbox = one `cluster_id`):

    root namespace (the workstation)       nothing of the sandbox: no route, no address
    kl-<id>-node  namespace                bridge `klbr0` 10.244.0.1/16, ClusterIPs on `lo`,
                                           the user-space service proxy's listeners
    kl-<id>-p<n>  namespace per pod        `eth0` 10.244.x.y/16 (veth, peer `vp<n>` on the
                                           bridge), `lo`, default route via 10.244.0.1

Every name carries the cluster id, so several sandboxes (and parallel tests) coexist, and a crashed
sandbox's leftovers are found by prefix.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re

POD_CIDR = ipaddress.IPv4Network("10.244.0.0/16")
SERVICE_CIDR = ipaddress.IPv4Network("10.96.0.0/16")
#: The node's address on the bridge: the pods' gateway and the address probes come from.
NODE_ADDRESS = ipaddress.IPv4Address("10.244.0.1")
BRIDGE = "klbr0"
#: Where pods live when network namespaces are impossible (not root): loopback aliases.
FALLBACK_POD_CIDR = ipaddress.IPv4Network("127.244.0.0/16")

_CLUSTER_ID = re.compile(r"^[a-z0-9]{1,16}$")


def check_cluster_id(cluster_id: str) -> str:
    """Return `cluster_id` when it is 1-16 lowercase letters/digits; ValueError otherwise."""
    if not _CLUSTER_ID.match(cluster_id):
        raise ValueError(
            f"cluster id {cluster_id!r} is not 1-16 lowercase letters or digits; "
            "pick one like 'sandbox1' (it names the network namespaces)"
        )
    return cluster_id


def namespace_prefix(cluster_id: str) -> str:
    """The prefix of every network namespace of one sandbox."""
    return f"kl-{check_cluster_id(cluster_id)}-"


def node_namespace(cluster_id: str) -> str:
    return f"{namespace_prefix(cluster_id)}node"


def pod_namespace(cluster_id: str, index: int) -> str:
    return f"{namespace_prefix(cluster_id)}p{index}"


def node_side_veth(index: int) -> str:
    """The bridge-side end of pod `index`'s veth pair (inside the node namespace; <= 15 chars)."""
    return f"vp{index}"


@dataclasses.dataclass(frozen=True)
class PodSlot:
    """One pod's place in the network: its index (names) and its address."""

    index: int
    address: ipaddress.IPv4Address


class Allocator:
    """Hands out pod slots from a network, the next free one after the last handed out.

    The first pod gets the first usable address after the node's (index 2 -> .0.2). A freed
    address is handed out again only after the rest of the range, so a stale endpoint (a deleted
    pod's IP the endpoints have not dropped yet) does not reach a new, unrelated pod. The network
    and broadcast addresses are never handed out. Raises RuntimeError when the range is full.
    """

    FIRST = 2

    def __init__(self, network: ipaddress.IPv4Network = POD_CIDR) -> None:
        self._network = network
        self._used: set[int] = set()
        self._next = self.FIRST

    def allocate(self) -> PodSlot:
        last = self._network.num_addresses - 2
        if len(self._used) >= last - self.FIRST + 1:
            raise RuntimeError(f"the pod network {self._network} is full; delete some pods")
        index = self._next
        while index in self._used:
            index = index + 1 if index < last else self.FIRST
        self._next = index + 1 if index < last else self.FIRST
        self._used.add(index)
        return PodSlot(index=index, address=self._network.network_address + index)

    def release(self, slot: PodSlot) -> None:
        self._used.discard(slot.index)


def is_pod_address(address: str, *, network: ipaddress.IPv4Network = POD_CIDR) -> bool:
    try:
        return ipaddress.IPv4Address(address) in network
    except ValueError:
        return False


def is_workstation_loopback(address: str) -> bool:
    """True for 127.x endpoints: the sandbox's own servers (the API server), reached from the root
    namespace rather than from the node namespace."""
    try:
        return ipaddress.IPv4Address(address).is_loopback
    except ValueError:
        return False


def node_setup_commands() -> list[str]:
    """`ip -batch` lines, run inside the node namespace, that make the bridge."""
    return [
        "link set lo up",
        f"link add {BRIDGE} type bridge",
        f"addr add {NODE_ADDRESS}/{POD_CIDR.prefixlen} dev {BRIDGE}",
        f"link set {BRIDGE} up",
    ]


def pod_link_commands(*, slot: PodSlot, pod_netns: str) -> list[str]:
    """`ip -batch` lines, run inside the node namespace, that plug pod `slot` into the bridge.

    Hairpin mode lets a pod reach itself through its own service, as kubelet's hairpin-veth mode
    does: where br_netfilter is loaded, the service's DNAT happens on the bridge, which would
    otherwise never send a frame back out of the port it came in on.
    """
    veth = node_side_veth(slot.index)
    return [
        f"link add {veth} type veth peer name eth0 netns {pod_netns}",
        f"link set {veth} master {BRIDGE}",
        f"link set {veth} type bridge_slave hairpin on",
        f"link set {veth} up",
    ]


def pod_setup_commands(slot: PodSlot) -> list[str]:
    """`ip -batch` lines, run inside the pod namespace: address, links up, routes via the node.

    The default route covers the ClusterIPs (10.96.0.0/16), which the node namespace owns; the node
    namespace has no route beyond the pod network (it forwards only connections its service rules
    rewrote to a pod), so no packet leaves the machine.
    """
    return [
        "link set lo up",
        f"addr add {slot.address}/{POD_CIDR.prefixlen} dev eth0",
        "link set eth0 up",
        f"route add default via {NODE_ADDRESS}",
    ]


def service_address_commands(*, add: list[str], remove: list[str]) -> list[str]:
    """`ip -batch` lines, run inside the node namespace, that put ClusterIPs on (and off) `lo`."""
    return [f"addr add {ip}/32 dev lo" for ip in add] + [f"addr del {ip}/32 dev lo" for ip in remove]
