/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * biogatectl schedule import|show: the work schedule (R8), one month per CSV file.
 */
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <libintl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl-args.h"
#include "ctl-call.h"
#include "ctl-util.h"
#include "ctl-csv.h"
#include "ctl-verbs.h"

/* A field of a schedule is an ID, a date or a time: longer ones fail as soon as seen. */
#define SCHED_MAX_FIELD 128
#define SCHED_MAX_ROWS  4096u

enum { SCHED_ID, SCHED_DATE, SCHED_START, SCHED_END, _SCHED_COLS };

/* The columns as the contractor's spreadsheet names them, English or Japanese. */
static const char *const sched_id_names[] = { "matching_id", "照合ID", NULL };
static const char *const sched_date_names[] = { "date", "日付", "勤務日", NULL };
static const char *const sched_start_names[] = { "start", "開始", "開始時刻", "start_time", NULL };
static const char *const sched_end_names[] = { "end", "終了", "終了時刻", "end_time", NULL };
static const CsvColumn sched_columns[_SCHED_COLS] = {
	[SCHED_ID] = { sched_id_names, true },
	[SCHED_DATE] = { sched_date_names, true },
	[SCHED_START] = { sched_start_names, true },
	[SCHED_END] = { sched_end_names, true },
};

typedef struct SchedFile {
	const char *path;
	int map[_SCHED_COLS];
	bool header;
	char month[8];       /* set by the first row */
	unsigned overnight;  /* the line of the first shift that ends the next day, or 0 */
	json_object *shifts; /* the ImportSchedule rows */
} SchedFile;

/* An error about rec; when the file ends inside rec without a line break, says so too. */
__attribute__((format(printf, 3, 4))) static int
sched_fail(const SchedFile *f, const CsvRecord *rec, const char *fmt, ...)
{
	va_list ap;
	char *raw = NULL;
	va_start(ap, fmt);
	int n = vasprintf(&raw, fmt, ap);
	va_end(ap);
	if (n < 0)
		return fail_nomem();
	(void)file_errorf(f->path, rec->line, "%s", raw);
	free(raw);
	if (rec->unfinished)
		(void)file_errorf(f->path, rec->line,
		                  _("the file ends in this line without a line break: it may have "
		                    "been cut short"));
	return CTL_EXIT_USAGE;
}

static void
hhmm(int minutes, char out[6])
{
	snprintf(out, 6, "%02d:%02d", minutes / 60 % 24, minutes % 60);
}

/* Checks one data row and appends it to f->shifts in the daemon's form. */
static int
sched_row(SchedFile *f, const CsvRecord *rec)
{
	char show[4 * CSV_SHOW_CHARS + 8], date[11], start_s[6], end_s[6];
	size_t need = 0;
	for (size_t i = 0; i < _SCHED_COLS; i++)
		if ((size_t)f->map[i] + 1 > need)
			need = (size_t)f->map[i] + 1;
	/* Further columns (a name, a note) are the spreadsheet's own and are not sent. */
	if (rec->n < need) {
		if (f->header)
			return sched_fail(f, rec,
			                  _("expected at least %zu fields, as the header row says, "
			                    "found %zu"),
			                  need, rec->n);
		return sched_fail(
		    f, rec, _("expected 4 fields (matching_id,date,start,end), found %zu"), rec->n);
	}
	const char *id = csv_field(rec, f->map, SCHED_ID);
	const char *d = csv_field(rec, f->map, SCHED_DATE);
	const char *st = csv_field(rec, f->map, SCHED_START);
	const char *en = csv_field(rec, f->map, SCHED_END);
	if (!wire_valid_id(id)) {
		csv_show(id, show, sizeof(show));
		return sched_fail(f, rec,
		                  _("invalid matching ID '%s': IDs are 1 to %d letters, digits, "
		                    "'.', '_', '@' or '-', and do not start with '-' or '.'"),
		                  show, WIRE_MAX_ID);
	}
	if (!csv_parse_date(d, date)) {
		csv_show(d, show, sizeof(show));
		return sched_fail(f, rec,
		                  _("invalid date '%s': give a real date as YYYY-MM-DD, YYYY/M/D "
		                    "or YYYY年M月D日"),
		                  show);
	}
	int start = csv_parse_time(st, false), end = csv_parse_time(en, true);
	if (start < 0) {
		csv_show(st, show, sizeof(show));
		return sched_fail(f, rec,
		                  _("invalid start time '%s': give it as H:MM or HH:MM, 0:00 to "
		                    "23:59"),
		                  show);
	}
	if (end < 0) {
		csv_show(en, show, sizeof(show));
		return sched_fail(
		    f, rec,
		    _("invalid end time '%s': give it as H:MM or HH:MM, 0:00 to 23:59 "
		      "(an end before the start is on the next day; 24:00 to 47:59 "
		      "also say the next day)"),
		    show);
	}
	hhmm(start, start_s);
	hhmm(end, end_s);
	/* A shift across midnight: an end before the start (22:00-6:00) or written the Japanese
	 * way (22:00-30:00) ends the next day; the daemon takes it as an end earlier than the
	 * start. Equal times would be a 0 or 24 hour shift: which one is not said. */
	int length = (end < start ? end + 1440 : end) - start;
	if (length == 0)
		return sched_fail(f, rec,
		                  _("the shift starts and ends at %s; give an end different from "
		                    "the start"),
		                  start_s);
	if (length >= 1440)
		return sched_fail(f, rec, _("the shift from %s to %s is 24 hours or longer"),
		                  start_s, en);
	if (end < start || end >= 1440) {
		if (!f->overnight)
			f->overnight = rec->line;
	}
	if (!f->month[0]) {
		memcpy(f->month, date, 7);
		f->month[7] = '\0';
	} else if (strncmp(f->month, date, 7) != 0) {
		/* TRANSLATORS: a date, its month, then the month of the rows above it. */
		return sched_fail(f, rec,
		                  _("the date %s is in %.7s, but the rows above are in %s; "
		                    "import one month per file"),
		                  date, date, f->month);
	}
	json_object *o = json_object_new_object();
	if (!o)
		return fail_nomem();
	json_object_object_add(o, "matching_id", json_object_new_string(id));
	json_object_object_add(o, "date", json_object_new_string(date));
	json_object_object_add(o, "start", json_object_new_string(start_s));
	json_object_object_add(o, "end", json_object_new_string(end_s));
	if (json_object_array_add(f->shifts, o) < 0) {
		json_object_put(o);
		return fail_nomem();
	}
	return 0;
}

