/* SPDX-License-Identifier: GPL-2.0-or-later */
/* roster: see roster.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actor.h"
#include "audit.h"
#include "caller.h"
#include "clock.h"
#include "dates.h"
#include "log.h"
#include "manager.h"
#include "policy.h"
#include "login.h"
#include "record.h"
#include "sessions.h"
#include "roster.h"

static json_object *
param_obj(const char *key, json_object *val)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, key, val);
	return o;
}

/* An administrative change, naming who did it (actor.h) after the detail's own fields. d
 * (may be NULL) is taken. */
static void
record_admin(Manager *m, Caller *c, const char *matching_id, const char *operator_id,
             const char *action, json_object *d)
{
	if (!d)
		d = json_object_new_object();
	actor_describe(m, c, d);
	AuditRecord rec = { .matching_id = matching_id,
		            .operator_id = operator_id,
		            .action = action,
		            .outcome = "ok",
		            .detail = d ? json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN)
		                        : NULL };
	(void)record_append(m, c, &rec, NULL, NULL);
	json_object_put(d);
}

int
roster_add(Manager *m, Caller *c, StoreStaffIn *in, json_object **ret)
{
	/* Who, for the roster history (R6). */
	char actor[64];
	actor_text(c, actor, sizeof(actor));
	in->actor = actor;
	int r = store_staff_add(m->store, in, now_real_usec());
	if (r < 0)
		return r;
	log_info("Roster: added matching ID %s (uid %u)", in->matching_id, (unsigned)c->peer.uid);
	record_admin(m, c, in->matching_id, NULL, "staff.add", NULL);
	return store_staff_json(m->store, in->matching_id, ret);
}

/* "locked" and "locked_until" (usec; null while not locked, or locked until an admin
 * unlocks) of o, as faillock shows them. */
static int
roster_add_lockout(Manager *m, const char *matching_id, int64_t now, json_object *o)
{
	bool locked = false;
	int64_t until = 0;
	int r = login_lockout_state(m, matching_id, now, &locked, &until);
	if (r < 0)
		return r;
	json_object_object_add(o, "locked", json_object_new_boolean(locked));
	json_object_object_add(o, "locked_until",
	                       locked && until != INT64_MAX ? json_object_new_int64(until) : NULL);
	return 0;
}

int
roster_get(Manager *m, const char *matching_id, json_object **ret)
{
	json_object *o = NULL;
	int r = store_staff_json(m->store, matching_id, &o);
	if (r < 0)
		return r;
	r = roster_add_lockout(m, matching_id, now_real_usec(), o);
	if (r < 0) {
		json_object_put(o);
		return r;
	}
	*ret = o;
	return 0;
}

int
roster_list(Manager *m, json_object **ret)
{
	json_object *arr = NULL;
	int r = store_staff_list_json(m->store, &arr);
	if (r < 0)
		return r;
	*ret = param_obj("staff", arr);
	return 0;
}

int
roster_grant(Manager *m, Caller *c, const char *mid, const char *oid, const char *role,
             json_object **ret)
{
	/* A role the policy does not define could never do anything: refuse it now rather
	 * than grant an operator ID that every decision denies (R2). */
	if (!policy_role_exists(m->policy, role))
		return -EINVAL;
	StoreStaff st;
	int r = store_staff_by_id(m->store, mid, &st);
	if (r < 0)
		return r;
	if (!st.active)
		return -EPERM;
	r = store_operator_grant(m->store, mid, oid, role, now_real_usec());
	if (r < 0)
		/* -EALREADY reads as the store's NotFound, not as "not on the roster". */
		return r == -ENOENT ? -EALREADY : r;
	log_info("Granted operator ID %s (role %s) to matching ID %s", oid, role, mid);
	record_admin(m, c, mid, oid, "operator.grant",
	             param_obj("role", json_object_new_string(role)));
	json_object *o = json_object_new_object();
	json_object_object_add(o, "matching_id", json_object_new_string(mid));
	json_object_object_add(o, "operator_id", json_object_new_string(oid));
	json_object_object_add(o, "role", json_object_new_string(role));
	*ret = o;
	return 0;
}

