# SPDX-License-Identifier: BSD-3-Clause
"""sswitchctl end to end: the built client against a real daemon (and
against no daemon, or one that never answers)."""

import json
import os
import pathlib
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import pytest


def run(binary, *args, sock=None, env=None, timeout=30, stdin=None):
    e = dict(os.environ)
    e.pop("SSWITCH_SOCKET", None)
    if env:
        e.update(env)
    cmd = [binary] + (["-s", sock] if sock else []) + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, env=e, timeout=timeout,
                          input=stdin)


@pytest.fixture
def ctl(sswitchctl_bin, daemon):
    def call(*args, **kw):
        return run(sswitchctl_bin, *args, sock=daemon.socket, **kw)
    return call


# -- with a daemon ----------------------------------------------------------------

def test_vnet_add_and_list_table(ctl):
    r = ctl("vnet", "add", "name=ctl-v1", "vni=1100", "gateway_ip=10.11.0.1")
    assert r.returncode == 0, r.stderr
    r = ctl("vnet", "list")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    header = lines[0].split()
    assert header[:2] == ["NAME", "VNI"], r.stdout
    row = [ln.split() for ln in lines[1:] if ln.split()[:1] == ["ctl-v1"]]
    assert row, r.stdout
    assert "1100" in row[0] and "10.11.0.1" in row[0]


def test_json_output_parses(ctl):
    ctl("vnet", "add", "name=ctl-v2", "vni=1101")
    r = ctl("--json", "vnet", "list")
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    vnets = result if isinstance(result, list) else next(
        v for v in result.values() if isinstance(v, list))
    assert {"name": "ctl-v2", "vni": 1101}.items() <= next(
        v for v in vnets if v["name"] == "ctl-v2").items()
    # Global options may also come after the command.
    assert json.loads(ctl("vnet", "list", "--json").stdout) == result


def test_socket_from_environment(sswitchctl_bin, daemon):
    r = run(sswitchctl_bin, "info", env={"SSWITCH_SOCKET": daemon.socket})
    assert r.returncode == 0, r.stderr
    assert "host0" in r.stdout and "fabric0" in r.stdout


def test_api_error_exit_1(ctl):
    ctl("vnet", "add", "name=ctl-v3", "vni=1102")
    r = ctl("vnet", "add", "name=ctl-v3", "vni=1103")
    assert r.returncode == 1
    assert "1002" in r.stderr
    r = ctl("vnet", "add", "name=ctl-bad", "vni=abc")
    assert r.returncode == 1
    assert "-32602" in r.stderr and "field: vni" in r.stderr
    r = ctl("eni", "add", "name=ctl-e", "mac=02:00:00:00:11:00", "vnet=absent",
            "port=host0")
    assert r.returncode == 1 and "1001" in r.stderr and "field: vnet" in r.stderr
    r = ctl("--json", "vnet", "add", "name=ctl-v3", "vni=1104")
    assert r.returncode == 1
    assert json.loads(r.stdout)["error"]["code"] == 1002


def test_call_raw(ctl):
    r = ctl("call", "vnet.add", '{"name": "ctl-v4", "vni": 1105}')
    assert r.returncode == 0, r.stderr
    r = ctl("call", "system.info")
    assert r.returncode == 0 and json.loads(r.stdout)["workers"] == [1]
    r = ctl("call", "no.such.method", "{}")
    assert r.returncode == 1 and "-32601" in r.stderr


def test_dotted_keys_and_multiword_objects(ctl):
    r = ctl("rdma", "policy", "add", "name=ctl-p", "priority=5",
            "match.dst_prefix=10.12.0.0/16", "match.dst_qp=42", "action.port=storage0",
            "action.next_hop_mac=02:00:00:00:12:01")
    assert r.returncode == 0, r.stderr
    r = ctl("rdma", "policy", "list")
    assert r.returncode == 0 and "ctl-p" in r.stdout and "10.12.0.0/16" in r.stdout
    pol = [p for p in json.loads(ctl("--json", "rdma", "policy", "list").stdout)["policies"]
           if p["name"] == "ctl-p"][0]
    assert pol["match"]["dst_qp"] == 42
    assert ctl("rdma-policy", "delete", "name=ctl-p").returncode == 0

    assert ctl("acl", "group", "add", "name=ctl-g", "family=ipv4").returncode == 0
    r = ctl("acl-rule", "add", "group=ctl-g", "priority=1", "action=allow",
            "dst_ports=[80,\"1000-2000\"]", "protocols=[6]")
    assert r.returncode == 0, r.stderr
    assert ctl("acl_rule", "delete", "group=ctl-g", "priority=1").returncode == 0
    assert ctl("acl_group", "delete", "name=ctl-g").returncode == 0
    r = ctl("eni", "add", "name=ctl-e2", "mac=02:00:00:00:12:02", "vnet=ctl-v4",
            "port=host0", "acl.outbound_v4=[]")
    assert r.returncode == 0, r.stderr
    assert ctl("eni", "list").stdout.count("ctl-e2") == 1


