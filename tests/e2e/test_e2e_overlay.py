"""The overlay against a real VTEP: Linux's own VXLAN device is the remote
host, so what sswitchd sends must be VXLAN the kernel accepts, and what the
kernel sends must be VXLAN sswitchd accepts.

    ns "vm"                      ns "sw"                 ns "remote"
    eth0 192.0.2.10   --tap-- host0 [sswitchd] fabric0 --tap-- fab0 198.51.100.2
    (ENI vm1, VNET vnet1, VNI 5001)                          |   (2001:db8:f::2)
                                                             vx0 192.0.2.20 (VNI 5001,
                                                                 remote = switch PA)

The switch answers the VM's ARP/ND (mapping MAC) and the remote's ARP/ND
for its underlay IPs (fabric port MAC); nobody else answers them. The
remote knows the VM's inner MAC statically (a permanent neighbour on vx0:
ARP from the fabric for tenant addresses is not the switch's to answer),
and vx0's default FDB entry sends everything to the switch's PA.

Each test asks the daemon first and skips, naming what is missing, when it
does not serve the overlay (or ACL / connection tracking) yet.
"""
import pytest

from scapy.all import ARP, Dot1Q, Ether, ICMP, IP, IPv6, Raw, UDP

from topo import EchoSession, Sniffer, delta, missing_feature, ping, rpc_call, stats, tcp_transfer, wait_for

VNI = 5001
VM_MAC = "02:e2:00:00:01:10"        # ENI vm1 (the VM's eth0)
REMOTE_CA_MAC = "02:e2:00:00:01:20"  # the remote's vx0 (mapping mac)
REMOTE_UL_MAC = "02:e2:00:00:0f:02"  # the remote's fab0 (underlay next hop)
FABRIC_MAC = "02:e2:00:00:0f:01"     # sswitchd fabric0
SWITCH_MAC = "02:e2:00:00:00:fe"     # switch mac: answered for the VNET gateway
VM4, REMOTE4, GW4 = "192.0.2.10", "192.0.2.20", "192.0.2.1"
VM6, REMOTE6, GW6 = "2001:db8:c::10", "2001:db8:c::20", "2001:db8:c::1"
# underlay family -> (switch PA, remote PA, prefix length)
UNDERLAY = {"ipv4": ("198.51.100.1", "198.51.100.2", 24),
            "ipv6": ("2001:db8:f::1", "2001:db8:f::2", 64)}
INNER_MTU = 1400  # + 50 (IPv4) or 70 (IPv6) bytes of VXLAN fits the 1500 underlay


class Net:
    pass


