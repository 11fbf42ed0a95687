#!/usr/bin/python3
"""make bench-scale: 8M CA->PA mappings and 32M flows in one sswitchd.

One sswitchd (one worker), its host port a net_pcap reading a FIFO this
tool feeds, its fabric port a net_null sink. Phases, each timed, with the
daemon's memory (VmRSS and HugetlbPages of /proc/PID/status) after each:

1. start: the bootstrap holds the underlay, one VNET, 16 ENIs, one route
   (10.0.0.0/8 -> the VNET) and flow.config (max_flows, a long idle
   timeout, so no flow expires during the run);
2. mappings: N CA->PA mappings through the control socket, bulk mapping.add
   of --batch entries a request, one request in flight (the next one is
   built while the daemon applies the last);
3. flows: the pcap of F outbound frames with F distinct inner 5-tuples
   (written once by a direct writer, --pcap-dir keeps it for the next run)
   goes through the FIFO: every frame opens a flow; then stats.get `flows`
   must show F live flows
   (flows that arrive while the table is being grown are forwarded untracked,
   flow_table_full: passes are repeated, up to --fill-passes, until every
   flow is live);
4. forwarding: the pcap's first --window-frames frames again, every one a
   flow of the F-flow table: Mpps and the worker's busy cycles per packet.

Why a FIFO: net_pcap without infinite_rx reads its file once, from the
moment the port starts; infinite_rx would keep all F frames in mbufs. Until
the mappings are in, the feeder writes a burst of 32 filler frames (a MAC
no ENI has: dropped before conntrack) every millisecond, so the worker,
which blocks in the pipe's read while it is empty, still ends a graph walk
(an RCU quiescent state) every millisecond; then it streams the pcap with
sendfile, then filler again, and EOF before the daemon is stopped.

Memory: when root, 2 MB hugepages are allowed on demand
(nr_overcommit_hugepages raised for the run, restored afterwards): sswitchd
runs in DPDK's dynamic memory mode (no -m), takes surplus pages as its
tables grow and gives them back as it frees them, so the machine lends only
what the run uses (a failed allocation is a table that does not grow, not
the OOM killer); otherwise --no-huge with -m sized from the counts.

Bytes per mapping and per flow are the memory deltas (resident + hugepage)
over the counts. The flow table grows by a factor 4 when half full, up to
max_flows + 25% (docs/conntrack.md), so its capacity, not only the flows,
sets the figure.
"""
import argparse
import fcntl
import multiprocessing
import os
import resource
import struct
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
sys.path.insert(0, HERE)
from sswitch import Port, REPO  # noqa: E402
import pcapgen  # noqa: E402
import scenarios  # noqa: E402
from hugepages import Hugepages, SYSFS, PAGE_MB, _read_int, _write_int  # noqa: E402
from runners import BenchDaemon  # noqa: E402
from bench import replace_block  # noqa: E402

BEGIN, END = "<!-- make bench-scale: begin -->", "<!-- make bench-scale: end -->"
ENIS = 16
REC = 16 + pcapgen.FRAME            # pcap record header + frame
MAP_BASE = (10 << 24) | (16 << 16)  # mapping m is 10.16.0.0 + m (clear of the gateway 10.0.0.1
                                    # and the ENIs' 10.15.255.x)
SPORT_BLOCK = 8192                  # source ports per pass over the mappings
MAX_PASSES = 5                      # fill passes at most (--fill-passes)


# ---- memory -----------------------------------------------------------------

