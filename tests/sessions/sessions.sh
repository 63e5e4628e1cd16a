#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Leaving the seat (R10) and the end of a shift (R8), end to end: the real biogated with its
# sensor on libfprint's virtual_device, logins through pam_biogate.so in a real PAM stack
# (pamrun), a private system bus with python-dbusmock's logind template standing in for
# logind. What the daemon asked logind for is read back from the mock's recorded calls, with
# their times; warnings are read from the pty the session runs on. Timeouts come from a
# policy file (seconds instead of minutes); the code is not changed for the test.
#
# usage: sessions.sh BIOGATED SENSOR BIOGATECTL PAM_MODULE PAMRUN VDEVCTL SRCDIR
set -u
BIOGATED=$1 SENSOR=$2 CTL=$3 MODULE=$4 PAMRUN=$5 VDEVCTL=$6 SRC=$7
# Debian's python with python3-dbusmock, not whatever python3 comes first on PATH.
PY=/usr/bin/python3

skip() { echo "SKIP: $1"; exit 77; }
command -v jq >/dev/null || skip "jq is not installed"
[ "$(id -u)" = 0 ] || skip "needs root (the client trusts only root's socket)"
command -v dbus-daemon >/dev/null || skip "dbus-daemon is not installed (package dbus)"
[ -x "$PY" ] && "$PY" -c 'import dbus, dbusmock' 2>/dev/null ||
	skip "python3-dbusmock is not installed for $PY"
"$BIOGATED" --help 2>&1 | grep -q -- --policy || skip "biogated has no --policy option"

