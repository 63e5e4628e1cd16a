#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Finding 3 of issue 14: the audit trail cannot be used to fill the state disk. Against a
# state directory on a small tmpfs, an unprivileged user without a session floods the
# daemon with refused calls (Authorize with a junk action, and an admin method) while a
# person logs in and out through the real PAM stack. Every flood call is answered, every
# login succeeds, the trail grows by a few records and not one per call, and one summary
# record per uid and window counts the rest exactly. Then the volume is filled to below
# low-space-mb: the state-space-low incident (R17) is recorded, and logins still work.
#
# usage: flood.sh BIOGATED SENSOR BIOGATECTL PAM_MODULE PAMRUN VDEVCTL
set -u
BIOGATED=$1 SENSOR=$2 CTL=$3 MODULE=$4 PAMRUN=$5 VDEVCTL=$6
HERE=$(cd "$(dirname "$0")" && pwd)

. "$HERE/../integration/lib.sh"
it_init flood
id nobody >/dev/null 2>&1 || { echo "SKIP: no user nobody"; exit 77; }
command -v setpriv >/dev/null || { echo "SKIP: setpriv is not installed"; exit 77; }
mkdir "$T/vol"
mount -t tmpfs -o size=3m,mode=0700 biogate-flood "$T/vol" 2>/dev/null ||
	{ echo "SKIP: cannot mount a tmpfs (needs root with CAP_SYS_ADMIN)"; exit 77; }
it_cleanup() {
	[ -n "$DAEMON_PID" ] && stop_daemon
	umount "$T/vol" 2>/dev/null
}
# The flooding user reaches the socket under $T.
chmod 0711 "$T"
STATE=$T/vol/state
cat >"$T/biogate.conf" <<CONF
[daemon]
verify-timeout-sec = 10
low-space-mb = 1
CONF
DAEMON_CONFIG=$T/biogate.conf
pam_service biogate-flood
start_daemon || exit 1

# A person whose Unix account is nobody, enrolled on the virtual reader.
"$CTL" staff add M003 --name "田中 一郎" --affiliation "委託事業者A" --nationality "日本" \
	--unix-user nobody >/dev/null
"$CTL" staff edit M003 --pledge-date 2026-11-01 --training-date 2026-11-02 >/dev/null
finger "SCAN finger-tanaka" "SCAN finger-tanaka" "SCAN finger-tanaka" "SCAN finger-tanaka" \
	"SCAN finger-tanaka"
check "enroll M003" "$CTL" enroll M003 --finger left-index
check "grant operator ID" "$CTL" operator grant M003 OP-003 --role counter
finger "SCAN finger-tanaka"
login nobody --open-session --close-session
check "login before the flood" [ "$(result auth)/$(result open)" = PAM_SUCCESS/PAM_SUCCESS ]

# The trail's reserve file (audit.db.reserve) comes and goes with the free space: not counted.
used_kib() { du -sk --exclude='*.reserve' "$STATE" | cut -f1; }
# Records in the trail (the list is capped at 1,000: enough to tell a few from one per call).
n_records() { "$CTL" --json audit list --limit 1000 | jq length; }
before=$(used_kib)
records_before=$(n_records)
N_AUTH=8000 N_ADMIN=1000
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; }
as_nobody /usr/bin/python3 "$HERE/flood.py" "$BIOGATE_SOCKET" "$N_AUTH" 4 \
	io.biogate.Authorize '{"action":"junk-action-0123456789abcdef"}' >"$T/flood1.out" 2>&1 &
F1=$!
as_nobody /usr/bin/python3 "$HERE/flood.py" "$BIOGATE_SOCKET" "$N_ADMIN" 2 \
	io.biogate.ListStaff >"$T/flood2.out" 2>&1 &
F2=$!
logins=0
for _ in 1 2 3; do
	finger "SCAN finger-tanaka"
	login nobody --open-session --close-session
	[ "$(result auth)/$(result open)/$(result close)" = PAM_SUCCESS/PAM_SUCCESS/PAM_SUCCESS ] &&
		logins=$((logins + 1))
done
wait $F1
r1=$?
wait $F2
r2=$?
cat "$T/flood1.out" "$T/flood2.out"
check "logins during the flood: all three PAM_SUCCESS" [ "$logins" = 3 ]
check "every Authorize of the flood answered, none allowed" \
	sh -c "[ $r1 = 0 ] && grep -q 'replies=$N_AUTH errors=0 allow=0' '$T/flood1.out'"
