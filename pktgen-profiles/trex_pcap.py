"""TRex STL profile replaying a bench scenario's frames (outbound, inbound,
rdma, outbound_acl, cps), looped, at the rate given with -m.

    /usr/bin/python3 tests/bench/bench.py --scenario outbound --dump /tmp/ss
    trex-console> start -f pktgen-profiles/trex_pcap.py -m 10mpps --port 0 \
                  -t pcap=/tmp/ss/outbound.pcap

Configure the switch under test with the matching NAME-objects.json.
"""
from trex_stl_lib.api import STLProfile


class PcapProfile:
    def get_streams(self, tunables=None, **kwargs):
        tun = dict(tunables or {}, **kwargs)
        pcap = tun.get("pcap")
        if not pcap:
            raise ValueError("give -t pcap=PATH (written by tests/bench/bench.py --dump)")
        # every frame of the file becomes a stream, all looped back to back
        return STLProfile.get_profile_from_pcap(pcap, ipg_usec=None, loop_count=0).get_streams()


def register():
    return PcapProfile()
