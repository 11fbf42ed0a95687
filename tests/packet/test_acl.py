"""ACL stages (SPEC 3.5) through sswitchd: pcap in -> pcap out.

Table-driven: every case is an ENI of its own (its own MAC on host0, its
own stage lists) and a few packets with the expected verdict. Outbound
packets enter host0 and must leave fabric0 VXLAN-encapsulated (to the
peer's PA) or be dropped `acl_deny`; inbound cases are VXLAN on fabric0 to
the ENI's MAC and must leave host0 or be dropped. Each packet has its own
5-tuple, so a flow opened by one never carries another (that is
test_conntrack*.py's subject); the output is compared per 5-tuple and the
acl_deny count, the ENIs' acl_drops and the rules' hit counters must match
exactly.

test_update_storm replaces all three stage groups of an ENI in one
transaction, a few hundred times, while traffic runs: rule sets A and B
give every test packet the same verdict (allow), and any mix of their
groups denies one of the two packet kinds (see storm_sets()).
"""
import time

from scapy.all import Ether, IP, IPv6, TCP, UDP, ICMP, Raw
from scapy.layers.vxlan import VXLAN

from sswitch import Daemon, Port
from test_acl_topo import (FAB_MAC, NH_MAC, PEER_MAC, PEER_PA, SW_MAC, UL_IP, VNI,
                           topology_ops)

PEERS4 = ["10.0.0.2", "10.0.0.3", "10.0.0.4"]
PEERS6 = ["fd10::2", "fd10::3"]


def g(*rules):
    """A group's rules: priorities 10, 20, ... in the order given."""
    out = []
    for i, r in enumerate(rules):
        r = dict(r)
        r.setdefault("priority", 10 * (i + 1))
        out.append(r)
    return out


ALLOW = {"action": "allow"}
DENY = {"action": "deny"}
SOFT_ALLOW = {"action": "allow", "terminating": False}
SOFT_DENY = {"action": "deny", "terminating": False}

GROUPS = {
    "allow_all": ("ipv4", g(ALLOW)),
    "deny_all": ("ipv4", g(DENY)),
    "soft_deny": ("ipv4", g(SOFT_DENY)),
    "soft_allow": ("ipv4", g(SOFT_ALLOW)),
    "empty": ("ipv4", []),
    "http_only": ("ipv4", g(dict(ALLOW, protocols=[6], dst_ports=[80]))),
    "prio": ("ipv4", g(dict(ALLOW, priority=20), dict(DENY, priority=10, dst=["10.0.0.3/32"]))),
    "range": ("ipv4", g(dict(ALLOW, dst_ports=["1000-2000"]))),
    "tcp_udp": ("ipv4", g(dict(ALLOW, protocols=[6, 17]))),
    "no_ssh": ("ipv4", g(dict(DENY, protocols=[6], dst_ports=[22]), ALLOW)),
    "src_lists": ("ipv4", g(dict(ALLOW, src=["10.9.0.0/16", "10.0.0.1/32"],
                                 dst=["10.0.0.4/32"], src_ports=[5000, "6000-6001"]))),
    "v6_one": ("ipv6", g(dict(ALLOW, src=["fd10::/64"], dst=["fd10::3/128"],
                              protocols=[17]))),
}