def test_list_filters_as_options(ctl):
    ctl("vnet", "add", "name=ctl-v5", "vni=1106")
    ctl("vnet", "add", "name=ctl-v6", "vni=1107")
    ctl("mapping", "add", "vnet=ctl-v5", "ip=10.13.0.1", "underlay_ip=198.51.100.13",
        "mac=02:00:00:00:13:01")
    ctl("mapping", "add", "vnet=ctl-v6", "ip=10.14.0.1", "underlay_ip=198.51.100.14",
        "mac=02:00:00:00:14:01")
    r = ctl("mapping", "list", "--vnet", "ctl-v5")
    assert r.returncode == 0, r.stderr
    assert "10.13.0.1" in r.stdout and "10.14.0.1" not in r.stdout
    ctl("route", "add", "group=ctl-rg", "prefix=10.15.0.0/16", "action=drop")
    r = ctl("route", "list", "--group=ctl-rg")
    assert r.returncode == 0 and "10.15.0.0/16" in r.stdout


def test_bulk_from_file_and_stdin(ctl, tmp_path):
    f = tmp_path / "vnets.json"
    f.write_text(json.dumps({"entries": [{"name": f"ctl-b{i}", "vni": 1200 + i}
                                         for i in range(5)]}))
    assert ctl("vnet", "add", "-f", str(f)).returncode == 0
    r = ctl("vnet", "add", "-f", "-", stdin=json.dumps({"name": "ctl-stdin", "vni": 1210}))
    assert r.returncode == 0, r.stderr
    out = ctl("vnet", "list").stdout
    assert all(f"ctl-b{i}" in out for i in range(5)) and "ctl-stdin" in out


def test_state_get_and_txn_roundtrip(ctl, tmp_path):
    r = ctl("state", "get")
    assert r.returncode == 0
    state = json.loads(r.stdout)
    assert isinstance(state["ops"], list)
    backup = tmp_path / "backup.json"
    backup.write_text(r.stdout)
    r = ctl("txn", "-f", str(backup))
    assert r.returncode == 0, r.stderr
    ops = tmp_path / "ops.json"
    ops.write_text(json.dumps([{"method": "vnet.add",
                                "params": {"name": "ctl-txn", "vni": 1300}},
                               {"method": "vnet.add",
                                "params": {"name": "ctl-txn2", "vni": "bad"}}]))
    r = ctl("txn", "-f", str(ops))
    assert r.returncode == 1
    assert "op index: 1" in r.stderr
    assert "ctl-txn" not in ctl("vnet", "list").stdout


def test_stats_tables(ctl):
    r = ctl("stats")
    assert r.returncode == 0, r.stderr
    assert "Ports" in r.stdout and "host0" in r.stdout and "RX_PACKETS" in r.stdout
    assert "Nodes" in r.stdout and "CYCLES/PKT" in r.stdout
    r = ctl("stats", "ports")
    assert r.returncode == 0 and "host0" in r.stdout and "Nodes" not in r.stdout
    r = ctl("stats", "drops", "--all")
    assert r.returncode == 0 and "Drops" in r.stdout
    r = ctl("--json", "stats", "ports")
    assert set(json.loads(r.stdout)) == {"ports"}
    assert ctl("stats", "clear", "ports").returncode == 0
    assert ctl("stats", "bogus").returncode == 1


def test_stats_watch(ctl):
    t = time.monotonic()
    r = ctl("stats", "--watch", "--interval", "0.2", "--count", "3", "ports")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("RX_PPS") == 3
    assert time.monotonic() - t < 10


