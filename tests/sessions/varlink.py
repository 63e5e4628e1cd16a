#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# One Varlink call for sessions.sh (until biogatectl has lock/logoff): prints the reply
# object; exit 0 for a reply, 1 for an error reply, 2 when the call failed.
#   varlink.py SOCKET METHOD [PARAMETERS-JSON]
import json
import socket
import sys


def main(argv):
    params = json.loads(argv[3]) if len(argv) > 3 else {}
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    try:
        s.connect(argv[1])
        s.sendall(json.dumps({'method': argv[2], 'parameters': params}).encode() + b'\0')
        buf = b''
        while b'\0' not in buf:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    except OSError as e:
        print('call failed: %s' % e, file=sys.stderr)
        return 2
    if b'\0' not in buf:
        print('no reply', file=sys.stderr)
        return 2
    reply = json.loads(buf.split(b'\0', 1)[0])
    print(json.dumps(reply))
    return 1 if 'error' in reply else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
