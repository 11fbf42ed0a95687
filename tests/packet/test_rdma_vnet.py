"""RDMA steering with `encap: vnet` (SPEC 3.7, outer headers per SPEC 3.1
step 8, decapsulation per SPEC 3.2 step 6): RoCEv2 from a GPU on host0 is
steered by policy p-vnet (ENI e1, VNET v1) into VXLAN toward the mapping of
its destination IP, out of fabric0 (lossless lane) to the policy's next hop.

Every output is checked field by field: the outer Ethernet / IP / UDP /
VXLAN headers, and the inner frame byte for byte against what `encap: none`
sends (DSCP rewritten, ECN kept, TTL decremented with the checksum) except
its Ethernet header: destination := the mapping's MAC, source kept, VLAN
tags removed. The ICRC recomputed on the inner frame still matches.

The round trip feeds one encapsulated output, its outer ECN set to CE, back
in on fabric0 (toward a VIP): the overlay's inbound path decapsulates it to
ENI e2 on host1 with the inner ECN CE (RFC 6040).
"""
import struct

import pytest
from scapy.all import Ether, Dot1Q, IP, IPv6, UDP
from scapy.layers.inet6 import in6_chksum
from scapy.layers.vxlan import VXLAN

from sswitch import Daemon, Port
from test_rdma import (GPU, GPU6, GPU_MAC, HOST_MAC, HOST1_MAC, RETH, W, CNP, icrc, psn_of,
                       roce4, roce6)

FAB0 = "02:00:00:00:00:aa"
SW_MAC = "02:00:00:00:ff:ff"
NH_FAB = "02:00:00:00:99:aa"
UL4, UL6, VIP4 = "100.64.0.1", "fd00::1", "100.64.0.100"
VM1, VM2 = "02:00:00:00:10:01", "02:00:00:00:10:02"
M5, M6 = "02:00:00:00:20:05", "02:00:00:00:20:06"
PA5, PA6 = "100.64.1.5", "fd00:1::6"
VNI = 1000


def op(method, **params):
    return {"method": method, "params": params}


WORLD = [
    op("switch.set", underlay_ip=UL4, underlay_ip6=UL6, mac=SW_MAC),
    op("vip.add", ip=VIP4),
    op("vnet.add", name="v1", vni=VNI),
    op("eni.add", name="e1", mac=VM1, vnet="v1", port="host0"),
    op("eni.add", name="e2", mac=VM2, vnet="v1", port="host1"),
    op("mapping.add", vnet="v1", ip="10.0.0.5", underlay_ip=PA5, mac=M5),
    op("mapping.add", vnet="v1", ip="10.0.0.6", underlay_ip=PA6, mac=M6),
    # the round trip: 10.0.0.100 is VM2 behind this switch's own VIP, and the
    # GPU's address is a mapping to the switch's underlay IP (inbound PA
    # validation of e2, which has no inbound routes, accepts that source)
    op("mapping.add", vnet="v1", ip="10.0.0.100", underlay_ip=VIP4, mac=VM2),
    op("mapping.add", vnet="v1", ip=GPU, underlay_ip=UL4, mac=VM1),
    op("mapping.add", vnet="v1", ip="fd10::5", underlay_ip=PA5, mac=M5),
    op("rdma.policy.add", name="p-vnet6", priority=10, match={"dst_prefix": "fd10::/32"},
       action={"port": "fabric0", "next_hop_mac": NH_FAB, "queue": "lossless",
               "encap": "vnet", "eni": "e1", "dscp": 30}),
    op("rdma.policy.add", name="p-vnet", priority=10, match={"dst_prefix": "10.0.0.0/16"},
       action={"port": "fabric0", "next_hop_mac": NH_FAB, "queue": "lossless",
               "encap": "vnet", "eni": "e1"}),
]


def ports(host0=(), fab0=()):
    return [Port("host0", "host", rx=list(host0), mac=HOST_MAC),
            Port("host1", "host", mac=HOST1_MAC),
            Port("fabric0", "fabric", rx=list(fab0), mac=FAB0, lossless_lane=True)]


