"""The traffic-generator profiles of pktgen-profiles/ load where they are
used, without the generators here:

- the TRex profiles against a stand-in of the `trex.stl.api` names they
  import, with TRex v3's calling convention (STLProfile.load_py: tunables
  as an argparse-style list, defaults on every get_streams argument,
  `-t --help` ends in SystemExit) and its signatures (STLProfile.load_pcap,
  STLVM.var/write/fix_chksum, STLStream, STLPktBuilder, STLTXCont);
- the pktgen-dpdk command files against pktgen's command list (the
  cli_map patterns of app/cli-functions.c, pktgen-dpdk 22.07 / 23.10) and
  l2.lua against the functions of its Lua library (app/lpktgenlib.c);
- `tests/bench/bench.py --dump` writes, per scenario, the sswitchd.conf its
  frames assume, and `sswitchd --check` accepts it with the objects.
"""
import importlib
import ipaddress
import os
import re
import subprocess
import sys

import pytest

from conftest import REPO

PROFILES = os.path.join(REPO, "pktgen-profiles")

# A stand-in of trex.stl.api (TRex v3.0.x, scripts/automation/
# trex_control_plane/interactive/trex/stl): the names the profiles may
# import, with TRex's signatures; arguments are checked the way TRex checks
# them where a wrong one would fail in TRex.
STANDIN = r'''
from scapy.all import Ether, IP, IPv6, UDP, TCP, rdpcap


class TRexError(Exception):
    pass


class STLTXCont:
    def __init__(self, bps_L1=None, bps_L2=None, pps=None, percentage=None):
        self.pps = pps


class STLTXSingleBurst:
    def __init__(self, total_pkts=1, bps_L1=None, bps_L2=None, pps=None, percentage=None):
        self.total_pkts = total_pkts


class STLVM:
    def __init__(self):
        self.vars, self.writes, self.fix = {}, [], False

    def var(self, name, min_value, max_value, size, op, step=1, init_value=None,
            value_list=None, next_var=None, split_to_cores=True):
        if size not in (1, 2, 4, 8):
            raise TRexError("var %s: size %r" % (name, size))
        if op not in ("inc", "dec", "random"):
            raise TRexError("var %s: op %r" % (name, op))
        if not 0 <= min_value < max_value < (1 << (8 * size)):
            raise TRexError("var %s: range %r-%r for size %d" % (name, min_value, max_value, size))
        self.vars[name] = size

    def write(self, fv_name, pkt_offset, offset_fixup=0, add_val=0, byte_order="big"):
        if fv_name not in self.vars:
            raise TRexError("write of undefined var %s" % fv_name)
        self.writes.append((fv_name, pkt_offset, add_val))

    def fix_chksum(self, offset=14):
        self.fix = True


class STLPktBuilder:
    def __init__(self, pkt=None, pkt_buffer=None, vm=None, path_relative_to_profile=False,
                 build_raw=False, remove_fcs=True):
        if (pkt is None) == (pkt_buffer is None):
            raise TRexError("give pkt or pkt_buffer")
        self.pkt = pkt if pkt is not None else Ether(pkt_buffer)
        self.vm = vm
        for name, off, _ in (vm.writes if vm else []):
            if isinstance(off, str):
                layer, field = off.split(".")
                lay = self.pkt.getlayer(layer)
                if lay is None or field not in [f.name for f in lay.fields_desc]:
                    raise TRexError("pkt_offset %s not in the packet" % off)


class STLStream:
    def __init__(self, name=None, packet=None, mode=STLTXCont(pps=1), enabled=True,
                 self_start=True, isg=0.0, flow_stats=None, next=None, stream_id=None,
                 action_count=0, random_seed=0, mac_src_override_by_pkt=None,
                 mac_dst_override_mode=None, dummy_stream=False, start_paused=False,
                 core_id=-1):
        if not isinstance(packet, STLPktBuilder):
            raise TRexError("packet must be an STLPktBuilder")
        self.packet, self.mode, self.next = packet, mode, next


class STLProfile:
    def __init__(self, streams=None):
        self.streams = streams or []
        self.meta = {}

    def get_streams(self):
        return self.streams

    @staticmethod
    def load_pcap(pcap_file, ipg_usec=None, speedup=1.0, loop_count=1, vm=None,
                  packet_hook=None, split_mode=None, min_ipg_usec=None,
                  src_mac_pcap=False, dst_mac_pcap=False):
        if ipg_usec is not None and ipg_usec < 0.001 * speedup:
            raise TRexError("ipg_usec cannot be less than 0.001 usec")
        if loop_count < 0:
            raise TRexError("'loop_count' cannot be negative")
        pkts = rdpcap(pcap_file)
        if len(pkts) == 0:
            raise TRexError("'%s' does not contain any packets" % pcap_file)
        n = len(pkts)
        return STLProfile([STLStream(name=i, packet=STLPktBuilder(pkt_buffer=bytes(p), vm=vm),
                                     mode=STLTXSingleBurst(total_pkts=1),
                                     self_start=i == 1, next=1 if i == n else i + 1,
                                     action_count=loop_count if i == n else 0)
                           for i, p in enumerate(pkts, start=1)])
'''


