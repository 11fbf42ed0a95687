"""The load balancer (SPEC 3.9, docs/lb.md) against real Linux peers: a
client VM opens TCP connections to a VIP; three backend namespaces, each
behind its own kernel VXLAN device (its own PA, on one underlay bridge),
run a server that answers each connection with its name and then echoes.

    ns "vm"                     ns "sw"                ns "ul"         ns "be1..3"
    eth0 192.0.2.10  --tap-- host0 [sswitchd] fabric0 --tap-- fab0 -+- br0 -- ul0 198.51.100.1k
    (ENI vm1, VNET vnet1)                                                     vx0 192.0.2.2k
                                                                              (VNI 5001)
    VIP 192.0.2.100:80 (tcp) -> backends 192.0.2.21/22/23:8080, weights 1, 2, 3

Every connection completes (name received through the DNAT one way and the
reverse SNAT the other), the split follows the weights, and a backend set
to `draining` mid-test keeps its open connections (they still echo at the
end) while getting none of the new ones.
"""
import json
import math
import os

import pytest

from topo import PYTHON, missing_feature, rpc_call

HERE = os.path.dirname(os.path.abspath(__file__))
LBPEER = os.path.join(HERE, "lbpeer.py")

VNI = 5001
VM_MAC = "02:e2:00:00:01:10"
FABRIC_MAC = "02:e2:00:00:0f:01"
SWITCH_MAC = "02:e2:00:00:00:fe"
SW_PA = "198.51.100.1"
VM4, GW4, VIP = "192.0.2.10", "192.0.2.1", "192.0.2.100"
# backend name -> (overlay address, PA, CA MAC (vx0), underlay MAC (ul0), weight)
BACKENDS = {
    "be1": ("192.0.2.21", "198.51.100.11", "02:e2:00:00:01:21", "02:e2:00:00:0f:11", 1),
    "be2": ("192.0.2.22", "198.51.100.12", "02:e2:00:00:01:22", "02:e2:00:00:0f:12", 2),
    "be3": ("192.0.2.23", "198.51.100.13", "02:e2:00:00:01:23", "02:e2:00:00:0f:13", 3),
}
N = 200


def lb_net(make_topo):
    t = make_topo()
    vm, ul = t.netns("vm"), t.netns("ul")
    host = t.port("host0", "host", vm, ifname="eth0", mac=VM_MAC, if_mtu=1400)
    t.port("fabric0", "fabric", ul, ifname="fab0", mac="02:e2:00:00:0f:02", port_mac=FABRIC_MAC)
    d = t.start()
    for what in ("overlay", "conntrack"):
        reason = missing_feature(d, what)
        if reason:
            pytest.skip(reason)
    ops = [
        ("switch.set", {"underlay_ip": SW_PA, "mac": SWITCH_MAC}),
        ("vnet.add", {"name": "vnet1", "vni": VNI, "gateway_ip": GW4}),
        ("route.add", {"group": "rg1", "prefix": "192.0.2.0/24", "action": "vnet"}),
    ]
    for ip, pa, ca_mac, ul_mac, _w in BACKENDS.values():
        ops += [("mapping.add", {"vnet": "vnet1", "ip": ip, "underlay_ip": pa, "mac": ca_mac}),
                ("underlay_route.add", {"prefix": pa + "/32",
                                        "next_hops": [{"port": "fabric0", "mac": ul_mac}]})]
    ops += [("eni.add", {"name": "vm1", "mac": VM_MAC, "vnet": "vnet1", "port": "host0",
                         "route_group": "rg1"}),
            ("lb.add", {"name": "web", "vnet": "vnet1", "vip": VIP, "protocol": "tcp",
                        "port": 80, "backend_port": 8080, "table_size": 4099,
                        "backends": [{"ip": b[0], "weight": b[4]} for b in BACKENDS.values()]})]
    try:
        rpc_call(d, "txn", {"ops": [{"method": m, "params": p} for m, p in ops]})
    except Exception as e:  # noqa: BLE001 - a daemon without the feature
        if "lb." in str(e) and ("unknown method" in str(e) or "1005" in str(e)):
            pytest.skip("load balancer feature missing: %s" % e)
        raise

    host.addr(VM4 + "/24")
    # nobody answers ARP for the VIP (no mapping): the VM sends it to the switch
    host.neigh_add(VIP, SWITCH_MAC)

    # the underlay: a bridge in "ul" joining the fabric port and the backends
    ul.ip("link", "add", "br0", "type", "bridge")
    ul.ip("link", "set", "fab0", "master", "br0")
    ul.ip("link", "set", "br0", "up")
    servers = []
    for name, (ip, pa, ca_mac, ul_mac, _w) in BACKENDS.items():
        be = t.netns(name)
        ul.ip("link", "add", "u" + name, "type", "veth", "peer", "name", "ul0", "netns", be.name)
        ul.ip("link", "set", "u" + name, "master", "br0")
        ul.ip("link", "set", "u" + name, "up")
        be.ip("link", "set", "ul0", "address", ul_mac)
        be.ip("addr", "add", pa + "/24", "dev", "ul0")
        be.ip("link", "set", "ul0", "up")
        be.ip("link", "add", "vx0", "type", "vxlan", "id", str(VNI), "dstport", "4789",
              "local", pa, "remote", SW_PA, "dev", "ul0", "nolearning")
        be.ip("link", "set", "dev", "vx0", "address", ca_mac, "mtu", "1400")
        be.ip("addr", "add", ip + "/24", "dev", "vx0")
        be.ip("neigh", "replace", VM4, "lladdr", VM_MAC, "dev", "vx0", "nud", "permanent")
        be.ip("link", "set", "dev", "vx0", "up")
        srv = be.popen(PYTHON, LBPEER, "serve", "--bind", ip, "--port", "8080", "--name", name)
        servers.append(srv)
        assert '"listening"' in srv.stdout.readline(), srv.stderr.read()
    return t, d, vm, servers


