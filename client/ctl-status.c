/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * biogatectl status: the service, the reader and the sensor.
 */
#include <libintl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "ctl-args.h"
#include "ctl-call.h"
#include "ctl-util.h"
#include "ctl-verbs.h"

static void
format_uptime(int64_t ms, char *buf, size_t size)
{
	int64_t s = ms / 1000;
	int64_t days = s / 86400;
	int h = (int)(s % 86400 / 3600), m = (int)(s % 3600 / 60), sec = (int)(s % 60);
	if (days > 0)
		snprintf(buf, size,
		         ngettext("%lld day, %02d:%02d:%02d", "%lld days, %02d:%02d:%02d",
		                  (unsigned long)days),
		         (long long)days, h, m, sec);
	else
		snprintf(buf, size, "%02d:%02d:%02d", h, m, sec);
}

static int
cmd_status(int argc, char **argv)
{
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	int r = ctl_query_noargs(argc, argv, BIOGATE_METHOD_GET_STATUS, &msg, &p);
	if (r != CTL_PRINT_TEXT)
		return r;

	json_object *reader = NULL;
	if (!json_object_object_get_ex(p, "reader", &reader) ||
	    !json_object_is_type(reader, json_type_object))
		reader = NULL;
	json_object *present = NULL;
	bool has_reader = reader && json_object_object_get_ex(reader, "present", &present) &&
	                  json_object_is_type(present, json_type_boolean) &&
	                  json_object_get_boolean(present);
	int64_t staff = -1, sessions = -1, uptime = -1, stages = 0;
	(void)jint(p, "staff", &staff);
	(void)jint(p, "open_sessions", &sessions);
	(void)jint(p, "uptime_ms", &uptime);
	char up[64] = "-";
	if (uptime >= 0)
		format_uptime(uptime, up, sizeof(up));

	char *reader_text;
	if (!has_reader)
		reader_text = clean_printf("%s", _("not connected"));
	else if (jint(reader, "enroll_stages", &stages) && stages > 0)
		reader_text = clean_printf(_("%s (driver %s), %lld scans to enroll"),
		                           jstr_or(reader, "name", "?"),
		                           jstr_or(reader, "driver", "?"), (long long)stages);
	else
		reader_text = clean_printf(_("%s (driver %s)"), jstr_or(reader, "name", "?"),
		                           jstr_or(reader, "driver", "?"));

	Field f[] = {
		{ _("Version:"), text_clean(jstr(p, "version")) },
		{ _("Reader:"), reader_text },
		{ _("Sensor:"), text_clean(word_label(jstr(p, "sensor"))) },
		{ _("Staff on the roster:"),
		  staff >= 0 ? clean_printf("%lld", (long long)staff) : text_clean(NULL) },
		{ _("Open sessions:"),
		  sessions >= 0 ? clean_printf("%lld", (long long)sessions) : text_clean(NULL) },
		{ _("Uptime:"), text_clean(up) },
	};
	fields_print(f, sizeof(f) / sizeof(f[0]));
	return CTL_EXIT_OK;
}

const CtlVerb ctl_verb_status = {
	.verb = "status",
	.fn = cmd_status,
	.synopsis = "status",
	.summary = N_("Show the service, the reader and the sensor"),
};
