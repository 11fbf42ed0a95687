#!/usr/bin/python3
"""make bench-peers: sswitchd, Open vSwitch with DPDK (userspace datapath)
and dpdk-testpmd io on the same frames, cycles per packet side by side.

Per work item (l2; VXLAN encap with 1000 CA->PA mappings; encap + a
1000-rule 5-tuple ACL; VXLAN decap; encap and encap + ACL again with OVS's
exact-match cache off), each switch is first fed a few thousand frames into
a tx_pcap sink and the frames both sent are compared field by field (outer
MACs, outer IPs, UDP port, VNI, the whole inner frame); then each is fed
net_pcap `infinite_rx=1` into net_null `no-rx=1` and measured over a window
after the warm-up: sswitchd from its workers' busy cycles, OVS from its own
`dpif-netdev/pmd-stats-show` (processing cycles / packets received), testpmd
from its forwarding-core busy cycles. The forwarding core is CPU 1 for all
three (sswitchd's worker, OVS's PMD, testpmd's forwarding lcore).

OVS runs from Debian's openvswitch-switch-dpdk on its own runtime directory,
database and log inside a private network namespace (its bridges' tap
devices and the underlay address live there), and is stopped afterwards.
"""
import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
sys.path.insert(0, HERE)
from sswitch import Port, REPO  # noqa: E402
import pcapgen  # noqa: E402
import scenarios  # noqa: E402
from hugepages import Hugepages  # noqa: E402
from runners import BenchDaemon, measure_sswitchd, measure_testpmd  # noqa: E402

VSWITCHD = "/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk"
SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
PMD_CORE = 1          # sswitchd's worker lcore and testpmd's forwarding lcore
OVS_MEM_MB = 1024

SWITCH_MAC = "02:00:00:00:ff:ff"
FABRIC_MAC = "02:00:00:00:00:aa"
NEXT_HOP_MAC = "02:00:00:00:0b:00"
UNDERLAY_IP = "100.127.0.1"
GATEWAY_IP = "100.127.0.254"   # OVS's underlay route gateway (sswitch: next hop by MAC)
VNI = 1000
ENIS = 16
NMAPPINGS = 1000


def mapping_pa(i):
    """64 VMs per host, as in `outbound`."""
    return "100.64.%d.%d" % (i >> 14 & 63, i >> 6 & 255)


def mapping_mac(i):
    return "02:00:%02x:%02x:%02x:%02x" % (i >> 24 & 255, i >> 16 & 255, i >> 8 & 255, i & 255)


def mapping_ip(i):
    return "10.%d.%d.%d" % (i >> 16, i >> 8 & 255, i & 255)


# ---- the ACL: 1000 5-tuple rules, first match by priority --------------------

def acl_rules(seed=5, n=1000):
    """n terminating rules (lowest priority number first): random prefixes
    in and out of the traffic's space (10.15.255.0/24 -> 10.0.0.0/22, UDP
    to port 80), one protocol each, port ranges; every rule that can match
    the traffic allows it, the others allow or deny; the last one allows
    everything."""
    rnd = random.Random(seed)

    def pfx(near):
        return scenarios.acl_prefix(rnd, near, near_nets=4)

    def ports():
        lo = rnd.randrange(0, 60000)
        return rnd.choice([None, (80, 80), (0, 1023), (1024, 65535), (lo, lo),
                           (lo, lo + rnd.randrange(1, 64))])

    rules = []
    for i in range(n - 1):
        near = rnd.random() < 0.5
        r = {"priority": 10 * (i + 1), "src": pfx(near), "dst": pfx(near and rnd.random() < 0.7),
             "proto": rnd.choice([6, 17]), "dport": ports(),
             "sport": ports() if rnd.random() < 0.2 else None,
             "allow": True if near else rnd.random() < 0.5}
        rules.append(r)
    rules.append({"priority": 10 * n, "src": "0.0.0.0/0", "dst": "0.0.0.0/0", "proto": None,
                  "dport": None, "sport": None, "allow": True})
    return rules


