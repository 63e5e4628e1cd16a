#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The first real login, end to end: biogated with biogated-sensor on libfprint's
# virtual_device reader, the roster and enrollment through biogatectl, and pam_biogate.so in
# a real Linux-PAM stack (pamrun, pam_start_confdir: nothing under /etc is touched).
#
# usage: login.sh BIOGATED SENSOR BIOGATECTL PAM_MODULE PAMRUN VDEVCTL HOSTILE
set -u
BIOGATED=$1 SENSOR=$2 CTL=$3 MODULE=$4 PAMRUN=$5 VDEVCTL=$6 HOSTILE=$7

. "$(dirname "$0")/lib.sh"
it_init it
cat >"$T/biogate.conf" <<EOF
[daemon]
verify-timeout-sec = 10
client-idle-timeout-sec = 5
EOF
DAEMON_CONFIG=$T/biogate.conf
pam_service biogate-test

start_daemon || exit 1

# --- roster, enrollment, grant --------------------------------------------------------
check "staff add" "$CTL" staff add M001 --name "山田 太郎" --affiliation "委託事業者A" \
	--nationality "日本" --expertise "窓口業務" --unix-user bgtest1
check "second staff add" "$CTL" staff add M002 --name "佐藤 花子" --affiliation "委託事業者A" \
	--nationality "日本" --unix-user bgtest2
"$CTL" staff add M001 --name x --affiliation y --nationality z >/dev/null 2>&1
check "duplicate matching ID refused (exit 6)" [ $? = 6 ]
# R9: the written pledge and the security training are recorded before any login.
check "pledge and training recorded" "$CTL" staff edit M001 --pledge-date 2026-11-01 \
	--training-date 2026-11-02

# Five scans queued on the reader before the enrollment starts; the open device keeps them.
"$VDEVCTL" "$VDEV" "SCAN finger-yamada" "SCAN finger-yamada" "SCAN finger-yamada" \
	"SCAN finger-yamada" "SCAN finger-yamada"
"$CTL" enroll M001 --finger right-index >"$T/enroll.out" 2>&1
check "enroll M001" [ $? = 0 ]
check "enroll showed progress" grep -q "4" "$T/enroll.out"
check "grant operator ID" "$CTL" operator grant M001 OP-001 --role counter
check "staff show lists the finger and operator" \
	sh -c "'$CTL' --json staff show M001 | jq -e '.fingers == [\"right-index\"] and .operators[0].operator_id == \"OP-001\"' >/dev/null"
check "staff show never shows nationality" \
	sh -c "! '$CTL' --json staff show M001 | grep -q '日本'"

# --- logins through PAM ---------------------------------------------------------------
"$VDEVCTL" "$VDEV" "SCAN finger-yamada"
login bgtest1 --acct --open-session
check "right finger: auth PAM_SUCCESS" [ "$(result auth)" = PAM_SUCCESS ]
check "right finger: account PAM_SUCCESS" [ "$(result acct)" = PAM_SUCCESS ]
check "right finger: session opened" [ "$(result open)" = PAM_SUCCESS ]
check "prompt reached the user" grep -q "finger\|指" "$T/out"
check "session registered with operator ID" \
	sh -c "'$CTL' --json sessions | jq -e '.sessions | map(select(.matching_id == \"M001\" and .operator_id == \"OP-001\" and .tty == \"tty7\")) | length == 1' >/dev/null"
# The session belongs to the person's Unix uid: bgtest1 has no account here, so it is
# unknown ((uid_t)-1), never 0 (which would make the session root's).
check "session uid of a user without an account is not root's" \
	sh -c "'$CTL' --json sessions | jq -e '.sessions | map(select(.matching_id == \"M001\")) | .[0].uid == 4294967295' >/dev/null"

"$VDEVCTL" "$VDEV" "SCAN finger-someone-else"
login bgtest1
check "wrong finger: PAM_AUTH_ERR" [ "$(result auth)" = PAM_AUTH_ERR ]

login nobody-here
check "unknown user: PAM_USER_UNKNOWN" [ "$(result auth)" = PAM_USER_UNKNOWN ]

# A person whose Unix account exists: the session carries that account's uid.
NOBODY_UID=$(id -u nobody)
"$CTL" staff add M003 --name "田中 一郎" --affiliation "委託事業者A" --nationality "日本" \
	--unix-user nobody >/dev/null
