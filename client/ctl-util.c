/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl-util: what every biogatectl verb shares besides the calls (ctl-call.c): reading
 * fields of a reply, and printing for a person (text cleaned of control characters, columns
 * measured in terminal cells, tables, the words people read) or for a script (--json). It
 * never prints a ticket and treats every reply as untrusted.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include <json-c/json.h>

#include "ctl-util.h"

Ctl arg = { 0 };

void
json_putp(json_object **o)
{
	if (*o)
		json_object_put(*o);
}

void
bg_closep(BgClient **c)
{
	bg_close(*c);
}

void
freep(void *p)
{
	free(*(void **)p);
}

/* --- text for a terminal ------------------------------------------------------------- */

/*
 * What a terminal must not be handed raw: C0 and C1 controls and DEL (they move the cursor,
 * retitle the window, rewrite what is shown), the bidirectional controls (U+061C, U+200E,
 * U+200F, U+202A..U+202E, U+2066..U+2069, which reorder what follows so that a stored "txt.exe"
 * reads as "exe.txt"), the line and paragraph separators, and the invisible characters
 * (U+200B..U+200D, U+2060..U+2064, U+FEFF) that make two different strings look the same.
 */
static bool
text_hidden(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c ||
	       (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2060 && cp <= 0x2069) || cp == 0xfeff;
}

/* The code point of the strict UTF-8 sequence at s[0..n) and its length; 0 when s does not
 * start with one (overlong forms, surrogates and values above U+10FFFF are not UTF-8). */
static size_t
text_utf8(const unsigned char *s, size_t n, uint32_t *ret)
{
	size_t k;
	uint32_t cp, min;
	if (s[0] < 0x80) {
		*ret = s[0];
		return 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		k = 2, cp = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		k = 3, cp = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		k = 4, cp = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < k)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*ret = cp;
	return k;
}

/*
 * Every stored or received string a person reads goes through here (fields, tables, lines,
 * messages): what text_hidden() names is shown escaped as \uXXXX, a byte that is not UTF-8 as
 * \xNN, and a backslash as \\ so that no stored text can pass for an escape.
 */
char *
text_clean(const char *s)
{
	if (!s)
		s = "-";
	size_t n = strlen(s);
	if (n > (SIZE_MAX - 1) / 6)
		return NULL;
	char *out = malloc(6 * n + 1); /* the worst case: a 1-byte control as \u00XX */
	if (!out)
		return NULL;
	const unsigned char *u = (const unsigned char *)s;
	size_t j = 0;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t k = text_utf8(u + i, n - i, &cp);
		if (k == 0) {
			j += (size_t)sprintf(out + j, "\\x%02x", u[i]);
			i++;
			continue;
		}
		if (text_hidden(cp))
			j += (size_t)sprintf(out + j, "\\u%04x", (unsigned)cp);
		else if (cp == '\\')
			j += (size_t)sprintf(out + j, "\\\\");
		else
			memcpy(out + j, u + i, k), j += k;
		i += k;
	}
	out[j] = '\0';
	return out;
}

/* Closes f, a memory stream on *buf, and returns its text cleaned for the terminal; NULL on
 * failure. */
char *
memstream_clean(FILE *f, char **buf)
{
	if (fclose(f) != 0) {
		free(*buf);
		return NULL;
	}
	char *out = text_clean(*buf);
	free(*buf);
	return out;
}

void
put_clean(FILE *f, const char *s)
{
	_cleanup_(freep) char *t = text_clean(s);
	fputs(t ? t : "?", f);
}

void
print_json(json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
	                                           JSON_C_TO_STRING_NOSLASHESCAPE));
}

void
print_json_error(const char *name)
{
	_cleanup_(json_putp) json_object *o = json_object_new_object();
	if (!o)
		return;
	json_object_object_add(o, "error", json_object_new_string(name));
	print_json(o);
}

/* --- reading and printing replies ------------------------------------------------------- */

