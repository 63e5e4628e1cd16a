#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The audit trail end to end (issue 6, item 2): biogated with its sensor on libfprint's
# virtual_device, a login through pam_biogate.so in a real PAM stack, and biogatectl as the
# auditor. What the operator did is listed with the right outcomes and reasons; whether a
# number was searched is answered from its HMAC alone; the exports parse and never hold the
# raw number; an export needs two people's fingers (the default policy lists audit-export
# under [two-person], and root outside a session names both confirmers); and each kind of
# tampering with audit.db (done as an attacker would, with the daemon stopped and the
# append-only triggers dropped) is named by `audit verify` at the right record, while the
# daemon keeps serving.
#
# The seals (issue 13): the public key list exported, a sealed export checked offline by
# biogate-audit-verify with that list alone, and an edited copy named at its record.
#
# usage: audit.sh BIOGATED SENSOR BIOGATECTL PAM_MODULE PAMRUN VDEVCTL AUDIT_VERIFY
set -u
BIOGATED=$1 SENSOR=$2 CTL=$3 MODULE=$4 PAMRUN=$5 VDEVCTL=$6 AVERIFY=$7
PY=/usr/bin/python3

[ -x "$PY" ] && "$PY" -c 'import sqlite3, csv' 2>/dev/null ||
	{ echo "SKIP: $PY with the sqlite3 module is needed to tamper with the log"; exit 77; }
. "$(dirname "$0")/lib.sh"
it_init audit
export LC_ALL=C.UTF-8 LANGUAGE=en
KEY=123456789018 RRC=12345678901
it_policy <<EOF
[login]
require-shift = no
EOF
LOGIN_TTY=tty3
pam_service biogate-test

start_daemon || exit 1

"$CTL" staff add M001 --name "山田 太郎" --affiliation "委託事業者A" --nationality "日本" \
	--unix-user bga1 >/dev/null
"$CTL" staff edit M001 --pledge-date 2026-11-01 --training-date 2026-11-02 >/dev/null
finger "SCAN f-m001" "SCAN f-m001" "SCAN f-m001" "SCAN f-m001" "SCAN f-m001"
"$CTL" enroll M001 --finger right-index >/dev/null 2>&1
"$CTL" operator grant M001 OP-C1 --role counter >/dev/null
# A second person, so that an export can be confirmed by two.
"$CTL" staff add M002 --name "佐藤 花子" --affiliation "委託事業者A" --nationality "日本" \
	--unix-user bga2 >/dev/null
# The sixth touch compares the new finger with M001's (issue 14: one finger, one matching ID).
finger "SCAN f-m002" "SCAN f-m002" "SCAN f-m002" "SCAN f-m002" "SCAN f-m002" "SCAN f-m002"
"$CTL" enroll M002 --finger left-index >/dev/null 2>&1
# A confirmer is someone who could log in: an operator ID, the pledge and the training.
"$CTL" staff edit M002 --pledge-date 2026-11-01 --training-date 2026-11-02 >/dev/null
"$CTL" operator grant M002 OP-C2 --role counter >/dev/null
CONFIRM="--confirm-by M001 --confirm-by M002"
confirmers() { finger "SCAN f-m001" "SCAN f-m002"; } # their fingers, in the order named

# --- an operator searches once by individual number and once by resident record code -----
cat >"$T/operator.sh" <<EOF
#!/bin/sh
"$CTL" authorize search --key $KEY >/dev/null 2>&1; echo "valid=\$?" >"$T/decisions"
"$CTL" authorize search --key $RRC >/dev/null 2>&1; echo "resident=\$?" >>"$T/decisions"
EOF
chmod +x "$T/operator.sh"
finger "SCAN f-m001"
login bga1 --acct --open-session --exec "$T/operator.sh"
check "login and session: PAM_SUCCESS" [ "$(result auth)/$(result open)" = PAM_SUCCESS/PAM_SUCCESS ]
check "the operator's two decisions: allow, deny" \
	[ "$(tr '\n' ' ' <"$T/decisions")" = "valid=0 resident=1 " ]

