/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl-csv: the one reader of CSV files from the administrator's spreadsheet (ctl-csv.c),
 * shared by every importer (the work schedule; the roster). Pure: no output, no globals; a
 * failure fills a CsvError (line and message) that the caller prints as "FILE:LINE: ...".
 *
 * Files come from Excel on a Japanese Windows PC and are hostile input: at most
 * CSV_MAX_FILE bytes; UTF-8 with or without a byte order mark, or CP932 (Shift_JIS as
 * Windows writes it), converted to UTF-8 before anything else reads them; any other
 * encoding is refused by its name. RFC 4180 quoting, CRLF or LF, blank lines skipped, an
 * optional header row whose columns may be named in English or Japanese and come in any
 * order; fields are trimmed of spaces and tabs.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define CSV_MAX_FILE (1024u * 1024u)
/* Fields kept per record; columns after these are counted, not kept. */
#define CSV_MAX_FIELDS 16
/* The longest field any importer takes (WIRE_MAX_TEXT); each reader sets its own limit. */
#define CSV_MAX_FIELD_CAP 512
/* How much of a field a message quotes, in characters. */
#define CSV_SHOW_CHARS 40

/* line 0: about the whole file. msg is UTF-8 and translated; the caller cleans it for the
 * terminal when it prints it. */
typedef struct CsvError {
	unsigned line;
	char msg[448];
} CsvError;

typedef enum CsvEncoding {
	CSV_ENC_UTF8,
	CSV_ENC_UTF8_BOM,
	CSV_ENC_CP932,
} CsvEncoding;

/* "UTF-8", "UTF-8 (BOM)", "CP932 (Shift_JIS)". */
const char *csv_encoding_name(CsvEncoding e);

/* Reads at most max bytes of path (0 with *ret, a NUL-terminated buffer of *ret_len bytes),
 * or -errno with err set: -EFBIG when the file is larger than max. */
int csv_read_file(const char *path, size_t max, char **ret, size_t *ret_len, CsvError *err);

/*
 * data[0..len) in whatever encoding the spreadsheet wrote -> UTF-8 without a byte order mark
 * (*ret, NUL-terminated, *ret_len bytes). Valid UTF-8 is taken as UTF-8, anything else is
 * tried as CP932. Refused by name: UTF-16 and UTF-32 (with or without a byte order mark),
 * ISO-2022-JP, EUC-JP, a byte order mark over text that is not UTF-8, and text that is
 * neither UTF-8 nor CP932 (the line of the first bad byte is given); a file that ends in the
 * middle of a character is said to be cut short. 0, or -errno with err set.
 */
int csv_decode(const char *data, size_t len, char **ret, size_t *ret_len, CsvEncoding *ret_enc,
               CsvError *err);

typedef struct Csv {
	const char *p, *end;
	unsigned line;    /* physical line of p, from 1 */
	size_t max_field; /* bytes, at most CSV_MAX_FIELD_CAP */
	CsvError err;     /* set when csv_next() returns -1 */
} Csv;

void csv_init(Csv *c, const char *text, size_t len, size_t max_field);

typedef struct CsvRecord {
	unsigned line;   /* where the record starts */
	size_t n;        /* fields seen; only the first CSV_MAX_FIELDS are kept */
	bool unfinished; /* the file ends in this record without a line break (cut short?) */
	char field[CSV_MAX_FIELDS][CSV_MAX_FIELD_CAP + 1];
} CsvRecord;

/* The next record, skipping blank lines: 1 with *rec filled, 0 at the end of the text, or -1
 * with c->err set. */
int csv_next(Csv *c, CsvRecord *rec);

/* A column an importer reads: names[0] is its English name (used in messages), the others
 * are accepted too (names[1] the Japanese one); NULL-terminated. */
typedef struct CsvColumn {
	const char *const *names;
	bool required;
} CsvColumn;

/*
 * Whether rec (the first record) is a header row: one whose fields name at least one known
 * column (after full-width letters are folded, case and '_'/' '/'-' ignored). Then map[i] is
 * the field of column i, or -1 for an optional column the header lacks, and 1 is returned;
 * columns the importer does not know are ignored. A header that lacks a required column or
 * names one twice is -1 with err set. Otherwise (no header) map[i] = i and 0 is returned.
 */
int csv_header(const CsvRecord *rec, const CsvColumn *cols, size_t n, int *map, CsvError *err);
/* The field of column col in rec under map, "" when the column or the field is missing. */
const char *csv_field(const CsvRecord *rec, const int *map, size_t col);

/* Dates as Excel writes them: 2026-04-01, 2026/4/1, 2026/04/01, 2026年4月1日 (full-width
 * digits too), naming a day that exists in 1900..9999 -> "YYYY-MM-DD" in out. */
bool csv_parse_date(const char *s, char out[11]);
/* Times as Excel writes them: 9:00, 09:00, 9:00:00 (seconds must be 00). Minutes after
 * midnight, 0..1439; with next_day, 24:00..47:59 are taken too (the Japanese way of writing
 * an end after midnight), 1440..2879. -1 when not a time. */
int csv_parse_time(const char *s, bool next_day);

/* A field as a message quotes it: its first CSV_SHOW_CHARS characters, "..." after a cut,
 * never cutting a character in two. */
void csv_show(const char *s, char *buf, size_t size);
