"""The built .deb in a fresh Debian 12 root made with mmdebstrap (SPEC
section 8): it installs with apt, `sswitchd --version` and `sswitchd --check
-c /etc/sswitch/sswitchd.conf` pass there, and the installed daemon starts
on the shipped config. Downloaded .debs are kept in $SSWITCH_CACHE/debs for
the next run. Also: lintian's verdict from `make deb`."""
import os
import subprocess

import pytest

from conftest import REPO

DEB = os.environ.get("SSWITCH_DEB", "")
CACHE = os.path.join(os.environ.get("SSWITCH_CACHE", "/var/cache/sswitch"), "debs")
IN_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "in_root.sh")


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    if not DEB:
        pytest.skip("SSWITCH_DEB is not set (make test builds the package with make deb)")
    deb = os.path.abspath(os.path.join(REPO, DEB))
    assert os.path.exists(deb), deb
    out = tmp_path_factory.mktemp("deb-root")
    os.makedirs(CACHE, exist_ok=True)
    name = os.path.basename(deb)
    # eatmydata: dpkg without fsync (halves the time); the cache: no downloads
    cmd = ["mmdebstrap", "--quiet", "--variant=apt", "--skip=essential/unlink",
           "--hook-dir=/usr/share/mmdebstrap/hooks/eatmydata",
           '--setup-hook=mkdir -p "$1"/var/cache/apt/archives/',
           "--setup-hook=sync-in %s /var/cache/apt/archives/" % CACHE,
           "--customize-hook=copy-in %s /tmp" % deb,
           "--customize-hook=copy-in %s /tmp" % IN_ROOT,
           '--customize-hook=chroot "$1" env DEBIAN_FRONTEND=noninteractive '
           "apt-get install -y -q --no-install-recommends /tmp/%s" % name,
           '--customize-hook=chroot "$1" sh /tmp/in_root.sh /tmp/results',
           "--customize-hook=sync-out /tmp/results %s" % out,
           '--customize-hook=rm -f "$1"/var/cache/apt/archives/sswitch_*.deb',
           "--customize-hook=sync-out /var/cache/apt/archives %s" % CACHE,
           "bookworm", "/dev/null"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, "mmdebstrap failed:\n" + r.stdout[-3000:] + r.stderr[-3000:]
    return out


def result(root, name):
    with open(os.path.join(root, name + ".out")) as f:
        out = f.read()
    rc_path = os.path.join(root, name + ".rc")
    rc = int(open(rc_path).read()) if os.path.exists(rc_path) else None
    return rc, out


def test_version(root):
    rc, out = result(root, "version")
    assert rc == 0, out
    assert out.startswith("sswitchd 0.1.0 (DPDK 22.11"), out


def test_check_shipped_config(root):
    rc, out = result(root, "check")
    assert rc == 0, out
    assert out.startswith("/etc/sswitch/sswitchd.conf: valid"), out


def test_sswitchctl(root):
    rc, out = result(root, "ctl_version")
    assert rc == 0 and "sswitchctl" in out, out


def test_socket_group_created(root):
    rc, out = result(root, "group")
    assert rc == 0 and out.startswith("sswitch:"), out


def test_files_in_place(root):
    rc, out = result(root, "files")
    assert rc == 0, out


def test_config_is_a_conffile(root):
    rc, out = result(root, "conffiles")
    assert rc == 0 and "/etc/sswitch/sswitchd.conf" in out, out


def test_installed_daemon_serves_on_shipped_config(root):
    rc, out = result(root, "info")
    assert rc == 0, out + result(root, "daemon")[1]
    assert "host0" in out and "fabric0" in out
    assert result(root, "socket")[1].split() == ["660", "sswitch"]
    rc, out = result(root, "daemon")
    assert rc == 0, out


def test_lintian_clean():
    if not DEB:
        pytest.skip("SSWITCH_DEB is not set")
    path = os.path.join(REPO, os.path.dirname(DEB), "lintian.txt")
    with open(path) as f:
        tags = [l for l in f.read().splitlines() if l[:3] in ("E: ", "W: ")]
    assert not tags, "\n".join(tags)
