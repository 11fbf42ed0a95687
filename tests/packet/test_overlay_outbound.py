"""Overlay, outbound (SPEC 3.1): host port -> ENI -> route -> mapping -> VXLAN.

Table-driven: one daemon run carries every vector of this module (each
packet marked so its output is found whatever the order); each test checks
its vectors against that run. Expected outer headers are checked field by
field (test_overlay_fixtures.check_encap): TTL/hop limit 64, DF clear,
checksums, flow label, DSCP/ECN, UDP ports and checksum, VXLAN flags and VNI,
next-hop and port MACs, and the inner frame byte for byte.
"""
import collections

import pytest

from test_overlay_fixtures import (  # noqa: F401 (fixtures' names are API here)
    ARP, Dot1Q, Drop, Encap, Ether, ICMP, IP, IPv6, Plain, Raw, UDP, Vectors,
    FAB0, FAB1, FAB1_MTU, HOST0, M5, M6, M7, M8, M9, MA, MB, MC, N1, N2A, N2B, N3, N4, N5, SW_MAC,
    UL4, UL6, VM1, VM2, VM3, VM4, VM5, check_dropped, check_encap, check_one, checksum,
    expected_drops, frame, in6_chksum, ipv4_ok, marker_of, run, tag, vm)

V = Vectors()

# ---- encapsulation, all four overlay/underlay combinations -----------------------
V.add("IPv4 over IPv4", "host0", lambda i: vm(VM1, "10.0.0.2", "10.0.0.5", i),
      Encap("fabric0", N1, UL4, "100.64.1.5", 1000, inner_dst=M5))
V.add("IPv4 over IPv6", "host0", lambda i: vm(VM1, "10.0.0.2", "10.0.0.6", i),
      Encap("fabric1", N3, UL6, "fd00:1::6", 1000, inner_dst=M6))
V.add("IPv6 over IPv4", "host0", lambda i: vm(VM1, "fd10::2", "fd10::5", i),
      Encap("fabric0", N1, UL4, "100.64.1.5", 1000, inner_dst=M7))
V.add("IPv6 over IPv6", "host0", lambda i: vm(VM1, "fd10::2", "fd10::6", i),
      Encap("fabric1", N3, UL6, "fd00:1::6", 1000, inner_dst=M8))
V.add("TCP, IPv4 over IPv4", "host0", lambda i: vm(VM1, "10.0.0.2", "10.0.0.5", i, proto="tcp"),
      Encap("fabric0", N1, UL4, "100.64.1.5", 1000, inner_dst=M5))
V.add("IPv4 over IPv6 via another next hop", "host0",
      lambda i: vm(VM1, "10.0.0.2", "10.0.0.10", i),
      Encap("fabric0", N5, UL6, "fd00:2::10", 1000, inner_dst=MC))
V.add("inner TTL is not decremented (TTL 1 passes)", "host0",
      lambda i: vm(VM1, "10.0.0.2", "10.0.0.5", i, ttl=1),
      Encap("fabric0", N1, UL4, "100.64.1.5", 1000, inner_dst=M5))
# ---- DSCP / ECN (RFC 6040 normal mode: ECN copied) ----------------------------------
for tos in (0xb8, 0xb9, 0x2a, 0x03):
    V.add("DSCP/ECN 0x%02x copied, IPv4 underlay" % tos, "host0",
          lambda i, tos=tos: vm(VM1, "10.0.0.2", "10.0.0.5", i, tos=tos),
          Encap("fabric0", N1, UL4, "100.64.1.5", 1000, inner_dst=M5))
    V.add("traffic class 0x%02x copied, IPv6 underlay" % tos, "host0",
          lambda i, tos=tos: vm(VM1, "fd10::2", "fd10::6", i, tos=tos),
          Encap("fabric1", N3, UL6, "fd00:1::6", 1000, inner_dst=M8))
# ---- VLAN ENI: tag removed; ENI dscp 46 (pipe mode), ECN still copied -------------------
V.add("VLAN 100 ENI, tag removed, dscp 46, ECN copied", "host0",
      lambda i: vm(VM2, "10.0.0.3", "10.0.0.5", i, vlan=100, tos=0x29),
      Encap("fabric0", N1, UL4, "100.64.1.5", 1000, inner_dst=M5, dscp=46))
V.add("VLAN 100 ENI, IPv6 over IPv6, dscp 46", "host0",
      lambda i: vm(VM2, "fd10::3", "fd10::6", i, vlan=100, tos=0x02),
      Encap("fabric1", N3, UL6, "fd00:1::6", 1000, inner_dst=M8, dscp=46))
