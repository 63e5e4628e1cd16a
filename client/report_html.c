/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * report_html: renders the monthly self-inspection report (R18) from its JSON document into
 * one self-contained HTML page: tables, inline SVG bar charts and a print stylesheet (A4).
 * It reads nothing but the document and writes nothing but the page. The page must never
 * run a script or fetch anything: there is no <script>, no URL, and a Content-Security-Policy
 * that forbids both, so a browser says so if that ever changes. Every text taken from the
 * document is HTML-escaped (names and reasons come from people and from the audit trail),
 * and invalid UTF-8 or control characters become U+FFFD instead of reaching the page.
 * It runs in biogatectl, unprivileged, on the JSON document the daemon sends; it is kept apart
 * from the rest of the client so that tests render a document without a daemon.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report_html.h"

/* The logins chart, in SVG user units: one slot per day. */
#define CHART_PLOT_H 120
#define CHART_TOP    18
#define CHART_LEFT   40
#define CHART_SLOT   20
#define CHART_BAR_W  14
#define CHART_BOTTOM 22
/* The horizontal charts (denials by reason, incidents by rule). */
#define HBAR_LABEL_W 230
#define HBAR_PLOT_W  380
#define HBAR_ROW_H   22
#define HBAR_BAR_H   14
#define HBAR_MAX     24 /* rows drawn; the table below lists all */
#define LABEL_CHARS  34 /* characters of a label drawn in a chart; the tooltip has all */

typedef struct Buf {
	char *p;
	size_t len, cap;
	bool oom;
} Buf;

static void
buf_grow(Buf *b, size_t more)
{
	if (b->oom || b->len + more + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 16384;
	while (cap < b->len + more + 1)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return;
	}
	b->p = p;
	b->cap = cap;
}

static void
buf_add(Buf *b, const char *s, size_t n)
{
	buf_grow(b, n);
	if (b->oom)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
buf_puts(Buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3))) buf_printf(Buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if ((size_t)n < sizeof(tmp)) {
		buf_add(b, tmp, (size_t)n);
		return;
	}
	buf_grow(b, (size_t)n);
	if (b->oom)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* The length of the valid UTF-8 sequence at s (1..4), or 0 when it is not one. */
static size_t
utf8_len(const unsigned char *s, size_t avail, uint32_t *ret_cp)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp;
	if (c < 0x80) {
		*ret_cp = c;
		return 1;
	} else if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else
		return 0;
	if (len > avail)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*ret_cp = cp;
	return len;
}

/*
 * Text into HTML (element content and quoted attribute values alike): the five
 * significant characters as references, anything that is not valid UTF-8 or is a control
 * character (C0, DEL, C1, bidirectional overrides) as U+FFFD. At most max_chars characters
 * (0: all), then an ellipsis.
 */
static void
buf_text_n(Buf *b, const char *s, size_t max_chars)
{
	static const char repl[] = "\xef\xbf\xbd";
	if (!s)
		return;
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), chars = 0;
	for (size_t i = 0; i < n;) {
		if (max_chars && chars == max_chars) {
			buf_puts(b, "\xe2\x80\xa6");
			return;
		}
		uint32_t cp = 0;
		size_t len = utf8_len(p + i, n - i, &cp);
		chars++;
		if (len == 0) {
			buf_puts(b, repl);
			i++;
			continue;
		}
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029)
			buf_puts(b, repl);
		else if (cp == '&')
			buf_puts(b, "&amp;");
		else if (cp == '<')
			buf_puts(b, "&lt;");
		else if (cp == '>')
			buf_puts(b, "&gt;");
		else if (cp == '"')
			buf_puts(b, "&quot;");
		else if (cp == '\'')
			buf_puts(b, "&#39;");
		else
			buf_add(b, s + i, len);
		i += len;
	}
}

static void
buf_text(Buf *b, const char *s)
{
	buf_text_n(b, s, 0);
}

/* --- reading the document: absent or mistyped fields read as empty -------------------- */

