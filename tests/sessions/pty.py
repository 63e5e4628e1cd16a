#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# A terminal for a test session: opens a pty, writes the slave's path to PATHFILE and logs
# every line written to the slave as "TIME TEXT" (TIME in s) to LOGFILE, until SIGTERM.
#   pty.py PATHFILE LOGFILE
import os
import signal
import sys
import time


def main(argv):
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    master, slave = os.openpty()
    # The slave stays open here, so reads on the master never see EOF between writers.
    log = open(argv[2], 'a', buffering=1)
    with open(argv[1] + '.tmp', 'w') as f:
        f.write(os.ttyname(slave) + '\n')
    os.rename(argv[1] + '.tmp', argv[1])
    pending = b''
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            time.sleep(0.05)
            continue
        pending += data
        while b'\n' in pending:
            line, pending = pending.split(b'\n', 1)
            text = line.decode('utf-8', 'replace').strip('\r')
            if text:
                log.write('%.3f %s\n' % (time.time(), text))


if __name__ == '__main__':
    sys.exit(main(sys.argv))