def overlay_net(make_topo, underlay, features=("overlay",), acl=None, extra_ops=(), vlan=None):
    """VM, sswitchd and a remote kernel VTEP over an `underlay` ("ipv4" or
    "ipv6") underlay, configured through the control socket. Skips when the
    daemon lacks one of `features`. With `vlan` the ENI is tagged and the VM's
    eth0 gets no address: the test plays the VM with raw tagged frames (this
    kernel has no CONFIG_VLAN_8021Q)."""
    t = make_topo()
    n = Net()
    n.vm, n.remote = t.netns("vm"), t.netns("remote")
    n.host = t.port("host0", "host", n.vm, ifname="eth0", mac=VM_MAC, if_mtu=INNER_MTU)
    n.fabric = t.port("fabric0", "fabric", n.remote, ifname="fab0", mac=REMOTE_UL_MAC,
                      port_mac=FABRIC_MAC)
    n.d = t.start()
    missing = [r for r in (missing_feature(n.d, f) for f in features) if r]
    if missing:
        pytest.skip("; ".join(missing))
    n.sw_pa, n.remote_pa, plen = UNDERLAY[underlay]
    n.underlay = underlay

    # the switch first: a kernel that resolves the switch PA before the switch
    # knows it keeps a FAILED neighbour and holds packets until its next probe
    host_prefix = "/32" if underlay == "ipv4" else "/128"
    eni = {"name": "vm1", "mac": VM_MAC, "vnet": "vnet1", "port": "host0", "route_group": "rg1"}
    if acl:
        eni["acl"] = acl
    if vlan:
        eni["vlan"] = vlan
    ops = [
        ("switch.set", {"underlay_ip": UNDERLAY["ipv4"][0], "underlay_ip6": UNDERLAY["ipv6"][0],
                        "mac": SWITCH_MAC}),
        ("vnet.add", {"name": "vnet1", "vni": VNI, "gateway_ip": GW4, "gateway_ip6": GW6}),
        ("route.add", {"group": "rg1", "prefix": "192.0.2.0/24", "action": "vnet"}),
        ("route.add", {"group": "rg1", "prefix": "2001:db8:c::/64", "action": "vnet"}),
        ("mapping.add", {"vnet": "vnet1", "ip": REMOTE4, "underlay_ip": n.remote_pa,
                         "mac": REMOTE_CA_MAC}),
        ("mapping.add", {"vnet": "vnet1", "ip": REMOTE6, "underlay_ip": n.remote_pa,
                         "mac": REMOTE_CA_MAC}),
        ("underlay_route.add", {"prefix": n.remote_pa + host_prefix,
                                "next_hops": [{"port": "fabric0", "mac": REMOTE_UL_MAC}]}),
    ] + list(extra_ops) + [("eni.add", eni)]
    rpc_call(n.d, "txn", {"ops": [{"method": m, "params": p} for m, p in ops]})

    if not vlan:
        n.host.addr(VM4 + "/24")
        n.host.addr(VM6 + "/64")

    r = n.remote
    n.fabric.addr("%s/%d" % (n.remote_pa, plen))
    r.ip("link", "add", "vx0", "type", "vxlan", "id", str(VNI), "dstport", "4789",
         "local", n.remote_pa, "remote", n.sw_pa, "dev", "fab0", "nolearning")
    r.ip("link", "set", "dev", "vx0", "address", REMOTE_CA_MAC, "mtu", str(INNER_MTU))
    for key, value in (("accept_ra", 0), ("router_solicitations", 0), ("accept_dad", 0)):
        r.sysctl("net.ipv6.conf.vx0.%s" % key, value)
    r.ip("addr", "add", REMOTE4 + "/24", "dev", "vx0")
    r.ip("addr", "add", REMOTE6 + "/64", "dev", "vx0", "nodad")
    for ip in (VM4, VM6):
        r.ip("neigh", "replace", ip, "lladdr", VM_MAC, "dev", "vx0", "nud", "permanent")
    r.ip("link", "set", "dev", "vx0", "up")
    return n


def eni_stats(n):
    return rpc_call(n.d, "stats.get", {"scope": "eni"})["eni"]["vm1"]


def check_outer(pkt, n):
    """The field rules of SPEC 3.1 step 8 on one frame the switch sent to
    the remote, as the remote's NIC received it."""
    assert pkt[Ether].src == FABRIC_MAC and pkt[Ether].dst == REMOTE_UL_MAC, pkt.summary()
    if n.underlay == "ipv4":
        o = pkt[IP]
        assert (o.src, o.dst, o.ttl) == (n.sw_pa, n.remote_pa, 64), pkt.summary()
        assert not (o.flags & 0x2), "outer DF must be clear"
        assert pkt[UDP].chksum == 0, "UDP checksum 0 over IPv4"
    else:
        o = pkt[IPv6]
        assert (o.src, o.dst, o.hlim) == (n.sw_pa, n.remote_pa, 64), pkt.summary()
        assert o.fl != 0, "flow label from the inner flow hash, never 0"
        assert pkt[UDP].chksum != 0, "UDP checksum computed over IPv6"
    assert pkt[UDP].dport == 4789 and 49152 <= pkt[UDP].sport <= 65535, pkt.summary()
    vxlan = bytes(pkt[UDP].payload)
    # RFC 7348: flags 0x08 (I), reserved zero, 24-bit VNI, reserved zero
    assert vxlan[0] == 0x08 and vxlan[1:4] == b"\0\0\0" and vxlan[7] == 0, vxlan[:8].hex()
    assert int.from_bytes(vxlan[4:7], "big") == VNI, vxlan[:8].hex()
    inner = Ether(vxlan[8:])
    assert inner.dst == REMOTE_CA_MAC and inner.src == VM_MAC, inner.summary()
    return inner


