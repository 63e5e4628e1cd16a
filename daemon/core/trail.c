/* SPDX-License-Identifier: GPL-2.0-or-later */
/* trail: see trail.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "actor.h"
#include "caller.h"
#include "incidents.h"
#include "log.h"
#include "manager.h"
#include "policy.h"
#include "record.h"
#include "trail.h"

/* AuditVerify shows the bad record when finding it costs at most this many rows. */
#define AUDIT_SHOW_MAX_SEQ 10000

static void
record_admin(Manager *m, Caller *c, const char *action, const char *detail)
{
	AuditRecord rec = { .action = action, .outcome = "ok", .detail = detail };
	(void)record_append(m, c, &rec, NULL, NULL);
}

/* What an audit query asked for, as the detail of its own record: the filters name whom it
 * was about, while the record's own IDs stay those of the actor (none: an admin's uid). */
static char *
audit_filter_detail(Manager *m, Caller *c, const AuditFilter *f, const char *format)
{
	json_object *d = json_object_new_object();
	actor_describe(m, c, d); /* by_uid, by_loginuid, by_matching_id (actor.h) */
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

int
trail_verify(Manager *m, Caller *c, AuditVerifyResult *ret, json_object **ret_record)
{
	AuditVerifyResult v = { 0 };
	*ret_record = NULL;
	int r = audit_verify(m->audit, &v);
	char detail[128];
	if (r < 0) {
		log_error_errno(r, "The audit trail could not be read for verification: %m");
		snprintf(detail, sizeof(detail), "{\"by_uid\":%u}", (unsigned)c->peer.uid);
		AuditRecord rec = { .action = "audit.verify",
			            .outcome = "fail",
			            .reason = "unreadable",
			            .detail = detail };
		(void)record_append(m, c, &rec, NULL, NULL);
		return r;
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
	         (unsigned)c->peer.uid, (long long)v.records, (long long)v.first_bad_seq);
	AuditRecord rec = { .action = "audit.verify",
		            .outcome = ok ? "ok" : "fail",
		            .reason = ok ? NULL : problem,
		            .detail = detail };
	(void)record_append(m, c, &rec, NULL, NULL);
	if (!ok) {
		char situation[96];
		snprintf(situation, sizeof(situation), "audit verify: %s at record %lld", problem,
		         (long long)v.first_bad_seq);
		incidents_note(m->incidents, INCIDENT_AUDIT_TAMPERED, NULL, NULL, situation);
	}
	if (v.problem == AUDIT_BAD_MAC || v.problem == AUDIT_OUT_OF_ORDER ||
	    v.problem == AUDIT_BAD_HEAD || v.problem == AUDIT_BAD_HASH ||
	    v.problem == AUDIT_UNSEALED)
		*ret_record = audit_record_at(m, v.first_bad_seq);
	*ret = v;
	return 0;
}

int
trail_list(Manager *m, Caller *c, AuditFilter *f, json_object **ret)
{
	if (!f->limit)
		f->limit = 100;
	json_object *arr = NULL;
	int r = audit_query_json(m->audit, f, &arr);
	if (r < 0)
		return r;
	char *detail = audit_filter_detail(m, c, f, NULL);
	record_admin(m, c, "audit.list", detail);
	free(detail);
	*ret = arr;
	return 0;
}

/* The export is read from the trail in steps while it streams, so that a long export never
 * stops the daemon answering others; the caller frees it with audit_export_free(). */
int
trail_export(Manager *m, const AuditFilter *f, bool csv, AuditExport **ret)
{
	int r = audit_export_begin(m->audit, f, csv, ret);
	if (r < 0)
		return log_error_errno(r, "Audit export failed: %m");
	return 0;
}

void
trail_exported(Manager *m, Caller *c, const AuditFilter *f, const char *format, const char *actor,
               json_object *people)
{
	char *detail = audit_filter_detail(m, c, f, format);
	json_object *d = json_tokener_parse(detail ? detail : "{}");
	if (d && json_object_is_type(d, json_type_object)) {
		json_object_object_add(d, "by", json_object_new_string(actor));
		json_object_object_add(d, "confirmed_by", json_object_get(people));
	}
	record_admin(m, c, "audit.export",
	             d ? json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN) : detail);
	json_object_put(d);
	free(detail);
}

int
trail_export_sealed(Manager *m, const AuditFilter *f, AuditExport **ret)
{
	int r = audit_export_sealed_begin(m->audit, f->since_usec, f->until_usec, ret);
	if (r < 0)
		return log_error_errno(r, "Sealed audit export failed: %m");
	return 0;
}

int
trail_keys(Manager *m, Caller *c, char **ret_text, char ret_fingerprint[static 65])
{
	int r = audit_seal_keys_text(m->audit, ret_text, ret_fingerprint);
	if (r < 0)
		return log_error_errno(r, "The audit trail's public keys could not be read: %m");
	char detail[160];
	snprintf(detail, sizeof(detail), "{\"by_uid\":%u,\"fingerprint\":\"%s\"}",
	         (unsigned)c->peer.uid, ret_fingerprint);
	record_admin(m, c, "audit.keys-export", detail);
	return 0;
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

int
trail_search_key(Manager *m, Caller *c, const char *key, size_t key_len, TrailSearch *ret)
{
	/* The same normalization as Authorize, whatever the class: an 11-digit resident record
	 * code was recorded by its HMAC too, so violations can be found as well (R11). */
	char norm[16] = "";
	PolicyKeyClass kc = policy_key_classify(key, key_len, norm, sizeof(norm));
	char hmac[65] = "";
	int r = norm[0] ? audit_key_hmac(m->audit, norm, hmac) : 0;
	explicit_bzero(norm, sizeof(norm));
	if (r < 0)
		return r;

	json_object *hits = json_object_new_array();
	bool truncated = false;
	int64_t lookups = 0;
	if (hmac[0]) {
		AuditFilter f = { .key_hmac = hmac, .limit = 1000 };
		json_object *arr = NULL;
		r = audit_query_json(m->audit, &f, &arr);
		if (r < 0) {
			json_object_put(hits);
			return r;
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
	snprintf(detail, sizeof(detail), "{\"by_uid\":%u}", (unsigned)c->peer.uid);
	AuditRecord rec = { .action = "audit.search-key",
		            .outcome = "ok",
		            .reason = !hmac[0]   ? "key-invalid"
		                      : searched ? "searched"
		                                 : "not-searched",
		            .detail = detail,
		            .key_hmac = hmac[0] ? hmac : NULL };
	(void)record_append(m, c, &rec, NULL, NULL);
	*ret = (TrailSearch){ .hits = hits,
		              .truncated = truncated,
		              .searched = searched,
		              .earlier_lookups = lookups,
		              .key_class = policy_key_class_name(kc) };
	return 0;
}
