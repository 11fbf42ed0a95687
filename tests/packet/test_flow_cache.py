"""The flow-cached outbound transform (SPEC 3.6 design note,
docs/conntrack.md "Flow cache") under live table changes.

A packet of a known flow takes its flow's cached transform (route_out
applies it, straight to port_tx): these tests prove with the `flows` stats
counters that the flow was cached (flow_cache_fills, flow_cache_hits), that
what the cached path sends is the same frame the full path builds (every
outer field, SPEC 3.1 step 8), and that a table change made after the flow
was cached shows on the SAME flow's first packet after it: mapping moved,
route withdrawn, ACL now denying, ENI admin down, ECMP member removed,
underlay route changed; and the same for the route action `direct`.
"""
import os

import pytest
from scapy.layers.inet import IP
from scapy.layers.l2 import Ether
from scapy.utils import checksum

from test_overlay_control import Taps
from test_overlay_fixtures import (
    FAB0, Encap, M5, M9, MC, N1, UL4, UL6, VM1, VM2, check_encap, vm, world)

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists("/dev/net/tun"),
                                reason="TAP ports need root and /dev/net/tun")

NA = "02:00:00:00:0b:a1"
NB = "02:00:00:00:0b:b1"


@pytest.fixture
def taps(tmp_path):
    t = Taps(tmp_path, world()).start()
    yield t
    t.stop()


def to_5(i):
    """One flow: VM1 10.0.0.2:1000 -> 10.0.0.5:80 (UDP), ECN ECT(1) set."""
    return vm(VM1, "10.0.0.2", "10.0.0.5", i, tos=0x05)


def cache_stats(t):
    st = t.rpc.call("stats.get", {"scope": "flows"})["flows"]
    return st["flow_cache_hits"], st["flow_cache_fills"]


def warm(t, builder, exp, n=4):
    """Send n packets of the flow; every one must come out as `exp`, and
    the flow must have been cached (by its second packet: the one that
    opens a flow does not fill the cache, or earlier) and hit by the
    packets after that."""
    hits0, _ = cache_stats(t)
    for _ in range(n):
        p, o = t.out(builder)
        assert o is not None, "no output"
        check_encap(o, "fabric0", bytes(p), exp)
    hits, fills = cache_stats(t)
    assert fills > 0, "no transform was cached"
    assert hits >= hits0 + n - 2, "packets of a cached flow did not hit (%d -> %d)" % (hits0, hits)
    return o


def test_cached_frames_are_the_full_path_frames(taps):
    t = taps
    warm(t, to_5, Encap("fabric0", N1, UL4, "100.64.1.5", 1000, inner_dst=M5))
    # IPv6 underlay (flow label, UDP checksum over IPv6)
    warm(t, lambda i: vm(VM1, "10.0.0.2", "10.0.0.10", i, tos=0x02),
         Encap("fabric0", "02:00:00:00:0b:05", UL6, "fd00:2::10", 1000, inner_dst=MC))
    # a VLAN-tagged ENI with a pipe-mode DSCP: the tag goes, DSCP 46, ECN copied
    warm(t, lambda i: vm(VM2, "10.0.0.3", "10.0.0.5", i, vlan=100, tos=0x01),
         Encap("fabric0", N1, UL4, "100.64.1.5", 1000, inner_dst=M5, dscp=46))


def test_mapping_moved(taps):
    t, rpc = taps, taps.rpc
    warm(t, to_5, Encap("fabric0", N1, UL4, "100.64.1.5", 1000, inner_dst=M5))
    rpc.call("mapping.delete", {"vnet": "v1", "ip": "10.0.0.5"})
    rpc.call("mapping.add", {"vnet": "v1", "ip": "10.0.0.5", "underlay_ip": "100.64.1.55",
                             "mac": M9})
    p, o = t.out(to_5)
    check_encap(o, "fabric0", bytes(p), Encap("fabric0", N1, UL4, "100.64.1.55", 1000,
                                              inner_dst=M9))
    # and the new transform is cached in turn
    warm(t, to_5, Encap("fabric0", N1, UL4, "100.64.1.55", 1000, inner_dst=M9))


def test_route_withdrawn(taps):
    t, rpc = taps, taps.rpc
    warm(t, to_5, Encap("fabric0", N1, UL4, "100.64.1.5", 1000, inner_dst=M5))
    rpc.call("route.delete", {"group": "rg1", "prefix": "10.0.0.0/8"})
    t.dropped(to_5, "route_miss")


