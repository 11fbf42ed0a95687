"""Shared world, builders and field checkers of the overlay packet tests
(SPEC sections 3.1-3.3). No tests here: test_overlay_*.py import it.

Every vector is (description, ingress port, packet, expectation). A forwarded
packet carries a unique marker in its payload, so each output frame is
matched to its input whatever the order; a dropped one is counted under its
reason, and the drop counters must equal the expected reasons exactly.
"""
import collections
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))

from scapy.all import Ether, Dot1Q, IP, IPv6, UDP, TCP, ICMP, ARP, Raw  # noqa: E402
from scapy.layers.inet6 import in6_chksum  # noqa: E402
from scapy.layers.vxlan import VXLAN  # noqa: E402
from scapy.utils import checksum  # noqa: E402

from sswitch import Daemon, Port  # noqa: E402

# ---- the world ---------------------------------------------------------------

HOST0, HOST1, FAB0, FAB1 = ("02:00:00:00:00:01", "02:00:00:00:00:02",
                            "02:00:00:00:00:aa", "02:00:00:00:00:bb")
SW_MAC = "02:00:00:00:ff:ff"
UL4, UL6, VIP4, VIP6 = "100.64.0.1", "fd00::1", "100.64.0.100", "fd00::100"
N1 = "02:00:00:00:0b:01"     # 100.64.1.0/24 via fabric0
N2A, N2B = "02:00:00:00:0b:2a", "02:00:00:00:0b:2b"   # 100.64.2.0/24 ECMP fabric0/1
N3 = "02:00:00:00:0b:03"     # fd00:1::/64 via fabric1
N4 = "02:00:00:00:0b:04"     # 192.168.0.0/16 via fabric1 (route action direct)
N5 = "02:00:00:00:0b:05"     # fd00:2::/64 via fabric0
FAB1_MTU = 1200

VM1 = "02:00:00:00:10:01"    # e1: host0 untagged, v1, rg1
VM2 = "02:00:00:00:10:02"    # e2: host0 VLAN 100, v1, rg1, dscp 46
VM3 = "02:00:00:00:10:03"    # e3: host1, admin down
VM4 = "02:00:00:00:10:04"    # e4: host0, v2, no route group, inbound routes
VM5 = "02:00:00:00:10:05"    # e5: host1 VLAN 7, v1, rg1
APP1 = "02:00:00:00:30:01"   # a1: appliance, v1, VM at 100.64.1.50 VNI 3001
APP6 = "02:00:00:00:30:06"   # a6: appliance, v1, VM at fd00:1::50 VNI 3006
M5, M6, M7, M8, M9 = ("02:00:00:00:20:05", "02:00:00:00:20:06", "02:00:00:00:20:07",
                      "02:00:00:00:20:08", "02:00:00:00:20:09")
MA, MB, MC = "02:00:00:00:20:0a", "02:00:00:00:20:0b", "02:00:00:00:20:0c"
HV = "02:00:00:00:0c:01"     # a host vSwitch / remote VTEP on the fabric


def op(method, **params):
    return {"method": method, "params": params}


