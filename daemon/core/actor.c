/* SPDX-License-Identifier: GPL-2.0-or-later */
/* actor: see actor.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor.h"
#include "caller.h"
#include "sessions.h"

void
actor_describe(Manager *m, Caller *c, json_object *d)
{
	if (!c || !d)
		return;
	json_object_object_add(d, "by_uid", json_object_new_int64(c->peer.uid));
	if (c->peer.has_loginuid)
		json_object_object_add(d, "by_loginuid", json_object_new_int64(c->peer.loginuid));
	PeerSession ps;
	if (sessions_of_caller(m, c, &ps)) {
		json_object_object_add(d, "by_matching_id", json_object_new_string(ps.matching_id));
		json_object_object_add(d, "by_operator_id", json_object_new_string(ps.operator_id));
	}
}

void
actor_text(const Caller *c, char *buf, size_t size)
{
	if (c->peer.has_loginuid && c->peer.loginuid != c->peer.uid)
		snprintf(buf, size, "uid %u (login uid %u)", (unsigned)c->peer.uid,
		         (unsigned)c->peer.loginuid);
	else
		snprintf(buf, size, "uid %u", (unsigned)c->peer.uid);
}

char *
actor_detail(Manager *m, Caller *c)
{
	json_object *d = json_object_new_object();
	if (!d)
		return NULL;
	actor_describe(m, c, d);
	char *s = strdup(json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN));
	json_object_put(d);
	return s;
}
