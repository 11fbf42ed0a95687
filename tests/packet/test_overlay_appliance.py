"""Overlay, appliance mode (SPEC 3.3 and 3.2 step 6), and the SONiC DASH VNET
cases rebuilt in this API.

Appliance outbound: VXLAN from a host vSwitch with a direction-table VNI;
ENI by inner source MAC; routing and mapping on the inner packet; the
packet leaves re-encapsulated with the VIP it arrived on as outer source.
Appliance inbound: an ENI without a port gets its packets re-encapsulated
toward vm_underlay_ip with VNI vm_vni.

The DASH cases follow dash-pipeline's saithrift VNET outbound test (VIP
172.16.1.100, ENI 00:cc:cc:cc:cc:cc, CA 10.1.2.50 -> PA 172.16.1.20 with
use_dst_vnet_vni, wrong-VIP / routing / mapping drops) and the DASH VNET test
plan's inbound case (inbound routing entry with PA validation).
"""
import pytest

from test_overlay_fixtures import (
    ARP, Dot1Q, Drop, Encap, Ether, IP, Vectors, APP1, APP6, FAB0, HV, M5, M6, M8, N1, N3,
    UL4, UL6, VIP4, VIP6, check_dropped, check_one, expected_drops, op, run, tenant,
    vxlan_in, world)

# ---- DASH objects (rebuilt: a VNET is named, routes live in a route group) --------------
DASH_VIP = "172.16.1.100"
DASH_ENI = "00:cc:cc:cc:cc:cc"
DASH_CA_MAC = "00:dd:dd:dd:dd:dd"
DASH_VM_PA = "172.16.1.1"
DASH_NH = "02:00:00:00:0d:01"
APP0 = "02:00:00:00:30:00"


def dash_objects():
    return [
        op("vip.add", ip=DASH_VIP),
        op("direction.add", vni=60),
        op("underlay_route.add", prefix="172.16.1.0/24", next_hops=[{"port": "fabric0", "mac": DASH_NH}]),
        op("vnet.add", name="dash", vni=100),
        op("vnet.add", name="dash_peer", vni=300),
        op("eni.add", name="dash_eni", mac=DASH_ENI, vnet="dash", vm_underlay_ip=DASH_VM_PA,
           vm_vni=9, route_group="dash_rg"),
        op("route.add", group="dash_rg", prefix="10.1.0.0/16", action="vnet", vnet="dash"),
        op("route.add", group="dash_rg", prefix="10.2.0.0/16", action="vnet", vnet="dash_peer"),
        op("mapping.add", vnet="dash", ip="10.1.2.50", underlay_ip="172.16.1.20", mac=DASH_CA_MAC,
           use_dst_vni=True),
        op("mapping.add", vnet="dash_peer", ip="10.2.0.5", underlay_ip="172.16.1.30",
           mac="00:ee:ee:ee:ee:05", use_dst_vni=True),
        op("mapping.add", vnet="dash_peer", ip="10.2.0.6", underlay_ip="172.16.1.31",
           mac="00:ee:ee:ee:ee:06"),
        op("inbound_route.add", eni="dash_eni", vni=100, src_prefix="172.16.1.0/24", priority=1,
           action="decap_pa_validate", vnet="dash_peer"),
        op("pa_validation.add", vnet="dash_peer", underlay_ip="172.16.1.30"),
        # an appliance ENI that has nowhere to send inbound packets
        op("eni.add", name="a0", mac=APP0, vnet="v1"),
    ]


V = Vectors()
REMOTE = "02:00:00:00:40:02"


def from_vm(src_mac, i, src="10.0.0.20", dst="10.0.0.5", vlan=None):
    t = tenant(src_mac, "02:02:02:02:02:02", src, dst, i)
    if vlan is not None:
        t = Ether(src=t.src, dst=t.dst) / Dot1Q(vlan=vlan) / t.payload
    return t


# ---- appliance outbound -----------------------------------------------------------------------
V.add("appliance outbound to a VIP: outer source is that VIP", "fabric0",
      lambda i: vxlan_in("100.64.1.50", VIP4, 3000, from_vm(APP1, i)),
      Encap("fabric0", N1, VIP4, "100.64.1.5", 1000, inner_dst=M5))
V.add("appliance outbound to the underlay IP: outer source is it", "fabric0",
      lambda i: vxlan_in("100.64.1.50", UL4, 3000, from_vm(APP1, i)),
      Encap("fabric0", N1, UL4, "100.64.1.5", 1000, inner_dst=M5))
V.add("appliance outbound, IPv4 VIP, IPv6 PA: switch underlay_ip6", "fabric0",
      lambda i: vxlan_in("100.64.1.50", VIP4, 3000, from_vm(APP1, i, dst="10.0.0.6")),
      Encap("fabric1", N3, UL6, "fd00:1::6", 1000, inner_dst=M6))
V.add("appliance outbound over IPv6, IPv6 overlay", "fabric0",
      lambda i: vxlan_in("fd00:1::50", VIP6, 3000, from_vm(APP6, i, "fd10::20", "fd10::6")),
      Encap("fabric1", N3, VIP6, "fd00:1::6", 1000, inner_dst=M8))
V.add("appliance outbound, tagged inner frame: tag removed", "fabric0",
      lambda i: vxlan_in("100.64.1.50", VIP4, 3000, from_vm(APP1, i, vlan=12)),
      Encap("fabric0", N1, VIP4, "100.64.1.5", 1000, inner_dst=M5))
V.add("appliance outbound, unknown inner source MAC", "fabric0",
      lambda i: vxlan_in("100.64.1.50", VIP4, 3000, from_vm("02:00:00:00:99:96", i)),
      Drop("eni_miss"))
