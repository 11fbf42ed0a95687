"""TRex STL profile of the `l2` scenario: 64-byte UDP frames, FLOWS flows.

    trex-console> start -f pktgen-profiles/trex_l2.py -m 10mpps --port 0 -t flows=1024
"""
from trex_stl_lib.api import (STLProfile, STLStream, STLPktBuilder, STLTXCont, STLVM,
                              Ether, IP, UDP)


class L2Profile:
    def get_streams(self, tunables=None, **kwargs):
        flows = int((tunables or {}).get("flows", kwargs.get("flows", 1024)))
        base = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / \
            IP(src="10.0.0.1", dst="10.0.0.0") / UDP(sport=1024, dport=80)
        pad = max(0, 60 - len(base)) * b"x"
        vm = STLVM()
        vm.var(name="flow", min_value=0, max_value=flows - 1, size=4, op="inc")
        vm.write(fv_name="flow", pkt_offset="IP.dst", add_val=0x0a000000)
        vm.var(name="sport", min_value=1024, max_value=1024 + flows - 1, size=2, op="inc")
        vm.write(fv_name="sport", pkt_offset="UDP.sport")
        vm.fix_chksum()
        return [STLStream(packet=STLPktBuilder(pkt=base / pad, vm=vm), mode=STLTXCont())]


def register():
    return L2Profile()
