#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Damaged state refused by name (issue 15, items 1-4): with biogated stopped, each file of the
# state directory is damaged as a crash, a careless admin or an attacker would (emptied
# databases, garbage over a -wal after kill -9, an old copy of the trail, the newest records
# deleted with the head, missing, swapped and loose keys). The daemon must refuse to start,
# exit non-zero, and name the file and the problem; nothing is recreated over existing data.
# An admin's explicit recovery (--accept-new-audit-trail, --accept-store-loss) starts and is
# recorded; an undamaged state after kill -9 starts without a false alarm.
#
# usage: anchor.sh BIOGATED SENSOR BIOGATECTL PAM_MODULE PAMRUN VDEVCTL
set -u
BIOGATED=$1 SENSOR=$2 CTL=$3 MODULE=$4 PAMRUN=$5 VDEVCTL=$6
PY=/usr/bin/python3

[ -x "$PY" ] && "$PY" -c 'import sqlite3' 2>/dev/null ||
	{ echo "SKIP: $PY with the sqlite3 module is needed to damage the trail"; exit 77; }
. "$(dirname "$0")/../integration/lib.sh"
it_init anchor
export LC_ALL=C.UTF-8 LANGUAGE=en

start_daemon || exit 1
"$CTL" staff add M001 --name "山田 太郎" --affiliation "委託事業者A" --nationality "日本" \
	--unix-user bga1 >/dev/null
finger "SCAN f-m001" "SCAN f-m001" "SCAN f-m001" "SCAN f-m001" "SCAN f-m001"
"$CTL" enroll M001 --finger right-index >/dev/null 2>&1
"$CTL" operator grant M001 OP-C1 --role counter >/dev/null
for _ in 1 2 3 4 5; do "$CTL" authorize search --key 123456789018 >/dev/null 2>&1; done
stop_daemon
cp -a "$STATE" "$T/good"