class SurplusHugepages(Hugepages):
    """2 MB hugepages on demand: nr_overcommit_hugepages raised by `mb_needed`
    for the run (given back afterwards); the process takes surplus pages as
    it allocates and returns them as it frees (DPDK dynamic memory mode)."""

    def __init__(self, mb_needed, leave_mb, **kw):
        super().__init__(mb_needed, **kw)
        self.leave_mb = leave_mb
        self.capped = False
        self.allowed_mb = 0

    def _reserve(self):
        pages = self._pages()
        if pages is None:
            return
        # never more than the machine can spare now: a surplus page the
        # kernel cannot find is a failed allocation (a table that does not
        # grow), not pressure on everything else running here
        spare = (mem_available_mb() - self.leave_mb) // PAGE_MB
        self.capped = spare < pages
        pages = max(0, min(pages, spare))
        if pages == 0:
            self.reason = "MemAvailable leaves nothing beyond --leave-mb %d" % self.leave_mb
            return
        path = os.path.join(SYSFS, "nr_overcommit_hugepages")
        try:
            self.orig = _read_int(path)
            _write_int(path, self.orig + pages)
            self.added = _read_int(path) - self.orig
            self.allowed_mb = self.added * PAGE_MB
        except OSError as e:
            self.reason = "cannot allow surplus hugepages: %s" % e
            return
        self.mount("ssscale-huge")
        if self.used:
            self.reason = "up to %d x 2 MB pages on demand%s (nr_overcommit_hugepages %d -> %d), " \
                          "hugetlbfs at %s" % (pages, ", capped by MemAvailable" if self.capped else "",
                                               self.orig, self.orig + self.added, self.dir)
            self.log("hugepages: %s" % self.reason)

    def _give_back(self):
        if self.orig is not None and self.added:
            path = os.path.join(SYSFS, "nr_overcommit_hugepages")
            try:
                _write_int(path, max(0, _read_int(path) - self.added))
            except OSError as e:
                self.log("hugepages: cannot restore nr_overcommit_hugepages: %s" % e)
            self.added = 0

    def eal_args(self, mem_mb):
        if not self.used:
            return ["--no-huge", "-m", str(mem_mb)]
        return ["--huge-dir", self.dir, "--huge-unlink"]

    def label(self):
        if self.used:
            return "2 MB hugepages on demand, at most %d MB%s" % (
                self.allowed_mb, " (capped by MemAvailable less %d MB)" % self.leave_mb if self.capped else "")
        return "no hugepages (--no-huge: %s)" % self.reason




def mem_available_mb():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) // 1024
    return 0


def proc_mem(pid):
    """(VmRSS, HugetlbPages) of a process, in bytes."""
    out = {"VmRSS": 0, "HugetlbPages": 0}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in out:
                out[k] = int(v.split()[0]) * 1024
    return out["VmRSS"], out["HugetlbPages"]


# DPDK memory (hugepages), measured by make bench-scale: 131 bytes per
# mapping in the data plane's tables (the control plane's store, ~180 more,
# is malloc: RSS), 280-294 per flow-table position, 182 MB at start; with a
# margin
EST_MAPPING, EST_POSITION, EST_BASE_MB = 140, 300, 256


def flows_peak_mb(mappings, max_flows):
    """DPDK memory at the flow table's last growth: the table of max_flows +
    25% positions and the one it grew from (64k x 4^k) at once."""
    cap = max_flows * 5 // 4
    prev = 0
    while 65536 * 4 ** (prev + 1) < cap:
        prev += 1
    prev_pos = 65536 * 4 ** prev if cap > 65536 else 0
    return EST_BASE_MB + (mappings * EST_MAPPING + (max(cap, 65536) + prev_pos) * EST_POSITION) // (1 << 20)


def fit_max_flows(allow_mb, mappings, flows):
    """The largest max_flows (flows x k/256) whose peak fits allow_mb: a table
    that cannot grow for want of memory fills its hash to the last slot, and
    every further new flow then pays a failing cuckoo search; a max_flows that
    fits stops new flows at the bound instead (flow_table_full)."""
    for k in range(256, 0, -1):
        f = flows * k // 256
        if flows_peak_mb(mappings, f) <= allow_mb:
            return f
    return 0


def mem_estimate_mb(mappings, flows):
    """What the run may allocate: the peak and room for the rest."""
    return flows_peak_mb(mappings, flows) + 512


# ---- frames -------------------------------------------------------------------

def flow_fields(i, mappings):
    """Flow i: ENI i % 16 (MAC 02:00:00:01:00:EE, 10.15.255.(EE+1)) to mapping
    m = (i mod M) * 1021 mod M (10.16.0.0 + m), UDP source port
    1024 + (i div M) * 8192 + (i >> 4 & 8191) -> 80. Distinct for every
    i < 7 M: the mapping fixes i mod M (1021 is prime and does not divide M),
    the source port i div M."""
    e = i % ENIS
    b, mi = divmod(i, mappings)
    return (e, pcapgen.ip4("10.15.255.1") + e, MAP_BASE + (mi * 1021) % mappings,
            1024 + b * SPORT_BLOCK + ((i >> 4) & (SPORT_BLOCK - 1)))


