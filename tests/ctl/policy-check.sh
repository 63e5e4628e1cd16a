#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# biogatectl policy check FILE (issue 13, item 5): the policy file and its drop-ins read with
# the daemon's own parser, what would be in force printed, and every broken file refused with
# exit 1 and "FILE:LINE: what" (as sshd -t). No daemon.
#   policy-check.sh BIOGATECTL SHIPPED_POLICY_CONF
set -u
CTL=$1
SHIPPED=$2

T=$(mktemp -d /tmp/biogate-policy-check.XXXXXX)
trap 'rm -rf "$T"' EXIT
umask 022
pass=0 fail=0
ok() { echo "ok: $1"; pass=$((pass + 1)); }
bad() { echo "FAIL: $1"; fail=$((fail + 1)); }

run() { # run NAME EXPECTED_EXIT ARGS...
	name=$1 want=$2
	shift 2
	env -u LANGUAGE -u BIOGATE_SOCKET LC_ALL=C.UTF-8 "$CTL" "$@" >"$T/out" 2>"$T/err"
	got=$?
	if [ "$got" = "$want" ]; then ok "$name (exit $got)"; else
		bad "$name: exit $got, wanted $want"; sed 's/^/  stderr: /' "$T/err"; fi
}
has() { # has NAME FILE TEXT
	if grep -qF -- "$3" "$2"; then ok "$1"; else bad "$1: no '$3' in:"; sed 's/^/  /' "$2"; fi
}
is() { # is NAME FILE TEXT: the whole file is exactly TEXT
	if [ "$(cat "$2")" = "$3" ]; then ok "$1"; else bad "$1: wanted '$3', got:"; sed 's/^/  /' "$2"; fi
}

# --- the shipped policy ------------------------------------------------------------------
cp "$SHIPPED" "$T/policy.conf"
run "the shipped policy" 0 policy check "$T/policy.conf"
has "one file applied" "$T/out" "$T/policy.conf and its drop-ins in $T/policy.conf.d: 1 file applied"
if grep -Eq '^  counter +search view-record issue-card print-receipt$' "$T/out"; then
	ok "the counter role and its actions"; else bad "the counter role:"; cat "$T/out"; fi
has "the auditor role" "$T/out" "auditor     audit-read audit-verify"
has "the two-person actions" "$T/out" "revoke audit-export nationality-read disposal-approve enroll"
has "the lockout" "$T/out" "3 failed matches within 900 s lock for 600 s"
has "the idle lock" "$T/out" "300 s"
if [ -s "$T/err" ]; then bad "nothing on stderr for a good file"; else ok "nothing on stderr for a good file"; fi

# --- drop-ins apply in name order, key by key; a named role is replaced ------------------
mkdir "$T/policy.conf.d"
printf '[roles]\ncounter = search\nnight = search view-record\n[two-person]\nactions = revoke enroll\n[lockout]\nunlock-time-sec = 0\n' \
	>"$T/policy.conf.d/20-site.conf"
printf '[idle]\nlock-after-sec = 120\n[shift]\npower-off-time = 22:30\n' >"$T/policy.conf.d/10-idle.conf"
printf '[idle]\nlock-after-sec = 999\n' >"$T/policy.conf.d/notconf.txt"
run "with drop-ins" 0 policy check "$T/policy.conf"
has "three files applied" "$T/out" "3 files applied"
if grep -Eq '^  counter +search$' "$T/out"; then ok "the drop-in replaced the counter role"; else
	bad "the drop-in replaced the counter role:"; cat "$T/out"; fi
if grep -Eq '^  night +search view-record$' "$T/out"; then ok "the drop-in's new role"; else
	bad "the drop-in's new role"; fi
has "two-person from the drop-in" "$T/out" "revoke enroll"
has "unlock until an admin unlocks" "$T/out" "3 failed matches within 900 s lock until an admin unlocks"
has "power off time" "$T/out" "22:30"
if grep -q "999" "$T/out"; then bad "a file not named *.conf was read"; else ok "only *.conf drop-ins are read"; fi

