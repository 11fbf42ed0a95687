# SPDX-License-Identifier: BSD-3-Clause
"""A tiny JSON-RPC 2.0 client for sswitchd's control socket (SPEC section 4):
a Unix stream socket carrying one JSON value per line each way."""

import itertools
import json
import socket
import time


class RpcError(Exception):
    """An error answered by the daemon."""

    def __init__(self, error):
        self.error = error
        self.code = error.get("code")
        self.message = error.get("message")
        self.data = error.get("data") or {}
        super().__init__(f"{self.code}: {self.message} {self.data}")

    @property
    def field(self):
        return self.data.get("field")

    @property
    def index(self):
        return self.data.get("index")


class Client:
    """One connection. `call` raises RpcError on an error reply; the lower
    level `send`/`recv` let tests write anything on the wire."""

    def __init__(self, path, timeout=30.0):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.ids = itertools.count(1)

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- wire level -----------------------------------------------------
    def send_raw(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def send(self, obj):
        self.send_raw(json.dumps(obj, separators=(",", ":")) + "\n")

    def recv_line(self, timeout=None):
        """The next line from the daemon (bytes, without newline), or None
        when the daemon closed the connection."""
        old = self.sock.gettimeout()
        if timeout is not None:
            self.sock.settimeout(timeout)
        try:
            while b"\n" not in self.buf:
                try:
                    chunk = self.sock.recv(1 << 20)
                except ConnectionResetError:
                    # The daemon closed while our data was still unread
                    # (Linux reports ECONNRESET after the queued replies).
                    chunk = b""
                if not chunk:
                    if self.buf:
                        line, self.buf = self.buf, b""
                        return line
                    return None
                self.buf += chunk
        finally:
            self.sock.settimeout(old)
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def recv(self, timeout=None):
        """The next reply, parsed; None at end of stream."""
        line = self.recv_line(timeout)
        return None if line is None else json.loads(line)

    def expect_silence(self, seconds=0.3):
        """Assert that nothing arrives for a while (notifications)."""
        self.sock.settimeout(seconds)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return
        finally:
            self.sock.settimeout(30.0)
        raise AssertionError(f"unexpected data from daemon: {data[:200]!r}")

    # -- calls ------------------------------------------------------------
    def request(self, method, params=None):
        """Send one request and return the raw reply object."""
        rid = next(self.ids)
        req = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            req["params"] = params
        self.send(req)
        reply = self.recv()
        assert reply is not None, f"connection closed while waiting for {method}"
        assert reply.get("jsonrpc") == "2.0", reply
        assert reply.get("id") == rid, f"reply id {reply.get('id')} != {rid}: {reply}"
        assert ("result" in reply) != ("error" in reply), reply
        return reply

    def call(self, method, params=None):
        reply = self.request(method, {} if params is None else params)
        if "error" in reply:
            raise RpcError(reply["error"])
        return reply["result"]

    def error(self, method, params=None):
        """Call a method that must fail; returns the RpcError."""
        reply = self.request(method, {} if params is None else params)
        assert "error" in reply, f"{method} {params} succeeded: {reply}"
        err = reply["error"]
        assert isinstance(err.get("code"), int), reply
        assert isinstance(err.get("message"), str) and err["message"], reply
        return RpcError(err)


def wait_for_socket(path, timeout=30.0, alive=lambda: True):
    """Connect to the socket once it accepts; raises TimeoutError."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError("daemon exited before opening its socket")
        try:
            return Client(path)
        except (FileNotFoundError, ConnectionRefusedError) as e:
            last = e
        time.sleep(0.05)
    raise TimeoutError(f"no control socket at {path} after {timeout}s ({last})")


# -- result helpers shared by the tests --------------------------------------

def rows(result, key=None):
    """The list of a list method: {"vnets": [...]} (or the bare list)."""
    if isinstance(result, list):
        return result
    assert isinstance(result, dict), result
    if key is not None and key in result:
        return result[key]
    lists = [v for v in result.values() if isinstance(v, list)]
    assert len(lists) == 1, f"cannot find the list in {result}"
    return lists[0]


def state_ops(state):
    """The ops of state.get, bulk entries expanded into one op per object."""
    assert isinstance(state, dict) and isinstance(state.get("ops"), list), state
    out = []
    for op in state["ops"]:
        params = op.get("params") or {}
        if isinstance(params.get("entries"), list):
            for e in params["entries"]:
                out.append({"method": op["method"], "params": e})
        else:
            out.append({"method": op["method"], "params": params})
    return out


def state_objects(state, method):
    """The params of every op of `method` in state.get."""
    return [op["params"] for op in state_ops(state) if op["method"] == method]


def canonical_state(state):
    """An order-independent form of state.get for comparisons."""
    return sorted(json.dumps(op, sort_keys=True) for op in state_ops(state))
