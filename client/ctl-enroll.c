/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * biogatectl enroll and verify: a finger on the reader, with the prompts the daemon
 * streams. A verification ticket is never printed.
 */
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
#include "interface.h"

static void
enroll_progress(json_object *p)
{
	int64_t stage = 0, stages = 0;
	const char *pr = jstr(p, "prompt");
	/* A confirmer's prompt names them (two-person enrollment, R13). */
	if (pr && jstr(p, "matching_id")) {
		confirm_progress(p);
		return;
	}
	if (pr && strcmp(pr, "retry") == 0) {
		prompt(_("The finger was not read; place it on the reader again"));
		return;
	}
	if (pr && strcmp(pr, "place-finger") == 0) {
		prompt(_("Place your finger on the reader"));
		return;
	}
	if (!jint(p, "stage", &stage) || !jint(p, "stages", &stages) || stage < 0 || stages < 1 ||
	    stage > stages || stages > 100)
		return;
	FILE *f = prompt_out();
	if (stage < stages)
		fprintf(f, _("Touch the reader again (%lld left)\n"), (long long)(stages - stage));
	else
		fprintf(f, _("All %lld scans taken; saving the fingerprint\n"), (long long)stages);
	fflush(f);
}

typedef struct EnrollArgs {
	const char *finger;
	ConfirmArgs confirm;
} EnrollArgs;

static int
enroll_option(int c, const char *value, void *userdata)
{
	EnrollArgs *a = userdata;
	if (c == OPT_FINGER) {
		a->finger = value;
		return 0;
	}
	if (c == OPT_CONFIRM_BY)
		return confirm_option(&a->confirm, value);
	return -1;
}

static int
cmd_enroll(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{ "finger", required_argument, NULL, OPT_FINGER },
		{ "confirm-by", required_argument, NULL, OPT_CONFIRM_BY },
		{ NULL, 0, NULL, 0 },
	};
	EnrollArgs a = { 0 };
	const char *id = NULL;
	int r = parse_matching_id(argc, argv, opts, enroll_option, &a, &id);
	if (r)
		return r;
	const char *finger = a.finger;
	if (!finger)
		return usage_errorf(_("the option --%s is required"), "finger");
	if (!finger_known(finger))
		return usage_errorf(_("unknown finger '%s'; use one of: left-thumb, left-index, "
		                      "left-middle, left-ring, left-little, right-thumb, "
		                      "right-index, right-middle, right-ring, right-little"),
		                    finger);

	json_object *params = params_string("matching_id", id);
	if (!params)
		return fail_nomem();
	json_object_object_add(params, "finger", json_object_new_string(finger));
	confirm_params(&a.confirm, params);
	FILE *f = prompt_out();
	/* TRANSLATORS: the first %s is a finger ("right index finger"), the second a
	 * matching ID. */
	fprintf(f, _("Enrolling the %s of %s. Touch the reader with that finger.\n"),
	        finger_label(finger), id);
	fflush(f);

	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_query(BIOGATE_METHOD_ENROLL, params, enroll_progress, &msg, &p);
	if (r != CTL_PRINT_TEXT)
		return r;
	const char *done_finger = jstr(p, "finger");
	/* TRANSLATORS: the first %s is a finger, the second a matching ID. */
	print_line(_("Enrolled the %s of %s."), finger_label(done_finger ? done_finger : finger),
	           jstr_or(p, "matching_id", id));
	return CTL_EXIT_OK;
}

const CtlVerb ctl_verb_enroll = {
	.verb = "enroll",
	.fn = cmd_enroll,
	.synopsis = "enroll MATCHING_ID --finger FINGER [--confirm-by ID]...",
	.summary = N_("Enroll one finger of a person; FINGER is left-thumb, left-index, ..., "
	              "right-little"),
};

static void
verify_progress(json_object *p)
{
	const char *pr = jstr(p, "prompt");
	if (!pr)
		return;
	if (strcmp(pr, "place-finger") == 0)
		prompt(_("Place your finger on the reader"));
	else if (strcmp(pr, "retry") == 0)
		prompt(_("The finger was not read; place it on the reader again"));
}

static int
cmd_verify(int argc, char **argv)
{
	const char *id = NULL;
	json_object *params = NULL;
	int r = matching_id_params(argc, argv, &id, &params);
	if (r)
		return r;
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_call_stream(BIOGATE_METHOD_VERIFY, params, verify_progress, &msg, &p);
	if (r)
		return r;
	/* The ticket opens a login session; a command line has no use for it and must not
	 * leave it in a terminal's scrollback or a script's log. */
	json_object_object_del(p, "ticket");
	if (arg.json) {
		print_json(p);
		return CTL_EXIT_OK;
	}
	print_line(_("The fingerprint matches %s."), jstr_or(p, "matching_id", id));
	return CTL_EXIT_OK;
}

const CtlVerb ctl_verb_verify = {
	.verb = "verify",
	.fn = cmd_verify,
	.synopsis = "verify MATCHING_ID",
	.summary = N_("Check a finger against a person's enrolled fingerprint"),
};

static int
finger_delete_option(int c, const char *value, void *userdata)
{
	(void)value;
	if (c != OPT_FORCE)
		return -1;
	*(bool *)userdata = true;
	return 0;
}

static int
cmd_finger_delete(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{ "force", no_argument, NULL, OPT_FORCE },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const names[] = { "MATCHING_ID", "FINGER" };
	const char *pos[2] = { NULL, NULL };
	bool force = false;
	int r = parse_args(argc, argv, opts, finger_delete_option, &force, names, pos, 2);
	if (r || (r = check_id(ID_MATCHING, pos[0])))
		return r;
	if (!finger_known(pos[1]))
		return usage_errorf(_("unknown finger '%s'; use one of: left-thumb, left-index, "
		                      "left-middle, left-ring, left-little, right-thumb, "
		                      "right-index, right-middle, right-ring, right-little"),
		                    pos[1]);
	json_object *params = params_string("matching_id", pos[0]);
	if (!params)
		return fail_nomem();
	json_object_object_add(params, "finger", json_object_new_string(pos[1]));
	if (force)
		json_object_object_add(params, "force", json_object_new_boolean(true));
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_query(BIOGATE_METHOD_DELETE_FINGER, params, NULL, &msg, &p);
	if (r != CTL_PRINT_TEXT)
		return r;
	/* TRANSLATORS: the first %s is a finger, the second a matching ID. */
	print_line(_("Deleted the %s of %s: its template is erased."), finger_label(pos[1]),
	           jstr_or(p, "matching_id", pos[0]));
	return CTL_EXIT_OK;
}

const CtlVerb ctl_verb_finger_delete = {
	.verb = "finger",
	.sub = "delete",
	.fn = cmd_finger_delete,
	.synopsis = "finger delete MATCHING_ID FINGER [--force]",
	.summary = N_("Erase one enrolled finger (as revocation erases it); the last finger of a "
	              "person only with --force"),
};
