/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * biogatectl policy check [FILE]: reads a policy file and its drop-ins with the policy library
 * biogated itself loads them with (policy/), as `sshd -t` does, and prints what would be in
 * force, or the first error with its file and line. It talks to no daemon and changes
 * nothing: an administrator runs it before a restart, because a daemon that cannot load its
 * policy does not start and then nobody can log in.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl-args.h"
#include "ctl-util.h"
#include "ctl-verbs.h"
#include "policy.h"
/* The roles and action lists have no public iterator in policy.h; policy/ is the library
 * the daemon links, read here as it is without a copy of its rules. */
#include "policy-internal.h"

typedef struct PolicySource {
	Policy *policy;
	const char *path; /* NULL: the standard chain */
} PolicySource;

static void
policy_freep(Policy **p)
{
	policy_free(*p);
}

/* The names as one line "a b c", or "-" for none. */
static char *
names_line(const PolicyNameList *l)
{
	size_t size = 2;
	for (uint32_t i = 0; i < l->n; i++)
		size += strlen(l->names[i]) + 1;
	char *s = malloc(size);
	if (!s)
		return NULL;
	s[0] = '\0';
	for (uint32_t i = 0; i < l->n; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, l->names[i]);
	}
	if (l->n == 0)
		strcpy(s, "-");
	char *clean = text_clean(s);
	free(s);
	return clean;
}

static json_object *
names_json(const PolicyNameList *l)
{
	json_object *a = json_object_new_array();
	for (uint32_t i = 0; a && i < l->n; i++)
		json_object_array_add(a, json_object_new_string(l->names[i]));
	return a;
}

static const char *
yes_no(bool b)
{
	return b ? _("yes") : _("no");
}

/* A time in seconds for a person: "600 s", or the word for 0 where 0 turns a step off. */
static char *
seconds(uint32_t s, const char *zero)
{
	if (s == 0 && zero)
		return text_clean(zero);
	return clean_printf(_("%u s"), s);
}

static int
policy_print_json(const Policy *p, const char *path)
{
	const PolicySettings *s = policy_settings(p);
	_cleanup_(json_putp) json_object *o = json_object_new_object();
	json_object *roles = json_object_new_object();
	if (!o || !roles) {
		json_object_put(roles);
		return fail_nomem();
	}
	json_object_object_add(o, "path", path ? json_object_new_string(path) : NULL);
	json_object_object_add(o, "files", json_object_new_int64(policy_files_loaded(p)));
	for (uint32_t i = 0; i < p->n_roles; i++)
		json_object_object_add(roles, p->roles[i].name, names_json(&p->roles[i].actions));
	json_object_object_add(o, "roles", roles);
	json_object_object_add(o, "admin_role", json_object_new_string(s->admin_role));
	json_object_object_add(o, "admin_actions", names_json(&p->admin_actions));
	json_object_object_add(o, "admin_requires_session",
	                       json_object_new_boolean(s->admin_requires_session));
	json_object_object_add(o, "two_person_actions", names_json(&p->two_person));
	json_object_object_add(o, "search_actions", names_json(&p->search_actions));
	json_object *login = json_object_new_object();
	json_object_object_add(login, "require_pledge", json_object_new_boolean(s->require_pledge));
	json_object_object_add(login, "require_training",
	                       json_object_new_boolean(s->require_training));
	json_object_object_add(login, "require_shift", json_object_new_boolean(s->require_shift));
	json_object_object_add(login, "single_session", json_object_new_boolean(s->single_session));
	json_object_object_add(o, "login", login);
	json_object *lock = json_object_new_object();
	json_object_object_add(lock, "deny", json_object_new_int64(s->lockout_deny));
	json_object_object_add(lock, "fail_interval_sec",
	                       json_object_new_int64(s->lockout_interval_sec));
	json_object_object_add(lock, "unlock_time_sec",
	                       json_object_new_int64(s->lockout_unlock_sec));
	json_object_object_add(o, "lockout", lock);
	json_object *idle = json_object_new_object();
	json_object_object_add(idle, "lock_after_sec", json_object_new_int64(s->idle_lock_sec));
	json_object_object_add(idle, "logoff_after_sec", json_object_new_int64(s->idle_logoff_sec));
	json_object_object_add(idle, "warn_before_sec", json_object_new_int64(s->idle_warn_sec));
	json_object_object_add(o, "idle", idle);
	json_object *shift = json_object_new_object();
	json_object_object_add(shift, "warn_before_sec", json_object_new_int64(s->shift_warn_sec));
	char hm[8];
	snprintf(hm, sizeof(hm), "%02d:%02d", s->power_off_minute / 60 % 100,
	         s->power_off_minute % 60);
	json_object_object_add(shift, "power_off_time",
	                       s->power_off_minute < 0 ? NULL : json_object_new_string(hm));
	json_object_object_add(shift, "power_off_retry_sec",
	                       json_object_new_int64(s->power_off_retry_sec));
	json_object_object_add(o, "shift", shift);
	json_object_object_add(o, "audit_years", json_object_new_int64(s->retention_years));
	json_object *inc = json_object_new_object();
	json_object_object_add(inc, "notify",
	                       s->notify[0] ? json_object_new_string(s->notify) : NULL);
	json_object_object_add(inc, "window_sec", json_object_new_int64(s->incident_window_sec));
	json_object_object_add(inc, "forbidden_search_threshold",
	                       json_object_new_int64(s->forbidden_search_threshold));
	json_object_object_add(inc, "failed_match_threshold",
	                       json_object_new_int64(s->failed_match_threshold));
	json_object_object_add(o, "incidents", inc);
	print_json(o);
	return CTL_EXIT_OK;
}

