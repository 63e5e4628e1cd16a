#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# One raw Varlink call, for tests that send what biogatectl would refuse to send:
#   vcall.py SOCKET METHOD [PARAMETERS-JSON]
# Prints the reply object (one line of JSON); exit 0 for a reply, 1 for an error reply.
import json
import socket
import sys

s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
params = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
s.sendall(json.dumps({'method': sys.argv[2], 'parameters': params}).encode() + b'\0')
buf = b''
while not buf.endswith(b'\0'):
    chunk = s.recv(65536)
    if not chunk:
        break
    buf += chunk
reply = json.loads(buf.rstrip(b'\0').decode())
print(json.dumps(reply, ensure_ascii=False))
sys.exit(1 if 'error' in reply else 0)
