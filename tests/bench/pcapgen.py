"""Bench frames written straight to pcap, without scapy.

One template frame per scenario (Ethernet / IPv4 / UDP, VXLAN around an
inner Ethernet / IPv4 / UDP for inbound) is built once with struct; every
flow's frame is that template with its per-flow fields patched in and the
checksums that cover those fields recomputed incrementally (RFC 1624: the
template's ones'-complement sum with the per-flow fields zeroed, plus the
per-flow words). 1M frames take seconds where scapy takes minutes.

tests/packet/test_bench_pcapgen.py builds the same frames with scapy and
fails on any byte that differs.
"""
import struct

FRAME = 60  # 64-byte frames on the wire, FCS excluded

ETH_IPV4 = 0x0800
UDP_VXLAN = 4789


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def ip4(s):
    a, b, c, d = (int(x) for x in s.split("."))
    return a << 24 | b << 16 | c << 8 | d


def ip4_str(v):
    return "%d.%d.%d.%d" % (v >> 24, v >> 16 & 255, v >> 8 & 255, v & 255)


def eth(dst, src, ethertype=ETH_IPV4):
    return mac(dst) + mac(src) + struct.pack("!H", ethertype)


def ipv4(src, dst, payload_len, proto=17, tos=0, ttl=64, ident=1):
    """IPv4 header without options, checksum 0 (the template fills it).
    scapy's defaults: id 1, no flags, TTL 64."""
    return struct.pack("!BBHHHBBHII", 0x45, tos, 20 + payload_len, ident, 0, ttl, proto, 0,
                       ip4(src), ip4(dst))


def udp(sport, dport, payload_len):
    return struct.pack("!HHHH", sport, dport, 8 + payload_len, 0)


def vxlan(vni):
    """Flags 0x08 (I: VNI valid), reserved fields zero."""
    return struct.pack("!II", 0x08 << 24, vni << 8)


