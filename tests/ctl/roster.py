#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# biogatectl-roster: staff import FILE.csv (issue 13, item 3), the client side. A roster file
# as the contractor's office makes it (CP932, Japanese header, columns in their own order,
# Excel dates) is checked line by line; --dry-run compares it with the roster a stand-in
# daemon lists and prints what would be added and changed, never a nationality; a revoked
# person makes the import refused (exit 6); without --dry-run the whole file goes in one
# ImportStaff request. Root only (biogatectl talks to a socket owned by root or the daemon's
# user); skips otherwise.
#   roster.py BIOGATECTL
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


ROSTER = [
    {'matching_id': 'M001', 'name': '山田 太郎', 'affiliation': '委託事業者A', 'expertise': None,
     'track_record': None, 'unix_user': 'yamada', 'state': 'active', 'fingers': [],
     'operators': [], 'pledge_date': '2026-04-01', 'training_date': None},
    {'matching_id': 'M002', 'name': '佐藤 花子', 'affiliation': '委託事業者A', 'expertise': None,
     'track_record': None, 'unix_user': 'M002', 'state': 'active', 'fingers': [],
     'operators': [], 'pledge_date': None, 'training_date': None},
    {'matching_id': 'M009', 'name': '退職 者', 'affiliation': 'x', 'expertise': None,
     'track_record': None, 'unix_user': 'M009', 'state': 'revoked', 'fingers': [],
     'operators': [], 'pledge_date': None, 'training_date': None},
]


class FakeDaemon:
    def __init__(self, path):
        self.path = path
        self.requests = []
        self.import_reply = {'error': 'org.varlink.service.MethodNotFound',
                             'parameters': {'method': 'io.biogate.ImportStaff'}}
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
                self.requests.append(req)
                if req['method'] == 'io.biogate.ListStaff':
                    rep = {'parameters': {'staff': ROSTER}}
                elif req['method'] == 'io.biogate.ImportStaff':
                    rep = self.import_reply
                else:
                    rep = {'error': 'org.varlink.service.MethodNotFound', 'parameters': {}}
                conn.sendall(json.dumps(rep, ensure_ascii=False).encode() + b'\0')

    def close(self):
        self.sock.close()


GOOD = ('備考,照合ID,氏名,所属,国籍,誓約日,研修日\r\n'
        'a,M001,山田 太郎,委託事業者B,ベトナム,2026/4/1,2026年4月20日\r\n'
        'b,M002,佐藤 花子,委託事業者A,,,\r\n'
        '"c, d",M010,"鈴木 ""一郎""",委託事業者B,フィリピン,2026/5/1,\r\n')


