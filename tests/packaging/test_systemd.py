"""sswitchd.service and the readiness notification it relies on."""
import configparser
import os
import signal
import socket
import subprocess
import time
import uuid

from conftest import build_dir


def unit():
    p = configparser.ConfigParser(strict=False, interpolation=None)
    p.optionxform = str
    p.read(os.path.join(build_dir(), "sswitchd.service"))
    return p


def test_unit_contract():
    s = unit()["Service"]
    assert s["Type"] == "notify"
    assert s["Restart"] == "on-failure"
    assert s["StateDirectory"] == "sswitch"
    assert s["RuntimeDirectory"] == "sswitch"
    assert s["Group"] == "sswitch"
    exe = s["ExecStart"].split()[0]
    assert exe.endswith("/sbin/sswitchd")
    pre = s["ExecStartPre"].split()
    assert pre[0] == exe and "--check" in pre
    # both read the same config file
    assert pre[pre.index("-c") + 1] == s["ExecStart"].split()[-1]
    assert unit()["Install"]["WantedBy"] == "multi-user.target"


def test_unit_paths_follow_the_config():
    # the config's socket and state file live in the unit's directories
    with open(os.path.join(os.path.dirname(build_dir()), "dist", "sswitchd.conf")) as f:
        conf = f.read()
    assert 'socket = "/run/sswitch/' in conf
    assert 'state_file = "/var/lib/sswitch/' in conf
    assert 'group = "sswitch"' in conf


def _config(tmp_path):
    cfg = tmp_path / "sswitchd.conf"
    cfg.write_text(f"""
eal = ["--no-huge", "-m", "256", "--no-pci", "--file-prefix", "sstnotify{uuid.uuid4().hex[:8]}",
       "--log-level", "*:warning"];
lcores = {{ main = 0; workers = [1]; }};
ports = (
  {{ name = "host0"; role = "host"; devargs = "net_null0,no-rx=1"; peer = "fabric0"; }},
  {{ name = "fabric0"; role = "fabric"; devargs = "net_null1,no-rx=1"; peer = "host0"; }}
);
control = {{ socket = "{tmp_path}/ctl.sock"; state_file = "{tmp_path}/state.json"; }};
stats_interval_s = 0;
""")
    return cfg


def test_ready_only_when_serving_and_stopping_on_sigterm(tmp_path, sswitchd, sswitchctl):
    """READY=1 arrives once the control socket answers and the ports are up;
    SIGTERM sends STOPPING=1 and exits 0."""
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify.sock"))
    notify.settimeout(60)
    env = dict(os.environ, NOTIFY_SOCKET=str(tmp_path / "notify.sock"))
    d = subprocess.Popen([sswitchd, "-c", str(_config(tmp_path))], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        msg = notify.recv(4096).decode()
        assert "READY=1" in msg.splitlines(), msg
        assert "STATUS=2 ports, 1 workers" in msg
        info = subprocess.run([sswitchctl, "-s", str(tmp_path / "ctl.sock"), "--json", "info"],
                              capture_output=True, text=True, timeout=30)
        assert info.returncode == 0, info.stderr
        assert '"host0"' in info.stdout and '"fabric0"' in info.stdout
        d.send_signal(signal.SIGTERM)
        msg = notify.recv(4096).decode()
        assert "STOPPING=1" in msg.splitlines(), msg
        assert d.wait(timeout=60) == 0
    finally:
        if d.poll() is None:
            d.kill()
            d.wait()
        notify.close()


def test_no_notify_socket_is_fine(tmp_path, sswitchd, sswitchctl):
    """Outside systemd (no NOTIFY_SOCKET) the daemon starts as before."""
    env = {k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"}
    d = subprocess.Popen([sswitchd, "-c", str(_config(tmp_path))], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            r = subprocess.run([sswitchctl, "-s", str(tmp_path / "ctl.sock"), "info"],
                               capture_output=True, text=True, timeout=30)
            if r.returncode == 0:
                break
            assert d.poll() is None, d.stdout.read()
            time.sleep(0.2)
        assert r.returncode == 0, r.stderr
        d.send_signal(signal.SIGTERM)
        assert d.wait(timeout=60) == 0
    finally:
        if d.poll() is None:
            d.kill()
            d.wait()
