/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * methods: the table of Varlink methods biogated answers, who may call each (decided from
 * the kernel's peer credentials only), the parameter schema of each, and the handlers.
 * Handlers validate everything, translate -errno into stable wire errors here at the edge,
 * and never trust the sensor's answers more than a client's.
 */
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "audit.h"
#include "caller.h"
#include "clock.h"
#include "custody.h"
#include "dates.h"
#include "devices.h"
#include "incidents.h"
#include "log.h"
#include "manager.h"
#include "methods.h"
#include "policy.h"
#include "record.h"
#include "reply.h"
#include "room.h"
#include "sensorlink.h"
#include "sessions.h"
#include "store.h"
#include "stream.h"

typedef enum Perm {
	PERM_ANYONE,
	PERM_ADMIN,   /* root or the admin group */
	PERM_ROOT,    /* the PAM module inside a login process */
	PERM_LOGIN,   /* root, admin, or the Unix user the named person maps to (checked later) */
	PERM_SESSION, /* a process inside an open biogate session */
	PERM_ADMIN_OR_SESSION, /* admin (the staff at the counter record their visitors) */
} Perm;

typedef void (*MethodFn)(Manager *m, Conn *c, json_object *params);

typedef struct Method {
	const char *name;
	Perm perm;
	MethodFn fn;
	const WireField *fields;
	size_t n_fields;
} Method;

static json_object *
param_obj(const char *key, json_object *val)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, key, val);
	return o;
}

/* --- the audit trail ------------------------------------------------------------------ */

static void
record_simple(Manager *m, Conn *c, const char *matching_id, const char *operator_id,
              const char *action, const char *outcome, const char *reason, const char *key_hmac)
{
	AuditRecord rec = {
		.matching_id = matching_id,
		.operator_id = operator_id,
		.action = action,
		.outcome = outcome,
		.reason = reason,
		.key_hmac = key_hmac,
	};
	(void)record_append(m, conn_caller(c), &rec, NULL, NULL);
}

/* An administrative change: who did it (uid) goes into the detail when none is given. */
static void
record_admin(Manager *m, Conn *c, const char *matching_id, const char *operator_id,
             const char *action, const char *detail)
{
	char buf[64];
	if (!detail) {
		snprintf(buf, sizeof(buf), "{\"by_uid\":%u}", (unsigned)conn_peer(c)->uid);
		detail = buf;
	}
	AuditRecord rec = { .matching_id = matching_id,
		            .operator_id = operator_id,
		            .action = action,
		            .outcome = "ok",
		            .detail = detail };
	(void)record_append(m, conn_caller(c), &rec, NULL, NULL);
}

/* --- org.varlink.service and status ------------------------------------------------ */

static void
method_get_info(Manager *m, Conn *c, json_object *params)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "vendor", json_object_new_string("biogate"));
	json_object_object_add(o, "product", json_object_new_string("biogated"));
	json_object_object_add(o, "version", json_object_new_string(BIOGATE_VERSION));
	json_object_object_add(o, "url", json_object_new_string("https://biogate.invalid/"));
	json_object *ifs = json_object_new_array();
	json_object_array_add(ifs, json_object_new_string("org.varlink.service"));
	json_object_array_add(ifs, json_object_new_string(BIOGATE_INTERFACE));
	json_object_object_add(o, "interfaces", ifs);
	conn_reply(c, o, false);
}

static void
method_get_status(Manager *m, Conn *c, json_object *params)
{
	json_object *o = sensorlink_status(m->sensor);
	int64_t staff = 0, sessions = 0;
	(void)store_staff_count(m->store, &staff);
	(void)store_sessions_open_count(m->store, &sessions);
	json_object_object_add(o, "version", json_object_new_string(BIOGATE_VERSION));
	json_object_object_add(o, "staff", json_object_new_int64(staff));
	json_object_object_add(o, "open_sessions", json_object_new_int64(sessions));
	json_object_object_add(o, "connections",
	                       json_object_new_int64(server_connections(m->server)));
	json_object_object_add(
	    o, "uptime_ms",
	    json_object_new_int64((int64_t)((now_mono_usec() - m->started_usec) / 1000)));
	conn_reply(c, o, false);
}

/* --- roster ------------------------------------------------------------------------ */

static const WireField add_staff_fields[] = {
	{ "matching_id", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
	{ "name", WIRE_STRING, true, 256, 0, 0 },
	{ "affiliation", WIRE_STRING, true, 256, 0, 0 },
	{ "expertise", WIRE_STRING, false, WIRE_MAX_TEXT, 0, 0 },
	{ "track_record", WIRE_STRING, false, WIRE_MAX_TEXT, 0, 0 },
	{ "nationality", WIRE_STRING, true, 64, 0, 0 },
	{ "unix_user", WIRE_STRING, false, 32, 0, 0 },
};

static void
method_add_staff(Manager *m, Conn *c, json_object *params)
{
	StoreStaffIn in = {
		.matching_id = wire_str(params, "matching_id"),
		.name = wire_str(params, "name"),
		.affiliation = wire_str(params, "affiliation"),
		.expertise = wire_str(params, "expertise"),
		.track_record = wire_str(params, "track_record"),
		.nationality = wire_str(params, "nationality"),
		.unix_user = wire_str(params, "unix_user"),
	};
	if (!in.unix_user)
		in.unix_user = in.matching_id;
	/* Who, for the roster history (R6). */
	char actor[32];
	snprintf(actor, sizeof(actor), "uid %u", (unsigned)conn_peer(c)->uid);
	in.actor = actor;
	if (!wire_valid_id(in.matching_id))
		return reply_invalid(c, "matching_id");
	if (!wire_valid_id(in.unix_user) || strlen(in.unix_user) > 32)
		return reply_invalid(c, "unix_user");
	static const char *const texts[] = { "name", "affiliation", "expertise", "track_record",
		                             "nationality" };
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		const char *v = wire_str(params, texts[i]);
		if (v && (!wire_valid_text(v, WIRE_MAX_TEXT) || (i != 2 && i != 3 && v[0] == '\0')))
			return reply_invalid(c, texts[i]);
	}
	int r = store_staff_add(m->store, &in, now_real_usec());
	if (r < 0)
		return reply_errno(c, r);
	log_info("Roster: added matching ID %s (uid %u)", in.matching_id,
	         (unsigned)conn_peer(c)->uid);
	record_admin(m, c, in.matching_id, NULL, "staff.add", NULL);
	json_object *o = NULL;
	r = store_staff_json(m->store, in.matching_id, &o);
	if (r < 0)
		return reply_errno(c, r);
	conn_reply(c, o, false);
}

