/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * report-methods: io.biogate.MonthlyReport {month: "YYYY-MM", format: "json"} (more):
 * admin; continues replies {chunk} (≤ 48 KiB of the document each), the last one {bytes}.
 * The page is rendered by biogatectl, unprivileged (client/report_html.c): the daemon sends
 * data only, so no HTML is built inside the privileged process.
 * Without "more": NotPermitted. The call is recorded ("report.monthly") before any chunk is
 * sent. The document's keys: docs/report.md.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "manager.h"
#include "handlers.h"
#include "reply.h"
#include "report.h"
#include "stream.h"

void
report_method_monthly(Manager *m, Conn *c, json_object *params)
{
	if (!m->audit)
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	/* The document comes as a stream of chunks; a call that cannot take one gets nothing. */
	if (!conn_wants_more(c))
		return (void)conn_error(c, WIRE_ERR_NOT_PERMITTED, NULL);
	const char *month = wire_str(params, "month");
	const char *format = wire_str(params, "format");
	if (!format || strcmp(format, "json") != 0)
		return reply_invalid(c, "format");
	if (!report_valid_month(month))
		return reply_invalid(c, "month");

	json_object *data = NULL;
	int r = report_build(m, month, &data);
	if (r < 0) {
		log_error_errno(r, "Monthly report %s failed: %m", month);
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	}
	const char *txt = json_object_to_json_string_ext(data, JSON_C_TO_STRING_PRETTY |
	                                                           JSON_C_TO_STRING_NOSLASHESCAPE);
	char *doc = txt ? strdup(txt) : NULL;
	size_t len = doc ? strlen(doc) : 0;
	r = doc ? 0 : -ENOMEM;
	json_object_put(data);
	if (r >= 0) {
		json_object *fin = json_object_new_object();
		json_object_object_add(fin, "bytes", json_object_new_int64((int64_t)len));
		r = stream_buffer(m, c, doc, len, fin);
	}
	if (r < 0) {
		log_error_errno(r, "Monthly report %s failed: %m", month);
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	}
	/* Nothing of the report reaches the caller before its record is durable. */
	report_recorded(m, conn_caller(c), month, "json");
}