static json_object *
get(json_object *o, const char *key)
{
	json_object *v = NULL;
	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

static int64_t
get_int(json_object *o, const char *key)
{
	json_object *v = get(o, key);
	if (!v ||
	    !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
		return 0;
	int64_t x = json_object_get_int64(v);
	return x < 0 ? 0 : x;
}

static const char *
get_str(json_object *o, const char *key)
{
	json_object *v = get(o, key);
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static size_t
arr_len(json_object *a)
{
	return a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

/* A time (microseconds since the epoch) in local time, "YYYY-MM-DD HH:MM"; "—" for none. */
static void
buf_time(Buf *b, json_object *o, const char *key)
{
	json_object *v = get(o, key);
	if (!v || !json_object_is_type(v, json_type_int)) {
		buf_puts(b, "\xe2\x80\x94");
		return;
	}
	time_t t = (time_t)(json_object_get_int64(v) / 1000000);
	struct tm tm;
	char s[32];
	if (!localtime_r(&t, &tm) || strftime(s, sizeof(s), "%Y-%m-%d %H:%M", &tm) == 0) {
		buf_puts(b, "\xe2\x80\x94");
		return;
	}
	buf_puts(b, s);
}

/* A string cell, or "—" for none. */
static void
buf_cell(Buf *b, const char *s)
{
	buf_puts(b, "<td>");
	if (s && *s)
		buf_text(b, s);
	else
		buf_puts(b, "\xe2\x80\x94");
	buf_puts(b, "</td>");
}

/* value * scale / max with one decimal, rounded, as SVG user units (no locale, no float). */
static void
buf_scaled(Buf *b, int64_t value, int64_t scale, int64_t max)
{
	int64_t tenths = max > 0 ? (value * scale * 10 + max / 2) / max : 0;
	buf_printf(b, "%" PRId64 ".%" PRId64, tenths / 10, tenths % 10);
}

/* --- the page (inline SVG needs no xmlns inside HTML: the page holds no URL at all) -------- */

static const char report_css[] =
    ":root{--ink:#1d2733;--muted:#5b6673;--line:#d5dbe1;--accent:#2f6db5;--bad:#b3261e;"
    "--good:#1e7a3c;--soft:#f3f6f9}"
    "*{box-sizing:border-box}"
    "html{background:#e9edf1}"
    "body{margin:0;color:var(--ink);font:14px/1.55 \"Noto Sans CJK JP\",\"Noto Sans JP\","
    "\"Hiragino Sans\",\"Yu Gothic\",\"Meiryo\",\"IPAPGothic\",\"IPAexGothic\",sans-serif}"
    "main{max-width:210mm;margin:16px auto;background:#fff;padding:14mm 14mm 10mm;"
    "box-shadow:0 1px 4px rgba(0,0,0,.15)}"
    "h1{font-size:22px;margin:0 0 4px;letter-spacing:.02em}"
    "h2{font-size:16px;margin:22px 0 8px;padding:3px 0 3px 8px;border-left:4px solid "
    "var(--accent);background:var(--soft)}"
    ".en{color:var(--muted);font-weight:normal;font-size:.82em}"
    "header{border-bottom:2px solid var(--ink);padding-bottom:8px}"
    "table{border-collapse:collapse;width:100%;margin:4px 0 8px;font-size:13px}"
    "th,td{border:1px solid var(--line);padding:3px 7px;text-align:left;vertical-align:top}"
    "th{white-space:nowrap}th.num{width:8em}"
    "th{background:var(--soft);font-weight:600}"
    "td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}"
    "table.meta{width:auto;margin-top:8px}table.meta td.num{min-width:5em}"
    ".cards{display:grid;grid-template-columns:repeat(4,1fr);gap:8px;margin:6px 0}"
    ".card{border:1px solid var(--line);border-radius:4px;padding:6px 9px}"
    ".card .k{font-size:12px;color:var(--muted)}"
    ".card .v{font-size:22px;font-weight:700;font-variant-numeric:tabular-nums}"
    ".ok{color:var(--good)}.bad{color:var(--bad)}"
    ".none{color:var(--muted);margin:4px 0 8px}"
    "svg{display:block;width:100%;height:auto;margin:4px 0 6px}"
    "svg text{font-size:10px;fill:var(--muted)}"
    "svg .bar{fill:var(--accent)}svg .bar.deny{fill:#c0682b}svg .bar.inc{fill:var(--bad)}"
    "svg .axis{stroke:#8a949e;stroke-width:1}svg .grid{stroke:var(--line);stroke-width:1}"
    "svg .val{fill:var(--ink);font-size:9px}"
    "svg .lbl{fill:var(--ink);font-size:11px}"
    ".days{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:12px;"
    "align-items:start}.days table{font-size:12px;margin:0}"
    ".days td,.days th{padding:1px 5px}.days th,.days th.num{white-space:normal;width:auto}"
    ".days td{white-space:nowrap}.days tr.we td{background:#f7f4ee}"
    ".sign{display:grid;grid-template-columns:repeat(3,1fr);gap:10px;margin-top:10px}"
    ".sign div{border:1px solid var(--ink);height:26mm;padding:4px 6px;font-size:12px}"
    "footer{margin-top:14px;font-size:11px;color:var(--muted)}"
    "@page{size:A4;margin:12mm}"
    "@media print{html{background:#fff}main{margin:0;padding:0;max-width:none;"
    "box-shadow:none}svg,.cards,.sign,table.meta{break-inside:avoid}"
    "h2,h3{break-after:avoid}"
    "thead{display:table-header-group}tr{break-inside:avoid}"
    "*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}";

static void
heading(Buf *b, const char *id, const char *ja, const char *en)
{
	buf_printf(b, "<section id=\"%s\"><h2>%s <span class=\"en\">(%s)</span></h2>", id, ja, en);
}

static void
card(Buf *b, const char *ja, const char *en, int64_t v, const char *cls)
{
	buf_printf(b,
	           "<div class=\"card\"><div class=\"k\">%s (%s)</div><div class=\"v%s%s\">%" PRId64
	           "</div></div>",
	           ja, en, cls ? " " : "", cls ? cls : "", v);
}

/* One vertical bar per day: bar height = logins * CHART_PLOT_H / max. */
static void
chart_days(Buf *b, json_object *days)
{
	size_t n = arr_len(days);
	int64_t max = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t v = get_int(json_object_array_get_idx(days, i), "logins");
		max = v > max ? v : max;
	}
	int w = CHART_LEFT + (int)n * CHART_SLOT + 10;
	int h = CHART_TOP + CHART_PLOT_H + CHART_BOTTOM;
	int base = CHART_TOP + CHART_PLOT_H;
	buf_printf(b,
	           "<svg id=\"chart-logins\" viewBox=\"0 0 %d %d\" role=\"img\" "
	           "aria-label=\"日別ログイン数 (Logins per day)\">",
	           w, h);
	/* Grid lines at 0, half and the maximum, labelled with the values they stand for. */
	for (int k = 0; k <= 2; k++) {
		int y = base - CHART_PLOT_H * k / 2;
		buf_printf(b, "<line class=\"%s\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>",
		           k ? "grid" : "axis", CHART_LEFT - 4, y, w - 6, y);
		if (max > 0 || k == 0) {
			buf_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">",
			           CHART_LEFT - 7, y + 3);
			if (k == 1 && max % 2)
				buf_printf(b, "%" PRId64 ".5", max / 2);
			else
				buf_printf(b, "%" PRId64, max * k / 2);
			buf_puts(b, "</text>");
		}
	}
	for (size_t i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(days, i);
		int64_t v = get_int(d, "logins");
		int x = CHART_LEFT + (int)i * CHART_SLOT + (CHART_SLOT - CHART_BAR_W) / 2;
		/* Heights in tenths of a unit, and y from the same number, so every bar
		 * stands exactly on the axis. */
		int64_t ht = max > 0 ? (v * CHART_PLOT_H * 10 + max / 2) / max : 0;
		int64_t yt = (int64_t)base * 10 - ht;
		buf_printf(b,
		           "<rect class=\"bar\" x=\"%d\" y=\"%" PRId64 ".%" PRId64
		           "\" width=\"%d\" height=\"%" PRId64 ".%" PRId64
		           "\" data-value=\"%" PRId64 "\"><title>",
		           x, yt / 10, yt % 10, CHART_BAR_W, ht / 10, ht % 10, v);
		buf_text(b, get_str(d, "date"));
		buf_printf(b, ": %" PRId64 "</title></rect>", v);
		if (v > 0)
			buf_printf(b,
			           "<text class=\"val\" x=\"%d\" y=\"%" PRId64 ".%" PRId64
			           "\" text-anchor=\"middle\">%" PRId64 "</text>",
			           x + CHART_BAR_W / 2, (yt - 30) / 10, (yt - 30) % 10, v);
		buf_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%zu</text>",
		           x + CHART_BAR_W / 2, base + 14, i + 1);
	}
	buf_puts(b, "</svg>");
}

/* Horizontal bars: one row per item of arr (key names the label), width = count * plot /
 * max. */
static void
chart_rows(Buf *b, const char *id, const char *label, const char *cls, json_object *arr,
           const char *key)
{
	size_t n = arr_len(arr);
	if (n > HBAR_MAX)
		n = HBAR_MAX;
	int64_t max = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t v = get_int(json_object_array_get_idx(arr, i), "count");
		max = v > max ? v : max;
	}
	int w = HBAR_LABEL_W + HBAR_PLOT_W + 50, h = (int)n * HBAR_ROW_H + 8;
	buf_printf(b, "<svg id=\"%s\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"%s\">", id, w,
	           h, label);
	buf_printf(b, "<line class=\"axis\" x1=\"%d\" y1=\"2\" x2=\"%d\" y2=\"%d\"/>", HBAR_LABEL_W,
	           HBAR_LABEL_W, h - 4);
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		int64_t v = get_int(o, "count");
		int y = 4 + (int)i * HBAR_ROW_H;
		buf_printf(b, "<text class=\"lbl\" x=\"%d\" y=\"%d\" text-anchor=\"end\">",
		           HBAR_LABEL_W - 6, y + HBAR_BAR_H - 3);
		buf_text_n(b, get_str(o, key), LABEL_CHARS);
		buf_puts(b, "<title>");
		buf_text(b, get_str(o, key));
		buf_puts(b, "</title></text>");
		buf_printf(b, "<rect class=\"bar %s\" x=\"%d\" y=\"%d\" width=\"", cls,
		           HBAR_LABEL_W + 1, y);
		buf_scaled(b, v, HBAR_PLOT_W, max);
		buf_printf(b, "\" height=\"%d\" data-value=\"%" PRId64 "\"/>", HBAR_BAR_H, v);
		buf_printf(b, "<text class=\"val\" x=\"");
		buf_scaled(b, v, HBAR_PLOT_W, max);
		buf_printf(b, "\" dx=\"%d\" y=\"%d\">%" PRId64 "</text>", HBAR_LABEL_W + 6,
		           y + HBAR_BAR_H - 3, v);
	}
	buf_puts(b, "</svg>");
}

