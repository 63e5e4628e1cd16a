#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# pam-exports: pam_biogate.so exports the PAM entry points and nothing else, and links
# neither GLib nor libfprint. Usage: exports.sh MODULE
set -eu
mod=$1
fail=0

syms=$(nm -D --defined-only "$mod" | awk '{ print $NF }')
for want in pam_sm_authenticate pam_sm_setcred pam_sm_acct_mgmt pam_sm_open_session \
	pam_sm_close_session; do
	if ! printf '%s\n' "$syms" | grep -qx "$want"; then
		echo "FAIL: $want is not exported"
		fail=1
	fi
done
# Besides pam_sm_*, only symbols the linker itself defines may appear.
extra=$(printf '%s\n' "$syms" | grep -vxE \
	'pam_sm_(authenticate|setcred|acct_mgmt|open_session|close_session)|_init|_fini|_edata|_end|__bss_start' \
	|| true)
if [ -n "$extra" ]; then
	echo "FAIL: unexpected exported symbols:"
	printf '  %s\n' $extra
	fail=1
fi

deps=$(ldd "$mod")
if printf '%s\n' "$deps" | grep -E 'lib(glib|gio|gobject|gmodule)-2\.0|libfprint'; then
	echo "FAIL: the module links GLib or libfprint"
	fail=1
fi

[ $fail -eq 0 ] && echo "ok: exports and dependencies of $mod"
exit $fail
