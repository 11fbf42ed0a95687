"""Patch mode (l2 baseline) and malformed input: pcap in -> sswitchd -> pcap out.

Table-driven: each malformed case is sent a distinct number of times, so the
drop counter of its reason must equal exactly that number.
"""
from scapy.all import Ether, Dot1Q, IP, IPv6, TCP, UDP, ICMP, ARP, Raw
from scapy.layers.inet6 import IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, IPv6ExtHdrDestOpt
from scapy.layers.vxlan import VXLAN
from scapy.contrib.roce import BTH, AETH

from sswitch import Daemon, Port

HOST_MAC = "02:00:00:00:00:01"
FAB_MAC = "02:00:00:00:00:aa"
PEER_MAC = "02:00:00:00:00:bb"


def eth(dst=PEER_MAC):
    return Ether(src=HOST_MAC, dst=dst)


def valid_packets():
    """Every shape the parser accepts; patch mode forwards them unchanged."""
    pkts = [
        eth() / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=1234, dport=80, flags="S"),
        eth() / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1, dport=53) / Raw(b"q" * 30),
        eth() / IP(src="10.0.0.1", dst="10.0.0.2") / ICMP(id=7, seq=1),
        eth() / IP(src="10.0.0.1", dst="10.0.0.2", options=b"\x94\x04\x00\x00") / TCP(),
        eth() / IP(src="10.0.0.1", dst="10.0.0.2", flags="MF") / UDP() / Raw(b"a" * 64),
        eth() / IP(src="10.0.0.1", dst="10.0.0.2", frag=8) / Raw(b"b" * 40),
        eth() / IPv6(src="2001:db8::1", dst="2001:db8::2") / TCP(sport=5, dport=6),
        eth() / IPv6(src="2001:db8::1", dst="2001:db8::2") / IPv6ExtHdrHopByHop()
        / IPv6ExtHdrDestOpt() / IPv6ExtHdrRouting() / UDP(),
        eth() / Dot1Q(vlan=100, prio=5) / IP(src="10.1.0.1", dst="10.1.0.2") / UDP(),
        eth() / Dot1Q(vlan=10) / Dot1Q(vlan=20) / IPv6() / UDP(),
        Ether(src=HOST_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(psrc="10.0.0.1", pdst="10.0.0.9"),
        eth() / IP(dst="192.0.2.1") / UDP(sport=49152, dport=4789) / VXLAN(vni=5000)
        / Ether() / IP(src="172.16.0.1", dst="172.16.0.2") / TCP(),
        eth() / IP(src="10.9.0.1", dst="10.9.0.2") / UDP(sport=49153, dport=4791)
        / BTH(opcode=0x0a, dqpn=0x1234, psn=42) / Raw(b"\x00" * 16 + b"d" * 32),
        eth() / IP(src="10.9.0.2", dst="10.9.0.1") / UDP(sport=49154, dport=4791)
        / BTH(opcode=0x11, dqpn=0x99, psn=43) / AETH(syndrome=0x60),
        eth() / Raw(b"\x88\xcc" + b"\x00" * 46),  # LLDP-like ethertype: not IP, accepted
        eth() / IP(src="10.0.0.1", dst="10.0.0.2") / UDP() / Raw(b"J" * 1472),  # L3 1500
    ]
    return [Ether(bytes(p)) for p in pkts]


def test_patch_forwards_byte_identical(tmp_path):
    pkts = valid_packets() * 3
    d = Daemon(tmp_path, [Port("host0", "host", rx=pkts, peer="fabric0"),
                          Port("fabric0", "fabric")])
    d.start()
    d.wait_rx(len(pkts))
    d.stop()
    out = d.output("fabric0")
    assert [bytes(p) for p in out] == [bytes(p) for p in pkts]
    st = d.final_stats
    assert st["ports"]["host0"]["rx_packets"] == len(pkts)
    assert st["ports"]["host0"]["rx_bytes"] == sum(len(p) for p in pkts)
    assert st["ports"]["fabric0"]["tx_packets"] == len(pkts)
    assert st["ports"]["fabric0"]["tx_bytes"] == sum(len(p) for p in pkts)
    assert sum(st["drops"].values()) == 0
    # every node saw every packet once
    for node in ("parse", "l2_patch", "port_tx"):
        assert st["nodes"][node]["packets"] == len(pkts), node


def _raw(p, n):
    return Ether(bytes(p)[:n])


def malformed_cases():
    """(description, packet, drop reason)."""
    tcp4 = eth() / IP(src="10.0.0.1", dst="10.0.0.2") / TCP()
    udp6 = eth() / IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP() / Raw(b"x" * 8)
    return [
        ("runt, shorter than Ethernet", Raw(b"\x02" * 10), "parse_truncated"),
        ("IPv4 cut inside the header", _raw(tcp4, 14 + 12), "parse_truncated"),
        ("IPv4 total length past the frame", _raw(tcp4, 14 + 30), "parse_truncated"),
        ("IPv6 cut inside the header", _raw(udp6, 14 + 20), "parse_truncated"),
        ("IPv6 payload length past the frame", _raw(udp6, 14 + 44), "parse_truncated"),
        ("VXLAN with a truncated inner frame",
         eth() / IP() / UDP(dport=4789) / VXLAN(vni=1) / Raw(b"\x00" * 5), "parse_truncated"),
        ("RoCEv2 with a short BTH", eth() / IP() / UDP(dport=4791) / Raw(b"\x0a" * 6),
         "parse_truncated"),
        ("IHL below 5", eth() / IP(ihl=4) / Raw(b"\x00" * 20), "parse_bad_ip"),
        ("IP version 5 in an IPv4 frame", eth() / IP(version=5) / TCP(), "parse_bad_ip"),
        ("IPv4 total length below IHL", eth() / IP(len=12) / Raw(b"\x00" * 20), "parse_bad_ip"),
        ("IPv6 payload length 0 with UDP next",
         eth() / IPv6(plen=0, nh=17) / Raw(b"\x00" * 8), "parse_bad_ip"),
        ("bad IPv4 header checksum", eth() / IP(chksum=0x1234) / UDP(), "ip_checksum_bad"),
        ("TCP data offset 4", eth() / IP() / TCP(dataofs=4), "parse_bad_l4"),
        ("UDP length 4", eth() / IP() / UDP(len=4) / Raw(b"\x00" * 4), "parse_bad_l4"),
        ("three VLAN tags", eth() / Dot1Q(vlan=1) / Dot1Q(vlan=2) / Dot1Q(vlan=3) / IP() / UDP(),
         "vlan_too_deep"),
    ]


