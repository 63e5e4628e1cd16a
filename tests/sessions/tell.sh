#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# biogate-tell, the writer of biogated's warnings behind biogate-tell.socket: the line reaches
# a pseudo terminal with its control characters replaced; what is not a terminal (a device
# like /dev/null, a file, a path outside /dev) is refused.
#
# usage: tell.sh BIOGATE_TELL SRCDIR
set -u
TELL=$1 SRC=$2
PY=/usr/bin/python3
[ -x "$PY" ] || { echo "SKIP: no /usr/bin/python3"; exit 77; }
T=$(mktemp -d /tmp/biogate-tell.XXXXXX)
PTY_PID=
trap '[ -n "$PTY_PID" ] && kill "$PTY_PID" 2>/dev/null; rm -rf "$T"' EXIT
pass=0 fail=0
check() { local d=$1; shift; if "$@" >/dev/null 2>&1; then echo "ok: $d"; pass=$((pass + 1)); else echo "FAIL: $d"; fail=$((fail + 1)); fi; }

"$PY" "$SRC/pty.py" "$T/pty.path" "$T/pty.log" &
PTY_PID=$!
for _ in $(seq 1 50); do [ -f "$T/pty.path" ] && break; sleep 0.1; done
P=$(cat "$T/pty.path")
printf '%s\nbiogate: you will be logged off soon' "$P" | "$TELL"
check "a warning to a pseudo terminal: exit 0" [ $? = 0 ]
printf '%s\nA\033[2JB' "$P" | "$TELL"
for _ in $(seq 1 30); do grep -q "A \[2JB" "$T/pty.log" 2>/dev/null && break; sleep 0.1; done
check "the line reached the terminal" grep -q "biogate: you will be logged off soon" "$T/pty.log"
check "control characters are replaced" grep -q "A \[2JB" "$T/pty.log"
check "no escape character reached it" sh -c "! grep -q $(printf '\033') '$T/pty.log'"
printf '/dev/null\nx' | "$TELL" 2>"$T/err"
check "/dev/null is refused (exit 1)" [ $? = 1 ]
check "and said so" grep -q "not a terminal" "$T/err"
: >"$T/file"
printf '%s\nx' "$T/file" | "$TELL" 2>/dev/null
check "a path outside /dev is refused" [ $? = 1 ]
check "the file was not written" [ ! -s "$T/file" ]
printf 'no newline' | "$TELL" 2>/dev/null
check "a malformed request is refused" [ $? = 1 ]
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
