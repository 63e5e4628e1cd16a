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
#include "caller.h"
#include "clock.h"
#include "custody.h"
#include "fleet.h"
#include "dates.h"
#include "actor.h"
#include "incidents.h"
#include "log.h"
#include "login.h"
#include "manager.h"
#include "policy.h"
#include "record.h"
#include "sessions.h"
#include "store.h"
#include "verify.h"

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
custody_record(Manager *m, Caller *c, const char *matching_id, const char *action,
               const char *outcome, const char *reason, json_object *detail)
{
	/* Who did it: uid, login uid and session (actor.h), beside the detail's own fields. */
	json_object *d = detail ? json_object_get(detail) : json_object_new_object();
	actor_describe(m, c, d);
	AuditRecord rec = {
		.matching_id = matching_id,
		.action = action,
		.outcome = outcome,
		.reason = reason,
		.detail = d ? json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN) : NULL,
	};
	(void)record_append(m, c, &rec, NULL, NULL);
	json_object_put(d);
}

static int32_t
custody_today(void)
{
	time_t t = time(NULL);
	struct tm tm;
	localtime_r(&t, &tm);
	return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

static void
caller_actor(const Caller *c, char buf[static 64])
{
	actor_text(c, buf, 64);
}

/* --- two-person confirmation (R13) ------------------------------------------------------- */

struct CustodyConfirm {
	Manager *m;
	Caller *c;
	char action[POLICY_MAX_NAME + 1];
	CustodyPromptFn prompt;
	CustodyConfirmedFn done;
	void *userdata;
	char first[WIRE_MAX_ID + 1]; /* the caller's matching ID, "" when root outside a session */
	char caller[64];             /* "uid N" */
	char confirmers[CUSTODY_CONFIRM_MAX][WIRE_MAX_ID + 1];
	size_t n, next;
	VerifyOp *op;
};

static void confirm_next(CustodyConfirm *k);

void
custody_confirm_cancel(Manager *m, CustodyConfirm *k)
{
	if (!k)
		return;
	verify_cancel(m, k->op);
	free(k);
}

static void
confirm_prompt(const char *prompt, void *userdata)
{
	CustodyConfirm *k = userdata;
	k->prompt(prompt, k->confirmers[k->next], k->userdata);
}

/* Ends the confirmation: done runs once, k is gone after it. */
static void
confirm_fail(CustodyConfirm *k, int r)
{
	CustodyConfirmedFn done = k->done;
	void *userdata = k->userdata;
	free(k);
	done(r, NULL, NULL, userdata);
}

/* verify_start()'s refusal, as the caller hears it: not enrolled, busy, or no sensor. */
static int
confirm_start_errno(int r)
{
	return r == -ENOENT || r == -EBUSY ? r : -ENOTCONN;
}

/*
 * Whether matching_id may confirm now: an active person with an operator ID, the pledge and
 * the training recorded (the gates of a login, R8/R9), and not locked out by failed matches.
 * 0, or -EACCES with *ret_reason naming what is missing; -errno when the store fails.
 */
static int
confirmer_eligible(Manager *m, const char *matching_id, const char **ret_reason)
{
	StoreStaff st;
	int r = store_staff_by_id(m->store, matching_id, &st);
	if (r < 0)
		return r == -ENOENT ? -ENOENT : -EIO;
	if (!st.active)
		return -EPERM;
	json_object *ops = NULL;
	r = store_operators_json(m->store, matching_id, &ops);
	if (r < 0)
		return -EIO;
	bool has_operator = json_object_array_length(ops) > 0;
	json_object_put(ops);
	int32_t pledge = 0, training = 0;
	if (store_staff_gates(m->store, matching_id, &pledge, &training) < 0)
		pledge = training = 0;
	bool locked = false;
	int64_t until = 0;
	r = login_lockout_state(m, matching_id, now_real_usec(), &locked, &until);
	if (r < 0)
		return -EIO;
	*ret_reason = !has_operator ? "confirmer-no-operator"
	              : !pledge     ? "confirmer-pledge-missing"
	              : !training   ? "confirmer-training-missing"
	              : locked      ? "confirmer-locked-out"
	                            : NULL;
	return *ret_reason ? -EACCES : 0;
}

/* A refused confirmer, in the trail: who, for which action, and why. */
static void
confirm_refused(Manager *m, Caller *c, const char *matching_id, const char *action, const char *by,
                const char *reason)
{
	json_object *d = obj1("action", json_object_new_string(action));
	json_object_object_add(d, "by", json_object_new_string(by));
	custody_record(m, c, matching_id, "two-person.confirm", "deny", reason, d);
	json_object_put(d);
}

static void
confirm_done(int r, bool match, void *userdata)
{
	CustodyConfirm *k = userdata;
	k->op = NULL;
	/* A confirmation is a fingerprint check like a login's: a no-match counts toward the
	 * confirmer's lockout, a match clears it (R10). */
	if (r >= 0 && !match)
		(void)store_failure_add(k->m->store, k->confirmers[k->next], now_real_usec());
	else if (r >= 0)
		(void)store_failures_clear(k->m->store, k->confirmers[k->next]);
	if (r < 0 || !match) {
		json_object *d = obj1("action", json_object_new_string(k->action));
		json_object_object_add(d, "by", json_object_new_string(k->caller));
		custody_record(k->m, k->c, k->confirmers[k->next], "two-person.confirm", "fail",
		               r < 0 ? "sensor" : "no-match", d);
		if (r >= 0)
			incidents_note(k->m->incidents, INCIDENT_FAILED_MATCHES,
			               k->confirmers[k->next], NULL,
			               "two-person confirmation did not match");
		json_object_put(d);
		return confirm_fail(k, r < 0 ? r : -EKEYREJECTED);
	}
	k->next++;
	confirm_next(k);
}

static void
confirm_next(CustodyConfirm *k)
{
	if (k->next < k->n) {
		/* Locked out meanwhile (by this very confirmation, or elsewhere): refused. */
		const char *why = NULL;
		int r = confirmer_eligible(k->m, k->confirmers[k->next], &why);
		if (r < 0) {
			if (r == -EACCES)
				confirm_refused(k->m, k->c, k->confirmers[k->next], k->action,
				                k->caller, why);
			return confirm_fail(k, r == -EACCES ? -EACCES : -EIO);
		}
		r = verify_start(k->m, k->confirmers[k->next], confirm_prompt, confirm_done, k,
		                 &k->op);
		if (r < 0)
			confirm_fail(k, confirm_start_errno(r));
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
	CustodyConfirmedFn done = k->done;
	void *userdata = k->userdata;
	free(k);
	done(0, actor, people, userdata);
	json_object_put(people);
}

/* How many people could confirm now: active, with an operator ID, a finger, the pledge and
 * the training recorded (a lockout passes). -errno when the store fails. */
static int
custody_confirmers_possible(Manager *m)
{
	json_object *staff = NULL;
	if (store_staff_list_json(m->store, &staff) < 0)
		return -EIO;
	int n = 0;
	for (size_t i = 0; i < json_object_array_length(staff); i++) {
		json_object *o = json_object_array_get_idx(staff, i), *v = NULL;
		const char *state = json_object_get_string(json_object_object_get(o, "state"));
		if (!state || strcmp(state, "active") != 0)
			continue;
		if (!json_object_object_get_ex(o, "operators", &v) ||
		    json_object_array_length(v) == 0 ||
		    !json_object_object_get_ex(o, "fingers", &v) ||
		    json_object_array_length(v) == 0)
			continue;
		if (!json_object_get_string(json_object_object_get(o, "pledge_date")) ||
		    !json_object_get_string(json_object_object_get(o, "training_date")))
			continue;
		n++;
	}
	json_object_put(staff);
	return n;
}

int
custody_confirm_start(Manager *m, Caller *c, const char *action, json_object *confirm_by,
                      bool can_prompt, CustodyPromptFn prompt, CustodyConfirmedFn done,
                      void *userdata, CustodyConfirm **ret, CustodyRefusal *ret_refusal)
{
	char caller[64];
	caller_actor(c, caller);
	*ret = NULL;
	*ret_refusal = (CustodyRefusal){ 0 };
	StoreSession s;
	bool in_session = sessions_find_by_peer(m->sessions, &c->peer, &s) == 0;
	/* The very first people are enrolled before anyone could confirm them: enrollment is
	 * exempt while fewer than two people could confirm, and the record says so. */
	bool bootstrap = false;
	if (policy_two_person(m->policy, action) && strcmp(action, "enroll") == 0) {
		int n = custody_confirmers_possible(m);
		if (n < 0)
			return n;
		if (n < 2) {
			json_object *d = obj1("action", json_object_new_string(action));
			json_object_object_add(d, "by", json_object_new_string(caller));
			json_object_object_add(d, "people_who_could_confirm",
			                       json_object_new_int(n));
			custody_record(m, c, in_session ? s.matching_id : NULL,
			               "two-person.confirm", "ok", "bootstrap", d);
			json_object_put(d);
			bootstrap = true;
		}
	}
	if (bootstrap || !policy_two_person(m->policy, action)) {
		json_object *people = json_object_new_array();
		char actor[sizeof(caller) + WIRE_MAX_ID + 2];
		snprintf(actor, sizeof(actor), "%s%s%s", caller, in_session ? " " : "",
		         in_session ? s.matching_id : "");
		if (in_session)
			json_object_array_add(people, json_object_new_string(s.matching_id));
		done(0, actor, people, userdata);
		json_object_put(people);
		return 0;
	}

	CustodyConfirm *k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	*k = (CustodyConfirm){
		.m = m, .c = c, .prompt = prompt, .done = done, .userdata = userdata
	};
	snprintf(k->action, sizeof(k->action), "%s", action);
	snprintf(k->caller, sizeof(k->caller), "%s", caller);
	if (in_session)
		snprintf(k->first, sizeof(k->first), "%s", s.matching_id);

	size_t n = confirm_by ? json_object_array_length(confirm_by) : 0;
	for (size_t i = 0; i < n && i < CUSTODY_CONFIRM_MAX; i++) {
		json_object *v = json_object_array_get_idx(confirm_by, i);
		const char *id =
		    json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
		if (!wire_valid_id(id)) {
			free(k);
			ret_refusal->parameter = "confirm_by";
			return -EINVAL;
		}
		snprintf(k->confirmers[k->n++], WIRE_MAX_ID + 1, "%s", id);
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
		free(k);
		ret_refusal->reason = distinct ? "second-person-required" : "same-person";
		return -EACCES;
	}
	/* The caller is not their own second person, in a session or not: an admin on the
	 * roster is known by the uid's user name. */
	char self[WIRE_MAX_ID + 1] = "";
	if (c->peer.uid != 0) {
		char pwbuf[4096];
		struct passwd pw, *pwr = NULL;
		StoreStaff me;
		if (getpwuid_r(c->peer.uid, &pw, pwbuf, sizeof(pwbuf), &pwr) == 0 && pwr &&
		    store_staff_by_user(m->store, pwr->pw_name, &me) == 0)
			snprintf(self, sizeof(self), "%s", me.matching_id);
	}
	for (size_t i = 0; i < k->n; i++) {
		const char *why = NULL;
		int r = self[0] && strcmp(self, k->confirmers[i]) == 0
		            ? (why = "same-person", -EACCES)
		            : confirmer_eligible(m, k->confirmers[i], &why);
		if (r < 0) {
			snprintf(ret_refusal->matching_id, sizeof(ret_refusal->matching_id), "%s",
			         k->confirmers[i]);
			if (r == -EACCES) {
				confirm_refused(m, c, k->confirmers[i], action, caller, why);
				ret_refusal->reason = why;
			}
			free(k);
			return r == -EIO ? -EIO : r;
		}
	}
	if (!can_prompt) {
		/* The confirmers must be told to touch the reader. */
		free(k);
		ret_refusal->parameter = "more";
		return -EINVAL;
	}
	/* The first confirmer's check starts here, so that a reader that cannot start is a
	 * refusal (nothing called back) rather than a callback inside this call. */
	int r = verify_start(m, k->confirmers[0], confirm_prompt, confirm_done, k, &k->op);
	if (r < 0) {
		free(k);
		ret_refusal->reader = true;
		return confirm_start_errno(r);
	}
	*ret = k;
	return 0;
}

/* --- revoke (R4) ------------------------------------------------------------------------ */

int
custody_person_active(Manager *m, const char *matching_id)
{
	StoreStaff st;
	int r = store_staff_by_id(m->store, matching_id, &st);
	if (r < 0)
		return -ENOENT;
	return st.active ? 0 : -EPERM;
}

int
custody_revoke(Manager *m, Caller *c, const char *mid, const char *reason, const char *actor,
               json_object *people, json_object **ret)
{
	int erased = 0;
	bool wal_truncated = true;
	int r = store_revoke(m->store, mid, actor, now_real_usec(), &erased);
	if (r == -ENOENT || r == -EALREADY)
		return r;
	if (r == -EBUSY || r == -ECANCELED) {
		/* Revoked and erased, but the WAL could not be truncated yet: say so in the
		 * record (the next revoke or disposal truncates it). */
		log_error("Revoked %s, but the WAL still holds old pages: %s", mid, strerror(-r));
		wal_truncated = false;
	} else if (r < 0) {
		log_error("Revoking %s failed: %s", mid, strerror(-r));
		return r;
	}
	/* At once: the person's IDs stopped working in the store; now their sessions end. */
	int ended = sessions_end_matching_id(m->sessions, mid, "revoked");
	/* And on every other terminal of a fleet (filed when the center is back if it is away). */
	fleet_revoked(m->fleet, mid, reason);
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
	*ret = o;
	return 0;
}

/* --- nationality (R7) and history (R6) --------------------------------------------------- */

int
custody_nationality(Manager *m, Caller *c, const char *mid, const char *purpose, const char *actor,
                    json_object *people, char *ret, size_t size)
{
	int r = store_nationality(m->store, mid, ret, size);
	if (r < 0)
		return r;
	/* The purpose is recorded with every read; the value never is (R7, R19). */
	json_object *d = obj1("purpose", json_object_new_string(purpose));
	json_object_object_add(d, "by", json_object_new_string(actor));
	json_object_object_add(d, "confirmed_by", json_object_get(people));
	custody_record(m, c, mid, "staff.nationality-read", "ok", NULL, d);
	json_object_put(d);
	log_info("Nationality of matching ID %s read by %s", mid, actor);
	return 0;
}

int
custody_history(Manager *m, const char *mid, json_object **ret)
{
	StoreStaff st;
	if (store_staff_by_id(m->store, mid, &st) < 0)
		return -ENOENT;
	json_object *h = NULL;
	int r = store_staff_history_json(m->store, mid, &h);
	if (r < 0)
		return r == -ENOENT ? -EIO : r;
	*ret = obj1("history", h);
	return 0;
}

/* --- disposal (R16) --------------------------------------------------------------------- */

int
custody_disposal_plan(Manager *m, Caller *c, const CustodyDisposalPlan *p, json_object **ret)
{
	int32_t date = dates_parse_ymd(p->planned_date);
	if (!date)
		return -EINVAL;
	char actor[64];
	caller_actor(c, actor);
	StoreDisposalIn in = { .items = p->items,
		               .media = p->media,
		               .count = p->count,
		               .method = p->method,
		               .planned_date = date,
		               .actor = actor };
	int64_t id = 0;
	int r = store_disposal_plan(m->store, &in, now_real_usec(), &id);
	if (r < 0)
		return r == -EINVAL || r == -ENOENT ? -EIO : r;
	json_object *d = obj1("disposal_id", json_object_new_int64(id));
	json_object_object_add(d, "planned_date", json_object_new_string(p->planned_date));
	json_object_object_add(d, "by", json_object_new_string(actor));
	custody_record(m, c, NULL, "disposal.plan", "ok", NULL, d);
	json_object_put(d);
	r = store_disposal_json(m->store, id, ret);
	return r < 0 ? -EIO : 0;
}

int
custody_disposal_get(Manager *m, int64_t id, json_object **ret)
{
	int r = store_disposal_json(m->store, id, ret);
	return r == -ENOENT ? r : r < 0 ? -EIO : 0;
}

int
custody_disposal_approve(Manager *m, Caller *c, int64_t id, const char *actor, json_object *people,
                         json_object **ret)
{
	int r = store_disposal_approve(m->store, id, actor, now_real_usec());
	if (r == -EALREADY)
		return r;
	if (r < 0)
		return -EIO;
	json_object *d = obj1("disposal_id", json_object_new_int64(id));
	json_object_object_add(d, "by", json_object_new_string(actor));
	json_object_object_add(d, "confirmed_by", json_object_get(people));
	custody_record(m, c, NULL, "disposal.approve", "ok", NULL, d);
	json_object_put(d);
	return store_disposal_json(m->store, id, ret) < 0 ? -EIO : 0;
}

int
custody_disposal_execute(Manager *m, Caller *c, int64_t id, const char **ret_why, json_object **ret)
{
	char actor[64];
	caller_actor(c, actor);
	json_object *result = NULL;
	int r =
	    store_disposal_execute(m->store, id, actor, now_real_usec(), custody_today(), &result);
	if (r == -EPERM || r == -EAGAIN) {
		const char *why = r == -EPERM ? "not-approved" : "before-planned-date";
		json_object *det = obj1("disposal_id", json_object_new_int64(id));
		custody_record(m, c, NULL, "disposal.execute", "deny", why, det);
		json_object_put(det);
		*ret_why = why;
		return -EACCES;
	}
	if (r < 0) {
		log_error("Disposal %lld failed: %s", (long long)id, strerror(-r));
		return -EIO;
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
	json_object_put(result);
	return store_disposal_json(m->store, id, ret) < 0 ? -EIO : 0;
}

void
custody_disposal_reported(Manager *m, Caller *c, int64_t id)
{
	json_object *rec = obj1("disposal_id", json_object_new_int64(id));
	custody_record(m, c, NULL, "disposal.report", "ok", NULL, rec);
	json_object_put(rec);
}