@pytest.mark.parametrize("underlay", ["ipv4", "ipv6"])
def test_overlay_ping_both_ways(make_topo, tmp_path, underlay):
    n = overlay_net(make_topo, underlay)
    vx_before = n.remote.link_stats("vx0")["rx_packets"]
    before = stats(n.d)
    # VM -> remote, IPv4 overlay: the switch resolves the remote's CA (ARP)
    # and encapsulates; the frames on the remote's wire are VXLAN
    with Sniffer(n.remote, "fab0", tmp_path / "wire.pcap", count=3, udp_dport=4789) as s:
        _, ttls = ping(n.vm, REMOTE4, count=3)
    assert ttls == [64] * 3, "the inner TTL is not decremented: %s" % ttls
    assert len(s.packets) == 3, [p.summary() for p in s.packets]
    for p in s.packets:
        inner = check_outer(p, n)
        assert inner[IP].src == VM4 and inner[IP].dst == REMOTE4 and inner[IP].ttl == 64
    # one flow, one outer UDP source port
    assert len({p[UDP].sport for p in s.packets}) == 1
    # remote -> VM and the IPv6 overlay both ways
    ping(n.remote, VM4, count=3)
    ping(n.vm, REMOTE6, count=3)
    ping(n.remote, VM6, count=3)
    d = delta(before, stats(n.d))
    vx_rx = n.remote.link_stats("vx0")["rx_packets"] - vx_before
    # 12 frames toward the remote (6 requests, 6 replies), all decapsulated
    # by the kernel VTEP; the VM's ARP/NS were answered by the switch
    assert vx_rx >= 12, vx_rx
    assert d["ports"]["fabric0"]["tx_packets"] >= 12 and d["ports"]["fabric0"]["rx_packets"] >= 12
    e = eni_stats(n)
    assert e["rx_packets"] >= 12 and e["tx_packets"] >= 12, e
    # who answered ARP / ND: the switch, with the mapping MAC for the remote
    # CA and the fabric port's MAC for its own PA
    vm_neigh = n.vm.neigh("eth0")
    assert vm_neigh[REMOTE4][0] == REMOTE_CA_MAC and vm_neigh[REMOTE6][0] == REMOTE_CA_MAC
    assert n.remote.neigh("fab0")[n.sw_pa][0] == FABRIC_MAC
    # the switch answers ICMP echo to its underlay IP on the fabric
    ping(n.remote, n.sw_pa, count=2)


def test_overlay_gateway_and_unknown_addresses(make_topo):
    """The VNET gateway resolves to the switch MAC; an address without a
    mapping is not answered (arp_unresolved)."""
    n = overlay_net(make_topo, "ipv4")
    before = stats(n.d)
    for gw in (GW4, GW6):
        ping(n.vm, gw, count=1, check=False, wait=0.2)  # resolves, nobody answers the echo
    wait_for(lambda: all(n.vm.neigh("eth0").get(gw, (None,))[0] for gw in (GW4, GW6)),
             what="the gateways to resolve")
    table = n.vm.neigh("eth0")
    assert table[GW4][0] == SWITCH_MAC and table[GW6][0] == SWITCH_MAC, table
    ping(n.vm, "192.0.2.99", count=1, check=False, wait=0.2)
    wait_for(lambda: delta(before, stats(n.d))["drops"].get("arp_unresolved", 0) >= 1,
             what="arp_unresolved for 192.0.2.99")
    assert n.vm.neigh("eth0").get("192.0.2.99", (None, ""))[0] is None


