#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Borrowing a session (issue 14, finding 4): the daemon resolves a caller's session from
# the process that connected, pinned at accept (pidfd and start time), never from a pid
# number that another process may have got since, and a connection acts only for the
# process that opened it.
#
# - PID reuse: a connector outside any session queues Authorize behind a Verify that waits
#   for a finger, and exits; a process inside M001's session is made to get its pid
#   (ns_last_pid, in a private pid namespace so that nothing else takes it); then the
#   finger: the queued Authorize must not be allowed as M001's operator ID.
# - SCM_RIGHTS: a process inside the session connects (allowed), and passes the connection
#   to a process outside: that process's Authorize must not be allowed.
#
# usage: borrow.sh BIOGATED SENSOR BIOGATECTL PAM_MODULE PAMRUN VDEVCTL BORROW
set -u
if [ -z "${BIOGATE_PRIVATE_PIDNS:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
	unshare --pid --fork --mount-proc true 2>/dev/null ||
		{ echo "SKIP: cannot make a private pid namespace"; exit 77; }
	BIOGATE_PRIVATE_PIDNS=1 exec unshare --pid --fork --mount-proc bash "$0" "$@"
fi
BIOGATED=$1 SENSOR=$2 CTL=$3 MODULE=$4 PAMRUN=$5 VDEVCTL=$6 BORROW=$7
. "$(dirname "$0")/../integration/lib.sh"
it_init attacks-borrow
HOLD=
it_cleanup() {
	[ -n "$HOLD" ] && kill "$HOLD" 2>/dev/null
	[ -s "$T/shell.pid" ] && kill "$(cat "$T/shell.pid")" 2>/dev/null
	[ -s "$T/spawned" ] && kill "$(cat "$T/spawned")" 2>/dev/null
}
export LC_ALL=C.UTF-8 LANGUAGE=en
it_policy <<EOF
[login]
require-shift = no
EOF
pam_service biogate-test
start_daemon || exit 1

person() { # person MATCHING_ID UNIX_USER
	"$CTL" staff add "$1" --name "Name $1" --affiliation A --nationality N --unix-user "$2" >/dev/null
	"$CTL" staff edit "$1" --pledge-date 2026-11-01 --training-date 2026-11-02 >/dev/null
	finger "SCAN f-$1" "SCAN f-$1" "SCAN f-$1" "SCAN f-$1" "SCAN f-$1"
	for _ in $(seq 1 "$ENROLLED"); do finger "SCAN f-$1"; done # compared with each other
	ENROLLED=$((ENROLLED + 1))
	"$CTL" enroll "$1" --finger right-index >/dev/null 2>&1 || bad "enroll $1"
	"$CTL" operator grant "$1" "OP-$1" --role counter >/dev/null
}
ENROLLED=0
person M001 bgb1
person M002 bgb2

# M001's session: its shell serves requests from the test through a fifo, so that the
# processes below run inside the session.
mkfifo "$T/req"
cat >"$T/inside.sh" <<EOF
#!/bin/bash
echo \$\$ >"$T/shell.pid"
exec 3<>"$T/req"
while read -r what arg <&3; do
	case \$what in
	spawn) # a process inside the session with pid \$arg
		# Other processes of the namespace (the test's own polling sleeps) may fork between
		# the write and ours and take the pid: try again until ours gets it.
		for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
			echo \$((arg - 1)) >/proc/sys/kernel/ns_last_pid
			sleep 30 &
			[ "\$!" = "\$arg" ] && break
			kill \$! 2>/dev/null
			wait \$! 2>/dev/null # reaped: a zombie would keep the pid
			sleep 0.05           # the other process ends and frees it
		done
		echo \$! >"$T/spawned" ;;
	give) "$BORROW" give "\$BIOGATE_SOCKET" "$T/pass.sock" >"$T/give.out" 2>&1; echo done >"$T/given" ;;
	quit) exit 0 ;;
	esac
done
EOF
chmod +x "$T/inside.sh"
finger "SCAN f-M001"
"$PAMRUN" --confdir "$T/pam.d" --service biogate-test --user bgb1 --tty tty3 \
	--acct --open-session --close-session --exec "$T/inside.sh" >"$T/outer.out" 2>&1 &
HOLD=$!
for _ in $(seq 1 50); do [ -s "$T/shell.pid" ] && break; sleep 0.1; done
check "M001 is in a session" grep -q "^open=PAM_SUCCESS" "$T/outer.out"
waitfor() { for _ in $(seq 1 100); do [ -s "$1" ] && return 0; sleep 0.1; done; return 1; }

# --- PID reuse ----------------------------------------------------------------------------
"$BORROW" queued "$BIOGATE_SOCKET" bgb2 >"$T/queued.out" 2>&1 &
Q=$!
for _ in $(seq 1 100); do grep -q '^connector' "$T/queued.out" && break; sleep 0.05; done
CONNECTOR=$(sed -n 's/^connector //p' "$T/queued.out")
echo "spawn $CONNECTOR" >"$T/req"
waitfor "$T/spawned"
check "a process inside the session got the connector's pid $CONNECTOR" \
	[ "$(cat "$T/spawned")" = "$CONNECTOR" ]
finger "SCAN f-M002"
wait "$Q"
sed 's/^/  /' "$T/queued.out"
check "the queued Authorize was answered" grep -q '"allow"' "$T/queued.out"
check "PID reuse: the queued Authorize is not allowed" \
	sh -c "! grep -q '\"allow\": *true' '$T/queued.out'"
check "PID reuse: not in M001's operator ID" sh -c "! grep -q 'OP-M001' '$T/queued.out'"

# --- SCM_RIGHTS hand-off ------------------------------------------------------------------
"$BORROW" receive "$T/pass.sock" >"$T/receive.out" 2>&1 &
R=$!
for _ in $(seq 1 50); do grep -q listening "$T/receive.out" && break; sleep 0.05; done
echo give >"$T/req"
waitfor "$T/given"
wait "$R"
sed 's/^/  give: /' "$T/give.out"
sed 's/^/  receive: /' "$T/receive.out"
check "the giver, inside the session, is allowed" grep -q '"allow": *true' "$T/give.out"
check "SCM_RIGHTS: the receiver is not allowed" \
	sh -c "! grep -q '\"allow\": *true' '$T/receive.out'"
check "SCM_RIGHTS: the daemon closed the connection" grep -qx closed "$T/receive.out"

echo quit >"$T/req"
wait "$HOLD" 2>/dev/null
HOLD=
it_done
