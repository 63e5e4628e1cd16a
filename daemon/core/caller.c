/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * caller: see caller.h. Admin is decided from the kernel's credentials only; the session
 * from the store and the live session table.
 */
#include <grp.h>
#include <string.h>

#include "caller.h"
#include "manager.h"
#include "sessions.h"
#include "store.h"

bool
caller_is_admin(const Manager *m, const Caller *c)
{
	const Peer *p = &c->peer;
	if (p->uid == 0)
		return true;
	char buf[4096];
	struct group gr, *res = NULL;
	if (getgrnam_r(m->config.admin_group, &gr, buf, sizeof(buf), &res) != 0 || !res)
		return false;
	if (p->gid == res->gr_gid)
		return true;
	for (int i = 0; i < p->n_groups; i++)
		if (p->groups[i] == res->gr_gid)
			return true;
	return false;
}

bool
caller_session(Manager *m, Caller *c, PeerSession *ret)
{
	PeerSession *ps = &c->session;
	if (ps->known && sessions_is_open(m->sessions, ps->session_id)) {
		*ret = *ps;
		return true;
	}
	ps->known = false;
	StoreSession s;
	char role[WIRE_MAX_ID + 1] = "";
	if (sessions_find_by_peer(m->sessions, &c->peer, &s) < 0 ||
	    store_operator_role(m->store, s.matching_id, s.operator_id, role) < 0)
		return false;
	*ps = (PeerSession){ .known = true, .session_id = s.id };
	memcpy(ps->matching_id, s.matching_id, sizeof(ps->matching_id));
	memcpy(ps->operator_id, s.operator_id, sizeof(ps->operator_id));
	memcpy(ps->role, role, sizeof(ps->role));
	*ret = *ps;
	return true;
}
