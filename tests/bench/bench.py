#!/usr/bin/python3
"""make bench: Mpps and cycles per packet per scenario, on one worker core.

Each scenario feeds sswitchd from a net_pcap port with infinite_rx=1 into a
net_null sink (no-rx=1), waits for the warm-up, then reads the worker's busy
cycles and packet counters over a fixed window through DPDK telemetry. It is
run several times and the median is reported, next to dpdk-testpmd io
forwarding of the same input into the same sink, measured in the same run.

Scenarios are entries of SCENARIOS: a function that writes the pcap and
returns the daemon's ports (and optional bootstrap objects).
"""
import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from sswitch import Daemon, Port, REPO  # noqa: E402
from scapy.all import Ether, IP, UDP, Raw, wrpcap  # noqa: E402

FRAME = 60  # 64-byte frames on the wire, FCS excluded


def pad(p):
    b = bytes(p)
    return Ether(b + b"\x00" * (FRAME - len(b))) if len(b) < FRAME else p


def scen_l2(tmp, nflows):
    pkts = [pad(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
                / IP(src="10.0.0.1", dst="10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255))
                / UDP(sport=1024 + (i & 0x7fff), dport=80) / Raw(b"x" * 18))
            for i in range(nflows)]
    pcap = os.path.join(tmp, "l2.pcap")
    wrpcap(pcap, pkts)
    ports = [Port("host0", "host", kind="raw", peer="fabric0",
                  extra="net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap),
             Port("fabric0", "fabric", kind="raw", extra="net_null0,no-rx=1")]
    return ports, None, pcap


def scen_rdma(tmp, nflows):
    """RoCEv2 SEND ONLY (58 bytes + padding) from nflows QPs of 64 GPUs to one
    storage target: policy lookup (cached per QP), DSCP remark, TTL, MACs,
    per-QP telemetry, lossless lane of a storage port. Each QP sends 4
    packets of consecutive PSNs per pass over the pcap (the replay's step
    back is one PSN gap in 4, as a retransmission would be)."""
    from scapy.contrib.roce import BTH
    pkts = [pad(Ether(src="02:00:00:00:0a:01", dst="02:00:00:00:00:01")
                / IP(src="192.168.%d.%d" % (i >> 6 & 255, i & 63), dst="10.50.0.5", tos=2)
                / UDP(sport=49152 + (i & 0x3fff), dport=4791, chksum=0)
                / BTH(opcode=0x04, dqpn=0x100 + i, psn=1000 * i + k))
            for k in range(4) for i in range(nflows)]
    pcap = os.path.join(tmp, "rdma.pcap")
    wrpcap(pcap, pkts)
    ports = [Port("host0", "host", kind="raw",
                  extra="net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap),
             Port("stor0", "storage", kind="raw", extra="net_null0,no-rx=1")]
    bootstrap = [
        {"method": "rdma.policy.add", "params": {
            "name": "other%d" % k, "priority": 200 + k,
            "match": {"dst_prefix": "10.%d.0.0/16" % (100 + k)},
            "action": {"port": "stor0", "next_hop_mac": "02:00:00:00:99:02"}}}
        for k in range(8)] + [
        {"method": "rdma.policy.add", "params": {
            "name": "gpu-to-storage", "priority": 100,
            "match": {"dst_prefix": "10.50.0.0/16"},
            "action": {"port": "stor0", "next_hop_mac": "02:00:00:00:99:01",
                       "queue": "lossless"}}}]
    return ports, bootstrap, pcap


def _overlay_underlay():
    return [
        {"method": "switch.set", "params": {"underlay_ip": "100.127.0.1", "mac": "02:00:00:00:ff:ff"}},
        {"method": "underlay_route.add", "params": {"prefix": "100.64.0.0/10", "next_hops": [
            {"port": "fabric0", "mac": "02:00:00:00:0b:%02x" % k} for k in range(4)]}},
        {"method": "vnet.add", "params": {"name": "bench", "vni": 1000, "gateway_ip": "10.0.0.1"}},
    ]


def scen_outbound(tmp, nflows, nroutes=100000, nmappings=1 << 20):
    """Host port -> ENI (one of 16, untagged) -> route among 100k in the
    ENI's group -> mapping among 1M -> VXLAN over IPv4, ECMP over 4 next hops.
    Flow i goes to mapping (i * 1021) % 1M, so the lookups spread over the
    whole table; with --flows 1M every mapping is hit."""
    enis = 16
    boot = _overlay_underlay()
    boot += [{"method": "eni.add", "params": {"name": "e%d" % k, "mac": "02:00:00:01:00:%02x" % k,
                                              "vnet": "bench", "port": "host0", "route_group": "rg"}}
             for k in range(enis)]
    # 10.0.0.0/12 holds the mappings: 4096 /24 routes there, the rest
    # elsewhere, /16 to /24 like a tenant's route table
    routes = ["10.%d.%d.0/24" % (k >> 8, k & 255) for k in range(4096)]
    seen, k = set(routes), 0
    while len(routes) < nroutes:
        plen = 16 + k % 9
        net = ((20 << 24) + ((k // 9) << (32 - plen))) & (0xffffffff << (32 - plen))
        r = "%d.%d.%d.%d/%d" % (net >> 24, net >> 16 & 255, net >> 8 & 255, net & 255, plen)
        if r not in seen:
            seen.add(r)
            routes.append(r)
        k += 1
    boot += [{"method": "route.add", "params": {"entries": [
        {"group": "rg", "prefix": r, "action": "vnet"} for r in routes[b:b + 50000]]}}
        for b in range(0, len(routes), 50000)]
    ent = [{"vnet": "bench", "ip": "10.%d.%d.%d" % (i >> 16, i >> 8 & 255, i & 255),
            # 64 VMs per host: 16k PAs
            "underlay_ip": "100.64.%d.%d" % (i >> 14 & 63, i >> 6 & 255),
            "mac": "02:00:%02x:%02x:%02x:%02x" % (i >> 24 & 255, i >> 16 & 255, i >> 8 & 255, i & 255)}
           for i in range(nmappings)]
    boot += [{"method": "mapping.add", "params": {"entries": ent[b:b + 100000]}}
             for b in range(0, nmappings, 100000)]
    pkts = []
    for i in range(nflows):
        m = (i * 1021) % nmappings
        pkts.append(pad(Ether(src="02:00:00:01:00:%02x" % (i % enis), dst="02:00:00:00:ff:ff")
                        / IP(src="10.15.255.%d" % (i % enis + 1),
                             dst="10.%d.%d.%d" % (m >> 16, m >> 8 & 255, m & 255))
                        / UDP(sport=1024 + (i >> 4 & 0x7fff), dport=80) / Raw(b"x" * 18)))
    pcap = os.path.join(tmp, "outbound.pcap")
    wrpcap(pcap, pkts)
    ports = [Port("host0", "host", kind="raw", extra="net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap),
             Port("fabric0", "fabric", kind="raw", mac="02:00:00:00:00:aa",
                  extra="net_null0,no-rx=1")]
    return ports, boot, pcap


def scen_inbound(tmp, nflows, npas=1024, enis=16):
    """VXLAN from 1024 remote PAs -> VIP -> VNET by VNI -> ENI by inner MAC
    -> inbound route with decap_pa_validate (PA validation table) -> RFC 6040
    decap -> host port (half the ENIs tagged)."""
    from scapy.layers.vxlan import VXLAN
    boot = _overlay_underlay()
    boot += [{"method": "eni.add", "params": dict(
        {"name": "e%d" % k, "mac": "02:00:00:01:00:%02x" % k, "vnet": "bench", "port": "host0"},
        **({"vlan": 100 + k} if k & 1 else {}))} for k in range(enis)]
    boot += [{"method": "inbound_route.add", "params": {
        "eni": "e%d" % k, "vni": 1000, "src_prefix": "100.64.0.0/10", "priority": 10,
        "action": "decap_pa_validate"}} for k in range(enis)]
    boot += [{"method": "pa_validation.add", "params": {"entries": [
        {"vnet": "bench", "underlay_ip": "100.64.%d.%d" % (p >> 8, p & 255)} for p in range(npas)]}}]
    pkts = []
    for i in range(nflows):
        inner = (Ether(src="02:00:00:02:00:01", dst="02:00:00:01:00:%02x" % (i % enis))
                 / IP(src="10.1.%d.%d" % (i >> 8 & 255, i & 255), dst="10.0.0.%d" % (i % enis + 2))
                 / UDP(sport=1024 + (i >> 4 & 0x7fff), dport=80) / Raw(b"x" * 18))
        p = i % npas
        pkts.append(Ether(src="02:00:00:00:0b:00", dst="02:00:00:00:00:aa")
                    / IP(src="100.64.%d.%d" % (p >> 8, p & 255), dst="100.127.0.1")
                    / UDP(sport=49152 + (i & 0x3fff), dport=4789, chksum=0) / VXLAN(vni=1000) / inner)
    pcap = os.path.join(tmp, "inbound.pcap")
    wrpcap(pcap, pkts)
    ports = [Port("fabric0", "fabric", kind="raw", mac="02:00:00:00:00:aa",
                  extra="net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap),
             Port("host0", "host", kind="raw", extra="net_null0,no-rx=1")]
    return ports, boot, pcap



# ---- ACL and conntrack (docs/acl.md, docs/conntrack.md) ---------------------

def _acl_rules(rnd, n, last_stage):
    """n ClassBench-style rules: prefixes of length 0/8/16/24/32 and random
    lengths, in and out of the bench traffic's space (10.15.0.0/16 ->
    10.0.0.0/12), protocol lists, port ranges (any, exact, 0-1023,
    1024-65535, small ranges), both actions, terminating or not. Every rule
    that can match the bench traffic allows it, non-terminating unless
    `last_stage`, so a new connection is classified by every stage; the
    last rule is a catch-all allow (terminating in the last stage)."""
    def pfx(near):
        if near:
            return rnd.choice(["10.15.255.0/24", "10.15.0.0/16", "10.0.0.0/8", "0.0.0.0/0",
                               "10.0.0.0/12", "10.0.%d.0/24" % rnd.randrange(16)])
        a = (rnd.randrange(20, 200) << 24) | rnd.getrandbits(24)
        n = rnd.choice([8, 16, 24, 32, rnd.randrange(1, 33)])
        a &= (0xffffffff << (32 - n)) & 0xffffffff
        return "%d.%d.%d.%d/%d" % (a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255, n)

    def ports():
        lo = rnd.randrange(0, 60000)
        return rnd.choice([[80], ["1024-65535"], ["0-1023"], [lo],
                           ["%d-%d" % (lo, lo + rnd.randrange(1, 64))], [80, "8000-8080"]])

    rules = []
    for i in range(n - 1):
        near = rnd.random() < 0.5
        r = {"priority": 10 * (i + 1), "src": [pfx(near)], "dst": [pfx(near and rnd.random() < 0.7)]}
        if rnd.random() < 0.5:
            r["protocols"] = rnd.choice([[6], [17], [6, 17]])
        if rnd.random() < 0.5:
            r["dst_ports"] = ports()
        if rnd.random() < 0.2:
            r["src_ports"] = ports()
        r["action"] = "allow" if near else rnd.choice(["allow", "deny"])
        r["terminating"] = (not near or last_stage) and rnd.random() < 0.7
        rules.append(r)
    rules.append({"priority": 10 * n, "action": "allow", "terminating": last_stage})
    return rules


def _acl_bench_groups(seed=7):
    """1000 rules in three stage groups (400, 300, 300), see _acl_rules."""
    import random
    rnd = random.Random(seed)
    return {"bench_s1": _acl_rules(rnd, 400, False), "bench_s2": _acl_rules(rnd, 300, False),
            "bench_s3": _acl_rules(rnd, 300, True)}


def _with_acl(boot, groups, eni_prefix="e"):
    """Bootstrap ops with the groups added first and bound to the ENIs."""
    ops = [{"method": "acl_group.replace", "params": {"name": n, "family": "ipv4", "rules": r}}
           for n, r in groups.items()]
    for op in boot:
        if op["method"] == "eni.add" and op["params"]["name"].startswith(eni_prefix):
            op = {"method": "eni.add", "params": dict(op["params"], acl={"outbound_v4": sorted(groups)})}
        ops.append(op)
    return ops


def scen_outbound_acl(tmp, nflows):
    """The outbound scenario with a 3-stage, 1000-rule ACL bound to every
    ENI (SPEC 6 `outbound`): new connections are classified by the three
    stages, the others are flow hits that skip them."""
    ports, boot, pcap = scen_outbound(tmp, nflows)
    return ports, _with_acl(boot, _acl_bench_groups()), pcap


def _write_pcap(path, frames):
    import struct
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for b in frames:
            f.write(struct.pack("<IIII", 0, 0, len(b), len(b)))
            f.write(b)


def _frames(template, offsets, values):
    """Copies of a frame with 16-bit fields at `offsets` set to `values`
    (tuples, one per frame): ports only, so no IP checksum changes."""
    base = bytearray(template)
    for vals in values:
        for off, v in zip(offsets, vals):
            base[off] = v >> 8
            base[off + 1] = v & 255
        yield bytes(base)


def scen_cps(tmp, nflows, live=1000000, conns=4096, enis=16):
    """New connections per second (SPEC 6 `cps`) with 1M live flows. host0
    replays (infinite_rx) a TCP SYN then, 4096 packets later, the RST of each
    of 4096 connections from 16 ENIs with the 3-stage, 1000-rule ACL: a SYN
    is a miss (3 stages, flow insert), its RST a hit that removes the flow,
    so every round's SYNs are new connections: connections/s = Mpps / 2.
    host1 (read once, during the warm-up; its 1M frames twice, so flows
    missed while the table grows are added the second time) fills the table
    with 1M long-lived UDP flows of 16 other ENIs."""
    from scapy.all import TCP
    boot = _overlay_underlay()
    boot.append({"method": "flow.config", "params": {"max_flows": live + 4 * conns,
                                                     "idle_timeout_ms": 600000,
                                                     "tcp_fin_timeout_ms": 2000}})
    boot.append({"method": "route.add", "params": {"group": "rg", "prefix": "10.0.0.0/16",
                                                   "action": "vnet"}})
    boot.append({"method": "mapping.add", "params": {"entries": [
        {"vnet": "bench", "ip": "10.0.%d.%d" % (k >> 8, k & 255), "underlay_ip": "100.64.0.%d" % (k & 255),
         "mac": "02:00:00:0c:%02x:%02x" % (k >> 8, k & 255)} for k in range(2, 1024)]}})
    for k in range(enis):
        boot.append({"method": "eni.add", "params": {"name": "e%d" % k, "mac": "02:00:00:01:00:%02x" % k,
                                                     "vnet": "bench", "port": "host0", "route_group": "rg"}})
        boot.append({"method": "eni.add", "params": {"name": "p%d" % k, "mac": "02:00:00:03:00:%02x" % k,
                                                     "vnet": "bench", "port": "host1", "route_group": "rg"}})
    boot = _with_acl(boot, _acl_bench_groups())
    # churn: per ENI k, connections from 10.15.255.(k+1):(20000+j) to 10.0.1.(k+2):80
    per = conns // enis
    syn, rst = [], []
    for k in range(enis):
        t = pad(Ether(src="02:00:00:01:00:%02x" % k, dst="02:00:00:00:ff:ff")
                / IP(src="10.15.255.%d" % (k + 1), dst="10.0.1.%d" % (k + 2))
                / TCP(sport=20000, dport=80, flags="S", chksum=0))
        b = bytes(t)
        syn += _frames(b, [34], [(20000 + j,) for j in range(per)])
        r = bytearray(b)
        r[47] = 0x04   # RST
        rst += _frames(bytes(r), [34], [(20000 + j,) for j in range(per)])
    pcap = os.path.join(tmp, "cps.pcap")
    _write_pcap(pcap, syn + rst)
    # prefill: per ENI p_k, UDP from 10.15.254.(k+1):sport to 10.0.0.2:53, sport and
    # destination port spread so the 1M tuples are distinct
    fill = os.path.join(tmp, "cps-fill.pcap")
    frames = []
    for k in range(enis):
        t = bytes(pad(Ether(src="02:00:00:03:00:%02x" % k, dst="02:00:00:00:ff:ff")
                      / IP(src="10.15.254.%d" % (k + 1), dst="10.0.0.2")
                      / UDP(sport=1, dport=53, chksum=0) / Raw(b"f" * 18)))
        n = live // enis
        frames += _frames(t, [34, 36], [(1024 + (j & 0x7fff), 53 + (j >> 15)) for j in range(n)])
    _write_pcap(fill, frames + frames)
    ports = [Port("host0", "host", kind="raw", extra="net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap),
             Port("host1", "host", kind="raw", extra="net_pcap1,rx_pcap=%s" % fill),
             Port("fabric0", "fabric", kind="raw", mac="02:00:00:00:00:aa",
                  extra="net_null0,no-rx=1")]
    return ports, boot, pcap


SCENARIOS = {
    "outbound": (scen_outbound, "host -> ENI -> route (100k) -> mapping (1M) -> VXLAN encap, ECMP"),
    "inbound": (scen_inbound, "VXLAN -> VIP -> VNI -> ENI -> PA validation -> decap -> host port"),
    "l2": (scen_l2, "host port to fabric port, patch mode, parse + tx (our floor)"),
    "rdma": (scen_rdma, "RoCEv2 steering: policy, DSCP remark, per-QP telemetry, lossless lane"),
    "outbound_acl": (scen_outbound_acl, "outbound with a 3-stage 1000-rule ACL per ENI (flow hits skip it)"),
    "cps": (scen_cps, "new TCP connections (SYN: 3 ACL stages + flow insert, RST: remove), "
                      "1M live flows; connections/s = Mpps / 2"),
}


def sizing(nflows):
    """EAL memory (MB) and mbufs: net_pcap's infinite_rx keeps the whole
    pcap in mbufs, and the 1M-flow runs also hold 1M mappings and flows."""
    if nflows <= 65536:
        return 1536, 0
    return 1536 + nflows * 4 // 1024, nflows + 131072


def measure_sswitchd(tmp, ports, bootstrap, warmup, window, nflows=1024):
    mem, mbufs = sizing(nflows)
    d = Daemon(tmp, ports, bootstrap=bootstrap, mem_mb=mem,
               extra_conf="mbufs = %d;" % mbufs if mbufs else "")
    d.start(timeout=300)
    try:
        time.sleep(warmup)
        a = d.stats()
        t0 = time.time()
        time.sleep(window)
        b = d.stats()
        dt = time.time() - t0
    finally:
        d.stop()
    wa, wb = a["workers"]["0"], b["workers"]["0"]
    pkts = wb["rx_packets"] - wa["rx_packets"]
    cyc = wb["busy_cycles"] - wa["busy_cycles"]
    nodes = {}
    for name, nb in b["nodes"].items():
        na = a["nodes"].get(name, {"cycles": 0, "packets": 0, "calls": 0})
        nodes[name] = (nb["cycles"] - na["cycles"]) / pkts if pkts else 0.0
    drops = {k: v - a["drops"].get(k, 0) for k, v in b["drops"].items() if v - a["drops"].get(k, 0)}
    return {"mpps": pkts / dt / 1e6, "cpp": cyc / pkts if pkts else 0.0, "nodes": nodes,
            "drops": drops, "tsc_hz": wb["tsc_hz"]}


def measure_testpmd(pcap, seconds, nflows=1024):
    prefix = "tp%d" % os.getpid()
    mem, mbufs = sizing(nflows)
    cmd = ["dpdk-testpmd", "--no-huge", "-m", str(mem), "--no-pci", "-l", "0,1",
           "--file-prefix", prefix, "--log-level", "*:error",
           "--vdev", "net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap,
           "--vdev", "net_null0,no-rx=1", "--", "--forward-mode=io",
           "--record-core-cycles", "--nb-cores=1", "--stats-period", "100"]
    if mbufs:
        cmd.append("--total-num-mbufs=%d" % mbufs)
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    time.sleep(seconds)
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=30)
    m = re.search(r"CPU cycles/packet=([\d.]+) \(total cycles=(\d+) / total io packets=(\d+)\) at (\d+) MHz", out)
    if not m:
        return None
    cpp, cycles, pk, mhz = float(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4))
    # busy cycles over packets, like ours; Mpps at that cost on this clock
    return {"mpps": mhz / cpp if cpp else 0.0, "cpp": cpp}


def control_mappings(tmp, args):
    """1M mappings through bulk mapping.add on the real socket (10k entries a
    request, one request at a time like a controller), state file on, the
    data-plane tables fed as they would be in production."""
    total, batch = args.mappings, 10000
    d = Daemon(tmp, [Port("host0", "host", kind="raw", extra="net_null0,no-rx=1"),
                     Port("fabric0", "fabric", kind="raw", extra="net_null1,no-rx=1")],
               state_file=True, extra_conf="tables = { mappings = %d; };" % (total + 1000))
    d.start()
    try:
        rpc = d.rpc()
        rpc.call("vnet.add", {"name": "bench", "vni": 100})
        lines = []
        for b in range(total // batch):
            entries = []
            for i in range(b * batch, (b + 1) * batch):
                entries.append({"vnet": "bench", "ip": "10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255),
                                "underlay_ip": "100.64.%d.%d" % (i >> 8 & 255, i & 255),
                                "mac": "02:00:%02x:%02x:%02x:%02x" % (i >> 24 & 255, i >> 16 & 255, i >> 8 & 255, i & 255)})
            lines.append(json.dumps({"jsonrpc": "2.0", "id": b + 10, "method": "mapping.add",
                                     "params": {"entries": entries}}).encode() + b"\n")
        t0 = time.time()
        for line in lines:
            rpc.sock.sendall(line)
            while b"\n" not in rpc.buf:
                rpc.buf += rpc.sock.recv(1 << 16)
            rep, rpc.buf = rpc.buf.split(b"\n", 1)
            if b'"error"' in rep:
                raise RuntimeError("mapping.add failed: %s" % rep[:300])
        dt = time.time() - t0
        rpc.close()
    finally:
        d.stop(timeout=120)
    return {"value": total / dt, "unit": "mappings/s", "detail": "%d mappings in %.2f s" % (total, dt)}


def control_acl_commit(tmp, args):
    """Time to commit a 1000-rule acl_group (acl_group.replace of the last
    stage of every ENI, alternating two 1000-rule sets that both pass the
    traffic) while sswitchd forwards the outbound_acl traffic, and proof
    that no packet was lost meanwhile: the drop counters do not move and
    every frame received is transmitted."""
    import random
    ports, boot, _ = scen_outbound_acl(tmp, 1024)
    sets = [_acl_rules(random.Random(seed), 1000, True) for seed in (11, 13)]
    d = Daemon(tmp, ports, bootstrap=boot)
    d.start()
    times = []
    try:
        rpc = d.rpc()
        time.sleep(1.0)
        a = d.stats()
        for i in range(10):
            t0 = time.time()
            rpc.call("acl_group.replace", {"name": "bench_s3", "rules": sets[i % 2]})
            times.append(time.time() - t0)
            time.sleep(0.1)
        time.sleep(0.2)
        b = d.stats()
        rpc.close()
    finally:
        d.stop()
    drops = {k: v - a["drops"].get(k, 0) for k, v in b["drops"].items() if v - a["drops"].get(k, 0)}
    rx = b["ports"]["host0"]["rx_packets"] - a["ports"]["host0"]["rx_packets"]
    tx = b["ports"]["fabric0"]["tx_packets"] - a["ports"]["fabric0"]["tx_packets"]
    if drops or abs(rx - tx) > 1024:
        raise RuntimeError("packets lost during the commits: drops %s, rx %d, tx %d" % (drops, rx, tx))
    ms = median(times) * 1000
    return {"value": ms * 1000, "unit": "us/commit",
            "detail": "1000-rule acl_group.replace, median of %d, %.1f ms (max %.1f); %d frames "
                      "forwarded meanwhile, none dropped" % (len(times), ms, max(times) * 1000, rx)}


CONTROL = {
    "mappings": (control_mappings, "bulk mapping.add through the socket, 10k per request, durable"),
    "acl_commit": (control_acl_commit, "commit a 1000-rule acl_group while forwarding, no packet lost"),
}


def median(xs):
    return statistics.median(xs) if xs else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warmup", type=float, default=1.5)
    ap.add_argument("--window", type=float, default=4.0)
    ap.add_argument("--flows", type=int, default=1024)
    ap.add_argument("--scenario", action="append", help="only these (default: all)")
    ap.add_argument("--no-testpmd", action="store_true")
    ap.add_argument("--mappings", type=int, default=1000000, help="control scenario size")
    ap.add_argument("--dump", metavar="DIR",
                    help="write each scenario's traffic (NAME.pcap) and objects (NAME-objects.json,"
                         " a bootstrap file) to DIR for pktgen-dpdk / TRex on a real testbed, then exit")
    ap.add_argument("--write", help="write the markdown table to this file")
    args = ap.parse_args()
    os.environ["SSWITCH_BUILD"] = args.build

    names = args.scenario or list(SCENARIOS) + list(CONTROL)
    if args.dump:
        import shutil
        os.makedirs(args.dump, exist_ok=True)
        for name in [n for n in names if n in SCENARIOS]:
            gen = tempfile.mkdtemp(prefix="ssdump")
            _, bootstrap, pcap = SCENARIOS[name][0](gen, args.flows)
            shutil.copy(pcap, os.path.join(args.dump, name + ".pcap"))
            with open(os.path.join(args.dump, name + "-objects.json"), "w") as f:
                json.dump({"ops": bootstrap or []}, f)
            shutil.rmtree(gen, ignore_errors=True)
            print("%s: %s.pcap, %s-objects.json" % (name, name, name))
        return 0
    results, control = {}, {}
    with tempfile.TemporaryDirectory(prefix="ssbench") as tmp:
        for name in [n for n in names if n in CONTROL]:
            fn, desc = CONTROL[name]
            vals = []
            for r in range(args.runs):
                rd = os.path.join(tmp, "%s-%d" % (name, r))
                os.makedirs(rd)
                vals.append(fn(rd, args))
            res = {"desc": desc, "value": median([v["value"] for v in vals]),
                   "unit": vals[0]["unit"], "runs": [round(v["value"]) for v in vals],
                   "detail": vals[-1]["detail"]}
            control[name] = res
            print("%-10s %12.0f %s (runs %s; %s)" % (name, res["value"], res["unit"], res["runs"],
                                                     res["detail"]))
            sys.stdout.flush()
        for name in [n for n in names if n in SCENARIOS]:
            fn, desc = SCENARIOS[name]
            runs = []
            tp = []
            gen = os.path.join(tmp, name)
            os.makedirs(gen)
            ports, bootstrap, pcap = fn(gen, args.flows)  # inputs made once, reused by every run
            for r in range(args.runs):
                rd = os.path.join(tmp, "%s-%d" % (name, r))
                os.makedirs(rd)
                runs.append(measure_sswitchd(rd, ports, bootstrap, args.warmup, args.window,
                                             args.flows))
                if not args.no_testpmd:
                    t = measure_testpmd(pcap, args.warmup + args.window, args.flows)
                    if t:
                        tp.append(t)
            node_names = sorted({n for r in runs for n in r["nodes"]})
            res = {
                "desc": desc,
                "mpps": median([r["mpps"] for r in runs]),
                "cpp": median([r["cpp"] for r in runs]),
                "cpp_runs": [round(r["cpp"], 1) for r in runs],
                "nodes": {n: median([r["nodes"].get(n, 0.0) for r in runs]) for n in node_names},
                "drops": runs[-1]["drops"],
                "testpmd_cpp": median([t["cpp"] for t in tp]) if tp else None,
                "testpmd_mpps": median([t["mpps"] for t in tp]) if tp else None,
                "tsc_mhz": runs[-1]["tsc_hz"] / 1e6,
            }
            results[name] = res
            print("%-10s %7.2f Mpps  %6.1f cycles/pkt (runs %s)%s" % (
                name, res["mpps"], res["cpp"], res["cpp_runs"],
                "   testpmd io: %.1f cycles/pkt" % res["testpmd_cpp"] if res["testpmd_cpp"] else ""))
            for n, c in sorted(res["nodes"].items(), key=lambda kv: -kv[1]):
                if c > 0:
                    print("    %-16s %6.1f cycles/pkt" % (n, c))
            if res["drops"]:
                print("    drops during the window: %s" % res["drops"])
            sys.stdout.flush()
    if args.write:
        write_md(args.write, results, control, args)
    return 0


def write_md(path, results, control, args):
    host = os.uname()
    lines = ["# Performance", "",
             "Latest `make bench` on %s (%s), %s. One worker core, %d-byte frames "
             "(%d with FCS), %d flows, net_pcap `infinite_rx=1` into net_null `no-rx=1`; "
             "median of %d runs of a %.0f s window after %.1f s warm-up. Cycles per packet "
             "are the worker's busy TSC cycles over packets received; per-node cycles come "
             "from rte_graph's node statistics (they include the graph's own bookkeeping)."
             % (time.strftime("%Y-%m-%d"), host.machine, host.nodename, FRAME, FRAME + 4,
                args.flows, args.runs, args.window, args.warmup), "",
             "| scenario | Mpps | cycles/pkt | runs | testpmd io cycles/pkt | what |",
             "|---|---|---|---|---|---|"]
    for name, r in results.items():
        lines.append("| %s | %.2f | %.1f | %s | %s | %s |" % (
            name, r["mpps"], r["cpp"], ", ".join(str(c) for c in r["cpp_runs"]),
            "%.1f" % r["testpmd_cpp"] if r["testpmd_cpp"] else "-", r["desc"]))
    lines += ["", "## Cycles per node", ""]
    for name, r in results.items():
        lines.append("- **%s**: " % name + ", ".join(
            "%s %.1f" % (n, c) for n, c in sorted(r["nodes"].items(), key=lambda kv: -kv[1]) if c > 0))
    if control:
        lines += ["", "## Control plane", "", "| scenario | median | runs | what |", "|---|---|---|---|"]
        for name, r in control.items():
            lines.append("| %s | %.0f %s | %s | %s |" % (name, r["value"], r["unit"],
                                                       ", ".join(str(v) for v in r["runs"]), r["desc"]))
    lines += ["", "Re-run: `make bench` (options: `/usr/bin/python3 tests/bench/bench.py --help`).", ""]
    with open(path, "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