int
roster_edit(Manager *m, Caller *c, const char *mid, StoreStaffEdit *e, json_object *fields,
            json_object **ret)
{
	char actor[64];
	actor_text(c, actor, sizeof(actor));
	e->actor = actor;
	int r = store_staff_edit(m->store, mid, e, now_real_usec());
	if (r < 0)
		return r;
	/* Which fields changed, never their values: the record outlives the roster (R5, R6). */
	record_admin(m, c, mid, NULL, "staff.edit", param_obj("fields", json_object_get(fields)));
	r = store_staff_json(m->store, mid, ret);
	return r == -ENOENT ? -EALREADY : r;
}

int
roster_unlock(Manager *m, Caller *c, const char *mid)
{
	StoreStaff st;
	int r = store_staff_by_id(m->store, mid, &st);
	if (r < 0)
		return r;
	r = store_failures_clear(m->store, mid);
	if (r < 0)
		return r == -ENOENT ? -EALREADY : r;
	log_info("Lockout of matching ID %s lifted by uid %u", mid, (unsigned)c->peer.uid);
	record_admin(m, c, mid, NULL, "staff.unlock", NULL);
	return 0;
}

/* --- the schedule ------------------------------------------------------------------------ */

static const WireField shift_fields[] = {
	{ "matching_id", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
	{ "date", WIRE_STRING, true, 10, 0, 0 },
	{ "start", WIRE_STRING, true, 5, 0, 0 },
	{ "end", WIRE_STRING, true, 5, 0, 0 },
};

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

int32_t
schedule_parse_month(const char *s)
{
	char buf[11];
	if (!s || strlen(s) != 7)
		return 0;
	snprintf(buf, sizeof(buf), "%s-01", s);
	return dates_parse_ymd(buf);
}

int
schedule_import(Manager *m, Caller *c, const char *month, json_object *arr, json_object **ret)
{
	int32_t first = schedule_parse_month(month);
	if (!first)
		return -EINVAL;
	int32_t next = first / 100 % 100 == 12 ? (first / 10000 + 1) * 10000 + 101 : first + 100;
	size_t n = json_object_array_length(arr);
	StoreShift *shifts = calloc(n ? n : 1, sizeof(*shifts));
	if (!shifts)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_object *row = json_object_array_get_idx(arr, i);
		const char *bad = NULL;
		if (!json_object_is_type(row, json_type_object) ||
		    wire_check(row, shift_fields, 4, &bad) < 0) {
			free(shifts);
			return -EINVAL;
		}
		int32_t date = dates_parse_ymd(wire_str(row, "date"));
		int start = parse_hhmm(wire_str(row, "start"));
		int end = parse_hhmm(wire_str(row, "end"));
		const char *mid = wire_str(row, "matching_id");
		/* An end earlier than the start is on the next day (a night shift, 22:00-06:00);
		 * an end equal to the start says neither 0 nor 24 hours and is refused. */
		if (!wire_valid_id(mid) || date < first || date >= next || start < 0 || end < 0 ||
		    end == start) {
			free(shifts);
			return -EINVAL;
		}
		/* mktime() carries hour 24 and later into the next day, the next month too. */
		shifts[i] =
		    (StoreShift){ .matching_id = mid,
			          .start_usec = local_usec(date, start),
			          .end_usec = local_usec(date, end > start ? end : end + 24 * 60) };
	}
	int r = store_schedule_replace(m->store, local_usec(first, 0), local_usec(next, 0), shifts,
	                               n, now_real_usec());
	free(shifts);
	if (r < 0)
		return r == -EINVAL ? -EIO : r;
	log_info("Schedule for %s imported: %zu shifts", month, n);
	json_object *d = param_obj("month", json_object_new_string(month));
	json_object_object_add(d, "shifts", json_object_new_int64((int64_t)n));
	record_admin(m, c, NULL, NULL, "schedule.import", d);
	json_object *o = param_obj("month", json_object_new_string(month));
	json_object_object_add(o, "shifts", json_object_new_int64((int64_t)n));
	*ret = o;
	return 0;
}

