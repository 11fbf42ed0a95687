"""RDMA steering under control-plane changes (SPEC 3.7, section 4): rdma.config
through the bootstrap (DSCPs, QP table size), policy changes while running
(counters survive a rebuild of the table, deleted policies disappear),
stats.clear, QP idle aging, rdma.qp.list parameters, and the `rdma` section
of the config file.
"""
import os
import time

import pytest

from sswitch import Daemon, Port, RpcError, REPO
from test_rdma import (GPU, HOST_MAC, STOR_MAC, NH_STOR, TARGET, RETH, W, CNP, POLICIES,
                       roce4, psn_of, icrc)


def ports(host_rx, stor_rx=()):
    return [Port("host0", "host", rx=list(host_rx), mac=HOST_MAC),
            Port("stor0", "storage", rx=list(stor_rx), mac=STOR_MAC),
            Port("host1", "host", mac="02:00:00:00:00:02")]


def by_psn(d, port="stor0", queues=(0, 1)):
    out = {}
    for q in queues:
        for p in d.output(port, q):
            out[psn_of(bytes(p))[0]] = (q, p)
    return out


def test_rdma_config_from_bootstrap(tmp_path):
    """DSCPs and the QP table size of rdma.config apply to the data plane."""
    cfg = {"method": "rdma.config", "params": {"data_dscp": 18, "cnp_dscp": 46,
                                                "qp_table_size": 4}}
    pk = [roce4(GPU, TARGET, W, 10 + i, dqpn=0x200 + i, payload=RETH) for i in range(6)]
    pk.append(roce4(GPU, TARGET, CNP, 20, dqpn=0x200, payload=b"\x00" * 16))
    d = Daemon(tmp_path, ports(pk), bootstrap=[cfg] + POLICIES)
    d.start()
    try:
        d.wait_rx(len(pk))
        rpc = d.rpc()
        qps = rpc.call("rdma.qp.list")["qps"]
        tables = rpc.call("stats.get", {"scope": "rdma"})["rdma"]["qp_tables"]
        rpc.close()
    finally:
        d.stop()
    out = by_psn(d)
    for i in range(6):
        q, p = out[10 + i]
        assert (q, p["IP"].tos >> 2) == (1, 18)
    assert out[20][1]["IP"].tos >> 2 == 46
    # 4 QPs fit; the 2 others are steered but not tracked
    assert len(qps) == 4
    assert tables["capacity"] == 4 and tables["entries"] == 4
    assert tables["insert_failed"] == 2


def test_changes_while_running(tmp_path):
    pk = [roce4(GPU, TARGET, W, 100 + i, dqpn=0x300, payload=RETH + b"c" * 20)
          for i in range(5)]
    size = sum(len(bytes(p)) for p in pk)
    d = Daemon(tmp_path, ports(pk), bootstrap=POLICIES)
    d.start()
    try:
        d.wait_rx(len(pk))
        rpc = d.rpc()

        def pol(name):
            for p in rpc.call("rdma.policy.list")["policies"]:
                if p["name"] == name:
                    return p
            return None

        assert (pol("p-stor")["packets"], pol("p-stor")["bytes"]) == (5, size)
        # a new policy rebuilds the table: p-stor's counters are carried over
        rpc.call("rdma.policy.add", {"name": "p-new", "priority": 1,
                                     "match": {"dst_prefix": "10.70.0.0/16"},
                                     "action": {"port": "stor0", "next_hop_mac": NH_STOR}})
        new = pol("p-new")
        assert (new["packets"], new["bytes"], new["lossless"]) == (0, 0, False)
        assert new["action"]["queue"] == "default"
        assert (pol("p-stor")["packets"], pol("p-stor")["bytes"]) == (5, size)
        got = rpc.call("rdma.policy.get", {"name": "p-stor"})
        assert got["packets"] == 5 and got["lossless"] is True
        # rdma.config without a size change keeps the QP tables
        rpc.call("rdma.config", {"data_dscp": 12})
        qps = rpc.call("rdma.qp.list")["qps"]
        assert [(q["dst_qp"], q["packets"]) for q in qps] == [(0x300, 5)]
        assert pol("p-stor")["packets"] == 5
        # stats.clear: policies and QPs from zero
        rpc.call("stats.clear", {"scope": "rdma"})
        assert pol("p-stor")["packets"] == 0
        assert rpc.call("stats.get", {"scope": "rdma"})["rdma"]["policies"]["p-stor"] == {
            "packets": 0, "bytes": 0}
        assert rpc.call("rdma.qp.list")["qps"] == []
        # deleting a policy removes it everywhere
        rpc.call("rdma.policy.delete", {"name": "p-new"})
        assert pol("p-new") is None
        assert "p-new" not in rpc.call("stats.get", {"scope": "rdma"})["rdma"]["policies"]
        # a new table size replaces the tables
        rpc.call("rdma.config", {"qp_table_size": 128})
        st = rpc.call("stats.get", {"scope": "rdma"})["rdma"]["qp_tables"]
        assert (st["capacity"], st["entries"]) == (128, 0)
        # encap vnet: accepted with an existing ENI, steered in software only
        rpc.call("vnet.add", {"name": "v1", "vni": 5001})
        rpc.call("eni.add", {"name": "e1", "mac": "02:00:00:00:e1:01", "vnet": "v1",
                             "port": "host0"})
        vnet_pol = {"name": "p-vnet", "priority": 5, "match": {"dst_prefix": "10.80.0.0/16"},
                    "action": {"port": "stor0", "next_hop_mac": NH_STOR, "encap": "vnet",
                               "eni": "e1"}}
        rpc.call("rdma.policy.add", vnet_pol)
        got = pol("p-vnet")
        assert (got["action"]["encap"], got["action"]["eni"]) == ("vnet", "e1")
        assert (got["offloaded"], got["packets"]) == (False, 0)
        assert "encap vnet is done in software only" in got["offload_reason"]
        # the ENI is in use while the policy refers to it
        with pytest.raises(RpcError) as e:
            rpc.call("eni.delete", {"name": "e1"})
        assert e.value.code == 1003
        # an absent ENI is refused, nothing changes
        with pytest.raises(RpcError) as e:
            rpc.call("rdma.policy.add", dict(vnet_pol, name="p-vnet2", action=dict(
                vnet_pol["action"], eni="nope")))
        assert e.value.code == 1001 and e.value.data.get("field") == "action.eni"
        assert pol("p-vnet2") is None
        rpc.call("rdma.policy.delete", {"name": "p-vnet"})
        assert pol("p-vnet") is None
        rpc.call("eni.delete", {"name": "e1"})
        # parameters of rdma.qp.list
        for bad, field in (({"limit": -1}, "limit"), ({"limit": "x"}, "limit"),
                           ({"bogus": 1}, "bogus")):
            with pytest.raises(RpcError) as e:
                rpc.call("rdma.qp.list", bad)
            assert e.value.code == -32602
            assert e.value.data.get("field") == field
        rpc.close()
    finally:
        d.stop()


