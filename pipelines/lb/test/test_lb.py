"""The L4 load balancer (SPEC 3.9, docs/lb.md) through the real daemon, on
TAP ports: the DNAT of a VM's packets to the backend the weighted Maglev
table picks and the reverse SNAT of the backend's replies, compared byte
for byte with frames scapy builds (TCP and UDP, checksums recomputed by
scapy); every packet of a connection after the first DNATed too (the flow
fast path stays off for the ENIs of an LB's VNET); the ACLs seeing the VIP;
draining, down and lb_no_backend; no established connection moving when a
weight changes; and the objects: validation with data.field, lb.list's
runtime fields, lb.report, lb.config, state.get, stats scope lb.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(REPO, "tests", "packet"))
sys.path.insert(0, os.path.join(REPO, "tests", "lib"))

import pytest  # noqa: E402
from scapy.all import Ether, IP, TCP, UDP, Raw  # noqa: E402

from sswitch import RpcError  # noqa: E402
from test_overlay_control import Taps  # noqa: E402
from test_overlay_fixtures import (  # noqa: E402
    Encap, N1, SW_MAC, UL4, VIP4, VM1, check_encap, frame, op, tag, vxlan_fields, vxlan_in, world)

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists("/dev/net/tun"),
                                reason="TAP ports need root and /dev/net/tun")

VIP = "10.0.9.100"
CLIENT = "10.0.0.2"               # e1's VM (VM1)
# backend overlay address -> (underlay address, inner MAC)
BACKENDS = {
    "10.0.5.1": ("100.64.1.61", "02:00:00:00:61:01"),
    "10.0.5.2": ("100.64.1.62", "02:00:00:00:61:02"),
    "10.0.5.3": ("100.64.1.63", "02:00:00:00:61:03"),
}
BY_PA = {pa: ip for ip, (pa, _mac) in BACKENDS.items()}


def boot():
    ops = world()
    for ip, (pa, mac) in BACKENDS.items():
        ops.append(op("mapping.add", vnet="v1", ip=ip, underlay_ip=pa, mac=mac))
    ops += [
        op("lb.add", name="web", vnet="v1", vip=VIP, protocol="tcp", port=80, backend_port=8080,
           table_size=4099, backends=[{"ip": ip} for ip in BACKENDS]),
        op("lb.add", name="dns", vnet="v1", vip=VIP, protocol="udp", port=53, table_size=251,
           backends=[{"ip": "10.0.5.1"}, {"ip": "10.0.5.2", "weight": 3}]),
    ]
    return ops


@pytest.fixture
def lb(tmp_path):
    t = Taps(tmp_path, boot()).start()
    yield t
    t.stop()


def tcp_from_vm(i, sport, flags="A", dport=80):
    return frame(Ether(src=VM1, dst=SW_MAC) / IP(src=CLIENT, dst=VIP)
                 / TCP(sport=sport, dport=dport, flags=flags, seq=1000, ack=7) / Raw(tag(i)))


def udp_from_vm(i, sport, dport=53):
    return frame(Ether(src=VM1, dst=SW_MAC) / IP(src=CLIENT, dst=VIP)
                 / UDP(sport=sport, dport=dport) / Raw(tag(i)))


def dnat(pkt, backend, port):
    """The VM's frame as the backend must get it: destination rewritten,
    checksums computed by scapy, inner destination MAC the mapping's."""
    e = Ether(bytes(pkt))
    e.dst = BACKENDS[backend][1]
    e[IP].dst = backend
    del e[IP].chksum
    l4 = e[TCP] if TCP in e else e[UDP]
    l4.dport = port
    del l4.chksum
    return bytes(Ether(bytes(e)))


def send_out(t, builder):
    """Send a marked frame from VM1; (frame, backend overlay address, output)."""
    p, o = t.out(builder)
    assert o is not None, "not forwarded (drops %s)" % t.drops()
    ip, _udp, _flags, _vni, _inner = vxlan_fields(o)
    assert ip.dst in BY_PA, "sent to %s, not a backend" % ip.dst
    return p, BY_PA[ip.dst], o


def check_dnat(p, backend, o, port):
    check_encap(o, "fabric0", bytes(p), Encap("fabric0", N1, UL4, BACKENDS[backend][0], 1000,
                                                inner=dnat(p, backend, port)))


def backend_of(t, sport):
    """The backend a TCP packet from VM1's port `sport` goes to (the first
    of each port is a SYN: conntrack opens flows on those)."""
    seen = t.__dict__.setdefault("opened", set())
    flags = "A" if sport in seen else "S"
    seen.add(sport)
    return send_out(t, lambda i: tcp_from_vm(i, sport, flags=flags))[1]