V.add("VLAN 7 ENI on host1", "host1", lambda i: vm(VM5, "10.0.0.4", "10.0.0.5", i, vlan=7),
      Encap("fabric0", N1, UL4, "100.64.1.5", 1000, inner_dst=M5))
# ---- route actions ----------------------------------------------------------------------
V.add("vnet_direct: mapping of overlay_ip 10.0.0.5", "host0",
      lambda i: vm(VM1, "10.0.0.2", "10.8.1.1", i),
      Encap("fabric0", N1, UL4, "100.64.1.5", 1000, inner_dst=M5))
V.add("vnet_direct IPv6: mapping of overlay_ip fd10::6", "host0",
      lambda i: vm(VM1, "fd10::2", "fd20::1", i),
      Encap("fabric1", N3, UL6, "fd00:1::6", 1000, inner_dst=M8))
V.add("route to VNET v2, use_dst_vni: VNI of v2", "host0",
      lambda i: vm(VM1, "10.0.0.2", "10.7.0.9", i),
      Encap("fabric0", N1, UL4, "100.64.1.9", 2000, inner_dst=MA))
V.add("route to VNET v2, no use_dst_vni: the ENI VNET's VNI", "host0",
      lambda i: vm(VM1, "10.0.0.2", "10.7.0.10", i),
      Encap("fabric0", N1, UL4, "100.64.1.10", 1000, inner_dst=MB))


def direct_check(ttl):
    def check(out, inp):
        assert out.dst == N4 and out.src == FAB1 and Dot1Q not in out
        assert out[IP].ttl == ttl and ipv4_ok(bytes(out))
        assert out[IP].tos == inp[IP].tos and out[IP].id == inp[IP].id
        assert bytes(out[IP].payload) == bytes(inp[IP].payload)
    return check


V.add("action direct: routed unencapsulated, TTL - 1", "host0",
      lambda i: vm(VM1, "10.0.0.2", "192.168.1.1", i, ttl=9),
      Plain("fabric1", direct_check(8)))
V.add("action direct from a VLAN ENI: tag removed", "host0",
      lambda i: vm(VM2, "10.0.0.3", "192.168.1.2", i, vlan=100, ttl=2),
      Plain("fabric1", direct_check(1)))
# ---- MTU of the egress (fabric1: 1200; IPv6 underlay adds 70 to the inner L3) --------------
V.add("outer L3 exactly the egress MTU", "host0",
      lambda i: vm(VM1, "10.0.0.2", "10.0.0.6", i, pad=FAB1_MTU - 70 - 28 - len(tag(0))),
      Encap("fabric1", N3, UL6, "fd00:1::6", 1000, inner_dst=M6))
V.add("outer L3 one byte over the egress MTU", "host0",
      lambda i: vm(VM1, "10.0.0.2", "10.0.0.6", i, pad=FAB1_MTU - 70 - 28 - len(tag(0)) + 1),
      Drop("mtu_exceeded"))
# ---- drops ---------------------------------------------------------------------------------
V.add("unknown source MAC", "host0", lambda i: vm("02:00:00:00:99:99", "10.0.0.2", "10.0.0.5", i),
      Drop("eni_miss"))
V.add("untagged ENI's MAC with a VLAN tag", "host0",
      lambda i: vm(VM1, "10.0.0.2", "10.0.0.5", i, vlan=5), Drop("eni_miss"))
V.add("VLAN ENI's MAC untagged", "host0", lambda i: vm(VM2, "10.0.0.3", "10.0.0.5", i),
      Drop("eni_miss"))
V.add("ENI MAC on the wrong port", "host1", lambda i: vm(VM1, "10.0.0.2", "10.0.0.5", i),
      Drop("eni_miss"))
V.add("ENI admin down", "host1", lambda i: vm(VM3, "10.0.0.9", "10.0.0.5", i),
      Drop("eni_admin_down"))
V.add("route action drop", "host0", lambda i: vm(VM1, "10.0.0.2", "10.9.1.1", i),
      Drop("route_drop"))
V.add("no route", "host0", lambda i: vm(VM1, "10.0.0.2", "11.0.0.1", i), Drop("route_miss"))
V.add("no route, IPv6", "host0", lambda i: vm(VM1, "fd10::2", "fd99::1", i), Drop("route_miss"))
V.add("ENI without a route group", "host0", lambda i: vm(VM4, "10.7.0.2", "10.7.0.9", i),
      Drop("route_miss"))
V.add("no mapping", "host0", lambda i: vm(VM1, "10.0.0.2", "10.0.0.99", i), Drop("mapping_miss"))
V.add("no mapping, IPv6", "host0", lambda i: vm(VM1, "fd10::2", "fd10::99", i),
      Drop("mapping_miss"))
