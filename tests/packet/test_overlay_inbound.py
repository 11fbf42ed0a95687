"""Overlay, inbound (SPEC 3.2): fabric port -> VIP -> VNI -> ENI -> inbound
routing / PA validation -> decapsulation (RFC 6040 ECN) -> host port, with
the ENI's VLAN; and the switch's own ARP / ND / echo on fabric ports.

Table-driven like test_overlay_outbound.py: one daemon run, each vector
matched to its output by a marker, every drop reason counted exactly.
"""
import pytest

from test_overlay_fixtures import (
    ARP, Dot1Q, Drop, Ether, ICMP, IP, IPv6, Plain, Raw, UDP, TCP, Vectors,
    FAB0, FAB1, HOST0, HOST1, HV, UL4, UL6, VIP4, VIP6, VM1, VM2, VM3, VM4, VM5,
    check_dropped, check_one, checksum, expected_drops, frame, in6_chksum, ipv4_ok, run, tag,
    tenant, vxlan_in)

V = Vectors()
REMOTE = "02:00:00:00:40:01"     # the sending VM's MAC (inner source)


def to_vm(dst_mac, i, src="10.0.0.5", dst="10.0.0.2", tos=0):
    return tenant(REMOTE, dst_mac, src, dst, i, tos=tos)


def delivered(port, vlan=None, tos=None):
    """The inner frame, unchanged but for the ENI's VLAN tag and, when tos is
    given, the ECN field RFC 6040 computes."""
    def check(out, inp):
        inner = Ether(bytes(inp[UDP].payload)[8:])
        if tos is not None:
            if IP in inner:
                inner[IP].tos = tos
                del inner[IP].chksum
            else:
                inner[IPv6].tc = tos
        want = Ether(bytes(inner))
        if vlan is not None:
            want = Ether(dst=want.dst, src=want.src) / Dot1Q(vlan=vlan, type=want.type) / want.payload
        assert bytes(out) == bytes(want)
        if IP in out:
            assert ipv4_ok(bytes(out))
    return Plain(port, check)


# ---- delivery ----------------------------------------------------------------------------
V.add("to the underlay IP, PA of a mapping of the VNET (no inbound routes)", "fabric0",
      lambda i: vxlan_in("100.64.1.5", UL4, 1000, to_vm(VM1, i)), delivered("host0"))
V.add("to a vip.add VIP", "fabric0",
      lambda i: vxlan_in("100.64.1.5", VIP4, 1000, to_vm(VM1, i)), delivered("host0"))
V.add("IPv6 underlay to underlay_ip6", "fabric0",
      lambda i: vxlan_in("fd00:1::6", UL6, 1000, to_vm(VM1, i)), delivered("host0"))
V.add("IPv6 underlay to an IPv6 VIP", "fabric0",
      lambda i: vxlan_in("fd00:1::6", VIP6, 1000, to_vm(VM1, i)), delivered("host0"))
V.add("IPv6 overlay over IPv4", "fabric0",
      lambda i: vxlan_in("100.64.1.5", UL4, 1000, to_vm(VM1, i, "fd10::5", "fd10::2")),
      delivered("host0"))
V.add("IPv6 overlay over IPv6", "fabric0",
      lambda i: vxlan_in("fd00:1::6", UL6, 1000, to_vm(VM1, i, "fd10::6", "fd10::2")),
      delivered("host0"))
V.add("VLAN 100 ENI: delivered tagged", "fabric0",
      lambda i: vxlan_in("100.64.1.5", UL4, 1000, to_vm(VM2, i, dst="10.0.0.3")),
      delivered("host0", vlan=100))
V.add("VLAN 7 ENI on host1", "fabric0",
      lambda i: vxlan_in("100.64.1.5", UL4, 1000, to_vm(VM5, i, dst="10.0.0.4")),
      delivered("host1", vlan=7))
V.add("arrives on the second fabric port", "fabric1",
      lambda i: vxlan_in("100.64.1.5", UL4, 1000, to_vm(VM1, i), port_mac=FAB1),
      delivered("host0"))
