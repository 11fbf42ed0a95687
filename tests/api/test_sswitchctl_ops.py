# SPDX-License-Identifier: BSD-3-Clause
"""sswitchctl as an operator meets it (issue 16): an unknown verb is a usage
error (exit 2), lists filter on any field and sort IP addresses as
addresses, `stats` shows every scope as a table, `info` shows the uptime as
a duration, and --help names every stats scope the daemon serves."""

import json
import re

import pytest

from test_sswitchctl import run


@pytest.fixture
def ctl(sswitchctl_bin, daemon):
    def call(*args, **kw):
        return run(sswitchctl_bin, *args, sock=daemon.socket, **kw)
    return call


def test_unknown_verb_exits_2(ctl):
    r = ctl("eni", "frob")
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "unknown verb 'frob' for 'eni'" in r.stderr
    # an unknown method through `call` is still the daemon's error
    assert ctl("call", "eni.frob", "{}").returncode == 1


def test_list_filters_on_any_field(ctl):
    for v, vni in (("ops-va", 2201), ("ops-vb", 2202)):
        assert ctl("vnet", "add", "name=" + v, "vni=%d" % vni).returncode == 0
    for i, v in enumerate(("ops-va", "ops-vb", "ops-va")):
        r = ctl("eni", "add", "name=ops-e%d" % i, "mac=02:00:00:00:22:%02x" % i, "vnet=" + v)
        assert r.returncode == 0, r.stderr
    r = ctl("--json", "eni", "list", "--vnet", "ops-va")
    assert r.returncode == 0, r.stderr
    assert sorted(e["name"] for e in json.loads(r.stdout)["enis"]) == ["ops-e0", "ops-e2"]
    r = ctl("--json", "eni", "list", "vnet=ops-va", "limit=1")
    assert [e["vnet"] for e in json.loads(r.stdout)["enis"]] == ["ops-va"]
    r = ctl("eni", "list", "--vnet", "ops-vb")
    assert r.returncode == 0 and "ops-e1" in r.stdout and "ops-e0" not in r.stdout
    # the daemon's own filter still goes to the daemon; a non-field is its error
    r = ctl("eni", "list", "--bogus", "x")
    assert r.returncode == 1 and 'unknown field "bogus"' in r.stderr


def test_lists_sort_addresses_as_addresses(ctl):
    assert ctl("vnet", "add", "name=ops-vs", "vni=2210").returncode == 0
    ips = ["10.0.0.10", "10.0.0.2", "fd00::2", "10.0.0.1", "fd00::10", "9.0.0.1"]
    entries = [{"vnet": "ops-vs", "ip": ip, "underlay_ip": "192.0.2.1",
                "mac": "02:00:00:00:00:01"} for ip in ips]
    r = ctl("mapping", "add", "entries=" + json.dumps(entries))
    assert r.returncode == 0, r.stderr
    r = ctl("mapping", "list", "--vnet", "ops-vs")
    got = [ln.split()[1] for ln in r.stdout.splitlines()[1:]]
    assert got == ["9.0.0.1", "10.0.0.1", "10.0.0.2", "10.0.0.10", "fd00::2", "fd00::10"]


def test_stats_scopes_are_tables(ctl):
    r = ctl("stats")
    assert r.returncode == 0, r.stderr
    assert "{" not in r.stdout, r.stdout           # no raw JSON blob
    assert "Flows (connection tracking)" in r.stdout
    flows = r.stdout.split("Flows (connection tracking)\n", 1)[1]
    assert flows.splitlines()[0].split() == ["COUNTER", "VALUE"]
    assert re.search(r"^max_flows\s+[\d,]+$", flows, re.M)
    r = ctl("stats", "flows")
    assert r.returncode == 0 and re.search(r"^created\s+\d+$", r.stdout, re.M)


def test_info_uptime(ctl):
    r = ctl("info")
    assert r.returncode == 0, r.stderr
    m = re.search(r"^uptime\s+(.*)$", r.stdout, re.M)
    assert m and re.fullmatch(r"(\d+d )?(\d+h )?(\d+m )?\d+s", m.group(1).strip()), r.stdout
    assert "uptime_s" not in r.stdout


def test_help_names_every_scope(ctl, sswitchctl_bin):
    scopes = set(ctl("--json", "stats").stdout and json.loads(ctl("--json", "stats").stdout))
    text = run(sswitchctl_bin, "stats", "--help").stdout.replace("\n", " ")
    listed = re.search(r"SCOPE: ([^.(]*)", text).group(1)
    listed = {w for w in re.split(r"[ ,]+", listed) if w and w != "or"}
    assert scopes and scopes <= listed, sorted(scopes - listed)
