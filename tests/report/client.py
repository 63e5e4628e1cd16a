#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# report-client: biogatectl renders the monthly report's HTML itself. A stand-in for biogated
# on a private socket answers MonthlyReport with the fixture document as JSON chunks, as the
# daemon streams it; the page biogatectl writes must be byte for byte the page report_html.c
# makes of the fixture directly (test_report_render --write), to a file and to stdout, and
# biogatectl must have asked for JSON. A document that is cut short, longer than announced,
# or followed by anything is refused (exit 8) and leaves no file. Root only (biogatectl
# talks to a socket owned by root or the daemon's user); skips otherwise.
#   client.py BIOGATECTL TEST_REPORT_RENDER FIXTURE.json
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


class FakeDaemon:
    """Answers each connection's one call with the replies make_replies(request) gives."""

    def __init__(self, path, make_replies):
        self.path = path
        self.make_replies = make_replies
        self.requests = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(8)
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

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
                for rep in self.make_replies(req):
                    conn.sendall(json.dumps(rep, ensure_ascii=False).encode() + b'\0')

    def close(self):
        self.sock.close()


def chunked(doc, size, final_bytes=None):
    """The daemon's stream: chunks that never split a character, then {bytes}."""
    reps = [{'parameters': {'chunk': doc[i:i + size]}, 'continues': True}
            for i in range(0, len(doc), size)]
    n = len(doc.encode()) if final_bytes is None else final_bytes
    return reps + [{'parameters': {'bytes': n}}]


def main():
    if len(sys.argv) != 4:
        print('usage: client.py BIOGATECTL TEST_REPORT_RENDER FIXTURE.json', file=sys.stderr)
        return 2
    ctl, render, fixture = sys.argv[1:]
    if os.geteuid() != 0:
        print('SKIP: biogatectl talks only to a socket owned by root or the daemon user')
        return 77
    tmp = tempfile.mkdtemp(prefix='biogate-report-client.')
    try:
        return run(ctl, render, fixture, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(ctl, render, fixture, tmp):
    ref = os.path.join(tmp, 'ref.html')
    subprocess.run([render, '--write', fixture, ref], check=True)
    with open(ref, 'rb') as f:
        want = f.read()
    with open(fixture, encoding='utf-8') as f:
        data = json.load(f)
    month = data['month']
    # As json-c writes it in the daemon (pretty, '/' unescaped); small chunks so that there
    # are many, some ending inside a line of Japanese.
    doc = json.dumps(data, ensure_ascii=False, indent=2)
    mode = {'replies': lambda req: chunked(doc, 700)}
    fake = FakeDaemon(os.path.join(tmp, 'io.biogate'), lambda req: mode['replies'](req))
    env = dict(os.environ, TZ='JST-9', LC_ALL='C.UTF-8', BIOGATE_SOCKET=fake.path)

    def ctl_run(*args):
        return subprocess.run([ctl, *args], env=env, capture_output=True, timeout=30)

    try:
        out = os.path.join(tmp, 'r.html')
        p = ctl_run('report', 'monthly', month, '--format', 'html', '--output', out)
        check(p.returncode == 0, 'report monthly --format html --output: exit 0 (%d, %s)' %
              (p.returncode, p.stderr.decode(errors='replace').strip()))
        req = fake.requests[-1] if fake.requests else {}
        check(req.get('method') == 'io.biogate.MonthlyReport' and req.get('more') is True and
              req.get('parameters') == {'month': month, 'format': 'json'},
              'biogatectl asks the daemon for the data as JSON: %s' % json.dumps(req))
        got = open(out, 'rb').read() if os.path.exists(out) else b''
        check(got == want, 'the file is byte for byte the page of the fixture (%d/%d bytes)' %
              (len(got), len(want)))
        check(os.path.exists(out) and (os.stat(out).st_mode & 0o777) == 0o600,
              'the page is mode 0600')

        p = ctl_run('report', 'monthly', month)
        check(p.returncode == 0 and p.stdout == want,
              'report monthly to stdout: the same page (%d/%d bytes)' %
              (len(p.stdout), len(want)))

        p = ctl_run('--json', 'report', 'monthly', month, '--format', 'html', '--output',
                    os.path.join(tmp, 'r2.html'))
        ans = json.loads(p.stdout) if p.returncode == 0 else {}
        check(ans.get('format') == 'html' and ans.get('bytes') == len(want),
              '--json answer: format html and the bytes of the page: %s' % ans)

        p = ctl_run('report', 'monthly', month, '--format', 'json', '--output',
                    os.path.join(tmp, 'r.json'))
        req = fake.requests[-1]
        got = open(os.path.join(tmp, 'r.json'), 'rb').read() if p.returncode == 0 else b''
        check(req['parameters'].get('format') == 'json' and got == doc.encode(),
              '--format json: the daemon\'s document as it came')

        bad = {
            'cut short': lambda req: chunked(doc[:-40], 700, len(doc.encode())),
            'longer than announced': lambda req: chunked(doc, 700, len(doc.encode()) - 1),
            'followed by more': lambda req: chunked(doc + ' {}', 700),
            'not an object': lambda req: chunked('[1, 2]', 700),
            'not JSON': lambda req: chunked('<!DOCTYPE html><p>hi</p>', 700),
        }
        for what, replies in bad.items():
            mode['replies'] = replies
            target = os.path.join(tmp, 'bad.html')
            p = ctl_run('report', 'monthly', month, '--format', 'html', '--output', target)
            check(p.returncode == 8 and not os.path.exists(target),
                  'a document %s: exit 8 (%d), no file left' % (what, p.returncode))
    finally:
        fake.close()
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
