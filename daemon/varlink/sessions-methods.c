/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sessions-methods: io.biogate.Lock {} and Logoff {}, for a caller in a session (the table
 * refuses anyone else): lock or end the caller's own session.
 */
#include <errno.h>

#include "interface.h"
#include "manager.h"
#include "handlers.h"
#include "reply.h"
#include "sessions.h"

static void
sessions_reply_id(Conn *c, int64_t id)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "session_id", json_object_new_int64(id));
	conn_reply(c, o, false);
}

void
sessions_method_lock(Manager *m, Conn *c, json_object *params)
{
	StoreSession ss;
	if (!m->sessions || sessions_find_by_peer(m->sessions, conn_peer(c), &ss) < 0)
		return (void)conn_error(c, WIRE_ERR_NOT_PERMITTED, NULL);
	int r = sessions_lock(m->sessions, ss.id);
	if (r == -EOPNOTSUPP)
		return (void)conn_error(c, WIRE_ERR_CANNOT_LOCK, NULL);
	if (r < 0)
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	sessions_reply_id(c, ss.id);
}

void
sessions_method_logoff(Manager *m, Conn *c, json_object *params)
{
	StoreSession ss;
	if (!m->sessions || sessions_find_by_peer(m->sessions, conn_peer(c), &ss) < 0)
		return (void)conn_error(c, WIRE_ERR_NOT_PERMITTED, NULL);
	/* Answer first: ending the session may end the caller. */
	sessions_reply_id(c, ss.id);
	(void)sessions_logoff(m->sessions, ss.id, "logoff");
}
