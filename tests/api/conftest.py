# SPDX-License-Identifier: BSD-3-Clause
"""Fixtures of the control API tests: a real sswitchd on virtual ports that
need no traffic (net_null with no-rx=1), no hugepages, its control socket and
state file in a temporary directory.

One daemon per test module (`daemon`, `client`); tests that need their own
(a config with small tables, a restart, a fresh daemon to replay state into)
use `make_daemon`. Every daemon is stopped with SIGTERM at teardown and must
exit 0 (SPEC section 2).

Environment: SSWITCHD (default: BUILD/sswitchd or BUILD/dataplane/sswitchd),
SSWITCHCTL (default BUILD/control/sswitchctl/sswitchctl, else built from
source with gcc); BUILD is $SSWITCH_BUILD, default <repo>/build.
"""

import itertools
import os
import pathlib
import shutil
import signal
import subprocess
import tempfile

import pytest

from rpc import Client, wait_for_socket

REPO = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("SSWITCH_BUILD", str(REPO / "build")))
if not BUILD.is_absolute():
    BUILD = REPO / BUILD


def _first_executable(*paths):
    for p in paths:
        if p and os.access(p, os.X_OK) and os.path.isfile(p):
            return str(p)
    return None


# $SSWITCHD, else the build's sswitchd (meson puts it under dataplane/).
SSWITCHD_CANDIDATES = [os.environ.get("SSWITCHD"), BUILD / "sswitchd",
                       BUILD / "dataplane" / "sswitchd"]
SSWITCHD = _first_executable(*SSWITCHD_CANDIDATES) or str(BUILD / "sswitchd")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0

_prefix_seq = itertools.count()

DEFAULT_PORTS = [
    {"name": "host0", "devargs": "net_null0,no-rx=1", "role": "host"},
    {"name": "fabric0", "devargs": "net_null1,no-rx=1", "role": "fabric"},
    {"name": "storage0", "devargs": "net_null2,no-rx=1", "role": "storage"},
]


def _cfg_value(v):
    """A Python value as libconfig text."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        if v and all(isinstance(e, dict) for e in v):
            return "( " + ", ".join(_cfg_value(e) for e in v) + " )"
        return "[ " + ", ".join(_cfg_value(e) for e in v) + " ]"
    if isinstance(v, dict):
        return "{ " + " ".join(f"{k} = {_cfg_value(x)};" for k, x in v.items()) + " }"
    raise TypeError(f"no libconfig form for {v!r}")


def write_config(path, workdir, tables=None, ports=None, extra=None):
    """The daemon config (libconfig, SPEC section 2) for a test daemon."""
    prefix = f"ssapi{os.getpid()}_{next(_prefix_seq)}"
    cfg = {
        "eal": ["--no-huge", "-m", "512", "--no-pci", "--file-prefix", prefix,
                "--log-level", "*:warning"],
        "lcores": {"main": 0, "workers": [1]},
        "ports": ports or DEFAULT_PORTS,
        "control": {"socket": str(workdir / "sswitchd.sock"),
                    "state_file": str(workdir / "state.json")},
    }
    if tables:
        cfg["tables"] = tables
    if extra:
        cfg.update(extra)
    text = "".join(f"{k} = {_cfg_value(v)};\n" for k, v in cfg.items())
    path.write_text(text)
    return path


class Daemon:
    """One sswitchd process. start() waits for the control socket."""

    def __init__(self, workdir, tables=None, ports=None, extra=None):
        self.workdir = pathlib.Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.conf = write_config(self.workdir / "sswitchd.conf", self.workdir,
                                 tables=tables, ports=ports, extra=extra)
        self.socket = str(self.workdir / "sswitchd.sock")
        self.state_file = self.workdir / "state.json"
        self.proc = None
        self.clients = []
        self.starts = 0

    def start(self):
        if not os.access(SSWITCHD, os.X_OK):
            tried = ", ".join(str(p) for p in SSWITCHD_CANDIDATES if p)
            pytest.fail(f"sswitchd not built (tried {tried}; run `make build` or set "
                        f"SSWITCHD)")
        self.starts += 1
        self.log = self.workdir / f"sswitchd.{self.starts}.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([SSWITCHD, "-c", str(self.conf), "-q"],
                                         stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT,
                                         start_new_session=True)
        try:
            c = wait_for_socket(self.socket, START_TIMEOUT,
                                alive=lambda: self.proc.poll() is None)
        except Exception as e:
            self.kill()
            pytest.fail(f"sswitchd did not start: {e}\n--- log ---\n{self.log_text()}")
        c.close()
        return self

    def log_text(self, tail=4000):
        try:
            return self.log.read_text(errors="replace")[-tail:]
        except OSError:
            return ""

    def client(self, timeout=30.0):
        c = Client(self.socket, timeout)
        self.clients.append(c)
        return c

    def _close_clients(self):
        for c in self.clients:
            c.close()
        self.clients = []

    def stop(self):
        """SIGTERM; returns the exit code (SPEC: 0 after saving state)."""
        self._close_clients()
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            return "timeout"

    def kill(self):
        """SIGKILL (a crash)."""
        self._close_clients()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(STOP_TIMEOUT)

    def stop_and_check(self):
        rc = self.stop()
        assert rc == 0, f"sswitchd exited with {rc} on SIGTERM\n{self.log_text()}"


@pytest.fixture(scope="module")
def make_daemon(tmp_path_factory):
    """Factory: make_daemon(tables=..., ports=..., workdir=...) -> started
    Daemon. All are stopped (and must exit 0) when the module ends."""
    started = []

    def make(tables=None, ports=None, extra=None, workdir=None):
        wd = workdir or tmp_path_factory.mktemp("sswitchd")
        d = Daemon(wd, tables=tables, ports=ports, extra=extra)
        started.append(d)
        return d.start()

    yield make
    failures = []
    for d in started:
        rc = d.stop()
        if rc not in (0, None):
            failures.append(f"{d.conf}: exit {rc}\n{d.log_text()}")
    assert not failures, "sswitchd did not exit 0 on SIGTERM:\n" + "\n".join(failures)


@pytest.fixture(scope="module")
def daemon(make_daemon):
    """The module's daemon."""
    return make_daemon()


@pytest.fixture
def client(daemon):
    """A fresh connection to the module's daemon."""
    c = daemon.client()
    yield c
    c.close()
    if c in daemon.clients:
        daemon.clients.remove(c)


def _build_sswitchctl():
    src = REPO / "control" / "sswitchctl"
    out = pathlib.Path(tempfile.mkdtemp(prefix="sswitchctl-")) / "sswitchctl"
    subprocess.run(["gcc", "-std=gnu11", "-O2", "-o", str(out),
                    *sorted(str(p) for p in src.glob("*.c")), "-ljansson"],
                   check=True)
    return str(out)


@pytest.fixture(scope="session")
def sswitchctl_bin():
    """Path of the sswitchctl binary, in a directory anyone may read (the
    permission test runs it as another user)."""
    path = _first_executable(os.environ.get("SSWITCHCTL"),
                             BUILD / "control" / "sswitchctl" / "sswitchctl",
                             BUILD / "sswitchctl") or _build_sswitchctl()
    pub = pathlib.Path(tempfile.mkdtemp(prefix="sswitchctl-bin-"))
    pub.chmod(0o755)
    dst = pub / "sswitchctl"
    shutil.copy(path, dst)
    dst.chmod(0o755)
    yield str(dst)
    shutil.rmtree(pub, ignore_errors=True)
