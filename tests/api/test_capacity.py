# SPDX-License-Identifier: BSD-3-Clause
"""Capacity (1004) with small `tables` limits in the daemon config."""

import pytest

from rpc import rows

LIMITS = {"mappings": 10, "vnets": 4}


@pytest.fixture(scope="module")
def daemon(make_daemon):
    return make_daemon(tables=LIMITS)


def mapping(i):
    return {"vnet": "cap-v", "ip": f"10.70.0.{i}", "underlay_ip": f"198.51.100.{i}",
            "mac": f"02:00:00:00:70:{i:02x}"}


def test_mapping_capacity(client):
    client.call("vnet.add", {"name": "cap-v", "vni": 7000})
    for i in range(1, 11):
        client.call("mapping.add", mapping(i))
    before = client.call("state.get")
    err = client.error("mapping.add", mapping(11))
    assert err.code == 1004, err
    assert client.call("state.get") == before

    # Full table: an identical add is still a success (nothing to store).
    client.call("mapping.add", mapping(3))
    # Deleting frees a slot.
    client.call("mapping.delete", {"vnet": "cap-v", "ip": "10.70.0.1"})
    client.call("mapping.add", mapping(11))
    assert len(rows(client.call("mapping.list", {"vnet": "cap-v"}))) == 10
    for i in range(2, 12):
        client.call("mapping.delete", {"vnet": "cap-v", "ip": f"10.70.0.{i}"})


def test_bulk_over_capacity_adds_nothing(client):
    client.call("vnet.add", {"name": "cap-v", "vni": 7000})
    client.call("mapping.add", {"entries": [mapping(i) for i in range(1, 6)]})
    before = client.call("state.get")
    err = client.error("mapping.add", {"entries": [mapping(i) for i in range(1, 13)]})
    assert err.code == 1004, err
    assert client.call("state.get") == before
    # Exactly up to the limit is fine.
    client.call("mapping.add", {"entries": [mapping(i) for i in range(1, 11)]})
    assert len(rows(client.call("mapping.list", {"vnet": "cap-v"}))) == 10
    client.call("txn", {"ops": [{"method": "mapping.delete",
                                 "params": {"vnet": "cap-v", "ip": f"10.70.0.{i}"}}
                                for i in range(1, 11)]})


def test_capacity_in_txn_names_the_op(client):
    client.call("vnet.add", {"name": "cap-v", "vni": 7000})
    before = client.call("state.get")
    vnets = len(rows(client.call("vnet.list"), "vnets"))
    ops = [{"method": "vnet.add", "params": {"name": f"cap-x{i}", "vni": 7100 + i}}
           for i in range(4 - vnets + 1)]
    err = client.error("txn", {"ops": ops})
    assert err.code == 1004 and err.index == len(ops) - 1, err
    assert client.call("state.get") == before
