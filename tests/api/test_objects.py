# SPDX-License-Identifier: BSD-3-Clause
"""The object methods of SPEC section 4 through the real socket: success,
idempotency (identical add and absent delete succeed, same key with other
content is 1002), references (1001 naming the referring field), dependencies
(1003, no cascade), validation (-32602 with data.field paths) and bulk
`entries` (all or nothing)."""

import copy

import pytest

from rpc import rows, state_objects

MAC = "02:00:00:00:{:02x}:{:02x}"


@pytest.fixture(scope="module")
def deps(daemon):
    """Objects the cases below refer to."""
    c = daemon.client()
    c.call("vnet.add", {"name": "dep-vnet", "vni": 5000, "gateway_ip": "10.50.0.1"})
    c.call("vnet.add", {"name": "dep-vnet2", "vni": 5001})
    c.call("eni.add", {"name": "dep-eni", "mac": "02:00:00:00:50:00", "vnet": "dep-vnet",
                       "port": "host0"})
    c.call("acl_group.add", {"name": "dep-g4", "family": "ipv4"})
    c.call("acl_group.add", {"name": "dep-g6", "family": "ipv6"})
    return c


def matches(obj, key):
    return all(obj.get(k) == v for k, v in key.items())


def in_state(c, method, key):
    return [o for o in state_objects(c.call("state.get"), method) if matches(o, key)]


