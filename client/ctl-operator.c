/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * biogatectl operator grant | revoke | set-role: an operator ID with a role for a person
 * (R2, R3), taken away, or given another role (issue 13). Revoking ends the open sessions of
 * that operator ID at once; a new role holds from the session's next request on.
 */
#include <getopt.h>

#include <json-c/json.h>

#include "ctl-args.h"
#include "ctl-call.h"
#include "ctl-util.h"
#include "ctl-verbs.h"
#include "interface.h"

static int
cmd_operator_grant(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{ "role", required_argument, NULL, OPT_ROLE },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const names[] = { "MATCHING_ID", "OPERATOR_ID" };
	const char *pos[2] = { NULL, NULL }, *role = NULL;
	int r = parse_args(argc, argv, opts, single_option, &role, names, pos, 2);
	if (r || (r = check_id(ID_MATCHING, pos[0])) || (r = check_id(ID_OPERATOR, pos[1])))
		return r;
	if (!role)
		return usage_errorf(_("the option --%s is required"), "role");
	if ((r = check_id(ID_ROLE, role)))
		return r;

	json_object *params = params_string("matching_id", pos[0]);
	if (!params)
		return fail_nomem();
	json_object_object_add(params, "operator_id", json_object_new_string(pos[1]));
	json_object_object_add(params, "role", json_object_new_string(role));
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_query(BIOGATE_METHOD_GRANT_OPERATOR, params, NULL, &msg, &p);
	if (r != CTL_PRINT_TEXT)
		return r;
	/* TRANSLATORS: operator ID, role, matching ID. */
	print_line(_("Granted operator ID %s (role %s) to %s."), jstr_or(p, "operator_id", pos[1]),
	           jstr_or(p, "role", role), jstr_or(p, "matching_id", pos[0]));
	return CTL_EXIT_OK;
}

const CtlVerb ctl_verb_operator_grant = {
	.verb = "operator",
	.sub = "grant",
	.fn = cmd_operator_grant,
	.synopsis = "operator grant MATCHING_ID OPERATOR_ID --role ROLE",
	.summary = N_("Give a person an operator ID with a role"),
};

static int
cmd_operator_revoke(int argc, char **argv)
{
	static const struct option opts[] = { COMMON_OPTIONS, { NULL, 0, NULL, 0 } };
	static const char *const names[] = { "MATCHING_ID", "OPERATOR_ID" };
	const char *pos[2] = { NULL, NULL };
	int r = parse_args(argc, argv, opts, NULL, NULL, names, pos, 2);
	if (r || (r = check_id(ID_MATCHING, pos[0])) || (r = check_id(ID_OPERATOR, pos[1])))
		return r;
	json_object *params = params_string("matching_id", pos[0]);
	if (!params)
		return fail_nomem();
	json_object_object_add(params, "operator_id", json_object_new_string(pos[1]));
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_query(BIOGATE_METHOD_REVOKE_OPERATOR, params, NULL, &msg, &p);
	if (r != CTL_PRINT_TEXT)
		return r;
	int64_t ended = 0;
	(void)jint(p, "sessions_ended", &ended);
	/* TRANSLATORS: operator ID, matching ID, number of sessions. */
	print_line(_("Revoked operator ID %s of %s; sessions ended: %lld."),
	           jstr_or(p, "operator_id", pos[1]), jstr_or(p, "matching_id", pos[0]),
	           (long long)ended);
	return CTL_EXIT_OK;
}

const CtlVerb ctl_verb_operator_revoke = {
	.verb = "operator",
	.sub = "revoke",
	.fn = cmd_operator_revoke,
	.synopsis = "operator revoke MATCHING_ID OPERATOR_ID",
	.summary = N_("Take one operator ID away (its open session ends at once)"),
};

static int
cmd_operator_set_role(int argc, char **argv)
{
	static const struct option opts[] = { COMMON_OPTIONS, { NULL, 0, NULL, 0 } };
	static const char *const names[] = { "MATCHING_ID", "OPERATOR_ID", "ROLE" };
	const char *pos[3] = { NULL, NULL, NULL };
	int r = parse_args(argc, argv, opts, NULL, NULL, names, pos, 3);
	if (r || (r = check_id(ID_MATCHING, pos[0])) || (r = check_id(ID_OPERATOR, pos[1])) ||
	    (r = check_id(ID_ROLE, pos[2])))
		return r;
	json_object *params = params_string("matching_id", pos[0]);
	if (!params)
		return fail_nomem();
	json_object_object_add(params, "operator_id", json_object_new_string(pos[1]));
	json_object_object_add(params, "role", json_object_new_string(pos[2]));
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_query(BIOGATE_METHOD_SET_OPERATOR_ROLE, params, NULL, &msg, &p);
	if (r != CTL_PRINT_TEXT)
		return r;
	/* TRANSLATORS: operator ID, matching ID, old role, new role. */
	print_line(_("Operator ID %s of %s: role %s -> %s."), jstr_or(p, "operator_id", pos[1]),
	           jstr_or(p, "matching_id", pos[0]), jstr_or(p, "old_role", "-"),
	           jstr_or(p, "role", pos[2]));
	return CTL_EXIT_OK;
}

const CtlVerb ctl_verb_operator_set_role = {
	.verb = "operator",
	.sub = "set-role",
	.fn = cmd_operator_set_role,
	.synopsis = "operator set-role MATCHING_ID OPERATOR_ID ROLE",
	.summary = N_("Give an operator ID another role (an open session acts under it from its "
	              "next request)"),
};
