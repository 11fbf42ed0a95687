"""Cached deny verdicts of the flow fast path (docs/conntrack.md "Fast
path", "Cached deny"): a host-port packet of no flow that the outbound ACL
stages deny is remembered, and flow_fast drops the key's next packets
`acl_deny` itself while the ENI's ACL generation and the overlay
generation are those it was classified at and the flow table has no flow
for the key.

These tests prove with `flow_fast_deny_hits` that packets really took the
cached deny, that it counts exactly what the full path counts (compared
with a live trace armed, which sends every packet to parse), and that an
ACL change, an ENI or overlay change and a flow opened from the other side
all show on the key's next packet.
"""
import os

import pytest

from test_flow_cache import taps, to_5  # noqa: F401 - taps is a fixture
from test_flow_fast import inbound
from test_overlay_fixtures import M5, VIP4, VM1, tenant, vxlan_in

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists("/dev/net/tun"),
                                reason="TAP ports need root and /dev/net/tun")


def flows(t):
    return t.rpc.call("stats.get", {"scope": "flows"})["flows"]


def deny_hits(t):
    return flows(t)["flow_fast_deny_hits"]


def two_stage_deny(rpc):
    """e1 outbound: stage 1 remembers an allow (non-terminating), stage 2
    denies 10.0.0.5: two rules decide, both count a hit."""
    rpc.call("acl_group.replace", {"name": "d1", "family": "ipv4", "rules": [
        {"priority": 5, "action": "allow", "terminating": False, "dst": ["10.0.0.0/24"]},
        {"priority": 9, "action": "allow"}]})
    rpc.call("acl_group.replace", {"name": "d2", "family": "ipv4", "rules": [
        {"priority": 1, "action": "deny", "dst": ["10.0.0.5/32"]},
        {"priority": 2, "action": "allow"}]})
    rpc.call("eni.set", {"name": "e1", "acl": {"outbound_v4": ["d1", "d2"]}})


def snapshot(t, node="policy_out", port="host0"):
    """The counters a denied packet of e1 moves (outbound: policy_out
    drops it, host0 received it; inbound: policy_in, fabric0)."""
    st = t.rpc.call("stats.get", {"scope": "all"})
    e1 = st["eni"]["e1"]
    return {
        "drops": st["drops"].get("acl_deny", 0),
        "node_drops": st["nodes"].get(node, {}).get("drops", {}).get("acl_deny", 0),
        "flow_fast_drops": st["nodes"].get("flow_fast", {}).get("drops", {}).get("acl_deny", 0),
        "e1": (e1["rx_packets"], e1["rx_bytes"], e1["acl_drops"], e1["tx_packets"],
               e1["tx_bytes"]),
        "acl": {g: dict(r) for g, r in st["acl"].items()},
        "port": (st["ports"][port]["rx_packets"], st["ports"][port]["rx_bytes"],
                 st["ports"][port]["rx_dropped"]),
    }


def delta(a, b):
    out = {}
    for k in a:
        if k == "acl":
            out[k] = {g: {p: b[k][g][p] - a[k].get(g, {}).get(p, 0) for p in b[k][g]}
                      for g in b[k]}
        elif isinstance(a[k], tuple):
            out[k] = tuple(y - x for x, y in zip(a[k], b[k]))
        else:
            out[k] = b[k] - a[k]
    return out


def send_denied(t, n):
    before = t.drops().get("acl_deny", 0)
    for _ in range(n):
        t.n += 1
        t.send("host0", to_5(t.n))
    assert t.wait_drop("acl_deny", {"acl_deny": before + n - 1}), "not all %d dropped" % n
    # the last drop counted: every counter of the burst is in
    assert t.expect("fabric0", t.n, timeout=0.1) is None


