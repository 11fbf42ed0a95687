"""The man pages agree with --help (SPEC section 8): every option and every
sswitchctl object --help names is in the page, and the pages render clean."""
import os
import re
import shutil
import subprocess

import pytest

from conftest import REPO, help_text, object_lines, section

MAN = os.path.join(REPO, "docs", "man")


def man_text(name):
    """The page's source with troff escapes undone, for plain searching."""
    with open(os.path.join(MAN, name)) as f:
        src = f.read()
    return src.replace("\\-", "-").replace("\\(dq", '"').replace("\\(aq", "'")


def options(lines):
    """-x and --long options at the start of --help's option lines."""
    opts = set()
    for line in lines:
        m = re.match(r"\s+(-\w)?,?\s*(--[\w-]+)?", line)
        if m and line.lstrip().startswith("-"):
            opts.update(o for o in m.groups() if o)
    return opts


def test_sswitchd_man_names_every_option(sswitchd):
    opts = options(section(help_text(sswitchd), "OPTIONS"))
    assert {"-c", "--config", "--check", "--version", "--help"} <= opts
    page = man_text("sswitchd.8")
    missing = [o for o in sorted(opts) if not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(o), page)]
    assert not missing, "sswitchd.8 does not name %s" % missing


def test_sswitchctl_man_names_every_option(sswitchctl):
    opts = options(section(help_text(sswitchctl), "GLOBAL OPTIONS"))
    assert {"-s", "--socket", "--json", "--help"} <= opts
    page = man_text("sswitchctl.8")
    missing = [o for o in sorted(opts) if not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(o), page)]
    assert not missing, "sswitchctl.8 does not name %s" % missing


def test_sswitchctl_man_lists_every_object_and_verb(sswitchctl):
    page = man_text("sswitchctl.8")
    body = page.split(".SH OBJECTS AND VERBS", 1)[1].split("\n.SH ", 1)[0]
    entries = set()
    for line in body.splitlines():
        if line.startswith(".B ") or line.startswith(".BR "):
            entries.add(" ".join(" ".join(re.findall(r'"([^"]*)"', line)).split()))
    want = set(object_lines(sswitchctl))
    assert want, "no objects parsed from sswitchctl --help"
    assert not want - entries, "sswitchctl.8 lacks %s" % sorted(want - entries)
    assert not entries - want, "sswitchctl.8 lists %s, which --help does not" % sorted(entries - want)


def test_sswitchd_conf_man_names_every_setting(sswitchd):
    # the settings sswitchd --help's CONFIGURATION section shows
    conf = "\n".join(section(help_text(sswitchd), "CONFIGURATION"))
    keys = set(re.findall(r"^\s{4}(\w+)\s+=", conf, re.M))
    keys |= set(re.findall(r"(\w+) = ", conf))
    keys |= {"mtu", "peer", "rx_queues", "mac", "lossless_lane"}
    assert {"eal", "lcores", "ports", "control", "bootstrap", "stats_interval_s"} <= keys
    page = man_text("sswitchd.conf.5")
    missing = [k for k in sorted(keys) if not re.search(r"\b%s\b" % re.escape(k), page)]
    assert not missing, "sswitchd.conf.5 does not name %s" % missing


@pytest.mark.parametrize("page", ["sswitchd.8", "sswitchctl.8", "sswitchd.conf.5"])
def test_man_page_renders_without_warnings(page):
    if shutil.which("man") is None:
        pytest.skip("man is not installed")
    for width in ("80", "60"):
        r = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", os.path.join(MAN, page)],
                           capture_output=True, text=True,
                           env=dict(os.environ, MANWIDTH=width, LC_ALL="C.UTF-8"))
        assert r.returncode == 0, r.stderr
        assert r.stderr == "", "%s at width %s: %s" % (page, width, r.stderr)
        name = page.split(".")[0]
        assert name in r.stdout
