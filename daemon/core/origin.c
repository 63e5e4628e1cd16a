/* SPDX-License-Identifier: GPL-2.0-or-later */
/* origin: see origin.h. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <json-c/json.h>

#include "log.h"
#include "manager.h"
#include "origin.h"
#include "record.h"

/* Whether s is a word of the space-separated list; a word ending in '*' is a prefix. */
static bool
origin_listed(const char *list, const char *s)
{
	const char *p = list;
	while (*p) {
		while (*p == ' ')
			p++;
		size_t n = strcspn(p, " ");
		if (n == 0)
			break;
		if (p[n - 1] == '*' ? strncmp(s, p, n - 1) == 0
		                    : strlen(s) == n && strncmp(s, p, n) == 0)
			return true;
		p += n;
	}
	return false;
}

const char *
origin_remote_reason(const Manager *m, const char *rhost, const char *service, const char *tty)
{
	if (rhost && rhost[0] && strcmp(rhost, m->terminal) != 0 &&
	    !origin_listed(m->config.local_rhosts, rhost))
		return "remote-host";
	if (service && origin_listed(m->config.remote_services, service))
		return "remote-service";
	if (tty) {
		const char *t = strncmp(tty, "/dev/", 5) == 0 ? tty + 5 : tty;
		if (origin_listed(m->config.remote_ttys, t) ||
		    origin_listed(m->config.remote_ttys, tty))
			return "remote-tty";
	}
	return NULL;
}

int
origin_check_session(Manager *m, Caller *c, const char *rhost, const char *service, const char *tty)
{
	const char *why = origin_remote_reason(m, rhost, service, tty);
	if (!why)
		return 0;
	json_object *d = json_object_new_object();
	if (rhost)
		json_object_object_add(d, "rhost", json_object_new_string(rhost));
	if (service)
		json_object_object_add(d, "service", json_object_new_string(service));
	if (tty)
		json_object_object_add(d, "tty", json_object_new_string(tty));
	log_info("Refused a session from a remote login (%s: rhost %s, service %s, tty %s)", why,
	         rhost ? rhost : "-", service ? service : "-", tty ? tty : "-");
	AuditRecord rec = { .action = "session.open",
		            .outcome = "deny",
		            .reason = why,
		            .detail = d ? json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN)
		                        : NULL };
	(void)record_append(m, c, &rec, NULL, NULL);
	json_object_put(d);
	return -EREMOTE;
}