def test_acl_now_denying(taps):
    t, rpc = taps, taps.rpc
    rpc.call("acl_group.replace", {"name": "fc4", "family": "ipv4",
                                   "rules": [{"priority": 1, "action": "allow"}]})
    rpc.call("eni.set", {"name": "e1", "acl": {"outbound_v4": ["fc4"]}})
    warm(t, to_5, Encap("fabric0", N1, UL4, "100.64.1.5", 1000, inner_dst=M5))
    rpc.call("acl_group.replace", {"name": "fc4", "family": "ipv4", "rules": [
        {"priority": 1, "action": "deny", "dst": ["10.0.0.5/32"]},
        {"priority": 2, "action": "allow"}]})
    t.dropped(to_5, "acl_deny")


def test_eni_admin_down(taps):
    t, rpc = taps, taps.rpc
    warm(t, to_5, Encap("fabric0", N1, UL4, "100.64.1.5", 1000, inner_dst=M5))
    rpc.call("eni.set", {"name": "e1", "admin_state": "down"})
    t.dropped(to_5, "eni_admin_down")


def test_ecmp_member_removed(taps):
    t, rpc = taps, taps.rpc
    rpc.call("underlay_route.delete", {"prefix": "100.64.1.0/24"})
    rpc.call("underlay_route.add", {"prefix": "100.64.1.0/24", "next_hops": [
        {"port": "fabric0", "mac": NA}, {"port": "fabric0", "mac": NB}]})
    _, o = t.out(to_5)
    member = o.dst
    assert member in (NA, NB)
    warm(t, to_5, Encap("fabric0", member, UL4, "100.64.1.5", 1000, inner_dst=M5))
    other = NB if member == NA else NA
    rpc.call("underlay_route.delete", {"prefix": "100.64.1.0/24"})
    rpc.call("underlay_route.add", {"prefix": "100.64.1.0/24",
                                    "next_hops": [{"port": "fabric0", "mac": other}]})
    p, o = t.out(to_5)
    check_encap(o, "fabric0", bytes(p), Encap("fabric0", other, UL4, "100.64.1.5", 1000,
                                              inner_dst=M5))


def test_underlay_route_changed(taps):
    t, rpc = taps, taps.rpc
    warm(t, to_5, Encap("fabric0", N1, UL4, "100.64.1.5", 1000, inner_dst=M5))
    # a more specific underlay route with another next hop
    rpc.call("underlay_route.add", {"prefix": "100.64.1.5/32",
                                    "next_hops": [{"port": "fabric0", "mac": NA}]})
    p, o = t.out(to_5)
    check_encap(o, "fabric0", bytes(p), Encap("fabric0", NA, UL4, "100.64.1.5", 1000,
                                              inner_dst=M5))


def test_direct_route(taps):
    """The route action `direct` (no encapsulation, TTL decremented) is
    cached too: the next hop changes on the flow's next packet."""
    t, rpc = taps, taps.rpc
    rpc.call("underlay_route.delete", {"prefix": "192.168.0.0/16"})
    rpc.call("underlay_route.add", {"prefix": "192.168.0.0/16",
                                    "next_hops": [{"port": "fabric0", "mac": NA}]})

    def to_direct(i):
        return vm(VM1, "10.0.0.2", "192.168.1.1", i, ttl=9)

    def check(o, p, nh):
        assert o is not None, "no output"
        assert o.dst == nh and o.src == FAB0 and o.type == 0x0800
        want = IP(bytes(Ether(bytes(p)).payload))
        got = o.payload
        assert got.ttl == 8 and got.src == want.src and got.dst == want.dst
        assert checksum(bytes(got)[:20]) == 0, "IPv4 checksum"
        assert bytes(got.payload) == bytes(want.payload)

    hits0, _ = cache_stats(t)
    for _ in range(4):
        p, o = t.out(to_direct)
        check(o, p, NA)
    hits, fills = cache_stats(t)
    assert fills > 0 and hits >= hits0 + 2, (hits0, hits, fills)
    rpc.call("underlay_route.delete", {"prefix": "192.168.0.0/16"})
    rpc.call("underlay_route.add", {"prefix": "192.168.0.0/16",
                                    "next_hops": [{"port": "fabric0", "mac": NB}]})
    p, o = t.out(to_direct)
    check(o, p, NB)
    # TTL 1 on a cached flow: ttl_exceeded, as on the full path
    t.dropped(lambda i: vm(VM1, "10.0.0.2", "192.168.1.1", i, ttl=1), "ttl_exceeded")
