# SPDX-License-Identifier: BSD-3-Clause
"""schema.get: every registered object type with its fields, so that
clients (sswitchctl) build their verbs and help from it. The types and
fields it lists are the ones the daemon really serves."""

import json
import os

from rpc import RpcError

EXPECTED = {"switch", "flow.config", "rdma.config", "vip", "underlay_route", "vnet",
            "direction", "acl_group", "acl_rule", "eni", "route", "mapping",
            "inbound_route", "pa_validation", "rdma.policy"}


def test_schema_lists_every_type(client):
    schema = client.call("schema.get")
    types = {t["name"]: t for t in schema["types"]}
    assert EXPECTED <= set(types)
    if os.environ.get("SS_SCHEMA_DUMP"):
        print(json.dumps(schema, separators=(",", ":")))
    for t in types.values():
        assert isinstance(t["list_key"], str) and t["list_key"]
        assert isinstance(t["singleton"], bool)
        for f in t["fields"]:
            assert {"name", "kind", "required", "key"} <= set(f)


def test_schema_matches_the_methods(client):
    """Each non-singleton type answers <type>.list under its list_key and
    every *.get it announces exists."""
    for t in client.call("schema.get")["types"]:
        if t["singleton"]:
            continue
        res = client.call(t["name"] + ".list")
        assert t["list_key"] in res, t["name"]
        if "get" in t["methods"]:
            err = client.error(t["name"] + ".get", {"name": "no-such-object"})
            assert err.code == 1001, (t["name"], err)


def test_schema_field_details(client):
    types = {t["name"]: t for t in client.call("schema.get")["types"]}
    vnet = {f["name"]: f for f in types["vnet"]["fields"]}
    assert vnet["name"]["key"] and vnet["name"]["kind"] == "name"
    assert vnet["vni"] == {"name": "vni", "kind": "uint", "required": True, "key": False,
                           "min": 1, "max": 16777215}
    mapping = {f["name"]: f for f in types["mapping"]["fields"]}
    assert mapping["vnet"]["ref"] == "vnet"
    assert mapping["use_dst_vni"]["default"] is False
    route = {f["name"]: f for f in types["route"]["fields"]}
    assert route["action"]["values"] == ["vnet", "vnet_direct", "direct", "drop"]
    assert types["route"]["filter"] == "group"
    # capacities: the config's tables section, or the type's own
    assert types["vnet"]["capacity"] == 16384
    assert types["direction"]["capacity"] == 4096
    assert "capacity" not in types["switch"]
    # referenced types come first (state.get emits in this order)
    order = [t["name"] for t in client.call("schema.get")["types"]]
    assert order.index("vnet") < order.index("eni") < order.index("inbound_route")
    assert order.index("acl_group") < order.index("eni")


def test_schema_takes_no_params(client):
    try:
        client.call("schema.get", {"type": "vnet"})
    except RpcError as e:
        assert e.code == -32602 and e.data.get("field") == "type"
    else:
        raise AssertionError("schema.get accepted a parameter")
