# SPDX-License-Identifier: BSD-3-Clause
"""txn (all-or-nothing, data.index of the failing op) and state.get (the
committed store, replayable through txn into a fresh daemon)."""

import pytest

from rpc import canonical_state, rows, state_objects


def populate(c):
    """A topology touching every object type."""
    c.call("switch.set", {"underlay_ip": "192.0.2.1", "underlay_ip6": "2001:db8::1",
                          "mac": "02:00:00:00:00:01"})
    c.call("vip.add", {"ip": "192.0.2.10"})
    c.call("underlay_route.add", {"prefix": "0.0.0.0/0",
                                  "next_hops": [{"port": "fabric0",
                                                 "mac": "02:00:00:00:00:fe"}]})
    c.call("vnet.add", {"name": "v1", "vni": 100, "gateway_ip": "10.0.0.1"})
    c.call("vnet.add", {"name": "v2", "vni": 200, "gateway_ip6": "fd00:2::1"})
    c.call("acl_group.add", {"name": "g1", "family": "ipv4"})
    c.call("acl_rule.add", {"group": "g1", "priority": 10, "action": "allow",
                            "dst": ["10.0.0.0/8"], "protocols": [6], "dst_ports": [443]})
    c.call("acl_rule.add", {"group": "g1", "priority": 20, "action": "deny",
                            "terminating": False})
    c.call("eni.add", {"name": "e1", "mac": "02:00:00:00:01:01", "vnet": "v1",
                       "port": "host0", "vlan": 10, "route_group": "rg1",
                       "acl": {"outbound_v4": ["g1"]}})
    c.call("eni.add", {"name": "e2", "mac": "02:00:00:00:01:02", "vnet": "v2",
                       "vm_underlay_ip": "198.51.100.2", "vm_vni": 200})
    c.call("direction.add", {"vni": 300})
    c.call("route.add", {"group": "rg1", "prefix": "10.0.0.0/8", "action": "vnet"})
    c.call("route.add", {"group": "rg1", "prefix": "0.0.0.0/0", "action": "drop"})
    c.call("mapping.add", {"entries": [
        {"vnet": "v1", "ip": f"10.0.0.{i}", "underlay_ip": f"198.51.100.{i}",
         "mac": f"02:00:00:00:02:{i:02x}"} for i in range(2, 30)]})
    c.call("inbound_route.add", {"eni": "e1", "vni": 100, "src_prefix": "198.51.100.0/24",
                                 "priority": 1, "action": "decap_pa_validate",
                                 "vnet": "v1"})
    c.call("pa_validation.add", {"vnet": "v1", "underlay_ip": "198.51.100.2"})
    c.call("rdma.policy.add", {"name": "p1", "priority": 1,
                               "match": {"dst_prefix": "10.9.0.0/16"},
                               "action": {"port": "storage0",
                                          "next_hop_mac": "02:00:00:00:09:01"}})
    c.call("rdma.config", {"data_dscp": 24})
    c.call("flow.config", {"idle_timeout_ms": 20000})


def test_txn_applies_all_ops(client):
    client.call("txn", {"ops": [
        {"method": "vnet.add", "params": {"name": "t-v", "vni": 900}},
        # An op may refer to an object created earlier in the same txn.
        {"method": "eni.add", "params": {"name": "t-e", "mac": "02:00:00:00:90:00",
                                         "vnet": "t-v", "port": "host0"}},
        {"method": "mapping.add", "params": {"entries": [
            {"vnet": "t-v", "ip": "10.90.0.1", "underlay_ip": "198.51.100.90",
             "mac": "02:00:00:00:90:01"}]}},
    ]})
    state = client.call("state.get")
    assert [e["name"] for e in state_objects(state, "eni.add")].count("t-e") == 1
    client.call("txn", {"ops": [
        {"method": "mapping.delete", "params": {"vnet": "t-v", "ip": "10.90.0.1"}},
        {"method": "eni.delete", "params": {"name": "t-e"}},
        {"method": "vnet.delete", "params": {"name": "t-v"}},
    ]})


def test_txn_generation_moves_once(client):
    g0 = client.call("system.info")["generation"]
    client.call("txn", {"ops": [
        {"method": "vnet.add", "params": {"name": f"tg-{i}", "vni": 910 + i}}
        for i in range(5)]})
    g1 = client.call("system.info")["generation"]
    assert g1 > g0
    client.call("txn", {"ops": [{"method": "vnet.delete", "params": {"name": f"tg-{i}"}}
                                for i in range(5)]})


