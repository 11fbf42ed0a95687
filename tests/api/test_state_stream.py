# SPDX-License-Identifier: BSD-3-Clause
"""state.get of a large state is streamed while the client reads (issue 17;
docs/control.md "The control socket under load"): the reply of 1M mappings
(~130 MB) is never built whole, the daemon's RSS grows by a bounded amount
whatever the state's size, the reply is complete and equal to the state
when the request was taken (commits made by others while it is read do not
show in it), and the others are served meanwhile. The figures are printed
(pytest -s shows them)."""

import json
import socket
import time

from test_abuse import control_stats, rss_kb, sanitized, start

N = 1_000_000
CHUNK = 50_000
VNET = "big"
# What the daemon may add to its RSS while it streams the reply: the
# sorted node pointers of the snapshot (8 bytes per object: 8 MB here),
# the output buffer (up to the 4 MiB high-water mark plus a slice of
# replies), the nodes commits remove meanwhile. The reply itself is
# ~130 MB: built whole (before issue 17) it took ~3x that.
RSS_BOUND_MB = 64


def mapping(i):
    return {"vnet": VNET, "ip": f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}",
            "underlay_ip": f"100.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}",
            "mac": "02:00:%02x:%02x:%02x:%02x" % (i >> 24 & 255, i >> 16 & 255,
                                                   i >> 8 & 255, i & 255)}


def load(c, n):
    c.call("vnet.add", {"name": VNET, "vni": 4242})
    for base in range(0, n, CHUNK):
        c.call("mapping.add", {"entries": [mapping(i) for i in range(base, min(n, base + CHUNK))]})


def hwm_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


def reset_hwm(pid):
    """VmHWM := VmRSS (proc(5), /proc/PID/clear_refs)."""
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")


def read_reply(sock, first=None, pause=None):
    """One reply line. After `first` bytes, pause() is called once (the
    client stops reading meanwhile)."""
    parts, got = [], 0
    while True:
        chunk = sock.recv(1 << 20)
        assert chunk, "the daemon closed the connection mid-reply"
        parts.append(chunk)
        got += len(chunk)
        if chunk.endswith(b"\n"):
            return b"".join(parts)
        if pause is not None and got >= first:
            pause()
            pause = None


def check_state(reply, n, deleted=()):
    r = json.loads(reply)
    assert r["id"] == 7 and "error" not in r
    ops = r["result"]["ops"]
    assert [o["method"] for o in ops] == ["vnet.add", "mapping.add"], [o["method"] for o in ops]
    assert ops[0]["params"]["entries"] == [{"name": VNET, "vni": 4242}]
    got = ops[1]["params"]["entries"]
    want = sorted((dict(mapping(i), use_dst_vni=False) for i in range(n) if i not in deleted),
                  key=lambda m: m["ip"])
    # sorted by key (vnet/ip as text), every field as stored
    assert len(got) == len(want)
    assert sorted(got, key=lambda m: m["ip"]) == want
    assert [m["ip"] for m in got] == sorted(m["ip"] for m in got)


def test_state_get_streamed_bounded_complete(make_daemon, tmp_path_factory):
    d = start(make_daemon, tmp_path_factory)
    c = d.client(timeout=120)
    t0 = time.monotonic()
    load(c, N)
    print(f"\n{N} mappings loaded in {time.monotonic() - t0:.1f}s")
    asan = sanitized(d.proc.pid)

    # 1. a client reading as fast as it can
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(120)
    s.connect(d.socket)
    base = rss_kb(d.proc.pid)
    reset_hwm(d.proc.pid)
    t0 = time.monotonic()
    s.sendall(b'{"jsonrpc":"2.0","id":7,"method":"state.get"}\n')
    reply = read_reply(s)
    dt = time.monotonic() - t0
    grow = (hwm_kb(d.proc.pid) - base) / 1024
    print(f"state.get of {N} mappings: {len(reply) / 1e6:.1f} MB in {dt:.2f}s, daemon RSS "
          f"{base / 1024:.0f} MB + peak growth {grow:.1f} MB")
    check_state(reply, N)
    if not asan:
        assert grow < RSS_BOUND_MB, f"RSS grew by {grow:.1f} MB for a {len(reply) >> 20} MB reply"

    # 2. a client that stops reading after 1 MB, while another one deletes
    # mappings and reads the state: it is answered meanwhile, and the
    # first reply is still the state when it was asked
    other = d.client(timeout=60)
    deleted = set(range(0, N, 1000))
    base = rss_kb(d.proc.pid)
    reset_hwm(d.proc.pid)

    def meanwhile():
        other.call("mapping.delete", {"entries": [{"vnet": VNET, "ip": mapping(i)["ip"]}
                                                  for i in sorted(deleted)]})
        # the other client's state.get streams too, from the new state
        small = other.call("mapping.list", {"vnet": VNET, "limit": 2})
        assert small["mappings"][0]["ip"] == mapping(1)["ip"]

    s.sendall(b'{"jsonrpc":"2.0","id":7,"method":"state.get"}\n')
    reply = read_reply(s, first=1 << 20, pause=meanwhile)
    grow = (hwm_kb(d.proc.pid) - base) / 1024
    print(f"paused reader, {len(deleted)} mappings deleted meanwhile: reply "
          f"{len(reply) / 1e6:.1f} MB, RSS peak growth {grow:.1f} MB")
    check_state(reply, N)
    if not asan:
        assert grow < RSS_BOUND_MB
    s.close()

    # 3. the new state, through a batch: the streamed element is followed
    # by the next one's reply
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(120)
    s.connect(d.socket)
    s.sendall(b'[{"jsonrpc":"2.0","id":7,"method":"state.get"},'
              b'{"jsonrpc":"2.0","id":8,"method":"vnet.list"}]\n')
    batch = json.loads(read_reply(s))
    s.close()
    assert [r["id"] for r in batch] == [7, 8]
    check_state(json.dumps(batch[0]), N, deleted)
    assert batch[1]["result"]["vnets"][0]["name"] == VNET
    assert control_stats(other)["closed_error"] == 0
    d.stop_and_check()