# ---- inbound routes of e4: (VNI 2000, 100.64.3.0/24): prio 5 decap_pa_validate(v2), prio 10
# decap; 100.64.3.128/25 prio 20 decap; fd00:3::/64 decap_pa_validate -------------------------
V.add("inbound route, lowest priority: PA validated", "fabric0",
      lambda i: vxlan_in("100.64.3.7", UL4, 2000, to_vm(VM4, i, "10.7.0.9", "10.7.0.2")),
      delivered("host0"))
V.add("inbound route, longest prefix first: decap without validation", "fabric0",
      lambda i: vxlan_in("100.64.3.200", UL4, 2000, to_vm(VM4, i, "10.7.0.9", "10.7.0.2")),
      delivered("host0"))
V.add("inbound route, IPv6 source, validated in the ENI's VNET", "fabric0",
      lambda i: vxlan_in("fd00:3::7", UL6, 2000, to_vm(VM4, i, "10.7.0.9", "10.7.0.2")),
      delivered("host0"))
# ---- RFC 6040 decapsulation (ECN field: 0 Not-ECT, 1 ECT(1), 2 ECT(0), 3 CE) ------------------
V.add("outer CE over inner ECT(0): inner CE", "fabric0",
      lambda i: vxlan_in("100.64.1.5", UL4, 1000, to_vm(VM1, i, tos=0x2a), ecn=3),
      delivered("host0", tos=0x2b))
V.add("outer CE over inner ECT(1): inner CE", "fabric0",
      lambda i: vxlan_in("100.64.1.5", UL4, 1000, to_vm(VM1, i, tos=0x01), ecn=0xb3),
      delivered("host0", tos=0x03))
V.add("outer ECT(1) over inner ECT(0): inner ECT(1)", "fabric0",
      lambda i: vxlan_in("100.64.1.5", UL4, 1000, to_vm(VM1, i, tos=0xb8 | 2), ecn=1),
      delivered("host0", tos=0xb9))
V.add("outer ECT(0) over Not-ECT: unchanged", "fabric0",
      lambda i: vxlan_in("100.64.1.5", UL4, 1000, to_vm(VM1, i, tos=0x20), ecn=2),
      delivered("host0"))
V.add("outer CE over inner CE: unchanged", "fabric0",
      lambda i: vxlan_in("100.64.1.5", UL4, 1000, to_vm(VM1, i, tos=0x03), ecn=3),
      delivered("host0"))
V.add("IPv6: outer CE over inner ECT(0): inner CE", "fabric0",
      lambda i: vxlan_in("fd00:1::6", UL6, 1000, to_vm(VM1, i, "fd10::6", "fd10::2", tos=0x02),
                         ecn=3), delivered("host0", tos=0x03))
# ---- drops -----------------------------------------------------------------------------------------
V.add("outer destination not a VIP", "fabric0",
      lambda i: vxlan_in("100.64.1.5", "100.64.0.2", 1000, to_vm(VM1, i)), Drop("vip_miss"))
V.add("outer IPv6 destination not a VIP", "fabric0",
      lambda i: vxlan_in("fd00:1::6", "fd00::2", 1000, to_vm(VM1, i)), Drop("vip_miss"))
V.add("unknown VNI", "fabric0",
      lambda i: vxlan_in("100.64.1.5", UL4, 5555, to_vm(VM1, i)), Drop("vni_unknown"))
V.add("no ENI with the inner destination MAC", "fabric0",
      lambda i: vxlan_in("100.64.1.5", UL4, 1000, to_vm("02:00:00:00:99:97", i)), Drop("eni_miss"))
V.add("ENI of another VNET", "fabric0",
      lambda i: vxlan_in("100.64.1.5", UL4, 1000, to_vm(VM4, i)), Drop("eni_miss"))
V.add("ENI admin down", "fabric0",
      lambda i: vxlan_in("100.64.1.5", UL4, 1000, to_vm(VM3, i)), Drop("eni_admin_down"))
V.add("source is no mapping's PA (ENI without inbound routes)", "fabric0",
      lambda i: vxlan_in("100.64.9.9", UL4, 1000, to_vm(VM1, i)), Drop("pa_validation_fail"))
