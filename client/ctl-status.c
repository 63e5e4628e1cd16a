/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * biogatectl status: the service, the reader and the sensor; for an admin also the degraded
 * modes, where the keys come from, the audit chain head, the incidents of the current window
 * and the power-off time.
 */
#include <libintl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	const char *reader_state = reader ? jstr(reader, "state") : NULL;
	if (reader_state && strcmp(reader_state, "busy") == 0)
		/* Found but not opened: another program (fprintd) holds it; the sensor retries. */
		reader_text =
		    clean_printf(_("%s (driver %s), busy: held by another program, "
		                   "retrying"),
		                 jstr_or(reader, "name", "?"), jstr_or(reader, "driver", "?"));
	else if (!has_reader)
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
	size_t n = sizeof(f) / sizeof(f[0]);
	json_object *admin = NULL;
	if (!json_object_object_get_ex(p, "admin", &admin) ||
	    !json_object_is_type(admin, json_type_object)) {
		fields_print(f, n);
		return CTL_EXIT_OK;
	}
	/* An admin's call: what to know after installing. */
	char *degraded = NULL;
	size_t dlen = 0;
	FILE *d = open_memstream(&degraded, &dlen);
	json_object *dg = jarray(admin, "degraded");
	size_t nd = dg ? json_object_array_length(dg) : 0;
	for (size_t i = 0; d && i < nd; i++) {
		const char *w = json_object_get_string(json_object_array_get_idx(dg, i));
		fprintf(
		    d, "%s%s", i ? "; " : "",
		    w && strcmp(w, "no-logind") == 0
		        ? _("no logind: idle sessions cannot be locked and the day's end cannot "
		            "power off")
		    : w && strcmp(w, "no-udev") == 0 ? _("no udev: USB storage is not watched")
		                                     : (w ? w : "?"));
	}
	if (d && nd == 0)
		fputs(_("none"), d);
	char *deg = d ? memstream_clean(d, &degraded) : NULL;
	json_object *keys = NULL, *head = NULL;
	(void)json_object_object_get_ex(admin, "keys", &keys);
	(void)json_object_object_get_ex(admin, "audit_head", &head);
	const char *tk = keys ? jstr(keys, "template") : NULL,
	           *ak = keys ? jstr(keys, "audit") : NULL;
	const char *cred = _("systemd credential"), *file = _("file in the state directory");
	int64_t seq = 0;
	(void)jint(head, "seq", &seq);
	const char *mac = head ? jstr_or(head, "mac", "") : "";
	json_object *inc = jarray(admin, "incidents");
	size_t ni = inc ? json_object_array_length(inc) : 0;
	char *inc_text = NULL;
	size_t ilen = 0;
	FILE *fi = open_memstream(&inc_text, &ilen);
	if (fi)
		fprintf(fi, "%zu", ni);
	/* One entry per incident raised: shown once per rule and person, with its last count. */
	bool first = true;
	for (size_t i = 0; fi && i < ni; i++) {
		json_object *e = json_object_array_get_idx(inc, i);
		const char *rule = jstr_or(e, "rule", "?"), *mid = jstr_or(e, "matching_id", "");
		bool later = false;
		for (size_t j = i + 1; j < ni && !later; j++) {
			json_object *x = json_object_array_get_idx(inc, j);
			later = strcmp(jstr_or(x, "rule", "?"), rule) == 0 &&
			        strcmp(jstr_or(x, "matching_id", ""), mid) == 0;
		}
		if (later)
			continue;
		int64_t count = 0;
		(void)jint(e, "count", &count);
		fprintf(fi, "%s%s%s%s: %lld", first ? " (" : "; ", rule, mid[0] ? " " : "", mid,
		        (long long)count);
		first = false;
	}
	if (fi && ni)
		fputc(')', fi);
	char *incs = fi ? memstream_clean(fi, &inc_text) : NULL;
	const char *power = jstr(admin, "power_off_time");
	Field a[] = {
		{ _("Degraded:"), deg },
		{ _("Template key:"),
		  text_clean(tk ? (strcmp(tk, "credential") == 0 ? cred : file) : NULL) },
		{ _("Audit key:"),
		  text_clean(ak ? (strcmp(ak, "credential") == 0 ? cred : file) : NULL) },
		{ _("Audit chain head:"), clean_printf("#%lld %.16s", (long long)seq, mac) },
		{ _("Incidents in this window:"), incs },
		{ _("Power-off time:"), text_clean(power ? power : _("not set")) },
	};
	Field all[sizeof(f) / sizeof(f[0]) + sizeof(a) / sizeof(a[0])];
	memcpy(all, f, sizeof(f));
	memcpy(all + n, a, sizeof(a));
	fields_print(all, sizeof(all) / sizeof(all[0]));
	return CTL_EXIT_OK;
}

const CtlVerb ctl_verb_status = {
	.verb = "status",
	.fn = cmd_status,
	.synopsis = "status",
	.summary = N_("Show the service, the reader and the sensor"),
};
