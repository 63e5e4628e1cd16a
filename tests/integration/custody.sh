#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Custody of people and their data, end to end (issue 5): biogated with its sensor on
# libfprint's virtual_device, pam_biogate.so in a real PAM stack, biogatectl as the admin.
#
# - revoke (R4) refuses one person and the same person twice, and a confirmer's wrong
#   finger, all without revoking; with two confirmers it erases the template so that none of
#   the bytes captured at enrollment remain in biogate.db, -wal or -shm, ends the person's
#   open session within a second, refuses their next login, and the roster history (R6)
#   names who did it;
# - nationality (R7) appears in no output, export or log line but the one read that states
#   a purpose, which is recorded;
# - disposal (R16) cannot execute early or unapproved; once executed no roster name and no
#   template is left in the store files, the audit trail still verifies, and the report is
#   a document and JSON.
#
# A finger is a `SCAN id` queued on the virtual reader before the call; each verification
# consumes one, in order. Root outside a session counts as nobody: two-person actions name
# two confirmers (--confirm-by).
#
# usage: custody.sh BIOGATED SENSOR BIOGATECTL PAM_MODULE PAMRUN VDEVCTL
set -u
BIOGATED=$1 SENSOR=$2 CTL=$3 MODULE=$4 PAMRUN=$5 VDEVCTL=$6
PY=/usr/bin/python3

[ -x "$PY" ] && "$PY" -c 'import sqlite3' 2>/dev/null ||
	{ echo "SKIP: $PY with the sqlite3 module is needed to read the enrolled templates"; exit 77; }
. "$(dirname "$0")/lib.sh"
it_init custody
HOLD=
it_cleanup() {
	[ -n "$HOLD" ] && kill "$HOLD" 2>/dev/null
	# The session's shell outlives pamrun when pamrun is signalled: end it by its pid.
	[ -s "$T/shell.pid" ] && kill "$(cat "$T/shell.pid")" 2>/dev/null
}
export LC_ALL=C.UTF-8 LANGUAGE=en
NAT2=NAURU-7731-NAT # M002's nationality: distinctive, so that any leak is found
NAMES=("山田 太郎テスト" "SATO-DISPOSAL-NAME" "鈴木 一郎テスト" "TANAKA-DISPOSAL-NAME")
ctl() { # ctl ARGS...: stdout in $T/o, stderr in $T/e, exit code in $rc
	"$CTL" "$@" >"$T/o" 2>"$T/e"
	rc=$?
}
exits() { # exits DESCRIPTION CODE: the last ctl's exit code
	if [ "$rc" = "$2" ]; then ok "$1 (exit $rc)"; else
		bad "$1: exit $rc, wanted $2"; sed 's/^/  stderr: /' "$T/e"; fi
}
it_policy <<EOF
[login]
require-shift = no
EOF
LOGIN_TTY=tty3
pam_service biogate-test

alive() { [ -e "/proc/$1" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null; }
in_session() { "$CTL" --json sessions | jq -e "any(.sessions[]; .matching_id == \"$1\")" >/dev/null; }

# Where the bytes of a captured template are in the store files: "WHOLE PIECES FOUND", the
# whole template found in some file (0/1), and how many of its 32-byte pieces are found in
# any (a template larger than a page spans overflow pages, so the pieces are what counts).
template_seen() { # template_seen MATCHING_ID
	"$PY" - "$T/tpl-$1.hex" "$STATE" <<'EOF'
import glob, sys
tpl = bytes.fromhex(open(sys.argv[1]).read())
data = [open(f, "rb").read() for f in glob.glob(sys.argv[2] + "/biogate.db*")]
pieces = [tpl[i:i + 32] for i in range(0, len(tpl) - 31, 32)]
found = sum(1 for p in pieces if any(p in d for d in data))
print(int(any(tpl in d for d in data)), len(pieces), found)
EOF
}
template_gone() { [ "$(template_seen "$1" | cut -d' ' -f1,3)" = "0 0" ]; }
template_there() { # the whole template, or at least half its pieces
	set -- $(template_seen "$1")
	[ "$1" = 1 ] || [ "$3" -ge $(($2 / 2)) ]
}
store_has() { # store_has TEXT: TEXT (UTF-8) is in biogate.db, -wal or -shm
	"$PY" - "$STATE" "$1" <<'EOF'
import glob, sys
needle = sys.argv[2].encode()
sys.exit(0 if any(needle in open(f, "rb").read() for f in glob.glob(sys.argv[1] + "/biogate.db*")) else 1)
EOF
}
store_lacks() { ! store_has "$1"; }
store_files_listed() { ls "$STATE"/biogate.db* | tr '\n' ' '; }

start_daemon || exit 1

# --- the roster: four people, enrolled and granted -------------------------------------------
i=0
for m in M001 M002 M003 M004; do
	nat="日本"; [ $m = M002 ] && nat=$NAT2
	"$CTL" staff add $m --name "${NAMES[$i]}" --affiliation "委託事業者C" --nationality "$nat" \
		--unix-user "bgc${m#M00}" >/dev/null
	"$CTL" staff edit $m --pledge-date 2026-11-01 --training-date 2026-11-02 >/dev/null
	# Enrollment is two-person once two people could confirm (issue 14): M001 and M002
	# confirm M003's and M004's.
	confirm=
	case $m in M003 | M004)
		confirm="--confirm-by M001 --confirm-by M002"
		finger "SCAN f-M001" "SCAN f-M002" ;;
	esac
	finger "SCAN f-$m" "SCAN f-$m" "SCAN f-$m" "SCAN f-$m" "SCAN f-$m"
	# One more touch per person enrolled before ($i): the new finger is compared with each.
	for _ in $(seq 1 $i); do finger "SCAN f-$m"; done
	# shellcheck disable=SC2086
	"$CTL" enroll $m --finger right-index $confirm >/dev/null 2>&1
	"$CTL" operator grant $m "OP-$m" --role counter >/dev/null
	i=$((i + 1))