V.add("PA of another VNET's mapping", "fabric0",
      lambda i: vxlan_in("100.64.1.9", UL4, 1000, to_vm(VM1, i)), Drop("pa_validation_fail"))
V.add("decap_pa_validate, source not in the table", "fabric0",
      lambda i: vxlan_in("100.64.3.8", UL4, 2000, to_vm(VM4, i, "10.7.0.9", "10.7.0.2")),
      Drop("pa_validation_fail"))
V.add("inbound routes, none matches the source", "fabric0",
      lambda i: vxlan_in("100.64.4.1", UL4, 2000, to_vm(VM4, i, "10.7.0.9", "10.7.0.2")),
      Drop("inbound_route_miss"))
V.add("inbound routes, none matches the IPv6 source", "fabric0",
      lambda i: vxlan_in("fd00:4::1", UL6, 2000, to_vm(VM4, i, "10.7.0.9", "10.7.0.2")),
      Drop("inbound_route_miss"))
V.add("outer CE over Not-ECT", "fabric0",
      lambda i: vxlan_in("100.64.1.5", UL4, 1000, to_vm(VM1, i, tos=0x20), ecn=3),
      Drop("ecn_ce_not_ect"))
V.add("outer CE over Not-ECT, IPv6", "fabric0",
      lambda i: vxlan_in("fd00:1::6", UL6, 1000, to_vm(VM1, i, "fd10::6", "fd10::2"), ecn=3),
      Drop("ecn_ce_not_ect"))
V.add("VXLAN without the I flag", "fabric0",
      lambda i: vxlan_in("100.64.1.5", UL4, 1000, to_vm(VM1, i), flags=0x00), Drop("not_vxlan"))
V.add("UDP to the underlay IP, not VXLAN", "fabric0",
      lambda i: frame(Ether(src=HV, dst=FAB0) / IP(src="100.64.1.5", dst=UL4) / UDP(dport=53)
                      / Raw(tag(i))), Drop("not_vxlan"))
V.add("TCP to a VIP", "fabric0",
      lambda i: frame(Ether(src=HV, dst=FAB0) / IP(src="100.64.1.5", dst=VIP4) / TCP(dport=22)
                      / Raw(tag(i))), Drop("not_vxlan"))
V.add("ICMP echo to a non-switch address", "fabric0",
      lambda i: frame(Ether(src=HV, dst=FAB0) / IP(src="100.64.1.5", dst="100.64.0.77")
                      / ICMP(id=1, seq=1) / Raw(tag(i))), Drop("not_vxlan"))
V.add("ICMP port unreachable to the underlay IP", "fabric0",
      lambda i: frame(Ether(src=HV, dst=FAB0) / IP(src="100.64.1.5", dst=UL4)
                      / ICMP(type=3, code=3) / Raw(tag(i))), Drop("not_vxlan"))
V.append(("ARP for an address that is not the switch's", "fabric0",
          frame(Ether(src=HV, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=HV, psrc="100.64.1.5",
                                                            pdst="100.64.0.77")),
          Drop("not_vxlan")))


# ---- the switch's own addresses on fabric ports ---------------------------------------------------
def echo_reply(port_mac, v6=False):
    def check(out, inp):
        assert out.dst == inp.src and out.src == port_mac
        if v6:
            ip, req = out[IPv6], inp[IPv6]
            assert (ip.src, ip.dst, ip.hlim) == (req.dst, req.src, 64)
            raw = bytearray(bytes(ip.payload))
            assert raw[0] == 129 and raw[1] == 0
            ck = raw[2] << 8 | raw[3]
            raw[2:4] = b"\x00\x00"
            assert ck == in6_chksum(58, ip, bytes(raw))
            assert bytes(ip.payload)[4:] == bytes(req.payload)[4:]
        else:
            ip, req = out[IP], inp[IP]
            assert (ip.src, ip.dst, ip.ttl) == (req.dst, req.src, 64) and ipv4_ok(bytes(out))
            icmp = bytes(ip.payload)
            assert icmp[0] == 0 and checksum(icmp) == 0
            assert icmp[4:] == bytes(req.payload)[4:]
    return Plain("fabric0" if port_mac == FAB0 else "fabric1", check)


