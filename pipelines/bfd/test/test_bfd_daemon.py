"""BFD through the real daemon on pcap ports (docs/bfd.md, SPEC 3.10).

fabric0 receives, once: a Down packet from the configured peer (the session
goes Init and answers it), malformed packets from that peer (discarded and
counted, never forwarded), BFD from an address without a session (dropped
bfd_no_session); host0 receives VM traffic whose underlay route has only
BFD-coupled next hops, all down (dropped underlay_nh_down). The control
API: bfd.add validation, bfd.list / bfd.get / bfd.set / bfd.delete, the
`bfd` stats scope, Prometheus, health findings, state.get, sswitchctl.
"""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(REPO, "tests", "lib"))

import pytest  # noqa: E402
from scapy.all import ARP, IP, UDP, Ether, IPv6, Raw  # noqa: E402

from sswitch import Daemon, Port, RpcError, build_dir  # noqa: E402

FAB_MAC = "02:00:00:00:0f:01"
PEER_MAC = "02:00:00:00:0f:02"
VM_MAC = "02:00:00:00:01:10"
SW_UL, PEER, PEER2, STRANGER = "198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.9"
PEER_DISCR = 0x51510001


def bfd(state=1, your=0, my=PEER_DISCR, mult=3, length=24, flags=0, version=1, extra=b"",
        tx=10000000):
    """A control packet; the peer's DesiredMinTx of 10 s keeps the session
    from timing out while the test reads it (detection time 30 s)."""
    return bytes([version << 5, state << 6 | flags, mult, length]) + my.to_bytes(4, "big") + \
        your.to_bytes(4, "big") + tx.to_bytes(4, "big") + (300000).to_bytes(4, "big") + \
        bytes(4) + extra


def frame(payload, src=PEER, ttl=255, sport=49300, dport=3784):
    return Ether(src=PEER_MAC, dst=FAB_MAC) / IP(src=src, dst=SW_UL, ttl=ttl) / \
        UDP(sport=sport, dport=dport) / Raw(payload)


MALFORMED = [bfd()[:20], bfd(version=0), bfd(length=23), bfd(mult=0), bfd(flags=1),
             bfd(my=0), bfd(state=3, your=0), bfd(flags=4, length=26, extra=bytes(2)),
             bfd(flags=0x30)]
FABRIC_RX = [frame(bfd())] + [frame(b) for b in MALFORMED] + \
    [frame(bfd(), ttl=64), frame(bfd(), sport=3000)] + [frame(bfd(), src=STRANGER)] * 2
# multihop (RFC 5883): UDP 4784, any TTL; an IPv6 single-hop peer; a peer
# whose MAC comes from its ARP reply
MH_PEER, PEER6, ARP_PEER, UNRESOLVED = "203.0.113.77", "2001:db8:f::2", "198.51.100.5", \
    "198.51.100.6"
ARP_MAC = "02:00:00:00:0f:05"
FABRIC_RX += [
    frame(bfd(), src=MH_PEER, ttl=250, dport=4784),
    Ether(src=PEER_MAC, dst=FAB_MAC) / IPv6(src=PEER6, dst="2001:db8:f::1", hlim=255) /
    UDP(sport=49300, dport=3784) / Raw(bfd()),
    Ether(src=ARP_MAC, dst=FAB_MAC) / ARP(op=2, hwsrc=ARP_MAC, psrc=ARP_PEER, hwdst=FAB_MAC,
                                          pdst=SW_UL),
]


def vm_frames(n=20):
    return [Ether(src=VM_MAC, dst="02:00:00:00:00:fe") / IP(src="10.0.0.2", dst="10.0.0.5") /
            UDP(sport=1000 + i, dport=7) / Raw(b"x" * 20) for i in range(n)]


def op(method, **params):
    return {"method": method, "params": params}


