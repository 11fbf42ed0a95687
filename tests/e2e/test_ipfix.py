# SPDX-License-Identifier: BSD-3-Clause
"""IPFIX flow records (SPEC 5, docs/ipfix.md) into a real collector:
nfdump's nfcapd, in the switch's namespace, receives what sswitchd
exports; after ICMP, UDP and TCP across the overlay (IPv4 and IPv6),
`nfdump -r` lists every flow direction with the packets and bytes the
switch forwarded (counted independently on the receivers' interfaces;
octetDeltaCount is the tenant IP packet). nfdump 1.7 does not show the VNI
(IE 351) or flowEndReason (IE 136): nfcapd repeats every datagram (-R) to
a second UDP listener and the test decodes those itself."""
import glob
import os
import shutil
import signal
import socket
import struct
import time
import subprocess

import pytest

from scapy.all import ICMP, IP, IPv6, TCP, UDP, ICMPv6EchoReply, ICMPv6EchoRequest

from topo import Sniffer, ping, rpc_call, tcp_transfer, wait_for
from test_e2e_overlay import REMOTE4, REMOTE6, REMOTE_CA_MAC, VM4, VM6, VNI, overlay_net

PY = "/usr/bin/python3"
COLLECTOR_PORT = 4739
REPEAT_PORT = 4740

# a UDP listener printing each datagram as hex (the repeater's target)
LISTENER = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
print("ready", flush=True)
while True:
    d = s.recv(65535)
    print(d.hex(), flush=True)
"""

# a UDP echo server (the remote answers the VM's datagrams)
UDP_ECHO = r"""
import socket, sys
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
s.settimeout(10)
print("ready", flush=True)
for _ in range(int(sys.argv[3])):
    d, a = s.recvfrom(65535)
    s.sendto(d, a)
"""

UDP_SEND = r"""
import socket, sys, time
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", int(sys.argv[3])))
s.settimeout(2)
got = 0
for i in range(int(sys.argv[4])):
    s.sendto(b"u" * int(sys.argv[5]), (sys.argv[1], int(sys.argv[2])))
    if int(sys.argv[6]):
        try:
            s.recv(65535)
            got += 1
        except socket.timeout:
            pass
    time.sleep(0.02)
print(got, flush=True)
"""

PROTO = {"ICMP": 1, "TCP": 6, "UDP": 17, "ICMP6": 58, "IPV6-ICMP": 58}


def ns_popen(netns, *cmd, **kw):
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    kw.setdefault("text", True)
    return subprocess.Popen(["ip", "netns", "exec", netns] + list(cmd), **kw)


def decode_ipfix(msg, templates):
    """Data records of one IPFIX message (RFC 7011 section 3): a list of
    {IE: value}; addresses as bytes. Templates are learned in `templates`."""
    version, length, _, _, _ = struct.unpack("!HHIII", msg[:16])
    assert version == 10 and length == len(msg)
    out, off = [], 16
    while off < length:
        sid, slen = struct.unpack("!HH", msg[off:off + 4])
        p, end = off + 4, off + slen
        if sid == 2:
            while p < end:
                tid, n = struct.unpack("!HH", msg[p:p + 4])
                p += 4
                templates[tid] = [struct.unpack("!HH", msg[p + 4 * i:p + 4 * i + 4])
                                  for i in range(n)]
                p += 4 * n
        elif sid >= 256:
            t = templates[sid]
            size = sum(ln for _, ln in t)
            while p + size <= end:
                rec = {}
                for ie, ln in t:
                    v = msg[p:p + ln]
                    rec[ie] = v if ie in (8, 12, 27, 28) else int.from_bytes(v, "big")
                    p += ln
                out.append(rec)
        off = end
    return out


def ip_len(pkt):
    return pkt[IP].len if IP in pkt else 40 + pkt[IPv6].plen


def tuple_of(pkt):
    l3 = pkt[IP] if IP in pkt else pkt[IPv6]
    proto = l3.proto if IP in pkt else l3.nh
    sp = dp = 0
    if TCP in pkt or UDP in pkt:
        l4 = pkt[TCP] if TCP in pkt else pkt[UDP]
        sp, dp = l4.sport, l4.dport
    return (proto, l3.src, l3.dst, sp, dp)


def is_icmp_error(p):
    if IP in p and ICMP in p:
        return p[ICMP].type in (3, 4, 5, 11, 12)
    return IPv6 in p and p[IPv6].nh == 58 and bytes(p[IPv6].payload)[0] in (1, 2, 3, 4)


def expected(packets):
    """{(proto, src, dst, sport, dport): [packets, bytes]} of received
    frames (ports for TCP and UDP only). ICMP errors pass with the flow
    they quote but are no packets of it (SPEC 3.6), and neighbour
    discovery is the switch's own business."""
    flows = {}
    for p in packets:
        if (IP not in p and IPv6 not in p) or is_icmp_error(p):
            continue
        if IPv6 in p and p[IPv6].nh == 58 and ICMPv6EchoRequest not in p \
                and ICMPv6EchoReply not in p:
            continue
        k = tuple_of(p)
        f = flows.setdefault(k, [0, 0])
        f[0] += 1
        f[1] += ip_len(p)
    return flows


