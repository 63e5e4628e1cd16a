/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl-args: the command line of every verb: the global options, one getopt_long() loop
 * per verb with its positional arguments, and the checks that give a clear usage error before
 * anything reaches the daemon (IDs, texts, dates, times, confirmers). It prints nothing but
 * usage errors.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl-args.h"
#include "ctl-call.h"
#include "ctl-util.h"

/* --- option parsing --------------------------------------------------------------------- */

const struct option common_options[] = { COMMON_OPTIONS, { NULL, 0, NULL, 0 } };

__attribute__((format(printf, 1, 2))) int
usage_errorf(const char *fmt, ...)
{
	va_list ap;
	char *raw = NULL;
	va_start(ap, fmt);
	int n = vasprintf(&raw, fmt, ap);
	va_end(ap);
	if (n < 0)
		return fail_nomem();
	_cleanup_(freep) char *msg = text_clean(raw);
	free(raw);
	fprintf(stderr, "%s: %s\n", CTL_NAME, msg ? msg : "?");
	fprintf(stderr, _("Try '%s --help' for more information.\n"), CTL_NAME);
	return CTL_EXIT_USAGE;
}

/* The person fixes the file and runs the command again: the usage exit code. */
__attribute__((format(printf, 3, 4))) int
file_errorf(const char *path, unsigned line, const char *fmt, ...)
{
	va_list ap;
	char *raw = NULL;
	va_start(ap, fmt);
	int n = vasprintf(&raw, fmt, ap);
	va_end(ap);
	if (n < 0)
		return fail_nomem();
	_cleanup_(freep) char *msg = text_clean(raw);
	_cleanup_(freep) char *where = text_clean(path);
	free(raw);
	if (line > 0)
		fprintf(stderr, "%s: %s:%u: %s\n", CTL_NAME, where ? where : "?", line,
		        msg ? msg : "?");
	else
		fprintf(stderr, "%s: %s: %s\n", CTL_NAME, where ? where : "?", msg ? msg : "?");
	return CTL_EXIT_USAGE;
}

/* getopt_long()'s '?' (an unknown option) and ':' (a missing value) as usage errors; else 0. */
int
getopt_failure(int c, char **argv)
{
	if (c == '?') {
		if (optopt > 0 && optopt < 0x100)
			return usage_errorf(_("unrecognized option '-%c'"), optopt);
		return usage_errorf(_("unrecognized option '%s'"), argv[optind - 1]);
	}
	if (c == ':')
		return usage_errorf(_("option '%s' needs a value"), argv[optind - 1]);
	return 0;
}

/* Returns 0 when handled, -1 when c is not a common option, else an exit code. */
int
common_option(int c, const char *value)
{
	switch (c) {
	case OPT_JSON:
		arg.json = true;
		return 0;
	case OPT_SOCKET:
		if (!value || !*value)
			return usage_errorf(_("the socket path must not be empty"));
		arg.socket = value;
		return 0;
	case OPT_TIMEOUT: {
		char *end = NULL;
		errno = 0;
		long v = strtol(value, &end, 10);
		if (errno || !end || end == value || *end || v < 1 || v > CTL_MAX_TIMEOUT_SEC)
			return usage_errorf(
			    _("invalid timeout '%s': give whole seconds from 1 to %d"), value,
			    CTL_MAX_TIMEOUT_SEC);
		arg.timeout_sec = (int)v;
		return 0;
	}
	case 'h':
		help();
		exit(CTL_EXIT_OK);
	default:
		return -1;
	}
}

/* Keeps value in the member of userdata named for option c: 0, or -1 when there is none. */
int
opt_value_set(const OptValue *values, size_t n, int c, const char *value, void *userdata)
{
	for (size_t i = 0; i < n; i++)
		if (values[i].opt == c) {
			*(const char **)(void *)((char *)userdata + values[i].offset) = value;
			return 0;
		}
	return -1;
}

/*
 * Parses one command's options (argv[0] is the last command word) and requires exactly
 * npos positional arguments, named in pos_names for the messages. 0 or an exit code.
 */
