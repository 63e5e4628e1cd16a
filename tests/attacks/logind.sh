#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The logind session a login names (XDG_SESSION_ID, sent as logind_session) is checked
# against the one logind gives the session's leader (sd_pid_get_session), issue 14: a login
# naming someone else's logind session would have the daemon lock and terminate that one.
#
# logind's answer comes from the leader's cgroup: the test puts the login process into a
# session scope of its own in the cgroup2 hierarchy (as systemd-logind would), names another
# session, and then the right one. Skipped without a writable cgroup2 hierarchy.
#
# usage: logind.sh BIOGATED SENSOR BIOGATECTL PAM_MODULE PAMRUN VDEVCTL
set -u
BIOGATED=$1 SENSOR=$2 CTL=$3 MODULE=$4 PAMRUN=$5 VDEVCTL=$6
. "$(dirname "$0")/../integration/lib.sh"
it_init attacks-logind
CG=
for root in /sys/fs/cgroup/unified /sys/fs/cgroup; do
	[ "$(stat -f -c %T "$root" 2>/dev/null)" = cgroup2fs ] && { CG=$root; break; }
done
[ -n "$CG" ] || { echo "SKIP: no cgroup2 hierarchy"; exit 77; }
SID=bgt$$
SLICE=$CG/user.slice/user-0.slice
SCOPE=$SLICE/session-$SID.scope
mkdir -p "$SCOPE" 2>/dev/null || { echo "SKIP: cannot make a cgroup"; exit 77; }
it_cleanup() {
	# Empty the scope (its processes back to the root group), then remove what we made.
	for p in $(cat "$SCOPE/cgroup.procs" 2>/dev/null); do echo "$p" >"$CG/cgroup.procs"; done
	rmdir "$SCOPE" 2>/dev/null
	rmdir "$SLICE" "$CG/user.slice" 2>/dev/null
}
export LC_ALL=C.UTF-8 LANGUAGE=en
it_policy <<EOF
[login]
require-shift = no
EOF
pam_service biogate-test
start_daemon || exit 1
"$CTL" staff add M001 --name N --affiliation A --nationality N --unix-user bgl1 >/dev/null
"$CTL" staff edit M001 --pledge-date 2026-11-01 --training-date 2026-11-02 >/dev/null
finger "SCAN f" "SCAN f" "SCAN f" "SCAN f" "SCAN f"
"$CTL" enroll M001 --finger right-index >/dev/null 2>&1 || bad "enroll M001"
"$CTL" operator grant M001 OP-1 --role counter >/dev/null

login_in_scope() { # login_in_scope XDG_SESSION_ID: the login, its process in the scope
	sh -c 'echo $$ >"$1/cgroup.procs"; shift; exec "$@"' sh "$SCOPE" \
		env XDG_SESSION_ID="$1" "$PAMRUN" --confdir "$T/pam.d" --service biogate-test \
		--user bgl1 --tty tty3 --acct --open-session --close-session --exec true >"$T/out" 2>&1
}
finger "SCAN f"
login_in_scope c-someone-else
check "naming another logind session: the session is refused" \
	grep -q "^open=PAM_SESSION_ERR" "$T/out"
check "the refusal is recorded" \
	sh -c "'$CTL' --json audit list --action session.open --outcome deny | jq -e 'length == 1 and .[0].reason == \"logind-session-mismatch\"'"
finger "SCAN f"
login_in_scope "$SID"
check "naming its own logind session: PAM_SUCCESS" grep -q "^open=PAM_SUCCESS" "$T/out"
check "the session was opened and recorded" \
	sh -c "'$CTL' --json audit list --action session.open --outcome ok | jq -e 'length == 1'"
it_done