static int
policy_print_text(const Policy *p, const char *path)
{
	const PolicySettings *s = policy_settings(p);
	unsigned files = policy_files_loaded(p);
	if (path)
		print_line(ngettext("%s and its drop-ins in %s.d: %u file applied",
		                    "%s and its drop-ins in %s.d: %u files applied", files),
		           path, path, files);
	else
		print_line(ngettext("The standard policy files: %u file applied",
		                    "The standard policy files: %u files applied", files),
		           files);

	putchar('\n');
	puts(_("Operator roles and their actions:"));
	if (p->n_roles == 0)
		printf("  %s\n", _("(none: every request is denied)"));
	size_t w = 0;
	for (uint32_t i = 0; i < p->n_roles; i++)
		if (text_width(p->roles[i].name) > w)
			w = text_width(p->roles[i].name);
	for (uint32_t i = 0; i < p->n_roles; i++) {
		_cleanup_(freep) char *name = text_clean(p->roles[i].name);
		_cleanup_(freep) char *acts = names_line(&p->roles[i].actions);
		fputs("  ", stdout);
		put_padded(name ? name : "?", w + 2);
		puts(acts ? acts : "?");
	}
	putchar('\n');

	char power[16];
	if (s->power_off_minute < 0)
		snprintf(power, sizeof(power), "%s", _("none"));
	else
		snprintf(power, sizeof(power), "%02d:%02d", s->power_off_minute / 60 % 100,
		         s->power_off_minute % 60);
	Field f[] = {
		{ _("Admin role:"), text_clean(s->admin_role) },
		{ _("Admin-only actions:"), names_line(&p->admin_actions) },
		{ _("Admin calls need an admin session:"),
		  text_clean(yes_no(s->admin_requires_session)) },
		{ _("Two-person actions:"), names_line(&p->two_person) },
		{ _("Actions that take a search key:"), names_line(&p->search_actions) },
		{ _("Login needs the pledge:"), text_clean(yes_no(s->require_pledge)) },
		{ _("Login needs the training:"), text_clean(yes_no(s->require_training)) },
		{ _("Login needs a shift:"), text_clean(yes_no(s->require_shift)) },
		{ _("One session per person:"), text_clean(yes_no(s->single_session)) },
		{ _("Lockout:"),
		  s->lockout_deny == 0 ? text_clean(_("off"))
		  : s->lockout_unlock_sec == 0
		      ? clean_printf(_("%u failed matches within %u s lock until an admin "
		                       "unlocks"),
		                     s->lockout_deny, s->lockout_interval_sec)
		      : clean_printf(_("%u failed matches within %u s lock for %u s"),
		                     s->lockout_deny, s->lockout_interval_sec,
		                     s->lockout_unlock_sec) },
		{ _("Idle: lock after:"), seconds(s->idle_lock_sec, _("never")) },
		{ _("Idle: log off after:"), seconds(s->idle_logoff_sec, _("never")) },
		{ _("Idle: warn before:"), seconds(s->idle_warn_sec, _("no warning")) },
		{ _("Shift: warn before the end:"), seconds(s->shift_warn_sec, _("no warning")) },
		{ _("Power off at:"), text_clean(power) },
		{ _("Power off: retry every:"), seconds(s->power_off_retry_sec, NULL) },
		{ _("Audit trail kept:"),
		  clean_printf(ngettext("%u year", "%u years", s->retention_years),
		               s->retention_years) },
		{ _("Incidents: notify:"), text_clean(s->notify[0] ? s->notify : _("nobody")) },
		{ _("Incidents: window:"), seconds(s->incident_window_sec, NULL) },
		{ _("Incidents: forbidden searches:"),
		  clean_printf("%u", s->forbidden_search_threshold) },
		{ _("Incidents: failed matches:"), clean_printf("%u", s->failed_match_threshold) },
	};
	fields_print(f, sizeof(f) / sizeof(f[0]));
	return CTL_EXIT_OK;
}

