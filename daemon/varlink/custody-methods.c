/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * custody-methods: the Varlink face of custody (core/custody.h). Actions the policy lists
 * under [two-person] run after the confirmers named in "confirm_by" have put their finger
 * on the reader; the call must ask for "more" to receive the prompts.
 *
 *   io.biogate.Revoke {matching_id, reason: departed|transferred, confirm_by?}
 *   io.biogate.StaffNationality {matching_id, purpose, confirm_by?}
 *   io.biogate.StaffHistory {matching_id}
 *   io.biogate.DisposalPlan {items, media, count, method, planned_date}
 *   io.biogate.DisposalApprove {disposal_id, confirm_by?}
 *   io.biogate.DisposalExecute {disposal_id}
 *   io.biogate.DisposalReport {disposal_id, format?: json|html}
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "custody.h"
#include "manager.h"
#include "handlers.h"
#include "reply.h"

static json_object *
obj1(const char *key, json_object *val)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, key, val);
	return o;
}

/* --- the two-person confirmation, with the connection kept here ----------------------- */

typedef struct Confirmation {
	Manager *m;
	Conn *c;
	json_object *params;
	ConfirmedFn then;
	CustodyConfirm *k; /* NULL once done */
} Confirmation;

static void
confirmation_gone(Conn *c, void *userdata)
{
	Confirmation *w = userdata;
	custody_confirm_cancel(w->m, w->k);
	json_object_put(w->params);
	free(w);
}

static void
confirmation_prompt(const char *prompt, const char *matching_id, void *userdata)
{
	Confirmation *w = userdata;
	json_object *o = obj1("prompt", json_object_new_string(prompt));
	json_object_object_add(o, "matching_id", json_object_new_string(matching_id));
	conn_reply(w->c, o, true);
}

static void
confirmation_done(int r, const char *actor, json_object *people, void *userdata)
{
	Confirmation *w = userdata;
	Conn *c = w->c;
	if (w->k)
		conn_set_gone_hook(c, NULL, NULL);
	if (r == -EACCES)
		conn_error(c, WIRE_ERR_NOT_PERMITTED,
		           obj1("reason", json_object_new_string("confirmer-not-eligible")));
	else if (r < 0)
		conn_error(c, r == -ENOENT ? WIRE_ERR_NOT_ENROLLED : errors_from_sensor(r), NULL);
	else
		w->then(w->m, c, w->params, actor, people);
	json_object_put(w->params);
	free(w);
}

void
confirm_two_person(Manager *m, Conn *c, json_object *params, const char *action, ConfirmedFn then)
{
	Confirmation *w = calloc(1, sizeof(*w));
	if (!w)
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	*w = (Confirmation){ .m = m, .c = c, .params = json_object_get(params), .then = then };
	json_object *confirm_by = NULL;
	(void)json_object_object_get_ex(params, "confirm_by", &confirm_by);
	CustodyConfirm *k = NULL;
	CustodyRefusal no;
	int r = custody_confirm_start(m, conn_caller(c), action, confirm_by, conn_wants_more(c),
	                              confirmation_prompt, confirmation_done, w, &k, &no);
	if (r < 0) {
		json_object_put(w->params);
		free(w);
		if (no.reader)
			return (void)conn_error(
			    c, r == -ENOENT ? WIRE_ERR_NOT_ENROLLED : errors_from_sensor(r), NULL);
		if (r == -EINVAL)
			return reply_invalid(c, no.parameter);
		if (r == -EACCES) {
			json_object *why = obj1("reason", json_object_new_string(no.reason));
			if (no.matching_id[0])
				json_object_object_add(why, "matching_id",
				                       json_object_new_string(no.matching_id));
			return (void)conn_error(c, WIRE_ERR_NOT_PERMITTED, why);
		}
		if (r == -ENOENT || r == -EPERM)
			return (void)conn_error(
			    c, r == -ENOENT ? WIRE_ERR_NOT_ON_ROSTER : WIRE_ERR_REVOKED,
			    obj1("matching_id", json_object_new_string(no.matching_id)));
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	}
	if (!k)
		return; /* not a two-person action: done already ran, and freed w */
	w->k = k;
	conn_set_gone_hook(c, confirmation_gone, w);
}

