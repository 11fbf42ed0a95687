"""The flow fast path (docs/conntrack.md "Fast path"): a packet of a cached
outbound flow goes from port_rx through flow_fast straight to port_tx.

These tests prove with the `flows` counters (flow_fast_hits,
flow_fast_fills) that packets really took the fast path before each check,
that the frames it sends are the frames the full path builds, that every
table change made while a flow is on the fast path shows on that flow's
next packet (mapping moved, route withdrawn, ACL now denying, ENI down,
ECMP member removed, rate limit set, a load balancer added to the VNET),
that TCP SYN/FIN/RST never take it,
and that two workers forward the same frames as one.
"""
import os
import struct
import sys

import pytest
from scapy.layers.inet import IP, TCP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.layers.vxlan import VXLAN
from scapy.packet import Raw
from scapy.utils import rdpcap

from sswitch import Daemon, Port
from test_flow_cache import NA, NB, taps, to_5  # noqa: F401 - taps is a fixture
from test_overlay_fixtures import (
    Encap, M5, M9, MC, N1, SW_MAC, UL4, UL6, VIP4, VM1, VM2, check_encap, frame, tag, tenant, vm,
    vxlan_in)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "bench"))
import pcapgen  # noqa: E402
import scenarios  # noqa: E402

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists("/dev/net/tun"),
                                reason="TAP ports need root and /dev/net/tun")


def fast_stats(t):
    st = t.rpc.call("stats.get", {"scope": "flows"})["flows"]
    return st["flow_fast_hits"], st["flow_fast_fills"]


def warm_fast(t, builder, exp, n=6):
    """n packets of one flow, each as `exp`: the flow is filled into the
    fast path by its third packet (the first opens the flow, the second
    fills its transform, the third is applied by route_out, which fills
    the fast path's entry), so at least the last n - 3 must be fast hits."""
    h0, f0 = fast_stats(t)
    for _ in range(n):
        p, o = t.out(builder)
        assert o is not None, "no output"
        check_encap(o, "fabric0", bytes(p), exp)
    h1, f1 = fast_stats(t)
    assert f1 > f0, "no fast path entry was written"
    assert h1 >= h0 + n - 3, "packets of a cached flow did not take the fast path (%d -> %d)" % (
        h0, h1)


def test_fast_frames_are_the_full_path_frames(taps):
    t = taps
    warm_fast(t, to_5, Encap("fabric0", N1, UL4, "100.64.1.5", 1000, inner_dst=M5))
    warm_fast(t, lambda i: vm(VM1, "10.0.0.2", "10.0.0.10", i, tos=0x02),
              Encap("fabric0", "02:00:00:00:0b:05", UL6, "fd00:2::10", 1000, inner_dst=MC))
    warm_fast(t, lambda i: vm(VM2, "10.0.0.3", "10.0.0.5", i, vlan=100, tos=0x01),
              Encap("fabric0", N1, UL4, "100.64.1.5", 1000, inner_dst=M5, dscp=46))


def _mapping_moved(t, rpc):
    rpc.call("mapping.delete", {"vnet": "v1", "ip": "10.0.0.5"})
    rpc.call("mapping.add", {"vnet": "v1", "ip": "10.0.0.5", "underlay_ip": "100.64.1.55",
                             "mac": M9})
    p, o = t.out(to_5)
    check_encap(o, "fabric0", bytes(p), Encap("fabric0", N1, UL4, "100.64.1.55", 1000,
                                              inner_dst=M9))


def _route_withdrawn(t, rpc):
    rpc.call("route.delete", {"group": "rg1", "prefix": "10.0.0.0/8"})
    t.dropped(to_5, "route_miss")


def _acl_now_denying(t, rpc):
    rpc.call("acl_group.replace", {"name": "ff4", "family": "ipv4", "rules": [
        {"priority": 1, "action": "deny", "dst": ["10.0.0.5/32"]},
        {"priority": 2, "action": "allow"}]})
    t.dropped(to_5, "acl_deny")


def _eni_down(t, rpc):
    rpc.call("eni.set", {"name": "e1", "admin_state": "down"})
    t.dropped(to_5, "eni_admin_down")


def _ecmp_member_removed(t, rpc):
    rpc.call("underlay_route.delete", {"prefix": "100.64.1.0/24"})
    rpc.call("underlay_route.add", {"prefix": "100.64.1.0/24",
                                    "next_hops": [{"port": "fabric0", "mac": NB}]})
    p, o = t.out(to_5)
    check_encap(o, "fabric0", bytes(p), Encap("fabric0", NB, UL4, "100.64.1.5", 1000,
                                              inner_dst=M5))