def lb_backends(t, name="web"):
    r = t.rpc.call("lb.get", {"name": name})
    return {b["ip"]: b for b in r["backends"]}


# ---- the data path -------------------------------------------------------------------


def test_dnat_and_reverse_snat_byte_exact(lb):
    t = lb
    # TCP: SYN, then the rest of the connection, every packet DNATed: the
    # flow's cached transform (route_out) applies to them, the flow fast
    # path (which would skip lb_out) never does
    flows0 = t.rpc.call("stats.get", {"scope": "flows"})["flows"]
    p, be, o = send_out(t, lambda i: tcp_from_vm(i, 40000, flags="S"))
    check_dnat(p, be, o, 8080)
    for _ in range(6):
        p, be2, o = send_out(t, lambda i: tcp_from_vm(i, 40000))
        assert be2 == be, "a packet of the connection went to another backend"
        check_dnat(p, be, o, 8080)
    flows1 = t.rpc.call("stats.get", {"scope": "flows"})["flows"]
    assert flows1["flow_cache_hits"] >= flows0["flow_cache_hits"] + 4
    assert flows1["flow_fast_hits"] == flows0["flow_fast_hits"]
    # the backend's reply: source restored to the VIP, byte for byte
    t.n += 1
    reply = Ether(src=BACKENDS[be][1], dst=VM1) / IP(src=be, dst=CLIENT) / TCP(
        sport=8080, dport=40000, flags="SA", seq=5, ack=1001) / Raw(tag(t.n))
    t.send("fabric0", vxlan_in(BACKENDS[be][0], VIP4, 1000, reply))
    got = t.expect("host0", t.n)
    assert got is not None, "reply not delivered (drops %s)" % t.drops()
    want = Ether(bytes(reply))
    want[IP].src = VIP
    want[TCP].sport = 80
    del want[IP].chksum
    del want[TCP].chksum
    assert bytes(got) == bytes(Ether(bytes(want))), "reverse SNAT differs"
    # UDP, backend_port defaulting to port
    p, be, o = send_out(t, lambda i: udp_from_vm(i, 5000))
    check_dnat(p, be, o, 53)
    for _ in range(5):
        p, be2, o = send_out(t, lambda i: udp_from_vm(i, 5000))
        assert be2 == be
        check_dnat(p, be, o, 53)
    t.n += 1
    reply = Ether(src=BACKENDS[be][1], dst=VM1) / IP(src=be, dst=CLIENT) / UDP(
        sport=53, dport=5000) / Raw(tag(t.n))
    t.send("fabric0", vxlan_in(BACKENDS[be][0], VIP4, 1000, reply))
    got = t.expect("host0", t.n)
    assert got is not None, "UDP reply not delivered (drops %s)" % t.drops()
    want = Ether(bytes(reply))
    want[IP].src = VIP
    del want[IP].chksum
    del want[UDP].chksum
    assert bytes(got) == bytes(Ether(bytes(want)))
    # a reply from a backend without a session is not rewritten
    t.n += 1
    stray = Ether(src=BACKENDS[be][1], dst=VM1) / IP(src=be, dst=CLIENT) / UDP(
        sport=53, dport=5999) / Raw(tag(t.n))
    t.send("fabric0", vxlan_in(BACKENDS[be][0], VIP4, 1000, stray))
    got = t.expect("host0", t.n)
    assert got is not None and got[IP].src == be
    # the packet trace names the VIP and the backend
    tr = t.rpc.call("trace.packet", {"port": "host0",
                                     "frame": bytes(tcp_from_vm(1, 40999, flags="S")).hex()})
    step = [s for s in tr["steps"] if s["node"] == "lb_out"][0]
    assert step["lb"]["vip"] == VIP + ":80" and step["lb"]["backend"].endswith(":8080"), step
    # counters: connections, packets both ways (the traced packet opened one)
    st = t.rpc.call("stats.get", {"scope": "lb"})["lb"]
    assert sum(b["connections"] for b in st["web"].values()) == 2
    assert sum(b["packets"] for b in st["web"].values()) == 9
    assert sum(b["connections"] for b in st["dns"].values()) == 1
    assert sum(b["packets"] for b in st["dns"].values()) == 7


