"""Private Link, the return path (SPEC 3.8; docs/privatelink.md) through
the real daemon on taps, one frame at a time (a reply must come after the
packet that opened its flow): the service's IPv6 reply, VXLAN to the ENI's
pl_underlay_ip, is translated back to IPv4 and delivered to the VM.

The ENI allows everything outbound and denies everything inbound, so a
reply passes only as the reverse of the flow the VM opened. Expected frames
are what an IPv4 service would have sent (Identification 0, DF set, TOS /
TTL from the traffic class / hop limit), built by scapy with its own
checksums and compared byte for byte.
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(REPO, "tests", "packet"))
sys.path.insert(0, os.path.join(REPO, "tests", "lib"))

import pytest  # noqa: E402
from scapy.all import (ARP, ICMP, ICMPv6EchoReply, ICMPv6EchoRequest, IP, IPv6, TCP,  # noqa: E402
                       UDP, Ether, Raw)
from scapy.layers.vxlan import VXLAN  # noqa: E402

from test_acl_topo import (ENI_MAC, FAB_MAC, NH_MAC, PEER, PEER_MAC, PEER_PA, SW_MAC, UL_IP,  # noqa: E402
                           VM, VNI, Live, inbound, outbound, topology_ops)

PL_IP = "100.64.0.50"                  # the ENI's pl_underlay_ip
PE = "10.0.1.1"                        # the private endpoint (IPv4, in the VNET)
PE_PA = "100.64.1.77"                  # its mapping's underlay_ip: the service
PE_MAC = "02:00:00:00:50:01"
PE_VNI = 5000
SVC = "1122:3344:5566:7788::303:301"   # overlay_dip /128
VM6 = "9988::a00:1"                    # overlay_sip 9988::/96 + 10.0.0.1

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists("/dev/net/tun"),
                                reason="TAP ports need root and /dev/net/tun")

GROUPS = {"out4": ("ipv4", [{"priority": 1, "action": "allow"}]),
          "in4": ("ipv4", [{"priority": 1, "action": "deny"}])}
ACL = {"outbound_v4": ["out4"], "inbound_v4": ["in4"]}


def ops():
    o = topology_ops(acl=ACL, groups=GROUPS)
    o[-1]["params"]["pl_underlay_ip"] = PL_IP            # eni.add is last
    o.append({"method": "mapping.add", "params": {
        "vnet": "v1", "ip": PE, "underlay_ip": PE_PA, "mac": PE_MAC, "routing": "privatelink",
        "overlay_sip": "9988::/96", "overlay_dip": SVC + "/128", "vni": PE_VNI}})
    return o


def from_vm(l4, tos=0):
    return Ether(src=ENI_MAC, dst=SW_MAC) / IP(src=VM, dst=PE, tos=tos) / l4


def from_service(l6, src=PE_PA, dst=PL_IP, vni=PE_VNI, tc=0, hlim=61, inner_src=SVC,
                 inner_dst=VM6, ecn=0):
    return (Ether(src=NH_MAC, dst=FAB_MAC) / IP(src=src, dst=dst, tos=ecn)
            / UDP(sport=50123, dport=4789) / VXLAN(vni=vni, flags=0x08)
            / Ether(src=PE_MAC, dst=ENI_MAC) / IPv6(src=inner_src, dst=inner_dst, tc=tc, hlim=hlim)
            / l6)


def ipv4_service(l4, tos=0, ttl=61):
    """What an IPv4 service would have sent the VM (scapy's checksums)."""
    return bytes(Ether(src=PE_MAC, dst=ENI_MAC)
                 / IP(src=PE, dst=VM, tos=tos, ttl=ttl, id=0, flags="DF") / l4)


def wait_for(lv, port, match, timeout=2.0):
    """The first frame out of `port` for which match(frame) holds, or None
    (and every frame seen)."""
    seen = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        for f in lv.frames(port, 0.05):
            seen.append(f)
            if match(f):
                return f, seen
    return None, seen


class PL:
    def __init__(self, lv):
        self.lv = lv
        self.vm_bytes = 0          # the IPv4 frames of both directions (pl_bytes)
        self.n = 0

    def out(self, frame):
        """A VM packet to the private endpoint: it must leave fabric0 in
        VXLAN toward the service."""
        self.lv.send("host0", frame)
        f, _ = wait_for(self.lv, "fabric0", lambda f: VXLAN in f and f[IP].dst == PE_PA
                        and f[VXLAN].vni == PE_VNI)
        assert f is not None, "%s: not sent to the service" % frame.summary()
        self.vm_bytes += len(bytes(frame))
        self.n += 1
        return f

    def reply(self, frame, want):
        """A service packet that must reach the VM as exactly `want`."""
        self.lv.send("fabric0", frame)
        f, seen = wait_for(self.lv, "host0", lambda f: bytes(f) == want)
        assert f is not None, (Ether(want).show(dump=True),
                               [g.show(dump=True) for g in seen], self.lv.drops())
        self.vm_bytes += len(want)
        self.n += 1

    def dropped(self, port, frame, reason):
        before = self.lv.drops().get(reason, 0)
        self.lv.send(port, frame)
        deadline = time.time() + 3
        while time.time() < deadline:
            if self.lv.drops().get(reason, 0) == before + 1:
                assert not [f for f in self.lv.frames("host0", 0.2) if IP in f and f[IP].src == PE]
                return
            time.sleep(0.05)
        raise AssertionError("%s: not dropped %s: %s" % (frame.summary(), reason, self.lv.drops()))


@pytest.fixture(scope="module")
def pl(tmp_path_factory):
    with Live(tmp_path_factory.mktemp("plret"), ops()) as lv:
        yield PL(lv)


def test_tcp_reply_byte_exact(pl):
    o = pl.out(from_vm(TCP(sport=40000, dport=443, flags="S", seq=1000)))
    six = Ether(bytes(o[VXLAN].payload))[IPv6]
    assert six.src == VM6 and six.dst == SVC
    pl.reply(from_service(TCP(sport=443, dport=40000, flags="SA", seq=7, ack=1001), tc=0x28,
                          hlim=57),
             ipv4_service(TCP(sport=443, dport=40000, flags="SA", seq=7, ack=1001), tos=0x28,
                          ttl=57))
    pl.out(from_vm(TCP(sport=40000, dport=443, flags="A", seq=1001, ack=8)))
    for k in range(3):    # the same flow again: always through pl_in
        data = Raw(b"reply-%d" % k * 50)
        pl.reply(from_service(TCP(sport=443, dport=40000, flags="PA", seq=8, ack=1001) / data),
                 ipv4_service(TCP(sport=443, dport=40000, flags="PA", seq=8, ack=1001) / data))


def test_udp_reply_byte_exact(pl):
    pl.out(from_vm(UDP(sport=5353, dport=53) / Raw(b"query")))
    data = Raw(b"answer" * 20)
    pl.reply(from_service(UDP(sport=53, dport=5353) / data),
             ipv4_service(UDP(sport=53, dport=5353) / data))


def test_udp_checksum_0_and_ecn(pl):
    """A UDP checksum of 0 (not valid over IPv6) gets one computed; RFC 6040
    after the translation: outer CE over inner ECT(0) marks the IPv4
    packet CE (header checksum recomputed)."""
    pl.out(from_vm(UDP(sport=5400, dport=53), tos=0x02))
    data = Raw(b"no checksum")
    pl.reply(from_service(UDP(sport=53, dport=5400, chksum=0) / data),
             ipv4_service(UDP(sport=53, dport=5400) / data))
    pl.reply(from_service(UDP(sport=53, dport=5400) / data, tc=0x02, ecn=3),
             ipv4_service(UDP(sport=53, dport=5400) / data, tos=0x03))


def test_icmp_echo_reply_byte_exact(pl):
    pl.out(from_vm(ICMP(type=8, id=77, seq=3) / Raw(b"ping-data")))
    pl.reply(from_service(ICMPv6EchoReply(id=77, seq=3, data=b"ping-data")),
             ipv4_service(ICMP(type=0, id=77, seq=3) / Raw(b"ping-data")))


def test_wrong_outer_source(pl):
    pl.out(from_vm(UDP(sport=6000, dport=53)))
    pl.dropped("fabric0", from_service(UDP(sport=53, dport=6000), src="100.64.1.99"),
               "pa_validation_fail")


def test_unsolicited_from_service(pl):
    # a connection the service opens, a reply to a port nobody used, an
    # echo request: no flow the VM opened
    pl.dropped("fabric0", from_service(TCP(sport=443, dport=5555, flags="S")), "pl_no_flow")
    pl.dropped("fabric0", from_service(UDP(sport=53, dport=5354)), "pl_no_flow")
    pl.dropped("fabric0", from_service(ICMPv6EchoRequest(id=9, seq=1)), "pl_no_flow")
    # outside overlay_sip: not the VM's address
    pl.dropped("fabric0", from_service(UDP(sport=53, dport=5353), inner_dst="9989::a00:1"),
               "pl_no_flow")


def test_inbound_deny_all_is_active(pl):
    """The inbound ACL denies what is no reply: an ordinary IPv4 packet
    from the peer's PA (the replies above passed despite it)."""
    f = (Ether(src=NH_MAC, dst=FAB_MAC) / IP(src=PEER_PA, dst=UL_IP) / UDP(sport=1, dport=4789)
         / VXLAN(vni=VNI, flags=0x08) / Ether(src=PEER_MAC, dst=ENI_MAC) / IP(src=PEER, dst=VM)
         / UDP(sport=53, dport=7000))
    pl.dropped("fabric0", f, "acl_deny")


def test_arp_for_pl_underlay_ip(pl):
    pl.lv.send("fabric0", Ether(src=NH_MAC, dst="ff:ff:ff:ff:ff:ff")
               / ARP(op=1, hwsrc=NH_MAC, psrc=PE_PA, pdst=PL_IP))
    f, seen = wait_for(pl.lv, "fabric0", lambda f: ARP in f and f[ARP].op == 2)
    assert f is not None and f[ARP].psrc == PL_IP and f[ARP].hwsrc == FAB_MAC, seen


def test_echo_to_pl_underlay_ip(pl):
    pl.lv.send("fabric0", Ether(src=NH_MAC, dst=FAB_MAC) / IP(src=PE_PA, dst=PL_IP)
               / ICMP(type=8, id=5, seq=1) / Raw(b"underlay"))
    f, seen = wait_for(pl.lv, "fabric0", lambda f: ICMP in f and f[ICMP].type == 0)
    assert f is not None and f[IP].src == PL_IP and f[IP].dst == PE_PA, seen
    assert f[Ether].src == FAB_MAC and f[Ether].dst == NH_MAC


def test_counters_and_no_fast_path_entry(pl):
    """pl_packets / pl_bytes count both directions (IPv4 side), and no
    inbound fast-path entry was made from a translated reply."""
    want = pl.n
    for _ in range(50):
        st = pl.lv.rpc.call("stats.get", {"scope": "all"})
        if st["privatelink"]["vm"]["pl_packets"] >= want:
            break
        time.sleep(0.05)
    assert st["privatelink"]["vm"] == {"pl_packets": want, "pl_bytes": pl.vm_bytes}
    # fresh translated replies of a live flow: no entry of any kind (a
    # cached deny of test_inbound_deny_all_is_active may already count)
    fills = st["flows"]["flow_fast_fills"]
    pl.out(from_vm(UDP(sport=5500, dport=53) / Raw(b"q")))
    for k in range(3):
        data = Raw(b"a%d" % k)
        pl.reply(from_service(UDP(sport=53, dport=5500) / data),
                 ipv4_service(UDP(sport=53, dport=5500) / data))
    st = pl.lv.rpc.call("stats.get", {"scope": "all"})
    assert st["flows"]["flow_fast_fills"] == fills, st["flows"]
    assert st["flows"]["flow_fast_hits"] == 0, st["flows"]
    # the control: an ordinary reply (the same exact VXLAN header, flags
    # 0x08, as the service's above) makes the entry a translated one did not
    pl.lv.step("host0", outbound(UDP(sport=7100, dport=53)), True)
    reply = inbound(UDP(sport=53, dport=7100) / Raw(b"control"))
    reply[VXLAN].flags = 0x08
    pl.lv.step("fabric0", reply, True)
    st = pl.lv.rpc.call("stats.get", {"scope": "all"})
    assert st["flows"]["flow_fast_fills"] == fills + 1, st["flows"]
    assert st["nodes"]["pl_in"]["drops"] == {"pa_validation_fail": 1, "pl_no_flow": 4}


PL_IP6, PE_PA6 = "fd00:64::50", "fd00:64::77"


def test_ipv6_underlay(tmp_path):
    """pl_underlay_ip and the service's PA over IPv6: the reply comes in
    IPv6 VXLAN, the VM still gets IPv4; the switch answers neighbour
    solicitations for the pl_underlay_ip."""
    from scapy.layers.inet6 import ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr
    o = topology_ops(acl=ACL, groups=GROUPS)
    o.insert(1, {"method": "underlay_route.add", "params": {
        "prefix": "fd00:64::/64", "next_hops": [{"port": "fabric0", "mac": NH_MAC}]}})
    o[0]["params"]["underlay_ip6"] = "fd00:64::1"
    o[-1]["params"]["pl_underlay_ip"] = PL_IP6
    o.append({"method": "mapping.add", "params": {
        "vnet": "v1", "ip": PE, "underlay_ip": PE_PA6, "mac": PE_MAC, "routing": "privatelink",
        "overlay_sip": "9988::/96", "overlay_dip": SVC + "/128", "vni": PE_VNI}})
    with Live(tmp_path, o) as lv:
        lv.send("host0", from_vm(UDP(sport=5500, dport=53)))
        f, seen = wait_for(lv, "fabric0", lambda f: VXLAN in f and IPv6 in f
                           and f[IPv6].dst == PE_PA6)
        assert f is not None and f[IPv6].src == PL_IP6, seen
        data = Raw(b"over v6")
        reply = (Ether(src=NH_MAC, dst=FAB_MAC) / IPv6(src=PE_PA6, dst=PL_IP6)
                 / UDP(sport=50123, dport=4789) / VXLAN(vni=PE_VNI, flags=0x08)
                 / Ether(src=PE_MAC, dst=ENI_MAC) / IPv6(src=SVC, dst=VM6, hlim=61)
                 / UDP(sport=53, dport=5500) / data)
        lv.send("fabric0", reply)
        want = ipv4_service(UDP(sport=53, dport=5500) / data)
        f, seen = wait_for(lv, "host0", lambda f: bytes(f) == want)
        assert f is not None, ([g.summary() for g in seen], lv.drops())
        # a wrong PA of the right family
        before = lv.drops().get("pa_validation_fail", 0)
        reply[IPv6].src = "fd00:64::99"
        lv.send("fabric0", reply)
        time.sleep(0.3)
        assert lv.drops().get("pa_validation_fail", 0) == before + 1
        ns = (Ether(src=NH_MAC, dst="33:33:ff:00:00:50") / IPv6(src="fd00:64::2", dst="ff02::1:ff00:50")
              / ICMPv6ND_NS(tgt=PL_IP6) / ICMPv6NDOptSrcLLAddr(lladdr=NH_MAC))
        lv.send("fabric0", ns)
        f, seen = wait_for(lv, "fabric0", lambda f: ICMPv6ND_NA in f)
        assert f is not None and f[ICMPv6ND_NA].tgt == PL_IP6 and f[Ether].src == FAB_MAC, seen
        # the ENI administratively down: its replies are not delivered
        lv.rpc.call("eni.set", {"name": "vm", "admin_state": "down"})
        before = lv.drops().get("eni_admin_down", 0)
        reply[IPv6].src = PE_PA6
        lv.send("fabric0", reply)
        time.sleep(0.3)
        assert lv.drops().get("eni_admin_down", 0) == before + 1
        assert wait_for(lv, "host0", lambda f: bytes(f) == want, timeout=0.2)[0] is None
