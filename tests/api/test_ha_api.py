"""ha.get / ha.set (SPEC 3.11, docs/ha.md) on one daemon, without and with
an `ha` section (its peer absent), and `sswitchctl ha`. The sync itself, with
two daemons, is pipelines/ha/test/test_ha.py; failover is tests/e2e/test_ha.py.
"""
import json
import socket
import subprocess


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


SPEC_KEYS = {"role", "peer_state", "bulk_sync", "synced_flows", "sync_lag_ms", "sent",
             "received", "rejected"}


def test_without_ha_section(client):
    st = client.call("ha.get")
    assert SPEC_KEYS <= set(st), st
    assert st["role"] == "none" and st["peer_state"] == "down" and st["bulk_sync"] == "idle"
    err = client.error("ha.set", {"role": "active"})
    assert err.code == 1005 and err.field == "role"
    err = client.error("ha.set", {"role": "primary"})
    assert err.code == -32602 and err.field == "role"
    err = client.error("ha.set", {"role": "active", "mode": 1})
    assert err.code == -32602 and err.field == "mode"
    err = client.error("ha.get", {"x": 1})
    assert err.code == -32602
    ha = client.call("stats.get", {"scope": "ha"})["ha"]
    assert ha["standby"] == 0 and ha["connected"] == 0 and ha["ha_standby_rx"] == 0


def test_standby_without_peer(make_daemon, sswitchctl_bin):
    lp, pp = free_port(), free_port()
    d = make_daemon(extra={"ha": {"role": "standby", "listen": "127.0.0.1:%d" % lp,
                                  "peer": "127.0.0.1:%d" % pp, "peer_timeout_ms": 200}})
    c = d.client()
    st = c.call("ha.get")
    assert st["role"] == "standby" and st["peer_state"] == "down", st
    assert st["listen"] == "127.0.0.1:%d" % lp and st["peer_timeout_ms"] == 200
    assert not st["auto_failover"]
    # its peer never spoke: no finding-free health, no take-over by itself
    findings = c.call("health.get")["findings"]
    assert any(f["finding"] == "ha_peer_lost" for f in findings), findings
    # sswitchctl speaks it
    r = subprocess.run([sswitchctl_bin, "-s", d.socket, "--json", "ha", "get"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["role"] == "standby"
    r = subprocess.run([sswitchctl_bin, "-s", d.socket, "ha", "set", "role=active"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    st = c.call("ha.get")
    assert st["role"] == "active" and st["failovers"] == 1
    # an active connects to its peer (absent): connecting or down, never connected
    assert st["peer_state"] in ("connecting", "down")
    st = c.call("ha.set", {"role": "standby"})
    assert st["role"] == "standby"
    r = subprocess.run([sswitchctl_bin, "ha", "--help"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0 and "ha set role=active" in r.stdout, r.stdout + r.stderr


def test_bad_ha_config_is_refused(tmp_path):
    from conftest import SSWITCHD, write_config
    for ha, msg in (({"role": "primary", "listen": "127.0.0.1:1", "peer": "127.0.0.1:2"},
                     "ha.role"),
                    ({"role": "active", "peer": "127.0.0.1:2"}, "ha.listen"),
                    ({"role": "active", "listen": "nowhere", "peer": "127.0.0.1:2"},
                     "ha.listen"),
                    ({"role": "active", "listen": "127.0.0.1:1", "peer": "127.0.0.1:2",
                      "auto_failover": 1}, "ha.auto_failover")):
        conf = write_config(tmp_path / "c.conf", tmp_path, extra={"ha": ha})
        r = subprocess.run([SSWITCHD, "--check", "-c", str(conf)], capture_output=True,
                           text=True, timeout=30)
        assert r.returncode != 0 and msg in r.stderr, (ha, r.stdout, r.stderr)