# (id, add method, params, variant with the same key, delete params,
#  list method and params or None)
CASES = [
    ("vip", "vip.add", {"ip": "192.0.2.50"}, None, {"ip": "192.0.2.50"}, None),
    ("vip6", "vip.add", {"ip": "2001:db8::50"}, None, {"ip": "2001:db8::50"}, None),
    ("underlay_route", "underlay_route.add",
     {"prefix": "198.51.100.0/24",
      "next_hops": [{"port": "fabric0", "mac": "02:00:00:00:fe:01"}]},
     {"next_hops": [{"port": "fabric0", "mac": "02:00:00:00:fe:02"}]},
     {"prefix": "198.51.100.0/24"}, None),
    ("underlay_route6", "underlay_route.add",
     {"prefix": "2001:db8:100::/48",
      "next_hops": [{"port": "fabric0", "mac": "02:00:00:00:fe:01"},
                    {"port": "fabric0", "mac": "02:00:00:00:fe:03"}]},
     {"next_hops": [{"port": "fabric0", "mac": "02:00:00:00:fe:01"}]},
     {"prefix": "2001:db8:100::/48"}, None),
    ("vnet", "vnet.add", {"name": "idem-v", "vni": 5100, "gateway_ip": "10.51.0.1",
                          "gateway_ip6": "fd00:51::1"},
     {"vni": 5101}, {"name": "idem-v"}, ("vnet.list", {})),
    ("eni", "eni.add", {"name": "idem-e", "mac": "02:00:00:00:51:00", "vnet": "dep-vnet",
                        "port": "host0", "vlan": 100, "admin_state": "up",
                        "route_group": "idem-rg", "dscp": 10,
                        "acl": {"outbound_v4": ["dep-g4"], "inbound_v6": ["dep-g6"]}},
     {"vlan": 101}, {"name": "idem-e"}, ("eni.list", {})),
    ("eni_appliance", "eni.add", {"name": "idem-app", "mac": "02:00:00:00:51:01",
                                  "vnet": "dep-vnet", "vm_underlay_ip": "198.51.100.20",
                                  "vm_vni": 5000},
     {"vm_vni": 5001}, {"name": "idem-app"}, ("eni.list", {})),
    ("direction", "direction.add", {"vni": 5200}, None, {"vni": 5200}, None),
    ("route", "route.add", {"group": "idem-rg", "prefix": "10.52.0.0/16", "action": "vnet",
                            "vnet": "dep-vnet"},
     {"action": "drop", "vnet": None}, {"group": "idem-rg", "prefix": "10.52.0.0/16"},
     ("route.list", {"group": "idem-rg"})),
    ("route_direct", "route.add", {"group": "idem-rg", "prefix": "0.0.0.0/0",
                                   "action": "direct"},
     {"action": "drop"}, {"group": "idem-rg", "prefix": "0.0.0.0/0"},
     ("route.list", {"group": "idem-rg"})),
    ("route_vnet_direct", "route.add", {"group": "idem-rg", "prefix": "fd00:52::/64",
                                        "action": "vnet_direct", "vnet": "dep-vnet",
                                        "overlay_ip": "fd00:52::7"},
     {"overlay_ip": "fd00:52::8"}, {"group": "idem-rg", "prefix": "fd00:52::/64"},
     ("route.list", {"group": "idem-rg"})),
    ("mapping", "mapping.add", {"vnet": "dep-vnet", "ip": "10.53.0.5",
                                "underlay_ip": "198.51.100.53", "mac": "02:00:00:00:53:05"},
     {"underlay_ip": "198.51.100.54"}, {"vnet": "dep-vnet", "ip": "10.53.0.5"},
     ("mapping.list", {"vnet": "dep-vnet"})),
    ("mapping6", "mapping.add", {"vnet": "dep-vnet", "ip": "fd00:53::5",
                                 "underlay_ip": "2001:db8::53", "mac": "02:00:00:00:53:06",
                                 "use_dst_vni": True},
     {"use_dst_vni": False}, {"vnet": "dep-vnet", "ip": "fd00:53::5"},
     ("mapping.list", {"vnet": "dep-vnet"})),
    ("inbound_route", "inbound_route.add",
     {"eni": "dep-eni", "vni": 5000, "src_prefix": "198.51.100.0/24", "priority": 10,
      "action": "decap"},
     {"action": "decap_pa_validate", "vnet": "dep-vnet"},
     {"eni": "dep-eni", "vni": 5000, "src_prefix": "198.51.100.0/24", "priority": 10},
     None),
    ("pa_validation", "pa_validation.add", {"vnet": "dep-vnet", "underlay_ip": "198.51.100.99"},
     None, {"vnet": "dep-vnet", "underlay_ip": "198.51.100.99"}, None),
    ("acl_group", "acl_group.add", {"name": "idem-g", "family": "ipv4"},
     {"family": "ipv6"}, {"name": "idem-g"}, None),
    ("acl_rule", "acl_rule.add",
     {"group": "dep-g4", "priority": 100, "action": "allow", "terminating": True,
      "src": ["10.0.0.0/8"], "dst": ["10.1.0.0/16", "10.2.0.0/16"], "protocols": [6, 17],
      "src_ports": [], "dst_ports": [443, "8000-8080"]},
     {"action": "deny"}, {"group": "dep-g4", "priority": 100}, None),
    ("acl_rule6", "acl_rule.add",
     {"group": "dep-g6", "priority": 5, "action": "deny", "terminating": False,
      "dst": ["fd00::/8"]},
     {"terminating": True}, {"group": "dep-g6", "priority": 5}, None),
    ("rdma_policy", "rdma.policy.add",
     {"name": "idem-p", "priority": 10,
      "match": {"dst_prefix": "10.90.0.0/16", "src_prefix": "10.91.0.0/16", "dst_qp": 17},
      "action": {"port": "storage0", "next_hop_mac": "02:00:00:00:90:01",
                 "queue": "lossless", "dscp": 26, "pcp": 3, "encap": "none"}},
     {"priority": 11}, {"name": "idem-p"}, ("rdma.policy.list", {})),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_add_idempotent_conflict_delete(client, deps, case):
    _, add, params, variant, delete_params, lister = case
    obj = add.rsplit(".", 1)[0]
    key = delete_params   # the identity of the object
    # Every type has a list method; the named ones a get.
    lister = lister or (f"{obj}.list", {})

    client.call(add, params)
    assert len(in_state(client, add, key)) == 1, "added object not in state.get"
    listed = [r for r in rows(client.call(*lister)) if matches(r, key)]
    assert len(listed) == 1, f"{lister[0]} does not show the object"
    # A list shows the stored object (features may add runtime fields).
    stored = in_state(client, add, key)[0]
    assert {k: listed[0].get(k) for k in stored} == stored, "list and state.get disagree"
    if obj in ("vnet", "eni", "acl_group", "rdma.policy"):
        got = client.call(f"{obj}.get", {"name": params["name"]})
        assert matches(got, key) and got.get("priority") == params.get("priority")

    # Identical add: success, still one object.
    client.call(add, copy.deepcopy(params))
    assert len(in_state(client, add, key)) == 1

    if variant is not None:
        other = copy.deepcopy(params)
        for k, v in variant.items():
            if v is None:
                other.pop(k, None)
            else:
                other[k] = v
        err = client.error(add, other)
        assert err.code == 1002, err
        # The stored object is unchanged.
        stored = in_state(client, add, key)
        assert len(stored) == 1
        for k, v in variant.items():
            assert stored[0].get(k) == params.get(k), f"{k} changed by a refused add"

    client.call(f"{obj}.delete", delete_params)
    assert in_state(client, add, key) == [], "deleted object still in state.get"
    assert not [r for r in rows(client.call(*lister)) if matches(r, key)]
    if obj in ("vnet", "eni", "acl_group", "rdma.policy"):
        err = client.error(f"{obj}.get", {"name": params["name"]})
        assert err.code == 1001 and err.field == "name"

    # Deleting an absent object succeeds.
    client.call(f"{obj}.delete", delete_params)


def test_generation_counts_commits(client, deps):
    g0 = client.call("system.info")["generation"]
    client.call("vnet.add", {"name": "gen-v", "vni": 5300})
    g1 = client.call("system.info")["generation"]
    assert g1 > g0
    client.call("vnet.list")
    assert client.call("system.info")["generation"] == g1, "a read changed the generation"
    client.call("vnet.delete", {"name": "gen-v"})
    assert client.call("system.info")["generation"] > g1


def test_switch_set(client):
    client.call("switch.set", {"underlay_ip": "192.0.2.1", "underlay_ip6": "2001:db8::1",
                               "mac": "02:00:00:00:00:aa"})
    client.call("switch.set", {"underlay_ip": "192.0.2.1", "underlay_ip6": "2001:db8::1",
                               "mac": "02:00:00:00:00:aa"})
    sets = state_objects(client.call("state.get"), "switch.set")
    assert sets and sets[-1]["underlay_ip"] == "192.0.2.1"
    assert sets[-1]["mac"] == "02:00:00:00:00:aa"


# -- eni.set / eni.get / lists -------------------------------------------------------

def test_eni_get_set(client, deps):
    client.call("eni.add", {"name": "set-e", "mac": "02:00:00:00:54:00", "vnet": "dep-vnet",
                            "port": "host0"})
    got = client.call("eni.get", {"name": "set-e"})
    got = got.get("eni", got)
    assert got["name"] == "set-e" and got["vnet"] == "dep-vnet"
    assert got.get("admin_state", "up") == "up"
    assert not got.get("vlan"), "an untagged ENI has no vlan"

    client.call("eni.set", {"name": "set-e", "admin_state": "down"})
    got = client.call("eni.get", {"name": "set-e"})
    assert got.get("eni", got)["admin_state"] == "down"

    client.call("eni.set", {"name": "set-e", "acl": {"outbound_v4": ["dep-g4"]}})
    got = client.call("eni.get", {"name": "set-e"})
    got = got.get("eni", got)
    assert got["acl"]["outbound_v4"] == ["dep-g4"]
    assert got["admin_state"] == "down", "eni.set changed a field it was not given"

    err = client.error("eni.set", {"name": "set-e", "admin_state": "sideways"})
    assert err.code == -32602 and err.field == "admin_state"
    client.call("eni.delete", {"name": "set-e"})


def test_eni_vlan_zero_is_untagged(client, deps):
    client.call("eni.add", {"name": "v0-e", "mac": "02:00:00:00:54:01", "vnet": "dep-vnet",
                            "port": "host0", "vlan": 0})
    got = client.call("eni.get", {"name": "v0-e"})
    assert not got.get("eni", got).get("vlan")
    client.call("eni.delete", {"name": "v0-e"})


def test_lists_filter(client, deps):
    client.call("mapping.add", {"vnet": "dep-vnet2", "ip": "10.55.0.1",
                                "underlay_ip": "198.51.100.55", "mac": "02:00:00:00:55:01"})
    client.call("route.add", {"group": "rg-a", "prefix": "10.55.0.0/16", "action": "drop"})
    client.call("route.add", {"group": "rg-b", "prefix": "10.56.0.0/16", "action": "drop"})
    maps = rows(client.call("mapping.list", {"vnet": "dep-vnet2"}))
    assert [m["ip"] for m in maps] == ["10.55.0.1"]
    routes = rows(client.call("route.list", {"group": "rg-a"}))
    assert [r["prefix"] for r in routes] == ["10.55.0.0/16"]
    every = rows(client.call("route.list", {}))
    assert {"rg-a", "rg-b"} <= {r["group"] for r in every}
    client.call("mapping.delete", {"vnet": "dep-vnet2", "ip": "10.55.0.1"})
    client.call("route.delete", {"group": "rg-a", "prefix": "10.55.0.0/16"})
    client.call("route.delete", {"group": "rg-b", "prefix": "10.56.0.0/16"})


# -- acl_group.replace ---------------------------------------------------------------

def test_acl_group_replace(client, deps):
    rules = [{"priority": 1, "action": "allow", "dst": ["10.0.0.0/8"], "protocols": [6],
              "dst_ports": [80]},
             {"priority": 2, "action": "deny"}]
    client.call("acl_group.replace", {"name": "repl-g", "family": "ipv4", "rules": rules})
    state = client.call("state.get")
    groups = [g for g in state_objects(state, "acl_group.add") +
              state_objects(state, "acl_group.replace") if g["name"] == "repl-g"]
    prios = {r["priority"] for g in groups for r in g.get("rules", [])}
    prios |= {r["priority"] for r in state_objects(state, "acl_rule.add")
              if r["group"] == "repl-g"}
    assert prios == {1, 2}

    # A bad rule refuses the whole replace; the old rules stay.
    bad = [{"priority": 1, "action": "allow"}, {"priority": 3, "action": "maybe"}]
    err = client.error("acl_group.replace", {"name": "repl-g", "family": "ipv4", "rules": bad})
    assert err.code == -32602 and err.field == "rules[1].action"
    dup = [{"priority": 1, "action": "allow"}, {"priority": 1, "action": "deny"}]
    err = client.error("acl_group.replace", {"name": "repl-g", "family": "ipv4", "rules": dup})
    # The duplicate is named by its entry, or by the list it is in.
    assert err.code == -32602 and err.field in ("rules[1].priority", "rules")
    assert client.call("state.get") == state

    client.call("acl_group.replace", {"name": "repl-g", "family": "ipv4", "rules": []})
    client.call("acl_group.delete", {"name": "repl-g"})


# -- references to absent objects (1001) -------------------------------------------

ENI = {"name": "ref-e", "mac": "02:00:00:00:56:00", "vnet": "dep-vnet", "port": "host0"}
GOOD_MAP = {"vnet": "dep-vnet", "underlay_ip": "198.51.100.57", "mac": "02:00:00:00:57:00"}


def with_(base, **kw):
    out = copy.deepcopy(base)
    out.update(kw)
    return out


NOT_FOUND = [
    ("eni-vnet", "eni.add", with_(ENI, vnet="absent"), "vnet"),
    ("eni-acl", "eni.add", with_(ENI, acl={"outbound_v4": ["dep-g4", "absent-g"]}),
     "acl.outbound_v4[1]"),
    ("mapping-vnet", "mapping.add", {"vnet": "absent", "ip": "10.57.0.1",
                                     "underlay_ip": "198.51.100.57",
                                     "mac": "02:00:00:00:57:01"}, "vnet"),
    ("bulk-mapping-vnet", "mapping.add",
     {"entries": [with_(GOOD_MAP, ip="10.57.0.1"), with_(GOOD_MAP, ip="10.57.0.2"),
                  with_(GOOD_MAP, ip="10.57.0.3", vnet="absent")]}, "entries[2].vnet"),
    ("route-vnet", "route.add", {"group": "g", "prefix": "10.57.0.0/16", "action": "vnet",
                                 "vnet": "absent"}, "vnet"),
    ("inbound-eni", "inbound_route.add", {"eni": "absent", "vni": 5000,
                                          "src_prefix": "0.0.0.0/0", "priority": 1,
                                          "action": "decap"}, "eni"),
    ("inbound-vnet", "inbound_route.add", {"eni": "dep-eni", "vni": 5000,
                                           "src_prefix": "0.0.0.0/0", "priority": 1,
                                           "action": "decap_pa_validate", "vnet": "absent"},
     "vnet"),
    ("pa-vnet", "pa_validation.add", {"vnet": "absent", "underlay_ip": "198.51.100.1"},
     "vnet"),
    ("rule-group", "acl_rule.add", {"group": "absent", "priority": 1, "action": "allow"},
     "group"),
    ("rdma-eni", "rdma.policy.add",
     {"name": "ref-p", "priority": 1, "match": {"dst_prefix": "10.90.0.0/16"},
      "action": {"port": "storage0", "next_hop_mac": "02:00:00:00:90:01", "encap": "vnet",
                 "eni": "absent"}}, "action.eni"),
    ("eni-set", "eni.set", {"name": "absent", "admin_state": "down"}, "name"),
    ("eni-get", "eni.get", {"name": "absent"}, "name"),
]


@pytest.mark.parametrize("method,params,field", [c[1:] for c in NOT_FOUND],
                         ids=[c[0] for c in NOT_FOUND])
def test_reference_to_absent_object(client, deps, method, params, field):
    before = client.call("state.get")
    err = client.error(method, params)
    assert err.code == 1001, err
    assert err.field == field, err
    assert client.call("state.get") == before, "a refused call changed the state"


@pytest.mark.parametrize("method,params,field", [
    ("eni.add", with_(ENI, port="no-such-port"), "port"),
    ("underlay_route.add", {"prefix": "203.0.113.0/24",
                            "next_hops": [{"port": "no-such-port",
                                           "mac": "02:00:00:00:fe:01"}]},
     "next_hops[0].port"),
    ("rdma.policy.add", {"name": "port-p", "priority": 1,
                         "match": {"dst_prefix": "10.90.0.0/16"},
                         "action": {"port": "no-such-port",
                                    "next_hop_mac": "02:00:00:00:90:01"}}, "action.port"),
], ids=["eni", "underlay_route", "rdma_policy"])
def test_unknown_port(client, deps, method, params, field):
    """Ports come from the config, not the store: naming one that does not
    exist is a reference to an absent object (1001); -32602 is accepted as
    the daemon may validate port names with the params."""
    err = client.error(method, params)
    assert err.code in (1001, -32602), err
    assert err.field == field, err


# -- dependencies (1003, no cascade) ------------------------------------------------

def test_delete_in_use(client, deps):
    client.call("vnet.add", {"name": "use-v", "vni": 5400})
    client.call("mapping.add", {"vnet": "use-v", "ip": "10.58.0.1",
                                "underlay_ip": "198.51.100.58", "mac": "02:00:00:00:58:01"})
    client.call("acl_group.add", {"name": "use-g", "family": "ipv4"})
    client.call("acl_group.add", {"name": "use-g-rules", "family": "ipv4"})
    client.call("acl_rule.add", {"group": "use-g-rules", "priority": 1, "action": "allow"})
    client.call("eni.add", {"name": "use-e", "mac": "02:00:00:00:58:00", "vnet": "dep-vnet2",
                            "port": "host0", "acl": {"inbound_v4": ["use-g"]}})
    client.call("inbound_route.add", {"eni": "use-e", "vni": 5001, "src_prefix": "0.0.0.0/0",
                                      "priority": 1, "action": "decap"})

    for method, params in [
        ("vnet.delete", {"name": "use-v"}),              # a mapping uses it
        ("vnet.delete", {"name": "dep-vnet2"}),          # an ENI uses it
        ("acl_group.delete", {"name": "use-g"}),         # bound to an ENI
        ("acl_group.delete", {"name": "use-g-rules"}),   # has rules
        ("eni.delete", {"name": "use-e"}),               # an inbound route uses it
    ]:
        before = client.call("state.get")
        err = client.error(method, params)
        assert err.code == 1003, (method, params, err)
        assert client.call("state.get") == before, f"{method} cascaded"

    # Deleting the users first works.
    client.call("inbound_route.delete", {"eni": "use-e", "vni": 5001,
                                         "src_prefix": "0.0.0.0/0", "priority": 1})
    client.call("eni.delete", {"name": "use-e"})
    client.call("acl_group.delete", {"name": "use-g"})
    client.call("acl_rule.delete", {"group": "use-g-rules", "priority": 1})
    client.call("acl_group.delete", {"name": "use-g-rules"})
    client.call("mapping.delete", {"vnet": "use-v", "ip": "10.58.0.1"})
    client.call("vnet.delete", {"name": "use-v"})


# -- validation (-32602 with data.field) --------------------------------------------

MAP4 = {"vnet": "dep-vnet", "underlay_ip": "198.51.100.59", "mac": "02:00:00:00:59:00"}
RULE = {"group": "dep-g4", "priority": 200, "action": "allow"}
POLICY = {"name": "bad-p", "priority": 1, "match": {"dst_prefix": "10.90.0.0/16"},
          "action": {"port": "storage0", "next_hop_mac": "02:00:00:00:90:01"}}


def deep_with(base, path, value):
    out = copy.deepcopy(base)
    cur = out
    parts = path.split(".")
    for p in parts[:-1]:
        cur = cur[p]
    cur[parts[-1]] = value
    return out


INVALID = [
    ("vni-type", "vnet.add", {"name": "f-v", "vni": "abc"}, "vni"),
    ("vni-range", "vnet.add", {"name": "f-v", "vni": 16777216}, "vni"),
    ("vni-negative", "vnet.add", {"name": "f-v", "vni": -1}, "vni"),
    ("vni-float", "vnet.add", {"name": "f-v", "vni": 1.5}, "vni"),
    ("name-missing", "vnet.add", {"vni": 6000}, "name"),
    ("name-empty", "vnet.add", {"name": "", "vni": 6000}, "name"),
    ("gateway-ip", "vnet.add", {"name": "f-v", "vni": 6000, "gateway_ip": "10.0.0.300"},
     "gateway_ip"),
    ("gateway-ip6-family", "vnet.add", {"name": "f-v", "vni": 6000,
                                        "gateway_ip6": "10.0.0.1"}, "gateway_ip6"),
    ("unknown-field", "vnet.add", {"name": "f-v", "vni": 6000, "bogus": 1}, "bogus"),
    ("eni-mac", "eni.add", with_(ENI, mac="zz:00:00:00:00:01"), "mac"),
    ("eni-admin", "eni.add", with_(ENI, admin_state="sideways"), "admin_state"),
    ("eni-vlan", "eni.add", with_(ENI, vlan=4095), "vlan"),
    ("eni-dscp", "eni.add", with_(ENI, dscp=64), "dscp"),
    ("eni-acl-type", "eni.add", with_(ENI, acl={"outbound_v4": ["dep-g4", 5]}),
     "acl.outbound_v4[1]"),
    ("eni-acl-stages", "eni.add", with_(ENI, acl={"outbound_v4": ["dep-g4"] * 6}),
     "acl.outbound_v4"),
    ("eni-acl-key", "eni.add", with_(ENI, acl={"sideways_v4": []}), "acl.sideways_v4"),
    ("eni-acl-family", "eni.add", with_(ENI, acl={"outbound_v4": ["dep-g6"]}),
     "acl.outbound_v4[0]"),
    ("bulk-ip", "mapping.add",
     {"entries": [with_(MAP4, ip="10.59.0.1"), with_(MAP4, ip="10.59.0.2"),
                  with_(MAP4, ip="10.59.0.3"), with_(MAP4, ip="not-an-ip")]},
     "entries[3].ip"),
    ("bulk-type", "mapping.add", {"entries": "x"}, "entries"),
    ("mapping-mac", "mapping.add", with_(MAP4, ip="10.59.0.9", mac="02:00"), "mac"),
    ("route-prefix", "route.add", {"group": "g", "prefix": "10.0.0.0/33", "action": "drop"},
     "prefix"),
    ("route-action", "route.add", {"group": "g", "prefix": "10.0.0.0/8",
                                   "action": "teleport"}, "action"),
    ("rule-port-range", "acl_rule.add", with_(RULE, dst_ports=[70000]), "dst_ports[0]"),
    ("rule-port-order", "acl_rule.add", with_(RULE, dst_ports=[80, "2000-1000"]),
     "dst_ports[1]"),
    ("rule-family", "acl_rule.add", with_(RULE, src=["fd00::/8"]), "src[0]"),
    ("rule-action", "acl_rule.add", with_(RULE, action="maybe"), "action"),
    ("rule-protocol", "acl_rule.add", with_(RULE, protocols=[6, 256]), "protocols[1]"),
    ("group-family", "acl_group.add", {"name": "f-g", "family": "ipx"}, "family"),
    ("rdma-qp", "rdma.policy.add", deep_with(POLICY, "match.dst_qp", 1 << 24),
     "match.dst_qp"),
    ("rdma-queue", "rdma.policy.add", deep_with(POLICY, "action.queue", "fast"),
     "action.queue"),
    ("rdma-dscp", "rdma.policy.add", deep_with(POLICY, "action.dscp", 64), "action.dscp"),
    ("rdma-pcp", "rdma.policy.add", deep_with(POLICY, "action.pcp", 8), "action.pcp"),
    ("rdma-prefix", "rdma.policy.add", deep_with(POLICY, "match.dst_prefix", "x"),
     "match.dst_prefix"),
    ("rdma-config", "rdma.config", {"data_dscp": 64}, "data_dscp"),
    ("nh-mac", "underlay_route.add", {"prefix": "203.0.113.0/24",
                                      "next_hops": [{"port": "fabric0", "mac": "bad"}]},
     "next_hops[0].mac"),
    ("switch-family", "switch.set", {"underlay_ip": "2001:db8::1"}, "underlay_ip"),
    ("direction-vni", "direction.add", {"vni": -1}, "vni"),
    ("inbound-action", "inbound_route.add",
     {"eni": "dep-eni", "vni": 5000, "src_prefix": "0.0.0.0/0", "priority": 1,
      "action": "encap"}, "action"),
    ("flow-config", "flow.config", {"idle_timeout_ms": "soon"}, "idle_timeout_ms"),
    ("stats-scope", "stats.get", {"scope": "bogus"}, "scope"),
    ("txn-ops", "txn", {"ops": "x"}, "ops"),
]


@pytest.mark.parametrize("method,params,field", [c[1:] for c in INVALID],
                         ids=[c[0] for c in INVALID])
def test_invalid_params_name_the_field(client, deps, method, params, field):
    before = client.call("state.get")
    err = client.error(method, params)
    assert err.code == -32602, err
    assert err.field == field, err
    assert client.call("state.get") == before


def test_params_must_be_an_object(client):
    err = client.error("vnet.add", ["v", 1])
    assert err.code in (-32600, -32602)


# -- bulk entries ----------------------------------------------------------------------

def test_bulk_entries_all_or_nothing(client, deps):
    entries = [with_(MAP4, ip=f"10.60.0.{i}", underlay_ip=f"198.51.100.{i}")
               for i in range(1, 6)]
    client.call("mapping.add", {"entries": entries})
    listed = {m["ip"] for m in rows(client.call("mapping.list", {"vnet": "dep-vnet"}))}
    assert {e["ip"] for e in entries} <= listed

    # Identical entries again plus new ones: success.
    more = entries + [with_(MAP4, ip="10.60.0.6")]
    client.call("mapping.add", {"entries": more})

    # One conflicting entry refuses the whole bulk.
    before = client.call("state.get")
    bad = [with_(MAP4, ip="10.60.0.7"), with_(entries[0], underlay_ip="198.51.100.200")]
    err = client.error("mapping.add", {"entries": bad})
    assert err.code == 1002 and err.field is not None and err.field.startswith("entries[1]")
    assert client.call("state.get") == before

    for e in more:
        client.call("mapping.delete", {"vnet": e["vnet"], "ip": e["ip"]})


def test_bulk_vnets_and_enis(client, deps):
    client.call("vnet.add", {"entries": [{"name": f"bulk-v{i}", "vni": 6100 + i}
                                         for i in range(10)]})
    names = {v["name"] for v in rows(client.call("vnet.list"), "vnets")}
    assert {f"bulk-v{i}" for i in range(10)} <= names
    # Duplicate keys inside one bulk with different content: refused.
    err = client.error("vnet.add", {"entries": [{"name": "bulk-x", "vni": 6200},
                                                {"name": "bulk-x", "vni": 6201}]})
    assert err.code in (1002, -32602) and err.field.startswith("entries[1]")
    # Two VNETs may not share a VNI.
    err = client.error("vnet.add", {"name": "bulk-dup-vni", "vni": 6100})
    assert err.code in (1002, -32602)
    for i in range(10):
        client.call("vnet.delete", {"name": f"bulk-v{i}"})


def test_empty_bulk_is_a_no_op(client, deps):
    before = client.call("state.get")
    client.call("vnet.add", {"entries": []})
    assert client.call("state.get") == before
