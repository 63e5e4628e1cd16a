/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * biogatectl sessions, authorize, whoami, lock, logoff: the open sessions and the
 * caller's own, found by the daemon from the kernel's peer credentials (R2, R11).
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl-args.h"
#include "ctl-call.h"
#include "ctl-util.h"
#include "ctl-verbs.h"

/* One open session, for sessions. */
static int
session_row(Table *t, json_object *s)
{
	int64_t sid = 0, uid = -1;
	char ids[32] = "-", uids[32] = "-", opened[64];
	if (jint(s, "session_id", &sid))
		snprintf(ids, sizeof(ids), "%lld", (long long)sid);
	/* (uid_t)-1: the person's Unix user does not exist on this machine. */
	if (jint(s, "uid", &uid) && uid >= 0 && uid < UINT32_MAX)
		snprintf(uids, sizeof(uids), "%lld", (long long)uid);
	format_time(s, "opened_at", opened, sizeof(opened));
	if (table_add(t, ids) < 0 || table_add(t, jstr(s, "matching_id")) < 0 ||
	    table_add(t, jstr(s, "operator_id")) < 0 || table_add(t, uids) < 0 ||
	    table_add(t, jstr(s, "tty")) < 0 || table_add(t, jstr(s, "service")) < 0 ||
	    table_add(t, opened) < 0)
		return -1;
	return 0;
}

static int
cmd_sessions(int argc, char **argv)
{
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	int r = ctl_query_noargs(argc, argv, BIOGATE_METHOD_LIST_SESSIONS, &msg, &p);
	if (r != CTL_PRINT_TEXT)
		return r;
	const char *head[] = { _("SESSION"), _("MATCHING ID"), _("OPERATOR ID"), _("UID"),
		               _("TTY"),     _("SERVICE"),     _("OPENED AT") };
	return table_list(jarray(p, "sessions"), _("No sessions are open."), head, 7, session_row);
}

const CtlVerb ctl_verb_sessions = {
	.verb = "sessions",
	.fn = cmd_sessions,
	.synopsis = "sessions",
	.summary = N_("List the open biogate sessions"),
};

/* --- decisions and the caller's own session ---------------------------------------------- */

/* What each of the daemon's stable reasons (policy.h) means for the person at the counter. */
static const struct {
	const char *reason;
	const char *text;
} authorize_reasons[] = {
	{ "allowed", N_("The role of this session's operator ID permits this action.") },
	{ "no-session", N_("This command is not running inside a biogate login session, so it "
	                   "acts for no operator ID.") },
	{ "unknown-role", N_("The role of this session's operator ID is not in the policy.") },
	{ "action-not-permitted",
	  N_("The role of this session's operator ID does not permit this action.") },
	{ "admin-only", N_("Only the administrator role may do this.") },
	{ "key-required", N_("This action needs a search key (--key).") },
	{ "key-not-allowed", N_("This action does not take a search key.") },
	{ "key-invalid", N_("The search key is not an individual number: after removing spaces "
	                    "and hyphens it must be 12 digits.") },
	{ "key-check-digit", N_("The search key has 12 digits but a wrong check digit: it is not a "
	                        "valid individual number. Check the number you typed.") },
	{ "key-resident-record-code",
	  N_("The search key has 11 digits: it is a resident record code, not an individual "
	     "number. Searching by a resident record code is a violation, and this attempt has "
	     "been recorded.") },
	{ "key-corporate-number", N_("The search key has 13 digits: it is a corporate number, not "
	                             "an individual number.") },
};

static int
authorize_option(int c, const char *value, void *userdata)
{
	if (c != OPT_KEY)
		return -1;
	*(const char **)userdata = value;
	return 0;
}

