"""RDMA (RoCEv2) steering, SPEC 3.7: pcap in -> sswitchd -> pcap out.

One daemon run carries every vector: GPU-side packets enter on host0,
storage-side packets on stor0 (a storage port: 2 tx queues for 1 worker,
queue 1 is the lossless lane). Each vector is identified by a unique PSN;
the expected output (port, queue, fields) or drop reason is checked field
by field, and every byte the switch may not touch (IP addresses, UDP
header, BTH, payload, ICRC) is compared with the input. The ICRC of every
output is recomputed here (IBA Annex A17.3.3) and must equal the trailing
4 bytes.
"""
import os
import re
import struct
import zlib

import pytest
from scapy.all import Ether, Dot1Q, IP, IPv6, UDP, Raw
from scapy.contrib.roce import BTH, AETH

from sswitch import Daemon, Port, REPO

HOST_MAC = "02:00:00:00:00:01"
HOST1_MAC = "02:00:00:00:00:02"
STOR_MAC = "02:00:00:00:00:51"
GPU_MAC = "02:00:00:00:0a:01"
NH_STOR = "02:00:00:00:99:01"
NH_QP = "02:00:00:00:99:02"
NH_SRC = "02:00:00:00:99:03"
NH_V6 = "02:00:00:00:99:04"
NH_NOLANE = "02:00:00:00:99:05"
NH_BACK = "02:00:00:00:99:06"

GPU = "192.168.1.10"
GPU9 = "192.168.9.5"
TARGET = "10.50.0.5"
GPU6 = "fd00:1::10"
TARGET6 = "2001:db8:50::5"

RETH = b"\x00" * 16  # virtual address, rkey, length: opaque to the switch


def policy(name, prio, match, port, nh, **action):
    a = {"port": port, "next_hop_mac": nh}
    a.update(action)
    return {"method": "rdma.policy.add",
            "params": {"name": name, "priority": prio, "match": match, "action": a}}


POLICIES = [
    policy("p-stor", 100, {"dst_prefix": "10.50.0.0/16"}, "stor0", NH_STOR, queue="lossless"),
    policy("p-stor-qp", 10, {"dst_prefix": "10.50.0.0/16", "dst_qp": 0x777}, "stor0", NH_QP,
           queue="lossless", dscp=40, pcp=6),
    policy("p-src", 20, {"dst_prefix": "10.50.0.0/16", "src_prefix": "192.168.9.0/24"},
           "stor0", NH_SRC, queue="default", dscp=30),
    policy("p-v6", 100, {"dst_prefix": "2001:db8:50::/48"}, "stor0", NH_V6, queue="lossless"),
    policy("p-nolane", 100, {"dst_prefix": "10.60.0.0/16"}, "host1", NH_NOLANE, queue="lossless"),
    policy("p-back", 100, {"dst_prefix": "192.168.0.0/16"}, "host0", NH_BACK, queue="lossless"),
]


# ---- RoCEv2 helpers --------------------------------------------------------

def icrc(frame):
    """The RoCEv2 invariant CRC of an Ethernet frame (IPv4 or IPv6): CRC32
    over 8 bytes of 1s (the LRH stand-in), the IP header with the variant
    fields set to 1s, the UDP header with its checksum set to 1s, the BTH
    with its FECN/BECN/reserved byte set to 1s, and the payload, without
    the ICRC itself. Little-endian on the wire, as scapy writes it."""
    p = Ether(frame)
    l3 = p[IP] if IP in p else p[IPv6]
    raw = bytearray(bytes(l3))
    if IP in p:
        ihl = (raw[0] & 0x0F) * 4
        raw[1] = 0xFF          # TOS
        raw[8] = 0xFF          # TTL
        raw[10:12] = b"\xff\xff"
        udp = ihl
    else:
        raw[0] = 0x6F          # traffic class and flow label
        raw[1:4] = b"\xff\xff\xff"
        raw[7] = 0xFF          # hop limit
        udp = 40
    raw[udp + 6:udp + 8] = b"\xff\xff"   # UDP checksum
    raw[udp + 8 + 4] = 0xFF               # BTH: FECN, BECN, resv6
    data = b"\xff" * 8 + bytes(raw[:-4])
    return struct.pack("<I", zlib.crc32(data) & 0xFFFFFFFF)


