"""BFD against FRR's bfdd, and the ECMP withdrawal it drives (SPEC 3.10).

    ns "vm"                     ns "sw"                      ns "pa" / "pb"
    eth0 192.0.2.10  --tap-- host0 [sswitchd] fabric0 --tap-- fab0 198.51.100.2  bfdd
                                              fabric1 --tap-- fab0 198.51.100.3  bfdd

The switch (underlay IP 198.51.100.1) runs a single-hop BFD session with
each peer; FRR 8.4's bfdd runs standalone (no zebra) in each peer's
namespace, as user frr, with its own config, vty and --bfdctl directory.
The underlay route to the remote PA has both peers as ECMP next hops, each
coupled to its session (next_hops[].bfd). The VM sends a steady stream of
UDP flows to a remote CA; a recorder in each peer's namespace timestamps
every BFD frame the peer sends and every VXLAN frame it receives, so the
tests count, at the peers themselves, where the traffic went and when the
last packet reached a peer that had stopped talking.

Needs root, /dev/net/tun and FRR (`make deps` installs frr).
"""
import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time

import pytest

from topo import PYTHON, rpc_call, wait_for

BFDD = "/usr/lib/frr/bfdd"
VNI = 5001
VM_MAC = "02:e2:00:00:02:10"
REMOTE_CA_MAC = "02:e2:00:00:02:20"
SWITCH_MAC = "02:e2:00:00:02:fe"
FAB_MAC = ("02:e2:00:00:0f:11", "02:e2:00:00:0f:12")    # sswitchd fabric0 / fabric1
PEER_MAC = ("02:e2:00:00:0f:21", "02:e2:00:00:0f:22")   # the peers' fab0
SW_UL = "198.51.100.1"
PEER_UL = ("198.51.100.2", "198.51.100.3")
REMOTE_PA = "203.0.113.20"
VM4, REMOTE4, GW4 = "192.0.2.10", "192.0.2.20", "192.0.2.1"
FLOWS = 64
PPS = 1000

pytestmark = pytest.mark.skipif(not os.access(BFDD, os.X_OK) or shutil.which("vtysh") is None,
                                reason="FRR is not installed (make deps installs frr)")

# Timestamps every BFD frame sent and VXLAN frame received on an interface
# of the namespace it runs in: one JSON line per frame, [time, kind,
# direction, BFD state or 0], flushed as it goes.
RECORDER = r"""
import json, socket, struct, sys, time
ifname, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((ifname, 0))
f = open(out, "w", buffering=1)
print(json.dumps({"ready": True}), flush=True)
while True:
    data, addr = s.recvfrom(65535)
    ts = time.time()
    if len(data) < 42 or data[12:14] != b"\x08\x00" or data[23] != 17:
        continue
    ihl = (data[14] & 15) * 4
    dport = struct.unpack_from("!H", data, 14 + ihl + 2)[0]
    out_dir = "out" if addr[2] == 4 else "in"
    if dport == 3784:
        b1 = data[14 + ihl + 8 + 1] if len(data) > 14 + ihl + 9 else 0
        f.write(json.dumps([ts, "bfd", out_dir, b1 >> 6, data[22], b1 & 63]) + "\n")
    elif dport == 4789 and out_dir == "in":
        f.write(json.dumps([ts, "vxlan", out_dir, 0, data[22], 0]) + "\n")
"""

# Sends FLOWS UDP flows (source ports 40000..) round robin to the remote CA
# at PPS packets per second until killed; prints the count sent on SIGTERM.
SENDER = r"""
import json, signal, socket, sys, time
dst, flows, pps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
socks = []
for i in range(flows):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 40000 + i))
    socks.append(s)
sent = 0
def stop(*a):
    print(json.dumps({"sent": sent}), flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
print(json.dumps({"ready": True}), flush=True)
t0 = time.time()
while True:
    socks[sent % flows].sendto(b"x" * 64, (dst, 7777))
    sent += 1
    delay = t0 + sent / pps - time.time()
    if delay > 0:
        time.sleep(delay)
"""