def nfdump_flows(directory):
    """{(proto, src, dst, sport, dport): [packets, bytes]} as nfdump lists them."""
    files = [f for f in glob.glob(os.path.join(directory, "**", "nfcapd.*"), recursive=True)
             if ".current." not in f]
    assert files, os.listdir(directory)
    flows = {}
    for f in files:
        r = subprocess.run(["nfdump", "-r", f, "-q", "-N", "-6", "-o",
                            "fmt:%pr|%sa|%da|%sp|%dp|%pkt|%byt"],
                           capture_output=True, text=True, timeout=30, check=True)
        for line in r.stdout.splitlines():
            cols = [c.strip() for c in line.split("|")]
            if len(cols) != 7:
                continue
            pr = int(cols[0]) if cols[0].isdigit() else PROTO[cols[0].upper()]
            sp = int(float(cols[3]))
            dp = int(float(cols[4])) if pr in (6, 17) else 0
            k = (pr, cols[1], cols[2], sp if pr in (6, 17) else 0, dp)
            v = flows.setdefault(k, [0, 0])
            v[0] += int(cols[5])
            v[1] += int(cols[6])
    return flows


@pytest.fixture
def collector(tmp_path):
    """nfcapd + a repeat listener, started in a namespace by start(netns)."""
    if shutil.which("nfcapd") is None or shutil.which("nfdump") is None:
        pytest.skip("nfdump's nfcapd is not installed (make deps installs nfdump)")
    state = {"procs": []}

    def start(netns):
        d = tmp_path / "nfcapd"
        d.mkdir()
        lst = ns_popen(netns, PY, "-c", LISTENER, str(REPEAT_PORT))
        state["procs"].append(lst)
        assert lst.stdout.readline().strip() == "ready"
        nf = ns_popen(netns, "nfcapd", "-w", str(d), "-b", "127.0.0.1", "-p",
                      str(COLLECTOR_PORT), "-t", "3600", "-R", "127.0.0.1/%d" % REPEAT_PORT)
        state["procs"].append(nf)
        # nfcapd is up when its socket is bound
        wait_for(lambda: str(COLLECTOR_PORT) in subprocess.run(
            ["ip", "netns", "exec", netns, "ss", "-uln"], capture_output=True,
            text=True).stdout, timeout=10, what="nfcapd to listen")
        state.update(dir=str(d), nfcapd=nf, listener=lst)
        return state

    yield start
    for p in state["procs"]:
        if p.poll() is None:
            p.kill()
        p.communicate()


def stop_collector(st):
    """nfcapd flushes and closes its file on SIGTERM; the repeated
    datagrams the listener printed (after a moment for the last ones to
    pass the repeater)."""
    time.sleep(1.0)
    st["nfcapd"].send_signal(signal.SIGTERM)
    st["nfcapd"].communicate(timeout=20)
    st["listener"].kill()
    out, _ = st["listener"].communicate()
    return [bytes.fromhex(line) for line in out.split() if line != "ready"]


