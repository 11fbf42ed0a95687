#!/usr/bin/python3
"""sync_lag_ms of the HA channel at a controlled rate of new flows, and the
bulk-sync time of the table that leaves (docs/ha.md, "Measurements").

Two sswitchd on this machine, connected by the channel over loopback: the
active's host0 is a TAP into which tcpreplay sends, at --pps, a pcap of
--flows distinct outbound UDP flows (ENIs e0..e15, 4096 mappings), each
flow one packet, so the active opens --pps flows a second. ha.get on the
active is sampled every --sample-ms during the replay: sync_lag_ms (the
time from a flow's creation on a worker to the standby's ack of it),
reported as median / p99 / max over the samples taken while flows were
being created. Then the standby is restarted empty and the time from its
control socket answering to bulk_sync "done" with every flow installed is
the bulk-sync time of the active's whole table.

    sudo SSWITCH_BUILD=build /usr/bin/python3 tests/bench/ha_lag.py \
        --flows 1000000 --pps 100000

Needs root, /dev/net/tun and tcpreplay (Debian package `tcpreplay`). It
stops by itself: the replay is bounded by --flows, each wait by a timeout.
"""
import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "lib"))
sys.path.insert(0, HERE)

import pcapgen  # noqa: E402
from sswitch import Daemon, Port  # noqa: E402

ENIS = 16
NMAP = 4096


def boot():
    ops = [
        {"method": "switch.set", "params": {"underlay_ip": "100.127.0.1", "mac": "02:00:00:00:ff:ff"}},
        {"method": "underlay_route.add", "params": {"prefix": "100.64.0.0/10", "next_hops": [
            {"port": "fabric0", "mac": "02:00:00:00:0b:01"}]}},
        {"method": "vnet.add", "params": {"name": "v", "vni": 1000, "gateway_ip": "10.0.0.1"}},
        {"method": "route.add", "params": {"group": "rg", "prefix": "10.0.0.0/12", "action": "vnet"}},
    ]
    ops += [{"method": "eni.add", "params": {"name": "e%d" % k, "mac": "02:00:00:01:00:%02x" % k,
                                             "vnet": "v", "port": "host0", "route_group": "rg"}}
            for k in range(ENIS)]
    ops.append({"method": "mapping.add", "params": {"entries": [
        {"vnet": "v", "ip": "10.0.%d.%d" % (i >> 8, i & 255),
         "underlay_ip": "100.64.%d.%d" % (i >> 8, i & 255),
         "mac": "02:00:00:02:%02x:%02x" % (i >> 8, i & 255)} for i in range(NMAP)]}})
    return ops


