"""The inbound flow fast path's flow-table fallback (docs/conntrack.md
"Fast path"): an inbound VXLAN packet the exact-match table does not hold
is found in the flow table, its ENI and delivery from the per-worker
resolution cache (port, outer source, VIP, VNI, tenant destination MAC),
which only packets the full path delivered write.

Proved with `flow_fast_table_hits`: with more flows than exact-match
entries every frame still comes out as the full path decapsulates it; a
flow's packet taken from the flow table sees a change made after its
resolution was cached (VIP withdrawn, ENI down, PA no longer valid,
inbound ACL now denying) on its next packet.
"""
import os
import struct
import sys

import pytest

from sswitch import Daemon, Port
from test_flow_cache import taps  # noqa: F401 - taps is a fixture
from test_flow_fast import inbound
from test_overlay_fixtures import M5, VIP4, VM1, tenant, vxlan_in

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "bench"))
import pcapgen  # noqa: E402
import scenarios  # noqa: E402

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists("/dev/net/tun"),
                                reason="TAP ports need root and /dev/net/tun")


def flows(t):
    return t.rpc.call("stats.get", {"scope": "flows"})["flows"]


def from_5(i, sport):
    """10.0.0.5:sport -> e1's VM 10.0.0.2:80, VXLAN from PA 100.64.1.5."""
    return vxlan_in("100.64.1.5", VIP4, 1000,
                    tenant(M5, VM1, "10.0.0.5", "10.0.0.2", i, sport=sport))


def test_second_flow_of_a_resolution_is_found_in_the_flow_table(taps):
    t = taps
    for _ in range(3):   # flow A: opened, then delivered (resolution cached)
        assert inbound(t, lambda i: from_5(i, 1000))[1] is not None
    f0 = flows(t)
    # flow B, same PA, VIP, VNI and ENI: its first packet opens it (full
    # path), its second is not in the exact-match table but in the flow table
    assert inbound(t, lambda i: from_5(i, 2000))[1] is not None
    p, o = inbound(t, lambda i: from_5(i, 2000))
    f1 = flows(t)
    assert o is not None and bytes(o) == bytes(p)[50:], "not the tenant frame"
    assert f1["flow_fast_table_hits"] == f0["flow_fast_table_hits"] + 1, (f0, f1)
    assert f1["flow_fast_hits"] == f0["flow_fast_hits"] + 1
    # and from then on the exact-match table holds it
    assert inbound(t, lambda i: from_5(i, 2000))[1] is not None
    assert flows(t)["flow_fast_table_hits"] == f1["flow_fast_table_hits"]


def _vip_withdrawn(t, rpc):
    rpc.call("vip.delete", {"ip": VIP4})
    return "vip_miss"


def _eni_down(t, rpc):
    rpc.call("eni.set", {"name": "e1", "admin_state": "down"})
    return "eni_admin_down"


def _pa_not_valid(t, rpc):
    # e1 has no inbound routes: it accepts the PAs of its VNET's mappings
    # (two map to 100.64.1.5)
    rpc.call("mapping.delete", {"vnet": "v1", "ip": "10.0.0.5"})
    rpc.call("mapping.delete", {"vnet": "v1", "ip": "fd10::5"})
    return "pa_validation_fail"


def _acl_now_denying(t, rpc):
    rpc.call("acl_group.replace", {"name": "fi4", "family": "ipv4", "rules": [
        {"priority": 1, "action": "deny", "src": ["10.0.0.5/32"]}]})
    rpc.call("eni.set", {"name": "e1", "acl": {"inbound_v4": ["fi4"]}})
    return "acl_deny"


CHANGES = {
    "vip_withdrawn": _vip_withdrawn,
    "eni_down": _eni_down,
    "pa_not_valid": _pa_not_valid,
    "acl_now_denying": _acl_now_denying,
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_change_seen_by_a_flow_table_hit(taps, change):
    t, rpc = taps, taps.rpc
    for _ in range(3):
        assert inbound(t, lambda i: from_5(i, 1000))[1] is not None
    # flow C opened: its next packet would be a flow-table hit
    assert inbound(t, lambda i: from_5(i, 3000))[1] is not None
    f0 = flows(t)
    reason = CHANGES[change](t, rpc)
    before = t.drops()
    t.n += 1
    t.send("fabric0", from_5(t.n, 3000))
    assert t.wait_drop(reason, before), "no %s drop after %s" % (reason, change)
    assert t.expect("host0", t.n, timeout=0.1) is None
    f1 = flows(t)
    assert (f1["flow_fast_hits"], f1["flow_fast_table_hits"]) == \
        (f0["flow_fast_hits"], f0["flow_fast_table_hits"]), change


# ---- more flows than exact-match entries --------------------------------------------


def _read_pcap(path):
    out = []
    with open(path, "rb") as f:
        data = f.read()
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack_from("<I", data, off + 8)[0]
        out.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return out


def _expected(frame):
    """What the full path delivers: the tenant frame, tagged 100 + k for
    the odd ENIs k (scenarios.scen_inbound_ops)."""
    inner = frame[50:]
    k = inner[5]
    if k & 1:
        return inner[:12] + struct.pack("!HH", 0x8100, 100 + k) + inner[12:]
    return inner


def test_more_flows_than_entries(tmp_path):
    nflows, reps = 20000, 3   # > the 8192 exact-match entries per worker
    frames = list(pcapgen.inbound_frames(nflows, npas=1024, enis=16))
    sent = [f for _ in range(reps) for f in frames]
    rx = str(tmp_path / "in.pcap")
    pcapgen.write_pcap(rx, sent)
    empty = str(tmp_path / "empty.pcap")
    pcapgen.write_pcap(empty, [])
    out = str(tmp_path / "out.pcap")
    ports = [Port("fabric0", "fabric", kind="raw", mac="02:00:00:00:00:aa",
                  extra="net_pcap0,rx_pcap=%s" % rx),
             Port("host0", "host", kind="raw",
                  extra="net_pcap1,rx_pcap=%s,tx_pcap=%s" % (empty, out))]
    d = Daemon(str(tmp_path), ports, bootstrap=scenarios.scen_inbound_ops(1024, 16),
               extra_conf="mbufs = 131072;", mem_mb=1024)
    d.start(timeout=120)
    try:
        d.wait_rx(len(sent), timeout=120)
        rpc = d.rpc()
        st = rpc.call("stats.get", {"scope": "flows"})["flows"]
        rpc.close()
    finally:
        d.stop()
    got = _read_pcap(out)
    assert len(got) == len(sent), "%d of %d frames delivered" % (len(got), len(sent))
    assert sorted(got) == sorted(_expected(f) for f in sent), "not the full path's frames"
    assert st["count"] == nflows, st
    # the third pass: all flows known, most not in the exact-match table
    assert st["flow_fast_table_hits"] > nflows // 2, st
    assert st["flow_fast_hits"] >= st["flow_fast_table_hits"]
