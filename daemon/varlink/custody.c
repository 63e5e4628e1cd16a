/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * custody: what happens to people and their personal data over time. Revoking departed
 * staff (R4), reading nationality only with a stated purpose (R7), the roster history (R6),
 * two-person confirmation of designated operations (R13) and the end-of-contract disposal
 * (R16). Every step is an audit record naming who did it and who confirmed it; no record and
 * no log line carries a template, a nationality or any other personal field's value.
 */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "clock.h"
#include "custody.h"
#include "dates.h"
#include "incidents.h"
#include "log.h"
#include "manager.h"
#include "policy.h"
#include "record.h"
#include "sessions.h"
#include "store.h"
#include "verify.h"

#define CONFIRM_MAX 2

/* --- small helpers --------------------------------------------------------------------- */

static json_object *
obj1(const char *key, json_object *val)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, key, val);
	return o;
}

/* An audit record the caller's reply waits for. */
static void
custody_record(Manager *m, Conn *c, const char *matching_id, const char *action,
               const char *outcome, const char *reason, json_object *detail)
{
	AuditRecord rec = {
		.matching_id = matching_id,
		.action = action,
		.outcome = outcome,
		.reason = reason,
		.detail =
		    detail ? json_object_to_json_string_ext(detail, JSON_C_TO_STRING_PLAIN) : NULL,
	};
	(void)record_append(m, conn_caller(c), &rec, NULL, NULL);
}

static void
reply_bad(Conn *c, const char *field)
{
	conn_error(c, WIRE_ERR_VARLINK_INVALID, obj1("parameter", json_object_new_string(field)));
}