done
check "four people on the roster, each with one finger" \
	sh -c "'$CTL' --json staff list | jq -e '.staff | length == 4 and all(.[]; (.fingers | length) == 1)'"

# The sealed templates as stored at enrollment, read with the daemon stopped (it holds the
# database exclusively), from a copy so that the state directory is not touched.
stop_daemon
cp "$STATE/biogate.db" "$T/copy.db"
"$PY" - "$T/copy.db" "$T" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for mid, tpl in db.execute("SELECT matching_id, template FROM fingers"):
    open(f"{sys.argv[2]}/tpl-{mid}.hex", "w").write(tpl.hex())
EOF
rm -f "$T"/copy.db*
check "the four sealed templates were captured" \
	sh -c "for m in M001 M002 M003 M004; do [ -s '$T'/tpl-\$m.hex ] || exit 1; done"
echo "  (M001's template: whole found, 32-byte pieces, pieces found: $(template_seen M001))"
check "the captured template is found in the store files (the search works)" template_there M001
start_daemon || exit 1

# --- M001 logs in and keeps the session open --------------------------------------------------
finger "SCAN f-M001"
"$PAMRUN" --confdir "$T/pam.d" --service biogate-test --user bgc1 --tty tty3 --acct \
	--open-session --exec sh -c "echo \$\$ >'$T/shell.pid'; exec sleep 60" >"$T/hold.out" 2>&1 &
HOLD=$!
for _ in $(seq 1 50); do in_session M001 && break; sleep 0.1; done
check "M001 is in a session" in_session M001

# --- revoke: refused without two different people ---------------------------------------------
ctl revoke M001 --reason departed --confirm-by M002
exits "revoke with one confirmer (root is nobody)" 4
check "one confirmer: the message asks for a second person" grep -q "second person" "$T/e"
ctl --json revoke M001 --reason departed --confirm-by M002
check "one confirmer, --json: the error name" jq -e '.error == "io.biogate.NotPermitted"' "$T/o"
ctl revoke M001 --reason departed --confirm-by M002 --confirm-by M002
exits "revoke with the same confirmer twice" 4
check "same person twice: the message says so" grep -q "cannot confirm twice" "$T/e"
ctl revoke M001 --reason departed --confirm-by M002 --confirm-by M003 --confirm-by M004
exits "three --confirm-by: usage error" 2
ctl revoke M001 --reason fired --confirm-by M002 --confirm-by M003
exits "an unknown reason: usage error" 2
check "the refusals are recorded" \
	sh -c "'$CTL' --json audit list --action two-person.confirm --outcome deny | jq -e '[.[].reason] == [\"second-person-required\", \"second-person-required\", \"same-person\"]'"

finger "SCAN f-M002" "SCAN wrong-finger"
ctl revoke M001 --reason departed --confirm-by M002 --confirm-by M003
exits "a confirmer's wrong finger: no match" 1
check "wrong finger: both confirmers were prompted" \
	sh -c "grep -qx 'M002: place your finger on the reader' '$T/e' && grep -qx 'M003: place your finger on the reader' '$T/e'"
check "wrong finger: M001 is still active with a finger" \
	sh -c "'$CTL' --json staff show M001 | jq -e '.state == \"active\" and (.fingers | length) == 1'"
