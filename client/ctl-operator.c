/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * biogatectl operator grant: an operator ID with a role for a person (R2, R3).
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
