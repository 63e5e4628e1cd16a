/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * authorize: R2 and R11, the decision an application asks for before it shows a screen or
 * searches by a key: the caller's session and role, the policy, and the key's class. Every
 * decision is an audit record (with the key's HMAC, never the key); a key refused for what
 * it is counts toward an incident (R17). The caller's reply waits for the record.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "caller.h"
#include "forward.h"
#include "policy.h"

typedef struct AuthorizeResult {
	PolicyDecision decision;
	bool in_session;
	PeerSession session; /* when in_session: operator ID and role */
} AuthorizeResult;

/* key may be NULL (no key searched). Never fails: the answer is in ret. */
void authorize_decide(Manager *m, Caller *c, const char *action, const char *key, size_t key_len,
                      AuthorizeResult *ret);