const char *
jstr(json_object *o, const char *key)
{
	json_object *v = NULL;
	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* The string at key, or fallback when there is none. */
const char *
jstr_or(json_object *o, const char *key, const char *fallback)
{
	const char *s = jstr(o, key);
	return s ? s : fallback;
}

bool
jint(json_object *o, const char *key, int64_t *ret)
{
	json_object *v = NULL;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*ret = json_object_get_int64(v);
	return true;
}

json_object *
jarray(json_object *o, const char *key)
{
	json_object *v = NULL;
	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

/* Columns on a terminal, not bytes: names at a Japanese counter are double width. */
size_t
text_width(const char *s)
{
	mbstate_t st = { 0 };
	size_t w = 0, n = strlen(s);
	while (n > 0) {
		wchar_t wc;
		size_t k = mbrtowc(&wc, s, n, &st);
		if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
			memset(&st, 0, sizeof(st));
			w++;
			s++;
			n--;
			continue;
		}
		int cw = wcwidth(wc);
		w += cw > 0 ? (size_t)cw : 0;
		s += k;
		n -= k;
	}
	return w;
}

void
put_padded(const char *s, size_t width)
{
	fputs(s, stdout);
	for (size_t w = text_width(s); w < width; w++)
		fputc(' ', stdout);
}

/* A reply's microseconds since the epoch as local time; "-" when absent or absurd. */
void
format_time(json_object *o, const char *key, char *buf, size_t size)
{
	int64_t us = 0;
	snprintf(buf, size, "-");
	if (!jint(o, key, &us) || us <= 0)
		return;
	time_t t = (time_t)(us / 1000000);
	struct tm tm;
	if (!localtime_r(&t, &tm))
		return;
	if (strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, size, "-");
}

void
fields_print(Field *f, size_t n)
{
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		size_t lw = text_width(f[i].label);
		w = lw > w ? lw : w;
	}
	for (size_t i = 0; i < n; i++) {
		put_padded(f[i].label, w + 2);
		puts(f[i].value ? f[i].value : "?");
		free(f[i].value);
		f[i].value = NULL;
	}
}

/* Like asprintf, but the result is cleaned for the terminal; NULL on failure. */
__attribute__((format(printf, 1, 2))) char *
clean_printf(const char *fmt, ...)
{
	va_list ap;
	char *raw = NULL;
	va_start(ap, fmt);
	int n = vasprintf(&raw, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	char *out = text_clean(raw);
	free(raw);
	return out;
}

/* One line for a person, cleaned for the terminal (an empty line when out of memory). */
__attribute__((format(printf, 1, 2))) void
print_line(const char *fmt, ...)
{
	va_list ap;
	char *raw = NULL;
	va_start(ap, fmt);
	int n = vasprintf(&raw, fmt, ap);
	va_end(ap);
	_cleanup_(freep) char *line = n < 0 ? NULL : text_clean(raw);
	free(raw);
	puts(line ? line : "");
}

int
table_add(Table *t, const char *text)
{
	char *cell = text_clean(text);
	if (!cell)
		return -ENOMEM;
	if (t->n == t->alloc) {
		size_t a = t->alloc ? 2 * t->alloc : 64;
		char **p = reallocarray(t->cells, a, sizeof(*p));
		if (!p) {
			free(cell);
			return -ENOMEM;
		}
		t->cells = p;
		t->alloc = a;
	}
	t->cells[t->n++] = cell;
	return 0;
}

/* Adds the header cells head[from] to head[n - 1]; -1 when out of memory. */
int
table_head(Table *t, const char *const *head, size_t from, size_t n)
{
	for (size_t i = from; i < n; i++)
		if (table_add(t, head[i]) < 0)
			return -1;
	return 0;
}

void
table_print(const Table *t)
{
	size_t w[TABLE_MAX_COLS] = { 0 };
	for (size_t i = 0; i < t->n; i++) {
		size_t cw = text_width(t->cells[i]);
		if (cw > w[i % t->cols])
			w[i % t->cols] = cw;
	}
	for (size_t i = 0; i < t->n; i++) {
		if (i % t->cols == t->cols - 1)
			puts(t->cells[i]);
		else
			put_padded(t->cells[i], w[i % t->cols] + 2);
	}
}

void
table_free(Table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->cells[i]);
	free(t->cells);
	*t = (Table){ 0 };
}

int
fail_nomem(void)
{
	fprintf(stderr, "%s: %s\n", CTL_NAME, strerror(ENOMEM));
	return CTL_EXIT_ERROR;
}

/* Prints a complete table, or reports running out of memory; frees it. An exit code. */
int
table_finish(Table *t, bool complete)
{
	if (complete)
		table_print(t);
	table_free(t);
	return complete ? CTL_EXIT_OK : fail_nomem();
}

