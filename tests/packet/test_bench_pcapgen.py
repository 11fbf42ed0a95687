"""The bench's direct pcap writer (tests/bench/pcapgen.py) against scapy:
the same frames, built both ways, must be identical byte for byte."""
import os
import sys

from scapy.all import Ether, IP, UDP, Raw
from scapy.layers.vxlan import VXLAN

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
import pcapgen  # noqa: E402

N = 400


def pad(p):
    b = bytes(p)
    return b + b"\x00" * (60 - len(b)) if len(b) < 60 else b


def scapy_l2(i):
    return pad(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
               / IP(src="10.0.0.1", dst="10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255))
               / UDP(sport=1024 + (i & 0x7fff), dport=80) / Raw(b"x" * 18))


def scapy_outbound(i, nmappings=1 << 20, enis=16):
    m = (i * 1021) % nmappings
    return pad(Ether(src="02:00:00:01:00:%02x" % (i % enis), dst="02:00:00:00:ff:ff")
               / IP(src="10.15.255.%d" % (i % enis + 1),
                    dst="10.%d.%d.%d" % (m >> 16, m >> 8 & 255, m & 255))
               / UDP(sport=1024 + (i >> 4 & 0x7fff), dport=80) / Raw(b"x" * 18))


def scapy_inbound(i, npas=1024, enis=16):
    inner = (Ether(src="02:00:00:02:00:01", dst="02:00:00:01:00:%02x" % (i % enis))
             / IP(src="10.%d.%d.%d" % (1 + (i >> 16 & 0x3f), i >> 8 & 255, i & 255),
                  dst="10.0.0.%d" % (i % enis + 2))
             / UDP(sport=1024 + (i >> 4 & 0x7fff), dport=80) / Raw(b"x" * 18))
    p = i % npas
    return bytes(Ether(src="02:00:00:00:0b:00", dst="02:00:00:00:00:aa")
                 / IP(src="100.64.%d.%d" % (p >> 8, p & 255), dst="100.127.0.1")
                 / UDP(sport=49152 + (i & 0x3fff), dport=4789, chksum=0) / VXLAN(flags=0x08, vni=1000) / inner)


def sample():
    """The first flows, then some spread up to 1M (high bits of every field)."""
    return list(range(N // 2)) + [(k * 2654435761) % 1000000 for k in range(N // 2)]


def check(gen, ref):
    idx = sample()
    got = list(gen(idx))
    assert len(got) == len(idx)
    for i, b in zip(idx, got):
        assert b == ref(i), "flow %d: writer %s != scapy %s" % (i, b.hex(), ref(i).hex())
    assert list(gen(8)) == list(gen(list(range(8))))


def test_l2_frames_match_scapy():
    check(pcapgen.l2_frames, scapy_l2)


def test_outbound_frames_match_scapy():
    check(pcapgen.outbound_frames, scapy_outbound)


def test_inbound_frames_match_scapy():
    check(pcapgen.inbound_frames, scapy_inbound)


def scapy_privatelink(i, neps=64, enis=16):
    return pad(Ether(src="02:00:00:01:00:%02x" % (i % enis), dst="02:00:00:00:ff:ff")
               / IP(src="10.15.255.%d" % (i % enis + 1), dst="10.1.0.%d" % (1 + i % neps))
               / UDP(sport=1024 + (i >> 4 & 0x7fff), dport=80) / Raw(b"x" * 18))


def test_privatelink_frames_match_scapy():
    check(pcapgen.privatelink_frames, scapy_privatelink)


def _recomputed(ip):
    """scapy's IPv4 and UDP checksums for this IP datagram (as parsed)."""
    again = ip.copy()
    again.chksum = None
    again[UDP].chksum = None
    rebuilt = IP(bytes(again))
    return rebuilt.chksum, rebuilt[UDP].chksum


def test_checksums_verify_with_scapy():
    """Independently of the reference builders: the IPv4 and UDP checksums
    written (outer and inner) are the ones scapy computes for those headers;
    the outer UDP checksum of VXLAN stays 0."""
    for b in list(pcapgen.l2_frames(64)) + list(pcapgen.outbound_frames(64)):
        ip = Ether(b)[IP]
        assert _recomputed(ip) == (ip.chksum, ip[UDP].chksum)
    for b in pcapgen.inbound_frames(64):
        p = Ether(b)
        assert p[UDP].chksum == 0
        outer = p[IP].copy()
        outer.chksum = None
        assert IP(bytes(outer)).chksum == p[IP].chksum
        inner = p[VXLAN][IP]
        assert _recomputed(inner) == (inner.chksum, inner[UDP].chksum)


def test_pcap_roundtrip(tmp_path):
    path = str(tmp_path / "f.pcap")
    frames = list(pcapgen.inbound_frames(100))
    assert pcapgen.write_pcap(path, frames) == 100
    assert pcapgen.read_pcap(path) == frames
    from scapy.all import rdpcap
    assert [bytes(p) for p in rdpcap(path)] == frames


def test_split_per_queue(tmp_path):
    frames = list(pcapgen.l2_frames(10))
    paths = pcapgen.split_pcap(frames, str(tmp_path / "q%d.pcap"), 3)
    got = [pcapgen.read_pcap(p) for p in paths]
    assert got == [frames[0::3], frames[1::3], frames[2::3]]
