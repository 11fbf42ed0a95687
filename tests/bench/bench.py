#!/usr/bin/python3
"""make bench: Mpps and cycles per packet per scenario, on one worker core.

Each scenario feeds sswitchd from a net_pcap port with infinite_rx=1 into a
net_null sink (no-rx=1), waits until the workers forward, then the warm-up,
then reads the workers' busy cycles and packet counters over a fixed window
through DPDK telemetry. dpdk-testpmd io forwarding of the same pcap into the
same sink is measured the same way right after each run (its mbuf pool sized
for the pcap, the window taken once it forwards). Runs are repeated and the
median reported. 2 MB hugepages are reserved for the runs when possible
(root) and given back afterwards; --no-huge forces the fallback.

Modules: scenarios.py (inputs and objects), pcapgen.py (direct pcap writer),
runners.py (sswitchd / testpmd), hugepages.py, peers.py (make bench-peers).
"""
import argparse
import json
import re
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
sys.path.insert(0, HERE)
from sswitch import Port, REPO  # noqa: E402
import scenarios  # noqa: E402
from scenarios import SCENARIOS, FRAME  # noqa: E402
from hugepages import Hugepages  # noqa: E402
from runners import BenchDaemon, measure_sswitchd, measure_testpmd, sizing  # noqa: E402

# the default `make bench`: (scenario, flows, workers)
DEFAULT_CASES = [
    ("outbound", 1024, 1), ("outbound", 1000000, 1), ("privatelink", 1024, 1),
    ("inbound", 1024, 1), ("inbound", 1000000, 1),
    ("l2", 1024, 1), ("rdma", 1024, 1), ("outbound_acl", 1024, 1), ("cps", 1024, 1),
    ("lb", 1024, 1),
    ("outbound", 1024, 2), ("inbound", 1024, 2),
]