/* --- revoke (R4) ------------------------------------------------------------------------ */

static void
revoke_confirmed(Manager *m, Conn *c, json_object *params, const char *actor, json_object *people)
{
	json_object *o = NULL;
	int r = custody_revoke(m, conn_caller(c), wire_str(params, "matching_id"),
	                       wire_str(params, "reason"), actor, people, &o);
	if (r == -ENOENT)
		return (void)conn_error(c, WIRE_ERR_NOT_ON_ROSTER, NULL);
	if (r == -EALREADY)
		return (void)conn_error(c, WIRE_ERR_REVOKED, NULL);
	if (r < 0)
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	conn_reply(c, o, false);
}

/* The person must be on the roster (and for some, active) before anyone touches the
 * reader. */
static bool
person_ok(Manager *m, Conn *c, const char *mid, bool active)
{
	int r = custody_person_active(m, mid);
	if (r == -ENOENT || (r == -EPERM && active)) {
		conn_error(c, r == -ENOENT ? WIRE_ERR_NOT_ON_ROSTER : WIRE_ERR_REVOKED, NULL);
		return false;
	}
	return true;
}

void
custody_method_revoke(Manager *m, Conn *c, json_object *params)
{
	const char *mid = wire_str(params, "matching_id");
	const char *reason = wire_str(params, "reason");
	if (!wire_valid_id(mid))
		return reply_invalid(c, "matching_id");
	if (strcmp(reason, "departed") != 0 && strcmp(reason, "transferred") != 0)
		return reply_invalid(c, "reason");
	if (!person_ok(m, c, mid, true))
		return;
	confirm_two_person(m, c, params, "revoke", revoke_confirmed);
}

/* --- nationality (R7) and history (R6) --------------------------------------------------- */

static void
nationality_confirmed(Manager *m, Conn *c, json_object *params, const char *actor,
                      json_object *people)
{
	const char *mid = wire_str(params, "matching_id");
	char nat[128] = "";
	int r = custody_nationality(m, conn_caller(c), mid, wire_str(params, "purpose"), actor,
	                            people, nat, sizeof(nat));
	if (r < 0)
		return (void)conn_error(
		    c, r == -ENOENT ? WIRE_ERR_NOT_ON_ROSTER : WIRE_ERR_INTERNAL, NULL);
	json_object *o = obj1("matching_id", json_object_new_string(mid));
	json_object_object_add(o, "nationality", json_object_new_string(nat));
	explicit_bzero(nat, sizeof(nat));
	conn_reply(c, o, false);
}

/* Bytes of s that are neither white space nor invisible: ASCII white space, NBSP, the
 * Unicode space separators (U+1680, U+2000..U+200A, U+202F, U+205F, U+3000, the
 * ideographic space a Japanese keyboard types), the line and paragraph separators, and the
 * zero-width characters (U+200B..U+200D, U+2060, U+FEFF). s is valid UTF-8. */
static size_t
purpose_visible_len(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;
	while (*p) {
		size_t l = *p < 0x80 ? 1 : *p < 0xe0 ? 2 : *p < 0xf0 ? 3 : 4;
		unsigned cp = l == 1   ? p[0]
		              : l == 2 ? (p[0] & 0x1fu) << 6 | (p[1] & 0x3fu)
		              : l == 3 ? (p[0] & 0x0fu) << 12 | (p[1] & 0x3fu) << 6 | (p[2] & 0x3fu)
		                       : 0x10000; /* nothing invisible above the BMP here */
		bool blank = cp == ' ' || (cp >= 0x09 && cp <= 0x0d) || cp == 0xa0 ||
		             cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200d) || cp == 0x2028 ||
		             cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x2060 ||
		             cp == 0x3000 || cp == 0xfeff;
		if (!blank)
			n += l;
		p += l;
	}
	return n;
}