class Peer:
    """FRR's bfdd in a namespace, peering with the switch."""

    def __init__(self, ns, addr, workdir, tx_ms=300, rx_ms=300, mult=3):
        self.ns, self.addr, self.dir = ns, addr, workdir
        self.proc = None
        os.makedirs(workdir, exist_ok=True)
        os.chmod(workdir, 0o755)
        shutil.chown(workdir, "frr", "frr")
        self.conf = os.path.join(workdir, "bfdd.conf")
        with open(self.conf, "w") as f:
            f.write("bfd\n peer %s local-address %s\n  receive-interval %d\n"
                    "  transmit-interval %d\n  detect-multiplier %d\n !\n!\n"
                    % (SW_UL, addr, rx_ms, tx_ms, mult))
        shutil.chown(self.conf, "frr", "frr")

    def start(self):
        d = self.dir
        self.proc = self.ns.popen(BFDD, "-f", self.conf, "--vty_socket", d, "--bfdctl",
                                  os.path.join(d, "bfdd.sock"), "-i", os.path.join(d, "bfdd.pid"),
                                  "-z", os.path.join(d, "zserv.api"), "-u", "frr", "-g", "frr",
                                  "--log", "file:" + os.path.join(d, "bfdd.log"),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: os.path.exists(os.path.join(d, "bfdd.vty")), timeout=10,
                 what="bfdd vty socket")

    def kill(self):
        """A dead peer: no AdminDown, it just stops talking."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.proc = None
        for name in ("bfdd.vty", "bfdd.sock", "bfdd.pid"):
            try:
                os.unlink(os.path.join(self.dir, name))
            except FileNotFoundError:
                pass

    def vtysh(self, cmd):
        return subprocess.run(["vtysh", "--vty_socket", self.dir, "-c", cmd], capture_output=True,
                              text=True, timeout=10).stdout

    def configure(self, *lines):
        """Change the peer's session through its vty."""
        cmd = ["vtysh", "--vty_socket", self.dir, "-c", "configure terminal", "-c", "bfd", "-c",
               "peer %s local-address %s" % (SW_UL, self.addr)]
        for line in lines:
            cmd += ["-c", line]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        assert r.returncode == 0, r.stdout + r.stderr

    def peers(self):
        """FRR's `show bfd peers json`: its view of the session."""
        out = self.vtysh("show bfd peers json")
        try:
            return json.loads(out)
        except ValueError:
            return []

    def status(self):
        p = self.peers()
        return p[0].get("status") if p else None


def frr_stat(peer, key):
    p = peer.peers()
    return p[0].get(key) if p else None


class Recorder:
    def __init__(self, ns, ifname, path):
        self.path = path
        self.proc = ns.popen(PYTHON, "-c", RECORDER, ifname, path)
        assert '"ready"' in self.proc.stdout.readline(), self.proc.stderr.read()

    def frames(self):
        with open(self.path) as f:
            return [json.loads(line) for line in f if line.endswith("\n")]

    def close(self):
        self.proc.kill()
        self.proc.wait()


class Net:
    pass


@pytest.fixture
def bfd_net(make_topo, tmp_path):
    t = make_topo()
    n = Net()
    n.vm = t.netns("vm")
    n.pns = (t.netns("pa"), t.netns("pb"))
    n.host = t.port("host0", "host", n.vm, ifname="eth0", mac=VM_MAC)
    n.fab = [t.port("fabric%d" % i, "fabric", n.pns[i], ifname="fab0", mac=PEER_MAC[i],
                    port_mac=FAB_MAC[i]) for i in range(2)]
    n.d = t.start()
    ops = [
        ("switch.set", {"underlay_ip": SW_UL, "mac": SWITCH_MAC}),
        ("bfd.add", {"peer": PEER_UL[0], "port": "fabric0"}),
        ("bfd.add", {"peer": PEER_UL[1], "port": "fabric1"}),
        ("vnet.add", {"name": "vnet1", "vni": VNI, "gateway_ip": GW4}),
        ("route.add", {"group": "rg1", "prefix": "192.0.2.0/24", "action": "vnet"}),
        ("mapping.add", {"vnet": "vnet1", "ip": REMOTE4, "underlay_ip": REMOTE_PA,
                         "mac": REMOTE_CA_MAC}),
        ("underlay_route.add", {"prefix": "203.0.113.0/24", "next_hops": [
            {"port": "fabric0", "mac": PEER_MAC[0], "bfd": PEER_UL[0]},
            {"port": "fabric1", "mac": PEER_MAC[1], "bfd": PEER_UL[1]}]}),
        ("eni.add", {"name": "vm1", "mac": VM_MAC, "vnet": "vnet1", "port": "host0",
                     "route_group": "rg1"}),
    ]
    rpc_call(n.d, "txn", {"ops": [{"method": m, "params": p} for m, p in ops]})
    n.host.addr(VM4 + "/24")
    for i in range(2):
        n.fab[i].addr(PEER_UL[i] + "/24")
    # bfdd runs as user frr: its directories outside root's private tmp
    n.frrdir = tempfile.mkdtemp(prefix="ssbfd-")
    os.chmod(n.frrdir, 0o755)
    n.peers = [Peer(n.pns[i], PEER_UL[i], os.path.join(n.frrdir, "p%d" % i)) for i in range(2)]
    n.rec = [Recorder(n.pns[i], "fab0", str(tmp_path / ("rec%d.jsonl" % i))) for i in range(2)]
    n.sender = None
    try:
        for p in n.peers:
            p.start()
        yield n
    finally:
        if n.sender is not None and n.sender.poll() is None:
            n.sender.kill()
            n.sender.wait()
        for p in n.peers:
            p.kill()
        for r in n.rec:
            r.close()
        shutil.rmtree(n.frrdir, ignore_errors=True)