# (ENI, stages, [(description, direction, v6, proto, dst/src peer, sport, dport, passes)])
CASES = [
    ("e_none", {}, [
        ("no stage bound: allow", "out", 0, 6, "10.0.0.2", 1001, 80, True),
        ("no inbound stage: allow", "in", 0, 17, "10.0.0.2", 53, 1002, True),
    ]),
    ("e_allow", {"outbound_v4": ["allow_all"]}, [
        ("one stage allowing", "out", 0, 17, "10.0.0.2", 1003, 9, True),
    ]),
    ("e_soft", {"outbound_v4": ["soft_deny", "http_only"]}, [
        ("soft deny overridden by a terminating allow", "out", 0, 6, "10.0.0.2", 1004, 80, True),
        ("soft deny, then no match in stage 2: deny", "out", 0, 17, "10.0.0.2", 1005, 80, False),
    ]),
    ("e_empty", {"outbound_v4": ["soft_allow", "empty"]}, [
        ("soft allow, then a bound but empty stage: deny", "out", 0, 6, "10.0.0.2", 1006, 80,
         False),
    ]),
    ("e_softs", {"outbound_v4": ["soft_allow", "soft_deny"], "inbound_v4": ["soft_deny",
                                                                           "soft_allow"]}, [
        ("soft allow then soft deny: the last stands", "out", 0, 6, "10.0.0.2", 1007, 80, False),
        ("soft deny then soft allow: the last stands", "in", 0, 6, "10.0.0.2", 80, 1008, True),
    ]),
    ("e_term", {"outbound_v4": ["deny_all", "allow_all"]}, [
        ("a terminating deny ends evaluation", "out", 0, 6, "10.0.0.2", 1009, 80, False),
    ]),
    ("e_prio", {"outbound_v4": ["prio"]}, [
        ("lower priority number wins (deny)", "out", 0, 6, "10.0.0.3", 1010, 80, False),
        ("the other rule allows elsewhere", "out", 0, 6, "10.0.0.2", 1011, 80, True),
    ]),
    ("e_range", {"outbound_v4": ["range"]}, [
        ("below the range", "out", 0, 6, "10.0.0.2", 1012, 999, False),
        ("low end, inclusive", "out", 0, 6, "10.0.0.2", 1013, 1000, True),
        ("high end, inclusive", "out", 0, 17, "10.0.0.2", 1014, 2000, True),
        ("above the range", "out", 0, 17, "10.0.0.2", 1015, 2001, False),
    ]),
    ("e_proto", {"outbound_v4": ["tcp_udp"]}, [
        ("protocol listed", "out", 0, 17, "10.0.0.2", 1016, 7, True),
        ("protocol not listed (ICMP)", "out", 0, 1, "10.0.0.2", 1017, 0, False),
    ]),
    ("e_in", {"inbound_v4": ["no_ssh"]}, [
        ("inbound ssh denied", "in", 0, 6, "10.0.0.2", 40000, 22, False),
        ("inbound http allowed", "in", 0, 6, "10.0.0.2", 40001, 80, True),
    ]),
    ("e_lists", {"outbound_v4": ["src_lists"]}, [
        ("cross product: src /32, dst, src port 5000", "out", 0, 6, "10.0.0.4", 5000, 1, True),
        ("cross product: src port range end 6001", "out", 0, 6, "10.0.0.4", 6001, 1, True),
        ("src port outside the lists", "out", 0, 6, "10.0.0.4", 5999, 1, False),
        ("dst outside the list", "out", 0, 6, "10.0.0.3", 5000, 1, False),
    ]),
    ("e_v6", {"outbound_v6": ["v6_one"], "inbound_v6": ["empty6"]}, [
        ("IPv6 rule allows", "out", 1, 17, "fd10::3", 1018, 53, True),
        ("IPv6 destination outside the /128", "out", 1, 17, "fd10::2", 1019, 53, False),
        ("IPv6 protocol not listed", "out", 1, 6, "fd10::3", 1020, 53, False),
        ("IPv4 has no stage for this ENI: allow", "out", 0, 6, "10.0.0.2", 1021, 80, True),
        ("IPv6 inbound empty stage denies", "in", 1, 17, "fd10::2", 53, 1022, False),
    ]),
]
GROUPS["empty6"] = ("ipv6", [])


def eni_mac(i):
    return "02:00:00:00:10:%02x" % i


def case_ops():
    ops = topology_ops(groups=GROUPS)
    for ip in PEERS4[1:] + PEERS6[1:]:
        ops.append({"method": "mapping.add", "params": {
            "vnet": "v1", "ip": ip, "underlay_ip": PEER_PA, "mac": PEER_MAC}})
    for i, (name, stages, _) in enumerate(CASES):
        e = {"name": name, "mac": eni_mac(i), "vnet": "v1", "port": "host0", "route_group": "rg"}
        if stages:
            e["acl"] = stages
        ops.append({"method": "eni.add", "params": e})
    return ops


