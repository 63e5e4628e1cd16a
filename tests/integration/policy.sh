#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Least privilege and the search-key rule, end to end (issue 3): biogated with its sensor on
# libfprint's virtual_device, pam_biogate.so in a real PAM stack, biogatectl as the operator
# and the admin. Each login gate refuses with its own message; an operator logged in
# through PAM is allowed or denied by role and key; a process outside the session is
# denied; the lockout comes after 3 failures, survives a restart, expires (policy-shortened
# to 3 s) and is lifted by the admin; the key itself is never stored.
#
# usage: policy.sh BIOGATED SENSOR BIOGATECTL PAM_MODULE PAMRUN VDEVCTL
set -u
BIOGATED=$1 SENSOR=$2 CTL=$3 MODULE=$4 PAMRUN=$5 VDEVCTL=$6

. "$(dirname "$0")/lib.sh"
it_init policy
export LC_ALL=C.UTF-8 LANGUAGE=en
# The shipped roles, with the lockout shortened by the policy file (not by code).
it_policy <<EOF
[login]
require-shift = yes
[lockout]
unlock-time-sec = 3
EOF
LOGIN_TTY=tty3
pam_service biogate-test

# Shifts must cover now for a login to pass; avoid the last minute of a day or month.
while [ "$(date +%H%M)" = 2359 ]; do sleep 5; done

start_daemon || exit 1

"$CTL" staff add M001 --name "山田 太郎" --affiliation "委託事業者A" --nationality "日本" \
	--unix-user bgp1 >/dev/null
"$CTL" staff add M002 --name "佐藤 花子" --affiliation "委託事業者A" --nationality "日本" \
	--unix-user bgp2 >/dev/null
finger "SCAN f-m001" "SCAN f-m001" "SCAN f-m001" "SCAN f-m001" "SCAN f-m001"
"$CTL" enroll M001 --finger right-index >/dev/null 2>&1
# The sixth touch compares the new finger with M001's (issue 14: one finger, one matching ID).
finger "SCAN f-m002" "SCAN f-m002" "SCAN f-m002" "SCAN f-m002" "SCAN f-m002" "SCAN f-m002"
"$CTL" enroll M002 --finger left-index >/dev/null 2>&1
"$CTL" operator grant M001 OP-C1 --role counter >/dev/null
"$CTL" operator grant M002 OP-S1 --role supervisor >/dev/null
"$CTL" operator grant M002 OP-X1 --role no-such-role >/dev/null 2>&1
check "a role the policy does not define is refused (exit 8)" [ $? = 8 ]

# --- the login gates, each with its own message -----------------------------------------
login bgp1
check "no pledge: PAM_AUTH_ERR" [ "$(result auth)" = PAM_AUTH_ERR ]
check "no pledge: the message names the pledge" grep -q "pledge" "$T/out"
"$CTL" staff edit M001 --pledge-date 2026-11-01 >/dev/null
login bgp1
check "no training: PAM_AUTH_ERR" [ "$(result auth)" = PAM_AUTH_ERR ]
check "no training: the message names the training" grep -q "training" "$T/out"
"$CTL" staff edit M001 --training-date 2026-11-02 >/dev/null
"$CTL" staff edit M002 --pledge-date 2026-11-01 --training-date 2026-11-02 >/dev/null
login bgp1
check "no shift: PAM_AUTH_ERR" [ "$(result auth)" = PAM_AUTH_ERR ]
check "no shift: the message names the shift" grep -q "shift" "$T/out"
check "gates refuse before the reader is used" sh -c "! grep -q 'Place your finger' '$T/out'"

today=$(date +%F) month=$(date +%Y-%m)
printf 'matching_id,date,start,end\nM001,%s,00:00,23:59\nM002,%s,00:00,23:59\n' \
	"$today" "$today" >"$T/shifts.csv"
check "schedule import" "$CTL" schedule import "$T/shifts.csv"
check "schedule show lists both shifts" \
	sh -c "'$CTL' --json schedule show --month $month | jq -e '.shifts | length == 2' >/dev/null"

