/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * biogatectl disposal plan|approve|execute|report: erasure of personal data at the end
 * of the contract (R16).
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ctl-args.h"
#include "ctl-call.h"
#include "ctl-util.h"
#include "ctl-output.h"
#include "ctl-verbs.h"

/* What the daemon says it erased (store.c's names), for a person. */
static const char *
erased_label(const char *what)
{
	static const struct {
		const char *what;
		const char *label;
	} labels[] = {
		{ "templates", N_("fingerprint templates") },
		{ "roster", N_("roster entries") },
		{ "roster history", N_("roster history entries") },
		{ "schedule", N_("shifts") },
		{ "failed matches", N_("failed matches") },
	};
	for (size_t i = 0; what && i < sizeof(labels) / sizeof(labels[0]); i++)
		if (strcmp(what, labels[i].what) == 0)
			return _(labels[i].label);
	return what ? what : "?";
}

/* "fingerprint templates 3, roster entries 4, ..." or "-". */
static char *
erased_text(json_object *result)
{
	if (!result || !json_object_is_type(result, json_type_object))
		return text_clean(NULL);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	size_t done = 0;
	json_object_object_foreach(result, key, val)
	{
		if (!json_object_is_type(val, json_type_int))
			continue;
		fprintf(f, "%s%s %lld", done++ ? ", " : "", erased_label(key),
		        (long long)json_object_get_int64(val));
	}
	if (done == 0)
		fputs("-", f);
	return memstream_clean(f, &buf);
}

static void
print_disposal(json_object *p)
{
	char planned_at[64], approved_at[64], executed_at[64];
	int64_t id = 0, count = -1;
	format_time(p, "planned_at", planned_at, sizeof(planned_at));
	format_time(p, "approved_at", approved_at, sizeof(approved_at));
	format_time(p, "executed_at", executed_at, sizeof(executed_at));
	json_object *result = NULL;
	(void)json_object_object_get_ex(p, "result", &result);
	Field f[] = {
		{ _("Disposal:"), jint(p, "disposal_id", &id) ? clean_printf("%lld", (long long)id)
		                                              : text_clean(NULL) },
		{ _("State:"), text_clean(word_label(jstr(p, "state"))) },
		{ _("Items:"), text_clean(jstr(p, "items")) },
		{ _("Media:"), text_clean(jstr(p, "media")) },
		{ _("Count:"), jint(p, "count", &count) && count >= 0
		                   ? clean_printf("%lld", (long long)count)
		                   : text_clean(NULL) },
		{ _("Method:"), text_clean(jstr(p, "method")) },
		{ _("Planned date:"), text_clean(jstr(p, "planned_date")) },
		{ _("Planned by:"), text_clean(jstr(p, "planned_by")) },
		{ _("Planned at:"), text_clean(planned_at) },
		{ _("Approved by:"), text_clean(jstr(p, "approved_by")) },
		{ _("Approved at:"), text_clean(approved_at) },
		{ _("Executed by:"), text_clean(jstr(p, "executed_by")) },
		{ _("Executed at:"), text_clean(executed_at) },
		{ _("Erased:"), erased_text(result) },
	};
	fields_print(f, sizeof(f) / sizeof(f[0]));
}

typedef struct DisposalArgs {
	const char *items, *media, *count, *method, *date;
	const char *format, *output;
	ConfirmArgs confirm;
} DisposalArgs;

static int
disposal_option(int c, const char *value, void *userdata)
{
	static const OptValue values[] = {
		OPT_MEMBER(OPT_ITEMS, DisposalArgs, items),
		OPT_MEMBER(OPT_MEDIA, DisposalArgs, media),
		OPT_MEMBER(OPT_COUNT, DisposalArgs, count),
		OPT_MEMBER(OPT_METHOD, DisposalArgs, method),
		OPT_MEMBER(OPT_DATE, DisposalArgs, date),
		OPT_MEMBER(OPT_FORMAT, DisposalArgs, format),
		OPT_MEMBER(OPT_OUTPUT, DisposalArgs, output),
	};
	DisposalArgs *a = userdata;
	if (c == OPT_CONFIRM_BY)
		return confirm_option(&a->confirm, value);
	return opt_value_set(values, sizeof(values) / sizeof(values[0]), c, value, userdata);
}

/* The daemon's bound on a plan's count (custody.c custody_disposal_plan_fields). */
#define CTL_DISPOSAL_MAX_COUNT 1000000000LL

