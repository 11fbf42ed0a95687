"""Drops per node (stats.get scope `nodes`: nodes.<node>.drops.<reason>, and
Prometheus sswitch_node_drops_total{node, reason}): the same reason dropped
by different nodes is told apart, the per-reason totals (`drops`) keep
their shape, and stats.clear resets the detail like the rest."""
import re
import socket
import urllib.request

from sswitch import Daemon
from test_overlay_fixtures import ports, vm, vxlan_in, tenant, world, UL4, VM1

UNKNOWN_MAC = "02:00:00:00:99:99"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_eni_miss_attributed_to_the_node_that_dropped(tmp_path):
    # host path: no ENI for (host0, untagged, source MAC) -> overlay_host
    host = [vm(UNKNOWN_MAC, "10.0.0.2", "10.0.0.5", i) for i in range(3)]
    # fabric path: a known VNI, no ENI with the inner destination MAC -> overlay_fabric
    fabric = [vxlan_in("100.64.1.5", UL4, 1000, tenant("02:00:00:00:40:01", UNKNOWN_MAC,
                                                        "10.0.0.5", "10.0.0.2", 10 + i))
              for i in range(2)]
    # and one forwarded packet, which no node counts as a drop
    ok = [vm(VM1, "10.0.0.2", "10.0.0.5", 20)]
    prom = free_port()
    d = Daemon(tmp_path, ports(host + ok, (), fabric, ()), bootstrap=world(),
               extra_conf='telemetry = { prometheus = "127.0.0.1:%d"; };' % prom)
    d.start()
    try:
        d.wait_rx(len(host) + len(fabric) + len(ok))
        rpc = d.rpc()
        before = rpc.call("stats.get", {"scope": "all"})
        text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % prom, timeout=10).read().decode()
        rpc.call("stats.clear", {"scope": "nodes"})
        after = rpc.call("stats.get", {"scope": "all"})
        rpc.close()
    finally:
        d.stop()

    nodes = before["nodes"]
    assert before["drops"]["eni_miss"] == 5   # the per-reason totals, as before
    assert nodes["overlay_host"]["drops"] == {"eni_miss": 3}
    assert nodes["overlay_fabric"]["drops"] == {"eni_miss": 2}
    for name, n in nodes.items():
        assert {"packets", "calls", "cycles", "drops"} <= set(n), name
        if name not in ("overlay_host", "overlay_fabric"):
            assert "eni_miss" not in n["drops"], name
    # every counted drop is attributed to exactly one node
    by_node = sum(v for n in nodes.values() for v in n["drops"].values())
    assert by_node == sum(before["drops"].values())

    def sample(node, reason):
        m = re.search(r'^sswitch_node_drops_total\{node="%s",reason="%s"\} (\d+)$'
                      % (re.escape(node), re.escape(reason)), text, re.M)
        assert m, "sswitch_node_drops_total{node=%s,reason=%s} not in /metrics" % (node, reason)
        return int(m.group(1))

    assert sample("overlay_host", "eni_miss") == 3
    assert sample("overlay_fabric", "eni_miss") == 2
    assert 'sswitch_drops_total{reason="eni_miss"} 5' in text
    # a feature's scope keeps the label names its feature registers
    assert re.search(r'^sswitch_eni_rx_packets_total\{eni="e1"\} 1$', text, re.M)

    # stats.clear nodes: the detail restarts from zero; `drops` is another scope
    assert all(n["drops"] == {} for n in after["nodes"].values())
    assert after["drops"]["eni_miss"] == 5
