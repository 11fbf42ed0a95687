# SPDX-License-Identifier: BSD-3-Clause
"""sswitchd --check validates what the start needs short of opening devices
(bootstrap readable and a valid txn, control.group exists, paths can be
created, the Prometheus address), and accepts every configuration key that
docs/operations.md and `sswitchd --help` document."""

import grp
import os
import pathlib
import re
import shutil
import subprocess
import tempfile

import pytest

from conftest import SSWITCHD

REPO = pathlib.Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "operations.md"


def check(conf):
    return subprocess.run([SSWITCHD, "--check", "-c", str(conf)], capture_output=True,
                          text=True, timeout=60)


def base(tmp, extra="", control=None):
    control = control or 'socket = "%s/ctl.sock"; state_file = "%s/state.json";' % (tmp, tmp)
    conf = tmp / "sswitchd.conf"
    conf.write_text("""
eal = ["--no-huge", "-m", "256", "--no-pci"];
lcores = { main = 0; workers = [1]; };
ports = ( { name = "host0"; role = "host"; devargs = "net_null0,no-rx=1"; },
          { name = "fabric0"; role = "fabric"; devargs = "net_null1,no-rx=1"; } );
control = { %s };
%s
""" % (control, extra))
    return conf


def test_valid(tmp_path):
    r = check(base(tmp_path))
    assert r.returncode == 0 and ": valid" in r.stdout, r.stderr


def test_bootstrap_missing(tmp_path):
    r = check(base(tmp_path, 'bootstrap = "nope.json";'))
    assert r.returncode == 1 and "nope.json: cannot read" in r.stderr, r.stderr


def test_bootstrap_not_a_valid_txn(tmp_path):
    (tmp_path / "b.json").write_text('{"ops": [{"method": "eni.add", "params": {"name": "e1", '
                                     '"mac": "02:00:00:00:00:01", "vnet": "absent"}}]}')
    r = check(base(tmp_path, 'bootstrap = "b.json";'))
    assert r.returncode == 1 and "vnet absent not found" in r.stderr, r.stderr
    (tmp_path / "b.json").write_text('{"ops": [')
    assert check(base(tmp_path, 'bootstrap = "b.json";')).returncode == 1
    # a port the config does not have is refused as the start would
    (tmp_path / "b.json").write_text(
        '{"ops": [{"method": "vnet.add", "params": {"name": "v", "vni": 5}},'
        ' {"method": "eni.add", "params": {"name": "e1", "mac": "02:00:00:00:00:01",'
        ' "vnet": "v", "port": "host9"}}]}')
    r = check(base(tmp_path, 'bootstrap = "b.json";'))
    assert r.returncode == 1 and "host9" in r.stderr, r.stderr
    (tmp_path / "b.json").write_text(
        '{"ops": [{"method": "vnet.add", "params": {"name": "v", "vni": 5}},'
        ' {"method": "eni.add", "params": {"name": "e1", "mac": "02:00:00:00:00:01",'
        ' "vnet": "v", "port": "host0"}}]}')
    r = check(base(tmp_path, 'bootstrap = "b.json";'))
    assert r.returncode == 0 and "a valid txn" in r.stdout, r.stderr
    assert not (tmp_path / "state.json").exists() and not (tmp_path / "ctl.sock").exists()


def test_group_must_exist(tmp_path):
    ctl = 'socket = "%s/ctl.sock"; state_file = ""; group = "nosuchgroup";' % tmp_path
    r = check(base(tmp_path, control=ctl))
    assert r.returncode == 1 and 'group "nosuchgroup" does not exist' in r.stderr, r.stderr
    ctl = 'socket = "%s/ctl.sock"; group = "%s";' % (tmp_path, grp.getgrgid(os.getgid()).gr_name)
    assert check(base(tmp_path, control=ctl)).returncode == 0


