#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# biogatectl with no daemon to talk to: everything that must work before a socket is
# opened, and the exit codes a script relies on (docs/biogatectl.md). Japanese is checked
# with LANGUAGE=ja under the C.UTF-8 locale, which glibc honours without a generated
# ja_JP locale.
set -u
CTL=$1
LOCALEDIR=$2

T=$(mktemp -d /tmp/biogatectl-test.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { echo "ok: $1"; pass=$((pass + 1)); }
bad() { echo "FAIL: $1"; fail=$((fail + 1)); }

# run NAME EXPECTED_EXIT ARGS...: output in $T/out and $T/err; English unless $LANG_ENV says.
run() {
	name=$1 want=$2
	shift 2
	env -u LANGUAGE -u BIOGATE_SOCKET LC_ALL=C.UTF-8 BIOGATE_LOCALEDIR="$LOCALEDIR" \
		${LANG_ENV:-} "$CTL" "$@" >"$T/out" 2>"$T/err"
	got=$?
	if [ "$got" = "$want" ]; then
		ok "$name (exit $got)"
	else
		bad "$name: exit $got, wanted $want"
		sed 's/^/  stderr: /' "$T/err"
	fi
}
has() { # has NAME FILE TEXT
	if grep -qF -- "$3" "$2"; then ok "$1"; else bad "$1: no '$3' in:"; sed 's/^/  /' "$2"; fi
}

run "--help" 0 --help
for cmd in "status" "staff add" "staff list" "staff show" "staff edit" "staff unlock" "enroll" \
	"operator grant" "verify" "schedule import" "schedule show" "authorize" "whoami" \
	"sessions" "lock" "logoff" "revoke" "staff history" "staff nationality" "disposal plan" \
	"disposal approve" "disposal execute" "disposal report" "audit export" "policy check" "staff import"; do
	if grep -q "^  $cmd\b" "$T/out"; then ok "--help lists '$cmd'"; else bad "--help lacks '$cmd'"; fi
done
for code in 0 1 2 3 4 5 6 7 8; do
	if grep -q "^  $code  " "$T/out"; then ok "--help documents exit $code"; else bad "--help lacks exit $code"; fi
done
run "help command" 0 help
run "--version" 0 --version
has "--version names the program" "$T/out" "biogatectl "

run "no command" 2
run "unknown command" 2 frobnicate
has "unknown command is named" "$T/err" "frobnicate"
run "unknown subcommand" 2 staff frobnicate
run "missing subcommand" 2 operator
run "unknown option" 2 status --frobnicate
run "option without its value" 2 status --socket
run "extra argument" 2 status extra
run "bad --timeout" 2 --timeout 0 status
run "non-numeric --timeout" 2 --timeout soon status

run "invalid matching ID (space)" 2 staff show "bad id"
has "invalid matching ID is explained" "$T/err" "invalid matching ID"
run "invalid matching ID (leading dot)" 2 verify ../etc
run "invalid matching ID (too long)" 2 staff show \
	"$(printf 'x%.0s' $(seq 1 65))"
run "invalid matching ID on enroll" 2 enroll "a/b" --finger right-index
run "unknown finger" 2 enroll M001 --finger toe
run "enroll without --finger" 2 enroll M001
run "invalid operator ID" 2 operator grant M001 "op 1" --role counter
run "grant without --role" 2 operator grant M001 OP-1
run "staff add without --name" 2 staff add M001 --affiliation A --nationality X
run "staff add with an empty --name" 2 staff add M001 --name "" --affiliation A --nationality X
run "staff add with invalid UTF-8" 2 staff add M001 --name "$(printf 'a\377')" \
	--affiliation A --nationality X
run "staff add with a bad --unix-user" 2 staff add M001 --name N --affiliation A \
	--nationality X --unix-user "root;x"

# is NAME FILE TEXT: the whole file is exactly TEXT (one line).
is() {
	if [ "$(cat "$2")" = "$3" ]; then ok "$1"; else bad "$1: wanted '$3', got:"; sed 's/^/  /' "$2"; fi
}

# staff edit, staff unlock: dates are real calendar dates, checked before connecting.
NOSOCK="--socket /nonexistent/io.biogate"
run "staff edit: February 30th" 2 staff edit M001 --pledge-date 2026-02-30
is "staff edit: bad date named" "$T/err" "biogatectl: invalid date '2026-02-30' for --pledge-date: give a real date as YYYY-MM-DD
Try 'biogatectl --help' for more information."
run "staff edit: 2025 is not a leap year" 2 staff edit M001 --training-date 2025-02-29
has "staff edit: --training-date named" "$T/err" "for --training-date"
run "staff edit: month 13" 2 staff edit M001 --pledge-date 2026-13-01
run "staff edit: no zero padding" 2 staff edit M001 --pledge-date 2026-4-1
run "staff edit: slashes" 2 staff edit M001 --pledge-date 2026/04/01
run "staff edit: trailing text" 2 staff edit M001 --pledge-date 2026-04-01x
run "staff edit: nothing to change" 2 staff edit M001
run "staff edit: empty --name" 2 staff edit M001 --name ""
run "staff edit: invalid matching ID" 2 staff edit "a b" --name N
# A leap day passes the checks and reaches the (absent) daemon.
run "staff edit: 2024-02-29 is a date" 3 $NOSOCK staff edit M001 --pledge-date 2024-02-29 \
	--training-date 2000-02-29
run "staff unlock without an ID" 2 staff unlock
run "staff unlock: invalid ID" 2 staff unlock ../x
run "staff unlock reaches the daemon" 3 $NOSOCK staff unlock M001

# schedule show
run "schedule show: bad month" 2 schedule show --month 2026-13
run "schedule show: a date is not a month" 2 schedule show --month 2026-04-01
run "schedule show: invalid matching ID" 2 schedule show --matching-id "a b"
run "schedule show reaches the daemon" 3 $NOSOCK schedule show --month 2026-04 --matching-id M001

# schedule import: the CSV reader, through --dry-run (no daemon).
C=$T/csv
mkdir "$C"
printf '\357\273\277matching_id,date,start,end,note\r\n"M001",2026-04-01,09:00,17:00,"Tanaka, Hanako"\r\n  M002 , 2026-04-30 ,"08:30", 12:00 \r\n\r\n"M""003",2026-04-02,09:00,10:00\r\n' >"$C/bom.csv"
sed -i '$d' "$C/bom.csv" # the row with the doubled quote goes to its own test below
run "schedule import --dry-run: BOM, header, quoted comma, CRLF" 0 schedule import --dry-run "$C/bom.csv"
is "schedule import --dry-run: the rows as JSON" "$T/out" '{
  "month": "2026-04",
  "shifts": [
    {
      "matching_id": "M001",
      "date": "2026-04-01",
      "start": "09:00",
      "end": "17:00"
    },
    {
      "matching_id": "M002",
      "date": "2026-04-30",
      "start": "08:30",
      "end": "12:00"
    }
  ]
}'
printf 'M001,2026-04-01,09:00,17:00\nM002,2026-04-02,13:00,17:30' >"$C/lf.csv"
run "schedule import --dry-run: LF, no header, no final newline" 0 schedule import --dry-run "$C/lf.csv"
has "schedule import --dry-run: the last row is read" "$T/out" '"end": "17:30"'
run "schedule import: no file" 2 schedule import
run "schedule import: missing file" 2 schedule import --dry-run "$C/none.csv"
has "schedule import: missing file named" "$T/err" "biogatectl: $C/none.csv: cannot open the file"