/*
 * Reads a schedule file into the ImportSchedule parameters {month, shifts}. 0 with *ret
 * set and *ret_overnight the line of the first shift across midnight (0: none), or the exit
 * code after the message.
 */
static int
sched_parse(const char *path, json_object **ret, unsigned *ret_overnight)
{
	CsvError err = { 0 };
	_cleanup_(freep) char *raw = NULL;
	_cleanup_(freep) char *text = NULL;
	size_t raw_len = 0, len = 0;
	CsvEncoding enc;
	int r = csv_read_file(path, CSV_MAX_FILE, &raw, &raw_len, &err);
	if (r == 0)
		r = csv_decode(raw, raw_len, &text, &len, &enc, &err);
	if (r == -ENOMEM)
		return fail_nomem();
	if (r < 0)
		return file_errorf(path, err.line, "%s", err.msg);

	_cleanup_(json_putp) json_object *shifts = json_object_new_array();
	_cleanup_(freep) CsvRecord *rec = malloc(sizeof(*rec));
	if (!shifts || !rec)
		return fail_nomem();
	SchedFile f = { .path = path, .shifts = shifts };
	Csv c;
	csv_init(&c, text, len, SCHED_MAX_FIELD);
	size_t rows = 0;
	for (bool first = true;; first = false) {
		r = csv_next(&c, rec);
		if (r < 0)
			return file_errorf(path, c.err.line, "%s", c.err.msg);
		if (r == 0)
			break;
		if (first) {
			r = csv_header(rec, sched_columns, _SCHED_COLS, f.map, &err);
			if (r < 0)
				return file_errorf(path, err.line, "%s", err.msg);
			f.header = r > 0;
			if (f.header)
				continue;
		}
		if (rows == SCHED_MAX_ROWS)
			return file_errorf(path, rec->line,
			                   _("more than %u shifts; one import takes at most %u"),
			                   SCHED_MAX_ROWS, SCHED_MAX_ROWS);
		if ((r = sched_row(&f, rec)))
			return r;
		rows++;
	}
	if (rows == 0)
		return file_errorf(path, 0, _("the file holds no shifts"));
	json_object *params = params_string("month", f.month);
	if (!params)
		return fail_nomem();
	json_object_object_add(params, "shifts", shifts);
	shifts = NULL;
	*ret = params;
	*ret_overnight = f.overnight;
	return 0;
}

static int
schedule_import_option(int c, const char *value, void *userdata)
{
	(void)value;
	if (c != OPT_DRY_RUN)
		return -1;
	*(bool *)userdata = true;
	return 0;
}

