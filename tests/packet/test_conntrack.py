"""Connection tracking (SPEC 3.6) through sswitchd, one frame at a time on
taps (test_acl_topo.Live): the ENI's outbound stage allows everything, its
inbound stage denies everything, so a packet from the peer passes only as
the reply of a connection the VM opened.

Each step sends one frame and waits for its effect: the same tenant packet
out of the other port, or one more drop of the expected reason.
"""
import time

from scapy.all import Ether, IP, TCP, UDP, ICMP, ICMPv6EchoRequest, ICMPv6EchoReply, Raw
from scapy.all import fragment

from test_acl_topo import (ENI_MAC, PEER, SW_MAC, VM, Live, inbound, outbound,
                           topology_ops)

GROUPS = {
    "out4": ("ipv4", [{"priority": 1, "action": "allow"}]),
    "in4": ("ipv4", [{"priority": 1, "action": "deny"}]),
    "out6": ("ipv6", [{"priority": 1, "action": "allow"}]),
    "in6": ("ipv6", [{"priority": 1, "action": "deny"}]),
}
ACL = {"outbound_v4": ["out4"], "inbound_v4": ["in4"], "outbound_v6": ["out6"],
       "inbound_v6": ["in6"]}

OUT, IN = "host0", "fabric0"


def ops():
    return topology_ops(acl=ACL, groups=GROUPS)


def tcp_out(sport, dport, flags, v6=False):
    return outbound(TCP(sport=sport, dport=dport, flags=flags), v6=v6)


def tcp_in(sport, dport, flags, v6=False):
    return inbound(TCP(sport=sport, dport=dport, flags=flags), v6=v6)


def flows(lv, **params):
    return lv.rpc.call("flow.list", params)["flows"]


def eni_flows(lv):
    return lv.rpc.call("stats.get", {"scope": "eni"})["eni"]["vm"]["flows"]


def test_tcp_lifecycle(tmp_path):
    """Handshake and return traffic, RST, FIN from both sides + timeout."""
    with Live(tmp_path, ops(), flows={"tcp_fin_timeout_ms": 1000}) as lv:
        # nothing comes in on its own
        lv.step(IN, tcp_in(80, 40000, "SA"), False)
        lv.step(OUT, tcp_out(40000, 80, "S"), True)
        lv.step(IN, tcp_in(80, 40000, "SA"), True)
        lv.step(OUT, tcp_out(40000, 80, "A"), True)
        lv.step(IN, tcp_in(80, 40000, "PA") / Raw(b"hello"), True)
        lv.step(IN, tcp_in(80, 40001, "A"), False)       # another connection
        fl = flows(lv)
        assert len(fl) == 1
        f = fl[0]
        assert (f["eni"], f["protocol"], f["src_ip"], f["dst_ip"], f["src_port"],
                f["dst_port"], f["direction"], f["state"]) == (
                "vm", 6, VM, PEER, 40000, 80, "outbound", "established")
        assert eni_flows(lv) == 1
        assert lv.rpc.call("stats.get", {"scope": "eni"})["eni"]["vm"]["acl_drops"] == 2

        # RST from the peer removes the pair
        lv.step(IN, tcp_in(80, 40000, "RA"), True)
        lv.step(IN, tcp_in(80, 40000, "A"), False)
        assert flows(lv) == [] and eni_flows(lv) == 0

        # FIN from both sides: the last ACK still passes, then the pair goes
        # after tcp_fin_timeout_ms (1000)
        lv.step(OUT, tcp_out(40002, 80, "S"), True)
        lv.step(IN, tcp_in(80, 40002, "SA"), True)
        lv.step(OUT, tcp_out(40002, 80, "FA"), True)
        assert flows(lv)[0]["state"] == "fin_wait"
        lv.step(IN, tcp_in(80, 40002, "FA"), True)
        assert flows(lv)[0]["state"] == "closing"
        lv.step(OUT, tcp_out(40002, 80, "A"), True)
        time.sleep(1.3)
        lv.step(IN, tcp_in(80, 40002, "A"), False)
        assert eni_flows(lv) == 0

        # mid-stream TCP without a flow: forwarded by the outbound ACL, but
        # it opens nothing
        lv.step(OUT, tcp_out(40003, 80, "A"), True)
        lv.step(IN, tcp_in(80, 40003, "A"), False)
        st = lv.rpc.call("stats.get", {"scope": "flows"})["flows"]
        assert st["removed_rst"] == 1 and st["removed_fin"] == 1 and st["created"] == 2