# csv_bad NAME CONTENT MESSAGE: --dry-run exits 2 and stderr's first line is MESSAGE,
# where FILE stands for the file's path.
csv_bad() {
	printf "$2" >"$C/bad.csv"
	run "schedule import: $1" 2 schedule import --dry-run "$C/bad.csv"
	want=$(printf '%s' "$3" | sed "s|FILE|$C/bad.csv|")
	if [ "$(head -n 1 "$T/err")" = "$want" ]; then ok "schedule import: $1: message"; else
		bad "schedule import: $1: wanted '$want', got:"; sed 's/^/  /' "$T/err"; fi
	if [ -s "$T/out" ]; then bad "schedule import: $1: stdout not empty"; fi
}
csv_bad "a bad date" 'matching_id,date,start,end\nM001,2026-04-01,09:00,17:00\nM001,2026-04-31,09:00,17:00\n' \
	"biogatectl: FILE:3: invalid date '2026-04-31': give a real date as YYYY-MM-DD, YYYY/M/D or YYYY年M月D日"
csv_bad "a bad time" 'M001,2026-04-01,9:60,17:00\n' \
	"biogatectl: FILE:1: invalid start time '9:60': give it as H:MM or HH:MM, 0:00 to 23:59"
csv_bad "a start at hour 24" 'M001,2026-04-01,24:00,25:00\n' \
	"biogatectl: FILE:1: invalid start time '24:00': give it as H:MM or HH:MM, 0:00 to 23:59"
