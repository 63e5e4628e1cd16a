#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The room log (R14), the monthly report (R18) and the USB allow-list (R15) through
# biogatectl against a real biogated with its sensor on libfprint's virtual_device: a
# visitor with Japanese and HTML-special text enters and leaves; a staff login through
# pam_biogate.so in a real PAM stack appears in the log as staff with its times; the
# month's report is written as HTML (names escaped) and as JSON (the login counted) to new
# 0600 files that are never overwritten and removed when the report fails; a USB serial is
# allowed, listed and revoked, and the allow-list file is 0600.
#
# usage: room.sh BIOGATED SENSOR BIOGATECTL PAM_MODULE PAMRUN VDEVCTL
set -u
BIOGATED=$1 SENSOR=$2 CTL=$3 MODULE=$4 PAMRUN=$5 VDEVCTL=$6

. "$(dirname "$0")/lib.sh"
it_init room
export LC_ALL=C.UTF-8 LANGUAGE=en
MONTH=$(date +%Y-%m)
ctl() { # ctl EXPECTED_EXIT DESCRIPTION ARGS...: output in $T/out and $T/err
	local want=$1 d=$2
	shift 2
	"$CTL" "$@" >"$T/out" 2>"$T/err"
	local got=$?
	if [ "$got" = "$want" ]; then ok "$d (exit $got)"; else
		bad "$d: exit $got, wanted $want"; sed 's/^/  stderr: /' "$T/err"; fi
}
it_policy <<EOF
[login]
require-shift = no
EOF
pam_service biogate-test
start_daemon || exit 1

"$CTL" staff add M001 --name "山田 太郎" --affiliation "委託事業者A" --nationality "日本" \
	--unix-user bga1 >/dev/null
"$CTL" staff edit M001 --pledge-date 2026-11-01 --training-date 2026-11-02 >/dev/null
finger "SCAN f-m001" "SCAN f-m001" "SCAN f-m001" "SCAN f-m001" "SCAN f-m001"
"$CTL" enroll M001 --finger right-index >/dev/null 2>&1
"$CTL" operator grant M001 OP-C1 --role counter >/dev/null
# Without a pledge: listed by name in the report's "missing" table, where it must be escaped.
M002_NAME='佐藤 <i>花子</i> & "Q"'
"$CTL" staff add M002 --name "$M002_NAME" --affiliation "委託事業者B" --nationality "日本" \
	--unix-user bga2 >/dev/null

# --- a visitor ------------------------------------------------------------------------------
V_NAME='鈴木 <b>一郎</b>'
V_AFF='株式会社<テスト> & "協力会社"'
V_PURPOSE='空調設備の点検 & 保守'
ctl 0 "room enter (visitor)" room enter --name "$V_NAME" --affiliation "$V_AFF" \
	--purpose "$V_PURPOSE"
ENTRY=$(grep -o 'entry [0-9]*' "$T/out" | head -1 | cut -d' ' -f2)
check "room enter prints the entry number" [ -n "$ENTRY" ]
check "room enter names the leave command" grep -qF "biogatectl room leave $ENTRY" "$T/out"

ctl 0 "room list --json (visitor inside)" --json room list
jq --arg n "$V_NAME" --arg a "$V_AFF" --arg p "$V_PURPOSE" --argjson id "$ENTRY" \
	--arg d "$(date +%F)" -e '.date == $d and
	    ([.entries[] | select(.entry_id == $id)] | length == 1 and .[0].name == $n and
	    .[0].affiliation == $a and .[0].purpose == $p and .[0].staff == false and
	    .[0].left_at == null and (.[0].entered_at | type) == "number")' "$T/out" >/dev/null &&
	ok "the visitor is listed exactly, inside" || bad "the visitor is listed exactly, inside"
ctl 0 "room list table" room list
check "table: header" grep -q '^ENTRY .*IN .*OUT .*NAME .*AFFILIATION .*PURPOSE .*KIND' "$T/out"
check "table: the visitor's row, raw text, still inside" \
	grep -qF "$V_NAME  " "$T/out"
