"""Overlay tables changed while forwarding, through the control socket.

The host and fabric ports are TAP devices this test writes frames into and
reads frames from (AF_PACKET), so packets can be sent after each change:
mappings, routes, ENIs and underlay routes take effect on the next packet,
a table that has to grow is swapped in under traffic, per-ENI counters
(stats.get scope `eni`) count what each ENI sent and received, and a
restart restores everything from the state file.
"""
import os
import socket
import subprocess
import time
import uuid

import pytest

from test_overlay_fixtures import (
    Encap, Ether, UDP, FAB0, HOST0, M5, M9, N1, UL4, VM1, VM2, check_encap, marker_of,
    tag, tenant, vm, vxlan_in, world)
from sswitch import Daemon, Port, RpcError

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists("/dev/net/tun"),
                                reason="TAP ports need root and /dev/net/tun")


class Taps:
    """sswitchd with host0 and fabric0 on TAPs, the other two ports null."""

    def __init__(self, tmp_path, bootstrap, state_file=False, prefix=None):
        self.tag = prefix or uuid.uuid4().hex[:5]
        self.ifs = {"host0": "ovh" + self.tag, "fabric0": "ovf" + self.tag}
        ports = [Port("host0", "host", kind="raw", mac=HOST0,
                      extra="net_tap_h%s,iface=%s" % (self.tag, self.ifs["host0"])),
                 Port("host1", "host", kind="null"),
                 Port("fabric0", "fabric", kind="raw", mac=FAB0,
                      extra="net_tap_f%s,iface=%s" % (self.tag, self.ifs["fabric0"])),
                 Port("fabric1", "fabric", kind="null")]
        self.d = Daemon(tmp_path, ports, bootstrap=bootstrap, state_file=state_file)
        self.socks = {}
        self.n = 1000

    def start(self):
        self.d.start()
        for port, ifname in self.ifs.items():
            # the kernel side must stay quiet: no IPv6 autoconfiguration
            subprocess.run(["sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % ifname],
                           check=False)
            subprocess.run(["ip", "link", "set", ifname, "up"], check=True)
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
            s.bind((ifname, 0))
            s.settimeout(0.05)
            self.socks[port] = s
        self.rpc = self.d.rpc()
        return self

    def stop(self):
        for s in self.socks.values():
            s.close()
        self.rpc.close()
        self.d.stop()

    def send(self, port, pkt):
        self.socks[port].send(bytes(pkt))

    def expect(self, port, marker, timeout=3.0):
        """The frame carrying `marker` that the daemon sends on `port`, or None."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                b = self.socks[port].recv(16384)
            except socket.timeout:
                continue
            if marker_of(b) == marker:
                return Ether(b)
        return None

    def drops(self):
        return {k: v for k, v in self.rpc.call("stats.get", {"scope": "drops"})["drops"].items() if v}

    def out(self, pkt_builder):
        """Send a marked packet from VM1 on host0, return what fabric0 sends."""
        self.n += 1
        p = pkt_builder(self.n)
        self.send("host0", p)
        return p, self.expect("fabric0", self.n)

    def dropped(self, pkt_builder, reason):
        """Send a marked packet that must be dropped for `reason`."""
        before = self.drops()
        self.n += 1
        self.send("host0", pkt_builder(self.n))
        assert self.wait_drop(reason, before), "no %s drop" % reason
        assert self.expect("fabric0", self.n, timeout=0.1) is None

    def wait_drop(self, reason, before, timeout=3.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.drops().get(reason, 0) > before.get(reason, 0):
                return True
            time.sleep(0.02)
        return False


@pytest.fixture
def taps(tmp_path):
    t = Taps(tmp_path, world()).start()
    yield t
    t.stop()


def to_5(i):
    return vm(VM1, "10.0.0.2", "10.0.0.5", i)


def test_changes_take_effect_on_the_next_packet(taps):
    t, rpc = taps, taps.rpc
    p, o = t.out(to_5)
    check_encap(o, "fabric0", bytes(p), Encap("fabric0", N1, UL4, "100.64.1.5", 1000, inner_dst=M5))

    # mapping deleted: mapping_miss
    rpc.call("mapping.delete", {"vnet": "v1", "ip": "10.0.0.5"})
    t.dropped(to_5, "mapping_miss")

    # re-added with another PA and MAC: the new ones
    rpc.call("mapping.add", {"vnet": "v1", "ip": "10.0.0.5", "underlay_ip": "100.64.1.55",
                             "mac": M9, "use_dst_vni": True})
    p, o = t.out(to_5)
    check_encap(o, "fabric0", bytes(p), Encap("fabric0", N1, UL4, "100.64.1.55", 1000, inner_dst=M9))

    # a more specific route with action drop, then gone again
    rpc.call("route.add", {"group": "rg1", "prefix": "10.0.0.5/32", "action": "drop"})
    t.dropped(to_5, "route_drop")
    rpc.call("route.delete", {"group": "rg1", "prefix": "10.0.0.5/32"})
    assert t.out(to_5)[1] is not None

    # the ENI down and up again
    rpc.call("eni.set", {"name": "e1", "admin_state": "down"})
    t.dropped(to_5, "eni_admin_down")
    rpc.call("eni.set", {"name": "e1", "admin_state": "up"})
    assert t.out(to_5)[1] is not None

    # a new next hop for the underlay route
    nh = "02:00:00:00:0b:99"
    rpc.call("underlay_route.delete", {"prefix": "100.64.1.0/24"})
    rpc.call("underlay_route.add", {"prefix": "100.64.1.0/24",
                                    "next_hops": [{"port": "fabric0", "mac": nh}]})
    p, o = t.out(to_5)
    check_encap(o, "fabric0", bytes(p), Encap("fabric0", nh, UL4, "100.64.1.55", 1000, inner_dst=M9))


def test_switch_underlay_ips(taps):
    """The outer source follows switch.set; without an IPv6 underlay IP an
    IPv6 PA cannot be reached (no_underlay_ip)."""
    t, rpc = taps, taps.rpc
    rpc.call("switch.set", {"underlay_ip": "100.64.0.9", "underlay_ip6": None})
    p, o = t.out(to_5)
    check_encap(o, "fabric0", bytes(p), Encap("fabric0", N1, "100.64.0.9", "100.64.1.5", 1000,
                                              inner_dst=M5))
    t.dropped(lambda i: vm(VM1, "10.0.0.2", "10.0.0.10", i), "no_underlay_ip")


def test_bulk_mappings_grow_the_table_under_traffic(taps):
    t, rpc = taps, taps.rpc
    n = 5000   # beyond the mapping table's first size: a bigger one is swapped in
    entries = [{"vnet": "v1", "ip": "10.5.%d.%d" % (i // 250, i % 250 + 1),
                "underlay_ip": "100.64.1.%d" % (i % 200 + 1), "mac": M5} for i in range(n)]
    rpc.call("mapping.add", {"entries": entries})
    for i in (0, 1234, n - 1):
        ip = entries[i]["ip"]
        p, o = t.out(lambda k: vm(VM1, "10.0.0.2", ip, k))
        check_encap(o, "fabric0", bytes(p),
                    Encap("fabric0", N1, UL4, entries[i]["underlay_ip"], 1000, inner_dst=M5))


def test_eni_counters(taps):
    t, rpc = taps, taps.rpc
    sizes_out = []
    for k in range(3):
        p, o = t.out(to_5)
        assert o is not None
        sizes_out.append(len(bytes(p)))
    # two packets from the fabric to e1 (decapsulated) and one to e2 (tagged)
    sizes_in = []
    for k, (mac, dst) in enumerate(((VM1, "10.0.0.2"), (VM1, "10.0.0.2"), (VM2, "10.0.0.3"))):
        t.n += 1
        inner = tenant("02:00:00:00:40:01", mac, "10.0.0.5", dst, t.n)
        t.send("fabric0", vxlan_in("100.64.1.5", UL4, 1000, inner))
        assert t.expect("host0", t.n) is not None
        # delivered: the inner frame, plus e2's VLAN tag (the kernel's packet
        # socket hands us tagged frames untagged, so count from the input)
        sizes_in.append((mac, len(bytes(inner)) + (4 if mac == VM2 else 0)))
    st = rpc.call("stats.get", {"scope": "eni"})["eni"]
    e1, e2 = st["e1"], st["e2"]
    assert (e1["rx_packets"], e1["rx_bytes"]) == (3, sum(sizes_out))
    assert (e1["tx_packets"], e1["tx_bytes"]) == (2, sum(s for m, s in sizes_in if m == VM1))
    assert (e2["tx_packets"], e2["tx_bytes"]) == (1, sum(s for m, s in sizes_in if m == VM2))
    assert e2["rx_packets"] == 0
    assert set(e1) >= {"rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "acl_drops", "flows"}
    rpc.call("stats.clear", {"scope": "eni"})
    st = rpc.call("stats.get", {"scope": "eni"})["eni"]
    assert st["e1"]["rx_packets"] == 0 and st["e1"]["tx_bytes"] == 0
    # a deleted ENI leaves the scope; a new one starts from zero at a reused index
    rpc.call("eni.delete", {"name": "e5"})
    assert "e5" not in rpc.call("stats.get", {"scope": "eni"})["eni"]
    rpc.call("eni.add", {"name": "e9", "mac": "02:00:00:00:10:09", "vnet": "v1", "port": "host0"})
    assert rpc.call("stats.get", {"scope": "eni"})["eni"]["e9"]["rx_packets"] == 0


def test_refused_changes_name_the_object(taps):
    rpc = taps.rpc
    # appliance ENIs are found by MAC alone: a second one with a1's MAC is refused
    with pytest.raises(RpcError) as e:
        rpc.call("eni.add", {"name": "dup", "mac": "02:00:00:00:30:01", "vnet": "v2"})
    assert "eni dup" in e.value.message and "a1" in e.value.message
    assert "dup" not in rpc.call("stats.get", {"scope": "eni"})["eni"]
    # and the transaction left nothing behind: forwarding is unchanged
    p, o = taps.out(to_5)
    assert o is not None


def test_restart_restores_the_tables(tmp_path):
    t = Taps(tmp_path, [], state_file=True).start()
    try:
        r = t.rpc
        r.call("txn", {"ops": world()})
        p, o = t.out(to_5)
        assert o is not None
    finally:
        t.stop()
    t = Taps(tmp_path, None, state_file=True).start()
    try:
        p, o = t.out(to_5)
        check_encap(o, "fabric0", bytes(p), Encap("fabric0", N1, UL4, "100.64.1.5", 1000,
                                                  inner_dst=M5))
        assert t.rpc.call("stats.get", {"scope": "eni"})["eni"]["e1"]["rx_packets"] == 1
    finally:
        t.stop()


# silence unused-import linters for names used only through lambdas
_ = (UDP, tag)
