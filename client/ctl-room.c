/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * biogatectl room enter|leave|list: the room log of the working area (R14).
 */
#include <errno.h>
#include <getopt.h>
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
#include "ctl-verbs.h"

/* The daemon's limit for what a visitor says about themselves (daemon/room.c). */
#define ROOM_TEXT_MAX 128

typedef struct RoomArgs {
	const char *name, *affiliation, *purpose, *date;
} RoomArgs;

static int
room_option(int c, const char *value, void *userdata)
{
	static const OptValue values[] = {
		OPT_MEMBER(OPT_NAME, RoomArgs, name),
		OPT_MEMBER(OPT_AFFILIATION, RoomArgs, affiliation),
		OPT_MEMBER(OPT_PURPOSE, RoomArgs, purpose),
		OPT_MEMBER(OPT_DATE, RoomArgs, date),
	};
	return opt_value_set(values, sizeof(values) / sizeof(values[0]), c, value, userdata);
}

static int
cmd_room_enter(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{ "name", required_argument, NULL, OPT_NAME },
		{ "affiliation", required_argument, NULL, OPT_AFFILIATION },
		{ "purpose", required_argument, NULL, OPT_PURPOSE },
		{ NULL, 0, NULL, 0 },
	};
	RoomArgs a = { 0 };
	int r = parse_args(argc, argv, opts, room_option, &a, NULL, NULL, 0);
	if (r || (r = check_text("name", a.name, ROOM_TEXT_MAX, true)) ||
	    (r = check_text("affiliation", a.affiliation, ROOM_TEXT_MAX, true)) ||
	    (r = check_text("purpose", a.purpose, ROOM_TEXT_MAX, true)))
		return r;
	json_object *params = params_string("name", a.name);
	if (!params)
		return fail_nomem();
	json_object_object_add(params, "affiliation", json_object_new_string(a.affiliation));
	json_object_object_add(params, "purpose", json_object_new_string(a.purpose));
	if ((r = params_check_utf8(params)))
		return r;
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_call(BIOGATE_METHOD_ROOM_ENTER, params, &msg, &p);
	if (r)
		return r;
	int64_t id = 0;
	if (!jint(p, "entry_id", &id) || id < 1)
		return ctl_fail_transport(-EBADMSG, NULL);
	if (arg.json)
		print_json(p);
	else
		/* TRANSLATORS: %lld is the entry's number, needed later for "room leave". */
		printf(_("Entered in the room log as entry %lld (on leaving: biogatectl room leave "
		         "%lld).\n"),
		       (long long)id, (long long)id);
	return CTL_EXIT_OK;
}

const CtlVerb ctl_verb_room_enter = {
	.verb = "room",
	.sub = "enter",
	.fn = cmd_room_enter,
	.synopsis = "room enter --name NAME --affiliation TEXT --purpose TEXT",
	.summary = N_("Record a visitor entering the working area; prints the entry's number"),
};

static int
parse_entry_id(const char *s, int64_t *ret)
{
	char *end = NULL;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || !end || end == s || *end || s[0] == '+' || s[0] == '-' || v < 1)
		return usage_errorf(_("invalid entry number '%s': give a whole number from 1"), s);
	*ret = v;
	return 0;
}

static int
cmd_room_leave(int argc, char **argv)
{
	static const char *const names[] = { "ENTRY_ID" };
	const char *pos = NULL;
	int64_t id = 0;
	int r = parse_args(argc, argv, common_options, NULL, NULL, names, &pos, 1);
	if (r || (r = parse_entry_id(pos, &id)))
		return r;
	json_object *params = json_object_new_object();
	if (!params)
		return fail_nomem();
	json_object_object_add(params, "entry_id", json_object_new_int64(id));
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_query(BIOGATE_METHOD_ROOM_LEAVE, params, NULL, &msg, &p);
	if (r != CTL_PRINT_TEXT)
		return r;
	/* TRANSLATORS: %lld is the entry's number. */
	printf(_("Recorded the leaving of entry %lld.\n"), (long long)id);
	return CTL_EXIT_OK;
}

const CtlVerb ctl_verb_room_leave = {
	.verb = "room",
	.sub = "leave",
	.fn = cmd_room_leave,
	.synopsis = "room leave ENTRY_ID",
	.summary =
	    N_("Record a visitor leaving the working area (staff leave when their session ends)"),
};

