/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * authorize-methods: io.biogate.WhoAmI {} and io.biogate.Authorize {action, key?} (anyone):
 * the caller's session, and the policy's decision for an action (R2, R11).
 */
#include "authorize.h"
#include "manager.h"
#include "sessions.h"
#include "handlers.h"

void
authorize_method_whoami(Manager *m, Conn *c, json_object *params)
{
	PeerSession ps;
	json_object *o = json_object_new_object();
	bool in = sessions_of_caller(m, conn_caller(c), &ps);
	json_object_object_add(o, "in_session", json_object_new_boolean(in));
	if (in) {
		json_object_object_add(o, "session_id", json_object_new_int64(ps.session_id));
		json_object_object_add(o, "matching_id", json_object_new_string(ps.matching_id));
		json_object_object_add(o, "operator_id", json_object_new_string(ps.operator_id));
		json_object_object_add(o, "role", json_object_new_string(ps.role));
	}
	conn_reply(c, o, false);
}

void
authorize_method_authorize(Manager *m, Conn *c, json_object *params)
{
	const char *action = wire_str(params, "action");
	json_object *kj = NULL;
	const char *key = NULL;
	size_t key_len = 0;
	if (json_object_object_get_ex(params, "key", &kj)) {
		key = json_object_get_string(kj);
		key_len = (size_t)json_object_get_string_len(kj);
	}
	AuthorizeResult a;
	authorize_decide(m, conn_caller(c), action, key, key_len, &a);
	const PolicyDecision *d = &a.decision;
	json_object *o = json_object_new_object();
	json_object_object_add(o, "allow", json_object_new_boolean(d->allow));
	json_object_object_add(o, "reason", json_object_new_string(policy_reason_name(d->reason)));
	json_object_object_add(o, "action", json_object_new_string(action));
	json_object_object_add(o, "violation", json_object_new_boolean(d->violation));
	if (a.in_session) {
		json_object_object_add(o, "operator_id",
		                       json_object_new_string(a.session.operator_id));
		json_object_object_add(o, "role", json_object_new_string(a.session.role));
	}
	conn_reply(c, o, false);
}