void
custody_method_nationality(Manager *m, Conn *c, json_object *params)
{
	const char *mid = wire_str(params, "matching_id");
	const char *purpose = wire_str(params, "purpose");
	if (!wire_valid_id(mid))
		return reply_invalid(c, "matching_id");
	/* A purpose worth the name: it is what makes the read lawful (R7). Counted without
	 * white space and invisible characters: four spaces are no purpose. */
	if (!wire_valid_text(purpose, 256) || purpose_visible_len(purpose) < 4)
		return reply_invalid(c, "purpose");
	if (!person_ok(m, c, mid, false))
		return;
	confirm_two_person(m, c, params, "nationality-read", nationality_confirmed);
}

void
custody_method_history(Manager *m, Conn *c, json_object *params)
{
	const char *mid = wire_str(params, "matching_id");
	if (!wire_valid_id(mid))
		return reply_invalid(c, "matching_id");
	json_object *o = NULL;
	int r = custody_history(m, mid, &o);
	if (r < 0)
		return (void)conn_error(
		    c, r == -ENOENT ? WIRE_ERR_NOT_ON_ROSTER : WIRE_ERR_INTERNAL, NULL);
	conn_reply(c, o, false);
}

/* --- disposal (R16) --------------------------------------------------------------------- */

void
custody_method_disposal_plan(Manager *m, Conn *c, json_object *params)
{
	static const char *const texts[] = { "items", "media", "method" };
	for (size_t i = 0; i < 3; i++) {
		const char *v = wire_str(params, texts[i]);
		if (!wire_valid_text(v, 256) || !v[0])
			return reply_invalid(c, texts[i]);
	}
	CustodyDisposalPlan p = { .items = wire_str(params, "items"),
		                  .media = wire_str(params, "media"),
		                  .count = wire_int(params, "count", 0),
		                  .method = wire_str(params, "method"),
		                  .planned_date = wire_str(params, "planned_date") };
	json_object *o = NULL;
	int r = custody_disposal_plan(m, conn_caller(c), &p, &o);
	if (r == -EINVAL)
		return reply_invalid(c, "planned_date");
	if (r < 0)
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	conn_reply(c, o, false);
}

static void
approve_confirmed(Manager *m, Conn *c, json_object *params, const char *actor, json_object *people)
{
	json_object *o = NULL;
	int r = custody_disposal_approve(m, conn_caller(c), wire_int(params, "disposal_id", 0),
	                                 actor, people, &o);
	if (r == -EALREADY)
		return (void)conn_error(c, WIRE_ERR_NOT_PERMITTED,
		                        obj1("reason", json_object_new_string("not-planned")));
	if (r < 0)
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	conn_reply(c, o, false);
}

static int
disposal_exists(Manager *m, Conn *c, int64_t id, json_object **ret)
{
	int r = custody_disposal_get(m, id, ret);
	if (r < 0)
		conn_error(c, r == -ENOENT ? WIRE_ERR_NOT_FOUND : WIRE_ERR_INTERNAL, NULL);
	return r;
}

void
custody_method_disposal_approve(Manager *m, Conn *c, json_object *params)
{
	json_object *d = NULL;
	if (disposal_exists(m, c, wire_int(params, "disposal_id", 0), &d) < 0)
		return;
	json_object_put(d);
	confirm_two_person(m, c, params, "disposal-approve", approve_confirmed);
}

void
custody_method_disposal_execute(Manager *m, Conn *c, json_object *params)
{
	int64_t id = wire_int(params, "disposal_id", 0);
	json_object *d = NULL;
	if (disposal_exists(m, c, id, &d) < 0)
		return;
	json_object_put(d);
	const char *why = NULL;
	json_object *o = NULL;
	int r = custody_disposal_execute(m, conn_caller(c), id, &why, &o);
	if (r == -EACCES)
		return (void)conn_error(c, WIRE_ERR_NOT_PERMITTED,
		                        obj1("reason", json_object_new_string(why)));
	if (r < 0)
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	conn_reply(c, o, false);
}

