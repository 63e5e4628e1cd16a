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
 */
void report_method_monthly(Manager *m, Conn *c, json_object *params);

/* The rendering, separate so that tests drive it with a JSON document and no daemon. */
int report_render_html(json_object *data, char **ret_html, size_t *ret_len);