def sessions(n):
    return {s["peer"]: s for s in rpc_call(n.d, "bfd.list")["sessions"]}


def both_up(n, timeout=15):
    wait_for(lambda: all(s["state"] == "up" for s in sessions(n).values()) and
             all(p.status() == "up" for p in n.peers), timeout=timeout, interval=0.1,
             what="both BFD sessions up on both sides")


def start_traffic(n):
    n.sender = n.vm.popen(PYTHON, "-c", SENDER, REMOTE4, str(FLOWS), str(PPS))
    assert '"ready"' in n.sender.stdout.readline(), n.sender.stderr.read()


def stop_traffic(n):
    n.sender.send_signal(signal.SIGTERM)
    out, _ = n.sender.communicate(timeout=10)
    n.sender = None
    return json.loads(out.strip().splitlines()[-1])["sent"]


def vxlan_times(frames, t0=0.0, t1=float("inf")):
    return [f[0] for f in frames if f[1] == "vxlan" and t0 <= f[0] < t1]


def last_bfd_out(frames, before):
    """When the peer sent its last BFD frame before `before`."""
    return max(f[0] for f in frames if f[1] == "bfd" and f[2] == "out" and f[0] < before)


def test_bfd_sessions_with_frr(bfd_net):
    n = bfd_net
    both_up(n)
    s = sessions(n)
    for i, peer in enumerate(PEER_UL):
        x = s[peer]
        assert x["port"] == "fabric%d" % i and x["state"] == "up"
        assert x["local_discr"] != 0 and x["remote_discr"] != 0
        assert (x["tx_interval_ms"], x["rx_interval_ms"], x["detect_mult"]) == (300, 300, 3)
        assert x["up_transitions"] == 1 and x["rx_packets"] > 0 and x["tx_packets"] > 0
        assert x["rx_discarded"] == 0
        frr = n.peers[i].peers()[0]
        # FRR sees our discriminator and our timers
        assert frr["remote-id"] == x["local_discr"] and frr["id"] == x["remote_discr"], frr
        assert frr["remote-receive-interval"] == 300 and frr["remote-transmit-interval"] == 300
    # RFC 5881 5: what the switch sends has TTL 255 (FRR drops anything else)
    ours = [f for f in n.rec[0].frames() if f[1] == "bfd" and f[2] == "in"]
    assert ours and all(f[4] == 255 for f in ours)
    assert not [f for f in rpc_call(n.d, "health.get")["findings"]
                if f["finding"] in ("bfd_down", "next_hop_withdrawn")]

    # the peer dies: Down within the detection time (3 x 300 ms), diag 1
    t_kill = time.time()
    n.peers[0].kill()
    wait_for(lambda: sessions(n)[PEER_UL[0]]["state"] == "down", timeout=3, interval=0.02,
             what="session down")
    t_down = time.time()
    assert t_down - t_kill < 0.9 + 0.3, "detected after %.3f s" % (t_down - t_kill)
    x = sessions(n)[PEER_UL[0]]
    assert x["local_diag"] == "control_expired" and x["down_transitions"] == 1
    assert sessions(n)[PEER_UL[1]]["state"] == "up"
    h = rpc_call(n.d, "health.get")
    kinds = {(f["finding"], f["object"]) for f in h["findings"]}
    assert ("bfd_down", PEER_UL[0]) in kinds, h
    assert ("next_hop_withdrawn", "underlay_route 203.0.113.0/24") in kinds, h
    assert not h["healthy"]
    # and back
    n.peers[0].start()
    both_up(n)
    assert sessions(n)[PEER_UL[0]]["up_transitions"] == 2