def test_malformed_dropped_and_counted(tmp_path):
    cases = malformed_cases()
    pkts, expect = [], {}
    for i, (desc, p, reason) in enumerate(cases):
        n = i + 1  # a distinct count per case
        pkts += [Ether(bytes(p)) if len(bytes(p)) >= 14 else p] * n
        expect[reason] = expect.get(reason, 0) + n
    good = valid_packets()[0]
    pkts.append(good)  # one good packet last: the daemon kept forwarding
    d = Daemon(tmp_path, [Port("host0", "host", rx=pkts, peer="fabric0"),
                          Port("fabric0", "fabric")])
    d.start()
    d.wait_rx(len(pkts))
    d.stop()
    out = d.output("fabric0")
    assert [bytes(p) for p in out] == [bytes(good)]
    drops = {k: v for k, v in d.final_stats["drops"].items() if v}
    assert drops == expect
    host = d.final_stats["ports"]["host0"]
    assert host["rx_packets"] == len(pkts)
    assert host["rx_dropped"] == len(pkts) - 1


def test_fabric_port_admits_own_mac_broadcast_multicast(tmp_path):
    p_own = Ether(src=PEER_MAC, dst=FAB_MAC) / IP() / UDP()
    p_other = Ether(src=PEER_MAC, dst="02:00:00:00:00:cc") / IP() / UDP()
    p_bcast = Ether(src=PEER_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP()
    p_mcast = Ether(src=PEER_MAC, dst="33:33:00:00:00:01") / IPv6(dst="ff02::1") / UDP()
    pkts = [Ether(bytes(p)) for p in (p_own, p_other, p_other, p_bcast, p_mcast)]
    d = Daemon(tmp_path, [Port("fabric0", "fabric", rx=pkts, peer="host0", mac=FAB_MAC),
                          Port("host0", "host")])
    d.start()
    d.wait_rx(len(pkts))
    d.stop()
    out = [bytes(p) for p in d.output("host0")]
    assert out == [bytes(pkts[0]), bytes(pkts[3]), bytes(pkts[4])]
    assert d.final_stats["drops"]["dmac_mismatch"] == 2


def test_mtu_enforced_on_egress(tmp_path):
    fits = eth() / IP() / UDP() / Raw(b"m" * (1000 - 28))       # L3 1000
    over = eth() / IP() / UDP() / Raw(b"m" * (1001 - 28))       # L3 1001
    tagged = eth() / Dot1Q(vlan=5) / IP() / UDP() / Raw(b"m" * (1000 - 28))  # tag not L3
    pkts = [Ether(bytes(p)) for p in (fits, over, over, tagged)]
    d = Daemon(tmp_path, [Port("host0", "host", rx=pkts, peer="fabric0"),
                          Port("fabric0", "fabric", mtu=1000)])
    d.start()
    d.wait_rx(len(pkts))
    d.stop()
    assert [bytes(p) for p in d.output("fabric0")] == [bytes(pkts[0]), bytes(pkts[3])]
    st = d.final_stats
    assert st["drops"]["mtu_exceeded"] == 2
    assert st["ports"]["fabric0"]["tx_dropped"] == 2


def test_without_peer_the_role_pipeline_decides(tmp_path):
    """No peer: a host port's frames go to the tenant pipeline, which knows
    no ENI here (eni_miss); a fabric port's non-VXLAN frames are not_vxlan."""
    pkts = [Ether(bytes(eth() / IP() / UDP()))] * 4
    fab = [Ether(bytes(Ether(src=PEER_MAC, dst=FAB_MAC) / IP() / UDP()))] * 3
    d = Daemon(tmp_path, [Port("host0", "host", rx=pkts),
                          Port("fabric0", "fabric", rx=fab, mac=FAB_MAC)])
    d.start()
    d.wait_rx(len(pkts) + len(fab))
    d.stop()
    drops = {k: v for k, v in d.final_stats["drops"].items() if v}
    assert drops == {"eni_miss": 4, "not_vxlan": 3}
    assert d.output("fabric0") == [] and d.output("host0") == []


def test_storage_port_gets_lossless_tx_queues(tmp_path):
    pkts = [Ether(bytes(eth() / IP() / UDP()))] * 3
    d = Daemon(tmp_path, [Port("host0", "host", rx=pkts, peer="stor0"),
                          Port("stor0", "storage")])
    d.start()
    d.wait_rx(len(pkts))
    d.stop()
    stor = next(p for p in d.ports if p.name == "stor0")
    assert len(stor.tx_files) == 2  # worker 0's default queue and its lossless queue
    assert len(d.output("stor0", 0)) == 3   # patch traffic is the default class
    assert len(d.output("stor0", 1)) == 0
