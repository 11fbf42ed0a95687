"""LB sessions over the HA channel (SPEC 3.9, 3.11; docs/ha.md "LB sessions").

Two real daemons: the active's LB `dns` has one backend (10.0.0.5); the
standby's has the same backend and a second one (10.0.0.6) of a hundred
times its weight, so the standby's own Maglev pick sends nearly every new
connection to 10.0.0.6. Connections opened on the active before the
standby connects (bulk sync) and after (incremental) keep 10.0.0.5 on the
standby, as a standby and after `ha.set role=active`; connections new to the
standby go to its own pick (the control: the sync, not the tables, kept the
backend). A backend removed on the active takes its sessions off the
standby (LB_SESS_DEL). A backend or an LB the standby lacks is counted
(`unknown_lb`) and skipped.
"""
import os
import socket
import subprocess
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(REPO, "tests", "lib"))

import pytest  # noqa: E402
from scapy.all import Ether, IP, UDP  # noqa: E402

from sswitch import Daemon, Port  # noqa: E402

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists("/dev/net/tun"),
                                reason="TAP ports need root and /dev/net/tun")

T1_MAC = "02:00:00:01:01:01"
VIP = "10.0.0.100"
B1, B2 = "10.0.0.5", "10.0.0.6"


def boot(backends, lb="dns"):
    ops = [
        {"method": "switch.set", "params": {"underlay_ip": "100.127.0.1", "mac": "02:00:00:00:ff:ff"}},
        {"method": "underlay_route.add", "params": {"prefix": "100.64.0.0/10", "next_hops": [
            {"port": "fabric0", "mac": "02:00:00:00:0b:01"}]}},
        {"method": "vnet.add", "params": {"name": "v", "vni": 1000, "gateway_ip": "10.0.0.1"}},
        {"method": "route.add", "params": {"group": "rg", "prefix": "10.0.0.0/12", "action": "vnet"}},
        {"method": "eni.add", "params": {"name": "t1", "mac": T1_MAC, "vnet": "v",
                                         "port": "host1", "route_group": "rg"}},
        {"method": "mapping.add", "params": {"entries": [
            {"vnet": "v", "ip": "10.0.0.%d" % i, "underlay_ip": "100.64.0.%d" % i,
             "mac": "02:00:00:02:00:%02x" % i} for i in range(2, 200)]}},
        {"method": "lb.add", "params": {"name": lb, "vnet": "v", "vip": VIP, "protocol": "udp",
                                        "port": 53, "table_size": 251, "backends": backends}},
    ]
    return ops


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Switch:
    def __init__(self, tmp, role, listen, peer, backends, lb="dns"):
        self.tag = uuid.uuid4().hex[:5]
        self.tap = "hl" + self.tag
        ports = [Port("host0", "host", kind="null"),
                 Port("host1", "host", kind="raw", extra="net_tap_%s,iface=%s" % (self.tag, self.tap)),
                 Port("fabric0", "fabric", kind="null", mac="02:00:00:00:00:aa")]
        os.makedirs(tmp, exist_ok=True)
        extra = ('ha = { role = "%s"; listen = "127.0.0.1:%d"; peer = "127.0.0.1:%d"; '
                 'peer_timeout_ms = 3000; };\nflows = { idle_timeout_ms = 600000; };\n'
                 % (role, listen, peer))
        self.d = Daemon(tmp, ports, bootstrap=boot(backends, lb), extra_conf=extra, mem_mb=512)

    def start(self):
        self.d.start(timeout=60)
        subprocess.run(["sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % self.tap], check=False)
        subprocess.run(["ip", "link", "set", self.tap, "up"], check=True)
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
        self.sock.bind((self.tap, 0))
        self.rpc = self.d.rpc()
        return self

    def stop(self):
        if self.d.proc is None:
            return
        self.sock.close()
        self.rpc.close()
        self.d.stop()

    def call(self, m, p=None):
        return self.rpc.call(m, p)

    def ha(self):
        return self.call("ha.get")

    def lb(self, name="dns"):
        """{backend ip: {connections, packets, bytes}}"""
        return self.call("stats.get", {"scope": "lb"})["lb"].get(name, {})

    def packets(self, ip, name="dns"):
        return self.lb(name).get(ip, {}).get("packets", 0)

    def send(self, sport):
        self.sock.send(bytes(Ether(src=T1_MAC, dst="02:00:00:00:ff:ff") /
                             IP(src="10.0.0.9", dst=VIP) / UDP(sport=sport, dport=53) /
                             (b"q" * 18)))


def wait(cond, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def test_lb_sessions_keep_their_backend_after_failover(tmp_path):
    pa, pb = free_port(), free_port()
    a = Switch(str(tmp_path / "a"), "active", pa, pb, [{"ip": B1}]).start()
    b = None
    try:
        # before the standby exists: these go in the bulk sync
        for p in range(7000, 7020):
            a.send(p)
        wait(lambda: a.lb().get(B1, {}).get("connections") == 20, 10, "20 sessions on the active")
        b = Switch(str(tmp_path / "b"), "standby", pb, pa,
                   [{"ip": B1, "weight": 1}, {"ip": B2, "weight": 100}]).start()
        wait(lambda: b.ha()["bulk_sync"] == "done", 30, "the bulk sync")
        wait(lambda: b.ha()["synced_lb_sessions"] == 20, 10, "20 LB sessions in the bulk")
        # incremental: opened while the standby is connected
        for p in range(7100, 7120):
            a.send(p)
        wait(lambda: b.ha()["synced_lb_sessions"] == 40, 10, "40 LB sessions on the standby")
        assert a.ha()["synced_lb_sessions"] == 40
        assert b.ha()["unknown_lb"] == 0 and b.ha()["rejected"] == 0
        # the standby forwards a synced connection to the active's backend
        b.send(7000)
        wait(lambda: b.packets(B1) == 1, 5, "the standby's packet to " + B1)
        # failover: every synced connection keeps its backend
        assert b.call("ha.set", {"role": "active"})["role"] == "active"
        for p in list(range(7000, 7020)) + list(range(7100, 7120)):
            b.send(p)
        wait(lambda: b.packets(B1) == 41, 10, "41 packets to " + B1)
        assert b.packets(B2) == 0
        # the control: new connections on the new active take its own pick
        for p in range(9000, 9020):
            b.send(p)
        wait(lambda: b.packets(B1) + b.packets(B2) == 61, 10, "20 new connections forwarded")
        assert b.packets(B2) >= 15, b.lb()
    finally:
        a.stop()
        if b is not None:
            b.stop()


def test_lb_session_removal_and_unknown_lb(tmp_path):
    pa, pb = free_port(), free_port()
    b = Switch(str(tmp_path / "b"), "standby", pb, pa,
               [{"ip": B1, "weight": 1}, {"ip": B2, "weight": 100}]).start()
    a = Switch(str(tmp_path / "a"), "active", pa, pb, [{"ip": B1}, {"ip": "10.0.0.7"}]).start()
    try:
        wait(lambda: b.ha()["bulk_sync"] == "done", 30, "the bulk sync")
        for p in range(7000, 7040):
            a.send(p)
        wait(lambda: sum(v["connections"] for v in a.lb().values()) == 40, 10, "40 sessions")
        on_b1 = a.lb()[B1]["connections"]
        on_b7 = a.lb()["10.0.0.7"]["connections"]
        assert on_b1 > 0 and on_b7 > 0
        # sessions toward a backend the standby lacks: counted (each time
        # one is sent: refresh passes send them again), skipped
        wait(lambda: b.ha()["synced_lb_sessions"] == on_b1, 10, "the sessions toward " + B1)
        wait(lambda: b.ha()["unknown_lb"] >= on_b7, 10, "unknown_lb")
        # the backend goes on the active: its sessions (and flows) go on the standby
        a.call("lb.backend.delete", {"lb": "dns", "ip": B1})
        wait(lambda: b.ha()["synced_lb_sessions"] == 0, 10, "the sessions removed on the standby")
        assert b.ha()["rejected"] == 0
    finally:
        a.stop()
        b.stop()


def test_lb_unknown_to_the_standby(tmp_path):
    """The standby's LB on that VIP has another name: every session is
    counted `unknown_lb` and skipped; the flows are synced all the same."""
    pa, pb = free_port(), free_port()
    b = Switch(str(tmp_path / "b"), "standby", pb, pa, [{"ip": B1}], lb="other").start()
    a = Switch(str(tmp_path / "a"), "active", pa, pb, [{"ip": B1}]).start()
    try:
        wait(lambda: b.ha()["bulk_sync"] == "done", 30, "the bulk sync")
        for p in range(7000, 7010):
            a.send(p)
        wait(lambda: b.ha()["synced_flows"] == 10, 10, "the flows on the standby")
        wait(lambda: b.ha()["unknown_lb"] >= 10, 10, "unknown_lb")
        h = b.ha()
        assert h["synced_lb_sessions"] == 0 and h["rejected"] == 0 and h["install_failed"] == 0
    finally:
        a.stop()
        b.stop()