def test_stats_watch_stops_on_ctrl_c(sswitchctl_bin, daemon):
    p = subprocess.Popen([sswitchctl_bin, "-s", daemon.socket, "stats", "--watch",
                          "--interval", "0.2"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    p.send_signal(2)
    out, err = p.communicate(timeout=10)
    assert p.returncode == 0, err
    assert "PKTS/S" in out or "RX_PPS" in out


def test_info_health_graph(ctl):
    r = ctl("info")
    assert r.returncode == 0 and "dpdk_version" in r.stdout and "storage0" in r.stdout
    r = ctl("health")
    assert r.returncode == 0, r.stderr
    r = ctl("graph")
    assert r.returncode == 0
    assert r.stdout.lstrip().lower().startswith(("digraph", "strict digraph"))


def test_usage_errors_exit_2(ctl, sswitchctl_bin):
    for args in (["bogus", "add"], ["vnet"], ["vnet", "add", "stray"], ["--frobnicate"],
                 ["vnet", "add", "vni=1", "vni=2"], ["vnet", "list", "--timeout", "x"],
                 ["vnet", "add", "-f", "/nonexistent/params.json"], []):
        r = ctl(*args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert r.stderr, args


# -- without a daemon ---------------------------------------------------------------

def test_no_daemon_exit_3(sswitchctl_bin, tmp_path):
    path = str(tmp_path / "absent.sock")
    r = run(sswitchctl_bin, "vnet", "list", sock=path)
    assert r.returncode == 3
    assert f"cannot connect to sswitchd at {path}" in r.stderr
    assert "is sswitchd running?" in r.stderr


def test_stale_socket_exit_3(sswitchctl_bin, tmp_path):
    path = str(tmp_path / "stale.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.close()   # the file stays, nobody listens: ECONNREFUSED
    r = run(sswitchctl_bin, "info", sock=path)
    assert r.returncode == 3
    assert "is sswitchd running?" in r.stderr


def test_default_socket_path_in_message(sswitchctl_bin):
    if os.path.exists("/run/sswitch/sswitchd.sock"):
        pytest.skip("a system sswitchd is running")
    r = run(sswitchctl_bin, "info")
    assert r.returncode == 3 and "/run/sswitch/sswitchd.sock" in r.stderr


def test_timeout_when_daemon_never_answers(sswitchctl_bin, tmp_path):
    path = str(tmp_path / "mute.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    conns = []
    t = threading.Thread(target=lambda: conns.append(srv.accept()), daemon=True)
    t.start()
    start = time.monotonic()
    r = run(sswitchctl_bin, "--timeout", "1", "info", sock=path)
    elapsed = time.monotonic() - start
    srv.close()
    assert r.returncode == 3
    assert "timed out" in r.stderr
    assert elapsed < 5


def test_protocol_error_exit_3(sswitchctl_bin, tmp_path):
    path = str(tmp_path / "liar.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)

    def liar():
        c, _ = srv.accept()
        c.recv(4096)
        c.sendall(b"this is not json\n")
        c.close()

    t = threading.Thread(target=liar, daemon=True)
    t.start()
    r = run(sswitchctl_bin, "info", sock=path)
    srv.close()
    assert r.returncode == 3 and "protocol error" in r.stderr


def test_permission_denied_message(sswitchctl_bin, daemon):
    if os.geteuid() != 0 or not shutil.which("runuser"):
        pytest.skip("needs root and runuser to act as another user")
    # The socket is mode 0660 root-owned (and its directory private): an
    # unprivileged user gets EACCES.
    r = subprocess.run(["runuser", "-u", "nobody", "--", sswitchctl_bin, "-s",
                        daemon.socket, "info"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 3, (r.stdout, r.stderr)
    assert "Permission denied" in r.stderr
    assert "root" in r.stderr and "group" in r.stderr


def test_help_is_a_manual(sswitchctl_bin):
    r = run(sswitchctl_bin, "--help")
    assert r.returncode == 0
    for section in ("SYNOPSIS", "GLOBAL OPTIONS", "OBJECTS AND VERBS", "EXAMPLES",
                    "ENVIRONMENT", "EXIT STATUS", "FILES", "SSWITCH_SOCKET"):
        assert section in r.stdout, section
    for obj in ("vnet", "eni", "mapping", "route", "inbound-route", "pa-validation",
                "underlay-route", "acl group", "acl rule", "rdma policy", "rdma qp",
                "flow", "stats", "capture", "txn", "state", "vip", "direction", "switch"):
        assert obj in r.stdout, obj
    r = run(sswitchctl_bin, "eni", "--help")
    assert r.returncode == 0 and "vm_underlay_ip" in r.stdout and "acl.outbound_v4" in r.stdout
    r = run(sswitchctl_bin, "rdma", "policy", "-h")
    assert r.returncode == 0 and "match.dst_prefix" in r.stdout
    r = run(sswitchctl_bin, "--version")
    assert r.returncode == 0 and r.stdout.startswith("sswitchctl ")


def test_peer_credentials(sswitchctl_bin, make_daemon):
    """SO_PEERCRED: a member of control.group is served; another user who
    can open the socket file gets 1006 and a hint."""
    if os.geteuid() != 0 or not shutil.which("runuser"):
        pytest.skip("needs root and runuser to act as other users")
    import grp
    import pwd
    try:
        pwd.getpwnam("nobody"), pwd.getpwnam("daemon"), grp.getgrnam("nogroup")
    except KeyError:
        pytest.skip("needs the users nobody and daemon and the group nogroup")
    wd = pathlib.Path(tempfile.mkdtemp(prefix="sswitch-peercred-"))
    try:
        wd.chmod(0o755)
        d = make_daemon(workdir=wd, extra={"control": {
            "socket": str(wd / "sswitchd.sock"), "state_file": str(wd / "state.json"),
            "group": "nogroup"}})
        sock = wd / "sswitchd.sock"
        assert (sock.stat().st_mode & 0o777) == 0o660
        assert sock.stat().st_gid == grp.getgrnam("nogroup").gr_gid, \
            "the socket belongs to control.group"
        # A member of the group: served.
        r = subprocess.run(["runuser", "-u", "nobody", "--", sswitchctl_bin, "-s", str(sock),
                            "vnet", "list"], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        # Anyone else who can open the file is refused by the daemon.
        sock.chmod(0o666)
        r = subprocess.run(["runuser", "-u", "daemon", "--", sswitchctl_bin, "-s", str(sock),
                            "vnet", "list"], capture_output=True, text=True, timeout=30)
        assert r.returncode == 1, (r.stdout, r.stderr)
        assert "1006" in r.stderr and "group" in r.stderr
        d.stop_and_check()
    finally:
        shutil.rmtree(wd, ignore_errors=True)
