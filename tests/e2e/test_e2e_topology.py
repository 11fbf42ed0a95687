"""The namespace library itself: a topology is undone whatever happens, and
what a killed run leaves behind is found and removed by the next one."""
import os
import signal
import subprocess
import sys

import pytest

import topo
from topo import Topology, list_netns, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is not running: our own child that exited but was not reaped
    with open("/proc/%d/stat" % pid) as f:
        return f.read().split(")")[-1].split()[0] != "Z"


def test_topology_undone_when_the_test_fails(tmp_path):
    class Boom(Exception):
        pass

    names, pid = [], None
    with pytest.raises(Boom):
        with Topology(tmp_path) as t:
            vm = t.netns("vm")
            t.port("host0", "host", vm, peer="fabric0")
            t.port("fabric0", "fabric", t.netns("remote"), peer="host0")
            d = t.start()
            names = [ns.name for ns in t.namespaces]
            pid = d.proc.pid
            assert vm.run("ip", "link", "show", "host0").returncode == 0
            raise Boom()
    assert len(names) == 3 and not set(names) & set(list_netns())
    assert not _alive(pid)


CHILD = r"""
import os, sys, time
sys.path.insert(0, %(here)r)
import topo
t = topo.Topology(%(dir)r)
t.port("host0", "host", t.netns("vm"), peer="fabric0")
t.port("fabric0", "fabric", t.netns("remote"), peer="host0")
d = t.start()
print(d.proc.pid, flush=True)
time.sleep(60)
"""


def test_killed_run_leaves_nothing_running_and_is_cleaned(tmp_path):
    """A test process killed with SIGKILL cannot tear down: its daemon dies
    with it (PR_SET_PDEATHSIG) and its namespaces are deleted by the next
    run's cleanup_leftovers()."""
    child = subprocess.Popen([sys.executable, "-c", CHILD % {"here": HERE, "dir": str(tmp_path)}],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline()
        assert line.strip().isdigit(), child.stderr.read()
        daemon_pid = int(line)
        prefix = "%s-%d-" % (topo.PREFIX, child.pid)
        assert len([n for n in list_netns() if n.startswith(prefix)]) == 3
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        child.stderr.close()
    wait_for(lambda: not _alive(daemon_pid), timeout=10, what="the orphaned daemon to die")
    gone = topo.cleanup_leftovers()
    assert sorted(n for n in gone if n.startswith(prefix)) == sorted(
        prefix + "0-" + r for r in ("remote", "sw", "vm"))
    assert not [n for n in list_netns() if n.startswith(prefix)]


def test_names_are_unique_per_topology(tmp_path):
    with Topology(tmp_path / "a") as a, Topology(tmp_path / "b") as b:
        assert a.tag != b.tag and a.sw.name != b.sw.name
        assert a.sw.name.startswith("%s-%d-" % (topo.PREFIX, os.getpid()))