check "table: visitor row says (inside) and visitor" \
	sh -c "grep -F '$V_PURPOSE' '$T/out' | grep -q '(inside).*visitor\$'"

ctl 0 "room leave" room leave "$ENTRY"
check "room leave says so" grep -qx "Recorded the leaving of entry $ENTRY." "$T/out"
ctl 5 "room leave again: not found" room leave "$ENTRY"
ctl 5 "room leave of an unknown entry" room leave 999999
ctl 0 "room list --json --date today" --json room list --date "$(date +%F)"
check "the visitor has left: left_at >= entered_at" jq -e --argjson id "$ENTRY" \
	'.entries[] | select(.entry_id == $id) | (.left_at | type) == "number" and .left_at >= .entered_at' "$T/out"
ctl 0 "room list of another day is empty" --json room list --date 2001-01-01
check "2001-01-01: no entries" jq -e '.date == "2001-01-01" and .entries == []' "$T/out"
ctl 8 "room enter with a bidi override: the daemon refuses it" room enter \
	--name "$(printf 'abc\342\200\256def')" --affiliation x --purpose y

# --- a staff login and logout ---------------------------------------------------------------
finger "SCAN f-m001"
"$PAMRUN" --confdir "$T/pam.d" --service biogate-test --user bga1 --tty tty3 --acct \
	--open-session --close-session --exec /bin/sleep 1 >"$T/pam" 2>&1
check "staff login: auth and session PAM_SUCCESS" \
	sh -c "grep -qx 'auth=PAM_SUCCESS' '$T/pam' && grep -qx 'open=PAM_SUCCESS' '$T/pam' && grep -qx 'close=PAM_SUCCESS' '$T/pam'"
staff_ok=no
for _ in $(seq 1 20); do
	"$CTL" --json room list >"$T/list.json" 2>/dev/null
	jq -e '[.entries[] | select(.staff)] | length == 1 and (.[0].left_at | type) == "number"' \
		"$T/list.json" >/dev/null && { staff_ok=yes; break; }
	sleep 0.1
done
check "the staff login is in the room log, closed" [ $staff_ok = yes ]
check "staff entry: M001 by the roster's name, work, in <= out" jq -e \
	'[.entries[] | select(.staff)][0] | .matching_id == "M001" and .name == "山田 太郎" and
	 .affiliation == "委託事業者A" and .purpose == "work" and (.session_id | type) == "number" and
	 .entered_at <= .left_at' "$T/list.json"
"$CTL" room list >"$T/out" 2>&1
check "table: the staff row names the person and says staff" \
	sh -c "grep -F '山田 太郎 (M001)' '$T/out' | grep -q 'staff\$'"

# --- the monthly report -----------------------------------------------------------------------
ctl 0 "report monthly --format html --output" report monthly "$MONTH" --format html \
	--output "$T/r.html"
check "the HTML file is 0600" [ "$(stat -c %a "$T/r.html")" = 600 ]
check "the HTML names the month" grep -qF "$MONTH" "$T/r.html"
check "the HTML is a document" grep -qi '^<!doctype html' "$T/r.html"
check "the HTML holds the escaped name" \
	grep -qF '佐藤 &lt;i&gt;花子&lt;/i&gt; &amp; &quot;Q&quot;' "$T/r.html"
check "no raw tag from the name in the HTML" sh -c "! grep -qF '<i>花子' '$T/r.html'"
check "the HTML ends the document" grep -qi '</html>' "$T/r.html"
check "the report says where it wrote" grep -qF "wrote the monthly report for $MONTH to $T/r.html" "$T/err"
before=$(sha256sum <"$T/r.html")
ctl 6 "report to an existing file: refused" report monthly "$MONTH" --format html \
	--output "$T/r.html"
check "the existing file is untouched" [ "$(sha256sum <"$T/r.html")" = "$before" ]

ctl 0 "report monthly --format json --output (--json)" --json report monthly "$MONTH" \
	--format json --output "$T/r.json"
