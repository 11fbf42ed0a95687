"""capture.start / stop / list: pcap of a port's rx or tx, or of one drop reason."""
import os
import time

import pytest
from scapy.all import Ether, IP, UDP, Raw, rdpcap, wrpcap

from sswitch import Daemon, Port, RpcError

HOST_MAC = "02:00:00:00:00:01"


def pkt(i, **ip):
    return Ether(bytes(Ether(src=HOST_MAC, dst="02:00:00:00:00:02") / IP(src="10.0.0.1", dst="10.0.0.2", **ip)
                       / UDP(sport=1000 + i, dport=53) / Raw(b"c" * (20 + i))))


def test_capture_rx_tx_and_drops(tmp_path):
    """Validation, names, the never-overwrite rule, list and stop."""
    d = Daemon(tmp_path, [Port("host0", "host", rx=[], peer="fabric0"),
                          Port("fabric0", "fabric")])
    d.start()
    rpc = d.rpc()
    files = {n: os.path.join(str(tmp_path), n + ".pcap") for n in ("rx", "tx", "bad", "limited")}
    rpc.call("capture.start", {"name": "rx", "port": "host0", "direction": "rx", "file": files["rx"]})
    rpc.call("capture.start", {"name": "tx", "port": "fabric0", "direction": "tx", "file": files["tx"]})
    rpc.call("capture.start", {"name": "bad", "drop_reason": "no_forwarding", "file": files["bad"]})
    rpc.call("capture.start", {"name": "limited", "port": "host0", "file": files["limited"],
                               "count": 1, "snaplen": 64})
    lst = rpc.call("capture.list")["captures"]
    assert sorted(c["name"] for c in lst) == ["bad", "limited", "rx", "tx"]
    with pytest.raises(RpcError) as e:
        rpc.call("capture.start", {"name": "rx", "port": "host0", "file": files["rx"] + "2"})
    assert e.value.code == 1002
    with pytest.raises(RpcError) as e:
        rpc.call("capture.start", {"name": "x", "port": "nope", "file": files["rx"] + "3"})
    assert e.value.code == 1001 and e.value.data.get("field") == "port"
    with pytest.raises(RpcError) as e:
        rpc.call("capture.start", {"name": "y", "drop_reason": "bogus", "file": files["rx"] + "4"})
    assert e.value.code == -32602 and e.value.data.get("field") == "drop_reason"
    with pytest.raises(RpcError) as e:
        rpc.call("capture.start", {"name": "z", "port": "host0", "file": files["rx"]})
    assert e.value.code == 1002  # never overwrites a file
    # nothing flowed: stop returns zero packets
    res = rpc.call("capture.stop", {"name": "bad"})
    assert res["packets"] == 0
    for n in ("rx", "tx", "limited"):
        rpc.call("capture.stop", {"name": n})
    assert rpc.call("capture.list")["captures"] == []
    rpc.close()
    d.stop()
    assert len(rdpcap(files["rx"])) == 0  # a valid, empty pcap


def test_capture_sees_traffic(tmp_path):
    """The host port loops its input (infinite_rx), so traffic flows whenever
    a capture starts; each capture stops by itself after `count` packets."""
    good = pkt(1)
    bad = Ether(bytes(pkt(2, chksum=0x1111)))
    d = Daemon(tmp_path, [])
    pcap_in = os.path.join(str(tmp_path), "loop.pcap")
    wrpcap(pcap_in, [good, bad])
    d.ports = [Port("host0", "host", kind="raw", peer="fabric0",
                    extra="net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap_in),
               Port("fabric0", "fabric", kind="raw", extra="net_null0,no-rx=1")]
    d.start()
    rpc = d.rpc()
    f_rx = os.path.join(str(tmp_path), "rx.pcap")
    f_tx = os.path.join(str(tmp_path), "tx.pcap")
    f_drop = os.path.join(str(tmp_path), "drop.pcap")
    rpc.call("capture.start", {"name": "rx", "port": "host0", "file": f_rx, "count": 10})
    rpc.call("capture.start", {"name": "tx", "port": "fabric0", "direction": "tx", "file": f_tx,
                               "count": 10, "snaplen": 64})
    rpc.call("capture.start", {"name": "drop", "drop_reason": "ip_checksum_bad", "file": f_drop,
                               "count": 10})
    deadline = time.time() + 10
    while time.time() < deadline:
        lst = {c["name"]: c for c in rpc.call("capture.list")["captures"]}
        if all(c["packets"] == 10 and not c["running"] for c in lst.values()):
            break
        time.sleep(0.1)
    res = {n: rpc.call("capture.stop", {"name": n}) for n in ("rx", "tx", "drop")}
    rpc.close()
    d.stop()
    assert all(r["packets"] == 10 for r in res.values()), res
    rx = rdpcap(f_rx)
    assert len(rx) == 10 and {bytes(p) for p in rx} == {bytes(good), bytes(bad)}
    tx = rdpcap(f_tx)
    assert len(tx) == 10 and all(bytes(p) == bytes(good)[:64] for p in tx)
    assert all(p.wirelen == len(good) for p in tx)  # original length kept, caplen = snaplen
    drop = rdpcap(f_drop)
    assert len(drop) == 10 and all(bytes(p) == bytes(bad) for p in drop)