def test_acl_sees_the_vip(lb):
    t, rpc = lb, lb.rpc
    rpc.call("txn", {"ops": [
        op("acl_group.add", name="g1", family="ipv4"),
        # denying the backends' addresses does not stop the LB's traffic ...
        op("acl_rule.add", group="g1", priority=10, action="deny",
           dst=["10.0.5.0/24"], protocols=[6]),
        # ... denying the VIP's port 80 does
        op("acl_rule.add", group="g1", priority=20, action="deny", dst=[VIP + "/32"],
           protocols=[6], dst_ports=[80]),
        op("acl_rule.add", group="g1", priority=30, action="allow"),
        op("eni.set", name="e1", acl={"outbound_v4": ["g1"]}),
    ]})
    t.dropped(lambda i: tcp_from_vm(i, 41000, flags="S"), "acl_deny")
    rpc.call("acl_rule.delete", {"group": "g1", "priority": 20})
    p, be, o = send_out(t, lambda i: tcp_from_vm(i, 41001, flags="S"))
    check_dnat(p, be, o, 8080)


def test_draining_down_and_no_backend(lb):
    t, rpc = lb, lb.rpc
    first = backend_of(t, 42000)
    rpc.call("lb.backend.set", {"lb": "web", "ip": first, "state": "draining"})
    # the open connection stays ...
    for _ in range(3):
        assert backend_of(t, 42000) == first
    # ... new ones never go there
    news = {backend_of(t, 43000 + k) for k in range(40)}
    assert first not in news and len(news) == 2
    b = lb_backends(t)
    assert b[first]["state"] == "draining" and b[first]["entries"] == 0
    assert sum(x["entries"] for x in b.values()) == 4099
    # all draining: new connections have no backend, open ones go on
    for ip in BACKENDS:
        rpc.call("lb.backend.set", {"lb": "web", "ip": ip, "state": "draining"})
    t.dropped(lambda i: tcp_from_vm(i, 44000, flags="S"), "lb_no_backend")
    assert backend_of(t, 42000) == first
    found = [f for f in rpc.call("health.get")["findings"] if f["finding"] == "lb_no_backend"]
    assert [f["object"] for f in found] == ["lb web"], found
    # down: the connection's flow and session go; its next packet picks again
    def flow_42000():
        return [f for f in rpc.call("flow.list", {"eni": "e1"})["flows"]
                if f["src_port"] == 42000 and f["dst_ip"] == VIP]

    assert flow_42000(), "the connection has no flow"
    rpc.call("lb.backend.set", {"lb": "web", "ip": first, "state": "down"})
    assert not flow_42000(), "the flow of a connection to a down backend is still there"
    t.dropped(lambda i: tcp_from_vm(i, 42000), "lb_no_backend")
    other = [ip for ip in BACKENDS if ip != first][0]
    rpc.call("lb.backend.set", {"lb": "web", "ip": other, "state": "active"})
    assert backend_of(t, 42000) == other


def test_weight_change_moves_no_connection(lb):
    t, rpc = lb, lb.rpc
    before = {s: backend_of(t, s) for s in range(45000, 45060)}
    assert len(set(before.values())) == 3
    rpc.call("lb.backend.set", {"lb": "web", "ip": "10.0.5.1", "weight": 20})
    rpc.call("lb.backend.set", {"lb": "web", "ip": "10.0.5.2", "weight": 7})
    b = lb_backends(t)
    assert b["10.0.5.1"]["weight"] == 20 and b["10.0.5.1"]["entries"] > 2600
    after = {s: backend_of(t, s) for s in before}
    assert after == before, "established connections moved"
    # new connections follow the new weights
    news = [backend_of(t, s) for s in range(46000, 46060)]
    assert news.count("10.0.5.1") > news.count("10.0.5.3")


def test_lb_no_backend_without_backends(tmp_path):
    ops = boot() + [op("lb.add", name="empty", vnet="v1", vip="10.0.9.101", protocol="tcp",
                       port=443)]
    t = Taps(tmp_path, ops).start()
    try:
        t.dropped(lambda i: frame(Ether(src=VM1, dst=SW_MAC) / IP(src=CLIENT, dst="10.0.9.101")
                                  / TCP(sport=1, dport=443, flags="S") / Raw(tag(i))),
                  "lb_no_backend")
        # another port of the VIP is not the LB's: routed as usual (no mapping)
        t.dropped(lambda i: frame(Ether(src=VM1, dst=SW_MAC) / IP(src=CLIENT, dst="10.0.9.101")
                                  / TCP(sport=1, dport=444, flags="S") / Raw(tag(i))),
                  "mapping_miss")
    finally:
        t.stop()


# ---- objects -----------------------------------------------------------------------------