def test_bfd_interval_change_poll_final(bfd_net):
    """bfd.set while Up: announced with a Poll, FRR answers with a Final, the
    new timers are in force on both sides and the session never drops."""
    n = bfd_net
    both_up(n)
    rpc_call(n.d, "bfd.set", {"peer": PEER_UL[0], "tx_interval_ms": 100, "rx_interval_ms": 150,
                              "detect_mult": 4})

    def applied():
        frr = n.peers[0].peers()[0]
        return (frr.get("remote-transmit-interval") == 100 and
                frr.get("remote-receive-interval") == 150 and
                frr.get("remote-detect-multiplier") == 4 and
                not sessions(n)[PEER_UL[0]]["poll"])
    wait_for(applied, timeout=5, interval=0.1, what="FRR to see the new intervals")
    x = sessions(n)[PEER_UL[0]]
    assert x["state"] == "up" and x["up_transitions"] == 1 and x["down_transitions"] == 0, \
        (x, n.peers[0].peers(), [f for f in n.rec[0].frames() if f[1] == "bfd"][-40:])
    # in force: FRR (mult 3) detects us within 3 x max(its rx 300, our tx 100)
    assert x["detect_time_ms"] == 900
    time.sleep(2.0)
    # on the wire: our Poll, then FRR's Final
    frames = n.rec[0].frames()
    polls = [f[0] for f in frames if f[1] == "bfd" and f[2] == "in" and f[5] & 0x20]
    finals = [f[0] for f in frames if f[1] == "bfd" and f[2] == "out" and f[5] & 0x10]
    assert polls and finals and min(finals) > min(polls), (polls, finals)
    # 6.8.7: our interval is the larger of ours (100) and FRR's RequiredMinRx
    # (300): about every 225-300 ms
    t_end = frames[-1][0]
    ours = [f[0] for f in frames if f[1] == "bfd" and f[2] == "in" and f[0] > t_end - 2.0
            and not f[5] & 0x30]
    gaps = [b - a for a, b in zip(ours, ours[1:])]
    assert gaps and 0.2 < min(gaps) and max(gaps) < 0.35, gaps

    # FRR's turn: it polls with RequiredMinRx 100 / DesiredMinTx 100, we
    # answer with a Final; then we send every 75-100 ms and detect FRR in
    # 3 x max(our 150, its 100)
    t_cfg = time.time()
    n.peers[0].configure("receive-interval 100", "transmit-interval 100")
    wait_for(lambda: sessions(n)[PEER_UL[0]]["detect_time_ms"] == 450, timeout=5, interval=0.1,
             what="FRR's new intervals in force")
    time.sleep(1.5)
    frames = n.rec[0].frames()
    polls = [f[0] for f in frames if f[1] == "bfd" and f[2] == "out" and f[5] & 0x20 and
             f[0] > t_cfg]
    finals = [f[0] for f in frames if f[1] == "bfd" and f[2] == "in" and f[5] & 0x10 and
              f[0] > t_cfg]
    assert polls and finals and min(finals) > min(polls), (polls, finals)
    assert min(finals) - min(polls) < 0.1, "the Final goes out at once"
    assert frr_stat(n.peers[0], "status") == "up"
    t_end = frames[-1][0]
    ours = [f[0] for f in frames if f[1] == "bfd" and f[2] == "in" and f[0] > t_end - 1.0
            and not f[5] & 0x30]
    gaps = [b - a for a, b in zip(ours, ours[1:])]
    # 75-100 ms by the state machine; what the peer's clock sees also has
    # the scheduling of a shared machine in it: the median, and every gap
    # well inside FRR's detection time (3 x 100 ms)
    assert gaps and 0.07 < statistics.median(gaps) < 0.13 and max(gaps) < 0.25, gaps
    x = sessions(n)[PEER_UL[0]]
    assert x["state"] == "up" and x["down_transitions"] == 0


