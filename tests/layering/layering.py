#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The daemon's layers point down only (docs/architecture.md).

   layering.py SRCDIR [NAME=LIBRARY.a ...]

1. Every #include "x.h" in daemon/<layer>/ names a header of the same layer, of a layer
   below, or of a library outside the daemon (wire, policy).
2. Every symbol a layer's static library leaves undefined is defined by that library or one
   below it (or comes from outside biogate: libc, SQLite, ...), never by one above.
3. Between the daemon's files (a .c and its .h count as one), the #include and call arrows
   form no cycle, inside a layer as between layers.
Prints each wrong arrow and each cycle; exits 1 when there is one.
"""
import os
import re
import subprocess
import sys

# Lower number = lower layer. Peers (store, audit) may not use each other.
RANK = {"base": 0, "store": 1, "audit": 1, "core": 2, "varlink": 3}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def headers(daemon):
    owner = {}
    for layer in RANK:
        for f in os.listdir(os.path.join(daemon, layer)):
            if f.endswith(".h"):
                owner[f] = layer
    return owner


def may_use(a, b):
    return a == b or RANK[b] < RANK[a]


def check_includes(src):
    daemon = os.path.join(src, "daemon")
    owner = headers(daemon)
    wrong = []
    for layer in RANK:
        d = os.path.join(daemon, layer)
        for f in sorted(os.listdir(d)):
            if not f.endswith((".c", ".h")):
                continue
            text = open(os.path.join(d, f), encoding="utf-8").read()
            for inc in INCLUDE.findall(text):
                h = os.path.basename(inc)
                if h in owner and not may_use(layer, owner[h]):
                    wrong.append(f"include: daemon/{layer}/{f} -> {owner[h]}/{h}")
    return wrong


def symbols(lib):
    out = subprocess.run(["nm", "-A", lib], capture_output=True, text=True, check=True).stdout
    defined, undefined = set(), {}
    for line in out.splitlines():
        where, _, rest = line.rpartition(":")
        f = rest.split()
        if len(f) == 3 and f[1] in "TDBRVW":
            defined.add(f[2])
        elif len(f) == 2 and f[0] == "U":
            undefined.setdefault(f[1], where.split(":")[-1])
    return defined, undefined


def check_links(libs):
    wrong = []
    syms = {name: symbols(path) for name, path in libs.items()}
    for a, (_, undef) in syms.items():
        for sym, obj in sorted(undef.items()):
            for b, (defs, _) in syms.items():
                if b != a and sym in defs and not may_use(a, b):
                    wrong.append(f"call: {a} ({obj}) -> {b}: {sym}")
    return wrong


def module_graph(src, libs):
    """Arrows between modules (file stems) of the layers: includes and resolved calls."""
    daemon = os.path.join(src, "daemon")
    owner = headers(daemon)
    edges = {}
    for layer in RANK:
        d = os.path.join(daemon, layer)
        for f in sorted(os.listdir(d)):
            if not f.endswith((".c", ".h")):
                continue
            mod = f.rsplit(".", 1)[0]
            edges.setdefault(mod, set())
            for inc in INCLUDE.findall(open(os.path.join(d, f), encoding="utf-8").read()):
                h = os.path.basename(inc)
                if h in owner and h[:-2] != mod:
                    edges[mod].add(h[:-2])
    defined, calls = {}, {}
    for lib in libs.values():
        out = subprocess.run(["nm", "-A", lib], capture_output=True, text=True,
                             check=True).stdout
        for line in out.splitlines():
            where, _, rest = line.rpartition(":")
            mod = where.split(":")[-1].split(".")[0]
            f = rest.split()
            if len(f) == 3 and f[1] in "TDBRVW":
                defined[f[2]] = mod
            elif len(f) == 2 and f[0] == "U":
                calls.setdefault(mod, set()).add(f[1])
    for mod, syms in calls.items():
        for sym in syms:
            if sym in defined and defined[sym] != mod and mod in edges:
                edges[mod].add(defined[sym])
    return edges


def cycles(edges):
    """Strongly connected groups of more than one module (Tarjan)."""
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def main():
    src = sys.argv[1]
    libs = dict(arg.split("=", 1) for arg in sys.argv[2:])
    unknown = set(libs) - set(RANK)
    if unknown:
        print("unknown layers:", " ".join(sorted(unknown)))
        return 2
    wrong = check_includes(src) + check_links(libs)
    for w in wrong:
        print("wrong arrow:", w)
    print(f"{len(wrong)} wrong arrow(s)")
    edges = module_graph(src, libs)
    found = cycles(edges)
    for c in found:
        print("cycle:", " ".join(c))
    print(f"{len(edges)} modules, {sum(len(e) for e in edges.values())} arrows, "
          f"{len(found)} cycle(s)")
    return 1 if wrong or found else 0


if __name__ == "__main__":
    sys.exit(main())