def _words(b):
    """Ones'-complement partial sum (unfolded) of big-endian 16-bit words."""
    if len(b) & 1:
        b += b"\x00"
    return sum(struct.unpack("!%dH" % (len(b) // 2), b))


def _fold(s):
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s


class Template:
    """A frame whose `slots` ((offset, size) of big-endian fields) take
    per-flow values; `checksums` are (offset, byte ranges covered, constant
    words added, udp) and are recomputed for every frame. `udp` maps a
    computed 0 to 0xffff (RFC 768)."""

    def __init__(self, frame, slots, checksums):
        self.frame = bytearray(frame)
        self.slots = list(slots)
        zero = bytearray(frame)
        for so, sz in self.slots:
            zero[so:so + sz] = bytes(sz)
        self.sums = []
        for off, ranges, const, is_udp in checksums:
            z = bytearray(zero)
            z[off:off + 2] = b"\x00\x00"
            base = const + sum(_words(bytes(z[a:b])) for a, b in ranges)
            contrib = []
            for k, (so, sz) in enumerate(self.slots):
                for a, b in ranges:
                    if a <= so and so + sz <= b:
                        contrib.append((k, sz, (so - a) & 1))
            self.sums.append((off, base, contrib, is_udp))

    @staticmethod
    def _contrib(v, sz, odd):
        if not odd:
            if sz == 2:
                return v
            if sz == 4:
                return (v >> 16) + (v & 0xffff)
            if sz == 1:
                return v << 8
        b = v.to_bytes(sz, "big")
        return _words(b"\x00" + b if odd else b)

    def frames(self, values):
        """One frame (bytes) per tuple of slot values."""
        f = self.frame
        slots, sums, contrib_of = self.slots, self.sums, self._contrib
        for vals in values:
            for (so, sz), v in zip(slots, vals):
                f[so:so + sz] = v.to_bytes(sz, "big")
            for off, base, contrib, is_udp in sums:
                s = base
                for k, sz, odd in contrib:
                    s += contrib_of(vals[k], sz, odd)
                c = ~_fold(s) & 0xffff
                if is_udp and c == 0:
                    c = 0xffff
                f[off] = c >> 8
                f[off + 1] = c & 255
            yield bytes(f)


def _ip_sum(l3):
    """Checksum spec of the IPv4 header at l3."""
    return (l3 + 10, [(l3, l3 + 20)], 0, False)


def _udp_sum(l3, l4, length):
    """Checksum spec of a UDP datagram over IPv4: the pseudo-header's
    addresses are the IP header's own bytes, protocol and length constant."""
    return (l4 + 6, [(l3 + 12, l3 + 20), (l4, l4 + length)], 17 + length, True)


def _pad(b):
    return b + b"\x00" * (FRAME - len(b)) if len(b) < FRAME else b


PAYLOAD = b"x" * 18


def udp_template(dst_mac, src_mac, sip, dip, sport, dport, payload=PAYLOAD, tos=0):
    """Ethernet / IPv4 / UDP template (padded to 60 bytes) and its offsets."""
    l4 = udp(sport, dport, len(payload)) + payload
    return _pad(eth(dst_mac, src_mac) + ipv4(sip, dip, len(l4), tos=tos) + l4)


# ---- scenarios: each returns the frames (a generator) of flows 0..n-1 -------
# (or of the flow indices in the list n)

def _flows(n):
    """Flow indices: range(n), or n itself when it is a list of indices."""
    return range(n) if isinstance(n, int) else n


def l2_frames(n):
    """Flow i: 10.0.0.1 -> 10.(i>>16).(i>>8).(i), UDP 1024+(i & 0x7fff) -> 80."""
    t = Template(udp_template("02:00:00:00:00:02", "02:00:00:00:00:01", "10.0.0.1", "0.0.0.0", 0, 80),
                 [(30, 4), (34, 2)], [_ip_sum(14), _udp_sum(14, 34, 26)])
    return t.frames(((10 << 24) | (i & 0xffffff), 1024 + (i & 0x7fff)) for i in _flows(n))


def outbound_dip(i, nmappings):
    """The mapping flow i of `outbound` goes to (spread over the table)."""
    m = (i * 1021) % nmappings
    return (10 << 24) | (m >> 16 & 255) << 16 | (m >> 8 & 255) << 8 | (m & 255)


def outbound_frames(n, nmappings=1 << 20, enis=16):
    """Flow i: from ENI i % 16 (MAC 02:00:00:01:00:EE, 10.15.255.(EE+1)) to
    mapping (i * 1021) % nmappings, UDP 1024+(i>>4 & 0x7fff) -> 80."""
    t = Template(udp_template("02:00:00:00:ff:ff", "02:00:00:01:00:00", "0.0.0.0", "0.0.0.0", 0, 80),
                 [(11, 1), (26, 4), (30, 4), (34, 2)], [_ip_sum(14), _udp_sum(14, 34, 26)])
    base = ip4("10.15.255.1")
    return t.frames((i % enis, base + i % enis, outbound_dip(i, nmappings), 1024 + (i >> 4 & 0x7fff))
                    for i in _flows(n))


def privatelink_dip(i, neps=64):
    """The private endpoint flow i of `privatelink` goes to: 10.1.0.(1 + i % neps)."""
    return (10 << 24) | (1 << 16) | (1 + i % neps)


def privatelink_frames(n, neps=64, enis=16):
    """Flow i: from ENI i % 16 (MAC 02:00:00:01:00:EE, 10.15.255.(EE+1)) to
    private endpoint 10.1.0.(1 + i % neps), UDP 1024+(i>>4 & 0x7fff) -> 80
    (the `outbound` frames toward private endpoints)."""
    t = Template(udp_template("02:00:00:00:ff:ff", "02:00:00:01:00:00", "0.0.0.0", "0.0.0.0", 0, 80),
                 [(11, 1), (26, 4), (30, 4), (34, 2)], [_ip_sum(14), _udp_sum(14, 34, 26)])
    base = ip4("10.15.255.1")
    return t.frames((i % enis, base + i % enis, privatelink_dip(i, neps), 1024 + (i >> 4 & 0x7fff))
                    for i in _flows(n))


INBOUND_VNI = 1000


def inbound_inner_sip(i):
    """10.(1 + i>>16).(i>>8).(i): 1M distinct sources (same as before for i < 65536)."""
    return (10 << 24) | (1 + (i >> 16 & 0x3f)) << 16 | (i & 0xffff)


def inbound_frames(n, npas=1024, enis=16, vni=INBOUND_VNI):
    """VXLAN from PA 100.64.(p>>8).(p) (p = i % npas), outer UDP source port
    49152 + (i & 0x3fff) with checksum 0, VNI 1000, around flow i's inner
    frame: 02:00:00:02:00:01 -> ENI i % 16's MAC, inner_sip(i) ->
    10.0.0.(i % 16 + 2), UDP 1024+(i>>4 & 0x7fff) -> 80."""
    inner = udp_template("02:00:00:01:00:00", "02:00:00:02:00:01", "0.0.0.0", "0.0.0.0", 0, 80)
    outer_l4 = udp(0, UDP_VXLAN, 8 + len(inner)) + vxlan(vni) + inner
    frame = eth("02:00:00:00:00:aa", "02:00:00:00:0b:00") + ipv4("0.0.0.0", "100.127.0.1", len(outer_l4)) \
        + outer_l4
    il3, il4 = 50 + 14, 50 + 34
    t = Template(frame, [(26, 4), (34, 2), (55, 1), (il3 + 12, 4), (il3 + 16, 4), (il4, 2)],
                 [_ip_sum(14), _ip_sum(il3), _udp_sum(il3, il4, 26)])
    pa, dst = ip4("100.64.0.0"), ip4("10.0.0.2")
    return t.frames((pa + i % npas, 49152 + (i & 0x3fff), i % enis,
                     inbound_inner_sip(i), dst + i % enis, 1024 + (i >> 4 & 0x7fff))
                    for i in _flows(n))


# ---- pcap ------------------------------------------------------------------

PCAP_HEADER = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)


def write_pcap(path, frames):
    """libpcap file (Ethernet, microsecond timestamps 0) of the frames;
    returns how many were written."""
    n = 0
    recs = {}
    with open(path, "wb", buffering=1 << 20) as f:
        f.write(PCAP_HEADER)
        chunk = []
        for b in frames:
            h = recs.get(len(b))
            if h is None:
                h = recs[len(b)] = struct.pack("<IIII", 0, 0, len(b), len(b))
            chunk.append(h)
            chunk.append(b)
            n += 1
            if len(chunk) >= 8192:
                f.write(b"".join(chunk))
                chunk = []
        f.write(b"".join(chunk))
    return n


def read_pcap(path):
    """Frames (bytes) of a libpcap file (either byte order, us or ns)."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    off, out = 24, []
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(end + "IIII", data[off:off + 16])
        off += 16
        out.append(data[off:off + incl])
        off += incl
    return out


def split_pcap(frames, path_fmt, parts):
    """Write frames round-robin into `parts` pcaps (one per rx queue) named
    path_fmt % k; returns the paths."""
    frames = list(frames)
    paths = [path_fmt % k for k in range(parts)]
    for k, p in enumerate(paths):
        write_pcap(p, frames[k::parts])
    return paths
