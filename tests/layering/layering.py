#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The daemon's layers point down only (docs/architecture.md).

   layering.py SRCDIR [NAME=LIBRARY.a ...]

1. Every #include "x.h" in daemon/<layer>/ names a header of the same layer, of a layer
   below, or of a library outside the daemon (wire, policy).
2. Every symbol a layer's static library leaves undefined is defined by that library or one
   below it (or comes from outside biogate: libc, SQLite, ...), never by one above.
Prints each wrong arrow; exits 1 when there is one.
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
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