def test_qp_idle_timeout(tmp_path):
    """An idle QP disappears from rdma.qp.list after qp_idle_timeout_ms."""
    cfg = {"method": "rdma.config", "params": {"qp_idle_timeout_ms": 300}}
    pk = [roce4(GPU, TARGET, W, 1 + i, dqpn=0x400, payload=RETH) for i in range(3)]
    d = Daemon(tmp_path, ports(pk), bootstrap=[cfg] + POLICIES)
    d.start()
    try:
        d.wait_rx(len(pk))
        rpc = d.rpc()
        qps = rpc.call("rdma.qp.list")["qps"]
        # wait_rx took a few hundred ms already: the entry may be gone;
        # what is listed must be this QP, and it must go
        assert all(q["dst_qp"] == 0x400 for q in qps)
        deadline = time.time() + 5
        while rpc.call("rdma.qp.list")["qps"] and time.time() < deadline:
            time.sleep(0.05)
        assert rpc.call("rdma.qp.list")["qps"] == []
        rpc.close()
    finally:
        d.stop()
    # steering itself never depended on the QP entry
    assert len(by_psn(d)) == 3


@pytest.mark.parametrize("section,message", [
    ("rdma = { data_dscp = 64; };", "rdma.data_dscp: 64 is out of range [0, 63]"),
    ("rdma = { cnp_dscp = 48; colour = 1; };", "rdma.colour: unknown key"),
    ("rdma = { qp_table_size = 0; };", "rdma.qp_table_size: 0 is out of range"),
    ("rdma = 5;", "rdma: expected a group"),
])
def test_config_section_errors(tmp_path, section, message):
    d = Daemon(tmp_path, ports([]), extra_conf=section)
    assert d.start(expect_fail=True) == 1
    assert message in d.logtext()


def test_config_section_defaults(tmp_path):
    """The `rdma` section of the config file gives rdma.config its defaults."""
    with open(os.path.join(REPO, "dataplane", "main.c")) as f:
        if "rdma_data_dscp" not in f.read():
            pytest.skip("dataplane/main.c does not pass the rdma config section to the "
                        "control plane (struct ss_ctl_conf rdma_*) yet")
    pk = [roce4(GPU, TARGET, W, 1, payload=RETH), roce4(GPU, TARGET, CNP, 2, payload=b"\0" * 16)]
    d = Daemon(tmp_path, ports(pk), bootstrap=POLICIES,
               extra_conf="rdma = { data_dscp = 22; cnp_dscp = 44; qp_table_size = 64; };")
    d.start()
    try:
        d.wait_rx(len(pk))
        rpc = d.rpc()
        cap = rpc.call("stats.get", {"scope": "rdma"})["rdma"]["qp_tables"]["capacity"]
        rpc.close()
    finally:
        d.stop()
    out = by_psn(d)
    assert out[1][1]["IP"].tos >> 2 == 22
    assert out[2][1]["IP"].tos >> 2 == 44
    assert cap == 64
    assert icrc(bytes(out[1][1])) == bytes(out[1][1])[-4:]
