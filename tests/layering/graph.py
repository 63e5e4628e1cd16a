#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Measures the daemon's file graph on any tree, before or after the layering:

   graph.py SRCDIR BUILDDIR

Modules are file stems under SRCDIR/daemon (daemon/sensor/ excluded); arrows are #include
"x.h" of another module's header and calls resolved between the object files CMake left in
BUILDDIR/daemon (build the tree first, from a clean build directory). Prints the number of
modules and arrows and each cycle (a strongly connected group of more than one module).
"""
import collections
import glob
import os
import re
import subprocess
import sys

sys.setrecursionlimit(10000)
src, build = sys.argv[1], sys.argv[2]
files = [p for p in glob.glob(src + "/daemon/**/*.[ch]", recursive=True) if "/sensor/" not in p]
stem = lambda p: os.path.splitext(os.path.basename(p))[0]
mods = sorted({stem(p) for p in files})
edges = collections.defaultdict(set)
for p in files:
    for h in re.findall(r'#include "([^"]+)\.h"', open(p, encoding="utf-8").read()):
        h = os.path.basename(h)
        if h in mods and h != stem(p):
            edges[stem(p)].add(h)
defined, undefined = {}, collections.defaultdict(set)
for o in glob.glob(build + "/daemon/**/*.o", recursive=True):
    if "/sensor/" in o:
        continue
    m = os.path.basename(o).split(".")[0]
    for line in subprocess.run(["nm", o], capture_output=True, text=True).stdout.splitlines():
        f = line.split()
        if len(f) == 3 and f[1] in "TDBR":
            defined[f[2]] = m
        elif len(f) == 2 and f[0] == "U":
            undefined[m].add(f[1])
for m, us in undefined.items():
    for u in us:
        if u in defined and defined[u] != m:
            edges[m].add(defined[u])
index, low, stack, on, groups, n = {}, {}, [], set(), [], [0]


def visit(v):
    index[v] = low[v] = n[0]
    n[0] += 1
    stack.append(v)
    on.add(v)
    for w in sorted(edges[v]):
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        g = []
        while True:
            w = stack.pop()
            on.discard(w)
            g.append(w)
            if w == v:
                break
        if len(g) > 1:
            groups.append(sorted(g))


for v in mods:
    if v not in index:
        visit(v)
print(f"modules {len(mods)}, arrows {sum(len(v) for v in edges.values())}, cycles {len(groups)}")
for g in groups:
    print(f"  cycle of {len(g)}: {' '.join(g)}")
