# SPDX-License-Identifier: BSD-3-Clause
"""dpdk-dumpcap against a live, forwarding sswitchd (SPEC 5, issue 13,
docs/operations.md "Capturing with dpdk-dumpcap").

The daemon runs as an operator runs it, on 2 MB hugepages (a secondary
process shares the primary's memory; `--no-huge` has none to share), in
patch mode: host0 (net_pcap, its frames replayed without end) to fabric0
(net_null). dumpcap attaches as a secondary process, captures N packets
into a pcapng that scapy reads back, detaches; 20 times in a row against
the same daemon, which must keep forwarding throughout and exit 0.

Before drivers/pdump_sync.c, about one capture in ten crashed the worker
as dumpcap detached (it freed its mempool while the worker was still
copying into it). Hugepages: if too few are free the test reserves them
(and a private hugetlbfs mount) and gives both back at the end."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

import pytest

from scapy.all import IP, UDP, Ether, Raw, rdpcap, wrpcap

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from sswitch import RpcClient, sswitchd_path  # noqa: E402

NR = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
FREE = "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"
PAGES = 192          # 384 MB: the daemon's -m 256 and dumpcap's pool
CAPTURES = 20
N = 50


def _read(path):
    with open(path) as f:
        return int(f.read())


@pytest.fixture
def hugepages():
    """A hugetlbfs directory with PAGES free 2 MB pages; what was reserved
    or mounted here is given back."""
    if not os.path.exists(NR):
        pytest.skip("no 2 MB hugepage support in this kernel")
    if shutil.which("dpdk-dumpcap") is None:
        pytest.skip("dpdk-dumpcap is not installed (package dpdk; make deps)")
    added = 0
    free = _read(FREE)
    if free < PAGES:
        before = _read(NR)
        with open(NR, "w") as f:
            f.write(str(before + PAGES - free))
        added = _read(NR) - before   # the kernel may grant fewer
        if _read(FREE) < PAGES:
            _give_back(added)
            pytest.skip("cannot reserve %d free 2 MB hugepages" % PAGES)
    mnt = tempfile.mkdtemp(prefix="ss-huge-")
    subprocess.run(["mount", "-t", "hugetlbfs", "-o", "pagesize=2M", "nodev", mnt], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", mnt], check=False)
        os.rmdir(mnt)
        _give_back(added)


def _give_back(added):
    if added > 0:
        with open(NR, "w") as f:
            f.write(str(max(0, _read(NR) - added)))


def frames():
    return [Ether(src="02:00:00:00:0d:01", dst="02:00:00:00:0d:02") /
            IP(src="10.9.0.1", dst="10.9.0.2") / UDP(sport=1000 + i, dport=2000) /
            Raw(b"dumpcap-%03d" % i + b"." * 40) for i in range(64)]


def fwd(c):
    p = c.call("stats.get", {"scope": "ports"})["ports"]
    return p["host0"]["rx_packets"], p["fabric0"]["tx_packets"]


def test_dumpcap_20_captures_while_forwarding(tmp_path, hugepages):
    sent = frames()
    # dumpcap re-probes the primary's virtual devices from their devargs,
    # which reach it cut short: the pcap path must be short
    short = tempfile.mkdtemp(prefix="ssdc")
    rx = os.path.join(short, "in.pcap")
    wrpcap(rx, sent)
    prefix = "ssdc" + uuid.uuid4().hex[:8]
    sock = str(tmp_path / "sswitchd.sock")
    conf = tmp_path / "sswitchd.conf"
    conf.write_text(
        'eal = ["-m", "256", "--no-pci", "--file-prefix", "%s", "--huge-dir", "%s", '
        '"--log-level", "*:warning"];\n'
        "lcores = { main = 0; workers = [1]; };\n"
        'ports = ( { name = "host0"; devargs = "net_pcap0,rx_pcap=%s,infinite_rx=1"; '
        'role = "host"; peer = "fabric0"; },\n'
        '          { name = "fabric0"; devargs = "net_null0,no-rx=1"; role = "fabric"; '
        'peer = "host0"; } );\n'
        'control = { socket = "%s"; state_file = ""; };\n'
        "stats_interval_s = 0;\n" % (prefix, hugepages, rx, sock))
    log = open(tmp_path / "sswitchd.log", "w")
    d = subprocess.Popen([sswitchd_path(), "-c", str(conf), "-q"], stdout=log,
                         stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 30
        while not os.path.exists(sock):
            assert d.poll() is None and time.time() < deadline, \
                (tmp_path / "sswitchd.log").read_text()
            time.sleep(0.1)
        c = RpcClient(sock)
        # the devices as dumpcap names them (DPDK names, not config names)
        listed = subprocess.run(["dpdk-dumpcap", "--file-prefix=" + prefix, "-D"],
                                capture_output=True, text=True, timeout=60)
        assert "net_pcap0" in listed.stdout, listed.stdout + listed.stderr
        want = {bytes(f) for f in sent}
        last = fwd(c)
        for i in range(CAPTURES):
            out = tmp_path / ("cap%02d.pcapng" % i)
            r = subprocess.run(["dpdk-dumpcap", "--file-prefix=" + prefix, "-i", "net_pcap0",
                                "-c", str(N), "-w", str(out)],
                               capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, "capture %d: %s%s" % (i, r.stdout, r.stderr)
            assert d.poll() is None, "capture %d: sswitchd died\n%s" % (
                i, (tmp_path / "sswitchd.log").read_text())
            got = rdpcap(str(out))
            # dumpcap stops at the end of the burst that reaches -c
            assert N <= len(got) < N + 64, (i, len(got))
            assert all(bytes(p) in want for p in got), (i, [p.summary() for p in got[:3]])
            # still forwarding, every received frame transmitted
            now = fwd(c)
            assert now[0] > last[0] and now[1] > last[1], (i, last, now)
            last = now
        c.close()
    finally:
        if d.poll() is None:
            d.send_signal(signal.SIGTERM)
            try:
                rc = d.wait(timeout=30)
            except subprocess.TimeoutExpired:
                d.kill()
                rc = d.wait()
        else:
            rc = d.returncode
        log.close()
        shutil.rmtree(short, ignore_errors=True)
        # the EAL leaves its run directory behind (the prefix is ours alone)
        shutil.rmtree(os.path.join("/var/run/dpdk", prefix), ignore_errors=True)
    assert rc == 0, (tmp_path / "sswitchd.log").read_text()