def test_objects(lb):
    rpc = lb.rpc

    def err(method, params):
        with pytest.raises(RpcError) as e:
            rpc.call(method, params)
        return e.value

    e = err("lb.add", {"name": "x", "vnet": "v1", "vip": "10.0.9.7", "protocol": "tcp",
                       "port": 80, "table_size": 4096})
    assert e.data["field"] == "table_size" and "prime" in e.message
    e = err("lb.add", {"name": "x", "vnet": "v1", "vip": VIP, "protocol": "tcp", "port": 80})
    assert e.code == 1002 and e.data["field"] == "vip"
    e = err("lb.add", {"name": "x", "vnet": "nope", "vip": "10.0.9.7", "protocol": "tcp",
                       "port": 80})
    assert e.data["field"] == "vnet"
    e = err("lb.add", {"name": "x", "vnet": "v1", "vip": "10.0.9.7", "protocol": "sctp",
                       "port": 80})
    assert e.data["field"] == "protocol"
    e = err("lb.add", {"name": "x", "vnet": "v1", "vip": "10.0.9.7", "protocol": "tcp",
                       "port": 80, "backends": [{"ip": "10.0.5.1"}, {"ip": "fd10::1"}]})
    assert e.data["field"] == "backends[1].ip"
    e = err("lb.backend.add", {"lb": "web", "ip": "10.0.5.9", "weight": 0})
    assert e.data["field"] == "weight"
    e = err("lb.backend.add", {"lb": "nope", "ip": "10.0.5.9"})
    assert e.data["field"] == "lb"
    e = err("lb.backend.set", {"lb": "web", "ip": "10.0.5.1", "state": "gone"})
    assert e.data["field"] == "state"
    e = err("lb.config", {"error_utilization_penalty": -1})
    assert e.data["field"] == "error_utilization_penalty"
    e = err("lb.report", {"lb": "web", "ip": "10.0.5.9", "rps_fractional": 1})
    assert e.code == 1001 and e.data["field"] == "ip"
    e = err("lb.report", {"lb": "web", "ip": "10.0.5.1", "rps_fractional": "x"})
    assert e.data["field"] == "rps_fractional"
    e = err("lb.delete", {"name": "web"})
    assert e.code == 1003

    r = rpc.call("lb.list")
    web = [x for x in r["lbs"] if x["name"] == "web"][0]
    assert {k: web[k] for k in ("vnet", "vip", "protocol", "port", "backend_port",
                                "table_size")} == {
        "vnet": "v1", "vip": VIP, "protocol": "tcp", "port": 80, "backend_port": 8080,
        "table_size": 4099}
    dns = [x for x in r["lbs"] if x["name"] == "dns"][0]
    assert dns["backend_port"] == 53
    bs = {b["ip"]: b for b in dns["backends"]}
    assert set(bs["10.0.5.1"]) == {"ip", "state", "weight", "effective_weight", "entries",
                                   "connections", "packets", "bytes", "last_report_age_ms"}
    assert bs["10.0.5.1"]["entries"] in (62, 63, 64) and bs["10.0.5.2"]["entries"] in (187, 188, 189)
    assert bs["10.0.5.2"]["effective_weight"] == 3 and bs["10.0.5.1"]["last_report_age_ms"] is None

    # ORCA: reports count after the blackout; lb.config changes it
    rpc.call("lb.config", {"blackout_period_ms": 0, "weight_update_period_ms": 50})
    assert rpc.call("lb.config")["blackout_period_ms"] == 0
    assert rpc.call("lb.report", {"lb": "dns", "ip": "10.0.5.1", "rps_fractional": 100,
                                  "cpu_utilization": 0.5})["used"] is True
    assert rpc.call("lb.report", {"lb": "dns", "ip": "10.0.5.2", "rps_fractional": 100,
                                  "cpu_utilization": 0.0})["used"] is False
    import time
    deadline = time.time() + 5
    while time.time() < deadline:
        bs = {b["ip"]: b for b in rpc.call("lb.get", {"name": "dns"})["backends"]}
        if bs["10.0.5.1"]["effective_weight"] == 200:
            break
        time.sleep(0.05)
    # 10.0.5.2 has no usable report: the mean (200) times its weight 3
    assert bs["10.0.5.1"]["effective_weight"] == 200
    assert bs["10.0.5.2"]["effective_weight"] == 600
    assert bs["10.0.5.1"]["last_report_age_ms"] >= 0
    assert bs["10.0.5.1"]["entries"] in (62, 63, 64)

    # add with backends, backend methods, list filter, delete
    rpc.call("lb.add", {"name": "x", "vnet": "v1", "vip": "10.0.9.7", "protocol": "tcp",
                        "port": 80, "table_size": 251, "backends": [{"ip": "10.0.5.1"}]})
    rpc.call("lb.backend.add", {"lb": "x", "ip": "10.0.5.2", "weight": 2, "state": "draining"})
    got = rpc.call("lb.backend.list", {"lb": "x"})["backends"]
    assert sorted((b["ip"], b["weight"], b["state"]) for b in got) == [
        ("10.0.5.1", 1, "active"), ("10.0.5.2", 2, "draining")]
    rpc.call("lb.backend.set", {"lb": "x", "ip": "10.0.5.2", "state": "active"})
    got = {b["ip"]: b for b in rpc.call("lb.get", {"name": "x"})["backends"]}
    assert got["10.0.5.2"]["weight"] == 2 and got["10.0.5.2"]["entries"] in (166, 167, 168)

    # state.get replays the LBs and their backends (not the reports)
    ops = [(o["method"], p) for o in rpc.call("state.get")["ops"]
           for p in o["params"].get("entries", [o["params"]])]
    methods = [m for m, _p in ops]
    assert methods.index("lb.add") < methods.index("lb.backend.add")
    assert ("lb.backend.add", {"lb": "x", "ip": "10.0.5.2", "weight": 2, "state": "active"}) in ops
    assert ("lb.add", {"name": "x", "vnet": "v1", "vip": "10.0.9.7", "protocol": "tcp",
                       "port": 80, "backend_port": 80, "table_size": 251}) in ops
    assert "lb.config" in methods and "lb.report" not in methods
    rpc.call("lb.backend.delete", {"lb": "x", "ip": "10.0.5.1"})
    rpc.call("lb.backend.delete", {"lb": "x", "ip": "10.0.5.2"})
    rpc.call("lb.delete", {"name": "x"})
    assert "x" not in [x["name"] for x in rpc.call("lb.list")["lbs"]]


