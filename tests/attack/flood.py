#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# A no-session flood for flood.sh: COUNT calls of METHOD with PARAMETERS-JSON on CONNS
# connections, pipelined in batches; prints "replies=N errors=E allow=A" and exits 0 when
# every call was answered. Run it as an unprivileged user.
#   flood.py SOCKET COUNT CONNS METHOD [PARAMETERS-JSON]
import json
import socket
import sys

BATCH = 50


def main(argv):
    path, count, conns, method = argv[1], int(argv[2]), int(argv[3]), argv[4]
    params = json.loads(argv[5]) if len(argv) > 5 else {}
    call = json.dumps({'method': method, 'parameters': params}).encode() + b'\0'
    socks = []
    for _ in range(conns):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect(path)
        socks.append([s, b''])
    replies = errors = allow = 0
    sent = 0
    try:
        while sent < count:
            for entry in socks:
                n = min(BATCH, count - sent)
                if n <= 0:
                    break
                s = entry[0]
                s.sendall(call * n)
                sent += n
                got = 0
                while got < n:
                    while b'\0' not in entry[1]:
                        chunk = s.recv(65536)
                        if not chunk:
                            raise OSError('connection closed by the daemon')
                        entry[1] += chunk
                    msg, entry[1] = entry[1].split(b'\0', 1)
                    reply = json.loads(msg)
                    got += 1
                    replies += 1
                    if 'error' in reply:
                        errors += 1
                    elif reply.get('parameters', {}).get('allow'):
                        allow += 1
    except OSError as e:
        print('flood stopped: %s' % e, file=sys.stderr)
    print('replies=%d errors=%d allow=%d' % (replies, errors, allow))
    return 0 if replies == count else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
