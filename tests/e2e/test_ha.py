"""HA pair failover end to end (SPEC 3.11, docs/ha.md): two sswitchd, a VM,
a kernel VXLAN peer, and a TCP transfer that must survive the active's
death.

    ns "vm"                               ns "sw" (both daemons, HA channel on lo)
    eth0 192.0.2.10 -- vmp [br0] -- hA  host0 [sswitchd A, active ] fabric0  fA --+
                                \\-- hB  host0 [sswitchd B, standby] fabric0  fB --+
                                                                                  |
    ns "remote": fab0 198.51.100.2 -- rp [rbr] -- fA / fB; vx0 192.0.2.20 (VNI 5001)

Both switches are programmed alike (same underlay IP and MACs: the remote
and the VM cannot tell them apart) and the ENI has an inbound deny-all ACL,
so the remote's replies pass only through the reverse of a flow the VM
opened. Only one switch's taps are bridge members at a time; "moving the
traffic" (the fabric's failover) swaps them.

A slow transfer (the VM sends 1.5 MB in 48 KB steps every 40 ms, the remote
answers with the SHA-256 of what it got) runs through A; A is killed with
SIGKILL; the taps move to B; B becomes active (ha.set, or by itself with
auto_failover); the transfer completes with the right digest. With the
sync off (A has no `ha` section) the same failover breaks the connection:
B never saw the flow, the VM's next segment is no SYN and opens none, and
the remote's replies meet the deny-all.
"""
import json
import os
import socket
import time

import pytest

from sswitch import Daemon, Port
from topo import PYTHON, rpc_call, wait_for

VNI = 5001
VM_MAC = "02:e2:00:00:01:10"
REMOTE_CA_MAC = "02:e2:00:00:01:20"
REMOTE_UL_MAC = "02:e2:00:00:0f:02"
FABRIC_MAC = "02:e2:00:00:0f:01"
SWITCH_MAC = "02:e2:00:00:00:fe"
VM4, REMOTE4, GW4 = "192.0.2.10", "192.0.2.20", "192.0.2.1"
SW_PA, REMOTE_PA = "198.51.100.1", "198.51.100.2"
INNER_MTU = 1400

XFER = r'''
import hashlib, json, socket, sys, time
mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == "serve":
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port)); s.listen(1); print(json.dumps({"listening": port}), flush=True)
    s.settimeout(30); c, _ = s.accept(); c.settimeout(30); h = hashlib.sha256(); n = 0
    while True:
        b = c.recv(65536)
        if not b:
            break
        h.update(b); n += len(b)
    c.sendall(h.hexdigest().encode()); c.close()
    print(json.dumps({"received": n}), flush=True)
else:
    size, step, pause, timeout = int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7])
    data = bytes((i * 7 + (i >> 9)) & 255 for i in range(size))
    s = socket.create_connection((addr, port), timeout=timeout)
    print(json.dumps({"connected": True}), flush=True)
    t0 = last = time.time(); gap = 0.0; out = {"ok": False}
    try:
        for off in range(0, size, step):
            s.sendall(data[off:off + step]); now = time.time()
            gap = max(gap, now - last); last = now
            print(json.dumps({"sent": off + step}), flush=True); time.sleep(pause)
        s.shutdown(socket.SHUT_WR)
        got = b""
        while len(got) < 64:
            b = s.recv(64)
            if not b:
                break
            got += b
        gap = max(gap, time.time() - last)
        out = {"ok": got.decode() == hashlib.sha256(data).hexdigest(), "digest": got.decode()}
    except OSError as e:
        out = {"ok": False, "error": str(e)}
    out.update(max_gap_s=round(gap, 3), seconds=round(time.time() - t0, 3))
    print(json.dumps(out), flush=True)
'''