def vectors():
    """(description, packet, expectation): {"pa", "mac", "dscp", "ecn"} or
    {"drop": reason}. PSNs are unique."""
    def enc(pa, mac, dscp=26, ecn=2):
        return {"pa": pa, "mac": mac, "dscp": dscp, "ecn": ecn}

    return [
        ("WRITE ECT(0) -> IPv4 PA", roce4(GPU, "10.0.0.5", W, 1, payload=RETH + b"w" * 64),
         enc(PA5, M5)),
        ("WRITE CE -> outer CE", roce4(GPU, "10.0.0.5", W, 2, payload=RETH + b"w" * 64,
                                       tos=0x03), enc(PA5, M5, ecn=3)),
        ("CNP: CNP DSCP inside and outside", roce4(GPU, "10.0.0.5", CNP, 3, payload=b"\0" * 16),
         enc(PA5, M5, dscp=48)),
        ("WRITE -> IPv6 PA", roce4(GPU, "10.0.0.6", W, 4, payload=RETH + b"6" * 32),
         enc(PA6, M6)),
        ("VLAN-tagged WRITE: inner untagged", roce4(GPU, "10.0.0.5", W, 5, payload=RETH,
                                                    vlan=10), enc(PA5, M5)),
        ("no mapping", roce4(GPU, "10.0.0.9", W, 6, payload=RETH), {"drop": "mapping_miss"}),
        ("WRITE to the VM behind the VIP", roce4(GPU, "10.0.0.100", W, 7, payload=RETH + b"r"),
         enc(VIP4, VM2)),
        ("IPv6 RoCE WRITE -> IPv4 PA", roce6(GPU6, "fd10::5", W, 9, payload=RETH + b"x" * 8,
                                             tc=0x01), enc(PA5, M5, dscp=30, ecn=1)),
        ("TTL 1", roce4(GPU, "10.0.0.5", W, 8, payload=RETH, ttl=1), {"drop": "ttl_exceeded"}),
    ]


def encap_none_frame(inb, dscp):
    """What `encap: none` transmits of the RoCE frame inb, from the IP header
    on (DSCP := dscp, ECN kept, TTL - 1, IPv4 checksum)."""
    p = Ether(inb)
    if IPv6 in p:
        ip = p[IPv6].copy()
        ip.tc = dscp << 2 | (ip.tc & 3)
        ip.hlim -= 1
        return bytes(ip)
    ip = p[IP].copy()
    ip.tos = dscp << 2 | (ip.tos & 3)
    ip.ttl -= 1
    del ip.chksum
    return bytes(IP(bytes(ip)))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    vec = vectors()
    d = Daemon(tmp_path_factory.mktemp("rdma_vnet"), ports(host0=[p for _, p, _ in vec]),
               bootstrap=WORLD)
    d.start()
    try:
        d.wait_rx(len(vec))
        rpc = d.rpc()
        pol = rpc.call("rdma.policy.get", {"name": "p-vnet"})
        rpc.close()
    finally:
        d.stop()
    outs = {}
    for q in (0, 1):
        for p in d.output("fabric0", q):
            b = bytes(p)
            inner = bytes(Ether(b)[VXLAN].payload)
            outs.setdefault(psn_of(inner)[0], []).append((q, b))
    for port in ("host0", "host1"):
        assert d.output(port) == [], "nothing leaves on %s" % port
    return {"d": d, "vec": vec, "outs": outs, "pol": pol}


