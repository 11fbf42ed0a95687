"""TRex STL profile (TRex v3 API, `trex.stl.api`) replaying the frames of a
bench scenario (outbound, inbound, rdma, outbound_acl, cps), looped, at the
rate given with -m:

    /usr/bin/python3 tests/bench/bench.py --scenario outbound --dump /tmp/ss
    trex-console> start -f pktgen-profiles/trex_pcap.py -m 10mpps --port 0 \\
                  -t --pcap /tmp/ss/outbound.pcap

The switch under test runs /tmp/ss/outbound-sswitchd.conf (written by the
same --dump, with its objects): it says which of its ports the generator
drives (fabric0 for inbound, host0 for the others).
"""
import argparse
import os

from trex.stl.api import STLProfile


class PcapProfile:
    def get_streams(self, tunables=None, **kwargs):
        parser = argparse.ArgumentParser(prog=os.path.basename(__file__),
                                         description="replay a sswitch bench scenario's pcap")
        parser.add_argument("--pcap", required=True,
                            help="DIR/SCENARIO.pcap written by tests/bench/bench.py --dump")
        parser.add_argument("--ipg-usec", type=float, default=1.0,
                            help="gap between frames before -m scales the rate")
        args = parser.parse_args(tunables or [])
        # every frame of the file becomes a stream, chained and looped forever
        return STLProfile.load_pcap(args.pcap, ipg_usec=args.ipg_usec, loop_count=0).get_streams()


def register():
    return PcapProfile()