check "wrong finger: M001 is still in the session" in_session M001
check "wrong finger: the failed confirmation is recorded" \
	sh -c "'$CTL' --json audit list --action two-person.confirm --outcome fail | jq -e 'length == 1 and .[0].matching_id == \"M003\" and .[0].reason == \"no-match\"'"
check "wrong finger: the template is still stored" template_there M001

# --- revoke with two confirmers ---------------------------------------------------------------
finger "SCAN f-M002" "SCAN f-M003"
ctl revoke M001 --reason departed --confirm-by M002 --confirm-by M003
exits "revoke with M002 and M003" 0
ended=no
for step in $(seq 0 10); do
	if ! alive "$HOLD" && ! in_session M001; then ended=yes; break; fi
	sleep 0.1
done
check "the prompts, in order, on stderr" \
	sh -c "[ \"\$(grep 'place your finger' '$T/e')\" = 'M002: place your finger on the reader
M003: place your finger on the reader' ]"
check "revoke prints one template erased" grep -Eq '^Templates erased: +1$' "$T/o"
check "revoke prints one session ended" grep -Eq '^Sessions ended: +1$' "$T/o"
check "M001's session ended within 1 s (pamrun gone, not listed)" [ "$ended" = yes ]
echo "  (ended after $step steps of 0.1 s)"
wait "$HOLD" 2>/dev/null
HOLD=
check "the held login had opened its session" grep -q "open=PAM_SUCCESS" "$T/hold.out"
check "M001 is revoked with no finger" \
	sh -c "'$CTL' --json staff show M001 | jq -e '.state == \"revoked\" and (.fingers | length) == 0'"
ls "$STATE"/biogate.db* >"$T/files"
# Exclusive locking from the first statement keeps the WAL index in the daemon's memory: no
# -shm file exists for a template to linger in (template_gone reads whatever biogate.db* is).
check "the store files exist (db, wal) and no -shm: $(store_files_listed)" \
	sh -c "grep -q 'biogate.db\$' '$T/files' && grep -q 'biogate.db-wal\$' '$T/files' && ! grep -q 'biogate.db-shm\$' '$T/files'"
check "while the daemon runs: not one piece of M001's template in db, wal or shm" template_gone M001
check "while the daemon runs: M002's template is still there (the search works)" template_there M002
check "the revocation is recorded naming both confirmers" \
	sh -c "'$CTL' --json audit list --action staff.revoke | jq -e 'length == 1 and .[0].matching_id == \"M001\" and .[0].reason == \"departed\" and (.[0].detail | fromjson | .confirmed_by == [\"M002\", \"M003\"] and .templates_erased == 1)'"
ctl revoke M001 --reason departed --confirm-by M002 --confirm-by M003
exits "revoking again: already revoked" 6

finger "SCAN f-M001"
login bgc1
check "M001's next login: PAM_AUTH_ERR" [ "$(result auth)" = PAM_AUTH_ERR ]
check "M001's next login: the message says revoked" grep -q "authorization has been revoked" "$T/out"

ctl staff history M001
exits "staff history M001" 0
check "history: header" grep -Eq '^TIME +BY +FIELD +CHANGE$' "$T/o"
check "history: registered" grep -q "registered" "$T/o"
check "history: state active → revoked by uid 0 + M002 + M003" \
	grep -Eq 'uid 0 \+ M002 \+ M003 +state +active → revoked$' "$T/o"
check "history: the pledge date as a date" grep -q "pledge date *- → 2026-11-01" "$T/o"
ctl --json staff history M001
check "history --json: created, and the state change with its actor" \
	jq -e '(.history[0].field == "created") and any(.history[]; .field == "state" and .old == "active" and .new == "revoked" and (.actor | test("uid 0")) and (.actor | test("M002")) and (.actor | test("M003")))' "$T/o"
ctl staff history M999
exits "history of someone not on the roster" 5

stop_daemon
check "after the daemon stopped: not one piece of M001's template in the store files" template_gone M001
start_daemon || exit 1