BOOT = [
    op("switch.set", underlay_ip=SW_UL, underlay_ip6="2001:db8:f::1", mac="02:00:00:00:00:fe"),
    op("bfd.add", peer="203.0.113.77", port="fabric0", mac=PEER_MAC, multihop=True),
    op("bfd.add", peer="2001:db8:f::2", port="fabric0", mac=PEER_MAC),
    op("bfd.add", peer="198.51.100.5", port="fabric0"),
    op("bfd.add", peer="198.51.100.6", port="fabric0"),
    op("bfd.add", peer=PEER, port="fabric0", mac=PEER_MAC),
    op("bfd.add", peer=PEER2, port="fabric0", mac=PEER_MAC, tx_interval_ms=500,
       rx_interval_ms=400, detect_mult=5),
    op("vnet.add", name="v1", vni=100),
    op("route.add", group="rg", prefix="10.0.0.0/24", action="vnet"),
    op("mapping.add", vnet="v1", ip="10.0.0.5", underlay_ip="203.0.113.5", mac="02:00:00:00:02:05"),
    op("underlay_route.add", prefix="203.0.113.0/24", next_hops=[
        {"port": "fabric0", "mac": PEER_MAC, "bfd": PEER},
        {"port": "fabric0", "mac": PEER_MAC, "bfd": PEER2}]),
    op("eni.add", name="e1", mac=VM_MAC, vnet="v1", port="host0", route_group="rg"),
]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bfd")
    prom = free_port()
    d = Daemon(tmp, [Port("host0", "host", rx=vm_frames()),
                     Port("fabric0", "fabric", rx=FABRIC_RX, mac=FAB_MAC)], bootstrap=BOOT,
               extra_conf='telemetry = { prometheus = "127.0.0.1:%d"; };' % prom)
    d.start()
    r = {}
    try:
        d.wait_rx(len(FABRIC_RX) + 20)
        time.sleep(0.3)   # the control thread's turn: punted frames, a first answer
        c = d.rpc()
        try:
            r["list"] = c.call("bfd.list")
            r["stats"] = c.call("stats.get", {"scope": "all"})
            r["health"] = c.call("health.get")
            r["state"] = c.call("state.get")
            r["graph"] = c.call("pipeline.graph")["dot"]
            r["errors"] = {}
            for name, params in (
                    ("host_port", {"peer": "192.0.2.7", "port": "host0"}),
                    ("no_port", {"peer": "192.0.2.7", "port": "nope"}),
                    ("family", {"peer": "192.0.2.7", "port": "fabric0", "local_ip": "2001:db8::1"}),
                    ("interval", {"peer": "192.0.2.7", "port": "fabric0", "tx_interval_ms": 5}),
                    ("mult", {"peer": "192.0.2.7", "port": "fabric0", "detect_mult": 0})):
                try:
                    c.call("bfd.add", params)
                    r["errors"][name] = None
                except RpcError as e:
                    r["errors"][name] = e
            c.call("bfd.set", {"peer": PEER2, "tx_interval_ms": 200})
            r["get2"] = sessions(c.call("bfd.list"))[PEER2]
            r["ctl"] = subprocess.run(
                [os.path.join(build_dir(), "control", "sswitchctl", "sswitchctl"), "-s",
                 d.sock_path, "--json", "bfd", "list"], capture_output=True, text=True, timeout=20)
            r["metrics"] = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % prom,
                                                  timeout=10).read().decode()
            c.call("bfd.delete", {"peer": PEER2})
            r["health2"] = c.call("health.get")
            r["list2"] = c.call("bfd.list")
        finally:
            c.close()
    finally:
        d.stop()
    r["out"] = d.output("fabric0")
    return r


def sessions(lst):
    return {s["peer"]: s for s in lst["sessions"]}


def test_list_shape_and_reception(run):
    s = sessions(run["list"])[PEER]
    for k in ("peer", "port", "state", "local_diag", "remote_diag", "local_discr", "remote_discr",
              "tx_interval_ms", "rx_interval_ms", "detect_mult", "up_transitions",
              "down_transitions", "last_change_ms_ago", "tx_packets", "rx_packets",
              "rx_discarded"):
        assert k in s, k
    # the Down packet took the session to Init (RFC 5880 6.8.6)
    assert s["state"] == "init" and s["remote_discr"] == PEER_DISCR
    assert s["remote_state"] == "down" and s["up_transitions"] == 0
    # every malformed one, the TTL 64 and the low source port: discarded
    assert s["rx_discarded"] == len(MALFORMED) + 2
    assert s["rx_packets"] == 1 + len(MALFORMED) + 2
    assert (s["tx_interval_ms"], s["rx_interval_ms"], s["detect_mult"]) == (300, 300, 3)
    disc = run["stats"]["bfd"]["discards"]
    for reason in ("short", "bad_version", "bad_length", "zero_detect_mult", "multipoint",
                   "zero_my_discr", "bad_your_discr", "auth", "poll_and_final", "bad_ttl",
                   "bad_udp"):
        assert disc[reason] >= 1, (reason, disc)
    assert run["stats"]["drops"]["bfd_no_session"] == 2
    # the punted frames were not counted as drops of any other reason
    assert not run["stats"]["drops"].get("not_vxlan")