def case_label(name, flows, workers):
    lab = name
    if flows != 1024:
        lab += ", %s flows" % ("%dM" % (flows // 1000000) if flows % 1000000 == 0 else flows)
    if workers != 1:
        lab += ", %d workers" % workers
    return lab


_REQUESTS = {}


def _mapping_requests(total, batch):
    """The mapping.add request lines (built once, reused by every run)."""
    key = (total, batch)
    if key not in _REQUESTS:
        lines = []
        for b in range(total // batch):
            entries = []
            for i in range(b * batch, (b + 1) * batch):
                entries.append({"vnet": "bench", "ip": "10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255),
                                "underlay_ip": "100.64.%d.%d" % (i >> 8 & 255, i & 255),
                                "mac": "02:00:%02x:%02x:%02x:%02x" % (i >> 24 & 255, i >> 16 & 255, i >> 8 & 255, i & 255)})
            lines.append(json.dumps({"jsonrpc": "2.0", "id": b + 10, "method": "mapping.add",
                                     "params": {"entries": entries}}).encode() + b"\n")
        _REQUESTS[key] = lines
    return _REQUESTS[key]


def control_mappings(tmp, args, hp):
    """1M mappings through bulk mapping.add on the real socket (10k entries a
    request, one request at a time like a controller), state file on, the
    data-plane tables fed as they would be in production."""
    total, batch = args.mappings, 10000
    d = BenchDaemon(tmp, [Port("host0", "host", kind="raw", extra="net_null0,no-rx=1"),
                          Port("fabric0", "fabric", kind="raw", extra="net_null1,no-rx=1")],
                    hp.eal_args(512), state_file=True, extra_conf="tables = { mappings = %d; };" % (total + 1000))
    d.start()
    try:
        rpc = d.rpc()
        rpc.call("vnet.add", {"name": "bench", "vni": 100})
        lines = _mapping_requests(total, batch)
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


def control_acl_commit(tmp, args, hp):
    """Time to commit a 1000-rule acl_group (acl_group.replace of the last
    stage of every ENI, alternating two 1000-rule sets that both pass the
    traffic) while sswitchd forwards the outbound_acl traffic, and proof
    that no packet was lost meanwhile: the drop counters do not move and
    every frame received is transmitted."""
    import random
    ports, boot, _ = scenarios.scen_outbound_acl(tmp, 1024)
    sets = [scenarios._acl_rules(random.Random(seed), 1000, True) for seed in (11, 13)]
    d = BenchDaemon(tmp, ports, hp.eal_args(512), bootstrap=boot)
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


_OP_JSON = {}


def write_objects(path, ops):
    """A bootstrap file; an op shared by several scenarios (outbound's 1M
    mappings are also outbound_acl's) is serialised once."""
    parts = []
    for op in ops:
        k = id(op)
        if k not in _OP_JSON:
            _OP_JSON[k] = (op, json.dumps(op))
        parts.append(_OP_JSON[k][1])
    with open(path, "w") as f:
        f.write('{"ops": [' + ",\n".join(parts) + "]}\n")


def median(xs):
    return statistics.median(xs) if xs else 0.0


def int_list(s):
    return [int(x) for x in s.split(",")]


def cases_of(args):
    if not (args.scenario or args.flows or args.workers):
        return list(DEFAULT_CASES)
    names = [n for n in (args.scenario or list(SCENARIOS)) if n in SCENARIOS]
    out = []
    for n in names:
        for f in args.flows or [1024]:
            for w in args.workers or [1]:
                if w > 1 and n == "cps":
                    print("cps: one worker only (its prefill port is read once)")
                    continue
                out.append((n, f, w))
    return out


def run_case(tmp, name, flows, workers, gen, args, hp, tp_cache):
    fn, desc = SCENARIOS[name]
    ports, objects, pcap = gen
    frames = scenarios.nframes(name, flows)
    runs, tp = [], []
    for r in range(args.runs):
        rd = os.path.join(tmp, "%s-%d-%d-%d" % (name, flows, workers, r))
        os.makedirs(rd)
        runs.append(measure_sswitchd(rd, scenarios.rx_queues(ports, pcap, workers), objects,
                                     args.warmup, args.window, hp, frames, workers))
        if not args.no_testpmd and workers == 1:
            try:
                tp.append(measure_testpmd(pcap, frames, hp, args.warmup, args.window))
            except (RuntimeError, TimeoutError) as e:
                lines = str(e).splitlines()
                print("    testpmd failed: %s" % "\n        ".join(lines[:1] + lines[-6:]))
    if tp:
        tp_cache[(name, flows)] = tp
    tp = tp_cache.get((name, flows), [])
    node_names = sorted({n for r in runs for n in r["nodes"]})
    return {
        "name": name, "flows": flows, "workers": workers, "desc": desc,
        "mpps": median([r["mpps"] for r in runs]),
        "cpp": median([r["cpp"] for r in runs]),
        "cpp_runs": [round(r["cpp"], 1) for r in runs],
        "nodes": {n: median([r["nodes"].get(n, 0.0) for r in runs]) for n in node_names},
        "drops": runs[-1]["drops"],
        "per_worker": runs[-1]["per_worker"],
        "testpmd_cpp": median([t["cpp"] for t in tp]) if tp else None,
        "testpmd_mpps": median([t["mpps"] for t in tp]) if tp else None,
        "testpmd_nombuf": sum(t["nombuf"] for t in tp),
        "tsc_mhz": runs[-1]["tsc_hz"] / 1e6,
        "start_s": median([r["start_s"] for r in runs]),
    }


def print_case(res):
    lab = case_label(res["name"], res["flows"], res["workers"])
    tp = ""
    if res["testpmd_cpp"]:
        tp = "   testpmd io: %.1f cycles/pkt (%.1fx)" % (res["testpmd_cpp"], res["cpp"] / res["testpmd_cpp"])
    print("%-28s %7.2f Mpps  %6.1f cycles/pkt (runs %s)%s  [%.0f s; sswitchd up in %.1f s]" % (
        lab, res["mpps"], res["cpp"], res["cpp_runs"], tp, res["seconds"], res["start_s"]))
    if res["workers"] > 1:
        print("    packets per worker in the window: %s" % res["per_worker"])
    for n, c in sorted(res["nodes"].items(), key=lambda kv: -kv[1]):
        if c > 0:
            print("    %-16s %6.1f cycles/pkt" % (n, c))
    if res["drops"]:
        print("    drops during the window: %s" % res["drops"])
    if res["testpmd_nombuf"]:
        print("    testpmd rx_nombuf during its windows: %d (its pool ran dry)" % res["testpmd_nombuf"])
    sys.stdout.flush()


# the port roles of a scenario on a testbed: which port the generator
# drives, which one the switch forwards out of
_DUMP_HEAD = """# sswitchd.conf of the bench scenario `%(name)s` on a testbed, written by
# tests/bench/bench.py --dump with %(base)s.pcap and %(base)s-objects.json.
# The generator sends %(base)s.pcap into port %(inp)s (pktgen-profiles/%(name)s.pkt,
# or trex_pcap.py -t --pcap %(base)s.pcap); the switch forwards out of %(out)s.
# Replace the placeholder devargs with the DPDK devices of those NIC ports:
# %(pin)s is the port the generator sends into, %(pout)s the one the switch
# sends out of. Keep the names, roles, MACs and peers: the frames are
# addressed to them. Check with: sswitchd --check -c THIS_FILE
"""
DEV_IN, DEV_OUT = "0000:00:00.1", "0000:00:00.2"   # placeholders (no such device)


def dump_conf(path, name, base, ports, pcap, dump_dir):
    """The sswitchd.conf the scenario's frames assume, next to its pcap."""
    import shutil
    lines, inp, out = [], [], []
    for p in ports:
        m = re.search(r"rx_pcap=([^,]+)", p.extra or "")
        if m and os.path.abspath(m.group(1)) == os.path.abspath(pcap):
            devargs = DEV_IN
            inp.append(p.name)
        elif m:
            # a pcap the switch reads itself (cps: the flow table prefill)
            extra = os.path.basename(m.group(1))
            extra = extra if extra.startswith(name) else "%s-%s" % (base, extra)
            shutil.copy(m.group(1), os.path.join(dump_dir, extra))
            devargs = p.extra.replace(m.group(1), os.path.join(os.path.abspath(dump_dir), extra))
        else:
            devargs = DEV_OUT
            out.append(p.name)
        f = ['name = "%s"' % p.name, 'role = "%s"' % p.role, 'devargs = "%s"' % devargs]
        if p.peer:
            f.append('peer = "%s"' % p.peer)
        if p.mac:
            f.append('mac = "%s"' % p.mac)
        if p.mtu:
            f.append("mtu = %d" % p.mtu)
        if p.lossless_lane is not None:
            f.append("lossless_lane = %s" % ("true" if p.lossless_lane else "false"))
        lines.append("  { %s; }" % "; ".join(f))
    text = _DUMP_HEAD % {"name": name, "base": base, "inp": ", ".join(inp),
                         "out": ", ".join(out), "pin": DEV_IN, "pout": DEV_OUT}
    text += "lcores = { main = 0; workers = [1]; };\n"
    text += "ports = (\n%s\n);\n" % ",\n".join(lines)
    text += 'control = { socket = "/run/sswitch/sswitchd.sock"; state_file = ""; };\n'
    text += 'bootstrap = "%s-objects.json";\n' % base
    with open(path, "w") as f:
        f.write(text)
    return inp, out


def dump(args):
    import shutil
    os.makedirs(args.dump, exist_ok=True)
    for name in [n for n in (args.scenario or list(SCENARIOS)) if n in SCENARIOS]:
        for flows in args.flows or [1024]:
            gen = tempfile.mkdtemp(prefix="ssdump")
            ports, bootstrap, pcap = SCENARIOS[name][0](gen, flows)
            base = name if len(args.flows or [1024]) == 1 else "%s-%d" % (name, flows)
            shutil.copy(pcap, os.path.join(args.dump, base + ".pcap"))
            with open(os.path.join(args.dump, base + "-objects.json"), "w") as f:
                json.dump({"ops": bootstrap or []}, f)
            inp, out = dump_conf(os.path.join(args.dump, base + "-sswitchd.conf"), name, base,
                                 ports, pcap, args.dump)
            shutil.rmtree(gen, ignore_errors=True)
            print("%s: %s.pcap (into %s, out of %s), %s-objects.json, %s-sswitchd.conf" % (
                name, base, ", ".join(inp), ", ".join(out), base, base))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--window", type=float, default=2.5)
    ap.add_argument("--scenario", action="append",
                    help="only these (repeatable; default: the cases of DEFAULT_CASES and the control "
                         "scenarios)")
    ap.add_argument("--flows", type=int_list, help="active flows, comma-separated (default 1024)")
    ap.add_argument("--workers", type=int_list, help="worker counts, comma-separated: 1,2 (default 1)")
    ap.add_argument("--no-testpmd", action="store_true")
    ap.add_argument("--no-huge", action="store_true", help="run without hugepages even when root")
    ap.add_argument("--mappings", type=int, default=1000000, help="control scenario size")
    ap.add_argument("--dump", metavar="DIR",
                    help="write each scenario's traffic (NAME.pcap), objects (NAME-objects.json,"
                         " a bootstrap file) and switch config (NAME-sswitchd.conf) to DIR for pktgen-dpdk / TRex"
                         " on a real testbed, then exit")
    ap.add_argument("--write", help="write the results into this markdown file (docs/performance.md)")
    args = ap.parse_args()
    args.load0 = os.getloadavg()[0]
    os.environ["SSWITCH_BUILD"] = args.build
    if args.dump:
        return dump(args)

    t_start = time.time()
    cases = cases_of(args)
    control_names = [n for n in (args.scenario or list(CONTROL)) if n in CONTROL]
    mem = max([sizing(scenarios.nframes(n, f))[0] for n, f, _ in cases] + [512])
    results, control = [], {}
    with Hugepages(mem + 64, force_off=args.no_huge) as hp, \
            tempfile.TemporaryDirectory(prefix="ssbench") as tmp:
        print("memory: %s" % hp.label())
        for name in control_names:
            fn, desc = CONTROL[name]
            vals = []
            for r in range(args.runs):
                rd = os.path.join(tmp, "%s-%d" % (name, r))
                os.makedirs(rd)
                vals.append(fn(rd, args, hp))
            res = {"desc": desc, "value": median([v["value"] for v in vals]),
                   "unit": vals[0]["unit"], "runs": [round(v["value"]) for v in vals],
                   "detail": vals[-1]["detail"]}
            control[name] = res
            print("%-10s %12.0f %s (runs %s; %s)" % (name, res["value"], res["unit"], res["runs"],
                                                     res["detail"]))
            sys.stdout.flush()
        gens, tp_cache = {}, {}
        for name, flows, workers in cases:
            key = (name, flows)
            if key not in gens:
                gdir = os.path.join(tmp, "gen-%s-%d" % key)
                os.makedirs(gdir)
                t0 = time.time()
                ports, boot, pcap = SCENARIOS[name][0](gdir, flows)
                objects = None
                if boot:
                    # a scenario's objects do not depend on its flows: one file
                    objects = os.path.join(tmp, "objects-%s.json" % name)
                    if not os.path.exists(objects):
                        write_objects(objects, boot)
                gens[key] = (ports, objects, pcap)
                print("%s: inputs for %d flows written in %.1f s" % (name, flows, time.time() - t0))
            t0 = time.time()
            res = run_case(tmp, name, flows, workers, gens[key], args, hp, tp_cache)
            res["hugepages"] = hp.used
            res["seconds"] = time.time() - t0
            results.append(res)
            print_case(res)
        elapsed = time.time() - t_start
        print("make bench: %.0f s (%s; load average %.1f -> %.1f)" % (
            elapsed, hp.label(), args.load0, os.getloadavg()[0]))
        if args.write:
            write_md(args.write, results, control, args, hp, elapsed)
    return 0


BEGIN, END = "<!-- make bench: begin -->", "<!-- make bench: end -->"


def replace_block(path, begin, end, block):
    """Put block between the markers of path (after the title when the file
    has none yet); the rest of the file (hand-written notes, the other
    tool's block) stays."""
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        text = "# Performance\n"
    new = "%s\n%s\n%s" % (begin, block.rstrip("\n"), end)
    if begin in text and end in text:
        a = text.index(begin)
        b = text.index(end) + len(end)
        text = text[:a] + new + text[b:]
    else:
        head, _, rest = text.partition("\n")
        text = head + "\n\n" + new + "\n" + rest
    with open(path, "w") as f:
        f.write(text)


def write_md(path, results, control, args, hp, elapsed):
    host = os.uname()
    tsc = results[0]["tsc_mhz"] if results else 0
    lines = ["## Latest `make bench`", "",
             "%s, %s, TSC %.0f MHz, **%s**. One worker core (lcore 1) unless the row says 2 "
             "workers; %d-byte frames (%d with FCS), net_pcap `infinite_rx=1` into net_null "
             "`no-rx=1`; median of %d runs of a %.1f s window after the workers forward and a "
             "%.1f s warm-up; the whole run took %.0f s. Cycles per packet are the workers' busy "
             "TSC cycles over packets received (summed over the workers: cost per packet per "
             "core); per-node cycles come from rte_graph's node statistics (they include the "
             "graph's own bookkeeping). testpmd io is the same pcap into the same sink, io "
             "forwarding on one core, its mbuf pool sized for the pcap, measured over the same "
             "kind of window after it is seen forwarding, right after each sswitchd run. With 2 "
             "workers the input is split into one pcap per rx queue (queue q goes to worker "
             "q %% 2); this machine has 2 cores, so the 2nd worker (lcore 2) runs on CPU 0 beside "
             "the main lcore and its busy cycles include the time it is descheduled: read the "
             "Mpps (all workers), not the cycles, for scaling. Load average (1 min) at the start "
             "and the end: %.1f, %.1f (on 2 cores: above 1 other work shares the worker's core, "
             "and busy TSC cycles include the time it was descheduled)."
             % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), host.machine, tsc, hp.label(),
                FRAME, FRAME + 4, args.runs, args.window, args.warmup, elapsed, args.load0,
                os.getloadavg()[0]), "",
             "| scenario | flows | workers | hugepages | Mpps | cycles/pkt | runs | testpmd io "
             "cycles/pkt | / testpmd | what |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        tp = r["testpmd_cpp"]
        wk = "%d" % r["workers"] + (" (2nd shares CPU 0 with the main lcore)" if r["workers"] == 2 else "")
        lines.append("| %s | %d | %s | %s | %.2f | %.1f | %s | %s | %s | %s |" % (
            r["name"], r["flows"], wk, "yes" if r["hugepages"] else "no", r["mpps"], r["cpp"], ", ".join(str(c) for c in r["cpp_runs"]),
            "%.1f" % tp if tp and r["workers"] == 1 else "-",
            "%.1fx" % (r["cpp"] / tp) if tp and r["workers"] == 1 else "-", r["desc"]))
    lines += ["", "### Cycles per node", ""]
    for r in results:
        lines.append("- **%s**: " % case_label(r["name"], r["flows"], r["workers"]) + ", ".join(
            "%s %.1f" % (n, c) for n, c in sorted(r["nodes"].items(), key=lambda kv: -kv[1]) if c > 0))
    if control:
        lines += ["", "### Control plane", "", "| scenario | median | runs | what |", "|---|---|---|---|"]
        for name, r in control.items():
            lines.append("| %s | %.0f %s | %s | %s |" % (name, r["value"], r["unit"],
                                                       ", ".join(str(v) for v in r["runs"]), r["desc"]))
    lines += ["", "Re-run: `make bench` (options: `/usr/bin/python3 tests/bench/bench.py --help`)."]
    replace_block(path, BEGIN, END, "\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
