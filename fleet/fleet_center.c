/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fleet_center: the typed calls (see fleet_center.h). Each call copies what it needs into a
 * small closure, queues one statement on the FleetConn and turns the PGresult into plain
 * values. Must never trust a reply's shape: every row count and field is checked before use.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet_center.h"

typedef struct Call {
	union {
		fleet_done_cb_t done;
		fleet_open_session_cb_t open_session;
		fleet_revocations_cb_t revocations;
		fleet_audit_head_cb_t audit_head;
		fleet_ids_cb_t ids;
	} cb;
	void *userdata;
} Call;

/* The server's refusal, as an errno a caller can act on. */
static int
sqlstate_errno(int r, const PGresult *res)
{
	const char *st;

	if (r != -EIO || !res)
		return r;
	st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (!st)
		return -EIO;
	if (strcmp(st, "42501") == 0 || strncmp(st, "28", 2) == 0)
		return -EPERM; /* insufficient_privilege (and row-level security), auth */
	if (strcmp(st, "23505") == 0)
		return -EEXIST;
	if (strcmp(st, "23503") == 0)
		return -ENOENT; /* foreign key: no such person, operator ID or terminal */
	if (strcmp(st, "BG001") == 0)
		return -EILSEQ; /* fleet/sql: audit records out of order */
	if (strcmp(st, "23514") == 0 || strcmp(st, "22023") == 0 || strcmp(st, "22P02") == 0)
		return -EINVAL; /* check_violation, invalid_parameter_value, bad text */
	return -EIO;
}

