# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the end-to-end scripts in this directory (sourced, not run): the skip checks,
# a temporary directory cleaned up on exit, the counters and check helpers, biogated with
# its sensor on libfprint's virtual_device reader, a PAM service file for pamrun, and the
# final "N passed, M failed" line.
#
# The sourcing script sets BIOGATED SENSOR CTL MODULE PAMRUN VDEVCTL, then calls
# it_init NAME. Optional before start_daemon: DAEMON_CONFIG (default /dev/null), POLICY
# (default the repository's policy/policy.conf), STATE (default $T/state), and a function
# it_cleanup that runs before the directory is removed.

IT_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

it_init() { # it_init NAME: skip checks, $T, environment, counters
	command -v jq >/dev/null || { echo "SKIP: jq is not installed"; exit 77; }
	[ "$(id -u)" = 0 ] ||
		{ echo "SKIP: needs root (the client trusts only root's socket)"; exit 77; }
	T=$(mktemp -d "/tmp/biogate-$1.XXXXXX")
	DAEMON_PID=
	trap it_exit EXIT
	export FP_VIRTUAL_DEVICE=$T/vdev.sock FP_DRIVERS_WHITELIST=virtual_device
	export BIOGATE_SOCKET=$T/run/io.biogate
	VDEV=$FP_VIRTUAL_DEVICE
	: "${POLICY:=$IT_SRC/policy/policy.conf}"
	: "${DAEMON_CONFIG:=/dev/null}"
	: "${STATE:=$T/state}"
	pass=0 fail=0
}

it_exit() {
	declare -F it_cleanup >/dev/null && it_cleanup
	[ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
	rm -rf "$T"
}

ok() { echo "ok: $1"; pass=$((pass + 1)); }
bad() { echo "FAIL: $1"; fail=$((fail + 1)); }
check() { # check DESCRIPTION COMMAND...
	local d=$1
	shift
	if "$@" >/dev/null; then ok "$d"; else bad "$d"; fi
}

it_policy() { # it_policy < DROP-IN: the shipped policy plus a drop-in read from stdin
	cp "$IT_SRC/policy/policy.conf" "$T/policy.conf"
	mkdir -p "$T/policy.conf.d"
	cat >"$T/policy.conf.d/50-test.conf"
	POLICY=$T/policy.conf
}

# Waits until the daemon answers and the sensor reports the reader.
wait_reader() {
	for _ in $(seq 1 100); do
		[ "$("$CTL" --json status 2>/dev/null | jq -r '.reader.present')" = true ] && return 0
		sleep 0.1
	done
	echo "daemon/reader did not come up"
	cat "$T/daemon.log"
	return 1
}

start_daemon() { # start_daemon [extra biogated arguments]; the log goes to $T/daemon.log
	"$BIOGATED" --foreground --state-dir "$STATE" --runtime-dir "$T/run" \
		--config "$DAEMON_CONFIG" --sensor "$SENSOR" --policy "$POLICY" "$@" \
		2>>"$T/daemon.log" &
	DAEMON_PID=$!
	wait_reader
}

stop_daemon() {
	kill "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
}

pam_service() { # pam_service NAME: auth, account and session through pam_biogate.so
	mkdir -p "$T/pam.d"
	cat >"$T/pam.d/$1" <<EOF
auth     required $MODULE socket=$T/run/io.biogate localedir=${BIOGATE_LOCALEDIR:-/nonexistent}
account  required $MODULE socket=$T/run/io.biogate
session  required $MODULE socket=$T/run/io.biogate
EOF
	PAM_SERVICE=$1
}

login() { # login USER [pamrun args...]: output in $T/out, or $LOGIN_OUT (TTY: $LOGIN_TTY, default tty7)
	local user=$1
	shift
	"$PAMRUN" --confdir "$T/pam.d" --service "$PAM_SERVICE" --user "$user" \
		--tty "${LOGIN_TTY:-tty7}" "$@" >"${LOGIN_OUT:-$T/out}" 2>&1
}
result() { grep -m1 "^$1=" "$T/out" | cut -d= -f2; }
finger() { "$VDEVCTL" "$VDEV" "$@"; }

it_done() { # the daemon's last lines, the tally, and the exit status
	echo "daemon log:"
	sed 's/^/  /' "$T/daemon.log" 2>/dev/null | tail -30
	echo "$pass passed, $fail failed"
	[ "$fail" = 0 ]
}
