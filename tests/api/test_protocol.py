# SPDX-License-Identifier: BSD-3-Clause
"""The wire protocol (SPEC section 4): JSON-RPC 2.0, one JSON value per line
each way, batches, notifications, the protocol error codes, and a server that
stays available to good clients while bad ones misbehave."""

import json
import socket
import threading
import time

import pytest

from rpc import Client, rows


def test_reply_is_jsonrpc_2(client):
    client.send({"jsonrpc": "2.0", "id": 41, "method": "system.info"})
    reply = client.recv()
    assert reply["jsonrpc"] == "2.0"
    assert reply["id"] == 41
    assert "result" in reply and "error" not in reply


def test_string_ids_are_echoed(client):
    client.send({"jsonrpc": "2.0", "id": "abc-1", "method": "system.info"})
    assert client.recv()["id"] == "abc-1"


def test_params_may_be_omitted(client):
    client.send({"jsonrpc": "2.0", "id": 1, "method": "system.info"})
    assert "result" in client.recv()


def test_parse_error_then_connection_still_answers(client):
    client.send_raw(b"this is not json {\n")
    reply = client.recv()
    assert reply["error"]["code"] == -32700
    assert reply["id"] is None
    # Same connection, next line: served normally.
    assert "version" in client.call("system.info")


def test_truncated_json_is_parse_error(client):
    client.send_raw(b'{"jsonrpc": "2.0", "id": 1, "method": "system.info"\n')
    assert client.recv()["error"]["code"] == -32700
    assert "version" in client.call("system.info")


def test_invalid_utf8_is_parse_error(client):
    client.send_raw(b'{"jsonrpc":"2.0","id":1,"method":"system.info","params":{"x":"\xff"}}\n')
    assert client.recv()["error"]["code"] == -32700
    assert "version" in client.call("system.info")


@pytest.mark.parametrize("request_obj", [
    {"id": 1, "method": "system.info"},                         # no jsonrpc
    {"jsonrpc": "1.0", "id": 1, "method": "system.info"},       # wrong version
    {"jsonrpc": "2.0", "id": 1},                                # no method
    {"jsonrpc": "2.0", "id": 1, "method": 5},                   # method not a string
    {"jsonrpc": "2.0", "id": {"x": 1}, "method": "system.info"},  # id not scalar
    {"jsonrpc": "2.0", "id": [1], "method": "system.info"},
    "system.info",                                              # not an object
    42,
    None,
], ids=["no-jsonrpc", "v1", "no-method", "method-int", "id-object", "id-array",
        "string", "number", "null"])
def test_invalid_request_shapes(client, request_obj):
    client.send_raw(json.dumps(request_obj) + "\n")
    reply = client.recv()
    assert reply is not None, "connection closed on an invalid request"
    assert reply["error"]["code"] == -32600, reply
    assert "version" in client.call("system.info")


def test_params_must_be_structured(client):
    client.send({"jsonrpc": "2.0", "id": 3, "method": "vnet.list", "params": "x"})
    reply = client.recv()
    # JSON-RPC 2.0 says params is a structured value: an invalid request;
    # an invalid-params answer is as clear to a client.
    assert reply["error"]["code"] in (-32600, -32602), reply


def test_unknown_method(client):
    err = client.error("vnet.frobnicate", {})
    assert err.code == -32601
    err = client.error("no_such_object.add", {"name": "x"})
    assert err.code == -32601


def test_method_names_are_case_sensitive(client):
    assert client.error("System.Info").code == -32601


def test_pipelined_requests_answered_in_order(client):
    reqs = [{"jsonrpc": "2.0", "id": i, "method": "system.info"} for i in range(1, 21)]
    client.send_raw("".join(json.dumps(r) + "\n" for r in reqs))
    ids = [client.recv()["id"] for _ in reqs]
    assert ids == list(range(1, 21))


def test_request_split_across_writes(client):
    line = json.dumps({"jsonrpc": "2.0", "id": 9, "method": "system.info"}).encode() + b"\n"
    for i in range(0, len(line), 7):
        client.send_raw(line[i:i + 7])
        time.sleep(0.01)
    assert client.recv()["id"] == 9


