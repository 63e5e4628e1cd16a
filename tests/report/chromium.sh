#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# report-chromium: the monthly report, rendered from the fixture, printed to PDF and shot to
# PNG by headless Chromium (Debian's chromium package). Fails on a non-zero exit, a PDF
# without a page, a PNG of the wrong size, or any console error (a script, a resource the
# page's Content-Security-Policy refused, a parse error). A canary page with a blocked
# script proves first that this Chromium does report console errors on stderr.
# Usage: chromium.sh TEST_REPORT_RENDER FIXTURE.json
set -u
render=$1
fixture=$2
browser=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$browser" ]; then
	echo "SKIP: chromium not installed (Debian package chromium)"
	exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
	echo "FAIL: $*"
	exit 1
}

W=1024
H=1400
run_chromium() { # OUT_FLAG PAGE LOG
	# --no-sandbox: tests run as root in containers; the other flags keep Chromium off the
	# network it does not have. timeout bounds a hang.
	timeout 25 "$browser" --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking --disable-component-update \
		--disable-sync --disable-extensions --hide-scrollbars --mute-audio \
		--user-data-dir="$(mktemp -d -p "$work")" --enable-logging=stderr --v=0 \
		--window-size=$W,$H --run-all-compositor-stages-before-draw --no-pdf-header-footer \
		"$1" "file://$2" >"$3" 2>&1
}
# Console errors, as Chromium logs them: "CONSOLE" lines of an error, uncaught exceptions and
# what the Content-Security-Policy refused.
console_errors() {
	grep -E 'CONSOLE|Uncaught|Refused to|Content Security Policy' "$1" |
		grep -viE 'CONSOLE\([0-9]+\)\] "?(\[?(info|verbose|debug))' || true
}

# The canary: a page whose only script the policy refuses must produce a console error.
cat >"$work/canary.html" <<'EOF'
<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'">
<title>canary</title></head><body><p>canary</p><script>console.error("canary")</script></body></html>
EOF
run_chromium --screenshot="$work/canary.png" "$work/canary.html" "$work/canary.log" ||
	fail "chromium failed on the canary page: $(tail -5 "$work/canary.log")"
if [ -z "$(console_errors "$work/canary.log")" ]; then
	echo "--- canary stderr"
	cat "$work/canary.log"
	fail "this Chromium does not report console errors on stderr: the check below would prove nothing"
fi

"$render" --write "$fixture" "$work/report.html" || fail "rendering the fixture"

run_chromium --print-to-pdf="$work/report.pdf" "$work/report.html" "$work/pdf.log" ||
	fail "chromium --print-to-pdf exited $?: $(tail -5 "$work/pdf.log")"
run_chromium --screenshot="$work/report.png" "$work/report.html" "$work/png.log" ||
	fail "chromium --screenshot exited $?: $(tail -5 "$work/png.log")"

for log in "$work/pdf.log" "$work/png.log"; do
	errs=$(console_errors "$log")
	[ -z "$errs" ] || fail "console errors in $(basename "$log"): $errs"
done

# PDF: the signature, and at least one page object (Skia writes "/Type /Page" per page).
[ "$(head -c 4 "$work/report.pdf")" = "%PDF" ] || fail "report.pdf does not start with %PDF"
pages=$(grep -a -c -E '/Type */Page([^s]|$)' "$work/report.pdf")
[ "$pages" -ge 1 ] || fail "report.pdf has no page"

# PNG: the signature and IHDR's width and height (bytes 16..23, big-endian).
[ -s "$work/report.png" ] || fail "report.png is empty"
sig=$(od -An -tx1 -N8 "$work/report.png" | tr -d ' \n')
[ "$sig" = "89504e470d0a1a0a" ] || fail "report.png is not a PNG ($sig)"
dims=$(od -An -tu1 -j16 -N8 "$work/report.png" | tr -s ' ' | sed 's/^ //')
read -r a b c d e f g h <<<"$dims"
pw=$(((a << 24) | (b << 16) | (c << 8) | d))
ph=$(((e << 24) | (f << 16) | (g << 8) | h))
[ "$pw" -eq $W ] && [ "$ph" -eq $H ] || fail "report.png is ${pw}x${ph}, want ${W}x${H}"

if [ -n "${REPORT_KEEP:-}" ]; then
	cp "$work/report.html" "$work/report.pdf" "$work/report.png" "$REPORT_KEEP"/
fi
echo "report-chromium: PDF with $pages page(s), PNG ${pw}x${ph}, no console errors"
