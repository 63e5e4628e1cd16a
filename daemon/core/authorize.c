/* SPDX-License-Identifier: GPL-2.0-or-later */
/* authorize: see authorize.h. The hot path: nothing here allocates but the record. */
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "authorize.h"
#include "incidents.h"
#include "interface.h"
#include "manager.h"
#include "sessions.h"
#include "record.h"
#include "refusals.h"

/* Action names cross the wire under the interface's limit. */
_Static_assert(POLICY_MAX_NAME == BIOGATE_NAME_MAX, "policy and interface name limits differ");

void
authorize_decide(Manager *m, Caller *c, const char *action, const char *key, size_t key_len,
                 AuthorizeResult *ret)
{
	*ret = (AuthorizeResult){ 0 };
	PeerSession *s = &ret->session;
	bool in_session = ret->in_session = sessions_of_caller(m, c, s);

	PolicyRequest req = { .in_session = in_session,
		              .role = in_session ? s->role : NULL,
		              .action = action,
		              .key = key,
		              .key_len = key_len };
	char norm[16] = "";
	PolicyKeyClass kc = POLICY_KEY_GARBAGE;
	PolicyDecision d = ret->decision =
	    policy_authorize(m->policy, &req, norm, sizeof(norm), &kc);

	/* The key is never stored: only its HMAC, so an auditor can later ask whether a number
	 * was searched (R11, R19). */
	char hmac[65] = "";
	if (key && norm[0] && m->audit)
		(void)audit_key_hmac(m->audit, norm, hmac);
	explicit_bzero(norm, sizeof(norm));

	const char *reason = policy_reason_name(d.reason);
	char raction[POLICY_MAX_NAME + 16];
	snprintf(raction, sizeof(raction), "authorize.%s", action);
	/* A refusal of a caller without a session beyond its budget is only counted for the
	 * window's summary (refusals.h), and raises no incident of its own: the ones recorded
	 * in full this window already did. */
	if (!in_session && !d.allow &&
	    !refusals_admit(m->refusals, c->peer.uid, raction, d.violation))
		return;
	AuditRecord rec = {
		.matching_id = in_session ? s->matching_id : NULL,
		.operator_id = in_session ? s->operator_id : NULL,
		.action = raction,
		.outcome = d.allow       ? "allow"
		           : d.violation ? "violation"
		                         : "deny",
		.reason = reason,
		.key_hmac = hmac[0] ? hmac : NULL,
	};
	(void)record_append(m, c, &rec, NULL, NULL);
	/* R17: a search refused for its key counts toward forbidden-searches; a resident
	 * record code is an incident by itself. */
	bool key_refused = d.reason == POLICY_KEY_INVALID || d.reason == POLICY_KEY_CHECK_DIGIT ||
	                   d.reason == POLICY_KEY_RESIDENT_RECORD_CODE ||
	                   d.reason == POLICY_KEY_CORPORATE_NUMBER;
	if (!d.allow && key_refused) {
		char situation[128];
		snprintf(situation, sizeof(situation), "%s refused: %s", action, reason);
		const char *mid = in_session ? s->matching_id : NULL;
		const char *oid = in_session ? s->operator_id : NULL;
		if (d.violation)
			incidents_note(m->incidents, INCIDENT_RESIDENT_CODE_SEARCH, mid, oid,
			               situation);
		incidents_note(m->incidents, INCIDENT_FORBIDDEN_SEARCHES, mid, oid, situation);
	}
}