def _template():
    return pcapgen.udp_template("02:00:00:00:ff:ff", "02:00:00:01:00:00", "0.0.0.0", "0.0.0.0", 0, 80)


def write_flows_pcap(path, flows, mappings, chunk=16384):
    """The pcap of flows 0..F-1 (flow_fields), without a per-frame Template
    call: a chunk of records is patched in place with struct.pack_into
    (IPv4 and UDP checksums from per-ENI partial sums, RFC 1624). Checked
    against pcapgen.Template on a sample before it is written."""
    tmpl = _template()
    rec = struct.pack("<IIII", 0, 0, len(tmpl), len(tmpl))
    buf = bytearray((rec + tmpl) * chunk)
    for k in range(chunk):
        buf[k * REC + 16 + 11] = k % ENIS   # chunk is a multiple of 16
    ip_part, udp_part, sips = [], [], []
    for e in range(ENIS):
        f = bytearray(tmpl)
        f[11] = e
        s = pcapgen.ip4("10.15.255.1") + e
        sips.append(s)
        # IPv4 header words except the addresses and the checksum (14..24), + source
        ip_part.append(pcapgen._words(bytes(f[14:24])) + (s >> 16) + (s & 0xffff))
        # pseudo-header (protocol, length, source), UDP length and destination port, payload
        udp_part.append(17 + 26 + (s >> 16) + (s & 0xffff) + 26 + 80 + pcapgen._words(bytes(f[42:60])))
    pack_into = struct.Struct(">HIIHHHH").pack_into
    with open(path, "wb") as out:
        out.write(pcapgen.PCAP_HEADER)
        i = 0
        while i < flows:
            n = min(chunk, flows - i)
            off = 16 + 24
            for j in range(i, i + n):
                e = j % ENIS
                b, mi = divmod(j, mappings)
                dip = MAP_BASE + (mi * 1021) % mappings
                sp = 1024 + b * SPORT_BLOCK + ((j >> 4) & (SPORT_BLOCK - 1))
                d = (dip >> 16) + (dip & 0xffff)
                x = ip_part[e] + d
                x = (x & 0xffff) + (x >> 16)
                x = (x & 0xffff) + (x >> 16)
                y = udp_part[e] + d + sp
                y = (y & 0xffff) + (y >> 16)
                y = (y & 0xffff) + (y >> 16)
                pack_into(buf, off, ~x & 0xffff, sips[e], dip, sp, 80, 26, (~y & 0xffff) or 0xffff)
                off += REC
            out.write(memoryview(buf)[:n * REC])
            i += n


