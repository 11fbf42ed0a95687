# SPDX-License-Identifier: BSD-3-Clause
"""The control socket under abuse (issue 17; docs/control.md "The control
socket under load"): idle sockets, slowloris, clients that never read the
reply of a 100k-request batch, a big batch next to a healthy client, the
per-uid cap. Each test reproduces a failure of the issue with its figure
and checks the counter of stats.get scope "control" that names the close.
The figures (RSS, latency) are printed (pytest -s shows them)."""

import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import threading
import time

import pytest

from rpc import Client

# 100k system.info requests in one batch line (~5.2 MB), the batch
BATCH_N = 100_000


def batch_line(n=BATCH_N, method="system.info"):
    return ("[" + ",".join(f'{{"jsonrpc":"2.0","id":{i},"method":"{method}"}}'
                           for i in range(n)) + "]\n").encode()


def start(make_daemon, tmp_path_factory, telemetry=None, **control):
    """A daemon of its own with these control keys (no state file)."""
    wd = tmp_path_factory.mktemp("abuse")
    conf = {"socket": str(wd / "sswitchd.sock"), "state_file": ""}
    conf.update(control)
    extra = {"control": conf}
    if telemetry:
        extra["telemetry"] = telemetry
    return make_daemon(workdir=wd, extra=extra)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def prometheus_text(port):
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        return r.read().decode()


def control_stats(c):
    return c.call("stats.get", {"scope": "control"})["control"]


def sanitized(pid):
    """An ASan build: its RSS (shadow memory, quarantine of freed blocks)
    says nothing about what the daemon holds."""
    with open(f"/proc/{pid}/maps") as f:
        return "libasan" in f.read()


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def closed_by_daemon(sock, timeout):
    """True when the daemon closes `sock` within timeout (EOF or reset)."""
    sock.settimeout(timeout)
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s


def test_idle_sockets_do_not_lock_out_a_client(make_daemon, tmp_path_factory):
    """300 idle sockets (the issue: 139 of 169 calls failed) and a client
    that connects for every call, and one that keeps its connection: every
    call is answered."""
    d = start(make_daemon, tmp_path_factory)
    idle = [connect(d.socket) for _ in range(300)]
    try:
        time.sleep(0.3)
        failures = 0
        keep = d.client(timeout=10)
        for i in range(169):
            try:
                with Client(d.socket, timeout=10) as c:
                    assert "generation" in c.call("system.info")
            except (OSError, ConnectionError) as e:  # pragma: no cover - the bug
                failures += 1
                print("call failed:", e)
            assert "generation" in keep.call("system.info")
        assert failures == 0
        st = control_stats(keep)
        print(f"\n300 idle sockets: 169/169 calls answered; control stats {st}")
        # the idle ones made room (64 per uid by default): none refused
        assert st["evicted_max_clients_per_uid"] >= 300 - 64
        assert st["refused_max_clients"] == 0 and st["refused_max_clients_per_uid"] == 0
        assert st["clients"] <= 64
    finally:
        for s in idle:
            s.close()
    d.stop_and_check()


def test_connect_burst(make_daemon, tmp_path_factory):
    """10k rapid connects (each closed at once) next to a client that
    connects for every call: no call fails (the issue: 5 of 35 got EAGAIN
    with a backlog of 128)."""
    d = start(make_daemon, tmp_path_factory)
    stop = threading.Event()
    done = []

    def burst():
        n = 0
        while n < 10000 and not stop.is_set():
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(d.socket)
                n += 1
            except BlockingIOError:
                pass   # the backlog is full: try again
            finally:
                s.close()
        done.append(n)

    t = threading.Thread(target=burst)
    t.start()
    failures = 0
    calls = 0
    while t.is_alive() or calls < 35:
        try:
            with Client(d.socket, timeout=10) as c:
                assert "generation" in c.call("system.info")
        except OSError as e:
            failures += 1
            print("call failed:", e)
        calls += 1
    stop.set()
    t.join()
    print(f"\n{done[0]} rapid connects: {calls - failures}/{calls} calls answered")
    assert failures == 0
    d.stop_and_check()