def test_cached_deny_counts_what_the_full_path_counts(taps):
    t, rpc = taps, taps.rpc
    two_stage_deny(rpc)
    send_denied(t, 1)   # classified by policy_out: the verdict is cached
    n = 8
    h0, s0 = deny_hits(t), snapshot(t)
    send_denied(t, n)
    h1, s1 = deny_hits(t), snapshot(t)
    assert h1 == h0 + n, "denied packets did not take the cached deny (%d -> %d)" % (h0, h1)
    fast = delta(s0, s1)
    # a live trace that picks nothing sends every packet to parse
    rpc.call("trace.start", {"port": "host0", "filter": {"dst": "192.0.2.1"}})
    try:
        send_denied(t, n)
        h2, s2 = deny_hits(t), snapshot(t)
    finally:
        rpc.call("trace.stop")
    assert h2 == h1, "a packet took the fast path while a live trace was armed"
    full = delta(s1, s2)
    assert fast == full, "cached deny %s != full path %s" % (fast, full)
    assert fast["drops"] == n and fast["node_drops"] == n and fast["flow_fast_drops"] == 0
    assert fast["e1"][:1] + fast["e1"][2:] == (n, n, 0, 0)
    assert fast["acl"]["d1"]["5"] == n and fast["acl"]["d2"]["1"] == n
    assert fast["acl"]["d1"]["9"] == 0 and fast["acl"]["d2"]["2"] == 0


def test_acl_change_allows_next_packet(taps):
    t, rpc = taps, taps.rpc
    two_stage_deny(rpc)
    send_denied(t, 1)   # classified by policy_out: the verdict is cached
    send_denied(t, 2)
    h0 = deny_hits(t)
    assert h0 >= 2
    rpc.call("acl_group.replace", {"name": "d2", "family": "ipv4",
                                   "rules": [{"priority": 1, "action": "allow"}]})
    p, o = t.out(to_5)
    assert o is not None, "an ACL now allowing the flow did not forward its next packet"
    assert deny_hits(t) == h0


def test_overlay_and_eni_changes_take_the_full_path(taps):
    t, rpc = taps, taps.rpc
    two_stage_deny(rpc)
    send_denied(t, 1)   # classified by policy_out: the verdict is cached
    send_denied(t, 2)
    # an unrelated mapping: a new overlay generation, the ENI resolved again
    h0 = deny_hits(t)
    rpc.call("mapping.add", {"vnet": "v1", "ip": "10.0.0.99", "underlay_ip": "100.64.1.99",
                             "mac": "02:00:00:00:0c:99"})
    send_denied(t, 1)
    assert deny_hits(t) == h0, "a cached deny outlived an overlay change"
    send_denied(t, 2)
    assert deny_hits(t) == h0 + 2, "the deny was not cached again"
    # the ENI down: eni_admin_down from overlay_host, not the cached acl_deny
    h1 = deny_hits(t)
    rpc.call("eni.set", {"name": "e1", "admin_state": "down"})
    t.dropped(to_5, "eni_admin_down")
    assert deny_hits(t) == h1


def test_flow_opened_from_the_other_side_passes(taps):
    """e1 denies 10.0.0.5 outbound but allows it inbound: once 10.0.0.5
    opens the connection (VXLAN from the fabric), e1's replies pass by the
    flow, cached deny or not."""
    t, rpc = taps, taps.rpc
    two_stage_deny(rpc)
    send_denied(t, 1)   # classified by policy_out: the verdict is cached
    send_denied(t, 2)
    h0 = deny_hits(t)
    # 10.0.0.5:80 -> 10.0.0.2:1000 from the fabric: opens the flow
    p, o = inbound(t, lambda i: vxlan_in("100.64.1.5", VIP4, 1000, tenant(
        M5, VM1, "10.0.0.5", "10.0.0.2", i, sport=80, dport=1000)))
    assert o is not None, "the inbound packet was not delivered"
    # 10.0.0.2:1000 -> 10.0.0.5:80: the flow's reply
    p, o = t.out(to_5)
    assert o is not None, "a reply of a flow opened inbound was dropped by a cached deny"
    assert deny_hits(t) == h0


# ---- inbound: VXLAN from the fabric to e1, denied by its inbound ACL ------------------


def from_5_in(i):
    """10.0.0.5:1000 -> e1's VM 10.0.0.2:80, VXLAN from PA 100.64.1.5."""
    return vxlan_in("100.64.1.5", VIP4, 1000, tenant(M5, VM1, "10.0.0.5", "10.0.0.2", i))


