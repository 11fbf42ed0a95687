"""Test harness: run sswitchd on pcap/null virtual ports and look at what it did.

    d = Daemon(tmp_path, ports=[Port("host0", "host", rx=[pkts], peer="fabric0"),
                                Port("fabric0", "fabric")])
    d.start()
    d.wait_rx(len(pkts))        # every input frame was received and processed
    d.stop()                    # SIGTERM, exit code 0, pcap outputs complete
    out = d.output("fabric0")   # scapy packets the port transmitted (queue 0)
    d.final_stats["drops"]      # counters read just before the stop

Counters are read through DPDK telemetry (/sswitch/*), which needs nothing
but the EAL, and through the control socket when the control plane is up.
Run with /usr/bin/python3 (Debian's scapy).
"""
import json
import os
import signal
import socket
import subprocess
import time
import uuid

from scapy.all import wrpcap, rdpcap, PcapReader  # noqa: F401

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def build_dir():
    return os.environ.get("SSWITCH_BUILD", os.path.join(REPO, "build"))


def sswitchd_path():
    if "SSWITCHD" in os.environ:
        return os.environ["SSWITCHD"]
    for rel in ("sswitchd", os.path.join("dataplane", "sswitchd")):
        path = os.path.join(build_dir(), rel)
        if os.path.exists(path):
            return path
    return os.path.join(build_dir(), "sswitchd")


class Port:
    """A port of the daemon under test.

    kind "pcap": rx from the given packets (a pcap file), tx into tx_queues
    pcap files; kind "null": a sink (net_null no-rx=1).
    """

    def __init__(self, name, role, rx=None, peer=None, mtu=None, kind="pcap",
                 tx_queues=None, mac=None, lossless_lane=None, extra=""):
        self.name = name
        self.role = role
        self.rx = rx or []
        self.peer = peer
        self.mtu = mtu
        self.kind = kind
        self.tx_queues = tx_queues
        self.mac = mac
        self.lossless_lane = lossless_lane
        self.extra = extra
        self.tx_files = []


class TelemetryClient:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.connect(path)
        self.sock.recv(16384)  # greeting

    def query(self, cmd):
        self.sock.send(cmd.encode())
        buf = self.sock.recv(1 << 20)
        return json.loads(buf.decode())[cmd]

    def close(self):
        self.sock.close()