def test_ipfix_into_nfcapd(make_topo, tmp_path, collector):
    n = overlay_net(make_topo, "ipv4", features=("overlay", "conntrack"))
    st = collector(n.d.netns)
    rpc_call(n.d, "txn", {"ops": [
        {"method": "flow.config", "params": {"max_flows": 65536, "idle_timeout_ms": 1000,
                                            "tcp_fin_timeout_ms": 300}},
        {"method": "ipfix.set", "params": {"collector": "127.0.0.1:%d" % COLLECTOR_PORT,
                                          "observation_domain": 42,
                                          "active_timeout_s": 60}}]})
    # neighbours known: no packet of the test waits for resolution
    n.vm.ip("neigh", "replace", REMOTE4, "lladdr", REMOTE_CA_MAC, "dev", "eth0", "nud", "permanent")
    n.vm.ip("neigh", "replace", REMOTE6, "lladdr", REMOTE_CA_MAC, "dev", "eth0", "nud", "permanent")
    # the receivers count what the switch forwarded: VM -> remote frames
    # arrive decapsulated on the remote's vx0, remote -> VM on the VM's eth0
    with Sniffer(n.remote, "vx0", tmp_path / "out.pcap", count=100000, timeout=12.0) as to_remote, \
            Sniffer(n.vm, "eth0", tmp_path / "in.pcap", count=100000, timeout=12.0) as to_vm:
        ping(n.vm, REMOTE4, count=3, size=100)
        ping(n.vm, REMOTE6, count=4, size=200)
        ping(n.remote, VM4, count=2, size=60)
        echo = ns_popen(n.remote.name, PY, "-c", UDP_ECHO, REMOTE6, "7000", "3")
        assert echo.stdout.readline().strip() == "ready"
        r = n.vm.run(PY, "-c", UDP_SEND, REMOTE6, "7000", "40001", "3", "300", "1")
        assert r.stdout.strip() == "3", r.stdout + r.stderr
        echo.communicate(timeout=10)
        # UDP one way: no answer, one record only
        r = n.vm.run(PY, "-c", UDP_SEND, REMOTE4, "7001", "40002", "5", "150", "0")
        client, server = tcp_transfer(n.remote, n.vm, REMOTE4, size=40000, seed=7, port=5401)
        assert client["ok"] and server["ok"], (client, server)
        client, server = tcp_transfer(n.vm, n.remote, VM6, size=30000, seed=8, port=5402)
        assert client["ok"] and server["ok"], (client, server)
    want = expected(to_remote.packets)
    want.update(expected(to_vm.packets))
    assert len(want) >= 10, want
    # every flow ends (idle 1 s, FIN + 0.3 s) and is exported
    def exported():
        c = rpc_call(n.d, "ipfix.get")["counters"]
        return c["ring_pending"] == 0 and rpc_call(n.d, "flow.list", {"limit": 10})["count"] == 0
    wait_for(exported, timeout=15, what="every flow to end and be exported")
    counters = rpc_call(n.d, "ipfix.get")["counters"]
    assert counters["ipfix_records_dropped"] == 0 and counters["send_errors"] == 0, counters
    datagrams = stop_collector(st)
    got = nfdump_flows(st["dir"])
    # every flow direction the receivers saw, with exactly what they saw
    # (ICMP: the echo requests and replies of one direction together)
    wrong = {k: (v, got.get(k)) for k, v in want.items() if got.get(k) != v}
    # and nothing else but the VM's own link-local multicast (MLD reports)
    extra = {k: v for k, v in got.items() if k not in want and not k[2].startswith("ff02:")}
    assert not extra, "flows nobody received: %s" % extra
    if wrong:
        templates = {}
        records = [r for d in datagrams for r in decode_ipfix(d, templates)
                   if r[4] in {k[0] for k in wrong}]
        flows = rpc_call(n.d, "stats.get", {"scope": "flows"})
        pytest.fail("flows not as forwarded (want, nfdump): %s\nnfdump: %s\nrecords: %s\n"
                    "flows: %s\nexporter: %s" % (wrong, got, records, flows, counters))

    # the datagrams nfcapd received: domain, sequence numbers, VNI, reasons
    templates, records, seq = {}, [], None
    for d in datagrams:
        assert struct.unpack("!I", d[12:16])[0] == 42
        s = struct.unpack("!I", d[8:12])[0]
        recs = decode_ipfix(d, templates)
        if recs:
            assert seq is None or s == seq, "sequence numbers count the data records"
            seq = s + len(recs)
        records += recs
    assert {256, 257} <= set(templates)
    assert all(r[351] == VNI for r in records), {r[351] for r in records}
    by_proto = {}
    for r in records:
        by_proto.setdefault(r[4], set()).add(r[136])
    assert by_proto[6] == {3}, by_proto       # TCP: end of flow detected (FIN)
    assert by_proto[17] == {1}, by_proto      # UDP: idle timeout
    assert 1 in by_proto and by_proto[58] == {1}, by_proto
    # flowDirection: 0 leaving the VM, 1 toward it
    vm_addrs = (socket.inet_pton(socket.AF_INET, VM4), socket.inet_pton(socket.AF_INET6, VM6))
    for r in records:
        dst = r[12] if 12 in r else r[28]
        assert r[61] == (1 if dst in vm_addrs else 0), r
        assert r[152] <= r[153], r


