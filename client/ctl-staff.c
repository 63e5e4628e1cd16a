/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * biogatectl staff add|list|show|edit|unlock|history: the roster (R6), the pledge and
 * training dates (R9), and every recorded change to an entry.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl-args.h"
#include "ctl-call.h"
#include "ctl-util.h"
#include "ctl-verbs.h"

/* Joins an array of strings (or of objects' key) into "a, b"; "-" when empty. */
static char *
join_array(json_object *arr, const char *key, const char *paren_key, bool fingers)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	size_t n = arr ? json_object_array_length(arr) : 0, done = 0;
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		const char *s = NULL, *paren = NULL;
		if (key) {
			s = jstr(e, key);
			paren = paren_key ? jstr(e, paren_key) : NULL;
		} else if (json_object_is_type(e, json_type_string))
			s = json_object_get_string(e);
		if (!s)
			continue;
		fputs(done++ ? ", " : "", f);
		fputs(fingers ? finger_label(s) : s, f);
		if (paren)
			fprintf(f, " (%s)", paren);
	}
	if (done == 0)
		fputs("-", f);
	return memstream_clean(f, &buf);
}

/* As faillock says it: "no", "until 2026-04-01 09:10:00", or until an admin unlocks. */
static char *
staff_lock_text(json_object *p)
{
	json_object *v = NULL;
	if (!json_object_object_get_ex(p, "locked", &v))
		return text_clean("-"); /* an older daemon */
	if (!json_object_get_boolean(v))
		return text_clean(_("no"));
	char when[64], buf[160];
	format_time(p, "locked_until", when, sizeof(when));
	if (strcmp(when, "-") == 0)
		snprintf(buf, sizeof(buf), "%s",
		         _("yes, until an administrator unlocks (staff unlock)"));
	else
		/* TRANSLATORS: %s is a local date and time. */
		snprintf(buf, sizeof(buf), _("yes, until %s (staff unlock lifts it now)"), when);
	return text_clean(buf);
}

static void
print_staff(json_object *p)
{
	char created[64];
	format_time(p, "created_at", created, sizeof(created));
	Field f[] = {
		{ _("Matching ID:"), text_clean(jstr(p, "matching_id")) },
		{ _("Name:"), text_clean(jstr(p, "name")) },
		{ _("Affiliation:"), text_clean(jstr(p, "affiliation")) },
		{ _("Expertise:"), text_clean(jstr(p, "expertise")) },
		{ _("Track record:"), text_clean(jstr(p, "track_record")) },
		{ _("Unix user:"), text_clean(jstr(p, "unix_user")) },
		{ _("State:"), text_clean(word_label(jstr(p, "state"))) },
		{ _("Enrolled fingers:"), join_array(jarray(p, "fingers"), NULL, NULL, true) },
		{ _("Operator IDs:"),
		  join_array(jarray(p, "operators"), "operator_id", "role", false) },
		{ _("Pledge recorded:"), text_clean(jstr(p, "pledge_date")) },
		{ _("Training done:"), text_clean(jstr(p, "training_date")) },
		{ _("Registered:"), text_clean(created) },
		{ _("Locked out:"), staff_lock_text(p) },
	};
	fields_print(f, sizeof(f) / sizeof(f[0]));
}

typedef struct StaffArgs {
	const char *name, *affiliation, *nationality, *expertise, *track_record, *unix_user;
} StaffArgs;

static int
staff_add_option(int c, const char *value, void *userdata)
{
	static const OptValue values[] = {
		OPT_MEMBER(OPT_NAME, StaffArgs, name),
		OPT_MEMBER(OPT_AFFILIATION, StaffArgs, affiliation),
		OPT_MEMBER(OPT_NATIONALITY, StaffArgs, nationality),
		OPT_MEMBER(OPT_EXPERTISE, StaffArgs, expertise),
		OPT_MEMBER(OPT_TRACK_RECORD, StaffArgs, track_record),
		OPT_MEMBER(OPT_UNIX_USER, StaffArgs, unix_user),
	};
	return opt_value_set(values, sizeof(values) / sizeof(values[0]), c, value, userdata);
}

