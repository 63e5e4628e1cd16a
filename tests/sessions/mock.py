#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Drives python-dbusmock's logind template on $DBUS_SYSTEM_BUS_ADDRESS for sessions.sh:
#   mock.py wait                      until org.freedesktop.login1 is on the bus
#   mock.py add ID UID USER           AddSession(ID, seat0, UID, USER, active)
#   mock.py set ID KEY=VALUE...       UpdateProperties on the session (IdleHint=true|false,
#                                     IdleSinceHint=USEC|now, Type=..., TTY=...)
import sys
import time

import dbus

NAME = 'org.freedesktop.login1'
PATH = '/org/freedesktop/login1'
MOCK = 'org.freedesktop.DBus.Mock'


def main(argv):
    bus = dbus.SystemBus()
    cmd = argv[1]
    if cmd == 'wait':
        for _ in range(100):
            if bus.name_has_owner(NAME):
                return 0
            time.sleep(0.1)
        print('logind mock did not appear', file=sys.stderr)
        return 1
    manager = dbus.Interface(bus.get_object(NAME, PATH), MOCK)
    if cmd == 'add':
        manager.AddSession(argv[2], 'seat0', dbus.UInt32(int(argv[3])), argv[4], True)
        return 0
    if cmd == 'set':
        session = dbus.Interface(bus.get_object(NAME, PATH + '/session/' + argv[2]), MOCK)
        props = {}
        for kv in argv[3:]:
            key, value = kv.split('=', 1)
            if key == 'IdleHint':
                props[key] = dbus.Boolean(value == 'true')
            elif key == 'IdleSinceHint':
                usec = int(time.time() * 1e6) if value == 'now' else int(value)
                props[key] = dbus.UInt64(usec)
                print(usec)
            else:
                props[key] = dbus.String(value)
        session.UpdateProperties('org.freedesktop.login1.Session', props)
        return 0
    print('unknown command ' + cmd, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
