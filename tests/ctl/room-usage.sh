#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The room log, monthly report and USB commands of biogatectl with no daemon: every usage
# error is caught before a socket is opened (exit 2, and no file is created), and a valid
# command then fails only for want of the daemon (exit 3). Japanese is checked under
# C.UTF-8 with LANGUAGE=ja, as in offline.sh.
set -u
CTL=$1
LOCALEDIR=$2

T=$(mktemp -d /tmp/biogatectl-room.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { echo "ok: $1"; pass=$((pass + 1)); }
bad() { echo "FAIL: $1"; fail=$((fail + 1)); }

run() { # run NAME EXPECTED_EXIT ARGS...: output in $T/out and $T/err
	name=$1 want=$2
	shift 2
	env -u LANGUAGE LC_ALL=C.UTF-8 BIOGATE_LOCALEDIR="$LOCALEDIR" \
		BIOGATE_SOCKET=/nonexistent/io.biogate ${LANG_ENV:-} "$CTL" "$@" >"$T/out" 2>"$T/err"
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
for cmd in "room enter" "room leave" "room list" "report monthly" "usb allow" "usb revoke" \
	"usb list"; do
	if grep -q "^  $cmd\b" "$T/out"; then ok "--help lists '$cmd'"; else bad "--help lacks '$cmd'"; fi
done

# --- room -----------------------------------------------------------------------------------
run "room without a subcommand" 2 room
run "room enter without options" 2 room enter
has "names the first missing option" "$T/err" "the option --name is required"
run "room enter without --purpose" 2 room enter --name a --affiliation b
has "names --purpose" "$T/err" "the option --purpose is required"
run "room enter with an empty --name" 2 room enter --name "" --affiliation b --purpose c
has "empty --name" "$T/err" "the option --name must not be empty"
long=$(printf '%0129d' 0)
run "room enter with a 129-byte --affiliation" 2 room enter --name a --affiliation "$long" \
	--purpose c
has "too long names the limit" "$T/err" "at most 128 bytes"
run "room enter with a control character" 2 room enter --name "$(printf 'a\tb')" \
	--affiliation b --purpose c
run "room enter with invalid UTF-8" 2 room enter --name "$(printf '\377')" --affiliation b \
	--purpose c
has "invalid UTF-8 said" "$T/err" "not valid UTF-8"
run "room enter with a positional argument" 2 room enter X --name a --affiliation b --purpose c
run "room enter, valid: needs the daemon" 3 room enter --name "山田 <b>" --affiliation "A&B" \
	--purpose "点検"
run "room leave without an entry" 2 room leave
has "names ENTRY_ID" "$T/err" "missing argument: ENTRY_ID"
for id in 0 -1 +5 abc 1x 99999999999999999999; do
	run "room leave $id" 2 room leave -- "$id"
done
has "bad entry number said" "$T/err" "invalid entry number '99999999999999999999'"
run "room leave with two entries" 2 room leave 1 2
run "room leave 7: needs the daemon" 3 room leave 7
for d in 2026-02-30 2026-13-01 2026-1-01 20261101 2026-11-01T10:00 ""; do
	run "room list --date '$d'" 2 room list --date "$d"
done
has "bad date names --date" "$T/err" "for --date"
run "room list --date without a value" 2 room list --date
run "room list with an argument" 2 room list 2026-11-01
run "room list --date 2024-02-29: needs the daemon" 3 room list --date 2024-02-29

# --- report -----------------------------------------------------------------------------------
run "report without a subcommand" 2 report
run "report monthly without a month" 2 report monthly
has "names YYYY-MM" "$T/err" "missing argument: YYYY-MM"
for m in 2026-13 2026-00 2026-1 202611 2026-11-01 26-11 abcd-ef; do
	run "report monthly $m" 2 report monthly "$m"
done
has "bad month said" "$T/err" "invalid month 'abcd-ef': give YYYY-MM"
run "report monthly --format pdf" 2 report monthly 2026-11 --format pdf
has "unknown format" "$T/err" "use json or html"
run "report monthly --output without --format" 2 report monthly 2026-11 --output "$T/r.html"
has "output without format said" "$T/err" "--output needs --format json or --format html"
run "report monthly --output ''" 2 report monthly 2026-11 --format html --output ""
if [ -e "$T/r.html" ]; then bad "a usage error created the output"; else ok "no file after a usage error"; fi
run "report monthly with two months" 2 report monthly 2026-10 2026-11
run "report monthly to a new file: needs the daemon" 3 report monthly 2026-11 --format json \
	--output "$T/r.json"
if [ -e "$T/r.json" ]; then bad "the output of a failed report was left behind"; else ok "the failed report's file is removed"; fi
: >"$T/exists.html"
run "report monthly to an existing file" 6 report monthly 2026-11 --format html \
	--output "$T/exists.html"
has "existing file named" "$T/err" "cannot create $T/exists.html: File exists"
if [ -e "$T/exists.html" ] && [ ! -s "$T/exists.html" ]; then ok "the existing file is kept as it was"; else bad "the existing file was touched"; fi

# --- usb ------------------------------------------------------------------------------------------
run "usb without a subcommand" 2 usb
run "usb allow without a serial" 2 usb allow
has "names SERIAL" "$T/err" "missing argument: SERIAL"
run "usb allow with a space in the serial" 2 usb allow "AB C"
has "bad serial said" "$T/err" "invalid serial number 'AB C'"
run "usb allow with a non-ASCII serial" 2 usb allow "ＡＢＣ"
run "usb allow with an empty serial" 2 usb allow ""
run "usb allow with a 127-byte serial" 2 usb allow "$(printf '%0127d' 0)"
run "usb allow with a 257-byte note" 2 usb allow ABC123 --note "$(printf '%0257d' 0)"
has "note limit" "$T/err" "at most 256 bytes"
run "usb allow --note without a value" 2 usb allow ABC123 --note
run "usb revoke --note is not an option" 2 usb revoke ABC123 --note x
run "usb revoke without a serial" 2 usb revoke
run "usb list with an argument" 2 usb list ABC123
run "usb allow, valid: needs the daemon" 3 usb allow ABC123 --note "会議用"
run "usb list: needs the daemon" 3 usb list

if locale -a 2>/dev/null | grep -qix 'c\.utf-\?8'; then
	LANG_ENV="LANGUAGE=ja"
	run "bad month (Japanese)" 2 report monthly 2026-13
	has "bad month in Japanese" "$T/err" "月「2026-13」が正しくありません。YYYY-MM の形で指定してください"
	run "bad entry number (Japanese)" 2 room leave abc
	has "bad entry number in Japanese" "$T/err" "入室番号「abc」が正しくありません"
	run "bad date (Japanese)" 2 room list --date 2026-02-30
	has "bad date in Japanese" "$T/err" "--date の日付「2026-02-30」が不正です"
	run "bad serial (Japanese)" 2 usb allow "AB C"
	has "bad serial in Japanese" "$T/err" "シリアル番号「AB C」が正しくありません"
	run "output without format (Japanese)" 2 report monthly 2026-11 --output x
	has "output without format in Japanese" "$T/err" "--output には --format json または --format html の指定が必要です"
	run "--help (Japanese)" 0 --help
	has "--help in Japanese lists room enter" "$T/out" "来訪者の作業区域への入室を記録します"
	LANG_ENV=
else
	echo "skip: the C.UTF-8 locale is missing, so Japanese messages cannot be checked"
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
