#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Everyday administration, end to end (issue 13, items 1-7): biogated with its sensor on
# libfprint's virtual_device, pam_biogate.so in a real PAM stack, biogatectl as the admin.
#
# - operator revoke ends the open session of that operator ID at once; operator set-role
#   changes the role a session acts under from its next request, the session stays open;
#   both refuse unknown people and IDs, revoked people and (set-role) a role the policy lacks;
# - finger delete erases one template so that no piece of it is left in biogate.db, -wal or
#   -shm; re-enrolling a finger erases the old template the same way; the last finger is
#   kept unless --force;
# - staff import: a CP932 file with a Japanese header adds and edits in one request, a
#   revoked person, a new person without nationality or a Unix user change refuses the whole
#   file with its file:line, and nothing of it is applied;
# - a night shift (22:00-06:00) is imported and ends the next day; end = start is refused;
# - staff locked lists who is locked out and until when; staff show says it;
# - biogated --check-config prints what would be in force or the file:line of the error; a
#   SIGHUP with a broken policy keeps the old one (logged and recorded) and the daemon
#   answers on; a good one takes over;
# - records name the person: by_loginuid for a caller whose login uid is set (as sudo keeps
#   it), by_matching_id for a caller inside a biogate session;
# - org.varlink.service.GetInterfaceDescription returns common/io.biogate.varlink.
#
# usage: admin.sh BIOGATED SENSOR BIOGATECTL PAM_MODULE PAMRUN VDEVCTL
set -u
BIOGATED=$1 SENSOR=$2 CTL=$3 MODULE=$4 PAMRUN=$5 VDEVCTL=$6
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)

[ -x "$PY" ] && "$PY" -c 'import sqlite3' 2>/dev/null ||
	{ echo "SKIP: $PY with the sqlite3 module is needed to read the enrolled templates"; exit 77; }