static int
cmd_staff_add(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{ "name", required_argument, NULL, OPT_NAME },
		{ "affiliation", required_argument, NULL, OPT_AFFILIATION },
		{ "nationality", required_argument, NULL, OPT_NATIONALITY },
		{ "expertise", required_argument, NULL, OPT_EXPERTISE },
		{ "track-record", required_argument, NULL, OPT_TRACK_RECORD },
		{ "unix-user", required_argument, NULL, OPT_UNIX_USER },
		{ NULL, 0, NULL, 0 },
	};
	StaffArgs a = { 0 };
	const char *id = NULL;
	int r = parse_matching_id(argc, argv, opts, staff_add_option, &a, &id);
	if (r)
		return r;
	if ((r = check_text("name", a.name, 256, true)) ||
	    (r = check_text("affiliation", a.affiliation, 256, true)) ||
	    (r = check_text("nationality", a.nationality, 64, true)) ||
	    (r = check_text("expertise", a.expertise, WIRE_MAX_TEXT, false)) ||
	    (r = check_text("track-record", a.track_record, WIRE_MAX_TEXT, false)) ||
	    (a.unix_user && (r = check_id(ID_UNIX_USER, a.unix_user))))
		return r;

	json_object *params = params_string("matching_id", id);
	if (!params)
		return fail_nomem();
	json_object_object_add(params, "name", json_object_new_string(a.name));
	json_object_object_add(params, "affiliation", json_object_new_string(a.affiliation));
	json_object_object_add(params, "nationality", json_object_new_string(a.nationality));
	if (a.expertise)
		json_object_object_add(params, "expertise", json_object_new_string(a.expertise));
	if (a.track_record)
		json_object_object_add(params, "track_record",
		                       json_object_new_string(a.track_record));
	if (a.unix_user)
		json_object_object_add(params, "unix_user", json_object_new_string(a.unix_user));
	if ((r = params_check_utf8(params)))
		return r;

	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_query(BIOGATE_METHOD_ADD_STAFF, params, NULL, &msg, &p);
	if (r != CTL_PRINT_TEXT)
		return r;
	_cleanup_(freep) char *cid = text_clean(id);
	printf(_("Added %s to the roster.\n"), cid ? cid : "?");
	print_staff(p);
	return CTL_EXIT_OK;
}

const CtlVerb ctl_verb_staff_add = {
	.verb = "staff",
	.sub = "add",
	.fn = cmd_staff_add,
	.synopsis = "staff add MATCHING_ID --name NAME --affiliation TEXT --nationality TEXT\n"
	            "          [--expertise TEXT] [--track-record TEXT] [--unix-user USER]",
	.summary = N_("Add a person to the roster (the Unix user defaults to the matching ID)"),
};

/* One person of the roster, for staff list. */
static int
staff_row(Table *t, json_object *s)
{
	json_object *fingers = jarray(s, "fingers");
	char nf[32];
	snprintf(nf, sizeof(nf), "%zu", fingers ? json_object_array_length(fingers) : 0);
	_cleanup_(freep) char *ops = join_array(jarray(s, "operators"), "operator_id", NULL, false);
	if (!ops || table_add(t, jstr(s, "matching_id")) < 0 || table_add(t, jstr(s, "name")) < 0 ||
	    table_add(t, jstr(s, "affiliation")) < 0 || table_add(t, jstr(s, "unix_user")) < 0 ||
	    table_add(t, word_label(jstr(s, "state"))) < 0 || table_add(t, nf) < 0 ||
	    table_add(t, ops) < 0)
		return -1;
	return 0;
}

static int
cmd_staff_list(int argc, char **argv)
{
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	int r = ctl_query_noargs(argc, argv, BIOGATE_METHOD_LIST_STAFF, &msg, &p);
	if (r != CTL_PRINT_TEXT)
		return r;
	const char *head[] = { _("MATCHING ID"), _("NAME"),    _("AFFILIATION"), _("UNIX USER"),
		               _("STATE"),       _("FINGERS"), _("OPERATOR IDS") };
	return table_list(jarray(p, "staff"), _("The roster is empty."), head, 7, staff_row);
}

const CtlVerb ctl_verb_staff_list = {
	.verb = "staff",
	.sub = "list",
	.fn = cmd_staff_list,
	.synopsis = "staff list",
	.summary = N_("List the people on the roster"),
};

static int
cmd_staff_show(int argc, char **argv)
{
	const char *id = NULL;
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	int r = matching_id_query(argc, argv, BIOGATE_METHOD_GET_STAFF, &id, &msg, &p);
	if (r != CTL_PRINT_TEXT)
		return r;
	print_staff(p);
	return CTL_EXIT_OK;
}

const CtlVerb ctl_verb_staff_show = {
	.verb = "staff",
	.sub = "show",
	.fn = cmd_staff_show,
	.synopsis = "staff show MATCHING_ID",
	.summary = N_("Show one person on the roster"),
};