csv_bad "an end at hour 48" 'M001,2026-04-01,09:00,48:00\n' \
	"biogatectl: FILE:1: invalid end time '48:00': give it as H:MM or HH:MM, 0:00 to 23:59 (an end before the start is on the next day; 24:00 to 47:59 also say the next day)"
csv_bad "seconds that are not 00" 'M001,2026-04-01,09:00:30,17:00\n' \
	"biogatectl: FILE:1: invalid start time '09:00:30': give it as H:MM or HH:MM, 0:00 to 23:59"
csv_bad "end equal to start" 'M001,2026-04-01\t,17:00,17:00\r\n' \
	"biogatectl: FILE:1: the shift starts and ends at 17:00; give an end different from the start"
csv_bad "24 hours or longer" 'M001,2026-04-01,09:00,33:00\n' \
	"biogatectl: FILE:1: the shift from 09:00 to 33:00 is 24 hours or longer"
csv_bad "a bad matching ID" 'M001,2026-04-01,09:00,17:00\n\n"M 2",2026-04-01,09:00,17:00\n' \
	"biogatectl: FILE:3: invalid matching ID 'M 2': IDs are 1 to 64 letters, digits, '.', '_', '@' or '-', and do not start with '-' or '.'"
csv_bad "a quoted comma in the ID" '"M,1",2026-04-01,09:00,17:00\n' \
	"biogatectl: FILE:1: invalid matching ID 'M,1': IDs are 1 to 64 letters, digits, '.', '_', '@' or '-', and do not start with '-' or '.'"
csv_bad "a doubled quote in the ID" '"M""1",2026-04-01,09:00,17:00\n' \
	"biogatectl: FILE:1: invalid matching ID 'M\"1': IDs are 1 to 64 letters, digits, '.', '_', '@' or '-', and do not start with '-' or '.'"
csv_bad "too few fields" 'M001,2026-04-01,09:00,17:00\nM002,2026-04-01,09:00\n' \
	"biogatectl: FILE:2: expected 4 fields (matching_id,date,start,end), found 3"
csv_bad "an unclosed quote" 'M001,2026-04-01,09:00,17:00\n"M002,2026-04-01,09:00,17:00\n' \
	"biogatectl: FILE:2: a quoted field is not closed"
csv_bad "a quote inside an unquoted field" 'M0"02,2026-04-01,09:00,17:00\n' \
	"biogatectl: FILE:1: a quote inside field 1, which is not quoted; quote the whole field"
csv_bad "text after a closing quote" '"M002"x,2026-04-01,09:00,17:00\n' \
	"biogatectl: FILE:1: text after the closing quote of field 1"
csv_bad "a line break inside quotes counts lines" 'M1,2026-04-01,09:00,17:00,"a\nb"\nM2,2026-04-01,09:00,17:00,"c\r\nd"\r\nM3,x,09:00,10:00\n' \
	"biogatectl: FILE:5: invalid date 'x': give a real date as YYYY-MM-DD, YYYY/M/D or YYYY年M月D日"
