/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * biogatectl staff import [--dry-run] FILE.csv: the roster from the contractor's staff list
 * (issue 13, item 3). The file is read by the one CSV reader (ctl-csv.c) with the schedule's
 * rules (UTF-8 or CP932, English or Japanese header names in any order, Excel's dates) and
 * checked as staff add and staff edit check their options; any error names the file and the
 * line and nothing is sent. --dry-run compares the file with the roster (ListStaff) and
 * prints what would be added and changed; without it the whole file goes in one
 * ImportStaff request, which the daemon applies whole or not at all. A nationality is sent
 * for a new person only (as staff add sends it) and never printed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl-args.h"
#include "ctl-call.h"
#include "ctl-csv.h"
#include "ctl-util.h"
#include "ctl-verbs.h"

#define ROSTER_MAX_ROWS 4096u

enum {
	R_ID,
	R_NAME,
	R_AFFILIATION,
	R_NATIONALITY,
	R_EXPERTISE,
	R_TRACK_RECORD,
	R_UNIX_USER,
	R_PLEDGE,
	R_TRAINING,
	_R_COLS,
};

/* The wire key of each column (also its English header name), and the limits of staff add. */
static const struct {
	const char *key;
	size_t max;
} roster_keys[_R_COLS] = {
	[R_ID] = { "matching_id", WIRE_MAX_ID },
	[R_NAME] = { "name", 256 },
	[R_AFFILIATION] = { "affiliation", 256 },
	[R_NATIONALITY] = { "nationality", 64 },
	[R_EXPERTISE] = { "expertise", WIRE_MAX_TEXT },
	[R_TRACK_RECORD] = { "track_record", WIRE_MAX_TEXT },
	[R_UNIX_USER] = { "unix_user", 32 },
	[R_PLEDGE] = { "pledge_date", 10 },
	[R_TRAINING] = { "training_date", 10 },
};

static const char *const n_id[] = { "matching_id", "照合ID", NULL };
static const char *const n_name[] = { "name", "氏名", "名前", NULL };
static const char *const n_aff[] = { "affiliation", "所属", "所属会社", NULL };
static const char *const n_nat[] = { "nationality", "国籍", NULL };
static const char *const n_exp[] = { "expertise", "専門", "専門性", NULL };
static const char *const n_track[] = { "track_record", "実績", "経歴", NULL };
static const char *const n_user[] = { "unix_user", "ユーザー名", "ログイン名", NULL };
static const char *const n_pledge[] = { "pledge_date", "誓約日", "誓約書提出日", NULL };
static const char *const n_training[] = { "training_date", "研修日", "研修受講日", NULL };
static const CsvColumn roster_columns[_R_COLS] = {
	[R_ID] = { n_id, true },
	[R_NAME] = { n_name, false },
	[R_AFFILIATION] = { n_aff, false },
	[R_NATIONALITY] = { n_nat, false },
	[R_EXPERTISE] = { n_exp, false },
	[R_TRACK_RECORD] = { n_track, false },
	[R_UNIX_USER] = { n_user, false },
	[R_PLEDGE] = { n_pledge, false },
	[R_TRAINING] = { n_training, false },
};

/* One checked row: the values given (NULL for an empty cell: left as it is). */
typedef struct RosterRow {
	unsigned line;
	char *v[_R_COLS];
} RosterRow;

typedef struct Roster {
	const char *path;
	RosterRow *rows;
	size_t n;
} Roster;

static void
roster_free(Roster *r)
{
	for (size_t i = 0; i < r->n; i++)
		for (size_t k = 0; k < _R_COLS; k++)
			free(r->rows[i].v[k]);
	free(r->rows);
}

/* Checks one record into row: 0, or the exit code after the message. */
static int
roster_row(const Roster *ro, const CsvRecord *rec, const int *map, RosterRow *row)
{
	char show[4 * CSV_SHOW_CHARS + 8];
	row->line = rec->line;
	for (size_t k = 0; k < _R_COLS; k++) {
		const char *s = csv_field(rec, map, k);
		if (!*s)
			continue;
		char date[11];
		if (k == R_ID || k == R_UNIX_USER) {
			if (!wire_valid_id(s) || strlen(s) > roster_keys[k].max) {
				csv_show(s, show, sizeof(show));
				return file_errorf(ro->path, rec->line,
				                   k == R_ID ? _("invalid matching ID '%s'")
				                             : _("invalid Unix user name '%s'"),
				                   show);
			}
		} else if (k == R_PLEDGE || k == R_TRAINING) {
			if (!csv_parse_date(s, date)) {
				csv_show(s, show, sizeof(show));
				return file_errorf(ro->path, rec->line,
				                   _("invalid %s '%s': give a real date as "
				                     "YYYY-MM-DD, YYYY/M/D or YYYY年M月D日"),
				                   roster_keys[k].key, show);
			}
			s = date;
		} else if (!wire_valid_text(s, roster_keys[k].max)) {
			return file_errorf(ro->path, rec->line,
			                   _("the %s is too long (at most %zu bytes) or contains "
			                     "control characters"),
			                   roster_keys[k].key, roster_keys[k].max);
		}
		if (!(row->v[k] = strdup(s)))
			return fail_nomem();
	}
	if (!row->v[R_ID])
		return file_errorf(ro->path, rec->line, _("the matching ID is empty"));
	return 0;
}

/* Reads and checks the whole file: 0 with ro filled, or the exit code after the message. */
static int
roster_parse(Roster *ro)
{
	CsvError err = { 0 };
	_cleanup_(freep) char *raw = NULL;
	_cleanup_(freep) char *text = NULL;
	size_t raw_len = 0, len = 0;
	CsvEncoding enc;
	int r = csv_read_file(ro->path, CSV_MAX_FILE, &raw, &raw_len, &err);
	if (r == 0)
		r = csv_decode(raw, raw_len, &text, &len, &enc, &err);
	if (r == -ENOMEM)
		return fail_nomem();
	if (r < 0)
		return file_errorf(ro->path, err.line, "%s", err.msg);
	_cleanup_(freep) CsvRecord *rec = malloc(sizeof(*rec));
	ro->rows = calloc(ROSTER_MAX_ROWS, sizeof(*ro->rows));
	if (!rec || !ro->rows)
		return fail_nomem();
	Csv c;
	csv_init(&c, text, len, CSV_MAX_FIELD_CAP);
	int map[_R_COLS];
	for (bool first = true;; first = false) {
		r = csv_next(&c, rec);
		if (r < 0)
			return file_errorf(ro->path, c.err.line, "%s", c.err.msg);
		if (r == 0)
			break;
		if (first) {
			/* Nine columns, most optional: only a header says which is which. */
			r = csv_header(rec, roster_columns, _R_COLS, map, &err);
			if (r < 0)
				return file_errorf(ro->path, err.line, "%s", err.msg);
			if (r == 0)
				return file_errorf(
				    ro->path, rec->line,
				    _("a roster file starts with a header row naming "
				      "its columns (matching_id or 照合ID, name or 氏名, "
				      "...)"));
			continue;
		}
		if (ro->n == ROSTER_MAX_ROWS)
			return file_errorf(ro->path, rec->line,
			                   _("more than %u people; one import takes at most %u"),
			                   ROSTER_MAX_ROWS, ROSTER_MAX_ROWS);
		RosterRow *row = &ro->rows[ro->n++];
		if ((r = roster_row(ro, rec, map, row)))
			return r;
		for (size_t i = 0; i + 1 < ro->n; i++)
			if (strcmp(ro->rows[i].v[R_ID], row->v[R_ID]) == 0)
				return file_errorf(ro->path, rec->line,
				                   _("the matching ID %s is on line %u already"),
				                   row->v[R_ID], ro->rows[i].line);
	}
	if (ro->n == 0)
		return file_errorf(ro->path, 0, _("the file holds nobody"));
	return 0;
}

/* The person on the roster with this matching ID, or NULL. */
static json_object *
roster_find(json_object *staff, const char *id)
{
	for (size_t i = 0; i < json_object_array_length(staff); i++) {
		json_object *e = json_object_array_get_idx(staff, i);
		const char *mid = jstr(e, "matching_id");
		if (mid && strcmp(mid, id) == 0)
			return e;
	}
	return NULL;
}

typedef struct RosterPlan {
	size_t add, change, same;
	bool refused;
} RosterPlan;

/*
 * What importing row would do, against the roster entry cur (NULL: a new person), printed
 * for a person or added to changes (--json). 0, or the exit code after the message.
 */
static int
roster_plan_row(const Roster *ro, const RosterRow *row, json_object *cur, RosterPlan *plan,
                json_object *changes)
{
	const char *id = row->v[R_ID];
	json_object *o = json_object_new_object();
	json_object *fields = json_object_new_array();
	if (!o || !fields) {
		json_object_put(o);
		json_object_put(fields);
		return fail_nomem();
	}
	json_object_object_add(o, "matching_id", json_object_new_string(id));
	json_object_object_add(o, "line", json_object_new_int64(row->line));
	const char *kind;
	char *desc = NULL;
	size_t dlen = 0;
	FILE *f = open_memstream(&desc, &dlen);
	if (!f) {
		json_object_put(o);
		json_object_put(fields);
		return fail_nomem();
	}
	if (!cur) {
		/* As staff add: a name, an affiliation and a nationality are required. */
		static const size_t need[] = { R_NAME, R_AFFILIATION, R_NATIONALITY };
		for (size_t i = 0; i < 3; i++)
			if (!row->v[need[i]]) {
				fclose(f);
				free(desc);
				json_object_put(o);
				json_object_put(fields);
				return file_errorf(
				    ro->path, row->line,
				    _("%s is not on the roster, so the %s is required"), id,
				    roster_keys[need[i]].key);
			}
		kind = "add";
		plan->add++;
		for (size_t k = R_NAME; k < _R_COLS; k++)
			if (row->v[k]) {
				json_object_array_add(fields,
				                      json_object_new_string(roster_keys[k].key));
				fprintf(f, "%s%s", ftell(f) ? ", " : "", roster_keys[k].key);
			}
	} else if (strcmp(jstr_or(cur, "state", ""), "revoked") == 0) {
		kind = "refused";
		plan->refused = true;
		fputs(_("revoked: a revoked matching ID is never issued again"), f);
	} else {
		for (size_t k = R_NAME; k < _R_COLS; k++) {
			if (!row->v[k] || k == R_NATIONALITY)
				continue;
			const char *old = jstr(cur, roster_keys[k].key);
			if (k == R_UNIX_USER && !old)
				old = id;
			if (old && strcmp(old, row->v[k]) == 0)
				continue;
			json_object_array_add(fields, json_object_new_string(roster_keys[k].key));
			fprintf(f, "%s%s: %s -> %s", ftell(f) ? "; " : "", roster_keys[k].key,
			        old ? old : "-", row->v[k]);
		}
		/* The nationality is set when a person is added and read only by two people
		 * (StaffNationality): an import neither compares nor changes it. */
		if (row->v[R_NATIONALITY])
			fprintf(f, "%s%s", ftell(f) ? "; " : "",
			        _("nationality: not changed by an import"));
		kind = json_object_array_length(fields) ? "change" : "same";
		if (json_object_array_length(fields))
			plan->change++;
		else
			plan->same++;
	}
	_cleanup_(freep) char *text = memstream_clean(f, &desc);
	json_object_object_add(o, "change", json_object_new_string(kind));
	json_object_object_add(o, "fields", fields);
	if (arg.json)
		return json_object_array_add(changes, o) < 0 ? (json_object_put(o), fail_nomem())
		                                             : 0;
	json_object_put(o);
	_cleanup_(freep) char *cid = text_clean(id);
	if (strcmp(kind, "add") == 0)
		/* TRANSLATORS: a matching ID, a line of the file, the columns given. */
		printf(_("add     %s (line %u): %s\n"), cid ? cid : "?", row->line,
		       text ? text : "?");
	else if (strcmp(kind, "change") == 0)
		printf(_("change  %s (line %u): %s\n"), cid ? cid : "?", row->line,
		       text ? text : "?");
	else if (strcmp(kind, "refused") == 0)
		printf(_("refused %s (line %u): %s\n"), cid ? cid : "?", row->line,
		       text ? text : "?");
	else
		printf(_("same    %s (line %u)\n"), cid ? cid : "?", row->line);
	return 0;
}

/* --dry-run: the file against the roster. */
static int
roster_dry_run(const Roster *ro)
{
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	int r = ctl_call(BIOGATE_METHOD_LIST_STAFF, NULL, &msg, &p);
	if (r)
		return r;
	json_object *staff = jarray(p, "staff");
	if (!staff)
		return ctl_fail_transport(-EBADMSG, NULL);
	_cleanup_(json_putp) json_object *changes = json_object_new_array();
	if (!changes)
		return fail_nomem();
	RosterPlan plan = { 0 };
	for (size_t i = 0; i < ro->n; i++)
		if ((r = roster_plan_row(ro, &ro->rows[i], roster_find(staff, ro->rows[i].v[R_ID]),
		                         &plan, changes)))
			return r;
	if (arg.json) {
		_cleanup_(json_putp) json_object *o = json_object_new_object();
		if (!o)
			return fail_nomem();
		json_object_object_add(o, "changes", json_object_get(changes));
		print_json(o);
	} else {
		print_line(_("Dry run, nothing was sent: %zu to add, %zu to change, %zu unchanged"),
		           plan.add, plan.change, plan.same);
	}
	if (plan.refused) {
		fprintf(stderr, "%s: %s\n", CTL_NAME,
		        _("the import would be refused: the file names a revoked person"));
		return CTL_EXIT_CONFLICT;
	}
	return CTL_EXIT_OK;
}

/* The ImportStaff parameters: {staff: [{matching_id, and each field given}]}. */
static json_object *
roster_params(const Roster *ro)
{
	json_object *params = json_object_new_object(), *a = json_object_new_array();
	if (!params || !a) {
		json_object_put(params);
		json_object_put(a);
		return NULL;
	}
	json_object_object_add(params, "staff", a);
	for (size_t i = 0; i < ro->n; i++) {
		json_object *o = json_object_new_object();
		if (!o || json_object_array_add(a, o) < 0) {
			json_object_put(o);
			json_object_put(params);
			return NULL;
		}
		for (size_t k = 0; k < _R_COLS; k++)
			if (ro->rows[i].v[k])
				json_object_object_add(o, roster_keys[k].key,
				                       json_object_new_string(ro->rows[i].v[k]));
	}
	return params;
}

static int
staff_import_option(int c, const char *value, void *userdata)
{
	(void)value;
	if (c != OPT_DRY_RUN)
		return -1;
	*(bool *)userdata = true;
	return 0;
}

static int
cmd_staff_import(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const names[] = { "FILE" };
	bool dry_run = false;
	Roster ro = { 0 };
	int r = parse_args(argc, argv, opts, staff_import_option, &dry_run, names, &ro.path, 1);
	if (r)
		return r;
	if ((r = roster_parse(&ro)) == 0)
		r = dry_run ? roster_dry_run(&ro) : -1;
	if (r >= 0) {
		roster_free(&ro);
		return r;
	}
	_cleanup_(json_putp) json_object *params = roster_params(&ro);
	size_t n = ro.n;
	_cleanup_(freep) unsigned *lines = calloc(n ? n : 1, sizeof(*lines));
	for (size_t i = 0; lines && i < n; i++)
		lines[i] = ro.rows[i].line;
	roster_free(&ro);
	if (!params || !lines)
		return fail_nomem();
	/* The daemon names the row that refused the import: said as FILE:LINE. */
	ctl_set_row_lines(ro.path, lines, n);
	const char *s = json_object_to_json_string_ext(params, JSON_C_TO_STRING_PLAIN);
	if (!s || strlen(s) + 256 > WIRE_MAX_MESSAGE)
		return file_errorf(ro.path, 0,
		                   _("%zu people are more than the biogate service takes in one "
		                     "request (%u bytes)"),
		                   n, WIRE_MAX_MESSAGE);
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	/* One request: the daemon applies the whole file or nothing (see the report for the
	 * method this needs). */
	r = ctl_query(BIOGATE_METHOD_IMPORT_STAFF, json_object_get(params), NULL, &msg, &p);
	if (r != CTL_PRINT_TEXT)
		return r;
	int64_t added = 0, changed = 0;
	(void)jint(p, "added", &added);
	(void)jint(p, "changed", &changed);
	print_line(_("Imported the roster: %lld added, %lld changed"), (long long)added,
	           (long long)changed);
	return CTL_EXIT_OK;
}

const CtlVerb ctl_verb_staff_import = {
	.verb = "staff",
	.sub = "import",
	.fn = cmd_staff_import,
	.synopsis = "staff import [--dry-run] FILE.csv",
	.summary =
	    N_("Add and edit people on the roster from a CSV file with a header row "
	       "(matching_id, name, affiliation, nationality, ... or 照合ID, 氏名, 所属, 国籍, "
	       "...; UTF-8 or CP932), all or nothing; --dry-run prints what would change"),
};