check "--json answer names the file and its size" jq -e --arg f "$T/r.json" --arg m "$MONTH" \
	--argjson b "$(stat -c %s "$T/r.json")" \
	'.output == $f and .month == $m and .format == "json" and .bytes == $b' "$T/out"
check "the JSON file is 0600" [ "$(stat -c %a "$T/r.json")" = 600 ]
check "the JSON report: month, one login, room entries" jq -e --arg m "$MONTH" \
	'.version == 1 and .month == $m and .logins.total == 1 and
	 .room.entries == 2 and .room.visitors == 1 and .room.staff == 1' "$T/r.json"
check "the JSON report: M002 missing a pledge, name exact" jq -e --arg n "$M002_NAME" \
	'.staff.missing_pledge == 1 and ([.staff.missing[] | select(.matching_id == "M002")][0].name == $n)' \
	"$T/r.json"
check "the JSON report: the login's day counted" jq -e --arg d "$(date +%F)" \
	'[.days[] | select(.date == $d)][0].logins == 1' "$T/r.json"

ctl 0 "report monthly to stdout: HTML by default" report monthly "$MONTH"
check "stdout holds the page" grep -qi '^<!doctype html' "$T/out"
ctl 0 "--json report monthly to stdout: JSON" --json report monthly "$MONTH"
check "stdout parses as the JSON report" jq -e --arg m "$MONTH" '.month == $m' "$T/out"
ctl 8 "a month the daemon refuses" report monthly 1999-12 --format json --output "$T/bad.json"
check "no partial file is left behind" [ ! -e "$T/bad.json" ]

# --- USB allow-list -----------------------------------------------------------------------------
NOTE='会議資料の持ち出し用 <承認済>'
ctl 0 "usb allow ABC123 --note" usb allow ABC123 --note "$NOTE"
check "usb allow says so" grep -qF "serial ABC123 is now allowed" "$T/out"
ctl 6 "usb allow ABC123 again: exists" usb allow ABC123
ctl 0 "usb list --json" --json usb list
check "usb list: ABC123 with its note, once" jq -e --arg n "$NOTE" \
	'.allowlist_ok == true and (.allowed | length) == 1 and .allowed[0].serial == "ABC123" and
	 .allowed[0].note == $n and (.allowed[0].allowed_at | type) == "number" and
	 (.attempts | type) == "array"' "$T/out"
check "the allow-list file is 0600" [ "$(stat -c %a "$T/state/usb-allowed.json")" = 600 ]
check "the allow-list file holds ABC123" jq -e '.allowed[0].serial == "ABC123"' \
	"$T/state/usb-allowed.json"
ctl 0 "usb list table" usb list
check "table: ABC123 and its note" sh -c "grep -F 'ABC123' '$T/out' | grep -qF '$NOTE'"
ctl 0 "usb revoke ABC123" usb revoke ABC123
ctl 0 "usb list --json after revoke" --json usb list
check "usb list: empty after revoke" jq -e '.allowed == []' "$T/out"
check "the allow-list file is empty" jq -e '.allowed == []' "$T/state/usb-allowed.json"
ctl 5 "usb revoke ABC123 again: not found" usb revoke ABC123

# --- all of it is on the trail ----------------------------------------------------------------
ctl 0 "audit verify after all of it" audit verify
"$CTL" --json audit list --limit 1000 >"$T/audit.json"
check "the trail holds room.enter x2, room.leave x2, report.monthly, usb.allow, usb.revoke" jq -e \
	'([.[] | select(.action == "room.enter")] | length) == 2 and
	 ([.[] | select(.action == "room.leave")] | length) == 2 and
	 ([.[] | select(.action == "report.monthly")] | length) >= 4 and
	 ([.[] | select(.action == "usb.allow" and .outcome == "ok")] | length) == 1 and
	 ([.[] | select(.action == "usb.revoke" and .outcome == "ok")] | length) == 1' "$T/audit.json"

it_done
