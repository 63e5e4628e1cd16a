#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Run by install.sh inside private mount and PID namespaces (every mount and process here
# ends with it). ROOT is a fresh Debian 12 root with the .deb files in /tmp/debs; VDEVCTL
# (host side) queues scans on the virtual reader through the socket inside ROOT.
# Usage: scenario.sh ROOT VDEVCTL
set -u
root=$1
vdevctl=$2
vdev=$root/tmp/vdev.sock
bdeb=$(cd "$root" && echo tmp/debs/biogate_*.deb)
pdeb=$(cd "$root" && echo tmp/debs/libpam-biogate_*.deb)

mount --make-rprivate /
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount --bind /sys "$root/sys" && mount -o remount,bind,ro "$root/sys"

export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 LANGUAGE='' LANG=''
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
rin() { chroot "$root" "$@"; }
pass=0 fail=0
ok() { echo "ok: $1"; pass=$((pass + 1)); }
bad() { echo "FAIL: $1"; fail=$((fail + 1)); }
check() { # check DESCRIPTION COMMAND...
	local d=$1
	shift
	if "$@" >/dev/null 2>&1; then ok "$d"; else bad "$d"; fi
}
finish() {
	[ -n "${daemon:-}" ] && kill "$daemon" 2>/dev/null
	if [ "$fail" != 0 ] && [ -s "$root/tmp/daemon.log" ]; then
		echo "daemon log:"
		tail -30 "$root/tmp/daemon.log" | sed 's/^/  /'
	fi
	echo "$pass passed, $fail failed"
	[ "$fail" = 0 ]
	exit
}
apt_in() { rin apt-get -q -y -o APT::Sandbox::User=root "$@" >>"$root/tmp/apt.log" 2>&1; }

# --- install, as an admin would --------------------------------------------------------
if apt_in install "/$bdeb" "/$pdeb"; then
	ok "apt install ./biogate_*.deb ./libpam-biogate_*.deb"
else
	bad "apt install"
	tail -30 "$root/tmp/apt.log"
	finish
fi
for p in biogate libpam-biogate; do
	missing=$(rin dpkg -L "$p" | while read -r f; do
		[ -e "$root$f" ] || [ -L "$root$f" ] || echo "$f"
	done)
	if [ -z "$missing" ]; then ok "every file of $p landed"; else bad "$p files missing: $missing"; fi
done
check "system user biogate" rin getent passwd biogate
check "group biogate-admin" rin getent group biogate-admin
check "group biogate-exempt" rin getent group biogate-exempt
check "state directory made by tmpfiles (biogate, 0700)" \
	test "$(rin stat -c '%U %a' /var/lib/biogate)" = "biogate 700"
check "socket enabled" test -L "$root/etc/systemd/system/sockets.target.wants/biogated.socket"
# Socket activation only (issue 10, scenario 1): the daemon starts on its first call.
check "service not started at boot by itself" \
	test ! -e "$root/etc/systemd/system/multi-user.target.wants/biogated.service"
check "journal catalog updated (trigger)" \
	sh -c "chroot '$root' journalctl --list-catalog | grep -q 03dd1ee11ab84fd59586b5288facdafe"
check "example settings installed as a conffile" \
	sh -c "chroot '$root' dpkg-query -W -f='\${Conffiles}' biogate | grep -q /etc/biogate/biogate.conf"
for page in biogatectl.1 biogate-audit-verify.1 biogated.8 biogated-sensor.8 pam_biogate.8 biogate.conf.5 biogate-policy.5; do
	check "man ${page%.*}(${page##*.}) installed and renders" \
		sh -c "chroot '$root' man ${page##*.} ${page%.*} 2>/dev/null | grep -q SYNOPSIS"
done
# verify runs man for each Documentation= entry, so a page the unit names must be installed.
check "systemd-analyze verify: the units and their Documentation= pages" \
	rin systemd-analyze verify /lib/systemd/system/biogated.service /lib/systemd/system/biogated.socket