V.add("ICMP echo to the underlay IP: answered", "fabric0",
      lambda i: frame(Ether(src=HV, dst=FAB0) / IP(src="100.64.1.5", dst=UL4)
                      / ICMP(id=7, seq=3) / Raw(tag(i))), echo_reply(FAB0))
V.add("ICMP echo to a VIP on fabric1: answered from fabric1", "fabric1",
      lambda i: frame(Ether(src=HV, dst=FAB1) / IP(src="100.64.1.5", dst=VIP4)
                      / ICMP(id=8, seq=4) / Raw(tag(i))), echo_reply(FAB1))
V.add("ICMPv6 echo to underlay_ip6: answered", "fabric0",
      lambda i: frame(Ether(src=HV, dst=FAB0) / IPv6(src="fd00:1::6", dst=UL6)
                      / __import__("scapy.layers.inet6", fromlist=["ICMPv6EchoRequest"])
                      .ICMPv6EchoRequest(id=9, seq=5, data=tag(i))), echo_reply(FAB0, v6=True))

ARPS = [  # (port, request, expected source MAC of the reply)
    ("fabric0", frame(Ether(src=HV, dst="ff:ff:ff:ff:ff:ff")
                      / ARP(op=1, hwsrc=HV, psrc="100.64.1.5", pdst=UL4)), FAB0),
    ("fabric1", frame(Ether(src=HV, dst="ff:ff:ff:ff:ff:ff")
                      / ARP(op=1, hwsrc=HV, psrc="100.64.1.6", pdst=VIP4)), FAB1),
]


def ns_for(target, src="fd00:1::6"):
    from scapy.layers.inet6 import ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr
    return frame(Ether(src=HV, dst="33:33:ff:00:00:01") / IPv6(src=src, dst="ff02::1:ff00:1", hlim=255)
                 / ICMPv6ND_NS(tgt=target) / ICMPv6NDOptSrcLLAddr(lladdr=HV))


NSS = [("fabric0", ns_for(UL6), FAB0)]
for port, pkt, _mac in ARPS + NSS:
    V.append(("switch address resolution on " + port, port, pkt, ("local", _mac)))


@pytest.fixture(scope="module")
def inbound(tmp_path_factory):
    return run(tmp_path_factory.mktemp("inbound"), V)


FORWARDED = [v for v in V if isinstance(v[3], Plain)]


@pytest.mark.parametrize("vec", FORWARDED, ids=[v[0] for v in FORWARDED])
def test_delivered(inbound, vec):
    res, got = inbound
    check_one(res, got, vec)


def test_drops_counted_by_reason(inbound):
    res, got = inbound
    check_dropped(got, V)
    assert res.drops == expected_drops(V)
    assert res.stats["ports"]["fabric0"]["rx_dropped"] == sum(
        1 for v in V if v[1] == "fabric0" and isinstance(v[3], Drop))


def test_switch_answers_arp_and_nd_on_fabric_ports(inbound):
    from scapy.layers.inet6 import ICMPv6ND_NA, ICMPv6NDOptDstLLAddr
    res, _ = inbound
    replies = res.unmarked
    for port, req, mac in ARPS:
        want = Ether(dst=req.src, src=mac) / ARP(op=2, hwsrc=mac, psrc=req[ARP].pdst,
                                                  hwdst=req.src, pdst=req[ARP].psrc)
        assert (port, bytes(want)) in [(p, bytes(o)) for p, o in replies], req[ARP].pdst
    for port, req, mac in NSS:
        na = [(p, o) for p, o in replies if ICMPv6ND_NA in o]
        assert len(na) == 1
        p, o = na[0]
        assert p == port and o.src == mac and o.dst == req.src
        assert o[ICMPv6ND_NA].tgt == UL6 and o[ICMPv6ND_NA].R == 0 and o[ICMPv6ND_NA].S == 1
        assert o[ICMPv6NDOptDstLLAddr].lladdr == mac
        assert o[IPv6].hlim == 255 and o[IPv6].src == UL6 and o[IPv6].dst == req[IPv6].src
    assert len(replies) == len(ARPS) + len(NSS)
