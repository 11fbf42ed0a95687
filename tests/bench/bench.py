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


SCENARIOS = {
    "outbound": (scen_outbound, "host -> ENI -> route (100k) -> mapping (1M) -> VXLAN encap, ECMP"),
    "inbound": (scen_inbound, "VXLAN -> VIP -> VNI -> ENI -> PA validation -> decap -> host port"),
    "l2": (scen_l2, "host port to fabric port, patch mode, parse + tx (our floor)"),
    "rdma": (scen_rdma, "RoCEv2 steering: policy, DSCP remark, per-QP telemetry, lossless lane"),
}


def measure_sswitchd(tmp, ports, bootstrap, warmup, window):
    d = Daemon(tmp, ports, bootstrap=bootstrap)
    d.start()
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


def measure_testpmd(pcap, seconds):
    prefix = "tp%d" % os.getpid()
    cmd = ["dpdk-testpmd", "--no-huge", "-m", "1024", "--no-pci", "-l", "0,1",
           "--file-prefix", prefix, "--log-level", "*:error",
           "--vdev", "net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap,
           "--vdev", "net_null0,no-rx=1", "--", "--forward-mode=io",
           "--record-core-cycles", "--nb-cores=1", "--stats-period", "100"]
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


CONTROL = {
    "mappings": (control_mappings, "bulk mapping.add through the socket, 10k per request, durable"),
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
    ap.add_argument("--write", help="write the markdown table to this file")
    args = ap.parse_args()
    os.environ["SSWITCH_BUILD"] = args.build

    names = args.scenario or list(SCENARIOS) + list(CONTROL)
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
            for r in range(args.runs):
                rd = os.path.join(tmp, "%s-%d" % (name, r))
                os.makedirs(rd)
                ports, bootstrap, pcap = fn(rd, args.flows)
                runs.append(measure_sswitchd(rd, ports, bootstrap, args.warmup, args.window))
                if not args.no_testpmd:
                    t = measure_testpmd(pcap, args.warmup + args.window)
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