/* A table of {name-key, count} rows; a paragraph when empty. */
static void
table_counts(Buf *b, json_object *arr, const char *key, const char *ja, const char *en)
{
	size_t n = arr_len(arr);
	if (n == 0) {
		buf_puts(b, "<p class=\"none\">なし (none)</p>");
		return;
	}
	buf_printf(b,
	           "<table><thead><tr><th>%s (%s)</th><th class=\"num\">件数 (Count)</th></tr>"
	           "</thead><tbody>",
	           ja, en);
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		buf_puts(b, "<tr>");
		buf_cell(b, get_str(o, key));
		buf_printf(b, "<td class=\"num\">%" PRId64 "</td></tr>", get_int(o, "count"));
	}
	buf_puts(b, "</tbody></table>");
}

static void
section_summary(Buf *b, json_object *data)
{
	json_object *audit = get(data, "audit");
	bool chain_ok = get(audit, "ok") && json_object_get_boolean(get(audit, "ok"));
	heading(b, "summary", "概要", "Summary");
	buf_puts(b, "<div class=\"cards\">");
	card(b, "ログイン", "Logins", get_int(get(data, "logins"), "total"), NULL);
	card(b, "拒否", "Denials", get_int(get(data, "denials"), "total"), NULL);
	int64_t viol = get_int(get(data, "violations"), "total");
	card(b, "違反", "Violations", viol, viol ? "bad" : NULL);
	int64_t inc = get_int(get(data, "incidents"), "total");
	card(b, "インシデント", "Incidents", inc, inc ? "bad" : NULL);
	card(b, "失効", "Revocations", get_int(get(data, "revocations"), "total"), NULL);
	card(b, "入室", "Room entries", get_int(get(data, "room"), "entries"), NULL);
	card(b, "在籍者", "Active staff", get_int(get(data, "staff"), "active"), NULL);
	buf_printf(b,
	           "<div class=\"card\"><div class=\"k\">監査証跡 (Audit trail)</div>"
	           "<div class=\"v %s\">%s</div></div>",
	           chain_ok ? "ok" : "bad", chain_ok ? "OK" : "NG");
	buf_puts(b, "</div></section>");
}