def sswitch_acl(rules):
    out = []
    for r in rules:
        o = {"priority": r["priority"], "action": "allow" if r["allow"] else "deny",
             "terminating": True}
        if r["src"] != "0.0.0.0/0":
            o["src"] = [r["src"]]
        if r["dst"] != "0.0.0.0/0":
            o["dst"] = [r["dst"]]
        if r["proto"]:
            o["protocols"] = [r["proto"]]
        for k, key in (("dport", "dst_ports"), ("sport", "src_ports")):
            if r[k]:
                lo, hi = r[k]
                o[key] = [lo] if lo == hi else ["%d-%d" % (lo, hi)]
        out.append(o)
    return out


def port_masks(lo, hi):
    """[lo, hi] as value/mask pairs (the classic range-to-prefix split)."""
    out = []
    while lo <= hi:
        size = 1
        while lo % (size * 2) == 0 and lo + size * 2 - 1 <= hi and size < 65536:
            size *= 2
        out.append((lo, (0xffff & ~(size - 1))))
        lo += size
    return out


def ovs_acl(rules, table, allow_goto):
    """OpenFlow rules of the ACL in `table`: priority order kept, a port
    range is several flows (value/mask), allow resubmits to `allow_goto`."""
    flows = []
    n = len(rules)
    for i, r in enumerate(rules):
        prio = 1000 + (n - i)
        protos = [r["proto"]] if r["proto"] else [None]
        for proto in protos:
            m = ["table=%d" % table, "priority=%d" % prio]
            m.append({6: "tcp", 17: "udp", None: "ip"}[proto])
            if r["src"] != "0.0.0.0/0":
                m.append("nw_src=%s" % r["src"])
            if r["dst"] != "0.0.0.0/0":
                m.append("nw_dst=%s" % r["dst"])
            dps = port_masks(*r["dport"]) if r["dport"] and proto else [None]
            sps = port_masks(*r["sport"]) if r["sport"] and proto else [None]
            act = "actions=resubmit(,%d)" % allow_goto if r["allow"] else "actions=drop"
            for dp in dps:
                for sp in sps:
                    mm = list(m)
                    if dp:
                        mm.append("tp_dst=0x%04x/0x%04x" % dp)
                    if sp:
                        mm.append("tp_src=0x%04x/0x%04x" % sp)
                    flows.append(",".join(mm) + "," + act)
    return flows


# ---- work items ----------------------------------------------------------------

def _underlay_ops():
    return [
        {"method": "switch.set", "params": {"underlay_ip": UNDERLAY_IP, "mac": SWITCH_MAC}},
        {"method": "underlay_route.add", "params": {"prefix": "100.64.0.0/10", "next_hops": [
            {"port": "fabric0", "mac": NEXT_HOP_MAC}]}},
        {"method": "vnet.add", "params": {"name": "bench", "vni": VNI, "gateway_ip": "10.0.0.1"}},
    ]


def _encap_ops(acl):
    ops = _underlay_ops()
    if acl:
        ops.append({"method": "acl_group.replace", "params": {
            "name": "peer_acl", "family": "ipv4", "rules": sswitch_acl(acl)}})
    for k in range(ENIS):
        p = {"name": "e%d" % k, "mac": "02:00:00:01:00:%02x" % k, "vnet": "bench", "port": "host0",
             "route_group": "rg"}
        if acl:
            p["acl"] = {"outbound_v4": ["peer_acl"]}
        ops.append({"method": "eni.add", "params": p})
    ops.append({"method": "route.add", "params": {"group": "rg", "prefix": "10.0.0.0/16",
                                                  "action": "vnet"}})
    ops.append({"method": "mapping.add", "params": {"entries": [
        {"vnet": "bench", "ip": mapping_ip(i), "underlay_ip": mapping_pa(i), "mac": mapping_mac(i)}
        for i in range(NMAPPINGS)]}})
    return ops


def _encap_ovs_flows(acl):
    """br-int: in0 = 1, vx0 = 2; the mappings in table 1 (after the ACL in
    table 0 when there is one)."""
    flows = []
    maptab = 1 if acl else 0
    if acl:
        flows += ovs_acl(acl, 0, maptab)
    for i in range(NMAPPINGS):
        flows.append("table=%d,priority=100,in_port=1,ip,nw_dst=%s,actions=set_field:%s->eth_dst,"
                     "set_field:%s->tun_dst,set_field:%d->tun_id,output:2"
                     % (maptab, mapping_ip(i), mapping_mac(i), mapping_pa(i), VNI))
    return flows


