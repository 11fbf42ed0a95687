"""Per-ENI rate limiter (docs/ratelimit.md), through the real daemon.

One run carries three ENIs of the overlay test world (tests/packet/
test_overlay_fixtures.py): e1 limited to 10 packets/s, e2 to 8000 bit/s,
e5 unlimited; each sends N packets in one pcap burst. The limited ENIs
forward their bucket's burst plus what the rate refills while the run
lasts (a bound from the measured run time, not a timing threshold); the
rest is dropped `rate_limited`, counted per ENI in the `rate_limit` stats
scope and against the `rate_limit` node. e5's packets all pass: the stage
polices per ENI.
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(REPO, "tests", "packet"))
sys.path.insert(0, os.path.join(REPO, "tests", "lib"))

import pytest  # noqa: E402

from test_overlay_fixtures import (  # noqa: E402
    VM1, VM2, VM5, Daemon, marker_of, op, ports, vm, world)
from sswitch import RpcError  # noqa: E402

N = 300
PAD = 1000 - 64    # e2's frames: about 1000 bytes, so the byte limit decides


def frames():
    out = []
    for i in range(N):
        out.append(vm(VM1, "10.0.0.2", "10.0.0.5", 3 * i))                       # e1: 10 pps
        out.append(vm(VM2, "10.0.0.3", "10.0.0.5", 3 * i + 1, vlan=100, pad=PAD))  # e2: 8 kbit/s
        out.append(vm(VM5, "10.0.0.4", "10.0.0.5", 3 * i + 2, vlan=7))           # e5: no limit
    return out


def boot():
    return world() + [op("eni.set", name="e1", rate_limit_pps=10),
                      op("eni.set", name="e2", rate_limit_bps=8000)]


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rl")
    pk = frames()
    host0 = [p for p in pk if marker_of(p) % 3 != 2]
    host1 = [p for p in pk if marker_of(p) % 3 == 2]
    d = Daemon(tmp, ports(host0, host1), bootstrap=boot())
    t0 = time.time()
    d.start()
    res = {}
    try:
        d.wait_rx(len(pk))
        c = d.rpc()
        try:
            res["stats"] = c.call("stats.get", {"scope": "all"})
            res["graph"] = c.call("pipeline.graph")["dot"]
            res["e1"] = c.call("eni.get", {"name": "e1"})
            res["state"] = c.call("state.get")
            try:
                c.call("eni.set", {"name": "e1", "rate_limit_pps": -1})
                res["bad"] = None
            except RpcError as e:
                res["bad"] = e
            res["e1_after_bad"] = c.call("eni.get", {"name": "e1"})
        finally:
            c.close()
    finally:
        res["elapsed"] = time.time() - t0
        d.stop()
    out = {}
    for port in ("fabric0",):
        for p in d.output(port):
            m = marker_of(p)
            if m is not None:
                out[m] = p
    res["fwd"] = {k: sum(1 for m in out if m % 3 == k) for k in range(3)}
    return res


def test_unlimited_eni_passes_everything(result):
    assert result["fwd"][2] == N


def test_packet_rate_limit(result):
    e1 = result["fwd"][0]
    # burst of one packet (10 pps x 10 ms rounds up to 1), then 10 per second
    assert 1 <= e1 <= 1 + 10 * result["elapsed"] + 1
    st = result["stats"]["rate_limit"]["e1"]
    assert st["rate_limit_pps"] == 10 and st["rate_limit_bps"] == 0
    assert st["passed"] == e1 and st["dropped"] == N - e1


def test_bit_rate_limit(result):
    e2 = result["fwd"][1]
    # 8000 bit/s = 1000 bytes/s, burst one jumbo frame (9216 bytes): about 9
    # of the 1000-byte frames at once, then one per second
    assert 9 <= e2 <= 10 + result["elapsed"] + 1
    st = result["stats"]["rate_limit"]["e2"]
    assert st["passed"] == e2 and st["dropped"] == N - e2
    assert "e5" not in result["stats"]["rate_limit"]


def test_drops_named_and_attributed_to_the_node(result):
    st = result["stats"]
    dropped = (N - result["fwd"][0]) + (N - result["fwd"][1])
    assert st["drops"]["rate_limited"] == dropped
    assert st["nodes"]["rate_limit"]["drops"] == {"rate_limited": dropped}


def test_on_the_outbound_arc_between_policy_and_routing(result):
    dot = result["graph"]
    assert '"policy_out"->"rate_limit"' in dot
    # routing comes next (the load balancer's lb_out and Private Link's
    # pl_out may sit in between, in that order)
    hop, path = "rate_limit", []
    for nxt in ("lb_out", "pl_out", "route_out"):
        if '"%s"->"%s"' % (hop, nxt) in dot:
            path.append(nxt)
            hop = nxt
    assert path and path[-1] == "route_out", path
    assert '"policy_out"->"route_out"' not in dot


def test_fields_are_eni_fields(result):
    assert result["e1"]["rate_limit_pps"] == 10
    enis = [e for o in result["state"]["ops"] if o["method"] == "eni.add"
            for e in o["params"].get("entries", [o["params"]])]
    e2 = next(e for e in enis if e["name"] == "e2")
    assert e2["rate_limit_bps"] == 8000
    bad = result["bad"]
    assert bad is not None and bad.code == -32602
    assert bad.data["field"] == "rate_limit_pps"
    assert result["e1_after_bad"]["rate_limit_pps"] == 10