def main():
    if len(sys.argv) != 2:
        print('usage: roster.py BIOGATECTL', file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print('SKIP: biogatectl talks only to a socket owned by root or the daemon user')
        return 77
    ctl = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix='biogate-roster.')
    fake = FakeDaemon(os.path.join(tmp, 'io.biogate'))
    env = dict(os.environ, TZ='UTC', LC_ALL='C.UTF-8', BIOGATE_SOCKET=fake.path)
    env.pop('LANGUAGE', None)

    def write(name, text, enc='cp932'):
        path = os.path.join(tmp, name)
        with open(path, 'wb') as f:
            f.write(text.encode(enc))
        return path

    def run(*args):
        p = subprocess.run([ctl, *args], env=env, capture_output=True, timeout=30)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    try:
        good = write('roster.csv', GOOD)
        rc, out, err = run('staff', 'import', '--dry-run', good)
        check(rc == 0, 'dry run of a CP932 roster: exit 0 (%d, %s)' % (rc, err.strip()))
        lines = out.splitlines()
        check('change  M001 (line 2): affiliation: 委託事業者A -> 委託事業者B; '
              'training_date: - -> 2026-04-20; nationality: not changed by an import' in lines,
              'M001: the affiliation and training date change, dates normalized')
        check('same    M002 (line 3)' in lines, 'M002: empty cells leave the entry as it is')
        check('add     M010 (line 4): name, affiliation, nationality, pledge_date' in lines,
              'M010: added with the columns given')
        check(lines[-1:] == ['Dry run, nothing was sent: 1 to add, 1 to change, 1 unchanged'],
              'the summary line')
        check('ベトナム' not in out + err and 'フィリピン' not in out + err,
              'no nationality is printed')
        check([r['method'] for r in fake.requests] == ['io.biogate.ListStaff'],
              'a dry run only lists the roster')

        rc, out, err = run('--json', 'staff', 'import', '--dry-run', good)
        o = json.loads(out) if rc == 0 else {}
        check([(c['matching_id'], c['change'], c['line']) for c in o.get('changes', [])] ==
              [('M001', 'change', 2), ('M002', 'same', 3), ('M010', 'add', 4)] and
              o['changes'][0]['fields'] == ['affiliation', 'training_date'],
              '--json dry run: the changes as data')

        # Without --dry-run: one ImportStaff request with the whole file.
        fake.requests.clear()
        rc, out, err = run('staff', 'import', good)
        req = fake.requests[-1] if fake.requests else {}
        check(rc == 8 and 'does not know this request' in err,
              'a daemon without ImportStaff: exit 8, said plainly (%d)' % rc)
        staff = req.get('parameters', {}).get('staff', [])
        check(req.get('method') == 'io.biogate.ImportStaff' and len(staff) == 3 and
              staff[0] == {'matching_id': 'M001', 'name': '山田 太郎',
                           'affiliation': '委託事業者B', 'nationality': 'ベトナム',
                           'pledge_date': '2026-04-01', 'training_date': '2026-04-20'} and
              staff[1] == {'matching_id': 'M002', 'name': '佐藤 花子',
                           'affiliation': '委託事業者A'} and
              staff[2]['name'] == '鈴木 "一郎"',
              'ImportStaff carries every row, the given cells only: %s' % json.dumps(staff,
                                                                                    ensure_ascii=False))
        fake.import_reply = {'parameters': {'added': 1, 'changed': 1}}
        rc, out, err = run('staff', 'import', good)
        check(rc == 0 and out.strip() == 'Imported the roster: 1 added, 1 changed',
              'a daemon with ImportStaff: its counts (%d %s)' % (rc, out.strip()))

        # Refusals, each with file and line; nothing sent.
        fake.requests.clear()
        for name, text, want, code in [
                ('no header', 'M001,山田,A,X\n', ':1: a roster file starts with a header row', 2),
                ('twice', '照合ID,氏名\nM001,a\nM002,b\nM001,c\n',
                 ':4: the matching ID M001 is on line 2 already', 2),
                ('bad date', '照合ID,研修日\nM001,2026/2/30\n',
                 ":2: invalid training_date '2026/2/30'", 2),
                ('bad unix user', 'matching_id,unix_user\nM001,root;x\n',
                 ":2: invalid Unix user name 'root;x'", 2),
                ('bad ID', '照合ID,氏名\n山田,a\n', ":2: invalid matching ID '山田'", 2),
                ('control character', 'matching_id,name\nM001,"a\x1bb"\n',
                 ':2: the name is too long (at most 256 bytes) or contains control', 2),
                ('empty ID', 'matching_id,name\n,a\n', ':2: the matching ID is empty', 2),
                ('header lacks the ID', '氏名,所属\na,b\n',
                 ":1: the header row has no column 'matching_id' (or '照合ID')", 2),
                ('nobody', '照合ID,氏名\r\n', ': the file holds nobody', 2)]:
            path = write('bad.csv', text)
            rc, out, err = run('staff', 'import', '--dry-run', path)
            check(rc == code and (path + want) in err and not out,
                  '%s: exit %d and "%s" (%d, %s)' % (name, code, want, rc, err.strip()))
        check(not fake.requests, 'a bad file is refused before anything is sent')

        # Checked against the roster: a new person needs what staff add needs; revoked.
        path = write('new.csv', '照合ID,氏名,所属\nM001,a,b\nM011,c,d\n')
        rc, out, err = run('staff', 'import', '--dry-run', path)
        check(rc == 2 and (path + ':3: M011 is not on the roster, so the nationality is '
                           'required') in err,
              'a new person without a nationality: exit 2 with the line (%d %s)' %
              (rc, err.strip()))
        path = write('revoked.csv', 'matching_id,name\nM009,again\n', 'utf-8')
        rc, out, err = run('staff', 'import', '--dry-run', path)
        check(rc == 6 and 'refused M009 (line 2): revoked' in out and 'revoked person' in err,
              'a revoked person: refused, exit 6 (%d)' % rc)
    finally:
        fake.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