def test_ipfix_active_timeout_deltas(make_topo, tmp_path, collector):
    """A flow longer than active_timeout_s is reported every
    active_timeout_s with the packets since its previous record (reason 2,
    active timeout), then at its end (idle); the deltas add up to what the
    VM sent."""
    n = overlay_net(make_topo, "ipv4", features=("overlay", "conntrack"))
    st = collector(n.d.netns)
    rpc_call(n.d, "txn", {"ops": [
        {"method": "flow.config", "params": {"max_flows": 65536, "idle_timeout_ms": 1000,
                                            "tcp_fin_timeout_ms": 300}},
        {"method": "ipfix.set", "params": {"collector": "127.0.0.1:%d" % COLLECTOR_PORT,
                                          "active_timeout_s": 1}}]})
    sent = 40   # one datagram every 0.1 s: ~4 s
    script = UDP_SEND.replace("time.sleep(0.02)", "time.sleep(0.1)")
    n.vm.run(PY, "-c", script, REMOTE4, "7100", "40100", str(sent), "64", "0", timeout=30)
    # ended: removed from the table by the sweep, which makes its record
    # (flow.list stops listing a flow as soon as it is idle, before that),
    # and exported
    wait_for(lambda: rpc_call(n.d, "stats.get", {"scope": "flows"})["flows"]["count"] == 0 and
             rpc_call(n.d, "ipfix.get")["counters"]["ring_pending"] == 0, timeout=10,
             what="the flow to end")
    # a flow whose ENI is deleted: forced end, and still the ENI's VNI
    n.vm.run(PY, "-c", UDP_SEND, REMOTE4, "7200", "40200", "3", "64", "0", timeout=30)
    assert rpc_call(n.d, "flow.list", {"limit": 10})["count"] == 1
    rpc_call(n.d, "eni.delete", {"name": "vm1"})
    wait_for(lambda: rpc_call(n.d, "ipfix.get")["counters"]["flow_records"] >= 1 and
             rpc_call(n.d, "ipfix.get")["counters"]["ring_pending"] == 0, timeout=10,
             what="the deleted ENI's flow to be reported")
    datagrams = stop_collector(st)
    templates, recs, gone = {}, [], []
    for d in datagrams:
        for r in decode_ipfix(d, templates):
            if r[4] == 17 and r[7] == 40100:
                recs.append(r)
            if r[4] == 17 and r[7] == 40200:
                gone.append(r)
    assert [(r[2], r[136], r[351]) for r in gone] == [(3, 4, VNI)], gone
    reasons = [r[136] for r in recs]
    # the end record carries what came after the last active-timeout one
    # (none when that one took the last packet)
    assert reasons.count(2) >= 2 and set(reasons[:-1]) == {2} and reasons[-1] in (1, 2), reasons
    assert sum(r[2] for r in recs) == sent, [r[2] for r in recs]
    assert sum(r[1] for r in recs) == sent * (20 + 8 + 64)
    # consecutive records cover consecutive intervals
    for a, b in zip(recs, recs[1:]):
        assert a[153] <= b[153] and a[152] <= b[152], (a, b)