def _decap_ovs_flows(npas=1024):
    """br-int: vx0 = 2, host0 = 3. PA validation (tun_src among the 1024
    PAs), then the ENI by inner destination MAC, odd ENIs tagged."""
    flows = ["table=0,priority=100,in_port=2,tun_id=%d,tun_src=100.64.%d.%d,actions=resubmit(,1)"
             % (VNI, p >> 8, p & 255) for p in range(npas)]
    for k in range(ENIS):
        act = "mod_vlan_vid:%d,output:3" % (100 + k) if k & 1 else "output:3"
        flows.append("table=1,priority=100,dl_dst=02:00:00:01:00:%02x,actions=%s" % (k, act))
    return flows


class Work:
    """One work item: frames, sswitchd ports/objects, OVS topology."""

    def __init__(self, name, desc, frames, kind, ops=None, ovs_flows=None, emc=True):
        self.name, self.desc, self.frames, self.kind = name, desc, frames, kind
        self.ops, self.ovs_flows, self.emc = ops, ovs_flows or [], emc


def works(nflows):
    acl = acl_rules()
    out_frames = lambda: pcapgen.outbound_frames(nflows, NMAPPINGS, ENIS)  # noqa: E731
    return [
        Work("l2", "host port to fabric port (sswitchd patch mode; OVS in_port -> output)",
             lambda: pcapgen.l2_frames(nflows), "l2", ovs_flows=["priority=100,in_port=1,actions=output:2"]),
        Work("encap", "VXLAN encap, 1000 CA->PA mappings", out_frames, "encap",
             _encap_ops(None), _encap_ovs_flows(None)),
        Work("encap_acl", "encap + 1000-rule 5-tuple ACL", out_frames, "encap",
             _encap_ops(acl), _encap_ovs_flows(acl)),
        Work("decap", "VXLAN decap, PA validation (1024 PAs), ENI by inner MAC", lambda: pcapgen.inbound_frames(
            nflows, 1024, ENIS), "decap", scenarios.scen_inbound_ops(1024, ENIS), _decap_ovs_flows()),
        Work("encap_noemc", "encap, OVS EMC off", out_frames, "encap", _encap_ops(None),
             _encap_ovs_flows(None), emc=False),
        Work("encap_acl_noemc", "encap + ACL, OVS EMC off", out_frames, "encap", _encap_ops(acl),
             _encap_ovs_flows(acl), emc=False),
    ]


# ---- Open vSwitch ---------------------------------------------------------------