def test_idle_timeout_and_keepalive(make_daemon, tmp_path_factory):
    """A connection with nothing in flight is closed after idle_timeout_s;
    one that sends a blank line (or any request) meanwhile stays. The
    close is counted, in stats.get and in Prometheus."""
    port = free_port()
    d = start(make_daemon, tmp_path_factory, idle_timeout_s=1,
              telemetry={"prometheus": f"127.0.0.1:{port}"})
    keep = d.client(timeout=5)
    quiet = connect(d.socket)
    t0 = time.monotonic()
    for _ in range(6):
        keep.send_raw("\n")
        time.sleep(0.3)
    assert closed_by_daemon(quiet, 3.0)
    assert time.monotonic() - t0 < 4.0
    assert "generation" in keep.call("system.info")
    assert control_stats(keep)["closed_idle"] >= 1
    prom = prometheus_text(port)
    line = [x for x in prom.splitlines() if x.startswith("sswitch_control_closed_idle")]
    assert line and int(line[0].split()[-1]) >= 1, prom[-2000:]
    d.stop_and_check()


def test_slowloris_closed_by_request_deadline(make_daemon, tmp_path_factory):
    """One byte every 100 ms never completes a request: closed when
    request_timeout_ms has passed since its first byte (the issue: the
    timer restarted on every byte)."""
    d = start(make_daemon, tmp_path_factory, request_timeout_ms=500)
    slow = connect(d.socket)
    slow.settimeout(0.05)
    req = b'{"jsonrpc":"2.0","id":1,"method":"system.info"   ' * 100
    t0 = time.monotonic()
    closed_at = None
    for b in req:
        try:
            slow.send(bytes([b]))
            if slow.recv(65536) == b"":
                closed_at = time.monotonic() - t0
                break
        except socket.timeout:
            pass
        except (BrokenPipeError, ConnectionResetError):
            closed_at = time.monotonic() - t0
            break
        time.sleep(0.1)
    print(f"\nslowloris (1 byte / 100 ms, request_timeout_ms 500): closed after {closed_at:.2f} s")
    assert closed_at is not None and closed_at < 2.0
    with d.client(timeout=5) as c:
        assert control_stats(c)["closed_request_timeout"] >= 1
    d.stop_and_check()


def test_non_reading_clients_of_a_huge_batch(make_daemon, tmp_path_factory):
    """30 clients send the 100k-request batch (a 53.5 MB reply each) and
    never read: the daemon's RSS stays under its baseline + max_buffered_mb
    + 64 MiB (the issue: 2.06 GB), a healthy client is answered meanwhile,
    and they are closed by the limits (over the budget, not reading)."""
    budget_mb = 256
    d = start(make_daemon, tmp_path_factory, request_timeout_ms=1000)
    line = batch_line()
    pid = d.proc.pid
    base = rss_kb(pid)
    peak = base
    socks = [connect(d.socket) for _ in range(30)]

    def send(s):
        try:
            s.sendall(line)
        except OSError:
            pass  # closed by the daemon before all of it was read

    threads = [threading.Thread(target=send, args=(s,)) for s in socks]
    for t in threads:
        t.start()
    healthy = d.client(timeout=10)
    lat = []
    t_end = time.monotonic() + 6.0
    while time.monotonic() < t_end:
        peak = max(peak, rss_kb(pid))
        t0 = time.monotonic()
        assert "generation" in healthy.call("system.info")
        lat.append(time.monotonic() - t0)
        time.sleep(0.02)
    for t in threads:
        t.join(10)
    # the last ones are closed 3 x request_timeout_ms after their last read
    deadline = time.monotonic() + 10
    while control_stats(healthy)["clients"] > 1 and time.monotonic() < deadline:
        peak = max(peak, rss_kb(pid))
        time.sleep(0.1)
    st = control_stats(healthy)
    delta_mb = (peak - base) / 1024
    print(f"\n30 non-reading clients x {len(line) / 1e6:.1f} MB batch: RSS {base // 1024} MiB -> "
          f"peak {peak // 1024} MiB (+{delta_mb:.0f} MiB, bound {budget_mb + 64}); healthy "
          f"client {len(lat)} calls, worst {max(lat) * 1000:.1f} ms; buffered peak "
          f"{st['buffered_bytes_peak'] >> 20} MiB, closed over budget {st['closed_over_budget']}, "
          f"not reading {st['closed_not_reading']}, request timeout {st['closed_request_timeout']}")
    if not sanitized(pid):
        assert delta_mb < budget_mb + 64
    # measured before the budget closes anyone: over it by what one round
    # can add before the check — each of the 30 connections reads up to
    # READ_BUDGET (1 MiB, server.c) and the reply written in the same slice
    # may pass the 4 MiB output mark once (ci-run2 of 2026-12-03: 288.1 MiB)
    assert st["buffered_bytes_peak"] <= (budget_mb + 30 * 1 + 4) << 20
    # each closed by a limit: over the budget, replies unread, or (a loaded
    # machine reading 156 MB) its request not complete within 1 s; on a
    # slow build (ASan) some are still being served, their batch not yet
    # stopped by its unread replies: they hold what the budget allows
    still_open = st["clients"] - 1
    assert st["closed_over_budget"] + st["closed_not_reading"] + \
        st["closed_request_timeout"] + still_open == 30, st
    assert st["closed_error"] == 0
    assert st["buffered_bytes"] <= budget_mb << 20
    for s in socks:
        s.close()
    d.stop_and_check()