static int
cmd_schedule_import(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const names[] = { "FILE" };
	const char *path = NULL;
	bool dry_run = false;
	int r = parse_args(argc, argv, opts, schedule_import_option, &dry_run, names, &path, 1);
	if (r)
		return r;
	json_object *params = NULL;
	unsigned overnight = 0;
	if ((r = sched_parse(path, &params, &overnight)))
		return r;
	if (dry_run) {
		print_json(params);
		json_object_put(params);
		return CTL_EXIT_OK;
	}
	/* The daemon drops a connection whose message is over WIRE_MAX_MESSAGE; say why here
	 * rather than report a lost connection. 256 bytes cover the call's envelope. */
	size_t n = json_object_array_length(jarray(params, "shifts"));
	const char *s = json_object_to_json_string_ext(params, JSON_C_TO_STRING_PLAIN);
	if (!s || strlen(s) + 256 > WIRE_MAX_MESSAGE) {
		json_object_put(params);
		return file_errorf(path, 0,
		                   _("%zu shifts are more than the biogate service takes in one "
		                     "request (%u bytes)"),
		                   n, WIRE_MAX_MESSAGE);
	}
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_query(BIOGATE_METHOD_IMPORT_SCHEDULE, params, NULL, &msg, &p);
	if (r == CTL_EXIT_ERROR && overnight)
		/* A service from before shifts across midnight rejects the shifts as invalid:
		 * point at the first row it may have meant. */
		(void)file_errorf(path, overnight,
		                  _("this shift ends on the next day; a biogate service that "
		                    "rejects it does not take shifts across midnight yet"));
	if (r != CTL_PRINT_TEXT)
		return r;
	int64_t count = 0;
	if (!jint(p, "shifts", &count) || count < 0)
		count = (int64_t)n;
	print_line(ngettext("Imported %lld shift for %s", "Imported %lld shifts for %s",
	                    (unsigned long)count),
	           (long long)count, jstr_or(p, "month", "?"));
	return CTL_EXIT_OK;
}

const CtlVerb ctl_verb_schedule_import = {
	.verb = "schedule",
	.sub = "import",
	.fn = cmd_schedule_import,
	.synopsis = "schedule import [--dry-run] FILE.csv",
	.summary = N_("Replace one month of the work schedule with the shifts in a CSV file "
	              "(matching_id,date,start,end or 照合ID,日付,開始,終了; UTF-8 or CP932); "
	              "--dry-run only checks the file and prints the shifts"),
};

typedef struct ScheduleShowArgs {
	const char *month, *matching_id;
} ScheduleShowArgs;

static int
schedule_show_option(int c, const char *value, void *userdata)
{
	ScheduleShowArgs *a = userdata;
	if (c == OPT_MONTH)
		a->month = value;
	else if (c == OPT_MATCHING_ID)
		a->matching_id = value;
	else
		return -1;
	return 0;
}

/* One shift, for schedule show. */
static int
shift_row(Table *t, json_object *s)
{
	const char *start = jstr(s, "start"), *end = jstr(s, "end");
	_cleanup_(freep) char *end_shown = NULL;
	/* A shift across midnight comes back with its end earlier than its start. */
	if (start && end && strcmp(end, start) < 0 &&
	    asprintf(&end_shown, _("%s (next day)"), end) < 0)
		return -1;
	if (table_add(t, jstr(s, "date")) < 0 || table_add(t, start) < 0 ||
	    table_add(t, end_shown ? end_shown : end) < 0 ||
	    table_add(t, jstr(s, "matching_id")) < 0)
		return -1;
	return 0;
}

static int
cmd_schedule_show(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{ "month", required_argument, NULL, OPT_MONTH },
		{ "matching-id", required_argument, NULL, OPT_MATCHING_ID },
		{ NULL, 0, NULL, 0 },
	};
	ScheduleShowArgs a = { 0 };
	int r = parse_args(argc, argv, opts, schedule_show_option, &a, NULL, NULL, 0);
	if (r)
		return r;
	if (a.month && !valid_month(a.month))
		return usage_errorf(_("invalid month '%s' for --month: give it as YYYY-MM"),
		                    a.month);
	if (a.matching_id && (r = check_id(ID_MATCHING, a.matching_id)))
		return r;
	json_object *params = json_object_new_object();
	if (!params)
		return fail_nomem();
	if (a.month)
		json_object_object_add(params, "month", json_object_new_string(a.month));
	if (a.matching_id)
		json_object_object_add(params, "matching_id",
		                       json_object_new_string(a.matching_id));
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_query(BIOGATE_METHOD_GET_SCHEDULE, params, NULL, &msg, &p);
	if (r != CTL_PRINT_TEXT)
		return r;
	const char *head[] = { _("DATE"), _("START"), _("END"), _("MATCHING ID") };
	return table_list(jarray(p, "shifts"), _("No shifts are scheduled."), head, 4, shift_row);
}

const CtlVerb ctl_verb_schedule_show = {
	.verb = "schedule",
	.sub = "show",
	.fn = cmd_schedule_show,
	.synopsis = "schedule show [--month YYYY-MM] [--matching-id MATCHING_ID]",
	.summary = N_("Show the scheduled shifts"),
};