def _rate_limit_set(t, rpc):
    before = t.drops().get("rate_limited", 0)
    rpc.call("eni.set", {"name": "e1", "rate_limit_pps": 1})
    sent = 0
    for _ in range(5):
        t.n += 1
        t.send("host0", to_5(t.n))
        sent += 1
    assert t.wait_drop("rate_limited", {"rate_limited": before}), "the limit was not applied"


def _mapping_private_link(t, rpc):
    """The destination becomes a private endpoint (docs/privatelink.md) in
    one transaction: pl_out, which the fast path leaves out, must take the
    flow's next packet (NAT46, VXLAN from the ENI's pl_underlay_ip)."""
    rpc.call("txn", {"ops": [
        {"method": "eni.set", "params": {"name": "e1", "pl_underlay_ip": "100.64.0.50"}},
        {"method": "mapping.delete", "params": {"vnet": "v1", "ip": "10.0.0.5"}},
        {"method": "mapping.add", "params": {
            "vnet": "v1", "ip": "10.0.0.5", "underlay_ip": "100.64.1.77", "mac": M9,
            "routing": "privatelink", "overlay_sip": "9988::/96",
            "overlay_dip": "1122:3344:5566:7788::303:301/128", "vni": 5000}}]})
    p, o = t.out(to_5)
    assert o is not None, "no output"
    e = Ether(bytes(o))
    assert (e[IP].src, e[IP].dst, e[VXLAN].vni) == ("100.64.0.50", "100.64.1.77", 5000)
    inner = Ether(bytes(e[VXLAN].payload))
    assert inner.dst == M9 and inner[IPv6].src == "9988::a00:2"
    assert inner[IPv6].dst == "1122:3344:5566:7788::303:301"


def _lb_added(t, rpc):
    """A load balancer in the ENI's VNET (any VIP): lb_out must see the
    ENI's packets from then on (docs/lb.md), so the fast path, which
    remembers per ENI that it may leave lb_out out, must ask again."""
    rpc.call("lb.add", {"name": "web", "vnet": "v1", "vip": "10.0.9.100", "protocol": "tcp",
                        "port": 80, "table_size": 251})
    # several packets: the first after the change takes the full path in
    # any case (the commit moved the overlay generation) and writes the
    # flow's entries again; the later ones find those entries
    for _ in range(5):
        p, o = t.out(to_5)
        check_encap(o, "fabric0", bytes(p), Encap("fabric0", N1, UL4, "100.64.1.5", 1000,
                                                  inner_dst=M5))