csv_bad "a NUL byte" 'M001,2026-04-01,09:00,17:00\nM0\00002,2026-04-01,09:00,17:00\n' \
	"biogatectl: FILE:2: the file contains a NUL byte; save it as CSV (UTF-8)"
csv_bad "a stray carriage return" 'M001,2026-04-01,09:00,17:00\rM002,2026-04-01,09:00,17:00\n' \
	"biogatectl: FILE:1: a carriage return that does not end a line"
csv_bad "mixed months" 'M001,2026-04-30,09:00,17:00\nM001,2026-05-01,09:00,17:00\n' \
	"biogatectl: FILE:2: the date 2026-05-01 is in 2026-05, but the rows above are in 2026-04; import one month per file"
csv_bad "UTF-16" '\377\376M\000' "biogatectl: FILE: the file is UTF-16LE text; save it as CSV UTF-8 (comma delimited) or CSV (comma delimited)"
csv_bad "only a header" '\357\273\277matching_id,date,start,end\r\n' "biogatectl: FILE: the file holds no shifts"
csv_bad "empty" '' "biogatectl: FILE: the file holds no shifts"
csv_bad "an over-long field" "$(printf 'x%.0s' $(seq 1 200)),2026-04-01,09:00,17:00\\n" \
	"biogatectl: FILE:1: field 1 is longer than 128 bytes"

# The caps: 4096 rows (4097 fail, naming the line) and 1 MiB.
awk 'BEGIN { print "matching_id,date,start,end"; for (i = 1; i <= 4097; i++) printf "M%d,2026-04-%02d,09:00,17:00\n", i, i % 30 + 1 }' >"$C/rows.csv"
run "schedule import: 4097 rows" 2 schedule import --dry-run "$C/rows.csv"
is "schedule import: the row cap is named with the line" "$T/err" \
	"biogatectl: $C/rows.csv:4098: more than 4096 shifts; one import takes at most 4096"
head -n 4097 "$C/rows.csv" >"$C/rows4096.csv"
run "schedule import: 4096 rows pass --dry-run" 0 schedule import --dry-run "$C/rows4096.csv"
n=$(grep -c '"matching_id"' "$T/out")
if [ "$n" = 4096 ]; then ok "schedule import: 4096 shifts printed"; else bad "schedule import: $n shifts printed, wanted 4096"; fi
# ... but not in one request to the daemon (WIRE_MAX_MESSAGE): said before connecting.
run "schedule import: 4096 rows are too big to send" 2 $NOSOCK schedule import "$C/rows4096.csv"
has "schedule import: the request size is explained" "$T/err" "4096 shifts are more than the biogate service takes in one request (65536 bytes)"
run "schedule import: a small file reaches the daemon" 3 $NOSOCK schedule import "$C/lf.csv"
{ printf 'M001,2026-04-01,09:00,17:00\n'; head -c 1048576 /dev/zero | tr '\0' ' '; } >"$C/big.csv"
run "schedule import: over 1 MiB" 2 schedule import --dry-run "$C/big.csv"
is "schedule import: the size cap is named" "$T/err" "biogatectl: $C/big.csv: the file is larger than 1 MiB"
head -c 10485760 /dev/zero | tr '\0' ' ' >"$C/10mb.csv"
run "schedule import: a 10 MB file" 2 schedule import --dry-run "$C/10mb.csv"
is "schedule import: a 10 MB file is refused by size" "$T/err" "biogatectl: $C/10mb.csv: the file is larger than 1 MiB"
rm -f "$C/10mb.csv"

# staff import: the file is checked before anything is sent; a good one reaches the daemon.
printf '照合ID,氏名,所属,国籍\r\nM001,山田,A,X\r\nM001,佐藤,A,X\r\n' | iconv -t CP932 >"$C/roster.csv"
run "staff import: the same ID twice" 2 staff import --dry-run "$C/roster.csv"
is "staff import: the second line is named" "$T/err" "biogatectl: $C/roster.csv:3: the matching ID M001 is on line 2 already"
printf 'M001,山田,A,X\n' >"$C/roster.csv"
run "staff import: no header" 2 staff import "$C/roster.csv"
printf '照合ID,氏名,所属,国籍\nM001,山田,A,X\n' >"$C/roster.csv"
run "staff import --dry-run reaches the daemon" 3 $NOSOCK staff import --dry-run "$C/roster.csv"
run "staff import reaches the daemon" 3 $NOSOCK staff import "$C/roster.csv"

