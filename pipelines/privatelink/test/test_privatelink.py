"""Private Link, outbound (SPEC 3.8; docs/privatelink.md), through the real
daemon: NAT46 toward a private endpoint, the PL NSG double encapsulation,
the drops, the counters, and the objects' validation.

One run carries every vector (marked, table-driven as the overlay tests).
Expected inner frames are built independently with scapy from the VM's
packet (addresses from the prefixes, TOS/TTL carried over, checksums
computed by scapy) and compared byte for byte; outer headers are checked by
the overlay's SPEC 3.1 step 8 checker.
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(REPO, "tests", "packet"))
sys.path.insert(0, os.path.join(REPO, "tests", "lib"))

import pytest  # noqa: E402
from scapy.all import ICMPv6EchoReply, ICMPv6EchoRequest, IPOption  # noqa: E402

from test_overlay_fixtures import (  # noqa: E402
    Drop, Encap, Ether, ICMP, IP, IPv6, N1, N4, Raw, SW_MAC, TCP, UDP, VM1, VM5, Vectors,
    checksum, check_encap, expected_drops, frame, marker_of, op, run, tag, vm, vxlan_fields,
    world)
from sswitch import RpcError  # noqa: E402

PL_IP = "100.64.0.50"            # e1's pl_underlay_ip
MP, MT, MM = "02:00:00:00:50:01", "02:00:00:00:50:02", "02:00:00:00:50:03"
SIP = "9988::"                    # overlay_sip 9988::/96
DIP = "1122:3344:5566:7788::303:301"   # overlay_dip /128 (DASH HLD example)
DIP96 = "1122:3344:5566:7788::"  # overlay_dip /96 of the tunnelled endpoint


def boot():
    return world() + [
        op("eni.set", name="e1", pl_underlay_ip=PL_IP),
        op("tunnel.add", name="t1", vni=4000, underlay_ips=["100.64.1.20", "100.64.1.21"]),
        op("tunnel.add", name="t2", vni=4001, underlay_ips=["192.168.5.5"]),
        op("mapping.add", vnet="v1", ip="10.0.1.1", underlay_ip="100.64.1.77", mac=MP,
           routing="privatelink", overlay_sip=SIP + "/96", overlay_dip=DIP + "/128", vni=5000),
        op("mapping.add", vnet="v1", ip="10.0.1.2", underlay_ip="100.64.1.78", mac=MT,
           routing="privatelink", overlay_sip=SIP + "/96", overlay_dip=DIP96 + "/96",
           tunnel="t1"),
        op("mapping.add", vnet="v1", ip="10.0.1.3", underlay_ip="100.64.1.79", mac=MM,
           routing="privatelink", overlay_sip=SIP + "/96", overlay_dip=DIP96 + "/96",
           tunnel="t2", vni=5003),
        op("mapping.add", vnet="v1", ip="fd10::77", underlay_ip="100.64.1.80", mac=MM,
           routing="privatelink", overlay_sip=SIP + "/96", overlay_dip=DIP + "/128"),
    ]


def v4(dst, i, l4=None, tos=0, ttl=64, src="10.0.0.1", mac=VM1, ip_extra=None, pad=b""):
    ip = IP(src=src, dst=dst, tos=tos, ttl=ttl, **(ip_extra or {}))
    if l4 is None:
        l4 = UDP(sport=1000, dport=80)
    return frame(Ether(src=mac, dst=SW_MAC) / ip / l4 / Raw(tag(i) + pad))


def a46(prefix, a4, whole=False):
    if whole:
        return prefix
    return prefix + "%x:%x" % tuple(int.from_bytes(bytes(map(int, a4.split(".")))[k:k + 2], "big")
                                     for k in (0, 2))


def nat46(pkt, inner_mac, dip, dip_whole):
    """The translated frame, built by scapy from the VM's packet."""
    ip = IP(bytes(pkt[IP])[:pkt[IP].len])     # without Ethernet padding
    l4 = ip.payload.copy()
    if isinstance(l4, ICMP):
        cls = ICMPv6EchoRequest if l4.type == 8 else ICMPv6EchoReply
        l4 = cls(id=l4.id, seq=l4.seq, data=bytes(l4.payload))
        nh = 58
    else:
        del l4.chksum
        nh = ip.proto
    six = IPv6(src=a46(SIP, ip.src), dst=a46(dip, ip.dst, dip_whole), tc=ip.tos, fl=0,
               hlim=ip.ttl, nh=nh) / l4
    return bytes(Ether(src=pkt.src, dst=inner_mac) / six)


V = Vectors()
OK = []     # (vector index, expected inner frame)


def pl(desc, build, inner_mac=MP, dip=DIP, whole=True, exp=None):
    idx = len(V)
    V.add(desc, "host0", build, exp or Encap("fabric0", N1, PL_IP, "100.64.1.77", 5000,
                                             inner=b""))
    OK.append((idx, nat46(V[idx][2], inner_mac, dip, whole)))


