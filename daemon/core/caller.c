/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * caller: see caller.h. Admin is decided from the kernel's credentials only.
 */
#include <grp.h>
#include <string.h>

#include "caller.h"
#include "manager.h"

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
