/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * report: R18, the monthly self-inspection report. Reads one local calendar month of the
 * audit trail (logins, denials and violations by reason, incidents, revocations, room
 * entries), the roster (who lacks a pledge or training) and the chain's verification, and
 * answers with one JSON document, streamed in chunks (biogatectl renders the page).
 * It only reads: the one thing it writes is the audit record saying who produced a report
 * for which month. The month is read as a JSON Lines export into memory-backed file and
 * parsed one record at a time, so a busy month never becomes one huge JSON tree.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "caller.h"
#include "clock.h"
#include "log.h"
#include "manager.h"
#include "record.h"
#include "report.h"
#include "store.h"

#define USEC_PER_SEC INT64_C(1000000)
/* Raw bytes of the document per chunk, and the same bytes' worst size once escaped into a
 * JSON string, which must stay under the wire's 64 KiB message. */
/* One chunk per tick: the server drops a client with 1 MiB unsent, and the pace is the
 * only backpressure a handler has (as for AuditExport). */
/* Distinct reasons and rules kept apart; more are counted under "other". */
#define REPORT_KEYS_MAX 64
/* Incident and revocation rows listed (all are counted). */
#define REPORT_ROWS_MAX 200
/* One exported record, at most (every field is bounded by audit_append). */
#define REPORT_LINE_MAX (64u * 1024u)

typedef struct Tally {
	char *key[REPORT_KEYS_MAX + 1];
	int64_t count[REPORT_KEYS_MAX + 1];
	size_t n;
} Tally;

static void
tally_add(Tally *t, const char *key)
{
	if (!key || !*key)
		key = "unspecified";
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->key[i], key) == 0) {
			t->count[i]++;
			return;
		}
	if (t->n == REPORT_KEYS_MAX)
		key = "other";
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->key[i], key) == 0) {
			t->count[i]++;
			return;
		}
	char *k = strdup(key);
	if (!k)
		return;
	t->key[t->n] = k;
	t->count[t->n++] = 1;
}

static void
tally_clear(Tally *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->key[i]);
	t->n = 0;
}

/* [{<name>: key, count}], most frequent first, then by name: stable for equal data. */
static json_object *
tally_json(Tally *t, const char *name)
{
	size_t idx[REPORT_KEYS_MAX + 1];
	for (size_t i = 0; i < t->n; i++)
		idx[i] = i;
	for (size_t i = 1; i < t->n; i++)
		for (size_t j = i; j > 0; j--) {
			size_t a = idx[j - 1], b = idx[j];
			if (t->count[a] > t->count[b] ||
			    (t->count[a] == t->count[b] && strcmp(t->key[a], t->key[b]) <= 0))
				break;
			idx[j - 1] = b;
			idx[j] = a;
		}
	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < t->n; i++) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, name, json_object_new_string(t->key[idx[i]]));
		json_object_object_add(o, "count", json_object_new_int64(t->count[idx[i]]));
		json_object_array_add(arr, o);
	}
	return arr;
}

typedef struct Month {
	int year, month, days;
	int64_t from, to; /* local midnight of the 1st and of the next month's 1st */
	int64_t logins[31], denials[31], violations[31], incidents[31];
	int64_t records, room_entries, room_visitors, room_staff;
	int64_t n_incidents, n_revocations;
	Tally denial_reasons, violation_reasons, incident_rules;
	json_object *incident_rows, *revocation_rows;
} Month;

/* "YYYY-MM" → the month's bounds in local time; -EINVAL when malformed. */
static int
report_parse_month(const char *s, Month *m)
{
	if (!s || strlen(s) != 7 || s[4] != '-')
		return -EINVAL;
	for (size_t i = 0; i < 7; i++)
		if (i != 4 && (s[i] < '0' || s[i] > '9'))
			return -EINVAL;
	int y = atoi(s), mo = atoi(s + 5);
	if (y < 2000 || y > 2999 || mo < 1 || mo > 12)
		return -EINVAL;
	struct tm a = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = 1, .tm_isdst = -1 };
	struct tm b = { .tm_year = y - 1900, .tm_mon = mo, .tm_mday = 1, .tm_isdst = -1 };
	struct tm last = { .tm_year = y - 1900, .tm_mon = mo, .tm_mday = 0, .tm_isdst = -1 };
	time_t ta = mktime(&a), tb = mktime(&b);
	if (ta == (time_t)-1 || tb == (time_t)-1 || mktime(&last) == (time_t)-1)
		return -EINVAL;
	m->year = y;
	m->month = mo;
	m->days = last.tm_mday;
	m->from = (int64_t)ta * USEC_PER_SEC;
	m->to = (int64_t)tb * USEC_PER_SEC;
	return 0;
}

