#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds the system test's Debian 12 guest: a base root from Debian's packages (mmdebstrap,
# cached under $CACHE as a speed-up only), then for this run the biogate .deb files installed
# with `apt-get install ./*.deb` in a chroot, the test's users, units and drop-ins, and an
# ext4 image made from the tree (mkfs.ext4 -d: no loop device, no mount of the image).
#
# usage: image.sh DEBDIR WORKDIR CACHEDIR
# Leaves WORKDIR/disk.img, WORKDIR/vmlinuz, WORKDIR/initrd.img.
set -euo pipefail

DEBDIR=$1 WORK=$2 CACHE=$3
# Without BIOGATE_SYSTEST_MIRROR, mmdebstrap takes its own default, as tests/package does.
MIRROR=${BIOGATE_SYSTEST_MIRROR:-}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# What the scenarios need inside the guest, and biogate's runtime libraries so that the
# .deb files install without the network (apt falls back to the mirror if one is missing).
PKGS="linux-image-amd64 initramfs-tools systemd-sysv udev dbus polkitd login passwd
      libpam-runtime libpam-modules procps kmod util-linux netcat-openbsd jq less sqlite3
      usbutils psmisc python3-minimal
      libfprint-2-2 libglib2.0-0 libjson-c5 libinih1 libsqlite3-0 libssl3 libsystemd0 libpam0g"
PKGS=$(printf '%s' "$PKGS" | tr -s ' \n' ',,')

mkdir -p "$CACHE" "$WORK"
key=$(printf '%s\n' "bookworm" "$MIRROR" "$PKGS" "v1" | sha256sum | cut -c1-16)
base=$CACHE/base-$key.tar
if [ ! -s "$base" ]; then
	echo "image: building the base root (mmdebstrap bookworm, not cached yet)"
	mmdebstrap --variant=apt --mode=root --format=tar --include="$PKGS" \
		--aptopt='Acquire::Retries "3"' \
		bookworm "$base.tmp" ${MIRROR:+"$MIRROR"}
	mv "$base.tmp" "$base"
	# Bases of other package lists are of no use any more.
	find "$CACHE" -maxdepth 1 -name 'base-*.tar' ! -name "${base##*/}" -delete
else
	echo "image: base root from the cache ($base)"
fi

ROOT=$WORK/root
rm -rf "$ROOT"
mkdir -p "$ROOT"
tar -C "$ROOT" --numeric-owner -xpf "$base"

cleanup_mounts() {
	for m in dev/pts dev proc; do
		mountpoint -q "$ROOT/$m" && umount -l "$ROOT/$m"
	done
	return 0
}
trap cleanup_mounts EXIT
mount -t proc proc "$ROOT/proc"
mount --bind /dev "$ROOT/dev"
mount --bind /dev/pts "$ROOT/dev/pts"
# No /sys: udevadm in a maintainer script must never reach the host's devices.
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
in_root() { chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 "$@"; }

# --- the packages under test --------------------------------------------------------------
if [ "${BIOGATE_SYSTEST_NO_DEBS:-0}" = 1 ]; then
	echo "image: BIOGATE_SYSTEST_NO_DEBS=1: no biogate packages (harness development only)"
else
mkdir -p "$ROOT/tmp/debs"
# Debug symbols are not part of a terminal's install.
find "$DEBDIR" -maxdepth 1 -name '*.deb' ! -name '*-dbgsym_*' -exec cp -t "$ROOT/tmp/debs/" {} +
ls "$ROOT/tmp/debs"
if ! in_root sh -c 'cd /tmp/debs && apt-get install -y --no-install-recommends ./*.deb' \
	>"$WORK/apt-install.log" 2>&1; then
	echo "image: offline install failed, updating the lists from the mirror and retrying"
	in_root apt-get update -q >>"$WORK/apt-install.log" 2>&1
	in_root sh -c 'cd /tmp/debs && apt-get install -y --no-install-recommends ./*.deb' \
		>>"$WORK/apt-install.log" 2>&1 || { cat "$WORK/apt-install.log"; exit 1; }
fi
tail -n 15 "$WORK/apt-install.log"
rm -rf "$ROOT/tmp/debs"
fi

