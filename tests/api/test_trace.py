# SPDX-License-Identifier: BSD-3-Clause
"""Packet trace (docs/trace.md, docs/api.md "Packet trace"): trace.packet
runs a frame through the real graph of a worker without transmitting it and
returns every node it visited with what each used; trace.start / get / stop
record the path of live packets.

The trace.packet daemon's fabric port is a net_pcap device writing to a
file: after the daemon stopped, that file must hold no frame, whatever was
traced. The live daemon replays a pcap on a host port forever
(net_pcap infinite_rx) so trace.start has packets to pick.
"""
import pathlib
import struct

import pytest

HOST_MAC = "02:00:00:00:00:01"
FAB_MAC = "02:00:00:00:00:aa"
SW_MAC = "02:00:00:00:ff:ff"
VM1 = "02:00:00:00:10:01"
VM9 = "02:00:00:00:10:09"      # no ENI
M5 = "02:00:00:00:20:05"
NH = "02:00:00:00:0b:01"


def op(method, **params):
    return {"method": method, "params": params}


WORLD = [
    op("switch.set", underlay_ip="100.64.0.1", mac=SW_MAC),
    op("underlay_route.add", prefix="100.64.1.0/24", next_hops=[{"port": "fabric0", "mac": NH}]),
    op("vnet.add", name="v1", vni=1000, gateway_ip="10.0.0.1"),
    op("acl_group.add", name="out4", family="ipv4"),
    op("acl_rule.add", group="out4", priority=10, action="deny", dst=["10.0.0.66/32"]),
    op("acl_rule.add", group="out4", priority=20, action="allow", protocols=[6, 17]),
    op("eni.add", name="e1", mac=VM1, vnet="v1", port="host0", route_group="rg1",
       acl={"outbound_v4": ["out4"]}),
    op("route.add", group="rg1", prefix="10.0.0.0/8", action="vnet"),
    op("route.add", group="rg1", prefix="10.9.0.0/16", action="drop"),
    op("mapping.add", vnet="v1", ip="10.0.0.5", underlay_ip="100.64.1.5", mac=M5),
]


