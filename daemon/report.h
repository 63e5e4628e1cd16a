/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * report: R18, the monthly self-inspection report. Gathers a month's figures from the audit
 * trail, the roster, the room log and the incidents (logins per day, denials by reason,
 * violations, incidents, revocations, staff without pledge or training, chain verification)
 * into JSON, and renders the same data as one self-contained HTML page (tables, inline SVG
 * charts, a print stylesheet; no scripts, no external resources; every text HTML-escaped).
 */
#pragma once

#include <json-c/json.h>

#include "daemon.h"

/* Method handler wired into methods.c's table by the lead:
 *   io.biogate.MonthlyReport {month: "YYYY-MM", format: "json"|"html"} (more): admin;
 *   continues replies {chunk} (≤ 48 KiB of the document each), the last one {bytes}.
 *   Without "more": NotPermitted. The call is recorded ("report.monthly") before any chunk
 *   is sent. The document's keys: docs/report.md.
 */
void report_method_monthly(Manager *m, Conn *c, json_object *params);

/* The rendering (report_html.c), separate so that tests drive it with a JSON document and no
 * daemon. Missing or mistyped keys render as empty; -EINVAL when data is not an object. */
int report_render_html(json_object *data, char **ret_html, size_t *ret_len);
