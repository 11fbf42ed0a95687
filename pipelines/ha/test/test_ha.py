"""HA pair (SPEC 3.11, docs/ha.md) through two real daemons on one machine.

The active forwards 100k outbound UDP flows from a pcap (16 ENIs on host0)
and a few more sent later on a TAP (ENI t1 on host1); the standby is
programmed with the same objects, its host1 a TAP too. Checked by
`flow.list` on the standby, compared with the active's: the flows made
before and while the channel connects (bulk sync), a whole bulk sync again
after the standby restarts empty, incremental creates (TAP frames after the
sync), incremental removals (flow.flush of t1 on the active). The
standby forwards a synced flow's packet (`ha_standby_rx`), drops a packet of
no flow (`ha_standby_no_flow`) until `ha.set role=active`, and refuses a
stranger, a connection while its peer is connected and garbage (`rejected`).
"""
import os
import socket
import struct
import subprocess
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(REPO, "tests", "lib"))
sys.path.insert(0, os.path.join(REPO, "tests", "bench"))

import pytest  # noqa: E402
from scapy.all import Ether, IP, UDP  # noqa: E402

import pcapgen  # noqa: E402
from sswitch import Daemon, Port, RpcError  # noqa: E402

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists("/dev/net/tun"),
                                reason="TAP ports need root and /dev/net/tun")

NFLOWS = 100000
NMAP = 4096
ENIS = 16
T1_MAC = "02:00:00:01:01:01"


def boot():
    ops = [
        {"method": "switch.set", "params": {"underlay_ip": "100.127.0.1", "mac": "02:00:00:00:ff:ff"}},
        {"method": "underlay_route.add", "params": {"prefix": "100.64.0.0/10", "next_hops": [
            {"port": "fabric0", "mac": "02:00:00:00:0b:01"}]}},
        {"method": "vnet.add", "params": {"name": "v", "vni": 1000, "gateway_ip": "10.0.0.1"}},
        {"method": "route.add", "params": {"group": "rg", "prefix": "10.0.0.0/12", "action": "vnet"}},
    ]
    ops += [{"method": "eni.add", "params": {"name": "e%d" % k, "mac": "02:00:00:01:00:%02x" % k,
                                             "vnet": "v", "port": "host0", "route_group": "rg"}}
            for k in range(ENIS)]
    ops.append({"method": "eni.add", "params": {"name": "t1", "mac": T1_MAC, "vnet": "v",
                                                "port": "host1", "route_group": "rg"}})
    ops.append({"method": "mapping.add", "params": {"entries": [
        {"vnet": "v", "ip": "10.0.%d.%d" % (i >> 8, i & 255),
         "underlay_ip": "100.64.%d.%d" % (i >> 8, i & 255),
         "mac": "02:00:00:02:%02x:%02x" % (i >> 8, i & 255)} for i in range(NMAP)]}})
    return ops


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def ha_conf(role, listen, peer, extra=""):
    return ('ha = { role = "%s"; listen = "127.0.0.1:%d"; peer = "127.0.0.1:%d"; '
            'peer_timeout_ms = 3000; %s };\nflows = { idle_timeout_ms = 600000; };\n'
            % (role, listen, peer, extra))


