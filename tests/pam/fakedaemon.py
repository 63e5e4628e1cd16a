#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# A scripted stand-in for biogated, so that pam_biogate's reply handling (prompts, operator
# choice, every error mapping, malformed and late replies) can be driven without a reader.
# The user name picks the scenario. It checks call shapes as strictly as the daemon does
# (protocol.md section 1). Usage: fakedaemon.py SOCKET (serves until killed).
import json
import os
import socket
import sys
import threading
import time

TICKET = "0123456789abcdef0123456789abcdef"
OPS1 = [{"operator_id": "op-a1", "role": "operator"}]
OPS3 = [{"operator_id": "op-a1", "role": "operator"},
        {"operator_id": "op-b2", "role": "supervisor"},
        {"operator_id": "op-c3", "role": "auditor"}]
ERRORS = {
    "nomatch": "io.biogate.NoMatch", "notonroster": "io.biogate.NotOnRoster",
    "revoked": "io.biogate.Revoked", "notenrolled": "io.biogate.NotEnrolled",
    "lockedout": "io.biogate.LockedOut", "outsideshift": "io.biogate.OutsideShift",
    "notpermitted": "io.biogate.NotPermitted", "nooperator": "io.biogate.NoOperator",
    "sensor": "io.biogate.SensorUnavailable", "noreader": "io.biogate.NoReader",
    "timeout": "io.biogate.Timeout", "busy": "io.biogate.Busy",
    "internal": "io.biogate.InternalError", "weird": "io.biogate.SomethingNew",
}


def send(conn, obj):
    conn.sendall(json.dumps(obj).encode() + b"\0")


def recv(conn, buf):
    while b"\0" not in buf[0]:
        d = conn.recv(4096)
        if not d:
            return None
        buf[0] += d
    msg, _, rest = buf[0].partition(b"\0")
    buf[0] = rest
    return json.loads(msg)


def bad(conn, name):
    send(conn, {"error": "org.varlink.service.InvalidParameter", "parameters": {"parameter": name}})


def verify(conn, user, more):
    if not more:
        return bad(conn, "more")
    if user in ERRORS:
        send(conn, {"parameters": {"prompt": "place-finger"}, "continues": True})
        return send(conn, {"error": ERRORS[user], "parameters": {}})
    if user == "hang":
        send(conn, {"parameters": {"prompt": "place-finger"}, "continues": True})
        time.sleep(30)
        return
    if user == "hangup":
        conn.shutdown(socket.SHUT_RDWR)
        return
    if user == "flood":
        for _ in range(200):
            send(conn, {"parameters": {"prompt": "place-finger"}, "continues": True})
        return
    ok = {"matching_id": "m-" + user, "ticket": TICKET, "operators": OPS1}
    if user == "badticket":
        ok["ticket"] = "not-a-ticket"
    elif user == "emptyticket":
        ok["ticket"] = ""
    elif user == "noticket":
        del ok["ticket"]
    elif user == "zeroops":
        ok["operators"] = []
    elif user == "multi":
        ok["operators"] = OPS3
    send(conn, {"parameters": {"prompt": "place-finger"}, "continues": True})
    if user == "retry":
        send(conn, {"parameters": {"prompt": "retry", "message": "swipe too short"},
                    "continues": True})
    send(conn, {"parameters": ok})


def serve(conn):
    buf = [b""]
    with conn:
        while True:
            m = recv(conn, buf)
            if m is None:
                return
            method, p = m.get("method"), m.get("parameters", {})
            if method == "io.biogate.Verify":
                if set(p) != {"user"}:
                    bad(conn, "parameters")
                else:
                    verify(conn, p["user"], m.get("more", False))
            elif method == "io.biogate.CheckAccount":
                u = p.get("user", "")
                if set(p) != {"user"}:
                    bad(conn, "parameters")
                elif u in ERRORS:
                    send(conn, {"error": ERRORS[u], "parameters": {}})
                else:
                    send(conn, {"parameters": {"matching_id": "m-" + u,
                                               "operators": OPS3 if u == "multi" else OPS1}})
            elif method == "io.biogate.OpenSession":
                allowed = {"ticket", "operator_id", "tty", "service", "logind_session", "rhost"}
                if not set(p) <= allowed or "operator_id" not in p:
                    bad(conn, "parameters")
                elif p.get("ticket") != TICKET:
                    send(conn, {"error": "io.biogate.InvalidTicket", "parameters": {}})
                else:
                    sys.stderr.write("fakedaemon: OpenSession %s\n" % json.dumps(p, sort_keys=True))
                    send(conn, {"parameters": {"session_id": "s-" + p["operator_id"]}})
            elif method == "io.biogate.CloseSession":
                sys.stderr.write("fakedaemon: CloseSession %s\n" % p.get("session_id"))
                send(conn, {"parameters": {}})
            else:
                send(conn, {"error": "org.varlink.service.MethodNotFound",
                            "parameters": {"method": method}})


def main():
    path = sys.argv[1]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(16)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


main()
