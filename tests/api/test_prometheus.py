# SPDX-License-Identifier: BSD-3-Clause
"""Prometheus exposition of a live daemon: `promtool check metrics` is clean
(HELP/TYPE for every family, `_total` counters, base units), identities are
labels (ACL group and priority, RDMA policy), HEAD /metrics answers, and the
metric list of docs/operations.md is exactly what the daemon exports.

promtool comes from Debian's `prometheus` package (make deps)."""

import pathlib
import re
import shutil
import socket
import subprocess
import urllib.request

import pytest

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(scope="module")
def prom(make_daemon):
    port = _free_port()
    d = make_daemon(extra={"telemetry": {"prometheus": "127.0.0.1:%d" % port}})
    c = d.client()
    c.call("vnet.add", {"name": "pv", "vni": 6100})
    c.call("acl_group.add", {"name": "pg", "family": "ipv4"})
    for prio in (10, 20):
        c.call("acl_rule.add", {"group": "pg", "priority": prio, "action": "allow",
                                "dst": ["10.0.0.0/8"]})
    c.call("eni.add", {"name": "pe", "mac": "02:00:00:00:61:00", "vnet": "pv",
                       "port": "host0", "acl": {"outbound_v4": ["pg"]}})
    c.call("eni.set", {"name": "pe", "rate_limit_pps": 1000, "rate_limit_bps": 1000004})
    # an ENI with a pl_underlay_ip has privatelink counters (docs/privatelink.md)
    c.call("eni.set", {"name": "pe", "pl_underlay_ip": "100.64.0.50"})
    c.call("rdma.policy.add", {"name": "pp", "priority": 10,
                               "match": {"dst_prefix": "10.9.0.0/16"},
                               "action": {"port": "storage0",
                                          "next_hop_mac": "02:00:00:00:09:01"}})
    return port


def _get(port, method="GET"):
    req = urllib.request.Request("http://127.0.0.1:%d/metrics" % port, method=method)
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, dict(r.headers), r.read().decode()


def _families(text):
    fams = {}
    for line in text.splitlines():
        m = re.match(r"# TYPE (\S+) (\S+)$", line)
        if m:
            fams[m.group(1)] = m.group(2)
    return fams


def test_promtool_clean(prom):
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool not installed (Debian package prometheus; make deps)")
    _, _, text = _get(prom)
    r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, "promtool check metrics:\n" + r.stdout + r.stderr


def test_conventions(prom):
    _, hdr, text = _get(prom)
    assert hdr["Content-Type"].startswith("text/plain; version=0.0.4")
    fams = _families(text)
    helps = set(re.findall(r"^# HELP (\S+) ", text, re.M))
    assert helps == set(fams)
    for name, typ in fams.items():
        assert name.startswith("sswitch_")
        assert (typ == "counter") == name.endswith("_total"), name
        assert not re.search(r"_(ms|us|ns|kb|mb)(_|$)", name), name
    # every sample belongs to the family announced just before it
    current = None
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            current = line.split()[2]
        elif line and not line.startswith("#"):
            assert re.match(r"%s(\{| )" % re.escape(current), line), line
    assert re.search(r'^sswitch_build_info\{version="[^"]+",dpdk_version="DPDK [^"]+"\} 1$',
                     text, re.M)
    assert re.search(r'^sswitch_acl_rule_hits_total\{group="pg",priority="10"\} 0$', text, re.M)
    assert re.search(r'^sswitch_acl_rule_hits_total\{group="pg",priority="20"\} 0$', text, re.M)
    assert re.search(r'^sswitch_rdma_policy_packets_total\{policy="pp"\} 0$', text, re.M)
    assert re.search(r'^sswitch_privatelink_packets_total\{eni="pe"\} 0$', text, re.M)
    assert re.search(r'^sswitch_trace_runs_total 0$', text, re.M)
    assert re.search(r'^sswitch_rate_limit_max_packets_per_second\{eni="pe"\} 1000$', text, re.M)
    assert re.search(r'^sswitch_rate_limit_max_bytes_per_second\{eni="pe"\} 125000.5$', text, re.M)
    assert re.search(r'^sswitch_flows_config_info\{max_flows="\d+",idle_timeout_ms="\d+",'
                     r'tcp_fin_timeout_ms="\d+"\} 1$', text, re.M)
    assert re.search(r'^sswitch_worker_info\{worker="0",lcore="1",tsc_hz="\d+"\} 1$', text, re.M)


def test_head(prom):
    status, hdr, body = _get(prom, "HEAD")
    assert status == 200 and body == ""
    assert int(hdr["Content-Length"]) > 1000
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen("http://127.0.0.1:%d/nope" % prom, timeout=10)
    assert e.value.code == 404


def test_documented_list_matches(prom):
    doc = DOC.read_text()
    table = doc[doc.index("<!-- metrics:begin -->"):doc.index("<!-- metrics:end -->")]
    documented = {}
    for m in re.finditer(r"^\| `(sswitch_\w+)` \| (\w+) \|([^|]*)\|", table, re.M):
        documented[m.group(1)] = (m.group(2), sorted(re.findall(r"`(\w+)`", m.group(3))))
    _, _, text = _get(prom)
    fams = _families(text)
    assert set(fams) - set(documented) == set(), "exported, not in docs/operations.md"
    assert set(documented) - set(fams) == set(), "in docs/operations.md, not exported"
    for name, (typ, labels) in documented.items():
        assert fams[name] == typ, name
        seen = set()
        for m in re.finditer(r"^%s\{([^}]*)\}" % re.escape(name), text, re.M):
            seen |= set(re.findall(r'(\w+)="', m.group(1)))
        if seen:
            assert sorted(seen) == labels, name