# Files as a Japanese office makes them in Excel (issue 13): CP932 with a Japanese header and
# a column of names, Excel's date and time forms, night shifts (an end before the start, or
# 30:00), columns in any order under a header; refusals name the file, the line and the field
# as it is written, never as '?'.
printf '照合ID,日付,開始,終了,氏名\r\nM001,2026/4/1,9:00,17:00,山田 太郎\r\n"M002",2026/04/30,22:00,6:00,"佐藤, 花子"\r\nM003,2026年4月2日,22:00,30:00,x\r\nM004,２０２６／４／３,8:30:00,12:00:00,y\r\n' |
	iconv -f UTF-8 -t CP932 >"$C/sjis.csv"
run "schedule import --dry-run: CP932, Japanese header, Excel forms, night shifts" 0 \
	schedule import --dry-run "$C/sjis.csv"
is "schedule import --dry-run: CP932 rows in the daemon's form" "$T/out" '{
  "month": "2026-04",
  "shifts": [
    {
      "matching_id": "M001",
      "date": "2026-04-01",
      "start": "09:00",
      "end": "17:00"
    },
    {
      "matching_id": "M002",
      "date": "2026-04-30",
      "start": "22:00",
      "end": "06:00"
    },
    {
      "matching_id": "M003",
      "date": "2026-04-02",
      "start": "22:00",
      "end": "06:00"
    },
    {
      "matching_id": "M004",
      "date": "2026-04-03",
      "start": "08:30",
      "end": "12:00"
    }
  ]
}'
printf '\357\273\277備考,終了,日付,照合ＩＤ,開始\r\n"a, b",1:00,2026-4-5,M009,21:30\r\n' >"$C/order.csv"
run "schedule import --dry-run: header columns in another order, full-width letters" 0 \
	schedule import --dry-run "$C/order.csv"
is "schedule import --dry-run: columns found by name" "$(tr -d ' \n' <"$T/out" >"$T/flat"; echo "$T/flat")" \
	'{"month":"2026-04","shifts":[{"matching_id":"M009","date":"2026-04-05","start":"21:30","end":"01:00"}]}'
printf '照合ID,日付,開始,終了\r\nM001,2026/4/1,9:00,17:00\r\n山田,2026/4/1,9:00,17:00\r\n' | iconv -t CP932 >"$C/jid.csv"
run "schedule import: a Japanese ID in a CP932 file" 2 schedule import --dry-run "$C/jid.csv"
has "schedule import: the CP932 field is shown as written" "$T/err" "$C/jid.csv:3: invalid matching ID '山田'"
csv_bad "a header without a column" '照合ID,日付,開始\nM001,2026/4/1,9:00\n' \
	"biogatectl: FILE:1: the header row has no column 'end' (or '終了')"
csv_bad "a header naming a column twice" 'matching_id,date,start,end,終了\n' \
	"biogatectl: FILE:1: the header row names the column 'end' twice (fields 4 and 5)"
csv_bad "a row shorter than the header" 'note,matching_id,date,start,end\nx,M001,2026/4/1,9:00\n' \
	"biogatectl: FILE:2: expected at least 5 fields, as the header row says, found 4"
csv_bad "a bidi override in a field is shown escaped" 'M\342\200\256X,2026-04-01,09:00,17:00\n' \
	"biogatectl: FILE:1: invalid matching ID 'M\\u202eX': IDs are 1 to 64 letters, digits, '.', '_', '@' or '-', and do not start with '-' or '.'"