def test_big_batch_is_sliced(make_daemon, tmp_path_factory):
    """A 100k-request batch (reads of system.info, whose reply carries the
    generation) runs while another client commits: the batch's replies see
    the generation change in the middle, so the other client was served
    between two slices (ordering, not timing). Its worst latency is
    printed (target < 50 ms; the issue: 0.69 s)."""
    d = start(make_daemon, tmp_path_factory)
    big = d.client(timeout=30)
    other = d.client(timeout=30)
    gen0 = other.call("system.info")["generation"]
    replies = []

    def reader():
        # chunks joined once (rpc.Client's line buffer rescans the 64 MB
        # reply on every read and would hold the GIL the other client's
        # timing needs)
        big.sock.settimeout(120)
        chunks = []
        while True:
            chunk = big.sock.recv(1 << 22)
            if not chunk:
                break
            chunks.append(chunk)
            if chunk.endswith(b"\n"):
                break
        replies.append(b"".join(chunks) if chunks else None)

    big.send_raw(batch_line())
    t = threading.Thread(target=reader)
    t.start()
    lat = []
    i = 0
    # until the batch is answered (its first pass, validating the line,
    # runs nothing: commits then fall before its first reply)
    while t.is_alive() and i < 5000:
        t0 = time.monotonic()
        other.call("vnet.add", {"name": f"slice{i}", "vni": 7000 + i})
        lat.append(time.monotonic() - t0)
        i += 1
    t.join(60)
    assert replies and replies[0] is not None
    out = json.loads(replies[0])
    assert len(out) == BATCH_N and [r["id"] for r in out] == list(range(BATCH_N))
    gens = [r["result"]["generation"] for r in out]
    assert gens == sorted(gens)
    assert gens[0] < gens[-1], "no commit of the other client between two slices"
    assert gens[0] >= gen0
    inside = sum(1 for g in set(gens) if g != gens[0])
    lat.sort()
    print(f"\n100k batch: the other client committed {inside} times between its slices; "
          f"its latency (a commit each) median {lat[len(lat) // 2] * 1000:.1f} ms, p99 "
          f"{lat[len(lat) * 99 // 100] * 1000:.1f} ms, worst {lat[-1] * 1000:.1f} ms over "
          f"{len(lat)} calls")
    st = control_stats(other)
    assert st["batch_slices"] > 1
    d.stop_and_check()


NOBODY = 65534


def _as_nobody():
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another uid")
def test_per_uid_cap(make_daemon):
    """A peer uid (nobody, in the control group) holding 40 connections
    keeps at most max_clients_per_uid (8) of them; root still has the rest
    of max_clients (16)."""
    wd = pathlib.Path(tempfile.mkdtemp(prefix="ss-abuse-"))
    wd.chmod(0o755)
    d = make_daemon(workdir=wd, extra={"control": {
        "socket": str(wd / "sswitchd.sock"), "state_file": "", "group": "nogroup",
        "max_clients": 16, "max_clients_per_uid": 8}})
    os.chmod(d.socket, 0o666)
    code = ("import socket, sys, time\n"
            "s = []\n"
            "for _ in range(40):\n"
            "    c = socket.socket(socket.AF_UNIX); c.connect(sys.argv[1]); s.append(c)\n"
            "print('ready', flush=True)\n"
            "time.sleep(30)\n")
    p = subprocess.Popen([sys.executable, "-c", code, d.socket], preexec_fn=_as_nobody,
                         stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        time.sleep(0.3)
        mine = [d.client(timeout=5) for _ in range(8)]
        for c in mine:
            assert "generation" in c.call("system.info")
        st = control_stats(mine[0])
        print(f"\nper-uid cap: nobody opened 40, {st['evicted_max_clients_per_uid']} of its own "
              f"evicted; root holds 8; clients {st['clients']}")
        assert st["evicted_max_clients_per_uid"] >= 32
        assert st["clients"] <= 16
        assert st["refused_max_clients"] == 0
    finally:
        p.kill()
        p.wait()
    d.stop_and_check()