class Switch:
    def __init__(self, tmp, role, listen, peer, pcap=None):
        self.tag = uuid.uuid4().hex[:5]
        self.tap = "ha" + self.tag
        # the pcap is replayed: a flow the table had no room for before it
        # grew (the control thread grows it) is opened by a later round
        host0 = (Port("host0", "host", kind="raw",
                      extra="net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap)
                 if pcap else Port("host0", "host", kind="null"))
        ports = [host0,
                 Port("host1", "host", kind="raw", extra="net_tap_%s,iface=%s" % (self.tag, self.tap)),
                 Port("fabric0", "fabric", kind="null", mac="02:00:00:00:00:aa")]
        os.makedirs(tmp, exist_ok=True)
        extra = ha_conf(role, listen, peer)
        if pcap:
            extra += "mbufs = %d;\n" % (NFLOWS + 32768)   # infinite_rx holds the pcap
        self.d = Daemon(tmp, ports, bootstrap=boot(), extra_conf=extra,
                        mem_mb=1024 if pcap else 512)

    def start(self):
        self.d.start(timeout=60)
        subprocess.run(["sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % self.tap], check=False)
        subprocess.run(["ip", "link", "set", self.tap, "up"], check=True)
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
        self.sock.bind((self.tap, 0))
        self.rpc = self.d.rpc()
        return self

    def stop(self):
        """SIGTERM; the daemon must exit 0 (Daemon.stop raises otherwise)."""
        if self.d.proc is None:
            return
        self.sock.close()
        self.rpc.close()
        self.d.stop()

    def call(self, m, p=None):
        return self.rpc.call(m, p)

    def ha(self):
        return self.call("ha.get")

    def flows(self, eni=None):
        p = {"limit": 1 << 20}
        if eni:
            p["eni"] = eni
        return {(f["eni"], f["protocol"], f["src_ip"], f["dst_ip"], f["src_port"], f["dst_port"],
                 f["direction"]) for f in self.call("flow.list", p)["flows"]}

    def nflows(self):
        eni = self.call("stats.get", {"scope": "eni"})["eni"]
        return sum(v["flows"] for v in eni.values())

    def drops(self):
        return self.call("stats.get", {"scope": "drops"})["drops"]


def wait(cond, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def t1_frame(sport, dst="10.0.0.7"):
    return bytes(Ether(src=T1_MAC, dst="02:00:00:00:ff:ff") /
                 IP(src="10.15.254.1", dst=dst) / UDP(sport=sport, dport=80) / (b"x" * 18))


def hdr(length, version=2, typ=1, seq=0, ack=0):
    return struct.pack("!IBBHII", length, version, typ, 0, seq, ack)


def rejected_after(sw, before, send, src="127.0.0.1"):
    s = socket.socket()
    s.bind((src, 0))
    s.connect(("127.0.0.1", sw.listen))
    if send:
        s.sendall(send)
    # the switch closes the connection
    s.settimeout(3)
    try:
        while s.recv(4096):
            pass
    except (ConnectionResetError, socket.timeout):
        pass
    s.close()
    return wait(lambda: sw.ha()["rejected"] > before and sw.ha()["rejected"], 3, "rejected")


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ha")
    pcap = str(tmp / "flows.pcap")
    pcapgen.write_pcap(pcap, pcapgen.outbound_frames(NFLOWS, NMAP, ENIS))
    pa, pb = free_port(), free_port()
    b = Switch(str(tmp / "b"), "standby", pb, pa).start()
    b.listen = pb
    # bad input on the standby's port before the active exists: garbage, a
    # wrong version, a stranger; each closes its connection and counts
    r = rejected_after(b, 0, b"GET / HTTP/1.0\r\n\r\n")
    r = rejected_after(b, r, hdr(20, version=1) + b"\x01\x00\x00\x00")
    r = rejected_after(b, r, hdr(16, typ=2) + hdr(16, typ=2, seq=0))   # no HELLO first
    r = rejected_after(b, r, None, src="127.0.0.2")
    assert r == 4
    a = Switch(str(tmp / "a"), "active", pa, pb, pcap=pcap).start()
    a.listen = pa
    yield a, b
    a.stop()
    b.stop()


def test_sync_on_connect(pair):
    a, b = pair
    wait(lambda: a.nflows() == NFLOWS, 60, "the active's 100k flows")
    wait(lambda: b.nflows() == NFLOWS, 60, "100k flows on the standby")
    wait(lambda: a.ha()["bulk_sync"] == "done", 30, "the bulk sync")
    fa, fb = a.flows(), b.flows()
    assert len(fa) == NFLOWS and fa == fb
    ha_a, ha_b = a.ha(), b.ha()
    assert ha_a["role"] == "active" and ha_b["role"] == "standby"
    assert ha_a["peer_state"] == "connected" and ha_b["peer_state"] == "connected"
    assert ha_a["sent"] >= NFLOWS and ha_b["received"] >= NFLOWS
    # (a reconnection of the active while the standby still holds the old
    # connection is refused too: >= on a loaded machine)
    assert ha_a["rejected"] == 0 and ha_b["rejected"] >= 4
    assert ha_b["synced_flows"] == NFLOWS


def test_bulk_sync_after_standby_restart(pair, tmp_path):
    a, b = pair
    bulks = a.ha()["bulk_syncs"]
    b.stop()
    b.d.prefix = "sst" + uuid.uuid4().hex[:10]
    t0 = time.time()
    b.start()
    wait(lambda: b.nflows() == NFLOWS, 60, "the bulk sync of 100k flows")
    took = time.time() - t0
    wait(lambda: b.ha()["bulk_sync"] == "done", 10, "bulk_sync done")
    assert a.ha()["bulk_syncs"] == bulks + 1
    assert b.flows() == a.flows()
    print("bulk sync of %d flows (restart included): %.2f s" % (NFLOWS, took))


def test_incremental_create_and_remove(pair):
    a, b = pair
    wait(lambda: b.ha()["bulk_sync"] == "done", 30, "bulk_sync done")
    for p in range(5000, 5010):
        a.sock.send(t1_frame(p))
    wait(lambda: len(a.flows("t1")) == 10, 10, "10 flows of t1 on the active")
    wait(lambda: b.flows("t1") == a.flows("t1"), 10, "t1's flows on the standby")
    lag = a.ha()["sync_lag_ms"]
    assert 0 <= lag < 1000
    # removal: flush t1 on the active (the pcap's ENIs are replayed)
    a.call("flow.flush", {"eni": "t1"})
    wait(lambda: len(b.flows("t1")) == 0, 10, "t1's flows gone from the standby")
    assert b.nflows() == NFLOWS
    for p in range(5000, 5010):
        a.sock.send(t1_frame(p))
    wait(lambda: len(b.flows("t1")) == 10, 10, "t1's flows again on the standby")


def test_standby_forwards_synced_flows_only(pair):
    a, b = pair
    wait(lambda: len(b.flows("t1")) == 10, 10, "t1's flows on the standby")
    rx = b.ha()["ha_standby_rx"]
    drops = b.drops().get("ha_standby_no_flow", 0)
    b.sock.send(t1_frame(5001))          # a synced flow: forwarded, counted
    wait(lambda: b.ha()["ha_standby_rx"] == rx + 1, 5, "ha_standby_rx")
    b.sock.send(t1_frame(6001))          # no flow: dropped, not created
    wait(lambda: b.drops().get("ha_standby_no_flow", 0) == drops + 1, 5, "ha_standby_no_flow")
    assert len(b.flows("t1")) == 10
    # a stranger, and the peer's address while the peer is connected
    r = rejected_after(b, b.ha()["rejected"], None, src="127.0.0.3")
    r = rejected_after(b, r, hdr(16, typ=2))
    assert b.ha()["peer_state"] == "connected"
    # the controller fails over: the standby now opens flows itself
    with pytest.raises(RpcError):
        b.call("ha.set", {"role": "primary"})
    st = b.call("ha.set", {"role": "active"})
    assert st["role"] == "active"
    b.sock.send(t1_frame(6002))
    wait(lambda: len(b.flows("t1")) == 11, 5, "a new flow on the new active")
    assert b.drops().get("ha_standby_no_flow", 0) == drops + 1
