"""Network-namespace topologies for the e2e tests: sswitchd between real
Linux network stacks.

    with Topology(tmp_path) as t:
        vm, remote = t.netns("vm"), t.netns("remote")
        h = t.port("host0", "host", vm, peer="fabric0")
        f = t.port("fabric0", "fabric", remote, peer="host0", port_mac=VM_MAC)
        d = t.start()                       # sswitchd up, kernel sides configured
        h.addr("192.0.2.1/24"); f.addr("192.0.2.2/24")
        vm.run("ping", "-c", "1", "192.0.2.2")
    # daemon stopped (SIGTERM, exit 0 checked), namespaces deleted

Layout. Nothing is created in the root namespace. The daemon runs in a
namespace of its own ("sw", through `ip netns exec`); each port's kernel side
lives in the namespace given to port():
- device "tap" (default): net_tap creates the tap netdev in the daemon's
  namespace when the port is probed; once the daemon is up (ports started),
  the netdev is moved into its namespace. The order matters: the tap PMD
  drives link state, MTU and MAC with ioctls by interface name in its own
  namespace, so the move must come after the port started (before it, the
  start fails to find the interface and the link stays down).
- device "af_packet": a veth pair is created before the start, one end in
  "sw" for net_af_packet, the other in the port's namespace.

Names. Namespaces are called sse2e-<pid>-<n>-<role>: unique per topology of
a run, and a later run recognises (by the pid, no longer alive) and deletes
what a killed run left behind (cleanup_leftovers, called once per session).
Interfaces only need to be unique inside their namespace. A daemon cannot
outlive the test process (Daemon(die_with_parent=True)), and its taps die
with it.

Everything is addressed with documentation prefixes (192.0.2.0/24,
198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) inside these namespaces:
no packet of a test leaves them.
"""
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))

from sswitch import Daemon, Port, build_dir  # noqa: E402

PREFIX = "sse2e"
DEVICES = ("tap", "af_packet")
_seq = itertools.count()
_NS_RE = re.compile(r"^%s-(\d+)-\d+-[a-z0-9]+$" % PREFIX)


class CmdError(RuntimeError):
    pass


def run(cmd, check=True, timeout=30, input=None):
    """Run a command (a list), return the CompletedProcess; raise CmdError
    with its output when check and it failed."""
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, input=input)
    except subprocess.TimeoutExpired as e:
        raise CmdError("timeout after %ss: %s" % (timeout, " ".join(cmd))) from e
    if check and r.returncode != 0:
        raise CmdError("%s -> %d\n%s%s" % (" ".join(cmd), r.returncode, r.stdout, r.stderr))
    return r