int
parse_args(int argc, char **argv, const struct option *opts, OptFn fn, void *userdata,
           const char *const *pos_names, const char **ret_pos, int npos)
{
	int c;
	optind = 0; /* GNU getopt: full reinitialization for each vector */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		int r = getopt_failure(c, argv);
		if (r)
			return r;
		r = common_option(c, optarg);
		if (r == -1)
			r = fn ? fn(c, optarg, userdata) : -1;
		if (r == -1)
			return usage_errorf(_("unrecognized option '%s'"), argv[optind - 1]);
		if (r > 0)
			return r;
	}
	int have = argc - optind;
	if (have < npos)
		return usage_errorf(_("missing argument: %s"), pos_names[have]);
	if (have > npos)
		return usage_errorf(_("unexpected argument '%s'"), argv[optind + npos]);
	for (int i = 0; i < npos; i++)
		ret_pos[i] = argv[optind + i];
	return 0;
}

int
check_id(IdKind kind, const char *v)
{
	if (wire_valid_id(v) && (kind != ID_UNIX_USER || strlen(v) <= 32))
		return 0;
	char *what = NULL;
	int n = -1;
	switch (kind) {
	case ID_MATCHING:
		n = asprintf(&what, _("invalid matching ID '%s'"), v);
		break;
	case ID_OPERATOR:
		n = asprintf(&what, _("invalid operator ID '%s'"), v);
		break;
	case ID_ROLE:
		n = asprintf(&what, _("invalid role '%s'"), v);
		break;
	case ID_UNIX_USER:
		n = asprintf(&what, _("invalid Unix user name '%s'"), v);
		break;
	case ID_ACTION:
		n = asprintf(&what, _("invalid action '%s'"), v);
		break;
	}
	if (n < 0)
		return fail_nomem();
	int r = usage_errorf(_("%s: IDs are 1 to %d letters, digits, '.', '_', '@' or '-', and do "
	                       "not start with '-' or '.'"),
	                     what, kind == ID_UNIX_USER ? 32 : WIRE_MAX_ID);
	free(what);
	return r;
}

/*
 * Arguments arrive in the user's locale, the wire takes UTF-8 only, and the daemon drops a
 * connection over bad UTF-8: check with the wire's own parser, so there is one validator.
 */
bool
params_valid_utf8(json_object *params)
{
	const char *s = json_object_to_json_string_ext(params, JSON_C_TO_STRING_PLAIN);
	json_object *o = NULL;
	if (!s || wire_parse(s, strlen(s), WIRE_MAX_MESSAGE, &o) < 0)
		return false;
	json_object_put(o);
	return true;
}

/* A new params object holding key: value; NULL when out of memory. */
json_object *
params_string(const char *key, const char *value)
{
	json_object *params = json_object_new_object();
	if (params)
		json_object_object_add(params, key, json_object_new_string(value));
	return params;
}

/* parse_args() for a command whose one argument is a matching ID, which is checked. */
int
parse_matching_id(int argc, char **argv, const struct option *opts, OptFn fn, void *userdata,
                  const char **ret_id)
{
	static const char *const names[] = { "MATCHING_ID" };
	int r = parse_args(argc, argv, opts, fn, userdata, names, ret_id, 1);
	if (r)
		return r;
	return check_id(ID_MATCHING, *ret_id);
}

/* A command whose one argument is a matching ID and whose params are just that. */
int
matching_id_params(int argc, char **argv, const char **ret_id, json_object **ret_params)
{
	int r = parse_matching_id(argc, argv, common_options, NULL, NULL, ret_id);
	if (r)
		return r;
	*ret_params = params_string("matching_id", *ret_id);
	return *ret_params ? 0 : fail_nomem();
}

/* A command whose one argument is a matching ID, which alone makes the params: as ctl_query(). */
int
matching_id_query(int argc, char **argv, const char *method, const char **ret_id,
                  json_object **ret_msg, json_object **ret_params)
{
	json_object *params = NULL;
	int r = matching_id_params(argc, argv, ret_id, &params);
	if (r)
		return r;
	return ctl_query(method, params, NULL, ret_msg, ret_params);
}

