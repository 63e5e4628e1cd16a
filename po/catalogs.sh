#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The message catalogs' upkeep, kept in one place so that the check and the update extract
# strings the same way (the same keywords as the sources' _() and N_() macros).
#
#   catalogs.sh check  SRCDIR WORKDIR   fails when a source string is missing from ja.po, or
#                                       is untranslated or fuzzy there (CTest po-complete)
#   catalogs.sh update SRCDIR WORKDIR   regenerates po/biogate.pot, merges it into every
#                                       catalog in LINGUAS and refills en.po (msgen)
#
# Exit 77 (skip) when the gettext tools are missing.
set -eu

mode=$1
src=$2
work=$3

for tool in xgettext msgcmp msgattrib msgfmt msgmerge msgen; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "catalogs.sh: $tool not found (package gettext); skipping" >&2
		exit 77
	fi
done

mkdir -p "$work"
pot=$work/biogate.pot
grep -v '^#' "$src/po/POTFILES" | grep -v '^[[:space:]]*$' >"$work/POTFILES"
xgettext --language=C --from-code=UTF-8 --keyword=_ --keyword=N_ \
	--add-comments=TRANSLATORS: --package-name=biogate \
	--msgid-bugs-address=biogate@biogate.invalid --copyright-holder="the biogate authors" \
	--directory="$src" --files-from="$work/POTFILES" --output="$pot"

case $mode in
check)
	status=0
	# Every msgid of the sources must be in ja.po (fuzzy entries do not count).
	if ! msgcmp "$src/po/ja.po" "$pot"; then
		echo "po-complete: ja.po lacks messages of the sources (run the biogate-po-update target)" >&2
		status=1
	fi
	untranslated=$(msgattrib --untranslated --no-obsolete --no-wrap "$src/po/ja.po" | grep -c '^msgid ' || true)
	fuzzy=$(msgattrib --only-fuzzy --no-obsolete --no-wrap "$src/po/ja.po" | grep -c '^msgid ' || true)
	if [ "$untranslated" -ne 0 ] || [ "$fuzzy" -ne 0 ]; then
		echo "po-complete: ja.po has untranslated or fuzzy messages:" >&2
		msgattrib --untranslated --no-obsolete "$src/po/ja.po" >&2 || true
		msgattrib --only-fuzzy --no-obsolete "$src/po/ja.po" >&2 || true
		status=1
	fi
	for po in "$src"/po/*.po; do
		msgfmt --check --output-file=/dev/null "$po" || status=1
	done
	[ $status -eq 0 ] && echo "po-complete: ja.po translates every message of the sources"
	exit $status
	;;
update)
	cp "$pot" "$src/po/biogate.pot"
	for lang in $(grep -v '^#' "$src/po/LINGUAS"); do
		msgmerge --quiet --update --backup=none --no-fuzzy-matching \
			"$src/po/$lang.po" "$src/po/biogate.pot"
		# Strings gone from the sources leave the catalog rather than pile up as #~.
		msgattrib --no-obsolete --output-file="$src/po/$lang.po" "$src/po/$lang.po"
	done
	msgen --output-file="$src/po/en.po" "$src/po/en.po"
	echo "Updated po/biogate.pot and the catalogs; translate what is new in po/ja.po"
	;;
*)
	echo "usage: catalogs.sh check|update SRCDIR WORKDIR" >&2
	exit 2
	;;
esac