def frames(n):
    """Flow i: from ENI i % 16 (10.15.255.(i%16+1)) to mapping (i/16) % 4096,
    UDP 1024 + i / 65536 -> 80: distinct for every i < 2^32 / 16."""
    t = pcapgen.Template(
        pcapgen.udp_template("02:00:00:00:ff:ff", "02:00:00:01:00:00", "0.0.0.0", "0.0.0.0", 0, 80),
        [(11, 1), (26, 4), (30, 4), (34, 2)],
        [pcapgen._ip_sum(14), pcapgen._udp_sum(14, 34, 26)])
    base = pcapgen.ip4("10.15.255.1")
    return t.frames((i % ENIS, base + i % ENIS, (10 << 24) | ((i >> 4) % NMAP),
                     1024 + (i >> 16)) for i in range(n))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Switch:
    """port "tap": host0 is a TAP (tcpreplay sends into it); "af_packet":
    host0 is net_af_packet on one end of a veth pair, tcpreplay sends into
    the other end."""

    def __init__(self, tmp, role, listen, peer, mem_mb, port="af_packet"):
        tag = uuid.uuid4().hex[:6]
        self.veth = None
        if port == "tap":
            self.tap = "hq" + tag
            host0 = "net_tap_%s,iface=%s" % (tag, self.tap)
        else:
            self.tap, self.veth = "hq" + tag, "hp" + tag
            subprocess.run(["ip", "link", "add", self.tap, "type", "veth", "peer", "name",
                            self.veth], check=True)
            for i in (self.tap, self.veth):
                subprocess.run(["sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % i], check=False)
                subprocess.run(["ip", "link", "set", i, "up"], check=True)
            host0 = "net_af_packet_%s,iface=%s,blocksz=4096,framesz=2048,framecnt=65536" % (
                tag, self.veth)
        ports = [Port("host0", "host", kind="raw", extra=host0),
                 Port("fabric0", "fabric", kind="null", mac="02:00:00:00:00:aa")]
        os.makedirs(tmp, exist_ok=True)
        conf = ('ha = { role = "%s"; listen = "127.0.0.1:%d"; peer = "127.0.0.1:%d"; '
                'peer_timeout_ms = 3000; };\nflows = { idle_timeout_ms = 600000; };\n'
                % (role, listen, peer))
        self.d = Daemon(tmp, ports, bootstrap=boot(), extra_conf=conf, mem_mb=mem_mb)

    def start(self):
        self.d.start(timeout=120)
        subprocess.run(["sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % self.tap], check=False)
        subprocess.run(["ip", "link", "set", self.tap, "up"], check=True)
        self.rpc = self.d.rpc()
        return self

    def stop(self):
        if self.d.proc is not None:
            self.rpc.close()
            self.d.stop()

    def remove(self):
        if self.veth is not None:
            subprocess.run(["ip", "link", "del", self.tap], check=False)

    def ha(self):
        return self.rpc.call("ha.get")

    def nflows(self):
        return self.rpc.call("stats.get", {"scope": "flows"})["flows"]["count"]


def wait(cond, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.02)
    raise RuntimeError("timed out waiting for " + what)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))] if xs else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--flows", type=int, default=1000000)
    ap.add_argument("--pps", type=int, default=100000)
    ap.add_argument("--sample-ms", type=int, default=50)
    ap.add_argument("--mem-mb", type=int, default=2048)
    ap.add_argument("--no-bulk", action="store_true", help="skip the bulk-sync measurement")
    ap.add_argument("--port", choices=("af_packet", "tap"), default="af_packet")
    ap.add_argument("--series", help="write the samples (s, sync_lag_ms, synced_flows, "
                    "standby's flow table capacity) to this file")
    args = ap.parse_args()
    if shutil.which("tcpreplay") is None:
        sys.exit("tcpreplay not found (apt-get install tcpreplay)")
    tmp = tempfile.mkdtemp(prefix="ha_lag.")
    pcap = os.path.join(tmp, "flows.pcap")
    pcapgen.write_pcap(pcap, frames(args.flows))
    pa, pb = free_port(), free_port()
    b = Switch(os.path.join(tmp, "b"), "standby", pb, pa, args.mem_mb, args.port).start()
    a = Switch(os.path.join(tmp, "a"), "active", pa, pb, args.mem_mb, args.port).start()
    out = {"flows": args.flows, "pps": args.pps}
    try:
        wait(lambda: a.ha()["bulk_sync"] == "done" and b.ha()["bulk_sync"] == "done", 60,
             "the (empty) bulk sync")
        samples, stop = [], threading.Event()

        def sampler():
            rpc = a.d.rpc()
            rpcb = b.d.rpc()
            while not stop.is_set():
                h = rpc.call("ha.get")
                cap = rpcb.call("stats.get", {"scope": "flows"})["flows"]["capacity"]
                samples.append((time.time(), h["sync_lag_ms"], h["synced_flows"], cap))
                time.sleep(args.sample_ms / 1000)
            rpc.close()
            rpcb.close()

        th = threading.Thread(target=sampler)
        th.start()
        t0 = time.time()
        r = subprocess.run(["tcpreplay", "-q", "--pps=%d" % args.pps, "--intf1=" + a.tap, pcap],
                           capture_output=True, text=True, timeout=args.flows / args.pps * 5 + 60)
        sent_s = time.time() - t0
        wait(lambda: b.nflows() >= a.nflows() and a.ha()["sync_lag_ms"] == 0, 120,
             "the standby to catch up")
        caught_s = time.time() - t0
        stop.set()
        th.join()
        lags = [lag for (_t, lag, n, _c) in samples if 0 < n < args.flows and _t - t0 <= sent_s]
        if args.series:
            with open(args.series, "w") as f:
                for (t, lag, n, c) in samples:
                    f.write("%.3f %d %d %d\n" % (t - t0, lag, n, c))
        h = a.ha()
        out.update({
            "tcpreplay": [x.strip() for x in (r.stdout + r.stderr).splitlines()
                          if "Actual" in x or "Rated" in x or "Failed" in x],
            "host0": {k: v for k, v in a.rpc.call("stats.get", {"scope": "ports"})["ports"]
                      ["host0"].items() if k.startswith("rx")},
            "replay_s": round(sent_s, 2), "caught_up_s": round(caught_s, 2),
            "active_flows": a.nflows(), "standby_flows": b.nflows(),
            "samples": len(lags),
            "sync_lag_ms": {"median": statistics.median(lags) if lags else 0,
                            "p90": pct(lags, 0.90), "p99": pct(lags, 0.99),
                            "max": max(lags) if lags else 0},
            "events_dropped": h["events_dropped"], "resyncs": h["resyncs"],
        })
        if not args.no_bulk:
            n = a.nflows()
            b.stop()
            b.d.prefix = "sst" + uuid.uuid4().hex[:10]
            t1 = time.time()
            b.start()
            t2 = time.time()
            wait(lambda: b.ha()["bulk_sync"] == "done" and b.nflows() >= n, 300,
                 "the bulk sync of %d flows" % n)
            t3 = time.time()
            # the daemon's start (EAL, bootstrap) overlaps the bulk: both
            # bounds are given
            out["bulk_sync"] = {"flows": n, "from_process_start_s": round(t3 - t1, 2),
                                "from_control_socket_s": round(t3 - t2, 2)}
    finally:
        a.stop()
        b.stop()
        a.remove()
        b.remove()
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
