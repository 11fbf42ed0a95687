"""Private Link end to end (SPEC 3.8; docs/privatelink.md): two Linux
stacks that share no address family talk through sswitch.

    ns "vm" (IPv4 only)            ns "sw"                 ns "svc" (IPv6 inside)
    eth0 10.0.0.1/16  --tap-- host0 [sswitchd] fabric0 --tap-- fab0 198.51.100.2/24
    (ENI vm1, VNET vnet1;                                    |
     pl_underlay_ip 198.51.100.50)                           vx0 VNI 5000, local
                                                             198.51.100.2, remote
                                                             198.51.100.50;
                                                             1122:3344:5566:7788::303:301,
                                                             9988::/96 via vx0

The private endpoint 10.0.1.1 is a mapping of vnet1 with routing
privatelink, overlay_sip 9988::/96, overlay_dip the service's /128,
underlay_ip the service's fab0 address, VNI 5000. The VM resolves 10.0.1.1
through the switch (the mapping MAC, which is vx0's) and talks IPv4; the
service sees 9988::a00:1 and answers in IPv6; sswitch translates both ways.
The service's kernel resolves pl_underlay_ip through the switch (ARP,
answered by pl_in) and knows the VM's translated address statically (a
permanent neighbour on vx0: nobody answers ND inside the service tunnel).
"""
import json

from topo import PYTHON, TCPXFER, CmdError, missing_feature, ping, rpc_call, stats, delta

import pytest

VM_MAC = "02:e2:00:00:01:10"
SVC_MAC = "02:e2:00:00:05:01"       # the mapping mac = the service's vx0
SVC_UL_MAC = "02:e2:00:00:0f:02"    # the service's fab0
FABRIC_MAC = "02:e2:00:00:0f:01"
SWITCH_MAC = "02:e2:00:00:00:fe"
VM4, PE4 = "10.0.0.1", "10.0.1.1"
VM6 = "9988::a00:1"
SVC6 = "1122:3344:5566:7788::303:301"
SW_PA, PL_IP, SVC_PA = "198.51.100.1", "198.51.100.50", "198.51.100.2"
VNI, PL_VNI = 5001, 5000
INNER_MTU = 1400    # IPv4 1400 -> IPv6 1420 + 50 bytes of VXLAN fits the 1500 underlay


def pl_net(make_topo):
    t = make_topo()
    vm, svc = t.netns("vm"), t.netns("svc")
    host = t.port("host0", "host", vm, ifname="eth0", mac=VM_MAC, if_mtu=INNER_MTU)
    fab = t.port("fabric0", "fabric", svc, ifname="fab0", mac=SVC_UL_MAC, port_mac=FABRIC_MAC)
    d = t.start()
    for f in ("overlay", "conntrack"):
        why = missing_feature(d, f)
        if why:
            pytest.skip(why)
    ops = [
        ("switch.set", {"underlay_ip": SW_PA, "mac": SWITCH_MAC}),
        ("vnet.add", {"name": "vnet1", "vni": VNI, "gateway_ip": "10.0.0.254"}),
        ("route.add", {"group": "rg1", "prefix": "10.0.0.0/16", "action": "vnet"}),
        ("underlay_route.add", {"prefix": SVC_PA + "/32",
                                "next_hops": [{"port": "fabric0", "mac": SVC_UL_MAC}]}),
        ("mapping.add", {"vnet": "vnet1", "ip": PE4, "underlay_ip": SVC_PA, "mac": SVC_MAC,
                         "routing": "privatelink", "overlay_sip": "9988::/96",
                         "overlay_dip": SVC6 + "/128", "vni": PL_VNI}),
        ("eni.add", {"name": "vm1", "mac": VM_MAC, "vnet": "vnet1", "port": "host0",
                     "route_group": "rg1", "pl_underlay_ip": PL_IP}),
    ]
    rpc_call(d, "txn", {"ops": [{"method": m, "params": p} for m, p in ops]})
    host.addr(VM4 + "/16")
    vm.sysctl("net.ipv6.conf.eth0.disable_ipv6", 1)        # the VM: IPv4 only
    fab.addr(SVC_PA + "/24")
    svc.ip("link", "add", "vx0", "type", "vxlan", "id", str(PL_VNI), "dstport", "4789",
           "local", SVC_PA, "remote", PL_IP, "dev", "fab0", "nolearning")
    svc.ip("link", "set", "dev", "vx0", "address", SVC_MAC, "mtu", str(INNER_MTU + 20))
    for key, value in (("accept_ra", 0), ("router_solicitations", 0), ("accept_dad", 0)):
        svc.sysctl("net.ipv6.conf.vx0.%s" % key, value)
    svc.ip("addr", "add", SVC6 + "/128", "dev", "vx0", "nodad")   # no IPv4 on vx0
    svc.ip("link", "set", "dev", "vx0", "up")
    svc.ip("-6", "route", "add", "9988::/96", "dev", "vx0")
    svc.ip("neigh", "replace", VM6, "lladdr", VM_MAC, "dev", "vx0", "nud", "permanent")
    return d, vm, svc