V.add("appliance outbound, host ENI's MAC is not an appliance ENI", "fabric0",
      lambda i: vxlan_in("100.64.1.50", VIP4, 3000, from_vm("02:00:00:00:10:01", i)),
      Drop("eni_miss"))
V.add("appliance outbound, no mapping", "fabric0",
      lambda i: vxlan_in("100.64.1.50", VIP4, 3000, from_vm(APP1, i, dst="10.0.0.99")),
      Drop("mapping_miss"))
V.add("appliance outbound, no route", "fabric0",
      lambda i: vxlan_in("100.64.1.50", VIP4, 3000, from_vm(APP1, i, dst="11.1.1.1")),
      Drop("route_miss"))
V.append(("appliance outbound, inner ARP", "fabric0",
          vxlan_in("100.64.1.50", VIP4, 3000,
                   Ether(src=APP1, dst="ff:ff:ff:ff:ff:ff") / ARP(psrc="10.0.0.20", pdst="10.0.0.5")),
          Drop("arp_unresolved")))

# ---- appliance inbound: re-encapsulated toward the VM's host ------------------------------------


def to_app(dst_mac, i, src="10.0.0.5", dst="10.0.0.20"):
    return tenant(REMOTE, dst_mac, src, dst, i)


V.add("appliance inbound: to vm_underlay_ip with vm_vni, from the underlay IP", "fabric0",
      lambda i: vxlan_in("100.64.1.5", UL4, 1000, to_app(APP1, i)),
      Encap("fabric0", N1, UL4, "100.64.1.50", 3001))
V.add("appliance inbound via a VIP: outer source is the VIP", "fabric0",
      lambda i: vxlan_in("100.64.1.5", VIP4, 1000, to_app(APP1, i)),
      Encap("fabric0", N1, VIP4, "100.64.1.50", 3001))
V.add("appliance inbound, IPv6 VM host, arrived over IPv6", "fabric0",
      lambda i: vxlan_in("fd00:1::6", UL6, 1000, to_app(APP6, i)),
      Encap("fabric1", N3, UL6, "fd00:1::50", 3006))
V.add("appliance inbound, IPv6 VM host, arrived over IPv4: underlay_ip6", "fabric0",
      lambda i: vxlan_in("100.64.1.5", VIP4, 1000, to_app(APP6, i)),
      Encap("fabric1", N3, UL6, "fd00:1::50", 3006))
V.add("appliance ENI without vm_underlay_ip", "fabric0",
      lambda i: vxlan_in("100.64.1.5", UL4, 1000, to_app(APP0, i)), Drop("eni_unreachable"))

# ---- SONiC DASH VNET cases ------------------------------------------------------------------------


def dash_out(i, dst_ca, vip=DASH_VIP):
    inner = tenant(DASH_ENI, "02:02:02:02:02:02", "10.1.1.10", dst_ca, i)
    return vxlan_in(DASH_VM_PA, vip, 60, inner)


V.add("DASH outbound: wrong VIP", "fabric0", lambda i: dash_out(i, "10.1.2.50", "172.16.100.100"),
      Drop("vip_miss"))
V.add("DASH outbound: routing drop", "fabric0", lambda i: dash_out(i, "10.200.2.50"),
      Drop("route_miss"))
V.add("DASH outbound: mapping drop", "fabric0", lambda i: dash_out(i, "10.1.211.211"),
      Drop("mapping_miss"))
V.add("DASH outbound VNET: CA 10.1.2.50 -> PA 172.16.1.20, VIP as source", "fabric0",
      lambda i: dash_out(i, "10.1.2.50"),
      Encap("fabric0", DASH_NH, DASH_VIP, "172.16.1.20", 100, inner_dst=DASH_CA_MAC))
V.add("DASH VNI rewrite: use_dst_vni, the peer VNET's VNI", "fabric0",
      lambda i: dash_out(i, "10.2.0.5"),
      Encap("fabric0", DASH_NH, DASH_VIP, "172.16.1.30", 300, inner_dst="00:ee:ee:ee:ee:05"))
V.add("DASH no VNI rewrite: the ENI VNET's VNI", "fabric0",
      lambda i: dash_out(i, "10.2.0.6"),
      Encap("fabric0", DASH_NH, DASH_VIP, "172.16.1.31", 100, inner_dst="00:ee:ee:ee:ee:06"))


def dash_in(i, pa):
    inner = tenant("00:ee:ee:ee:ee:05", DASH_ENI, "10.2.0.5", "10.1.1.10", i)
    return vxlan_in(pa, DASH_VIP, 100, inner)


V.add("DASH inbound: decap with PA validation, to the VM's host (vm_vni 9)", "fabric0",
      lambda i: dash_in(i, "172.16.1.30"),
      Encap("fabric0", DASH_NH, DASH_VIP, DASH_VM_PA, 9))
V.add("DASH inbound: PA not validated", "fabric0", lambda i: dash_in(i, "172.16.1.31"),
      Drop("pa_validation_fail"))
V.add("DASH inbound: no inbound route for the source", "fabric0", lambda i: dash_in(i, "10.10.10.10"),
      Drop("inbound_route_miss"))


@pytest.fixture(scope="module")
def appliance(tmp_path_factory):
    return run(tmp_path_factory.mktemp("appliance"), V, bootstrap=world() + dash_objects())


FORWARDED = [v for v in V if isinstance(v[3], Encap)]


@pytest.mark.parametrize("vec", FORWARDED, ids=[v[0] for v in FORWARDED])
def test_reencapsulated(appliance, vec):
    res, got = appliance
    check_one(res, got, vec)


def test_drops_counted_by_reason(appliance):
    res, got = appliance
    check_dropped(got, V)
    assert res.drops == expected_drops(V)
    assert res.unmarked == []