static const char *const weekday_names[] = { "日", "月", "火", "水", "木", "金", "土" };

/* 0 (Sunday) .. 6 of a "YYYY-MM-DD", -1 when it is not one. Noon: no zone moves the day. */
static int
weekday(const char *date)
{
	int y, mo, d;
	char tail;
	if (!date || sscanf(date, "%4d-%2d-%2d%c", &y, &mo, &d, &tail) != 3 || mo < 1 || mo > 12 ||
	    d < 1 || d > 31)
		return -1;
	struct tm tm = {
		.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = 12, .tm_isdst = -1
	};
	if (mktime(&tm) == (time_t)-1)
		return -1;
	return tm.tm_wday;
}

static void
section_days(Buf *b, json_object *data)
{
	json_object *days = get(data, "days");
	size_t n = arr_len(days);
	heading(b, "logins", "日別ログイン数", "Logins per day");
	chart_days(b, days);
	/* Two half-month tables side by side keep the month on one printed page. */
	buf_puts(b, "<div class=\"days\">");
	for (size_t half = 0; half < 2; half++) {
		size_t from = half ? (n + 1) / 2 : 0, to = half ? n : (n + 1) / 2;
		if (from >= to)
			continue;
		buf_puts(b, "<table><thead><tr><th>日付 (Date)</th><th class=\"num\">ログイン "
		            "(Logins)</th><th class=\"num\">拒否 (Denials)</th><th "
		            "class=\"num\">違反 (Violations)</th></tr></thead><tbody>");
		for (size_t i = from; i < to; i++) {
			json_object *d = json_object_array_get_idx(days, i);
			int wd = weekday(get_str(d, "date"));
			buf_puts(b, wd == 0 || wd == 6 ? "<tr class=\"we\">" : "<tr>");
			buf_puts(b, "<td>");
			buf_text(b, get_str(d, "date"));
			if (wd >= 0)
				buf_printf(b, " (%s)", weekday_names[wd]);
			buf_puts(b, "</td>");
			buf_printf(b,
			           "<td class=\"num\">%" PRId64 "</td><td class=\"num\">%" PRId64
			           "</td><td class=\"num\">%" PRId64 "</td></tr>",
			           get_int(d, "logins"), get_int(d, "denials"),
			           get_int(d, "violations"));
		}
		buf_puts(b, "</tbody></table>");
	}
	buf_puts(b, "</div></section>");
}

