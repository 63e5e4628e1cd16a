/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * biogatectl usb allow|revoke|list: removable storage on this terminal (R15).
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl-args.h"
#include "ctl-call.h"
#include "ctl-util.h"
#include "ctl-verbs.h"

/* The daemon's limits (daemon/devices.h). */
#define USB_SERIAL_MAX 126
#define USB_NOTE_MAX   256

/* A USB serial as the daemon compares it: printable ASCII without spaces. */
static int
check_serial(const char *s)
{
	size_t n = strlen(s);
	bool ok = n >= 1 && n <= USB_SERIAL_MAX;
	for (size_t i = 0; ok && i < n; i++)
		ok = s[i] > 0x20 && s[i] < 0x7f;
	if (ok)
		return 0;
	return usage_errorf(_("invalid serial number '%s': 1 to %d printable ASCII characters "
	                      "without spaces"),
	                    s, USB_SERIAL_MAX);
}

typedef struct UsbArgs {
	const char *note;
} UsbArgs;

static int
usb_option(int c, const char *value, void *userdata)
{
	UsbArgs *a = userdata;
	if (c != OPT_NOTE)
		return -1;
	a->note = value;
	return 0;
}

static int
usb_change(int argc, char **argv, bool allow)
{
	static const struct option allow_opts[] = {
		COMMON_OPTIONS,
		{ "note", required_argument, NULL, OPT_NOTE },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const names[] = { "SERIAL" };
	UsbArgs a = { 0 };
	const char *serial = NULL;
	int r = parse_args(argc, argv, allow ? allow_opts : common_options, usb_option, &a, names,
	                   &serial, 1);
	if (r || (r = check_serial(serial)) ||
	    (r = check_text("note", a.note, USB_NOTE_MAX, false)))
		return r;
	json_object *params = params_string("serial", serial);
	if (!params)
		return fail_nomem();
	if (a.note)
		json_object_object_add(params, "note", json_object_new_string(a.note));
	if ((r = params_check_utf8(params)))
		return r;
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_query(allow ? BIOGATE_METHOD_USB_ALLOW : BIOGATE_METHOD_USB_REVOKE, params, NULL,
	              &msg, &p);
	if (r != CTL_PRINT_TEXT)
		return r;
	_cleanup_(freep) char *clean = text_clean(serial);
	if (allow)
		/* TRANSLATORS: %s is a USB serial number. */
		printf(_("USB storage with serial %s is now allowed on this terminal.\n"),
		       clean ? clean : "?");
	else
		/* TRANSLATORS: %s is a USB serial number. */
		printf(_("USB storage with serial %s is no longer allowed; it stays blocked.\n"),
		       clean ? clean : "?");
	return CTL_EXIT_OK;
}

static int
cmd_usb_allow(int argc, char **argv)
{
	return usb_change(argc, argv, true);
}

const CtlVerb ctl_verb_usb_allow = {
	.verb = "usb",
	.sub = "allow",
	.fn = cmd_usb_allow,
	.synopsis = "usb allow SERIAL [--note TEXT]",
	.summary = N_("Allow one USB storage device on this terminal by its serial number"),
};

static int
cmd_usb_revoke(int argc, char **argv)
{
	return usb_change(argc, argv, false);
}

const CtlVerb ctl_verb_usb_revoke = {
	.verb = "usb",
	.sub = "revoke",
	.fn = cmd_usb_revoke,
	.synopsis = "usb revoke SERIAL",
	.summary = N_("Withdraw a USB storage device's permission"),
};

/* One allowed device, for usb list. */
static int
usb_allowed_row(Table *t, json_object *e)
{
	char when[64];
	format_time(e, "allowed_at", when, sizeof(when));
	const char *note = jstr(e, "note");
	if (table_add(t, jstr(e, "serial")) < 0 || table_add(t, when) < 0 ||
	    table_add(t, note && *note ? note : "-") < 0)
		return -1;
	return 0;
}

/* One attempt to plug a device in, for usb list. */
static int
usb_attempt_row(Table *t, json_object *e)
{
	char when[64];
	format_time(e, "time", when, sizeof(when));
	const char *v = jstr(e, "vendor"), *pr = jstr(e, "product");
	_cleanup_(freep) char *dev = NULL;
	if (asprintf(&dev, "%s:%s", v ? v : "?", pr ? pr : "?") < 0)
		dev = NULL;
	if (!dev || table_add(t, when) < 0 || table_add(t, jstr(e, "serial")) < 0 ||
	    table_add(t, dev) < 0 || table_add(t, word_label(jstr(e, "outcome"))) < 0 ||
	    table_add(t, word_label(jstr(e, "reason"))) < 0)
		return -1;
	return 0;
}

static int
usb_list_print(json_object *allowed, json_object *attempts)
{
	const char *allowed_head[] = { _("SERIAL"), _("ALLOWED AT"), _("NOTE") };
	int r = table_list(allowed, _("No USB storage device is allowed: every one is blocked."),
	                   allowed_head, 3, usb_allowed_row);
	if (r)
		return r;
	putchar('\n');
	if (json_object_array_length(attempts) > 0)
		puts(_("Attempts (newest last):"));
	const char *head[] = { _("TIME"), _("SERIAL"), _("DEVICE"), _("OUTCOME"), _("REASON") };
	return table_list(attempts,
	                  _("No USB storage device was plugged in during the last 30 days."), head,
	                  5, usb_attempt_row);
}

static int
cmd_usb_list(int argc, char **argv)
{
	int r = parse_args(argc, argv, common_options, NULL, NULL, NULL, NULL, 0);
	if (r)
		return r;
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_call(BIOGATE_METHOD_USB_LIST, NULL, &msg, &p);
	if (r)
		return r;
	json_object *allowed = jarray(p, "allowed"), *attempts = jarray(p, "attempts");
	if (!allowed || !attempts)
		return ctl_fail_transport(-EBADMSG, NULL);
	if (arg.json)
		print_json(p);
	else if ((r = usb_list_print(allowed, attempts)))
		return r;
	if (!jbool(p, "allowlist_ok"))
		fprintf(stderr, "%s: %s\n", CTL_NAME,
		        _("the allow-list file could not be read: every device stays blocked and "
		          "it cannot be changed until it is repaired or removed (see the service's "
		          "log)"));
	if (!jbool(p, "watching"))
		fprintf(stderr, "%s: %s\n", CTL_NAME,
		        _("the service is not watching USB devices here (no udev): the udev rule "
		          "alone keeps storage blocked"));
	if (jbool(p, "attempts_truncated"))
		fprintf(stderr, "%s: %s\n", CTL_NAME,
		        _("more attempts were recorded than are shown: see audit list --action "
		          "usb.attempt"));
	return CTL_EXIT_OK;
}

const CtlVerb ctl_verb_usb_list = {
	.verb = "usb",
	.sub = "list",
	.fn = cmd_usb_list,
	.synopsis = "usb list",
	.summary =
	    N_("List the allowed USB storage devices and the recent attempts to plug one in"),
};