exposure=$(rin systemd-analyze security --offline=true /lib/systemd/system/biogated.service 2>&1 |
	sed -n 's/.*Overall exposure level for biogated.service: \([0-9.]*\).*/\1/p')
check "systemd-analyze security: exposure ${exposure:-?} <= 1.0" \
	sh -c "echo '${exposure:-99} <= 1.0' | bc | grep -qx 1"

# --- the stacks pam-auth-update wrote --------------------------------------------------
pamd=$root/etc/pam.d
line() { grep -n "$2" "$pamd/$1" | grep -v '^[0-9]*:#' | head -1 | cut -d: -f1; }
for f in common-auth common-account common-session; do
	check "pam-auth-update put pam_biogate in $f" grep -q '^[^#].*pam_biogate.so' "$pamd/$f"
	check "$f: the biogate-exempt skip comes first" \
		test "$(line "$f" 'ingroup biogate-exempt')" -eq "$(($(line "$f" pam_biogate.so) - 1))"
done
check "not in common-session-noninteractive (cron, systemd --user)" \
	sh -c "! grep -q pam_biogate '$pamd/common-session-noninteractive'"
check "auth: pam_biogate before pam_unix" \
	test "$(line common-auth pam_biogate.so)" -lt "$(line common-auth pam_unix.so)"
check "session: pam_biogate after pam_systemd" \
	test "$(line common-session pam_biogate.so)" -gt "$(line common-session pam_systemd.so)"
printf '@include common-auth\n@include common-account\n@include common-session\n' \
	>"$pamd/biogate-check"

# --- people ----------------------------------------------------------------------------
rin useradd -m -s /bin/sh staff1
rin useradd -m -s /bin/sh -G biogate-exempt cityadmin
rin useradd -m -s /bin/sh plainuser
printf 'staff1:pw-staff\ncityadmin:pw-admin\nplainuser:pw-plain\n' | rin chpasswd

# --- the installed daemon, as its user, on the virtual reader ---------------------------
start_daemon() {
	mkdir -p "$root/run/biogate"
	rin chown biogate:biogate /run/biogate
	chroot "$root" setpriv --reuid=biogate --regid=biogate --init-groups \
		env FP_VIRTUAL_DEVICE=/tmp/vdev.sock FP_DRIVERS_WHITELIST=virtual_device \
		/usr/sbin/biogated --foreground 2>>"$root/tmp/daemon.log" &
	daemon=$!
	for _ in $(seq 1 100); do
		[ "$(rin sh -c 'biogatectl --json status 2>/dev/null | jq -r .reader.present')" = true ] &&
			return 0
		sleep 0.1
	done
	return 1
}
stop_daemon() {
	kill "$daemon" 2>/dev/null
	wait "$daemon" 2>/dev/null
	daemon=
}
if start_daemon; then ok "biogated (installed, as biogate) answers with the reader"; else
	bad "biogated did not come up"
	finish
fi
scans() { local _; for _ in $(seq 1 "$2"); do "$vdevctl" "$vdev" "SCAN $1"; done; }
check "staff add" rin biogatectl staff add M001 --name "Yamada Taro" --affiliation "Contractor A" \
	--nationality Japan --unix-user staff1
check "pledge and training" rin biogatectl staff edit M001 --pledge-date 2026-01-05 \
	--training-date 2026-01-06
scans finger-staff1 5
check "enroll" rin biogatectl enroll M001 --finger right-index
check "operator grant" rin biogatectl operator grant M001 OP-0001 --role counter

# pamtester through /etc/pam.d/common-*: each login gets the user's password on stdin, so a
# password prompt the stack should not show would be answered and seen.
out='' rc=''
login() { # login USER PASSWORD [pamtester -I ITEM=VALUE]: auth, account, session open, close
	out=$(printf '%s\n' "$2" | chroot "$root" pamtester -v ${3:+-I "$3"} biogate-check "$1" \
		authenticate acct_mgmt open_session close_session 2>&1)
	rc=$?
}
says() { printf '%s\n' "$out" | grep -q "$1"; }
asked_password() { printf '%s\n' "$out" | grep -qi 'password:'; }
show() { printf '%s\n' "$out" | sed 's/^/    | /'; }