def test_idle_expiry_and_config(tmp_path):
    """Idle expiry; flow.config on the running table; max_flows ->
    flow_table_full (not a drop); flow.list limit and flow.flush."""
    with Live(tmp_path, ops(), flows={"idle_timeout_ms": 1000}) as lv:
        lv.step(OUT, outbound(UDP(sport=5353, dport=53)), True)
        time.sleep(0.3)
        lv.step(IN, inbound(UDP(sport=53, dport=5353)), True)     # refreshes it
        time.sleep(0.3)
        lv.step(IN, inbound(UDP(sport=53, dport=5353)), True)
        time.sleep(1.5)
        lv.step(IN, inbound(UDP(sport=53, dport=5353)), False)    # expired
        # the sweeper removes idle flows without traffic
        lv.step(OUT, outbound(UDP(sport=5354, dport=53)), True)
        assert eni_flows(lv) == 1
        deadline = time.time() + 5
        while eni_flows(lv) != 0 and time.time() < deadline:
            time.sleep(0.1)
        assert eni_flows(lv) == 0
        assert lv.rpc.call("stats.get", {"scope": "flows"})["flows"]["expired"] >= 2

        # flow.config applies to the running table
        lv.rpc.call("flow.config", {"max_flows": 3, "idle_timeout_ms": 60000,
                                    "tcp_fin_timeout_ms": 1000})
        for sp in (1, 2, 3, 4):
            lv.step(OUT, outbound(UDP(sport=sp, dport=9)), True)   # 4th: not tracked
        st = lv.rpc.call("stats.get", {"scope": "flows"})["flows"]
        assert st["flow_table_full"] == 1 and st["count"] == 3 and st["max_flows"] == 3
        assert lv.drops().get("acl_deny", 0) == 1
        lv.step(IN, inbound(UDP(sport=9, dport=3)), True)
        lv.step(IN, inbound(UDP(sport=9, dport=4)), False)
        assert len(flows(lv, limit=2)) == 2 and len(flows(lv, eni="vm")) == 3
        assert lv.rpc.call("flow.flush", {"eni": "vm"})["flushed"] == 3
        assert flows(lv) == [] and eni_flows(lv) == 0
        lv.step(IN, inbound(UDP(sport=9, dport=3)), False)
        try:
            lv.rpc.call("flow.list", {"eni": "nope"})
            raise AssertionError("flow.list of an unknown ENI succeeded")
        except Exception as e:  # noqa: BLE001 - RpcError
            assert getattr(e, "code", None) == 1001 and e.data.get("field") == "eni"


def test_revocation(tmp_path):
    """A rule change re-checks the existing flows on their next packet."""
    with Live(tmp_path, ops()) as lv:
        lv.step(OUT, tcp_out(41000, 22, "S"), True)
        lv.step(IN, tcp_in(22, 41000, "SA"), True)
        lv.step(OUT, tcp_out(41001, 80, "S"), True)
        lv.step(IN, tcp_in(80, 41001, "SA"), True)
        lv.rpc.call("acl_group.replace", {"name": "out4", "rules": [
            {"priority": 1, "action": "deny", "protocols": [6], "dst_ports": [22]},
            {"priority": 2, "action": "allow"}]})
        # the ssh flow is revoked by its next packet, from either side
        lv.step(IN, tcp_in(22, 41000, "A"), False)
        lv.step(OUT, tcp_out(41000, 22, "A"), False)
        # the http one is re-checked, still allowed, and kept
        lv.step(IN, tcp_in(80, 41001, "A"), True)
        lv.step(IN, tcp_in(80, 41001, "A"), True)
        st = lv.rpc.call("stats.get", {"scope": "flows"})["flows"]
        assert st["revoked"] == 1 and st["rechecked"] == 2
        assert [f["dst_port"] for f in flows(lv)] == [80]
        # unbinding the stage changes the ENI's policy too: everything allowed
        lv.rpc.call("eni.set", {"name": "vm", "acl": {"outbound_v4": ["out4"]}})
        lv.step(IN, tcp_in(22, 41009, "A"), True)
        # deleting the ENI removes its flows
        assert lv.rpc.call("stats.get", {"scope": "flows"})["flows"]["count"] == 1   # http
        lv.rpc.call("eni.delete", {"name": "vm"})
        st = lv.rpc.call("stats.get", {"scope": "flows"})["flows"]
        assert st["count"] == 0 and st["flushed"] == 1, st


def test_ipv6_and_icmp(tmp_path):
    with Live(tmp_path, ops()) as lv:
        lv.step(IN, tcp_in(443, 50000, "SA", v6=True), False)
        lv.step(OUT, tcp_out(50000, 443, "S", v6=True), True)
        lv.step(IN, tcp_in(443, 50000, "SA", v6=True), True)
        lv.step(IN, tcp_in(443, 50001, "SA", v6=True), False)
        # echo: the identifier is the port; a request from the peer is not a reply
        lv.step(OUT, outbound(ICMP(type=8, id=7, seq=1)), True)
        lv.step(IN, inbound(ICMP(type=0, id=7, seq=1)), True)
        lv.step(IN, inbound(ICMP(type=8, id=7, seq=1)), False)
        lv.step(OUT, outbound(ICMPv6EchoRequest(id=9), v6=True), True)
        lv.step(IN, inbound(ICMPv6EchoReply(id=9), v6=True), True)
        # an ICMP error quoting a tracked packet follows its flow
        lv.step(OUT, outbound(UDP(sport=33434, dport=33435)), True)
        quoted = IP(src=VM, dst=PEER) / UDP(sport=33434, dport=33435)
        lv.step(IN, inbound(ICMP(type=11, code=0) / bytes(quoted)), True)
        unknown = IP(src=VM, dst=PEER) / UDP(sport=1, dport=2)
        lv.step(IN, inbound(ICMP(type=3, code=3) / bytes(unknown)), False)
        assert lv.rpc.call("stats.get", {"scope": "flows"})["flows"]["icmp_related"] == 1