def objects():
    ops = [
        ("switch.set", {"underlay_ip": SW_PA, "mac": SWITCH_MAC}),
        ("vnet.add", {"name": "vnet1", "vni": VNI, "gateway_ip": GW4}),
        ("route.add", {"group": "rg1", "prefix": "192.0.2.0/24", "action": "vnet"}),
        ("mapping.add", {"vnet": "vnet1", "ip": REMOTE4, "underlay_ip": REMOTE_PA,
                         "mac": REMOTE_CA_MAC}),
        ("underlay_route.add", {"prefix": REMOTE_PA + "/32",
                                "next_hops": [{"port": "fabric0", "mac": REMOTE_UL_MAC}]}),
        ("acl_group.add", {"name": "in_deny", "family": "ipv4"}),
        ("acl_rule.add", {"group": "in_deny", "priority": 100, "action": "deny"}),
        ("eni.add", {"name": "vm1", "mac": VM_MAC, "vnet": "vnet1", "port": "host0",
                     "route_group": "rg1", "acl": {"inbound_v4": ["in_deny"]}}),
    ]
    return [{"method": m, "params": p} for m, p in ops]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Pair:
    def __init__(self, topo, tmp, sync=True, auto_failover=False):
        self.t = topo
        self.sync = sync
        self.vm, self.remote = topo.netns("vm"), topo.netns("remote")
        pa, pb = free_port(), free_port()
        self.d = {}
        for name, role, listen, peer in (("a", "active", pa, pb), ("b", "standby", pb, pa)):
            ports = [Port("host0", "host", kind="raw", extra="net_tap_%sh,iface=h%s" % (name, name.upper())),
                     Port("fabric0", "fabric", kind="raw", mac=FABRIC_MAC,
                          extra="net_tap_%sf,iface=f%s" % (name, name.upper()))]
            extra = "flows = { idle_timeout_ms = 60000; };\n"
            if sync or name == "b":
                extra += ('ha = { role = "%s"; listen = "127.0.0.1:%d"; peer = "127.0.0.1:%d"; '
                          'auto_failover = %s; peer_timeout_ms = 300; };\n'
                          % (role, listen, peer, "true" if auto_failover else "false"))
            os.makedirs(str(tmp / name), exist_ok=True)
            self.d[name] = Daemon(str(tmp / name), ports, netns=topo.sw.name, die_with_parent=True,
                                  bootstrap=objects(), extra_conf=extra)

    def start(self):
        sw, vm, r = self.t.sw, self.vm, self.remote
        for d in self.d.values():
            d.start()
        for k, n in enumerate(("A", "B")):
            sw.ip("link", "set", "dev", "h" + n, "netns", vm.name)
            sw.ip("link", "set", "dev", "f" + n, "netns", r.name)
            # the tap PMD gives the kernel side the port's MAC: a bridge
            # would take frames to it as its own
            vm.ip("link", "set", "dev", "h" + n, "address", "02:e2:00:00:aa:%02x" % k)
            r.ip("link", "set", "dev", "f" + n, "address", "02:e2:00:00:bb:%02x" % k)
        for ns, br, end, peer in ((vm, "br0", "vmp", "eth0"), (r, "rbr", "rp", "fab0")):
            ns.ip("link", "add", br, "type", "bridge", "stp_state", "0", "forward_delay", "0")
            ns.ip("link", "add", peer, "type", "veth", "peer", "name", end)
            ns.ip("link", "set", end, "master", br)
            ns.sysctl("net.ipv6.conf.all.disable_ipv6", 1)
        vm.ip("link", "set", "eth0", "address", VM_MAC, "mtu", str(INNER_MTU))
        r.ip("link", "set", "fab0", "address", REMOTE_UL_MAC)
        self.attach("A")
        for ns, links in ((vm, ("br0", "vmp", "eth0", "hA", "hB")),
                          (r, ("rbr", "rp", "fab0", "fA", "fB"))):
            for lk in links:
                ns.ip("link", "set", "dev", lk, "up")
        vm.ip("addr", "add", VM4 + "/24", "dev", "eth0")
        r.ip("addr", "add", REMOTE_PA + "/24", "dev", "fab0")
        r.ip("link", "add", "vx0", "type", "vxlan", "id", str(VNI), "dstport", "4789",
             "local", REMOTE_PA, "remote", SW_PA, "dev", "fab0", "nolearning")
        r.ip("link", "set", "dev", "vx0", "address", REMOTE_CA_MAC, "mtu", str(INNER_MTU))
        r.ip("addr", "add", REMOTE4 + "/24", "dev", "vx0")
        r.ip("neigh", "replace", VM4, "lladdr", VM_MAC, "dev", "vx0", "nud", "permanent")
        r.ip("link", "set", "dev", "vx0", "up")
        return self

    def attach(self, n):
        """The fabric's failover: switch n's taps become the bridges' members."""
        other = "B" if n == "A" else "A"
        for ns, br, pre in ((self.vm, "br0", "h"), (self.remote, "rbr", "f")):
            ns.ip("link", "set", pre + other, "nomaster", check=False)
            ns.ip("link", "set", pre + n, "master", br)

    def ha(self, n):
        return rpc_call(self.d[n], "ha.get")

    def close(self):
        for d in self.d.values():
            if d.proc is not None:
                try:
                    d.stop()
                except Exception:  # noqa: BLE001 - the namespaces go anyway
                    d.kill()