# --- verify, list ---------------------------------------------------------------------------
"$CTL" audit verify >"$T/verify" 2>&1
check "audit verify on an intact trail: exit 0" [ $? = 0 ]
check "audit verify says ok" grep -qx ok "$T/verify"
"$CTL" --json audit verify >"$T/verify.json"
check "audit verify --json: ok, no bad record" \
	jq -e '.ok == true and .problem == "ok" and .first_bad_seq == 0 and .records > 5' "$T/verify.json"

"$CTL" --json audit list --matching-id M001 >"$T/m001.json"
check "audit list --matching-id M001: exit 0" [ $? = 0 ]
has() { jq -e "any(.[]; $1)" "$T/m001.json" >/dev/null; }
check "list: the login (verify ok, match)" \
	has '.action == "verify" and .outcome == "ok" and .reason == "match"'
check "list: the session open as OP-C1" \
	has '.action == "session.open" and .outcome == "ok" and .operator_id == "OP-C1"'
check "list: the valid search allowed" \
	has '.action == "authorize.search" and .outcome == "allow" and .reason == "allowed" and .operator_id == "OP-C1"'
check "list: the resident record code a violation" \
	has '.action == "authorize.search" and .outcome == "violation" and .reason == "key-resident-record-code"'
check "list: only M001's records" jq -e 'all(.[]; .matching_id == "M001")' "$T/m001.json"
check "list: oldest first" jq -e '[.[].seq] == ([.[].seq] | sort)' "$T/m001.json"
"$CTL" audit list --matching-id M001 --action authorize.search >"$T/table"
check "list table: header and both searches" \
	sh -c "grep -q 'SEQ' '$T/table' && [ \$(grep -c 'authorize.search' '$T/table') = 2 ]"
check "list --outcome violation finds one record" \
	sh -c "'$CTL' --json audit list --outcome violation | jq -e 'length == 1' >/dev/null"
check "list --limit 2 returns 2 and says more may match" \
	sh -c "'$CTL' --json audit list --limit 2 2>'$T/more' | jq -e 'length == 2' >/dev/null && grep -q 'more records' '$T/more'"
check "list --since tomorrow is empty" \
	sh -c "'$CTL' --json audit list --since $(date -d tomorrow +%F) | jq -e 'length == 0' >/dev/null"
"$CTL" audit list --since 2026-02-30 >/dev/null 2>&1
check "list --since with an impossible date: exit 2" [ $? = 2 ]
"$CTL" audit list --limit 1001 >/dev/null 2>&1
check "list --limit 1001: exit 2" [ $? = 2 ]

# --- whether a number was searched, from its HMAC -----------------------------------------
"$CTL" audit search-key $KEY >"$T/sk" 2>&1
check "search-key of the searched number: exit 0" [ $? = 0 ]
check "search-key: says searched, by OP-C1" sh -c "grep -qx searched '$T/sk' && grep -q OP-C1 '$T/sk'"
check "search-key: never echoes the number" sh -c "! grep -q $KEY '$T/sk'"
"$CTL" --json audit search-key "1234 5678 9018" >"$T/sk.json"
check "search-key normalizes spaces: one allowed search by OP-C1 as M001" \
	jq -e '.searched and (.records | length == 1) and .records[0].operator_id == "OP-C1" and .records[0].matching_id == "M001" and .records[0].outcome == "allow" and .records[0].time > 0' "$T/sk.json"
check "search-key --json holds no number or HMAC" sh -c "! grep -q -e $KEY -e key_hmac '$T/sk.json'"
"$CTL" audit search-key 999999999999 >"$T/sk2" 2>&1
check "search-key of a number never searched: exit 1" [ $? = 1 ]
check "search-key: says not searched" grep -qx "not searched" "$T/sk2"
echo $RRC | "$CTL" --json audit search-key - >"$T/sk3.json"
check "search-key - (stdin) finds the resident-record-code violation" \
	jq -e '.searched and .key_class == "resident-record-code" and .records[0].outcome == "violation"' "$T/sk3.json"