def call(cli, line):
    cli.stdin.write(line + "\n")
    cli.stdin.flush()
    out = cli.stdout.readline()
    assert out, cli.stderr.read()
    return json.loads(out)


def test_lb_split_and_draining(make_topo):
    t, d, vm, servers = lb_net(make_topo)
    cli = vm.popen(PYTHON, LBPEER, "client", "--addr", VIP, "--port", "80", "--timeout", "5",
                   stdin=__import__("subprocess").PIPE)
    try:
        names = call(cli, "open %d" % N)["names"]
        assert None not in names, "connections that did not complete: %d" % names.count(None)
        counts = {n: names.count(n) for n in BACKENDS}
        print("split of %d connections (weights 1, 2, 3): %s" % (N, counts))
        total_w = sum(b[4] for b in BACKENDS.values())
        for n, (_ip, _pa, _m, _u, w) in BACKENDS.items():
            p = w / total_w
            want, sigma = N * p, math.sqrt(N * p * (1 - p))
            assert abs(counts[n] - want) <= 4 * sigma, \
                "%s: %d of %d connections, weight share %.0f (split %s)" % (n, counts[n], N, want,
                                                                           counts)
        lb = {b["ip"]: b for b in rpc_call(d, "lb.get", {"name": "web"})["backends"]}
        for n, b in BACKENDS.items():
            assert lb[b[0]]["connections"] == counts[n], (n, lb[b[0]], counts)

        # be3 drains: its connections stay, new ones go elsewhere
        rpc_call(d, "lb.backend.set", {"lb": "web", "ip": BACKENDS["be3"][0],
                                       "state": "draining"})
        more = call(cli, "open 60")["names"]
        assert None not in more and "be3" not in more, more
        print("after be3 drains, 60 new connections: %s" % {n: more.count(n) for n in BACKENDS})
        alive = call(cli, "check")["alive"]
        dead = [a for a in alive if not a[1]]
        assert not dead, "connections that stopped echoing: %s" % dead
        assert sum(1 for a in alive if a[0] == "be3") == counts["be3"]
        lb = {b["ip"]: b for b in rpc_call(d, "lb.get", {"name": "web"})["backends"]}
        assert lb[BACKENDS["be3"][0]]["entries"] == 0
        assert lb[BACKENDS["be3"][0]]["connections"] == counts["be3"]
        call_quit = cli.stdin
        call_quit.write("quit\n")
        call_quit.flush()
    finally:
        if cli.poll() is None:
            cli.kill()
        cli.communicate()
        for s in servers:
            s.kill()
            s.communicate()