command -v iconv >/dev/null || { echo "SKIP: iconv is needed to write a CP932 file"; exit 77; }
. "$HERE/lib.sh"
it_init admin
HOLD=
it_cleanup() {
	touch "$T/stop" 2>/dev/null
	[ -n "$HOLD" ] && kill "$HOLD" 2>/dev/null
	[ -s "$T/shell.pid" ] && kill "$(cat "$T/shell.pid")" 2>/dev/null
}
export LC_ALL=C.UTF-8 LANGUAGE=en
ctl() { # ctl ARGS...: stdout in $T/o, stderr in $T/e, exit code in $rc
	"$CTL" "$@" >"$T/o" 2>"$T/e"
	rc=$?
}
exits() { # exits DESCRIPTION CODE: the last ctl's exit code
	if [ "$rc" = "$2" ]; then ok "$1 (exit $rc)"; else
		bad "$1: exit $rc, wanted $2"; sed 's/^/  stdout: /' "$T/o"; sed 's/^/  stderr: /' "$T/e"; fi
}
vcall() { "$PY" "$HERE/vcall.py" "$BIOGATE_SOCKET" "$@"; }
it_policy <<EOF
[login]
require-shift = no
EOF
LOGIN_TTY=tty4
pam_service biogate-test
alive() { [ -e "/proc/$1" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null; }
in_session() { "$CTL" --json sessions | jq -e "any(.sessions[]; .operator_id == \"$1\")" >/dev/null; }
enroll() { # enroll MATCHING_ID FINGER SCAN-ID
	finger "SCAN $3" "SCAN $3" "SCAN $3" "SCAN $3" "SCAN $3"
	"$CTL" enroll "$1" --finger "$2" >/dev/null 2>&1
}
# The sealed template of one finger, read from a copy of the database while the daemon is
# stopped (it holds the file exclusively).
capture() { # capture MATCHING_ID FINGER NAME
	stop_daemon
	cp "$STATE/biogate.db" "$T/copy.db"
	"$PY" - "$T/copy.db" "$1" "$2" >"$T/tpl-$3.hex" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
row = db.execute("SELECT template FROM fingers WHERE matching_id = ? AND finger = ?", sys.argv[2:4]).fetchone()
print(row[0].hex() if row else "")
EOF
	rm -f "$T"/copy.db*
	start_daemon
}
# How many 32-byte pieces of a captured template are in biogate.db, -wal or -shm.
pieces_found() {
	"$PY" - "$T/tpl-$1.hex" "$STATE" <<'EOF'
import glob, sys
tpl = bytes.fromhex(open(sys.argv[1]).read())
data = [open(f, "rb").read() for f in glob.glob(sys.argv[2] + "/biogate.db*")]
pieces = [tpl[i:i + 32] for i in range(0, len(tpl) - 31, 32)]
print(sum(1 for p in pieces if any(p in d for d in data)))
EOF
}
template_gone() { [ "$(pieces_found "$1")" = 0 ]; }
template_there() { [ "$(pieces_found "$1")" -gt 0 ]; }

# --- biogated --check-config (before any daemon runs) ----------------------------------------
"$BIOGATED" --check-config --config /dev/null --policy "$POLICY" >"$T/o" 2>"$T/e"
check "--check-config on the shipped policy: exit 0" [ $? = 0 ]
check "--check-config prints the roles in force" grep -Eq '^  role counter +search' "$T/o"
check "--check-config prints the lockout in force" grep -q "deny 3, fail-interval 900 s" "$T/o"
cp -r "$T/policy.conf.d" "$T/broken.conf.d"
cp "$T/policy.conf" "$T/broken.conf"
printf '[login]\nrequire-shift = perhaps\n' >"$T/broken.conf.d/60-bad.conf"
"$BIOGATED" --check-config --config /dev/null --policy "$T/broken.conf" >"$T/o" 2>"$T/e"
check "--check-config on a broken drop-in: exit 1" [ $? = 1 ]
check "--check-config names the file and line" grep -q "60-bad.conf:2:" "$T/e"
printf '[daemon]\nno-such-key = 1\n' >"$T/bad-daemon.conf"
"$BIOGATED" --check-config --config "$T/bad-daemon.conf" --policy "$POLICY" >"$T/o" 2>"$T/e"
check "--check-config on a broken settings file: exit 1 with file:line" \
	sh -c "[ $? = 1 ] && grep -q 'bad-daemon.conf:2:' '$T/e'"
check "--check-config started nothing (no state directory)" [ ! -e "$STATE" ]

start_daemon || exit 1

# --- GetInterfaceDescription -----------------------------------------------------------------
vcall org.varlink.service.GetInterfaceDescription '{"interface":"io.biogate"}' >"$T/o"
check "GetInterfaceDescription: the definition, as in common/io.biogate.varlink" \
	sh -c "jq -j .parameters.description '$T/o' | cmp -s - '$IT_SRC/common/io.biogate.varlink'"
vcall org.varlink.service.GetInterfaceDescription '{"interface":"io.nothing"}' >"$T/o"
check "GetInterfaceDescription of another interface: InterfaceNotFound" \
	jq -e '.error == "org.varlink.service.InterfaceNotFound"' "$T/o"

# --- the roster ------------------------------------------------------------------------------
for m in M001 M002 M003 M004; do
	"$CTL" staff add $m --name "名前 $m" --affiliation "委託事業者A" --nationality "日本" \
		--unix-user "bga${m#M00}" >/dev/null
	"$CTL" staff edit $m --pledge-date 2026-11-01 --training-date 2026-11-02 >/dev/null
done
enroll M001 right-index f-M001
enroll M002 left-index f-M002
enroll M003 left-index f-M003
"$CTL" operator grant M001 OP-C1 --role counter >/dev/null
"$CTL" operator grant M001 OP-C2 --role counter >/dev/null
"$CTL" operator grant M002 OP-S2 --role supervisor >/dev/null
"$CTL" operator grant M003 OP-3 --role counter >/dev/null
# M004 leaves: revoked with M002 and M003 confirming.
finger "SCAN f-M002" "SCAN f-M003"
"$CTL" revoke M004 --reason departed --confirm-by M002 --confirm-by M003 >/dev/null 2>&1
check "M004 is revoked" sh -c "'$CTL' --json staff show M004 | jq -e '.state == \"revoked\"'"

# --- operator set-role and revoke: refusals --------------------------------------------------
ctl operator set-role M099 OP-C1 supervisor
exits "set-role: unknown matching ID" 5
ctl operator set-role M001 OP-XX supervisor
exits "set-role: an operator ID the person does not have" 5
ctl operator set-role M002 OP-C1 supervisor
exits "set-role: another person's operator ID" 5
ctl operator set-role M001 OP-C1 no-such-role
exits "set-role: a role the policy lacks" 8
ctl operator set-role M004 OP-C1 supervisor
exits "set-role: a revoked person" 6
ctl operator revoke M099 OP-C1
exits "operator revoke: unknown matching ID" 5
ctl operator revoke M001 OP-XX
exits "operator revoke: unknown operator ID" 5
ctl operator revoke M004 OP-C1
exits "operator revoke: a revoked person" 6
ctl operator revoke M001
exits "operator revoke without the operator ID: usage" 2
check "the refusals changed nothing" \
	sh -c "'$CTL' --json staff show M001 | jq -e '.operators == [{\"operator_id\":\"OP-C1\",\"role\":\"counter\"},{\"operator_id\":\"OP-C2\",\"role\":\"counter\"}]'"

# --- M001 logs in as OP-C1; inside the session, whoami runs every 0.1 s --------------------
cat >"$T/session.sh" <<EOF
echo \$\$ >"$T/shell.pid"
while [ ! -e "$T/stop" ]; do
	"$CTL" --json whoami >"$T/who.tmp" 2>/dev/null && mv "$T/who.tmp" "$T/who.json"
	if [ -e "$T/cmd" ]; then . "$T/cmd" >"$T/cmd.out" 2>&1; echo \$? >"$T/cmd.rc"; rm -f "$T/cmd"; fi
	sleep 0.1
done
EOF
finger "SCAN f-M001"
"$PAMRUN" --confdir "$T/pam.d" --service biogate-test --user bga1 --tty tty4 --answer OP-C1 \
	--acct --open-session --exec sh "$T/session.sh" >"$T/hold.out" 2>&1 &
HOLD=$!
for _ in $(seq 1 50); do in_session OP-C1 && [ -s "$T/who.json" ] && break; sleep 0.1; done
check "M001 is in a session as OP-C1" in_session OP-C1
check "whoami inside the session: role counter" jq -e '.role == "counter"' "$T/who.json"

# A command run inside the session is recorded with the session's person.
echo "'$CTL' staff edit M003 --expertise 'from the session'" >"$T/cmd"
for _ in $(seq 1 50); do [ -e "$T/cmd" ] || break; sleep 0.1; done
check "inside the session: staff edit ran" [ "$(cat "$T/cmd.rc" 2>/dev/null)" = 0 ]
check "the staff.edit record names the session's person (by_matching_id M001, OP-C1)" \
	sh -c "'$CTL' --json audit list --action staff.edit | jq -e 'last | .detail | fromjson | .by_matching_id == \"M001\" and .by_operator_id == \"OP-C1\" and .by_uid == 0'"

# A client inside the session that keeps one connection open across the role change.
cat >"$T/kept.py" <<'EOF'
import json, os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
def whoami():
    s.sendall(b'{"method":"io.biogate.WhoAmI","parameters":{}}\0')
    buf = b''
    while not buf.endswith(b'\0'):
        buf += s.recv(65536)
    return json.loads(buf[:-1])['parameters'].get('role')
roles = [whoami()]
open(sys.argv[2] + '.ready', 'w').close()
for _ in range(100):
    if os.path.exists(sys.argv[2]):
        break
    time.sleep(0.1)
roles.append(whoami())
print(json.dumps(roles))
EOF
echo "'$PY' '$T/kept.py' '$BIOGATE_SOCKET' '$T/go' >'$T/kept.json' &" >"$T/cmd"
for _ in $(seq 1 50); do [ -e "$T/go.ready" ] && break; sleep 0.1; done
ctl operator set-role M001 OP-C1 supervisor
exits "set-role OP-C1 supervisor" 0
touch "$T/go"
for _ in $(seq 1 50); do [ -s "$T/kept.json" ] && break; sleep 0.1; done
check "a connection kept open across set-role: counter, then supervisor" \
	grep -qx '\["counter", "supervisor"\]' "$T/kept.json"
check "set-role prints the change" grep -q "role counter -> supervisor" "$T/o"
sleep 0.5
check "the session stays open" in_session OP-C1
check "whoami inside the session: now supervisor" jq -e '.role == "supervisor"' "$T/who.json"
check "set-role is recorded with the old and the new role" \
	sh -c "'$CTL' --json audit list --action operator.set-role | jq -e 'length == 1 and .[0].operator_id == \"OP-C1\" and (.[0].detail | fromjson | .role == \"supervisor\" and .old_role == \"counter\")'"
check "staff show: OP-C1 is supervisor" \
	sh -c "'$CTL' --json staff show M001 | jq -e 'any(.operators[]; .operator_id == \"OP-C1\" and .role == \"supervisor\")'"

ctl operator revoke M001 OP-C2
exits "revoke OP-C2 (no session)" 0
check "revoking OP-C2 left OP-C1's session open" in_session OP-C1
ctl operator revoke M001 OP-C1
exits "revoke OP-C1" 0
ended=no
for step in $(seq 0 10); do
	if ! alive "$HOLD" && ! in_session OP-C1; then ended=yes; break; fi
	sleep 0.1
done
check "OP-C1's session ended within 1 s" [ "$ended" = yes ]
echo "  (ended after $step steps of 0.1 s)"
check "revoke prints one session ended" grep -q "sessions ended: 1" "$T/o"
wait "$HOLD" 2>/dev/null
HOLD=
check "operator.revoke is recorded with the sessions it ended" \
	sh -c "'$CTL' --json audit list --action operator.revoke | jq -e 'length == 2 and .[1].operator_id == \"OP-C1\" and (.[1].detail | fromjson | .sessions_ended == 1)'"
check "the session's end is recorded as operator-revoked" \
	sh -c "'$CTL' --json audit list --action session.end | jq -e 'any(.[]; .operator_id == \"OP-C1\" and .reason == \"operator-revoked\")'"
ctl operator revoke M001 OP-C1
exits "revoking OP-C1 again: not found" 5
ctl operator set-role M001 OP-C1 counter
exits "set-role of a revoked operator ID: not found" 5
ctl operator grant M001 OP-C1 --role counter
exits "a revoked operator ID is never granted again" 6
check "M001 has no operator ID left" sh -c "'$CTL' --json staff show M001 | jq -e '.operators == []'"
finger "SCAN f-M001"
login bga1 --acct
check "M001's next login: no operator ID" grep -q "no operator ID" "$T/out"

# --- fingers ---------------------------------------------------------------------------------
capture M001 right-index old
check "M001's right index template was captured" [ -s "$T/tpl-old.hex" ]
check "the captured template is found in the store files (the search works)" template_there old
ctl finger delete M001 right-index
exits "deleting the last finger: refused" 6
check "last finger: the message says why" grep -q "last enrolled finger" "$T/e"
ctl finger delete M099 right-index
exits "finger delete: unknown matching ID" 5
ctl finger delete M001 left-little
exits "finger delete: a finger not enrolled" 5
ctl finger delete M001 left-pinky
exits "finger delete: an unknown finger name" 2
ctl finger delete M004 right-index
exits "finger delete: a revoked person" 6
check "the refusals kept the template" template_there old

enroll M001 right-index f-M001-new
check "re-enrolled right index" \
	sh -c "'$CTL' --json staff show M001 | jq -e '.fingers == [\"right-index\"]'"
check "re-enrolling: not one piece of the old template in db, wal or shm" template_gone old
check "re-enrolling is recorded as a replacement with the WAL truncated" \
	sh -c "'$CTL' --json audit list --action enroll | jq -e 'last | .matching_id == \"M001\" and (.detail | fromjson | .replaced == true and .wal_truncated == true)'"
"$CTL" operator grant M001 OP-C3 --role counter >/dev/null
finger "SCAN f-M001-new"
ctl verify M001
exits "the new finger matches" 0
enroll M001 left-index f-M001-left
capture M001 right-index new
ctl finger delete M001 right-index
exits "finger delete M001 right-index (another is left)" 0
check "finger delete: not one piece of the template in db, wal or shm" template_gone new
check "finger.delete is recorded" \
	sh -c "'$CTL' --json audit list --action finger.delete | jq -e 'length == 1 and .[0].matching_id == \"M001\" and (.[0].detail | fromjson | .finger == \"right-index\" and .wal_truncated == true)'"
ctl finger delete M001 right-index
exits "deleting it again: not enrolled" 5
ctl finger delete M001 left-index --force
exits "the last finger with --force" 0
check "M001 has no finger left" sh -c "'$CTL' --json staff show M001 | jq -e '.fingers == []'"

# --- staff import ----------------------------------------------------------------------------
printf '照合ID,氏名,所属,国籍,誓約日\r\nM010,新人 一郎,委託事業者B,日本,2026/4/1\r\nM011,新人 二郎,委託事業者B,日本,\r\nM002,名前 M002,委託事業者Z,,\r\n' |
	iconv -f UTF-8 -t CP932 >"$T/roster.csv"
ctl staff import --dry-run "$T/roster.csv"
exits "staff import --dry-run (CP932, Japanese header)" 0
check "dry run: 2 to add, 1 to change" grep -q "2 to add, 1 to change" "$T/o"
check "dry run applied nothing" sh -c "! '$CTL' staff show M010 >/dev/null 2>&1"
ctl staff import "$T/roster.csv"
exits "staff import" 0
check "staff import: 2 added, 1 changed" grep -q "2 added, 1 changed" "$T/o"
check "M010 is on the roster with the pledge date" \
	sh -c "'$CTL' --json staff show M010 | jq -e '.name == \"新人 一郎\" and .pledge_date == \"2026-04-01\"'"
check "M002's affiliation changed" \
	sh -c "'$CTL' --json staff show M002 | jq -e '.affiliation == \"委託事業者Z\"'"
check "the roster history names the change and who made it" \
	sh -c "'$CTL' --json staff history M002 | jq -e 'any(.history[]; .field == \"affiliation\" and .new == \"委託事業者Z\" and (.actor // \"\" | test(\"uid 0\")))'"
check "one staff.import record with the counts, no names" \
	sh -c "'$CTL' --json audit list --action staff.import | jq -e 'length == 1 and (.[0].detail | fromjson | .rows == 3 and .added == 2 and .changed == 1) and (.[0].detail | test(\"新人\") | not)'"
ctl staff import "$T/roster.csv"
exits "the same file again" 0
check "the same file again: 0 added, 0 changed" grep -q "0 added, 0 changed" "$T/o"

printf 'matching_id,name,affiliation,nationality\nM012,新人 三郎,B社,日本\nM004,退職 者,B社,\n' >"$T/revoked.csv"
ctl staff import "$T/revoked.csv"
exits "a file naming a revoked person is refused" 6
check "revoked: the file and line are named" grep -q "revoked.csv:3:" "$T/e"
check "revoked: nothing of the file applied (M012 absent)" \
	sh -c "! '$CTL' staff show M012 >/dev/null 2>&1"
printf 'matching_id,name,affiliation\nM013,新人 四郎,B社\n' >"$T/nonat.csv"
ctl staff import "$T/nonat.csv"
exits "a new person without nationality is refused" 8
check "no nationality: the line and the parameter are named" \
	sh -c "grep -q 'nonat.csv:2:' '$T/e' && grep -q nationality '$T/e'"
printf 'matching_id,unix_user\nM002,other\n' >"$T/user.csv"
ctl staff import "$T/user.csv"
exits "a Unix user change is refused" 8
check "Unix user change: the line and the parameter are named" \
	sh -c "grep -q 'user.csv:2:' '$T/e' && grep -q unix_user '$T/e'"
printf 'matching_id,name,affiliation,nationality,unix_user\nM014,新人 五郎,B社,日本,bga2\n' >"$T/clash.csv"
ctl staff import "$T/clash.csv"
exits "a new person with another's Unix user is refused" 6
check "one staff.import record still (the refusals applied nothing)" \
	sh -c "'$CTL' --json audit list --action staff.import | jq -e 'length == 2'"
vcall io.biogate.ImportStaff '{"staff":[{"matching_id":"M015","name":"x","affiliation":"y","nationality":"z","pledge_date":"2026-13-01"}]}' >"$T/o"
check "ImportStaff: a bad date is refused naming the parameter and row" \
	jq -e '.error == "org.varlink.service.InvalidParameter" and .parameters.parameter == "pledge_date" and .parameters.row == 0' "$T/o"

# --- a night shift ---------------------------------------------------------------------------
month=$(date +%Y-%m)
printf '照合ID,日付,開始,終了\r\nM002,%s/%s/10,22:00,6:00\r\n' "${month%-*}" "${month#*-}" |
	iconv -f UTF-8 -t CP932 >"$T/night.csv"
ctl schedule import "$T/night.csv"
exits "a night shift is imported" 0
ctl --json schedule show --month "$month"
check "the night shift ends at 06:00 the next day" \
	jq -e ".shifts | length == 1 and .[0].start == \"22:00\" and .[0].end == \"06:00\" and .[0].date == \"$month-10\"" "$T/o"
vcall io.biogate.ImportSchedule "{\"month\":\"$month\",\"shifts\":[{\"matching_id\":\"M002\",\"date\":\"$month-10\",\"start\":\"09:00\",\"end\":\"09:00\"}]}" >"$T/o"
check "ImportSchedule: end = start is refused" \
	jq -e '.error == "org.varlink.service.InvalidParameter" and .parameters.parameter == "shifts"' "$T/o"

# --- lockout ---------------------------------------------------------------------------------
ctl staff locked
exits "staff locked with nobody locked" 0
check "staff locked: nobody" grep -q "Nobody is locked out" "$T/o"
for _ in 1 2 3; do finger "SCAN wrong"; "$CTL" verify M003 >/dev/null 2>&1; done
ctl --json staff locked
check "staff locked --json: M003 until a time" \
	jq -e '.locked | length == 1 and .[0].matching_id == "M003" and (.[0].locked_until | type) == "number"' "$T/o"
ctl staff locked
check "staff locked: a table with M003 and a date" grep -Eq "^M003 +20[0-9-]+ [0-9:]+" "$T/o"
ctl staff show M003
check "staff show M003: locked out until ..." grep -Eq "Locked out: +yes, until 20" "$T/o"
ctl staff show M002
check "staff show M002: not locked out" grep -Eq "Locked out: +no$" "$T/o"
"$CTL" staff unlock M003 >/dev/null
ctl staff locked
check "after unlock: nobody" grep -q "Nobody is locked out" "$T/o"

# --- who typed it: the login uid --------------------------------------------------------------
if sh -c 'echo 4242 >/proc/self/loginuid' 2>/dev/null; then
	sh -c "echo 4242 >/proc/self/loginuid && exec '$CTL' staff edit M003 --expertise 'as sudo does'" >/dev/null
	check "a root caller whose login uid is 4242: the record names both" \
		sh -c "'$CTL' --json audit list --action staff.edit | jq -e 'last | .detail | fromjson | .by_uid == 0 and .by_loginuid == 4242'"
	sh -c "echo 4242 >/proc/self/loginuid && exec '$CTL' audit list --action staff.import" >/dev/null
	check "an audit query by that caller is recorded with the login uid too" \
		sh -c "'$CTL' --json audit list --action audit.list | jq -e 'map(select(.detail | fromjson | .by_loginuid == 4242)) | length == 1'"
	check "the roster history names the login uid" \
		sh -c "'$CTL' --json staff history M003 | jq -e '.history | last | .actor == \"uid 0 (login uid 4242)\"'"
else
	echo "note: cannot set /proc/self/loginuid here (no CAP_AUDIT_CONTROL?): login uid checks skipped"
fi

# --- reload: a broken policy keeps the old one ------------------------------------------------
cp "$T/broken.conf.d/60-bad.conf" "$T/policy.conf.d/60-bad.conf"
kill -HUP "$DAEMON_PID"
sleep 0.5
check "after a broken reload the daemon answers" "$CTL" status
check "the failed reload is logged" grep -q "Policy reload failed; the policy in force stays: .*60-bad.conf:2:" "$T/daemon.log"
check "the failed reload is recorded" \
	sh -c "'$CTL' --json audit list --action policy.reload | jq -e 'length == 1 and .[0].outcome == \"fail\" and (.[0].detail | fromjson | .error | test(\"60-bad.conf:2:\"))'"
check "the old policy is still in force (set-role to supervisor works)" \
	"$CTL" operator set-role M002 OP-S2 counter
rm "$T/policy.conf.d/60-bad.conf"
printf '[roles]\nclerk = search\n' >"$T/policy.conf.d/70-clerk.conf"
kill -HUP "$DAEMON_PID"
sleep 0.5
check "a good reload is recorded" \
	sh -c "'$CTL' --json audit list --action policy.reload | jq -e 'length == 2 and .[1].outcome == \"ok\"'"
check "the new policy is in force (the new role exists)" \
	"$CTL" operator set-role M002 OP-S2 clerk

ctl audit verify
exits "the audit trail verifies" 0

it_done