@pytest.mark.parametrize("i", range(len(vectors())), ids=[v[0] for v in vectors()])
def test_vector(run, i):
    desc, pkt, want = run["vec"][i]
    inb = bytes(pkt)
    psn = psn_of(inb)[0]
    got = run["outs"].get(psn, [])
    if "drop" in want:
        assert got == [], desc
        return
    assert len(got) == 1, "%s: %d copies" % (desc, len(got))
    q, outb = got[0]
    assert q == 1, "%s: the lossless lane" % desc
    o = Ether(outb)
    # outer Ethernet: the policy's next hop, from the egress port's MAC, untagged
    assert (o.dst, o.src) == (NH_FAB, FAB0), desc
    assert Dot1Q not in o
    v6 = ":" in want["pa"]
    tos = want["dscp"] << 2 | want["ecn"]
    if v6:
        ip = o[IPv6]
        assert o.type == 0x86DD
        assert (ip.src, ip.dst, ip.nh, ip.hlim, ip.tc) == (UL6, want["pa"], 17, 64, tos), desc
        assert ip.fl != 0, "flow label from the flow hash, never 0"
        udp = o[UDP]
        raw_udp = bytes(udp)
        assert udp.chksum != 0
        zero = bytearray(raw_udp)
        zero[6:8] = b"\0\0"
        ck = in6_chksum(17, ip, bytes(zero))
        assert ck == udp.chksum or (ck == 0 and udp.chksum == 0xFFFF), "UDP checksum"
        assert ip.plen == len(raw_udp)
    else:
        ip = o[IP]
        assert o.type == 0x0800
        assert (ip.src, ip.dst, ip.proto, ip.ttl, ip.tos) == (UL4, want["pa"], 17, 64, tos), desc
        assert (ip.ihl, ip.flags, ip.frag) == (5, 0, 0), "DF clear, not a fragment"
        c = ip.copy()
        del c.chksum
        assert IP(bytes(c)).chksum == ip.chksum, "outer IPv4 checksum"
        udp = o[UDP]
        assert udp.chksum == 0, "no UDP checksum over IPv4 (RFC 7348)"
        assert ip.len == 20 + len(bytes(udp))
    assert udp.dport == 4789 and 49152 <= udp.sport <= 65535, desc
    vx = o[VXLAN]
    assert (vx.flags, vx.vni) == (0x08, VNI), desc
    assert bytes(vx)[:8] == struct.pack("!II", 0x08000000, VNI << 8)
    # inner: destination MAC := the mapping's, source kept, untagged; from the
    # IP header on exactly what encap none sends; ICRC still valid
    inner = bytes(vx.payload)
    assert udp.len == 16 + len(inner)
    assert inner[0:6] == bytes.fromhex(want["mac"].replace(":", "")), desc
    assert inner[6:12] == bytes.fromhex(GPU_MAC.replace(":", "")), "inner source MAC kept"
    in6 = IPv6 in Ether(inb)
    assert inner[12:14] == (b"\x86\xdd" if in6 else b"\x08\x00"), "inner untagged"
    assert inner[14:] == encap_none_frame(inb, want["dscp"]), desc
    ii = Ether(inner)
    l3 = 18 if Dot1Q in Ether(inb) else 14
    if in6:
        assert (ii[IPv6].tc & 3) == want["ecn"] and ii[IPv6].hlim == Ether(inb)[IPv6].hlim - 1
        assert ii[IPv6].fl == Ether(inb)[IPv6].fl
        assert inner[14 + 8:] == inb[l3 + 8:], "addresses, UDP, BTH, payload, ICRC identical"
    else:
        assert (ii[IP].tos & 3) == want["ecn"] and ii[IP].ttl == Ether(inb)[IP].ttl - 1
        assert inner[14 + 20:] == inb[l3 + 20:], "UDP, BTH, payload, ICRC byte-identical"
        assert inner[14 + 12:14 + 20] == inb[l3 + 12:l3 + 20], "IP addresses byte-identical"
    assert icrc(inner) == inner[-4:], "%s: ICRC of the inner no longer valid" % desc


def test_udp_source_port_per_flow(run):
    """The outer UDP source port comes from the inner flow hash: the same for
    every packet of one flow, whatever its ECN / opcode."""
    sports = {Ether(run["outs"][psn][0][1])[UDP].sport for psn in (1, 2, 3, 5)}
    assert len(sports) == 1


def test_counters_and_drops(run):
    st = run["d"].final_stats
    drops = st["drops"]
    assert drops.get("mapping_miss", 0) == 1
    assert drops.get("ttl_exceeded", 0) == 1
    pol = run["pol"]
    steered = [bytes(p) for _, p, w in run["vec"] if "drop" not in w and IPv6 not in p]
    assert (pol["packets"], pol["bytes"]) == (len(steered), sum(len(b) for b in steered))
    assert pol["action"]["encap"] == "vnet" and pol["action"]["eni"] == "e1"
    assert pol["lossless"] is True
    assert pol["offloaded"] is False


def test_round_trip_ecn_ce(run, tmp_path):
    """The encapsulated WRITE to 10.0.0.100 (PA = this switch's VIP), marked CE
    by the fabric, comes back in on fabric0: decapsulated to e2 on host1, the
    inner ECT(0) becomes CE (RFC 6040), nothing else of the RoCE packet
    changes and its ICRC is still valid."""
    _, outb = run["outs"][7][0]
    o = Ether(outb)
    assert o[IP].dst == VIP4 and o[IP].tos & 3 == 2
    assert Ether(bytes(o[VXLAN].payload))[IP].tos & 3 == 2, "inner ECT(0)"
    o[IP].tos = o[IP].tos | 3
    del o[IP].chksum
    o.dst, o.src = FAB0, NH_FAB
    back = Ether(bytes(o))
    d = Daemon(tmp_path, ports(fab0=[back]), bootstrap=WORLD)
    d.start()
    try:
        d.wait_rx(1)
    finally:
        d.stop()
    assert d.final_stats["drops"] == {} or sum(d.final_stats["drops"].values()) == 0, \
        d.final_stats["drops"]
    got = [bytes(p) for p in d.output("host1")]
    assert len(got) == 1
    inner_sent = bytes(back[VXLAN].payload)
    exp = Ether(inner_sent)
    exp[IP].tos = exp[IP].tos | 3
    del exp[IP].chksum
    assert got[0] == bytes(exp), "the inner frame, ECN CE, nothing else changed"
    assert Ether(got[0])[IP].tos == 26 << 2 | 3
    assert icrc(got[0]) == got[0][-4:], "ICRC still valid after the CE mark"
    assert d.output("host0") == [] and d.output("fabric0", 0) == [] and d.output("fabric0", 1) == []
