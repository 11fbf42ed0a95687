#!/usr/bin/python3
"""Writes the demo traffic of the shipped config: DIR/demo.pcap.

Tenant traffic between two VMs of VNET tenant1 (config/demo-objects.json):
IPv4 TCP and IPv6 UDP that sswitchd encapsulates in VXLAN toward the peer
VM's PA, a run of RoCEv2 writes on one queue pair with advancing PSNs (the
QP telemetry of `sswitchctl rdma qp list`), and, so the drop counters
move, five frames that are dropped on purpose (DROPS below; the README
explains them and the health finding they cause).
"""
import os
import sys

from scapy.all import Ether, Dot1Q, IP, IPv6, TCP, UDP, ICMP, Raw, wrpcap
from scapy.contrib.roce import BTH

ROCE_RUN = 64

# What the demo drops on purpose, by reason (one frame each per loop): 5 of
# the pcap's frames, more than the 1% that `sswitchctl health` tolerates,
# so it reports a drop_spike on host0.
DROPS = [
    ("eni_miss", "a frame on VLAN 100, where no ENI is configured"),
    ("route_miss", "vm1 to 172.16.0.9, outside route group rg1 (10.0.0.0/8, fd10::/32)"),
    ("mapping_miss", "vm1 to 10.1.0.99, an address of tenant1 with no mapping"),
    ("parse_truncated", "a frame cut inside its TCP header"),
    ("ip_checksum_bad", "an IPv4 header with a wrong checksum"),
]

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
pkts.append(Ether(src=vm1, dst=vm2) / IP(src="10.1.0.1", dst="10.1.0.99") / ICMP())       # mapping_miss
# RoCEv2 RDMA WRITE Only from vm1 to a storage target in the VNET
# (10.3.0.2, mapped in demo-objects.json) on QP 0x11, PSN 1..64 in
# sequence: the only PSN discontinuity is where the looped pcap starts over
# (one per loop, counted in psn_gaps). No RDMA policy steers them: they are
# encapsulated like the rest of the tenant traffic (docs/rdma.md).
for psn in range(1, ROCE_RUN + 1):
    pkts.append(Ether(src=vm1, dst=vm2) / IP(src="10.3.0.1", dst="10.3.0.2")
                / UDP(sport=49152, dport=4791) / BTH(opcode=0x0a, dqpn=0x11, psn=psn)
                / Raw(b"\0" * 16))
pkts.append(Ether(bytes(Ether(src=vm1, dst=vm2) / IP() / TCP())[:30]))   # parse_truncated
pkts.append(Ether(src=vm1, dst=vm2) / IP(chksum=0xdead) / UDP())         # ip_checksum_bad
wrpcap(os.path.join(d, "demo.pcap"), pkts)
print("demo traffic: %s (%d frames, looped)" % (os.path.join(d, "demo.pcap"), len(pkts)))
print("dropped on purpose (sswitchctl stats drops), which makes `sswitchctl health` report "
      "drop_spike on host0:")
for reason, why in DROPS:
    print("  %-16s %s" % (reason, why))