def two_stage_deny_in(rpc):
    rpc.call("acl_group.replace", {"name": "i1", "family": "ipv4", "rules": [
        {"priority": 3, "action": "allow", "terminating": False, "src": ["10.0.0.0/24"]},
        {"priority": 4, "action": "allow"}]})
    rpc.call("acl_group.replace", {"name": "i2", "family": "ipv4", "rules": [
        {"priority": 7, "action": "deny", "src": ["10.0.0.5/32"]},
        {"priority": 8, "action": "allow"}]})
    rpc.call("eni.set", {"name": "e1", "acl": {"inbound_v4": ["i1", "i2"]}})


def send_denied_in(t, n):
    before = t.drops().get("acl_deny", 0)
    for _ in range(n):
        t.n += 1
        t.send("fabric0", from_5_in(t.n))
    assert t.wait_drop("acl_deny", {"acl_deny": before + n - 1}), "not all %d dropped" % n
    assert t.expect("host0", t.n, timeout=0.1) is None


def fast_vs_full(t, run, node, port):
    """Counter deltas of run() on the fast path, then with a live trace
    armed (every packet on the full path)."""
    s0 = snapshot(t, node, port)
    run()
    s1 = snapshot(t, node, port)
    t.rpc.call("trace.start", {"port": port, "filter": {"dst": "192.0.2.1"}})
    try:
        run()
        s2 = snapshot(t, node, port)
    finally:
        t.rpc.call("trace.stop")
    return delta(s0, s1), delta(s1, s2)


def test_inbound_cached_deny_counts_what_the_full_path_counts(taps):
    t, rpc = taps, taps.rpc
    two_stage_deny_in(rpc)
    send_denied_in(t, 1)
    n = 8
    h0 = deny_hits(t)
    fast, full = fast_vs_full(t, lambda: send_denied_in(t, n), "policy_in", "fabric0")
    assert deny_hits(t) == h0 + n, "inbound denied packets did not take the cached deny"
    assert fast == full, "cached deny %s != full path %s" % (fast, full)
    assert fast["drops"] == n and fast["node_drops"] == n and fast["flow_fast_drops"] == 0
    assert fast["e1"] == (0, 0, n, 0, 0)
    assert fast["acl"]["i1"]["3"] == n and fast["acl"]["i2"]["7"] == n


def test_inbound_delivery_counts_what_the_full_path_counts(taps):
    """An allowed inbound flow on the fast path moves the ENI's counters
    as the full path does (packets to the VM: tx only)."""
    t = taps
    for _ in range(4):
        assert inbound(t, from_5_in)[1] is not None

    def run():
        for _ in range(6):
            assert inbound(t, from_5_in)[1] is not None

    h0 = flows(t)["flow_fast_hits"]
    fast, full = fast_vs_full(t, run, "policy_in", "fabric0")
    assert flows(t)["flow_fast_hits"] >= h0 + 6
    assert fast["e1"] == full["e1"] and fast["port"] == full["port"], (fast, full)


def test_inbound_acl_change_allows_next_packet(taps):
    t, rpc = taps, taps.rpc
    two_stage_deny_in(rpc)
    send_denied_in(t, 1)
    send_denied_in(t, 2)
    h0 = deny_hits(t)
    assert h0 >= 2
    rpc.call("acl_group.replace", {"name": "i2", "family": "ipv4",
                                   "rules": [{"priority": 7, "action": "allow"}]})
    assert inbound(t, from_5_in)[1] is not None, "an inbound ACL now allowing did not deliver"
    assert deny_hits(t) == h0
    # and the other way: denying again, then the VIP withdrawn (overlay)
    rpc.call("acl_group.replace", {"name": "i2", "family": "ipv4",
                                   "rules": [{"priority": 7, "action": "deny"}]})
    send_denied_in(t, 1)   # the flow the allow opened, re-checked and revoked
    assert deny_hits(t) == h0, "a revocation was taken for a cached deny"
    send_denied_in(t, 1)   # no flow: classified, cached
    send_denied_in(t, 2)
    h1 = deny_hits(t)
    assert h1 == h0 + 2
    before = t.drops()
    rpc.call("vip.delete", {"ip": VIP4})
    t.n += 1
    t.send("fabric0", from_5_in(t.n))
    assert t.wait_drop("vip_miss", before)
    assert deny_hits(t) == h1