static int
cmd_authorize(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{ "key", required_argument, NULL, OPT_KEY },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const names[] = { "ACTION" };
	const char *action = NULL, *key = NULL;
	int r = parse_args(argc, argv, opts, authorize_option, &key, names, &action, 1);
	if (r || (r = check_id(ID_ACTION, action)))
		return r;
	/* The key is a person's number: it is sent as given (the daemon normalizes it) and
	 * never appears in any output or message of this program. */
	if (key && strlen(key) > 256)
		return usage_errorf(_("the search key is too long (at most 256 bytes)"));

	json_object *params = params_string("action", action);
	if (!params)
		return fail_nomem();
	if (key)
		json_object_object_add(params, "key", json_object_new_string(key));
	if ((r = params_check_utf8(params)))
		return r;
	/* Shortens the time the number can be read from /proc/PID/cmdline: key points into
	 * argv (getopt's optarg), which is ours to write. */
	if (key)
		explicit_bzero((char *)(uintptr_t)key, strlen(key));

	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_call(BIOGATE_METHOD_AUTHORIZE, params, &msg, &p);
	if (r)
		return r;
	json_object_object_del(p, "key");
	json_object *allow = NULL;
	const char *reason = jstr(p, "reason");
	if (!json_object_object_get_ex(p, "allow", &allow) ||
	    !json_object_is_type(allow, json_type_boolean) || !reason)
		return ctl_fail_transport(-EBADMSG, NULL);
	bool allowed = json_object_get_boolean(allow);
	json_object *v = NULL;
	bool violation = json_object_object_get_ex(p, "violation", &v) &&
	                 json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
	if (arg.json) {
		print_json(p);
		return allowed ? CTL_EXIT_OK : CTL_EXIT_NEGATIVE;
	}
	/* "allow" and "deny: REASON" stay untranslated for scripts; the explanation follows. */
	_cleanup_(freep) char *clean_reason = text_clean(reason);
	if (allowed)
		puts("allow");
	else
		printf("deny: %s\n", clean_reason ? clean_reason : "?");
	const char *text = NULL;
	for (size_t i = 0; i < sizeof(authorize_reasons) / sizeof(authorize_reasons[0]); i++)
		if (strcmp(reason, authorize_reasons[i].reason) == 0)
			text = _(authorize_reasons[i].text);
	puts(text ? text : _("The biogate service gave a reason this version does not know."));
	if (violation && strcmp(reason, "key-resident-record-code") != 0)
		puts(_("This attempt has been recorded as a violation."));
	return allowed ? CTL_EXIT_OK : CTL_EXIT_NEGATIVE;
}

const CtlVerb ctl_verb_authorize = {
	.verb = "authorize",
	.fn = cmd_authorize,
	.synopsis = "authorize ACTION [--key KEY]",
	.summary =
	    N_("Ask whether this session's operator ID may do ACTION (exit 0 allow, 1 deny)"),
};

static void
format_session_id(json_object *p, char *buf, size_t size)
{
	int64_t sid = 0;
	if (jint(p, "session_id", &sid))
		snprintf(buf, size, "%lld", (long long)sid);
	else
		snprintf(buf, size, "-");
}

static int
cmd_whoami(int argc, char **argv)
{
	int r = parse_args(argc, argv, common_options, NULL, NULL, NULL, NULL, 0);
	if (r)
		return r;
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_call(BIOGATE_METHOD_WHO_AM_I, NULL, &msg, &p);
	if (r)
		return r;
	json_object *v = NULL;
	if (!json_object_object_get_ex(p, "in_session", &v) ||
	    !json_object_is_type(v, json_type_boolean))
		return ctl_fail_transport(-EBADMSG, NULL);
	bool in_session = json_object_get_boolean(v);
	if (arg.json) {
		print_json(p);
		return in_session ? CTL_EXIT_OK : CTL_EXIT_NEGATIVE;
	}
	if (!in_session) {
		puts(_("This command is not running inside a biogate login session."));
		return CTL_EXIT_NEGATIVE;
	}
	char sid[32];
	format_session_id(p, sid, sizeof(sid));
	Field f[] = {
		{ _("Session:"), text_clean(sid) },
		{ _("Matching ID:"), text_clean(jstr(p, "matching_id")) },
		{ _("Operator ID:"), text_clean(jstr(p, "operator_id")) },
		{ _("Role:"), text_clean(jstr(p, "role")) },
	};
	fields_print(f, sizeof(f) / sizeof(f[0]));
	return CTL_EXIT_OK;
}

const CtlVerb ctl_verb_whoami = {
	.verb = "whoami",
	.fn = cmd_whoami,
	.synopsis = "whoami",
	.summary = N_("Show the biogate session this command runs in (exit 1 outside any)"),
};

/* lock and logoff: the caller's own session, found by the daemon from peer credentials. */
static int
own_session_call(int argc, char **argv, bool logoff)
{
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	int r = ctl_query_noargs(argc, argv, logoff ? BIOGATE_METHOD_LOGOFF : BIOGATE_METHOD_LOCK,
	                         &msg, &p);
	if (r != CTL_PRINT_TEXT)
		return r;
	char sid[32];
	format_session_id(p, sid, sizeof(sid));
	/* TRANSLATORS: %s is a session number. */
	printf(logoff ? _("Ended session %s.\n") : _("Locked session %s.\n"), sid);
	return CTL_EXIT_OK;
}

static int
cmd_lock(int argc, char **argv)
{
	return own_session_call(argc, argv, false);
}

const CtlVerb ctl_verb_lock = {
	.verb = "lock",
	.fn = cmd_lock,
	.synopsis = "lock",
	.summary = N_("Lock the screen of your own session"),
};

static int
cmd_logoff(int argc, char **argv)
{
	return own_session_call(argc, argv, true);
}

const CtlVerb ctl_verb_logoff = {
	.verb = "logoff",
	.fn = cmd_logoff,
	.synopsis = "logoff",
	.summary = N_("End your own session"),
};
