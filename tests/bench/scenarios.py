"""Scenarios of `make bench` (SPEC 6): each writes its input pcap and
returns the daemon's ports and bootstrap objects.

l2, outbound and inbound frames come from pcapgen (a direct pcap writer:
1M flows in seconds); rdma and cps are small and built from templates or
scapy.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sswitch import Port  # noqa: E402
import pcapgen  # noqa: E402

FRAME = 60  # 64-byte frames on the wire, FCS excluded


def pad(p):
    from scapy.all import Ether
    b = bytes(p)
    return Ether(b + b"\x00" * (FRAME - len(b))) if len(b) < FRAME else p


def scen_l2(tmp, nflows):
    pcap = os.path.join(tmp, "l2.pcap")
    pcapgen.write_pcap(pcap, pcapgen.l2_frames(nflows))
    ports = [Port("host0", "host", kind="raw", peer="fabric0",
                  extra="net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap),
             Port("fabric0", "fabric", kind="raw", extra="net_null0,no-rx=1")]
    return ports, None, pcap


def scen_rdma(tmp, nflows):
    """RoCEv2 SEND ONLY (58 bytes + padding) from nflows QPs of 64 GPUs to one
    storage target: policy lookup (cached per QP), DSCP remark, TTL, MACs,
    per-QP telemetry, lossless lane of a storage port. Each QP sends 4
    packets of consecutive PSNs per pass over the pcap (the replay's step
    back is one PSN gap in 4, as a retransmission would be)."""
    from scapy.all import Ether, IP, UDP, wrpcap
    from scapy.contrib.roce import BTH
    pkts = [pad(Ether(src="02:00:00:00:0a:01", dst="02:00:00:00:00:01")
                / IP(src="192.168.%d.%d" % (i >> 6 & 255, i & 63), dst="10.50.0.5", tos=2)
                / UDP(sport=49152 + (i & 0x3fff), dport=4791, chksum=0)
                / BTH(opcode=0x04, dqpn=0x100 + i, psn=1000 * i + k))
            for k in range(4) for i in range(nflows)]
    pcap = os.path.join(tmp, "rdma.pcap")
    wrpcap(pcap, pkts)
    ports = [Port("host0", "host", kind="raw",
                  extra="net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap),
             Port("stor0", "storage", kind="raw", extra="net_null0,no-rx=1")]
    bootstrap = [
        {"method": "rdma.policy.add", "params": {
            "name": "other%d" % k, "priority": 200 + k,
            "match": {"dst_prefix": "10.%d.0.0/16" % (100 + k)},
            "action": {"port": "stor0", "next_hop_mac": "02:00:00:00:99:02"}}}
        for k in range(8)] + [
        {"method": "rdma.policy.add", "params": {
            "name": "gpu-to-storage", "priority": 100,
            "match": {"dst_prefix": "10.50.0.0/16"},
            "action": {"port": "stor0", "next_hop_mac": "02:00:00:00:99:01",
                       "queue": "lossless"}}}]
    return ports, bootstrap, pcap


def _overlay_underlay():
    return [
        {"method": "switch.set", "params": {"underlay_ip": "100.127.0.1", "mac": "02:00:00:00:ff:ff"}},
        {"method": "underlay_route.add", "params": {"prefix": "100.64.0.0/10", "next_hops": [
            {"port": "fabric0", "mac": "02:00:00:00:0b:%02x" % k} for k in range(4)]}},
        {"method": "vnet.add", "params": {"name": "bench", "vni": 1000, "gateway_ip": "10.0.0.1"}},
    ]


_BOOT = {}


def scen_outbound(tmp, nflows, nroutes=100000, nmappings=1 << 20):
    """Host port -> ENI (one of 16, untagged) -> route among 100k in the
    ENI's group -> mapping among 1M -> VXLAN over IPv4, ECMP over 4 next hops.
    Flow i goes to mapping (i * 1021) % 1M, so the lookups spread over the
    whole table; with --flows 1M every mapping is hit."""
    enis = 16
    pcap = os.path.join(tmp, "outbound.pcap")
    pcapgen.write_pcap(pcap, pcapgen.outbound_frames(nflows, nmappings, enis))
    ports = [Port("host0", "host", kind="raw", extra="net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap),
             Port("fabric0", "fabric", kind="raw", mac="02:00:00:00:00:aa",
                  extra="net_null0,no-rx=1")]
    # the objects do not depend on the flows: built once (1M mappings take seconds)
    key = ("outbound", nroutes, nmappings)
    if key not in _BOOT:
        _BOOT[key] = _outbound_ops(nroutes, nmappings, enis)
    return ports, list(_BOOT[key]), pcap


def _outbound_ops(nroutes, nmappings, enis):
    boot = _overlay_underlay()
    boot += [{"method": "eni.add", "params": {"name": "e%d" % k, "mac": "02:00:00:01:00:%02x" % k,
                                              "vnet": "bench", "port": "host0", "route_group": "rg"}}
             for k in range(enis)]
    # 10.0.0.0/12 holds the mappings: 4096 /24 routes there, the rest
    # elsewhere, /16 to /24 like a tenant's route table
    routes = ["10.%d.%d.0/24" % (k >> 8, k & 255) for k in range(4096)]
    seen, k = set(routes), 0
    while len(routes) < nroutes:
        plen = 16 + k % 9
        net = ((20 << 24) + ((k // 9) << (32 - plen))) & (0xffffffff << (32 - plen))
        r = "%d.%d.%d.%d/%d" % (net >> 24, net >> 16 & 255, net >> 8 & 255, net & 255, plen)
        if r not in seen:
            seen.add(r)
            routes.append(r)
        k += 1
    boot += [{"method": "route.add", "params": {"entries": [
        {"group": "rg", "prefix": r, "action": "vnet"} for r in routes[b:b + 50000]]}}
        for b in range(0, len(routes), 50000)]
    ent = [{"vnet": "bench", "ip": "10.%d.%d.%d" % (i >> 16, i >> 8 & 255, i & 255),
            # 64 VMs per host: 16k PAs
            "underlay_ip": "100.64.%d.%d" % (i >> 14 & 63, i >> 6 & 255),
            "mac": "02:00:%02x:%02x:%02x:%02x" % (i >> 24 & 255, i >> 16 & 255, i >> 8 & 255, i & 255)}
           for i in range(nmappings)]
    boot += [{"method": "mapping.add", "params": {"entries": ent[b:b + 100000]}}
             for b in range(0, nmappings, 100000)]
    return boot


def scen_privatelink(tmp, nflows, neps=64, enis=16):
    """`outbound` toward private endpoints (SPEC 3.8): host port -> ENI (one
    of 16, each with a pl_underlay_ip) -> policy stage -> pl_out: private
    endpoint by (VNET, destination) among 64 -> NAT46 (UDP checksum updated)
    -> VXLAN toward the service's PA from pl_underlay_ip, ECMP over 4 next
    hops. Private-link flows have no cached transform (docs/privatelink.md):
    every packet takes the full path."""
    pcap = os.path.join(tmp, "privatelink.pcap")
    pcapgen.write_pcap(pcap, pcapgen.privatelink_frames(nflows, neps, enis))
    ports = [Port("host0", "host", kind="raw", extra="net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap),
             Port("fabric0", "fabric", kind="raw", mac="02:00:00:00:00:aa",
                  extra="net_null0,no-rx=1")]
    boot = _overlay_underlay()
    boot += [{"method": "eni.add", "params": {"name": "e%d" % k, "mac": "02:00:00:01:00:%02x" % k,
                                              "vnet": "bench", "port": "host0", "route_group": "rg",
                                              "pl_underlay_ip": "100.127.0.50"}}
             for k in range(enis)]
    boot.append({"method": "route.add", "params": {"group": "rg", "prefix": "10.0.0.0/8",
                                                   "action": "vnet"}})
    boot.append({"method": "mapping.add", "params": {"entries": [
        {"vnet": "bench", "ip": "10.1.0.%d" % (1 + k), "underlay_ip": "100.64.1.%d" % (1 + k),
         "mac": "02:00:00:05:00:%02x" % k, "routing": "privatelink",
         "overlay_sip": "9988::/96", "overlay_dip": "1122:3344:5566:7788::/96", "vni": 5000}
        for k in range(neps)]}})
    return ports, boot, pcap


def scen_inbound(tmp, nflows, npas=1024, enis=16):
    """VXLAN from 1024 remote PAs -> VIP -> VNET by VNI -> ENI by inner MAC
    -> inbound route with decap_pa_validate (PA validation table) -> RFC 6040
    decap -> host port (half the ENIs tagged)."""
    boot = scen_inbound_ops(npas, enis)
    pcap = os.path.join(tmp, "inbound.pcap")
    pcapgen.write_pcap(pcap, pcapgen.inbound_frames(nflows, npas, enis))
    ports = [Port("fabric0", "fabric", kind="raw", mac="02:00:00:00:00:aa",
                  extra="net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap),
             Port("host0", "host", kind="raw", extra="net_null0,no-rx=1")]
    return ports, boot, pcap


def scen_inbound_ops(npas=1024, enis=16):
    """The objects of `inbound`: ENIs (odd ones tagged), inbound routes
    with PA validation, npas validated PAs."""
    boot = _overlay_underlay()
    boot += [{"method": "eni.add", "params": dict(
        {"name": "e%d" % k, "mac": "02:00:00:01:00:%02x" % k, "vnet": "bench", "port": "host0"},
        **({"vlan": 100 + k} if k & 1 else {}))} for k in range(enis)]
    boot += [{"method": "inbound_route.add", "params": {
        "eni": "e%d" % k, "vni": 1000, "src_prefix": "100.64.0.0/10", "priority": 10,
        "action": "decap_pa_validate"}} for k in range(enis)]
    boot += [{"method": "pa_validation.add", "params": {"entries": [
        {"vnet": "bench", "underlay_ip": "100.64.%d.%d" % (p >> 8, p & 255)} for p in range(npas)]}}]
    return boot



# ---- ACL and conntrack (docs/acl.md, docs/conntrack.md) ---------------------

def acl_prefix(rnd, near, near_nets=16):
    """A random IPv4 prefix for ClassBench-style rules: `near` ones cover
    the bench traffic (10.15.0.0/16 -> 10.0.0.0/12, one of `near_nets`
    10.0.x.0/24), the others lie elsewhere (20-199.x.x.x), of length
    0/8/16/24/32 or random."""
    if near:
        return rnd.choice(["10.15.255.0/24", "10.15.0.0/16", "10.0.0.0/8", "0.0.0.0/0",
                           "10.0.0.0/12", "10.0.%d.0/24" % rnd.randrange(near_nets)])
    a = (rnd.randrange(20, 200) << 24) | rnd.getrandbits(24)
    n = rnd.choice([8, 16, 24, 32, rnd.randrange(1, 33)])
    a &= (0xffffffff << (32 - n)) & 0xffffffff
    return "%d.%d.%d.%d/%d" % (a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255, n)


def _acl_rules(rnd, n, last_stage):
    """n ClassBench-style rules: prefixes of length 0/8/16/24/32 and random
    lengths, in and out of the bench traffic's space (10.15.0.0/16 ->
    10.0.0.0/12), protocol lists, port ranges (any, exact, 0-1023,
    1024-65535, small ranges), both actions, terminating or not. Every rule
    that can match the bench traffic allows it, non-terminating unless
    `last_stage`, so a new connection is classified by every stage; the
    last rule is a catch-all allow (terminating in the last stage)."""
    def pfx(near):
        return acl_prefix(rnd, near)

    def ports():
        lo = rnd.randrange(0, 60000)
        return rnd.choice([[80], ["1024-65535"], ["0-1023"], [lo],
                           ["%d-%d" % (lo, lo + rnd.randrange(1, 64))], [80, "8000-8080"]])

    rules = []
    for i in range(n - 1):
        near = rnd.random() < 0.5
        r = {"priority": 10 * (i + 1), "src": [pfx(near)], "dst": [pfx(near and rnd.random() < 0.7)]}
        if rnd.random() < 0.5:
            r["protocols"] = rnd.choice([[6], [17], [6, 17]])
        if rnd.random() < 0.5:
            r["dst_ports"] = ports()
        if rnd.random() < 0.2:
            r["src_ports"] = ports()
        r["action"] = "allow" if near else rnd.choice(["allow", "deny"])
        r["terminating"] = (not near or last_stage) and rnd.random() < 0.7
        rules.append(r)
    rules.append({"priority": 10 * n, "action": "allow", "terminating": last_stage})
    return rules


def _acl_bench_groups(seed=7):
    """1000 rules in three stage groups (400, 300, 300), see _acl_rules."""
    import random
    rnd = random.Random(seed)
    return {"bench_s1": _acl_rules(rnd, 400, False), "bench_s2": _acl_rules(rnd, 300, False),
            "bench_s3": _acl_rules(rnd, 300, True)}


def _with_acl(boot, groups, eni_prefix="e"):
    """Bootstrap ops with the groups added first and bound to the ENIs."""
    ops = [{"method": "acl_group.replace", "params": {"name": n, "family": "ipv4", "rules": r}}
           for n, r in groups.items()]
    for op in boot:
        if op["method"] == "eni.add" and op["params"]["name"].startswith(eni_prefix):
            op = {"method": "eni.add", "params": dict(op["params"], acl={"outbound_v4": sorted(groups)})}
        ops.append(op)
    return ops


def scen_outbound_acl(tmp, nflows):
    """The outbound scenario with a 3-stage, 1000-rule ACL bound to every
    ENI (SPEC 6 `outbound`): new connections are classified by the three
    stages, the others are flow hits that skip them."""
    ports, boot, pcap = scen_outbound(tmp, nflows)
    return ports, _with_acl(boot, _acl_bench_groups()), pcap


def _frames(template, offsets, values):
    """Copies of a frame with 16-bit fields at `offsets` set to `values`
    (tuples, one per frame): ports only, so no IP checksum changes."""
    base = bytearray(template)
    for vals in values:
        for off, v in zip(offsets, vals):
            base[off] = v >> 8
            base[off + 1] = v & 255
        yield bytes(base)


def scen_cps(tmp, nflows, live=1000000, conns=4096, enis=16):
    """New connections per second (SPEC 6 `cps`) with 1M live flows. host0
    replays (infinite_rx) a TCP SYN then, 4096 packets later, the RST of each
    of 4096 connections from 16 ENIs with the 3-stage, 1000-rule ACL: a SYN
    is a miss (3 stages, flow insert), its RST a hit that removes the flow,
    so every round's SYNs are new connections: connections/s = Mpps / 2.
    host1 (read once, during the warm-up; its 1M frames twice, so flows
    missed while the table grows are added the second time) fills the table
    with 1M long-lived UDP flows of 16 other ENIs."""
    from scapy.all import Ether, IP, TCP, UDP, Raw
    boot = _overlay_underlay()
    boot.append({"method": "flow.config", "params": {"max_flows": live + 4 * conns,
                                                     "idle_timeout_ms": 600000,
                                                     "tcp_fin_timeout_ms": 2000}})
    boot.append({"method": "route.add", "params": {"group": "rg", "prefix": "10.0.0.0/16",
                                                   "action": "vnet"}})
    boot.append({"method": "mapping.add", "params": {"entries": [
        {"vnet": "bench", "ip": "10.0.%d.%d" % (k >> 8, k & 255), "underlay_ip": "100.64.0.%d" % (k & 255),
         "mac": "02:00:00:0c:%02x:%02x" % (k >> 8, k & 255)} for k in range(2, 1024)]}})
    for k in range(enis):
        boot.append({"method": "eni.add", "params": {"name": "e%d" % k, "mac": "02:00:00:01:00:%02x" % k,
                                                     "vnet": "bench", "port": "host0", "route_group": "rg"}})
        boot.append({"method": "eni.add", "params": {"name": "p%d" % k, "mac": "02:00:00:03:00:%02x" % k,
                                                     "vnet": "bench", "port": "host1", "route_group": "rg"}})
    boot = _with_acl(boot, _acl_bench_groups())
    # churn: per ENI k, connections from 10.15.255.(k+1):(20000+j) to 10.0.1.(k+2):80
    per = conns // enis
    syn, rst = [], []
    for k in range(enis):
        t = pad(Ether(src="02:00:00:01:00:%02x" % k, dst="02:00:00:00:ff:ff")
                / IP(src="10.15.255.%d" % (k + 1), dst="10.0.1.%d" % (k + 2))
                / TCP(sport=20000, dport=80, flags="S", chksum=0))
        b = bytes(t)
        syn += _frames(b, [34], [(20000 + j,) for j in range(per)])
        r = bytearray(b)
        r[47] = 0x04   # RST
        rst += _frames(bytes(r), [34], [(20000 + j,) for j in range(per)])
    pcap = os.path.join(tmp, "cps.pcap")
    pcapgen.write_pcap(pcap, syn + rst)
    # prefill: per ENI p_k, UDP from 10.15.254.(k+1):sport to 10.0.0.2:53, sport and
    # destination port spread so the 1M tuples are distinct
    fill = os.path.join(tmp, "cps-fill.pcap")
    frames = []
    for k in range(enis):
        t = bytes(pad(Ether(src="02:00:00:03:00:%02x" % k, dst="02:00:00:00:ff:ff")
                      / IP(src="10.15.254.%d" % (k + 1), dst="10.0.0.2")
                      / UDP(sport=1, dport=53, chksum=0) / Raw(b"f" * 18)))
        n = live // enis
        frames += _frames(t, [34, 36], [(1024 + (j & 0x7fff), 53 + (j >> 15)) for j in range(n)])
    pcapgen.write_pcap(fill, frames + frames)
    ports = [Port("host0", "host", kind="raw", extra="net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap),
             Port("host1", "host", kind="raw", extra="net_pcap1,rx_pcap=%s" % fill),
             Port("fabric0", "fabric", kind="raw", mac="02:00:00:00:00:aa",
                  extra="net_null0,no-rx=1")]
    return ports, boot, pcap


def scen_lb(tmp, nflows, backends=64, enis=16):
    """Outbound to a load-balanced VIP (SPEC 6 `lb`, docs/lb.md): UDP from 16
    ENIs to 10.0.9.100:53, a 64-backend weighted Maglev VIP (weights 1..4,
    table 65537): per packet the session lookup (a hit: the flows are
    replayed), the DNAT with incremental checksums, the flow's cached
    transform toward the backend's PA (the flow fast path is off for an
    LB's VNET: docs/lb.md "Flow cache and fast path"). Flow i: ENI i % 16,
    source port 1024 + i / 16."""
    from scapy.all import Ether, IP, UDP, Raw
    boot = _overlay_underlay()
    boot.append({"method": "route.add", "params": {"group": "rg", "prefix": "10.0.0.0/16",
                                                   "action": "vnet"}})
    boot.append({"method": "mapping.add", "params": {"entries": [
        {"vnet": "bench", "ip": "10.0.2.%d" % (k + 1), "underlay_ip": "100.64.1.%d" % (k + 1),
         "mac": "02:00:00:0d:00:%02x" % k} for k in range(backends)]}})
    for k in range(enis):
        boot.append({"method": "eni.add", "params": {"name": "e%d" % k, "mac": "02:00:00:01:00:%02x" % k,
                                                     "vnet": "bench", "port": "host0", "route_group": "rg"}})
    boot.append({"method": "lb.add", "params": {
        "name": "vip", "vnet": "bench", "vip": "10.0.9.100", "protocol": "udp", "port": 53,
        "backends": [{"ip": "10.0.2.%d" % (k + 1), "weight": 1 + k % 4} for k in range(backends)]}})
    frames = []
    per = (nflows + enis - 1) // enis
    for k in range(enis):
        t = bytes(pad(Ether(src="02:00:00:01:00:%02x" % k, dst="02:00:00:00:ff:ff")
                      / IP(src="10.15.255.%d" % (k + 1), dst="10.0.9.100")
                      / UDP(sport=1024, dport=53, chksum=0) / Raw(b"q" * 18)))
        frames.append(list(_frames(t, [34], [(1024 + j,) for j in range(per)])))
    # interleaved: flow i is ENI i % 16
    pcap = os.path.join(tmp, "lb.pcap")
    pcapgen.write_pcap(pcap, [frames[i % enis][i // enis] for i in range(nflows)])
    ports = [Port("host0", "host", kind="raw", extra="net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap),
             Port("fabric0", "fabric", kind="raw", mac="02:00:00:00:00:aa",
                  extra="net_null0,no-rx=1")]
    return ports, boot, pcap


SCENARIOS = {
    "outbound": (scen_outbound, "host -> ENI -> route (100k) -> mapping (1M) -> VXLAN encap, ECMP"),
    "privatelink": (scen_privatelink, "outbound to 64 private endpoints: NAT46 + VXLAN encap "
                                      "(no flow cache), ECMP"),
    "inbound": (scen_inbound, "VXLAN -> VIP -> VNI -> ENI -> PA validation -> decap -> host port"),
    "l2": (scen_l2, "host port to fabric port, patch mode, parse + tx (our floor)"),
    "rdma": (scen_rdma, "RoCEv2 steering: policy, DSCP remark, per-QP telemetry, lossless lane"),
    "outbound_acl": (scen_outbound_acl, "outbound with a 3-stage 1000-rule ACL per ENI (flow hits skip it)"),
    "cps": (scen_cps, "new TCP connections (SYN: 3 ACL stages + flow insert, RST: remove), "
                      "1M live flows; connections/s = Mpps / 2"),
    "lb": (scen_lb, "outbound to a 64-backend weighted Maglev VIP: session hit, DNAT, "
                    "flow-cached encap toward the backend"),
}




def rx_queues(ports, pcap, workers):
    """The ports for `workers` workers: the infinite_rx pcap split round
    robin into one file per rx queue (flow i goes to queue i % workers;
    sswitchd gives rx queue q of each port to worker q % workers)."""
    import copy
    ports = [copy.copy(p) for p in ports]
    if workers == 1:
        return ports
    base, ext = os.path.splitext(pcap)
    fmt = base + "-q%d" + ext
    if not os.path.exists(fmt % 0):
        pcapgen.split_pcap(pcapgen.read_pcap(pcap), fmt, workers)
    split = ",".join("rx_pcap=" + fmt % k for k in range(workers))
    for p in ports:
        if "rx_pcap=%s," % pcap in p.extra:
            p.extra = p.extra.replace("rx_pcap=%s" % pcap, split)
    return ports


def nframes(name, nflows):
    """Frames in the scenario's infinite_rx pcap."""
    return {"rdma": 4 * nflows, "cps": 4096}.get(name, nflows)