class RpcClient:
    """JSON-RPC 2.0 over the control socket, one JSON value per line."""

    def __init__(self, path, timeout=30):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.next_id = 1

    def call_raw(self, obj):
        self.sock.sendall(json.dumps(obj).encode() + b"\n")
        while b"\n" not in self.buf:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("control socket closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def call(self, method, params=None):
        req = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        self.next_id += 1
        if params is not None:
            req["params"] = params
        rep = self.call_raw(req)
        if "error" in rep:
            raise RpcError(rep["error"])
        return rep["result"]

    def close(self):
        self.sock.close()


class RpcError(Exception):
    def __init__(self, err):
        super().__init__("%s: %s" % (err.get("code"), err.get("message")))
        self.code = err.get("code")
        self.message = err.get("message")
        self.data = err.get("data", {})


class Daemon:
    def __init__(self, tmpdir, ports, workers=(1,), main_lcore=0, extra_conf="",
                 bootstrap=None, state_file=False, lcores_map=None, netns=None,
                 die_with_parent=False, mem_mb=512):
        self.dir = str(tmpdir)
        self.mem_mb = mem_mb
        self.ports = ports
        self.workers = list(workers)
        self.main_lcore = main_lcore
        self.extra_conf = extra_conf
        self.bootstrap = bootstrap
        self.prefix = "sst" + uuid.uuid4().hex[:10]
        self.sock_path = os.path.join(self.dir, "sswitchd.sock")
        self.state_path = os.path.join(self.dir, "state.json") if state_file else ""
        self.lcores_map = lcores_map
        self.proc = None
        self.final_stats = None
        self.conf_path = os.path.join(self.dir, "sswitchd.conf")
        # e2e: run the daemon inside this network namespace (`ip netns
        # exec` execs in place, so proc.pid is the daemon's own pid), and
        # have the kernel kill it if the test process dies (PR_SET_PDEATHSIG)
        self.netns = netns
        self.die_with_parent = die_with_parent

    # -- configuration -------------------------------------------------
    def _devargs(self, i, p):
        if p.kind == "null":
            return "net_null%d,no-rx=1" % i
        if p.kind == "raw":
            return p.extra
        rx = os.path.join(self.dir, "%s-in.pcap" % p.name)
        wrpcap(rx, p.rx) if p.rx else _write_empty_pcap(rx)
        nq = p.tx_queues or len(self.workers) * (2 if self._lossless(p) else 1)
        p.tx_files = [os.path.join(self.dir, "%s-out%d.pcap" % (p.name, q)) for q in range(nq)]
        args = ["net_pcap%d" % i, "rx_pcap=" + rx] + ["tx_pcap=" + f for f in p.tx_files]
        if p.extra:
            args.append(p.extra)
        return ",".join(args)

    def _lossless(self, p):
        if p.lossless_lane is not None:
            return p.lossless_lane
        return p.role == "storage"

    def config_text(self):
        eal = ["--no-huge", "-m", str(self.mem_mb), "--no-pci", "--file-prefix", self.prefix,
               "--log-level", "*:warning"]
        if self.lcores_map:
            eal += ["--lcores", self.lcores_map]
        lines = ["eal = [%s];" % ", ".join('"%s"' % a for a in eal),
                 "lcores = { main = %d; workers = [%s]; };" % (
                     self.main_lcore, ", ".join(str(w) for w in self.workers))]
        plines = []
        for i, p in enumerate(self.ports):
            f = ['name = "%s"' % p.name, 'devargs = "%s"' % self._devargs(i, p),
                 'role = "%s"' % p.role]
            if p.peer:
                f.append('peer = "%s"' % p.peer)
            if p.mtu:
                f.append("mtu = %d" % p.mtu)
            if p.mac:
                f.append('mac = "%s"' % p.mac)
            if p.lossless_lane is not None:
                f.append("lossless_lane = %s" % ("true" if p.lossless_lane else "false"))
            plines.append("{ %s; }" % "; ".join(f))
        lines.append("ports = ( %s );" % ",\n          ".join(plines))
        lines.append('control = { socket = "%s"; state_file = "%s"; };' % (
            self.sock_path, self.state_path))
        lines.append("stats_interval_s = 0;")
        if self.bootstrap is not None:
            bp = os.path.join(self.dir, "bootstrap.json")
            with open(bp, "w") as f:
                json.dump({"ops": self.bootstrap}, f)
            lines.append('bootstrap = "bootstrap.json";')
        lines.append(self.extra_conf)
        return "\n".join(lines) + "\n"

    # -- life cycle ----------------------------------------------------
    def start(self, timeout=30, expect_fail=False):
        with open(self.conf_path, "w") as f:
            f.write(self.config_text())
        self.log_path = os.path.join(self.dir, "sswitchd.log")
        self.log = open(self.log_path, "w")
        cmd = [sswitchd_path(), "-c", self.conf_path, "-q"]
        if self.netns:
            cmd = ["ip", "netns", "exec", self.netns] + cmd
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     preexec_fn=_die_with_parent if self.die_with_parent else None)
        if expect_fail:
            rc = self.proc.wait(timeout=timeout)
            self.log.close()
            return rc
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("sswitchd exited %d:\n%s" % (self.proc.returncode, self.logtext()))
            if os.path.exists(self.telemetry_path()):
                try:
                    self.tel = TelemetryClient(self.telemetry_path())
                    # the workers are launched last: wait for them
                    w = self.tel.query("/sswitch/workers")
                    if w and all(v["walks"] > 0 for v in w.values()):
                        return self
                    self.tel.close()
                except (OSError, KeyError, ValueError, TypeError):
                    pass
            time.sleep(0.05)
        self.kill()
        raise TimeoutError("sswitchd did not come up:\n" + self.logtext())

    def telemetry_path(self):
        base = "/var/run/dpdk" if os.geteuid() == 0 else os.path.join(
            os.environ.get("XDG_RUNTIME_DIR", "/tmp"), "dpdk")
        return os.path.join(base, self.prefix, "dpdk_telemetry.v2")

    def logtext(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""

    def stats(self):
        return {s: self.tel.query("/sswitch/" + s) for s in ("ports", "drops", "nodes", "workers")}

    def rpc(self):
        return RpcClient(self.sock_path)

    def wait_rx(self, n, timeout=20):
        """Wait until the ports received n frames in all and every one of
        them left the graph (transmitted or dropped), then a little more."""
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            st = self.stats()
            rx = sum(p["rx_packets"] for p in st["ports"].values())
            done = sum(n_["packets"] for k, n_ in st["nodes"].items() if k == "port_rx")
            key = (rx, json.dumps(st["ports"], sort_keys=True), json.dumps(st["drops"], sort_keys=True))
            if rx >= n and done >= n and key == last:
                return st
            last = key
            time.sleep(0.1)
        raise TimeoutError("received %d of %d frames:\n%s" % (rx, n, self.logtext()))

    def stop(self, timeout=20):
        if self.proc is None:
            return None
        try:
            self.final_stats = self.stats()
        except Exception:  # noqa: BLE001 - a dead daemon is reported below
            self.final_stats = None
        try:
            self.tel.close()
        except Exception:  # noqa: BLE001
            pass
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=timeout)
        self.log.close()
        self.proc = None
        self._remove_runtime_dir()
        if rc != 0:
            raise RuntimeError("sswitchd exited %d:\n%s" % (rc, self.logtext()))
        return rc

    def kill(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.log.close()
            self.proc = None
            self._remove_runtime_dir()

    def _remove_runtime_dir(self):
        """The EAL leaves /var/run/dpdk/<file-prefix> behind; ours is unique."""
        import shutil
        shutil.rmtree(os.path.dirname(self.telemetry_path()), ignore_errors=True)

    def output(self, port_name, queue=0):
        p = next(p for p in self.ports if p.name == port_name)
        return list(rdpcap(p.tx_files[queue]))


def _die_with_parent():
    """preexec_fn: SIGKILL this child when the process that started it dies,
    so a killed test run leaves no daemon behind."""
    import ctypes
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _write_empty_pcap(path):
    import struct
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