def roce4(src, dst, opcode, psn, dqpn=0x100, payload=b"", aeth=None, tos=0x02, ttl=64,
          smac=GPU_MAC, dmac=HOST_MAC, vlan=None, sport=49152):
    ip = IP(src=src, dst=dst, tos=tos, ttl=ttl, id=psn & 0xFFFF)
    l2 = Ether(src=smac, dst=dmac)
    if vlan is not None:
        l2 = l2 / Dot1Q(vlan=vlan, prio=0)
    bth = BTH(opcode=opcode, dqpn=dqpn, psn=psn, ackreq=1)
    pkt = l2 / ip / UDP(sport=sport, dport=4791, chksum=0) / bth
    if aeth is not None:
        pkt = pkt / AETH(syndrome=aeth, msn=psn)
    if payload:
        pkt = pkt / Raw(payload)
    return Ether(bytes(pkt))


def roce6(src, dst, opcode, psn, dqpn=0x100, payload=b"", tc=0x02, hlim=64, smac=GPU_MAC,
          dmac=HOST_MAC):
    """scapy computes the ICRC for IPv4 only: IPv6 frames get it here."""
    pkt = (Ether(src=smac, dst=dmac) / IPv6(src=src, dst=dst, tc=tc, hlim=hlim, fl=0x12345)
           / UDP(sport=49153, dport=4791)
           / BTH(opcode=opcode, dqpn=dqpn, psn=psn, ackreq=1, icrc=0) / Raw(payload))
    # the ICRC masks the UDP checksum, which covers the ICRC: ICRC first
    pkt[BTH].icrc = struct.unpack("!I", icrc(bytes(pkt)))[0]
    return Ether(bytes(pkt))


def layers(frame):
    """(l3 offset, is_v4) of an Ethernet frame, tags skipped."""
    off = 12
    et = struct.unpack("!H", frame[off:off + 2])[0]
    while et in (0x8100, 0x88A8):
        off += 4
        et = struct.unpack("!H", frame[off:off + 2])[0]
    return off + 2, et == 0x0800


# ---- the vectors -----------------------------------------------------------

W, R, RR, ACK, CNP, SEND = 0x0A, 0x0C, 0x10, 0x11, 0x81, 0x04


