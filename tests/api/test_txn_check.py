# SPDX-License-Identifier: BSD-3-Clause
"""txn.check (validate a txn completely, apply nothing), `sswitchctl txn
--dry-run`, `sswitchctl state diff` and `sswitchctl show` against a live
daemon."""

import json
import re

import pytest

from test_sswitchctl import run


def ops(*pairs):
    return {"ops": [{"method": m, "params": p} for m, p in pairs]}


@pytest.fixture(scope="module")
def small(make_daemon):
    """A daemon with room for 3 VNETs and a small ENI/ACL set-up."""
    d = make_daemon(tables={"vnets": 3})
    c = d.client()
    c.call("vnet.add", {"name": "tc-v1", "vni": 3101})
    c.call("eni.add", {"name": "tc-e1", "mac": "02:00:00:00:31:01", "vnet": "tc-v1",
                       "port": "host0"})
    c.call("mapping.add", {"vnet": "tc-v1", "ip": "10.31.0.1", "underlay_ip": "192.0.2.31",
                           "mac": "02:00:00:00:31:ff"})
    return d


def test_valid_txn_changes_nothing(small):
    c = small.client()
    gen = c.call("system.info")["generation"]
    state = c.call("state.get")
    r = c.call("txn.check", ops(("vnet.add", {"name": "tc-v2", "vni": 3102}),
                                ("eni.set", {"name": "tc-e1", "admin_state": "down"}),
                                ("mapping.delete", {"vnet": "tc-v1", "ip": "10.31.0.1"}),
                                ("acl_group.add", {"name": "tc-g", "family": "ipv4"}),
                                ("acl_rule.add", {"group": "tc-g", "priority": 1,
                                                  "action": "deny"})))
    assert r["valid"] is True and r["generation"] == gen
    assert r["counts"]["vnet"] == {"add": 1, "set": 0, "delete": 0}
    assert r["counts"]["eni"] == {"add": 0, "set": 1, "delete": 0}
    assert r["counts"]["mapping"] == {"add": 0, "set": 0, "delete": 1}
    assert "changes" not in r
    # nothing applied, nothing journaled, the generation did not move
    assert c.call("state.get") == state
    assert c.call("system.info")["generation"] == gen
    assert "tc-g" not in c.call("stats.get", {"scope": "acl"})["acl"]
    # and the same txn still commits afterwards (the tables were left clean)
    c.call("txn", ops(("acl_group.add", {"name": "tc-g", "family": "ipv4"}),
                      ("acl_rule.add", {"group": "tc-g", "priority": 1, "action": "deny"})))
    assert c.call("system.info")["generation"] == gen + 1


def test_invalid_txn_is_the_txn_error(small):
    c = small.client()
    bad = ops(("vnet.add", {"name": "tc-v3", "vni": 3103}),
              ("eni.add", {"name": "tc-e9", "mac": "02:00:00:00:31:09", "vnet": "nope"}))
    e_check = c.error("txn.check", bad)
    e_txn = c.error("txn", bad)
    assert e_check.code == e_txn.code == 1001
    assert e_check.field == e_txn.field == "vnet"
    assert e_check.message.startswith("ops[1]: ")
    assert e_txn.message in e_check.message
    assert c.error("txn.check", {"ops": [], "bogus": 1}).code == -32602
    assert c.error("txn.check", {}).field == "ops"


def test_capacity_is_checked(small):
    c = small.client()
    many = ops(*[("vnet.add", {"name": "tc-cap%d" % i, "vni": 3200 + i}) for i in range(3)])
    assert c.error("txn.check", many).code == 1004
    assert c.call("txn.check", ops(("vnet.add", {"name": "tc-cap", "vni": 3300})))["valid"]


def test_changes_listed(small):
    c = small.client()
    r = c.call("txn.check", {"changes": True, **ops(
        ("eni.set", {"name": "tc-e1", "vlan": 7}),
        ("vnet.add", {"name": "tc-v1", "vni": 3101}))})   # identical: no change
    assert r["changes"] == [{"op": "set", "type": "eni", "key": "tc-e1",
                             "object": {**r["changes"][0]["old"], "vlan": 7},
                             "old": r["changes"][0]["old"]}]
    assert "vlan" not in r["changes"][0]["old"]