run "--json" 0 --json policy check "$T/policy.conf"
if /usr/bin/python3 - "$T/out" <<'EOF'; then ok "--json: what is in force, as data"; else bad "--json:"; cat "$T/out"; fi
import json, sys
o = json.load(open(sys.argv[1]))
assert o["files"] == 3, o["files"]
assert o["roles"]["counter"] == ["search"], o["roles"]
assert o["roles"]["night"] == ["search", "view-record"]
assert o["roles"]["auditor"] == ["audit-read", "audit-verify"]
assert o["two_person_actions"] == ["revoke", "enroll"]
assert o["admin_role"] == "admin" and "enroll" in o["admin_actions"]
assert o["search_actions"] == ["search"]
assert o["login"] == {"require_pledge": True, "require_training": True, "require_shift": False,
                      "single_session": True}
assert o["lockout"] == {"deny": 3, "fail_interval_sec": 900, "unlock_time_sec": 0}
assert o["idle"]["lock_after_sec"] == 120 and o["idle"]["logoff_after_sec"] == 900
assert o["shift"]["power_off_time"] == "22:30"
assert o["audit_years"] == 7 and o["incidents"]["notify"] is None
EOF
rm -rf "$T/policy.conf.d"

# --- broken files: exit 1, the file and line of the first error ----------------------------
# broken NAME CONTENT WANT: a drop-in holding CONTENT fails with stderr "biogatectl: WANT",
# where FILE stands for the drop-in's path; nothing on stdout.
broken() {
	mkdir -p "$T/policy.conf.d"
	printf "$2" >"$T/policy.conf.d/50-bad.conf"
	run "broken: $1" 1 policy check "$T/policy.conf"
	want=$(printf '%s' "$3" | sed "s|FILE|$T/policy.conf.d/50-bad.conf|")
	is "broken: $1: the message" "$T/err" "biogatectl: $want"
	if [ -s "$T/out" ]; then bad "broken: $1: stdout not empty"; fi
	rm -rf "$T/policy.conf.d"
}
broken "an unknown key" '[login]\nrequire-pledge = yes\nrequire-nothing = yes\n' \
	"FILE:3: unknown key 'require-nothing' in [login]"
broken "a bad number" '# site\n[lockout]\ndeny = x\n' \
	"FILE:3: [lockout] deny: 'x' is not a number from 0 to 100"
broken "an unknown section" '[rolez]\ncounter = search\n' "FILE:1: unknown section [rolez]"
broken "a bad role name" '[roles]\nCounter = search\n' \
	"FILE:2: 'Counter' is not a role name ([a-z0-9][a-z0-9._-]*)"
broken "a key twice" '[idle]\nlock-after-sec = 1\nlock-after-sec = 2\n' \
	"FILE:3: [idle] lock-after-sec: set twice in this file"

# The main file itself, a missing file, a file others may write.
printf '[roles]\ncounter = search\n[admin]\nrole = counter\n' >"$T/own.conf"
run "the admin role as an operator role" 1 policy check "$T/own.conf"
has "the admin role clash names the file" "$T/err" "$T/own.conf"
run "a missing file" 1 policy check "$T/none.conf"
has "a missing file is named" "$T/err" "$T/none.conf: cannot open"
cp "$SHIPPED" "$T/open.conf"
chmod 0666 "$T/open.conf"
run "a file other users can write" 1 policy check "$T/open.conf"
has "a writable file is refused" "$T/err" "$T/open.conf: writable by other users; refused"
run "--json: a broken file" 1 --json policy check "$T/none.conf"
is "--json: the error as data" "$T/out" '{
  "error": "PolicyInvalid"
}'
run "two files" 2 policy check "$T/policy.conf" "$T/own.conf"
run "an empty file name" 2 policy check ""

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
