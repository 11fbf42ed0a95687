# SPDX-License-Identifier: BSD-3-Clause
"""The read-side and runtime methods of SPEC section 4: system.info,
stats.get/clear, flow.*, rdma.config / rdma.policy.list / rdma.qp.list,
capture.*, pipeline.graph, health.get."""

import os
import time

import pytest

from rpc import rows

PORT_KEYS = {"rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "rx_dropped",
             "tx_dropped", "errors"}


def test_system_info(client):
    info = client.call("system.info")
    assert isinstance(info["version"], str) and info["version"]
    assert isinstance(info["dpdk_version"], str) and info["dpdk_version"]
    assert info["workers"] == [1]
    assert isinstance(info["uptime_s"], (int, float)) and info["uptime_s"] >= 0
    assert isinstance(info["generation"], int)
    ports = {p["name"]: p for p in info["ports"]}
    assert set(ports) == {"host0", "fabric0", "storage0"}
    for name, role in [("host0", "host"), ("fabric0", "fabric"), ("storage0", "storage")]:
        p = ports[name]
        assert p["role"] == role
        assert p["mtu"] == 1500, "a port's mtu defaults to 1500"
        assert len(p["mac"].split(":")) == 6
        assert p["rx_queues"] >= 1
        assert isinstance(p["link_up"], bool)
    # tx queues: one per worker, plus one per worker for the lossless lane
    # (default on storage ports).
    assert ports["host0"]["tx_queues"] == 1
    assert ports["fabric0"]["tx_queues"] == 1
    assert ports["storage0"]["tx_queues"] == 2


def test_uptime_advances(client):
    a = client.call("system.info")["uptime_s"]
    time.sleep(1.1)
    assert client.call("system.info")["uptime_s"] > a


# -- stats ---------------------------------------------------------------------------

def served(client, method, params=None):
    """Call a method a feature of the daemon serves; skip the test when no
    feature serves it yet (1005) or the stats scope is not registered."""
    reply = client.request(method, {} if params is None else params)
    err = reply.get("error")
    if err and err["code"] == 1005:
        pytest.skip(f"{method}: not served by this daemon yet ({err['message']})")
    if err and err["code"] == -32602 and method.startswith("stats.") and \
            "unknown scope" in err["message"]:
        pytest.skip(f"stats scope {params.get('scope')} not registered by this daemon yet")
    assert err is None, err
    return reply["result"]


def test_stats_scopes(client):
    ports = client.call("stats.get", {"scope": "ports"})
    assert set(ports) == {"ports"}, "only the keys of the scope asked"
    assert set(ports["ports"]) == {"host0", "fabric0", "storage0"}
    for counters in ports["ports"].values():
        assert PORT_KEYS <= set(counters)
        assert all(isinstance(counters[k], int) and counters[k] >= 0 for k in PORT_KEYS)

    drops = client.call("stats.get", {"scope": "drops"})
    assert set(drops) == {"drops"}
    assert all(isinstance(v, int) for v in drops["drops"].values())

    nodes = client.call("stats.get", {"scope": "nodes"})
    assert set(nodes) == {"nodes"}
    assert nodes["nodes"], "the packet graph has nodes"
    for n in nodes["nodes"].values():
        assert {"packets", "calls", "cycles"} <= set(n)

    everything = client.call("stats.get", {"scope": "all"})
    assert {"ports", "drops", "nodes"} <= set(everything)
    assert set(client.call("stats.get", {})) == set(everything), "scope defaults to all"


@pytest.mark.parametrize("scope", ["eni", "acl", "rdma"])
def test_feature_stats_scope(client, scope):
    result = served(client, "stats.get", {"scope": scope})
    assert set(result) == {scope}
    assert isinstance(result[scope], dict)
    if scope == "rdma":
        assert isinstance(result["rdma"].get("policies"), dict)
    assert scope in client.call("stats.get", {"scope": "all"})


def test_stats_eni_counters(client):
    served(client, "stats.get", {"scope": "eni"})
    client.call("vnet.add", {"name": "st-v", "vni": 8000})
    client.call("eni.add", {"name": "st-e", "mac": "02:00:00:00:80:00", "vnet": "st-v",
                            "port": "host0"})
    eni = client.call("stats.get", {"scope": "eni"})["eni"]
    assert {"rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "acl_drops",
            "flows"} <= set(eni["st-e"])
    client.call("eni.delete", {"name": "st-e"})
    client.call("vnet.delete", {"name": "st-v"})
    assert "st-e" not in client.call("stats.get", {"scope": "eni"})["eni"]


def test_stats_clear(client):
    client.call("stats.clear", {"scope": "ports"})
    ports = client.call("stats.get", {"scope": "ports"})["ports"]
    # No traffic on no-rx null ports: everything is 0 after a clear.
    for counters in ports.values():
        assert counters["rx_packets"] == 0 and counters["rx_bytes"] == 0
    client.call("stats.clear", {"scope": "all"})
    assert all(v == 0 for v in client.call("stats.get", {"scope": "drops"})["drops"].values())
    assert client.error("stats.clear", {"scope": "bogus"}).code == -32602


# -- flows ---------------------------------------------------------------------------

def test_flow_config(client):
    client.call("flow.config", {"idle_timeout_ms": 5000, "tcp_fin_timeout_ms": 1000,
                                "max_flows": 4096})
    assert client.call("flow.config") == {"max_flows": 4096, "idle_timeout_ms": 5000,
                                          "tcp_fin_timeout_ms": 1000}
    # Only the fields given change.
    client.call("flow.config", {"idle_timeout_ms": 6000})
    assert client.call("flow.config")["max_flows"] == 4096
    assert client.error("flow.config", {"max_flows": -5}).code == -32602
    assert client.error("flow.config", {"max_flows": 0}).code == -32602
    assert client.error("flow.config", {"bogus": 1}).field == "bogus"


