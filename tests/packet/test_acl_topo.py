"""Topology and live traffic for the ACL and conntrack packet tests (no
test in this file: it is imported by test_acl*.py and test_conntrack*.py).

One ENI (`vm`, 10.0.0.1 / fd10::1) on host port host0, one peer CA
(10.0.0.2 / fd10::2) behind PA 100.64.0.2 on fabric0. Outbound frames are
VM -> peer on host0 and leave VXLAN-encapsulated on fabric0; inbound frames
are VXLAN from the peer's PA on fabric0 and leave decapsulated on host0.

Order matters for connection tracking (a reply after its request, a packet
after an ACL change, after a timeout), and packets in pcap files of two
ports have no order between them. So these tests run the daemon on net_tap
ports and send / receive frames one at a time, at the moment they choose,
through AF_PACKET sockets on the kernel side of the taps (the daemon
removes the taps when it exits). Every step waits for its effect: the
frame out of the other port, or the drop counter of the expected reason.
"""
import os
import select
import socket
import time
import uuid

from scapy.all import Ether, IP, IPv6, UDP
from scapy.layers.vxlan import VXLAN

from sswitch import Daemon, Port

SW_MAC = "02:00:00:00:00:fe"
FAB_MAC = "02:00:00:00:00:aa"
NH_MAC = "02:00:00:00:00:bb"
UL_IP = "100.64.0.1"
PEER_PA = "100.64.0.2"
VNI = 1000
ENI_MAC = "02:00:00:00:01:01"
PEER_MAC = "02:00:00:00:02:02"
VM = "10.0.0.1"
PEER = "10.0.0.2"
VM6 = "fd10::1"
PEER6 = "fd10::2"

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def topology_ops(acl=None, groups=()):
    """Bootstrap ops: switch, VNET, routes, mappings, the ACL groups
    ({name: (family, [rules])}) and the ENI with `acl` stage lists."""
    ops = [
        {"method": "switch.set", "params": {"underlay_ip": UL_IP, "mac": SW_MAC}},
        {"method": "vnet.add", "params": {"name": "v1", "vni": VNI}},
        {"method": "underlay_route.add", "params": {
            "prefix": "100.64.0.0/16", "next_hops": [{"port": "fabric0", "mac": NH_MAC}]}},
        {"method": "mapping.add", "params": {"vnet": "v1", "ip": PEER, "underlay_ip": PEER_PA,
                                             "mac": PEER_MAC}},
        {"method": "mapping.add", "params": {"vnet": "v1", "ip": PEER6, "underlay_ip": PEER_PA,
                                             "mac": PEER_MAC}},
        {"method": "route.add", "params": {"group": "rg", "prefix": "0.0.0.0/0", "action": "vnet"}},
        {"method": "route.add", "params": {"group": "rg", "prefix": "::/0", "action": "vnet"}},
    ]
    for name, (family, rules) in dict(groups).items():
        ops.append({"method": "acl_group.replace",
                    "params": {"name": name, "family": family, "rules": rules}})
    eni = {"name": "vm", "mac": ENI_MAC, "vnet": "v1", "port": "host0", "route_group": "rg"}
    if acl:
        eni["acl"] = acl
    ops.append({"method": "eni.add", "params": eni})
    return ops


def outbound(l4, v6=False, src=None, dst=None):
    """A frame from the VM (host0)."""
    ip = IPv6(src=src or VM6, dst=dst or PEER6) if v6 else IP(src=src or VM, dst=dst or PEER)
    return Ether(src=ENI_MAC, dst=SW_MAC) / ip / l4


def inbound(l4, v6=False, src=None, dst=None, ip=None):
    """A VXLAN frame from the peer's PA (fabric0); `ip` replaces the inner
    IP layer (fragments)."""
    if ip is None:
        ip = IPv6(src=src or PEER6, dst=dst or VM6) if v6 else IP(src=src or PEER, dst=dst or VM)
    return (Ether(src=NH_MAC, dst=FAB_MAC) / IP(src=PEER_PA, dst=UL_IP)
            / UDP(sport=49152, dport=4789) / VXLAN(vni=VNI)
            / Ether(src=PEER_MAC, dst=ENI_MAC) / ip / l4)