def vectors():
    """(description, input port, packet, expected): expected is a dict with
    port, queue, dmac, smac, dscp, ecn, ttl, pcp (None: untagged), policy;
    or {"drop": reason}; or {"tenant": True} (left on the tenant path)."""
    v = []

    def out(port, queue, dmac, smac, dscp, policy, pcp=None):
        return {"port": port, "queue": queue, "dmac": dmac, "smac": smac, "dscp": dscp,
                "policy": policy, "pcp": pcp}

    stor = lambda dscp=26, pol="p-stor": out("stor0", 1, NH_STOR, STOR_MAC, dscp, pol)  # noqa: E731
    for ecn, name in ((0, "Not-ECT"), (1, "ECT(1)"), (2, "ECT(0)"), (3, "CE")):
        v.append(("WRITE ONLY %s: lossless lane, DSCP 26, ECN kept" % name, "host0",
                  roce4(GPU, TARGET, W, 1000 + ecn, payload=RETH + b"w" * 64, tos=0x20 | ecn),
                  dict(stor(), ecn=ecn, ttl=63)))
    v.append(("READ request", "host0",
              roce4(GPU, TARGET, R, 1010, payload=RETH), dict(stor(), ecn=2, ttl=63)))
    v.append(("SEND ONLY, TTL 2 is still forwarded", "host0",
              roce4(GPU, TARGET, SEND, 1011, payload=b"s" * 40, ttl=2),
              dict(stor(), ecn=2, ttl=1)))
    v.append(("destination QP policy wins by priority (10 < 100); PCP set on the tag",
              "host0", roce4(GPU, TARGET, W, 1020, dqpn=0x777, payload=RETH + b"q" * 8,
                             vlan=100, tos=0x03),
              dict(out("stor0", 1, NH_QP, STOR_MAC, 40, "p-stor-qp", pcp=6), ecn=3, ttl=63)))
    v.append(("source prefix policy: default queue, DSCP 30", "host0",
              roce4(GPU9, TARGET, W, 1030, payload=RETH + b"x" * 8),
              dict(out("stor0", 0, NH_SRC, STOR_MAC, 30, "p-src"), ecn=2, ttl=63)))
    v.append(("source prefix and QP: the QP policy's priority 10 beats 20", "host0",
              roce4(GPU9, TARGET, W, 1031, dqpn=0x777, payload=RETH + b"y" * 8),
              dict(out("stor0", 1, NH_QP, STOR_MAC, 40, "p-stor-qp"), ecn=2, ttl=63)))
    v.append(("CNP gets the CNP DSCP 48 whatever the policy says", "host0",
              roce4(GPU, TARGET, CNP, 1040, dqpn=0x777, payload=b"\x00" * 16, tos=0x03),
              dict(out("stor0", 1, NH_QP, STOR_MAC, 48, "p-stor-qp"), ecn=3, ttl=63)))
    v.append(("IPv6 WRITE: hop limit - 1, traffic class DSCP 26, ECN kept", "host0",
              roce6(GPU6, TARGET6, W, 1050, payload=RETH + b"6" * 32, tc=0x41),
              dict(out("stor0", 1, NH_V6, STOR_MAC, 26, "p-v6"), ecn=1, ttl=63)))
    v.append(("IPv6 CE kept", "host0",
              roce6(GPU6, TARGET6, W, 1051, payload=RETH, tc=0x03),
              dict(out("stor0", 1, NH_V6, STOR_MAC, 26, "p-v6"), ecn=3, ttl=63)))
    v.append(("lossless asked toward a port without a lane: default queue", "host0",
              roce4(GPU, "10.60.1.1", W, 1060, payload=RETH),
              dict(out("host1", 0, NH_NOLANE, HOST1_MAC, 26, "p-nolane"), ecn=2, ttl=63)))
    v.append(("TTL 1: ttl_exceeded", "host0", roce4(GPU, TARGET, W, 1070, ttl=1, payload=RETH),
              {"drop": "ttl_exceeded"}))
    v.append(("IPv6 hop limit 1: ttl_exceeded", "host0",
              roce6(GPU6, TARGET6, W, 1071, hlim=1, payload=RETH), {"drop": "ttl_exceeded"}))
    v.append(("no policy: left on the tenant path", "host0",
              roce4(GPU, "10.99.0.1", W, 1080, payload=RETH), {"tenant": True}))
    # storage side: replies to the GPU, addressed to the storage port's MAC
    back = lambda dscp=26: out("host0", 0, NH_BACK, HOST_MAC, dscp, "p-back")  # noqa: E731
    s = dict(smac="02:00:00:00:0b:01", dmac=STOR_MAC)
    v.append(("READ RESPONSE ONLY back to the GPU", "stor0",
              roce4(TARGET, GPU, RR, 1090, aeth=0x1F, payload=b"r" * 64, **s),
              dict(back(), ecn=2, ttl=63)))
    v.append(("ACK", "stor0", roce4(TARGET, GPU, ACK, 1091, aeth=0x1F, **s),
              dict(back(), ecn=2, ttl=63)))
    v.append(("NAK (PSN sequence error)", "stor0", roce4(TARGET, GPU, ACK, 1092, aeth=0x60, **s),
              dict(back(), ecn=2, ttl=63)))
    v.append(("CNP from the storage side", "stor0",
              roce4(TARGET, GPU, CNP, 1093, payload=b"\x00" * 16, tos=0x02, **s),
              dict(back(48), ecn=2, ttl=63)))
    v.append(("storage side, no policy: no pipeline for storage ports", "stor0",
              roce4(TARGET, "172.16.0.1", W, 1094, payload=RETH, **s), {"tenant": True}))
    return v