check "every ListStaff of the flood answered NotPermitted" \
	sh -c "[ $r2 = 0 ] && grep -q 'replies=$N_ADMIN errors=$N_ADMIN' '$T/flood2.out'"
finger "SCAN finger-tanaka"
login nobody --open-session --close-session
check "a login right after the flood: PAM_SUCCESS" \
	[ "$(result auth)/$(result open)/$(result close)" = PAM_SUCCESS/PAM_SUCCESS/PAM_SUCCESS ]
after=$(used_kib)
records_after=$(n_records)
echo "state dir: ${before} KiB before the flood, ${after} KiB after;" \
	"records: $records_before before, $records_after after"
# The logins' records and the WAL pages of their commits (in both databases) are most of it.
check "the flood grew the state dir by less than 1 MiB" [ $((after - before)) -lt 1024 ]
check "the flood and four logins added fewer than 100 records (9,000 calls refused)" \
	[ $((records_after - records_before)) -lt 100 ]

NOBODY_UID=$(id -u nobody)
"$CTL" --json audit list --action authorize.junk-action-0123456789abcdef --limit 1000 \
	>"$T/auth.json"
"$CTL" --json audit list --action io.biogate.ListStaff --limit 1000 >"$T/admin.json"
n_full=$(($(jq length "$T/auth.json") + $(jq length "$T/admin.json")))
echo "refusals recorded in full: $n_full"
check "at most 5 of the flood's refusals recorded in full (the window's budget)" \
	[ "$n_full" -le 5 ]
check "the ones recorded in full are the first (budget spent, then only counted)" \
	[ "$n_full" -ge 1 ]
check "no refusal is logged one line per call" \
	[ "$(grep -c 'Refused io.biogate.ListStaff' "$T/daemon.log")" -le 5 ]

# The window's summary is written when the window ends; stopping the daemon ends it.
stop_daemon
start_daemon || exit 1
"$CTL" --json audit list --action refusals.summary >"$T/summary.json"
check "one summary record for the uid, counting every refusal not recorded in full" \
	jq -e --argjson uid "$NOBODY_UID" --argjson n $((N_AUTH + N_ADMIN - n_full)) \
	'map(.detail | fromjson? // . | select(.uid == $uid)) | length == 1 and .[0].counted == $n' \
	"$T/summary.json"
check "the summary names the actions with their counts" \
	jq -e --argjson uid "$NOBODY_UID" \
	'map(.detail | fromjson? // . | select(.uid == $uid)) | .[0].actions["io.biogate.ListStaff"] > 0 and .[0].actions["authorize.junk-action-0123456789abcdef"] > 0' \
	"$T/summary.json"
check "the summary is recorded as outcome deny, reason rate-limited" \
	jq -e 'all(.[]; .outcome == "deny" and .reason == "rate-limited")' "$T/summary.json"

# Low space: fill the volume to 512 KiB free, below low-space-mb = 1.
avail_kib=$(df -k --output=avail "$T/vol" | tail -1 | tr -d ' ')
fallocate -l $(((avail_kib - 512) * 1024)) "$T/vol/filler" ||
	dd if=/dev/zero of="$T/vol/filler" bs=1K count=$((avail_kib - 512)) status=none
sleep 1.2
as_nobody /usr/bin/python3 "$HERE/flood.py" "$BIOGATE_SOCKET" 1 1 io.biogate.ListStaff \
	>/dev/null 2>&1
found=
for _ in $(seq 1 60); do
	"$CTL" --json audit list --action incident.state-space-low >"$T/incident.json" 2>/dev/null &&
		[ "$(jq length "$T/incident.json")" -ge 1 ] && { found=1; break; }
	sleep 0.25
done
check "low space on the state volume: incident state-space-low recorded" [ -n "$found" ]
check "the incident says how much is free" \
	jq -e '.[0].detail | fromjson? // . | .situation | test("KiB free")' "$T/incident.json"
finger "SCAN finger-tanaka"
login nobody --open-session --close-session
check "a login while space is low: PAM_SUCCESS" \
	[ "$(result auth)/$(result open)/$(result close)" = PAM_SUCCESS/PAM_SUCCESS/PAM_SUCCESS ]
rm -f "$T/vol/filler"

it_done