# --- the machine --------------------------------------------------------------------------
echo biogate-test >"$ROOT/etc/hostname"
printf '127.0.1.1\tbiogate-test\n' >>"$ROOT/etc/hosts"
echo '/dev/vda / ext4 rw,errors=remount-ro 0 1' >"$ROOT/etc/fstab"
mkdir -p "$ROOT/var/log/journal"
# Units that cost boot time under TCG and do nothing for the test.
for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service \
	fstrim.timer man-db.timer dpkg-db-backup.timer serial-getty@ttyS0.service \
	systemd-networkd-wait-online.service; do
	ln -sf /dev/null "$ROOT/etc/systemd/system/$u"
done

# The person's console: a getty on hvc0 (virtconsole); login(1) runs the real PAM stack.
mkdir -p "$ROOT/etc/systemd/system/getty.target.wants"
ln -sf /lib/systemd/system/serial-getty@.service \
	"$ROOT/etc/systemd/system/getty.target.wants/serial-getty@hvc0.service"
# The test driver's root shell: bash on a virtio-serial port, outside any login or PAM stack
# (a command channel, not a console; it restarts when the host reconnects).
cat >"$ROOT/etc/systemd/system/systest-shell.service" <<'EOF'
[Unit]
Description=system test driver shell (virtio-serial port systest.shell)
DefaultDependencies=no
After=systemd-udevd.service systemd-journald.socket
[Service]
Environment=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 TERM=dumb SYSTEMD_PAGER= SYSTEMD_COLORS=0
WorkingDirectory=/root
ExecStart=/bin/sh -c 'while [ ! -e /dev/virtio-ports/systest.shell ]; do sleep 0.2; done; exec /bin/bash --noprofile --norc <>/dev/virtio-ports/systest.shell >&0 2>&0'
Restart=always
RestartSec=0.5
[Install]
WantedBy=sysinit.target
EOF
mkdir -p "$ROOT/etc/systemd/system/sysinit.target.wants"
ln -sf ../systest-shell.service "$ROOT/etc/systemd/system/sysinit.target.wants/"

# The reader: libfprint's virtual_device, fed from the driver's shell through its socket.
mkdir -p "$ROOT/etc/systemd/system/biogated.service.d"
cat >"$ROOT/etc/systemd/system/biogated.service.d/50-systest.conf" <<'EOF'
[Service]
Environment=FP_VIRTUAL_DEVICE=/run/biogate/vdev.sock FP_DRIVERS_WHITELIST=virtual_device
EOF
install -m 0755 "$HERE/guest/vdev" "$ROOT/usr/local/bin/vdev"
install -m 0755 "$HERE/guest/systest-notify" "$ROOT/usr/local/bin/systest-notify"

# --- people -------------------------------------------------------------------------------
# yamada, sato, suzuki: on the roster (enrolled by the scenarios); cityadmin: the exempt
# admin with a password; visitor: a local user not on the roster, with a password.
# shellcheck disable=SC2016 # expanded by the chroot's shell
in_root sh -e -c '
	for u in yamada sato suzuki cityadmin visitor; do useradd -m -s /bin/bash "$u"; done
	echo root:root-pw | chpasswd
	echo cityadmin:admin-pw | chpasswd
	echo visitor:visitor-pw | chpasswd
	echo yamada:yamada-pw | chpasswd
	echo sato:sato-pw | chpasswd
	if getent group biogate-exempt >/dev/null; then usermod -aG biogate-exempt cityadmin;
	else echo "image: NOTE: no group biogate-exempt after installing the packages"; fi
'
in_root sh -c 'getent group biogate-exempt; id cityadmin; dpkg -l "*biogate*" | tail -n +6'

cp "$ROOT"/boot/vmlinuz-* "$WORK/vmlinuz"
cp "$ROOT"/boot/initrd.img-* "$WORK/initrd.img"
cleanup_mounts
rm -f "$ROOT/etc/resolv.conf"

rm -f "$WORK/disk.img"
truncate -s 3G "$WORK/disk.img"
mkfs.ext4 -q -F -L root -d "$ROOT" "$WORK/disk.img"
rm -rf "$ROOT"
echo "image: $WORK/disk.img ready"
