"""Patch mode (config `peer`) between two real Linux stacks.

    ns "vm" [host0] --tap-- sswitchd (ns "sw") --tap-- [fabric0] ns "remote"

The two namespaces share one L2 segment through sswitchd: no other path
exists between them, so every ping, ARP/ND exchange and TCP byte below
crossed the daemon. The fabric port admits only unicast to its own MAC
(SPEC section 2): in patch mode it stands for the VM on the wire, so its
MAC is the VM's.
"""
import pytest

from topo import DEVICES, delta, ping, stats, tcp_transfer

VM_MAC = "02:e2:00:00:00:01"
REMOTE_MAC = "02:e2:00:00:00:02"
VM4, REMOTE4 = "192.0.2.1", "192.0.2.2"
VM6, REMOTE6 = "2001:db8:1::1", "2001:db8:1::2"


class Net:
    pass


def patch_net(make_topo, device=None, host_mtu=None, fabric_mtu=None):
    t = make_topo(device)
    n = Net()
    n.topo = t
    n.vm, n.remote = t.netns("vm"), t.netns("remote")
    n.host = t.port("host0", "host", n.vm, mac=VM_MAC, mtu=host_mtu, peer="fabric0")
    n.fabric = t.port("fabric0", "fabric", n.remote, mac=REMOTE_MAC, mtu=fabric_mtu,
                      peer="host0", port_mac=VM_MAC)
    n.d = t.start()
    n.host.addr(VM4 + "/24")
    n.host.addr(VM6 + "/64")
    n.fabric.addr(REMOTE4 + "/24")
    n.fabric.addr(REMOTE6 + "/64")
    return n


@pytest.mark.parametrize("device", DEVICES)
def test_ping_both_ways_ipv4_ipv6(make_topo, device):
    n = patch_net(make_topo, device)
    before = stats(n.d)
    for src, dst in ((n.vm, REMOTE4), (n.remote, VM4), (n.vm, REMOTE6), (n.remote, VM6)):
        _, ttls = ping(src, dst, count=5)
        assert ttls == [64] * 5, "patch mode is L2: nothing decrements the TTL (%s)" % ttls
    d = delta(before, stats(n.d))
    # 10 requests and 10 replies crossed each way (plus ARP/ND)
    for p in ("host0", "fabric0"):
        assert d["ports"][p]["rx_packets"] >= 20, d
        assert d["ports"][p]["tx_packets"] >= 20, d
    assert sum(d["drops"].values()) == 0, d["drops"]


def test_arp_and_nd_resolve_through_the_switch(make_topo):
    n = patch_net(make_topo)
    for ns in (n.vm, n.remote):
        ns.ip("neigh", "flush", "all")
    assert REMOTE4 not in n.vm.neigh() and VM4 not in n.remote.neigh()
    ping(n.vm, REMOTE4, count=1)
    ping(n.vm, REMOTE6, count=1)
    vm_table, remote_table = n.vm.neigh("host0"), n.remote.neigh("fabric0")
    # the VM's broadcast ARP request and multicast NS reached the remote,
    # and the remote's unicast replies came back to the VM's MAC
    assert vm_table[REMOTE4][0] == REMOTE_MAC, vm_table
    assert vm_table[REMOTE6][0] == REMOTE_MAC, vm_table
    assert remote_table[VM4][0] == VM_MAC, remote_table
    assert remote_table[VM6][0] == VM_MAC, remote_table
    # an address nobody holds stays unresolved: the switch does not answer
    # in patch mode
    ping(n.vm, "192.0.2.99", count=1, check=False, wait=0.3)
    ll, state = n.vm.neigh("host0").get("192.0.2.99", (None, "FAILED"))
    assert ll is None and state in ("FAILED", "INCOMPLETE"), (ll, state)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_tcp_transfer_both_ways(make_topo, device, family):
    size = 4 << 20
    n = patch_net(make_topo, device)
    vm_ip, remote_ip = (VM4, REMOTE4) if family == "ipv4" else (VM6, REMOTE6)
    before = stats(n.d)
    # the VM connects to the remote, then the remote to the VM; in each, the
    # client's stream goes one way and the server's the other, both checked
    # byte for byte
    for server_ns, client_ns, server_ip, seed in ((n.remote, n.vm, remote_ip, 11),
                                                  (n.vm, n.remote, vm_ip, 22)):
        client, server = tcp_transfer(server_ns, client_ns, server_ip, size=size, seed=seed)
        assert client["ok"] and server["ok"], (client, server)
        assert client["received"] == size and server["received"] == size
    d = delta(before, stats(n.d))
    # 8 MB each way, in frames of at most 1514 bytes
    for p in ("host0", "fabric0"):
        assert d["ports"][p]["rx_bytes"] > 2 * size, d["ports"]
        assert d["ports"][p]["tx_bytes"] > 2 * size, d["ports"]
    assert d["drops"].get("mtu_exceeded", 0) == 0, d["drops"]


