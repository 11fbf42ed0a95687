#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Check that the control core stays layered (issue 10, docs/architecture.md):

  base (err, json, validate, log) -> types (types, schema, records)
  -> store -> ops (ops, bulk, methods, state) -> txn -> persist -> rpc
  -> server -> ctl (the facade)

A file may call functions of its own layer and of the layers below it,
never of a layer above, and there must be no call cycle between files and
no include cycle between control/ headers.

  check_layers.py LIB_OR_OBJECTS... --src DIR   check (exit 1 on a violation)
  check_layers.py --self-test                    prove the check can fail

The call graph comes from `nm` over the control objects (a static library,
thin or not, or .o files): a file calls another when it has an undefined
symbol the other defines. The include graph comes from the `#include
"control/..."` lines of DIR's sources. A control/ file that no layer lists
is a violation too: a new file must be given its place.

Below the ops layer (base, types, store) no source may see the control
core (struct ss_core, control/ctl-int.h), the logger excepted: the store
takes the store. The definition of struct ss_ctl itself is visible to the
facade (control/ctl.c) only: no other control/ file may contain it or
include a header that does; every other layer works on struct ss_core.
Nor may a file include, even through another header, the header of a
higher layer (txn.h, rpc.h, persist.h...: the state a layer keeps for
itself), the public headers (PUBLIC) excepted.

With --public DIR..., the sources under those directories (the daemon,
the features) may include only the control plane's public headers
(PUBLIC): struct ss_ctl and the store stay internal to control/.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

LAYERS = [
    ("base", ["err", "json", "validate", "log"]),
    ("types", ["types", "schema", "records"]),
    ("store", ["store"]),
    ("ops", ["ops", "bulk", "methods", "state"]),
    ("txn", ["txn", "txn_check"]),
    ("persist", ["persist"]),
    ("rpc", ["rpc"]),
    ("server", ["server_limits", "server"]),
    ("facade", ["ctl"]),
]


# the control core (struct ss_core, ctl-int.h) is visible from this layer
# up: the base, the types and the store work on what they are given (the
# store takes the store), except the logger, which reads the daemon's log hook
CTL_FROM_LAYER = "ops"
CTL_HEADER = "ctl-int.h"
CTL_EXCEPT = {"log"}

# struct ss_ctl is opaque outside the facade: only this file may define it
CTL_OWNER = "ctl.c"
CTL_DEFINITION = re.compile(r"\bstruct\s+ss_ctl\s*\{")

# what code outside control/ may include
PUBLIC = {"ctl.h", "err.h", "types.h", "limits.h", "records.h"}