T=$(mktemp -d /tmp/biogate-sess.XXXXXX)
DAEMON_PID=
cleanup() {
	[ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
	# Every helper this script started wrote its pid here.
	[ -f "$T/pids" ] && while read -r p; do kill "$p" 2>/dev/null; done <"$T/pids"
	for f in "$T"/*.child; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

export FP_VIRTUAL_DEVICE=$T/vdev.sock FP_DRIVERS_WHITELIST=virtual_device
export BIOGATE_SOCKET=$T/run/io.biogate
VDEV=$FP_VIRTUAL_DEVICE
pass=0 fail=0
ok() { echo "ok: $1"; pass=$((pass + 1)); }
bad() { echo "FAIL: $1"; fail=$((fail + 1)); }
check() { # check DESCRIPTION COMMAND...
	local d=$1; shift
	if "$@"; then ok "$d"; else bad "$d"; fi
}
now() { date +%s.%N; }
# Floating point comparisons: fle A B is A <= B.
fle() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }
fadd() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a + b }'; }
sleep_until() { # sleep_until T (seconds since the epoch)
	local d
	d=$(awk -v t="$1" -v n="$(now)" 'BEGIN { d = t - n; printf "%.3f", (d > 0 ? d : 0) }')
	sleep "$d"
}
# in_window DESC VALUE LOW HIGH: LOW <= VALUE <= HIGH, VALUE not empty.
in_window() {
	if [ -n "$2" ] && fle "$3" "$2" && fle "$2" "$4"; then
		ok "$1 ($2 in [$3, $4])"
	else
		bad "$1 (${2:-none} not in [$3, $4])"
	fi
}
# What the daemon asked the mock: "TIME ARG0" lines from the mock's call log (dbusmock -l),
# whose times have milliseconds (GetMethodCalls has whole seconds only).
calls() {
	awk -v m="$1" '$2 == m { a = $3; gsub(/"/, "", a); print $1, a }' "$T/calls.log"
}
first_call() { calls "$1" | awk -v id="$2" '$2 == id { print $1; exit }'; }
count_calls() { calls "$1" | awk -v id="$2" '$2 == id' | wc -l; }
# The first call of METHOD for ID at or after time FROM.
call_after() { calls "$1" | awk -v id="$2" -v t="$3" '$2 == id && $1 >= t { print $1; exit }'; }
line_time() { grep -m1 "$2" "$1" 2>/dev/null | cut -d' ' -f1; } # line_time LOG PATTERN

# --- a private system bus with logind's mock -----------------------------------------------
cat >"$T/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$T/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
EOF
dbus-daemon --config-file="$T/bus.conf" --nofork --nopidfile >"$T/bus.log" 2>&1 &
echo $! >>"$T/pids"
for _ in $(seq 1 50); do [ -S "$T/bus" ] && break; sleep 0.1; done
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$T/bus
"$PY" -m dbusmock --system --template logind -l "$T/calls.log" >"$T/mock.log" 2>&1 &
echo $! >>"$T/pids"
"$PY" "$SRC/mock.py" wait || { cat "$T/bus.log" "$T/mock.log"; exit 1; }

# --- the daemon ------------------------------------------------------------------------------
cat >"$T/biogate.conf" <<EOF
[daemon]
verify-timeout-sec = 10
EOF
policy() { # policy LOCK LOGOFF WARN SHIFT_WARN [POWER_OFF_TIME]
	cat >"$T/policy.conf" <<EOF
[roles]
counter = view-record

[login]
require-pledge = no
require-training = no
single-session = no

[idle]
lock-after-sec = $1
logoff-after-sec = $2
warn-before-sec = $3

[shift]
warn-before-sec = $4
power-off-retry-sec = 1
EOF
	[ -n "${5:-}" ] && echo "power-off-time = $5" >>"$T/policy.conf"
	return 0
}

start_daemon() { # start_daemon [ENV=VALUE...]: the daemon's log goes to $T/daemon.log
	env "$@" "$BIOGATED" --foreground --state-dir "$T/state" --runtime-dir "$T/run" \
		--config "$T/biogate.conf" --policy "$T/policy.conf" --sensor "$SENSOR" \
		2>>"$T/daemon.log" &
	DAEMON_PID=$!
	for _ in $(seq 1 100); do
		if [ "$("$CTL" --json status 2>/dev/null | jq -r '.reader.present')" = true ]; then
			return 0
		fi
		sleep 0.1
	done
	echo "daemon/reader did not come up"; cat "$T/daemon.log"; exit 1
}
stop_daemon() {
	kill "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=
}

mkdir -p "$T/pam.d"
cat >"$T/pam.d/biogate-test" <<EOF
auth     required $MODULE socket=$T/run/io.biogate
account  required $MODULE socket=$T/run/io.biogate
session  required $MODULE socket=$T/run/io.biogate
EOF

new_pty() { # new_pty NAME: a pty logged to $T/NAME.log; prints the slave's path
	"$PY" "$SRC/pty.py" "$T/$1.path" "$T/$1.log" >/dev/null 2>&1 &
	echo $! >>"$T/pids"
	for _ in $(seq 1 50); do [ -f "$T/$1.path" ] && break; sleep 0.1; done
	cat "$T/$1.path"
}

# login NAME USER FINGER LOGIND_ID TTY [pamrun args...]: a login in the background whose
# session runs until killed; its output is $T/NAME.out, its pid $T/NAME.pid, and when it
# ends "STATUS TIME" goes to $T/NAME.end. Waits until the session is open.
login() {
	local name=$1 user=$2 finger=$3 sid=$4 tty=$5; shift 5
	"$VDEVCTL" "$VDEV" "SCAN $finger"
	(
		if [ -n "$sid" ]; then export XDG_SESSION_ID=$sid; else unset XDG_SESSION_ID; fi
		"$PAMRUN" --confdir "$T/pam.d" --service biogate-test --user "$user" \
			${tty:+--tty "$tty"} --open-session "$@" >"$T/$name.out" 2>&1 &
		p=$!
		echo $p >"$T/$name.pid"
		wait $p
		echo "$? $(now)" >"$T/$name.end"
	) &
	for _ in $(seq 1 100); do grep -q "^open=" "$T/$name.out" 2>/dev/null && break; sleep 0.05; done
	cat "$T/$name.pid" >>"$T/pids"
	if ! grep -q "^open=PAM_SUCCESS" "$T/$name.out"; then
		echo "login $name failed:"; cat "$T/$name.out"; tail -20 "$T/daemon.log"; exit 1
	fi
}
# A session command that records its own pid, so that cleanup can end it: sh HOLD NAME.
HOLD=$T/hold.sh
printf '%s\n' 'echo $$ >"$(dirname "$0")/$1.child"' 'exec sleep 60' >"$HOLD"
session_open() { # session_open LOGIND_ID: 0 when the store still lists it open
	"$CTL" --json sessions | jq -e --arg s "$1" \
		'.sessions | map(select(.logind_session == $s)) | length == 1' >/dev/null
}
session_closed() { ! session_open "$1"; }

policy 2 4 1 300
start_daemon

# --- roster, enrollment, operator IDs -------------------------------------------------------
enroll() { # enroll MATCHING_ID UNIX_USER FINGER OPERATOR_ID
	"$CTL" staff add "$1" --name "試験 $1" --affiliation "委託事業者A" --nationality "日本" \
		--unix-user "$2" >/dev/null || { bad "staff add $1"; return; }
	"$VDEVCTL" "$VDEV" "SCAN $3" "SCAN $3" "SCAN $3" "SCAN $3" "SCAN $3"
	# One more touch per person enrolled before: the new finger is compared with each
	# (issue 14: one finger, one matching ID).
	for _ in $(seq 1 "$ENROLLED"); do "$VDEVCTL" "$VDEV" "SCAN $3"; done
	ENROLLED=$((ENROLLED + 1))
	"$CTL" enroll "$1" --finger right-index >"$T/enroll.out" 2>&1 ||
		{ bad "enroll $1"; cat "$T/enroll.out"; tail -20 "$T/daemon.log"; return; }
	"$CTL" operator grant "$1" "$4" --role counter >/dev/null || bad "grant $4"
}
ENROLLED=0
enroll M001 bgtest1 finger-a OP-001
enroll M002 bgtest2 finger-b OP-002
check "daemon says logind is there" grep -q "logind available" "$T/daemon.log"

# --- idle lock and logoff through logind; activity; biogate lock ------------------------------
# c1 stays idle. c2 shows activity twice: before its lock, and after it. c3a and c3b are
# graphical and active, so idle never touches them; c3a locks and logs off itself.
"$PY" "$SRC/mock.py" add c1 1001 bgtest1
"$PY" "$SRC/mock.py" add c2 1002 bgtest2
"$PY" "$SRC/mock.py" add c3a 1001 bgtest1
"$PY" "$SRC/mock.py" add c3b 1002 bgtest2
P1=$(new_pty p1)
"$PY" "$SRC/mock.py" set c1 Type=tty IdleHint=true IdleSinceHint=0 >/dev/null
"$PY" "$SRC/mock.py" set c2 Type=tty IdleHint=true IdleSinceHint=0 >/dev/null
"$PY" "$SRC/mock.py" set c3a Type=x11 IdleHint=false >/dev/null
"$PY" "$SRC/mock.py" set c3b Type=x11 IdleHint=false >/dev/null
login c1 bgtest1 finger-a c1 "$P1" --exec sh "$HOLD" c1
login c2 bgtest2 finger-b c2 "" --exec sh "$HOLD" c2
login c3b bgtest2 finger-b c3b "" --exec sh "$HOLD" c3b

# Idle since now (logind's IdleSinceHint), seconds as floats for the comparisons.
T1=$(awk -v u="$("$PY" "$SRC/mock.py" set c1 IdleSinceHint=now)" 'BEGIN { printf "%.3f", u / 1e6 }')
T2=$(awk -v u="$("$PY" "$SRC/mock.py" set c2 IdleSinceHint=now)" 'BEGIN { printf "%.3f", u / 1e6 }')

# From inside c3a: Lock, then Logoff (biogatectl lock|logoff once it has them).
if "$CTL" --help 2>&1 | grep -qw lock; then
	LOCK_CMD="$CTL --json lock" LOGOFF_CMD="$CTL --json logoff"
else
	LOCK_CMD="$PY $SRC/varlink.py $BIOGATE_SOCKET io.biogate.Lock"
	LOGOFF_CMD="$PY $SRC/varlink.py $BIOGATE_SOCKET io.biogate.Logoff"
fi
"$VDEVCTL" "$VDEV" "SCAN finger-a"
XDG_SESSION_ID=c3a "$PAMRUN" --confdir "$T/pam.d" --service biogate-test --user bgtest1 \
	--open-session --exec sh -c "$LOCK_CMD && sleep 0.3 && $LOGOFF_CMD" >"$T/c3a.out" 2>&1
check "lock and logoff from inside c3a succeeded" grep -q "^exec=0" "$T/c3a.out"
"$PY" "$SRC/varlink.py" "$BIOGATE_SOCKET" io.biogate.Lock >"$T/outside.out"
check "Lock from outside any session: NotPermitted" grep -q '"io.biogate.NotPermitted"' "$T/outside.out"

# c2: activity 1.5 s into its idle period (before the lock at T2 + 2).
sleep_until "$(fadd "$T2" 1.5)"
T3=$(awk -v u="$("$PY" "$SRC/mock.py" set c2 IdleSinceHint=now)" 'BEGIN { printf "%.3f", u / 1e6 }')
# c2: activity again after the lock it then gets (at T3 + 2).
sleep_until "$(fadd "$T3" 2.5)"
T4=$(awk -v u="$("$PY" "$SRC/mock.py" set c2 IdleSinceHint=now)" 'BEGIN { printf "%.3f", u / 1e6 }')
sleep_until "$(fadd "$T4" 5.2)"

# c1: lock at T1 + 2, warning at T1 + 3, TerminateSession at T1 + 4; each within 1 s.
in_window "c1: LockSession within 1 s after the lock deadline" \
	"$(first_call LockSession c1)" "$(fadd "$T1" 2)" "$(fadd "$T1" 3)"
W1=$(line_time "$T/p1.log" "まもなくログオフします / you will be logged off soon")
in_window "c1: idle warning on its tty at logoff - warn-before" "$W1" "$(fadd "$T1" 2.95)" "$(fadd "$T1" 4)"
X1=$(first_call TerminateSession c1)
in_window "c1: TerminateSession within 1 s after the logoff deadline" "$X1" "$(fadd "$T1" 4)" "$(fadd "$T1" 5)"
check "c1: the warning came before the termination" fle "${W1:-9e9}" "${X1:-0}"
check "c1: ended once" [ "$(count_calls TerminateSession c1)" = 1 ]
check "c1: the record is closed" session_closed c1
check "c1: daemon never signalled with logind there (c1's leader lives)" \
	kill -0 "$(cat "$T/c1.pid")"

# c2: no lock at T2 + 2 (activity at T3 pushed it), a lock at T3 + 2, another at T4 + 2 (a new
# idle period), no termination at T3 + 4, termination at T4 + 4.
check "c2: no lock before the pushed-back deadline" \
	[ -z "$(calls LockSession | awk -v t="$(fadd "$T3" 2)" '$2 == "c2" && $1 < t')" ]
in_window "c2: LockSession at the pushed-back deadline" \
	"$(first_call LockSession c2)" "$(fadd "$T3" 2)" "$(fadd "$T3" 3)"
in_window "c2: locked again in the idle period after the lock" \
	"$(call_after LockSession c2 "$(fadd "$T4" 0)")" "$(fadd "$T4" 2)" "$(fadd "$T4" 3)"
in_window "c2: TerminateSession pushed back by activity after the lock" \
	"$(first_call TerminateSession c2)" "$(fadd "$T4" 4)" "$(fadd "$T4" 5)"

# c3a locked and ended itself; c3b, in another session, was never touched.
check "c3a: LockSession asked exactly once" [ "$(count_calls LockSession c3a)" = 1 ]
check "c3a: Logoff ended it (TerminateSession)" [ "$(count_calls TerminateSession c3a)" = 1 ]
check "c3b: not locked by c3a's lock" [ "$(count_calls LockSession c3b)" = 0 ]
check "c3b: not ended by c3a's logoff" [ "$(count_calls TerminateSession c3b)" = 0 ]
check "c3b: active graphical session never idle-locked" session_open c3b
check "Lock replied with the caller's session" \
	grep -Eq "\"session_id\": *$(grep -m1 '^BIOGATE_SESSION_ID=' "$T/c3a.out" | cut -d= -f2)([^0-9]|\$)" "$T/c3a.out"

# --- a login logind does not know (pam_biogate before pam_systemd in the stack) --------------
# No XDG_SESSION_ID and no logind session of its leader: the idle logoff ends the leader
# itself (SIGHUP), never only the biogate record while the shell stays open.
P7=$(new_pty p7)
login c7 bgtest1 finger-a "" "$P7" --exec sh "$HOLD" c7
for _ in $(seq 1 150); do [ -f "$T/c7.end" ] && break; sleep 0.1; done
END7=$(cat "$T/c7.end" 2>/dev/null)
check "c7: no logind session: the idle logoff ended the leader itself (exit 129)" \
	[ "${END7%% *}" = 129 ]
check "c7: the daemon said why" grep -q "logind knows no session of leader" "$T/daemon.log"

# --- shift end and end of day ------------------------------------------------------------------
# A shift of M001 ending SHIFT_END (whole seconds); the daemon's clock zone is chosen so that
# the power-off minute begins at POWER (a few seconds later), while c5 (M002, no shift) is
# still open. Shifts are written while the daemon is stopped (it holds the database
# exclusively).
stop_daemon
BASE=$(date +%s)
SHIFT_END=$((BASE + 8)) POWER=$((BASE + 11))
"$PY" - "$T/state/biogate.db" "$SHIFT_END" <<'EOF'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
end = int(sys.argv[2]) * 1000000
db.execute("INSERT INTO shifts (matching_id, start_at, end_at, imported_at) VALUES (?, ?, ?, ?)",
           ("M001", end - 3600 * 1000000, end, int(time.time() * 1e6)))
db.commit()
EOF
# Local time = UTC - (POWER mod 60) seconds: the minute starts exactly at POWER.
ZONE="BGT+0:00:$(printf %02d $((POWER % 60)))"
POWER_HHMM=$(TZ=$ZONE date -d "@$POWER" +%H:%M)
policy 600 1200 60 3 "$POWER_HHMM"
start_daemon TZ="$ZONE"
"$PY" "$SRC/mock.py" add c4 1001 bgtest1
"$PY" "$SRC/mock.py" add c5 1002 bgtest2
"$PY" "$SRC/mock.py" set c4 Type=tty IdleHint=false >/dev/null
"$PY" "$SRC/mock.py" set c5 Type=x11 IdleHint=false >/dev/null
P4=$(new_pty p4)
P5=$(new_pty p5)
login c4 bgtest1 finger-a c4 "$P4" --exec sh "$HOLD" c4
# c5 closes its session itself (PAM close) 3 s after the power-off minute began.
login c5 bgtest2 finger-b c5 "$P5" --close-session --exec sleep "$((POWER + 3 - $(date +%s)))"
check "logins done before the shift warning" fle "$(now)" "$((SHIFT_END - 3))"
sleep_until "$((POWER + 3))"
for _ in $(seq 1 50); do [ -f "$T/c5.end" ] && break; sleep 0.1; done
# The daemon cannot know c5 is closed before pamrun starts closing it: that is the moment.
C5_CLOSED=$(sed -n 's/^close_start=//p' "$T/c5.out")
sleep_until "$(fadd "${C5_CLOSED:-$((POWER + 3))}" 2.5)"

W4=$(line_time "$T/p4.log" "you will be logged off")
X4=$(first_call TerminateSession c4)
in_window "c4: shift warning warn-before-sec ahead of the shift end" "$W4" \
	"$((SHIFT_END - 3))" "$((SHIFT_END - 2))"
in_window "c4: TerminateSession at the shift end" "$X4" "$SHIFT_END" "$((SHIFT_END + 1))"
check "c4: the warning preceded the shift-end termination" fle "${W4:-9e9}" "${X4:-0}"
check "c4: daemon recorded the reason shift-end" grep -q "ended (shift-end)" "$T/daemon.log"
check "c5 (no shift) was not ended at c4's shift end" [ "$(count_calls TerminateSession c5)" = 0 ]
check "c5 was told the working day is over" grep -q "working day is over" "$T/p5.log"
check "c5's session closed normally" grep -q "^close=PAM_SUCCESS" "$T/c5.out"
PO=$(calls PowerOff | awk '{ print $1 }')
check "no PowerOff while c5 was open" \
	[ -z "$(echo "$PO" | awk -v t="${C5_CLOSED:-0}" 'NF && $1 < t')" ]
in_window "PowerOff once no session was open (retry every second)" \
	"$(echo "$PO" | head -1)" "${C5_CLOSED:-9e9}" "$(fadd "${C5_CLOSED:-0}" 2.2)"
check "PowerOff asked non-interactively" [ "$(calls PowerOff | awk 'NR == 1 { print $2 }')" = False ]

# --- without logind ------------------------------------------------------------------------------
# No bus at all: idle from the pty's atime, the session ended by SIGHUP to its leader (the
# pamrun process holding the PAM session).
stop_daemon
policy 2 4 1 300
start_daemon DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/no-such-bus"
check "daemon says there is no logind" grep -q "no logind: idle from tty atime" "$T/daemon.log"
P6=$(new_pty p6)
login c6 bgtest1 finger-a "" "$P6" --exec sh "$HOLD" c6
T6=$(now)
sleep 1.5
touch -a "$P6"
# The atime the kernel stored (its coarse clock may lag date's by a tick).
A6=$("$PY" -c 'import os, sys; print("%.3f" % os.stat(sys.argv[1]).st_atime)' "$P6")
for _ in $(seq 1 80); do [ -f "$T/c6.end" ] && break; sleep 0.1; done
END6=$(cat "$T/c6.end" 2>/dev/null)
check "c6: leader ended by SIGHUP (exit 129)" [ "${END6%% *}" = 129 ]
in_window "c6: ended after the logoff deadline moved by tty activity" \
	"${END6#* }" "$(fadd "$A6" 4)" "$(fadd "$A6" 5.2)"
check "c6: not ended at the deadline before the activity" fle "$(fadd "$T6" 4.1)" "${END6#* }"
W6=$(line_time "$T/p6.log" "you will be logged off soon")
check "c6: warned on its tty before it ended" fle "${W6:-9e9}" "${END6#* }"
check "c6: without logind the lock is reported impossible" grep -q "cannot lock (no logind)" "$T/daemon.log"
check "c6: the record is closed" \
	sh -c "'$CTL' --json sessions | jq -e '.sessions | length == 0' >/dev/null"

stop_daemon
check "no sanitizer report from the daemon" \
	sh -c "! grep -q 'Sanitizer\|runtime error' '$T/daemon.log'"

echo "daemon log:"; sed 's/^/  /' "$T/daemon.log" | grep -v "^  *$" | tail -60
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
