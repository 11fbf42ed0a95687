# SPDX-License-Identifier: BSD-3-Clause
"""ipfix.set / ipfix.get and the `ipfix` config section (SPEC 5,
docs/ipfix.md) against a real daemon and a real UDP socket: the settings,
their validation, their persistence, and the template messages the
exporter sends to a collector (no traffic: net_null ports)."""

import socket
import struct
import subprocess
import time


def udp_listener():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(5.0)
    return s, "127.0.0.1:%d" % s.getsockname()[1]


def templates(msg):
    """{template id: [(IE, length), ...]} of an IPFIX message's template sets."""
    version, length, _, _, _ = struct.unpack("!HHIII", msg[:16])
    assert version == 10 and length == len(msg)
    out, off = {}, 16
    while off < length:
        sid, slen = struct.unpack("!HH", msg[off:off + 4])
        p = off + 4
        while sid == 2 and p < off + slen:
            tid, n = struct.unpack("!HH", msg[p:p + 4])
            p += 4
            out[tid] = [struct.unpack("!HH", msg[p + 4 * i:p + 4 * i + 4]) for i in range(n)]
            p += 4 * n
        off += slen
    return out


def test_defaults_without_section(make_daemon):
    c = make_daemon().client()
    got = c.call("ipfix.get")
    assert "collector" not in got
    assert (got["observation_domain"], got["active_timeout_s"], got["template_refresh_s"]) \
        == (1, 60, 600)
    assert got["counters"]["ipfix_records_dropped"] == 0
    assert "ipfix" in c.call("stats.get", {"scope": "ipfix"})


def test_config_section_and_templates(make_daemon):
    s, addr = udp_listener()
    try:
        d = make_daemon(extra={"ipfix": {"collector": addr, "observation_domain": 77,
                                         "active_timeout_s": 5, "template_refresh_s": 1}})
        c = d.client()
        got = c.call("ipfix.get")
        assert got["collector"] == addr and got["observation_domain"] == 77
        assert got["active_timeout_s"] == 5 and got["template_refresh_s"] == 1
        t0 = time.monotonic()
        first, _ = s.recvfrom(2048)
        second, _ = s.recvfrom(2048)   # refreshed after template_refresh_s
        assert time.monotonic() - t0 >= 0.5
        for msg in (first, second):
            assert struct.unpack("!I", msg[12:16])[0] == 77
            t = templates(msg)
            ies4 = {ie for ie, _ in t[256]}
            ies6 = {ie for ie, _ in t[257]}
            assert ies4 == {1, 2, 4, 7, 8, 11, 12, 61, 136, 152, 153, 351}
            assert ies6 == {1, 2, 4, 7, 27, 11, 28, 61, 136, 152, 153, 351}
        assert c.call("ipfix.get")["counters"]["template_messages_sent"] >= 2
    finally:
        s.close()


def test_set_validates_and_persists(make_daemon):
    d = make_daemon()
    c = d.client()
    for bad, field in (({"collector": "nohost"}, "collector"),
                       ({"collector": "10.0.0.1:0"}, "collector"),
                       ({"collector": "host.example:4739"}, "collector"),
                       ({"active_timeout_s": 0}, "active_timeout_s"),
                       ({"template_refresh_s": 100000}, "template_refresh_s"),
                       ({"bogus": 1}, "bogus")):
        e = c.error("ipfix.set", bad)
        assert e.code == -32602 and e.field == field, (bad, e)
    s, addr = udp_listener()
    try:
        c.call("ipfix.set", {"collector": addr, "observation_domain": 9})
        msg, _ = s.recvfrom(2048)
        assert struct.unpack("!I", msg[12:16])[0] == 9 and 256 in templates(msg)
        got = c.call("ipfix.get")
        assert got["collector"] == addr and got["active_timeout_s"] == 60
        # part of the committed state, replayable through txn
        ops = c.call("state.get")["ops"]
        assert [o for o in ops if o["method"] == "ipfix.set"
                and o["params"].get("collector") == addr], ops
        # an IPv6 collector; then export off again
        c.call("ipfix.set", {"collector": "::1:4739"})
        assert c.call("ipfix.get")["collector"] == "::1:4739"
        c.call("ipfix.set", {"collector": None})
        assert "collector" not in c.call("ipfix.get")
    finally:
        s.close()


def test_bad_config_refused(tmp_path):
    """A bad `ipfix` section stops the daemon at start, naming the key."""
    from conftest import SSWITCHD, write_config

    conf = tmp_path / "sswitchd.conf"
    write_config(conf, tmp_path, extra={"ipfix": {"collector": "127.0.0.1"}})
    r = subprocess.run([SSWITCHD, "-c", str(conf), "-q"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode != 0
    assert "ipfix.collector" in r.stdout + r.stderr, r.stdout + r.stderr