def test_bfd_ecmp_withdrawal(bfd_net, request):
    """Two next hops with BFD, one killed mid-stream, 20 times: traffic goes
    on through the other, nothing reaches the dead one later than a second
    after its last BFD packet, and it gets its share back once Up again."""
    n = bfd_net
    both_up(n)
    start_traffic(n)
    time.sleep(1.0)
    withdraw, lost, rounds = [], [], int(os.environ.get("SSWITCH_BFD_ROUNDS", "20"))
    for r in range(rounds):
        victim = r % 2
        other = 1 - victim
        t0 = time.time()
        time.sleep(0.5)
        before = [len(vxlan_times(x.frames(), t0)) for x in n.rec]
        assert all(b > 0 for b in before), "both members carry traffic: %s" % before
        t_kill = time.time()
        n.peers[victim].kill()
        wait_for(lambda: sessions(n)[PEER_UL[victim]]["state"] == "down", timeout=3,
                 interval=0.02, what="session down")
        time.sleep(1.0)
        t_check = time.time()
        fv, fo = n.rec[victim].frames(), n.rec[other].frames()
        last_bfd = last_bfd_out(fv, t_kill + 0.1)
        at_victim = vxlan_times(fv, t_kill - 1.0, t_check)
        assert at_victim, "the victim carried traffic before it died"
        # SPEC 3.10: nothing later than one second after its last BFD packet
        delay = max(at_victim) - last_bfd
        assert delay < 1.0, "round %d: traffic to the dead next hop %.3f s after its last BFD " \
                            "packet" % (r, delay)
        assert not vxlan_times(fv, last_bfd + 1.0, t_check)
        withdraw.append(delay)
        # the other one carries the whole stream meanwhile
        during = vxlan_times(fo, last_bfd + 1.0, t_check)
        assert len(during) > 0.8 * PPS * (t_check - last_bfd - 1.0), len(during)
        # what the failure costs: a next hop that died with its last BFD
        # packet loses what is sent to it until the withdrawal
        lost.append(len(vxlan_times(fv, last_bfd, t_check)))
        # and nothing else went missing: both peers together got the stream
        window = (t_kill - 0.5, t_check)
        got = sum(len(vxlan_times(x.frames(), *window)) for x in n.rec)
        assert got > 0.95 * PPS * (window[1] - window[0]), got
        # back: the victim gets its share again
        n.peers[victim].start()
        wait_for(lambda: sessions(n)[PEER_UL[victim]]["state"] == "up", timeout=15,
                 interval=0.05, what="session up again")
        t_up = time.time()
        wait_for(lambda: len(vxlan_times(n.rec[victim].frames(), t_up)) > 50, timeout=3,
                 interval=0.05, what="traffic back on the restored next hop")
    sent = stop_traffic(n)
    assert sent > 0
    withdraw_ms = sorted(d * 1000 for d in withdraw)
    summary = {"rounds": rounds, "withdrawal_ms_median": round(statistics.median(withdraw_ms), 1),
               "withdrawal_ms_max": round(max(withdraw_ms), 1),
               "lost_median": statistics.median(lost), "lost_max": max(lost), "pps": PPS}
    print("bfd withdrawal:", json.dumps(summary))
    out = os.environ.get("SSWITCH_BFD_REPORT")
    if out:
        with open(out, "w") as f:
            json.dump({"summary": summary, "withdrawal_ms": withdraw_ms, "lost": lost}, f)
    d = rpc_call(n.d, "stats.get", {"scope": "drops"})["drops"]
    assert d.get("underlay_nh_down", 0) == 0      # one member was always up


