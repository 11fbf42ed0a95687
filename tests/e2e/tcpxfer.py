"""A checked TCP transfer both ways, run inside the test namespaces with
`ip netns exec NS /usr/bin/python3 tcpxfer.py ...`.

    tcpxfer.py serve   --bind ADDR --port P --size N --seed S [--timeout T]
    tcpxfer.py connect --addr ADDR --port P --size N --seed S [--timeout T]

The client sends N bytes of stream S (deterministic pseudo-random bytes) and
half-closes; the server checks every byte, then sends N bytes of stream S+1
and closes; the client checks those. Each side prints one JSON line
{"ok": bool, "received": n, "sent": n, "seconds": t, "error": "..."} and
exits 0 only when everything it received was exactly what was expected;
"sha256_sent" / "sha256_received" (hex) are the digests of what it sent and
received, for a test to compare across the two sides.
The server prints {"listening": port} once it accepts connections.
A connect that is refused or times out is reported, not retried.

A long-lived connection driven by the test, one exchange at a time:

    tcpxfer.py echo-serve  --bind ADDR --port P [--timeout T]
    tcpxfer.py echo-client --addr ADDR --port P [--timeout T]

echo-serve echoes everything back on one connection. echo-client connects,
prints {"connected": true}, then for every line "WORD [SECONDS]" on its stdin
sends WORD and prints {"line": WORD, "echoed": bool} once the echo came
back or SECONDS (default T) passed (the kernel keeps retransmitting what was not acknowledged:
a later line can bring earlier ones back with it).
"""
import argparse
import hashlib
import json
import random
import socket
import sys
import time

CHUNK = 64 * 1024


def stream(seed, size):
    return random.Random(seed).randbytes(size)


def send_all(sock, data):
    DIGEST["sent"].update(data)
    view = memoryview(data)
    for off in range(0, len(data), CHUNK):
        sock.sendall(view[off:off + CHUNK])


def recv_check(sock, expect):
    """Read until EOF; return (bytes received, offset of the first
    mismatch or None)."""
    got = 0
    bad = None
    while True:
        buf = sock.recv(CHUNK)
        if not buf:
            break
        DIGEST["received"].update(buf)
        if bad is None and buf != expect[got:got + len(buf)]:
            for i, b in enumerate(buf):
                if got + i >= len(expect) or expect[got + i] != b:
                    bad = got + i
                    break
        got += len(buf)
    return got, bad


DIGEST = {"sent": hashlib.sha256(), "received": hashlib.sha256()}


def report(ok, t0, received, sent, error=""):
    print(json.dumps({"ok": ok, "received": received, "sent": sent,
                      "seconds": round(time.time() - t0, 3), "error": error,
                      "sha256_sent": DIGEST["sent"].hexdigest(),
                      "sha256_received": DIGEST["received"].hexdigest()}), flush=True)
    return 0 if ok else 1


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def serve(a):
    ls = socket.socket(family(a.bind), socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.bind, a.port))
    ls.listen(1)
    ls.settimeout(a.timeout)
    print(json.dumps({"listening": ls.getsockname()[1]}), flush=True)
    t0 = time.time()
    try:
        conn, _ = ls.accept()
    except socket.timeout:
        return report(False, t0, 0, 0, "no connection within %ss" % a.timeout)
    conn.settimeout(a.timeout)
    try:
        got, bad = recv_check(conn, stream(a.seed, a.size))
        if got != a.size or bad is not None:
            return report(False, t0, got, 0, "client stream: %d of %d bytes, first bad byte %s"
                          % (got, a.size, bad))
        back = stream(a.seed + 1, a.size)
        send_all(conn, back)
        conn.shutdown(socket.SHUT_WR)
        conn.recv(1)  # wait for the client to close: all data was taken
        return report(True, t0, got, len(back))
    except OSError as e:
        return report(False, t0, 0, 0, "server: %s" % e)
    finally:
        conn.close()


def connect(a):
    t0 = time.time()
    s = socket.socket(family(a.addr), socket.SOCK_STREAM)
    s.settimeout(a.timeout)
    try:
        s.connect((a.addr, a.port))
    except OSError as e:
        return report(False, t0, 0, 0, "connect: %s" % (e.strerror or e))
    try:
        send_all(s, stream(a.seed, a.size))
        s.shutdown(socket.SHUT_WR)
        got, bad = recv_check(s, stream(a.seed + 1, a.size))
        if got != a.size or bad is not None:
            return report(False, t0, got, a.size, "server stream: %d of %d bytes, first bad byte %s"
                          % (got, a.size, bad))
        return report(True, t0, got, a.size)
    except OSError as e:
        return report(False, t0, 0, 0, "client: %s" % e)
    finally:
        s.close()


def echo_serve(a):
    ls = socket.socket(family(a.bind), socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.bind, a.port))
    ls.listen(1)
    ls.settimeout(a.timeout)
    print(json.dumps({"listening": ls.getsockname()[1]}), flush=True)
    try:
        conn, _ = ls.accept()
    except socket.timeout:
        return 1
    conn.settimeout(None)
    while True:
        buf = conn.recv(CHUNK)
        if not buf:
            return 0
        conn.sendall(buf)


def echo_client(a):
    s = socket.socket(family(a.addr), socket.SOCK_STREAM)
    s.settimeout(a.timeout)
    try:
        s.connect((a.addr, a.port))
    except OSError as e:
        print(json.dumps({"connected": False, "error": str(e)}), flush=True)
        return 1
    print(json.dumps({"connected": True}), flush=True)
    for line in sys.stdin:
        fields = line.split()
        msg = fields[0].encode()
        s.settimeout(float(fields[1]) if len(fields) > 1 else a.timeout)
        s.sendall(msg)
        got = b""
        try:
            while not got.endswith(msg):
                buf = s.recv(CHUNK)
                if not buf:
                    break
                got += buf
        except socket.timeout:
            pass
        print(json.dumps({"line": msg.decode(), "echoed": got.endswith(msg)}), flush=True)
    s.close()
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=("serve", "connect", "echo-serve", "echo-client"))
    ap.add_argument("--bind", default="0.0.0.0")
    ap.add_argument("--addr")
    ap.add_argument("--port", type=int, default=5201)
    ap.add_argument("--size", type=int, default=4 << 20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=20.0)
    a = ap.parse_args()
    return {"serve": serve, "connect": connect, "echo-serve": echo_serve,
            "echo-client": echo_client}[a.mode](a)


if __name__ == "__main__":
    sys.exit(main())
