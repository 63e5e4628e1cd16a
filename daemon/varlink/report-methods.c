/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * report-methods: io.biogate.MonthlyReport {month: "YYYY-MM", format: "json"|"html"} (more):
 * admin; continues replies {chunk} (≤ 48 KiB of the document each), the last one {bytes}.
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
	bool html = format && strcmp(format, "html") == 0;
	if (!html && !(format && strcmp(format, "json") == 0))
		return reply_invalid(c, "format");
	if (!report_valid_month(month))
		return reply_invalid(c, "month");

	json_object *data = NULL;
	int r = report_build(m, month, &data);
	if (r < 0) {
		log_error_errno(r, "Monthly report %s failed: %m", month);
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	}
	char *doc = NULL;
	size_t len = 0;
	if (html)
		r = report_render_html(data, &doc, &len);
	else {
		const char *txt = json_object_to_json_string_ext(
		    data, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
		doc = txt ? strdup(txt) : NULL;
		len = doc ? strlen(doc) : 0;
		r = doc ? 0 : -ENOMEM;
	}
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
	report_recorded(m, conn_caller(c), month, html ? "html" : "json");
}