static int
room_table_row(Table *t, json_object *e)
{
	char id[32], in[64], out[64];
	int64_t v = 0;
	if (jint(e, "entry_id", &v))
		snprintf(id, sizeof(id), "%lld", (long long)v);
	else
		snprintf(id, sizeof(id), "-");
	format_time(e, "entered_at", in, sizeof(in));
	format_time(e, "left_at", out, sizeof(out));
	json_object *sv = NULL;
	bool staff = json_object_object_get_ex(e, "staff", &sv) &&
	             json_object_is_type(sv, json_type_boolean) && json_object_get_boolean(sv);
	/* A staff entry names the person from the roster; after disposal only the ID is left. */
	_cleanup_(freep) char *name = NULL;
	const char *mid = jstr(e, "matching_id");
	if (staff && mid && jstr(e, "name")) {
		if (asprintf(&name, "%s (%s)", jstr(e, "name"), mid) < 0)
			name = NULL;
		if (!name)
			return -ENOMEM;
	}
	const char *who = name ? name : staff && mid ? mid : jstr(e, "name");
	const char *purpose = jstr(e, "purpose");
	if (table_add(t, id) < 0 || table_add(t, in) < 0 ||
	    table_add(t, strcmp(out, "-") == 0 ? _("(inside)") : out) < 0 ||
	    table_add(t, who) < 0 || table_add(t, jstr(e, "affiliation")) < 0 ||
	    table_add(t, staff && purpose && strcmp(purpose, "work") == 0 ? _("work") : purpose) <
	        0 ||
	    table_add(t, staff ? _("staff") : _("visitor")) < 0)
		return -ENOMEM;
	return 0;
}

static int
room_table_print(json_object *entries)
{
	Table t = { .cols = 7 };
	const char *head[] = { _("ENTRY"),       _("IN"),      _("OUT"), _("NAME"),
		               _("AFFILIATION"), _("PURPOSE"), _("KIND") };
	if (table_head(&t, head, 0, 7) < 0)
		goto nomem;
	for (size_t i = 0; i < json_object_array_length(entries); i++)
		if (room_table_row(&t, json_object_array_get_idx(entries, i)) < 0)
			goto nomem;
	return table_finish(&t, true);
nomem:
	return table_finish(&t, false);
}

static int
cmd_room_list(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{ "date", required_argument, NULL, OPT_DATE },
		{ NULL, 0, NULL, 0 },
	};
	RoomArgs a = { 0 };
	int r = parse_args(argc, argv, opts, room_option, &a, NULL, NULL, 0);
	if (r || (r = check_date("date", a.date)))
		return r;
	json_object *params = json_object_new_object();
	if (!params)
		return fail_nomem();
	if (a.date)
		json_object_object_add(params, "date", json_object_new_string(a.date));
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_call(BIOGATE_METHOD_ROOM_LIST, params, &msg, &p);
	if (r)
		return r;
	json_object *entries = jarray(p, "entries");
	if (!entries)
		return ctl_fail_transport(-EBADMSG, NULL);
	json_object *tv = NULL;
	bool truncated = json_object_object_get_ex(p, "truncated", &tv) &&
	                 json_object_is_type(tv, json_type_boolean) && json_object_get_boolean(tv);
	if (arg.json) {
		print_json(p);
	} else if (json_object_array_length(entries) == 0) {
		_cleanup_(freep) char *day = text_clean(jstr(p, "date"));
		/* TRANSLATORS: %s is a date, YYYY-MM-DD. */
		printf(_("No one entered the room on %s.\n"), day ? day : "?");
	} else if ((r = room_table_print(entries))) {
		return r;
	}
	if (truncated)
		fprintf(
		    stderr, "%s: %s\n", CTL_NAME,
		    _("the day's entries do not fit one answer: only the first ones are shown"));
	return CTL_EXIT_OK;
}

const CtlVerb ctl_verb_room_list = {
	.verb = "room",
	.sub = "list",
	.fn = cmd_room_list,
	.synopsis = "room list [--date YYYY-MM-DD]",
	.summary =
	    N_("List who entered the working area on a day (default today): staff and visitors, "
	       "with times in and out"),
};