def test_paths_must_be_creatable(tmp_path):
    (tmp_path / "file").write_text("")
    ctl = 'socket = "%s/file/sub/ctl.sock"; state_file = "";' % tmp_path
    r = check(base(tmp_path, control=ctl))
    assert r.returncode == 1 and "control.socket" in r.stderr and \
        "not a directory" in r.stderr.lower(), r.stderr
    ctl = 'socket = "%s/ctl.sock"; state_file = "%s";' % (tmp_path, tmp_path)
    r = check(base(tmp_path, control=ctl))
    assert r.returncode == 1 and "control.state_file" in r.stderr
    # parents that do not exist yet are created by the daemon: fine
    ctl = 'socket = "%s/a/b/ctl.sock"; state_file = "%s/c/d/state.json";' % (tmp_path, tmp_path)
    assert check(base(tmp_path, control=ctl)).returncode == 0


def test_unwritable_directory_as_another_user(tmp_path):
    setpriv = shutil.which("setpriv")
    if os.getuid() != 0 or setpriv is None:
        pytest.skip("needs root and setpriv to run --check as nobody")
    # pytest's own tmp directories are private to root: a world-readable one
    top = pathlib.Path(tempfile.mkdtemp(prefix="sscheck-"))
    top.chmod(0o755)
    ro = top / "ro"
    ro.mkdir(mode=0o755)
    conf = base(top, control='socket = "%s/ctl.sock"; state_file = "";' % ro)
    conf.chmod(0o644)
    # the build tree may be private to root too: a copy nobody may run
    exe = top / "sswitchd"
    shutil.copy(SSWITCHD, exe)
    exe.chmod(0o755)
    r = subprocess.run([setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                        str(exe), "--check", "-c", str(conf)],
                       capture_output=True, text=True, timeout=60)
    shutil.rmtree(top)
    assert r.returncode == 1 and "cannot create it in %s" % ro in r.stderr, r.stderr


def test_prometheus_address(tmp_path):
    r = check(base(tmp_path, 'telemetry = { prometheus = "localhost:9469"; };'))
    assert r.returncode == 1 and "not an IP address" in r.stderr
    assert check(base(tmp_path, 'telemetry = { prometheus = "[::1]:9469"; };')).returncode == 0


# -- every documented key -------------------------------------------------------

def doc_keys():
    """Top-level and dotted keys of docs/operations.md's configuration table,
    and the keys of its port table."""
    text = DOC.read_text()
    ref = text.split("## Configuration reference", 1)[1].split("\n## ", 1)[0]
    top, ports = set(), set()
    main, port_part = ref.split("### Ports", 1)
    for line in main.splitlines():
        m = re.match(r"\| `([\w.*]+)` \|", line)
        if not m:
            continue
        if m.group(1) == "tables.*":
            top |= {"tables." + t for t in re.findall(r"`(\w+)`", line.split("|")[4])}
        else:
            top.add(m.group(1))
    for line in port_part.splitlines():
        m = re.match(r"\| `(\w+)` \|", line)
        if m:
            ports.add(m.group(1))
    return top, ports


def help_keys():
    """The keys `sswitchd --help` shows in its CONFIGURATION section: each
    `group = { key = ...; }` and the port keys, those of the example and the
    "Optional:" list."""
    out = subprocess.run([SSWITCHD, "--help"], capture_output=True, text=True).stdout
    conf = out.split("CONFIGURATION", 1)[1].split("\nOBSERVABILITY", 1)[0]
    blocks, group = {}, None
    for line in conf.splitlines():
        m = re.match(r"    (\w+)\s*=\s*(.*)", line)
        if m:
            group = m.group(1)
            blocks[group] = m.group(2)
        elif group and line.startswith("     "):
            blocks[group] += " " + line.strip()
    top, ports = set(), set()
    for group, text in blocks.items():
        if group == "ports":
            ports |= set(re.findall(r"(\w+) = ", text))
            optional = re.sub(r"\([^)]*\)", "", text.split("Optional:", 1)[1].split(".", 1)[0])
            ports |= {w.strip() for w in optional.split(",") if w.strip()}
        elif text.startswith("{"):
            top |= {"%s.%s" % (group, k) for k in re.findall(r"(\w+) = ", text)}
        else:
            top.add(group)
    return top, ports


