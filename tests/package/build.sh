#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# package-build: dpkg-buildpackage -us -uc -b on a clean copy of the source tree, then
# lintian on the result; any lintian error fails. The .deb files are left in OUT/debs for
# package-install (and for the booted system test). Usage: build.sh SOURCE_DIR OUT_DIR
set -eu
src=$1
out=$2
for t in dpkg-buildpackage dh lintian pandoc cmake; do
	command -v "$t" >/dev/null || { echo "SKIP: $t is not installed (scripts/deps.sh)"; exit 77; }
done

rm -rf "$out/src" "$out/debs"
mkdir -p "$out/src/biogate" "$out/debs"
# A clean checkout: the files git knows (committed or not yet), never a build directory.
if git -C "$src" rev-parse --show-toplevel >/dev/null 2>&1; then
	(cd "$src" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 tar -cf - --no-recursion) | tar -xf - -C "$out/src/biogate"
else
	(cd "$src" && tar -cf - --exclude='./build*' --exclude='./obj-*' .) |
		tar -xf - -C "$out/src/biogate"
fi
cd "$out/src/biogate"
dpkg-checkbuilddeps || { echo "FAIL: build dependencies missing (debian/control, scripts/deps.sh)"; exit 1; }
DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b >"$out/build.log" 2>&1 || {
	tail -40 "$out/build.log"
	echo "FAIL: dpkg-buildpackage"
	exit 1
}
cd "$out/src"
mv ./*.deb ./*.changes ./*.buildinfo "$out/debs/"
for f in "$out"/debs/biogate_*.deb "$out"/debs/libpam-biogate_*.deb; do
	echo "$(basename "$f"): $(stat -c %s "$f") bytes, Installed-Size $(dpkg-deb -f "$f" Installed-Size) KiB"
done

# lintian refuses to run as root without a note; its tags are what count.
lintian --tag-display-limit 0 "$out"/debs/*.changes >"$out/lintian.log" 2>&1 || true
# A .changes naming a file that is not there makes lintian skip everything and say nothing.
if grep -q '^Skipping\|No packages selected' "$out/lintian.log"; then
	cat "$out/lintian.log"
	echo "FAIL: lintian checked nothing"
	exit 1
fi
errors=$(grep -c '^E: ' "$out/lintian.log" || true)
warnings=$(grep -c '^W: ' "$out/lintian.log" || true)
grep -E '^[EW]: ' "$out/lintian.log" || true
echo "lintian: $errors errors, $warnings warnings"
if [ "$errors" != 0 ]; then
	echo "FAIL: lintian errors"
	exit 1
fi
echo "1 passed, 0 failed"