static const WireField staff_id_fields[] = {
	{ "matching_id", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
};

static void
method_get_staff(Manager *m, Conn *c, json_object *params)
{
	const char *id = wire_str(params, "matching_id");
	if (!wire_valid_id(id))
		return reply_invalid(c, "matching_id");
	json_object *o = NULL;
	int r = store_staff_json(m->store, id, &o);
	if (r == -ENOENT)
		return (void)conn_error(c, WIRE_ERR_NOT_ON_ROSTER, NULL);
	if (r < 0)
		return reply_errno(c, r);
	conn_reply(c, o, false);
}

static void
method_list_staff(Manager *m, Conn *c, json_object *params)
{
	json_object *arr = NULL;
	int r = store_staff_list_json(m->store, &arr);
	if (r < 0)
		return reply_errno(c, r);
	conn_reply(c, param_obj("staff", arr), false);
}

/* The person behind matching_id, who must be on the roster and not revoked; else the caller
 * is answered (NotOnRoster, Revoked, or the store's error) and false returned. */
static bool
active_person(Manager *m, Conn *c, const char *matching_id, StoreStaff *ret)
{
	int r = store_staff_by_id(m->store, matching_id, ret);
	if (r == -ENOENT)
		conn_error(c, WIRE_ERR_NOT_ON_ROSTER, NULL);
	else if (r < 0)
		reply_errno(c, r);
	else if (!ret->active)
		conn_error(c, WIRE_ERR_REVOKED, NULL);
	return r >= 0 && ret->active;
}

static const WireField grant_fields[] = {
	{ "matching_id", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
	{ "operator_id", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
	{ "role", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
};

static void
method_grant_operator(Manager *m, Conn *c, json_object *params)
{
	const char *mid = wire_str(params, "matching_id");
	const char *oid = wire_str(params, "operator_id");
	const char *role = wire_str(params, "role");
	if (!wire_valid_id(mid))
		return reply_invalid(c, "matching_id");
	if (!wire_valid_id(oid))
		return reply_invalid(c, "operator_id");
	/* A role the policy does not define could never do anything: refuse it now rather
	 * than grant an operator ID that every decision denies (R2). */
	if (!wire_valid_id(role) || !policy_role_exists(m->policy, role))
		return reply_invalid(c, "role");
	StoreStaff st;
	if (!active_person(m, c, mid, &st))
		return;
	int r = store_operator_grant(m->store, mid, oid, role, now_real_usec());
	if (r < 0)
		return reply_errno(c, r);
	log_info("Granted operator ID %s (role %s) to matching ID %s", oid, role, mid);
	char detail[160];
	snprintf(detail, sizeof(detail), "{\"role\":\"%s\"}", role);
	record_admin(m, c, mid, oid, "operator.grant", detail);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "matching_id", json_object_new_string(mid));
	json_object_object_add(o, "operator_id", json_object_new_string(oid));
	json_object_object_add(o, "role", json_object_new_string(role));
	conn_reply(c, o, false);
}

/* --- roster edits, lockout, schedule (issue 3) ---------------------------------------- */

static const WireField edit_staff_fields[] = {
	{ "matching_id", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
	{ "name", WIRE_STRING, false, 256, 0, 0 },
	{ "affiliation", WIRE_STRING, false, 256, 0, 0 },
	{ "expertise", WIRE_STRING, false, WIRE_MAX_TEXT, 0, 0 },
	{ "track_record", WIRE_STRING, false, WIRE_MAX_TEXT, 0, 0 },
	{ "pledge_date", WIRE_STRING, false, 10, 0, 0 },
	{ "training_date", WIRE_STRING, false, 10, 0, 0 },
};

static void
method_edit_staff(Manager *m, Conn *c, json_object *params)
{
	const char *mid = wire_str(params, "matching_id");
	if (!wire_valid_id(mid))
		return reply_invalid(c, "matching_id");
	StoreStaffEdit e = {
		.name = wire_str(params, "name"),
		.affiliation = wire_str(params, "affiliation"),
		.expertise = wire_str(params, "expertise"),
		.track_record = wire_str(params, "track_record"),
	};
	static const char *const texts[] = { "name", "affiliation", "expertise", "track_record" };
	for (size_t i = 0; i < 4; i++) {
		const char *v = wire_str(params, texts[i]);
		if (v && (!wire_valid_text(v, WIRE_MAX_TEXT) || (i < 2 && v[0] == '\0')))
			return reply_invalid(c, texts[i]);
	}
	char actor[32];
	snprintf(actor, sizeof(actor), "uid %u", (unsigned)conn_peer(c)->uid);
	e.actor = actor;
	const char *pd = wire_str(params, "pledge_date"), *td = wire_str(params, "training_date");
	if (pd && !(e.pledge_date = dates_parse_ymd(pd)))
		return reply_invalid(c, "pledge_date");
	if (td && !(e.training_date = dates_parse_ymd(td)))
		return reply_invalid(c, "training_date");
	int r = store_staff_edit(m->store, mid, &e, now_real_usec());
	if (r == -ENOENT)
		return (void)conn_error(c, WIRE_ERR_NOT_ON_ROSTER, NULL);
	if (r < 0)
		return reply_errno(c, r);
	/* Which fields changed, never their values: the record outlives the roster (R5, R6). */
	json_object *changed = json_object_new_array();
	json_object_object_foreach(params, key, val)
	{
		(void)val;
		if (strcmp(key, "matching_id") != 0)
			json_object_array_add(changed, json_object_new_string(key));
	}
	json_object *d = param_obj("fields", changed);
	json_object_object_add(d, "by_uid", json_object_new_int64(conn_peer(c)->uid));
	record_admin(m, c, mid, NULL, "staff.edit", json_object_to_json_string(d));
	json_object_put(d);
	json_object *o = NULL;
	r = store_staff_json(m->store, mid, &o);
	if (r < 0)
		return reply_errno(c, r);
	conn_reply(c, o, false);
}

static void
method_unlock(Manager *m, Conn *c, json_object *params)
{
	const char *mid = wire_str(params, "matching_id");
	if (!wire_valid_id(mid))
		return reply_invalid(c, "matching_id");
	StoreStaff st;
	int r = store_staff_by_id(m->store, mid, &st);
	if (r == -ENOENT)
		return (void)conn_error(c, WIRE_ERR_NOT_ON_ROSTER, NULL);
	if (r < 0 || (r = store_failures_clear(m->store, mid)) < 0)
		return reply_errno(c, r);
	log_info("Lockout of matching ID %s lifted by uid %u", mid, (unsigned)conn_peer(c)->uid);
	record_admin(m, c, mid, NULL, "staff.unlock", NULL);
	conn_reply(c, param_obj("matching_id", json_object_new_string(mid)), false);
}

/* "HH:MM" -> minutes after midnight, -1 when not a time of day. */
static int
parse_hhmm(const char *s)
{
	if (!s || strlen(s) != 5 || s[2] != ':' || s[0] < '0' || s[0] > '2' || s[1] < '0' ||
	    s[1] > '9' || s[3] < '0' || s[3] > '5' || s[4] < '0' || s[4] > '9')
		return -1;
	int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
	return h < 24 ? h * 60 + m : -1;
}

/* Local date + minutes -> microseconds since the epoch, in the terminal's time zone. */
static int64_t
local_usec(int32_t ymd, int minutes)
{
	struct tm tm = { .tm_year = ymd / 10000 - 1900,
		         .tm_mon = ymd / 100 % 100 - 1,
		         .tm_mday = ymd % 100,
		         .tm_hour = minutes / 60,
		         .tm_min = minutes % 60,
		         .tm_isdst = -1 };
	time_t t = mktime(&tm);
	return t == (time_t)-1 ? -1 : (int64_t)t * 1000000;
}

#define SCHEDULE_MAX_SHIFTS 4096

static const WireField import_schedule_fields[] = {
	{ "month", WIRE_STRING, true, 7, 0, 0 },
	{ "shifts", WIRE_ARRAY, true, SCHEDULE_MAX_SHIFTS, 0, 0 },
};

static const WireField shift_fields[] = {
	{ "matching_id", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
	{ "date", WIRE_STRING, true, 10, 0, 0 },
	{ "start", WIRE_STRING, true, 5, 0, 0 },
	{ "end", WIRE_STRING, true, 5, 0, 0 },
};

static int32_t
parse_month(const char *s)
{
	char buf[11];
	if (!s || strlen(s) != 7)
		return 0;
	snprintf(buf, sizeof(buf), "%s-01", s);
	return dates_parse_ymd(buf);
}

static void
method_import_schedule(Manager *m, Conn *c, json_object *params)
{
	const char *month = wire_str(params, "month");
	int32_t first = parse_month(month);
	if (!first)
		return reply_invalid(c, "month");
	int32_t next = first / 100 % 100 == 12 ? (first / 10000 + 1) * 10000 + 101 : first + 100;
	json_object *arr = NULL;
	json_object_object_get_ex(params, "shifts", &arr);
	size_t n = json_object_array_length(arr);
	StoreShift *shifts = calloc(n ? n : 1, sizeof(*shifts));
	if (!shifts)
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	for (size_t i = 0; i < n; i++) {
		json_object *row = json_object_array_get_idx(arr, i);
		const char *bad = NULL;
		if (!json_object_is_type(row, json_type_object) ||
		    wire_check(row, shift_fields, 4, &bad) < 0) {
			free(shifts);
			return reply_invalid(c, "shifts");
		}
		int32_t date = dates_parse_ymd(wire_str(row, "date"));
		int start = parse_hhmm(wire_str(row, "start"));
		int end = parse_hhmm(wire_str(row, "end"));
		const char *mid = wire_str(row, "matching_id");
		if (!wire_valid_id(mid) || date < first || date >= next || start < 0 ||
		    end <= start) {
			free(shifts);
			return reply_invalid(c, "shifts");
		}
		shifts[i] = (StoreShift){ .matching_id = mid,
			                  .start_usec = local_usec(date, start),
			                  .end_usec = local_usec(date, end) };
	}
	int r = store_schedule_replace(m->store, local_usec(first, 0), local_usec(next, 0), shifts,
	                               n, now_real_usec());
	free(shifts);
	if (r == -ENOENT)
		return (void)conn_error(c, WIRE_ERR_NOT_ON_ROSTER, NULL);
	if (r < 0)
		return reply_errno(c, r);
	log_info("Schedule for %s imported: %zu shifts", month, n);
	char detail[96];
	snprintf(detail, sizeof(detail), "{\"month\":\"%s\",\"shifts\":%zu,\"by_uid\":%u}", month,
	         n, (unsigned)conn_peer(c)->uid);
	record_admin(m, c, NULL, NULL, "schedule.import", detail);
	json_object *o = param_obj("month", json_object_new_string(month));
	json_object_object_add(o, "shifts", json_object_new_int64((int64_t)n));
	conn_reply(c, o, false);
}

static const WireField get_schedule_fields[] = {
	{ "month", WIRE_STRING, false, 7, 0, 0 },
	{ "matching_id", WIRE_STRING, false, WIRE_MAX_ID, 0, 0 },
};

static void
method_get_schedule(Manager *m, Conn *c, json_object *params)
{
	const char *month = wire_str(params, "month");
	const char *mid = wire_str(params, "matching_id");
	int64_t from = 0, to = 0;
	if (month) {
		int32_t first = parse_month(month);
		if (!first)
			return reply_invalid(c, "month");
		int32_t next =
		    first / 100 % 100 == 12 ? (first / 10000 + 1) * 10000 + 101 : first + 100;
		from = local_usec(first, 0);
		to = local_usec(next, 0);
	}
	if (mid && !wire_valid_id(mid))
		return reply_invalid(c, "matching_id");
	json_object *arr = NULL;
	int r = store_schedule_json(m->store, mid, from, to, &arr);
	if (r < 0)
		return reply_errno(c, r);
	/* Local date and times, as the schedule was written. */
	size_t n = json_object_array_length(arr);
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		int64_t st = wire_int(o, "start", 0), en = wire_int(o, "end", 0);
		time_t ts = (time_t)(st / 1000000), te = (time_t)(en / 1000000);
		struct tm a, b;
		char date[16], start[8], end[8];
		localtime_r(&ts, &a);
		localtime_r(&te, &b);
		strftime(date, sizeof(date), "%Y-%m-%d", &a);
		strftime(start, sizeof(start), "%H:%M", &a);
		strftime(end, sizeof(end), "%H:%M", &b);
		json_object_object_add(o, "date", json_object_new_string(date));
		json_object_object_add(o, "start", json_object_new_string(start));
		json_object_object_add(o, "end", json_object_new_string(end));
	}
	conn_reply(c, param_obj("shifts", arr), false);
}

/* --- authorization (R2, R11) --------------------------------------------------------- */

static void
method_whoami(Manager *m, Conn *c, json_object *params)
{
	PeerSession ps;
	json_object *o = json_object_new_object();
	bool in = caller_session(m, conn_caller(c), &ps);
	json_object_object_add(o, "in_session", json_object_new_boolean(in));
	if (in) {
		json_object_object_add(o, "session_id", json_object_new_int64(ps.session_id));
		json_object_object_add(o, "matching_id", json_object_new_string(ps.matching_id));
		json_object_object_add(o, "operator_id", json_object_new_string(ps.operator_id));
		json_object_object_add(o, "role", json_object_new_string(ps.role));
	}
	conn_reply(c, o, false);
}

static const WireField authorize_fields[] = {
	{ "action", WIRE_STRING, true, POLICY_MAX_NAME, 0, 0 },
	{ "key", WIRE_STRING, false, 256, 0, 0 },
};

static void
method_authorize(Manager *m, Conn *c, json_object *params)
{
	const char *action = wire_str(params, "action");
	json_object *kj = NULL;
	const char *key = NULL;
	size_t key_len = 0;
	if (json_object_object_get_ex(params, "key", &kj)) {
		key = json_object_get_string(kj);
		key_len = (size_t)json_object_get_string_len(kj);
	}

	PeerSession s = { 0 };
	bool in_session = caller_session(m, conn_caller(c), &s);
	const char *role = s.role;

	PolicyRequest req = { .in_session = in_session,
		              .role = in_session ? role : NULL,
		              .action = action,
		              .key = key,
		              .key_len = key_len };
	char norm[16] = "";
	PolicyKeyClass kc = POLICY_KEY_GARBAGE;
	PolicyDecision d = policy_authorize(m->policy, &req, norm, sizeof(norm), &kc);

	/* The key is never stored: only its HMAC, so an auditor can later ask whether a number
	 * was searched (R11, R19). */
	char hmac[65] = "";
	if (key && norm[0] && m->audit)
		(void)audit_key_hmac(m->audit, norm, hmac);
	explicit_bzero(norm, sizeof(norm));

	const char *reason = policy_reason_name(d.reason);
	char raction[POLICY_MAX_NAME + 16];
	snprintf(raction, sizeof(raction), "authorize.%s", action);
	record_simple(m, c, in_session ? s.matching_id : NULL, in_session ? s.operator_id : NULL,
	              raction,
	              d.allow       ? "allow"
	              : d.violation ? "violation"
	                            : "deny",
	              reason, hmac[0] ? hmac : NULL);
	/* R17: a search refused for its key counts toward forbidden-searches; a resident
	 * record code is an incident by itself. */
	bool key_refused = d.reason == POLICY_KEY_INVALID || d.reason == POLICY_KEY_CHECK_DIGIT ||
	                   d.reason == POLICY_KEY_RESIDENT_RECORD_CODE ||
	                   d.reason == POLICY_KEY_CORPORATE_NUMBER;
	if (!d.allow && key_refused) {
		char situation[128];
		snprintf(situation, sizeof(situation), "%s refused: %s", action, reason);
		const char *mid = in_session ? s.matching_id : NULL;
		const char *oid = in_session ? s.operator_id : NULL;
		if (d.violation)
			incidents_note(m->incidents, INCIDENT_RESIDENT_CODE_SEARCH, mid, oid,
			               situation);
		incidents_note(m->incidents, INCIDENT_FORBIDDEN_SEARCHES, mid, oid, situation);
	}

	json_object *o = json_object_new_object();
	json_object_object_add(o, "allow", json_object_new_boolean(d.allow));
	json_object_object_add(o, "reason", json_object_new_string(reason));
	json_object_object_add(o, "action", json_object_new_string(action));
	json_object_object_add(o, "violation", json_object_new_boolean(d.violation));
	if (in_session) {
		json_object_object_add(o, "operator_id", json_object_new_string(s.operator_id));
		json_object_object_add(o, "role", json_object_new_string(role));
	}
	conn_reply(c, o, false);
}

/* --- the audit trail: verify, list, export, search by key (R5, R19) ------------------- */

/* A reply must fit the client's 64 KiB message cap with its envelope: lists are cut here. */
#define AUDIT_REPLY_BUDGET (60u * 1024u)
/* AuditVerify shows the bad record when finding it costs at most this many rows. */
#define AUDIT_SHOW_MAX_SEQ 10000

static const WireField audit_list_fields[] = {
	{ "matching_id", WIRE_STRING, false, WIRE_MAX_ID, 0, 0 },
	{ "operator_id", WIRE_STRING, false, WIRE_MAX_ID, 0, 0 },
	{ "action", WIRE_STRING, false, 256, 0, 0 },
	{ "outcome", WIRE_STRING, false, 256, 0, 0 },
	{ "since", WIRE_INT, false, 0, 0, INT64_MAX },
	{ "until", WIRE_INT, false, 0, 0, INT64_MAX },
	{ "limit", WIRE_INT, false, 0, 1, 1000 },
};

static const WireField audit_export_fields[] = {
	{ "format", WIRE_STRING, true, 8, 0, 0 },
	{ "matching_id", WIRE_STRING, false, WIRE_MAX_ID, 0, 0 },
	{ "operator_id", WIRE_STRING, false, WIRE_MAX_ID, 0, 0 },
	{ "action", WIRE_STRING, false, 256, 0, 0 },
	{ "outcome", WIRE_STRING, false, 256, 0, 0 },
	{ "since", WIRE_INT, false, 0, 0, INT64_MAX },
	{ "until", WIRE_INT, false, 0, 0, INT64_MAX },
	{ "limit", WIRE_INT, false, 0, 1, INT64_MAX },
	{ "confirm_by", WIRE_ARRAY, false, 2, 0, 0 },
};

static const WireField audit_search_key_fields[] = {
	{ "key", WIRE_STRING, true, 256, 0, 0 },
};

/* The filters shared by AuditList and AuditExport; strings borrow from params. Returns the
 * name of the bad parameter, or NULL. */
static const char *
audit_filter_from(json_object *params, AuditFilter *ret)
{
	*ret = (AuditFilter){
		.matching_id = wire_str(params, "matching_id"),
		.operator_id = wire_str(params, "operator_id"),
		.action = wire_str(params, "action"),
		.outcome = wire_str(params, "outcome"),
		.since_usec = wire_int(params, "since", 0),
		.until_usec = wire_int(params, "until", 0),
		.limit = wire_int(params, "limit", 0),
	};
	if (ret->matching_id && !wire_valid_id(ret->matching_id))
		return "matching_id";
	if (ret->operator_id && !wire_valid_id(ret->operator_id))
		return "operator_id";
	if (ret->action && !wire_valid_text(ret->action, 256))
		return "action";
	if (ret->outcome && !wire_valid_text(ret->outcome, 256))
		return "outcome";
	if (ret->since_usec && ret->until_usec && ret->until_usec <= ret->since_usec)
		return "until";
	return NULL;
}

/* What an audit query asked for, as the detail of its own record: the filters name whom it
 * was about, while the record's own IDs stay those of the actor (none: an admin's uid). */
static char *
audit_filter_detail(const Conn *c, const AuditFilter *f, const char *format)
{
	json_object *d = json_object_new_object();
	json_object_object_add(d, "by_uid", json_object_new_int64(conn_peer(c)->uid));
	if (format)
		json_object_object_add(d, "format", json_object_new_string(format));
	const char *const names[] = { "matching_id", "operator_id", "action", "outcome" };
	const char *const vals[] = { f->matching_id, f->operator_id, f->action, f->outcome };
	for (size_t i = 0; i < 4; i++)
		if (vals[i])
			json_object_object_add(d, names[i], json_object_new_string(vals[i]));
	if (f->since_usec)
		json_object_object_add(d, "since", json_object_new_int64(f->since_usec));
	if (f->until_usec)
		json_object_object_add(d, "until", json_object_new_int64(f->until_usec));
	if (f->limit)
		json_object_object_add(d, "limit", json_object_new_int64(f->limit));
	const char *txt = json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN);
	char *out = txt ? strdup(txt) : NULL;
	json_object_put(d);
	return out;
}

/* Takes records (an array) and cuts it to what fits the reply budget; adds "truncated". */
static json_object *
audit_bounded_reply(json_object *records, bool truncated)
{
	size_t used = 64, n = json_object_array_length(records), keep = 0;
	for (; keep < n; keep++) {
		size_t len = 0;
		(void)json_object_to_json_string_length(json_object_array_get_idx(records, keep),
		                                        JSON_C_TO_STRING_PLAIN, &len);
		if (used + len + 1 > AUDIT_REPLY_BUDGET)
			break;
		used += len + 1;
	}
	if (keep < n) {
		json_object_array_del_idx(records, keep, n - keep);
		truncated = true;
	}
	json_object *o = param_obj("records", records);
	if (truncated)
		json_object_object_add(o, "truncated", json_object_new_boolean(true));
	return o;
}

static void
reply_audit_error(Conn *c, int r)
{
	if (r == -EINVAL)
		return reply_invalid(c, "parameters");
	conn_error(c, WIRE_ERR_INTERNAL, NULL);
}

/* The record the verification names, when cheap to find: records before a bad MAC are all
 * present, so the seq-th record in order is the one with that seq. */
static json_object *
audit_record_at(Manager *m, int64_t seq)
{
	if (seq < 1 || seq > AUDIT_SHOW_MAX_SEQ)
		return NULL;
	AuditFilter f = { .limit = seq };
	json_object *arr = NULL, *found = NULL;
	if (audit_query_json(m->audit, &f, &arr) < 0)
		return NULL;
	size_t n = json_object_array_length(arr);
	for (size_t i = n; i > 0; i--) {
		json_object *o = json_object_array_get_idx(arr, i - 1);
		if (wire_int(o, "seq", 0) == seq) {
			found = json_object_get(o);
			break;
		}
	}
	json_object_put(arr);
	return found;
}

static void
method_audit_verify(Manager *m, Conn *c, json_object *params)
{
	if (!m->audit)
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	AuditVerifyResult v = { 0 };
	int r = audit_verify(m->audit, &v);
	char detail[128];
	if (r < 0) {
		log_error_errno(r, "The audit trail could not be read for verification: %m");
		snprintf(detail, sizeof(detail), "{\"by_uid\":%u}", (unsigned)conn_peer(c)->uid);
		AuditRecord rec = { .action = "audit.verify",
			            .outcome = "fail",
			            .reason = "unreadable",
			            .detail = detail };
		(void)record_append(m, conn_caller(c), &rec, NULL, NULL);
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	}
	bool ok = v.problem == AUDIT_OK;
	const char *problem = audit_problem_name(v.problem);
	if (ok)
		log_info("Audit trail verified: %lld records intact", (long long)v.records);
	else
		log_warning("Audit trail verification failed at record %lld: %s",
		            (long long)v.first_bad_seq, problem);
	/* The verification itself is evidence (R5): a broken chain is recorded as a failure
	 * naming the problem, durable before the caller hears of it, and is an incident. */
	snprintf(detail, sizeof(detail), "{\"by_uid\":%u,\"records\":%lld,\"first_bad_seq\":%lld}",
	         (unsigned)conn_peer(c)->uid, (long long)v.records, (long long)v.first_bad_seq);
	AuditRecord rec = { .action = "audit.verify",
		            .outcome = ok ? "ok" : "fail",
		            .reason = ok ? NULL : problem,
		            .detail = detail };
	(void)record_append(m, conn_caller(c), &rec, NULL, NULL);
	if (!ok) {
		char situation[96];
		snprintf(situation, sizeof(situation), "audit verify: %s at record %lld", problem,
		         (long long)v.first_bad_seq);
		incidents_note(m->incidents, INCIDENT_AUDIT_TAMPERED, NULL, NULL, situation);
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(ok));
	json_object_object_add(o, "problem", json_object_new_string(problem));
	json_object_object_add(o, "first_bad_seq", json_object_new_int64(v.first_bad_seq));
	json_object_object_add(o, "records", json_object_new_int64(v.records));
	if (v.problem == AUDIT_BAD_MAC || v.problem == AUDIT_OUT_OF_ORDER ||
	    v.problem == AUDIT_BAD_HEAD) {
		json_object *bad = audit_record_at(m, v.first_bad_seq);
		if (bad)
			json_object_object_add(o, "record", bad);
	}
	conn_reply(c, o, false);
}

static void
method_audit_list(Manager *m, Conn *c, json_object *params)
{
	if (!m->audit)
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	AuditFilter f;
	const char *bad = audit_filter_from(params, &f);
	if (bad)
		return reply_invalid(c, bad);
	if (!f.limit)
		f.limit = 100;
	json_object *arr = NULL;
	int r = audit_query_json(m->audit, &f, &arr);
	if (r < 0)
		return reply_audit_error(c, r);
	char *detail = audit_filter_detail(c, &f, NULL);
	record_admin(m, c, NULL, NULL, "audit.list", detail);
	free(detail);
	conn_reply(c, audit_bounded_reply(arr, false), false);
}

/* Records in an export: one per line, outside CSV quotes (records hold no line breaks, but a
 * tampered database might); the CSV header is not one. -1 when the file cannot be read. */
static int64_t
audit_export_count(int fd, bool csv)
{
	int64_t n = 0;
	bool quoted = false;
	char buf[8192];
	ssize_t k;
	off_t off = 0;
	while ((k = pread(fd, buf, sizeof(buf), off)) > 0) {
		for (ssize_t i = 0; i < k; i++) {
			if (csv && buf[i] == '"')
				quoted = !quoted;
			else if (buf[i] == '\n' && !quoted)
				n++;
		}
		off += k;
	}
	if (k < 0)
		return -1;
	return csv && n > 0 ? n - 1 : n;
}

static void audit_export_confirmed(Manager *m, Conn *c, json_object *params, const char *actor,
                                   json_object *people);

static void
method_audit_export(Manager *m, Conn *c, json_object *params)
{
	if (!m->audit)
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	/* The export is a stream of chunks; a call that cannot take one gets nothing. */
	if (!conn_wants_more(c))
		return (void)conn_error(c, WIRE_ERR_NOT_PERMITTED, NULL);
	const char *format = wire_str(params, "format");
	bool csv = format && strcmp(format, "csv") == 0;
	if (!csv && !(format && strcmp(format, "jsonl") == 0))
		return reply_invalid(c, "format");
	AuditFilter f;
	const char *bad = audit_filter_from(params, &f);
	if (bad)
		return reply_invalid(c, bad);
	/* R13: an export takes the trail off the terminal: two people. */
	confirm_two_person(m, c, params, "audit-export", audit_export_confirmed);
}

static void
audit_export_confirmed(Manager *m, Conn *c, json_object *params, const char *actor,
                       json_object *people)
{
	const char *format = wire_str(params, "format");
	bool csv = format && strcmp(format, "csv") == 0;
	AuditFilter f;
	(void)audit_filter_from(params, &f);
	int fd = memfd_create("biogate-audit-export", MFD_CLOEXEC);
	int64_t records = 0;
	int r = fd < 0 ? -errno : audit_export(m->audit, &f, csv, fd);
	if (r >= 0 && (records = audit_export_count(fd, csv)) < 0)
		r = -EIO;
	if (r >= 0 && lseek(fd, 0, SEEK_SET) < 0)
		r = -errno;
	if (r < 0) {
		if (fd >= 0)
			close(fd);
		log_error_errno(r, "Audit export failed: %m");
		return reply_audit_error(c, r);
	}
	r = stream_fd(m, c, fd, param_obj("records", json_object_new_int64(records)));
	if (r < 0) {
		log_error_errno(r, "Audit export failed: %m");
		return reply_audit_error(c, r);
	}
	char *detail = audit_filter_detail(c, &f, csv ? "csv" : "jsonl");
	json_object *d = json_tokener_parse(detail ? detail : "{}");
	if (d && json_object_is_type(d, json_type_object)) {
		json_object_object_add(d, "by", json_object_new_string(actor));
		json_object_object_add(d, "confirmed_by", json_object_get(people));
	}
	record_admin(m, c, NULL, NULL, "audit.export",
	             d ? json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN) : detail);
	json_object_put(d);
	free(detail);
}

/* The fields of a record that say when, where and by whom: not the detail or the HMAC. */
static json_object *
audit_search_hit(json_object *rec)
{
	static const char *const keep[] = { "seq",         "time",   "terminal", "matching_id",
		                            "operator_id", "action", "outcome",  "reason" };
	json_object *o = json_object_new_object();
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		json_object *v = NULL;
		if (json_object_object_get_ex(rec, keep[i], &v))
			json_object_object_add(o, keep[i], json_object_get(v));
	}
	return o;
}

static void
method_audit_search_key(Manager *m, Conn *c, json_object *params)
{
	if (!m->audit)
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	json_object *kj = NULL;
	json_object_object_get_ex(params, "key", &kj);
	/* The same normalization as Authorize, whatever the class: an 11-digit resident record
	 * code was recorded by its HMAC too, so violations can be found as well (R11). */
	char norm[16] = "";
	PolicyKeyClass kc = policy_key_classify(
	    json_object_get_string(kj), (size_t)json_object_get_string_len(kj), norm, sizeof(norm));
	char hmac[65] = "";
	int r = norm[0] ? audit_key_hmac(m->audit, norm, hmac) : 0;
	explicit_bzero(norm, sizeof(norm));
	if (r < 0)
		return reply_audit_error(c, r);

	json_object *hits = json_object_new_array();
	bool truncated = false;
	int64_t lookups = 0;
	if (hmac[0]) {
		AuditFilter f = { .key_hmac = hmac, .limit = 1000 };
		json_object *arr = NULL;
		r = audit_query_json(m->audit, &f, &arr);
		if (r < 0) {
			json_object_put(hits);
			return reply_audit_error(c, r);
		}
		size_t n = json_object_array_length(arr);
		truncated = n >= 1000;
		for (size_t i = 0; i < n; i++) {
			json_object *rec = json_object_array_get_idx(arr, i);
			const char *action = wire_str(rec, "action");
			/* Earlier lookups by an auditor are not searches of the number. */
			if (action && strcmp(action, "audit.search-key") == 0) {
				lookups++;
				continue;
			}
			json_object_array_add(hits, audit_search_hit(rec));
		}
		json_object_put(arr);
	}
	bool searched = json_object_array_length(hits) > 0;
	/* The lookup is recorded with the number's HMAC only, never the number (R19). */
	char detail[64];
	snprintf(detail, sizeof(detail), "{\"by_uid\":%u}", (unsigned)conn_peer(c)->uid);
	AuditRecord rec = { .action = "audit.search-key",
		            .outcome = "ok",
		            .reason = !hmac[0]   ? "key-invalid"
		                      : searched ? "searched"
		                                 : "not-searched",
		            .detail = detail,
		            .key_hmac = hmac[0] ? hmac : NULL };
	(void)record_append(m, conn_caller(c), &rec, NULL, NULL);
	json_object *o = audit_bounded_reply(hits, truncated);
	json_object_object_add(o, "searched", json_object_new_boolean(searched));
	json_object_object_add(o, "key_class", json_object_new_string(policy_key_class_name(kc)));
	json_object_object_add(o, "earlier_lookups", json_object_new_int64(lookups));
	conn_reply(c, o, false);
}

static const WireField room_enter_fields[] = {
	{ "name", WIRE_STRING, true, 128, 0, 0 },
	{ "affiliation", WIRE_STRING, true, 128, 0, 0 },
	{ "purpose", WIRE_STRING, true, 128, 0, 0 },
};

static const WireField room_leave_fields[] = {
	{ "entry_id", WIRE_INT, true, 0, 1, INT64_MAX },
};

static const WireField room_list_fields[] = {
	{ "date", WIRE_STRING, false, 10, 0, 0 },
};

static const WireField monthly_report_fields[] = {
	{ "month", WIRE_STRING, true, 7, 0, 0 },
	{ "format", WIRE_STRING, true, 8, 0, 0 },
};

#define FIELDS(f) f, sizeof(f) / sizeof((f)[0])
#define NO_FIELDS NULL, 0

static const Method methods[] = {
	{ "org.varlink.service.GetInfo", PERM_ANYONE, method_get_info, NO_FIELDS },
	{ "io.biogate.GetStatus", PERM_ANYONE, method_get_status, NO_FIELDS },
	{ "io.biogate.AddStaff", PERM_ADMIN, method_add_staff, FIELDS(add_staff_fields) },
	{ "io.biogate.GetStaff", PERM_ADMIN, method_get_staff, FIELDS(staff_id_fields) },
	{ "io.biogate.ListStaff", PERM_ADMIN, method_list_staff, NO_FIELDS },
	{ "io.biogate.GrantOperator", PERM_ADMIN, method_grant_operator, FIELDS(grant_fields) },
	{ "io.biogate.Enroll", PERM_ADMIN, login_method_enroll, FIELDS(login_enroll_fields) },
	{ "io.biogate.CheckAccount", PERM_LOGIN, login_method_check_account,
	  FIELDS(login_account_fields) },
	{ "io.biogate.Verify", PERM_LOGIN, login_method_verify, FIELDS(login_verify_fields) },
	{ "io.biogate.OpenSession", PERM_ROOT, login_method_open_session,
	  FIELDS(login_open_session_fields) },
	{ "io.biogate.CloseSession", PERM_ROOT, login_method_close_session,
	  FIELDS(login_close_session_fields) },
	{ "io.biogate.ListSessions", PERM_ADMIN, login_method_list_sessions, NO_FIELDS },
	{ "io.biogate.EditStaff", PERM_ADMIN, method_edit_staff, FIELDS(edit_staff_fields) },
	{ "io.biogate.Unlock", PERM_ADMIN, method_unlock, FIELDS(staff_id_fields) },
	{ "io.biogate.ImportSchedule", PERM_ADMIN, method_import_schedule,
	  FIELDS(import_schedule_fields) },
	{ "io.biogate.GetSchedule", PERM_ADMIN, method_get_schedule, FIELDS(get_schedule_fields) },
	{ "io.biogate.Authorize", PERM_ANYONE, method_authorize, FIELDS(authorize_fields) },
	{ "io.biogate.WhoAmI", PERM_ANYONE, method_whoami, NO_FIELDS },
	{ "io.biogate.Lock", PERM_SESSION, sessions_method_lock, NO_FIELDS },
	{ "io.biogate.Logoff", PERM_SESSION, sessions_method_logoff, NO_FIELDS },
	{ "io.biogate.Revoke", PERM_ADMIN, custody_method_revoke, custody_revoke_fields, 3 },
	{ "io.biogate.StaffNationality", PERM_ADMIN, custody_method_nationality,
	  custody_nationality_fields, 3 },
	{ "io.biogate.StaffHistory", PERM_ADMIN, custody_method_history, custody_history_fields,
	  1 },
	{ "io.biogate.DisposalPlan", PERM_ADMIN, custody_method_disposal_plan,
	  custody_disposal_plan_fields, 5 },
	{ "io.biogate.DisposalApprove", PERM_ADMIN, custody_method_disposal_approve,
	  custody_disposal_id_fields, 3 },
	{ "io.biogate.DisposalExecute", PERM_ADMIN, custody_method_disposal_execute,
	  custody_disposal_id_fields, 3 },
	{ "io.biogate.DisposalReport", PERM_ADMIN, custody_method_disposal_report,
	  custody_disposal_id_fields, 3 },
	{ "io.biogate.AuditVerify", PERM_ADMIN, method_audit_verify, NO_FIELDS },
	{ "io.biogate.AuditList", PERM_ADMIN, method_audit_list, FIELDS(audit_list_fields) },
	{ "io.biogate.AuditExport", PERM_ADMIN, method_audit_export, FIELDS(audit_export_fields) },
	{ "io.biogate.AuditSearchKey", PERM_ADMIN, method_audit_search_key,
	  FIELDS(audit_search_key_fields) },
	{ "io.biogate.RoomEnter", PERM_ADMIN_OR_SESSION, room_method_enter,
	  FIELDS(room_enter_fields) },
	{ "io.biogate.RoomLeave", PERM_ADMIN_OR_SESSION, room_method_leave,
	  FIELDS(room_leave_fields) },
	{ "io.biogate.RoomList", PERM_ADMIN, room_method_list, FIELDS(room_list_fields) },
	{ "io.biogate.MonthlyReport", PERM_ADMIN, report_method_monthly,
	  FIELDS(monthly_report_fields) },
	{ "io.biogate.UsbAllow", PERM_ADMIN, devices_method_allow, FIELDS(devices_allow_fields) },
	{ "io.biogate.UsbRevoke", PERM_ADMIN, devices_method_revoke,
	  FIELDS(devices_serial_fields) },
	{ "io.biogate.UsbList", PERM_ADMIN, devices_method_list, NO_FIELDS },
};

void
methods_dispatch(Manager *m, Conn *c, const WireCall *call)
{
	const Method *meth = NULL;
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(call->method, methods[i].name) == 0) {
			meth = &methods[i];
			break;
		}
	if (!meth) {
		const char *dot = strrchr(call->method, '.');
		size_t iflen = dot ? (size_t)(dot - call->method) : 0;
		bool known_if =
		    (iflen == strlen(BIOGATE_INTERFACE) &&
		     strncmp(call->method, BIOGATE_INTERFACE, iflen) == 0) ||
		    (iflen == 19 && strncmp(call->method, "org.varlink.service", 19) == 0);
		if (!known_if)
			return (void)conn_error(c, WIRE_ERR_INTERFACE_NOT_FOUND, NULL);
		return (void)conn_error(c, WIRE_ERR_METHOD_NOT_FOUND, NULL);
	}

	const Peer *p = conn_peer(c);
	bool allowed = false;
	const char *why = "not-admin";
	switch (meth->perm) {
	case PERM_ANYONE:
	case PERM_LOGIN:
		allowed = true;
		break;
	case PERM_ROOT:
		allowed = p->uid == 0;
		why = "not-root";
		break;
	case PERM_ADMIN:
		allowed = caller_is_admin(m, conn_caller(c));
		break;
	case PERM_SESSION:
	case PERM_ADMIN_OR_SESSION: {
		StoreSession ss;
		allowed =
		    (meth->perm == PERM_ADMIN_OR_SESSION && caller_is_admin(m, conn_caller(c))) ||
		    (m->sessions && sessions_find_by_peer(m->sessions, p, &ss) == 0);
		why = meth->perm == PERM_SESSION ? "no-session" : "not-admin-or-session";
		break;
	}
	}
	if (allowed && meth->perm == PERM_ADMIN &&
	    policy_settings(m->policy)->admin_requires_session) {
		/* The policy wants administration done in an admin-role session too. */
		PeerSession ps;
		allowed = caller_session(m, conn_caller(c), &ps) &&
		          policy_is_admin_role(m->policy, ps.role);
		why = "no-admin-session";
	}
	if (!allowed) {
		log_info("Refused %s to uid %u pid %d", meth->name, (unsigned)p->uid, (int)p->pid);
		char detail[64];
		snprintf(detail, sizeof(detail), "{\"uid\":%u,\"pid\":%d}", (unsigned)p->uid,
		         (int)p->pid);
		AuditRecord rec = {
			.action = meth->name, .outcome = "deny", .reason = why, .detail = detail
		};
		(void)record_append(m, conn_caller(c), &rec, NULL, NULL);
		return (void)conn_error(c, WIRE_ERR_NOT_PERMITTED, NULL);
	}

	const char *bad = NULL;
	if (wire_check(call->parameters, meth->fields, meth->n_fields, &bad) < 0)
		return reply_invalid(c, bad);
	meth->fn(m, c, call->parameters);
}
