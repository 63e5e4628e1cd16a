#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A full disk survived (issue 15, item 5): the state directory on a 3 MB tmpfs, filled by
# another file while the daemon records decisions. Clients must hear io.biogate.DiskFull (a
# message they can show), not a closed connection; the log names ENOSPC once per window, not
# once per record; after space is freed the daemon records again; stopped and started again
# with only a little space free it starts, and the trail verifies.
#
# usage: diskfull.sh BIOGATED SENSOR BIOGATECTL PAM_MODULE PAMRUN VDEVCTL
set -u
BIOGATED=$1 SENSOR=$2 CTL=$3 MODULE=$4 PAMRUN=$5 VDEVCTL=$6
. "$(dirname "$0")/../integration/lib.sh"
it_init diskfull
export LC_ALL=C.UTF-8 LANGUAGE=en
mkdir -p "$T/vol"
mount -t tmpfs -o size=3m,mode=0700 tmpfs "$T/vol" ||
	{ echo "SKIP: cannot mount a tmpfs"; exit 77; }
it_cleanup() {
	[ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
	umount "$T/vol"
}
STATE=$T/vol/state

start_daemon || exit 1
"$CTL" staff add M001 --name "山田 太郎" --affiliation "委託事業者A" --nationality "日本" \
	--unix-user bga1 >/dev/null
check "the reserve is held beside the trail" [ -s "$STATE/audit.db.reserve" ]

# Fill the volume with someone else's file.
dd if=/dev/zero of="$T/vol/filler" bs=16k status=none 2>/dev/null
full=0 okn=0 other=0
for i in $(seq 1 400); do
	"$CTL" authorize search --key 123456789018 >"$T/out.$i" 2>&1
	rc=$?
	if grep -q "disk is full" "$T/out.$i"; then full=$((full + 1)); elif [ $rc = 1 ]; then
		okn=$((okn + 1)); else other=$((other + 1)); fi
	[ $full -ge 20 ] && break
done
echo "decisions recorded $okn, refused as disk full $full, other $other"
check "clients hear that the disk is full" [ $full -ge 20 ]
check "no client saw a closed connection" [ $other = 0 ]
check "the daemon is still running" kill -0 "$DAEMON_PID"
"$CTL" staff add M002 --name "佐藤 花子" --affiliation "委託事業者A" --nationality "日本" \
	--unix-user bga2 >"$T/out.staff" 2>&1
check "a roster change on the full disk: 'disk full' too" grep -q "disk is full" "$T/out.staff"
n=$(grep -c "ENOSPC" "$T/daemon.log")
check "ENOSPC named in the log, once per window ($n lines)" [ "$n" -ge 1 ] && [ "$n" -le 3 ]
check "the daemon log did not flood ($(wc -l <"$T/daemon.log") lines)" [ "$(wc -l <"$T/daemon.log")" -lt 60 ]

# Free the space: the daemon records again.
rm -f "$T/vol/filler"
"$CTL" authorize search --key 123456789018 >"$T/out.free" 2>&1
check "space freed: the next decision is recorded (exit 1, a denial)" [ $? = 1 ]
check "space freed: no disk-full message" sh -c "! grep -q 'disk is full' '$T/out.free'"
stop_daemon

# Stopped and started on a volume still full: it starts (SQLite opens without a -shm file,
# no bare "disk I/O error"), and what needs a record is answered "disk full".
dd if=/dev/zero of="$T/vol/filler2" bs=4k status=none 2>/dev/null
if start_daemon >/dev/null; then
	ok "starts on a full volume"
	"$CTL" authorize search --key 123456789018 >"$T/out.full" 2>&1
	check "on a full volume: a decision is answered 'disk full'" grep -q "disk is full" "$T/out.full"
	stop_daemon
else
	bad "starts on a full volume"
	[ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" && wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
fi
check "no bare disk I/O error at start" sh -c "! grep -q 'disk I/O error' '$T/daemon.log'"
rm -f "$T/vol/filler2"

# Fill again, leaving a little free, and start.
avail=$(df -B1 --output=avail "$T/vol" | tail -1)
fallocate -l $((avail - 300 * 1024)) "$T/vol/filler"
echo "free before start: $(df -B1K --output=avail "$T/vol" | tail -1) KiB"
start_daemon || { bad "starts with a little space free"; it_done; exit 1; }
ok "starts with a little space free"
check "the trail verifies after the full disk" "$CTL" audit verify
check "records again" sh -c "'$CTL' authorize search --key 123456789018 >/dev/null 2>&1; [ \$? = 1 ]"
stop_daemon
rm -f "$T/vol/filler"
it_done
