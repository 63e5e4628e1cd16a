#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Attacks on the two-person rule (R13) and the lockout (R10), issue 14 findings 1 and 2:
# biogated with its sensor on libfprint's virtual_device, pam_biogate.so through pamrun,
# biogatectl as root (who counts as nobody outside a session).
#
# - sock puppets: two roster entries carrying the admin's own finger, with no operator ID,
#   pledge or training, named as the two confirmers: refused before any finger is read,
#   and recorded;
# - a confirmer locked out by failed logins is refused before the reader is used;
# - failed confirmations count toward the confirmer's lockout: after three, the person can
#   neither confirm nor log in.
#
# usage: r13.sh BIOGATED SENSOR BIOGATECTL PAM_MODULE PAMRUN VDEVCTL
set -u
BIOGATED=$1 SENSOR=$2 CTL=$3 MODULE=$4 PAMRUN=$5 VDEVCTL=$6
. "$(dirname "$0")/../integration/lib.sh"
it_init attacks-r13
export LC_ALL=C.UTF-8 LANGUAGE=en
ctl() { "$CTL" "$@" >"$T/o" 2>"$T/e"; rc=$?; }
exits() {
	[ -n "${DEBUG:-}" ] && sed "s/^/  o: /" "$T/o" "$T/e"
	if [ "$rc" = "$2" ]; then ok "$1 (exit $rc)"; else
		bad "$1: exit $rc, wanted $2"; sed 's/^/  stderr: /' "$T/e"; fi
}
denials() { # denials MATCHING_ID: the reasons of two-person.confirm denials naming it
	"$CTL" --json audit list --action two-person.confirm --outcome deny |
		jq -c "[.[] | select(.matching_id == \"$1\") | .reason]"
}
it_policy <<EOF
[login]
require-shift = no
EOF
pam_service biogate-test
start_daemon || exit 1

add() { # add MATCHING_ID: on the roster
	"$CTL" staff add "$1" --name "Name $1" --affiliation "A" --nationality "N" \
		--unix-user "bg$(echo "$1" | tr A-Z a-z)" >/dev/null
}
grant() { # grant MATCHING_ID OPERATOR_ID: pledge, training and an operator ID
	"$CTL" staff edit "$1" --pledge-date 2026-11-01 --training-date 2026-11-02 >/dev/null
	"$CTL" operator grant "$1" "$2" --role counter >/dev/null
}
scans() { finger "SCAN $1" "SCAN $1" "SCAN $1" "SCAN $1" "SCAN $1"; }
# checks FINGER N: the touches that compare a new finger with N templates of other people
checks() { local i; for i in $(seq 1 "$2"); do finger "SCAN $1"; done; }
# The first two are enrolled alone (nobody could confirm yet: "bootstrap"), the third with
# both of them confirming.
add M002; scans f-M002; ctl enroll M002 --finger right-index; exits "bootstrap: M002 enrolled alone" 0
grant M002 OP-2
add M003; scans f-M003; checks f-M003 1; ctl enroll M003 --finger right-index; exits "bootstrap: M003 enrolled alone" 0
grant M003 OP-3
check "the two bootstrap enrollments are recorded as such" \
	sh -c "'$CTL' --json audit list --action two-person.confirm --outcome ok | jq -e '[.[] | select(.reason == \"bootstrap\")] | length == 2'"
add M004
ctl enroll M004 --finger right-index
exits "two people could confirm: M004 alone is refused" 4
finger "SCAN f-M002" "SCAN f-M003"; scans f-M004; checks f-M004 2
ctl enroll M004 --finger right-index --confirm-by M002 --confirm-by M003
exits "M004 enrolled with M002 and M003 confirming" 0
check "M004's enrollment names its confirmers" \
	sh -c "'$CTL' --json audit list --action enroll --matching-id M004 | jq -e '.[0].detail | fromjson | .confirmed_by == [\"M002\", \"M003\"]'"
grant M004 OP-4

# --- finding 1: one finger under two matching IDs, even with confirmers --------------------
# M004 (say, the admin) puts his own finger under a new ID P003 while two people confirm
# without looking: the new finger is compared with every other template and matches M004's.
add P003
finger "SCAN f-M002" "SCAN f-M003"; scans f-M004; checks f-M004 3
ctl --json enroll P003 --finger right-index --confirm-by M002 --confirm-by M003
exits "one finger under a second matching ID: refused" 4
check "duplicate finger: NotPermitted" jq -e '.error == "io.biogate.NotPermitted"' "$T/o"
check "duplicate finger: P003 has no finger" \
	sh -c "'$CTL' --json staff show P003 | jq -e '(.fingers | length) == 0'"
