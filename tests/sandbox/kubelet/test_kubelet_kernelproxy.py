"""What the in-kernel service path takes and the nftables script it applies (pure; the traffic
through it is in test_kubelet_network)."""

from __future__ import annotations

import pytest

from kubelocal.sandbox.kubelet import kernelproxy

WEB = ("10.96.0.10", 80)
DB = ("10.96.0.11", 5432)
API = ("10.96.0.1", 443)
IDLE = ("10.96.0.30", 80)


def test_the_kernel_takes_ready_pod_backends_of_services_that_are_not_sticky():
    table = {
        WEB: [("10.244.0.2", 8080), ("10.244.0.3", 8081)],
        DB: [("10.244.0.4", 5432)],
        API: [("127.0.0.1", 6443)],  # the API server on the workstation: user space dials it
        IDLE: [],  # no ready backend: user space resets
    }
    assert kernelproxy.kernel_table(table, sticky=set()) == {WEB: table[WEB], DB: table[DB]}
    assert kernelproxy.kernel_table(table, sticky={WEB}) == {DB: table[DB]}


def test_the_script_replaces_the_table_in_one_transaction_with_round_robin_maps():
    script = kernelproxy.ruleset(
        {WEB: [("10.244.0.2", 8080), ("10.244.0.3", 8081)], DB: [("10.244.0.4", 5432)]}
    )
    lines = script.splitlines()
    # Creating before flushing makes the flush valid on the first run; nft applies a file atomically.
    assert lines[:3] == ["table ip kubelocal", "flush table ip kubelocal", "table ip kubelocal {"]
    rules = [line.strip() for line in lines if "dnat ip to" in line]
    assert rules == [
        "ip daddr 10.96.0.10 tcp dport 80 counter dnat ip to numgen inc mod 2 map "
        "{ 0 : 10.244.0.2 . 8080, 1 : 10.244.0.3 . 8081 }",
        "ip daddr 10.96.0.11 tcp dport 5432 counter dnat ip to 10.244.0.4:5432",
    ]
    assert "ct status dnat masquerade" in script  # replies come back through the node


def test_an_empty_table_still_has_its_chains():
    script = kernelproxy.ruleset({})
    assert "dnat ip to" not in script and "type nat hook prerouting" in script


def test_why_the_kernel_path_is_off(monkeypatch):
    assert (
        kernelproxy.why_not(mode="userspace", node_netns="kl-x-node")
        == "KUBELOCAL_SANDBOX_SERVICE_PROXY=userspace"
    )
    assert "no node namespace" in kernelproxy.why_not(mode="kernel", node_netns=None)
    monkeypatch.setattr(kernelproxy.shutil, "which", lambda name: None)
    assert "apt install nftables" in kernelproxy.why_not(mode="kernel", node_netns="kl-x-node")
    monkeypatch.setattr(kernelproxy.shutil, "which", lambda name: f"/usr/sbin/{name}")
    assert kernelproxy.why_not(mode="kernel", node_netns="kl-x-node") is None
    with pytest.raises(
        ValueError, match="KUBELOCAL_SANDBOX_SERVICE_PROXY='ipvs' is not one of kernel, userspace"
    ):
        kernelproxy.why_not(mode="ipvs", node_netns="kl-x-node")