def world():
    return [
        op("switch.set", underlay_ip=UL4, underlay_ip6=UL6, mac=SW_MAC),
        op("vip.add", ip=VIP4), op("vip.add", ip=VIP6),
        op("underlay_route.add", prefix="100.64.1.0/24", next_hops=[{"port": "fabric0", "mac": N1}]),
        op("underlay_route.add", prefix="100.64.2.0/24",
           next_hops=[{"port": "fabric0", "mac": N2A}, {"port": "fabric1", "mac": N2B}]),
        op("underlay_route.add", prefix="fd00:1::/64", next_hops=[{"port": "fabric1", "mac": N3}]),
        op("underlay_route.add", prefix="fd00:2::/64", next_hops=[{"port": "fabric0", "mac": N5}]),
        op("underlay_route.add", prefix="192.168.0.0/16", next_hops=[{"port": "fabric1", "mac": N4}]),
        op("vnet.add", name="v1", vni=1000, gateway_ip="10.0.0.1", gateway_ip6="fd10::1"),
        op("vnet.add", name="v2", vni=2000, gateway_ip="10.7.0.1"),
        op("direction.add", vni=3000),
        op("eni.add", name="e1", mac=VM1, vnet="v1", port="host0", route_group="rg1"),
        op("eni.add", name="e2", mac=VM2, vnet="v1", port="host0", vlan=100, route_group="rg1",
           dscp=46),
        op("eni.add", name="e3", mac=VM3, vnet="v1", port="host1", admin_state="down",
           route_group="rg1"),
        op("eni.add", name="e4", mac=VM4, vnet="v2", port="host0"),
        op("eni.add", name="e5", mac=VM5, vnet="v1", port="host1", vlan=7, route_group="rg1"),
        op("eni.add", name="a1", mac=APP1, vnet="v1", vm_underlay_ip="100.64.1.50", vm_vni=3001,
           route_group="rg1"),
        op("eni.add", name="a6", mac=APP6, vnet="v1", vm_underlay_ip="fd00:1::50", vm_vni=3006,
           route_group="rg1"),
        op("route.add", group="rg1", prefix="10.0.0.0/8", action="vnet"),
        op("route.add", group="rg1", prefix="10.9.0.0/16", action="drop"),
        op("route.add", group="rg1", prefix="10.8.0.0/16", action="vnet_direct", overlay_ip="10.0.0.5"),
        op("route.add", group="rg1", prefix="10.7.0.0/16", action="vnet", vnet="v2"),
        op("route.add", group="rg1", prefix="192.168.0.0/16", action="direct"),
        op("route.add", group="rg1", prefix="fd10::/32", action="vnet"),
        op("route.add", group="rg1", prefix="fd20::/16", action="vnet_direct", overlay_ip="fd10::6"),
        op("route.add", group="rg1", prefix="fd10:9::/48", action="drop"),
        op("mapping.add", vnet="v1", ip="10.0.0.5", underlay_ip="100.64.1.5", mac=M5),
        op("mapping.add", vnet="v1", ip="10.0.0.6", underlay_ip="fd00:1::6", mac=M6),
        op("mapping.add", vnet="v1", ip="fd10::5", underlay_ip="100.64.1.5", mac=M7),
        op("mapping.add", vnet="v1", ip="fd10::6", underlay_ip="fd00:1::6", mac=M8),
        op("mapping.add", vnet="v1", ip="10.0.0.7", underlay_ip="100.64.2.7", mac=M9),
        op("mapping.add", vnet="v1", ip="10.0.0.8", underlay_ip="100.65.0.8", mac=M9),
        op("mapping.add", vnet="v1", ip="10.0.0.10", underlay_ip="fd00:2::10", mac=MC),
        op("mapping.add", vnet="v1", ip="fd10::8", underlay_ip="fd00:9::8", mac=M9),
        op("mapping.add", vnet="v2", ip="10.7.0.9", underlay_ip="100.64.1.9", mac=MA,
           use_dst_vni=True),
        op("mapping.add", vnet="v2", ip="10.7.0.10", underlay_ip="100.64.1.10", mac=MB),
        # e4 (v2) has inbound routes: (VNI 2000, source 100.64.3.0/24)
        op("inbound_route.add", eni="e4", vni=2000, src_prefix="100.64.3.0/24", priority=10,
           action="decap"),
        op("inbound_route.add", eni="e4", vni=2000, src_prefix="100.64.3.0/24", priority=5,
           action="decap_pa_validate", vnet="v2"),
        op("inbound_route.add", eni="e4", vni=2000, src_prefix="100.64.3.128/25", priority=20,
           action="decap"),
        op("inbound_route.add", eni="e4", vni=2000, src_prefix="fd00:3::/64", priority=1,
           action="decap_pa_validate"),
        op("pa_validation.add", vnet="v2", underlay_ip="100.64.3.7"),
        op("pa_validation.add", vnet="v2", underlay_ip="fd00:3::7"),
    ]


def ports(host0=(), host1=(), fab0=(), fab1=()):
    return [Port("host0", "host", rx=list(host0), mac=HOST0),
            Port("host1", "host", rx=list(host1), mac=HOST1),
            Port("fabric0", "fabric", rx=list(fab0), mac=FAB0),
            Port("fabric1", "fabric", rx=list(fab1), mac=FAB1, mtu=FAB1_MTU)]