static void
section_denials(Buf *b, json_object *data)
{
	json_object *den = get(data, "denials"), *viol = get(data, "violations");
	heading(b, "denials", "拒否の理由別件数", "Denials by reason");
	json_object *by = get(den, "by_reason");
	if (arr_len(by))
		chart_rows(b, "chart-denials", "拒否の理由別件数 (Denials by reason)", "deny", by,
		           "reason");
	table_counts(b, by, "reason", "理由", "Reason");
	buf_printf(b, "<h3>違反 <span class=\"en\">(Violations: %" PRId64 ")</span></h3>",
	           get_int(viol, "total"));
	table_counts(b, get(viol, "by_reason"), "reason", "理由", "Reason");
	buf_puts(b, "</section>");
}

static void
section_incidents(Buf *b, json_object *data)
{
	json_object *inc = get(data, "incidents");
	json_object *by = get(inc, "by_rule"), *recs = get(inc, "records");
	heading(b, "incidents", "インシデント", "Incidents");
	if (arr_len(by))
		chart_rows(b, "chart-incidents", "インシデント (Incidents)", "inc", by, "rule");
	table_counts(b, by, "rule", "規則", "Rule");
	size_t n = arr_len(recs);
	if (n) {
		buf_puts(b, "<table><thead><tr><th>日時 (Time)</th><th>規則 (Rule)</th><th>照合ID "
		            "(Matching ID)</th><th class=\"num\">回数 (Count)</th><th>状況 "
		            "(Situation)</th></tr></thead><tbody>");
		for (size_t i = 0; i < n; i++) {
			json_object *o = json_object_array_get_idx(recs, i);
			buf_puts(b, "<tr><td>");
			buf_time(b, o, "time");
			buf_puts(b, "</td>");
			buf_cell(b, get_str(o, "rule"));
			buf_cell(b, get_str(o, "matching_id"));
			buf_printf(b, "<td class=\"num\">%" PRId64 "</td>", get_int(o, "count"));
			buf_cell(b, get_str(o, "situation"));
			buf_puts(b, "</tr>");
		}
		buf_puts(b, "</tbody></table>");
	}
	buf_puts(b, "</section>");
}