@pytest.fixture
def pair(make_topo, tmp_path):
    made = []

    def make(**kw):
        p = Pair(make_topo(), tmp_path / ("p%d" % len(made)), **kw)
        made.append(p)
        return p.start()

    yield make
    for p in made:
        p.close()


def transfer_through_failover(p, failover, timeout=20.0):
    """Start the transfer through A, kill A once it is under way, move the
    traffic to B, run `failover`; the client's result."""
    srv = p.remote.popen(PYTHON, "-c", XFER, "serve", REMOTE4, "5400")
    assert "listening" in srv.stdout.readline()
    cli = p.vm.popen(PYTHON, "-c", XFER, "connect", REMOTE4, "5400", str(1536 * 1024),
                     str(48 * 1024), "0.04", str(timeout))
    try:
        line = cli.stdout.readline()
        assert '"connected"' in line, (line, cli.communicate(timeout=5))
        for _ in range(8):          # a third of the way through A
            assert "sent" in cli.stdout.readline()
        if p.sync:
            wait_for(lambda: len(rpc_call(p.d["b"], "flow.list")["flows"]) >= 1, 3,
                     what="the flow on the standby")
        p.d["a"].kill()             # SIGKILL: no goodbye on the channel
        t_kill = time.time()
        p.attach("B")
        failover()
        out, err = cli.communicate(timeout=timeout + 10)
        res = json.loads(out.strip().splitlines()[-1])
        res["failover_s"] = round(time.time() - t_kill, 3)
        return res
    finally:
        for pr in (cli, srv):
            if pr.poll() is None:
                pr.kill()
            pr.communicate()


def test_failover_by_controller(pair):
    p = pair()
    wait_for(lambda: p.ha("b")["peer_state"] == "connected", 10, what="the HA channel")
    res = transfer_through_failover(
        p, lambda: rpc_call(p.d["b"], "ha.set", {"role": "active"}))
    assert res["ok"], res
    hb = p.ha("b")
    assert hb["role"] == "active" and hb["failovers"] == 1
    print("failover by ha.set: transfer %s s, longest stall %s s" % (res["seconds"], res["max_gap_s"]))


def test_auto_failover(pair):
    p = pair(auto_failover=True)
    wait_for(lambda: p.ha("b")["peer_state"] == "connected", 10, what="the HA channel")
    res = transfer_through_failover(p, lambda: None)
    assert res["ok"], res
    hb = p.ha("b")
    assert hb["role"] == "active" and hb["failovers"] == 1 and hb["peer_state"] != "connected"
    print("auto_failover: transfer %s s, longest stall %s s" % (res["seconds"], res["max_gap_s"]))


def test_failover_without_sync_breaks(pair):
    """The negative control: the same failover with A not syncing (no `ha`
    section) loses the connection."""
    p = pair(sync=False)
    res = transfer_through_failover(
        p, lambda: rpc_call(p.d["b"], "ha.set", {"role": "active"}), timeout=6.0)
    assert not res["ok"], res
    drops = rpc_call(p.d["b"], "stats.get", {"scope": "drops"})["drops"]
    assert drops.get("acl_deny", 0) >= 1, drops