def telemetry_packets():
    """QP 0x500 from the GPU: PSNs 100 101 102 105 106 103 (a forward jump
    and a step back: 2 gaps), 2 of them CE-marked; from storage to the GPU
    on QP 0x600: 2 NAKs, 1 ACK, 3 CNPs."""
    pk = [roce4(GPU, "10.50.7.7", W, psn, dqpn=0x500, payload=RETH + b"t" * 16,
                tos=0x03 if psn in (101, 105) else 0x02)
          for psn in (100, 101, 102, 105, 106, 103)]
    s = dict(smac="02:00:00:00:0b:01", dmac=STOR_MAC, dqpn=0x600)
    st = [roce4("10.50.7.7", GPU, ACK, 7, aeth=0x60, **s),
          roce4("10.50.7.7", GPU, ACK, 7, aeth=0x61, **s),
          roce4("10.50.7.7", GPU, ACK, 8, aeth=0x00, **s)]
    st += [roce4("10.50.7.7", GPU, CNP, 0, payload=b"\x00" * 16, **s) for _ in range(3)]
    return pk, st


def psn_of(frame):
    off, v4 = layers(frame)
    udp = off + ((frame[off] & 0x0F) * 4 if v4 else 40)
    return struct.unpack("!I", b"\x00" + frame[udp + 8 + 9:udp + 8 + 12])[0], udp


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    vec = vectors()
    tele_host, tele_stor = telemetry_packets()
    host_in = [p for _, port, p, _ in vec if port == "host0"] + tele_host
    stor_in = [p for _, port, p, _ in vec if port == "stor0"] + tele_stor
    d = Daemon(tmp_path_factory.mktemp("rdma"),
               [Port("host0", "host", rx=host_in, mac=HOST_MAC),
                Port("stor0", "storage", rx=stor_in, mac=STOR_MAC),
                Port("host1", "host", mac=HOST1_MAC)],
               bootstrap=POLICIES)
    d.start()
    try:
        d.wait_rx(len(host_in) + len(stor_in))
        rpc = d.rpc()
        res = {
            "policies": rpc.call("rdma.policy.list")["policies"],
            "qps": rpc.call("rdma.qp.list")["qps"],
            "qps_limited": rpc.call("rdma.qp.list", {"limit": 2})["qps"],
            "stats": rpc.call("stats.get", {"scope": "rdma"}),
            "graph": rpc.call("pipeline.graph")["dot"],
        }
        rpc.close()
    finally:
        d.stop()
    outs = {}
    for port, nq in (("host0", 1), ("stor0", 2), ("host1", 1)):
        for q in range(nq):
            for p in d.output(port, q):
                b = bytes(p)
                outs.setdefault(psn_of(b)[0], []).append((port, q, b))
    return {"d": d, "vec": vec, "outs": outs, "tele": (tele_host, tele_stor), **res}


def tenant_edge(dot):
    """The node rdma_steer hands unmatched host packets to, if any."""
    edges = re.findall(r'"?rdma_steer"?\s*->\s*"?([A-Za-z0-9_]+)"?', dot)
    return [e for e in edges if e not in ("drop", "port_tx")]


# ---- checks ----------------------------------------------------------------

