/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl-csv: the bounded RFC 4180 reader for files from the administrator's spreadsheet
 * (the work schedule). Hostile input: every limit is checked as the bytes are read, and every
 * error names the file and line.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl-args.h"
#include "ctl-util.h"
#include "ctl-csv.h"

/* "biogatectl: FILE:LINE: message" (LINE 0: no line). */
static void
csv_verror(const char *path, unsigned line, const char *fmt, va_list ap)
{
	char *raw = NULL;
	if (vasprintf(&raw, fmt, ap) < 0) {
		(void)fail_nomem();
		return;
	}
	_cleanup_(freep) char *msg = text_clean(raw);
	_cleanup_(freep) char *where = text_clean(path);
	free(raw);
	if (line > 0)
		fprintf(stderr, "%s: %s:%u: %s\n", CTL_NAME, where ? where : "?", line,
		        msg ? msg : "?");
	else
		fprintf(stderr, "%s: %s: %s\n", CTL_NAME, where ? where : "?", msg ? msg : "?");
}

/* A bad schedule file is a usage error: the person fixes the file and runs it again. */
__attribute__((format(printf, 3, 4))) int
csv_errorf(const char *path, unsigned line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	csv_verror(path, line, fmt, ap);
	va_end(ap);
	return CTL_EXIT_USAGE;
}

/* The same for the parser, whose functions return -1 after the message. */
__attribute__((format(printf, 3, 4))) static int
csv_fail(const char *path, unsigned line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	csv_verror(path, line, fmt, ap);
	va_end(ap);
	return -1;
}

/* A field as it may appear in a message: printable ASCII, at most 40 bytes. */
void
csv_show(const char *s, char *buf, size_t size)
{
	size_t j = 0, n = strlen(s);
	for (size_t i = 0; i < n && j + 4 < size && i < 40; i++)
		buf[j++] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (n > 40 && j + 4 < size) {
		memcpy(buf + j, "...", 3);
		j += 3;
	}
	buf[j] = '\0';
}

static bool
csv_blank(char c)
{
	return c == ' ' || c == '\t';
}

static void
csv_trim(char *s)
{
	size_t n = strlen(s), i = 0;
	while (n > 0 && csv_blank(s[n - 1]))
		n--;
	while (i < n && csv_blank(s[i]))
		i++;
	memmove(s, s + i, n - i);
	s[n - i] = '\0';
}

/* Appends ch to the field being read. 0, or -1 after the message. */
static int
csv_put(Csv *c, CsvRecord *rec, char *buf, size_t *len, char ch)
{
	if (ch == '\0')
		return csv_fail(c->path, c->line,
		                _("the file contains a NUL byte; save it as CSV (UTF-8)"));
	if (*len >= CSV_MAX_FIELD)
		return csv_fail(c->path, rec->line, _("field %zu is longer than %d bytes"),
		                rec->n + 1, CSV_MAX_FIELD);
	buf[(*len)++] = ch;
	return 0;
}

/*
 * Reads the next record, skipping blank lines. 1 with *rec filled, 0 at the end of the
 * file, or -1 after the message (the usage exit code applies).
 */
int
csv_next(Csv *c, CsvRecord *rec)
{
	for (;;) { /* blank lines */
		const char *q = c->p;
		while (q < c->end && csv_blank(*q))
			q++;
		if (q == c->end) {
			c->p = q;
			return 0;
		}
		if (*q == '\n' || (*q == '\r' && q + 1 < c->end && q[1] == '\n')) {
			c->p = q + (*q == '\r' ? 2 : 1);
			c->line++;
			continue;
		}
		break;
	}
	rec->line = c->line;
	rec->n = 0;
	for (;;) {
		char buf[CSV_MAX_FIELD + 1];
		size_t len = 0;
		while (c->p < c->end && csv_blank(*c->p))
			c->p++;
		if (c->p < c->end && *c->p == '"') {
			c->p++;
			for (;;) {
				if (c->p == c->end)
					return csv_fail(c->path, rec->line,
					                _("a quoted field is not closed"));
				char ch = *c->p++;
				if (ch == '"') {
					if (c->p < c->end && *c->p == '"')
						c->p++;
					else
						break;
				} else if (ch == '\n') {
					c->line++;
				}
				if (csv_put(c, rec, buf, &len, ch))
					return -1;
			}
			while (c->p < c->end && csv_blank(*c->p))
				c->p++;
			if (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r')
				return csv_fail(c->path, c->line,
				                _("text after the closing quote of field %zu"),
				                rec->n + 1);
		} else {
			while (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r') {
				if (*c->p == '"')
					return csv_fail(c->path, c->line,
					                _("a quote inside field %zu, which is not "
					                  "quoted; quote the whole field"),
					                rec->n + 1);
				if (csv_put(c, rec, buf, &len, *c->p++))
					return -1;
			}
		}
		buf[len] = '\0';
		if (rec->n < CSV_FIELDS) {
			memcpy(rec->field[rec->n], buf, len + 1);
			csv_trim(rec->field[rec->n]);
		}
		rec->n++;
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		break;
	}
	if (c->p < c->end && *c->p == '\r') {
		if (c->p + 1 == c->end || c->p[1] != '\n')
			return csv_fail(c->path, c->line,
			                _("a carriage return that does not end a line"));
		c->p++;
	}
	if (c->p < c->end) { /* '\n' */
		c->p++;
		c->line++;
	}
	return 1;
}
