#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# biogatectl-escape (issue 14, weaker finding): every stored string a person reads is shown
# with bidi controls, C0/C1 controls, DEL, line separators and invisible characters escaped
# (\uXXXX), bytes that are not UTF-8 as \xNN and a backslash doubled, never raw. A stand-in
# for biogated on a private socket answers audit list, sessions, staff list/show, room list,
# usb list and audit verify with such strings; biogatectl's output must hold the escapes and
# none of the raw characters, while Japanese text passes as it is and --json keeps the data
# exact. Root only (biogatectl talks to a socket owned by root or the daemon's user); skips
# otherwise.
#   escape.py BIOGATECTL
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading

failures = 0


def check(cond, what):
    global failures
    print(('ok: ' if cond else 'FAIL: ') + what)
    if not cond:
        failures += 1


# What a hostile caller could have had stored: RLO (the finding), the other bidi controls,
# an escape sequence, C1 CSI and NEL, DEL, a line separator, a zero-width space, a BOM, and
# a backslash that could pose as an escape; with Japanese around them.
EVIL = 'search\u202etxt.exe'
PARTS = {
    '\u202e': '\\u202e', '\u202a': '\\u202a', '\u2066': '\\u2066', '\u2069': '\\u2069',
    '\u200f': '\\u200f', '\u061c': '\\u061c', '\x1b': '\\u001b', '\x9b': '\\u009b',
    '\x85': '\\u0085', '\x7f': '\\u007f', '\u2028': '\\u2028', '\u200b': '\\u200b',
    '\ufeff': '\\ufeff', '\n': '\\u000a', '\t': '\\u0009',
}
MIXED = '山田' + ''.join(PARTS) + '\\u202e' + '太郎'
MIXED_SHOWN = '山田' + ''.join(PARTS.values()) + '\\\\u202e' + '太郎'
T0 = 1780000000000000


def replies(req):
    m = req.get('method')
    rec = {'seq': 7, 'time': T0, 'terminal': 'T\u202e1', 'matching_id': 'M001',
           'operator_id': 'OP\u200b1', 'action': EVIL, 'outcome': 'deny', 'reason': MIXED,
           'detail': None, 'key_hmac': None}
    p = None
    if m == 'io.biogate.AuditList':
        p = {'records': [rec]}
    elif m == 'io.biogate.ListSessions':
        p = {'sessions': [{'session_id': 3, 'matching_id': 'M001', 'operator_id': 'OP1',
                           'uid': 1000, 'tty': 'tty\x1b[2J1', 'service': MIXED,
                           'opened_at': T0}]}
    elif m == 'io.biogate.ListStaff':
        p = {'staff': [{'matching_id': 'M001', 'name': MIXED, 'affiliation': 'A\u2066B',
                        'unix_user': 'u', 'state': 'active', 'fingers': [],
                        'operators': []}]}
    elif m == 'io.biogate.GetStaff':
        p = {'matching_id': 'M001', 'name': MIXED, 'affiliation': 'x', 'expertise': EVIL,
             'track_record': 'a\\b', 'unix_user': None, 'state': 'active', 'fingers': [],
             'operators': [], 'pledge_date': None, 'training_date': None, 'created': T0}
    elif m == 'io.biogate.RoomList':
        p = {'date': '2026-05-28', 'entries': [
            {'entry_id': 1, 'entered_at': T0, 'left_at': None, 'name': MIXED,
             'affiliation': 'x', 'purpose': EVIL, 'staff': False}]}
    elif m == 'io.biogate.UsbList':
        p = {'allowed': [{'serial': 'S\u202e1', 'allowed_at': T0, 'note': MIXED}],
             'attempts': []}
    elif m == 'io.biogate.GetSchedule':
        p = {'shifts': [{'matching_id': 'M\u202e1', 'date': '2026-04-30', 'start': '22:00',
                         'end': '06:00'},
                        {'matching_id': 'M002', 'date': '2026-04-30', 'start': '09:00',
                         'end': '17:00'}]}
    elif m == 'io.biogate.AuditVerify':
        p = {'ok': False, 'problem': 'bad-mac', 'first_bad_seq': 7, 'records': 9,
             'record': rec}
    if p is None:
        return [{'error': 'org.varlink.service.MethodNotFound', 'parameters': {}}]
    return [{'parameters': p}]