static int32_t
custody_today(void)
{
	time_t t = time(NULL);
	struct tm tm;
	localtime_r(&t, &tm);
	return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

/* --- two-person confirmation (R13) ------------------------------------------------------- */

typedef struct Confirm {
	Manager *m;
	Conn *c;
	json_object *params;
	char action[POLICY_MAX_NAME + 1];
	ConfirmedFn then;
	char first[WIRE_MAX_ID + 1]; /* the caller's matching ID, "" when root outside a session */
	char caller[64];             /* "uid N" */
	char confirmers[CONFIRM_MAX][WIRE_MAX_ID + 1];
	size_t n, next;
	VerifyOp *op;
} Confirm;

static void
confirm_free(Confirm *k)
{
	json_object_put(k->params);
	free(k);
}

static void confirm_next(Confirm *k);

static void
confirm_gone(Conn *c, void *userdata)
{
	Confirm *k = userdata;
	verify_cancel(k->m, k->op);
	k->op = NULL;
	confirm_free(k);
}

static void
confirm_prompt(const char *prompt, void *userdata)
{
	Confirm *k = userdata;
	json_object *o = obj1("prompt", json_object_new_string(prompt));
	json_object_object_add(o, "matching_id", json_object_new_string(k->confirmers[k->next]));
	conn_reply(k->c, o, true);
}

static void
confirm_done(int r, bool match, const char *error, void *userdata)
{
	Confirm *k = userdata;
	k->op = NULL;
	if (r < 0 || !match) {
		Conn *c = k->c;
		json_object *d = obj1("action", json_object_new_string(k->action));
		json_object_object_add(d, "by", json_object_new_string(k->caller));
		conn_set_gone_hook(c, NULL, NULL);
		custody_record(k->m, c, k->confirmers[k->next], "two-person.confirm", "fail",
		               r < 0 ? "sensor" : "no-match", d);
		if (r >= 0)
			incidents_note(k->m->incidents, INCIDENT_FAILED_MATCHES,
			               k->confirmers[k->next], NULL,
			               "two-person confirmation did not match");
		json_object_put(d);
		confirm_free(k);
		return (void)conn_error(c, r < 0 ? error : WIRE_ERR_NO_MATCH, NULL);
	}
	k->next++;
	confirm_next(k);
}

static void
confirm_next(Confirm *k)
{
	Manager *m = k->m;
	Conn *c = k->c;
	if (k->next < k->n) {
		int r = verify_start(m, k->confirmers[k->next], confirm_prompt, confirm_done, k,
		                     &k->op);
		if (r < 0) {
			conn_set_gone_hook(c, NULL, NULL);
			confirm_free(k);
			return (void)conn_error(c,
			                        r == -ENOENT  ? WIRE_ERR_NOT_ENROLLED
			                        : r == -EBUSY ? WIRE_ERR_BUSY
			                                      : WIRE_ERR_SENSOR_UNAVAILABLE,
			                        NULL);
		}
		return;
	}
	/* Everyone confirmed: name them all in what follows. */
	char actor[256];
	int len =
	    snprintf(actor, sizeof(actor), "%s%s%s", k->caller, k->first[0] ? " " : "", k->first);
	json_object *people = json_object_new_array();
	if (k->first[0])
		json_object_array_add(people, json_object_new_string(k->first));
	for (size_t i = 0; i < k->n; i++) {
		json_object_array_add(people, json_object_new_string(k->confirmers[i]));
		if (len > 0 && (size_t)len < sizeof(actor))
			len += snprintf(actor + len, sizeof(actor) - (size_t)len, " + %s",
			                k->confirmers[i]);
	}
	conn_set_gone_hook(c, NULL, NULL);
	ConfirmedFn then = k->then;
	json_object *params = json_object_get(k->params);
	confirm_free(k);
	then(m, c, params, actor, people);
	json_object_put(params);
	json_object_put(people);
}

/*
 * Runs then() at once when the policy does not list the action; else only after enough
 * different, active, enrolled people have put their finger on this terminal's reader: the
 * caller (when in a biogate session) counts as the first; confirm_by names the others.
 */
void
custody_two_person(Manager *m, Conn *c, json_object *params, const char *action, ConfirmedFn then)
{
	char caller[64];
	snprintf(caller, sizeof(caller), "uid %u", (unsigned)conn_peer(c)->uid);
	StoreSession s;
	bool in_session = sessions_find_by_peer(m->sessions, conn_peer(c), &s) == 0;
	if (!policy_two_person(m->policy, action)) {
		json_object *people = json_object_new_array();
		char actor[sizeof(caller) + WIRE_MAX_ID + 2];
		snprintf(actor, sizeof(actor), "%s%s%s", caller, in_session ? " " : "",
		         in_session ? s.matching_id : "");
		if (in_session)
			json_object_array_add(people, json_object_new_string(s.matching_id));
		then(m, c, params, actor, people);
		json_object_put(people);
		return;
	}

	Confirm *k = calloc(1, sizeof(*k));
	if (!k)
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	*k = (Confirm){ .m = m, .c = c, .params = json_object_get(params), .then = then };
	snprintf(k->action, sizeof(k->action), "%s", action);
	snprintf(k->caller, sizeof(k->caller), "%s", caller);
	if (in_session)
		snprintf(k->first, sizeof(k->first), "%s", s.matching_id);

	json_object *arr = NULL;
	if (json_object_object_get_ex(params, "confirm_by", &arr)) {
		size_t n = json_object_array_length(arr);
		for (size_t i = 0; i < n && i < CONFIRM_MAX; i++) {
			json_object *v = json_object_array_get_idx(arr, i);
			const char *id = json_object_is_type(v, json_type_string)
			                     ? json_object_get_string(v)
			                     : NULL;
			if (!wire_valid_id(id)) {
				confirm_free(k);
				return reply_bad(c, "confirm_by");
			}
			snprintf(k->confirmers[k->n++], WIRE_MAX_ID + 1, "%s", id);
		}
	}
	/* One person twice is one person: every name must differ from every other. */
	size_t people = (k->first[0] ? 1 : 0) + k->n;
	bool distinct = true;
	for (size_t i = 0; i < k->n; i++) {
		if (k->first[0] && strcmp(k->first, k->confirmers[i]) == 0)
			distinct = false;
		for (size_t j = i + 1; j < k->n; j++)
			if (strcmp(k->confirmers[i], k->confirmers[j]) == 0)
				distinct = false;
	}
	if (!distinct || people < 2) {
		json_object *d = obj1("action", json_object_new_string(action));
		json_object_object_add(d, "by", json_object_new_string(caller));
		custody_record(m, c, k->first[0] ? k->first : NULL, "two-person.confirm", "deny",
		               distinct ? "second-person-required" : "same-person", d);
		json_object_put(d);
		confirm_free(k);
		return (void)conn_error(
		    c, WIRE_ERR_NOT_PERMITTED,
		    obj1("reason", json_object_new_string(distinct ? "second-person-required"
		                                                   : "same-person")));
	}
	for (size_t i = 0; i < k->n; i++) {
		StoreStaff st;
		int r = store_staff_by_id(m->store, k->confirmers[i], &st);
		if (r < 0 || !st.active) {
			/* The name goes into the reply before k, which holds it, is freed. */
			json_object *who =
			    obj1("matching_id", json_object_new_string(k->confirmers[i]));
			confirm_free(k);
			return (void)conn_error(
			    c, r < 0 ? WIRE_ERR_NOT_ON_ROSTER : WIRE_ERR_REVOKED, who);
		}
	}
	if (!conn_wants_more(c)) {
		/* The confirmers must be told to touch the reader. */
		confirm_free(k);
		return reply_bad(c, "more");
	}
	conn_set_gone_hook(c, confirm_gone, k);
	confirm_next(k);
}

/* --- revoke (R4) ------------------------------------------------------------------------ */

const WireField custody_revoke_fields[] = {
	{ "matching_id", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
	{ "reason", WIRE_STRING, true, 16, 0, 0 },
	{ "confirm_by", WIRE_ARRAY, false, CONFIRM_MAX, 0, 0 },
};
const size_t custody_revoke_n_fields = 3;

static void
revoke_confirmed(Manager *m, Conn *c, json_object *params, const char *actor, json_object *people)
{
	const char *mid = wire_str(params, "matching_id");
	const char *reason = wire_str(params, "reason");
	int erased = 0;
	bool wal_truncated = true;
	int r = store_revoke(m->store, mid, actor, now_real_usec(), &erased);
	if (r == -ENOENT)
		return (void)conn_error(c, WIRE_ERR_NOT_ON_ROSTER, NULL);
	if (r == -EALREADY)
		return (void)conn_error(c, WIRE_ERR_REVOKED, NULL);
	if (r == -EBUSY || r == -ECANCELED) {
		/* Revoked and erased, but the WAL could not be truncated yet: say so in the
		 * record (the next revoke or disposal truncates it). */
		log_error("Revoked %s, but the WAL still holds old pages: %s", mid, strerror(-r));
		wal_truncated = false;
	} else if (r < 0) {
		log_error("Revoking %s failed: %s", mid, strerror(-r));
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	}
	/* At once: the person's IDs stopped working in the store; now their sessions end. */
	int ended = sessions_end_matching_id(m->sessions, mid, "revoked");
	log_info("Revoked matching ID %s (%s) by %s: %d template(s) erased, %d session(s) ended",
	         mid, reason, actor, erased, ended < 0 ? 0 : ended);
	json_object *d = obj1("reason", json_object_new_string(reason));
	json_object_object_add(d, "by", json_object_new_string(actor));
	json_object_object_add(d, "confirmed_by", json_object_get(people));
	json_object_object_add(d, "templates_erased", json_object_new_int(erased));
	json_object_object_add(d, "sessions_ended", json_object_new_int(ended < 0 ? 0 : ended));
	json_object_object_add(d, "wal_truncated", json_object_new_boolean(wal_truncated));
	custody_record(m, c, mid, "staff.revoke", "ok", reason, d);
	json_object_put(d);
	json_object *o = obj1("matching_id", json_object_new_string(mid));
	json_object_object_add(o, "templates_erased", json_object_new_int(erased));
	json_object_object_add(o, "sessions_ended", json_object_new_int(ended < 0 ? 0 : ended));
	conn_reply(c, o, false);
}

void
custody_method_revoke(Manager *m, Conn *c, json_object *params)
{
	const char *mid = wire_str(params, "matching_id");
	const char *reason = wire_str(params, "reason");
	if (!wire_valid_id(mid))
		return reply_bad(c, "matching_id");
	if (strcmp(reason, "departed") != 0 && strcmp(reason, "transferred") != 0)
		return reply_bad(c, "reason");
	StoreStaff st;
	int r = store_staff_by_id(m->store, mid, &st);
	if (r < 0)
		return (void)conn_error(c, WIRE_ERR_NOT_ON_ROSTER, NULL);
	if (!st.active)
		return (void)conn_error(c, WIRE_ERR_REVOKED, NULL);
	custody_two_person(m, c, params, "revoke", revoke_confirmed);
}

/* --- nationality (R7) and history (R6) --------------------------------------------------- */

const WireField custody_nationality_fields[] = {
	{ "matching_id", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
	{ "purpose", WIRE_STRING, true, 256, 0, 0 },
	{ "confirm_by", WIRE_ARRAY, false, CONFIRM_MAX, 0, 0 },
};
const size_t custody_nationality_n_fields = 3;

static void
nationality_confirmed(Manager *m, Conn *c, json_object *params, const char *actor,
                      json_object *people)
{
	const char *mid = wire_str(params, "matching_id");
	char nat[128] = "";
	int r = store_nationality(m->store, mid, nat, sizeof(nat));
	if (r < 0)
		return (void)conn_error(
		    c, r == -ENOENT ? WIRE_ERR_NOT_ON_ROSTER : WIRE_ERR_INTERNAL, NULL);
	/* The purpose is recorded with every read; the value never is (R7, R19). */
	json_object *d = obj1("purpose", json_object_new_string(wire_str(params, "purpose")));
	json_object_object_add(d, "by", json_object_new_string(actor));
	json_object_object_add(d, "confirmed_by", json_object_get(people));
	custody_record(m, c, mid, "staff.nationality-read", "ok", NULL, d);
	json_object_put(d);
	log_info("Nationality of matching ID %s read by %s", mid, actor);
	json_object *o = obj1("matching_id", json_object_new_string(mid));
	json_object_object_add(o, "nationality", json_object_new_string(nat));
	explicit_bzero(nat, sizeof(nat));
	conn_reply(c, o, false);
}

void
custody_method_nationality(Manager *m, Conn *c, json_object *params)
{
	const char *mid = wire_str(params, "matching_id");
	const char *purpose = wire_str(params, "purpose");
	if (!wire_valid_id(mid))
		return reply_bad(c, "matching_id");
	/* A purpose worth the name: it is what makes the read lawful (R7). */
	if (!wire_valid_text(purpose, 256) || strlen(purpose) < 4)
		return reply_bad(c, "purpose");
	StoreStaff st;
	if (store_staff_by_id(m->store, mid, &st) < 0)
		return (void)conn_error(c, WIRE_ERR_NOT_ON_ROSTER, NULL);
	custody_two_person(m, c, params, "nationality-read", nationality_confirmed);
}

const WireField custody_history_fields[] = {
	{ "matching_id", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
};
const size_t custody_history_n_fields = 1;

void
custody_method_history(Manager *m, Conn *c, json_object *params)
{
	const char *mid = wire_str(params, "matching_id");
	if (!wire_valid_id(mid))
		return reply_bad(c, "matching_id");
	StoreStaff st;
	if (store_staff_by_id(m->store, mid, &st) < 0)
		return (void)conn_error(c, WIRE_ERR_NOT_ON_ROSTER, NULL);
	json_object *h = NULL;
	if (store_staff_history_json(m->store, mid, &h) < 0)
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	conn_reply(c, obj1("history", h), false);
}

/* --- disposal (R16) --------------------------------------------------------------------- */

const WireField custody_disposal_plan_fields[] = {
	{ "items", WIRE_STRING, true, 256, 0, 0 },       { "media", WIRE_STRING, true, 256, 0, 0 },
	{ "count", WIRE_INT, true, 0, 0, 1000000000 },   { "method", WIRE_STRING, true, 256, 0, 0 },
	{ "planned_date", WIRE_STRING, true, 10, 0, 0 },
};
const size_t custody_disposal_plan_n_fields = 5;

void
custody_method_disposal_plan(Manager *m, Conn *c, json_object *params)
{
	static const char *const texts[] = { "items", "media", "method" };
	for (size_t i = 0; i < 3; i++) {
		const char *v = wire_str(params, texts[i]);
		if (!wire_valid_text(v, 256) || !v[0])
			return reply_bad(c, texts[i]);
	}
	int32_t date = dates_parse_ymd(wire_str(params, "planned_date"));
	if (!date)
		return reply_bad(c, "planned_date");
	char actor[64];
	snprintf(actor, sizeof(actor), "uid %u", (unsigned)conn_peer(c)->uid);
	StoreDisposalIn in = { .items = wire_str(params, "items"),
		               .media = wire_str(params, "media"),
		               .count = wire_int(params, "count", 0),
		               .method = wire_str(params, "method"),
		               .planned_date = date,
		               .actor = actor };
	int64_t id = 0;
	if (store_disposal_plan(m->store, &in, now_real_usec(), &id) < 0)
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	json_object *d = obj1("disposal_id", json_object_new_int64(id));
	json_object_object_add(d, "planned_date",
	                       json_object_new_string(wire_str(params, "planned_date")));
	json_object_object_add(d, "by", json_object_new_string(actor));
	custody_record(m, c, NULL, "disposal.plan", "ok", NULL, d);
	json_object_put(d);
	json_object *o = NULL;
	if (store_disposal_json(m->store, id, &o) < 0)
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	conn_reply(c, o, false);
}

const WireField custody_disposal_id_fields[] = {
	{ "disposal_id", WIRE_INT, true, 0, 1, INT64_MAX },
	{ "confirm_by", WIRE_ARRAY, false, CONFIRM_MAX, 0, 0 },
	{ "format", WIRE_STRING, false, 8, 0, 0 },
};
const size_t custody_disposal_id_n_fields = 3;

static void
approve_confirmed(Manager *m, Conn *c, json_object *params, const char *actor, json_object *people)
{
	int64_t id = wire_int(params, "disposal_id", 0);
	int r = store_disposal_approve(m->store, id, actor, now_real_usec());
	if (r == -EALREADY)
		return (void)conn_error(c, WIRE_ERR_NOT_PERMITTED,
		                        obj1("reason", json_object_new_string("not-planned")));
	if (r < 0)
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	json_object *d = obj1("disposal_id", json_object_new_int64(id));
	json_object_object_add(d, "by", json_object_new_string(actor));
	json_object_object_add(d, "confirmed_by", json_object_get(people));
	custody_record(m, c, NULL, "disposal.approve", "ok", NULL, d);
	json_object_put(d);
	json_object *o = NULL;
	if (store_disposal_json(m->store, id, &o) < 0)
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	conn_reply(c, o, false);
}

static int
disposal_exists(Manager *m, Conn *c, int64_t id, json_object **ret)
{
	int r = store_disposal_json(m->store, id, ret);
	if (r == -ENOENT)
		conn_error(c, WIRE_ERR_NOT_FOUND, NULL);
	else if (r < 0)
		conn_error(c, WIRE_ERR_INTERNAL, NULL);
	return r;
}

void
custody_method_disposal_approve(Manager *m, Conn *c, json_object *params)
{
	json_object *d = NULL;
	if (disposal_exists(m, c, wire_int(params, "disposal_id", 0), &d) < 0)
		return;
	json_object_put(d);
	custody_two_person(m, c, params, "disposal-approve", approve_confirmed);
}

void
custody_method_disposal_execute(Manager *m, Conn *c, json_object *params)
{
	int64_t id = wire_int(params, "disposal_id", 0);
	json_object *d = NULL;
	if (disposal_exists(m, c, id, &d) < 0)
		return;
	json_object_put(d);
	char actor[64];
	snprintf(actor, sizeof(actor), "uid %u", (unsigned)conn_peer(c)->uid);
	json_object *result = NULL;
	int r =
	    store_disposal_execute(m->store, id, actor, now_real_usec(), custody_today(), &result);
	if (r == -EPERM || r == -EAGAIN) {
		const char *why = r == -EPERM ? "not-approved" : "before-planned-date";
		json_object *det = obj1("disposal_id", json_object_new_int64(id));
		custody_record(m, c, NULL, "disposal.execute", "deny", why, det);
		json_object_put(det);
		return (void)conn_error(c, WIRE_ERR_NOT_PERMITTED,
		                        obj1("reason", json_object_new_string(why)));
	}
	if (r < 0) {
		log_error("Disposal %lld failed: %s", (long long)id, strerror(-r));
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	}
	log_info("Disposal %lld executed by %s", (long long)id, actor);
	/* Nobody works on after the disposal: every open session ends now. */
	int ended = 0;
	json_object *open_sessions = NULL;
	if (store_sessions_json(m->store, &open_sessions) == 0) {
		size_t n = json_object_array_length(open_sessions);
		for (size_t i = 0; i < n; i++) {
			json_object *o = json_object_array_get_idx(open_sessions, i);
			const char *who =
			    json_object_get_string(json_object_object_get(o, "matching_id"));
			int k = who ? sessions_end_matching_id(m->sessions, who, "disposal") : 0;
			ended += k > 0 ? k : 0;
		}
		json_object_put(open_sessions);
	}
	json_object_object_add(result, "sessions_ended", json_object_new_int(ended));
	json_object *det = obj1("disposal_id", json_object_new_int64(id));
	json_object_object_add(det, "by", json_object_new_string(actor));
	json_object_object_add(det, "erased", json_object_get(result));
	custody_record(m, c, NULL, "disposal.execute", "ok", NULL, det);
	json_object_put(det);
	json_object *o = NULL;
	json_object_put(result);
	if (store_disposal_json(m->store, id, &o) < 0)
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	conn_reply(c, o, false);
}

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
		return reply_bad(c, "format");
	json_object *d = NULL;
	if (disposal_exists(m, c, id, &d) < 0)
		return;
	json_object *rec = obj1("disposal_id", json_object_new_int64(id));
	custody_record(m, c, NULL, "disposal.report", "ok", NULL, rec);
	json_object_put(rec);
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