pl("UDP", lambda i: v4("10.0.1.1", i))
pl("UDP, checksum 0 (computed)", lambda i: v4("10.0.1.1", i, UDP(sport=1001, dport=80, chksum=0)))
pl("TCP SYN", lambda i: v4("10.0.1.1", i, TCP(sport=40000, dport=443, flags="S")))
pl("TCP, TOS and TTL carried over", lambda i: v4("10.0.1.1", i, TCP(sport=40001, dport=443,
                                                                      flags="A"), tos=0xb9, ttl=7))
pl("ICMP echo request -> ICMPv6 128", lambda i: v4("10.0.1.1", i, ICMP(type=8, id=77, seq=3)))
pl("ICMP echo reply -> ICMPv6 129", lambda i: v4("10.0.1.1", i, ICMP(type=0, id=78, seq=4)))
pl("IPv4 options dropped", lambda i: v4("10.0.1.1", i, ip_extra={
    "options": [IPOption(b"\x94\x04\x00\x00")]}))
pl("the same flow again (not cached: translated every time)", lambda i: v4("10.0.1.1", i))
pl("and a third time", lambda i: v4("10.0.1.1", i))
pl("Ethernet padding trimmed", lambda i: Ether(bytes(v4("10.0.1.1", i, UDP(sport=1002, dport=80)))
                                               + b"\x00" * 20))

T_FIRST = len(V)
pl("PL NSG: tunnelled endpoint, /96 overlay_dip", lambda i: v4("10.0.1.2", i),
   inner_mac=MT, dip=DIP96, whole=False, exp=Encap("fabric0", N1, PL_IP, None, 4000, inner=b""))
pl("PL NSG: another flow", lambda i: v4("10.0.1.2", i, UDP(sport=2000, dport=81)),
   inner_mac=MT, dip=DIP96, whole=False, exp=Encap("fabric0", N1, PL_IP, None, 4000, inner=b""))
T_LAST = len(V)
pl("PL NSG over fabric1 (MTU 1200), fits", lambda i: v4("10.0.1.3", i, pad=b"\x00" * 900),
   inner_mac=MM, dip=DIP96, whole=False,
   exp=Encap("fabric1", N4, PL_IP, "192.168.5.5", 4001, inner=b""))

V.add("PL NSG over fabric1: too big once translated and encapsulated twice", "host0",
      lambda i: v4("10.0.1.3", i, pad=b"\x00" * 1060), Drop("mtu_exceeded"))
V.add("other ICMP (destination unreachable)", "host0",
      lambda i: v4("10.0.1.1", i, ICMP(type=3, code=1)), Drop("nat_unsupported"))
V.add("a first fragment", "host0",
      lambda i: v4("10.0.1.1", i, ip_extra={"flags": "MF", "id": 99}), Drop("nat_unsupported"))
V.add("IPv6 packet to a private endpoint", "host0",
      lambda i: vm(VM1, "fd10::2", "fd10::77", i), Drop("nat_unsupported"))
V.add("ENI without pl_underlay_ip", "host1",
      lambda i: vm(VM5, "10.0.0.4", "10.0.1.1", i, vlan=7), Drop("nat_unsupported"))


def api(d):
    c = d.rpc()
    out = {}
    try:
        def err(method, params):
            try:
                c.call(method, params)
            except RpcError as e:
                return e
            return None
        base = {"vnet": "v1", "ip": "10.0.2.1", "underlay_ip": "100.64.1.90",
                "mac": "02:00:00:00:50:09", "routing": "privatelink",
                "overlay_sip": "9988::/96", "overlay_dip": DIP + "/128"}
        out["long_sip"] = err("mapping.add", dict(base, overlay_sip="9988::/100"))
        out["v4_dip"] = err("mapping.add", dict(base, overlay_dip="10.0.0.0/8"))
        out["no_dip"] = err("mapping.add", {k: v for k, v in base.items() if k != "overlay_dip"})
        out["not_pl"] = err("mapping.add", {"vnet": "v1", "ip": "10.0.2.2",
                                            "underlay_ip": "100.64.1.91", "mac": MP,
                                            "overlay_sip": "9988::/96"})
        out["no_tunnel"] = err("mapping.add", dict(base, tunnel="nope"))
        out["in_use"] = err("tunnel.delete", {"name": "t1"})
        out["bad_ip"] = err("tunnel.add", {"name": "t9", "vni": 9, "underlay_ips": ["1.2.3"]})
        out["bulk"] = c.call("mapping.add", {"entries": [
            dict(base, ip="10.0.3.%d" % k, overlay_dip=DIP96 + "/96") for k in range(1, 4)]})
        out["list"] = c.call("mapping.list", {"vnet": "v1"})
        out["tunnels"] = c.call("tunnel.list")
        out["state"] = c.call("state.get")
        want = len(OK)
        for _ in range(100):     # the last burst may still be in the graph
            out["stats"] = c.call("stats.get", {"scope": "all"})
            e1 = out["stats"].get("privatelink", {}).get("e1", {})
            if e1.get("pl_packets", 0) >= want:
                break
            time.sleep(0.02)
    finally:
        c.close()
    d.api = out


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    holder = {}

    def extra(d):
        api(d)
        holder["api"] = d.api
    res, got = run(tmp_path_factory.mktemp("pl"), V, bootstrap=boot(), extra=extra)
    return res, got, holder["api"]