def test_overlay_vlan_tagged_eni(make_topo, tmp_path):
    """A VM behind 802.1Q tag 100 (raw frames: the VM side needs no kernel
    VLAN support): the switch answers its tagged ARP on the tag, removes
    the tag on encapsulation, and the remote kernel's replies come back
    tagged. The same MAC untagged matches no ENI."""
    n = overlay_net(make_topo, "ipv4", vlan=100)
    vm = Ether(src=VM_MAC, dst=REMOTE_CA_MAC)
    arp = Ether(src=VM_MAC, dst="ff:ff:ff:ff:ff:ff") / Dot1Q(vlan=100) / ARP(
        op="who-has", hwsrc=VM_MAC, psrc=VM4, pdst=REMOTE4)
    echoes = [vm / Dot1Q(vlan=100) / IP(src=VM4, dst=REMOTE4) / ICMP(id=0x1100, seq=i)
              / Raw(b"t" * 32) for i in range(3)]
    with Sniffer(n.remote, "fab0", tmp_path / "wire.pcap", count=3, udp_dport=4789) as wire, \
            Sniffer(n.vm, "eth0", tmp_path / "vm.pcap", count=4, timeout=3.0,
                    send=[arp] + echoes) as back:
        pass
    assert len(wire.packets) == 3, [p.summary() for p in wire.packets]
    for p in wire.packets:
        inner = check_outer(p, n)
        assert Dot1Q not in inner and inner[ICMP].id == 0x1100, inner.summary()
    replies = [p for p in back.packets if ICMP in p and p[ICMP].type == 0]
    arps = [p for p in back.packets if ARP in p and p[ARP].op == 2]
    assert len(replies) == 3 and len(arps) == 1, [p.summary() for p in back.packets]
    for p in replies + arps:
        assert Dot1Q in p and p[Dot1Q].vlan == 100 and p[Ether].dst == VM_MAC, p.summary()
    assert replies[0][IP].src == REMOTE4 and replies[0][Ether].src == REMOTE_CA_MAC
    assert arps[0][ARP].hwsrc == REMOTE_CA_MAC and arps[0][ARP].psrc == REMOTE4
    # untagged from the ENI's MAC: eni_miss, nothing reaches the fabric
    before = stats(n.d)
    untagged = [vm / IP(src=VM4, dst=REMOTE4) / ICMP(id=0x1101, seq=i) for i in range(3)]
    with Sniffer(n.remote, "fab0", tmp_path / "wire2.pcap", count=3, timeout=1.0,
                 udp_dport=4789) as wire, \
            Sniffer(n.vm, "eth0", tmp_path / "vm2.pcap", count=1, timeout=0.2, send=untagged):
        pass
    assert not [p for p in wire.packets if ICMP in p and p[ICMP].id == 0x1101]
    assert delta(before, stats(n.d))["drops"].get("eni_miss", 0) >= 3


@pytest.mark.parametrize("underlay", ["ipv4", "ipv6"])
def test_overlay_tcp_both_ways(make_topo, underlay):
    size = 2 << 20
    n = overlay_net(make_topo, underlay)
    before = stats(n.d)
    for server_ns, client_ns, server_ip, seed in ((n.remote, n.vm, REMOTE4, 31),
                                                  (n.vm, n.remote, VM4, 32),
                                                  (n.remote, n.vm, REMOTE6, 33),
                                                  (n.vm, n.remote, VM6, 34)):
        client, server = tcp_transfer(server_ns, client_ns, server_ip, size=size, seed=seed)
        assert client["ok"] and server["ok"], (server_ip, client, server)
    d = delta(before, stats(n.d))
    # 8 MB each way, every byte inside VXLAN on the fabric side
    assert d["ports"]["fabric0"]["tx_bytes"] > 4 * size and d["ports"]["host0"]["tx_bytes"] > 4 * size
    assert d["drops"].get("mtu_exceeded", 0) == 0, d["drops"]