check "the lookups are recorded with the HMAC only" \
	sh -c "'$CTL' --json audit list --action audit.search-key | jq -e 'length == 4 and all(.[]; .key_hmac != null and (.key_hmac | length) == 64)' >/dev/null"
check "an earlier lookup is not a search" \
	sh -c "'$CTL' --json audit search-key 999999999999 | jq -e '.searched == false and .earlier_lookups == 1' >/dev/null"

# --- exports ----------------------------------------------------------------------------------
"$CTL" audit export --format jsonl --output "$T/x1.jsonl" >/dev/null 2>"$T/x1.err"
rc=$?
check "export without confirmers: refused (exit 4)" [ $rc = 4 ]
check "export without confirmers: the message asks for a second person, no file left" \
	sh -c "grep -q 'second person' '$T/x1.err' && [ ! -e '$T/x1.jsonl' ]"
confirmers
"$CTL" --json audit export --format jsonl --output "$T/x.jsonl" $CONFIRM >"$T/xj.json" 2>"$T/xj.err"
check "export jsonl: exit 0" [ $? = 0 ]
check "export jsonl: each confirmer was prompted, in order" \
	sh -c "[ \"\$(grep -c 'place your finger' '$T/xj.err')\" = 2 ] && grep -q '^M001: place' '$T/xj.err' && grep -q '^M002: place' '$T/xj.err'"