# Encodings that are not taken are named.
printf '照合ID,日付,開始,終了\nM001,2026/4/1,9:00,17:00\n' | iconv -t EUC-JP >"$C/euc.csv"
run "schedule import: EUC-JP" 2 schedule import --dry-run "$C/euc.csv"
is "schedule import: EUC-JP is named" "$T/err" "biogatectl: $C/euc.csv: the file is EUC-JP text; save it as CSV UTF-8 (comma delimited) or CSV (comma delimited)"
printf '照合ID,日付,開始,終了\nM001,2026/4/1,9:00,17:00\n' | iconv -t ISO-2022-JP >"$C/jis.csv"
run "schedule import: ISO-2022-JP" 2 schedule import --dry-run "$C/jis.csv"
has "schedule import: ISO-2022-JP is named" "$T/err" "$C/jis.csv:1: the file is ISO-2022-JP (JIS) text"
printf 'matching_id,date,start,end\nM001,2026/4/1,9:00,17:00\n' | iconv -t UTF-16BE >"$C/u16.csv"
run "schedule import: UTF-16 without a byte order mark" 2 schedule import --dry-run "$C/u16.csv"
has "schedule import: UTF-16BE is named" "$T/err" "the file is UTF-16BE text"
csv_bad "neither UTF-8 nor CP932" 'M001,2026/4/1,9:00,17:00\nM\351\377,2026/4/1,9:00,17:00\n' \
	"biogatectl: FILE:2: the file is neither UTF-8 (byte 0xe9 on line 2) nor CP932 (Shift_JIS) text (byte 0xe9 on line 2); save it as CSV UTF-8 (comma delimited)"
csv_bad "a byte order mark over CP932" '\357\273\277M001,2026/4/1,9:00,17:00\nM\202\240,2026/4/1,9:00,17:00\n' \
	"biogatectl: FILE:2: byte 0x82 is not UTF-8, though the file begins with UTF-8's byte order mark; save it again as CSV UTF-8 (comma delimited)"
# A file cut short: inside a row, inside a UTF-8 character, inside a CP932 character.
csv_bad "cut inside a row" 'M001,2026/4/1,9:00,17:00\nM002,2026/4/' \
	"biogatectl: FILE:2: expected 4 fields (matching_id,date,start,end), found 2"
has "schedule import: a cut row is said to be cut short" "$T/err" \
	"$C/bad.csv:2: the file ends in this line without a line break: it may have been cut short"
csv_bad "cut inside a UTF-8 character" 'M001,2026/4/1,9:00,17:00,山田\nM002,2026/4/1,9:00,17:00,\345\261' \
	"biogatectl: FILE:2: the file ends in the middle of a UTF-8 character: it was cut short; save or copy it again"
printf 'M001,2026/4/1,9:00,17:00,佐藤\r\nM002,2026/4/1,9:00,17:00,山田' | iconv -t CP932 | head -c -1 >"$C/cut932.csv"
run "schedule import: cut inside a CP932 character" 2 schedule import --dry-run "$C/cut932.csv"
is "schedule import: the CP932 cut is named with its line" "$T/err" \
	"biogatectl: $C/cut932.csv:2: the file ends in the middle of a CP932 (Shift_JIS) character: it was cut short; save or copy it again"

# authorize: the action is an ID; the key is never echoed, whatever is wrong.
run "authorize without an action" 2 authorize
run "authorize: invalid action" 2 authorize "search all"
run "authorize: a key over 256 bytes" 2 authorize search --key "$(printf '9%.0s' $(seq 1 257))"
if grep -q 999999 "$T/err"; then bad "authorize echoed the key"; else ok "authorize does not echo a long key"; fi
run "authorize: a key that is not UTF-8" 2 authorize search --key "$(printf '1234\377')"
if grep -q 1234 "$T/err"; then bad "authorize echoed the key"; else ok "authorize does not echo a bad key"; fi
run "authorize reaches the daemon" 3 $NOSOCK authorize search --key 123456789018
if grep -q 123456789018 "$T/err"; then bad "authorize echoed the key"; else ok "authorize does not echo the key"; fi
run "whoami: extra argument" 2 whoami me
run "whoami reaches the daemon" 3 $NOSOCK whoami
run "lock reaches the daemon" 3 $NOSOCK lock
run "logoff: extra argument" 2 logoff now