static void
section_revocations(Buf *b, json_object *data)
{
	json_object *rev = get(data, "revocations"), *recs = get(rev, "records");
	heading(b, "revocations", "失効", "Revocations");
	size_t n = arr_len(recs);
	if (n == 0) {
		buf_puts(b, "<p class=\"none\">なし (none)</p></section>");
		return;
	}
	buf_puts(b, "<table><thead><tr><th>日時 (Time)</th><th>照合ID (Matching ID)</th>"
	            "<th>理由 (Reason)</th></tr></thead><tbody>");
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(recs, i);
		buf_puts(b, "<tr><td>");
		buf_time(b, o, "time");
		buf_puts(b, "</td>");
		buf_cell(b, get_str(o, "matching_id"));
		buf_cell(b, get_str(o, "reason"));
		buf_puts(b, "</tr>");
	}
	buf_puts(b, "</tbody></table></section>");
}

static void
section_room_staff(Buf *b, json_object *data)
{
	json_object *room = get(data, "room"), *staff = get(data, "staff");
	heading(b, "room", "入退室記録", "Room log");
	buf_printf(b,
	           "<table class=\"meta\"><tbody><tr><th>入室 (Entries)</th><td "
	           "class=\"num\">%" PRId64 "</td></tr><tr><th>来訪者 (Visitors)</th><td "
	           "class=\"num\">%" PRId64 "</td></tr><tr><th>業務従事者 (Staff)</th><td "
	           "class=\"num\">%" PRId64 "</td></tr></tbody></table></section>",
	           get_int(room, "entries"), get_int(room, "visitors"), get_int(room, "staff"));

	heading(b, "staff", "業務従事者", "Staff");
	int64_t np = get_int(staff, "missing_pledge"), nt = get_int(staff, "missing_training");
	buf_printf(
	    b,
	    "<table class=\"meta\"><tbody><tr><th>在籍 (Active)</th><td class=\"num\">%" PRId64
	    "</td></tr><tr><th>失効済み (Revoked)</th><td class=\"num\">%" PRId64
	    "</td></tr><tr><th>誓約書未提出 (No pledge)</th><td class=\"num%s\">%" PRId64
	    "</td></tr><tr><th>研修未受講 (No training)</th><td class=\"num%s\">%" PRId64
	    "</td></tr></tbody></table>",
	    get_int(staff, "active"), get_int(staff, "revoked"), np ? " bad" : "", np,
	    nt ? " bad" : "", nt);
	json_object *missing = get(staff, "missing");
	size_t n = arr_len(missing);
	if (n) {
		buf_puts(b, "<table><thead><tr><th>照合ID (Matching ID)</th><th>氏名 (Name)</th>"
		            "<th>誓約書 (Pledge)</th><th>研修 (Training)</th></tr></thead><tbody>");
		for (size_t i = 0; i < n; i++) {
			json_object *o = json_object_array_get_idx(missing, i);
			buf_puts(b, "<tr>");
			buf_cell(b, get_str(o, "matching_id"));
			buf_cell(b, get_str(o, "name"));
			const char *p = get_str(o, "pledge_date"), *t = get_str(o, "training_date");
			if (p)
				buf_cell(b, p);
			else
				buf_puts(b, "<td class=\"bad\">未 (missing)</td>");
			if (t)
				buf_cell(b, t);
			else
				buf_puts(b, "<td class=\"bad\">未 (missing)</td>");
			buf_puts(b, "</tr>");
		}
		buf_puts(b, "</tbody></table>");
	}
	buf_puts(b, "</section>");
}

static void
section_audit(Buf *b, json_object *data)
{
	json_object *a = get(data, "audit");
	bool ok = get(a, "ok") && json_object_get_boolean(get(a, "ok"));
	heading(b, "audit", "監査証跡の検証", "Audit trail verification");
	buf_printf(b,
	           "<table class=\"meta\"><tbody><tr><th>結果 (Result)</th><td class=\"%s\">%s"
	           "</td></tr><tr><th>問題 (Problem)</th>",
	           ok ? "ok" : "bad", ok ? "改ざんなし (intact)" : "異常あり (broken)");
	buf_cell(b, get_str(a, "problem"));
	buf_printf(
	    b,
	    "</tr><tr><th>最初の不正記録 (First bad record)</th><td class=\"num\">%" PRId64
	    "</td></tr><tr><th>検証した記録 (Records checked)</th><td class=\"num\">%" PRId64
	    "</td></tr><tr><th>当月の記録 (Records this month)</th><td class=\"num\">%" PRId64
	    "</td></tr></tbody></table></section>",
	    get_int(a, "first_bad_seq"), get_int(a, "records"), get_int(data, "records"));
}