int
schedule_get(Manager *m, const char *month, const char *mid, json_object **ret)
{
	int64_t from = 0, to = 0;
	if (month) {
		int32_t first = schedule_parse_month(month);
		if (!first)
			return -EINVAL;
		int32_t next =
		    first / 100 % 100 == 12 ? (first / 10000 + 1) * 10000 + 101 : first + 100;
		from = local_usec(first, 0);
		to = local_usec(next, 0);
	}
	json_object *arr = NULL;
	int r = store_schedule_json(m->store, mid, from, to, &arr);
	if (r < 0)
		return r == -EINVAL ? -EIO : r;
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
	*ret = param_obj("shifts", arr);
	return 0;
}

/* --- administration (issue 13): one operator ID, one finger, the roster file, lockouts ---- */

/* The sessions of an operator ID end at once when it is revoked: the same as revocation does
 * to a person, for one of their IDs. A role change takes effect at the session's next
 * request (sessions_of_caller() reads the role each time): the session stays open. */
int
roster_operator_revoke(Manager *m, Caller *c, const char *mid, const char *oid, json_object **ret)
{
	int r = store_operator_revoke(m->store, mid, oid);
	if (r < 0)
		return r;
	int ended = sessions_end_operator_id(m->sessions, mid, oid, "operator-revoked");
	log_info("Operator ID %s of matching ID %s revoked: %d session(s) ended", oid, mid,
	         ended < 0 ? 0 : ended);
	json_object *d = param_obj("sessions_ended", json_object_new_int(ended < 0 ? 0 : ended));
	record_admin(m, c, mid, oid, "operator.revoke", d);
	json_object *o = param_obj("matching_id", json_object_new_string(mid));
	json_object_object_add(o, "operator_id", json_object_new_string(oid));
	json_object_object_add(o, "sessions_ended", json_object_new_int(ended < 0 ? 0 : ended));
	*ret = o;
	return 0;
}

int
roster_operator_set_role(Manager *m, Caller *c, const char *mid, const char *oid, const char *role,
                         json_object **ret)
{
	/* As grant: a role the policy does not define could never do anything. */
	if (!policy_role_exists(m->policy, role))
		return -EINVAL;
	char old[WIRE_MAX_ID + 1] = "";
	int r = store_operator_set_role(m->store, mid, oid, role, old);
	if (r < 0)
		return r;
	log_info("Operator ID %s of matching ID %s: role %s -> %s", oid, mid, old, role);
	json_object *d = param_obj("role", json_object_new_string(role));
	json_object_object_add(d, "old_role", json_object_new_string(old));
	record_admin(m, c, mid, oid, "operator.set-role", d);
	json_object *o = param_obj("matching_id", json_object_new_string(mid));
	json_object_object_add(o, "operator_id", json_object_new_string(oid));
	json_object_object_add(o, "role", json_object_new_string(role));
	json_object_object_add(o, "old_role", json_object_new_string(old));
	*ret = o;
	return 0;
}

int
roster_finger_delete(Manager *m, Caller *c, const char *mid, const char *finger, bool force,
                     json_object **ret)
{
	int r = store_finger_delete(m->store, mid, finger, force);
	bool wal_truncated = true;
	if (r == -EBUSY || r == -ECANCELED) {
		/* Deleted, but the WAL could not be truncated yet: said in the record. */
		log_error("Deleted %s of %s, but the WAL still holds old pages", finger, mid);
		wal_truncated = false;
	} else if (r < 0)
		return r;
	log_info("Finger %s of matching ID %s deleted%s", finger, mid, force ? " (--force)" : "");
	json_object *d = param_obj("finger", json_object_new_string(finger));
	json_object_object_add(d, "wal_truncated", json_object_new_boolean(wal_truncated));
	if (force)
		json_object_object_add(d, "force", json_object_new_boolean(true));
	record_admin(m, c, mid, NULL, "finger.delete", d);
	json_object *o = param_obj("matching_id", json_object_new_string(mid));
	json_object_object_add(o, "finger", json_object_new_string(finger));
	*ret = o;
	return 0;
}