PORT_MAC = {"host0": HOST0, "host1": HOST1, "fabric0": FAB0, "fabric1": FAB1}

# ---- builders ----------------------------------------------------------------


def tag(i):
    return b"ovl-vector-%05d" % i


def frame(p):
    """A scapy packet as it is on the wire (checksums and lengths filled)."""
    return Ether(bytes(p))


def vm(src_mac, src, dst, i, vlan=None, tos=0, proto="udp", sport=1000, dport=80, ttl=64, pad=0):
    e = Ether(src=src_mac, dst=SW_MAC)
    if vlan is not None:
        e = e / Dot1Q(vlan=vlan)
    ip = IP(src=src, dst=dst, tos=tos, ttl=ttl) if ":" not in dst else \
        IPv6(src=src, dst=dst, tc=tos, hlim=ttl)
    l4 = UDP(sport=sport, dport=dport) if proto == "udp" else TCP(sport=sport, dport=dport, flags="S")
    return frame(e / ip / l4 / Raw(tag(i) + b"\x00" * pad))


def vxlan_in(outer_src, outer_dst, vni, inner, ecn=0, port_mac=FAB0, flags=0x08):
    if ":" in outer_dst:
        ip = IPv6(src=outer_src, dst=outer_dst, tc=ecn, hlim=60)
    else:
        ip = IP(src=outer_src, dst=outer_dst, tos=ecn, ttl=60)
    return frame(Ether(src=HV, dst=port_mac) / ip / UDP(sport=50000, dport=4789)
                 / VXLAN(vni=vni, flags=flags) / inner)


def tenant(src_mac, dst_mac, src, dst, i, tos=0, sport=1000, dport=80):
    ip = IPv6(src=src, dst=dst, tc=tos) if ":" in dst else IP(src=src, dst=dst, tos=tos)
    return Ether(src=src_mac, dst=dst_mac) / ip / UDP(sport=sport, dport=dport) / Raw(tag(i))


# ---- expectations ----------------------------------------------------------------

Drop = collections.namedtuple("Drop", "reason")


class Encap:
    """Expected VXLAN output: outer fields per SPEC 3.1 step 8."""

    def __init__(self, port, nh, src, dst, vni, inner_dst=None, dscp=None, inner=None):
        self.port, self.nh, self.src, self.dst, self.vni = port, nh, src, dst, vni
        self.inner_dst, self.dscp, self.inner = inner_dst, dscp, inner


class Plain:
    """Expected non-VXLAN output (a decapsulated frame, a reply, a routed
    frame): exact bytes, or a checker function(output, input)."""

    def __init__(self, port, expect):
        self.port, self.expect = port, expect


def untag(b):
    e = Ether(b)
    if Dot1Q in e:
        e = Ether(src=e.src, dst=e.dst, type=e[Dot1Q].type) / e[Dot1Q].payload
    return bytes(e)


def set_dst(b, mac):
    return bytes.fromhex(mac.replace(":", "")) + b[6:]


def vxlan_fields(out):
    """(outer IP layer, UDP layer, VXLAN flags, VNI, inner bytes) from raw bytes
    (scapy's VXLAN dissector guesses GPE flags)."""
    ip = out[IP] if out.type == 0x0800 else out[IPv6]
    udp = ip[UDP]
    pl = bytes(udp.payload)
    return ip, udp, pl[0], int.from_bytes(pl[4:7], "big"), pl[8:]


