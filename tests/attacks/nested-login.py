#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# A login that ignores what pam_biogate would do: Verify, then OpenSession with the ticket
# under an operator ID of its choice, from one process (the ticket is bound to it).
# Prints the OpenSession reply (or the Verify error) as one JSON line.
# usage: nested-login.py SOCKET USER OPERATOR_ID
import json, socket, sys

sock_path, user, operator_id = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sock_path)
buf = b""


def call(method, params, more=False):
    global buf
    msg = {"method": method, "parameters": params}
    if more:
        msg["more"] = True
    s.sendall(json.dumps(msg).encode() + b"\0")
    while True:
        while b"\0" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                raise SystemExit("connection closed")
            buf += chunk
        line, buf = buf.split(b"\0", 1)
        rep = json.loads(line)
        if not rep.get("continues"):
            return rep


rep = call("io.biogate.Verify", {"user": user}, more=True)
if "error" in rep:
    print(json.dumps({"verify": rep}))
    sys.exit(0)
ticket = rep["parameters"]["ticket"]
rep = call("io.biogate.OpenSession",
           {"ticket": ticket, "operator_id": operator_id, "tty": "tty5", "service": "nested"})
print(json.dumps(rep))