static const WireField import_fields[] = {
	{ "matching_id", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
	{ "name", WIRE_STRING, false, 256, 0, 0 },
	{ "affiliation", WIRE_STRING, false, 256, 0, 0 },
	{ "nationality", WIRE_STRING, false, 64, 0, 0 },
	{ "expertise", WIRE_STRING, false, WIRE_MAX_TEXT, 0, 0 },
	{ "track_record", WIRE_STRING, false, WIRE_MAX_TEXT, 0, 0 },
	{ "unix_user", WIRE_STRING, false, 32, 0, 0 },
	{ "pledge_date", WIRE_STRING, false, 10, 0, 0 },
	{ "training_date", WIRE_STRING, false, 10, 0, 0 },
};

int
roster_import(Manager *m, Caller *c, json_object *arr, json_object **ret, size_t *ret_bad,
              const char **ret_field)
{
	size_t n = json_object_array_length(arr);
	StoreImportRow *rows = calloc(n ? n : 1, sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	char actor[64];
	actor_text(c, actor, sizeof(actor));
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		const char *bad = NULL;
		*ret_bad = i;
		if (!json_object_is_type(o, json_type_object) ||
		    wire_check(o, import_fields, sizeof(import_fields) / sizeof(import_fields[0]),
		               &bad) < 0) {
			*ret_field = bad;
			r = -EINVAL;
			break;
		}
		StoreImportRow *row = &rows[i];
		row->in = (StoreStaffIn){ .matching_id = wire_str(o, "matching_id"),
			                  .name = wire_str(o, "name"),
			                  .affiliation = wire_str(o, "affiliation"),
			                  .nationality = wire_str(o, "nationality"),
			                  .expertise = wire_str(o, "expertise"),
			                  .track_record = wire_str(o, "track_record"),
			                  .unix_user = wire_str(o, "unix_user") };
		const char *pd = wire_str(o, "pledge_date"), *td = wire_str(o, "training_date");
		if (pd && !(row->pledge_date = dates_parse_ymd(pd))) {
			*ret_field = "pledge_date";
			r = -EINVAL;
		} else if (td && !(row->training_date = dates_parse_ymd(td))) {
			*ret_field = "training_date";
			r = -EINVAL;
		}
	}
	size_t added = 0, changed = 0;
	if (r == 0)
		r = store_staff_import(m->store, rows, n, actor, now_real_usec(), &added, &changed,
		                       ret_bad, ret_field);
	free(rows);
	if (r < 0)
		return r;
	log_info("Roster imported: %zu people, %zu added, %zu changed", n, added, changed);
	/* Counts only: the names and values are in the roster history, never in the trail. */
	json_object *d = param_obj("rows", json_object_new_int64((int64_t)n));
	json_object_object_add(d, "added", json_object_new_int64((int64_t)added));
	json_object_object_add(d, "changed", json_object_new_int64((int64_t)changed));
	record_admin(m, c, NULL, NULL, "staff.import", d);
	json_object *o = param_obj("added", json_object_new_int64((int64_t)added));
	json_object_object_add(o, "changed", json_object_new_int64((int64_t)changed));
	*ret = o;
	return 0;
}

int
roster_locked(Manager *m, json_object **ret)
{
	const PolicySettings *ps = policy_settings(m->policy);
	int64_t now = now_real_usec();
	json_object *ids = NULL, *out = json_object_new_array();
	if (!out)
		return -ENOMEM;
	int r = 0;
	if (ps->lockout_deny > 0) {
		/* A lockout needs failures in its window; unlock-time 0 (until an admin unlocks)
		 * keeps every failure that is still stored in play. */
		int64_t horizon =
		    ps->lockout_unlock_sec == 0
		        ? 0
		        : now - ((int64_t)ps->lockout_interval_sec + ps->lockout_unlock_sec) *
		                    1000000;
		r = store_failures_ids_json(m->store, horizon, &ids);
	}
	for (size_t i = 0; r == 0 && ids && i < json_object_array_length(ids); i++) {
		const char *mid = json_object_get_string(json_object_array_get_idx(ids, i));
		json_object *o = param_obj("matching_id", json_object_new_string(mid));
		r = roster_add_lockout(m, mid, now, o);
		if (r == 0 && json_object_get_boolean(json_object_object_get(o, "locked"))) {
			json_object_object_del(o, "locked");
			json_object_array_add(out, o);
		} else
			json_object_put(o);
	}
	json_object_put(ids);
	if (r < 0) {
		json_object_put(out);
		return r;
	}
	*ret = param_obj("locked", out);
	return 0;
}