@pytest.mark.parametrize("i", range(len(vectors())), ids=[v[0] for v in vectors()])
def test_vector(run, i):
    desc, _, pkt, want = run["vec"][i]
    inb = bytes(pkt)
    psn, udp_in = psn_of(inb)
    got = run["outs"].get(psn, [])
    if "drop" in want or "tenant" in want:
        assert got == [], "%s: must not be transmitted" % desc
        return
    assert len(got) == 1, "%s: %d copies out" % (desc, len(got))
    port, q, outb = got[0]
    assert (port, q) == (want["port"], want["queue"]), desc
    o = Ether(outb)
    assert o.dst == want["dmac"] and o.src == want["smac"], desc
    if want["pcp"] is None:
        assert Dot1Q not in o or o[Dot1Q].prio == Ether(inb)[Dot1Q].prio
    else:
        assert o[Dot1Q].prio == want["pcp"] and o[Dot1Q].vlan == Ether(inb)[Dot1Q].vlan
    l3_in, v4 = layers(inb)
    l3_out, _ = layers(outb)
    assert l3_in == l3_out, "the L2 header keeps its length"
    if v4:
        assert o[IP].tos >> 2 == want["dscp"], desc
        assert o[IP].tos & 3 == want["ecn"], "%s: ECN" % desc
        assert o[IP].ttl == want["ttl"], desc
        # header checksum valid: what scapy recomputes is what we sent
        c = o[IP].copy()
        del c.chksum
        assert IP(bytes(c))[IP].chksum == o[IP].chksum, "%s: IPv4 checksum" % desc
        # addresses, id, flags, protocol: byte-identical
        assert outb[l3_out + 2:l3_out + 8] == inb[l3_in + 2:l3_in + 8]
        assert outb[l3_out + 9] == inb[l3_in + 9]
        assert outb[l3_out + 12:l3_out + 20] == inb[l3_in + 12:l3_in + 20]
        l4 = l3_out + (outb[l3_out] & 0x0F) * 4
    else:
        assert o[IPv6].tc >> 2 == want["dscp"], desc
        assert o[IPv6].tc & 3 == want["ecn"], "%s: ECN" % desc
        assert o[IPv6].hlim == want["ttl"], desc
        assert o[IPv6].fl == Ether(inb)[IPv6].fl, "flow label untouched"
        assert outb[l3_out + 4:l3_out + 7] == inb[l3_in + 4:l3_in + 7]
        assert outb[l3_out + 8:l3_out + 40] == inb[l3_in + 8:l3_in + 40]
        l4 = l3_out + 40
    # UDP header, BTH, payload and ICRC: byte-identical
    assert outb[l4:] == inb[udp_in:], "%s: UDP/BTH/payload changed" % desc
    # and the ICRC, recomputed on the output, still matches
    assert icrc(outb) == outb[-4:], "%s: ICRC no longer valid" % desc


def test_icrc_helper_agrees_with_scapy():
    p = roce4(GPU, TARGET, W, 5, payload=RETH + b"z" * 10, tos=0x61, ttl=9)
    b = bytes(p)
    assert icrc(b) == b[-4:]
    # and a rewrite of the variant fields keeps it
    m = bytearray(b)
    m[15] = 0xFF
    m[22] = 1
    assert icrc(bytes(m)) == b[-4:]


def test_drops_and_tenant_path(run):
    st = run["d"].final_stats
    drops = st["drops"]
    assert drops.get("ttl_exceeded", 0) == 2
    nodes = st["nodes"]
    assert nodes["rdma_steer"]["packets"] == sum(
        len(x) for x in run["tele"]) + len(run["vec"])
    # the 2 unmatched packets (one per ingress role) went on to the role's
    # pipeline where one is registered (the overlay's nodes: nothing else
    # reaches them here), else were dropped no_forwarding as parse would
    edges = set(tenant_edge(run["graph"]))
    handed = sum(nodes.get(e, {}).get("packets", 0) for e in edges)
    assert handed + drops.get("no_forwarding", 0) == 2, (edges, handed)