CHANGES = {
    "mapping_moved": _mapping_moved,
    "mapping_private_link": _mapping_private_link,
    "route_withdrawn": _route_withdrawn,
    "acl_now_denying": _acl_now_denying,
    "eni_down": _eni_down,
    "ecmp_member_removed": _ecmp_member_removed,
    "rate_limit_set": _rate_limit_set,
    "lb_added": _lb_added,
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_change_seen_by_fast_flow(taps, change):
    t, rpc = taps, taps.rpc
    if change == "acl_now_denying":
        rpc.call("acl_group.replace", {"name": "ff4", "family": "ipv4",
                                       "rules": [{"priority": 1, "action": "allow"}]})
        rpc.call("eni.set", {"name": "e1", "acl": {"outbound_v4": ["ff4"]}})
    warm_fast(t, to_5, Encap("fabric0", N1, UL4, "100.64.1.5", 1000, inner_dst=M5))
    h0, _ = fast_stats(t)
    CHANGES[change](t, rpc)
    h1, _ = fast_stats(t)
    assert h1 == h0, "a packet took the fast path across a change (%s)" % change


def _tcp(i, flags, sport=3333):
    return frame(Ether(src=VM1, dst=SW_MAC) / IP(src="10.0.0.2", dst="10.0.0.5") /
                 TCP(sport=sport, dport=443, flags=flags, seq=1000 + i) / Raw(tag(i)))


def test_tcp_syn_fin_rst_take_the_full_path(taps):
    t, rpc = taps, taps.rpc

    def flows():
        return rpc.call("stats.get", {"scope": "flows"})["flows"]

    exp = Encap("fabric0", N1, UL4, "100.64.1.5", 1000, inner_dst=M5)
    p, o = t.out(lambda i: _tcp(i, "S"))
    check_encap(o, "fabric0", bytes(p), exp)
    warm_fast(t, lambda i: _tcp(i, "A"), exp)
    for flags in ("FA", "S", "PA"):
        h0, _ = fast_stats(t)
        p, o = t.out(lambda i, f=flags: _tcp(i, f))
        check_encap(o, "fabric0", bytes(p), exp)
        h1, _ = fast_stats(t)
        want = 1 if flags == "PA" else 0
        assert h1 == h0 + want, "%s: fast hits %d -> %d" % (flags, h0, h1)
    rst0 = flows()["removed_rst"]
    t.out(lambda i: _tcp(i, "R"))
    assert flows()["removed_rst"] == rst0 + 1, "the RST did not reach connection tracking"


# ---- inbound: VXLAN from the fabric, decapsulated to the ENI ---------------------


def from_5(i, ecn=0, inner_tos=0, src_pa="100.64.1.5", vlan_vm=False, sport=1000):
    """VM 10.0.0.5 (PA 100.64.1.5) -> e1's VM 10.0.0.2 (or e2's, tagged)."""
    dst = VM2 if vlan_vm else VM1
    return vxlan_in(src_pa, VIP4, 1000, tenant(M5, dst, "10.0.0.5", "10.0.0.2", i, tos=inner_tos,
                                               sport=sport), ecn=ecn)


def inbound(t, builder):
    """Send a marked VXLAN frame on fabric0; what host0 sends (or None)."""
    t.n += 1
    p = builder(t.n)
    t.send("fabric0", p)
    return p, t.expect("host0", t.n)


def warm_in(t, builder, n=6, vlan=None):
    h0, f0 = fast_stats(t)
    for _ in range(n):
        p, o = inbound(t, builder)
        assert o is not None, "no output"
        want = bytes(Ether(bytes(p))[VXLAN].payload)
        got = bytes(o)
        if vlan is not None and got[12:14] == b"\x81\x00":
            # (a TAP's packet socket may hand the tag over out of band)
            assert struct.unpack("!H", got[14:16])[0] & 0xfff == vlan
            got = got[:12] + got[16:]
        assert got == want, "the delivered frame is not the inner frame"
    h1, f1 = fast_stats(t)
    assert f1 > f0, "no fast path entry was written"
    assert h1 >= h0 + n - 3, "inbound packets did not take the fast path (%d -> %d)" % (h0, h1)


def test_inbound_fast_frames(taps):
    warm_in(taps, from_5)
    warm_in(taps, lambda i: from_5(i, vlan_vm=True), vlan=100)
    # ECN the decapsulation keeps (outer ECT(0) on inner ECT(0)) stays fast
    warm_in(taps, lambda i: from_5(i, ecn=2, inner_tos=2, sport=1001))


def _in_dropped(t, builder, reason):
    before = t.drops()
    h0, _ = fast_stats(t)
    t.n += 1
    t.send("fabric0", builder(t.n))
    assert t.wait_drop(reason, before), "no %s drop" % reason
    assert t.expect("host0", t.n, timeout=0.1) is None
    assert fast_stats(t)[0] == h0


def test_inbound_changes_and_ecn_take_the_full_path(taps):
    t, rpc = taps, taps.rpc
    warm_in(t, from_5)
    # CE on a not-ECT tenant packet: the full path drops it (RFC 6040)
    _in_dropped(t, lambda i: from_5(i, ecn=3), "ecn_ce_not_ect")
    # CE on ECT(0): the full path rewrites the tenant ECN to CE
    h0, _ = fast_stats(t)
    p, o = inbound(t, lambda i: from_5(i, ecn=3, inner_tos=2))
    assert o is not None and o[IP].tos & 3 == 3 and fast_stats(t)[0] == h0
    # a PA the VNET does not know: pa_validation_fail, not the cached delivery
    _in_dropped(t, lambda i: from_5(i, src_pa="100.64.1.77"), "pa_validation_fail")
    # the VIP withdrawn
    rpc.call("vip.delete", {"ip": VIP4})
    _in_dropped(t, from_5, "vip_miss")
    rpc.call("vip.add", {"ip": VIP4})
    warm_in(t, from_5)
    # an inbound ACL now denying
    rpc.call("acl_group.replace", {"name": "fi4", "family": "ipv4", "rules": [
        {"priority": 1, "action": "deny", "src": ["10.0.0.5/32"]}]})
    rpc.call("eni.set", {"name": "e1", "acl": {"inbound_v4": ["fi4"]}})
    _in_dropped(t, from_5, "acl_deny")
    rpc.call("eni.set", {"name": "e1", "acl": {"inbound_v4": []}})
    warm_in(t, from_5)
    # the ENI down
    rpc.call("eni.set", {"name": "e1", "admin_state": "down"})
    _in_dropped(t, from_5, "eni_admin_down")


# ---- 1 worker and 2 workers: the same frames ----------------------------------


def _queues(tmp, nflows, reps):
    """Per rx queue of 2 workers: flow i's frames on queue i % 2; every
    flow once, `reps` times over (a flow's packets in different bursts, so
    that its later ones find it cached); and the whole sequence for one
    worker."""
    frames = list(pcapgen.outbound_frames(nflows, nmappings=4096, enis=16))
    one = [f for _ in range(reps) for f in frames]
    qs = [[f for _ in range(reps) for k, f in enumerate(frames) if k % 2 == q] for q in (0, 1)]
    paths = {}
    for name, fr in (("all", one), ("q0", qs[0]), ("q1", qs[1])):
        paths[name] = os.path.join(str(tmp), "in-%s.pcap" % name)
        pcapgen.write_pcap(paths[name], fr)
    return paths, len(one)


def _run(tmp, paths, n, workers):
    os.makedirs(str(tmp), exist_ok=True)
    rx = "rx_pcap=" + paths["all"] if workers == 1 else \
        "rx_pcap=%s,rx_pcap=%s" % (paths["q0"], paths["q1"])
    empty = os.path.join(str(tmp), "empty.pcap")
    pcapgen.write_pcap(empty, [])
    outs = [os.path.join(str(tmp), "out%d.pcap" % q) for q in range(workers)]
    ports = [Port("host0", "host", kind="raw", extra="net_pcap0,%s" % rx),
             Port("fabric0", "fabric", kind="raw", mac="02:00:00:00:00:aa",
                  extra="net_pcap1,rx_pcap=%s,%s" % (empty, ",".join("tx_pcap=" + o for o in outs)))]
    boot = scenarios._outbound_ops(nroutes=64, nmappings=4096, enis=16)
    kw = {"workers": (1, 2), "lcores_map": "0@0,1@1,2@0"} if workers == 2 else {}
    d = Daemon(tmp, ports, bootstrap=boot, mem_mb=1024, **kw)
    d.start(timeout=120)
    d.wait_rx(n, timeout=60)
    rpc = d.rpc()
    flows = rpc.call("stats.get", {"scope": "flows"})["flows"]
    rpc.close()
    d.stop()
    got = []
    for o in outs:
        for f in rdpcap(o):
            b = bytearray(bytes(f))
            b[18:20] = b"\0\0"   # the outer IPv4 identification is per worker
            b[24:26] = b"\0\0"   # and so is the header checksum over it
            got.append(bytes(b))
    return sorted(got), flows


def test_two_workers_forward_the_same_frames_as_one(tmp_path):
    paths, n = _queues(tmp_path, nflows=256, reps=6)
    one, f1 = _run(tmp_path / "w1", paths, n, 1)
    two, f2 = _run(tmp_path / "w2", paths, n, 2)
    assert len(one) == n, "one worker sent %d of %d frames" % (len(one), n)
    assert f1["flow_fast_hits"] > 0 and f2["flow_fast_hits"] > 0, (f1, f2)
    assert one == two, "2 workers sent other frames than 1"
    # the outer header really is the encapsulation (not a pass-through)
    ip = IP(one[0][14:])
    assert ip.proto == 17 and struct.unpack("!H", one[0][36:38])[0] == 4789


def test_far_more_flows_than_entries_bypass_the_exact_match_table(tmp_path):
    """20,000 flows (the exact-match table holds 8192 per worker), three
    times over: in the third pass every fast-path hit comes from the flow
    table, so after a window of bursts the exact-match probe and fill are
    switched off (flow_fast_emc_bypassed) and known flows are taken from
    the flow table directly; every flow's three frames (full path, full
    path filling its transform, fast path) are the same frame."""
    nflows, reps = 20000, 3
    frames = list(pcapgen.outbound_frames(nflows, nmappings=4096, enis=16))
    path = str(tmp_path / "in-all.pcap")
    pcapgen.write_pcap(path, [f for _ in range(reps) for f in frames])
    got, st = _run(tmp_path / "w1", {"all": path}, nflows * reps, 1)
    assert len(got) == nflows * reps, "%d of %d frames sent" % (len(got), nflows * reps)
    assert st["flow_fast_emc_bypassed"] > nflows // 2, st
    assert st["flow_fast_table_hits"] > nflows // 2, st
    distinct = sorted(set(got))
    assert len(distinct) == nflows, "%d distinct frames for %d flows" % (len(distinct), nflows)
    assert got == sorted(f for f in distinct for _ in range(reps)), \
        "a flow's frames differ between the full path and the fast path"