def test_same_table_after_restart(tmp_path):
    """The table depends on the backends' names only: after a restart (the
    state file replays the LBs and their backends; sessions are gone) new
    connections with the same 5-tuples pick the same backends."""
    t = Taps(tmp_path, boot(), state_file=True).start()
    try:
        before = {s: backend_of(t, s) for s in range(47000, 47040)}
        assert len(set(before.values())) == 3
    finally:
        t.stop()
    # the same bootstrap file again: the committed LBs win (lb.add with
    # backends of an existing LB is kept as committed, not an error)
    t = Taps(tmp_path, boot(), state_file=True).start()
    try:
        assert "kept as committed" in t.d.logtext()
        assert [x["name"] for x in t.rpc.call("lb.list")["lbs"]] in (["web", "dns"],
                                                                  ["dns", "web"])
        after = {s: backend_of(t, s) for s in before}
        assert after == before
    finally:
        t.stop()


def test_ipv6_dnat_and_reverse_snat(tmp_path):
    """An IPv6 VIP: the destination rewritten with the UDP checksum over the
    IPv6 pseudo-header updated, and the reply's source restored."""
    from scapy.all import IPv6
    from test_overlay_fixtures import M7
    vip6, vm6, be6 = "fd10::100", "fd10::2", "fd10::5"     # fd10::5: PA 100.64.1.5, mac M7
    ops = world() + [op("lb.add", name="v6", vnet="v1", vip=vip6, protocol="udp", port=53,
                        backend_port=5353, table_size=251, backends=[{"ip": be6}])]
    t = Taps(tmp_path, ops).start()
    try:
        def build(i):
            return frame(Ether(src=VM1, dst=SW_MAC) / IPv6(src=vm6, dst=vip6)
                         / UDP(sport=7000, dport=53) / Raw(tag(i)))
        for _ in range(3):
            p, o = t.out(build)
            assert o is not None, t.drops()
            want = Ether(bytes(p))
            want.dst = M7
            want[IPv6].dst = be6
            want[UDP].dport = 5353
            del want[UDP].chksum
            check_encap(o, "fabric0", bytes(p), Encap("fabric0", N1, UL4, "100.64.1.5", 1000,
                                                        inner=bytes(Ether(bytes(want)))))
        t.n += 1
        reply = Ether(src=M7, dst=VM1) / IPv6(src=be6, dst=vm6) / UDP(
            sport=5353, dport=7000) / Raw(tag(t.n))
        t.send("fabric0", vxlan_in("100.64.1.5", VIP4, 1000, reply))
        got = t.expect("host0", t.n)
        assert got is not None, t.drops()
        want = Ether(bytes(reply))
        want[IPv6].src = vip6
        want[UDP].sport = 53
        del want[UDP].chksum
        assert bytes(got) == bytes(Ether(bytes(want)))
    finally:
        t.stop()
