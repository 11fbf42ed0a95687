# SPDX-License-Identifier: BSD-3-Clause
"""bash completion from the daemon's schema (dist/bash-completion/sswitchctl):
an object type and fields a feature added are completed when a daemon
answers on the command line's socket, and nothing breaks when none does.
The fake daemon of test_sswitchctl_schema announces nat.pool and an
extension field of eni."""

import os
import pathlib
import subprocess

from test_sswitchctl_schema import fake_daemon  # noqa: F401 (fixture)
from test_sswitchctl_schema import run

COMPLETION = pathlib.Path(__file__).resolve().parents[2] / "dist" / "bash-completion" / "sswitchctl"


def complete(ctl, *words):
    script = ('source "$1"; shift; COMP_WORDS=(sswitchctl "$@"); '
              'COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); _sswitchctl; '
              'printf "%s\\n" "${COMPREPLY[@]}"')
    env = dict(os.environ, PATH=os.path.dirname(ctl) + ":" + os.environ["PATH"])
    env.pop("SSWITCH_SOCKET", None)
    r = subprocess.run(["bash", "-c", script, "bash", str(COMPLETION), *words],
                       capture_output=True, text=True, env=env, check=True, timeout=30)
    return set(r.stdout.split())


def test_schema_command(sswitchctl_bin, fake_daemon):  # noqa: F811
    sock, _ = fake_daemon
    r = run(sswitchctl_bin, sock, "schema")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n") == ["nat-pool add delete list", ""]   # eni: in the manual
    r = run(sswitchctl_bin, sock, "schema", "nat", "pool")
    assert r.stdout.split() == ["name", "eni", "mode"]
    assert run(sswitchctl_bin, sock, "schema", "eni").stdout.split() == ["name", "rate_limit_pps"]
    assert run(sswitchctl_bin, sock, "schema", "bogus").returncode == 2
    assert run(sswitchctl_bin, "/nonexistent.sock", "schema").returncode == 3


def test_completion_follows_the_daemon(sswitchctl_bin, fake_daemon):  # noqa: F811
    sock, _ = fake_daemon
    assert "nat-pool" in complete(sswitchctl_bin, "-s", sock, "")
    assert "nat-pool" not in complete(sswitchctl_bin, "")
    assert {"add", "delete", "list"} <= complete(sswitchctl_bin, "-s", sock, "nat-pool", "")
    assert complete(sswitchctl_bin, "-s", sock, "nat-pool", "add", "") == {"name=", "eni=", "mode="}
    assert "rate_limit_pps=" in complete(sswitchctl_bin, "--socket=" + sock, "eni", "add", "")
    # without a daemon: the manual's fields only
    got = complete(sswitchctl_bin, "eni", "add", "")
    assert "vm_underlay_ip=" in got and "rate_limit_pps=" not in got
