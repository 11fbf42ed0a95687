#!/usr/bin/python3
"""Counts for tests/run.sh.

  summarize.py meson TESTLOG.json   cmocka cases (TAP lines) per meson test
  summarize.py junit FILE.xml       pytest junit counts
  summarize.py exit NAME RC         one check that passed when RC == 0
  summarize.py total FILES...       per-suite lines, then "N passed, N failed[, N skipped]";
                                    exit status 1 when anything failed or a suite is missing
Each count file holds: name passed failed skipped.
"""
import json
import os
import re
import sys
import xml.etree.ElementTree as ET


def meson(path):
    p = f = s = 0
    if not os.path.exists(path):
        return 0, 1, 0
    with open(path) as fh:
        for line in fh:
            t = json.loads(line)
            out = t.get("stdout") or ""
            ok = len(re.findall(r"^ok \d+", out, re.M))
            nok = len(re.findall(r"^not ok \d+", out, re.M))
            skipped = len(re.findall(r"^ok \d+ .*# SKIP", out, re.M))
            if ok + nok == 0:  # not a TAP-speaking test: count the executable
                res = t.get("result")
                if res == "SKIP":
                    s += 1
                elif res == "OK":
                    p += 1
                else:
                    f += 1
                continue
            p += ok - skipped
            s += skipped
            f += nok
            if t.get("result") not in ("OK", "SKIP") and nok == 0:
                f += 1  # crashed after its last TAP line
    return p, f, s


def junit(path):
    if not os.path.exists(path):
        return 0, 1, 0
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    n = sum(int(x.get("tests", 0)) for x in suites)
    f = sum(int(x.get("failures", 0)) + int(x.get("errors", 0)) for x in suites)
    s = sum(int(x.get("skipped", 0)) for x in suites)
    return n - f - s, f, s


def main():
    kind = sys.argv[1]
    if kind == "meson":
        name = os.path.basename(sys.argv[2]).rsplit(".", 1)[0]
        print(name, *meson(sys.argv[2]))
    elif kind == "junit":
        name = os.path.basename(sys.argv[2]).rsplit(".", 1)[0]
        print(name, *junit(sys.argv[2]))
    elif kind == "exit":
        rc = int(sys.argv[3])
        print(sys.argv[2], 1 if rc == 0 else 0, 0 if rc == 0 else 1, 0)
    elif kind == "total":
        tp = tf = ts = 0
        for path in sys.argv[2:]:
            with open(path) as fh:
                parts = fh.read().split()
            if len(parts) != 4:
                parts = [os.path.basename(path), "0", "1", "0"]
            name, p, f, s = parts[0], int(parts[1]), int(parts[2]), int(parts[3])
            print("%-14s %5d passed %5d failed %5d skipped" % (name, p, f, s))
            tp, tf, ts = tp + p, tf + f, ts + s
        print("%d passed, %d failed" % (tp, tf) + (", %d skipped" % ts if ts else ""))
        sys.exit(1 if tf else 0)


if __name__ == "__main__":
    main()