def check_pcap(path, flows, mappings):
    """The written frames against pcapgen.Template (outbound's template and
    checksums) on a sample: the first frames, each pass's first, the last."""
    t = pcapgen.Template(_template(), [(11, 1), (26, 4), (30, 4), (34, 2)],
                         [pcapgen._ip_sum(14), pcapgen._udp_sum(14, 34, 26)])
    sample = sorted(set(list(range(min(flows, 256))) + [b * mappings for b in range(1, flows // mappings + 1)
                                                        if b * mappings < flows] + [flows - 1]))
    want = t.frames(flow_fields(i, mappings) for i in sample)
    with open(path, "rb") as f:
        if f.read(24) != pcapgen.PCAP_HEADER:
            raise RuntimeError("%s: not the pcap header this tool writes" % path)
        for i, w in zip(sample, want):
            f.seek(24 + i * REC + 16)
            got = f.read(len(w))
            if got != w:
                raise RuntimeError("%s: frame %d differs from pcapgen's: %s / %s" % (path, i, got.hex(), w.hex()))
    if os.path.getsize(path) != 24 + flows * REC:
        raise RuntimeError("%s: %d bytes, %d expected" % (path, os.path.getsize(path), 24 + flows * REC))


def flows_pcap(pcap_dir, flows, mappings):
    """The flows pcap (reused when --pcap-dir already holds it): (path,
    seconds spent writing it or None when reused)."""
    path = os.path.join(pcap_dir, "scale-%d-flows-%d-mappings.pcap" % (flows, mappings))
    t0, spent = time.time(), None
    if not (os.path.exists(path) and os.path.getsize(path) == 24 + flows * REC):
        tmp = path + ".part"
        write_flows_pcap(tmp, flows, mappings)
        os.rename(tmp, path)
        spent = time.time() - t0
    check_pcap(path, flows, mappings)
    return path, spent


# filler: from a MAC no ENI has, dropped before conntrack
FILLER = next(pcapgen.Template(
    pcapgen.udp_template("02:00:00:00:ff:ff", "02:00:00:0f:ff:ff", "10.15.254.1", "10.16.0.1", 9, 9),
    [], [pcapgen._ip_sum(14), pcapgen._udp_sum(14, 34, 26)]).frames([()]))
FILLER_BURST = 32
F_SETPIPE_SZ = 1031   # linux/fcntl.h


def feeder(fifo, pcap, nframes, go, stop, passes_done, filler_sent):
    """The FIFO's writer (a process of its own, so the control client's
    JSON work never starves it): the pcap header, then filler bursts every
    millisecond; each time `go` is set, the pcap's first `nframes.value` frames (sendfile), then filler
    again; EOF when `stop` is set. filler_sent[k] is the filler frames sent
    before pass k (the frames the port receives ahead of that pass)."""
    fd = os.open(fifo, os.O_RDWR)
    try:
        # off the worker's CPU (lcore 1 is CPU 1); a 1 MB pipe: fewer wake-ups
        os.sched_setaffinity(0, {0})
        fcntl.fcntl(fd, F_SETPIPE_SZ, 1 << 20)
    except OSError:
        pass
    burst = (struct.pack("<IIII", 0, 0, len(FILLER), len(FILLER)) + FILLER) * FILLER_BURST
    sent = 0
    try:
        os.write(fd, pcapgen.PCAP_HEADER)
        while not stop.is_set():
            if go.is_set():
                go.clear()
                filler_sent[passes_done.value] = sent
                with open(pcap, "rb") as f:
                    off, size = 24, 24 + nframes.value * REC
                    while off < size:
                        off += os.sendfile(fd, f.fileno(), off, min(size - off, 1 << 24))
                passes_done.value += 1
                continue
            os.write(fd, burst)
            sent += FILLER_BURST
            time.sleep(0.001)
    finally:
        os.close(fd)


# ---- control plane ------------------------------------------------------------------

def mapping_line(first, n, rid):
    """One mapping.add request of mappings first..first+n-1 (mapping m:
    10.16.0.0 + m -> PA 100.64.(m>>8 & 255).(m & 255), MAC 02:00 + m)."""
    ents = []
    for m in range(first, first + n):
        a = MAP_BASE + m
        ents.append('{"vnet":"bench","ip":"10.%d.%d.%d","underlay_ip":"100.64.%d.%d",'
                    '"mac":"02:00:%02x:%02x:%02x:%02x"}' % (
                        a >> 16 & 255, a >> 8 & 255, a & 255, m >> 8 & 255, m & 255,
                        m >> 24 & 255, m >> 16 & 255, m >> 8 & 255, m & 255))
    return ('{"jsonrpc":"2.0","id":%d,"method":"mapping.add","params":{"entries":[%s]}}\n'
            % (rid, ",".join(ents))).encode()


def load_mappings(rpc, total, batch):
    """Bulk mapping.add, one request in flight; the next request is built
    while the daemon works on the current one."""
    nxt = mapping_line(0, min(batch, total), 1)
    first, rid = 0, 1
    while first < total:
        rpc.sock.sendall(nxt)
        n = min(batch, total - first)
        first += n
        rid += 1
        if first < total:
            nxt = mapping_line(first, min(batch, total - first), rid)
        while b"\n" not in rpc.buf:
            chunk = rpc.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("control socket closed during mapping.add")
            rpc.buf += chunk
        rep, rpc.buf = rpc.buf.split(b"\n", 1)
        if b'"error"' in rep:
            raise RuntimeError("mapping.add of mappings %d..%d failed: %s" % (first - n, first - 1, rep[:300]))


def bootstrap(max_flows):
    ops = scenarios._overlay_underlay()
    ops.append({"method": "flow.config", "params": {"max_flows": max_flows,
                                                     "idle_timeout_ms": 86400000}})
    ops.append({"method": "route.add", "params": {"group": "rg", "prefix": "10.0.0.0/8",
                                                  "action": "vnet"}})
    ops += [{"method": "eni.add", "params": {"name": "e%d" % k, "mac": "02:00:00:01:00:%02x" % k,
                                             "vnet": "bench", "port": "host0", "route_group": "rg"}}
            for k in range(ENIS)]
    return ops


# ---- the run -------------------------------------------------------------------------

class Run:
    def __init__(self, args, hp, tmp):
        self.args, self.hp, self.tmp = args, hp, tmp
        self.rows = []          # (phase, seconds, rss, huge, note)
        self.d = self.rpc = self.feed = None
        self.fed = []           # frames of each pass
        self.peak = (0, 0, 0)   # (rss + huge, rss, huge), sampled every 0.2 s
        self.sampling = threading.Event()

    def sampler(self):
        while not self.sampling.wait(0.2):
            try:
                rss, huge = self.mem()
            except (OSError, AttributeError):
                return
            if rss + huge > self.peak[0]:
                self.peak = (rss + huge, rss, huge)

    def mem(self):
        return proc_mem(self.d.proc.pid)

    def row(self, phase, seconds, note=""):
        rss, huge = self.mem()
        self.rows.append((phase, seconds, rss, huge, note))
        print("%-34s %8.1f s   RSS %7.0f MB   hugepages %7.0f MB   %s" % (
            phase, seconds, rss / 2**20, huge / 2**20, note))
        sys.stdout.flush()
        return rss + huge

    def flows_stats(self):
        """A connection of its own: the server closes one idle for the
        control section's idle timeout (60 s), shorter than a pass."""
        rpc = self.d.rpc()
        rpc.sock.settimeout(600)
        try:
            return rpc.call("stats.get", {"scope": "flows"})["flows"]
        finally:
            rpc.close()

    def host_rx(self):
        return self.d.stats()["ports"]["host0"]["rx_packets"]

    def wait_pass(self, k, timeout):
        """Until pass k's frames were all received (the filler sent before
        it plus the pass), then until the flow count stops moving."""
        deadline = time.time() + timeout
        while self.passes.value <= k:
            if time.time() > deadline or not self.feed.is_alive():
                raise TimeoutError("pass %d not fed in %d s" % (k, timeout))
            time.sleep(0.1)
        want = self.filler[k] + sum(self.fed[:k + 1])
        while self.host_rx() < want:
            if time.time() > deadline:
                raise TimeoutError("host0 received %d of %d frames" % (self.host_rx(), want))
            time.sleep(0.05)
        t_rx = time.time()
        last = None
        while True:
            fl = self.flows_stats()
            if last is not None and fl["count"] == last["count"] and fl["capacity"] == last["capacity"]:
                return t_rx, fl
            last = fl
            if time.time() > deadline:
                return t_rx, fl
            time.sleep(0.3)

    def run(self):
        a = self.args
        fifo = os.path.join(self.tmp, "host0.fifo")
        os.mkfifo(fifo)
        ctx = multiprocessing.get_context("fork")
        self.go, self.stop = ctx.Event(), ctx.Event()
        self.passes = ctx.Value("i", 0)
        self.filler = ctx.Array("q", MAX_PASSES + 1)
        self.nframes = ctx.Value("q", a.nflows)
        self.feed = ctx.Process(target=feeder, args=(fifo, self.pcap, self.nframes, self.go, self.stop,
                                                     self.passes, self.filler), daemon=True)
        self.feed.start()
        ports = [Port("host0", "host", kind="raw", extra="net_pcap0,rx_pcap=%s" % fifo),
                 Port("fabric0", "fabric", kind="raw", mac="02:00:00:00:00:aa", extra="net_null0,no-rx=1")]
        conf = []
        if a.mappings > 8388608:
            conf.append("tables = { mappings = %d; };" % a.mappings)
        self.d = BenchDaemon(self.tmp, ports, self.hp.eal_args(mem_estimate_mb(a.mappings, a.flows)),
                             bootstrap=bootstrap(a.max_flows), state_file=a.state_file,
                             extra_conf="\n".join(conf))
        t0 = time.time()
        try:
            self.d.start(timeout=300)
        except BaseException:
            self.d.kill()
            raise
        th = threading.Thread(target=self.sampler, daemon=True)
        th.start()
        try:
            self.phases(t0)
        finally:
            self.sampling.set()
            th.join()
            self.stop.set()
            self.feed.join(timeout=5)
            if self.feed.is_alive():
                # in the middle of a pass: EOF now, so the worker's read returns
                self.feed.terminate()
                self.feed.join()
            if self.rpc:
                self.rpc.close()
            self.d.stop(timeout=300)

    def pass_(self, k, nframes):
        """Pass k: the pcap's first nframes frames; (seconds until every
        frame was received, flows stats, per-pass counters)."""
        self.nframes.value = nframes
        self.fed.append(nframes)
        st_a = self.d.stats()
        t0 = time.time()
        self.go.set()
        t_rx, fl = self.wait_pass(k, self.args.timeout)
        st_b = self.d.stats()
        rx = st_b["ports"]["host0"]["rx_packets"] - st_a["ports"]["host0"]["rx_packets"]
        tx = st_b["ports"]["fabric0"]["tx_packets"] - st_a["ports"]["fabric0"]["tx_packets"]
        wb, wa = st_b["workers"], st_a["workers"]
        cyc = sum(wb[w]["busy_cycles"] - wa[w]["busy_cycles"] for w in wb)
        wpk = sum(wb[w]["rx_packets"] - wa[w]["rx_packets"] for w in wb)
        na = st_a["nodes"]
        graph = sum(n["cycles"] - na.get(name, {"cycles": 0})["cycles"]
                    for name, n in st_b["nodes"].items() if name != "port_rx")
        return t_rx - t0, fl, {"rx": rx, "tx": tx, "mpps": nframes / (t_rx - t0) / 1e6,
                               "cpp": cyc / wpk if wpk else 0.0,
                               "cpp_graph": graph / wpk if wpk else 0.0}

    def phases(self, t0):
        a = self.args
        self.rpc = self.d.rpc()
        self.rpc.sock.settimeout(600)
        st0 = self.d.stats()
        m0 = self.row("start (bootstrap, no mappings)", time.time() - t0)

        t0 = time.time()
        load_mappings(self.rpc, a.mappings, a.batch)
        dt = time.time() - t0
        m1 = self.row("%d mappings (mapping.add)" % a.mappings, dt,
                      "%.0f mappings/s" % (a.mappings / dt))

        # fill: passes until every flow is live (a flow that arrives while
        # the table is being grown is forwarded untracked, flow_table_full,
        # and opened by the next pass)
        t_fill, k, full0 = time.time(), 0, 0
        self.fill = []
        while True:
            dt, fl, c = self.pass_(k, a.nflows)
            self.fill.append((dt, fl, c))
            self.row("flows, pass %d" % (k + 1), dt,
                     "%d live flows (capacity %d), %.2f Mpps, flow_table_full +%d" % (
                         fl["count"], fl["capacity"], c["mpps"], fl["flow_table_full"] - full0))
            full0 = fl["flow_table_full"]
            k += 1
            if fl["count"] >= a.nflows or k >= a.fill_passes:
                break
            if k > 1 and fl["count"] == self.fill[-2][1]["count"]:
                break   # no progress: the table cannot grow (memory) or is full
        m2 = self.row("%d flows live" % fl["count"], time.time() - t_fill,
                      "after %d pass%s" % (k, "es" if k > 1 else ""))
        self.fill_s = time.time() - t_fill

        nwin = min(a.nflows, a.window_frames)
        dt, fl, c = self.pass_(k, nwin)
        self.fwd = c
        self.row("forwarding (first %d frames again)" % nwin, dt,
                 "%.2f Mpps; worker %.0f busy cycles/pkt, %.0f without port_rx; %d of %d frames "
                 "out of fabric0; %d live flows" % (c["mpps"], c["cpp"], c["cpp_graph"], c["tx"],
                                                    nwin, fl["count"]))
        st2 = self.d.stats()
        drops = {k_: v - st0["drops"].get(k_, 0) for k_, v in st2["drops"].items()
                 if v - st0["drops"].get(k_, 0)}
        self.result = {"m0": m0, "m1": m1, "m2": m2, "live": self.fill[-1][1], "final": fl,
                       "drops": drops}


def report(run, args, hp, t_gen, elapsed):
    r = run.result
    live = r["live"]
    per_map = (r["m1"] - r["m0"]) / args.mappings
    per_flow = (r["m2"] - r["m1"]) / max(1, live["count"])
    per_pos = (r["m2"] - r["m1"]) / max(1, live["capacity"])
    first = run.fill[0]
    fwd = run.fwd
    lines = [
        "## Latest `make bench-scale`", "",
        "%s, %s, **%s**. One sswitchd, one worker core; %d CA->PA mappings loaded through the "
        "control socket (mapping.add, %d a request, one in flight, state file %s), then %s "
        "distinct outbound UDP flows (16 ENIs, every mapping a destination) opened by traffic: "
        "a pcap of one frame per flow (%s) fed "
        "through a FIFO into net_pcap, pass after pass until every flow is live, then its first "
        "frames again for the forwarding figure; max_flows %d, idle timeout 24 h. Memory is the daemon's "
        "VmRSS plus its HugetlbPages after each phase. The whole run took %.0f s; load average "
        "(1 min) at the start and the end: %.1f, %.1f." % (
            time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.uname().machine, hp.label(),
            args.mappings, args.batch, "on" if args.state_file else "off",
            "%d" % args.nflows if args.nflows == args.flows else "%d (of %d asked)" % (args.nflows, args.flows),
            "written by tests/bench/scale.py in %.0f s" % t_gen if t_gen is not None else
            "written by an earlier run of tests/bench/scale.py, --pcap-dir",
            args.max_flows, elapsed, args.load0, os.getloadavg()[0]), "",
        "| phase | time (s) | RSS (MB) | hugepages (MB) | |", "|---|---|---|---|---|"]
    for phase, sec, rss, huge, note in run.rows:
        lines.append("| %s | %.1f | %.0f | %.0f | %s |" % (phase, sec, rss / 2**20, huge / 2**20, note))
    lines += [
        "",
        "- **bytes per mapping: %.0f** (memory after the mappings minus after start, over %d "
        "mappings: the data plane's tables and the control plane's store)" % (per_map, args.mappings),
        "- **bytes per flow: %.0f** (memory once the flows are live minus after the mappings, over "
        "%d live flows); %.0f per position of the flow table (capacity %d = max_flows + 25%%: key "
        "slot, entry, flow-cache slot, hash bucket, free-slot ring, defer-queue slot)" % (
            per_flow, live["count"], per_pos, live["capacity"]),
        "- **capped by memory**: max_flows %d would need about %d MB at the flow table's last growth; "
        "%d MB of hugepages could be lent to the run (MemAvailable less --leave-mb), so max_flows was "
        "%d and as many flows were fed" % (
            args.capped_from, flows_peak_mb(args.mappings, args.capped_from), hp.allowed_mb,
            args.max_flows) if args.capped_from else None,
        "- **live flows: %d of %d** after %d pass%s (%.0f s); the first pass opened %d in %.1f s "
        "(%.2fM flows/s including the table's growths; flow_table_full %d: flows that arrived while "
        "the table was being grown, forwarded untracked and opened by the next pass)" % (
            live["count"], args.nflows, len(run.fill), "es" if len(run.fill) > 1 else "", run.fill_s,
            first[1]["count"], first[0], first[1]["count"] / first[0] / 1e6,
            first[1]["flow_table_full"]),
        "- forwarding with %d live flows (the first %d frames again, every one a flow hit): %.2f Mpps; the worker's busy "
        "cycles per packet %.0f, %.0f without port_rx (port_rx includes the time the worker "
        "waits on the FIFO's read: the feeder shares CPU 0 with the main lcore); %d of %d frames "
        "out of fabric0" % (r["final"]["count"], min(args.nflows, args.window_frames), fwd["mpps"], fwd["cpp"], fwd["cpp_graph"], fwd["tx"],
                            min(args.nflows, args.window_frames)),
        "- peak memory: %.0f MB (RSS %.0f + hugepages %.0f, sampled every 0.2 s): the flow table's "
        "last growth holds the old and the new table at once" % (
            run.peak[0] / 2**20, run.peak[1] / 2**20, run.peak[2] / 2**20),
        "- drops over the run: %s (the feeder's filler frames, from a MAC no ENI has, while no "
        "pass is running)" % (", ".join("%s %d" % kv for kv in sorted(r["drops"].items())) or "none"),
        "",
        "Re-run: `make bench-scale` (options: `/usr/bin/python3 tests/bench/scale.py --help`; "
        "`SCALE_ARGS=\"--mappings 100000 --flows 200000\"` for a quick run)."]
    text = "\n".join(x for x in lines if x is not None)
    print("\n" + text)
    if args.write:
        replace_block(args.write, BEGIN, END, text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--mappings", type=int, default=8388608, help="CA->PA mappings (default 8M)")
    ap.add_argument("--flows", type=int, default=33554432, help="distinct flows (default 32M)")
    ap.add_argument("--max-flows", type=int, help="flow.config max_flows (default: --flows)")
    ap.add_argument("--batch", type=int, default=10000, help="mappings per mapping.add request")
    ap.add_argument("--state-file", action="store_true", help="durable: the daemon keeps a state file")
    ap.add_argument("--pcap-dir", help="keep the flows pcap here and reuse it (default: a temporary "
                                       "directory, removed afterwards)")
    ap.add_argument("--fill-passes", type=int, default=3,
                    help="passes of the pcap at most until every flow is live (1-%d)" % MAX_PASSES)
    ap.add_argument("--window-frames", type=int, default=4194304,
                    help="frames of the forwarding pass (the pcap's first ones; default 4M)")
    ap.add_argument("--timeout", type=float, default=900, help="seconds a pass may take")
    ap.add_argument("--no-huge", action="store_true", help="run without hugepages even when root")
    ap.add_argument("--leave-mb", type=int, default=2048,
                    help="hugepages on demand: leave this much of MemAvailable to the daemon's own "
                         "malloc (the store: ~180 bytes a mapping) and the rest of the machine")
    ap.add_argument("--write", help="write the results into this markdown file (docs/performance.md)")
    args = ap.parse_args()
    if args.mappings < 1 or args.flows < 1 or args.batch < 1:
        ap.error("--mappings, --flows and --batch must be positive")
    if not 1 <= args.fill_passes <= MAX_PASSES:
        ap.error("--fill-passes: 1 to %d" % MAX_PASSES)
    if args.mappings % 1021 == 0:
        ap.error("--mappings must not be a multiple of 1021 (the flows' spread over the mappings)")
    if args.flows > 7 * args.mappings:
        ap.error("--flows may be at most 7 x --mappings (source ports 1024 + 8192 per pass)")
    if args.mappings > (240 << 16):
        ap.error("--mappings: at most %d (10.16.0.0 - 10.255.255.255)" % (240 << 16))
    args.max_flows = args.max_flows or args.flows
    args.capped_from = None
    args.load0 = os.getloadavg()[0]
    os.environ["SSWITCH_BUILD"] = args.build
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        # DPDK keeps a descriptor per hugepage segment in dynamic memory mode
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    t_start = time.time()
    with tempfile.TemporaryDirectory(prefix="ssscale") as tmp:
        pcap_dir = args.pcap_dir or tmp
        os.makedirs(pcap_dir, exist_ok=True)
        pcap, t_gen = flows_pcap(pcap_dir, args.flows, args.mappings)
        print("flows pcap: %s (%d frames, %.0f MB) %s" % (
            pcap, args.flows, os.path.getsize(pcap) / 2**20,
            "reused" if t_gen is None else "written in %.1f s" % t_gen))
        sys.stdout.flush()
        with SurplusHugepages(mem_estimate_mb(args.mappings, args.flows), args.leave_mb,
                              force_off=args.no_huge) as hp:
            print("memory: %s" % hp.label())
            if hp.used:
                fit = fit_max_flows(hp.allowed_mb, args.mappings, args.max_flows)
                if fit < args.max_flows:
                    print("memory: max_flows %d needs about %d MB at the table's last growth, %d MB "
                          "allowed: max_flows %d and as many flows" % (
                              args.max_flows, flows_peak_mb(args.mappings, args.max_flows),
                              hp.allowed_mb, fit))
                    args.capped_from = args.max_flows
                    args.max_flows = fit
            args.nflows = min(args.flows, args.max_flows)
            if args.nflows < 1:
                raise SystemExit("scale: no memory for the flow table")
            run = Run(args, hp, tmp)
            run.pcap = pcap
            run.run()
        elapsed = time.time() - t_start
        print("make bench-scale: %.0f s" % elapsed)
        report(run, args, hp, t_gen, elapsed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
