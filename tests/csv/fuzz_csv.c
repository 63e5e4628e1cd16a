/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for biogatectl's CSV reader (client/ctl-csv.c): arbitrary bytes go
 * through the encoding check and conversion, every record through the header match and the
 * date and time forms, each field through the message quoting. What must hold whatever the
 * input: decoded text is valid UTF-8 without a NUL, no field is longer than the reader's
 * limit, an error always has a message. Built as a real libFuzzer target with clang
 * (-DBIOGATE_FUZZ=ON) and, always, as a replay program that CTest runs over the corpus.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Strict UTF-8, written again here so that the harness does not trust what it checks. */
static bool
valid_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t k;
		uint32_t cp;
		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0)
			k = 1, cp = c & 0x1f;
		else if ((c & 0xf0) == 0xe0)
			k = 2, cp = c & 0x0f;
		else if ((c & 0xf8) == 0xf0)
			k = 3, cp = c & 0x07;
		else
			return false;
		for (size_t j = 1; j <= k; j++) {
			if (i + j >= n || (s[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		static const uint32_t min[] = { 0, 0x80, 0x800, 0x10000 };
		if (cp < min[k] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const a[] = { "matching_id", "照合ID", NULL };
	static const char *const b[] = { "date", "日付", "勤務日", NULL };
	static const char *const c3[] = { "start", "開始", NULL };
	static const char *const d[] = { "end", "終了", NULL };
	static const char *const e[] = { "note", "備考", NULL };
	static const CsvColumn cols[] = {
		{ a, true }, { b, true }, { c3, true }, { d, true }, { e, false }
	};
	if (size > CSV_MAX_FILE)
		return 0;
	char *text = NULL;
	size_t len = 0;
	CsvEncoding enc;
	CsvError err = { 0 };
	if (csv_decode((const char *)data, size, &text, &len, &enc, &err) < 0) {
		if (!err.msg[0])
			abort();
		return 0;
	}
	/* A NUL byte is the reader's to refuse, with its line: check UTF-8 around it. */
	for (size_t i = 0, from = 0; i <= len; i++)
		if (i == len || text[i] == '\0') {
			if (!valid_utf8((const unsigned char *)text + from, i - from))
				abort();
			from = i + 1;
		}
	if (text[len] != '\0')
		abort();
	CsvRecord *rec = malloc(sizeof(*rec));
	if (!rec) {
		free(text);
		return 0;
	}
	Csv c;
	csv_init(&c, text, len, (size % 3) ? 128 : 0);
	int map[5];
	int r;
	unsigned last = 0;
	for (bool first = true; (r = csv_next(&c, rec)) > 0; first = false) {
		if (rec->line < last || rec->n == 0)
			abort();
		last = rec->line;
		if (first && csv_header(rec, cols, 5, map, &err) < 0 && !err.msg[0])
			abort();
		for (size_t i = 0; i < rec->n && i < CSV_MAX_FIELDS; i++) {
			char out[11], show[4 * CSV_SHOW_CHARS + 8];
			if (strlen(rec->field[i]) > c.max_field)
				abort();
			if (csv_parse_date(rec->field[i], out) &&
			    (strlen(out) != 10 || out[4] != '-' || out[7] != '-'))
				abort();
			int m = csv_parse_time(rec->field[i], i % 2);
			if (m < -1 || m > 2879)
				abort();
			csv_show(rec->field[i], show, sizeof(show));
			if (strlen(show) >= sizeof(show))
				abort();
		}
	}
	if (r < 0 && (!c.err.msg[0] || c.err.line == 0))
		abort();
	free(rec);
	free(text);
	return 0;
}
