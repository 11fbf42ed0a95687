"""TRex STL profile (TRex v3 API, `trex.stl.api`) of the `l2` scenario:
64-byte Ethernet/IPv4/UDP frames, --flows flows (the destination address
and the source port vary together), sent into the switch's host port
(host0, patched to fabric0: tests/bench/bench.py --dump writes the
sswitchd.conf it assumes).

    trex-console> start -f pktgen-profiles/trex_l2.py -m 10mpps --port 0 -t --flows 1024
    trex-console> start -f pktgen-profiles/trex_l2.py -t --help
"""
import argparse
import os

from trex.stl.api import STLPktBuilder, STLStream, STLTXCont, STLVM, Ether, IP, UDP

FRAME = 60  # 64 on the wire with the FCS the NIC adds


class L2Profile:
    def get_streams(self, tunables=None, **kwargs):
        # TRex v3 hands the words after `-t` over as a list (argparse style)
        parser = argparse.ArgumentParser(prog=os.path.basename(__file__),
                                         description="sswitch bench scenario l2")
        parser.add_argument("--flows", type=int, default=1024,
                            help="distinct flows (destination IP and source port), 1-65535")
        args = parser.parse_args(tunables or [])
        if not 1 <= args.flows <= 65535:
            parser.error("--flows must be 1-65535")
        base = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / \
            IP(src="10.0.0.1", dst="10.0.0.0") / UDP(sport=1024, dport=80)
        pad = max(0, FRAME - len(base)) * b"x"
        vm = None
        if args.flows > 1:
            vm = STLVM()
            vm.var(name="flow", min_value=0, max_value=args.flows - 1, size=4, op="inc")
            vm.write(fv_name="flow", pkt_offset="IP.dst", add_val=0x0a000000)
            vm.var(name="sport", min_value=1024, max_value=1024 + args.flows - 1, size=2,
                   op="inc")
            vm.write(fv_name="sport", pkt_offset="UDP.sport")
            vm.fix_chksum()
        return [STLStream(packet=STLPktBuilder(pkt=base / pad, vm=vm), mode=STLTXCont())]


def register():
    return L2Profile()