class FakeDaemon:
    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(8)
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                buf = b''
                while b'\0' not in buf:
                    more = conn.recv(65536)
                    if not more:
                        break
                    buf += more
                if b'\0' not in buf:
                    continue
                req = json.loads(buf.split(b'\0', 1)[0])
                for rep in replies(req):
                    conn.sendall(json.dumps(rep, ensure_ascii=False).encode() + b'\0')

    def close(self):
        self.sock.close()


def main():
    if len(sys.argv) != 2:
        print('usage: escape.py BIOGATECTL', file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print('SKIP: biogatectl talks only to a socket owned by root or the daemon user')
        return 77
    ctl = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix='biogate-escape.')
    fake = FakeDaemon(os.path.join(tmp, 'io.biogate'))
    env = dict(os.environ, TZ='UTC', LC_ALL='C.UTF-8', BIOGATE_SOCKET=fake.path)
    env.pop('LANGUAGE', None)
    raw = [c for c in PARTS if c not in '\n']
    try:
        def run(*args):
            p = subprocess.run([ctl, *args], env=env, capture_output=True, timeout=30)
            return p.returncode, p.stdout.decode('utf-8', errors='surrogateescape')

        for args, shown in [
                (['audit', 'list'], ['search\\u202etxt.exe', 'T\\u202e1', 'OP\\u200b1',
                                     MIXED_SHOWN]),
                (['sessions'], ['tty\\u001b[2J1', MIXED_SHOWN]),
                (['staff', 'list'], [MIXED_SHOWN, 'A\\u2066B']),
                (['staff', 'show', 'M001'], [MIXED_SHOWN, 'search\\u202etxt.exe', 'a\\\\b']),
                (['room', 'list'], [MIXED_SHOWN, 'search\\u202etxt.exe']),
                (['usb', 'list'], ['S\\u202e1', MIXED_SHOWN]),
                (['audit', 'verify'], ['search\\u202etxt.exe', MIXED_SHOWN])]:
            rc, out = run(*args)
            name = ' '.join(args)
            check(rc in (0, 1), '%s: exit %d' % (name, rc))
            for s in shown:
                check(s in out, '%s: shows %s' % (name, s.encode('unicode_escape').decode()))
            leaked = [c for c in raw if c in out]
            check(not leaked, '%s: no raw control, bidi or invisible character (%s)' %
                  (name, ' '.join('U+%04X' % ord(c) for c in leaked)))
            check('山田' in out and '太郎' in out, '%s: Japanese is shown as it is' % name)
            if not all(s in out for s in shown) or leaked:
                print(out)

        # schedule show: a shift across midnight comes back with its end before its start.
        rc, out = run('schedule', 'show', '--month', '2026-04')
        check(rc == 0 and 'M\\u202e1' in out and '\u202e' not in out,
              'schedule show: the matching ID escaped')
        rows = [l.split() for l in out.splitlines()]
        check(['2026-04-30', '22:00', '06:00', '(next', 'day)', 'M\\u202e1'] in rows and
              ['2026-04-30', '09:00', '17:00', 'M002'] in rows,
              'schedule show: a night shift ends "(next day)", a day shift does not')

        # --json is data for a program: the strings exactly as stored.
        rc, out = run('--json', 'audit', 'list')
        recs = json.loads(out) if rc == 0 else []
        check(rc == 0 and recs and recs[0]['action'] == EVIL and recs[0]['reason'] == MIXED,
              '--json audit list: the strings exactly as stored')
    finally:
        fake.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