def write_pcap(path, frames):
    """A pcap file (libpcap format, Ethernet) holding `frames`."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", i, 0, len(fr), len(fr)))
            f.write(fr)


def pcap_frames(path):
    data = pathlib.Path(path).read_bytes()
    n, off = 0, 24
    while off + 16 <= len(data):
        caplen = struct.unpack("<IIII", data[off:off + 16])[2]
        off += 16 + caplen
        n += 1
    return n


def udp_frame(src_mac, src, dst, sport, dport):
    """Ethernet / IPv4 / UDP with a valid header checksum (no scapy: the
    api tests need none)."""
    payload = b"trace-test" + bytes(6)
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                      bytes(int(x) for x in src.split(".")), bytes(int(x) for x in dst.split(".")))
    s = sum(struct.unpack("!10H", hdr))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    hdr = hdr[:10] + struct.pack("!H", ~s & 0xffff) + hdr[12:]
    mac = lambda m: bytes(int(x, 16) for x in m.split(":"))  # noqa: E731
    return mac(HOST_MAC) + mac(src_mac) + b"\x08\x00" + hdr + udp


def vxlan_frame(dst_mac, outer_src, outer_dst, vni, inner):
    """Ethernet / IPv4 / UDP 4789 / VXLAN around the frame `inner`."""
    mac = lambda m: bytes(int(x, 16) for x in m.split(":"))  # noqa: E731
    ip4 = lambda a: bytes(int(x) for x in a.split("."))  # noqa: E731
    vx = struct.pack("!II", 0x08000000, vni << 8) + inner
    udp = struct.pack("!HHHH", 50000, 4789, 8 + len(vx), 0) + vx
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                      ip4(outer_src), ip4(outer_dst))
    s = sum(struct.unpack("!10H", hdr))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    hdr = hdr[:10] + struct.pack("!H", ~s & 0xffff) + hdr[12:]
    return mac(dst_mac) + mac(NH) + b"\x08\x00" + hdr + udp


@pytest.fixture(scope="module")
def traced(make_daemon, tmp_path_factory):
    wd = tmp_path_factory.mktemp("trace")
    empty = wd / "empty.pcap"
    write_pcap(empty, [])
    out = wd / "fabric0.pcap"
    ports = [
        {"name": "host0", "devargs": "net_null0,no-rx=1", "role": "host"},
        {"name": "fabric0", "devargs": f"net_pcap0,rx_pcap={empty},tx_pcap={out}",
         "role": "fabric"},
    ]
    d = make_daemon(ports=ports, workdir=wd / "d")
    c = d.client()
    c.call("txn", {"ops": WORLD})
    yield d, c, out


def step(res, node):
    for s in res["steps"]:
        if s["node"] == node:
            return s
    raise AssertionError(f"no step {node} in {[s['node'] for s in res['steps']]}")


def nodes(res):
    return [s["node"] for s in res["steps"]]


def test_forwarded_outbound(traced):
    d, c, out = traced
    fields = {"src_mac": VM1, "src": "10.0.0.2", "dst": "10.0.0.5", "protocol": "udp",
              "src_port": 1000, "dst_port": 53}
    first = c.call("trace.packet", {"port": "host0", "fields": fields})
    assert first["verdict"] == "forwarded", first
    assert first["out_port"] == "fabric0"
    assert nodes(first)[:3] == ["port_rx", "parse", "overlay_host"]
    assert nodes(first)[-1] == "port_tx"
    host = step(first, "overlay_host")
    assert host["eni"] == "e1" and host["vnet"] == "v1"
    pol = step(first, "policy_out")
    assert pol["flow"]["lookup"] == "miss", pol
    assert pol["acl"]["verdict"] == "allow", pol
    st = pol["acl"]["stages"]
    assert st[0]["group"] == "out4" and st[0]["rule"] == 20 and st[0]["action"] == "allow", st
    rt = step(first, "route_out")
    assert rt["route"]["prefix"] == "10.0.0.0/8" and rt["route"]["action"] == "vnet", rt
    assert rt["mapping"]["underlay_ip"] == "100.64.1.5" and rt["mapping"]["mac"] == M5, rt
    enc = step(first, "vxlan_encap")
    assert enc["encap"]["dst"] == "100.64.1.5" and enc["encap"]["src"] == "100.64.0.1", enc
    assert enc["encap"]["vni"] == 1000
    assert enc["underlay"]["next_hop_mac"] == NH and enc["underlay"]["port"] == "fabric0", enc
    tx = step(first, "port_tx")
    assert tx["port"] == "fabric0" and tx["transmitted"] is False, tx
    assert first["output"]["vxlan"]["vni"] == 1000
    assert first["output"]["inner"]["eth"]["dst"] == M5
    # the second packet of the flow finds the flow the first one opened
    second = c.call("trace.packet", {"port": "host0", "fields": fields})
    pol2 = step(second, "policy_out")
    assert pol2["flow"]["lookup"] == "hit", pol2
    assert pol2["acl"]["evaluated"] is False, pol2
    assert second["verdict"] == "forwarded"
    # no frame left the switch: not counted, not in the port's output
    ports = c.call("stats.get", {"scope": "ports"})["ports"]
    assert ports["fabric0"]["tx_packets"] == 0 and ports["host0"]["rx_packets"] == 0, ports
    tr = c.call("stats.get", {"scope": "trace"})["trace"]
    assert tr["traces_run"] >= 2 and tr["packets_traced"] >= 2, tr


def test_dropped_packets(traced):
    d, c, out = traced
    res = c.call("trace.packet", {"port": "host0", "fields": {
        "src_mac": VM1, "src": "10.0.0.2", "dst": "10.0.0.66", "protocol": "tcp"}})
    assert res["verdict"] == "dropped"
    assert res["drop"] == {"reason": "acl_deny", "node": "policy_out"}, res
    acl = step(res, "policy_out")["acl"]
    assert acl["verdict"] == "deny" and acl["stages"][0]["rule"] == 10, acl
    assert step(res, "drop")["reason"] == "acl_deny"
    # no ENI for the source MAC
    res = c.call("trace.packet", {"port": "host0", "fields": {
        "src_mac": VM9, "src": "10.0.0.2", "dst": "10.0.0.5"}})
    assert res["drop"] == {"reason": "eni_miss", "node": "overlay_host"}, res
    assert step(res, "overlay_host")["lookup"]["mac"] == VM9
    # route action drop
    res = c.call("trace.packet", {"port": "host0", "fields": {
        "src_mac": VM1, "src": "10.0.0.2", "dst": "10.9.1.1"}})
    assert res["drop"] == {"reason": "route_drop", "node": "route_out"}, res
    assert step(res, "route_out")["route"]["prefix"] == "10.9.0.0/16"
    # no mapping
    res = c.call("trace.packet", {"port": "host0", "fields": {
        "src_mac": VM1, "src": "10.0.0.2", "dst": "10.0.0.77"}})
    assert res["drop"] == {"reason": "mapping_miss", "node": "route_out"}, res
    # a truncated frame, given as hex: parse drops it
    hx = udp_frame(VM1, "10.0.0.2", "10.0.0.5", 1, 2)[:30].hex()
    res = c.call("trace.packet", {"port": "host0", "frame": hx})
    assert res["drop"]["node"] == "parse" and res["drop"]["reason"].startswith("parse_"), res
    # a fabric frame to another MAC
    res = c.call("trace.packet", {"port": "fabric0", "frame": udp_frame(
        VM1, "10.0.0.2", "10.0.0.5", 1, 2).hex()})
    assert res["drop"] == {"reason": "dmac_mismatch", "node": "parse"}, res


def test_arp_answered(traced):
    """An ARP request for the VNET gateway is answered by overlay_host: the
    reply is what would leave host0 (and does not)."""
    d, c, out = traced
    mac = lambda m: bytes(int(x, 16) for x in m.split(":"))  # noqa: E731
    arp = (b"\xff" * 6 + mac(VM1) + b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) +
           mac(VM1) + bytes([10, 0, 0, 2]) + bytes(6) + bytes([10, 0, 0, 1]) + bytes(18))
    res = c.call("trace.packet", {"port": "host0", "frame": arp.hex()})
    host = step(res, "overlay_host")
    assert host["neighbour"] == "ARP request answered" and host["eni"] == "e1", host
    assert res["verdict"] == "forwarded" and res["out_port"] == "host0", res
    assert res["output"]["arp"]["op"] == "reply" and res["output"]["eth"]["src"] == SW_MAC, res


def test_frame_hex_same_as_fields(traced):
    d, c, out = traced
    fr = udp_frame(VM1, "10.0.0.3", "10.0.0.5", 4000, 53)
    res = c.call("trace.packet", {"port": "host0", "frame": " ".join(
        "%02x" % b for b in fr)})
    assert res["verdict"] == "forwarded" and res["input_len"] == len(fr), res
    assert step(res, "parse")["headers"]["udp"] == {"sport": 4000, "dport": 53}


@pytest.mark.parametrize("params,field", [
    ({}, "port"),
    ({"port": 5, "frame": "00"}, "port"),
    ({"port": "nope", "frame": "00" * 60}, "port"),
    ({"port": "host0"}, "frame"),
    ({"port": "host0", "frame": "zz"}, "frame"),
    ({"port": "host0", "frame": "0011"}, "frame"),
    ({"port": "host0", "frame": "00" * 60, "fields": {}}, "frame"),
    ({"port": "host0", "fields": {"src": "10.0.0.1", "dst": "10.0.0.2"}}, "fields.src_mac"),
    ({"port": "host0", "fields": {"src_mac": VM1, "dst": "10.0.0.2"}}, "fields.src"),
    ({"port": "host0", "fields": {"src_mac": VM1, "src": "10.0.0.1", "dst": "x"}}, "fields.dst"),
    ({"port": "host0", "fields": {"src_mac": VM1, "src": "10.0.0.1", "dst": "fd00::1"}},
     "fields.dst"),
    ({"port": "host0", "fields": {"src_mac": VM1, "src": "10.0.0.1", "dst": "10.0.0.2",
                                  "protocol": "sctp!"}}, "fields.protocol"),
    ({"port": "host0", "fields": {"src_mac": VM1, "src": "10.0.0.1", "dst": "10.0.0.2",
                                  "dst_port": 70000}}, "fields.dst_port"),
    ({"port": "host0", "fields": {"src_mac": VM1, "src": "10.0.0.1", "dst": "10.0.0.2",
                                  "colour": 1}}, "fields"),
    ({"port": "host0", "frame": "00" * 60, "count": 3}, "params"),
])
def test_malformed_trace_packet(traced, params, field):
    d, c, out = traced
    e = c.error("trace.packet", params)
    assert e.field == field, (params, e.code, e.message)
    assert field.split(".")[-1] in e.message or field == "params", e.message


@pytest.mark.parametrize("params,field", [
    ({"count": 0}, "count"),
    ({"count": 1000}, "count"),
    ({"port": "nope"}, "port"),
    ({"filter": {"src": "10.0.0.300"}}, "filter.src"),
    ({"filter": {"dst_port": -1}}, "filter.dst_port"),
    ({"filter": {"eni": "nosuch"}}, "filter.eni"),
    ({"filter": {"flavour": 1}}, "filter"),
    ({"filter": []}, "filter"),
])
def test_malformed_trace_start(traced, params, field):
    d, c, out = traced
    e = c.error("trace.start", params)
    assert e.field == field, (params, e.code, e.message)


def test_inbound(traced):
    """A reply from the mapping's PA to the ENI (SPEC 3.2): decapsulated
    toward host0; the reverse of the flow test_forwarded_outbound opened
    passes policy_in by that flow."""
    d, c, out = traced
    fab_mac = [p["mac"] for p in c.call("system.info")["ports"] if p["name"] == "fabric0"][0]
    inner = udp_frame(M5, "10.0.0.5", "10.0.0.2", 53, 1000)
    inner = bytes.fromhex(VM1.replace(":", "")) + inner[6:]
    res = c.call("trace.packet", {"port": "fabric0", "frame": vxlan_frame(
        fab_mac, "100.64.1.5", "100.64.0.1", 1000, inner).hex()})
    # BFD's punt node and Private Link's pl_in sit on ingress.fabric ahead of
    # overlay_fabric (docs/bfd.md, docs/privatelink.md): a packet that is no
    # BFD control packet and not to a pl_underlay_ip goes on to overlay_fabric
    assert nodes(res)[:6] == ["port_rx", "parse", "bfd_punt", "pl_in", "overlay_fabric",
                              "inbound_route"], res
    assert step(res, "parse")["next"] == "bfd_punt"
    assert step(res, "bfd_punt")["next"] == "pl_in", step(res, "bfd_punt")
    assert step(res, "pl_in")["next"] == "overlay_fabric", step(res, "pl_in")
    fab = step(res, "overlay_fabric")
    assert fab["vip"] == "100.64.0.1" and fab["vni"] == 1000 and fab["eni"] == "e1", fab
    assert step(res, "inbound_route")["outer_src"] == "100.64.1.5"
    pol = step(res, "policy_in")
    assert pol["flow"]["lookup"] == "hit" and pol["acl"]["evaluated"] is False, pol
    assert step(res, "vxlan_decap")["out_port"] == "host0"
    assert res["verdict"] == "forwarded" and res["out_port"] == "host0", res
    assert res["output"]["eth"]["dst"] == VM1 and "vxlan" not in res["output"]
    # from a PA that is no mapping's: PA validation fails
    res = c.call("trace.packet", {"port": "fabric0", "frame": vxlan_frame(
        fab_mac, "100.64.1.99", "100.64.0.1", 1000, inner).hex()})
    assert res["drop"] == {"reason": "pa_validation_fail", "node": "inbound_route"}, res
    # to an address that is no VIP
    res = c.call("trace.packet", {"port": "fabric0", "frame": vxlan_frame(
        fab_mac, "100.64.1.5", "100.64.0.99", 1000, inner).hex()})
    assert res["drop"] == {"reason": "vip_miss", "node": "overlay_fabric"}, res


def test_rdma_steered(traced):
    """A RoCEv2 packet (UDP 4791, a BTH) meets an RDMA policy in rdma_steer."""
    d, c, out = traced
    c.call("rdma.policy.add", {"name": "p1", "priority": 5,
                               "match": {"dst_prefix": "10.200.0.0/16"},
                               "action": {"port": "fabric0", "next_hop_mac": NH}})
    res = c.call("trace.packet", {"port": "host0", "fields": {
        "src_mac": VM1, "src": "10.0.0.2", "dst": "10.200.0.7", "protocol": "udp",
        "dst_port": 4791, "payload_len": 32}})
    rd = step(res, "rdma_steer")
    assert rd["policy"] == {"name": "p1", "priority": 5} and rd["out_port"] == "fabric0", rd
    assert res["verdict"] == "forwarded" and res["out_port"] == "fabric0", res
    assert res["output"]["eth"]["dst"] == NH


def test_sswitchctl_trace(traced, sswitchctl_bin):
    """`sswitchctl trace packet` renders the path for people."""
    import subprocess
    d, c, out = traced
    base = [sswitchctl_bin, "-s", d.socket, "trace", "packet", "port=host0",
            "src_mac=" + VM1, "src=10.0.0.2", "protocol=tcp"]
    r = subprocess.run(base + ["dst=10.0.0.66"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert "=> DROPPED: acl_deny (by policy_out)" in r.stdout, r.stdout
    assert "group=out4" in r.stdout and "rule=10" in r.stdout, r.stdout
    r = subprocess.run(base + ["dst=10.0.0.5"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert "=> FORWARDED out of fabric0 (a traced frame: not transmitted)" in r.stdout, r.stdout
    assert "underlay_ip=100.64.1.5" in r.stdout and "vni=1000" in r.stdout, r.stdout
    r = subprocess.run(base[:6] + ["src_mac=zz"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "field: fields.src_mac" in r.stderr, r.stderr
    r = subprocess.run(base[:4] + ["frob"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2, r


def test_nothing_transmitted(traced):
    """Last in the module's order: after every trace above, the fabric
    port's output file holds no frame (checked after the daemon flushed it
    on SIGTERM)."""
    d, c, out = traced
    d.stop_and_check()
    assert pcap_frames(out) == 0


@pytest.fixture(scope="module")
def live(make_daemon, tmp_path_factory):
    wd = tmp_path_factory.mktemp("trace-live")
    rx = wd / "host0.pcap"
    write_pcap(rx, [udp_frame(VM1, "10.0.0.2", "10.0.0.5", 1111, 53),
                    udp_frame(VM1, "10.0.0.2", "10.0.0.9", 2222, 53),
                    udp_frame(VM9, "10.0.0.2", "10.0.0.5", 3333, 53)])
    ports = [
        {"name": "host0", "devargs": f"net_pcap0,rx_pcap={rx},infinite_rx=1", "role": "host"},
        {"name": "fabric0", "devargs": "net_null0", "role": "fabric"},
    ]
    d = make_daemon(ports=ports, workdir=wd / "d")
    c = d.client()
    c.call("txn", {"ops": WORLD})
    yield d, c


def test_live_trace(live):
    d, c = live
    started = c.call("trace.start", {"port": "host0", "count": 3,
                                     "filter": {"dst": "10.0.0.5/32", "src_port": 1111}})
    assert started["active"] is True and started["count"] == 3
    import time
    deadline = time.time() + 10
    while True:
        got = c.call("trace.get")
        if len(got["packets"]) == 3 or time.time() > deadline:
            break
        time.sleep(0.05)
    assert len(got["packets"]) == 3, got
    # all taken: the trace stops picking by itself (the results stay)
    deadline = time.time() + 5
    while c.call("trace.get")["active"] and time.time() < deadline:
        time.sleep(0.05)
    assert c.call("trace.get")["active"] is False
    for p in got["packets"]:
        assert p["injected"] is False
        assert step(p, "parse")["headers"]["udp"]["sport"] == 1111
        assert p["verdict"] == "forwarded" and p["out_port"] == "fabric0", p
        assert step(p, "port_tx")["transmitted"] is True
    stopped = c.call("trace.stop")
    assert stopped["active"] is False and len(stopped["packets"]) == 3
    # a filter on the ENI: its packets to the unmapped 10.0.0.9 drop
    c.call("trace.start", {"count": 2, "filter": {"eni": "e1", "dst": "10.0.0.9"}})
    deadline = time.time() + 10
    while len(c.call("trace.get")["packets"]) < 2 and time.time() < deadline:
        time.sleep(0.05)
    got = c.call("trace.stop")
    assert len(got["packets"]) == 2, got
    for p in got["packets"]:
        assert p["drop"] == {"reason": "mapping_miss", "node": "route_out"}, p
    tr = c.call("stats.get", {"scope": "trace"})["trace"]
    assert tr == {"traces_run": 2, "packets_traced": 5}, tr
