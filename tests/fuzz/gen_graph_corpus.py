#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The seed corpus of fuzz_graph (tests/fuzz/corpus/graph/): valid frames
of each kind the topology of fuzz_graph.c handles, one input per file.

An input is byte 0 (bits 0-1: ingress port 0 host0, 1 fabric0, 2 storage0;
bit 2: the frame twice, the second meets flow_fast; bit 3: two frames,
bytes 1-2 the first one's length, the second on port bits 4-5; bit 6: a
live trace records them) and the frames. Addresses are fuzz_graph.c's topology.

usage: tests/fuzz/gen_graph_corpus.py [DIR]   (default: the corpus folder;
files are rewritten, others left alone)
"""

import os
import struct
import sys
import zlib

from scapy.all import (ARP, ICMP, IP, UDP, TCP, Dot1Q, Ether, IPv6, IPv6ExtHdrHopByHop,
                       IPOption_Router_Alert, Raw, fragment)
from scapy.contrib.bfd import BFD
from scapy.contrib.roce import BTH
from scapy.layers.inet6 import ICMPv6EchoRequest, ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr
from scapy.layers.vxlan import VXLAN

HOST0, FAB0, STOR0 = "02:00:00:00:00:01", "02:00:00:00:00:aa", "02:00:00:00:00:51"
SW_MAC = "02:00:00:00:ff:ff"
UL4, UL6, VIP4, VIP6 = "100.64.0.1", "fd00::1", "100.64.0.100", "fd00::100"
VM1, VM2, VM4, APP1 = ("02:00:00:00:10:01", "02:00:00:00:10:02", "02:00:00:00:10:04",
                       "02:00:00:00:30:01")
M5, M6 = "02:00:00:00:20:05", "02:00:00:00:20:06"
N1, HV = "02:00:00:00:0b:01", "02:00:00:00:0c:01"
GPU_MAC, TGT_MAC = "02:00:00:00:0a:01", "02:00:00:00:0a:02"
BFD_PEER = "100.64.1.9"
HOST, FABRIC, STORAGE = 0, 1, 2


TRACED = 0x40


def one(port, frame, twice=False, traced=False):
    return bytes([port | (4 if twice else 0) | (TRACED if traced else 0)]) + bytes(frame)


def two(port_a, a, port_b, b, traced=False):
    a = bytes(a)
    return bytes([port_a | 8 | port_b << 4 | (TRACED if traced else 0)]) + \
        struct.pack(">H", len(a)) + a + bytes(b)


def roce(src, dst, dqpn, psn, smac=GPU_MAC, dmac=HOST0, opcode=4):
    """RoCEv2 RC SEND-only with its ICRC (the switch does not check it)."""
    p = Ether(src=smac, dst=dmac) / IP(src=src, dst=dst, tos=2) / UDP(sport=49152, dport=4791) \
        / BTH(opcode=opcode, dqpn=dqpn, psn=psn, ackreq=1) / Raw(b"r" * 32)
    raw = bytes(p)
    return raw + struct.pack("<I", zlib.crc32(raw[14:]) & 0xFFFFFFFF)


def vm_udp(src="10.0.0.2", dst="10.0.0.5", sport=1000, dport=80, mac=VM1, vlan=None, data=b"x"):
    e = Ether(src=mac, dst=SW_MAC)
    if vlan is not None:
        e = e / Dot1Q(vlan=vlan)
    ip = IPv6(src=src, dst=dst) if ":" in dst else IP(src=src, dst=dst)
    return e / ip / UDP(sport=sport, dport=dport) / Raw(data)


def vxlan_in(outer_src, outer_dst, vni, inner):
    ip = IPv6(src=outer_src, dst=outer_dst, hlim=60) if ":" in outer_dst else \
        IP(src=outer_src, dst=outer_dst, ttl=60)
    return Ether(src=HV, dst=FAB0) / ip / UDP(sport=50000, dport=4789) / VXLAN(vni=vni) / inner


def corpus():
    out = {}
    # outbound, host0: e1 (untagged), e2 (VLAN 100, rate limited)
    out["host-udp-out"] = one(HOST, vm_udp())
    out["host-udp-out-twice"] = one(HOST, vm_udp(sport=1001), twice=True)
    out["host-tcp-out-twice"] = one(HOST, Ether(src=VM1, dst=SW_MAC)
                                    / IP(src="10.0.0.2", dst="10.0.0.5")
                                    / TCP(sport=40000, dport=443, flags="S"), twice=True)
    out["host-tcp-syn-synack"] = two(
        HOST, Ether(src=VM1, dst=SW_MAC) / IP(src="10.0.0.2", dst="10.0.0.5")
        / TCP(sport=40001, dport=443, flags="S", seq=1000),
        FABRIC, vxlan_in("100.64.1.5", VIP4, 1000, Ether(src=M5, dst=VM1)
                         / IP(src="10.0.0.5", dst="10.0.0.2")
                         / TCP(sport=443, dport=40001, flags="SA", seq=5000, ack=1001)))
    out["host-udp-out-and-reply"] = two(
        HOST, vm_udp(sport=1002),
        FABRIC, vxlan_in("100.64.1.5", VIP4, 1000, Ether(src=M5, dst=VM1)
                         / IP(src="10.0.0.5", dst="10.0.0.2") / UDP(sport=80, dport=1002)
                         / Raw(b"y")))
    out["host-udp-out-v6"] = one(HOST, vm_udp(src="fd10::2", dst="fd10::5"))
    out["host-udp-out-v6-underlay"] = one(HOST, vm_udp(src="fd10::2", dst="fd10::6"))
    out["host-vlan-udp-out"] = one(HOST, vm_udp(mac=VM2, vlan=100, src="10.0.0.3"))
    out["host-udp-vnet-direct"] = one(HOST, vm_udp(dst="10.8.1.1"))
    out["host-udp-route-drop"] = one(HOST, vm_udp(dst="10.9.1.1"))
    out["host-udp-peer-vnet"] = one(HOST, vm_udp(dst="10.7.0.9"))
    out["host-udp-direct"] = one(HOST, vm_udp(dst="192.168.7.7"))
    out["host-udp-acl-deny"] = one(HOST, vm_udp(dst="10.0.0.66"))
    out["host-ip-options"] = one(HOST, Ether(src=VM1, dst=SW_MAC)
                                 / IP(src="10.0.0.2", dst="10.0.0.5",
                                      options=[IPOption_Router_Alert()])
                                 / UDP(sport=1003, dport=80) / Raw(b"o"))
    out["host-v6-hop-by-hop"] = one(HOST, Ether(src=VM1, dst=SW_MAC)
                                    / IPv6(src="fd10::2", dst="fd10::5") / IPv6ExtHdrHopByHop()
                                    / UDP(sport=1004, dport=80) / Raw(b"h"))
    out["host-privatelink"] = one(HOST, vm_udp(dst="10.0.1.1", sport=1005))
    out["host-privatelink-tunnel"] = one(HOST, Ether(src=VM1, dst=SW_MAC)
                                         / IP(src="10.0.0.2", dst="10.0.1.2")
                                         / TCP(sport=40002, dport=443, flags="S"))
    out["host-privatelink-icmp"] = one(HOST, Ether(src=VM1, dst=SW_MAC)
                                       / IP(src="10.0.0.2", dst="10.0.1.1") / ICMP(id=7, seq=1))
    # ARP, ND and echo toward the gateway
    out["host-arp-gateway"] = one(HOST, Ether(src=VM1, dst="ff:ff:ff:ff:ff:ff")
                                  / ARP(op=1, hwsrc=VM1, psrc="10.0.0.2", pdst="10.0.0.1"))
    out["host-vlan-arp-gateway"] = one(HOST, Ether(src=VM2, dst="ff:ff:ff:ff:ff:ff")
                                       / Dot1Q(vlan=100)
                                       / ARP(op=1, hwsrc=VM2, psrc="10.0.0.3",
                                             pdst="10.0.0.1"))
    out["host-nd-gateway"] = one(HOST, Ether(src=VM1, dst="33:33:ff:00:00:01")
                                 / IPv6(src="fd10::2", dst="ff02::1:ff00:1", hlim=255)
                                 / ICMPv6ND_NS(tgt="fd10::1") / ICMPv6NDOptSrcLLAddr(lladdr=VM1))
    out["host-icmp-gateway"] = one(HOST, Ether(src=VM1, dst=SW_MAC)
                                   / IP(src="10.0.0.2", dst="10.0.0.1") / ICMP(id=1, seq=1))
    out["host-icmp6-gateway"] = one(HOST, Ether(src=VM1, dst=SW_MAC)
                                    / IPv6(src="fd10::2", dst="fd10::1")
                                    / ICMPv6EchoRequest(id=1, seq=1))
    # fragments: the first and the second of one datagram
    frags = fragment(IP(src="10.0.0.2", dst="10.0.0.5", id=77) / UDP(sport=1006, dport=80)
                     / Raw(b"f" * 64), fragsize=32)
    out["host-fragments"] = two(HOST, Ether(src=VM1, dst=SW_MAC) / frags[0],
                                HOST, Ether(src=VM1, dst=SW_MAC) / frags[1])
    out["host-fragment-later"] = one(HOST, Ether(src=VM1, dst=SW_MAC) / frags[-1])
    # RoCEv2: host -> storage (lossless lane), with a QP policy; storage -> host
    out["host-roce"] = one(HOST, roce("192.168.1.10", "10.50.0.5", 0x100, 1))
    out["host-roce-qp"] = one(HOST, roce("192.168.1.10", "10.50.0.5", 1911, 2), twice=True)
    out["host-roce-v6"] = one(HOST, Ether(src=GPU_MAC, dst=HOST0)
                              / IPv6(src="fd00:9::10", dst="2001:db8:50::5")
                              / UDP(sport=49152, dport=4791) / BTH(opcode=4, dqpn=0x100, psn=3)
                              / Raw(b"r" * 16 + b"\x00" * 4))
    out["storage-roce-back"] = one(STORAGE, roce("10.50.0.5", "192.168.1.10", 0x200, 4,
                                                 smac=TGT_MAC, dmac=STOR0))
    out["storage-roce-then-host"] = two(
        HOST, roce("192.168.1.10", "10.50.0.5", 0x300, 5),
        STORAGE, roce("10.50.0.5", "192.168.1.10", 0x301, 6, smac=TGT_MAC, dmac=STOR0))
    # inbound VXLAN, fabric0
    out["fabric-vxlan-in"] = one(FABRIC, vxlan_in("100.64.1.5", VIP4, 1000,
                                                  Ether(src=M5, dst=VM1)
                                                  / IP(src="10.0.0.5", dst="10.0.0.2")
                                                  / UDP(sport=80, dport=1007) / Raw(b"i")),
                                 twice=True)
    out["fabric-vxlan6-in"] = one(FABRIC, vxlan_in("fd00:1::6", VIP6, 1000,
                                                   Ether(src=M6, dst=VM1)
                                                   / IP(src="10.0.0.6", dst="10.0.0.2")
                                                   / UDP(sport=80, dport=1008)))
    out["fabric-vxlan-pa-validate"] = one(FABRIC, vxlan_in("100.64.3.7", VIP4, 2000,
                                                           Ether(src=M5, dst=VM4)
                                                           / IP(src="10.7.0.9", dst="10.7.0.4")
                                                           / UDP(sport=80, dport=1009)))
    out["fabric-vxlan-appliance"] = one(FABRIC, vxlan_in("100.64.1.50", VIP4, 3000,
                                                         Ether(src=APP1, dst="02:02:02:02:02:02")
                                                         / IP(src="10.0.0.20", dst="10.0.0.5")
                                                         / UDP(sport=1010, dport=80)))
    out["fabric-vxlan-to-appliance"] = one(FABRIC, vxlan_in("100.64.1.5", VIP4, 1000,
                                                            Ether(src=M5, dst=APP1)
                                                            / IP(src="10.0.0.5", dst="10.0.0.20")
                                                            / UDP(sport=80, dport=1012)))
    out["fabric-arp-underlay"] = one(FABRIC, Ether(src=N1, dst="ff:ff:ff:ff:ff:ff")
                                     / ARP(op=1, hwsrc=N1, psrc=BFD_PEER, pdst=UL4))
    out["fabric-arp-reply-peer"] = one(FABRIC, Ether(src=N1, dst=FAB0)
                                       / ARP(op=2, hwsrc=N1, psrc=BFD_PEER, hwdst=FAB0,
                                             pdst=UL4))
    out["fabric-nd-underlay"] = one(FABRIC, Ether(src=N1, dst="33:33:ff:00:00:01")
                                    / IPv6(src="fd00:1::9", dst="ff02::1:ff00:1", hlim=255)
                                    / ICMPv6ND_NS(tgt=UL6) / ICMPv6NDOptSrcLLAddr(lladdr=N1))
    out["fabric-icmp-vip"] = one(FABRIC, Ether(src=N1, dst=FAB0)
                                 / IP(src=BFD_PEER, dst=VIP4) / ICMP(id=2, seq=1))
    out["fabric-bfd"] = one(FABRIC, Ether(src=N1, dst=FAB0)
                            / IP(src=BFD_PEER, dst=UL4, ttl=255)
                            / UDP(sport=49153, dport=3784)
                            / BFD(version=1, diag=0, sta=1, detect_mult=3, my_discriminator=7,
                                  your_discriminator=0, min_tx_interval=300000,
                                  min_rx_interval=300000))
    out["fabric-bfd-unknown"] = one(FABRIC, Ether(src=N1, dst=FAB0)
                                    / IP(src="100.64.1.99", dst=UL4, ttl=255)
                                    / UDP(sport=49153, dport=3784)
                                    / BFD(version=1, sta=1, my_discriminator=9))
    # a live trace of each path (trace.stop formats every node's record)
    for name in ("host-udp-out-and-reply", "host-privatelink", "host-roce-qp",
                 "fabric-vxlan-appliance", "host-arp-gateway", "host-udp-acl-deny",
                 "fabric-bfd", "host-tcp-out-twice"):
        b = bytearray(out[name])
        b[0] |= TRACED
        out[name + "-traced"] = bytes(b)
    # the edges of parse
    out["host-runt"] = one(HOST, bytes(Ether(src=VM1, dst=SW_MAC, type=0x0800)))
    bad = bytearray(bytes(vm_udp(sport=1011)))
    bad[24] ^= 0xFF                     # the IPv4 header checksum
    out["host-bad-checksum"] = one(HOST, bytes(bad))
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus", "graph")
    os.makedirs(d, exist_ok=True)
    inputs = corpus()
    for name, data in sorted(inputs.items()):
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    print(f"{len(inputs)} inputs in {d}")


if __name__ == "__main__":
    main()
