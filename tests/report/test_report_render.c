/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * report-render: the monthly report's HTML from a fixture document with hostile strings.
 * Checks that every text is escaped, that no script and no URL reaches the page, that the
 * elements nest, and that the logins chart has one bar per day whose height is exactly
 * proportional to that day's logins. With --write FILE it only writes the page (the
 * Chromium test renders that file).
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "report_html.h"

static int failures;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                       \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

static bool
contains(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

static bool
contains_nocase(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (const char *p = hay; *p; p++)
		if (strncasecmp(p, needle, n) == 0)
			return true;
	return false;
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static bool
is_void(const char *name)
{
	static const char *const v[] = { "meta", "br", "hr", "img", "input", "link" };
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (strcmp(name, v[i]) == 0)
			return true;
	return false;
}

/*
 * Every element opened is closed, in order. The page escapes every '<' of its texts, so each
 * '<' starts markup; one inside an attribute value would also be a failure here.
 */
static bool
balanced(const char *html, char *why, size_t why_size)
{
	char stack[256][16];
	size_t depth = 0;
	for (const char *p = strchr(html, '<'); p; p = strchr(p + 1, '<')) {
		if (strncmp(p, "<!DOCTYPE", 9) == 0)
			continue;
		bool closing = p[1] == '/';
		const char *s = p + 1 + closing;
		size_t n = 0;
		char name[16];
		while (isalnum((unsigned char)s[n]) && n < sizeof(name) - 1) {
			name[n] = (char)tolower((unsigned char)s[n]);
			n++;
		}
		name[n] = '\0';
		if (n == 0) {
			snprintf(why, why_size, "bare '<' at offset %td", p - html);
			return false;
		}
		const char *end = strchr(s, '>');
		if (!end) {
			snprintf(why, why_size, "unterminated <%s", name);
			return false;
		}
		if (memchr(s, '<', (size_t)(end - s))) {
			snprintf(why, why_size, "'<' inside the tag <%s", name);
			return false;
		}
		if (!closing && (end[-1] == '/' || is_void(name)))
			continue;
		if (!closing) {
			if (depth == sizeof(stack) / sizeof(stack[0])) {
				snprintf(why, why_size, "nesting too deep");
				return false;
			}
			memcpy(stack[depth++], name, n + 1);
			continue;
		}
		if (depth == 0 || strcmp(stack[depth - 1], name) != 0) {
			snprintf(why, why_size, "</%s> closes <%s>", name,
			         depth ? stack[depth - 1] : "nothing");
			return false;
		}
		depth--;
	}
	if (depth) {
		snprintf(why, why_size, "<%s> never closed", stack[depth - 1]);
		return false;
	}
	return true;
}

/* The text between the opening of the element with this id and its </svg>. */
static char *
svg_by_id(const char *html, const char *id)
{
	char needle[64];
	snprintf(needle, sizeof(needle), "<svg id=\"%s\"", id);
	const char *a = strstr(html, needle);
	const char *b = a ? strstr(a, "</svg>") : NULL;
	return b ? strndup(a, (size_t)(b - a)) : NULL;
}

/* The value of attribute attr in the tag starting at p. */
static bool
attr(const char *p, const char *attr, char *buf, size_t size)
{
	const char *end = strchr(p, '>');
	char needle[32];
	snprintf(needle, sizeof(needle), " %s=\"", attr);
	const char *a = strstr(p, needle);
	if (!a || !end || a > end)
		return false;
	a += strlen(needle);
	const char *q = strchr(a, '"');
	if (!q || (size_t)(q - a) >= size)
		return false;
	memcpy(buf, a, (size_t)(q - a));
	buf[q - a] = '\0';
	return true;
}

static void
check_logins_chart(const char *html, json_object *doc)
{
	char *svg = svg_by_id(html, "chart-logins");
	CHECK(svg, "no logins chart");
	if (!svg)
		return;
	json_object *days = NULL;
	json_object_object_get_ex(doc, "days", &days);
	size_t n = json_object_array_length(days);
	CHECK(n == 31, "fixture has %zu days", n);
	CHECK(count(svg, "<rect class=\"bar\"") == n, "%zu bars for %zu days",
	      count(svg, "<rect class=\"bar\""), n);

	/* The fixture's busiest day has 12 logins: it gets the whole plot height (120), and
	 * every other bar its exact share, standing on the axis at y = 138. */
	const char *p = svg;
	for (size_t i = 0; i < n && (p = strstr(p, "<rect class=\"bar\"")); i++, p++) {
		json_object *day = json_object_array_get_idx(days, i), *v = NULL;
		json_object_object_get_ex(day, "logins", &v);
		int logins = json_object_get_int(v);
		char h[16], y[16], want_h[16], want_y[16], x[16], want_x[16];
		snprintf(want_h, sizeof(want_h), "%d.0", logins * 10);
		snprintf(want_y, sizeof(want_y), "%d.0", 138 - logins * 10);
		snprintf(want_x, sizeof(want_x), "%zu", 43 + i * 20);
		CHECK(attr(p, "height", h, sizeof(h)) && strcmp(h, want_h) == 0,
		      "day %zu: height %s, want %s", i + 1, h, want_h);
		CHECK(attr(p, "y", y, sizeof(y)) && strcmp(y, want_y) == 0,
		      "day %zu: y %s, want %s", i + 1, y, want_y);
		CHECK(attr(p, "x", x, sizeof(x)) && strcmp(x, want_x) == 0,
		      "day %zu: x %s, want %s", i + 1, x, want_x);
	}
	/* Spot checks in plain numbers: day 12 (12 logins), day 3 (5), day 1 (0). */
	CHECK(contains(svg, "x=\"263\" y=\"18.0\" width=\"14\" height=\"120.0\" data-value=\"12\""),
	      "day 12 bar");
	CHECK(contains(svg, "x=\"83\" y=\"88.0\" width=\"14\" height=\"50.0\" data-value=\"5\""),
	      "day 3 bar");
	CHECK(contains(svg, "x=\"43\" y=\"138.0\" width=\"14\" height=\"0.0\" data-value=\"0\""),
	      "day 1 bar");
	free(svg);
}

static void
check_row_chart(const char *html)
{
	/* Denials: 4, 2, 2, 1 of at most 4 on a 380-unit plot. */
	char *svg = svg_by_id(html, "chart-denials");
	CHECK(svg, "no denials chart");
	if (!svg)
		return;
	CHECK(count(svg, "<rect class=\"bar deny\"") == 4, "denial bars");
	CHECK(contains(svg, "width=\"380.0\" height=\"14\" data-value=\"4\""), "widest denial");
	CHECK(count(svg, "width=\"190.0\" height=\"14\" data-value=\"2\"") == 2, "half denials");
	CHECK(contains(svg, "width=\"95.0\" height=\"14\" data-value=\"1\""), "quarter denial");
	CHECK(contains(svg, "&lt;img src=x onerror=alert(1)&gt;"), "reason escaped in chart");
	free(svg);
	svg = svg_by_id(html, "chart-incidents");
	CHECK(svg && count(svg, "<rect class=\"bar inc\"") == 2, "incident bars");
	free(svg);
}

static int
render_file(const char *path, json_object **ret_doc, char **ret_html, size_t *ret_len)
{
	json_object *doc = json_object_from_file(path);
	if (!doc) {
		fprintf(stderr, "cannot read %s: %s\n", path, json_util_get_last_err());
		return -EINVAL;
	}
	int r = report_render_html(doc, ret_html, ret_len);
	if (r < 0) {
		json_object_put(doc);
		return r;
	}
	*ret_doc = doc;
	return 0;
}

int
main(int argc, char **argv)
{
	/* Times print in local time: fix the zone (a POSIX rule, no tzdata needed). */
	setenv("TZ", "JST-9", 1);
	tzset();
	if (argc == 4 && strcmp(argv[1], "--write") == 0) {
		json_object *doc = NULL;
		char *html = NULL;
		size_t len = 0;
		if (render_file(argv[2], &doc, &html, &len) < 0)
			return 1;
		FILE *f = fopen(argv[3], "w");
		bool ok = f && fwrite(html, 1, len, f) == len;
		ok = f && fclose(f) == 0 && ok;
		free(html);
		json_object_put(doc);
		return ok ? 0 : 1;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: %s FIXTURE.json | --write FIXTURE.json OUT.html\n",
		        argv[0]);
		return 2;
	}

	json_object *doc = NULL;
	char *html = NULL;
	size_t len = 0;
	int r = render_file(argv[1], &doc, &html, &len);
	CHECK(r == 0, "render: %s", strerror(-r));
	if (r < 0)
		return 1;
	CHECK(strlen(html) == len, "length");
	CHECK(strncmp(html, "<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\">",
	              60) == 0,
	      "doctype, lang, charset first");

	/* Hostile texts arrive escaped, nowhere raw. */
	CHECK(!contains_nocase(html, "<script"), "a <script reached the page");
	CHECK(!contains_nocase(html, "<img"), "an <img reached the page");
	CHECK(!contains(html, "<b>"), "the terminal's <b> reached the page");
	CHECK(count(html, "&lt;script&gt;alert(1)&lt;/script&gt;") == 2,
	      "staff name and incident situation escaped (%zu)",
	      count(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	CHECK(contains(html, "counter-01 &quot;&amp;&#39;&lt;b&gt;"), "terminal escaped");
	CHECK(contains(html, "山田 &quot;&amp;&#39; 花子"), "name with quotes escaped");
	CHECK(contains(html, "10 min &quot;&amp;&#39;"), "situation escaped");

	/* Self-contained: no URL, no script, no handler, and a policy forbidding both. */
	CHECK(!contains_nocase(html, "http:") && !contains_nocase(html, "https:") &&
	          !contains_nocase(html, "url("),
	      "a URL reached the page");
	CHECK(!contains_nocase(html, "javascript:"), "javascript: in the page");
	CHECK(contains(html, "content=\"default-src 'none'; style-src 'unsafe-inline'"), "CSP");
	CHECK(contains(html, "@media print") && contains(html, "@page{size:A4"), "print styles");

	/* Japanese headings with English in parentheses. */
	CHECK(contains(html, "月次自己点検報告書 <span class=\"en\">(Monthly self-inspection "
	                     "report)</span>"),
	      "title heading");
	CHECK(contains(html, "日別ログイン数 <span class=\"en\">(Logins per day)</span>"), "h2");
	CHECK(contains(html, "2026-10-05 01:00"), "incident time in local time (JST)");

	char why[128] = "";
	CHECK(balanced(html, why, sizeof(why)), "structure: %s", why);
	CHECK(count(html, "<main>") == 1 && count(html, "</main>") == 1, "one main");
	CHECK(count(html, "<section") == count(html, "</section>"), "sections");

	check_logins_chart(html, doc);
	check_row_chart(html);
	free(html);

	/* The month's signed checkpoints: all verified, then one failing. */
	{
		char *h = NULL;
		size_t hl = 0;
		CHECK(report_render_html(doc, &h, &hl) == 0, "render for seals");
		CHECK(h && contains(h, "署名付きチェックポイント <span class=\"en\">(Signed "
		                       "checkpoints)</span>"),
		      "seals heading");
		CHECK(h && contains(h, "<td class=\"ok\">すべて検証済み (all verified)</td>"),
		      "seals verified");
		CHECK(h && contains(h, "<td class=\"num\">2881</td>"), "seals count");
		free(h);
		json_object *s = NULL;
		json_object_object_get_ex(doc, "seals", &s);
		json_object_object_add(s, "ok", json_object_new_boolean(false));
		json_object_object_add(s, "verified", json_object_new_int64(2880));
		json_object_object_add(s, "first_bad_seq", json_object_new_int64(4242));
		CHECK(report_render_html(doc, &h, &hl) == 0, "render for failed seals");
		CHECK(h && contains(h, "<td class=\"bad\">未検証あり (not all verified)</td>"),
		      "seals not verified");
		CHECK(h && contains(h, "<td class=\"num\">4242</td>"), "first failing record");
		free(h);
	}
	json_object_put(doc);

	/* Bytes that are not UTF-8 and control characters never reach the page. */
	json_object *bad = json_object_new_object();
	json_object_object_add(bad, "month", json_object_new_string("2026-11"));
	json_object_object_add(bad, "terminal", json_object_new_string("a\xff\x01z\xe2\x80\xae"));
	r = report_render_html(bad, &html, &len);
	CHECK(r == 0, "sparse document renders");
	if (r == 0) {
		CHECK(contains(html, "a\xef\xbf\xbd\xef\xbf\xbdz\xef\xbf\xbd"),
		      "U+FFFD replacement");
		CHECK(balanced(html, why, sizeof(why)), "sparse structure: %s", why);
		CHECK(contains(html, "なし (none)"), "empty sections say so");
		free(html);
	}
	json_object_put(bad);
	json_object *arr = json_object_new_array();
	CHECK(report_render_html(arr, &html, &len) == -EINVAL, "not an object");
	json_object_put(arr);

	if (failures) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("report-render: all checks passed\n");
	return 0;
}