static const char *
rec_str(json_object *o, const char *key)
{
	json_object *v = NULL;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int64_t
rec_int(json_object *o, const char *key)
{
	json_object *v = NULL;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return 0;
	return json_object_get_int64(v);
}

/* The record's detail as an object (NULL when absent or not JSON). */
static json_object *
rec_detail(json_object *rec)
{
	const char *d = rec_str(rec, "detail");
	json_object *o = d ? json_tokener_parse(d) : NULL;
	if (o && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

static void
row_copy(json_object *dst, json_object *src, const char *key)
{
	json_object *v = NULL;
	if (json_object_object_get_ex(src, key, &v))
		json_object_object_add(dst, key, json_object_get(v));
	else
		json_object_object_add(dst, key, NULL);
}

static void
month_add_record(Month *m, json_object *rec)
{
	int64_t t = rec_int(rec, "time");
	if (t < m->from || t >= m->to)
		return;
	time_t secs = (time_t)(t / USEC_PER_SEC);
	struct tm tm;
	if (!localtime_r(&secs, &tm))
		return;
	int day = tm.tm_mday - 1;
	if (day < 0 || day >= m->days)
		return;
	m->records++;
	const char *action = rec_str(rec, "action"), *outcome = rec_str(rec, "outcome");
	const char *reason = rec_str(rec, "reason");
	if (!action || !outcome)
		return;

	if (strcmp(action, "session.open") == 0 && strcmp(outcome, "ok") == 0)
		m->logins[day]++;
	bool violation = strcmp(outcome, "violation") == 0;
	if (violation || strcmp(outcome, "deny") == 0) {
		m->denials[day]++;
		tally_add(&m->denial_reasons, reason);
		if (violation) {
			m->violations[day]++;
			tally_add(&m->violation_reasons, reason);
		}
	}
	/* incident.notify records (the contact's command ran) are not incidents themselves. */
	if (strncmp(action, "incident.", 9) == 0 && action[9] && strcmp(outcome, "incident") == 0) {
		m->incidents[day]++;
		m->n_incidents++;
		tally_add(&m->incident_rules, action + 9);
		if (json_object_array_length(m->incident_rows) < REPORT_ROWS_MAX) {
			json_object *d = rec_detail(rec);
			json_object *o = json_object_new_object();
			row_copy(o, rec, "seq");
			row_copy(o, rec, "time");
			json_object_object_add(o, "rule", json_object_new_string(action + 9));
			row_copy(o, rec, "matching_id");
			row_copy(o, rec, "terminal");
			json_object_object_add(o, "count",
			                       json_object_new_int64(d ? rec_int(d, "count") : 0));
			const char *sit = d ? rec_str(d, "situation") : NULL;
			json_object_object_add(o, "situation",
			                       sit ? json_object_new_string(sit) : NULL);
			json_object_array_add(m->incident_rows, o);
			json_object_put(d);
		}
	}
	if (strcmp(action, "staff.revoke") == 0 && strcmp(outcome, "ok") == 0) {
		m->n_revocations++;
		if (json_object_array_length(m->revocation_rows) < REPORT_ROWS_MAX) {
			json_object *o = json_object_new_object();
			row_copy(o, rec, "seq");
			row_copy(o, rec, "time");
			row_copy(o, rec, "matching_id");
			row_copy(o, rec, "reason");
			json_object_array_add(m->revocation_rows, o);
		}
	}
	if (strcmp(action, "room.enter") == 0 && strcmp(outcome, "ok") == 0) {
		json_object *d = rec_detail(rec);
		json_object *st = NULL;
		bool staff =
		    d && json_object_object_get_ex(d, "staff", &st) && json_object_get_boolean(st);
		json_object_put(d);
		m->room_entries++;
		if (staff)
			m->room_staff++;
		else
			m->room_visitors++;
	}
}

/* Reads the month's records: an export into a memory file, then one line at a time. */
static int
month_read(Audit *a, Month *m)
{
	int fd = memfd_create("biogate-report", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	AuditFilter f = { .since_usec = m->from, .until_usec = m->to };
	int r = audit_export(a, &f, false, fd);
	if (r >= 0 && lseek(fd, 0, SEEK_SET) < 0)
		r = -errno;
	FILE *in = r >= 0 ? fdopen(fd, "r") : NULL;
	if (!in) {
		r = r < 0 ? r : -errno;
		close(fd);
		return r;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	json_tokener *tok = json_tokener_new();
	if (!tok)
		r = -ENOMEM;
	while (r >= 0 && (len = getline(&line, &cap, in)) > 0) {
		if ((size_t)len > REPORT_LINE_MAX)
			continue;
		json_tokener_reset(tok);
		json_object *rec = json_tokener_parse_ex(tok, line, (int)len);
		if (rec && json_object_is_type(rec, json_type_object))
			month_add_record(m, rec);
		json_object_put(rec);
	}
	if (r >= 0 && ferror(in))
		r = -EIO;
	if (tok)
		json_tokener_free(tok);
	free(line);
	fclose(in);
	return r;
}

static json_object *
report_staff(Store *s)
{
	json_object *list = NULL;
	json_object *o = json_object_new_object();
	int64_t active = 0, revoked = 0, no_pledge = 0, no_training = 0;
	json_object *missing = json_object_new_array();
	if (s && store_staff_list_json(s, &list) == 0) {
		size_t n = json_object_array_length(list);
		for (size_t i = 0; i < n; i++) {
			json_object *p = json_object_array_get_idx(list, i);
			const char *state = rec_str(p, "state");
			if (!state || strcmp(state, "active") != 0) {
				revoked++;
				continue;
			}
			active++;
			bool np = !rec_str(p, "pledge_date"), nt = !rec_str(p, "training_date");
			no_pledge += np;
			no_training += nt;
			if (!np && !nt)
				continue;
			json_object *row = json_object_new_object();
			row_copy(row, p, "matching_id");
			row_copy(row, p, "name");
			row_copy(row, p, "pledge_date");
			row_copy(row, p, "training_date");
			json_object_array_add(missing, row);
		}
	}
	json_object_put(list);
	json_object_object_add(o, "active", json_object_new_int64(active));
	json_object_object_add(o, "revoked", json_object_new_int64(revoked));
	json_object_object_add(o, "missing_pledge", json_object_new_int64(no_pledge));
	json_object_object_add(o, "missing_training", json_object_new_int64(no_training));
	json_object_object_add(o, "missing", missing);
	return o;
}

static json_object *
total_obj(int64_t total, const char *key, json_object *arr)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "total", json_object_new_int64(total));
	if (key)
		json_object_object_add(o, key, arr);
	return o;
}

/* The report document (docs/report.md lists its keys). */
int
report_build(Manager *mgr, const char *month, json_object **ret)
{
	Month *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	int r = report_parse_month(month, m);
	if (r < 0) {
		free(m);
		return r;
	}
	m->incident_rows = json_object_new_array();
	m->revocation_rows = json_object_new_array();
	r = month_read(mgr->audit, m);
	AuditVerifyResult v = { 0 };
	if (r >= 0)
		r = audit_verify(mgr->audit, &v);
	/* The month's signed checkpoints, each against its epoch's public key and the chain. */
	AuditSealsResult seals = { 0 };
	if (r >= 0)
		r = audit_seals_check(mgr->audit, m->from, m->to, &seals);
	if (r < 0) {
		tally_clear(&m->denial_reasons);
		tally_clear(&m->violation_reasons);
		tally_clear(&m->incident_rules);
		json_object_put(m->incident_rows);
		json_object_put(m->revocation_rows);
		free(m);
		return r;
	}

	json_object *o = json_object_new_object();
	json_object_object_add(o, "version", json_object_new_int(1));
	json_object_object_add(o, "month", json_object_new_string(month));
	json_object_object_add(o, "terminal", json_object_new_string(mgr->terminal));
	json_object_object_add(o, "generated_at", json_object_new_int64(now_real_usec()));
	json_object *period = json_object_new_object();
	json_object_object_add(period, "from", json_object_new_int64(m->from));
	json_object_object_add(period, "to", json_object_new_int64(m->to));
	json_object_object_add(o, "period", period);
	json_object_object_add(o, "records", json_object_new_int64(m->records));

	json_object *days = json_object_new_array();
	int64_t logins = 0, denials = 0, violations = 0;
	for (int d = 0; d < m->days; d++) {
		char date[40]; /* sized for any int: GCC cannot see the ranges */
		snprintf(date, sizeof(date), "%04d-%02d-%02d", m->year, m->month, d + 1);
		json_object *day = json_object_new_object();
		json_object_object_add(day, "date", json_object_new_string(date));
		json_object_object_add(day, "logins", json_object_new_int64(m->logins[d]));
		json_object_object_add(day, "denials", json_object_new_int64(m->denials[d]));
		json_object_object_add(day, "violations", json_object_new_int64(m->violations[d]));
		json_object_object_add(day, "incidents", json_object_new_int64(m->incidents[d]));
		json_object_array_add(days, day);
		logins += m->logins[d];
		denials += m->denials[d];
		violations += m->violations[d];
	}
	json_object_object_add(o, "days", days);
	json_object_object_add(o, "logins", total_obj(logins, NULL, NULL));
	json_object_object_add(
	    o, "denials",
	    total_obj(denials, "by_reason", tally_json(&m->denial_reasons, "reason")));
	json_object_object_add(
	    o, "violations",
	    total_obj(violations, "by_reason", tally_json(&m->violation_reasons, "reason")));
	json_object *inc =
	    total_obj(m->n_incidents, "by_rule", tally_json(&m->incident_rules, "rule"));
	json_object_object_add(inc, "records", m->incident_rows);
	json_object_object_add(inc, "truncated",
	                       json_object_new_boolean(m->n_incidents > REPORT_ROWS_MAX));
	json_object_object_add(o, "incidents", inc);
	json_object *rev = total_obj(m->n_revocations, "records", m->revocation_rows);
	json_object_object_add(rev, "truncated",
	                       json_object_new_boolean(m->n_revocations > REPORT_ROWS_MAX));
	json_object_object_add(o, "revocations", rev);
	json_object *room = json_object_new_object();
	json_object_object_add(room, "entries", json_object_new_int64(m->room_entries));
	json_object_object_add(room, "visitors", json_object_new_int64(m->room_visitors));
	json_object_object_add(room, "staff", json_object_new_int64(m->room_staff));
	json_object_object_add(o, "room", room);
	json_object_object_add(o, "staff", report_staff(mgr->store));
	json_object *audit = json_object_new_object();
	json_object_object_add(audit, "ok", json_object_new_boolean(v.problem == AUDIT_OK));
	json_object_object_add(audit, "problem",
	                       json_object_new_string(audit_problem_name(v.problem)));
	json_object_object_add(audit, "first_bad_seq", json_object_new_int64(v.first_bad_seq));
	json_object_object_add(audit, "records", json_object_new_int64(v.records));
	json_object_object_add(o, "audit", audit);
	json_object *so = json_object_new_object();
	/* Every checkpoint of the month verified, and the month's records sealed by some. */
	bool seals_ok =
	    seals.verified == seals.checkpoints && (seals.checkpoints > 0 || m->records == 0);
	json_object_object_add(so, "ok", json_object_new_boolean(seals_ok));
	json_object_object_add(so, "checkpoints", json_object_new_int64(seals.checkpoints));
	json_object_object_add(so, "verified", json_object_new_int64(seals.verified));
	json_object_object_add(so, "first_bad_seq", json_object_new_int64(seals.first_bad_seq));
	json_object_object_add(o, "seals", so);

	tally_clear(&m->denial_reasons);
	tally_clear(&m->violation_reasons);
	tally_clear(&m->incident_rules);
	free(m);
	*ret = o;
	return 0;
}

bool
report_valid_month(const char *month)
{
	Month probe;
	return report_parse_month(month, &probe) >= 0;
}

void
report_recorded(Manager *m, Caller *c, const char *month, const char *format)
{
	char detail[96];
	snprintf(detail, sizeof(detail), "{\"by_uid\":%u,\"month\":\"%s\",\"format\":\"%s\"}",
	         (unsigned)c->peer.uid, month, format);
	AuditRecord rec = { .action = "report.monthly", .outcome = "ok", .detail = detail };
	/* A failure drops the caller; its hook frees the stream. */
	(void)record_append(m, c, &rec, NULL, NULL);
}
