#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# R15's root-side helper, biogate-usb-authorize, against a real biogated, on a fake sysfs
# tree laid out as the kernel's (/sys/bus/usb/devices/IFACE links into the device's
# directory): an allow-listed serial is authorized and recorded as allowed with
# "applied":true; another serial, a device without one, and anything at all while the
# allow-list is unreadable stay blocked (authorized 0) and are recorded as denied with an
# incident; an allowed stick whose write fails is recorded as a failure and an incident,
# never as allowed; a keyboard is left alone; with the daemon down nothing is authorized.
#
# usage: usb.sh BIOGATED SENSOR BIOGATECTL PAM_MODULE PAMRUN VDEVCTL HELPER
set -u
BIOGATED=$1 SENSOR=$2 CTL=$3 MODULE=$4 PAMRUN=$5 VDEVCTL=$6 HELPER=$7

. "$(dirname "$0")/lib.sh"
it_init usb
export LC_ALL=C.UTF-8 LANGUAGE=en
SYS=$T/sys
mkdir -p "$SYS/devices/usb1" "$SYS/bus/usb/devices"
: >"$SYS/bus/usb/drivers_probe"
# dev DEVNAME IFACE CLASS SERIAL|- VENDOR PRODUCT
dev() {
	local d=$SYS/devices/usb1/$1
	mkdir -p "$d/$2"
	[ "$4" = - ] || echo "$4" >"$d/serial"
	echo "$5" >"$d/idVendor"
	echo "$6" >"$d/idProduct"
	echo "$3" >"$d/$2/bInterfaceClass"
	echo 1 >"$d/$2/authorized" # the kernel's default, before the udev rule
	ln -s "../../../devices/usb1/$1/$2" "$SYS/bus/usb/devices/$2"
}
helper() { "$HELPER" --sysfs "$SYS/bus/usb/devices" --socket "$BIOGATE_SOCKET" "$@" 2>>"$T/helper.log"; }
auth() { cat "$SYS/devices/usb1/$1/$2/authorized"; }
attempts() { "$CTL" --json audit list --action usb.attempt --limit 100 2>/dev/null; }

dev 1-1 1-1:1.0 08 SER-ALLOWED 0781 5581
dev 1-2 1-2:1.0 08 SER-OTHER 090c 1000
dev 1-3 1-3:1.0 03 SER-KEYBOARD 046d c31c
dev 1-4 1-4:1.0 08 - abcd 1234
dev 1-5 1-5:1.0 08 SER-ALLOWED 0781 5581

start_daemon || exit 1
"$CTL" usb allow SER-ALLOWED --note test >/dev/null || bad "usb allow"

helper 1-1:1.0
check "allowed serial: helper exits 0" [ $? = 0 ]
check "allowed serial: authorized is 1" [ "$(auth 1-1 1-1:1.0)" = 1 ]
check "allowed serial: the bus is asked to probe its driver" \
	[ "$(cat "$SYS/bus/usb/drivers_probe")" = 1-1:1.0 ]
helper 1-2:1.0
check "other serial: helper exits 0" [ $? = 0 ]
check "other serial: stays blocked (authorized 0)" [ "$(auth 1-2 1-2:1.0)" = 0 ]
helper 1-3:1.0
check "a keyboard: helper exits 0" [ $? = 0 ]
check "a keyboard is left alone" [ "$(auth 1-3 1-3:1.0)" = 1 ]
helper 1-4:1.0
check "no serial: stays blocked" [ "$(auth 1-4 1-4:1.0)" = 0 ]
# The write fails (authorized is not writable: a directory stands in for it).
rm "$SYS/devices/usb1/1-5/1-5:1.0/authorized"
mkdir "$SYS/devices/usb1/1-5/1-5:1.0/authorized"
helper 1-5:1.0
check "allowed serial, failed write: helper exits 1" [ $? = 1 ]