@pytest.fixture(scope="module")
def trex(tmp_path_factory):
    root = tmp_path_factory.mktemp("trex-standin")
    (root / "trex" / "stl").mkdir(parents=True)
    (root / "trex" / "__init__.py").write_text("")
    (root / "trex" / "stl" / "__init__.py").write_text("")
    (root / "trex" / "stl" / "api.py").write_text(STANDIN)
    sys.path.insert(0, str(root))
    sys.path.insert(0, PROFILES)
    yield root
    sys.path.remove(PROFILES)
    sys.path.remove(str(root))
    for m in [m for m in sys.modules if m == "trex" or m.startswith("trex.")
              or m in ("trex_l2", "trex_pcap")]:
        del sys.modules[m]


def load_py(name, tunables):
    """What TRex v3's STLProfile.load_py does with a profile: every argument
    of get_streams has a default (get_module_tunables), then
    register().get_streams(direction=, port_id=, tunables=[...])."""
    module = importlib.import_module(name)
    func = module.register().get_streams
    argc = func.__code__.co_argcount
    defaults = func.__defaults__
    assert defaults is None or len(defaults) == argc - 1, \
        "Module should provide default values for all arguments on get_streams()"
    return module.register().get_streams(direction=0, port_id=0, tunables=tunables)


def test_trex_l2(trex):
    streams = load_py("trex_l2", ["--flows", "16"])
    assert len(streams) == 1
    vm = streams[0].packet.vm
    assert vm.vars == {"flow": 4, "sport": 2} and vm.fix
    assert len(bytes(streams[0].packet.pkt)) == 60
    assert bytes(streams[0].packet.pkt)[23] == 17    # UDP
    assert load_py("trex_l2", [])[0].packet.vm is not None    # default 1024 flows
    assert load_py("trex_l2", ["--flows", "1"])[0].packet.vm is None
    with pytest.raises(SystemExit):
        load_py("trex_l2", ["--help"])
    with pytest.raises(SystemExit):      # the v2 style the issue saw fail
        load_py("trex_l2", ["flows=1024"])


def test_trex_pcap(trex, tmp_path):
    from scapy.all import Ether, IP, UDP, wrpcap
    pcap = tmp_path / "x.pcap"
    wrpcap(str(pcap), [Ether() / IP(dst="10.0.0.%d" % i) / UDP() for i in range(1, 6)])
    streams = load_py("trex_pcap", ["--pcap", str(pcap)])
    assert len(streams) == 5 and streams[-1].next == 1
    with pytest.raises(SystemExit):
        load_py("trex_pcap", [])          # --pcap is required
    with pytest.raises(SystemExit):
        load_py("trex_pcap", ["pcap=%s" % pcap])


# pktgen-dpdk's command patterns (cli_map entries of app/cli-functions.c)
# for the commands a profile may use: %P portlist, %d number, %4 IPv4
# (optionally /len), %m MAC, %| alternatives (the literal word must be one).
SMMI = "%|start|minimum|maximum|increment|min|max|inc"
PKTGEN_COMMANDS = [
    "range %P dst mac " + SMMI + " %m", "range %P src mac " + SMMI + " %m",
    "range %P dst mac %m %m %m %m", "range %P src mac %m %m %m %m",
    "range %P dst ip " + SMMI + " %4", "range %P src ip " + SMMI + " %4",
    "range %P dst ip %4 %4 %4 %4", "range %P src ip %4 %4 %4 %4",
    "range %P proto tcp|udp",
    "range %P dst port " + SMMI + " %d", "range %P src port " + SMMI + " %d",
    "range %P dst port %d %d %d %d", "range %P src port %d %d %d %d",
    "range %P vlan " + SMMI + " %d", "range %P size " + SMMI + " %d",
    "range %P size %d %d %d %d",
    "set %P %|count|size|rate|burst|tx_cycles|sport|dport|seq_cnt|prime|dump|vlan|seqCnt %d",
    "set %P type %|arp|ipv4|ipv6|ip4|ip6|vlan", "set %P proto %|udp|tcp|icmp",
    "set %P src mac %m", "set %P dst mac %m", "set %P src ip %4", "set %P dst ip %4",
    "%|enable|disable %P %|process|mpls|qinq|gre|gre_eth|vlan|garp|random|latency|pcap|"
    "blink|rx_tap|tx_tap|icmp|range|capture|bonding",
    "start %P", "stop %P",
]