static int
cmd_policy_check(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	/* FILE is optional, which parse_args() does not do. */
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		int r = getopt_failure(c, argv);
		if (r)
			return r;
		r = common_option(c, optarg);
		if (r == -1)
			return usage_errorf(_("unrecognized option '%s'"), argv[optind - 1]);
		if (r > 0)
			return r;
	}
	if (argc - optind > 1)
		return usage_errorf(_("unexpected argument '%s'"), argv[optind + 1]);
	const char *path = argc - optind == 1 ? argv[optind] : NULL;
	if (path && !*path)
		return usage_errorf(_("the policy file name must not be empty"));

	char err[512] = "";
	_cleanup_(policy_freep) Policy *p = NULL;
	int r = policy_load(path, &p, err, sizeof(err));
	if (r == -ENOMEM)
		return fail_nomem();
	if (r < 0) {
		/* As the daemon would log it: "FILE:LINE: what", the first error of the file. */
		if (arg.json)
			print_json_error("PolicyInvalid");
		_cleanup_(freep) char *clean = text_clean(err[0] ? err : strerror(-r));
		fprintf(stderr, "%s: %s\n", CTL_NAME, clean ? clean : "?");
		return CTL_EXIT_NEGATIVE;
	}
	if (policy_files_loaded(p) == 0) {
		if (arg.json)
			print_json_error("PolicyMissing");
		fprintf(stderr, "%s: %s\n", CTL_NAME,
		        _("no policy file was found: biogated would deny every request"));
		return CTL_EXIT_NEGATIVE;
	}
	return arg.json ? policy_print_json(p, path) : policy_print_text(p, path);
}

const CtlVerb ctl_verb_policy_check = {
	.verb = "policy",
	.sub = "check",
	.fn = cmd_policy_check,
	.synopsis = "policy check [FILE]",
	.summary = N_("Check a policy file and its drop-ins (FILE.d/*.conf), or without FILE the "
	              "standard ones, as biogated would load them, and print what would be in "
	              "force; exit 1 with the file and line of the first error"),
};