/* 0, or (params dropped) the usage error for arguments that are not valid UTF-8. */
int
params_check_utf8(json_object *params)
{
	if (params_valid_utf8(params))
		return 0;
	json_object_put(params);
	return usage_errorf(_("the arguments are not valid UTF-8 text"));
}

/* A command without arguments: its options, then a call without params, as ctl_query(). */
int
ctl_query_noargs(int argc, char **argv, const char *method, json_object **ret_msg,
                 json_object **ret_params)
{
	int r = parse_args(argc, argv, common_options, NULL, NULL, NULL, NULL, 0);
	if (r)
		return r;
	return ctl_query(method, NULL, NULL, ret_msg, ret_params);
}

/* The daemon's limits (daemon/methods.c add_staff_fields), checked here for a clear message. */
int
check_text(const char *option, const char *v, size_t max, bool required)
{
	if (!v) {
		if (required)
			return usage_errorf(_("the option --%s is required"), option);
		return 0;
	}
	if (required && !*v)
		return usage_errorf(_("the option --%s must not be empty"), option);
	if (!wire_valid_text(v, max))
		return usage_errorf(
		    _("the value of --%s is too long (at most %zu bytes) or contains control "
		      "characters"),
		    option, max);
	return 0;
}

/* --- dates and times --------------------------------------------------------------------- */

/* The value of n ASCII digits, or -1. */
int
digits_value(const char *s, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* "YYYY-MM" with a year the daemon stores (1900..9999) and a month 01..12. */
bool
valid_month(const char *s)
{
	if (!s || strlen(s) != 7 || s[4] != '-')
		return false;
	int y = digits_value(s, 4), m = digits_value(s + 5, 2);
	return y >= 1900 && m >= 1 && m <= 12;
}

/* "YYYY-MM-DD" naming a day that exists: the daemon only checks that the day is 1..31. */
bool
valid_date(const char *s)
{
	static const int month_days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (!s || strlen(s) != 10 || s[7] != '-')
		return false;
	char month[8];
	memcpy(month, s, 7);
	month[7] = '\0';
	if (!valid_month(month))
		return false;
	int y = digits_value(s, 4), m = digits_value(s + 5, 2), d = digits_value(s + 8, 2);
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return d >= 1 && d <= month_days[m - 1] + (m == 2 && leap ? 1 : 0);
}

/* "HH:MM", 00:00..23:59. */
bool
valid_hhmm(const char *s)
{
	if (!s || strlen(s) != 5 || s[2] != ':')
		return false;
	int h = digits_value(s, 2), m = digits_value(s + 3, 2);
	return h >= 0 && h <= 23 && m >= 0 && m <= 59;
}

int
check_date(const char *option, const char *v)
{
	if (!v || valid_date(v))
		return 0;
	return usage_errorf(_("invalid date '%s' for --%s: give a real date as YYYY-MM-DD"), v,
	                    option);
}

int
single_option(int c, const char *value, void *userdata)
{
	if (c != OPT_FINGER && c != OPT_ROLE)
		return -1;
	*(const char **)userdata = value;
	return 0;
}

/* --- two-person confirmation (R13) ------------------------------------------------------- */

/* --confirm-by ID, repeatable: the people who confirm, in the order they touch the reader.
 * One person named twice is left to the daemon, which refuses it and records the attempt. */
int
confirm_option(ConfirmArgs *a, const char *value)
{
	if (a->n == CTL_CONFIRM_MAX)
		return usage_errorf(_("--confirm-by may be given at most %d times"),
		                    CTL_CONFIRM_MAX);
	int r = check_id(ID_MATCHING, value);
	if (r)
		return r;
	a->ids[a->n++] = value;
	return 0;
}

void
confirm_params(const ConfirmArgs *a, json_object *params)
{
	if (a->n == 0)
		return;
	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < a->n; i++)
		json_object_array_add(arr, json_object_new_string(a->ids[i]));
	json_object_object_add(params, "confirm_by", arr);
}
