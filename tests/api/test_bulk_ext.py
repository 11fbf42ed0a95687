"""Bulk adds of a type with extension fields (control/types.c raw_stop):
the raw bulk path (control/bulk.c) runs no extension check and knows no
reference fields, so a bulk `mapping.add` that names a Private Link field
goes through the general path, with its errors, while one that does not
keeps the raw path."""
import pytest

from rpc import RpcError


@pytest.fixture
def vnet(client):
    client.call("vnet.add", {"name": "bx", "vni": 7100})
    yield "bx"


def test_bulk_with_an_extension_field_is_checked(client, vnet):
    # a /100 NAT46 prefix: refused by the extension's check, naming the field
    with pytest.raises(RpcError) as e:
        client.call("mapping.add", {"entries": [
            {"vnet": vnet, "ip": "10.71.0.1", "underlay_ip": "100.64.7.1", "mac": "02:00:00:00:71:01"},
            {"vnet": vnet, "ip": "10.71.0.2", "underlay_ip": "100.64.7.2", "mac": "02:00:00:00:71:02",
             "routing": "privatelink", "overlay_sip": "9988::/100",
             "overlay_dip": "1122:3344:5566:7788::/96"}]})
    assert e.value.error.get("data", {}).get("field") == "entries[1].overlay_sip", e.value.error
    # a reference to a tunnel that does not exist: 1001
    with pytest.raises(RpcError) as e:
        client.call("mapping.add", {"entries": [
            {"vnet": vnet, "ip": "10.71.0.3", "underlay_ip": "100.64.7.3", "mac": "02:00:00:00:71:03",
             "routing": "privatelink", "overlay_sip": "9988::/96",
             "overlay_dip": "1122:3344:5566:7788::/96", "tunnel": "nope"}]})
    assert e.value.code == 1001, e.value.error
    # the failed batches applied nothing
    listed = client.call("mapping.list", {"vnet": vnet})
    assert not [m for m in listed["mappings"] if m["ip"].startswith("10.71.")], listed


def test_bulk_without_extension_fields(client, vnet):
    client.call("mapping.add", {"entries": [
        {"vnet": vnet, "ip": "10.72.0.%d" % i, "underlay_ip": "100.64.8.%d" % i,
         "mac": "02:00:00:00:72:%02x" % i}
        for i in range(1, 51)]})
    listed = client.call("mapping.list", {"vnet": vnet, "limit": 1000})
    assert len([m for m in listed["mappings"] if m["ip"].startswith("10.72.")]) == 50
    # a PL-only field without routing privatelink is refused in bulk too
    with pytest.raises(RpcError) as e:
        client.call("mapping.add", {"entries": [
            {"vnet": vnet, "ip": "10.72.1.1", "underlay_ip": "100.64.8.99",
             "mac": "02:00:00:00:72:99", "vni": 5}]})
    assert e.value.error.get("data", {}).get("field") == "entries[0].vni", e.value.error
