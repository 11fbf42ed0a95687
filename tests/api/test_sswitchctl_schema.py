# SPDX-License-Identifier: BSD-3-Clause
"""sswitchctl driven by the daemon's schema.get: an object type or a field
a feature added needs no sswitchctl edit. A fake daemon announces a type
the client has never heard of (nat.pool) and a field an extension added
to eni (rate_limit_pps), and records the methods it is sent."""

import json
import os
import socket
import tempfile
import threading

import pytest

SCHEMA = {"types": [
    {"name": "eni", "list_key": "enis", "singleton": False,
     "methods": ["add", "delete", "list", "get", "set"],
     "extensions": ["ratelimit"],
     "fields": [
         {"name": "name", "kind": "name", "required": True, "key": True},
         {"name": "rate_limit_pps", "kind": "uint", "required": False, "key": False,
          "nullable": True, "min": 0, "max": 100000000000, "extension": "ratelimit"}]},
    {"name": "nat.pool", "list_key": "pools", "singleton": False,
     "methods": ["add", "delete", "list"],
     "fields": [
         {"name": "name", "kind": "name", "required": True, "key": True},
         {"name": "eni", "kind": "name", "required": True, "key": False, "ref": "eni"},
         {"name": "mode", "kind": "enum", "required": False, "key": False,
          "values": ["snat", "dnat"], "default": "snat"}]},
]}


@pytest.fixture
def fake_daemon():
    d = tempfile.mkdtemp(prefix="ssctl-schema-")
    path = os.path.join(d, "fake.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(8)
    seen = []
    stop = threading.Event()

    def serve():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except socket.timeout:
                continue
            with conn:
                buf = b""
                while True:
                    data = conn.recv(65536)
                    if not data:
                        break
                    buf += data
                    while b"\n" in buf:
                        line, buf = buf.split(b"\n", 1)
                        req = json.loads(line)
                        seen.append((req["method"], req.get("params")))
                        result = SCHEMA if req["method"] == "schema.get" else {}
                        conn.sendall(json.dumps({"jsonrpc": "2.0", "id": req["id"],
                                                 "result": result}).encode() + b"\n")

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield path, seen
    stop.set()
    t.join()
    srv.close()
    os.unlink(path)
    os.rmdir(d)


def run(binary, sock, *args):
    import subprocess
    return subprocess.run([binary, "-s", sock] + list(args), capture_output=True, text=True,
                          timeout=30)


def test_new_type_is_a_command(sswitchctl_bin, fake_daemon):
    sock, seen = fake_daemon
    r = run(sswitchctl_bin, sock, "nat", "pool", "add", "name=p1", "eni=e1")
    assert r.returncode == 0, r.stderr
    assert ("nat.pool.add", {"name": "p1", "eni": "e1"}) in seen
    r = run(sswitchctl_bin, sock, "nat-pool", "frobnicate")
    assert r.returncode == 0, r.stderr    # the daemon judges verbs it may have gained
    assert seen[-1][0] == "nat.pool.frobnicate"


def test_new_type_help_from_schema(sswitchctl_bin, fake_daemon):
    sock, _ = fake_daemon
    r = run(sswitchctl_bin, sock, "nat", "pool", "--help")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("nat.pool add delete list")
    assert "mode" in r.stdout and '"snat" or "dnat"' in r.stdout and 'default "snat"' in r.stdout
    assert "eni name (required), must exist" in r.stdout


def test_extension_fields_in_help(sswitchctl_bin, fake_daemon):
    sock, _ = fake_daemon
    r = run(sswitchctl_bin, sock, "eni", "--help")
    assert r.returncode == 0, r.stderr
    assert "vm_underlay_ip" in r.stdout                  # the manual's own text
    assert "Fields added by features:" in r.stdout
    assert "rate_limit_pps" in r.stdout and "[ratelimit]" in r.stdout


def test_unknown_without_daemon_is_a_usage_error(sswitchctl_bin):
    r = run(sswitchctl_bin, "/nonexistent/sock", "nat", "pool", "add", "name=p1")
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "unknown object 'nat'" in r.stderr