def sample(key, tmp):
    values = {
        "eal": '["--no-huge", "-m", "256", "--no-pci"]',
        "lcores.main": "0", "lcores.workers": "[1]",
        "control.socket": '"%s/ctl.sock"' % tmp, "control.state_file": '"%s/state.json"' % tmp,
        "control.group": '"%s"' % grp.getgrgid(os.getgid()).gr_name,
        "flows.max_flows": "65536", "flows.idle_timeout_ms": "20000",
        "flows.tcp_fin_timeout_ms": "1000",
        "rdma.data_dscp": "24", "rdma.cnp_dscp": "46", "rdma.qp_table_size": "4096",
        "rdma.qp_idle_timeout_ms": "30000",
        "telemetry.prometheus": '"127.0.0.1:9469"', "bootstrap": '"boot.json"',
        "mbufs": "16384", "stats_interval_s": "2",
        "control.idle_timeout_s": "600", "control.request_timeout_ms": "5000",
        "control.max_clients": "64", "control.max_clients_per_uid": "16",
        "control.max_buffered_mb": "256", "control.snapshot_interval_s": "5",
        "ipfix.collector": '"127.0.0.1:4739"', "ipfix.observation_domain": "7",
        "ipfix.active_timeout_s": "60", "ipfix.template_refresh_s": "600",
        "ha.role": '"standby"', "ha.listen": '"127.0.0.1:7700"', "ha.peer": '"127.0.0.1:7701"',
        "ha.auto_failover": "true", "ha.peer_timeout_ms": "500",
    }
    if key.startswith("tables."):
        return "1000"
    assert key in values, "documented key %s has no sample value in this test: add one" % key
    return values[key]


PORT_SAMPLES = {
    "name": None, "devargs": None, "role": None, "mtu": "9000", "peer": None,
    "rx_queues": "1", "lossless_lane": "true", "mac": '"02:00:00:00:00:01"',
}


def test_every_documented_key_is_accepted(tmp_path):
    dtop, dports = doc_keys()
    htop, hports = help_keys()
    assert {"control.group", "rdma.qp_table_size", "telemetry.prometheus"} <= dtop
    assert {"mtu", "peer", "rx_queues", "mac", "lossless_lane"} <= dports & hports
    # what --help names, docs/operations.md documents
    assert htop - {"ports"} <= dtop, sorted(htop - dtop)
    assert hports <= dports, sorted(hports - dports)
    keys = (dtop | htop) - {"ports"}
    groups = {}
    lines = []
    for k in sorted(keys):
        if "." in k:
            g, leaf = k.split(".", 1)
            groups.setdefault(g, []).append("%s = %s;" % (leaf, sample(k, tmp_path)))
        else:
            lines.append("%s = %s;" % (k, sample(k, tmp_path)))
    for g, items in groups.items():
        lines.append("%s = { %s };" % (g, " ".join(items)))
    extra = {k: v for k, v in PORT_SAMPLES.items() if v is not None}
    for k in dports | hports:
        assert k in PORT_SAMPLES, "documented port key %s has no sample value here" % k
    host = " ".join("%s = %s;" % kv for kv in extra.items())
    lines.append('ports = ( { name = "host0"; role = "host"; devargs = "net_null0,no-rx=1"; '
                 'peer = "fabric0"; %s }, '
                 '{ name = "fabric0"; role = "fabric"; devargs = "net_null1,no-rx=1"; } );' % host)
    (tmp_path / "boot.json").write_text('{"ops": [{"method": "vnet.add", '
                                        '"params": {"name": "v1", "vni": 100}}]}')
    conf = tmp_path / "all.conf"
    conf.write_text("\n".join(lines) + "\n")
    r = check(conf)
    assert r.returncode == 0 and ": valid" in r.stdout, conf.read_text() + r.stderr
    assert "rdma: data_dscp 24, cnp_dscp 46" in r.stdout