static int
cmd_disposal_plan(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{ "items", required_argument, NULL, OPT_ITEMS },
		{ "media", required_argument, NULL, OPT_MEDIA },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "method", required_argument, NULL, OPT_METHOD },
		{ "date", required_argument, NULL, OPT_DATE },
		{ NULL, 0, NULL, 0 },
	};
	DisposalArgs a = { 0 };
	int r = parse_args(argc, argv, opts, disposal_option, &a, NULL, NULL, 0);
	if (r || (r = check_text("items", a.items, 256, true)) ||
	    (r = check_text("media", a.media, 256, true)) ||
	    (r = check_text("count", a.count, 32, true)) ||
	    (r = check_text("method", a.method, 256, true)) ||
	    (r = check_text("date", a.date, 10, true)) || (r = check_date("date", a.date)))
		return r;
	char *end = NULL;
	errno = 0;
	long long count = strtoll(a.count, &end, 10);
	if (errno || !end || end == a.count || *end || a.count[0] == '+' || a.count[0] == '-' ||
	    count < 0 || count > CTL_DISPOSAL_MAX_COUNT)
		return usage_errorf(_("invalid count '%s': give a whole number from 0 to %lld"),
		                    a.count, CTL_DISPOSAL_MAX_COUNT);

	json_object *params = params_string("items", a.items);
	if (!params)
		return fail_nomem();
	json_object_object_add(params, "media", json_object_new_string(a.media));
	json_object_object_add(params, "count", json_object_new_int64(count));
	json_object_object_add(params, "method", json_object_new_string(a.method));
	json_object_object_add(params, "planned_date", json_object_new_string(a.date));
	if ((r = params_check_utf8(params)))
		return r;
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_query(BIOGATE_METHOD_DISPOSAL_PLAN, params, NULL, &msg, &p);
	if (r != CTL_PRINT_TEXT)
		return r;
	int64_t id = 0;
	(void)jint(p, "disposal_id", &id);
	/* TRANSLATORS: %lld is the disposal's number. */
	printf(_("Planned disposal %lld; it needs approval (disposal approve %lld) before it can "
	         "be executed.\n"),
	       (long long)id, (long long)id);
	print_disposal(p);
	return CTL_EXIT_OK;
}

const CtlVerb ctl_verb_disposal_plan = {
	.verb = "disposal",
	.sub = "plan",
	.fn = cmd_disposal_plan,
	.synopsis =
	    "disposal plan --items TEXT --media TEXT --count N --method TEXT --date YYYY-MM-DD",
	.summary =
	    N_("Plan the erasure of personal data: what, on which media, how many, how, and when"),
};

/* A disposal's number: 1..INT64_MAX. */
static int
parse_disposal_id(const char *s, int64_t *ret)
{
	char *end = NULL;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || !end || end == s || *end || s[0] == '+' || s[0] == '-' || v < 1)
		return usage_errorf(_("invalid disposal number '%s': give a whole number from 1"),
		                    s);
	*ret = v;
	return 0;
}

static const struct option disposal_id_options[] = {
	COMMON_OPTIONS,
	{ "confirm-by", required_argument, NULL, OPT_CONFIRM_BY },
	{ NULL, 0, NULL, 0 },
};

/* disposal approve and execute: one number, the disposal object back. */
static int
disposal_step(int argc, char **argv, bool approve)
{
	static const char *const names[] = { "ID" };
	DisposalArgs a = { 0 };
	const char *pos = NULL;
	int64_t id = 0;
	int r = parse_args(argc, argv, approve ? disposal_id_options : common_options,
	                   disposal_option, &a, names, &pos, 1);
	if (r || (r = parse_disposal_id(pos, &id)))
		return r;
	json_object *params = json_object_new_object();
	if (!params)
		return fail_nomem();
	json_object_object_add(params, "disposal_id", json_object_new_int64(id));
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	if (approve) {
		confirm_params(&a.confirm, params);
		r = ctl_call_stream(BIOGATE_METHOD_DISPOSAL_APPROVE, params, confirm_progress, &msg,
		                    &p);
	} else {
		r = ctl_call(BIOGATE_METHOD_DISPOSAL_EXECUTE, params, &msg, &p);
	}
	if (r)
		return r;
	if (arg.json) {
		print_json(p);
		return CTL_EXIT_OK;
	}
	if (approve)
		/* TRANSLATORS: %lld is the disposal's number. */
		printf(_("Approved disposal %lld.\n"), (long long)id);
	else
		/* TRANSLATORS: %lld is the disposal's number. */
		printf(_("Executed disposal %lld: the personal data on this terminal is erased; "
		         "the audit trail is kept.\n"),
		       (long long)id);
	print_disposal(p);
	return CTL_EXIT_OK;
}