/* One locked-out person, for staff locked. */
static int
locked_row(Table *t, json_object *o)
{
	char when[64];
	format_time(o, "locked_until", when, sizeof(when));
	return table_add(t, jstr(o, "matching_id")) < 0 ||
	               table_add(t, strcmp(when, "-") == 0 ? _("until unlocked") : when) < 0
	           ? -1
	           : 0;
}

static int
cmd_staff_locked(int argc, char **argv)
{
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	int r = ctl_query_noargs(argc, argv, BIOGATE_METHOD_LIST_LOCKED, &msg, &p);
	if (r != CTL_PRINT_TEXT)
		return r;
	const char *head[] = { _("MATCHING ID"), _("LOCKED UNTIL") };
	return table_list(jarray(p, "locked"), _("Nobody is locked out."), head, 2, locked_row);
}

const CtlVerb ctl_verb_staff_locked = {
	.verb = "staff",
	.sub = "locked",
	.fn = cmd_staff_locked,
	.synopsis = "staff locked",
	.summary = N_("List who is locked out after failed fingerprint attempts, and until when"),
};

/* --- roster edits ------------------------------------------------------------------------ */

typedef struct StaffEditArgs {
	StaffArgs s;
	const char *pledge_date, *training_date;
} StaffEditArgs;

static int
staff_edit_option(int c, const char *value, void *userdata)
{
	static const OptValue values[] = {
		OPT_MEMBER(OPT_PLEDGE_DATE, StaffEditArgs, pledge_date),
		OPT_MEMBER(OPT_TRAINING_DATE, StaffEditArgs, training_date),
	};
	if (opt_value_set(values, sizeof(values) / sizeof(values[0]), c, value, userdata) == 0)
		return 0;
	StaffEditArgs *a = userdata;
	return staff_add_option(c, value, &a->s);
}

static int
cmd_staff_edit(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{ "name", required_argument, NULL, OPT_NAME },
		{ "affiliation", required_argument, NULL, OPT_AFFILIATION },
		{ "expertise", required_argument, NULL, OPT_EXPERTISE },
		{ "track-record", required_argument, NULL, OPT_TRACK_RECORD },
		{ "pledge-date", required_argument, NULL, OPT_PLEDGE_DATE },
		{ "training-date", required_argument, NULL, OPT_TRAINING_DATE },
		{ NULL, 0, NULL, 0 },
	};
	StaffEditArgs a = { 0 };
	const char *id = NULL;
	int r = parse_matching_id(argc, argv, opts, staff_edit_option, &a, &id);
	if (r)
		return r;
	/* A name or an affiliation may change but not become empty, as in staff add. */
	if ((r = check_text("name", a.s.name, 256, a.s.name != NULL)) ||
	    (r = check_text("affiliation", a.s.affiliation, 256, a.s.affiliation != NULL)) ||
	    (r = check_text("expertise", a.s.expertise, WIRE_MAX_TEXT, false)) ||
	    (r = check_text("track-record", a.s.track_record, WIRE_MAX_TEXT, false)) ||
	    (r = check_date("pledge-date", a.pledge_date)) ||
	    (r = check_date("training-date", a.training_date)))
		return r;
	if (!a.s.name && !a.s.affiliation && !a.s.expertise && !a.s.track_record &&
	    !a.pledge_date && !a.training_date)
		return usage_errorf(_("nothing to change: give at least one of --name, "
		                      "--affiliation, --expertise, --track-record, --pledge-date, "
		                      "--training-date"));

	json_object *params = params_string("matching_id", id);
	if (!params)
		return fail_nomem();
	const struct {
		const char *key, *value;
	} set[] = {
		{ "name", a.s.name },
		{ "affiliation", a.s.affiliation },
		{ "expertise", a.s.expertise },
		{ "track_record", a.s.track_record },
		{ "pledge_date", a.pledge_date },
		{ "training_date", a.training_date },
	};
	for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++)
		if (set[i].value)
			json_object_object_add(params, set[i].key,
			                       json_object_new_string(set[i].value));
	if ((r = params_check_utf8(params)))
		return r;

	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_query(BIOGATE_METHOD_EDIT_STAFF, params, NULL, &msg, &p);
	if (r != CTL_PRINT_TEXT)
		return r;
	_cleanup_(freep) char *cid = text_clean(id);
	printf(_("Updated %s on the roster.\n"), cid ? cid : "?");
	print_staff(p);
	return CTL_EXIT_OK;
}