def test_flow_list_flush(client):
    assert rows(served(client, "flow.list", {})) == []
    assert rows(client.call("flow.list", {"limit": 10})) == []
    client.call("flow.flush", {})
    client.call("vnet.add", {"name": "fl-v", "vni": 8100})
    client.call("eni.add", {"name": "fl-e", "mac": "02:00:00:00:81:00", "vnet": "fl-v",
                            "port": "host0"})
    assert rows(client.call("flow.list", {"eni": "fl-e"})) == []
    client.call("flow.flush", {"eni": "fl-e"})
    assert client.error("flow.list", {"eni": "absent"}).code == 1001
    client.call("eni.delete", {"name": "fl-e"})
    client.call("vnet.delete", {"name": "fl-v"})


# -- RDMA ----------------------------------------------------------------------------

def test_rdma_config(client):
    client.call("rdma.config", {"data_dscp": 26, "cnp_dscp": 48})
    client.call("rdma.config", {"data_dscp": 24})
    conf = client.call("rdma.config")
    assert conf["data_dscp"] == 24 and conf["cnp_dscp"] == 48
    assert {"qp_table_size", "qp_idle_timeout_ms"} <= set(conf)
    client.call("rdma.config", {"data_dscp": 26})


def test_rdma_qp_list(client):
    assert rows(served(client, "rdma.qp.list", {}), "qps") == []
    assert rows(client.call("rdma.qp.list", {"limit": 5}), "qps") == []


def test_rdma_policy_list_reports_offload_and_lane(client):
    served(client, "rdma.qp.list", {})   # the RDMA feature is there
    client.call("rdma.policy.add", {
        "name": "sys-lossless", "priority": 10, "match": {"dst_prefix": "10.95.0.0/16"},
        "action": {"port": "storage0", "next_hop_mac": "02:00:00:00:95:01",
                   "queue": "lossless"}})
    client.call("rdma.policy.add", {
        "name": "sys-nolane", "priority": 20, "match": {"dst_prefix": "10.96.0.0/16",
                                                        "dst_qp": 99},
        "action": {"port": "fabric0", "next_hop_mac": "02:00:00:00:96:01",
                   "queue": "lossless"}})
    pols = {p["name"]: p for p in rows(client.call("rdma.policy.list", {}), "policies")}
    for name in ("sys-lossless", "sys-nolane"):
        p = pols[name]
        assert {"name", "priority", "match", "action", "offloaded", "offload_reason",
                "lossless", "packets", "bytes"} <= set(p)
        # net_null cannot offload: software path, with a reason.
        assert p["offloaded"] is False
        assert isinstance(p["offload_reason"], str) and p["offload_reason"]
    assert pols["sys-lossless"]["lossless"] is True
    assert pols["sys-nolane"]["lossless"] is False, "fabric0 has no lossless lane"
    assert pols["sys-nolane"]["match"]["dst_qp"] == 99
    client.call("rdma.policy.delete", {"name": "sys-lossless"})
    client.call("rdma.policy.delete", {"name": "sys-nolane"})


# -- capture -------------------------------------------------------------------------

def test_capture_start_list_stop(client, daemon):
    out = str(daemon.workdir / "cap-host0.pcap")
    client.call("capture.start", {"name": "cap1", "port": "host0", "direction": "rx",
                                  "file": out, "snaplen": 128, "count": 10})
    caps = rows(client.call("capture.list", {}))
    assert "cap1" in {c["name"] for c in caps}
    drop = str(daemon.workdir / "cap-drop.pcap")
    client.call("capture.start", {"name": "cap2", "drop_reason": "parse_truncated",
                                  "file": drop})
    client.call("capture.stop", {"name": "cap1"})
    client.call("capture.stop", {"name": "cap2"})
    # A pcap file with its global header was written.
    with open(out, "rb") as f:
        magic = f.read(4)
    assert magic in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1",
                     b"\xa1\xb2\x3c\x4d", b"\x0a\x0d\x0d\x0a")
    assert os.path.exists(drop)


def test_capture_errors(client, daemon):
    err = client.error("capture.start", {"name": "capx", "port": "no-such-port",
                                         "direction": "rx",
                                         "file": str(daemon.workdir / "x.pcap")})
    assert err.code in (1001, -32602) and err.field == "port"
    err = client.error("capture.start", {"name": "capy", "drop_reason": "no_such_reason",
                                         "file": str(daemon.workdir / "y.pcap")})
    assert err.code == -32602 and err.field == "drop_reason"
    err = client.error("capture.start", {"name": "capz", "port": "host0",
                                         "direction": "sideways",
                                         "file": str(daemon.workdir / "z.pcap")})
    assert err.code == -32602 and err.field == "direction"


# -- graph, health -------------------------------------------------------------------

def test_pipeline_graph(client):
    dot = client.call("pipeline.graph")["dot"]
    # dot keywords are case-insensitive (DPDK writes "Digraph").
    assert "digraph" in dot.lower() and "->" in dot


def test_health(client):
    health = client.call("health.get")
    assert isinstance(health, dict)
    assert "ports" in health
    text = str(health["ports"])
    for name in ("host0", "fabric0", "storage0"):
        assert name in text
    assert "findings" in health and isinstance(health["findings"], list)