scans finger-staff1 1
login staff1 pw-staff
if [ "$rc" = 0 ] && says 'Place your finger' && ! asked_password; then
	ok "roster member, right finger: logged in, no password asked"
else bad "roster member, right finger (rc $rc)"; show; fi

scans finger-someone-else 1
login staff1 pw-staff
if [ "$rc" != 0 ] && says 'does not match' && ! asked_password; then
	ok "roster member, wrong finger: refused, no password fallback"
else bad "roster member, wrong finger (rc $rc)"; show; fi

login plainuser pw-plain
if [ "$rc" = 0 ] && asked_password; then
	ok "not on the roster: falls through to the password (auth, account, session)"
else bad "not on the roster (rc $rc)"; show; fi

login plainuser pw-plain rhost=remote.example
if [ "$rc" = 0 ] && asked_password; then
	ok "not on the roster, from another host (ssh): falls through to the password"
else bad "not on the roster, remote (rc $rc)"; show; fi
login staff1 pw-staff rhost=remote.example
if [ "$rc" != 0 ] && says 'only possible at the terminal' && ! asked_password; then
	ok "roster member from another host: refused, no password fallback"
else bad "roster member, remote (rc $rc)"; show; fi

login cityadmin wrong-password
if [ "$rc" != 0 ]; then ok "exempt admin, wrong password: refused"; else bad "exempt admin, wrong password"; show; fi

stop_daemon
login cityadmin pw-admin
if [ "$rc" = 0 ]; then ok "exempt admin, daemon stopped: password accepted"; else
	bad "exempt admin, daemon stopped (rc $rc)"; show; fi
login plainuser pw-plain
if [ "$rc" != 0 ] && says 'unavailable' && ! asked_password; then
	ok "not on the roster, not exempt, daemon stopped: refused (fail closed)"
else bad "not exempt, daemon stopped (rc $rc)"; show; fi
login staff1 pw-staff
if [ "$rc" != 0 ] && ! asked_password; then ok "roster member, daemon stopped: refused, no password"; else
	bad "roster member, daemon stopped (rc $rc)"; show; fi

# --- remove, then purge -----------------------------------------------------------------
if apt_in remove libpam-biogate; then ok "apt remove libpam-biogate"; else bad "apt remove libpam-biogate"; fi
check "after remove: no pam_biogate in /etc/pam.d" sh -c "! grep -rq pam_biogate '$pamd'"
check "after remove: the module is gone" sh -c "! ls '$root'/lib/*/security/pam_biogate.so"
login cityadmin pw-admin
if [ "$rc" = 0 ]; then ok "after remove: exempt admin logs in"; else bad "after remove: exempt admin (rc $rc)"; show; fi
login plainuser pw-plain
if [ "$rc" = 0 ]; then ok "after remove: others log in by password"; else bad "after remove: plainuser (rc $rc)"; show; fi

if apt_in purge biogate libpam-biogate; then ok "apt purge biogate libpam-biogate"; else bad "apt purge"; fi
check "after purge: no pam_biogate in /etc/pam.d" sh -c "! grep -rq pam_biogate '$pamd'"
check "after purge: the audit trail is kept" test -s "$root/var/lib/biogate/audit.db"
check "after purge: conffiles gone" test ! -e "$root/etc/biogate/biogate.conf"
login cityadmin pw-admin
if [ "$rc" = 0 ]; then ok "after purge: exempt admin logs in"; else bad "after purge: exempt admin (rc $rc)"; show; fi

# The deliberate way to delete the trail.
apt_in install "/$bdeb"
if BIOGATE_PURGE_STATE=yes apt_in purge biogate && [ ! -e "$root/var/lib/biogate" ]; then
	ok "BIOGATE_PURGE_STATE=yes apt purge biogate deletes the state"
else bad "BIOGATE_PURGE_STATE=yes purge"; fi

finish