const CtlVerb ctl_verb_staff_edit = {
	.verb = "staff",
	.sub = "edit",
	.fn = cmd_staff_edit,
	.synopsis = "staff edit MATCHING_ID [--name NAME] [--affiliation TEXT] [--expertise TEXT]\n"
	            "          [--track-record TEXT] [--pledge-date YYYY-MM-DD] [--training-date "
	            "YYYY-MM-DD]",
	.summary = N_("Change a person's roster entry; record the written pledge and the security "
	              "training"),
};

static int
cmd_staff_unlock(int argc, char **argv)
{
	const char *id = NULL;
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	int r = matching_id_query(argc, argv, BIOGATE_METHOD_UNLOCK, &id, &msg, &p);
	if (r != CTL_PRINT_TEXT)
		return r;
	print_line(_("Unlocked %s: the failed fingerprint attempts are cleared."),
	           jstr_or(p, "matching_id", id));
	return CTL_EXIT_OK;
}

const CtlVerb ctl_verb_staff_unlock = {
	.verb = "staff",
	.sub = "unlock",
	.fn = cmd_staff_unlock,
	.synopsis = "staff unlock MATCHING_ID",
	.summary = N_("Lift a lockout after failed fingerprint attempts"),
};

/* The roster fields the history names, for a person. */
static const char *
history_field_label(const char *field)
{
	static const struct {
		const char *field;
		const char *label;
	} fields[] = {
		{ "created", N_("registered") },
		{ "name", N_("name") },
		{ "affiliation", N_("affiliation") },
		{ "expertise", N_("expertise") },
		{ "track_record", N_("track record") },
		{ "unix_user", N_("Unix user") },
		{ "pledge_date", N_("pledge date") },
		{ "training_date", N_("training date") },
		{ "state", N_("state") },
	};
	for (size_t i = 0; field && i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strcmp(field, fields[i].field) == 0)
			return _(fields[i].label);
	return field ? field : "-";
}

/* One value of the history as a person reads it: dates are stored as YYYYMMDD. */
static void
history_value(const char *field, const char *v, char *buf, size_t size)
{
	bool date =
	    field && (strcmp(field, "pledge_date") == 0 || strcmp(field, "training_date") == 0);
	if (!v)
		snprintf(buf, size, "-");
	else if (date && strlen(v) == 8 && digits_value(v, 8) >= 0)
		snprintf(buf, size, "%.4s-%.2s-%.2s", v, v + 4, v + 6);
	else if (field && strcmp(field, "state") == 0)
		snprintf(buf, size, "%s", word_label(v));
	else
		snprintf(buf, size, "%s", v);
}

/* One recorded change, for staff history. */
static int
history_row(Table *t, json_object *h)
{
	const char *field = jstr(h, "field");
	char when[64], from[WIRE_MAX_TEXT + 16], to[WIRE_MAX_TEXT + 16];
	format_time(h, "at", when, sizeof(when));
	history_value(field, jstr(h, "old"), from, sizeof(from));
	history_value(field, jstr(h, "new"), to, sizeof(to));
	bool created = field && strcmp(field, "created") == 0;
	_cleanup_(freep) char *change = NULL;
	if (!created && asprintf(&change, "%s → %s", from, to) < 0)
		return -1;
	if (table_add(t, when) < 0 || table_add(t, jstr(h, "actor")) < 0 ||
	    table_add(t, history_field_label(field)) < 0 ||
	    table_add(t, created ? "-" : change) < 0)
		return -1;
	return 0;
}

static int
cmd_staff_history(int argc, char **argv)
{
	const char *id = NULL;
	json_object *params = NULL;
	int r = matching_id_params(argc, argv, &id, &params);
	if (r)
		return r;
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_call(BIOGATE_METHOD_STAFF_HISTORY, params, &msg, &p);
	if (r)
		return r;
	json_object *history = jarray(p, "history");
	if (!history)
		return ctl_fail_transport(-EBADMSG, NULL);
	if (arg.json) {
		print_json(p);
		return CTL_EXIT_OK;
	}
	const char *head[] = { _("TIME"), _("BY"), _("FIELD"), _("CHANGE") };
	return table_list(history, _("No changes are recorded for this person."), head, 4,
	                  history_row);
}

const CtlVerb ctl_verb_staff_history = {
	.verb = "staff",
	.sub = "history",
	.fn = cmd_staff_history,
	.synopsis = "staff history MATCHING_ID",
	.summary =
	    N_("Show every recorded change to a person's roster entry: when, by whom, old and new "
	       "value"),
};
