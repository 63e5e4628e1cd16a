/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * devices-methods: io.biogate.UsbAllow {serial, note?}, UsbRevoke {serial}, UsbList {} (admin).
 * Errors: AlreadyExists, NotFound, InvalidParameter (serial), InternalError (allow-list
 * unreadable, full or not writable; the log says which).
 */
#include <errno.h>

#include "devices.h"
#include "interface.h"
#include "manager.h"
#include "handlers.h"
#include "reply.h"

static void
devices_method_change(Manager *m, Conn *c, json_object *params, bool allow)
{
	const InterfaceMethod *t = allow ? &iface_usb_allow : &iface_usb_revoke;
	const char *bad = NULL;
	if (wire_check(params, t->fields, t->n_fields, &bad) < 0)
		return reply_invalid(c, bad);
	json_object *o = NULL;
	int r = devices_change(m, conn_caller(c), wire_str(params, "serial"),
	                       allow ? wire_str(params, "note") : NULL, allow, &bad, &o);
	if (r == -EINVAL)
		return reply_invalid(c, bad);
	if (r < 0)
		return reply_errno(c, r);
	conn_reply(c, o, false);
}

void
devices_method_allow(Manager *m, Conn *c, json_object *params)
{
	devices_method_change(m, c, params, true);
}

void
devices_method_revoke(Manager *m, Conn *c, json_object *params)
{
	devices_method_change(m, c, params, false);
}

void
devices_method_list(Manager *m, Conn *c, json_object *params)
{
	conn_reply(c, devices_list_json(m), false);
}