def test_blank_lines_are_ignored_or_rejected_but_harmless(client):
    client.send_raw(b"\n\r\n")
    client.send({"jsonrpc": "2.0", "id": 5, "method": "system.info"})
    # Whatever the daemon says to empty lines, the request gets its answer.
    for _ in range(3):
        reply = client.recv()
        if reply.get("id") == 5:
            assert "result" in reply
            return
    pytest.fail("no reply to the request after blank lines")


# -- notifications --------------------------------------------------------------

def test_notification_gets_no_reply_but_is_applied(client):
    client.send({"jsonrpc": "2.0", "method": "vnet.add",
                 "params": {"name": "notif-v", "vni": 7001}})
    client.expect_silence()
    names = [v["name"] for v in rows(client.call("vnet.list"), "vnets")]
    assert "notif-v" in names
    client.call("vnet.delete", {"name": "notif-v"})


def test_failing_notification_gets_no_reply(client):
    client.send({"jsonrpc": "2.0", "method": "no.such.method"})
    client.send({"jsonrpc": "2.0", "method": "vnet.add", "params": {"vni": "bad"}})
    client.expect_silence()
    assert "version" in client.call("system.info")


# -- batches ----------------------------------------------------------------------

def test_batch_replies_to_each_request(client):
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "system.info"},
        {"jsonrpc": "2.0", "id": 2, "method": "vnet.add",
         "params": {"name": "batch-v", "vni": 7002}},
        {"jsonrpc": "2.0", "id": 3, "method": "no.such.method"},
        {"jsonrpc": "2.0", "method": "system.info"},               # notification
        {"jsonrpc": "2.0", "id": 4, "method": "vnet.add", "params": {"vni": "x"}},
    ]
    client.send(batch)
    reply = client.recv()
    assert isinstance(reply, list), reply
    by_id = {r["id"]: r for r in reply}
    assert sorted(by_id) == [1, 2, 3, 4], "one reply per request, none for notifications"
    assert "version" in by_id[1]["result"]
    assert "result" in by_id[2]
    assert by_id[3]["error"]["code"] == -32601
    assert by_id[4]["error"]["code"] == -32602
    client.call("vnet.delete", {"name": "batch-v"})


def test_empty_batch_is_invalid_request(client):
    client.send_raw(b"[]\n")
    reply = client.recv()
    assert isinstance(reply, dict), reply
    assert reply["error"]["code"] == -32600
    assert reply["id"] is None


def test_batch_of_invalid_entries(client):
    client.send_raw(b"[1, 2]\n")
    reply = client.recv()
    assert isinstance(reply, list) and len(reply) == 2
    for r in reply:
        assert r["error"]["code"] == -32600 and r["id"] is None


def test_batch_of_notifications_gets_no_reply(client):
    client.send([{"jsonrpc": "2.0", "method": "system.info"},
                 {"jsonrpc": "2.0", "method": "system.info"}])
    client.expect_silence()
    assert "version" in client.call("system.info")


def test_batch_entries_are_independent_transactions(client):
    """A batch is not a txn: the good entry is applied, the bad one is not."""
    client.send([
        {"jsonrpc": "2.0", "id": 1, "method": "vnet.add",
         "params": {"name": "batch-ok", "vni": 7003}},
        {"jsonrpc": "2.0", "id": 2, "method": "eni.add",
         "params": {"name": "batch-bad", "mac": "02:00:00:00:70:03", "vnet": "absent",
                    "port": "host0"}},
    ])
    reply = {r["id"]: r for r in client.recv()}
    assert "result" in reply[1]
    assert reply[2]["error"]["code"] == 1001
    names = [v["name"] for v in rows(client.call("vnet.list"), "vnets")]
    assert "batch-ok" in names
    client.call("vnet.delete", {"name": "batch-ok"})


# -- robustness -------------------------------------------------------------------