# --- an operator in a session: allowed and denied by role and key -------------------------
cat >"$T/operator.sh" <<EOF
#!/bin/sh
# Runs inside the PAM session, as the operator's shell would.
r() { "$CTL" authorize "\$@" >/dev/null 2>&1; echo \$?; }
{
echo "valid=\$(r search --key 123456789018)"
echo "fullwidth=\$(r search --key '１２３４ ５６７８ ９０１８')"
echo "hyphens=\$(r search --key 1234-5678-9018)"
echo "checkdigit=\$(r search --key 123456789012)"
echo "resident=\$(r search --key 12345678901)"
echo "corporate=\$(r search --key 1234567890123)"
echo "letters=\$(r search --key 12345678901X)"
echo "nokey=\$(r search)"
echo "view=\$(r view-record)"
echo "approve=\$(r approve)"
echo "admin=\$(r revoke)"
"$CTL" --json authorize search --key 12345678901 >"$T/violation.json" 2>/dev/null
"$CTL" --json whoami >"$T/whoami.json" 2>/dev/null
} >"$T/decisions"
EOF
chmod +x "$T/operator.sh"
finger "SCAN f-m001"
login bgp1 --acct --open-session --exec "$T/operator.sh"
check "right finger, gates passed: PAM_SUCCESS" [ "$(result auth)/$(result open)" = PAM_SUCCESS/PAM_SUCCESS ]
d() { grep -m1 "^$1=" "$T/decisions" | cut -d= -f2; }
check "valid individual number: allow (exit 0)" [ "$(d valid)" = 0 ]
check "full-width digits and spaces: allow" [ "$(d fullwidth)" = 0 ]
check "hyphens: allow" [ "$(d hyphens)" = 0 ]
check "wrong check digit: deny (exit 1)" [ "$(d checkdigit)" = 1 ]
check "11 digits (resident record code): deny" [ "$(d resident)" = 1 ]
check "13 digits (corporate number): deny" [ "$(d corporate)" = 1 ]
check "letters: deny" [ "$(d letters)" = 1 ]
check "search without a key: deny" [ "$(d nokey)" = 1 ]
check "counter may view a record" [ "$(d view)" = 0 ]
check "counter may not approve" [ "$(d approve)" = 1 ]
check "counter may not revoke (admin only)" [ "$(d admin)" = 1 ]
check "resident record code is a violation with its reason" \
	jq -e '.allow == false and .violation == true and .reason == "key-resident-record-code"' "$T/violation.json"
check "whoami inside the session names the operator ID" \
	jq -e '.in_session and .operator_id == "OP-C1" and .role == "counter"' "$T/whoami.json"

"$CTL" authorize search --key 123456789018 >"$T/outside" 2>&1
check "outside any session: deny (exit 1)" [ $? = 1 ]
check "outside any session: reason no-session" grep -q "no-session" "$T/outside"

# --- R12: one matching ID, one session ----------------------------------------------------
finger "SCAN f-m001"
# The holding login writes its own file: the second login below rewrites $T/out while the
# first pamrun may still be printing (the session is listed before pamrun says so).
LOGIN_OUT=$T/hold.out login bgp1 --open-session --exec sleep 3 &
HOLD=$!
for _ in $(seq 1 50); do
	"$CTL" --json sessions | jq -e '.sessions | length == 1' >/dev/null 2>&1 && break
	sleep 0.1
done
login bgp1
check "second login while in session: PAM_AUTH_ERR" [ "$(result auth)" = PAM_AUTH_ERR ]
check "second login: the message says the ID is in use" grep -q "already in use" "$T/out"
wait $HOLD
check "the holding login itself succeeded" grep -q "open=PAM_SUCCESS" "$T/hold.out"

# --- lockout: 3 failures, refused even with the right finger, survives a restart ----------
for i in 1 2 3; do
	finger "SCAN wrong-$i"
	login bgp1
	check "wrong finger $i: PAM_AUTH_ERR" [ "$(result auth)" = PAM_AUTH_ERR ]
done
login bgp1
check "locked out: PAM_AUTH_ERR without touching the reader" [ "$(result auth)" = PAM_AUTH_ERR ]
check "locked out: the message says so" grep -q "too many failed attempts" "$T/out"
stop_daemon
start_daemon || exit 1
login bgp1
check "lockout survives a restart" grep -q "too many failed attempts" "$T/out"
sleep 3.2
finger "SCAN f-m001"
login bgp1
check "lockout expires after unlock-time-sec: PAM_SUCCESS" [ "$(result auth)" = PAM_SUCCESS ]
for i in 1 2 3; do finger "SCAN wrong-$i"; login bgp1; done
login bgp1
check "locked again" grep -q "too many failed attempts" "$T/out"
check "admin unlock" "$CTL" staff unlock M001
finger "SCAN f-m001"
login bgp1
check "after the admin's unlock: PAM_SUCCESS" [ "$(result auth)" = PAM_SUCCESS ]

# --- a supervisor may approve; the key never lands on disk -------------------------------
cat >"$T/supervisor.sh" <<EOF
#!/bin/sh
"$CTL" authorize approve >/dev/null 2>&1; echo "approve=\$?" >"$T/sup"
EOF
chmod +x "$T/supervisor.sh"
finger "SCAN f-m002"
login bgp2 --open-session --exec "$T/supervisor.sh"
check "supervisor may approve" grep -q "approve=0" "$T/sup"

stop_daemon
check "no raw search key in any state file" \
	sh -c "! grep -rqa -e 123456789018 -e 12345678901 -e '１２３４' '$T/state'"
check "the decisions are in the audit trail" \
	sh -c "ls '$T'/state/audit.db >/dev/null"

it_done