check "duplicate finger: recorded, naming the other matching ID" \
	sh -c "'$CTL' --json audit list --action enroll --outcome deny | jq -e 'length == 1 and .[0].matching_id == \"P003\" and .[0].reason == \"duplicate-finger\" and (.[0].detail | fromjson | .matches == \"M004\")'"
check "duplicate finger: an incident (R17) naming P003" \
	sh -c "'$CTL' --json audit list --action incident.duplicate-finger | jq -e 'length == 1 and .[0].matching_id == \"P003\"'"

# --- finding 1: two sock puppets as the two confirmers ----------------------------------------
# The admin's own thumb under two more matching IDs, as confirmers: the enrollments need a
# second person, and the puppets cannot confirm anything.
add P001
add P002
scans f-admin
ctl enroll P001 --finger right-index
exits "a sock puppet cannot be enrolled alone" 4
# Refused before the reader: the queued scans are dropped with the sensor.
stop_daemon
start_daemon || exit 1
scans f-admin
ctl enroll P002 --finger right-index
exits "the second sock puppet cannot be enrolled alone" 4
check "the refused enrollments are recorded" \
	sh -c "'$CTL' --json audit list --action two-person.confirm --outcome deny | jq -e '[.[] | select(.reason == \"second-person-required\" and (.detail | fromjson | .action == \"enroll\"))] | length == 3'"
stop_daemon
start_daemon || exit 1
finger "SCAN f-admin" "SCAN f-admin"
ctl --json staff nationality M002 --purpose "identity check" --confirm-by P001 --confirm-by P002
exits "sock puppets named as confirmers: refused" 4
check "sock puppets: NotPermitted" jq -e '.error == "io.biogate.NotPermitted"' "$T/o"
check "sock puppets: no nationality printed" sh -c "! grep -q '\"N\"' '$T/o'"
check "sock puppets: the refusal is recorded" sh -c "[ '$(denials P001)' = '[\"confirmer-no-operator\"]' ]"
check "sock puppets: no nationality read is recorded" \
	sh -c "'$CTL' --json audit list --action staff.nationality-read | jq -e 'length == 0'"
# The refusal came before the reader: the two queued scans are dropped with the sensor.
stop_daemon
start_daemon || exit 1

# --- finding 2: a confirmer locked out by failed logins -------------------------------------
for i in 1 2 3; do
	finger "SCAN wrong-$i"
	login bgm003
done
check "M003: three failed logins recorded" \
	sh -c "'$CTL' --json audit list --action verify --outcome fail | jq -e '[.[] | select(.matching_id == \"M003\")] | length == 3'"
finger "SCAN f-M002" "SCAN f-M003"
ctl --json staff nationality M004 --purpose "identity check" --confirm-by M002 --confirm-by M003
exits "a locked-out confirmer: refused" 4
check "locked-out confirmer: recorded" sh -c "[ '$(denials M003)' = '[\"confirmer-locked-out\"]' ]"
check "locked-out confirmer: no nationality read" \
	sh -c "'$CTL' --json audit list --action staff.nationality-read | jq -e 'length == 0'"

# --- finding 2: failed confirmations count toward the lockout -------------------------------
for i in 1 2 3; do
	finger "SCAN f-wrong-$i"
	ctl revoke M003 --reason departed --confirm-by M004 --confirm-by M002
done
finger "SCAN f-M004" "SCAN f-M002"
ctl --json revoke M003 --reason departed --confirm-by M004 --confirm-by M002
exits "after three failed confirmations: M004 refused" 4
check "after three failed confirmations: M004 is locked out" \
	sh -c "[ '$(denials M004)' = '[\"confirmer-locked-out\"]' ]"
login bgm004
check "after three failed confirmations: M004's login is refused" \
	sh -c "[ \"\$(grep -m1 '^auth=' '$T/out' | cut -d= -f2)\" != PAM_SUCCESS ]"
check "the failed confirmations are recorded as failures" \
	sh -c "'$CTL' --json audit list --action two-person.confirm --outcome fail | jq -e '[.[] | select(.matching_id == \"M004\")] | length == 3'"
check "M003 is still active" \
	sh -c "'$CTL' --json staff show M003 | jq -e '.state == \"active\"'"
it_done
