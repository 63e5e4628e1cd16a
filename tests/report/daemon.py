#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# report-daemon: the room log (R14) and the monthly report (R18) through a real biogated on
# a private state directory, as root (the admin). Room entries are audit records whose IDs
# are their sequence numbers; a visitor's text is checked; a leave is accepted once; open
# entries survive a restart; the report streams in chunks that add up to its byte count,
# counts the room entries and names the chain intact.
#   daemon.py BIOGATED SENSOR POLICY_CONF
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

failures = 0


def check(cond, what):
    global failures
    print(('ok: ' if cond else 'FAIL: ') + what)
    if not cond:
        failures += 1


def call(sock, method, params=None, more=False):
    """All replies of one call: a list of reply objects (the last one final)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect(sock)
    msg = {'method': method, 'parameters': params or {}}
    if more:
        msg['more'] = True
    s.sendall(json.dumps(msg).encode() + b'\0')
    buf, replies = b'', []
    while True:
        while b'\0' in buf:
            one, buf = buf.split(b'\0', 1)
            r = json.loads(one)
            replies.append(r)
            if 'error' in r or not r.get('continues'):
                s.close()
                return replies
        chunk = s.recv(1 << 16)
        if not chunk:
            s.close()
            return replies
        buf += chunk


def one(sock, method, params=None):
    r = call(sock, method, params)
    return r[-1] if r else {'error': 'no reply'}


class Daemon:
    def __init__(self, biogated, sensor, policy, tmp):
        self.args = [biogated, '--foreground', '--state-dir', tmp + '/state',
                     '--runtime-dir', tmp + '/run', '--config', '/dev/null',
                     '--sensor', sensor, '--policy', policy]
        self.sock = tmp + '/run/io.biogate'
        self.log = open(tmp + '/daemon.log', 'ab')
        self.p = None

    def start(self):
        self.p = subprocess.Popen(self.args, stderr=self.log)
        for _ in range(100):
            try:
                if 'error' not in one(self.sock, 'io.biogate.GetStatus'):
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError('biogated did not come up')

    def stop(self):
        self.p.terminate()
        self.p.wait(10)


def main(argv):
    if os.getuid() != 0:
        print('SKIP: needs root (the admin is root here)')
        return 77
    tmp = tempfile.mkdtemp(prefix='biogate-report.')
    d = Daemon(argv[1], argv[2], argv[3], tmp)
    try:
        d.start()
        s = d.sock
        hostile = '<script>alert(1)</script> "&\' 山田'
        r = one(s, 'io.biogate.RoomEnter',
                {'name': hostile, 'affiliation': '保守業者 (maintenance)', 'purpose': 'repair'})
        check('error' not in r and r['parameters']['entry_id'] > 0, 'RoomEnter: %s' % r)
        eid = r.get('parameters', {}).get('entry_id', 0)
        for bad in ['a\u0001b', 'x' * 129, 'evil\u202etxt', '', 'a\u0085b']:
            r = one(s, 'io.biogate.RoomEnter',
                    {'name': bad, 'affiliation': 'x', 'purpose': 'y'})
            check(r.get('error') == 'org.varlink.service.InvalidParameter',
                  'RoomEnter refuses name %r' % bad[:12])
        r = one(s, 'io.biogate.RoomList')
        es = [e for e in r.get('parameters', {}).get('entries', []) if e['entry_id'] == eid]
        check(len(es) == 1 and es[0]['name'] == hostile and es[0]['left_at'] is None and
              es[0]['staff'] is False, 'RoomList shows the open entry: %s' % es)
        r = one(s, 'io.biogate.RoomLeave', {'entry_id': eid})
        check('error' not in r, 'RoomLeave: %s' % r)
        r = one(s, 'io.biogate.RoomLeave', {'entry_id': eid})
        check(r.get('error') == 'io.biogate.NotFound', 'a second leave is refused: %s' % r)
        r = one(s, 'io.biogate.RoomLeave', {'entry_id': 999999})
        check(r.get('error') == 'io.biogate.NotFound', 'an unknown entry is refused')
        r = one(s, 'io.biogate.RoomList')
        es = [e for e in r['parameters']['entries'] if e['entry_id'] == eid]
        check(len(es) == 1 and isinstance(es[0]['left_at'], int) and
              es[0]['left_at'] >= es[0]['entered_at'], 'RoomList pairs the leave')
        r = one(s, 'io.biogate.RoomList', {'date': '2026-02-30'})
        check(r.get('error') == 'org.varlink.service.InvalidParameter', 'no Feb 30')

        # An entry left open survives a restart and can still be left.
        r = one(s, 'io.biogate.RoomEnter', {'name': 'B', 'affiliation': 'C', 'purpose': 'D'})
        eid2 = r['parameters']['entry_id']
        check(eid2 > eid, 'entry IDs grow')
        d.stop()
        d.start()
        r = one(s, 'io.biogate.RoomLeave', {'entry_id': eid2})
        check('error' not in r, 'an open entry is reloaded at start: %s' % r)

        month = time.strftime('%Y-%m')
        r = call(s, 'io.biogate.MonthlyReport', {'month': month, 'format': 'json'})
        check(r[-1].get('error') == 'io.biogate.NotPermitted', 'the report needs more')
        r = call(s, 'io.biogate.MonthlyReport', {'month': '2026-13', 'format': 'json'}, True)
        check(r[-1].get('error') == 'org.varlink.service.InvalidParameter', 'bad month')
        r = call(s, 'io.biogate.MonthlyReport', {'month': month, 'format': 'json'}, True)
        doc = ''.join(x['parameters'].get('chunk', '') for x in r if 'parameters' in x)
        check(len(doc.encode()) == r[-1]['parameters']['bytes'], 'chunks add up (json)')
        rep = json.loads(doc)
        check(rep['month'] == month and rep['room']['entries'] == 2 and
              rep['room']['visitors'] == 2 and rep['audit']['ok'] is True and
              len(rep['days']) >= 28, 'report figures: room %s audit %s' %
              (rep['room'], rep['audit']))
        # The stop above sealed the trail: the month has a verified checkpoint (issue 13).
        check(rep['seals']['ok'] is True and rep['seals']['checkpoints'] >= 1 and
              rep['seals']['verified'] == rep['seals']['checkpoints'],
              'report seals: %s' % rep['seals'])
        # The page is rendered by biogatectl (tests/report/client.py, integration-room): the
        # privileged daemon sends data only (issue 12).
        r = call(s, 'io.biogate.MonthlyReport', {'month': month, 'format': 'html'}, True)
        check(r[-1].get('error') == 'org.varlink.service.InvalidParameter' and
              not any('chunk' in x.get('parameters', {}) for x in r),
              'the daemon renders no HTML: %s' % r[-1])
        r = one(s, 'io.biogate.AuditVerify')
        check(r.get('parameters', {}).get('ok') is True, 'the chain verifies')
        d.stop()
    finally:
        if d.p and d.p.poll() is None:
            d.stop()
        if failures:
            sys.stdout.write(open(tmp + '/daemon.log').read()[-4000:])
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