# revoke, staff nationality, staff history: checked before connecting.
run "revoke without an ID" 2 revoke --reason departed
run "revoke without --reason" 2 revoke M001
run "revoke: unknown reason" 2 revoke M001 --reason fired
has "revoke: the reasons are named" "$T/err" "use departed or transferred"
run "revoke: invalid matching ID" 2 revoke "a b" --reason departed
run "revoke: invalid --confirm-by" 2 revoke M001 --reason departed --confirm-by "x y"
run "revoke: three --confirm-by" 2 revoke M001 --reason departed --confirm-by M002 \
	--confirm-by M003 --confirm-by M004
has "revoke: the confirmer cap is named" "$T/err" "--confirm-by may be given at most 2 times"
run "revoke --confirm-by without a value" 2 revoke M001 --reason departed --confirm-by
run "revoke reaches the daemon" 3 $NOSOCK revoke M001 --reason transferred --confirm-by M002 \
	--confirm-by M003
run "staff nationality without --purpose" 2 staff nationality M002
run "staff nationality: a purpose of 3 characters" 2 staff nationality M002 --purpose abc
has "staff nationality: the purpose rule is named" "$T/err" "in at least 4 characters"
run "staff nationality: 4 characters padded with blanks are enough" 3 $NOSOCK \
	staff nationality M002 --purpose "  abcd "
run "staff nationality: 3 characters padded with blanks are not" 2 \
	staff nationality M002 --purpose "   abc   "
run "staff nationality: 4 Japanese characters" 3 $NOSOCK staff nationality M002 --purpose "漏えい調査"
run "staff nationality: a purpose over 256 bytes" 2 staff nationality M002 \
	--purpose "$(printf 'p%.0s' $(seq 1 257))"
run "staff nationality: a control character in the purpose" 2 staff nationality M002 \
	--purpose "$(printf 'leak\ttrace')"
run "staff nationality: invalid matching ID" 2 staff nationality ../x --purpose "leak trace"
run "staff history without an ID" 2 staff history
run "staff history: extra argument" 2 staff history M001 M002
run "staff history reaches the daemon" 3 $NOSOCK staff history M001

# disposal: the plan's fields, numbers and report formats, checked before connecting.
PLAN="--items templates --media SSD --count 4 --method erase"
run "disposal plan without --date" 2 disposal plan $PLAN
run "disposal plan without --items" 2 disposal plan --media SSD --count 4 --method erase \
	--date 2026-12-01
run "disposal plan: empty --method" 2 disposal plan --items t --media SSD --count 4 \
	--method "" --date 2026-12-01
run "disposal plan: February 30th" 2 disposal plan $PLAN --date 2026-02-30
has "disposal plan: bad date named" "$T/err" "invalid date '2026-02-30' for --date"
run "disposal plan: a negative count" 2 disposal plan $PLAN --date 2026-12-01 --count -1
run "disposal plan: a count with a sign" 2 disposal plan --items t --media m --method x \
	--count +4 --date 2026-12-01
run "disposal plan: a count too large" 2 disposal plan --items t --media m --method x \
	--count 1000000001 --date 2026-12-01
run "disposal plan: a count that is not a number" 2 disposal plan --items t --media m \
	--method x --count four --date 2026-12-01
has "disposal plan: the count rule is named" "$T/err" "give a whole number from 0 to 1000000000"
run "disposal plan: an extra argument" 2 disposal plan $PLAN --date 2026-12-01 now
run "disposal plan reaches the daemon" 3 $NOSOCK disposal plan $PLAN --date 2026-12-01
run "disposal approve without an ID" 2 disposal approve
run "disposal approve: ID 0" 2 disposal approve 0
run "disposal approve: ID not a number" 2 disposal approve 1x
has "disposal approve: the ID rule is named" "$T/err" "invalid disposal number '1x'"
run "disposal approve: three --confirm-by" 2 disposal approve 1 --confirm-by A1 \
	--confirm-by A2 --confirm-by A3
