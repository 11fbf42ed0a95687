"""Fixtures of the e2e tests: sswitchd between Linux network namespaces.

Needs root (namespaces, taps), iproute2 and ping; ethtool for af_packet
ports. Environment:
  SSWITCH_BUILD        build directory (default <repo>/build)
  SSWITCHD             the daemon binary (default: found in the build dir)
  SSWITCH_E2E_DEVICE   tap (default) or af_packet: the port device
See docs/testing.md.
"""
import os
import shutil
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))

import topo  # noqa: E402

REQUIRED_TOOLS = ("ip", "ping")


def _missing():
    if os.geteuid() != 0:
        return "e2e tests need root (network namespaces)"
    for tool in REQUIRED_TOOLS:
        if shutil.which(tool) is None:
            return "e2e tests need `%s` (make deps installs it)" % tool
    return None


def pytest_collection_modifyitems(config, items):
    reason = _missing()
    if reason:
        for item in items:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session", autouse=True)
def e2e_session():
    """Once per run: the daemon binary for the harness, and what a killed
    earlier run left behind is removed first."""
    if _missing():
        yield
        return
    os.environ.setdefault("SSWITCHD", topo.sswitchd_binary())
    topo.cleanup_leftovers()
    yield
    leftovers = [n for n in topo.list_netns() if n.startswith("%s-%d-" % (topo.PREFIX, os.getpid()))]
    assert not leftovers, "namespaces left behind: %s" % leftovers


@pytest.fixture
def make_topo(tmp_path):
    """Factory of topologies, each torn down at the end of the test, failed
    or not: make_topo(device=None) -> topo.Topology."""
    made = []

    def make(device=None):
        dev = device or os.environ.get("SSWITCH_E2E_DEVICE", "tap")
        if dev == "af_packet" and shutil.which("ethtool") is None:
            pytest.skip("net_af_packet ports need ethtool (veth offloads off; make deps installs it)")
        if dev == "tap" and not os.path.exists("/dev/net/tun"):
            pytest.skip("net_tap ports need /dev/net/tun")
        t = topo.Topology(tmp_path / ("t%d" % len(made)), device=device)
        made.append(t)
        return t

    yield make
    errors = []
    for t in reversed(made):
        try:
            t.close()
        except Exception as e:  # noqa: BLE001 - every topology is closed first
            errors.append(e)
    if errors:
        raise errors[0]
