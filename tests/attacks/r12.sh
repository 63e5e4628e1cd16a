#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# One open session per matching ID (R12), issue 14 finding 5: a login nested inside a
# person's own session (su, sudo, login run from the session's shell) opens no second
# session, whatever operator ID it asks for; a check from inside the session (a screen
# unlock, su, sudo through common-auth) still succeeds, without a second session.
#
# usage: r12.sh BIOGATED SENSOR BIOGATECTL PAM_MODULE PAMRUN VDEVCTL
set -u
BIOGATED=$1 SENSOR=$2 CTL=$3 MODULE=$4 PAMRUN=$5 VDEVCTL=$6
PY=/usr/bin/python3
. "$(dirname "$0")/../integration/lib.sh"
it_init attacks-r12
HERE=$(cd "$(dirname "$0")" && pwd)
HOLD=
it_cleanup() {
	[ -n "$HOLD" ] && kill "$HOLD" 2>/dev/null
	[ -s "$T/shell.pid" ] && kill "$(cat "$T/shell.pid")" 2>/dev/null
}
export LC_ALL=C.UTF-8 LANGUAGE=en
it_policy <<EOF
[login]
require-shift = no
EOF
pam_service biogate-test
start_daemon || exit 1
sessions_of() { "$CTL" --json sessions | jq "[.sessions[] | select(.matching_id == \"$1\")] | length"; }

"$CTL" staff add M001 --name "Name" --affiliation "A" --nationality "N" --unix-user bgr1 >/dev/null
"$CTL" staff edit M001 --pledge-date 2026-11-01 --training-date 2026-11-02 >/dev/null
finger "SCAN f-M001" "SCAN f-M001" "SCAN f-M001" "SCAN f-M001" "SCAN f-M001"
"$CTL" enroll M001 --finger right-index >/dev/null 2>&1 || bad "enroll M001"
"$CTL" operator grant M001 OP-A --role counter >/dev/null
"$CTL" operator grant M001 OP-B --role supervisor >/dev/null

# Inside the session: an unlock (auth only), su (auth, account, session), and a login that
# asks for a second session under the other operator ID; then the session's count.
cat >"$T/inside.sh" <<EOF
#!/bin/sh
echo \$\$ >"$T/shell.pid"
"$VDEVCTL" "$VDEV" "SCAN f-M001"
"$PAMRUN" --confdir "$T/pam.d" --service biogate-test --user bgr1 --tty tty3 >"$T/unlock.out" 2>&1
"$VDEVCTL" "$VDEV" "SCAN f-M001"
"$PAMRUN" --confdir "$T/pam.d" --service biogate-test --user bgr1 --tty tty3 --acct \\
	--open-session --close-session --exec sh -c 'echo "\$BIOGATE_SESSION_ID \$BIOGATE_OPERATOR_ID"' \\
	>"$T/su.out" 2>&1
"$CTL" --json sessions >"$T/during-su.json"
"$VDEVCTL" "$VDEV" "SCAN f-M001"
"$PY" "$HERE/nested-login.py" "$BIOGATE_SOCKET" bgr1 OP-B >"$T/nested.json" 2>&1
"$CTL" --json sessions >"$T/after.json"
EOF
chmod +x "$T/inside.sh"
finger "SCAN f-M001"
"$PAMRUN" --confdir "$T/pam.d" --service biogate-test --user bgr1 --tty tty3 --answer OP-A \
	--acct --open-session --close-session --exec "$T/inside.sh" >"$T/outer.out" 2>&1
check "the outer login: PAM_SUCCESS" grep -q "^open=PAM_SUCCESS" "$T/outer.out"
check "unlock inside the session: PAM_SUCCESS" grep -q "^auth=PAM_SUCCESS" "$T/unlock.out"
check "su inside the session: auth and session PAM_SUCCESS" \
	sh -c "grep -q '^auth=PAM_SUCCESS' '$T/su.out' && grep -q '^open=PAM_SUCCESS' '$T/su.out'"
check "su inside the session: one session for M001 while it runs" \
	jq -e '[.sessions[] | select(.matching_id == "M001")] | length == 1' "$T/during-su.json"
check "su inside the session: it carries the outer session's operator ID" grep -q " OP-A$" "$T/su.out"
check "a nested login asking for OP-B: AlreadyInSession" \
	jq -e '.error == "io.biogate.AlreadyInSession"' "$T/nested.json"
check "after the nested login: still one session for M001, as OP-A" \
	jq -e '[.sessions[] | select(.matching_id == "M001")] | length == 1 and .[0].operator_id == "OP-A"' "$T/after.json"
check "the refusal is recorded" \
	sh -c "'$CTL' --json audit list --action session.open --outcome deny | jq -e 'length == 1 and .[0].reason == \"already-in-session\" and .[0].operator_id == \"OP-B\"'"
check "after the outer logout: no session" [ "$(sessions_of M001)" = 0 ]
[ -n "${DEBUG:-}" ] && cat "$T/su.out" "$T/nested.json"
it_done
