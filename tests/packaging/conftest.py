"""Packaging tests: man pages, bash completion, the systemd unit and its
readiness notification, lintian, and the .deb in a fresh Debian 12 root.

Environment: SSWITCH_BUILD (default build), SSWITCH_DEB (the .deb that
`make deb` built; the install tests skip without it), SSWITCH_CACHE
(default /var/cache/sswitch: downloaded .debs of the install root),
SSWITCH_ARM64_BUILD and SSWITCH_ARM64_SYSROOT (make cross-arm64; the arm64
tests skip without them).
"""
import os
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def build_dir():
    return os.path.join(REPO, os.environ.get("SSWITCH_BUILD", "build"))


@pytest.fixture(scope="session")
def sswitchd():
    return os.path.join(build_dir(), "dataplane", "sswitchd")


@pytest.fixture(scope="session")
def sswitchctl():
    return os.path.join(build_dir(), "control", "sswitchctl", "sswitchctl")


def help_text(exe, *args):
    return subprocess.run([exe, *args, "--help"], capture_output=True, text=True,
                          check=True).stdout


def section(text, title):
    """The lines of one upper-case section of a --help text."""
    out, inside = [], False
    for line in text.splitlines():
        if line and not line[0].isspace():
            inside = line.startswith(title)
            continue
        if inside:
            out.append(line)
    return out


def object_lines(ctl):
    """`sswitchctl --help`'s "OBJECT VERB..." lines."""
    return [l.strip() for l in section(help_text(ctl), "OBJECTS AND VERBS")
            if l.startswith("    ") and not l.startswith("     ") and l.strip()]
