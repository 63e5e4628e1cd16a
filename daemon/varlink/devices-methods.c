/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * devices-methods: io.biogate.UsbAllow {serial, note?}, UsbRevoke {serial}, UsbList {} (admin);
 * UsbAttempt (root: the udev-started helper).
 * Errors: AlreadyExists, NotFound, InvalidParameter (serial), InternalError (allow-list
 * unreadable, full or not writable; the log says which).
 */
#include <errno.h>
#include <string.h>

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

/* UsbAttempt {phase: "plugged"|"authorized", interface, serial?, vendor, product, applied?,
 * error?} (root: biogate-usb-authorize) -> {allow, reason}; NotPermitted when an authorized
 * interface's serial is no longer allowed. */
void
devices_method_attempt(Manager *m, Conn *c, json_object *params)
{
	const char *bad = NULL;
	if (wire_check(params, iface_usb_attempt.fields, iface_usb_attempt.n_fields, &bad) < 0)
		return reply_invalid(c, bad);
	const char *phase = wire_str(params, "phase");
	bool authorized = strcmp(phase, "authorized") == 0;
	if (!authorized && strcmp(phase, "plugged") != 0)
		return reply_invalid(c, "phase");
	DevicesAttempt a = {
		.interface = wire_str(params, "interface"),
		.serial = wire_str(params, "serial"),
		.vendor = wire_str(params, "vendor"),
		.product = wire_str(params, "product"),
		.authorized_phase = authorized,
		.applied = wire_bool(params, "applied", false),
		.error = wire_str(params, "error"),
	};
	bool allow = false;
	const char *reason = NULL;
	int r = devices_attempt(m, conn_caller(c), &a, &allow, &reason, &bad);
	if (r == -EINVAL)
		return reply_invalid(c, bad);
	if (r < 0)
		return reply_errno(c, r);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "allow", json_object_new_boolean(allow));
	json_object_object_add(o, "reason", json_object_new_string(reason));
	conn_reply(c, o, false);
}
