"""Private Link over an HA failover (docs/ha.md "Private Link"): no state of
its own is synced. The VM's packet to the private endpoint opens a flow on
the active; only the flow is synced; after `ha.set role=active` the
service's IPv6 reply, into the new active, passes pl_in (its translation
comes from the mapping and the flow's key) and reaches the VM byte for byte
through the reverse of the synced flow (the ENI denies everything inbound).
A reply no synced flow covers is dropped (`pl_no_flow`).
"""
import os
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(REPO, "tests", "packet"))
sys.path.insert(0, os.path.join(REPO, "tests", "lib"))
sys.path.insert(0, os.path.join(REPO, "pipelines", "privatelink", "test"))

import pytest  # noqa: E402
from scapy.all import TCP, UDP, Raw  # noqa: E402

from test_acl_topo import Live  # noqa: E402
from test_privatelink_reply import PL, from_service, from_vm, ipv4_service, ops  # noqa: E402

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists("/dev/net/tun"),
                                reason="TAP ports need root and /dev/net/tun")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def ha_live(tmp, role, listen, peer):
    os.makedirs(tmp, exist_ok=True)
    lv = Live(tmp, ops())
    lv.d.extra_conf = ('ha = { role = "%s"; listen = "127.0.0.1:%d"; peer = "127.0.0.1:%d"; '
                       'peer_timeout_ms = 3000; };\n' % (role, listen, peer))
    return lv


def wait(cond, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def nflows(lv):
    return len(lv.rpc.call("flow.list", {"limit": 1000})["flows"])


def test_pl_reply_after_failover(tmp_path):
    pa, pb = free_port(), free_port()
    with ha_live(str(tmp_path / "b"), "standby", pb, pa) as b, \
            ha_live(str(tmp_path / "a"), "active", pa, pb) as a:
        wait(lambda: b.rpc.call("ha.get")["bulk_sync"] == "done", 30, "the bulk sync")
        pa_ = PL(a)
        pa_.out(from_vm(UDP(sport=5353, dport=53) / Raw(b"query")))
        pa_.out(from_vm(TCP(sport=40000, dport=443, flags="S", seq=1000)))
        wait(lambda: nflows(b) == 2, 10, "the two flows on the standby")
        assert b.rpc.call("ha.set", {"role": "active"})["role"] == "active"
        pb_ = PL(b)
        data = Raw(b"answer" * 20)
        pb_.reply(from_service(UDP(sport=53, dport=5353) / data),
                  ipv4_service(UDP(sport=53, dport=5353) / data))
        pb_.reply(from_service(TCP(sport=443, dport=40000, flags="SA", seq=7, ack=1001)),
                  ipv4_service(TCP(sport=443, dport=40000, flags="SA", seq=7, ack=1001)))
        # the control: a reply to a connection that was never synced
        pb_.dropped("fabric0", from_service(UDP(sport=53, dport=5999)), "pl_no_flow")
