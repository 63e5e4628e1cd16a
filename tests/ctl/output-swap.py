#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# biogatectl-output-swap (issue 14, finding 7): the directory of an --output file is swapped
# for a symlink to another directory while biogatectl waits for the daemon (during a
# confirmer's prompt). Whatever happens next, the file of the same name in the other
# directory is left alone: a failed call removes only its own temporary, through the
# directory it opened, and a finished document lands in that directory, never behind the
# symlink. Nothing half-written is ever visible under the final name. A stand-in for
# biogated on a private socket does the swap when the call arrives. Root only (biogatectl
# talks to a socket owned by root or the daemon's user); skips otherwise. Run again with
# NO_TMPFILE.so preloaded, the same holds for the named temporary file biogatectl uses where
# a file system has no O_TMPFILE.
#   output-swap.py BIOGATECTL [NO_TMPFILE.so]
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
    """Answers each connection's one call: on_call(request) runs, then its replies go out."""

    def __init__(self, path):
        self.path = path
        self.on_call = None
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
                for rep in self.on_call(req):
                    conn.sendall(json.dumps(rep, ensure_ascii=False).encode() + b'\0')

    def close(self):
        self.sock.close()


PROMPT = {'parameters': {'prompt': 'place-finger', 'matching_id': 'M002'}, 'continues': True}
REFUSED = {'error': 'io.biogate.NotPermitted', 'parameters': {'reason': 'same-person'}}
CSV = 'seq,time,terminal\n1,2026-11-01T09:00:00,counter-01\n'
REPORT = json.dumps({'month': '2026-11', 'version': 1}, indent=2)


def main():
    if len(sys.argv) not in (2, 3):
        print('usage: output-swap.py BIOGATECTL [NO_TMPFILE.so]', file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print('SKIP: biogatectl talks only to a socket owned by root or the daemon user')
        return 77
    tmp = tempfile.mkdtemp(prefix='biogate-output-swap.')
    try:
        run(sys.argv[1], tmp, None)
        if len(sys.argv) == 3:
            run(sys.argv[1], tmp, sys.argv[2])
        return 1 if failures else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(ctl, tmp, shim):
    sock = os.path.join(tmp, 'io.biogate')
    if os.path.exists(sock):
        os.unlink(sock)
    fake = FakeDaemon(sock)
    env = dict(os.environ, LC_ALL='C.UTF-8', BIOGATE_SOCKET=fake.path, TZ='UTC')
    if shim:
        env['LD_PRELOAD'] = shim
        # In the ASan build the shim comes before the sanitizer runtime in the link order,
        # which ASan refuses by default; the order does not matter to what the shim does.
        asan = env.get('ASAN_OPTIONS', '')
        env['ASAN_OPTIONS'] = (asan + ':' if asan else '') + 'verify_asan_link_order=0'
    mode = 'named temporary' if shim else 'O_TMPFILE'
    work, moved, victim = (os.path.join(tmp, d) for d in ('work', 'work.moved', 'victim'))

    def case(what, args, name, replies, want_exit, lands, swap_at=1):
        """One command whose --output directory becomes a symlink to victim/ mid-call, before
        the daemon's reply number swap_at goes out."""
        for d in (work, moved, victim):
            if os.path.islink(d):
                os.unlink(d)
            elif os.path.isdir(d):
                shutil.rmtree(d)
        os.mkdir(work)
        os.mkdir(victim)
        with open(os.path.join(victim, name), 'w') as f:
            f.write('the victim\n')

        seen = []

        def on_call(req):
            seen.extend(sorted(os.listdir(work)))
            yield from replies[:swap_at]
            # The file is open (the call came after it): the directory becomes a symlink.
            os.rename(work, moved)
            os.symlink(victim, work)
            yield from replies[swap_at:]

        fake.on_call = on_call
        out = os.path.join(work, name)
        p = subprocess.run([ctl, *args, '--output', out], env=env, capture_output=True,
                           timeout=30)
        what = '%s (%s)' % (what, mode)
        check(p.returncode == want_exit, '%s: exit %d (%d: %s)' %
              (what, want_exit, p.returncode, p.stderr.decode(errors='replace').strip()))
        if shim:
            check(len(seen) == 1 and seen[0].startswith('.#biogatectl'),
                  '%s: while it waits, only a hidden temporary is there (%s)' % (what, seen))
        else:
            check(seen == [], '%s: while it waits, nothing is there (%s)' % (what, seen))
        vf = os.path.join(victim, name)
        check(os.path.isfile(vf) and open(vf).read() == 'the victim\n',
              '%s: the file behind the symlink is left alone' % what)
        check(sorted(os.listdir(victim)) == [name],
              '%s: nothing is added behind the symlink (%s)' % (what, os.listdir(victim)))
        left = sorted(os.listdir(moved)) if os.path.isdir(moved) else []
        if lands is None:
            check(left == [], '%s: nothing left in the directory named (%s)' % (what, left))
        else:
            mf = os.path.join(moved, name)
            got = open(mf).read() if os.path.isfile(mf) else None
            whole = lands(got) if callable(lands) else got == lands
            check(left == [name] and whole,
                  '%s: the document is in the directory named, whole (%s)' % (what, left))
            check(got is not None and (os.stat(mf).st_mode & 0o777) == 0o600,
                  '%s: the document is mode 0600' % what)

    try:
        export = ['audit', 'export', '--format', 'csv', '--confirm-by', 'M002']
        case('audit export refused after the prompt', export, 'out.csv', [PROMPT, REFUSED], 4,
             None)
        case('audit export cut off after the prompt', export, 'out.csv',
             [PROMPT, {'parameters': {'chunk': CSV}, 'continues': True}], 3, None)
        case('audit export finished after the swap', export, 'new.csv',
             [PROMPT, {'parameters': {'chunk': CSV}, 'continues': True},
              {'parameters': {'records': 1}}], 0, CSV)
        monthly = ['report', 'monthly', '2026-11', '--format', 'json']
        case('report monthly refused', monthly, 'r.json',
             [{'parameters': {'chunk': REPORT[:10]}, 'continues': True}, REFUSED], 4, None)
        case('report monthly finished after the swap', monthly, 'r2.json',
             [{'parameters': {'chunk': REPORT}, 'continues': True},
              {'parameters': {'bytes': len(REPORT)}}], 0, REPORT)
        # DisposalReport is one reply: the swap happens before it.
        disposal = ['disposal', 'report', '7', '--format', 'json']
        case('disposal report finished after the swap', disposal, 'd2.json',
             [{'parameters': {'disposal_id': 7, 'state': 'executed'}}], 0,
             lambda got: got is not None and json.loads(got) == {'disposal_id': 7,
                                                                   'state': 'executed'},
             swap_at=0)
        case('disposal report refused', disposal, 'd.json', [REFUSED], 4, None, swap_at=0)
    finally:
        fake.close()


if __name__ == '__main__':
    sys.exit(main())