def l4_of(proto, sport, dport):
    if proto == 6:
        return TCP(sport=sport, dport=dport, flags="S")
    if proto == 17:
        return UDP(sport=sport, dport=dport) / Raw(b"x" * 8)
    return ICMP(type=8, id=sport) if proto == 1 else Raw(b"")


def vm_ip(v6):
    return "fd10::1" if v6 else "10.0.0.1"


def build(i, d, v6, proto, peer, sport, dport):
    """The frame of a case and its tenant packet's 5-tuple key."""
    if d == "out":
        ip = IPv6(src=vm_ip(v6), dst=peer) if v6 else IP(src=vm_ip(v6), dst=peer)
        return Ether(src=eni_mac(i), dst=SW_MAC) / ip / l4_of(proto, sport, dport)
    ip = IPv6(src=peer, dst=vm_ip(v6)) if v6 else IP(src=peer, dst=vm_ip(v6))
    return (Ether(src=NH_MAC, dst=FAB_MAC) / IP(src=PEER_PA, dst=UL_IP)
            / UDP(sport=49152, dport=4789) / VXLAN(vni=VNI)
            / Ether(src=PEER_MAC, dst=eni_mac(i)) / ip / l4_of(proto, sport, dport))


def key(pkt):
    ip = pkt[IP] if IP in pkt else pkt[IPv6]
    l4 = ip.payload
    return (ip.src, ip.dst, getattr(l4, "sport", getattr(l4, "id", None)),
            getattr(l4, "dport", None))


def test_stage_semantics(tmp_path):
    host_in, fab_in, expect = [], [], []
    for i, (name, _, vecs) in enumerate(CASES):
        for (desc, d, v6, proto, peer, sport, dport, passes) in vecs:
            f = Ether(bytes(build(i, d, v6, proto, peer, sport, dport)))
            (host_in if d == "out" else fab_in).append(f)
            inner = f[VXLAN].payload if d == "in" else f
            expect.append((name, desc, d, key(inner), passes))
    d = Daemon(tmp_path, [Port("host0", "host", rx=host_in),
                          Port("fabric0", "fabric", rx=fab_in, mac=FAB_MAC)],
               bootstrap=case_ops())
    d.start()
    try:
        d.wait_rx(len(host_in) + len(fab_in))
        rpc = d.rpc()
        eni_stats = rpc.call("stats.get", {"scope": "eni"})["eni"]
        acl_stats = rpc.call("stats.get", {"scope": "acl"})["acl"]
        rpc.close()
    finally:
        d.stop()
    out_fab = {key(p[VXLAN].payload) for p in d.output("fabric0") if VXLAN in p}
    out_host = {key(p) for p in d.output("host0") if IP in p or IPv6 in p}
    denied = {}
    for name, desc, direction, k, passes in expect:
        seen = k in (out_fab if direction == "out" else out_host)
        assert seen == passes, "%s: %s: %s" % (name, desc, "forwarded" if seen else "dropped")
        if not passes:
            denied[name] = denied.get(name, 0) + 1
    assert d.final_stats["drops"].get("acl_deny", 0) == sum(denied.values())
    for name, _, _ in CASES:
        assert eni_stats[name]["acl_drops"] == denied.get(name, 0), name
    # hit counters: the rule that decided each evaluated stage
    assert acl_stats["soft_deny"]["10"] == 4          # e_soft x2, e_softs out and in
    assert acl_stats["http_only"]["10"] == 1          # only the TCP/80 one matched
    assert acl_stats["prio"] == {"10": 1, "20": 1}
    assert acl_stats["range"]["10"] == 2
    assert acl_stats["src_lists"]["10"] == 2
    assert acl_stats["v6_one"]["10"] == 1
    assert acl_stats["deny_all"]["10"] == 1 and acl_stats["allow_all"]["10"] == 1
    assert acl_stats["soft_allow"]["10"] == 3         # e_softs x2, e_empty
    assert acl_stats["empty"] == {}