static int
cmd_disposal_approve(int argc, char **argv)
{
	return disposal_step(argc, argv, true);
}

const CtlVerb ctl_verb_disposal_approve = {
	.verb = "disposal",
	.sub = "approve",
	.fn = cmd_disposal_approve,
	.synopsis = "disposal approve ID [--confirm-by ID]...",
	.summary = N_("Approve a planned disposal (two-person confirmation)"),
};

static int
cmd_disposal_execute(int argc, char **argv)
{
	return disposal_step(argc, argv, false);
}

const CtlVerb ctl_verb_disposal_execute = {
	.verb = "disposal",
	.sub = "execute",
	.fn = cmd_disposal_execute,
	.synopsis = "disposal execute ID",
	.summary = N_("Carry out an approved disposal on or after its planned date: erase every "
	              "fingerprint and every personal field of the roster"),
};

static int
cmd_disposal_report(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const names[] = { "ID" };
	DisposalArgs a = { 0 };
	const char *pos = NULL;
	int64_t id = 0;
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	_cleanup_(freep) char *text = NULL;
	int r = parse_args(argc, argv, opts, disposal_option, &a, names, &pos, 1);
	if (r || (r = parse_disposal_id(pos, &id)))
		return r;
	if (a.format && strcmp(a.format, "json") != 0 && strcmp(a.format, "html") != 0)
		return usage_errorf(_("unknown format '%s': use json or html"), a.format);
	if (a.output && !*a.output)
		return usage_errorf(_("the option --%s must not be empty"), "output");
	if (a.output && !a.format)
		return usage_errorf(_("--output needs --format json or --format html"));

	_cleanup_(output_close) Output out = OUTPUT_INIT;
	if ((r = output_create(a.output, &out)))
		return r;
	json_object *params = json_object_new_object();
	if (!params) {
		r = fail_nomem();
		goto done;
	}
	json_object_object_add(params, "disposal_id", json_object_new_int64(id));
	bool html = a.format && strcmp(a.format, "html") == 0;
	if (a.format)
		json_object_object_add(params, "format", json_object_new_string(a.format));
	r = ctl_call(BIOGATE_METHOD_DISPOSAL_REPORT, params, &msg, &p);
	if (r)
		goto done;
	if (!a.format) {
		if (arg.json)
			print_json(p);
		else
			print_disposal(p);
		goto done;
	}
	if (html) {
		const char *doc = jstr(p, "document");
		if (!doc) {
			r = ctl_fail_transport(-EBADMSG, NULL);
			goto done;
		}
		text = strdup(doc);
		if (text)
			document_clean_n(text, strlen(text));
	} else {
		const char *j = json_object_to_json_string_ext(
		    p, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
		           JSON_C_TO_STRING_NOSLASHESCAPE);
		if (j && asprintf(&text, "%s\n", j) < 0)
			text = NULL;
	}
	if (!text) {
		r = fail_nomem();
		goto done;
	}
	if (out.fd == STDOUT_FILENO)
		fflush(stdout);
	int w = write_all(out.fd, text, strlen(text));
	if (w < 0) {
		r = output_error(-w);
		goto done;
	}
	if ((r = output_commit(&out)))
		goto done;
	if (a.output && arg.json) {
		_cleanup_(json_putp) json_object *o = json_object_new_object();
		if (o) {
			json_object_object_add(o, "disposal_id", json_object_new_int64(id));
			json_object_object_add(o, "format", json_object_new_string(a.format));
			json_object_object_add(o, "output", json_object_new_string(a.output));
			print_json(o);
		}
	} else if (a.output) {
		_cleanup_(freep) char *path = text_clean(a.output);
		fprintf(stderr, "%s: ", CTL_NAME);
		/* TRANSLATORS: %lld is the disposal's number, %s a file name. */
		fprintf(stderr, _("wrote the report of disposal %lld to %s\n"), (long long)id,
		        path ? path : "?");
	}
	r = CTL_EXIT_OK;
done:
	return r;
}

const CtlVerb ctl_verb_disposal_report = {
	.verb = "disposal",
	.sub = "report",
	.fn = cmd_disposal_report,
	.synopsis = "disposal report ID [--format json|html] [--output FILE]",
	.summary =
	    N_("Show the report of a disposal: when, by whom, what and how; html is a printable "
	       "document; FILE is new, mode 0600"),
};