"$CTL" staff edit M003 --pledge-date 2026-11-01 --training-date 2026-11-02 >/dev/null
# The sixth touch compares the new finger with M001's template (issue 14: one finger, one
# matching ID).
"$VDEVCTL" "$VDEV" "SCAN finger-tanaka" "SCAN finger-tanaka" "SCAN finger-tanaka" \
	"SCAN finger-tanaka" "SCAN finger-tanaka" "SCAN finger-tanaka"
"$CTL" enroll M003 --finger left-index >/dev/null 2>&1
"$CTL" operator grant M003 OP-003 --role counter >/dev/null
"$VDEVCTL" "$VDEV" "SCAN finger-tanaka"
login nobody --open-session --exec sh -c "'$CTL' --json sessions >'$T/nobody.json'"
check "existing account: login PAM_SUCCESS" [ "$(result auth)" = PAM_SUCCESS ]
check "existing account: the session carries its uid" \
	jq -e ".sessions | map(select(.matching_id == \"M003\")) | .[0].uid == $NOBODY_UID" "$T/nobody.json"

login bgtest2
check "not enrolled: not PAM_SUCCESS" [ "$(result auth)" != PAM_SUCCESS ]

"$VDEVCTL" "$VDEV" "SCAN finger-yamada"
login bgtest1 --rhost far.example.org
check "remote login: PAM_AUTHINFO_UNAVAIL" [ "$(result auth)" = PAM_AUTHINFO_UNAVAIL ]
# The remote attempt never reached the reader: consume the queued scan with a real login.
login bgtest1 --open-session --close-session
check "login, open and close: PAM_SUCCESS" \
	[ "$(result auth)/$(result open)/$(result close)" = PAM_SUCCESS/PAM_SUCCESS/PAM_SUCCESS ]
# The first session's login process exited without closing it: the login above found its
# leader gone and ended it, and that end is in the trail like every other (R5, R10).
"$CTL" --json audit list --matching-id M001 --action session.end >"$T/reaped.json"
check "a reaped session is recorded: session.end, leader-gone" \
	jq -e 'any(.[]; .outcome == "ok" and .reason == "leader-gone" and .operator_id == "OP-001")' \
	"$T/reaped.json"

# --- the sensor dies mid-verify -------------------------------------------------------
login bgtest1 &
LOGIN_PID=$!
for _ in $(seq 1 50); do grep -q "INFO" "$T/out" 2>/dev/null && break; sleep 0.1; done
SENSOR_PID=$(pgrep -P "$DAEMON_PID" -f "^$SENSOR")
check "sensor process found" [ -n "$SENSOR_PID" ]
kill -9 "$SENSOR_PID"
wait $LOGIN_PID
check "sensor killed mid-verify: PAM_AUTHINFO_UNAVAIL" [ "$(result auth)" = PAM_AUTHINFO_UNAVAIL ]
wait_reader
NEW_SENSOR=$(pgrep -P "$DAEMON_PID" -f "^$SENSOR")
check "sensor restarted as a new process" sh -c "[ -n '$NEW_SENSOR' ] && [ '$NEW_SENSOR' != '$SENSOR_PID' ]"
"$VDEVCTL" "$VDEV" "SCAN finger-yamada"
login bgtest1
check "next login after the sensor died: PAM_SUCCESS" [ "$(result auth)" = PAM_SUCCESS ]

# --- hostile clients ------------------------------------------------------------------
"$HOSTILE" "$T/run/io.biogate"
check "hostile clients refused, good client served" [ $? = 0 ]

# --- daemon stopped -------------------------------------------------------------------
kill "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=
login bgtest1
check "daemon stopped: PAM_AUTHINFO_UNAVAIL" [ "$(result auth)" = PAM_AUTHINFO_UNAVAIL ]
check "daemon stopped: the user is told" grep -q "ERROR" "$T/out"

# --- restart: data survives, sessions do not -------------------------------------------
start_daemon
check "roster survives a restart" \
	sh -c "'$CTL' --json staff list | jq -e '.staff | length == 3' >/dev/null"
check "sessions closed by a restart" \
	sh -c "'$CTL' --json sessions | jq -e '.sessions | length == 0' >/dev/null"
check "no template plaintext in the database files" \
	sh -c "! grep -q finger-yamada '$T'/state/biogate.db*"

it_done
