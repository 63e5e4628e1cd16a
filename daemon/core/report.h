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

#include <stdbool.h>
#include <stddef.h>

#include "forward.h"

/* The data behind io.biogate.MonthlyReport {month: "YYYY-MM", format: "json"}: the
 * document (docs/report.md lists its keys) for a month report_valid_month() accepts. */
bool report_valid_month(const char *month);
int report_build(Manager *m, const char *month, json_object **ret);
/* Who produced which month's report, in the trail (R5): c's reply (the document's stream)
 * waits until the record is durable. */
void report_recorded(Manager *m, Caller *c, const char *month, const char *format);