/*
 * A table of one row for each element of arr, made by row (-1 when out of memory), under
 * head; when there is none, the line empty instead. An exit code.
 */
int
table_list(json_object *arr, const char *empty, const char *const *head, size_t cols, RowFn row)
{
	size_t n = arr ? json_object_array_length(arr) : 0;
	if (n == 0) {
		puts(empty);
		return CTL_EXIT_OK;
	}
	Table t = { .cols = cols };
	if (table_head(&t, head, 0, cols) < 0)
		return table_finish(&t, false);
	for (size_t i = 0; i < n; i++)
		if (row(&t, json_object_array_get_idx(arr, i)) < 0)
			return table_finish(&t, false);
	return table_finish(&t, true);
}

/* --- words that people read ----------------------------------------------------------- */

static const struct {
	const char *id;
	const char *label;
} finger_names[] = {
	{ "left-thumb", N_("left thumb") },          { "left-index", N_("left index finger") },
	{ "left-middle", N_("left middle finger") }, { "left-ring", N_("left ring finger") },
	{ "left-little", N_("left little finger") }, { "right-thumb", N_("right thumb") },
	{ "right-index", N_("right index finger") }, { "right-middle", N_("right middle finger") },
	{ "right-ring", N_("right ring finger") },   { "right-little", N_("right little finger") },
};

const char *
finger_label(const char *id)
{
	for (size_t i = 0; id && i < sizeof(finger_names) / sizeof(finger_names[0]); i++)
		if (strcmp(id, finger_names[i].id) == 0)
			return _(finger_names[i].label);
	return id ? id : "?";
}

bool
finger_known(const char *id)
{
	for (size_t i = 0; id && i < sizeof(finger_names) / sizeof(finger_names[0]); i++)
		if (strcmp(id, finger_names[i].id) == 0)
			return true;
	return false;
}

const char *
word_label(const char *w)
{
	static const struct {
		const char *word;
		const char *label;
	} words[] = {
		{ "active", N_("active") },
		{ "revoked", N_("revoked") },
		{ "running", N_("running") },
		{ "starting", N_("starting") },
		{ "down", N_("down") },
		{ "departed", N_("departed") },
		{ "transferred", N_("transferred") },
		{ "planned", N_("planned") },
		{ "approved", N_("approved") },
		{ "executed", N_("executed") },
		{ "allow", N_("allowed") },
		{ "deny", N_("blocked") },
		{ "allowed", N_("on the allow-list") },
		{ "not-allowed", N_("not on the allow-list") },
		{ "no-serial", N_("no serial number") },
		{ "allowlist-unreadable", N_("allow-list unreadable") },
	};
	for (size_t i = 0; w && i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(w, words[i].word) == 0)
			return _(words[i].label);
	return w ? w : "-";
}

/* The output of a streaming call's prompts: with --json, stdout holds only the one object. */
FILE *
prompt_out(void)
{
	return arg.json ? stderr : stdout;
}

void
prompt(const char *text)
{
	FILE *f = prompt_out();
	fputs(text, f);
	fputc('\n', f);
	fflush(f);
}

bool
jbool(json_object *o, const char *key)
{
	json_object *v = NULL;
	return o && json_object_object_get_ex(o, key, &v) &&
	       json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

/* A confirmer's prompt, always on stderr: stdout may be a file or a document. */
void
confirm_progress(json_object *p)
{
	const char *pr = jstr(p, "prompt");
	const char *who = jstr(p, "matching_id");
	if (!pr)
		return;
	if (who && !wire_valid_id(who))
		who = NULL;
	if (strcmp(pr, "place-finger") == 0) {
		if (who)
			/* TRANSLATORS: %s is the matching ID of the person who confirms. */
			fprintf(stderr, _("%s: place your finger on the reader\n"), who);
		else
			fprintf(stderr, "%s\n", _("Place your finger on the reader"));
	} else if (strcmp(pr, "retry") == 0) {
		if (who)
			/* TRANSLATORS: %s is the matching ID of the person who confirms. */
			fprintf(stderr,
			        _("%s: the finger was not read; place it on the reader again\n"),
			        who);
		else
			fprintf(stderr, "%s\n",
			        _("The finger was not read; place it on the reader again"));
	}
	fflush(stderr);
}
