/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of biogatectl's CSV reader (client/ctl-csv.c) on files as Japanese offices
 * make them, made here: CP932 with a Japanese header (converted with iconv(3) from the UTF-8
 * text below), a UTF-8 byte order mark, CRLF, quoted fields with commas, quotes and line
 * breaks, Excel's date and time forms, a night shift's times, files cut short, encodings
 * that are refused by name, and a 10 MB file refused by its size.
 */
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl-csv.h"

static int failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

#define CHECK_STR(got, want)                                                                       \
	do {                                                                                       \
		const char *g_ = (got), *w_ = (want);                                              \
		if (strcmp(g_, w_) != 0) {                                                         \
			fprintf(stderr, "%s:%d: got '%s', wanted '%s'\n", __FILE__, __LINE__, g_,  \
			        w_);                                                               \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

/* UTF-8 text in another encoding, as the spreadsheet would write it. */
static char *
convert(const char *to, const char *s, size_t *ret_len)
{
	iconv_t cd = iconv_open(to, "UTF-8");
	if (cd == (iconv_t)-1) {
		perror(to);
		exit(1);
	}
	size_t n = strlen(s), cap = 4 * n + 8, left = cap;
	char *out = malloc(cap), *o = out, *in;
	memcpy(&in, &s, sizeof(in)); /* iconv() takes char ** for input it never writes */
	if (!out || iconv(cd, &in, &n, &o, &left) == (size_t)-1 ||
	    iconv(cd, NULL, NULL, &o, &left) == (size_t)-1) {
		perror("iconv");
		exit(1);
	}
	iconv_close(cd);
	*ret_len = (size_t)(o - out);
	return out;
}

/* Decodes data: 0 and the UTF-8 text in *text, or the error. */
static int
decode(const char *data, size_t len, char **text, size_t *text_len, CsvEncoding *enc, CsvError *err)
{
	*err = (CsvError){ 0 };
	*text = NULL;
	return csv_decode(data, len, text, text_len, enc, err);
}

static const char *const id_names[] = { "matching_id", "照合ID", NULL };
static const char *const date_names[] = { "date", "日付", NULL };
static const char *const start_names[] = { "start", "開始", NULL };
static const char *const end_names[] = { "end", "終了", NULL };
static const char *const note_names[] = { "note", "備考", NULL };
static const CsvColumn columns[] = {
	{ id_names, true },  { date_names, true },  { start_names, true },
	{ end_names, true }, { note_names, false },
};
#define NCOLS (sizeof(columns) / sizeof(columns[0]))

/* The schedule as the contractor's office writes it, with a night shift. */
static const char schedule_utf8[] = "照合ID,日付,開始,終了,氏名\r\n"
                                    "M001,2026/4/1,9:00,17:00,山田 太郎\r\n"
                                    "\"M002\",2026/04/30,22:00,6:00,\"佐藤, 花子\"\r\n"
                                    "M003,2026年4月2日,22:00,30:00,\"髙橋 \"\"ﾀｶﾊｼ\"\"\r\n№1\"\r\n"
                                    "M004,2026-04-03,8:30:00,12:00:00,～\r\n";

static void
test_cp932_schedule(void)
{
	size_t len, tlen;
	char *data = convert("CP932", schedule_utf8, &len);
	char *text;
	CsvEncoding enc;
	CsvError err;
	CHECK(len < strlen(schedule_utf8)); /* really converted: 2 bytes a kanji, not 3 */
	CHECK(decode(data, len, &text, &tlen, &enc, &err) == 0);
	CHECK(enc == CSV_ENC_CP932);
	CHECK(tlen == strlen(schedule_utf8) && memcmp(text, schedule_utf8, tlen) == 0);

	Csv c;
	CsvRecord *rec = malloc(sizeof(*rec));
	int map[NCOLS];
	csv_init(&c, text, tlen, 128);
	CHECK(csv_next(&c, rec) == 1);
	CHECK(csv_header(rec, columns, NCOLS, map, &err) == 1);
	CHECK(map[0] == 0 && map[1] == 1 && map[2] == 2 && map[3] == 3 && map[4] == -1);

	char date[11];
	CHECK(csv_next(&c, rec) == 1 && rec->line == 2 && rec->n == 5);
	CHECK_STR(csv_field(rec, map, 0), "M001");
	CHECK(csv_parse_date(csv_field(rec, map, 1), date));
	CHECK_STR(date, "2026-04-01");
	CHECK(csv_parse_time(csv_field(rec, map, 2), false) == 9 * 60);
	CHECK(csv_parse_time(csv_field(rec, map, 3), true) == 17 * 60);
	CHECK_STR(csv_field(rec, map, 4), ""); /* optional, not in the header */
	CHECK_STR(rec->field[4], "山田 太郎");

	CHECK(csv_next(&c, rec) == 1 && rec->line == 3);
	CHECK_STR(rec->field[0], "M002");
	CHECK_STR(rec->field[4], "佐藤, 花子");
	CHECK(csv_parse_date(rec->field[1], date));
	CHECK_STR(date, "2026-04-30");
	/* The night shift: the end before the start, for the importer to put on the next day. */
	CHECK(csv_parse_time(rec->field[2], false) == 22 * 60);
	CHECK(csv_parse_time(rec->field[3], true) == 6 * 60);

	CHECK(csv_next(&c, rec) == 1 && rec->line == 4);
	CHECK(csv_parse_date(rec->field[1], date));
	CHECK_STR(date, "2026-04-02");
	CHECK(csv_parse_time(rec->field[3], true) == 30 * 60); /* 30:00, 6:00 the next day */
	CHECK(csv_parse_time(rec->field[3], false) == -1);
	CHECK_STR(rec->field[4], "髙橋 \"ﾀｶﾊｼ\"\r\n№1"); /* CP932's extensions survive */

	CHECK(csv_next(&c, rec) == 1 && rec->line == 6); /* the quoted line break counted */
	CHECK(csv_parse_time(rec->field[2], false) == 8 * 60 + 30);
	CHECK_STR(rec->field[4], "～");
	CHECK(!rec->unfinished);
	CHECK(csv_next(&c, rec) == 0);
	free(rec);
	free(text);
	free(data);
}

static void
test_utf8_bom_crlf(void)
{
	static const char file[] = "\xef\xbb\xbf"
	                           "備考,終了,日付,ＭＡＴＣＨＩＮＧ　ＩＤ,開始\r\n"
	                           "\r\n"
	                           "  \"a \"\"b\"\", c\" ,1:00, 2026/4/5 ,M009,21:30";
	size_t tlen;
	char *text;
	CsvEncoding enc;
	CsvError err;
	CHECK(decode(file, sizeof(file) - 1, &text, &tlen, &enc, &err) == 0);
	CHECK(enc == CSV_ENC_UTF8_BOM);
	CHECK(tlen == sizeof(file) - 4);
	Csv c;
	CsvRecord *rec = malloc(sizeof(*rec));
	int map[NCOLS];
	csv_init(&c, text, tlen, 0);
	CHECK(csv_next(&c, rec) == 1);
	/* Full-width letters and space fold to "MATCHING ID", which reads as matching_id. */
	CHECK(csv_header(rec, columns, NCOLS, map, &err) == 1);
	CHECK(map[0] == 3 && map[1] == 2 && map[2] == 4 && map[3] == 1 && map[4] == 0);
	CHECK(csv_next(&c, rec) == 1 && rec->line == 3 && rec->unfinished);
	CHECK_STR(csv_field(rec, map, 4), "a \"b\", c");
	CHECK_STR(csv_field(rec, map, 0), "M009");
	CHECK_STR(csv_field(rec, map, 1), "2026/4/5");
	CHECK(csv_next(&c, rec) == 0);

	/* No header: the columns in their order. */
	csv_init(&c, "M1,2026-04-01,09:00,17:00\n", 26, 0);
	CHECK(csv_next(&c, rec) == 1);
	CHECK(csv_header(rec, columns, NCOLS, map, &err) == 0);
	CHECK(map[0] == 0 && map[3] == 3);
	/* A header without a required column, and one naming a column twice. */
	csv_init(&c, "照合ID,日付,開始\n", strlen("照合ID,日付,開始\n"), 0);
	CHECK(csv_next(&c, rec) == 1);
	CHECK(csv_header(rec, columns, NCOLS, map, &err) == -1 && err.line == 1);
	CHECK(strstr(err.msg, "'end' (or '終了')") != NULL);
	csv_init(&c, "\n\ndate,Date,start,end,matching_id\n", 33, 0);
	CHECK(csv_next(&c, rec) == 1);
	CHECK(csv_header(rec, columns, NCOLS, map, &err) == -1 && err.line == 3);
	free(rec);
	free(text);
}

static void
test_dates_times(void)
{
	static const struct {
		const char *in, *out;
	} dates[] = {
		{ "2026-04-01", "2026-04-01" },
		{ "2026/4/1", "2026-04-01" },
		{ "2026/04/01", "2026-04-01" },
		{ "2026-4-1", "2026-04-01" },
		{ "2026年4月1日", "2026-04-01" },
		{ "２０２６／１２／０１", "2026-12-01" },
		{ " 2028/2/29 ", "2028-02-29" },
		{ "2000/2/29", "2000-02-29" },
		{ "2026/2/29", NULL },
		{ "1900/2/29", NULL },
		{ "2026/13/1", NULL },
		{ "2026/4/31", NULL },
		{ "2026/0/1", NULL },
		{ "26/4/1", NULL },
		{ "2026/4/1/", NULL },
		{ "2026-4/1", NULL },
		{ "2026/004/01", NULL },
		{ "1899/12/31", NULL },
		{ "2026年4月1", "2026-04-01" },
		{ "2026年4/1", NULL },
		{ "", NULL },
		{ "2026/4/1 9:00", NULL },
		{ "45383", NULL },
	};
	for (size_t i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
		char out[11] = "";
		bool ok = csv_parse_date(dates[i].in, out);
		if (ok != (dates[i].out != NULL) || (ok && strcmp(out, dates[i].out) != 0)) {
			fprintf(stderr, "date '%s': %s '%s'\n", dates[i].in,
			        ok ? "took" : "refused", out);
			failures++;
		}
	}
	static const struct {
		const char *in;
		bool next_day;
		int minutes;
	} times[] = {
		{ "9:00", false, 540 },  { "09:00", false, 540 },  { "9:00:00", false, 540 },
		{ "0:00", false, 0 },    { "23:59", false, 1439 }, { "２２：３０", false, 1350 },
		{ "24:00", false, -1 },  { "24:00", true, 1440 },  { "47:59", true, 2879 },
		{ "48:00", true, -1 },   { "9:60", false, -1 },    { "9:0", false, -1 },
		{ "009:00", false, -1 }, { "9:00:30", false, -1 }, { "9", false, -1 },
		{ ":00", false, -1 },    { "", false, -1 },        { "9:00 PM", false, -1 },
		{ "-1:00", true, -1 },   { "9:00:", false, -1 },
	};
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		int m = csv_parse_time(times[i].in, times[i].next_day);
		if (m != times[i].minutes) {
			fprintf(stderr, "time '%s'%s: %d, wanted %d\n", times[i].in,
			        times[i].next_day ? " (end)" : "", m, times[i].minutes);
			failures++;
		}
	}
}

/* An encoding refused by name: the message holds want, on line. */
static void
refused(const char *what, const char *data, size_t len, unsigned line, const char *want)
{
	char *text;
	size_t tlen;
	CsvEncoding enc;
	CsvError err;
	int r = decode(data, len, &text, &tlen, &enc, &err);
	if (r == 0 || err.line != line || !strstr(err.msg, want)) {
		fprintf(stderr, "%s: r=%d line %u '%s', wanted line %u '%s'\n", what, r, err.line,
		        err.msg, line, want);
		failures++;
	}
	if (r == 0)
		free(text);
}

static void
test_encodings_refused(void)
{
	static const char hdr[] = "照合ID,日付,開始,終了\nM001,2026/4/1,9:00,17:00\n";
	size_t len;
	char *d = convert("EUC-JP", hdr, &len);
	refused("EUC-JP", d, len, 0, "EUC-JP");
	free(d);
	d = convert("ISO-2022-JP", hdr, &len);
	refused("ISO-2022-JP", d, len, 1, "ISO-2022-JP (JIS)");
	free(d);
	d = convert("UTF-16LE", hdr, &len);
	refused("UTF-16LE", d, len, 0, "UTF-16LE");
	free(d);
	d = convert("UTF-16", hdr, &len); /* with its byte order mark */
	refused("UTF-16 with a BOM", d, len, 0, "UTF-16");
	free(d);
	d = convert("UTF-32BE", hdr, &len);
	refused("UTF-32BE", d, len, 0, "UTF-32BE");
	free(d);
	static const char latin1[] = "M001,2026/4/1,9:00,17:00\nJos\xe9\xff,x\n";
	refused("neither", latin1, sizeof(latin1) - 1, 2, "neither UTF-8 (byte 0xe9 on line 2)");
	static const char bom_sjis[] = "\xef\xbb\xbfM001\n\x8e\x52\n";
	refused("BOM over CP932", bom_sjis, sizeof(bom_sjis) - 1, 2, "byte order mark");
	/* Overlong forms and surrogates are not UTF-8 (nor CP932 here). */
	static const char overlong[] = "M001\n\xc0\xaf\xff\n";
	refused("overlong", overlong, sizeof(overlong) - 1, 2, "neither UTF-8");
	static const char surrogate[] = "M001\n\xed\xa0\x80\xff\n";
	refused("surrogate", surrogate, sizeof(surrogate) - 1, 2, "neither UTF-8");
}

static void
test_cut_short(void)
{
	/* Cut inside a UTF-8 character, then inside a CP932 one: both named, with the line. */
	static const char u8[] = "M001,2026/4/1,9:00,17:00,山田\nM002,x,y,z,山\xe7\x94";
	refused("UTF-8 cut", u8, sizeof(u8) - 1, 2, "cut short");
	size_t len;
	char *d = convert("CP932", "M001,2026/4/1,9:00,17:00,佐藤\r\n\r\nM002,x,y,z,山田", &len);
	refused("CP932 cut", d, len - 1, 3, "CP932 (Shift_JIS) character: it was cut short");
	free(d);

	/* Cut inside a quoted field: the record's first line; cut inside a record: flagged. */
	Csv c;
	CsvRecord *rec = malloc(sizeof(*rec));
	static const char q[] = "M001,a,b,c\nM002,\"2026/4/1\nM003";
	csv_init(&c, q, sizeof(q) - 1, 0);
	CHECK(csv_next(&c, rec) == 1 && !rec->unfinished);
	CHECK(csv_next(&c, rec) == -1 && c.err.line == 2);
	CHECK(strstr(c.err.msg, "not closed") != NULL);
	static const char r[] = "M001,a,b,c\r\nM002,2026/4/";
	csv_init(&c, r, sizeof(r) - 1, 0);
	CHECK(csv_next(&c, rec) == 1 && !rec->unfinished);
	CHECK(csv_next(&c, rec) == 1 && rec->unfinished && rec->n == 2 && rec->line == 2);
	free(rec);
}

static void
test_reader_limits(void)
{
	Csv c;
	CsvRecord *rec = malloc(sizeof(*rec));
	static const char nul[] = "M001\nM0\0002\n";
	csv_init(&c, nul, sizeof(nul) - 1, 0);
	CHECK(csv_next(&c, rec) == 1);
	CHECK(csv_next(&c, rec) == -1 && c.err.line == 2 && strstr(c.err.msg, "NUL"));
	char longf[200];
	memset(longf, 'x', sizeof(longf));
	csv_init(&c, longf, sizeof(longf), 128);
	CHECK(csv_next(&c, rec) == -1 && strstr(c.err.msg, "longer than 128 bytes"));
	static const char cr[] = "a,b\rc\n";
	csv_init(&c, cr, sizeof(cr) - 1, 0);
	CHECK(csv_next(&c, rec) == -1 && strstr(c.err.msg, "carriage return"));
	/* Twenty columns: sixteen kept, all counted. */
	static const char wide[] = "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20\n";
	csv_init(&c, wide, sizeof(wide) - 1, 0);
	CHECK(csv_next(&c, rec) == 1 && rec->n == 20);
	CHECK_STR(rec->field[CSV_MAX_FIELDS - 1], "16");

	/* A message quotes 40 characters at most and never cuts one in two. */
	char show[256];
	csv_show(
	    "照合照合照合照合照合照合照合照合照合照合照合照合照合照合照合照合照合照合照合照合X",
	    show, sizeof(show));
	CHECK_STR(
	    show,
	    "照合照合照合照合照合照合照合照合照合照合照合照合照合照合照合照合照合照合照合照合...");
	csv_show("照合ID", show, 8);
	CHECK_STR(show, "照...");
	free(rec);
}

static void
test_file_size(void)
{
	char path[] = "/tmp/biogate-test-csv.XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	/* 10 MB, as a spreadsheet exported with a whole column of blanks: refused unread. */
	CHECK(ftruncate(fd, 10 * 1000 * 1000) == 0);
	char *buf = NULL;
	size_t len = 0;
	CsvError err = { 0 };
	CHECK(csv_read_file(path, CSV_MAX_FILE, &buf, &len, &err) == -EFBIG);
	CHECK_STR(err.msg, "the file is larger than 1 MiB");
	/* Exactly the cap is read; one byte more is not. */
	CHECK(ftruncate(fd, CSV_MAX_FILE) == 0);
	CHECK(csv_read_file(path, CSV_MAX_FILE, &buf, &len, &err) == 0 && len == CSV_MAX_FILE);
	free(buf);
	CHECK(ftruncate(fd, CSV_MAX_FILE + 1) == 0);
	CHECK(csv_read_file(path, CSV_MAX_FILE, &buf, &len, &err) == -EFBIG);
	close(fd);
	unlink(path);
	CHECK(csv_read_file(path, CSV_MAX_FILE, &buf, &len, &err) == -ENOENT);
	CHECK(strstr(err.msg, "cannot open the file") != NULL);
	/* What stat cannot size is still stopped at the cap. */
	CHECK(csv_read_file("/dev/zero", 4096, &buf, &len, &err) == -EFBIG);
}

int
main(void)
{
	test_cp932_schedule();
	test_utf8_bom_crlf();
	test_dates_times();
	test_encodings_refused();
	test_cut_short();
	test_reader_limits();
	test_file_size();
	if (failures) {
		fprintf(stderr, "%d checks failed\n", failures);
		return 1;
	}
	printf("ok\n");
	return 0;
}
