/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * report_html: the monthly self-inspection report (R18) as one self-contained HTML page,
 * rendered from the report's JSON document (docs/report.md). biogatectl renders it, without
 * privileges, from the document the daemon sends; it needs json-c and libc only, so tests
 * drive it with a document and no daemon.
 */
#pragma once

#include <stddef.h>

#include <json-c/json.h>

/* Missing or mistyped keys render as empty; -EINVAL when data is not an object, -ENOMEM. On
 * success *ret_html is the page (NUL-terminated, caller frees) and *ret_len its length. */
int report_render_html(json_object *data, char **ret_html, size_t *ret_len);
