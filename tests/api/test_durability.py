# SPDX-License-Identifier: BSD-3-Clause
"""Durability (SPEC section 4): committed state is written before the reply,
so a crash (kill -9) loses nothing that was acknowledged."""

import json
import subprocess
import threading
import time

from conftest import SSWITCHD
from rpc import Client, canonical_state, rows, state_objects


def test_acknowledged_commits_survive_kill9(make_daemon):
    d = make_daemon()
    with d.client() as c:
        c.call("vnet.add", {"name": "dur-v", "vni": 4000})
        for i in range(150):
            c.call("mapping.add", {"vnet": "dur-v", "ip": f"10.80.{i // 250}.{i % 250 + 1}",
                                   "underlay_ip": "198.51.100.80",
                                   "mac": "02:00:00:00:80:01"})
        c.call("mapping.delete", {"vnet": "dur-v", "ip": "10.80.0.1"})
        state = c.call("state.get")
    d.kill()
    d.start()
    with d.client() as c:
        assert canonical_state(c.call("state.get")) == canonical_state(state)
        ips = {m["ip"] for m in rows(c.call("mapping.list", {"vnet": "dur-v"}))}
        assert len(ips) == 149 and "10.80.0.1" not in ips
    d.stop_and_check()


def test_kill9_during_a_stream_of_commits(make_daemon):
    """Commits pipelined from one client while the daemon is killed: every
    acknowledged one is back after the restart (unacknowledged ones may or
    may not be)."""
    d = make_daemon()
    acked = []
    stop = threading.Event()

    def writer():
        try:
            with Client(d.socket, timeout=10) as c:
                for i in range(100000):
                    if stop.is_set():
                        return
                    name = f"k9-{i}"
                    c.send({"jsonrpc": "2.0", "id": i, "method": "vnet.add",
                            "params": {"name": name, "vni": 10000 + i}})
                    reply = c.recv()
                    if reply is None:
                        return
                    assert "result" in reply, reply
                    acked.append(name)
        except (OSError, json.JSONDecodeError):
            return

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    deadline = time.monotonic() + 20
    while len(acked) < 50 and time.monotonic() < deadline and t.is_alive():
        time.sleep(0.01)
    assert len(acked) >= 50, "commits too slow or failing"
    d.kill()
    stop.set()
    t.join(10)
    n = len(acked)
    d.start()
    with d.client() as c:
        names = {v["name"] for v in state_objects(c.call("state.get"), "vnet.add")}
    missing = [a for a in acked[:n] if a not in names]
    assert not missing, f"{len(missing)} acknowledged commits lost, e.g. {missing[:5]}"
    d.stop_and_check()


def test_sigterm_saves_and_restores(make_daemon):
    d = make_daemon()
    with d.client() as c:
        c.call("vnet.add", {"entries": [{"name": f"st-{i}", "vni": 3000 + i}
                                        for i in range(20)]})
        state = c.call("state.get")
    d.stop_and_check()
    d.start()
    with d.client() as c:
        assert canonical_state(c.call("state.get")) == canonical_state(state)
    d.stop_and_check()
    # A clean stop saves the state to control.state_file itself (a snapshot
    # an operator can back up), not only to the journal beside it.
    assert d.state_file.exists(), "SIGTERM did not write control.state_file"
    saved = json.loads(d.state_file.read_text())
    assert canonical_state(saved) == canonical_state(state)


def test_corrupt_state_file_refuses_to_start(make_daemon):
    """A corrupt state file is an error at start, never silently discarded."""
    d = make_daemon()
    with d.client() as c:
        c.call("vnet.add", {"name": "corrupt-v", "vni": 3500})
    d.stop_and_check()
    d.state_file.write_text("{ this is not json")
    proc = subprocess.run([SSWITCHD, "-c", str(d.conf), "-q"], capture_output=True,
                          timeout=30, stdin=subprocess.DEVNULL)
    assert proc.returncode != 0, "daemon started on a corrupt state file"
    assert d.state_file.read_text() == "{ this is not json", "state file was overwritten"
