#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The walk-through on embedded defaults: installs what is needed, builds, then runs biogated
# with its state in a temp dir and libfprint's virtual reader standing in for the hardware,
# and goes through a first login: add a person, enroll a finger, grant an operator ID, log in
# through a real PAM stack, show the session. Nothing is installed into the system and
# nothing under /etc is touched.
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh >/dev/null
BUILD_DIR=${BUILD_DIR:-build} ./scripts/build.sh >/dev/null
B=$(pwd)/${BUILD_DIR:-build}

T=$(mktemp -d /tmp/biogate-walkthrough.XXXXXX)
DAEMON_PID=
cleanup() {
	[ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# The virtual reader: libfprint's virtual_device driver listens on this socket; a "finger"
# is a SCAN command sent to it (tests/integration/vdevctl).
export FP_VIRTUAL_DEVICE=$T/vdev.sock FP_DRIVERS_WHITELIST=virtual_device
export BIOGATE_SOCKET=$T/run/io.biogate BIOGATE_LOCALEDIR=$B/locale
# Staff at the counter read Japanese: WALKTHROUGH_LANG=en shows the English messages.
export LANGUAGE=${WALKTHROUGH_LANG:-ja} LC_ALL=C.UTF-8
CTL="$B/client/biogatectl"
finger() { "$B/tests/integration/vdevctl" "$FP_VIRTUAL_DEVICE" "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; "${@:2}"; }

printf '== biogated, state in %s\n' "$T"
"$B/daemon/biogated" --foreground --state-dir "$T/state" --runtime-dir "$T/run" \
	--config /dev/null --sensor "$B/daemon/sensor/biogated-sensor" \
	--policy "$(pwd)/policy/policy.conf" 2>"$T/daemon.log" &
DAEMON_PID=$!
for _ in $(seq 1 100); do
	[ "$("$CTL" --json status 2>/dev/null | jq -r .reader.present)" = true ] && break
	sleep 0.1
done

step "status" "$CTL" status
step "add a person to the roster" "$CTL" staff add M001 --name "山田 太郎" \
	--affiliation "委託事業者A" --expertise "窓口業務" --nationality "日本" --unix-user yamada
step "record the written pledge and the security training (R9)" "$CTL" staff edit M001 \
	--pledge-date "$(date +%F)" --training-date "$(date +%F)"
echo "(the reader is touched five times: virtual finger 'yamada-right-index')"
for _ in 1 2 3 4 5; do finger "SCAN yamada-right-index"; done
step "enroll the right index finger" "$CTL" enroll M001 --finger right-index
step "grant an operator ID" "$CTL" operator grant M001 OP-0001 --role counter
step "the roster" "$CTL" staff list

mkdir -p "$T/pam.d"
M="$B/pam_module/pam_biogate.so"
for type in auth account session; do
	echo "$type required $M socket=$BIOGATE_SOCKET localedir=$B/locale"
done >"$T/pam.d/biogate-login"
echo
echo "(the right finger touches the reader)"
finger "SCAN yamada-right-index"
step "log in through PAM as yamada" "$B/tests/pam/pamrun" --confdir "$T/pam.d" \
	--service biogate-login --user yamada --tty tty1 --acct --open-session
step "the open session" "$CTL" sessions
echo
echo "(a different finger touches the reader)"
finger "SCAN someone-else"
step "log in with the wrong finger" "$B/tests/pam/pamrun" --confdir "$T/pam.d" \
	--service biogate-login --user yamada --tty tty1
echo
echo "== done; daemon log:"
sed 's/^/  /' "$T/daemon.log"
