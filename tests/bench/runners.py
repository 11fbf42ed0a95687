"""Run sswitchd and dpdk-testpmd on a scenario's input and measure them the
same way: busy TSC cycles per packet received, over a window that starts
after the warm-up, once the process is seen forwarding.
"""
import os
import re
import select
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from sswitch import Daemon  # noqa: E402

# lcores: main 0, worker 1; with 2 workers the second (lcore 2) runs on CPU 0
# beside the main lcore (this machine has 2 cores)
LCORES_2W = "0@0,1@1,2@0"


def sizing(nframes):
    """EAL memory (MB) and mbufs for a process that holds `nframes` input
    frames: net_pcap's infinite_rx keeps the whole pcap in mbufs (and copies
    each into a fresh one on rx), and the 1M-flow runs also hold 1M
    mappings and flows."""
    if nframes <= 65536:
        return 1536, 0
    return 1536 + nframes * 4 // 1024, nframes + 131072


class BenchDaemon(Daemon):
    """sswitchd with the bench's EAL memory arguments (hugepages or not)."""

    def __init__(self, tmpdir, ports, mem_args, **kw):
        super().__init__(tmpdir, ports, **kw)
        self.mem_args = mem_args

    def config_text(self):
        text = super().config_text()
        eal = self.mem_args + ["--no-pci", "--file-prefix", self.prefix, "--log-level", "*:warning"]
        if self.lcores_map:
            eal += ["--lcores", self.lcores_map]
        first, rest = text.split("\n", 1)
        assert first.startswith("eal = [")
        return "eal = [%s];\n%s" % (", ".join('"%s"' % a for a in eal), rest)


def measure_sswitchd(tmp, ports, objects, warmup, window, hp, nframes, workers=1):
    """Mpps (all workers) and busy cycles per packet (summed over the
    workers, so per packet per core), per-node cycles and drops over the
    window. `objects` is the bootstrap file (written once per scenario)."""
    mem, mbufs = sizing(nframes)
    kw = {"workers": (1, 2), "lcores_map": LCORES_2W} if workers == 2 else {}
    conf = []
    if mbufs:
        conf.append("mbufs = %d;" % mbufs)
    if objects:
        conf.append('bootstrap = "%s";' % objects)
    d = BenchDaemon(tmp, ports, hp.eal_args(mem), extra_conf="\n".join(conf), **kw)
    t_start = time.time()
    try:
        d.start(timeout=600)
    except BaseException:
        d.kill()  # interrupted or failed while coming up: no daemon left behind
        raise
    try:
        _wait_forwarding(d)
        start_s = time.time() - t_start
        time.sleep(warmup)
        a = d.stats()
        t0 = time.time()
        time.sleep(window)
        b = d.stats()
        dt = time.time() - t0
    finally:
        d.stop(timeout=120)
    pkts = cyc = 0
    per_worker = {}
    for w, wb in b["workers"].items():
        wa = a["workers"][w]
        per_worker[w] = wb["rx_packets"] - wa["rx_packets"]
        pkts += per_worker[w]
        cyc += wb["busy_cycles"] - wa["busy_cycles"]
    nodes = {}
    for name, nb in b["nodes"].items():
        na = a["nodes"].get(name, {"cycles": 0, "packets": 0, "calls": 0})
        nodes[name] = (nb["cycles"] - na["cycles"]) / pkts if pkts else 0.0
    drops = {k: v - a["drops"].get(k, 0) for k, v in b["drops"].items() if v - a["drops"].get(k, 0)}
    tsc = next(iter(b["workers"].values()))["tsc_hz"]
    return {"mpps": pkts / dt / 1e6, "cpp": cyc / pkts if pkts else 0.0, "nodes": nodes,
            "drops": drops, "tsc_hz": tsc, "per_worker": per_worker, "start_s": start_s}


