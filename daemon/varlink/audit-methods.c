/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * audit-methods: the audit trail for an auditor (admin; R5, R19).
 *   io.biogate.AuditVerify {}, AuditList {filters}, AuditExport {format, filters,
 *   confirm_by?} (more; two people when the policy says so), AuditSearchKey {key},
 *   AuditKeys {} (the seals' public key list).
 */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "manager.h"
#include "handlers.h"
#include "reply.h"
#include "stream.h"
#include "trail.h"

/* A reply must fit the client's 64 KiB message cap with its envelope: lists are cut here. */
#define AUDIT_REPLY_BUDGET (60u * 1024u)

static json_object *
param_obj(const char *key, json_object *val)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, key, val);
	return o;
}

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
void
audit_method_verify(Manager *m, Conn *c, json_object *params)
{
	if (!m->audit)
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	AuditVerifyResult v;
	json_object *bad = NULL;
	if (trail_verify(m, conn_caller(c), &v, &bad) < 0)
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(v.problem == AUDIT_OK));
	json_object_object_add(o, "problem", json_object_new_string(audit_problem_name(v.problem)));
	json_object_object_add(o, "first_bad_seq", json_object_new_int64(v.first_bad_seq));
	json_object_object_add(o, "records", json_object_new_int64(v.records));
	json_object_object_add(o, "checkpoints", json_object_new_int64(v.checkpoints));
	json_object_object_add(o, "unsealed", json_object_new_int64(v.unsealed));
	if (v.checkpoint_seq > 0)
		json_object_object_add(o, "checkpoint_seq",
		                       json_object_new_int64(v.checkpoint_seq));
	if (bad)
		json_object_object_add(o, "record", bad);
	conn_reply(c, o, false);
}

void
audit_method_list(Manager *m, Conn *c, json_object *params)
{
	if (!m->audit)
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	AuditFilter f;
	const char *bad = audit_filter_from(params, &f);
	if (bad)
		return reply_invalid(c, bad);
	json_object *arr = NULL;
	int r = trail_list(m, conn_caller(c), &f, &arr);
	if (r < 0)
		return reply_audit_error(c, r);
	conn_reply(c, audit_bounded_reply(arr, false), false);
}

static ssize_t
audit_export_stream_read(void *userdata, char *buf, size_t size)
{
	return audit_export_read(userdata, buf, size);
}

static json_object *
audit_export_stream_final(void *userdata)
{
	return param_obj("records", json_object_new_int64(audit_export_records(userdata)));
}

static void
audit_export_stream_free(void *userdata)
{
	audit_export_free(userdata);
}

static const StreamReader audit_export_stream = {
	.read = audit_export_stream_read,
	.final = audit_export_stream_final,
	.free = audit_export_stream_free,
};

static void
audit_export_confirmed(Manager *m, Conn *c, json_object *params, const char *actor,
                       json_object *people)
{
	const char *format = wire_str(params, "format");
	bool csv = format && strcmp(format, "csv") == 0;
	bool sealed = format && strcmp(format, "sealed") == 0;
	AuditFilter f;
	(void)audit_filter_from(params, &f);
	AuditExport *x = NULL;
	int r = sealed ? trail_export_sealed(m, &f, &x) : trail_export(m, &f, csv, &x);
	if (r >= 0)
		r = stream_reader(m, c, &audit_export_stream, x);
	if (r < 0) {
		log_error_errno(r, "Audit export failed: %m");
		return reply_audit_error(c, r);
	}
	trail_exported(m, conn_caller(c), &f,
	               csv      ? "csv"
	               : sealed ? "sealed"
	                        : "jsonl",
	               actor, people);
}

void
audit_method_export(Manager *m, Conn *c, json_object *params)
{
	if (!m->audit)
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	/* The export is a stream of chunks; a call that cannot take one gets nothing. */
	if (!conn_wants_more(c))
		return (void)conn_error(c, WIRE_ERR_NOT_PERMITTED, NULL);
	const char *format = wire_str(params, "format");
	bool csv = format && strcmp(format, "csv") == 0;
	bool sealed = format && strcmp(format, "sealed") == 0;
	if (!csv && !sealed && !(format && strcmp(format, "jsonl") == 0))
		return reply_invalid(c, "format");
	AuditFilter f;
	const char *bad = audit_filter_from(params, &f);
	if (bad)
		return reply_invalid(c, bad);
	/* A chain is verified whole: the sealed export takes a time range, no other filter. */
	if (sealed && (f.matching_id || f.operator_id || f.action || f.outcome || f.limit))
		return reply_invalid(c, f.matching_id   ? "matching_id"
		                        : f.operator_id ? "operator_id"
		                        : f.action      ? "action"
		                        : f.outcome     ? "outcome"
		                                        : "limit");
	/* R13: an export takes the trail off the terminal: two people. */
	confirm_two_person(m, c, params, "audit-export", audit_export_confirmed);
}

void
audit_method_search_key(Manager *m, Conn *c, json_object *params)
{
	if (!m->audit)
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	json_object *kj = NULL;
	json_object_object_get_ex(params, "key", &kj);
	TrailSearch t;
	int r = trail_search_key(m, conn_caller(c), json_object_get_string(kj),
	                         (size_t)json_object_get_string_len(kj), &t);
	if (r < 0)
		return reply_audit_error(c, r);
	json_object *o = audit_bounded_reply(t.hits, t.truncated);
	json_object_object_add(o, "searched", json_object_new_boolean(t.searched));
	json_object_object_add(o, "key_class", json_object_new_string(t.key_class));
	json_object_object_add(o, "earlier_lookups", json_object_new_int64(t.earlier_lookups));
	conn_reply(c, o, false);
}

void
audit_method_keys(Manager *m, Conn *c, json_object *params)
{
	if (!m->audit)
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	char *text = NULL, fp[65];
	int r = trail_keys(m, conn_caller(c), &text, fp);
	if (r < 0)
		return reply_audit_error(c, r);
	json_object *o = param_obj("keys", json_object_new_string(text));
	json_object_object_add(o, "fingerprint", json_object_new_string(fp));
	free(text);
	conn_reply(c, o, false);
}