def test_bfd_all_members_down_drops(bfd_net):
    """No member left: underlay_nh_down; back when a session is Up."""
    n = bfd_net
    both_up(n)
    for p in n.peers:
        p.kill()
    wait_for(lambda: all(s["state"] == "down" for s in sessions(n).values()), timeout=3,
             interval=0.05, what="both sessions down")
    before = rpc_call(n.d, "stats.get", {"scope": "drops"})["drops"].get("underlay_nh_down", 0)
    start_traffic(n)
    time.sleep(0.5)
    stop_traffic(n)
    after = rpc_call(n.d, "stats.get", {"scope": "drops"})["drops"].get("underlay_nh_down", 0)
    assert after - before > 0.3 * PPS
    n.peers[1].start()
    wait_for(lambda: sessions(n)[PEER_UL[1]]["state"] == "up", timeout=15, interval=0.05,
             what="session up")
    t = time.time()
    start_traffic(n)
    time.sleep(0.5)
    stop_traffic(n)
    assert len(vxlan_times(n.rec[1].frames(), t)) > 0.3 * PPS
    assert not vxlan_times(n.rec[0].frames(), t)


def test_bfd_no_session_and_malformed(bfd_net):
    """BFD from an address without a session is dropped bfd_no_session;
    malformed packets from a peer are discarded and counted, never
    forwarded, and the session survives them."""
    from scapy.all import IP, UDP, Ether, Raw
    n = bfd_net
    both_up(n)
    d0 = rpc_call(n.d, "stats.get", {"scope": "drops"})["drops"].get("bfd_no_session", 0)
    x0 = sessions(n)[PEER_UL[0]]
    good = bytes([0x20, 0xc0, 3, 24]) + (1).to_bytes(4, "big") + \
        x0["local_discr"].to_bytes(4, "big") + (300000).to_bytes(4, "big") * 2 + bytes(4)
    bad = [good[:20],                               # short
           bytes([0x40]) + good[1:],                # version 2
           good[:3] + bytes([23]) + good[4:],       # length
           good[:2] + bytes([0]) + good[3:],        # detect mult 0
           good[:1] + bytes([0xc1]) + good[2:],     # multipoint
           good[:1] + bytes([0xc4]) + good[2:3] + bytes([26]) + good[4:] + bytes(2),  # auth
           good[:4] + bytes(4) + good[8:],          # my discriminator 0
           good[:8] + (12345).to_bytes(4, "big") + good[12:]]  # not our discriminator
    frames = [Ether(src=PEER_MAC[0], dst=FAB_MAC[0]) / IP(src=PEER_UL[0], dst=SW_UL, ttl=255) /
              UDP(sport=49999, dport=3784) / Raw(b) for b in bad]
    frames.append(Ether(src=PEER_MAC[0], dst=FAB_MAC[0]) / IP(src=PEER_UL[0], dst=SW_UL, ttl=254) /
                  UDP(sport=49999, dport=3784) / Raw(good))          # TTL
    frames += [Ether(src=PEER_MAC[0], dst=FAB_MAC[0]) / IP(src="198.51.100.9", dst=SW_UL, ttl=255) /
               UDP(sport=49999, dport=3784) / Raw(good)] * 3         # no session
    script = "import sys\nfrom scapy.all import Ether, sendp\n" \
             "for h in sys.argv[1:]:\n    sendp(Ether(bytes.fromhex(h)), iface='fab0', verbose=0)\n"
    n.pns[0].run(PYTHON, "-c", script, *[bytes(f).hex() for f in frames])
    wait_for(lambda: sessions(n)[PEER_UL[0]]["rx_discarded"] - x0["rx_discarded"] >= len(bad) + 1,
             timeout=3, interval=0.05, what="discards counted")
    x = sessions(n)[PEER_UL[0]]
    assert x["rx_discarded"] - x0["rx_discarded"] == len(bad) + 1
    assert x["state"] == "up" and x["down_transitions"] == 0, \
        (x, x0, n.peers[0].peers(), [f for f in n.rec[0].frames() if f[1] == "bfd"][-60:])
    disc = rpc_call(n.d, "stats.get", {"scope": "bfd"})["bfd"]["discards"]
    for reason in ("short", "bad_version", "bad_length", "zero_detect_mult", "multipoint",
                   "auth", "zero_my_discr", "bad_your_discr", "bad_ttl"):
        assert disc[reason] >= 1, (reason, disc)
    d1 = rpc_call(n.d, "stats.get", {"scope": "drops"})["drops"].get("bfd_no_session", 0)
    assert d1 - d0 == 3