def test_sswitchctl_dry_run_and_diff(small, sswitchctl_bin, tmp_path):
    f = tmp_path / "t.json"
    f.write_text(json.dumps(ops(("vnet.add", {"name": "tc-d1", "vni": 3401}),
                                ("eni.set", {"name": "tc-e1", "admin_state": "down"}),
                                ("mapping.delete", {"vnet": "tc-v1", "ip": "10.31.0.1"}))))
    r = run(sswitchctl_bin, "txn", "--dry-run", "-f", str(f), sock=small.socket)
    assert r.returncode == 0, r.stderr
    assert "valid" in r.stdout and re.search(r"^vnet\s+1\s+0\s+0$", r.stdout, re.M), r.stdout
    r = run(sswitchctl_bin, "state", "diff", str(f), sock=small.socket)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "+ vnet tc-d1: name=tc-d1 vni=3401" in lines
    assert "~ eni tc-e1" in lines and "    admin_state: up -> down" in lines
    assert "- mapping tc-v1/10.31.0.1" in lines
    assert lines[-1] == "1 to add, 1 to change, 1 to delete (nothing applied)"
    # the running state, diffed against itself: nothing
    backup = tmp_path / "state.json"
    backup.write_text(run(sswitchctl_bin, "state", "get", sock=small.socket).stdout)
    r = run(sswitchctl_bin, "state", "diff", str(backup), sock=small.socket)
    assert r.returncode == 0 and r.stdout.startswith("no changes"), r.stdout
    r = run(sswitchctl_bin, "--json", "txn", "--dry-run", "-f", str(f), sock=small.socket)
    assert json.loads(r.stdout)["valid"] is True
    assert run(sswitchctl_bin, "vnet", "list", "--dry-run", sock=small.socket).returncode == 2
    # nothing was applied by any of it
    c = small.client()
    assert c.call("eni.get", {"name": "tc-e1"})["admin_state"] == "up"


def test_sswitchctl_show(small, sswitchctl_bin):
    r = run(sswitchctl_bin, "show", sock=small.socket)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert out.startswith("sswitchd ") and "\nhealth: " in out
    assert re.search(r"^host0\s+host\s+up\s+1500", out, re.M), out
    assert "eni tc-e1  mac 02:00:00:00:31:01" in out
    assert re.search(r"vnet\s+tc-v1 \(vni 3101, 1 mappings\)", out), out
    assert "route_group  none" in out
    assert re.search(r"^vnet\s+\d+$", out, re.M) and re.search(r"^eni\s+1$", out, re.M)
    r = run(sswitchctl_bin, "show", "eni", "tc-e1", sock=small.socket)
    assert r.returncode == 0 and "eni tc-e1" in r.stdout and "Ports" not in r.stdout
    r = run(sswitchctl_bin, "show", "eni", "nope", sock=small.socket)
    assert r.returncode == 1 and "eni nope not found" in r.stderr
    assert run(sswitchctl_bin, "show", "bogus", sock=small.socket).returncode == 2


def test_private_link_objects_checked_then_committed(small):
    """Private Link's table (pipelines/privatelink/) goes through txn.check's
    prepare and abort like the overlay's: nothing published, and the same
    txn commits afterwards."""
    c = small.client()
    pl = ops(("eni.set", {"name": "tc-e1", "pl_underlay_ip": "100.64.0.31"}),
             ("tunnel.add", {"name": "tc-t1", "vni": 3501,
                             "underlay_ips": ["100.64.1.31", "100.64.1.32"]}),
             ("mapping.add", {"vnet": "tc-v1", "ip": "10.31.1.1", "underlay_ip": "192.0.2.32",
                              "mac": "02:00:00:00:31:fe", "routing": "privatelink",
                              "overlay_sip": "9988::/96", "overlay_dip": "1122::/96",
                              "tunnel": "tc-t1"}))
    gen = c.call("system.info")["generation"]
    r = c.call("txn.check", pl)
    assert r["valid"] is True and r["counts"]["tunnel"]["add"] == 1
    assert c.call("stats.get", {"scope": "privatelink"})["privatelink"] == {}
    assert c.call("system.info")["generation"] == gen
    c.call("txn", pl)
    assert c.call("stats.get", {"scope": "privatelink"})["privatelink"] == {
        "tc-e1": {"pl_packets": 0, "pl_bytes": 0}}
    assert c.error("txn.check", ops(("tunnel.delete", {"name": "tc-t1"}))).code == 1003