V.add("no underlay route to the PA", "host0", lambda i: vm(VM1, "10.0.0.2", "10.0.0.8", i),
      Drop("underlay_route_miss"))
V.add("no underlay route to an IPv6 PA, IPv6 overlay", "host0",
      lambda i: vm(VM1, "fd10::2", "fd10::8", i), Drop("underlay_route_miss"))
V.add("route action drop, IPv6", "host0", lambda i: vm(VM1, "fd10::2", "fd10:9::1", i),
      Drop("route_drop"))
V.add("ENI admin down, IPv6", "host1", lambda i: vm(VM3, "fd10::9", "fd10::5", i),
      Drop("eni_admin_down"))
V.add("IPv4 underlay: over the 1500 MTU of fabric0", "host0",
      lambda i: vm(VM1, "10.0.0.2", "10.0.0.5", i, pad=1500 - 50 - 28 - len(tag(0)) + 1),
      Drop("mtu_exceeded"))
V.add("IPv4 underlay: exactly the 1500 MTU of fabric0", "host0",
      lambda i: vm(VM1, "10.0.0.2", "10.0.0.5", i, pad=1500 - 50 - 28 - len(tag(0))),
      Encap("fabric0", N1, UL4, "100.64.1.5", 1000, inner_dst=M5))
V.add("action direct with TTL 1", "host0", lambda i: vm(VM1, "10.0.0.2", "192.168.1.1", i, ttl=1),
      Drop("ttl_exceeded"))
V.add("not IP (LLDP ethertype)", "host0",
      lambda i: frame(Ether(src=VM1, dst=SW_MAC, type=0x88cc) / Raw(tag(i) + b"\x00" * 30)),
      Drop("tenant_not_ip"))

# ---- ARP / ND from the ENIs (no marker: matched by target) -------------------------------------


def arp(src_mac, spa, tpa, vlan=None, psrc_zero=False):
    e = Ether(src=src_mac, dst="ff:ff:ff:ff:ff:ff")
    if vlan is not None:
        e = e / Dot1Q(vlan=vlan)
    return frame(e / ARP(op=1, hwsrc=src_mac, psrc="0.0.0.0" if psrc_zero else spa, pdst=tpa))


def ns(src_mac, src, target, hlim=255):
    from scapy.layers.inet6 import ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr, in6_getnsma, inet_pton, \
        in6_getnsmac, socket
    dst = in6_getnsma(inet_pton(socket.AF_INET6, target))
    dst = socket.inet_ntop(socket.AF_INET6, dst)
    return frame(Ether(src=src_mac, dst=in6_getnsmac(inet_pton(socket.AF_INET6, dst)))
                 / IPv6(src=src, dst=dst, hlim=hlim) / ICMPv6ND_NS(tgt=target)
                 / ICMPv6NDOptSrcLLAddr(lladdr=src_mac))


ARPS = [  # (description, port, request, expected resolved MAC or drop)
    ("ARP for the VNET gateway: switch MAC", "host0", arp(VM1, "10.0.0.2", "10.0.0.1"), SW_MAC),
    ("ARP for a mapping: its MAC", "host0", arp(VM1, "10.0.0.2", "10.0.0.5"), M5),
    ("ARP from a VLAN ENI: tagged reply", "host0", arp(VM2, "10.0.0.3", "10.0.0.6", vlan=100), M6),
    ("ARP for an unmapped address", "host0", arp(VM1, "10.0.0.2", "10.0.0.99"), None),
    ("ARP probe (sender 0.0.0.0)", "host0", arp(VM1, "10.0.0.2", "10.0.0.5", psrc_zero=True), None),
    ("ARP from an unknown MAC", "host0", arp("02:00:00:00:99:98", "10.0.0.2", "10.0.0.1"), "eni_miss"),
    ("NS for the VNET IPv6 gateway: switch MAC", "host0", ns(VM1, "fd10::2", "fd10::1"), SW_MAC),
    ("NS for a mapping", "host0", ns(VM1, "fd10::2", "fd10::5"), M7),
    ("NS for an unmapped address", "host0", ns(VM1, "fd10::2", "fd10::99"), None),
    ("NS with hop limit 64 (RFC 4861 7.1.1)", "host0", ns(VM1, "fd10::2", "fd10::5", hlim=64), None),
    ("DAD NS (source ::)", "host0", ns(VM1, "::", "fd10::5"), None),
]
for desc, port, pkt, res in ARPS:
    reason = "arp_unresolved" if res is None else res if res == "eni_miss" else None
    V.append((desc, port, pkt, Drop(reason) if reason else ("neighbour", res)))

