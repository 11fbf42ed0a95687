#!/usr/bin/python3
"""Writes the demo traffic of the shipped config: DIR/demo.pcap.

Tenant traffic between two VMs of VNET tenant1 (config/demo-objects.json):
IPv4 TCP and IPv6 UDP that sswitchd encapsulates in VXLAN toward the peer
VM's PA, and, so the drop counters move, frames from an unknown VLAN
(eni_miss), a destination outside the route group (route_miss), a RoCEv2
write that no RDMA policy steers, and two malformed frames.
"""
import os
import sys

from scapy.all import Ether, Dot1Q, IP, IPv6, TCP, UDP, ICMP, Raw, wrpcap
from scapy.contrib.roce import BTH

d = sys.argv[1] if len(sys.argv) > 1 else "/tmp/sswitch-demo"
os.makedirs(d, exist_ok=True)
vm1, vm2 = "02:00:00:00:01:01", "02:00:00:00:01:02"
pkts = []
for i in range(64):
    pkts.append(Ether(src=vm1, dst=vm2) / IP(src="10.1.0.1", dst="10.1.0.2")
                / TCP(sport=40000 + i, dport=443, flags="PA") / Raw(b"d" * 64))
    pkts.append(Ether(src=vm2, dst=vm1) / IPv6(src="fd10::2", dst="fd10::1")
                / UDP(sport=5000 + i, dport=53) / Raw(b"q" * 32))
pkts.append(Ether(src=vm1, dst=vm2) / Dot1Q(vlan=100) / IP(src="10.2.0.1", dst="10.2.0.2") / ICMP())
pkts.append(Ether(src=vm1, dst=vm2) / IP(src="10.1.0.1", dst="172.16.0.9") / ICMP())      # route_miss
pkts.append(Ether(src=vm1, dst=vm2) / IP(src="10.3.0.1", dst="10.3.0.2")
            / UDP(sport=49152, dport=4791) / BTH(opcode=0x0a, dqpn=0x11, psn=1) / Raw(b"\0" * 16))
pkts.append(Ether(bytes(Ether(src=vm1, dst=vm2) / IP() / TCP())[:30]))   # parse_truncated
pkts.append(Ether(src=vm1, dst=vm2) / IP(chksum=0xdead) / UDP())         # ip_checksum_bad
wrpcap(os.path.join(d, "demo.pcap"), pkts)
print("demo traffic: %s (%d frames, looped)" % (os.path.join(d, "demo.pcap"), len(pkts)))