def stem(path):
    base = os.path.basename(path)
    for suffix in (".o", ".obj"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    for suffix in (".c", ".h"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    return base


def symbols(paths, nm="nm"):
    """{file: (defined symbols, undefined symbols)} from nm output."""
    files = {}
    for path in paths:
        out = subprocess.run([nm, path], capture_output=True, text=True, check=True).stdout
        current = stem(path)
        for line in out.splitlines():
            if not line.strip():
                continue
            if line.endswith(":") and " " not in line.strip():
                current = stem(line[:-1])
                continue
            parts = line.split()
            defs, undefs = files.setdefault(current, (set(), set()))
            if len(parts) == 3 and parts[1] in "TDBRGS":
                defs.add(parts[2])
            elif len(parts) == 2 and parts[0] == "U":
                undefs.add(parts[1])
    return files


def call_graph(files):
    owner = {}
    for f, (defs, _) in files.items():
        for s in defs:
            owner[s] = f
    graph = {f: {} for f in files}
    for f, (_, undefs) in files.items():
        for s in undefs:
            t = owner.get(s)
            if t is not None and t != f:
                graph[f].setdefault(t, set()).add(s)
    return graph


INCLUDE = re.compile(r'^\s*#\s*include\s+"control/([^"/]+)"', re.M)
COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


def include_graph(src):
    """({file: control/ headers it includes}, {files defining struct ss_ctl})."""
    graph, defines = {}, set()
    for name in sorted(os.listdir(src)):
        if not name.endswith((".c", ".h")):
            continue
        with open(os.path.join(src, name), encoding="utf-8") as f:
            text = f.read()
        graph[name] = set(INCLUDE.findall(text))
        if CTL_DEFINITION.search(COMMENT.sub(" ", text)):
            defines.add(name)
    return graph, defines


def cycles(graph):
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in graph.get(v, ()):
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def outside_includes(dirs):
    """Includes of control/ internals from the directories given."""
    problems = []
    for top in dirs:
        for root, _, names in os.walk(top):
            for name in sorted(names):
                if not name.endswith((".c", ".h")):
                    continue
                path = os.path.join(root, name)
                with open(path, encoding="utf-8", errors="replace") as f:
                    for h in INCLUDE.findall(f.read()):
                        if h not in PUBLIC:
                            problems.append(f"{path} includes control/{h}, internal to "
                                            f"control/ (public: {', '.join(sorted(PUBLIC))})")
    return problems


def closure(graph, start):
    seen, stack = set(), [start]
    while stack:
        for h in graph.get(stack.pop(), ()):
            if h not in seen:
                seen.add(h)
                stack.append(h)
    return seen


def check(libs, src, layers=LAYERS, nm="nm", public=()):
    """The list of violations (strings)."""
    rank = {f: i for i, (_, fs) in enumerate(layers) for f in fs}
    name = {i: n for i, (n, _) in enumerate(layers)}
    problems = []
    graph = call_graph(symbols(libs, nm))
    for f in sorted(graph):
        if f not in rank:
            problems.append(f"{f}.c: in no layer (add it to LAYERS in {__file__})")
    for f in sorted(graph):
        for t, syms in sorted(graph[f].items()):
            if f in rank and t in rank and rank[t] > rank[f]:
                problems.append(f"{f}.c ({name[rank[f]]}) calls up into {t}.c "
                                f"({name[rank[t]]}): {', '.join(sorted(syms)[:4])}")
    for comp in cycles({f: set(ts) for f, ts in graph.items()}):
        problems.append("call cycle between " + ", ".join(c + ".c" for c in comp))
    if src is not None:
        incs, defines = include_graph(src)
        headers = {h: {i for i in incs[h] if i in incs} for h in incs if h.endswith(".h")}
        for comp in cycles(headers):
            problems.append("include cycle between " + ", ".join(comp))
        limit = next((i for i, (n, _) in enumerate(layers) if n == CTL_FROM_LAYER), None)
        for c in sorted(incs):
            f = stem(c)
            if (c.endswith(".c") and limit is not None and f in rank and rank[f] < limit
                    and f not in CTL_EXCEPT and CTL_HEADER in closure(incs, c)):
                problems.append(f"{c} ({name[rank[f]]}) sees the control core ({CTL_HEADER}): "
                                f"below the {CTL_FROM_LAYER} layer code takes what it works on")
        for c in sorted(incs):
            f = stem(c)
            if f not in rank:
                continue
            for h in sorted(closure(incs, c)):
                if h not in PUBLIC and stem(h) in rank and rank[stem(h)] > rank[f]:
                    problems.append(f"{c} ({name[rank[f]]}) includes control/{h}, the header of "
                                    f"the {name[rank[stem(h)]]} layer above it")
        for c in sorted(incs):
            if c == CTL_OWNER:
                continue
            # a header may hold the definition as long as only the facade
            # includes it: its includers are reported
            seen = sorted((closure(incs, c) | ({c} if c.endswith(".c") else set())) & defines)
            if seen:
                problems.append(f"{c} sees the definition of struct ss_ctl (in {', '.join(seen)}): "
                                f"it is opaque outside the facade ({CTL_OWNER}), "
                                f"the layers work on struct ss_core")
    problems += outside_includes(public)
    return problems


# ---- self-test: the check must be able to fail -----------------------------------------

SELF_CASES = {
    # name: ({file: C source}, {header: text}, layers, expected substring or None)
    "clean": ({"a": "int b_fn(void);\nint a_fn(void) { return b_fn(); }\n",
               "b": "int b_fn(void) { return 1; }\n"},
              {"a.h": '#include "control/b.h"\n', "b.h": ""},
              [("low", ["b"]), ("high", ["a"])], None),
    "call cycle": ({"a": "int b_fn(void);\nint a_fn(void) { return b_fn(); }\n",
                    "b": "int a_fn(void);\nint b_fn(void) { return a_fn(); }\n"},
                   {}, [("one", ["a", "b"])], "call cycle between a.c, b.c"),
    "upward call": ({"a": "int b_fn(void);\nint a_fn(void) { return b_fn(); }\n",
                     "b": "int b_fn(void) { return 1; }\n"},
                    {}, [("low", ["a"]), ("high", ["b"])], "a.c (low) calls up into b.c"),
    "include cycle": ({"a": "int a_fn(void) { return 0; }\n"},
                      {"x.h": '#include "control/y.h"\n', "y.h": '#include "control/x.h"\n'},
                      [("one", ["a"])], "include cycle between x.h, y.h"),
    "internal header outside": ({"a": "int a_fn(void) { return 0; }\n"},
                                {"feature/f.c": '#include "control/ctl.h"\n#include "control/store.h"\n'},
                                [("one", ["a"])], "includes control/store.h, internal"),
    "ss_ctl below ops": ({"a": "int a_fn(void) { return 0; }\n"},
                         {"a.c": '#include "control/a.h"\n', "a.h": '#include "control/ctl-int.h"\n',
                          "ctl-int.h": ""},
                         [("store", ["a"]), ("ops", [])], "a.c (store) sees the control core"),
    "ss_ctl outside the facade": ({"a": "int a_fn(void) { return 0; }\n",
                                   "ctl": "int a_fn(void);\nint c_fn(void) { return a_fn(); }\n"},
                                  {"a.c": '#include "control/a.h"\n',
                                   "a.h": '#include "control/ctl-def.h"\n',
                                   "ctl-def.h": "struct ss_ctl {\n\tint x;\n};\n",
                                   "ctl.c": '#include "control/ctl-def.h"\n'},
                                  [("ops", ["a"]), ("facade", ["ctl"])],
                                  "a.c sees the definition of struct ss_ctl (in ctl-def.h)"),
    "ss_ctl defined in another .c": ({"a": "struct ss_ctl { int x; };\nint a_fn(void) { return 0; }\n"},
                                     {"a.c": "struct ss_ctl { int x; };\n"},
                                     [("ops", ["a"])], "a.c sees the definition of struct ss_ctl (in a.c)"),
    "ss_ctl in the facade only": ({"a": "int a_fn(void) { return 0; }\n",
                                   "ctl": "int a_fn(void);\nint c_fn(void) { return a_fn(); }\n"},
                                  {"a.c": '#include "control/a.h"\n',
                                   "a.h": "/* struct ss_ctl { is opaque here */\nstruct ss_ctl;\n",
                                   "ctl-def.h": '#include "control/a.h"\nstruct ss_ctl {\n\tint x;\n};\n',
                                   "ctl.c": '#include "control/ctl-def.h"\n'},
                                  [("ops", ["a"]), ("facade", ["ctl"])], None),
    "upper layer's header": ({"a": "int a_fn(void) { return 0; }\n",
                              "t": "int a_fn(void);\nint t_fn(void) { return a_fn(); }\n"},
                             {"a.c": '#include "control/a.h"\n', "a.h": '#include "control/t.h"\n',
                              "t.h": "struct ss_t_state { int x; };\n", "t.c": '#include "control/t.h"\n'},
                             [("ops", ["a"]), ("txn", ["t"])],
                             "a.c (ops) includes control/t.h, the header of the txn layer above it"),
    "unlisted file": ({"a": "int a_fn(void) { return 0; }\n",
                       "z": "int z_fn(void) { return 0; }\n"},
                      {}, [("one", ["a"])], "z.c: in no layer"),
}


def self_test():
    cc = os.environ.get("CC", "cc")
    failed = 0
    for case, (sources, headers, layers, expect) in SELF_CASES.items():
        with tempfile.TemporaryDirectory(prefix="check_layers.") as d:
            objs = []
            for f, text in sources.items():
                c = os.path.join(d, f + ".c")
                with open(c, "w", encoding="utf-8") as out:
                    out.write(text)
                subprocess.run([cc, "-c", "-O0", "-o", os.path.join(d, f + ".o"), c],
                               check=True)
                objs.append(os.path.join(d, f + ".o"))
            lib = os.path.join(d, "libx.a")
            subprocess.run(["ar", "rcs", lib] + objs, check=True)
            for h, text in headers.items():
                os.makedirs(os.path.dirname(os.path.join(d, h)), exist_ok=True)
                with open(os.path.join(d, h), "w", encoding="utf-8") as out:
                    out.write(text)
            feature = os.path.join(d, "feature")
            problems = check([lib], d, layers,
                             public=[feature] if os.path.isdir(feature) else [])
            ok = (not problems) if expect is None else any(expect in p for p in problems)
            print(f"self-test {case}: {'ok' if ok else 'WRONG'} {problems}")
            failed += not ok
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("libs", nargs="*", help="control static library or objects")
    ap.add_argument("--src", help="control/ source directory (include cycles)")
    ap.add_argument("--public", nargs="*", default=[],
                    help="directories that may include only public control headers")
    ap.add_argument("--nm", default="nm")
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args()
    if a.self_test:
        return self_test()
    if not a.libs:
        ap.error("no library or objects given")
    problems = check(a.libs, a.src, nm=a.nm, public=a.public)
    for p in problems:
        print("check_layers: " + p)
    if not problems:
        print("check_layers: control/ is layered, no call or include cycle"
              + (", internals used by control/ only" if a.public else ""))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
