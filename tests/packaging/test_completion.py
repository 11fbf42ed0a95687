"""bash completion of sswitchctl: objects, verbs, fields and options as
--help names them."""
import os
import subprocess

from conftest import REPO, help_text, object_lines, section

COMPLETION = os.path.join(REPO, "dist", "bash-completion", "sswitchctl")


def complete(ctl, *words):
    """COMPREPLY for the command line `sswitchctl WORDS...` (the last word is
    the one being completed)."""
    script = ('source "$1"; shift; COMP_WORDS=(sswitchctl "$@"); '
              'COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); _sswitchctl; '
              'printf "%s\\n" "${COMPREPLY[@]}"')
    env = dict(os.environ, PATH=os.path.dirname(ctl) + ":" + os.environ["PATH"])
    r = subprocess.run(["bash", "-c", script, "bash", COMPLETION, *words],
                       capture_output=True, text=True, env=env, check=True)
    return set(r.stdout.split())


def test_objects(sswitchctl):
    got = complete(sswitchctl, "")
    want = {line.split()[0] for line in object_lines(sswitchctl)}
    assert want and want <= got, "missing objects %s" % sorted(want - got)


def test_verbs_of_every_object(sswitchctl):
    lines = object_lines(sswitchctl)
    firsts = [l.split()[0] for l in lines]
    for line in lines:
        words = line.split()
        name_len = 2 if firsts.count(words[0]) > 1 else 1
        name, verbs = words[:name_len], [w for w in words[name_len:] if w.isalpha() and w.islower()]
        if name_len == 2:
            assert name[1] in complete(sswitchctl, name[0], ""), line
        if name == ["stats"]:
            continue
        got = complete(sswitchctl, *name, "")
        assert set(verbs) <= got, "%s: %s not completed (got %s)" % (line, verbs, sorted(got))


def test_stats_scopes(sswitchctl):
    assert {"clear", "ports", "drops", "nodes", "workers", "all"} <= complete(sswitchctl, "stats", "")


def test_fields(sswitchctl):
    assert {"name=", "vni=", "gateway_ip="} <= complete(sswitchctl, "vnet", "add", "")
    assert {"group=", "priority=", "dst_ports="} <= complete(sswitchctl, "acl", "rule", "add", "")
    assert {"match.dst_prefix=", "action.port="} <= complete(sswitchctl, "rdma", "policy", "add", "")
    assert complete(sswitchctl, "-s", "/tmp/x", "eni", "add", "vm_") == {"vm_underlay_ip=", "vm_vni="}
    # the route block only, not inbound-route's fields shown by `route --help`
    assert "src_prefix=" not in complete(sswitchctl, "route", "add", "")


def test_global_options(sswitchctl):
    opts = set()
    for line in section(help_text(sswitchctl), "GLOBAL OPTIONS"):
        if line.lstrip().startswith("-"):
            opts.update(w.rstrip(",") for w in line.split()[:2] if w.startswith("-"))
    got = complete(sswitchctl, "-")
    assert "--socket" in opts and opts <= got, sorted(opts - got)