# --- nationality (R7) -------------------------------------------------------------------------
ctl staff nationality M002 --purpose "leak trace #1" --confirm-by M003 --confirm-by M001
exits "a revoked confirmer: refused" 6
check "a revoked confirmer is named" grep -q "M001: this person's authorization has been revoked" "$T/e"
ctl staff nationality M002 --purpose "abc" --confirm-by M003 --confirm-by M004
exits "a purpose under 4 characters: usage error" 2
ctl staff nationality M002 --purpose "  ab  " --confirm-by M003 --confirm-by M004
exits "a purpose of blanks around 2 characters: usage error" 2
ctl staff nationality M002 --confirm-by M003 --confirm-by M004
exits "no purpose: usage error" 2
finger "SCAN f-M003" "SCAN f-M004"
ctl staff nationality M002 --purpose "leak trace #1" --confirm-by M003 --confirm-by M004
exits "nationality read by M003 and M004" 0
check "the nationality is printed" grep -Eq "^Nationality: +$NAT2\$" "$T/o"
finger "SCAN f-M003" "SCAN f-M004"
ctl --json staff nationality M002 --purpose "leak trace #2" --confirm-by M003 --confirm-by M004
check "--json: exactly {matching_id, nationality}" \
	jq -e "(keys == [\"matching_id\", \"nationality\"]) and .matching_id == \"M002\" and .nationality == \"$NAT2\"" "$T/o"
ctl --json audit list --action staff.nationality-read
check "both reads are recorded with their purpose and confirmers" \
	jq -e 'length == 2 and (map(.detail | fromjson | .purpose) == ["leak trace #1", "leak trace #2"]) and all(.[]; .matching_id == "M002" and (.detail | fromjson | .confirmed_by == ["M003", "M004"]))' "$T/o"
check "the records of the reads do not hold the nationality" sh -c "! grep -q '$NAT2' '$T/o'"

"$CTL" staff show M002 >"$T/n1" 2>&1
"$CTL" --json staff show M002 >"$T/n2" 2>&1
"$CTL" --json staff list >"$T/n3" 2>&1
"$CTL" staff list >"$T/n4" 2>&1
"$CTL" --json staff history M002 >"$T/n5" 2>&1
check "staff show / list / history hold M002's details" grep -q "SATO-DISPOSAL-NAME" "$T/n1" "$T/n2" "$T/n3"
check "staff show, list (both forms) and history never hold the nationality" \
	sh -c "! grep -q '$NAT2' '$T/n1' '$T/n2' '$T/n3' '$T/n4' '$T/n5'"
finger "SCAN f-M003" "SCAN f-M004"
ctl audit export --format jsonl --output "$T/all.jsonl" --confirm-by M003 --confirm-by M004
exits "audit export jsonl (two confirmers)" 0
finger "SCAN f-M003" "SCAN f-M004"
ctl audit export --format csv --confirm-by M003 --confirm-by M004
exits "audit export csv (two confirmers)" 0
cp "$T/o" "$T/all.csv"
check "the exports hold the nationality reads" \
	sh -c "grep -q 'leak trace #1' '$T/all.jsonl' && grep -q 'leak trace #1' '$T/all.csv'"
check "the exports never hold the nationality" sh -c "! grep -q '$NAT2' '$T/all.jsonl' '$T/all.csv'"
check "the daemon log never holds the nationality" sh -c "! grep -q '$NAT2' '$T/daemon.log'"

# --- disposal (R16) -------------------------------------------------------------------------
ITEMS="templates and roster (指紋・名簿)"
plan() { # plan DATE: the new disposal's number in $D
	ctl --json disposal plan --items "$ITEMS" --media "terminal SSD, state directory" \
		--count 4 --method "SQLite secure_delete, VACUUM, WAL truncate" --date "$1"
	D=$(jq -r '.disposal_id // empty' "$T/o")
}
plan "$(date -d tomorrow +%F)"
exits "plan a disposal for tomorrow" 0
D1=$D
check "the plan is planned, with its date" \
	jq -e ".state == \"planned\" and .planned_date == \"$(date -d tomorrow +%F)\" and .count == 4" "$T/o"
ctl disposal plan --items x --media y --count 4 --method z --date 2026-02-30
exits "plan with an impossible date: usage error" 2
ctl disposal plan --items x --media y --count -1 --method z --date 2026-12-01
exits "plan with a negative count: usage error" 2
ctl disposal plan --media y --count 1 --method z --date 2026-12-01
exits "plan without --items: usage error" 2
ctl disposal approve "$D1" --confirm-by M003
exits "approve with one confirmer" 4
finger "SCAN f-M003" "SCAN f-M004"
ctl disposal approve "$D1" --confirm-by M003 --confirm-by M004
exits "approve the plan for tomorrow (M003 + M004)" 0
check "approve: the prompts on stderr" grep -qx "M004: place your finger on the reader" "$T/e"
check "approve: approved, by uid 0 + M003 + M004" \
	sh -c "'$CTL' --json disposal report $D1 | jq -e '.state == \"approved\" and .approved_by == \"uid 0 + M003 + M004\"'"