/* --- the disposal report: a page to print and sign --------------------------------- */

/* HTML text: every byte from the data escaped. */
static void
html_text(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

static void
html_time(FILE *f, json_object *o, const char *key)
{
	json_object *v = NULL;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int)) {
		fputs("-", f);
		return;
	}
	time_t t = (time_t)(json_object_get_int64(v) / 1000000);
	struct tm tm;
	char buf[32];
	localtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
	fputs(buf, f);
}

static int
disposal_html(json_object *d, char **ret)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	fputs("<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\">"
	      "<title>廃棄報告書 (Disposal report)</title><style>"
	      "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
	      "th,td{border:1px solid #444;padding:.3em .6em;text-align:left}"
	      "@media print{@page{size:A4;margin:20mm}body{margin:0}}</style></head><body>\n"
	      "<h1>情報資産の廃棄報告書 (Report of the disposal of information "
	      "assets)</h1>\n<table>\n",
	      f);
	static const struct {
		const char *key, *label;
		bool time;
	} rows[] = {
		{ "disposal_id", "番号 (No.)", false },
		{ "state", "状態 (State)", false },
		{ "items", "廃棄した項目 (Items)", false },
		{ "media", "媒体 (Media)", false },
		{ "count", "数量 (Count)", false },
		{ "method", "方法 (Method)", false },
		{ "planned_date", "処理予定日 (Planned date)", false },
		{ "planned_by", "申請者 (Planned by)", false },
		{ "planned_at", "申請日時 (Planned at)", true },
		{ "approved_by", "承認者 (Approved by)", false },
		{ "approved_at", "承認日時 (Approved at)", true },
		{ "executed_by", "実施者 (Executed by)", false },
		{ "executed_at", "実施日時 (Executed at)", true },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fputs("<tr><th>", f);
		fputs(rows[i].label, f);
		fputs("</th><td>", f);
		if (rows[i].time)
			html_time(f, d, rows[i].key);
		else {
			json_object *v = json_object_object_get(d, rows[i].key);
			html_text(f, v ? json_object_get_string(v) : "-");
		}
		fputs("</td></tr>\n", f);
	}
	fputs("<tr><th>消去件数 (Erased)</th><td>", f);
	json_object *res = json_object_object_get(d, "result");
	if (res && json_object_is_type(res, json_type_object)) {
		json_object_object_foreach(res, key, val)
		{
			html_text(f, key);
			fputs(": ", f);
			html_text(f, json_object_get_string(val));
			fputs("<br>", f);
		}
	} else {
		fputs("-", f);
	}
	fputs("</td></tr>\n</table>\n<p>監査ログは保持期間の間、保存されます。"
	      "(The audit trail is kept for its retention period.)</p>\n</body></html>\n",
	      f);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	return 0;
}

void
custody_method_disposal_report(Manager *m, Conn *c, json_object *params)
{
	int64_t id = wire_int(params, "disposal_id", 0);
	const char *format = wire_str(params, "format");
	if (format && strcmp(format, "json") != 0 && strcmp(format, "html") != 0)
		return reply_invalid(c, "format");
	json_object *d = NULL;
	if (disposal_exists(m, c, id, &d) < 0)
		return;
	custody_disposal_reported(m, conn_caller(c), id);
	if (format && strcmp(format, "html") == 0) {
		char *html = NULL;
		int r = disposal_html(d, &html);
		json_object_put(d);
		if (r < 0)
			return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
		json_object *o = obj1("document", json_object_new_string(html));
		free(html);
		return (void)conn_reply(c, o, false);
	}
	conn_reply(c, d, false);
}