# ---- update storm --------------------------------------------------------------

def storm_sets():
    """Rule sets A and B for stages s1, s2, s3. Kind 7001 (UDP dst port)
    is allowed by A (s1: terminating allow) and by B (soft allow, soft
    allow, terminating allow in s3); kind 7002 likewise with the roles
    swapped. Every mix of the two sets' groups denies one kind: with s1
    from B and s2 or s3 from A, 7001 meets A's terminating deny; with s1
    from A and s2 or s3 from B, 7002 does."""
    def r(prio, port, action, term):
        return {"priority": prio, "action": action, "terminating": term,
                "protocols": [17], "dst_ports": [port]}
    a = {"s1": [r(10, 7001, "allow", True), r(20, 7002, "allow", False)],
         "s2": [r(10, 7001, "deny", True), r(20, 7002, "allow", False)],
         "s3": [r(10, 7001, "deny", True), r(20, 7002, "allow", True)]}
    b = {"s1": [r(10, 7001, "allow", False), r(20, 7002, "allow", True)],
         "s2": [r(10, 7001, "allow", False), r(20, 7002, "deny", True)],
         "s3": [r(10, 7001, "allow", True), r(20, 7002, "deny", True)]}
    return a, b


def replace_txn(rules):
    return {"ops": [{"method": "acl_group.replace", "params": {"name": n, "rules": rs}}
                    for n, rs in sorted(rules.items())]}


def test_update_storm(tmp_path):
    a, b = storm_sets()
    groups = {n: ("ipv4", rs) for n, rs in a.items()}
    ops = topology_ops(acl={"outbound_v4": ["s1", "s2", "s3"]}, groups=groups)
    # both kinds from many source ports, each a connection of its own: half
    # of them are tracked (max_flows) and re-checked after every change,
    # the other half finds the table full and is classified packet by packet
    pkts = [Ether(bytes(Ether(src="02:00:00:00:01:01", dst=SW_MAC)
                        / IP(src="10.0.0.1", dst="10.0.0.2")
                        / UDP(sport=10000 + i, dport=7001 + (i & 1)) / Raw(b"s" * 18)))
            for i in range(2048)]
    pcap = tmp_path / "storm.pcap"
    from scapy.all import wrpcap
    wrpcap(str(pcap), pkts)
    d = Daemon(tmp_path, [Port("host0", "host", kind="raw",
                               extra="net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap),
                          Port("fabric0", "fabric", kind="raw", mac=FAB_MAC,
                               extra="net_null0,no-rx=1")],
               bootstrap=ops, extra_conf="flows = { max_flows = 1024; };")
    d.start()
    try:
        rpc = d.rpc()
        time.sleep(0.3)
        rx0 = d.stats()["ports"]["host0"]["rx_packets"]
        n = 0
        t0 = time.time()
        while n < 300 or time.time() - t0 < 2.0:
            rpc.call("txn", replace_txn(b if n % 2 == 0 else a))
            n += 1
        st = d.stats()
        moved = st["ports"]["host0"]["rx_packets"] - rx0
        flows = rpc.call("stats.get", {"scope": "flows"})["flows"]
        # the storm did not stop forwarding, and no packet met a mixed set
        assert moved > 100000, moved
        assert st["drops"].get("acl_deny", 0) == 0, st["drops"]
        assert flows["rechecked"] > 0 and flows["flow_table_full"] > 100000, flows
        # the path is live: a set that denies 7001 is seen at once
        deny = {k: list(v) for k, v in a.items()}
        deny["s1"] = [dict(deny["s1"][0], action="deny")] + deny["s1"][1:]
        rpc.call("txn", replace_txn(deny))
        time.sleep(0.2)
        assert d.stats()["drops"].get("acl_deny", 0) > 0
        rpc.close()
    finally:
        d.stop()
