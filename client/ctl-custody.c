/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * biogatectl revoke and staff nationality: the two acts on a person that may need a
 * second person's finger (R4, R7, R13); confirmers are prompted in turn.
 */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl-args.h"
#include "ctl-call.h"
#include "ctl-util.h"
#include "ctl-verbs.h"

typedef struct RevokeArgs {
	const char *reason;
	ConfirmArgs confirm;
} RevokeArgs;

static int
revoke_option(int c, const char *value, void *userdata)
{
	RevokeArgs *a = userdata;
	if (c == OPT_REASON) {
		a->reason = value;
		return 0;
	}
	if (c == OPT_CONFIRM_BY)
		return confirm_option(&a->confirm, value);
	return -1;
}

static int
cmd_revoke(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{ "reason", required_argument, NULL, OPT_REASON },
		{ "confirm-by", required_argument, NULL, OPT_CONFIRM_BY },
		{ NULL, 0, NULL, 0 },
	};
	RevokeArgs a = { 0 };
	const char *id = NULL;
	int r = parse_matching_id(argc, argv, opts, revoke_option, &a, &id);
	if (r)
		return r;
	if (!a.reason)
		return usage_errorf(_("the option --%s is required"), "reason");
	if (strcmp(a.reason, "departed") != 0 && strcmp(a.reason, "transferred") != 0)
		return usage_errorf(_("unknown reason '%s': use departed or transferred"),
		                    a.reason);

	json_object *params = params_string("matching_id", id);
	if (!params)
		return fail_nomem();
	json_object_object_add(params, "reason", json_object_new_string(a.reason));
	confirm_params(&a.confirm, params);
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	/* Always with "more": the policy may ask for confirmers, who are prompted in turn. */
	r = ctl_query(BIOGATE_METHOD_REVOKE, params, confirm_progress, &msg, &p);
	if (r != CTL_PRINT_TEXT)
		return r;
	int64_t erased = -1, ended = -1;
	(void)jint(p, "templates_erased", &erased);
	(void)jint(p, "sessions_ended", &ended);
	/* TRANSLATORS: a matching ID, then the reason ("departed" or "transferred"). */
	print_line(_("Revoked %s (%s): the fingerprints are erased and the IDs no longer "
	             "work."),
	           jstr_or(p, "matching_id", id), word_label(a.reason));
	Field f[] = {
		{ _("Templates erased:"),
		  erased >= 0 ? clean_printf("%lld", (long long)erased) : text_clean(NULL) },
		{ _("Sessions ended:"),
		  ended >= 0 ? clean_printf("%lld", (long long)ended) : text_clean(NULL) },
	};
	fields_print(f, sizeof(f) / sizeof(f[0]));
	return CTL_EXIT_OK;
}

const CtlVerb ctl_verb_revoke = {
	.verb = "revoke",
	.fn = cmd_revoke,
	.synopsis = "revoke MATCHING_ID --reason departed|transferred [--confirm-by ID]...",
	.summary =
	    N_("Revoke a person who left or moved: erase their fingerprints, disable their IDs, "
	       "end their sessions"),
};

typedef struct NationalityArgs {
	const char *purpose;
	ConfirmArgs confirm;
} NationalityArgs;

static int
nationality_option(int c, const char *value, void *userdata)
{
	NationalityArgs *a = userdata;
	if (c == OPT_PURPOSE) {
		a->purpose = value;
		return 0;
	}
	if (c == OPT_CONFIRM_BY)
		return confirm_option(&a->confirm, value);
	return -1;
}

/* Characters (UTF-8 code points) of s without the blanks at either end. */
static size_t
text_chars_trimmed(const char *s)
{
	size_t n = strlen(s), i = 0, chars = 0;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	for (; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			chars++;
	return chars;
}

#define CTL_PURPOSE_MIN_CHARS 4

static int
cmd_staff_nationality(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{ "purpose", required_argument, NULL, OPT_PURPOSE },
		{ "confirm-by", required_argument, NULL, OPT_CONFIRM_BY },
		{ NULL, 0, NULL, 0 },
	};
	NationalityArgs a = { 0 };
	const char *id = NULL;
	int r = parse_matching_id(argc, argv, opts, nationality_option, &a, &id);
	if (r || (r = check_text("purpose", a.purpose, 256, true)))
		return r;
	/* The purpose is what makes the read lawful (R7): it must say something. */
	if (text_chars_trimmed(a.purpose) < CTL_PURPOSE_MIN_CHARS)
		return usage_errorf(_("the purpose must say why the nationality is read, in at "
		                      "least %d characters"),
		                    CTL_PURPOSE_MIN_CHARS);

	json_object *params = params_string("matching_id", id);
	if (!params)
		return fail_nomem();
	json_object_object_add(params, "purpose", json_object_new_string(a.purpose));
	confirm_params(&a.confirm, params);
	if ((r = params_check_utf8(params)))
		return r;
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_call_stream(BIOGATE_METHOD_STAFF_NATIONALITY, params, confirm_progress, &msg, &p);
	if (r)
		return r;
	const char *who = jstr(p, "matching_id"), *nat = jstr(p, "nationality");
	if (!nat)
		return ctl_fail_transport(-EBADMSG, NULL);
	if (arg.json) {
		/* These two fields and nothing else, whatever else the reply may carry. */
		_cleanup_(json_putp) json_object *o = json_object_new_object();
		if (!o)
			return fail_nomem();
		json_object_object_add(o, "matching_id", json_object_new_string(who ? who : id));
		json_object_object_add(o, "nationality", json_object_new_string(nat));
		print_json(o);
		return CTL_EXIT_OK;
	}
	Field f[] = {
		{ _("Matching ID:"), text_clean(who ? who : id) },
		{ _("Nationality:"), text_clean(nat) },
	};
	fields_print(f, sizeof(f) / sizeof(f[0]));
	fprintf(stderr, "%s: %s\n", CTL_NAME,
	        _("this read is recorded in the audit trail with its purpose"));
	return CTL_EXIT_OK;
}

const CtlVerb ctl_verb_staff_nationality = {
	.verb = "staff",
	.sub = "nationality",
	.fn = cmd_staff_nationality,
	.synopsis = "staff nationality MATCHING_ID --purpose TEXT [--confirm-by ID]...",
	.summary = N_(
	    "Show a person's nationality, only to trace a leak: the purpose is recorded with the "
	    "read"),
};