# ---- ECMP: 64 flows to a PA behind two next hops, each flow twice -------------------------------
ECMP_FLOWS = 64
for f in range(ECMP_FLOWS):
    for rep in range(2):
        V.add("ECMP flow %d #%d" % (f, rep), "host0",
              lambda i, f=f: vm(VM1, "10.0.0.2", "10.0.0.7", i, sport=2000 + f, dport=443),
              ("ecmp", f))


@pytest.fixture(scope="module")
def outbound(tmp_path_factory):
    return run(tmp_path_factory.mktemp("outbound"), V)


FORWARDED = [v for v in V if isinstance(v[3], (Encap, Plain))]


@pytest.mark.parametrize("vec", FORWARDED, ids=[v[0] for v in FORWARDED])
def test_forwarded(outbound, vec):
    res, got = outbound
    check_one(res, got, vec)


def test_drops_counted_by_reason(outbound):
    res, got = outbound
    check_dropped(got, V)
    assert res.drops == expected_drops(V)
    # drops are counted on the port they came in on, MTU drops on the egress
    assert res.stats["ports"]["host0"]["rx_dropped"] == sum(
        1 for v in V if v[1] == "host0" and isinstance(v[3], Drop) and
        v[3].reason != "mtu_exceeded")
    assert res.stats["ports"]["fabric1"]["tx_dropped"] == 1
    assert res.stats["ports"]["fabric0"]["tx_dropped"] == 1


def test_arp_nd_replies(outbound):
    res, _ = outbound
    replies = res.unmarked
    for desc, port, req, exp in V:
        if not (isinstance(exp, tuple) and exp[0] == "neighbour"):
            continue
        mac = exp[1]
        if ARP in req:
            match = [(p, o) for p, o in replies if ARP in o and o[ARP].psrc == req[ARP].pdst
                     and o.dst == req.src]
            assert len(match) == 1, desc
            p, o = match[0]
            assert p == port
            want = Ether(dst=req.src, src=mac)
            if Dot1Q in req:
                want = want / Dot1Q(vlan=req[Dot1Q].vlan)
            want = want / ARP(op=2, hwsrc=mac, psrc=req[ARP].pdst, hwdst=req.src, pdst=req[ARP].psrc)
            assert bytes(o) == bytes(want), desc
        else:
            from scapy.layers.inet6 import ICMPv6ND_NA, ICMPv6NDOptDstLLAddr
            tgt = req["ICMPv6ND_NS"].tgt
            match = [(p, o) for p, o in replies if ICMPv6ND_NA in o and o[ICMPv6ND_NA].tgt == tgt]
            assert len(match) == 1, desc
            p, o = match[0]
            na = o[ICMPv6ND_NA]
            assert p == port and o.dst == req.src and o.src == mac, desc
            assert o[IPv6].src == tgt and o[IPv6].dst == req[IPv6].src and o[IPv6].hlim == 255
            assert na.R == (1 if mac == SW_MAC else 0) and na.S == 1 and na.O == 1
            assert o[ICMPv6NDOptDstLLAddr].lladdr == mac
            raw = bytearray(bytes(o[IPv6].payload))
            ck = raw[2] << 8 | raw[3]
            raw[2:4] = b"\x00\x00"
            assert ck == in6_chksum(58, o[IPv6], bytes(raw)), desc + ": ICMPv6 checksum"
    n_replies = sum(1 for v in V if isinstance(v[3], tuple) and v[3][0] == "neighbour")
    assert len(replies) == n_replies


def test_ecmp_spread_and_per_flow_stability(outbound):
    res, got = outbound
    per_flow = collections.defaultdict(list)
    for i, (desc, port, pkt, exp) in enumerate(V):
        if isinstance(exp, tuple) and exp[0] == "ecmp":
            assert i in got, desc
            per_flow[exp[1]].append((pkt, got[i]))
    hops = collections.Counter()
    sports = set()
    for f, outs in per_flow.items():
        assert len(outs) == 2
        (in1, (p1, o1)), (in2, (p2, o2)) = outs
        # one flow: one next hop, one UDP source port
        assert p1 == p2 and o1.dst == o2.dst and o1[UDP].sport == o2[UDP].sport, "flow %d" % f
        assert (p1, o1.dst) in (("fabric0", N2A), ("fabric1", N2B))
        for inp, o in ((in1, o1), (in2, o2)):
            check_encap(o, p1, bytes(inp), Encap(p1, o1.dst, UL4, "100.64.2.7", 1000,
                                                 inner_dst=M9))
        hops[p1] += 1
        sports.add(o1[UDP].sport)
    # both members used, neither starved; source ports spread too
    assert hops["fabric0"] >= ECMP_FLOWS // 5 and hops["fabric1"] >= ECMP_FLOWS // 5, hops
    assert len(sports) >= ECMP_FLOWS // 2