def check_encap(out, port, inp, exp):
    """Every outer field of SPEC 3.1 step 8; `inp` is the tenant frame that
    went in (bytes)."""
    assert port == exp.port, "egress %s, expected %s" % (port, exp.port)
    assert out.dst == exp.nh and out.src == PORT_MAC[port]
    ip, udp, flags, vni, inner = vxlan_fields(out)
    want_inner = exp.inner if exp.inner is not None else untag(inp)
    if exp.inner_dst:
        want_inner = set_dst(want_inner, exp.inner_dst)
    assert inner == want_inner, "inner frame differs"
    inner_ip = Ether(inner).payload
    tos = inner_ip.tos if isinstance(inner_ip, IP) else inner_ip.tc
    want_tos = (exp.dscp << 2 | (tos & 3)) if exp.dscp is not None else tos
    if out.type == 0x0800:
        assert ip.ttl == 64 and ip.flags == 0 and ip.frag == 0 and ip.proto == 17
        assert checksum(bytes(ip)[:ip.ihl * 4]) == 0, "outer IPv4 checksum"
        assert ip.tos == want_tos
        assert udp.chksum == 0
    else:
        assert ip.hlim == 64 and ip.nh == 17
        assert ip.tc == want_tos
        assert ip.fl != 0
        raw = bytearray(bytes(udp))
        raw[6:8] = b"\x00\x00"
        assert udp.chksum == in6_chksum(17, ip, bytes(raw)), "outer UDP checksum over IPv6"
    assert (ip.src, ip.dst) == (exp.src, exp.dst)
    assert udp.dport == 4789 and 49152 <= udp.sport <= 65535
    assert udp.len == 16 + len(inner)
    assert flags == 0x08 and vni == exp.vni


def marker_of(p):
    """The vector marker in a frame (VXLAN inner payload or plain payload)."""
    b = bytes(p)
    i = b.find(b"ovl-vector-")
    return int(b[i + 11:i + 16]) if i >= 0 else None


class Result:
    def __init__(self, d, names):
        self.out = {n: d.output(n) for n in names}
        self.drops = {k: v for k, v in d.final_stats["drops"].items() if v}
        self.stats = d.final_stats


def run(tmp_path, vectors, bootstrap=None, extra=None):
    """Send every vector once, return (Result, {index: (port, packet)})."""
    rx = {"host0": [], "host1": [], "fabric0": [], "fabric1": []}
    for i, v in enumerate(vectors):
        rx[v[1]].append(v[2])
    d = Daemon(tmp_path, ports(rx["host0"], rx["host1"], rx["fabric0"], rx["fabric1"]),
               bootstrap=bootstrap if bootstrap is not None else world())
    d.start()
    try:
        d.wait_rx(len(vectors))
        if extra:
            extra(d)
    finally:
        d.stop()
    res = Result(d, rx.keys())
    got = {}
    for port, pkts in res.out.items():
        for p in pkts:
            m = marker_of(p)
            if m is not None:
                assert m not in got, "vector %d forwarded twice" % m
                got[m] = (port, p)
    res.unmarked = [(port, p) for port, pkts in res.out.items() for p in pkts
                    if marker_of(p) is None]
    return res, got


class Vectors(list):
    """Table of (description, ingress port, packet, expectation); the packet
    builder gets the vector's index to use as its marker."""

    def add(self, desc, port, build, exp):
        self.append((desc, port, build(len(self)), exp))


def check_one(res, got, vec):
    """Check a forwarded vector against its Encap / Plain expectation."""
    desc, _port, pkt, exp = vec
    m = marker_of(pkt)
    assert m in got, "%s: not forwarded (drops %s)" % (desc, res.drops)
    port, out = got[m]
    if isinstance(exp, Encap):
        check_encap(out, port, exp_in(pkt), exp)
    else:
        assert port == exp.port, "%s: egress %s, expected %s" % (desc, port, exp.port)
        if callable(exp.expect):
            exp.expect(out, pkt)
        else:
            assert bytes(out) == exp.expect


def expected_drops(vectors):
    return dict(collections.Counter(v[3].reason for v in vectors if isinstance(v[3], Drop)))


def check_dropped(got, vectors):
    for desc, _port, pkt, exp in vectors:
        if isinstance(exp, Drop) and marker_of(pkt) is not None:
            assert marker_of(pkt) not in got, "%s: forwarded, expected drop %s" % (desc, exp.reason)


def exp_in(pkt):
    """The tenant frame of an input: itself, or the inner frame of VXLAN."""
    if UDP in pkt and pkt[UDP].dport == 4789:
        return bytes(pkt[UDP].payload)[8:]
    return bytes(pkt)


def ipv4_ok(b):
    ip = Ether(b)[IP]
    return checksum(bytes(ip)[:ip.ihl * 4]) == 0


def unpack_vni(b):
    return struct.unpack("!I", b"\x00" + b[4:7])[0]