restore() { rm -rf "$STATE"; cp -a "$T/good" "$STATE"; }
# refused CASE PATTERN: the daemon exits non-zero and says PATTERN (a fixed string).
refused() {
	timeout 20 "$BIOGATED" --foreground --state-dir "$STATE" --runtime-dir "$T/run" \
		--config "$DAEMON_CONFIG" --sensor "$SENSOR" --policy "$POLICY" >"$T/refused.log" 2>&1
	local rc=$?
	check "$1: refused (exit $rc)" [ "$rc" != 0 ] && [ "$rc" != 124 ]
	if grep -qF -- "$2" "$T/refused.log"; then ok "$1: the message names it"; else
		bad "$1: the message names it ($2)"
		sed 's/^/  /' "$T/refused.log"
	fi
	# One message: no vaguer second one ("Failed to load the template key: ...").
	check "$1: one message" sh -c "! grep -q 'Failed to' '$T/refused.log'"
}
records() { "$PY" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM records").fetchone()[0])' "$1"; }
GOOD_RECORDS=$(records "$T/good/audit.db")

# --- emptied databases ------------------------------------------------------------------------
restore; : >"$STATE/audit.db"
refused "audit.db emptied" "$STATE/audit.db: empty (0 bytes)"
restore; : >"$STATE/biogate.db"
refused "biogate.db emptied" "$STATE/biogate.db: empty (0 bytes)"
restore; rm "$STATE/biogate.db"
refused "biogate.db removed" "$STATE/biogate.db: missing"

# --- keys ---------------------------------------------------------------------------------------
restore; rm "$STATE/template.key"
refused "template.key removed" "$STATE/template.key: missing, but biogate.db"
check "template.key removed: no new key was made" [ ! -e "$STATE/template.key" ]
restore; rm "$STATE/audit.key"
refused "audit.key removed" "$STATE/audit.key: missing, but audit.db"
check "audit.key removed: no new key was made" [ ! -e "$STATE/audit.key" ]
restore; head -c 32 /dev/urandom >"$STATE/audit.key"
refused "audit.key swapped" "audit.db: its head does not verify under $STATE/audit.key"
restore; head -c 32 /dev/urandom >"$STATE/template.key"
refused "template.key swapped" "$STATE/template.key is not the key its enrolled fingers"
restore; chmod 0644 "$STATE/template.key"
refused "template.key mode 0644" "$STATE/template.key: mode 0644"
restore; head -c 31 "$T/good/audit.key" >"$STATE/audit.key"
refused "audit.key 31 bytes" "$STATE/audit.key: 31 bytes long"
# A systemd credential others may read is named too (not "Operation not permitted").
restore; mkdir -p "$T/creds"; cp "$T/good/template.key" "$T/creds/biogate-template-key"
chmod 0644 "$T/creds/biogate-template-key"
CREDENTIALS_DIRECTORY=$T/creds refused "template key credential mode 0644" \
	"$T/creds/biogate-template-key: mode 0644"
rm -rf "$T/creds"

# --- the trail cut or rolled back ------------------------------------------------------------
restore
"$PY" - "$STATE/audit.db" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("DROP TRIGGER records_no_delete")
db.execute("DELETE FROM records WHERE seq > (SELECT max(seq) - 3 FROM records)")
db.execute("DELETE FROM head")
db.commit()
EOF
refused "newest records deleted with the head" "audit.db: the head row is missing"

# An old copy of the trail (and its head) put back after more was recorded.
restore
start_daemon || exit 1
for _ in 1 2 3; do "$CTL" authorize search --key 123456789018 >/dev/null 2>&1; done
stop_daemon
cp "$T/good/audit.db" "$STATE/audit.db"
refused "an old copy of the trail" "audit.db: the trail ends at record"

# --- garbage over a -wal after kill -9 ----------------------------------------------------------
crash() { # crash: a start, a roster change and some decisions, then SIGKILL; keeps the image
	restore
	start_daemon || exit 1
	"$CTL" staff add M009 --name "鈴木 一郎" --affiliation "委託事業者A" --nationality "日本" \
		--unix-user bga9 >/dev/null
	for _ in 1 2 3; do "$CTL" authorize search --key 123456789018 >/dev/null 2>&1; done
	kill -9 "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
	rm -rf "$T/crashed"
	cp -a "$STATE" "$T/crashed"
}
garbage() { head -c 32 /dev/urandom | dd of="$1" conv=notrunc status=none; }
crash
check "the crash left both -wal files" [ -s "$STATE/audit.db-wal" ] && [ -s "$STATE/biogate.db-wal" ]
garbage "$STATE/audit.db-wal"
refused "garbage over audit.db-wal" "audit.db: the trail ends at record"
rm -rf "$STATE"; cp -a "$T/crashed" "$STATE"
garbage "$STATE/biogate.db-wal"
refused "garbage over biogate.db-wal" "biogate.db: its changes stop at generation"

# The crash image itself starts (no false alarm) and verifies.
rm -rf "$STATE"; cp -a "$T/crashed" "$STATE"
start_daemon || exit 1
check "after kill -9: the daemon starts and the trail verifies" "$CTL" audit verify
check "after kill -9: the person added before the crash is there" \
	sh -c "'$CTL' --json staff list | jq -e '.staff | map(.matching_id) | index(\"M009\") != null'"
stop_daemon

# --- an admin's recorded recovery ---------------------------------------------------------------
restore; : >"$STATE/audit.db"
start_daemon --accept-new-audit-trail="disk replaced after failure (ticket 42)" || exit 1
check "new trail: verify ok" "$CTL" audit verify
"$CTL" --json audit list --limit 1 >"$T/first.json"
check "new trail: the first record names the old head and why" jq -e \
	".[0].seq == 1 and .[0].action == \"audit.new-trail\" and (.[0].detail | fromjson | .reason == \"disk replaced after failure (ticket 42)\" and .store_anchor_seq >= $GOOD_RECORDS and (.old_file | startswith(\"audit.db.replaced-\")))" \
	"$T/first.json"
stop_daemon
start_daemon || exit 1
check "new trail: the next plain start is accepted" "$CTL" audit verify
stop_daemon

restore; : >"$STATE/biogate.db"
start_daemon --accept-store-loss="restored nothing; roster re-entered by hand" || exit 1
check "store loss accepted: recorded" sh -c \
	"'$CTL' --json audit list --action store.loss-accepted | jq -e 'length == 1 and (.[0].detail | fromjson | .problem == \"rolled-back\")' >/dev/null"
stop_daemon
start_daemon || exit 1
check "store loss accepted: the next plain start is accepted" "$CTL" audit verify
stop_daemon

it_done