def test_policy_list(run):
    pols = {p["name"]: p for p in run["policies"]}
    assert set(pols) == {"p-stor", "p-stor-qp", "p-src", "p-v6", "p-nolane", "p-back"}
    for p in pols.values():
        for k in ("name", "priority", "match", "action", "offloaded", "offload_reason",
                  "lossless", "packets", "bytes"):
            assert k in p, k
        assert p["offloaded"] is False
    # net_pcap has no rte_flow, the machine no RDMA device
    assert pols["p-stor"]["offload_reason"] == (
        "net_pcap: rte_flow not supported (-ENOSYS); no RDMA device")
    assert pols["p-v6"]["offload_reason"] == pols["p-stor"]["offload_reason"]
    # a QP match cannot be expressed by DPDK 22.11's rte_flow nor by verbs
    assert pols["p-stor-qp"]["offload_reason"].startswith(
        "rte_flow: match.dst_qp needs RTE_FLOW_ITEM_TYPE_IB_BTH (DPDK >= 23.07")
    assert pols["p-stor-qp"]["offload_reason"].endswith("verbs: no destination QP match")
    assert pols["p-stor"]["lossless"] is True
    assert pols["p-v6"]["lossless"] is True
    assert pols["p-nolane"]["lossless"] is False      # host1 has no lane
    assert pols["p-src"]["lossless"] is False         # queue default
    assert pols["p-stor-qp"]["match"]["dst_qp"] == 0x777
    # packets / bytes per policy, from the vectors and the telemetry run
    want = {}
    for _, _, pkt, w in run["vec"]:
        if "policy" in w:
            c = want.setdefault(w["policy"], [0, 0])
            c[0] += 1
            c[1] += len(bytes(pkt))
    th, ts = run["tele"]
    for group, pol in ((th, "p-stor"), (ts, "p-back")):
        c = want.setdefault(pol, [0, 0])
        c[0] += len(group)
        c[1] += sum(len(bytes(p)) for p in group)
    for name, (pk, by) in want.items():
        assert (pols[name]["packets"], pols[name]["bytes"]) == (pk, by), name
    stats = run["stats"]["rdma"]["policies"]
    for name, (pk, by) in want.items():
        assert stats[name] == {"packets": pk, "bytes": by}, name


def test_qp_telemetry(run):
    qps = {(q["src_ip"], q["dst_ip"], q["dst_qp"]): q for q in run["qps"]}
    th, ts = run["tele"]
    w = qps[(GPU, "10.50.7.7", 0x500)]
    assert w["packets"] == 6 and w["write"] == 6
    assert w["bytes"] == sum(len(bytes(p)) for p in th)
    assert w["psn_gaps"] == 2
    assert w["ecn_ce"] == 2
    assert w["nak"] == w["cnp"] == w["ack"] == 0
    r = qps[("10.50.7.7", GPU, 0x600)]
    assert r["packets"] == 6
    assert (r["nak"], r["ack"], r["cnp"]) == (2, 1, 3)
    assert r["psn_gaps"] == 0      # ACKs and CNPs carry no sequence
    # the vectors' QPs are there too, per opcode class
    v = qps[(TARGET, GPU, 0x100)]
    assert (v["read_resp"], v["ack"], v["nak"], v["cnp"]) == (1, 1, 1, 1)
    g = qps[(GPU, TARGET, 0x100)]
    # 4 ECN variants and the TTL 1 one (counted on arrival, then dropped)
    assert g["write"] == 5 and g["read_req"] == 1 and g["send"] == 1
    assert g["ecn_ce"] == 1
    # unmatched RoCE is counted as well
    assert (GPU, "10.99.0.1", 0x100) in qps
    v6 = qps[(GPU6, TARGET6, 0x100)]
    assert v6["write"] == 3 and v6["ecn_ce"] == 1
    for q in run["qps"]:
        assert set(q) == {"src_ip", "dst_ip", "dst_qp", "packets", "bytes", "send", "write",
                          "read_req", "read_resp", "ack", "nak", "psn_gaps", "cnp", "ecn_ce"}
    # limit keeps the busiest
    assert len(run["qps_limited"]) == 2
    top = sorted((q["packets"] for q in run["qps"]), reverse=True)[:2]
    assert [q["packets"] for q in run["qps_limited"]] == top