class Ovs:
    """ovsdb-server + ovs-vswitchd (DPDK) on a private runtime directory,
    database and log, in a private network namespace."""

    def __init__(self, tmp, hp, emc=True):
        self.dir = os.path.join(tmp, "ovs-" + uuid.uuid4().hex[:6])
        os.makedirs(self.dir)
        self.ns = "ssovs" + uuid.uuid4().hex[:8]
        self.hp = hp
        self.emc = emc
        self.prefix = "ssovs" + uuid.uuid4().hex[:8]
        self.env = dict(os.environ, OVS_RUNDIR=self.dir, OVS_LOGDIR=self.dir, OVS_DBDIR=self.dir,
                        OVS_SYSCONFDIR=self.dir)
        self.db = "unix:%s/db.sock" % self.dir
        self.started = []
        self.out_port = None

    def run(self, *cmd, ns=False, check=True):
        full = (["ip", "netns", "exec", self.ns] if ns else []) + list(cmd)
        r = subprocess.run(full, env=self.env, capture_output=True, text=True)
        if check and r.returncode != 0:
            raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd[:4]), r.returncode,
                                                    (r.stderr or r.stdout).strip()[-2000:]))
        return r.stdout

    def vsctl(self, *args):
        return self.run("ovs-vsctl", "--db=" + self.db, "--timeout=60", *args)

    def appctl(self, *args):
        return self.run("ovs-appctl", "-t", os.path.join(self.dir, "ovs-vswitchd.ctl"), *args)

    def ofctl_flows(self, bridge, flows):
        path = os.path.join(self.dir, "%s.flows" % bridge)
        with open(path, "w") as f:
            f.write("\n".join(flows) + "\n")
        self.run("ovs-ofctl", "del-flows", bridge)
        self.run("ovs-ofctl", "add-flows", bridge, path)

    def start(self):
        self.run("ip", "netns", "add", self.ns)
        self.started.append("netns")
        # no IPv6 on the bridges' tap devices: their router solicitations
        # and MLD reports would leave through the fabric port
        self.run("sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1",
                 "net.ipv6.conf.default.disable_ipv6=1", ns=True)
        self.run("ovsdb-tool", "create", os.path.join(self.dir, "conf.db"), SCHEMA)
        self.run("ovsdb-server", os.path.join(self.dir, "conf.db"), "--remote=punix:%s/db.sock" % self.dir,
                 "--pidfile=%s/ovsdb-server.pid" % self.dir, "--unixctl=%s/ovsdb-server.ctl" % self.dir,
                 "--log-file=%s/ovsdb-server.log" % self.dir, "--detach")
        self.started.append("ovsdb")
        self.run("ovs-vsctl", "--db=" + self.db, "--no-wait", "init")
        # OVS always adds --in-memory, which DPDK refuses with --no-huge:
        # OVS-DPDK needs hugepages (main() checks)
        extra = "--no-pci --file-prefix %s --huge-unlink" % self.prefix
        mem = ["other_config:dpdk-socket-mem=%d" % OVS_MEM_MB,
               "other_config:dpdk-hugepage-dir=%s" % self.hp.dir]
        cfg = ["other_config:dpdk-init=true", "other_config:dpdk-extra=%s" % extra,
               "other_config:dpdk-lcore-mask=0x1", "other_config:pmd-cpu-mask=0x%x" % (1 << PMD_CORE),
               "other_config:emc-insert-inv-prob=%d" % (100 if self.emc else 0)] + mem
        self.run("ovs-vsctl", "--db=" + self.db, "--no-wait", "set", "Open_vSwitch", ".", *cfg)
        self.run(VSWITCHD, self.db, "--pidfile=%s/ovs-vswitchd.pid" % self.dir,
                 "--unixctl=%s/ovs-vswitchd.ctl" % self.dir, "--log-file=%s/ovs-vswitchd.log" % self.dir,
                 "--detach", ns=True)
        self.started.append("vswitchd")
        return self

    def log(self):
        try:
            with open(os.path.join(self.dir, "ovs-vswitchd.log")) as f:
                return f.read()
        except OSError:
            return ""

    def add_bridge(self, name, mac=None):
        args = ["add-br", name, "--", "set", "bridge", name, "datapath_type=netdev"]
        if mac:
            args.append("other_config:hwaddr=%s" % mac)
        self.vsctl(*args)

    def add_dpdk(self, bridge, name, devargs, ofport):
        self.vsctl("add-port", bridge, name, "--", "set", "Interface", name, "type=dpdk",
                   "options:dpdk-devargs=%s" % devargs, "options:n_rxq=1",
                   "ofport_request=%d" % ofport)
        err = self.vsctl("get", "Interface", name, "error").strip()
        if err not in ("[]", '""'):
            raise RuntimeError("OVS port %s: %s" % (name, err))

    def add_vxlan(self, bridge, ofport):
        self.vsctl("add-port", bridge, "vx0", "--", "set", "Interface", "vx0", "type=vxlan",
                   "options:remote_ip=flow", "options:key=flow", "options:local_ip=%s" % UNDERLAY_IP,
                   "ofport_request=%d" % ofport)

    def underlay(self):
        """br-phy's address and the underlay route + neighbour (native tunnelling)."""
        self.run("ip", "addr", "add", "%s/16" % UNDERLAY_IP, "dev", "br-phy", ns=True)
        self.run("ip", "link", "set", "br-phy", "up", ns=True)
        # OVS learns br-phy's address asynchronously: the route (whose
        # source address is br-phy's) is refused until it has
        deadline = time.time() + 20
        while True:
            try:
                self.appctl("ovs/route/add", "100.64.0.0/10", "br-phy", GATEWAY_IP)
                break
            except RuntimeError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        self.appctl("tnl/arp/set", "br-phy", GATEWAY_IP, NEXT_HOP_MAC)

    def setup(self, work, rx_devargs, tx_devargs):
        """Bridges, ports and flows of a work item; the input port last, so
        its first frame already meets the flows (a pcap read once)."""
        if work.kind == "l2":
            self.add_bridge("br-int")
            self.add_dpdk("br-int", "out0", tx_devargs, 2)
            self.out_port = ("br-int", 2)
            self.ofctl_flows("br-int", work.ovs_flows)
            self.add_dpdk("br-int", "in0", rx_devargs, 1)
            return
        self.add_bridge("br-int")
        self.add_bridge("br-phy", FABRIC_MAC)
        self.add_vxlan("br-int", 2)
        if work.kind == "encap":
            self.add_dpdk("br-phy", "out0", tx_devargs, 1)
            self.out_port = ("br-phy", 1)
            self.ofctl_flows("br-phy", ["priority=100,in_port=LOCAL,actions=output:1",
                                        "priority=0,actions=drop"])
        else:
            self.add_dpdk("br-int", "out0", tx_devargs, 3)
            self.out_port = ("br-int", 3)
            self.ofctl_flows("br-phy", ["priority=100,in_port=1,actions=LOCAL",
                                        "priority=0,actions=drop"])
        self.underlay()
        self.ofctl_flows("br-int", work.ovs_flows)
        self.add_dpdk("br-phy" if work.kind == "decap" else "br-int", "in0", rx_devargs, 1)

    def pmd_stats(self):
        out = self.appctl("dpif-netdev/pmd-stats-show")
        sect = out.split("pmd thread")[1] if "pmd thread" in out else ""
        if "core_id %d" % PMD_CORE not in sect:
            raise RuntimeError("OVS: no PMD on core %d:\n%s" % (PMD_CORE, out))

        def num(key):
            m = re.search(r"%s:\s+([\d.]+)" % re.escape(key), sect)
            return float(m.group(1)) if m else 0.0
        return {k: num(k) for k in ("packets received", "processing cycles", "emc hits", "simple match hits",
                                    "megaflow hits", "smc hits", "miss with success upcall",
                                    "avg. subtable lookups per megaflow hit")}

    def out_tx(self):
        """Frames the sink port (out0) has sent, live from OpenFlow port
        stats (the database's statistics lag by seconds)."""
        br, port = self.out_port
        out = self.run("ovs-ofctl", "dump-ports", br, str(port))
        m = re.search(r"tx pkts=(\d+)", out)
        return int(m.group(1)) if m else 0

    def stop(self):
        if "vswitchd" in self.started:
            # drop the ports first: their devices close (a tx_pcap is flushed)
            for br in ("br-int", "br-phy"):
                self.run("ovs-vsctl", "--db=" + self.db, "--timeout=30", "--if-exists", "del-br", br,
                         check=False)
            self.run("ovs-appctl", "-t", os.path.join(self.dir, "ovs-vswitchd.ctl"), "exit",
                     "--cleanup", check=False)
            _wait_pidfile(os.path.join(self.dir, "ovs-vswitchd.pid"))
        if "ovsdb" in self.started:
            self.run("ovs-appctl", "-t", os.path.join(self.dir, "ovsdb-server.ctl"), "exit", check=False)
            _wait_pidfile(os.path.join(self.dir, "ovsdb-server.pid"))
        if "netns" in self.started:
            self.run("ip", "netns", "del", self.ns, check=False)
        self.started = []
        shutil.rmtree("/var/run/dpdk/" + self.prefix, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()
        return False


def _wait_pidfile(path, timeout=20):
    """Wait for the process of a pidfile to end (SIGKILL after timeout)."""
    try:
        with open(path) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        return
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        pass


def measure_ovs(tmp, work, pcap, hp, warmup, window):
    with Ovs(tmp, hp, work.emc) as ovs:
        ovs.setup(work, "net_pcap_in0,rx_pcap=%s,infinite_rx=1" % pcap, "net_null_out0,no-rx=1")
        deadline = time.time() + 60
        while ovs.pmd_stats()["packets received"] == 0:
            if time.time() > deadline:
                raise RuntimeError("OVS receives nothing:\n%s" % ovs.log()[-3000:])
            time.sleep(0.2)
        time.sleep(warmup)
        ovs.appctl("dpif-netdev/pmd-stats-clear")
        time.sleep(window)
        s = ovs.pmd_stats()
        tx = ovs.out_tx()
    pk = s["packets received"]
    if not pk:
        raise RuntimeError("OVS forwarded nothing in the window")
    if not tx:
        raise RuntimeError("OVS sent nothing out of its sink port (work %s)" % work.name)
    # lookups: one per datapath pass (decap recirculates: two per packet)
    lookups = (s["emc hits"] + s["smc hits"] + s["simple match hits"] + s["megaflow hits"]
               + s["miss with success upcall"]) or 1
    return {"cpp": s["processing cycles"] / pk, "mpps": pk / window / 1e6,
            "emc": s["emc hits"] / lookups, "simple": s["simple match hits"] / lookups,
            "megaflow": s["megaflow hits"] / lookups,
            "subtables": s["avg. subtable lookups per megaflow hit"]}


# ---- the capture that proves both forward the same frames ------------------------

def _sswitch_ports(work, rx_devargs, tx_devargs):
    if work.kind == "l2":
        return [Port("host0", "host", kind="raw", peer="fabric0", extra=rx_devargs),
                Port("fabric0", "fabric", kind="raw", extra=tx_devargs)]
    if work.kind == "encap":
        return [Port("host0", "host", kind="raw", extra=rx_devargs),
                Port("fabric0", "fabric", kind="raw", mac=FABRIC_MAC, extra=tx_devargs)]
    return [Port("fabric0", "fabric", kind="raw", mac=FABRIC_MAC, extra=rx_devargs),
            Port("host0", "host", kind="raw", extra=tx_devargs)]


def _fields(kind, b):
    """What must be equal in a frame both switches sent: l2 and decap the
    whole frame; encap outer MACs, outer addresses, UDP destination port,
    VXLAN flags and VNI, and the whole inner frame (the UDP source port is
    each switch's own flow hash, the IP ID and TTL its own choice)."""
    if kind != "encap":
        return b
    if len(b) < 50 or b[12:14] != b"\x08\x00":
        return (b"not VXLAN over IPv4", b, b"", b"", b"")
    return (b[0:12], b[26:34], b[36:38], b[42:50], b[50:])


CAPTURE_PASSES = 3


def capture(tmp, work, ncap, hp):
    """The first ncap frames of the work item, CAPTURE_PASSES times over,
    through each switch into a tx_pcap. OVS drops some of the first packets
    that arrive while it is still wiring the port they came in on (upcall
    errors right after the port is added), so the proof is on distinct
    frames: every flow's frame (its _fields) sent by one switch is sent by
    the other, and there is exactly one per flow (no flow forwarded two
    ways). Returns (outputs, mismatch description or None, counts)."""
    cdir = os.path.join(tmp, "cap-%s" % work.name)
    os.makedirs(cdir, exist_ok=True)
    inp = os.path.join(cdir, "in.pcap")
    frames = list(work.frames())[:ncap]
    pcapgen.write_pcap(inp, frames * CAPTURE_PASSES)
    empty = os.path.join(cdir, "empty.pcap")
    pcapgen.write_pcap(empty, [])
    outs = {}
    # sswitchd
    out_ss = os.path.join(cdir, "sswitchd-out.pcap")
    ports = _sswitch_ports(work, "net_pcap0,rx_pcap=%s" % inp,
                           "net_pcap1,rx_pcap=%s,tx_pcap=%s" % (empty, out_ss))
    objects = _objects_file(cdir, work)
    d = BenchDaemon(os.path.join(cdir), ports, hp.eal_args(1536),
                    extra_conf='bootstrap = "%s";' % objects if objects else "")
    try:
        d.start(timeout=300)
    except BaseException:
        d.kill()
        raise
    try:
        d.wait_rx(len(frames) * CAPTURE_PASSES, timeout=60)
    finally:
        d.stop()
    outs["sswitchd"] = pcapgen.read_pcap(out_ss)
    # OVS
    out_ovs = os.path.join(cdir, "ovs-out.pcap")
    with Ovs(cdir, hp, work.emc) as ovs:
        ovs.setup(work, "net_pcap_in0,rx_pcap=%s" % inp,
                  "net_pcap_out0,rx_pcap=%s,tx_pcap=%s" % (empty, out_ovs))
        deadline = time.time() + 30
        last, stable = -1, 0
        while time.time() < deadline and stable < 5:
            n = ovs.out_tx()
            stable = stable + 1 if n == last and n > 0 else 0
            last = n
            time.sleep(0.2)
    outs["ovs"] = pcapgen.read_pcap(out_ovs)
    n = len(frames)
    a = {_fields(work.kind, b) for b in outs["sswitchd"]}
    b = {_fields(work.kind, b) for b in outs["ovs"]}
    counts = "of %d x %d frames sswitchd sent %d, OVS %d" % (CAPTURE_PASSES, n, len(outs["sswitchd"]),
                                                           len(outs["ovs"]))
    why = None
    if a != b:
        only = sorted(a - b)[:1] + sorted(b - a)[:1]
        why = "%s; %d distinct frames only from sswitchd, %d only from OVS, e.g. %r" % (
            counts, len(a - b), len(b - a), only)
    elif len(a) != n:
        why = "%s; %d distinct frames for %d flows" % (counts, len(a), n)
    return outs, why, counts


def _objects_file(d, work):
    if not work.ops:
        return None
    import json
    path = os.path.join(d, "objects.json")
    with open(path, "w") as f:
        json.dump({"ops": work.ops}, f)
    return path


# ---- main -----------------------------------------------------------------------

def median(xs):
    import statistics
    return statistics.median(xs) if xs else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--window", type=float, default=3.0)
    ap.add_argument("--flows", type=int, default=4096)
    ap.add_argument("--capture", type=int, default=4096, help="frames of the proof capture")
    ap.add_argument("--work", action="append", help="only these work items")
    ap.add_argument("--no-huge", action="store_true", help="(refused: OVS-DPDK needs hugepages)")
    ap.add_argument("--no-testpmd", action="store_true")
    ap.add_argument("--write", help="write the table into this markdown file (docs/performance.md)")
    args = ap.parse_args()
    args.load0 = os.getloadavg()[0]
    os.environ["SSWITCH_BUILD"] = args.build
    if not os.path.exists(VSWITCHD):
        print("make bench-peers: %s missing (Debian package openvswitch-switch-dpdk)" % VSWITCHD)
        return 1
    t_start = time.time()
    items = [w for w in works(args.flows) if not args.work or w.name in args.work]
    results = []
    # sswitchd 1536 MB + testpmd / OVS, one at a time
    with Hugepages(1536 + 128, force_off=args.no_huge) as hp, \
            tempfile.TemporaryDirectory(prefix="sspeers") as tmp:
        print("memory: %s" % hp.label())
        if not hp.used:
            # ovs-vswitchd always passes --in-memory, which the EAL refuses with --no-huge
            print("make bench-peers: OVS-DPDK cannot run without hugepages (%s)" % hp.reason)
            return 1
        for w in items:
            wd = os.path.join(tmp, w.name)
            os.makedirs(wd)
            _, why, counts = capture(wd, w, min(args.capture, args.flows), hp)
            if why:
                print("%-16s capture: NOT THE SAME: %s" % (w.name, why))
            else:
                print("%-16s capture: %s; the same frame for each of the %d flows" % (
                    w.name, counts, min(args.capture, args.flows)))
            pcap = os.path.join(wd, "in.pcap")
            pcapgen.write_pcap(pcap, w.frames())
            objects = _objects_file(wd, w)
            ss, ov, tp = [], [], []
            for r in range(args.runs):
                rd = os.path.join(wd, "run%d" % r)
                os.makedirs(rd)
                ss.append(measure_sswitchd(rd, _sswitch_ports(w, "net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap,
                                                              "net_null0,no-rx=1"),
                                           objects, args.warmup, args.window, hp, args.flows))
                ov.append(measure_ovs(rd, w, pcap, hp, args.warmup, args.window))
                if not args.no_testpmd:
                    tp.append(measure_testpmd(pcap, args.flows, hp, args.warmup, args.window))
            res = {"name": w.name, "desc": w.desc, "same": why is None, "why": why,
                   "sswitchd": median([x["cpp"] for x in ss]), "ovs": median([x["cpp"] for x in ov]),
                   "testpmd": median([x["cpp"] for x in tp]),
                   "ss_runs": [round(x["cpp"]) for x in ss], "ovs_runs": [round(x["cpp"]) for x in ov],
                   "emc": median([x["emc"] for x in ov]), "simple": median([x["simple"] for x in ov]),
                   "megaflow": median([x["megaflow"] for x in ov]),
                   "subtables": median([x["subtables"] for x in ov])}
            results.append(res)
            print("%-16s sswitchd %6.0f  OVS %6.0f  testpmd %5s cycles/pkt   sswitchd/OVS %.2f"
                  "   (OVS lookups: EMC %.0f%%, simple match %.0f%%, megaflow %.0f%% with %.1f subtables/hit)" % (
                      w.name, res["sswitchd"], res["ovs"],
                      "%.0f" % res["testpmd"] if res["testpmd"] else "-",
                      res["sswitchd"] / res["ovs"], 100 * res["emc"], 100 * res["simple"],
                      100 * res["megaflow"], res["subtables"]))
            sys.stdout.flush()
        elapsed = time.time() - t_start
        print("make bench-peers: %.0f s (%s; load average %.1f -> %.1f)" % (
            elapsed, hp.label(), args.load0, os.getloadavg()[0]))
        if args.write:
            write_md(args.write, results, args, hp, elapsed)
    return 0 if all(r["same"] for r in results) else 1


BEGIN, END = "<!-- make bench-peers: begin -->", "<!-- make bench-peers: end -->"


def write_md(path, results, args, hp, elapsed):
    from bench import replace_block
    ovs_ver = subprocess.run([VSWITCHD, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    lines = ["## Latest `make bench-peers`", "",
             "%s, %s, %s. Same frames (%d flows, 60-byte frames; decap 110) and the same "
             "objects (1000 CA->PA mappings, one underlay next hop, the same 1000-rule ACL as "
             "OpenFlow rules) for all three; net_pcap `infinite_rx=1` into net_null `no-rx=1`; "
             "the forwarding core is CPU 1 for each; median of %d interleaved runs of a %.1f s "
             "window after a %.1f s warm-up; the run took %.0f s. sswitchd: workers' busy cycles "
             "/ packets; OVS: `dpif-netdev/pmd-stats-show` processing cycles / packets received; "
             "testpmd: io forwarding busy cycles / packets. Before the measurement each work item's "
             "first %d frames went three times through sswitchd and OVS into a tx_pcap and the "
             "frames sent were compared flow by flow, field by field (outer MACs and addresses, "
             "UDP destination port, VXLAN flags and VNI, the whole inner frame)."
             % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), ovs_ver, hp.label(), args.flows,
                args.runs, args.window, args.warmup, elapsed, min(args.capture, args.flows)), "",
             "Load average (1 min) at the start and the end: %.1f, %.1f (on 2 cores: above 1 other "
             "work shares the forwarding core, and every figure, which counts TSC cycles while busy, "
             "includes the time it was descheduled)." % (args.load0, os.getloadavg()[0]), "",
             "| work | testpmd io | OVS-DPDK | sswitchd | sswitchd / OVS | sswitchd / testpmd | "
             "same output | OVS lookups: EMC / simple match / megaflow |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        tp = r["testpmd"]
        lines.append("| %s | %s | %.0f (%s) | %.0f (%s) | %.2f | %s | %s | %s |" % (
            r["desc"], "%.0f" % tp if tp else "-", r["ovs"], ", ".join(map(str, r["ovs_runs"])),
            r["sswitchd"], ", ".join(map(str, r["ss_runs"])), r["sswitchd"] / r["ovs"],
            "%.1fx" % (r["sswitchd"] / tp) if tp else "-", "yes" if r["same"] else "NO: " + r["why"],
            "%.0f / %.0f / %.0f %%" % (100 * r["emc"], 100 * r["simple"], 100 * r["megaflow"])))
    lines += ["", "Cycles per packet (runs in brackets). Re-run: `make bench-peers` "
              "(options: `/usr/bin/python3 tests/bench/peers.py --help`)."]
    replace_block(path, BEGIN, END, "\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