/* The month's signed checkpoints (forward-secure seals, docs/audit.md). A report from a daemon
 * without seals has no such object: the section says so. */
static void
section_seals(Buf *b, json_object *data)
{
	json_object *s = get(data, "seals");
	heading(b, "seals", "署名付きチェックポイント", "Signed checkpoints");
	if (!s) {
		buf_puts(b, "<p>なし (none)</p></section>");
		return;
	}
	bool ok = get(s, "ok") && json_object_get_boolean(get(s, "ok"));
	buf_printf(b,
	           "<table class=\"meta\"><tbody><tr><th>結果 (Result)</th><td class=\"%s\">%s"
	           "</td></tr><tr><th>当月のチェックポイント (Checkpoints this month)</th>"
	           "<td class=\"num\">%" PRId64 "</td></tr><tr><th>検証済み (Verified)</th>"
	           "<td class=\"num\">%" PRId64 "</td></tr>",
	           ok ? "ok" : "bad",
	           ok ? "すべて検証済み (all verified)" : "未検証あり (not all verified)",
	           get_int(s, "checkpoints"), get_int(s, "verified"));
	if (get_int(s, "first_bad_seq") > 0)
		buf_printf(b,
		           "<tr><th>最初の不一致 (First failing checkpoint, record)</th>"
		           "<td class=\"num\">%" PRId64 "</td></tr>",
		           get_int(s, "first_bad_seq"));
	buf_puts(b, "</tbody></table><p>各チェックポイントは当日の公開鍵で検証できます "
	            "(each checkpoint verifies with that day's public key: "
	            "biogate-audit-verify).</p></section>");
}

int
report_render_html(json_object *data, char **ret_html, size_t *ret_len)
{
	if (!data || !json_object_is_type(data, json_type_object) || !ret_html)
		return -EINVAL;
	Buf b = { 0 };
	const char *month = get_str(data, "month");
	buf_puts(&b, "<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\">"
	             "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	             "style-src 'unsafe-inline'; img-src data:\">"
	             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	             "<title>月次自己点検報告書 (Monthly self-inspection report) ");
	buf_text(&b, month);
	buf_puts(&b, "</title><style>");
	buf_puts(&b, report_css);
	buf_puts(&b, "</style></head><body><main>");

	buf_puts(&b, "<header><h1>月次自己点検報告書 <span class=\"en\">(Monthly "
	             "self-inspection report)</span></h1>"
	             "<table class=\"meta\"><tbody><tr><th>対象月 (Month)</th>");
	buf_cell(&b, month);
	buf_puts(&b, "</tr><tr><th>端末 (Terminal)</th>");
	buf_cell(&b, get_str(data, "terminal"));
	buf_puts(&b, "</tr><tr><th>作成日時 (Generated)</th><td>");
	buf_time(&b, data, "generated_at");
	buf_puts(&b, "</td></tr></tbody></table></header>");

	section_summary(&b, data);
	section_days(&b, data);
	section_denials(&b, data);
	section_incidents(&b, data);
	section_revocations(&b, data);
	section_room_staff(&b, data);
	section_audit(&b, data);
	section_seals(&b, data);

	buf_puts(&b, "<section id=\"signoff\"><h2>確認欄 <span class=\"en\">(Sign-off)</span></h2>"
	             "<div class=\"sign\"><div>点検者 (Inspected by)</div><div>確認者 (Checked "
	             "by)</div><div>市 担当者 (City officer)</div></div></section>"
	             "<footer>biogate — 情報セキュリティ要件 11(1) 月次自己点検 (R18). "
	             "この報告書は監査証跡から作成されています (generated from the audit "
	             "trail).</footer></main></body></html>\n");
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	*ret_html = b.p;
	if (ret_len)
		*ret_len = b.len;
	return 0;
}