run "disposal approve reaches the daemon" 3 $NOSOCK disposal approve 1 --confirm-by M002
run "disposal execute: a negative ID" 2 disposal execute -- -1
run "disposal execute takes no --confirm-by" 2 disposal execute 1 --confirm-by M002
run "disposal execute reaches the daemon" 3 $NOSOCK disposal execute 7
run "disposal report: unknown format" 2 disposal report 1 --format pdf
has "disposal report: the formats are named" "$T/err" "use json or html"
run "disposal report: --output without --format" 2 disposal report 1 --output "$T/r.html"
run "disposal report: an empty --output" 2 disposal report 1 --format html --output ""
: >"$T/exists.html"
run "disposal report: an existing --output" 6 $NOSOCK disposal report 1 --format html \
	--output "$T/exists.html"
if [ -s "$T/exists.html" ]; then bad "disposal report wrote to an existing file"; else ok "disposal report leaves an existing file alone"; fi
run "disposal report reaches the daemon; no file left" 3 $NOSOCK disposal report 1 \
	--format html --output "$T/new.html"
if [ -e "$T/new.html" ]; then bad "disposal report left a partial file"; else ok "disposal report removes its file on failure"; fi
run "audit export: three --confirm-by" 2 audit export --format csv --confirm-by A1 \
	--confirm-by A2 --confirm-by A3
run "audit export: invalid --confirm-by" 2 audit export --format csv --confirm-by "a b"
run "audit export with --confirm-by reaches the daemon" 3 $NOSOCK audit export --format csv \
	--confirm-by M002 --confirm-by M003

run "daemon absent" 3 --socket /nonexistent/io.biogate status
has "daemon absent: English message" "$T/err" \
	"biogatectl: the biogate service is not running (no answer at /nonexistent/io.biogate)"
run "daemon absent, options after the command" 3 staff list --socket /nonexistent/io.biogate
run "daemon absent with --json" 3 --json --socket /nonexistent/io.biogate sessions
if [ -s "$T/out" ]; then bad "--json printed something without an answer"; else ok "--json stdout empty without an answer"; fi
env -u LANGUAGE LC_ALL=C.UTF-8 BIOGATE_SOCKET=/nonexistent/from-env "$CTL" status \
	>"$T/out" 2>"$T/err"
got=$?
if [ $got = 3 ] && grep -qF /nonexistent/from-env "$T/err"; then
	ok "BIOGATE_SOCKET is used"
else
	bad "BIOGATE_SOCKET is used: exit $got"
fi

if locale -a 2>/dev/null | grep -qix 'c\.utf-\?8'; then
	LANG_ENV="LANGUAGE=ja"
	run "daemon absent (Japanese)" 3 --socket /nonexistent/io.biogate status
	has "daemon absent: Japanese message" "$T/err" \
		"biogatectl: biogate サービスが動いていません（/nonexistent/io.biogate から応答がありません）"
	run "invalid matching ID (Japanese)" 2 staff show "bad id"
	has "usage error in Japanese" "$T/err" "照合ID「bad id」が不正です"
	run "bad date (Japanese)" 2 staff edit M001 --pledge-date 2026-02-30
	has "bad date in Japanese" "$T/err" "--pledge-date の日付「2026-02-30」が不正です"
	printf '%s,2026-04-01,09:00,17:00\n' "$(printf 'x%.0s' $(seq 1 200))" >"$C/long.csv"
	run "schedule file error (Japanese)" 2 schedule import --dry-run "$C/long.csv"
	has "schedule file error in Japanese names the file" "$T/err" "$C/long.csv:1: 1 番目の項目が 128 バイトを超えています"
	run "purpose too short (Japanese)" 2 staff nationality M002 --purpose abc
	has "purpose rule in Japanese" "$T/err" "利用目的には国籍を参照する理由を 4 文字以上で記入してください"
	run "unknown revoke reason (Japanese)" 2 revoke M001 --reason fired
	has "revoke reason in Japanese" "$T/err" "不明な理由「fired」です"
	run "--help (Japanese)" 0 --help
	has "--help in Japanese" "$T/out" "終了ステータス:"
	LANG_ENV=
else
	echo "skip: the C.UTF-8 locale is missing, so Japanese messages cannot be checked"
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