@pytest.mark.parametrize("bad_op,code", [
    ({"method": "eni.add", "params": {"name": "t-bad", "mac": "02:00:00:00:91:00",
                                      "vnet": "absent", "port": "host0"}}, 1001),
    ({"method": "vnet.add", "params": {"name": "t-v1", "vni": 999}}, 1002),
    ({"method": "vnet.add", "params": {"name": "t-vx", "vni": "x"}}, -32602),
    ({"method": "vnet.delete", "params": {"name": "t-used"}}, 1003),
], ids=["not-found", "exists", "invalid", "in-use"])
def test_txn_is_atomic(client, bad_op, code):
    client.call("vnet.add", {"name": "t-used", "vni": 920})
    client.call("eni.add", {"name": "t-user", "mac": "02:00:00:00:92:00", "vnet": "t-used",
                            "port": "host0"})
    before = client.call("state.get")
    g0 = client.call("system.info")["generation"]
    err = client.error("txn", {"ops": [
        {"method": "vnet.add", "params": {"name": "t-v1", "vni": 921}},
        {"method": "mapping.add", "params": {"vnet": "t-v1", "ip": "10.91.0.1",
                                             "underlay_ip": "198.51.100.91",
                                             "mac": "02:00:00:00:91:01"}},
        bad_op,
        {"method": "vnet.add", "params": {"name": "t-v3", "vni": 923}},
    ]})
    assert err.code == code, err
    assert err.index == 2, f"data.index must name the failing op: {err.data}"
    assert client.call("state.get") == before, "a failed txn left changes behind"
    assert client.call("system.info")["generation"] == g0
    client.call("eni.delete", {"name": "t-user"})
    client.call("vnet.delete", {"name": "t-used"})


def test_txn_field_path_is_inside_the_op(client):
    err = client.error("txn", {"ops": [
        {"method": "mapping.add", "params": {"entries": [
            {"vnet": "nope", "ip": "10.92.0.1", "underlay_ip": "198.51.100.92",
             "mac": "02:00:00:00:92:01"}]}}]})
    assert err.code == 1001 and err.index == 0
    assert err.field is not None and err.field.endswith("entries[0].vnet")


@pytest.mark.parametrize("ops,code", [
    ([{"method": "no.such", "params": {}}], (-32601, -32602)),
    ([{"params": {}}], (-32602,)),
    ([{"method": "vnet.add"}], (-32602,)),
    (["x"], (-32602,)),
    ([{"method": "txn", "params": {"ops": []}}], (-32602, -32601, 1005)),
    ([{"method": "state.get", "params": {}}], (-32602, -32601, 1005)),
], ids=["unknown-method", "no-method", "no-params", "not-object", "nested-txn",
        "read-method"])
def test_txn_bad_ops(client, ops, code):
    before = client.call("state.get")
    err = client.error("txn", {"ops": [{"method": "vnet.add",
                                        "params": {"name": "tb", "vni": 930}}] + ops})
    assert err.code in code, err
    assert err.index == 1, err.data
    assert client.call("state.get") == before


def test_empty_txn(client):
    before = client.call("state.get")
    client.call("txn", {"ops": []})
    assert client.call("state.get") == before


def test_state_get_shape_and_replay(make_daemon, daemon, client):
    populate(client)
    state = client.call("state.get")
    assert set(state) >= {"ops"}
    for op in state["ops"]:
        assert set(op) == {"method", "params"}, op
        assert isinstance(op["method"], str) and isinstance(op["params"], dict)
    methods = {op["method"] for op in state["ops"]}
    for m in ("switch.set", "vip.add", "underlay_route.add", "vnet.add", "acl_group.add",
              "eni.add", "direction.add", "route.add", "mapping.add", "inbound_route.add",
              "pa_validation.add", "rdma.policy.add"):
        assert m in methods, f"{m} missing from state.get"
    assert len([o for o in state_objects(state, "mapping.add") if o["vnet"] == "v1"]) == 28

    # The state replays through txn into a fresh daemon, giving the same state.
    fresh = make_daemon()
    with fresh.client() as c2:
        assert state_objects(c2.call("state.get"), "vnet.add") == []
        c2.call("txn", state)
        again = c2.call("state.get")
        assert canonical_state(again) == canonical_state(state)
        # ...and replaying it a second time is a no-op (idempotent adds).
        c2.call("txn", state)
        assert canonical_state(c2.call("state.get")) == canonical_state(state)
        assert {v["name"] for v in rows(c2.call("vnet.list"), "vnets")} >= {"v1", "v2"}
    fresh.stop_and_check()


def test_state_survives_clean_restart(make_daemon):
    d = make_daemon()
    with d.client() as c:
        populate(c)
        state = c.call("state.get")
    d.stop_and_check()
    d.start()
    with d.client() as c:
        assert canonical_state(c.call("state.get")) == canonical_state(state)
    d.stop_and_check()