def sswitchd_binary():
    """The daemon to test: $SSWITCHD, else <build>/sswitchd, else
    <build>/dataplane/sswitchd (where meson puts it)."""
    if os.environ.get("SSWITCHD"):
        return os.environ["SSWITCHD"]
    for rel in ("sswitchd", os.path.join("dataplane", "sswitchd")):
        p = os.path.join(build_dir(), rel)
        if os.access(p, os.X_OK):
            return p
    return os.path.join(build_dir(), "sswitchd")


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def list_netns():
    out = run(["ip", "netns", "list"], check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def cleanup_leftovers():
    """Delete the namespaces of e2e runs whose process is gone, and end the
    daemons still running in them (by pid, each one checked to be an
    sswitchd). Returns the names deleted."""
    gone = []
    for name in list_netns():
        m = _NS_RE.match(name)
        if not m or _pid_alive(int(m.group(1))):
            continue
        pids = run(["ip", "netns", "pids", name], check=False).stdout.split()
        for pid in pids:
            try:
                with open("/proc/%s/comm" % pid) as f:
                    comm = f.read().strip()
            except OSError:
                continue
            if comm == "sswitchd":
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
        run(["ip", "netns", "del", name], check=False)
        gone.append(name)
    return gone


class Netns:
    """A network namespace of a topology."""

    def __init__(self, name):
        self.name = name
        run(["ip", "netns", "add", name])
        try:
            self.ip("link", "set", "lo", "up")
        except CmdError:
            self.delete()
            raise

    def run(self, *cmd, check=True, timeout=30, input=None):
        return run(["ip", "netns", "exec", self.name] + list(cmd), check=check,
                   timeout=timeout, input=input)

    def popen(self, *cmd, **kw):
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        kw.setdefault("text", True)
        return subprocess.Popen(["ip", "netns", "exec", self.name] + list(cmd), **kw)

    def ip(self, *args, check=True):
        return run(["ip", "-n", self.name] + list(args), check=check)

    def sysctl(self, key, value, check=True):
        return self.run("sysctl", "-q", "-w", "%s=%s" % (key, value), check=check)

    def neigh(self, ifname=None):
        """{ip: (lladdr or None, state)} of the namespace's neighbour table."""
        args = ["neigh", "show"] + (["dev", ifname] if ifname else [])
        table = {}
        for line in self.ip(*args).stdout.splitlines():
            f = line.split()
            if not f:
                continue
            ll = f[f.index("lladdr") + 1] if "lladdr" in f else None
            table[f[0]] = (ll, f[-1])
        return table

    def link_stats(self, ifname):
        """Kernel counters of an interface: {rx_packets, tx_packets,
        rx_bytes, tx_bytes}."""
        s = json.loads(self.ip("-s", "-j", "link", "show", "dev", ifname).stdout)[0]["stats64"]
        return {"rx_packets": s["rx"]["packets"], "tx_packets": s["tx"]["packets"],
                "rx_bytes": s["rx"]["bytes"], "tx_bytes": s["tx"]["bytes"]}

    def delete(self):
        run(["ip", "netns", "del", self.name], check=False)

    def __repr__(self):
        return "Netns(%s)" % self.name


class Link:
    """One sswitchd port and its kernel side (interface `ifname` in `ns`)."""

    def __init__(self, topo, port, ns, ifname, mac, mtu, offloads):
        self.topo = topo
        self.port = port
        self.ns = ns
        self.ifname = ifname
        self.mac = mac
        self.mtu = mtu
        self.offloads = offloads
        self.sw_ifname = None  # af_packet: the veth end the daemon binds

    @property
    def name(self):
        return self.port.name

    def addr(self, cidr):
        """Add an address; IPv6 without duplicate address detection (the
        address is usable at once)."""
        extra = ["nodad"] if ":" in cidr else []
        self.ns.ip("addr", "add", cidr, "dev", self.ifname, *extra)

    def route(self, *args):
        self.ns.ip("route", "add", *args, "dev", self.ifname)

    def neigh_add(self, ip, lladdr):
        self.ns.ip("neigh", "replace", ip, "lladdr", lladdr, "dev", self.ifname, "nud", "permanent")

    def stats(self):
        """Kernel counters of the interface: {rx_packets, tx_packets, ...}."""
        return self.ns.link_stats(self.ifname)


class Topology:
    """Namespaces, ports and one sswitchd; close() always undoes all of it."""

    def __init__(self, workdir, device=None):
        self.device = device or os.environ.get("SSWITCH_E2E_DEVICE", "tap")
        if self.device not in DEVICES:
            raise ValueError("device %r: one of %s" % (self.device, DEVICES))
        self.workdir = str(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.tag = "%s-%d-%d" % (PREFIX, os.getpid(), next(_seq))
        self.namespaces = []
        self.links = []
        self.daemon = None
        self.sw = None
        self.sw = self.netns("sw")

    # -- building --------------------------------------------------------
    def netns(self, role):
        ns = Netns("%s-%s" % (self.tag, role))
        self.namespaces.append(ns)
        return ns

    def port(self, name, role, ns, ifname=None, mac=None, mtu=None, if_mtu=1500, peer=None,
             port_mac=None, offloads=False):
        """Declare a daemon port whose kernel side is interface `ifname`
        (default: the port name) in `ns`, with MAC `mac` (default: a
        locally administered one derived from the port index) and MTU
        `if_mtu`. `mtu` is the daemon's port MTU (default 1500), `port_mac`
        the daemon's port MAC (config `mac`), `peer` patch mode. With
        af_packet, the kernel side's TSO/GSO/checksum offloads are turned
        off unless offloads=True."""
        idx = len(self.links)
        ifname = ifname or name
        mac = mac or "02:e2:00:00:%02x:%02x" % (os.getpid() & 0xff, idx + 1)
        sw_if = "p%d" % idx
        if self.device == "tap":
            devargs = "net_tap%d,iface=%s" % (idx, sw_if)
        else:
            devargs = "net_af_packet%d,iface=%s,qpairs=1" % (idx, sw_if)
        p = Port(name, role, kind="raw", extra=devargs, peer=peer, mtu=mtu, mac=port_mac)
        link = Link(self, p, ns, ifname, mac, if_mtu, offloads)
        link.sw_ifname = sw_if
        self.links.append(link)
        return link

    def link(self, name):
        return next(lk for lk in self.links if lk.name == name)

    def start(self, workers=(1,), **daemon_kw):
        """Start sswitchd on the declared ports and configure the kernel
        sides. Returns the Daemon (its RpcClient: daemon.rpc())."""
        if self.device == "af_packet":
            for lk in self.links:
                self._make_veth(lk)
        self.daemon = Daemon(self.workdir, [lk.port for lk in self.links], workers=workers,
                             netns=self.sw.name, die_with_parent=True, **daemon_kw)
        self.daemon.start()
        for lk in self.links:
            if self.device == "tap":
                # the tap was created by the daemon in "sw" and the port is
                # started: hand the netdev to its namespace under its name
                self.sw.ip("link", "set", "dev", lk.sw_ifname, "netns", lk.ns.name,
                           "name", lk.ifname)
            self._configure(lk)
        # all up together: what one side sends before the other is up is
        # lost (tap: the daemon's write fails and counts tx_full)
        for lk in self.links:
            lk.ns.ip("link", "set", "dev", lk.ifname, "up")
        return self.daemon

    def _make_veth(self, lk):
        self.sw.ip("link", "add", lk.sw_ifname, "type", "veth", "peer", "name", lk.ifname,
                   "netns", lk.ns.name)
        # the daemon's end carries no address and sends nothing of its own
        self.sw.sysctl("net.ipv6.conf.%s.disable_ipv6" % lk.sw_ifname, 1)
        self.sw.run("ethtool", "-K", lk.sw_ifname, "tx", "off", "tso", "off", "gso", "off",
                    "gro", "off")
        self.sw.ip("link", "set", "dev", lk.sw_ifname, "up")

    def _configure(self, lk):
        ns, ifn = lk.ns, lk.ifname
        ns.ip("link", "set", "dev", ifn, "down")
        ns.ip("link", "set", "dev", ifn, "address", lk.mac, "mtu", str(lk.mtu))
        # quiet IPv6: no router solicitations, no autoconfiguration from
        # router advertisements, addresses usable at once (no DAD)
        for key, value in (("accept_ra", 0), ("router_solicitations", 0), ("accept_dad", 0)):
            ns.sysctl("net.ipv6.conf.%s.%s" % (ifn, key), value)
        if self.device == "af_packet" and not lk.offloads:
            # A veth hands partial checksums and 64 KB GSO frames to the
            # packet socket unless these are off (TCP then fails: the peer
            # drops the bad checksums). A tap without vnet_hdr has no
            # checksum or TSO offload to begin with, and the kernel
            # segments before the tap.
            ns.run("ethtool", "-K", ifn, "tx", "off", "tso", "off", "gso", "off")

    # -- tearing down ----------------------------------------------------
    def close(self):
        """Stop the daemon (SIGTERM; a non-zero exit is raised after the
        namespaces are gone), delete the namespaces, remove the EAL run
        directory. Safe to call twice."""
        err = None
        if self.daemon is not None and self.daemon.proc is not None:
            try:
                self.daemon.stop()
            except Exception as e:  # noqa: BLE001 - re-raised after the cleanup
                err = e
                self.daemon.kill()
        for ns in reversed(self.namespaces):
            ns.delete()
        self.namespaces = []
        if self.daemon is not None:
            rundir = os.path.dirname(self.daemon.telemetry_path())
            if os.path.basename(rundir) == self.daemon.prefix:
                shutil.rmtree(rundir, ignore_errors=True)
        if err is not None:
            raise err

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def wait_for(pred, timeout=5.0, interval=0.05, what="condition"):
    deadline = time.time() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.time() >= deadline:
            raise TimeoutError("timed out waiting for " + what)
        time.sleep(interval)


TCPXFER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tcpxfer.py")
PYTHON = "/usr/bin/python3"


def tcp_transfer(server_ns, client_ns, server_addr, size=4 << 20, seed=1, port=5201, timeout=20.0):
    """A checked transfer of `size` bytes each way (tcpxfer.py): the server
    listens on server_addr in server_ns, the client connects from
    client_ns. Returns (client result, server result), dicts as printed by
    tcpxfer.py; the server is always ended."""
    srv = server_ns.popen(PYTHON, TCPXFER, "serve", "--bind", server_addr, "--port", str(port),
                          "--size", str(size), "--seed", str(seed), "--timeout", str(timeout))
    try:
        line = srv.stdout.readline()
        if not line:
            raise CmdError("tcpxfer server did not start: %s" % srv.stderr.read())
        cli = client_ns.run(PYTHON, TCPXFER, "connect", "--addr", server_addr, "--port", str(port),
                            "--size", str(size), "--seed", str(seed), "--timeout", str(timeout),
                            check=False, timeout=timeout + 10)
        client = json.loads(cli.stdout.strip().splitlines()[-1]) if cli.stdout.strip() else {
            "ok": False, "error": cli.stderr}
        if not client.get("ok") and client.get("received", 0) == 0 and client.get("sent", 0) == 0:
            srv.kill()  # the server would wait for a connection until its timeout
        out, err = srv.communicate(timeout=timeout + 10)
        lines = out.strip().splitlines()
        server = json.loads(lines[-1]) if lines else {"ok": False, "error": err}
        return client, server
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait()


class EchoSession:
    """One long-lived TCP connection from client_ns to an echo server in
    server_ns (tcpxfer.py echo-serve / echo-client): exchange(word) sends a
    word and tells whether its echo came back within `timeout` seconds (the
    session's, or the call's).
    close() ends both sides."""

    def __init__(self, server_ns, client_ns, addr, port=5301, timeout=1.0):
        self.srv = server_ns.popen(PYTHON, TCPXFER, "echo-serve", "--bind", addr, "--port",
                                   str(port), "--timeout", "10")
        self.cli = None
        try:
            if '"listening"' not in self.srv.stdout.readline():
                raise CmdError("echo server did not start: %s" % self.srv.stderr.read())
            self.cli = client_ns.popen(PYTHON, TCPXFER, "echo-client", "--addr", addr, "--port",
                                       str(port), "--timeout", str(timeout),
                                       stdin=subprocess.PIPE)
            line = self.cli.stdout.readline()
            if not json.loads(line or "{}").get("connected"):
                raise CmdError("echo client did not connect: %s %s" % (line, self.cli.stderr.read()))
        except Exception:
            self.close()
            raise

    def exchange(self, word, timeout=None):
        self.cli.stdin.write(word + ("" if timeout is None else " %g" % timeout) + "\n")
        self.cli.stdin.flush()
        return json.loads(self.cli.stdout.readline())["echoed"]

    def close(self):
        for p in (self.cli, self.srv):
            if p is None:
                continue
            if p.poll() is None:
                p.kill()
            p.communicate()


SNIFF = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sniff.py")


class Sniffer:
    """Frames received on an interface of a namespace (sniff.py), started
    before the traffic: `with Sniffer(ns, "fab0", path, udp_dport=4789) as s:
    ...traffic...` then s.packets (scapy Ether objects). `send`: frames
    (scapy packets or bytes) the sniffer transmits on the interface once it
    listens."""

    def __init__(self, ns, ifname, path, count=16, timeout=5.0, udp_dport=None, send=()):
        self.path = str(path)
        args = [PYTHON, SNIFF, ifname, self.path, "--count", str(count), "--timeout", str(timeout)]
        if udp_dport is not None:
            args += ["--udp-dport", str(udp_dport)]
        if send:
            args += ["--send"] + [bytes(f).hex() for f in send]
        self.timeout = timeout
        self.proc = ns.popen(*args)
        line = self.proc.stdout.readline()
        if '"ready"' not in line:
            self.proc.kill()
            raise CmdError("sniffer did not start: %s %s" % (line, self.proc.stderr.read()))
        self.packets = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        try:
            self.proc.communicate(timeout=self.timeout + 10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        from scapy.all import rdpcap
        self.packets = list(rdpcap(self.path)) if os.path.exists(self.path) else []
        return False


def rpc_call(daemon, method, params=None):
    """One call on a fresh control connection."""
    c = daemon.rpc()
    try:
        return c.call(method, params)
    finally:
        c.close()


def missing_feature(daemon, feature):
    """None when the running daemon serves `feature`, else a reason naming
    what it answered. Features: control (the socket), overlay (VXLAN
    pipeline: the per-ENI stats scope `eni`), acl (stats scope `acl`),
    conntrack (method flow.list)."""
    from sswitch import RpcError
    try:
        rpc_call(daemon, "system.info")
    except (OSError, RpcError) as e:
        return "control socket %s does not answer system.info: %s" % (daemon.sock_path, e)
    # (method, params, error codes that mean "not served", what is missing)
    probes = {
        "overlay": ("stats.get", {"scope": "eni"}, (-32602,),
                    "overlay (VXLAN) feature missing: stats.get scope \"eni\""),
        "acl": ("stats.get", {"scope": "acl"}, (-32602,),
                "ACL feature missing: stats.get scope \"acl\""),
        "conntrack": ("flow.list", {"limit": 1}, (-32601, 1005),
                      "connection tracking feature missing: flow.list"),
    }
    if feature == "control":
        return None
    method, params, absent, what = probes[feature]
    try:
        rpc_call(daemon, method, params)
    except RpcError as e:
        if e.code in absent:
            return "%s -> %s %s" % (what, e.code, e.message)
        raise
    return None


def stats(d):
    """The daemon's port counters and drop reasons (DPDK telemetry)."""
    s = d.stats()
    return {"ports": s["ports"], "drops": s["drops"]}


def delta(before, after):
    """after - before, for the port counters and the drop reasons."""
    ports = {p: {k: v - before["ports"][p][k] for k, v in c.items()}
             for p, c in after["ports"].items()}
    drops = {r: v - before["drops"].get(r, 0) for r, v in after["drops"].items()}
    return {"ports": ports, "drops": drops}


def ping(ns, dst, count=3, size=None, df=False, check=True, wait=1.0):
    """ping from ns; returns (received, ttls). Fast interval; `wait`: how
    long ping waits for the last reply (s)."""
    args = ["ping", "-n", "-c", str(count), "-i", "0.05", "-W", str(wait)]
    if size is not None:
        args += ["-s", str(size)]
    if df:
        args += ["-M", "do"]
    r = ns.run(*(args + [dst]), check=False, timeout=count + 10)
    m = re.search(r"(\d+) received", r.stdout)
    received = int(m.group(1)) if m else 0
    if check:
        assert r.returncode == 0 and received == count, r.stdout + r.stderr
    return received, [int(x) for x in re.findall(r"ttl=(\d+)", r.stdout)] + \
        [int(x) for x in re.findall(r"hlim=(\d+)", r.stdout)]