finger "SCAN f-M003" "SCAN f-M004"
ctl disposal approve "$D1" --confirm-by M003 --confirm-by M004
exits "approve again" 4
check "approve again: not awaiting approval" grep -q "no longer awaiting approval" "$T/e"
ctl disposal execute "$D1"
exits "execute before the planned date" 4
check "execute early: the message names the planned date" grep -q "planned date of this disposal has not come" "$T/e"
check "execute early: refused as before-planned-date in the trail" \
	sh -c "'$CTL' --json audit list --action disposal.execute | jq -e 'length == 1 and .[0].outcome == \"deny\" and .[0].reason == \"before-planned-date\"'"

plan "$(date +%F)"
D2=$D
ctl disposal execute "$D2"
exits "execute a plan for today before approval" 4
check "execute unapproved: the message says not approved" grep -q "has not been approved" "$T/e"
ctl disposal execute 999
exits "execute an unknown disposal" 5
ctl disposal execute 0
exits "disposal number 0: usage error" 2
check "before execution: M002's name is in the store files (the search works)" \
	store_has "SATO-DISPOSAL-NAME"
check "before execution: M001's name is still there (revoking keeps the roster entry)" \
	store_has "山田 太郎テスト"
finger "SCAN f-M003" "SCAN f-M004"
ctl disposal approve "$D2" --confirm-by M003 --confirm-by M004
exits "approve the plan for today" 0
ctl disposal execute "$D2"
exits "execute the approved plan for today" 0
check "execute: prints executed" grep -Eq "^State: +executed$" "$T/o"
check "execute: three templates erased (M002, M003, M004)" grep -Eq "^Erased: +.*fingerprint templates 3" "$T/o"

for n in "${NAMES[@]}" "$NAT2"; do
	check "after execution: '$n' is in none of $(store_files_listed)" store_lacks "$n"
done
for m in M002 M003 M004; do
	check "after execution: not one piece of $m's template in the store files" template_gone $m
done
check "after execution: the roster keeps the matching IDs, revoked, with no name" \
	sh -c "'$CTL' --json staff list | jq -e '.staff | length == 4 and all(.[]; .state == \"revoked\" and .name == \"\" and (.fingers | length) == 0)'"
ctl audit verify
exits "the audit trail still verifies" 0

ctl disposal report "$D2" --format html --output "$T/report.html"
exits "report as html to a new file" 0
check "report file: mode 0600" [ "$(stat -c %a "$T/report.html")" = 600 ]
check "report: an HTML document" grep -q '^<!DOCTYPE html>' "$T/report.html"
check "report: the disposal's items" grep -qF "$ITEMS" "$T/report.html"
check "report: executed" grep -q ">executed<" "$T/report.html"
check "report: who executed it and who approved it" \
	sh -c "grep -q 'uid 0 + M003 + M004' '$T/report.html' && grep -q '実施者 (Executed by)' '$T/report.html'"
ctl disposal report "$D2" --format html --output "$T/report.html"
exits "report to an existing file: refused" 6
check "the existing report is untouched" grep -q '^<!DOCTYPE html>' "$T/report.html"
ctl disposal report "$D2" --output "$T/r2.html"
exits "report --output without --format: usage error" 2
ctl disposal report "$D2" --format pdf
exits "report --format pdf: usage error" 2
ctl disposal report "$D2" --format json
exits "report as json" 0
check "report json: executed, with what was erased" \
	jq -e ".disposal_id == $D2 and .state == \"executed\" and .items == \"$ITEMS\" and .result.templates == 3 and .executed_at > 0" "$T/o"
ctl disposal report "$D2" --format json --output "$T/report.json"
exits "report as json to a new file" 0
check "report json file parses with state executed" jq -e '.state == "executed"' "$T/report.json"
ctl disposal report "$D2"
check "report for a person: executed and the items" \
	sh -c "grep -Eq '^State: +executed$' '$T/o' && grep -qF '$ITEMS' '$T/o'"
LANGUAGE=ja "$CTL" disposal report "$D2" >"$T/o.ja" 2>&1
check "report for a person, in Japanese" grep -Eq '^状態: +実施済み$' "$T/o.ja"

stop_daemon
for n in "${NAMES[@]}" "$NAT2"; do
	check "stopped: '$n' is in none of the store files" store_lacks "$n"
done
for m in M001 M002 M003 M004; do
	check "stopped: not one piece of $m's template in the store files" template_gone $m
done
check "the daemon log never holds the nationality or a name" \
	sh -c "! grep -q -e '$NAT2' -e 'SATO-DISPOSAL-NAME' -e 'TANAKA-DISPOSAL-NAME' '$T/daemon.log'"

it_done
