/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * biogatectl schedule import|show: the work schedule (R8), one month per CSV file.
 */
#include <errno.h>
#include <getopt.h>
#include <libintl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "ctl-args.h"
#include "ctl-call.h"
#include "ctl-util.h"
#include "ctl-csv.h"
#include "ctl-verbs.h"

static int
sched_read_file(const char *path, char **ret, size_t *ret_len)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return csv_errorf(path, 0, _("cannot open the file: %s"), strerror(errno));
	char *buf = malloc(SCHED_MAX_FILE + 1);
	if (!buf) {
		fclose(f);
		return fail_nomem();
	}
	size_t n = fread(buf, 1, SCHED_MAX_FILE + 1, f);
	int err = ferror(f) ? errno : 0;
	fclose(f);
	if (err || n > SCHED_MAX_FILE) {
		free(buf);
		if (err)
			return csv_errorf(path, 0, _("cannot read the file: %s"), strerror(err));
		return csv_errorf(path, 0, _("the file is larger than 1 MiB"));
	}
	*ret = buf;
	*ret_len = n;
	return 0;
}

/* Checks one data row and appends it to shifts; month is set by the first row. */
static int
sched_row(const char *path, const CsvRecord *rec, char month[8], json_object *shifts)
{
	char show[64];
	const char *id = rec->field[0], *date = rec->field[1], *start = rec->field[2],
	           *end = rec->field[3];
	/* Further columns (a name, a note) are the spreadsheet's own and are not sent. */
	if (rec->n < CSV_FIELDS)
		return csv_errorf(path, rec->line,
		                  _("expected 4 fields (matching_id,date,start,end), found %zu"),
		                  rec->n);
	if (!wire_valid_id(id)) {
		csv_show(id, show, sizeof(show));
		return csv_errorf(path, rec->line,
		                  _("invalid matching ID '%s': IDs are 1 to %d letters, digits, "
		                    "'.', '_', '@' or '-', and do not start with '-' or '.'"),
		                  show, WIRE_MAX_ID);
	}
	if (!valid_date(date)) {
		csv_show(date, show, sizeof(show));
		return csv_errorf(path, rec->line,
		                  _("invalid date '%s': give a real date as YYYY-MM-DD"), show);
	}
	if (!valid_hhmm(start) || !valid_hhmm(end)) {
		csv_show(valid_hhmm(start) ? end : start, show, sizeof(show));
		return csv_errorf(path, rec->line,
		                  _("invalid time '%s': give the time as HH:MM, 00:00 to 23:59"),
		                  show);
	}
	if (strcmp(end, start) <= 0)
		return csv_errorf(path, rec->line,
		                  _("the shift ends at %s, not after it starts (%s)"), end, start);
	if (!month[0]) {
		memcpy(month, date, 7);
		month[7] = '\0';
	} else if (strncmp(month, date, 7) != 0) {
		/* TRANSLATORS: a date, its month, then the month of the rows above it. */
		return csv_errorf(path, rec->line,
		                  _("the date %s is in %.7s, but the rows above are in %s; "
		                    "import one month per file"),
		                  date, date, month);
	}
	json_object *o = json_object_new_object();
	if (!o)
		return fail_nomem();
	json_object_object_add(o, "matching_id", json_object_new_string(id));
	json_object_object_add(o, "date", json_object_new_string(date));
	json_object_object_add(o, "start", json_object_new_string(start));
	json_object_object_add(o, "end", json_object_new_string(end));
	if (json_object_array_add(shifts, o) < 0) {
		json_object_put(o);
		return fail_nomem();
	}
	return 0;
}

/*
 * Reads a schedule file into the ImportSchedule parameters {month, shifts}. 0 with *ret
 * set, or the exit code after the message.
 */
static int
sched_parse(const char *path, json_object **ret)
{
	_cleanup_(freep) char *data = NULL;
	size_t len = 0;
	int r = sched_read_file(path, &data, &len);
	if (r)
		return r;
	Csv c = { .path = path, .p = data, .end = data + len, .line = 1 };
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		c.p += 3;
	else if (len >= 2 && (memcmp(data, "\xff\xfe", 2) == 0 || memcmp(data, "\xfe\xff", 2) == 0))
		return csv_errorf(path, 0, _("the file is UTF-16 text; save it as CSV (UTF-8)"));

	_cleanup_(json_putp) json_object *shifts = json_object_new_array();
	if (!shifts)
		return fail_nomem();
	_cleanup_(freep) CsvRecord *rec = malloc(sizeof(*rec));
	if (!rec)
		return fail_nomem();
	char month[8] = "";
	size_t rows = 0;
	for (bool first = true;; first = false) {
		r = csv_next(&c, rec);
		if (r < 0)
			return CTL_EXIT_USAGE;
		if (r == 0)
			break;
		if (first && rec->n >= CSV_FIELDS &&
		    strcasecmp(rec->field[0], "matching_id") == 0 &&
		    strcasecmp(rec->field[1], "date") == 0 &&
		    strcasecmp(rec->field[2], "start") == 0 &&
		    strcasecmp(rec->field[3], "end") == 0)
			continue;
		if (rows == SCHED_MAX_ROWS)
			return csv_errorf(path, rec->line,
			                  _("more than %u shifts; one import takes at most %u"),
			                  SCHED_MAX_ROWS, SCHED_MAX_ROWS);
		if ((r = sched_row(path, rec, month, shifts)))
			return r;
		rows++;
	}
	if (rows == 0)
		return csv_errorf(path, 0, _("the file holds no shifts"));
	json_object *params = params_string("month", month);
	if (!params)
		return fail_nomem();
	json_object_object_add(params, "shifts", shifts);
	shifts = NULL;
	*ret = params;
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
	if ((r = sched_parse(path, &params)))
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
		return csv_errorf(path, 0,
		                  _("%zu shifts are more than the biogate service takes in one "
		                    "request (%u bytes)"),
		                  n, WIRE_MAX_MESSAGE);
	}
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_query("io.biogate.ImportSchedule", params, NULL, &msg, &p);
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
	              "(matching_id,date,start,end); --dry-run only checks the file and prints the "
	              "shifts"),
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
	if (table_add(t, jstr(s, "date")) < 0 || table_add(t, jstr(s, "start")) < 0 ||
	    table_add(t, jstr(s, "end")) < 0 || table_add(t, jstr(s, "matching_id")) < 0)
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
	r = ctl_query("io.biogate.GetSchedule", params, NULL, &msg, &p);
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
