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
for cmd in "status" "staff add" "staff list" "staff show" "enroll" "operator grant" "verify" \
	"sessions"; do
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
	run "--help (Japanese)" 0 --help
	has "--help in Japanese" "$T/out" "終了ステータス:"
	LANG_ENV=
else
	echo "skip: the C.UTF-8 locale is missing, so Japanese messages cannot be checked"
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