static int
parse_i64(const char *s, int64_t *ret)
{
	char *end;
	long long v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* Statements that answer one integer (a count, an id). */
static void
on_done(FleetConn *c, int r, const PGresult *res, void *userdata)
{
	Call *k = userdata;
	int64_t n = 0;

	r = sqlstate_errno(r, res);
	if (r == 0 && (PQntuples(res) != 1 || PQnfields(res) != 1 || PQgetisnull(res, 0, 0)))
		r = -EINVAL;
	if (r == 0)
		r = parse_i64(PQgetvalue(res, 0, 0), &n);
	k->cb.done(r, r == 0 ? n : 0, k->userdata);
	free(k);
}

/* Queues sql with k as the closure; k is freed here on failure and by the handler otherwise. */
static int
queue_ex(FleetConn *c, Call *k, const char *stmt, bool urgent, const char *sql, int n,
         const char *const *values, const int *lengths, const int *formats, uint64_t timeout_usec,
         fleet_result_cb_t handler)
{
	int r;

	if (!k)
		return -ENOMEM;
	/* Every member is a function pointer: a missing callback reads as NULL through any. */
	if (!k->cb.done) {
		free(k);
		return -EINVAL;
	}
	r = fleet_conn_query_ex(c, stmt, urgent, sql, n, values, lengths, formats, timeout_usec,
	                        handler, k);
	if (r < 0)
		free(k);
	return r;
}

static int
queue(FleetConn *c, Call *k, const char *sql, int n, const char *const *values, const int *lengths,
      const int *formats, uint64_t timeout_usec, fleet_result_cb_t handler)
{
	return queue_ex(c, k, NULL, false, sql, n, values, lengths, formats, timeout_usec, handler);
}

#define CALL(member, fn, ud)                                                                       \
	({                                                                                         \
		Call *_k = calloc(1, sizeof(Call));                                                \
		if (_k) {                                                                          \
			_k->cb.member = (fn);                                                      \
			_k->userdata = (ud);                                                       \
		}                                                                                  \
		_k;                                                                                \
	})

static void
on_open_session(FleetConn *c, int r, const PGresult *res, void *userdata)
{
	Call *k = userdata;
	int64_t id = 0;
	const char *holder = NULL;

	r = sqlstate_errno(r, res);
	if (r == 0) {
		if (PQntuples(res) != 1 || PQnfields(res) != 2)
			r = -EINVAL;
		else if (!PQgetisnull(res, 0, 0))
			r = parse_i64(PQgetvalue(res, 0, 0), &id);
		else if (!PQgetisnull(res, 0, 1))
			holder = PQgetvalue(res, 0, 1);
		else
			r = -EINVAL;
		if (r == 0 && id <= 0 && !holder)
			r = -EINVAL;
	}
	k->cb.open_session(r, r == 0 ? id : 0, r == 0 ? holder : NULL, k->userdata);
	free(k);
}

int
fleet_center_open_session(FleetConn *c, int64_t local_id, const char *matching_id,
                          const char *operator_id, int lease_seconds, uint64_t timeout_usec,
                          fleet_open_session_cb_t cb, void *userdata)
{
	char id[24], lease[16];
	const char *values[4] = { id, matching_id, operator_id, lease };

	if (!matching_id || !operator_id || local_id <= 0 || lease_seconds <= 0)
		return -EINVAL;
	snprintf(id, sizeof(id), "%lld", (long long)local_id);
	snprintf(lease, sizeof(lease), "%d", lease_seconds);
	return queue_ex(c, CALL(open_session, cb, userdata), "bg_open_session", true,
	                "SELECT id, holder FROM biogate_fleet.open_session($1, $2, $3, $4)", 4,
	                values, NULL, NULL, timeout_usec, on_open_session);
}

int
fleet_center_close_session(FleetConn *c, const char *matching_id, const char *reason,
                           uint64_t timeout_usec, fleet_done_cb_t cb, void *userdata)
{
	const char *values[2] = { matching_id, reason };

	if (!matching_id || !reason)
		return -EINVAL;
	/* Row-level security limits this to the terminal's own sessions. */
	return queue_ex(c, CALL(done, cb, userdata), "bg_close_session", false,
	                "WITH u AS (UPDATE biogate_fleet.sessions SET closed_at = now(), "
	                "close_reason = $2 WHERE terminal = biogate_fleet.my_terminal() "
	                "AND matching_id = $1 AND closed_at IS NULL RETURNING 1) "
	                "SELECT count(*) FROM u",
	                2, values, NULL, NULL, timeout_usec, on_done);
}

static void
on_ids(FleetConn *c, int r, const PGresult *res, void *userdata)
{
	Call *k = userdata;
	const char **ids = NULL;
	size_t n = 0;

	r = sqlstate_errno(r, res);
	if (r == 0 && PQnfields(res) != 1)
		r = -EINVAL;
	if (r == 0 && PQntuples(res) > 0) {
		n = (size_t)PQntuples(res);
		ids = calloc(n, sizeof(*ids));
		if (!ids)
			r = -ENOMEM;
		for (size_t i = 0; r == 0 && i < n; i++) {
			if (PQgetisnull(res, (int)i, 0))
				r = -EINVAL;
			else
				ids[i] = PQgetvalue(res, (int)i, 0);
		}
	}
	k->cb.ids(r, r == 0 ? ids : NULL, r == 0 ? n : 0, k->userdata);
	free(ids);
	free(k);
}

int
fleet_center_open_sessions(FleetConn *c, uint64_t timeout_usec, fleet_ids_cb_t cb, void *userdata)
{
	return queue(c, CALL(ids, cb, userdata),
	             "SELECT matching_id FROM biogate_fleet.sessions WHERE terminal = "
	             "biogate_fleet.my_terminal() AND closed_at IS NULL ORDER BY matching_id",
	             0, NULL, NULL, NULL, timeout_usec, on_ids);
}

int
fleet_center_heartbeat(FleetConn *c, int lease_seconds, int64_t queued, int64_t local_seq,
                       uint64_t timeout_usec, fleet_done_cb_t cb, void *userdata)
{
	char lease[16], q[24], s[24];
	const char *values[3] = { lease, q, s };

	if (lease_seconds <= 0)
		return -EINVAL;
	snprintf(lease, sizeof(lease), "%d", lease_seconds);
	snprintf(q, sizeof(q), "%lld", (long long)queued);
	snprintf(s, sizeof(s), "%lld", (long long)local_seq);
	/* One round trip: extend our leases, then reap whoever stopped extending theirs. */
	return queue_ex(c, CALL(done, cb, userdata), "bg_heartbeat", false,
	                "SELECT biogate_fleet.heartbeat($1, $2, $3) + 0 * "
	                "biogate_fleet.reap_sessions()",
	                3, values, NULL, NULL, timeout_usec, on_done);
}

int
fleet_center_revoke(FleetConn *c, const char *terminal, const char *matching_id, const char *reason,
                    uint64_t timeout_usec, fleet_done_cb_t cb, void *userdata)
{
	const char *values[3] = { matching_id, reason, terminal };

	if (!terminal || !matching_id || !reason)
		return -EINVAL;
	return queue(c, CALL(done, cb, userdata),
	             "WITH i AS (INSERT INTO biogate_fleet.revocations (matching_id, reason, "
	             "revoked_on) SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT FROM "
	             "biogate_fleet.staff WHERE matching_id = $1 AND state = 'revoked') "
	             "RETURNING id) SELECT coalesce(max(id), 0) FROM i",
	             3, values, NULL, NULL, timeout_usec, on_done);
}

static void
on_revocations(FleetConn *c, int r, const PGresult *res, void *userdata)
{
	Call *k = userdata;
	FleetRevocation *list = NULL;
	size_t n = 0;

	r = sqlstate_errno(r, res);
	if (r == 0 && PQnfields(res) != 5)
		r = -EINVAL;
	if (r == 0 && PQntuples(res) > 0) {
		n = (size_t)PQntuples(res);
		list = calloc(n, sizeof(*list));
		if (!list)
			r = -ENOMEM;
		for (size_t i = 0; r == 0 && i < n; i++) {
			int row = (int)i;

			if (PQgetisnull(res, row, 0) || PQgetisnull(res, row, 1) ||
			    PQgetisnull(res, row, 2) || PQgetisnull(res, row, 4)) {
				r = -EINVAL;
				break;
			}
			r = parse_i64(PQgetvalue(res, row, 0), &list[i].id);
			if (r == 0)
				r = parse_i64(PQgetvalue(res, row, 4), &list[i].revoked_at_usec);
			list[i].matching_id = PQgetvalue(res, row, 1);
			list[i].reason = PQgetvalue(res, row, 2);
			list[i].revoked_on =
			    PQgetisnull(res, row, 3) ? NULL : PQgetvalue(res, row, 3);
			/* Oldest first, strictly: the caller keeps the last id as its mark. */
			if (r == 0 && i > 0 && list[i].id <= list[i - 1].id)
				r = -EINVAL;
		}
	}
	k->cb.revocations(r, r == 0 ? list : NULL, r == 0 ? n : 0, k->userdata);
	free(list);
	free(k);
}

int
fleet_center_revocations_since(FleetConn *c, int64_t after_id, int limit, uint64_t timeout_usec,
                               fleet_revocations_cb_t cb, void *userdata)
{
	char a[24], l[16];
	const char *values[2] = { a, l };

	if (after_id < 0 || limit < 1 || limit > 1000)
		return -EINVAL;
	snprintf(a, sizeof(a), "%lld", (long long)after_id);
	snprintf(l, sizeof(l), "%d", limit);
	return queue_ex(c, CALL(revocations, cb, userdata), "bg_revocations", false,
	                "SELECT id, matching_id, reason, revoked_on, "
	                "(extract(epoch FROM revoked_at) * 1000000)::bigint "
	                "FROM biogate_fleet.revocations WHERE id > $1 ORDER BY id LIMIT $2",
	                2, values, NULL, NULL, timeout_usec, on_revocations);
}

int
fleet_center_put_template(FleetConn *c, const char *terminal, const char *matching_id,
                          const char *finger, const uint8_t *sealed, size_t sealed_len,
                          uint64_t timeout_usec, fleet_done_cb_t cb, void *userdata)
{
	const char *values[4] = { matching_id, finger, (const char *)sealed, terminal };
	int lengths[4] = { 0, 0, (int)sealed_len, 0 };
	int formats[4] = { 0, 0, 1, 0 };

	if (!terminal || !matching_id || !finger || !sealed || sealed_len == 0 ||
	    sealed_len > 65536)
		return -EINVAL;
	return queue(
	    c, CALL(done, cb, userdata),
	    "INSERT INTO biogate_fleet.templates (matching_id, finger, sealed, enrolled_on) "
	    "VALUES ($1, $2, $3, $4) ON CONFLICT (matching_id, finger) DO UPDATE SET "
	    "sealed = EXCLUDED.sealed, enrolled_at = now(), enrolled_on = "
	    "EXCLUDED.enrolled_on RETURNING 1",
	    4, values, lengths, formats, timeout_usec, on_done);
}

static int
unhex_mac(const char *s, uint8_t mac[FLEET_MAC_LEN])
{
	/* bytea in text form: \x and two hex digits a byte. */
	if (!s || strlen(s) != 2 + 2 * FLEET_MAC_LEN || s[0] != '\\' || s[1] != 'x')
		return -EINVAL;
	for (size_t i = 0; i < FLEET_MAC_LEN; i++) {
		unsigned v;

		if (sscanf(s + 2 + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		mac[i] = (uint8_t)v;
	}
	return 0;
}

static void
on_audit_head(FleetConn *c, int r, const PGresult *res, void *userdata)
{
	Call *k = userdata;
	uint8_t mac[FLEET_MAC_LEN];
	int64_t seq = 0;
	bool have = false;

	r = sqlstate_errno(r, res);
	if (r == 0 && (PQnfields(res) != 2 || PQntuples(res) > 1))
		r = -EINVAL;
	if (r == 0 && PQntuples(res) == 1) {
		r = parse_i64(PQgetvalue(res, 0, 0), &seq);
		if (r == 0)
			r = unhex_mac(PQgetvalue(res, 0, 1), mac);
		have = r == 0;
	}
	k->cb.audit_head(r, r == 0 ? seq : 0, have ? mac : NULL, k->userdata);
	free(k);
}

int
fleet_center_audit_head(FleetConn *c, const char *terminal, uint64_t timeout_usec,
                        fleet_audit_head_cb_t cb, void *userdata)
{
	const char *values[1] = { terminal };

	if (!terminal)
		return -EINVAL;
	return queue_ex(c, CALL(audit_head, cb, userdata), "bg_audit_head", false,
	                "SELECT seq, mac FROM biogate_fleet.audit_records WHERE terminal = $1 "
	                "ORDER BY seq DESC LIMIT 1",
	                1, values, NULL, NULL, timeout_usec, on_audit_head);
}

#define UPLOAD_COLS 12

int
fleet_center_audit_upload(FleetConn *c, const char *terminal, const FleetAuditRow *rows,
                          size_t n_rows, uint64_t timeout_usec, fleet_done_cb_t cb, void *userdata)
{
	static const char head[] =
	    "WITH i AS (INSERT INTO biogate_fleet.audit_records (terminal, seq, time, "
	    "rec_terminal, "
	    "matching_id, operator_id, action, outcome, reason, detail, key_hmac, mac) VALUES ";
	static const char tail[] =
	    " ON CONFLICT (terminal, seq) DO NOTHING RETURNING 1) SELECT count(*) FROM i";
	const char **values = NULL;
	int *lengths = NULL, *formats = NULL, r;
	char *sql = NULL, *p, (*nums)[2][24] = NULL;
	size_t n_params, cap;

	if (!terminal || !rows || n_rows == 0 || n_rows > FLEET_UPLOAD_BATCH_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n_rows; i++)
		if (!rows[i].action || !rows[i].outcome || rows[i].seq <= 0 ||
		    (i > 0 && rows[i].seq != rows[i - 1].seq + 1))
			return -EINVAL;

	n_params = n_rows * UPLOAD_COLS;
	/* "($1,$2,...,$12)," with up to 4 digits a number. */
	cap = sizeof(head) + sizeof(tail) + n_rows * (UPLOAD_COLS * 7 + 4);
	sql = malloc(cap);
	values = calloc(n_params, sizeof(*values));
	lengths = calloc(n_params, sizeof(*lengths));
	formats = calloc(n_params, sizeof(*formats));
	nums = calloc(n_rows, sizeof(*nums));
	if (!sql || !values || !lengths || !formats || !nums) {
		r = -ENOMEM;
		goto out;
	}
	p = sql + sprintf(sql, "%s", head);
	for (size_t i = 0; i < n_rows; i++) {
		const FleetAuditRow *w = &rows[i];
		size_t b = i * UPLOAD_COLS;
		const char *text[UPLOAD_COLS] = {
			terminal,       nums[i][0],     nums[i][1],  w->terminal,
			w->matching_id, w->operator_id, w->action,   w->outcome,
			w->reason,      w->detail,      w->key_hmac, NULL,
		};

		snprintf(nums[i][0], sizeof(nums[i][0]), "%lld", (long long)w->seq);
		snprintf(nums[i][1], sizeof(nums[i][1]), "%lld", (long long)w->time_usec);
		for (size_t j = 0; j < UPLOAD_COLS - 1; j++)
			values[b + j] = text[j];
		values[b + UPLOAD_COLS - 1] = (const char *)w->mac;
		lengths[b + UPLOAD_COLS - 1] = FLEET_MAC_LEN;
		formats[b + UPLOAD_COLS - 1] = 1;
		p += sprintf(p, "%s(", i ? "," : "");
		for (size_t j = 0; j < UPLOAD_COLS; j++)
			p += sprintf(p, "%s$%zu", j ? "," : "", b + j + 1);
		*p++ = ')';
	}
	strcpy(p, tail);
	r = queue(c, CALL(done, cb, userdata), sql, (int)n_params, values, lengths, formats,
	          timeout_usec, on_done);
out:
	free(sql);
	free(values);
	free(lengths);
	free(formats);
	free(nums);
	return r;
}