def _wait_forwarding(d, timeout=120):
    """Until every worker has received packets (the pcap is loaded)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        w = d.stats()["workers"]
        if w and all(v["rx_packets"] > 0 for v in w.values()):
            return
        time.sleep(0.1)
    raise TimeoutError("sswitchd: a worker received nothing in %d s:\n%s" % (timeout, d.logtext()))


# ---- dpdk-testpmd -------------------------------------------------------------

FWD_RE = re.compile(r"CPU cycles/packet=([\d.]+) \((?:total|busy) cycles=(\d+) / total \w+ "
                    r"packets=(\d+)\) at (\d+) MHz")


class Testpmd:
    """dpdk-testpmd in interactive mode on a pipe: io forwarding from
    net_pcap (infinite_rx) into net_null, one forwarding core (lcore 1, as
    sswitchd's worker), an mbuf pool sized for the pcap."""

    def __init__(self, pcap, nframes, hp):
        mem, _ = sizing(nframes)
        self.prefix = "sstp" + uuid.uuid4().hex[:10]
        # stdout is a pipe: unbuffered, or the answers stay in stdio's buffer
        self.cmd = (["stdbuf", "-o0", "dpdk-testpmd"] + hp.eal_args(mem) +
                    ["--no-pci", "-l", "0,1", "--file-prefix", self.prefix, "--log-level", "*:error",
                     "--vdev", "net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap,
                     "--vdev", "net_null0,no-rx=1", "--", "-i", "--forward-mode=io",
                     "--record-core-cycles", "--nb-cores=1",
                     # the loaded pcap, the rx copies in flight, rings and caches
                     "--total-num-mbufs=%d" % (nframes + 32768)])
        self.p = None
        self.out = ""

    def __enter__(self):
        self.p = subprocess.Popen(self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        os.set_blocking(self.p.stdout.fileno(), False)
        return self

    def __exit__(self, *exc):
        if self.p and self.p.poll() is None:
            try:
                self.command("stop", prompt_timeout=10)
                self.p.stdin.write(b"quit\n")
                self.p.stdin.flush()
                self.p.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired, TimeoutError):
                self.p.kill()
                self.p.wait()
        import shutil
        base = "/var/run/dpdk" if os.geteuid() == 0 else os.path.join(
            os.environ.get("XDG_RUNTIME_DIR", "/tmp"), "dpdk")
        shutil.rmtree(os.path.join(base, self.prefix), ignore_errors=True)
        return False

    def _read_until_prompt(self, timeout):
        buf = b""
        deadline = time.time() + timeout
        while time.time() < deadline:
            r, _, _ = select.select([self.p.stdout], [], [], 0.2)
            if r:
                chunk = self.p.stdout.read() or b""
                buf += chunk
                if buf.rstrip().endswith(b"testpmd>"):
                    text = buf.decode(errors="replace")
                    self.out += text
                    return text
            if self.p.poll() is not None:
                break
        self.out += buf.decode(errors="replace")
        raise TimeoutError("testpmd: no prompt after %.0f s (exit %s):\n%s"
                           % (timeout, self.p.poll(), self.out[-3000:]))

    def start(self, timeout=300):
        self._read_until_prompt(timeout)

    def command(self, c, prompt_timeout=30):
        self.p.stdin.write((c + "\n").encode())
        self.p.stdin.flush()
        return self._read_until_prompt(prompt_timeout)

    def port_counters(self):
        """(port 0 rx, port 0 rx_nombuf, port 1 tx)."""
        out = self.command("show port stats all")
        rx = [int(x) for x in re.findall(r"RX-packets:\s+(\d+)", out)]
        tx = [int(x) for x in re.findall(r"TX-packets:\s+(\d+)", out)]
        nombuf = [int(x) for x in re.findall(r"RX-nombuf:\s+(\d+)", out)]
        return rx[0], nombuf[0], tx[1]

    def fwd(self):
        """(busy cycles, packets, MHz) forwarded since start."""
        m = FWD_RE.search(self.command("show fwd stats all"))
        if not m:
            raise RuntimeError("testpmd: no cycles in show fwd stats:\n%s" % self.out[-2000:])
        return int(m.group(2)), int(m.group(3)), int(m.group(4))


def measure_testpmd(pcap, nframes, hp, warmup, window):
    """testpmd io forwarding of the same pcap: cycles/packet over a window
    taken after it is seen forwarding (rx and tx counters moving) and the
    warm-up, with no rx_nombuf in the window (an exhausted pool would stall
    it and make the figure meaningless)."""
    with Testpmd(pcap, nframes, hp) as tp:
        tp.start()
        tp.command("start")
        deadline = time.time() + 120
        prev = tp.port_counters()
        while True:
            time.sleep(0.3)
            cur = tp.port_counters()
            if cur[0] > prev[0] and cur[2] > prev[2]:
                break
            if time.time() > deadline:
                raise RuntimeError("testpmd is not forwarding (rx %d, tx %d, nombuf %d)"
                                   % (cur[0], cur[2], cur[1]))
            prev = cur
        time.sleep(warmup)
        pa = tp.port_counters()
        ca, na, _ = tp.fwd()
        t0 = time.time()
        time.sleep(window)
        cb, nb, mhz = tp.fwd()
        dt = time.time() - t0
        pb = tp.port_counters()
    pkts = nb - na
    if pkts <= 0:
        raise RuntimeError("testpmd forwarded nothing in the window")
    cpp = (cb - ca) / pkts
    return {"cpp": cpp, "mpps": pkts / dt / 1e6, "limit_mpps": mhz / cpp, "mhz": mhz,
            "nombuf": pb[1] - pa[1], "rx": pb[0] - pa[0]}