def transfer(svc, vm, size, seed, port=5201, timeout=20.0):
    """tcpxfer.py: the service listens on its IPv6 address, the VM connects
    to the private endpoint's IPv4 address; `size` bytes each way, checked
    byte for byte by both sides, with the SHA-256 of what each sent and
    received."""
    srv = svc.popen(PYTHON, TCPXFER, "serve", "--bind", SVC6, "--port", str(port), "--size",
                    str(size), "--seed", str(seed), "--timeout", str(timeout))
    try:
        line = srv.stdout.readline()
        if not line:
            raise CmdError("tcpxfer server did not start: %s" % srv.stderr.read())
        cli = vm.run(PYTHON, TCPXFER, "connect", "--addr", PE4, "--port", str(port), "--size",
                     str(size), "--seed", str(seed), "--timeout", str(timeout), check=False,
                     timeout=timeout + 10)
        client = json.loads(cli.stdout.strip().splitlines()[-1]) if cli.stdout.strip() else {
            "ok": False, "error": cli.stderr}
        if not client.get("ok") and client.get("received", 0) == 0:
            srv.kill()
        out, err = srv.communicate(timeout=timeout + 10)
        lines = out.strip().splitlines()
        return client, (json.loads(lines[-1]) if lines else {"ok": False, "error": err})
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait()


def test_ipv4_vm_talks_to_ipv6_service(make_topo):
    d, vm, svc = pl_net(make_topo)
    before = stats(d)
    vx_before = svc.link_stats("vx0")
    received, ttls = ping(vm, PE4, count=3)
    assert received == 3 and ttls == [64] * 3, ttls    # hop limit carried back as TTL
    # the service's stack took the requests in IPv6 (it has no IPv4 on vx0)
    vx = svc.link_stats("vx0")
    assert vx["rx_packets"] - vx_before["rx_packets"] >= 3
    assert vx["tx_packets"] - vx_before["tx_packets"] >= 3
    assert vm.neigh("eth0")[PE4][0] == SVC_MAC
    size = 4 << 20
    client, server = transfer(svc, vm, size, seed=51)
    assert client["ok"] and server["ok"], (client, server)
    assert client["received"] == size and server["received"] == size
    # what each side sent is what the other received (SHA-256 over the bytes)
    assert client["sha256_sent"] == server["sha256_received"], (client, server)
    assert server["sha256_sent"] == client["sha256_received"], (client, server)
    d2 = delta(before, stats(d))
    assert d2["drops"].get("pl_no_flow", 0) == 0 and d2["drops"].get("nat_unsupported", 0) == 0, \
        d2["drops"]
    pl = rpc_call(d, "stats.get", {"scope": "privatelink"})["privatelink"]["vm1"]
    assert pl["pl_packets"] >= 6 and pl["pl_bytes"] > 2 * size, pl
    flows = rpc_call(d, "flow.list", {"eni": "vm1"})["flows"]
    assert [f for f in flows if (f["protocol"], f["src_ip"], f["dst_ip"], f["direction"])
            == (6, VM4, PE4, "outbound")], flows
    # the service cannot open a connection into the VNET
    r = svc.run("ping", "-6", "-n", "-c", "2", "-i", "0.05", "-W", "0.3", VM6, check=False)
    assert " 0 received" in r.stdout, r.stdout
    assert delta(before, stats(d))["drops"].get("pl_no_flow", 0) >= 2
