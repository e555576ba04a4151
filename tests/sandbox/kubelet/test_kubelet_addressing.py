"""Pod network planning (pure): cluster-id checks, namespace names, slot allocation and reuse,
the `ip -batch` lines that keep the cluster network inside the node namespace."""

from __future__ import annotations

import ipaddress

import pytest

from kubelocal.sandbox.kubelet import addressing


def test_names_carry_the_cluster_id():
    assert addressing.node_namespace("abc1") == "kl-abc1-node"
    assert addressing.pod_namespace("abc1", 7) == "kl-abc1-p7"
    assert addressing.pod_namespace("abc1", 7).startswith(addressing.namespace_prefix("abc1"))


@pytest.mark.parametrize("bad", ["", "UPPER", "has-dash", "a" * 17, "../x"])
def test_cluster_ids_that_cannot_name_namespaces_are_refused(bad):
    with pytest.raises(ValueError, match="cluster id"):
        addressing.check_cluster_id(bad)


def test_allocator_hands_out_slots_in_order_and_reuses_released_ones_last():
    allocator = addressing.Allocator()
    first, second, third = allocator.allocate(), allocator.allocate(), allocator.allocate()
    assert [str(s.address) for s in (first, second, third)] == ["10.244.0.2", "10.244.0.3", "10.244.0.4"]
    allocator.release(second)
    assert str(allocator.allocate().address) == "10.244.0.5"  # not the address just freed
    assert all(s.address in addressing.POD_CIDR for s in (first, second, third))


def test_allocator_wraps_around_to_freed_slots_and_reports_a_full_network():
    allocator = addressing.Allocator(ipaddress.IPv4Network("10.0.0.0/29"))
    slots = [allocator.allocate() for _ in range(5)]
    assert str(slots[-1].address) == "10.0.0.6"
    with pytest.raises(RuntimeError, match="full"):
        allocator.allocate()
    allocator.release(slots[1])
    assert allocator.allocate() == slots[1]


def test_pods_route_everything_via_the_node_and_the_node_has_no_way_out():
    slot = addressing.PodSlot(index=5, address=ipaddress.IPv4Address("10.244.0.5"))
    pod_lines = addressing.pod_setup_commands(slot)
    assert "route add default via 10.244.0.1" in pod_lines
    assert "addr add 10.244.0.5/16 dev eth0" in pod_lines
    node_lines = addressing.node_setup_commands() + addressing.pod_link_commands(
        slot=slot, pod_netns="kl-x-p5"
    )
    assert not any("route" in line or "forward" in line for line in node_lines)
    assert "link add vp5 type veth peer name eth0 netns kl-x-p5" in node_lines
    assert "link set vp5 type bridge_slave hairpin on" in node_lines  # a pod reaches its own service


def test_service_addresses_go_on_node_loopback():
    lines = addressing.service_address_commands(add=["10.96.0.10"], remove=["10.96.0.11"])
    assert lines == ["addr add 10.96.0.10/32 dev lo", "addr del 10.96.0.11/32 dev lo"]


def test_workstation_loopback_endpoints_are_recognised():
    assert addressing.is_workstation_loopback("127.0.0.1")
    assert not addressing.is_workstation_loopback("10.244.0.3")
    assert not addressing.is_workstation_loopback("not-an-ip")
