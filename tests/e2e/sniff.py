"""Capture frames on one interface of a test namespace, as a real NIC would
see them: `ip netns exec NS /usr/bin/python3 sniff.py IFACE OUT.pcap
--count N --timeout T [--udp-dport P] [--send HEX ...]`.

Prints {"ready": true} once the packet socket is bound, sends the --send
frames (hex) on the interface, then writes the first N matching frames (or
what came within T seconds) to OUT.pcap and prints {"captured": n}. Only
received frames (not the namespace's own transmissions) are kept. Sending
raw frames is how a test plays a VM whose kernel lacks a feature (802.1Q).
"""
import argparse
import json
import select
import socket
import struct
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SOL_PACKET = 263
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 0x10
TP_STATUS_VLAN_TPID_VALID = 0x40


def with_vlan(data, ancdata):
    """The kernel strips a received 802.1Q tag into skb metadata before a
    packet socket sees the frame; put it back from PACKET_AUXDATA (what
    libpcap does)."""
    for level, kind, aux in ancdata:
        if level != SOL_PACKET or kind != PACKET_AUXDATA or len(aux) < 20:
            continue
        status, _, _, _, _, tci, tpid = struct.unpack_from("=IIIHHHH", aux)
        if status & TP_STATUS_VLAN_VALID:
            if not status & TP_STATUS_VLAN_TPID_VALID:
                tpid = 0x8100
            return data[:12] + struct.pack("!HH", tpid, tci) + data[12:]
    return data


def udp_dport(frame):
    """Destination port of an untagged IPv4/IPv6 UDP frame, else None."""
    et = struct.unpack_from("!H", frame, 12)[0]
    if et == 0x0800 and len(frame) >= 14 + 20 + 8 and frame[23] == 17:
        ihl = (frame[14] & 0x0F) * 4
        return struct.unpack_from("!H", frame, 14 + ihl + 2)[0]
    if et == 0x86DD and len(frame) >= 14 + 40 + 8 and frame[20] == 17:
        return struct.unpack_from("!H", frame, 14 + 40 + 2)[0]
    return None


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for ts, data in frames:
            f.write(struct.pack("<IIII", int(ts), int((ts % 1) * 1e6), len(data), len(data)))
            f.write(data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("iface")
    ap.add_argument("out")
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--udp-dport", type=int)
    ap.add_argument("--send", nargs="*", default=[])
    a = ap.parse_args()
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.bind((a.iface, 0))
    print(json.dumps({"ready": True}), flush=True)
    for frame in a.send:
        s.send(bytes.fromhex(frame))
    frames = []
    deadline = time.time() + a.timeout
    while len(frames) < a.count:
        left = deadline - time.time()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            break
        data, anc, _, addr = s.recvmsg(65535, socket.CMSG_SPACE(64))
        if addr[2] == PACKET_OUTGOING:
            continue
        data = with_vlan(data, anc)
        if a.udp_dport is not None and udp_dport(data) != a.udp_dport:
            continue
        frames.append((time.time(), data))
    write_pcap(a.out, frames)
    print(json.dumps({"captured": len(frames)}), flush=True)


if __name__ == "__main__":
    main()