def test_translated_frames_byte_exact(result):
    res, got, _ = result
    for idx, want in OK:
        desc, _p, pkt, exp = V[idx]
        assert marker_of(pkt) in got, "%s: not forwarded (drops %s)" % (desc, res.drops)
        port, out = got[marker_of(pkt)]
        if idx >= T_FIRST:
            continue     # double encapsulation: the tests below
        exp.inner = want
        check_encap(out, port, bytes(pkt), exp)


def check_middle(mid, dst, vni):
    """The inner VXLAN packet of the PL NSG double encapsulation (SPEC 3.1
    step 8, middle Ethernet from and to the switch MAC)."""
    assert mid.src == SW_MAC and mid.dst == SW_MAC
    ip, udp, flags, got_vni, inner = vxlan_fields(mid)
    assert ip.ttl == 64 and ip.flags == 0 and ip.frag == 0 and ip.proto == 17
    assert checksum(bytes(ip)[:ip.ihl * 4]) == 0
    assert (ip.src, ip.dst) == (PL_IP, dst)
    assert udp.dport == 4789 and 49152 <= udp.sport <= 65535 and udp.chksum == 0
    assert udp.len == 16 + len(inner)
    assert flags == 0x08 and got_vni == vni
    return inner


def test_pl_nsg_double_encapsulation(result):
    res, got, _ = result
    members = set()
    for idx, want in OK:
        if not T_FIRST <= idx < T_LAST:
            continue
        desc, _p, pkt, exp = V[idx]
        port, out = got[marker_of(pkt)]
        ip, _udp, _f, _vni, middle = vxlan_fields(out)
        assert ip.dst in ("100.64.1.20", "100.64.1.21"), desc
        members.add(ip.dst)
        exp.dst, exp.inner = ip.dst, middle
        check_encap(out, port, bytes(pkt), exp)
        inner = check_middle(Ether(middle), "100.64.1.78", 1000)
        assert inner == want, desc


def test_pl_nsg_mtu_on_final_size(result):
    res, got, _ = result
    idx = T_LAST
    desc, _p, pkt, exp = V[idx]
    port, out = got[marker_of(pkt)]
    ip, _udp, _f, _vni, middle = vxlan_fields(out)
    exp.inner = middle
    check_encap(out, port, bytes(pkt), exp)
    assert check_middle(Ether(middle), "100.64.1.79", 5003) == OK[-1][1]
    assert len(bytes(out)) - 14 <= 1200


def test_drops(result):
    res, got, _ = result
    want = expected_drops(V)
    for reason, n in want.items():
        assert res.drops.get(reason) == n, (reason, res.drops)
    for desc, _p, pkt, exp in V:
        if isinstance(exp, Drop):
            assert marker_of(pkt) not in got, desc


def test_counters(result):
    res, got, api_out = result
    pl_stats = api_out["stats"]["privatelink"]["e1"]
    fwd = [V[idx][2] for idx, _ in OK]
    assert pl_stats["pl_packets"] == len(fwd)
    assert pl_stats["pl_bytes"] == sum(len(bytes(p)) for p in fwd)
    assert "e5" not in api_out["stats"]["privatelink"]


def test_validation(result):
    a = result[2]
    for key, field in (("long_sip", "overlay_sip"), ("v4_dip", "overlay_dip"),
                       ("no_dip", "overlay_dip"), ("not_pl", "overlay_sip"),
                       ("bad_ip", "underlay_ips[0]")):
        e = a[key]
        assert e is not None and e.code == -32602 and e.data["field"] == field, (key, e)
    assert a["no_tunnel"].code == 1001 and a["no_tunnel"].data["field"] == "tunnel"
    assert a["in_use"].code == 1003


def test_bulk_list_and_state(result):
    a = result[2]
    ips = {m["ip"]: m for m in a["list"]["mappings"]}
    for k in range(1, 4):
        m = ips["10.0.3.%d" % k]
        assert m["routing"] == "privatelink" and m["overlay_dip"] == DIP96 + "/96"
    assert ips["10.0.1.2"]["tunnel"] == "t1"
    assert {t["name"] for t in a["tunnels"]["tunnels"]} == {"t1", "t2"}
    ops = a["state"]["ops"]
    methods = [o["method"] for o in ops]
    assert "tunnel.add" in methods
    assert methods.index("tunnel.add") < max(i for i, m in enumerate(methods)
                                             if m == "mapping.add")
    enis = [e for o in ops if o["method"] == "eni.add"
            for e in o["params"].get("entries", [o["params"]])]
    assert next(e for e in enis if e["name"] == "e1")["pl_underlay_ip"] == PL_IP


def test_node_on_the_outbound_arc(result):
    st = result[2]["stats"]
    assert st["nodes"]["pl_out"]["drops"]["nat_unsupported"] == 4
    assert st["drops"]["nat_unsupported"] == 4