def test_overlay_stateful_inbound_deny(make_topo):
    """An inbound ACL that denies everything: the VM's own connections work
    (their return traffic belongs to a tracked flow), an unsolicited inbound
    connection never gets through and is counted acl_deny."""
    ops = [("acl_group.add", {"name": "in_deny", "family": "ipv4"}),
           ("acl_rule.add", {"group": "in_deny", "priority": 100, "action": "deny"})]
    n = overlay_net(make_topo, "ipv4", features=("overlay", "acl", "conntrack"),
                    acl={"inbound_v4": ["in_deny"]}, extra_ops=ops)
    before = stats(n.d)
    client, server = tcp_transfer(n.remote, n.vm, REMOTE4, size=1 << 20, seed=41)
    assert client["ok"] and server["ok"], (client, server)
    ping(n.vm, REMOTE4, count=2)
    assert delta(before, stats(n.d))["drops"].get("acl_deny", 0) == 0
    flows = rpc_call(n.d, "flow.list", {"eni": "vm1"})["flows"]
    assert [f for f in flows if (f["protocol"], f["src_ip"], f["dst_ip"], f["direction"])
            == (1, VM4, REMOTE4, "outbound")], flows
    # the remote opens a connection to the VM: the SYNs are denied
    client, server = tcp_transfer(n.vm, n.remote, VM4, size=1 << 20, seed=42, port=5202,
                                  timeout=3.0)
    assert not client["ok"] and client["received"] == 0, client
    assert "connect" in client["error"], client
    assert ping(n.remote, VM4, count=2, check=False)[0] == 0
    d = delta(before, stats(n.d))
    assert d["drops"]["acl_deny"] >= 3, d["drops"]  # >= 1 SYN + 2 echo requests
    assert eni_stats(n)["acl_drops"] >= 3
    assert int(rpc_call(n.d, "stats.get", {"scope": "acl"})["acl"]["in_deny"]["100"]) >= 3
    # a denied connection leaves no flow behind
    flows = rpc_call(n.d, "flow.list", {"eni": "vm1"})["flows"]
    assert not [f for f in flows if f["protocol"] == 6 and 5202 in (f["src_port"], f["dst_port"])], flows


def test_overlay_acl_change_revokes_established_flow(make_topo):
    """SPEC 3.6: when a bound ACL changes, an established flow is re-checked
    on its next packet; denied, the flow is removed and the packet dropped
    at once. Allowed again, the kernel's retransmission gets through."""
    ops = [("acl_group.add", {"name": "out_v4", "family": "ipv4"}),
           ("acl_rule.add", {"group": "out_v4", "priority": 100, "action": "allow"})]
    n = overlay_net(make_topo, "ipv4", features=("overlay", "acl", "conntrack"),
                    acl={"outbound_v4": ["out_v4"]}, extra_ops=ops)

    def tcp_flows():
        return [f for f in rpc_call(n.d, "flow.list", {"eni": "vm1"})["flows"]
                if f["protocol"] == 6 and 5301 in (f["src_port"], f["dst_port"])]

    s = EchoSession(n.remote, n.vm, REMOTE4, port=5301, timeout=1.0)
    try:
        assert s.exchange("one")
        assert tcp_flows()
        before = stats(n.d)
        rpc_call(n.d, "acl_rule.add", {"group": "out_v4", "priority": 50, "action": "deny",
                                       "protocols": [6], "dst_ports": [5301]})
        assert not s.exchange("two")
        assert delta(before, stats(n.d))["drops"]["acl_deny"] >= 1
        assert not tcp_flows(), "the revoked flow is removed"
        assert int(rpc_call(n.d, "stats.get", {"scope": "acl"})["acl"]["out_v4"]["50"]) >= 1
        rpc_call(n.d, "acl_rule.delete", {"group": "out_v4", "priority": 50})
        # forwarded by the ACL verdict again (no inbound stage is bound);
        # whether a mid-stream packet re-creates the flow is not the point
        assert s.exchange("three", timeout=5.0)
    finally:
        s.close()