attempts >"$T/att.json"
check "four attempts recorded (the keyboard is none)" jq -e 'length == 4' "$T/att.json"
check "the allowed one: allow, applied" jq -e '[.[] | select(.outcome == "allow")] | length == 1 and
	(.[0].detail | fromjson | .applied == true and .serial == "SER-ALLOWED" and .interface == "1-1:1.0")' "$T/att.json"
check "the other serial: deny not-allowed" jq -e '[.[] | select(.reason == "not-allowed") |
	.detail | fromjson | select(.serial == "SER-OTHER")] | length == 1' "$T/att.json"
check "no serial: deny no-serial" jq -e '[.[] | select(.reason == "no-serial")] | length == 1' "$T/att.json"
check "the failed write: fail authorize-failed, not applied" jq -e '[.[] | select(.outcome == "fail" and
	.reason == "authorize-failed") | .detail | fromjson | select(.applied == false and .interface == "1-5:1.0")] | length == 1' "$T/att.json"
check "nothing recorded as allowed without being applied" jq -e '[.[] | select(.outcome == "allow") |
	.detail | fromjson | select(.applied != true)] | length == 0' "$T/att.json"
"$CTL" --json audit list --action incident.storage-blocked --limit 100 >"$T/inc.json" 2>/dev/null
check "blocked and failed ones are incidents (3)" jq -e 'length == 3' "$T/inc.json"
"$CTL" usb list >"$T/list.txt" 2>&1
check "usb list shows SER-OTHER" grep -q SER-OTHER "$T/list.txt"

# Revoked: the next plug-in stays blocked.
"$CTL" usb revoke SER-ALLOWED >/dev/null || bad "usb revoke"
echo 1 >"$SYS/devices/usb1/1-1/1-1:1.0/authorized"
helper 1-1:1.0
check "revoked serial: blocked again" [ "$(auth 1-1 1-1:1.0)" = 0 ]

# Only root may report attempts.
if command -v setpriv >/dev/null; then
	chmod 0755 "$T"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$HELPER" --sysfs "$SYS/bus/usb/devices" \
		--socket "$BIOGATE_SOCKET" 1-2:1.0 2>"$T/nobody.log"
	check "a non-root caller is refused" grep -q NotPermitted "$T/nobody.log"
fi

# What an admin sees after installing: the chain head, the incidents of the window (the four
# blocked or failed sticks), the degraded modes, where the keys come from; nobody else sees it.
"$CTL" --json status >"$T/status.json" 2>/dev/null
check "status (admin): the audit chain head" jq -e '.admin.audit_head.seq > 0 and
	(.admin.audit_head.mac | length == 64)' "$T/status.json"
check "status (admin): the window's storage-blocked incidents" jq -e \
	'[.admin.incidents[] | select(.rule == "storage-blocked")] | length == 4' "$T/status.json"
check "status (admin): key sources and degraded modes" jq -e '.admin.keys.template == "file" and
	(.admin.degraded | index("no-udev")) != null and (.admin | has("power_off_time"))' "$T/status.json"
"$CTL" status >"$T/status.txt" 2>&1
check "status (admin) text: chain head and degraded modes" \
	grep -q "Audit chain head: *#[0-9]" "$T/status.txt"
check "status (admin) text: the incidents by rule" \
	grep -q "Incidents in this window: *4 (storage-blocked: 4)" "$T/status.txt"
if command -v setpriv >/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "$CTL" --json status >"$T/status-nobody.json" 2>/dev/null
	check "status (not an admin): no admin detail" jq -e 'has("admin") | not' "$T/status-nobody.json"
fi

# The daemon down: nothing is authorized.
"$CTL" usb allow SER-ALLOWED >/dev/null
stop_daemon
echo 1 >"$SYS/devices/usb1/1-1/1-1:1.0/authorized"
helper 1-1:1.0
check "daemon down: helper exits 1" [ $? = 1 ]
check "daemon down: allowed serial stays blocked" [ "$(auth 1-1 1-1:1.0)" = 0 ]
check "daemon down: the journal line says so" grep -q "cannot be reached" "$T/helper.log"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
