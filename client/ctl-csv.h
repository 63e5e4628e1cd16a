/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl-csv: the bounded CSV reader (ctl-csv.c).
 */
#pragma once

#include <stddef.h>

/*
 * The schedule file comes from a spreadsheet on the administrator's desk and is read as
 * hostile input by this one bounded parser: at most SCHED_MAX_FILE bytes and SCHED_MAX_ROWS
 * shifts, RFC 4180 quoting, CRLF or LF, an optional UTF-8 byte order mark and an optional
 * header row. The four fields are trimmed and then checked; columns after them are
 * ignored; nothing unchecked reaches the wire.
 */
#define SCHED_MAX_FILE (1024u * 1024u)
#define SCHED_MAX_ROWS 4096u
#define CSV_FIELDS     4
/* Longer than any valid field (a 64-byte ID); a longer one fails as soon as it is seen. */
#define CSV_MAX_FIELD 128

typedef struct Csv {
	const char *path; /* for messages */
	const char *p, *end;
	unsigned line; /* physical line of p, from 1 */
} Csv;

typedef struct CsvRecord {
	unsigned line; /* where the record starts */
	size_t n;      /* fields seen; only the first CSV_FIELDS are kept */
	char field[CSV_FIELDS][CSV_MAX_FIELD + 1];
} CsvRecord;

__attribute__((format(printf, 3, 4))) int csv_errorf(const char *path, unsigned line,
                                                     const char *fmt, ...);
void csv_show(const char *s, char *buf, size_t size);
int csv_next(Csv *c, CsvRecord *rec);