def _token_ok(pat, word):
    if pat == "%P":
        return word == "all" or re.fullmatch(r"\d+(-\d+)?(,\d+(-\d+)?)*", word) is not None
    if pat == "%d":
        return word.isdigit()
    if pat == "%4":
        try:
            ipaddress.IPv4Interface(word)
            return True
        except ValueError:
            return False
    if pat == "%m":
        return re.fullmatch(r"([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}", word) is not None
    if pat.startswith("%|"):
        return word in pat[2:].split("|")
    if "|" in pat:
        return word in pat.split("|")
    return word == pat


def pktgen_ok(line):
    words = line.split()
    for cmd in PKTGEN_COMMANDS:
        pats = cmd.split()
        if len(pats) == len(words) and all(_token_ok(p, w) for p, w in zip(pats, words)):
            return True
    return False


def test_pktgen_command_files():
    files = sorted(f for f in os.listdir(PROFILES) if f.endswith(".pkt"))
    assert {"l2.pkt", "outbound.pkt", "inbound.pkt", "rdma.pkt", "cps.pkt"} <= set(files)
    for f in files:
        with open(os.path.join(PROFILES, f)) as fh:
            lines = [l.strip() for l in fh if l.strip() and not l.startswith("#")]
        bad = [l for l in lines if not pktgen_ok(l)]
        assert not bad, "%s: not pktgen commands: %s" % (f, bad)
        if "enable 0 range" in lines:
            # range mode sends the range template's protocol, not `set proto`'s
            assert "range 0 proto udp" in lines, f
    assert pktgen_ok("range 0 proto udp") and not pktgen_ok("range 0 proto sctp")
    assert not pktgen_ok("range 0 dst ip begin 10.0.0.1")


# the functions of pktgen's Lua library (app/lpktgenlib.c: pktgenlib and
# its `range` table) that a profile may call
LUA_PKTGEN = {"set", "start", "stop", "set_mac", "set_ipaddr", "set_proto", "set_type",
              "set_range", "pcap", "delay", "sleep", "clear"}
LUA_RANGE = {"dst_mac", "src_mac", "src_ip", "dst_ip", "ip_proto", "src_port", "dst_port",
             "vlan_id", "pkt_size"}


def test_pktgen_lua():
    with open(os.path.join(PROFILES, "l2.lua")) as f:
        text = f.read()
    calls = re.findall(r"pktgen\.(range\.)?(\w+)\(", text)
    assert calls
    for rng, fn in calls:
        assert fn in (LUA_RANGE if rng else LUA_PKTGEN), "pktgen.%s%s is not pktgen's" % (rng, fn)
    assert re.search(r'pktgen\.range\.ip_proto\(port, "udp"\)', text)


@pytest.mark.parametrize("scenario,into,out", [("l2", "host0", "fabric0"),
                                               ("inbound", "fabric0", "host0"),
                                               ("rdma", "host0", "stor0")])
def test_bench_dump_writes_the_switch_config(tmp_path, sswitchd, scenario, into, out):
    r = subprocess.run(["/usr/bin/python3", os.path.join(REPO, "tests", "bench", "bench.py"),
                        "--dump", str(tmp_path), "--scenario", scenario, "--flows", "16"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "into %s, out of %s" % (into, out) in r.stdout
    conf = (tmp_path / ("%s-sswitchd.conf" % scenario)).read_text()
    assert "The generator sends %s.pcap into port %s" % (scenario, into) in conf
    assert re.search(r'name = "%s";[^}]*devargs = "0000:00:00.1"' % into, conf), conf
    assert (tmp_path / ("%s.pcap" % scenario)).exists()
    # the config is what the start would accept, objects included (a
    # config without the placeholders' devices, the devices aside)
    ctl = tmp_path / "ctl"
    text = conf.replace("/run/sswitch/sswitchd.sock", str(ctl / "sswitchd.sock"))
    (tmp_path / "check.conf").write_text(text)
    r = subprocess.run([sswitchd, "--check", "-c", str(tmp_path / "check.conf")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "a valid txn" in r.stdout, r.stderr


def test_readme_names_the_port_each_profile_drives():
    with open(os.path.join(PROFILES, "README.md")) as f:
        text = f.read()
    assert not re.search(r"point pktgen or TRex at the switch's\s+host port", text)
    for scenario, port in (("l2", "host0"), ("outbound", "host0"), ("inbound", "fabric0"),
                           ("rdma", "host0"), ("outbound_acl", "host0"), ("cps", "host0")):
        row = re.search(r"^\| `%s` \|.*$" % scenario, text, re.M)
        assert row and "`%s`" % port in row.group(0), scenario