check "export jsonl: file mode 0600" [ "$(stat -c %a "$T/x.jsonl")" = 600 ]
check "export jsonl: every line is a JSON object" jq -e -s 'all(.[]; type == "object" and has("seq") and has("key_hmac"))' "$T/x.jsonl"
check "export jsonl: lines == records" [ "$(wc -l <"$T/x.jsonl")" = "$(jq .records "$T/xj.json")" ]
"$CTL" audit export --format jsonl --output "$T/x.jsonl" 2>/dev/null
check "export to an existing file: refused (exit 6)" [ $? = 6 ]
confirmers
"$CTL" audit export --format csv $CONFIRM >"$T/x.csv" 2>"$T/x.err"
check "export csv to stdout: exit 0" [ $? = 0 ]
n_csv=$("$PY" -c 'import csv,sys
rows=list(csv.reader(open(sys.argv[1], newline="")))
assert rows[0][:2] == ["seq","time"] and all(len(r) == 10 for r in rows), rows[0]
print(len(rows) - 1)' "$T/x.csv")
check "export csv parses (10 columns, header)" [ -n "$n_csv" ]
check "export csv: rows == records reported" grep -q "exported $n_csv audit records" "$T/x.err"
confirmers
check "export csv --matching-id M001 holds only M001's rows" \
	sh -c "'$CTL' audit export --format csv --matching-id M001 $CONFIRM 2>/dev/null | tail -n +2 | cut -d, -f4 | sort -u | grep -qx M001"
check "the exports are recorded naming both confirmers" \
	sh -c "'$CTL' --json audit list --action audit.export | jq -e 'length == 3 and all(.[]; .detail | fromjson | .confirmed_by == [\"M001\", \"M002\"])' >/dev/null"
check "no raw number in the exports" sh -c "! grep -q -e $KEY -e $RRC '$T/x.jsonl' '$T/x.csv'"
"$CTL" audit export --format xml >/dev/null 2>&1
check "export --format xml: exit 2" [ $? = 2 ]

stop_daemon
check "no raw number in the state files or the daemon log" \
	sh -c "! grep -rqa -e $KEY -e $RRC '$T/state' '$T/daemon.log'"

# --- tampering ------------------------------------------------------------------------------
cp "$T/state/audit.db" "$T/audit.db.orig"
# The store keeps the trail's newest committed record (anchor.c): an old copy of the trail
# alone is refused at start, so each case goes back to both files as they were together.
cp "$T/state/biogate.db" "$T/biogate.db.orig"
check "the stopped daemon left no WAL behind (the copy is the whole log)" \
	[ ! -s "$T/state/audit.db-wal" ]
tamper() { # tamper PYTHON-STATEMENTS: as an attacker with the file, triggers dropped
	"$PY" - "$T/state/audit.db" "$1" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("DROP TRIGGER IF EXISTS records_no_update")
db.execute("DROP TRIGGER IF EXISTS records_no_delete")
exec(sys.argv[2])
db.commit()
db.close()
EOF
}
restore() {
	rm -f "$T/state/audit.db-wal" "$T/state/audit.db-shm" "$T/state/biogate.db-wal" "$T/state/biogate.db-shm"
	cp "$T/audit.db.orig" "$T/state/audit.db"
	cp "$T/biogate.db.orig" "$T/state/biogate.db"
}
seq_of() { "$PY" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$T/audit.db.orig" "$1"; }
check "a stopped daemon's newest record is its stop (daemon.stop)" \
	[ "$(seq_of "SELECT action FROM records ORDER BY seq DESC LIMIT 1")" = daemon.stop ]
verify_json() { "$CTL" --json audit verify >"$T/v.json"; echo $? >"$T/v.rc"; }
broken_at() { # broken_at CASE PROBLEM SEQ
	check "$1: audit verify exits 1" [ "$(cat "$T/v.rc")" = 1 ]
	check "$1: $2 at record $3" jq -e ".ok == false and .problem == \"$2\" and .first_bad_seq == $3" "$T/v.json"
}
still_serving() { # the daemon answers and records after a failed verification
	check "$1: the daemon still answers" sh -c "'$CTL' --json status | jq -e '.staff == 2' >/dev/null"
	check "$1: the failed verification is recorded with its problem" \
		sh -c "'$CTL' --json audit list --action audit.verify --outcome fail | jq -e 'length >= 1 and all(.[]; .reason == \"$2\")' >/dev/null"
}

ALLOW=$(seq_of "SELECT seq FROM records WHERE action='authorize.search' AND outcome='allow'")
SOPEN=$(seq_of "SELECT seq FROM records WHERE action='session.open'")
LAST=$(seq_of "SELECT max(seq) FROM records")

# (a) one byte of one record's action
tamper "db.execute(\"UPDATE records SET action = 'authorize.searcH' WHERE seq = $ALLOW\")"
start_daemon || exit 1
verify_json
broken_at "edited byte" bad-mac "$ALLOW"
"$CTL" audit verify >"$T/v.txt" 2>&1
check "edited byte: the message names the problem and the record" \
	sh -c "grep -qx 'broken: bad-mac' '$T/v.txt' && grep -q 'broken at record $ALLOW:' '$T/v.txt' && grep -q 'authorize.searcH' '$T/v.txt'"
check "edited byte: --json carries the record as stored" jq -e ".record.action == \"authorize.searcH\"" "$T/v.json"
LANGUAGE=ja "$CTL" audit verify >"$T/v.ja" 2>&1
check "edited byte: the explanation is translated" grep -q "レコード $ALLOW" "$T/v.ja"
still_serving "edited byte" bad-mac
stop_daemon; restore

# (b) one middle record deleted
tamper "db.execute('DELETE FROM records WHERE seq = $SOPEN')"
start_daemon || exit 1
verify_json
broken_at "deleted record" gap "$SOPEN"
still_serving "deleted record" gap
stop_daemon; restore

# (c) the newest two records dropped. The head still names $LAST; the restarted daemon finds
# the missing range at its start and records it ("audit.truncated") before anything else, so
# verify names a truncation at the first missing record, not a deletion.
tamper "db.execute('DELETE FROM records WHERE seq > $LAST - 2')"
start_daemon || exit 1
verify_json
broken_at "dropped tail" truncated "$((LAST - 1))"
still_serving "dropped tail" truncated
stop_daemon; restore

# (d) two records' contents swapped
tamper "
cols = 'time, terminal, matching_id, operator_id, action, outcome, reason, detail, key_hmac, mac'
a = db.execute(f'SELECT {cols} FROM records WHERE seq = $SOPEN').fetchone()
b = db.execute(f'SELECT {cols} FROM records WHERE seq = $ALLOW').fetchone()
sets = ', '.join(c.strip() + ' = ?' for c in cols.split(','))
db.execute(f'UPDATE records SET {sets} WHERE seq = $SOPEN', b)
db.execute(f'UPDATE records SET {sets} WHERE seq = $ALLOW', a)
"
start_daemon || exit 1
verify_json
broken_at "swapped records" bad-mac "$SOPEN"
still_serving "swapped records" bad-mac
stop_daemon; restore

# The untouched copy still verifies, restarts and all.
start_daemon || exit 1
"$CTL" audit verify >/dev/null 2>&1
check "the restored log verifies again: exit 0" [ $? = 0 ]

# --- the seals: the public keys, a sealed export verified offline ---------------------------
check "verify --json: checkpoints made (one at each stop) and verified" \
	sh -c "'$CTL' --json audit verify | jq -e '.ok and .checkpoints >= 1 and .unsealed >= 0' >/dev/null"
"$CTL" audit keys export --output "$T/keys.txt" 2>"$T/keys.err"
check "keys export: exit 0" [ $? = 0 ]
check "keys export: file mode 0600" [ "$(stat -c %a "$T/keys.txt")" = 600 ]
FP=$(sed -n 's/^fingerprint //p' "$T/keys.txt")
check "keys export: the list ends with its fingerprint" [ "${#FP}" = 64 ]
check "keys export: the fingerprint printed (in groups of four) is the list's" \
	[ "$(tail -n +2 "$T/keys.err" | tr -d ' \n')" = "$FP" ]
check "keys export: 400 days of keys from today" [ "$(grep -c '^key ' "$T/keys.txt")" = 400 ]
"$CTL" audit export --format sealed --matching-id M001 $CONFIRM >/dev/null 2>&1
check "export sealed with a filter other than time: refused" [ $? != 0 ]
confirmers
"$CTL" audit export --format sealed --output "$T/x.sealed" $CONFIRM >/dev/null 2>&1
check "export sealed: exit 0" [ $? = 0 ]
"$AVERIFY" "$T/x.sealed" --keys "$T/keys.txt" >"$T/ov.out" 2>&1
check "offline verify: exit 0" [ $? = 0 ]
check "offline verify: ok" grep -qx ok "$T/ov.out"
check "offline verify: names the fingerprint used" grep -q "fingerprint $FP" "$T/ov.out"
sed '0,/"action":"authorize.search"/s//"action":"authorize.searcH"/' "$T/x.sealed" >"$T/x.edited"
"$AVERIFY" "$T/x.edited" --keys "$T/keys.txt" >"$T/ov2.out" 2>&1
check "offline verify of an edited export: exit 1" [ $? = 1 ]
check "offline verify of an edited export: bad-hash at the record" \
	sh -c "grep -qx 'broken: bad-hash' '$T/ov2.out' && grep -q 'broken at record $ALLOW:' '$T/ov2.out'"
# One key of the list changed (its last hex digit): the fingerprint no longer matches.
"$PY" -c 'import sys
lines = open(sys.argv[1]).read().split("\n")
k = lines[3]
lines[3] = k[:-1] + ("1" if k[-1] != "1" else "2")
open(sys.argv[2], "w").write("\n".join(lines))' "$T/keys.txt" "$T/keys.bad"
"$AVERIFY" "$T/x.sealed" --keys "$T/keys.bad" >/dev/null 2>"$T/ov3.err"
rc=$?
check "offline verify with a changed key list: exit 2" [ $rc = 2 ]
check "offline verify with a changed key list: says the fingerprint does not match" \
	grep -q "fingerprint does not match" "$T/ov3.err"
stop_daemon

it_done