def test_fragments(tmp_path):
    """The first fragment decides; the others of its datagram follow it;
    a fragment whose first one was not seen is dropped frag_no_first."""
    with Live(tmp_path, ops()) as lv:
        big = IP(src=VM, dst=PEER, id=4242) / ICMP(type=8, id=99) / Raw(b"f" * 3000)
        frags = fragment(big, fragsize=1200)
        assert len(frags) == 3
        # a later fragment first: no first fragment seen
        lv.step(OUT, frame_of(frags[2], OUT), False, reason="frag_no_first")
        for fr in frags:
            lv.step(OUT, frame_of(fr, OUT), True)
        # the fragmented reply passes although inbound denies everything
        reply = IP(src=PEER, dst=VM, id=777) / ICMP(type=0, id=99) / Raw(b"r" * 3000)
        for fr in fragment(reply, fragsize=1200):
            lv.step(IN, frame_of(fr, IN), True)
        # a fragmented request from the peer is denied whole
        req = IP(src=PEER, dst=VM, id=778) / ICMP(type=8, id=99) / Raw(b"q" * 3000)
        rf = fragment(req, fragsize=1200)
        lv.step(IN, frame_of(rf[0], IN), False)
        lv.step(IN, frame_of(rf[1], IN), False)
        assert lv.drops()["frag_no_first"] == 1


def frame_of(ip_pkt, port):
    """An IP packet (a fragment) as a frame from the VM or from the peer."""
    ip = IP(bytes(ip_pkt))
    if port == OUT:
        return Ether(src=ENI_MAC, dst=SW_MAC) / ip
    return inbound(b"", ip=ip)


def test_two_workers(tmp_path):
    """Two workers share the flow table: with multi-queue taps the kernel
    spreads the connections over both workers' queues, and a reply is often
    handled by the other worker than its request."""
    with Live(tmp_path, ops(), workers=(1, 2), lcores_map="0@0,1@1,2@1") as lv:
        n = 64
        for sp in range(20000, 20000 + n):
            lv.step(OUT, outbound(UDP(sport=sp, dport=53)), True)
        for sp in range(20000, 20000 + n):
            lv.step(IN, inbound(UDP(sport=53, dport=sp)), True)
        lv.step(IN, inbound(UDP(sport=53, dport=19999)), False)
        assert eni_flows(lv) == n
        workers = lv.d.stats()["workers"]
        busy = [w for w in workers.values() if w.get("rx_packets", 0) > 0]
        assert len(busy) == 2, workers


def test_table_growth(tmp_path):
    """The flow table starts small and grows while traffic runs: 100k new
    UDP connections arrive as fast as the pcap can be read (twice: the
    second pass tracks what arrived while the table was being replaced);
    every connection ends up tracked once and the per-ENI gauge is exact."""
    import struct
    from sswitch import Daemon, Port
    from test_acl_topo import FAB_MAC
    n = 100000
    t = bytearray(bytes(outbound(UDP(sport=1, dport=53, chksum=0) / Raw(b"g" * 18))))
    rx = tmp_path / "growth.pcap"
    with open(rx, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for rnd in range(2):
            for i in range(n):
                t[34:38] = struct.pack(">HH", 1024 + (i & 0x7fff), 53 + (i >> 15))
                f.write(struct.pack("<IIII", 0, 0, len(t), len(t)))
                f.write(t)
    d = Daemon(tmp_path, [Port("host0", "host", kind="raw",
                               extra="net_pcap0,rx_pcap=%s,tx_pcap=%s" % (rx, tmp_path / "h.pcap")),
                          Port("fabric0", "fabric", kind="raw", mac=FAB_MAC, extra="net_null0,no-rx=1")],
               bootstrap=ops())
    d.start()
    try:
        d.wait_rx(2 * n, timeout=60)
        rpc = d.rpc()
        st = rpc.call("stats.get", {"scope": "flows"})["flows"]
        eni = rpc.call("stats.get", {"scope": "eni"})["eni"]["vm"]
        listed = rpc.call("flow.list", {"eni": "vm", "limit": 5})["flows"]
        rpc.close()
    finally:
        d.stop()
    assert st["count"] == n and eni["flows"] == n, (st, eni)
    assert st["capacity"] > 65536, st
    assert len(listed) == 5
    assert d.final_stats["drops"].get("acl_deny", 0) == 0
