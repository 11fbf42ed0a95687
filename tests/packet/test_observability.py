"""Counters as an operator reads them: Prometheus text, DPDK telemetry,
stats.get, health.get and pipeline.graph agree on the same traffic."""
import re
import socket
import urllib.request

from scapy.all import Ether, IP, UDP

from sswitch import Daemon, Port


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_prometheus_telemetry_and_stats_agree(tmp_path):
    good = Ether(bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP() / UDP()))
    bad = Ether(bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP(chksum=1) / UDP()))
    pkts = [good] * 5 + [bad] * 3
    port = free_port()
    d = Daemon(tmp_path, [Port("host0", "host", rx=pkts, peer="fabric0"), Port("fabric0", "fabric")],
               extra_conf='telemetry = { prometheus = "127.0.0.1:%d"; };' % port)
    d.start()
    tel = d.wait_rx(len(pkts))
    rpc = d.rpc()
    st = rpc.call("stats.get", {"scope": "all"})
    text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10).read().decode()
    health = rpc.call("health.get")
    dot = rpc.call("pipeline.graph")["dot"]
    rpc.close()
    d.stop()

    def sample(name, **labels):
        lab = ",".join('%s="%s"' % kv for kv in labels.items())
        m = re.search(r"^%s\{%s\} (\d+)$" % (re.escape(name), re.escape(lab)), text, re.M)
        assert m, "%s{%s} not in /metrics" % (name, lab)
        return int(m.group(1))

    assert st["ports"]["host0"]["rx_packets"] == 8 == tel["ports"]["host0"]["rx_packets"]
    assert sample("sswitch_port_rx_packets_total", port="host0") == 8
    assert sample("sswitch_port_tx_packets_total", port="fabric0") == 5
    assert sample("sswitch_drops_total", reason="ip_checksum_bad") == 3 == st["drops"]["ip_checksum_bad"]
    assert sample("sswitch_node_packets_total", node="parse") == 8
    assert set(health["ports"]) == {"host0", "fabric0"} and "findings" in health
    assert '"port_rx"->"parse"' in dot and '"parse"->"l2_patch"' in dot


def test_stats_clear_moves_a_baseline(tmp_path):
    pkts = [Ether(bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP() / UDP()))] * 4
    d = Daemon(tmp_path, [Port("host0", "host", rx=pkts, peer="fabric0"), Port("fabric0", "fabric")])
    d.start()
    d.wait_rx(len(pkts))
    rpc = d.rpc()
    rpc.call("stats.clear", {"scope": "ports"})
    after = rpc.call("stats.get", {"scope": "ports"})["ports"]
    nodes = rpc.call("stats.get", {"scope": "nodes"})["nodes"]
    rpc.close()
    d.stop()
    assert after["host0"]["rx_packets"] == 0 and after["fabric0"]["tx_packets"] == 0
    assert nodes["parse"]["packets"] == 4  # other scopes untouched
