#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# pam-fake: pam_biogate.so under a real PAM stack against fakedaemon.py, a scripted
# stand-in for biogated: the success path with its ticket and session, the operator choice,
# every error mapping, and malformed, flooding and late replies. Usage: fake.sh PAMRUN MODULE
set -eu
pamrun=$1
module=$2
here=$(cd "$(dirname "$0")" && pwd)
case $module in /*) ;; *) module=$(pwd)/$module ;; esac

python=/usr/bin/python3
[ -x $python ] || { echo "SKIP: $python is missing"; exit 77; }
# bgclient trusts only sockets and peers owned by root or the daemon's user.
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (the client trusts only root's socket)"; exit 77; }

dir=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT

$python "$here/fakedaemon.py" "$dir/sock" 2>"$dir/daemon.log" &
pid=$!
i=0
while [ ! -S "$dir/sock" ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "FAIL: fakedaemon did not start"; cat "$dir/daemon.log"; exit 1; }
	sleep 0.1
done

for s in auth account session; do
	echo "$s required $module socket=$dir/sock timeout=1"
done >"$dir/biogate-test"
# The same with pam_permit after account and session: a module answer of PAM_IGNORE (not this
# module's business) lets the stack succeed there, a refusal still fails it.
for s in account session; do
	echo "$s required $module socket=$dir/sock timeout=1"
	echo "$s required pam_permit.so"
done >"$dir/biogate-fallthrough"

LC_ALL=C
LANGUAGE=
export LC_ALL LANGUAGE

fail=0
out=
run() {
	out=$("$pamrun" --confdir "$dir" --service biogate-test "$@" 2>&1) || {
		echo "FAIL: pamrun $* exited $?"
		printf '%s\n' "$out"
		fail=1
	}
}
expect() {
	if ! printf '%s\n' "$out" | grep -qxF -- "$1"; then
		echo "FAIL: expected line '$1' in:"
		printf '%s\n' "$out" | sed 's/^/  | /'
		fail=1
	fi
}
refuse() {
	if printf '%s\n' "$out" | grep -qF -- "$1"; then
		echo "FAIL: unexpected '$1' in:"
		printf '%s\n' "$out" | sed 's/^/  | /'
		fail=1
	fi
}
place='INFO: Place your finger on the reader'
lost='ERROR: biogate: lost the connection to the fingerprint service'

# The whole way: finger, one operator ID, account, session, close.
run --user alice --tty tty3 --acct --open-session --close-session
expect "$place"
expect 'auth=PAM_SUCCESS'
expect 'acct=PAM_SUCCESS'
expect 'open=PAM_SUCCESS'
expect 'BIOGATE_SESSION_ID=s-op-a1'
expect 'BIOGATE_OPERATOR_ID=op-a1'
expect 'close=PAM_SUCCESS'
refuse 'PROMPT:'
grep -qF '"operator_id": "op-a1", "service": "biogate-test", "ticket": "0123456789abcdef0123456789abcdef", "tty": "tty3"' \
	"$dir/daemon.log" || { echo "FAIL: OpenSession parameters"; cat "$dir/daemon.log"; fail=1; }
grep -qx 'fakedaemon: CloseSession s-op-a1' "$dir/daemon.log" ||
	{ echo "FAIL: no CloseSession"; cat "$dir/daemon.log"; fail=1; }

run --user retry
expect 'INFO: The finger was not read; place it on the reader again'
expect 'auth=PAM_SUCCESS'

# Several operator IDs: by number, by ID, three wrong answers, no answers.
run --user multi --answer 2 --acct --open-session
expect 'INFO: 2) op-b2 (supervisor)'
expect 'PROMPT: Operator (number or ID): '
expect 'auth=PAM_SUCCESS'
expect 'acct=PAM_SUCCESS'
expect 'BIOGATE_OPERATOR_ID=op-b2'
run --user multi --answer ' op-c3 ' --open-session
expect 'auth=PAM_SUCCESS'
expect 'BIOGATE_OPERATOR_ID=op-c3'
run --user multi --answer 0 --answer 4 --answer op-zz --open-session
expect 'ERROR: That is not one of the listed operator IDs.'
expect 'ERROR: biogate: no operator ID was chosen'
expect 'auth=PAM_AUTH_ERR'
expect 'open=PAM_SESSION_ERR'
run --user multi
expect 'CONV: no answer left'
expect 'auth=PAM_CONV_ERR'

# The daemon's errors.
check() { # user code message
	run --user "$1"
	expect "auth=$2"
	[ -z "$3" ] || expect "ERROR: $3"
}
check nomatch PAM_AUTH_ERR 'biogate: the fingerprint does not match'
check revoked PAM_AUTH_ERR "biogate: this person's authorization has been revoked"
check notenrolled PAM_AUTH_ERR 'biogate: no fingerprint is enrolled for this person'
check lockedout PAM_AUTH_ERR 'biogate: too many failed attempts; try again later'
check outsideshift PAM_AUTH_ERR 'biogate: logging in is not permitted outside your scheduled shift'
check notpermitted PAM_AUTH_ERR 'biogate: logging in is not permitted'
check nooperator PAM_AUTH_ERR 'biogate: no operator ID is assigned to this person'
check zeroops PAM_AUTH_ERR 'biogate: no operator ID is assigned to this person'
check sensor PAM_AUTHINFO_UNAVAIL 'biogate: the fingerprint reader is not available'
check noreader PAM_AUTHINFO_UNAVAIL 'biogate: the fingerprint reader is not available'
check timeout PAM_AUTHINFO_UNAVAIL 'biogate: no finger was placed on the reader in time'
check busy PAM_AUTHINFO_UNAVAIL 'biogate: the fingerprint reader is busy; try again'
check internal PAM_AUTHINFO_UNAVAIL 'biogate: the fingerprint service failed'
check weird PAM_AUTHINFO_UNAVAIL 'biogate: the fingerprint service failed'
run --user notonroster --acct
expect 'auth=PAM_USER_UNKNOWN'
refuse 'ERROR:'
# Issue 9: someone not on the roster falls through at account and session too (a password
# login of an administrator), where PAM_USER_UNKNOWN used to refuse account and the missing
# ticket refused the session.
run --service biogate-fallthrough --user notonroster --no-auth --acct --open-session \
	--close-session
expect 'acct=PAM_SUCCESS'
expect 'open=PAM_SUCCESS'
expect 'close=PAM_SUCCESS'
refuse 'ERROR:'
# From another host: a person on the roster is refused (no finger on this reader), someone not
# on it falls through quietly (an administrator over ssh), as at the terminal.
run --user bob --rhost remote.example
expect 'auth=PAM_AUTHINFO_UNAVAIL'
expect 'ERROR: biogate: fingerprint login is only possible at the terminal itself'
refuse "$place"
run --user revoked --rhost remote.example
expect 'auth=PAM_AUTHINFO_UNAVAIL'
run --user notonroster --rhost remote.example
expect 'auth=PAM_USER_UNKNOWN'
refuse 'ERROR:'
# A person on the roster gets no session without this module's auth (a key login over ssh,
# su from root), whatever else the stack allows.
run --service biogate-fallthrough --user bob --no-auth --acct --open-session
expect 'acct=PAM_SUCCESS'
expect 'open=PAM_SESSION_ERR'
expect 'ERROR: biogate: no fingerprint login for this session; it cannot be opened'
run --service biogate-fallthrough --user revoked --no-auth --acct
expect 'acct=PAM_PERM_DENIED'

# Replies that must never let anyone in.
for u in badticket emptyticket noticket flood hangup; do
	run --user $u --open-session
	expect 'auth=PAM_AUTHINFO_UNAVAIL'
	expect "$lost"
	expect 'open=PAM_SESSION_ERR'
done
run --user hang
expect 'auth=PAM_AUTHINFO_UNAVAIL'
expect 'ERROR: biogate: no finger was placed on the reader in time'

# Account on its own.
run --user revoked --no-auth --acct
expect 'acct=PAM_PERM_DENIED'
expect "ERROR: biogate: this person's authorization has been revoked"
run --user bob --no-auth --acct
expect 'acct=PAM_SUCCESS'

[ $fail -eq 0 ] && echo "ok: pam-fake"
exit $fail
