/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl-csv: the bounded reader of CSV files from the administrator's spreadsheet: the bytes of
 * the file (capped), their encoding (UTF-8 or CP932, anything else refused by name), the
 * RFC 4180 records, the header row, and the date and time forms Excel writes. Hostile input:
 * every limit is checked as the bytes are read, every error carries the line it is about.
 * It must never print, exit or keep state between calls: the importers and the unit test
 * and fuzzer (tests/csv) drive it alike.
 */
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <libintl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl-csv.h"

#define _(s) gettext(s)

__attribute__((format(printf, 3, 4))) static int
csv_set_error(CsvError *err, unsigned line, const char *fmt, ...)
{
	if (!err)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	err->line = line;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

const char *
csv_encoding_name(CsvEncoding e)
{
	switch (e) {
	case CSV_ENC_UTF8:
		return "UTF-8";
	case CSV_ENC_UTF8_BOM:
		return "UTF-8 (BOM)";
	case CSV_ENC_CP932:
		return "CP932 (Shift_JIS)";
	}
	return "?";
}

/* --- the file ------------------------------------------------------------------------- */

int
csv_read_file(const char *path, size_t max, char **ret, size_t *ret_len, CsvError *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int r = -errno;
		csv_set_error(err, 0, _("cannot open the file: %s"), strerror(-r));
		return r;
	}
	/* The size on disk refuses a big file before it is read; the read below still stops at
	 * max + 1 for what stat cannot size (a pipe, a file that grows). */
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max) {
		close(fd);
		csv_set_error(err, 0, _("the file is larger than %zu MiB"), max / (1024 * 1024));
		return -EFBIG;
	}
	char *buf = malloc(max + 2);
	if (!buf) {
		close(fd);
		csv_set_error(err, 0, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	size_t len = 0;
	int r = 0;
	while (len <= max) {
		ssize_t n = read(fd, buf + len, max + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			csv_set_error(err, 0, _("cannot read the file: %s"), strerror(-r));
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (r == 0 && len > max) {
		r = -EFBIG;
		csv_set_error(err, 0, _("the file is larger than %zu MiB"), max / (1024 * 1024));
	}
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
}

/* --- the encoding ----------------------------------------------------------------------- */

/* The line of data[off] (from 1): line breaks are the same byte in every encoding taken. */
static unsigned
csv_line_at(const char *data, size_t off)
{
	unsigned line = 1;
	for (size_t i = 0; i < off; i++)
		line += data[i] == '\n';
	return line;
}

/*
 * Strict UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF). true when valid;
 * else *ret_bad is the offset of the first bad sequence and *ret_cut says that it is only
 * cut short by the end of the data.
 */
static bool
csv_utf8_valid(const unsigned char *s, size_t n, size_t *ret_bad, bool *ret_cut)
{
	size_t i = 0;
	*ret_cut = false;
	while (i < n) {
		unsigned char c = s[i];
		size_t k;
		unsigned lo = 0x80, hi = 0xbf;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			if (c == 0xe0)
				lo = 0xa0;
			else if (c == 0xed)
				hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			if (c == 0xf0)
				lo = 0x90;
			else if (c == 0xf4)
				hi = 0x8f;
		} else {
			*ret_bad = i;
			return false;
		}
		for (size_t j = 1; j <= k; j++) {
			if (i + j == n) {
				*ret_bad = i;
				*ret_cut = true;
				return false;
			}
			unsigned char t = s[i + j];
			if (t < (j == 1 ? lo : 0x80) || t > (j == 1 ? hi : 0xbf)) {
				*ret_bad = i;
				return false;
			}
		}
		i += k + 1;
	}
	return true;
}

/* iconv from `from` to UTF-8. 0 with *ret; -EILSEQ at *ret_bad, -EINVAL when cut short at
 * *ret_bad; -ENOMEM; -ENOENT when the C library lacks the conversion. */
static int
csv_iconv(const char *from, const char *data, size_t len, char **ret, size_t *ret_len,
          size_t *ret_bad)
{
	iconv_t cd = iconv_open("UTF-8", from);
	if (cd == (iconv_t)-1)
		return -ENOENT;
	/* A CP932 or EUC-JP character is at most 3 bytes as UTF-8 for each byte it takes. */
	size_t cap = 3 * len + 1;
	char *out = malloc(cap);
	if (!out) {
		iconv_close(cd);
		return -ENOMEM;
	}
	/* iconv() takes char ** for input it never writes. */
	char *in, *o = out;
	memcpy(&in, &data, sizeof(in));
	size_t inleft = len, outleft = cap - 1;
	int r = 0;
	if (iconv(cd, &in, &inleft, &o, &outleft) == (size_t)-1) {
		r = errno == EINVAL ? -EINVAL : errno == E2BIG ? -ENOMEM : -EILSEQ;
		*ret_bad = (size_t)(in - data);
	} else if (iconv(cd, NULL, NULL, &o, &outleft) == (size_t)-1) {
		r = -EINVAL;
		*ret_bad = len;
	}
	iconv_close(cd);
	if (r < 0) {
		free(out);
		return r;
	}
	*o = '\0';
	*ret = out;
	*ret_len = (size_t)(o - out);
	return 0;
}

/* UTF-16 or UTF-32 without a byte order mark: NUL bytes in every other (or three of four)
 * positions of the first bytes. NULL when it does not look like either. */
static const char *
csv_wide_name(const unsigned char *s, size_t len)
{
	size_t n = len < 512 ? len : 512, z[4] = { 0 };
	if (n < 4)
		return NULL;
	n &= ~(size_t)3;
	for (size_t i = 0; i < n; i++)
		z[i % 4] += s[i] == 0;
	size_t q = n / 4; /* positions of each kind */
	if (z[1] + z[2] + z[3] >= 3 * q * 9 / 10 && z[0] < q / 2)
		return "UTF-32LE";
	if (z[0] + z[1] + z[2] >= 3 * q * 9 / 10 && z[3] < q / 2)
		return "UTF-32BE";
	if (z[1] + z[3] >= 2 * q * 4 / 10 && z[0] + z[2] < q / 10)
		return "UTF-16LE";
	if (z[0] + z[2] >= 2 * q * 4 / 10 && z[1] + z[3] < q / 10)
		return "UTF-16BE";
	return NULL;
}

int
csv_decode(const char *data, size_t len, char **ret, size_t *ret_len, CsvEncoding *ret_enc,
           CsvError *err)
{
	const unsigned char *u = (const unsigned char *)data;
	static const struct {
		const char *bom;
		size_t n;
		const char *name;
	} boms[] = { /* UTF-32LE first: its mark begins with UTF-16LE's */
		     { "\xff\xfe\0\0", 4, "UTF-32LE" },
		     { "\0\0\xfe\xff", 4, "UTF-32BE" },
		     { "\xff\xfe", 2, "UTF-16LE" },
		     { "\xfe\xff", 2, "UTF-16BE" }
	};
	for (size_t i = 0; i < sizeof(boms) / sizeof(boms[0]); i++)
		if (len >= boms[i].n && memcmp(data, boms[i].bom, boms[i].n) == 0) {
			csv_set_error(err, 0,
			              _("the file is %s text; save it as CSV UTF-8 (comma "
			                "delimited) or CSV (comma delimited)"),
			              boms[i].name);
			return -EILSEQ;
		}
	const char *wide = csv_wide_name(u, len);
	if (wide) {
		csv_set_error(
		    err, 0,
		    _("the file is %s text; save it as CSV UTF-8 (comma delimited) or CSV "
		      "(comma delimited)"),
		    wide);
		return -EILSEQ;
	}
	/* ISO-2022-JP ("JIS") is 7-bit, so it would pass as UTF-8: its escape sequences give it
	 * away (ESC $ @, ESC $ B, ESC ( J, ESC ( I, ESC $ ( D). */
	for (size_t i = 0; i + 2 < len; i++)
		if (u[i] == 0x1b && (u[i + 1] == '$' || u[i + 1] == '(') &&
		    strchr("@BJID(", u[i + 2])) {
			csv_set_error(err, csv_line_at(data, i),
			              _("the file is ISO-2022-JP (JIS) text; save it as CSV UTF-8 "
			                "(comma delimited) or CSV (comma delimited)"));
			return -EILSEQ;
		}

	bool bom = len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0;
	size_t skip = bom ? 3 : 0, bad = 0;
	bool cut = false;
	if (csv_utf8_valid(u + skip, len - skip, &bad, &cut)) {
		char *out = malloc(len - skip + 1);
		if (!out)
			return csv_set_error(err, 0, "%s", strerror(ENOMEM)), -ENOMEM;
		memcpy(out, data + skip, len - skip);
		out[len - skip] = '\0';
		*ret = out;
		*ret_len = len - skip;
		*ret_enc = bom ? CSV_ENC_UTF8_BOM : CSV_ENC_UTF8;
		return 0;
	}
	bad += skip;
	if (cut) {
		csv_set_error(err, csv_line_at(data, bad),
		              _("the file ends in the middle of a UTF-8 character: it was cut "
		                "short; save or copy it again"));
		return -EILSEQ;
	}
	if (bom) {
		csv_set_error(
		    err, csv_line_at(data, bad),
		    _("byte 0x%02x is not UTF-8, though the file begins with UTF-8's byte "
		      "order mark; save it again as CSV UTF-8 (comma delimited)"),
		    u[bad]);
		return -EILSEQ;
	}

	char *out = NULL;
	size_t out_len = 0, bad932 = 0;
	int r = csv_iconv("CP932", data, len, &out, &out_len, &bad932);
	if (r == -ENOMEM)
		return csv_set_error(err, 0, "%s", strerror(ENOMEM)), -ENOMEM;
	if (r == -ENOENT) {
		csv_set_error(err, csv_line_at(data, bad),
		              _("byte 0x%02x is not UTF-8, and this system cannot convert CP932 "
		                "(Shift_JIS) text; save the file as CSV UTF-8 (comma delimited)"),
		              u[bad]);
		return -ENOTSUP;
	}
	if (r == 0) {
		*ret = out;
		*ret_len = out_len;
		*ret_enc = CSV_ENC_CP932;
		return 0;
	}
	if (r == -EINVAL) {
		csv_set_error(err, csv_line_at(data, bad932),
		              _("the file ends in the middle of a CP932 (Shift_JIS) character: it "
		                "was cut short; save or copy it again"));
		return -EILSEQ;
	}
	/* Much EUC-JP text also reads as CP932 (as half-width katakana) and is taken so: the
	 * columns then fail by line. What CP932 cannot read is named when it is EUC-JP. */
	char *euc = NULL;
	size_t euc_len = 0, bad_euc = 0;
	if (csv_iconv("EUC-JP", data, len, &euc, &euc_len, &bad_euc) == 0) {
		free(euc);
		csv_set_error(
		    err, 0,
		    _("the file is EUC-JP text; save it as CSV UTF-8 (comma delimited) or "
		      "CSV (comma delimited)"));
		return -EILSEQ;
	}
	unsigned l8 = csv_line_at(data, bad), l932 = csv_line_at(data, bad932);
	csv_set_error(err, l8,
	              _("the file is neither UTF-8 (byte 0x%02x on line %u) nor CP932 (Shift_JIS) "
	                "text (byte 0x%02x on line %u); save it as CSV UTF-8 (comma delimited)"),
	              u[bad], l8, u[bad932], l932);
	return -EILSEQ;
}

/* --- records ---------------------------------------------------------------------------- */

void
csv_init(Csv *c, const char *text, size_t len, size_t max_field)
{
	*c = (Csv){ .p = text,
		    .end = text + len,
		    .line = 1,
		    .max_field = max_field && max_field < CSV_MAX_FIELD_CAP ? max_field
		                                                            : CSV_MAX_FIELD_CAP };
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

/* Appends ch to the field being read. 0, or -1 with c->err set. */
static int
csv_put(Csv *c, CsvRecord *rec, char *buf, size_t *len, char ch)
{
	if (ch == '\0')
		return csv_set_error(&c->err, c->line,
		                     _("the file contains a NUL byte; save it as CSV (UTF-8)"));
	if (*len >= c->max_field)
		return csv_set_error(&c->err, rec->line, _("field %zu is longer than %zu bytes"),
		                     rec->n + 1, c->max_field);
	buf[(*len)++] = ch;
	return 0;
}

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
	rec->unfinished = false;
	for (;;) {
		char buf[CSV_MAX_FIELD_CAP + 1];
		size_t len = 0;
		while (c->p < c->end && csv_blank(*c->p))
			c->p++;
		if (c->p < c->end && *c->p == '"') {
			c->p++;
			for (;;) {
				if (c->p == c->end)
					return csv_set_error(&c->err, rec->line,
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
				return csv_set_error(&c->err, c->line,
				                     _("text after the closing quote of field %zu"),
				                     rec->n + 1);
		} else {
			while (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r') {
				if (*c->p == '"')
					return csv_set_error(&c->err, c->line,
					                     _("a quote inside field %zu, which is "
					                       "not quoted; quote the whole field"),
					                     rec->n + 1);
				if (csv_put(c, rec, buf, &len, *c->p++))
					return -1;
			}
		}
		buf[len] = '\0';
		if (rec->n < CSV_MAX_FIELDS) {
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
			return csv_set_error(&c->err, c->line,
			                     _("a carriage return that does not end a line"));
		c->p++;
	}
	if (c->p < c->end) { /* '\n' */
		c->p++;
		c->line++;
	} else {
		rec->unfinished = true;
	}
	return 1;
}

/* --- header and values -------------------------------------------------------------------- */

/*
 * Folds s in place: full-width ASCII (U+FF01..U+FF5E) and the ideographic space (U+3000)
 * become their ASCII forms, so that "２０２６／４／１" and "照合ＩＤ" read as typed in ASCII;
 * then trims spaces. Only for comparing and for dates and times, never for IDs.
 */
static void
csv_fold(char *s)
{
	unsigned char *r = (unsigned char *)s, *w = (unsigned char *)s;
	while (*r) {
		if (r[0] == 0xef && r[1] >= 0xbc && r[1] <= 0xbd && r[2] >= 0x80 && r[2] <= 0xbf) {
			unsigned cp = 0xf000u | ((r[1] & 0x3fu) << 6) | (r[2] & 0x3fu);
			if (cp >= 0xff01 && cp <= 0xff5e) {
				*w++ = (unsigned char)(cp - 0xff01 + 0x21);
				r += 3;
				continue;
			}
		}
		if (r[0] == 0xe3 && r[1] == 0x80 && r[2] == 0x80) {
			*w++ = ' ';
			r += 3;
			continue;
		}
		*w++ = *r++;
	}
	*w = '\0';
	csv_trim(s);
}

/* A header cell or a column name, for comparing: folded, lower case, '_' for ' ' and '-'. */
static void
csv_key(const char *s, char *out, size_t size)
{
	snprintf(out, size, "%s", s);
	csv_fold(out);
	for (char *p = out; *p; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
		else if (*p == ' ' || *p == '-')
			*p = '_';
	}
}

int
csv_header(const CsvRecord *rec, const CsvColumn *cols, size_t n, int *map, CsvError *err)
{
	char key[CSV_MAX_FIELD_CAP + 1], name[CSV_MAX_FIELD_CAP + 1];
	size_t kept = rec->n < CSV_MAX_FIELDS ? rec->n : CSV_MAX_FIELDS;
	bool header = false;
	for (size_t i = 0; i < n; i++)
		map[i] = -1;
	for (size_t f = 0; f < kept; f++) {
		csv_key(rec->field[f], key, sizeof(key));
		for (size_t i = 0; i < n; i++)
			for (const char *const *nm = cols[i].names; *nm; nm++) {
				csv_key(*nm, name, sizeof(name));
				if (strcmp(key, name) != 0)
					continue;
				if (map[i] >= 0)
					return csv_set_error(
					    err, rec->line,
					    _("the header row names the column '%s' "
					      "twice (fields %d and %zu)"),
					    cols[i].names[0], map[i] + 1, f + 1);
				map[i] = (int)f;
				header = true;
			}
	}
	if (!header) {
		for (size_t i = 0; i < n; i++)
			map[i] = (int)i;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (cols[i].required && map[i] < 0)
			/* TRANSLATORS: a column's English name, then its Japanese name. */
			return csv_set_error(
			    err, rec->line, _("the header row has no column '%s' (or '%s')"),
			    cols[i].names[0],
			    cols[i].names[1] ? cols[i].names[1] : cols[i].names[0]);
	return 1;
}

const char *
csv_field(const CsvRecord *rec, const int *map, size_t col)
{
	int f = map[col];
	if (f < 0 || (size_t)f >= rec->n || f >= CSV_MAX_FIELDS)
		return "";
	return rec->field[f];
}

/* 1..max digits at *s, as a number; -1 when none or more. Advances *s. */
static int
csv_number(const char **s, int max)
{
	int v = 0, k = 0;
	while (**s >= '0' && **s <= '9') {
		if (++k > max)
			return -1;
		v = v * 10 + (**s - '0');
		(*s)++;
	}
	return k ? v : -1;
}

/* Skips the separator sep at *s (a byte string); false when it is not there. */
static bool
csv_skip(const char **s, const char *sep)
{
	size_t n = strlen(sep);
	if (strncmp(*s, sep, n) != 0)
		return false;
	*s += n;
	return true;
}

bool
csv_parse_date(const char *s, char out[11])
{
	static const int month_days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	char buf[64];
	if (strlen(s) >= sizeof(buf))
		return false;
	memcpy(buf, s, strlen(s) + 1);
	csv_fold(buf);
	const char *p = buf;
	const char *sep2 = NULL;
	int y = csv_number(&p, 4);
	if (p - buf != 4)
		return false;
	if (csv_skip(&p, "-"))
		sep2 = "-";
	else if (csv_skip(&p, "/"))
		sep2 = "/";
	else if (csv_skip(&p, "年"))
		sep2 = "月";
	else
		return false;
	int m = csv_number(&p, 2);
	if (m < 0 || !csv_skip(&p, sep2))
		return false;
	int d = csv_number(&p, 2);
	if (d < 0 || (strcmp(sep2, "月") == 0 && !csv_skip(&p, "日") && *p))
		return false;
	if (*p || y < 1900 || m < 1 || m > 12)
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d < 1 || d > month_days[m - 1] + (m == 2 && leap ? 1 : 0))
		return false;
	char tmp[32];
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02d", y, m, d);
	memcpy(out, tmp, 11);
	return true;
}

int
csv_parse_time(const char *s, bool next_day)
{
	char buf[32];
	if (strlen(s) >= sizeof(buf))
		return -1;
	memcpy(buf, s, strlen(s) + 1);
	csv_fold(buf);
	const char *p = buf;
	int h = csv_number(&p, 2);
	if (h < 0 || !csv_skip(&p, ":"))
		return -1;
	const char *mm = p;
	int m = csv_number(&p, 2);
	if (m < 0 || p - mm != 2 || m > 59)
		return -1;
	if (*p) { /* Excel's h:mm:ss: a shift starts on a minute */
		if (!csv_skip(&p, ":") || strcmp(p, "00") != 0)
			return -1;
	}
	if (h > (next_day ? 47 : 23))
		return -1;
	return h * 60 + m;
}

void
csv_show(const char *s, char *buf, size_t size)
{
	size_t j = 0, chars = 0, i = 0, n = strlen(s);
	if (size == 0)
		return;
	while (i < n && chars < CSV_SHOW_CHARS) {
		size_t k = 1;
		while (i + k < n && ((unsigned char)s[i + k] & 0xc0) == 0x80)
			k++;
		if (j + k + 4 > size) /* room for "..." and the NUL */
			break;
		memcpy(buf + j, s + i, k);
		j += k;
		i += k;
		chars++;
	}
	if (i < n && j + 4 <= size) {
		memcpy(buf + j, "...", 3);
		j += 3;
	}
	buf[j] = '\0';
}