def tenant(frame, port):
    """The tenant packet (IP layer) of a frame that left `port`, or None."""
    if port == "fabric0":
        if VXLAN not in frame:
            return None
        inner = frame[VXLAN].payload
    else:
        inner = frame
    if IP in inner:
        return inner[IP]
    if IPv6 in inner:
        return inner[IPv6]
    return None


class Live:
    """sswitchd on two taps with the topology above."""

    def __init__(self, tmp, ops, workers=(1,), lcores_map=None, flows=None):
        sfx = uuid.uuid4().hex[:8]
        self.ifname = {"host0": "ssh" + sfx, "fabric0": "ssf" + sfx}
        ports = [Port("host0", "host", kind="raw",
                      extra="net_tap0,iface=%s" % self.ifname["host0"]),
                 Port("fabric0", "fabric", kind="raw", mac=FAB_MAC,
                      extra="net_tap1,iface=%s" % self.ifname["fabric0"])]
        conf = ""
        if flows:
            conf = "flows = { %s };" % " ".join("%s = %d;" % kv for kv in flows.items())
        self.d = Daemon(tmp, ports, workers=workers, lcores_map=lcores_map, bootstrap=ops,
                        extra_conf=conf)
        self.sock = {}

    def __enter__(self):
        self.d.start()
        try:
            for port, ifname in self.ifname.items():
                # the kernel side stays quiet: no IPv6 autoconfiguration
                with open("/proc/sys/net/ipv6/conf/%s/disable_ipv6" % ifname, "w") as f:
                    f.write("1\n")
                s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
                s.bind((ifname, 0))
                s.setblocking(False)
                self.sock[port] = s
            self.rpc = self.d.rpc()
            time.sleep(0.2)
            self.drain()
        except Exception:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        for s in self.sock.values():
            s.close()
        self.sock = {}
        if getattr(self, "rpc", None):
            self.rpc.close()
            self.rpc = None
        if self.d.proc is not None:
            self.d.stop()

    def drain(self):
        for s in self.sock.values():
            while True:
                try:
                    s.recvfrom(65535)
                except BlockingIOError:
                    break

    def frames(self, port, timeout):
        """Frames the daemon sent out of `port` within `timeout` s."""
        s = self.sock[port]
        out = []
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            if left <= 0:
                return out
            r, _, _ = select.select([s], [], [], left)
            if not r:
                return out
            data, addr = s.recvfrom(65535)
            if addr[2] != PACKET_OUTGOING:
                out.append(Ether(data))

    def drops(self):
        return dict(self.d.stats()["drops"])

    def send(self, port, frame):
        self.sock[port].send(bytes(frame))

    def step(self, port, frame, passes, reason="acl_deny", timeout=3.0):
        """Send `frame` into `port`. passes=True: the same tenant packet must
        leave the other port (returned); False: it must be dropped for
        `reason` and nothing leaves."""
        out_port = "fabric0" if port == "host0" else "host0"
        sent = frame[VXLAN].payload if VXLAN in frame else frame
        want = sent[IP] if IP in sent else sent[IPv6]
        before = self.drops()
        self.send(port, frame)
        deadline = time.time() + timeout
        got = []
        while time.time() < deadline:
            for f in self.frames(out_port, 0.05):
                t = tenant(f, out_port)
                if t is not None and bytes(t) == bytes(want):
                    got.append(f)
            if passes and got:
                return got[0]
            after = self.drops()
            if not passes and after.get(reason, 0) > before.get(reason, 0):
                assert after[reason] == before.get(reason, 0) + 1, (before, after)
                # nothing of it may have left
                assert not got
                return None
        if passes:
            raise AssertionError("%r did not leave %s; drops %s -> %s" % (
                frame.summary(), out_port, before, self.drops()))
        raise AssertionError("%r was not dropped %s; drops %s -> %s, out: %d" % (
            frame.summary(), reason, before, self.drops(), len(got)))
