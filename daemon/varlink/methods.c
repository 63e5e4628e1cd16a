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
	{ "io.biogate.AddStaff", PERM_ADMIN, staff_method_add, FIELDS(staff_add_fields) },
	{ "io.biogate.GetStaff", PERM_ADMIN, staff_method_get, FIELDS(staff_id_fields) },
	{ "io.biogate.ListStaff", PERM_ADMIN, staff_method_list, NO_FIELDS },
	{ "io.biogate.GrantOperator", PERM_ADMIN, staff_method_grant, FIELDS(staff_grant_fields) },
	{ "io.biogate.Enroll", PERM_ADMIN, login_method_enroll, FIELDS(login_enroll_fields) },
	{ "io.biogate.CheckAccount", PERM_LOGIN, login_method_check_account,
	  FIELDS(login_account_fields) },
	{ "io.biogate.Verify", PERM_LOGIN, login_method_verify, FIELDS(login_verify_fields) },
	{ "io.biogate.OpenSession", PERM_ROOT, login_method_open_session,
	  FIELDS(login_open_session_fields) },
	{ "io.biogate.CloseSession", PERM_ROOT, login_method_close_session,
	  FIELDS(login_close_session_fields) },
	{ "io.biogate.ListSessions", PERM_ADMIN, login_method_list_sessions, NO_FIELDS },
	{ "io.biogate.EditStaff", PERM_ADMIN, staff_method_edit, FIELDS(staff_edit_fields) },
	{ "io.biogate.Unlock", PERM_ADMIN, staff_method_unlock, FIELDS(staff_id_fields) },
	{ "io.biogate.ImportSchedule", PERM_ADMIN, staff_method_import_schedule,
	  FIELDS(schedule_import_fields) },
	{ "io.biogate.GetSchedule", PERM_ADMIN, staff_method_get_schedule,
	  FIELDS(schedule_get_fields) },
	{ "io.biogate.Authorize", PERM_ANYONE, authorize_method_authorize,
	  FIELDS(authorize_fields) },
	{ "io.biogate.WhoAmI", PERM_ANYONE, authorize_method_whoami, NO_FIELDS },
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