def test_mtu_df_larger_than_port_mtu_is_dropped(make_topo):
    """Port MTUs 1300 (host0) and 1400 (fabric0), the kernels at 1500: a DF
    packet larger than the egress port's MTU (L3 length, as on Linux) never
    arrives and is counted mtu_exceeded and as a tx drop of that port; a
    packet exactly at the MTU passes."""
    n = patch_net(make_topo, host_mtu=1300, fabric_mtu=1400)
    v4, v6 = 20 + 8, 40 + 8  # L3 = header + ICMP header + payload
    before = stats(n.d)
    # L3 1300 fits both ports: request and reply pass
    ping(n.remote, VM4, count=2, size=1300 - v4, df=True)
    ping(n.remote, VM6, count=2, size=1300 - v6)
    # one byte over host0's MTU: dropped on host0 (3)
    assert ping(n.remote, VM4, count=3, size=1301 - v4, df=True, check=False, wait=0.5)[0] == 0
    # one byte over fabric0's MTU: dropped on fabric0 (3 + 3)
    assert ping(n.vm, REMOTE4, count=3, size=1401 - v4, df=True, check=False, wait=0.5)[0] == 0
    assert ping(n.vm, REMOTE6, count=3, size=1401 - v6, check=False, wait=0.5)[0] == 0
    mid = stats(n.d)
    d = delta(before, mid)
    assert d["drops"]["mtu_exceeded"] == 9, d["drops"]
    assert d["ports"]["fabric0"]["tx_dropped"] == 6, d["ports"]
    assert d["ports"]["host0"]["tx_dropped"] == 3, d["ports"]
    # exactly at fabric0's MTU the request passes (the remote answers), and
    # the 1400-byte reply is then too big for host0
    remote_rx = n.fabric.stats()["rx_packets"]
    assert ping(n.vm, REMOTE4, count=2, size=1400 - v4, df=True, check=False, wait=0.5)[0] == 0
    assert n.fabric.stats()["rx_packets"] - remote_rx >= 2
    d = delta(mid, stats(n.d))
    assert d["ports"]["fabric0"]["tx_dropped"] == 0, d["ports"]
    assert d["ports"]["host0"]["tx_dropped"] == 2, d["ports"]
    assert d["drops"]["mtu_exceeded"] == 2, d["drops"]


def test_fabric_port_admits_only_its_mac(make_topo):
    """Unicast from the fabric to another MAC than the port's is dropped
    dmac_mismatch; the host port takes any destination."""
    n = patch_net(make_topo)
    other = "02:e2:00:00:00:77"
    n.fabric.neigh_add("192.0.2.77", other)
    n.host.neigh_add("192.0.2.78", other)
    before = stats(n.d)
    got, _ = ping(n.remote, "192.0.2.77", count=4, check=False, wait=0.5)
    assert got == 0
    mid = stats(n.d)
    assert delta(before, mid)["drops"]["dmac_mismatch"] == 4
    got, _ = ping(n.vm, "192.0.2.78", count=4, check=False, wait=0.5)
    assert got == 0  # nobody holds that address, but the frames crossed
    d = delta(mid, stats(n.d))
    assert d["drops"]["dmac_mismatch"] == 0, d["drops"]
    assert d["ports"]["host0"]["rx_packets"] >= 4 and d["ports"]["fabric0"]["tx_packets"] >= 4, d
