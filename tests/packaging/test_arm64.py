"""The aarch64 build (make cross-arm64) runs: sswitchd and sswitchctl under
qemu-user pinned to BlueField-2's Cortex-A72, the daemon on null ports until
it reports READY=1, answering the x86 sswitchctl over its socket."""
import grp
import os
import signal
import socket
import subprocess

import pytest

from conftest import REPO
from test_systemd import _config

ARM64 = os.environ.get("SSWITCH_ARM64_BUILD", "")
SYSROOT = os.environ.get("SSWITCH_ARM64_SYSROOT", "/var/cache/sswitch/sysroot-arm64")


def qemu(exe, *args):
    if not ARM64:
        pytest.skip("SSWITCH_ARM64_BUILD is not set (make test builds it with make cross-arm64)")
    path = os.path.join(REPO, ARM64, exe)
    assert os.path.exists(path), path
    return ["qemu-aarch64-static", "-L", SYSROOT, "-cpu", "cortex-a72", path, *args]


def test_aarch64_binaries():
    if not ARM64:
        pytest.skip("SSWITCH_ARM64_BUILD is not set")
    for exe in ("dataplane/sswitchd", "control/sswitchctl/sswitchctl"):
        with open(os.path.join(REPO, ARM64, exe), "rb") as f:
            head = f.read(20)
        # ELF, 64-bit, little endian, e_machine EM_AARCH64 (183)
        assert head[:4] == b"\x7fELF" and head[4] == 2 and head[5] == 1, exe
        assert int.from_bytes(head[18:20], "little") == 183, exe


def test_version_and_check(tmp_path):
    r = subprocess.run(qemu("dataplane/sswitchd", "--version"), capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and r.stdout.startswith("sswitchd 0.1.0 (DPDK 22.11"), r.stderr
    # the shipped config, with the group and paths this machine has (--check
    # verifies that control.group exists and the paths can be created)
    with open(os.path.join(REPO, "dist", "sswitchd.conf")) as f:
        text = f.read()
    text = (text.replace('group = "sswitch";', 'group = "%s";' % grp.getgrgid(os.getgid()).gr_name)
            .replace("/run/sswitch/", "%s/run/" % tmp_path)
            .replace("/var/lib/sswitch/", "%s/lib/" % tmp_path))
    (tmp_path / "sswitchd.conf").write_text(text)
    r = subprocess.run(qemu("dataplane/sswitchd", "--check", "-c", str(tmp_path / "sswitchd.conf")),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and ": valid" in r.stdout, r.stdout + r.stderr
    r = subprocess.run(qemu("control/sswitchctl/sswitchctl", "--version"), capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def test_daemon_ready_under_qemu(tmp_path, sswitchctl):
    cmd = qemu("dataplane/sswitchd", "-c", str(_config(tmp_path)))
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify.sock"))
    notify.settimeout(120)
    d = subprocess.Popen(cmd, env=dict(os.environ, NOTIFY_SOCKET=str(tmp_path / "notify.sock")),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        msg = notify.recv(4096).decode()
        assert "READY=1" in msg.splitlines(), msg
        info = subprocess.run([sswitchctl, "-s", str(tmp_path / "ctl.sock"), "--json", "info"],
                              capture_output=True, text=True, timeout=60)
        assert info.returncode == 0, info.stderr
        assert '"host0"' in info.stdout and '"fabric0"' in info.stdout
        d.send_signal(signal.SIGTERM)
        assert d.wait(timeout=120) == 0
    finally:
        if d.poll() is None:
            d.kill()
            d.wait()
        notify.close()