class Pinger(threading.Thread):
    """A well-behaved client calling system.info in a loop; records the
    worst reply latency and any failure."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path = path
        self.stop = threading.Event()
        self.count = 0
        self.worst = 0.0
        self.error = None

    def run(self):
        try:
            with Client(self.path, timeout=10) as c:
                while not self.stop.is_set():
                    t = time.monotonic()
                    assert "version" in c.call("system.info")
                    self.worst = max(self.worst, time.monotonic() - t)
                    self.count += 1
                    time.sleep(0.005)
        except Exception as e:  # reported by the test
            self.error = e


def test_bad_clients_do_not_harm_good_ones(daemon):
    pinger = Pinger(daemon.socket)
    pinger.start()
    try:
        # Client A: garbage, many lines of it, without reading replies.
        a = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        a.connect(daemon.socket)
        a.settimeout(10)
        a.sendall(b"\x00\x01garbage}{][\n" * 2000)

        # Client B: one 20 MiB line; the daemon refuses it with -32600
        # ("request too large") and closes the connection.
        b = Client(daemon.socket, timeout=30)
        chunk = b"x" * (1 << 20)
        sent = 0
        try:
            b.send_raw(b'{"jsonrpc":"2.0","id":1,"method":"system.info","params":{"pad":"')
            for _ in range(20):
                b.send_raw(chunk)
                sent += len(chunk)
            b.send_raw(b'"}}\n')
        except (BrokenPipeError, ConnectionResetError):
            pass   # refused before the end of the line: fine
        reply = b.recv(timeout=15)
        assert reply is not None, "no error reply to the oversize request"
        assert reply["error"]["code"] == -32600, reply
        assert "too large" in reply["error"]["message"].lower()
        # ...and the connection is closed.
        assert b.recv(timeout=15) is None
        b.close()

        # Client C: idle in the middle of a request.
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.connect(daemon.socket)
        c.sendall(b'{"jsonrpc":"2.0","id":1,"meth')
        time.sleep(1.0)

        a.close()
        c.close()
    finally:
        pinger.stop.set()
        pinger.join(15)
    assert pinger.error is None, f"good client failed: {pinger.error!r}"
    assert pinger.count >= 20, f"good client got only {pinger.count} answers"
    assert pinger.worst < 5.0, f"good client waited {pinger.worst:.2f}s for a reply"
    # The daemon is still fine.
    with Client(daemon.socket) as d:
        assert "version" in d.call("system.info")


def test_request_just_under_the_limit_is_served(client):
    """Large bulk requests are legitimate: 8 MiB of entries parse and get a
    reply (an error for the bogus entries, not 'too large')."""
    pad = "y" * (8 << 20)
    client.send({"jsonrpc": "2.0", "id": 77, "method": "vnet.add",
                 "params": {"name": pad, "vni": 7777}})
    reply = client.recv(timeout=60)
    assert reply["id"] == 77
    assert reply["error"]["code"] == -32602   # name far too long
    assert "too large" not in reply["error"]["message"].lower()


def test_many_concurrent_clients(daemon):
    clients = [Client(daemon.socket) for _ in range(50)]
    try:
        for i, c in enumerate(clients):
            c.send({"jsonrpc": "2.0", "id": i, "method": "system.info"})
        for i, c in enumerate(clients):
            assert c.recv()["id"] == i
    finally:
        for c in clients:
            c.close()


def test_client_disconnecting_before_reply(daemon):
    for _ in range(20):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(daemon.socket)
        s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"state.get"}\n')
        s.close()
    with Client(daemon.socket) as c:
        assert "version" in c.call("system.info")


def test_idle_mid_request_is_closed_idle_between_requests_is_not(daemon):
    """A client stuck in the middle of a request line is disconnected after
    the daemon's request timeout; a client idle between requests (a
    controller keeping its connection) is not."""
    between = Client(daemon.socket)
    assert "version" in between.call("system.info")
    mid = Client(daemon.socket)
    mid.send_raw(b'{"jsonrpc":"2.0","id":1,"method":"system.')
    start = time.monotonic()
    line = mid.recv_line(timeout=40)
    elapsed = time.monotonic() - start
    mid.close()
    assert line is None, f"expected the connection to be closed, got {line!r}"
    assert 1.0 < elapsed < 35.0, f"closed after {elapsed:.1f}s"
    # Idle at least as long, but between requests: still served.
    assert "version" in between.call("system.info")
    between.close()