def test_multihop_ipv6_and_resolution(run):
    s = sessions(run["list"])
    assert s[MH_PEER]["state"] == "init" and s[MH_PEER]["rx_discarded"] == 0
    assert s[PEER6]["state"] == "init" and s[PEER6]["remote_discr"] == PEER_DISCR
    assert s[ARP_PEER]["peer_mac"] == ARP_MAC
    assert s[UNRESOLVED]["peer_mac"] is None
    # the unresolved peer is asked for (RFC 826 request from the switch)
    asks = [p for p in run["out"] if ARP in p and p[ARP].op == 1 and p[ARP].pdst == UNRESOLVED]
    assert asks and asks[0][ARP].psrc == SW_UL and asks[0][Ether].dst == "ff:ff:ff:ff:ff:ff"
    mh = [p for p in run["out"] if UDP in p and p[UDP].dport == 4784]
    assert mh and mh[0][IP].dst == MH_PEER
    v6 = [p for p in run["out"] if IPv6 in p and UDP in p and p[UDP].dport == 3784]
    assert v6 and v6[0][IPv6].hlim == 255 and v6[0][IPv6].src == "2001:db8:f::1"


def test_transmitted_frames(run):
    """What the switch sent: BFD from its underlay IP, TTL 255, UDP from
    49152-65535 to 3784, to the configured MAC; the answer to the peer's
    Down carries Init and the peer's discriminator; nothing it received was
    forwarded."""
    ours = [p for p in run["out"] if IP in p and UDP in p and p[UDP].dport == 3784]
    assert ours
    for p in ours:
        assert p[Ether].src == FAB_MAC and p[Ether].dst in (PEER_MAC, ARP_MAC)
        assert p[IP].src == SW_UL and p[IP].dst in (PEER, PEER2, ARP_PEER) and p[IP].ttl == 255
        assert 49152 <= p[UDP].sport <= 65535
        b = bytes(p[UDP].payload)
        assert len(b) == 24 and b[0] >> 5 == 1 and b[3] == 24
    to_peer = [bytes(p[UDP].payload) for p in ours if p[IP].dst == PEER]
    assert any(b[1] >> 6 == 2 and int.from_bytes(b[8:12], "big") == PEER_DISCR for b in to_peer)
    # while not Up: DesiredMinTx at least one second (RFC 5880 6.8.3)
    assert all(int.from_bytes(b[12:16], "big") >= 1000000 for b in to_peer)
    # nothing received on fabric0 went out again
    assert not [p for p in run["out"] if IP in p and UDP in p and p[IP].src in (PEER, STRANGER)]


def test_withdrawn_next_hops_drop(run):
    st = run["stats"]
    assert st["drops"]["underlay_nh_down"] == 20
    kinds = {(f["finding"], f["object"]) for f in run["health"]["findings"]}
    assert ("bfd_down", PEER) in kinds and ("bfd_down", PEER2) in kinds
    assert any("peer MAC not resolved" in f["message"] for f in run["health"]["findings"])
    assert ("next_hop_withdrawn", "underlay_route 203.0.113.0/24") in kinds
    # after bfd.delete: the next hop names a peer without a session
    msgs = [f["message"] for f in run["health2"]["findings"] if f["finding"] == "next_hop_withdrawn"]
    assert any("has no session" in m for m in msgs), msgs
    assert set(sessions(run["list2"])) == {PEER, MH_PEER, PEER6, ARP_PEER, UNRESOLVED}


def test_api(run):
    e = run["errors"]
    assert e["host_port"].code == -32602 and e["host_port"].data["field"] == "port"
    assert e["no_port"].code == 1001 and e["no_port"].data["field"] == "port"
    assert e["family"].code == -32602 and e["family"].data["field"] == "local_ip"
    assert e["interval"].code == -32602 and e["interval"].data["field"] == "tx_interval_ms"
    assert e["mult"].code == -32602 and e["mult"].data["field"] == "detect_mult"
    g = run["get2"]
    assert (g["tx_interval_ms"], g["rx_interval_ms"], g["detect_mult"]) == (200, 400, 5)
    def added(method):
        return [e for o in run["state"]["ops"] if o["method"] == method
                for e in o["params"].get("entries", [o["params"]])]
    assert {"peer": PEER, "port": "fabric0", "mac": PEER_MAC, "tx_interval_ms": 300,
            "rx_interval_ms": 300, "detect_mult": 3, "multihop": False} in added("bfd.add")
    ur = added("underlay_route.add")[0]
    assert [h["bfd"] for h in ur["next_hops"]] == [PEER, PEER2]
    assert "bfd_punt" in run["graph"] and "src_bfd_tx" in run["graph"]
    assert run["ctl"].returncode == 0, run["ctl"].stderr
    listed = json.loads(run["ctl"].stdout)
    assert {s["peer"] for s in listed["sessions"]} == {PEER, PEER2, MH_PEER, PEER6, ARP_PEER,
                                                     UNRESOLVED}
    m = run["metrics"]
    assert 'sswitch_bfd_session_up{peer="%s"} 0' % PEER in m, \
        [line for line in m.splitlines() if "bfd" in line][:20]
