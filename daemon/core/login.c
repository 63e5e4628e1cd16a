/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * login: see login.h. Never trusts the sensor's answers more than a client's: every message
 * from it is checked against a field table before use. Never logs a template or a ticket.
 */
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-login.h>

#include "audit.h"
#include "caller.h"
#include "clock.h"
#include "fleet.h"
#include "incidents.h"
#include "log.h"
#include "login.h"
#include "manager.h"
#include "record.h"
#include "secret.h"
#include "sensorlink.h"
#include "sessions.h"
#include "tickets.h"
#include "verify.h"

static int
uid_of_user(const char *user, uid_t *ret)
{
	char buf[4096];
	struct passwd pw, *res = NULL;
	if (getpwnam_r(user, &pw, buf, sizeof(buf), &res) != 0 || !res)
		return -ENOENT;
	*ret = res->pw_uid;
	return 0;
}

static json_object *
param_obj(const char *key, json_object *val)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, key, val);
	return o;
}

static void
record_simple(Manager *m, Caller *c, const char *matching_id, const char *action,
              const char *outcome, const char *reason)
{
	AuditRecord rec = {
		.matching_id = matching_id, .action = action, .outcome = outcome, .reason = reason
	};
	(void)record_append(m, c, &rec, NULL, NULL);
}

/* A store error that must not read as one of this module's answers. */
static int
store_failure(int r)
{
	return r == -EPERM || r == -EACCES || r == -EINVAL || r == -ENXIO ? -EIO : r;
}

/* --- who, and may the caller ask ---------------------------------------------------------- */

int
login_resolve(Manager *m, Caller *c, const char *user, const char *mid, StoreStaff *ret,
              const char **ret_bad)
{
	if ((user && mid) || (!user && !mid))
		return *ret_bad = "user", -EINVAL;
	if (user ? !wire_valid_id(user) : !wire_valid_id(mid))
		return *ret_bad = user ? "user" : "matching_id", -EINVAL;
	const Peer *p = &c->peer;
	int r =
	    user ? store_staff_by_user(m->store, user, ret) : store_staff_by_id(m->store, mid, ret);
	if (r == -ENOENT)
		/* Only privileged callers learn who is on the roster. */
		return p->uid == 0 || caller_is_admin(m, c) ? -ENOENT : -EACCES;
	if (r < 0)
		return store_failure(r);
	if (p->uid != 0 && !caller_is_admin(m, c)) {
		uid_t uid;
		if (uid_of_user(ret->unix_user, &uid) < 0 || uid != p->uid)
			return -EACCES;
	}
	return ret->active ? 0 : -EPERM;
}

/* --- the gates (R6, R8, R9, R12) and lockout ------------------------------------------ */

/* The newest failed matches that can still matter for a lockout. */
#define FAILURES_MAX 64

int
login_lockout_state(Manager *m, const char *matching_id, int64_t now, bool *ret_locked,
                    int64_t *ret_until)
{
	const PolicySettings *ps = policy_settings(m->policy);
	int64_t failures[FAILURES_MAX];
	size_t n = 0;
	*ret_locked = false;
	*ret_until = 0;
	if (ps->lockout_deny == 0)
		return 0;
	int64_t horizon =
	    now - ((int64_t)ps->lockout_interval_sec + ps->lockout_unlock_sec) * 1000000;
	int r = store_failures_get(m->store, matching_id, horizon, failures, FAILURES_MAX, &n);
	if (r < 0)
		return r;
	*ret_locked = policy_locked_out(m->policy, failures, n, now, ret_until);
	return 0;
}

/* A session whose leader is gone was never closed (a crashed login): close it now, so
 * that it does not hold the person's matching ID forever (R12). */
static void
reap_dead_session(Manager *m, int64_t session_id)
{
	StoreSession s;
	if (store_session_get(m->store, session_id, &s) < 0 || !s.open || s.leader_pid <= 0)
		return;
	if (kill(s.leader_pid, 0) == 0 || errno != ESRCH)
		return;
	log_info("Session %lld: leader %d is gone; closing it", (long long)session_id,
	         (int)s.leader_pid);
	(void)sessions_stop(m->sessions, session_id, &s, "leader-gone", NULL);
}

int
login_gates(Manager *m, Caller *c, const StoreStaff *st, const char *stage,
            PolicyReason *ret_reason, int64_t *ret_until)
{
	int64_t now = now_real_usec();
	PolicyLoginFacts f = { .on_roster = true, .revoked = !st->active };

	json_object *ops = NULL;
	int r = store_operators_json(m->store, st->matching_id, &ops);
	if (r < 0)
		return store_failure(r);
	f.has_operator = json_object_array_length(ops) > 0;
	json_object_put(ops);

	int32_t pledge = 0, training = 0;
	if (store_staff_gates(m->store, st->matching_id, &pledge, &training) == 0) {
		f.pledge_recorded = pledge != 0;
		f.training_recorded = training != 0;
	}
	StoreShift shift;
	f.in_shift = store_shift_at(m->store, st->matching_id, now, &shift) == 0;

	int64_t open_id = 0;
	if (store_session_open_for(m->store, st->matching_id, &open_id) == 0) {
		reap_dead_session(m, open_id);
		f.in_open_session =
		    store_session_open_for(m->store, st->matching_id, &open_id) == 0;
		/* Unlocking one's own locked screen is not a second login. */
		StoreSession mine;
		if (f.in_open_session && sessions_find_by_peer(m->sessions, &c->peer, &mine) == 0 &&
		    strcmp(mine.matching_id, st->matching_id) == 0)
			f.in_open_session = false;
	}
	int64_t until = 0;
	r = login_lockout_state(m, st->matching_id, now, &f.locked_out, &until);
	if (r < 0)
		return store_failure(r);

	PolicyDecision d = policy_check_login(m->policy, &f);
	if (d.allow)
		return 0;
	const char *reason = policy_reason_name(d.reason);
	log_info("Login %s for matching ID %s refused: %s", stage, st->matching_id, reason);
	char action[32];
	snprintf(action, sizeof(action), "login.%s", stage);
	record_simple(m, c, st->matching_id, action, "deny", reason);
	*ret_reason = d.reason;
	*ret_until = d.reason == POLICY_LOCKED_OUT ? until : 0;
	return -EPERM;
}

/* --- the sensor: enroll and verify ------------------------------------------------------- */

/* One template of another matching ID to compare a new finger with. */
typedef struct EnrollCheck {
	char matching_id[WIRE_MAX_ID + 1];
	size_t finger;
} EnrollCheck;

struct LoginSensorOp {
	Manager *manager;
	Caller *caller;
	LoginProgressFn progress;
	LoginDoneFn done;
	void *userdata;
	bool enroll;
	char matching_id[WIRE_MAX_ID + 1];
	char finger[WIRE_MAX_ID + 1];
	pid_t pid;
	uid_t uid;
	uid_t session_uid;
	/* The caller runs inside this person's own open session (an unlock, su, sudo): the
	 * answer says so, and that session's ID, so that no second session is asked for. */
	int64_t own_session;
	char own_operator[WIRE_MAX_ID + 1];
	/* Enrollment: who did it and who confirmed it (R13), for its record. */
	char actor[256];
	json_object *people;
	/* Enrollment: the new template, sealed, while it is compared with every template of
	 * every other matching ID (one 1:1 check each), and the check under way. */
	uint8_t *sealed;
	size_t sealed_len;
	EnrollCheck *checks;
	size_t n_checks, check_i;
	VerifyOp *vop;
};

static void
sensor_op_free(LoginSensorOp *op)
{
	json_object_put(op->people);
	free(op->sealed);
	free(op->checks);
	free(op);
}

void
login_sensor_cancel(Manager *m, LoginSensorOp *op)
{
	if (!op)
		return;
	if (op->vop)
		verify_cancel(m, op->vop);
	else
		sensorlink_cancel(m->sensor, op);
	sensor_op_free(op);
}

/* The end of an operation: done runs once; op is gone before it does. */
static void
sensor_op_end(LoginSensorOp *op, int r, json_object *result)
{
	LoginDoneFn done = op->done;
	void *userdata = op->userdata;
	sensor_op_free(op);
	done(r, result, userdata);
}

/* A store failure at the end: never one of the sensor's answers. */
static int
store_end_failure(int r)
{
	return r == -ENODEV || r == -ETIMEDOUT || r == -ECANCELED || r == -EBUSY ||
	               r == -ENOTCONN || r == -EBADMSG || r == -EKEYREJECTED
	           ? -EIO
	           : r;
}

static void enroll_store(LoginSensorOp *op);

/*
 * One person, one matching ID (R13): every template of every other active matching ID, to
 * compare the new finger with before it is stored. A reader without identify (libfprint's
 * virtual_device, most match-on-host readers through biogated-sensor) compares 1:1, so each
 * comparison is one more touch of the same finger.
 */
static int
enroll_checks_new(LoginSensorOp *op)
{
	json_object *staff = NULL;
	if (store_staff_list_json(op->manager->store, &staff) < 0)
		return -EIO;
	size_t total = 0, n = json_object_array_length(staff);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			json_object *o = json_object_array_get_idx(staff, i), *f = NULL;
			const char *mid =
			    json_object_get_string(json_object_object_get(o, "matching_id"));
			const char *state =
			    json_object_get_string(json_object_object_get(o, "state"));
			if (!mid || !wire_valid_id(mid) || strcmp(mid, op->matching_id) == 0 ||
			    !state || strcmp(state, "active") != 0 ||
			    !json_object_object_get_ex(o, "fingers", &f))
				continue;
			size_t k = json_object_array_length(f);
			for (size_t j = 0; j < k; j++) {
				if (pass == 1) {
					EnrollCheck *e = &op->checks[op->n_checks++];
					snprintf(e->matching_id, sizeof(e->matching_id), "%s", mid);
					e->finger = j;
				}
			}
			total += pass == 0 ? k : 0;
		}
		if (pass == 0 && total > 0 && !(op->checks = calloc(total, sizeof(EnrollCheck)))) {
			json_object_put(staff);
			return -ENOMEM;
		}
		if (pass == 0 && total == 0)
			break;
	}
	json_object_put(staff);
	return 0;
}

static void enroll_check_next(LoginSensorOp *op);

static void
enroll_check_prompt(const char *prompt, void *userdata)
{
	LoginSensorOp *op = userdata;
	op->progress(param_obj("prompt", json_object_new_string(prompt)), op->userdata);
}

static void
enroll_check_done(int r, bool match, void *userdata)
{
	LoginSensorOp *op = userdata;
	Manager *m = op->manager;
	op->vop = NULL;
	if (r < 0)
		return sensor_op_end(op, r, NULL);
	if (!match) {
		op->check_i++;
		return enroll_check_next(op);
	}
	const char *other = op->checks[op->check_i].matching_id;
	log_warning("Enrollment of %s refused: the finger matches a template of matching ID %s",
	            op->matching_id, other);
	json_object *d = param_obj("finger", json_object_new_string(op->finger));
	json_object_object_add(d, "matches", json_object_new_string(other));
	if (op->actor[0])
		json_object_object_add(d, "by", json_object_new_string(op->actor));
	AuditRecord rec = { .matching_id = op->matching_id,
		            .action = "enroll",
		            .outcome = "deny",
		            .reason = "duplicate-finger",
		            .detail = json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN) };
	(void)record_append(m, op->caller, &rec, NULL, NULL);
	json_object_put(d);
	incidents_note(m->incidents, INCIDENT_DUPLICATE_FINGER, op->matching_id, NULL,
	               "a finger being enrolled is enrolled under another matching ID");
	sensor_op_end(op, -EEXIST, NULL);
}

static void
enroll_check_next(LoginSensorOp *op)
{
	while (op->check_i < op->n_checks) {
		const EnrollCheck *e = &op->checks[op->check_i];
		int r = verify_start_nth(op->manager, e->matching_id, e->finger,
		                         enroll_check_prompt, enroll_check_done, op, &op->vop);
		if (r == -ENOENT) { /* erased meanwhile: nothing to compare with */
			op->check_i++;
			continue;
		}
		if (r < 0)
			return sensor_op_end(op, r == -EBADMSG ? -EIO : r, NULL);
		return;
	}
	enroll_store(op);
}

static void
sensor_op_enrolled(LoginSensorOp *op, json_object *msg)
{
	static const WireField enroll_ok[] = {
		{ "id", WIRE_INT, true, 0, 0, 0 },
		{ "ok", WIRE_BOOL, true, 0, 0, 0 },
		{ "print", WIRE_STRING, true, WIRE_SENSOR_MAX_MESSAGE, 0, 0 },
	};
	Manager *m = op->manager;
	const char *bad = NULL;
	if (wire_check(msg, enroll_ok, 3, &bad) < 0)
		return sensor_op_end(op, -EBADMSG, NULL);
	json_object *pj = NULL;
	json_object_object_get_ex(msg, "print", &pj);
	uint8_t *print = NULL, *sealed = NULL;
	size_t print_len = 0, sealed_len = 0;
	int r = verify_b64_decode(json_object_get_string(pj),
	                          (size_t)json_object_get_string_len(pj), &print, &print_len);
	if (r < 0)
		return sensor_op_end(op, -EBADMSG, NULL);
	char aad[160];
	verify_template_aad(aad, sizeof(aad), op->matching_id, op->finger);
	r = secret_seal(m->secret, aad, print, print_len, &sealed, &sealed_len);
	secret_wipe_free(print, print_len);
	if (r < 0)
		return sensor_op_end(op, -EIO, NULL);
	op->sealed = sealed;
	op->sealed_len = sealed_len;
	r = enroll_checks_new(op);
	if (r < 0)
		return sensor_op_end(op, r, NULL);
	enroll_check_next(op);
}

/* The new template, compared with no other matching ID's: stored, recorded, answered. */
static void
enroll_store(LoginSensorOp *op)
{
	Manager *m = op->manager;
	int existed = store_finger_exists(m->store, op->matching_id, op->finger);
	int r = store_finger_put(m->store, op->matching_id, op->finger, op->sealed, op->sealed_len,
	                         now_real_usec());
	/* Enroll once, log in anywhere: sealed under the fleet's template key. */
	if (r >= 0)
		fleet_enrolled(m->fleet, op->matching_id, op->finger, op->sealed, op->sealed_len);
	if (r < 0)
		return sensor_op_end(op, store_end_failure(r), NULL);
	/* Re-enrolled over an old template: erase the old one as revocation does, so that no
	 * page version of it survives in the WAL (secure_delete has zeroed it in the file). */
	bool erased = true;
	if (existed > 0 && store_wal_truncate(m->store) < 0) {
		log_warning("The replaced template of %s may remain in the WAL until the next "
		            "checkpoint",
		            op->matching_id);
		erased = false;
	}
	log_info("Enrolled %s of matching ID %s%s", op->finger, op->matching_id,
	         existed > 0 ? " (replacing the old template)" : "");
	json_object *d = param_obj("finger", json_object_new_string(op->finger));
	if (existed > 0) {
		json_object_object_add(d, "replaced", json_object_new_boolean(true));
		json_object_object_add(d, "wal_truncated", json_object_new_boolean(erased));
	}
	if (op->actor[0])
		json_object_object_add(d, "by", json_object_new_string(op->actor));
	if (op->people)
		json_object_object_add(d, "confirmed_by", json_object_get(op->people));
	AuditRecord rec = { .matching_id = op->matching_id,
		            .action = "enroll",
		            .outcome = "ok",
		            .detail = json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN) };
	(void)record_append(m, op->caller, &rec, NULL, NULL);
	json_object_put(d);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "matching_id", json_object_new_string(op->matching_id));
	json_object_object_add(o, "finger", json_object_new_string(op->finger));
	sensor_op_end(op, 0, o);
}

static void
sensor_op_verified(LoginSensorOp *op, json_object *msg)
{
	static const WireField verify_ok[] = {
		{ "id", WIRE_INT, true, 0, 0, 0 },
		{ "ok", WIRE_BOOL, true, 0, 0, 0 },
		{ "match", WIRE_BOOL, true, 0, 0, 0 },
	};
	Manager *m = op->manager;
	const char *bad = NULL;
	if (wire_check(msg, verify_ok, 3, &bad) < 0)
		return sensor_op_end(op, -EBADMSG, NULL);
	if (!wire_bool(msg, "match", false)) {
		int64_t now = now_real_usec();
		log_info("Verification of matching ID %s: no match", op->matching_id);
		(void)store_failure_add(m->store, op->matching_id, now);
		bool locked = false;
		int64_t until = 0;
		(void)login_lockout_state(m, op->matching_id, now, &locked, &until);
		record_simple(m, op->caller, op->matching_id, "verify", "fail",
		              locked ? "no-match-locked-out" : "no-match");
		incidents_note(m->incidents, INCIDENT_FAILED_MATCHES, op->matching_id, NULL,
		               "fingerprint verification did not match");
		return sensor_op_end(op, -EKEYREJECTED, NULL);
	}
	(void)store_failures_clear(m->store, op->matching_id);
	json_object *ops = NULL;
	int r = store_operators_json(m->store, op->matching_id, &ops);
	if (r < 0)
		return sensor_op_end(op, r == -ENOENT || r == -EALREADY ? -EALREADY : -EIO, NULL);
	char ticket[TICKET_HEX_LEN + 1];
	ticket_issue(&m->tickets, (uint64_t)m->config.ticket_lifetime_sec * 1000000u,
	             op->matching_id, op->pid, op->uid, op->session_uid, ticket);
	if (!ticket[0]) {
		json_object_put(ops);
		return sensor_op_end(op, -EIO, NULL);
	}
	log_info("Verification of matching ID %s: match", op->matching_id);
	record_simple(m, op->caller, op->matching_id, "verify", "ok", "match");
	json_object *o = json_object_new_object();
	json_object_object_add(o, "matching_id", json_object_new_string(op->matching_id));
	json_object_object_add(o, "ticket", json_object_new_string(ticket));
	json_object_object_add(o, "operators", ops);
	if (op->own_session > 0) {
		json_object *in = json_object_new_object();
		json_object_object_add(in, "session_id", json_object_new_int64(op->own_session));
		json_object_object_add(in, "operator_id", json_object_new_string(op->own_operator));
		json_object_object_add(o, "in_session", in);
	}
	OPENSSL_cleanse(ticket, sizeof(ticket));
	sensor_op_end(op, 0, o);
}

static void
sensor_op_finish(LoginSensorOp *op, json_object *msg)
{
	static const WireField failed[] = {
		{ "id", WIRE_INT, false, 0, 0, 0 },
		{ "ok", WIRE_BOOL, true, 0, 0, 0 },
		{ "error", WIRE_STRING, true, 64, 0, 0 },
		{ "message", WIRE_STRING, false, 512, 0, 0 },
	};
	const char *bad = NULL;
	if (!wire_bool(msg, "ok", false)) {
		if (wire_check(msg, failed, 4, &bad) < 0)
			return sensor_op_end(op, -EBADMSG, NULL);
		const char *err = wire_str(msg, "error");
		log_info("%s for %s failed: %s", op->enroll ? "Enrollment" : "Verification",
		         op->matching_id, err);
		return sensor_op_end(op, verify_sensor_errno(err), NULL);
	}
	if (op->enroll)
		sensor_op_enrolled(op, msg);
	else
		sensor_op_verified(op, msg);
}

static void
sensor_op_event(json_object *msg, bool final, void *userdata)
{
	static const WireField progress[] = {
		{ "id", WIRE_INT, true, 0, 0, 0 },
		{ "event", WIRE_STRING, true, 32, 0, 0 },
		{ "stage", WIRE_INT, true, 0, 0, 100 },
		{ "stages", WIRE_INT, true, 0, 1, 100 },
	};
	static const WireField other[] = {
		{ "id", WIRE_INT, true, 0, 0, 0 },
		{ "event", WIRE_STRING, true, 32, 0, 0 },
		{ "message", WIRE_STRING, false, 512, 0, 0 },
	};
	LoginSensorOp *op = userdata;
	if (final)
		return sensor_op_finish(op, msg);

	const char *ev = wire_str(msg, "event");
	const char *bad = NULL;
	if (!ev)
		return;
	if (strcmp(ev, "progress") == 0 && op->enroll) {
		if (wire_check(msg, progress, 4, &bad) < 0)
			return;
		json_object *o = json_object_new_object();
		json_object_object_add(o, "stage",
		                       json_object_new_int64(wire_int(msg, "stage", 0)));
		json_object_object_add(o, "stages",
		                       json_object_new_int64(wire_int(msg, "stages", 0)));
		op->progress(o, op->userdata);
	} else if (strcmp(ev, "place-finger") == 0 || strcmp(ev, "retry") == 0) {
		if (wire_check(msg, other, 3, &bad) < 0)
			return;
		op->progress(param_obj("prompt", json_object_new_string(ev)), op->userdata);
	}
}

static LoginSensorOp *
sensor_op_new(Manager *m, Caller *c, const char *matching_id, LoginProgressFn progress,
              LoginDoneFn done, void *userdata)
{
	LoginSensorOp *op = calloc(1, sizeof(*op));
	if (!op)
		return NULL;
	*op = (LoginSensorOp){ .manager = m,
		               .caller = c,
		               .progress = progress,
		               .done = done,
		               .userdata = userdata,
		               .session_uid = (uid_t)-1 };
	snprintf(op->matching_id, sizeof(op->matching_id), "%s", matching_id);
	return op;
}

int
login_enroll_start(Manager *m, Caller *c, const char *matching_id, const char *finger,
                   const char *actor, json_object *people, LoginProgressFn progress,
                   LoginDoneFn done, void *userdata, LoginSensorOp **ret)
{
	LoginSensorOp *op = sensor_op_new(m, c, matching_id, progress, done, userdata);
	if (!op)
		return -ENOMEM;
	op->enroll = true;
	snprintf(op->actor, sizeof(op->actor), "%s", actor ? actor : "");
	op->people = people ? json_object_get(people) : NULL;
	snprintf(op->finger, sizeof(op->finger), "%s", finger);
	json_object *req = json_object_new_object();
	json_object_object_add(req, "op", json_object_new_string("enroll"));
	json_object_object_add(req, "finger", json_object_new_string(finger));
	json_object_object_add(req, "timeout_ms",
	                       json_object_new_int64((int64_t)m->config.enroll_timeout_sec * 1000));
	int r = sensorlink_start(m->sensor, req, sensor_op_event, op);
	if (r < 0) {
		sensor_op_free(op);
		return r;
	}
	*ret = op;
	return 0;
}

int
login_verify_start(Manager *m, Caller *c, const StoreStaff *st, LoginProgressFn progress,
                   LoginDoneFn done, void *userdata, LoginSensorOp **ret)
{
	json_object *req = NULL;
	int r = verify_request_new(m, st->matching_id, &req);
	if (r < 0)
		return r == -ENOENT ? r : -EIO;
	LoginSensorOp *op = sensor_op_new(m, c, st->matching_id, progress, done, userdata);
	if (!op) {
		json_object_put(req);
		return -ENOMEM;
	}
	op->pid = c->peer.pid;
	op->uid = c->peer.uid;
	StoreSession mine;
	if (sessions_find_by_peer(m->sessions, &c->peer, &mine) == 0 &&
	    strcmp(mine.matching_id, st->matching_id) == 0) {
		op->own_session = mine.id;
		snprintf(op->own_operator, sizeof(op->own_operator), "%s", mine.operator_id);
	}
	r = sensorlink_start(m->sensor, req, sensor_op_event, op);
	if (r < 0) {
		free(op);
		return r;
	}
	/* The person's uid is looked up while the reader works, so that NSS (which may ask
	 * systemd-userdbd) never adds to the time a person waits. Unknown stays (uid_t)-1:
	 * never 0, which would make the session root's. */
	(void)uid_of_user(st->unix_user, &op->session_uid);
	*ret = op;
	return 0;
}

/* --- the session ----------------------------------------------------------------------- */

/* What an OpenSession holds while the fleet center is asked (R12 across terminals). */
struct LoginOpen {
	Manager *m;
	Caller *caller; /* NULL once the caller went away */
	LoginOpenDoneFn done;
	void *userdata;
	bool sync; /* still inside login_open_session_start() */
	bool finished;
	FleetOpen *fleet;
	char mid[WIRE_MAX_ID + 1];
	char operator_id[WIRE_MAX_ID + 1];
	char role[WIRE_MAX_ID + 1];
	uid_t uid;
	pid_t pid;
	char *tty, *service, *logind_session;
};

static void
login_open_free(LoginOpen *op)
{
	free(op->tty);
	free(op->service);
	free(op->logind_session);
	free(op);
}

/* Opens the session in the store and records it; *ret {session_id, operator_id, role}. */
static int
login_open_commit(LoginOpen *op, bool offline, json_object **ret)
{
	Manager *m = op->m;
	/* The center may have taken a while: a revocation heard meanwhile wins. */
	StoreStaff st;
	int r = store_staff_by_id(m->store, op->mid, &st);
	if (r < 0)
		return -ENOENT;
	if (!st.active)
		return -EPERM;
	StoreSessionIn in = {
		.matching_id = op->mid,
		.operator_id = op->operator_id,
		.uid = op->uid,
		.leader_pid = op->pid,
		.tty = op->tty,
		.service = op->service,
		.logind_session = op->logind_session,
		.opened_at = now_real_usec(),
	};
	int64_t id = 0;
	r = store_session_open(m->store, &in, &id);
	if (r < 0)
		return r == -EPERM || r == -EACCES || r == -ENOENT || r == -ENXIO ? -EIO : r;
	log_info("Session %lld opened: matching ID %s as operator ID %s (role %s), tty %s%s",
	         (long long)id, op->mid, op->operator_id, op->role, in.tty ? in.tty : "-",
	         offline ? ", fleet center offline" : "");
	char detail[160];
	snprintf(detail, sizeof(detail), "{\"session_id\":%lld,\"role\":\"%s\"%s}", (long long)id,
	         op->role, offline ? ",\"offline\":true" : "");
	AuditRecord rec = { .matching_id = op->mid,
		            .operator_id = op->operator_id,
		            .action = "session.open",
		            .outcome = "ok",
		            .reason = offline ? "fleet-offline" : NULL,
		            .detail = detail };
	(void)record_append(m, op->caller, &rec, NULL, NULL);
	/* After its record: the room log's entry follows the session.open record. */
	sessions_opened(m->sessions, id, op->mid, in.opened_at);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "session_id", json_object_new_int64(id));
	json_object_object_add(o, "operator_id", json_object_new_string(op->operator_id));
	json_object_object_add(o, "role", json_object_new_string(op->role));
	if (offline)
		json_object_object_add(o, "offline", json_object_new_boolean(true));
	*ret = o;
	return 0;
}

static void
login_open_fleet_done(int r, const char *holder, bool offline, void *userdata)
{
	LoginOpen *op = userdata;
	Manager *m = op->m;
	json_object *o = NULL;

	op->fleet = NULL;
	if (!op->caller && !op->sync) {
		/* The caller went away while the center answered: nothing to open. */
		login_open_free(op);
		return;
	}
	if (r == 0) {
		r = login_open_commit(op, offline, &o);
		if (r < 0 && !offline)
			/* Registered at the center, not opened here: give the person back. */
			fleet_session_closed(m->fleet, op->mid, "open-failed");
	} else {
		/* Refused because of another terminal, or by the offline rules: recorded. */
		char detail[128];
		snprintf(detail, sizeof(detail), "{\"terminal\":\"%s\"}", holder ? holder : "");
		AuditRecord rec = { .matching_id = op->mid,
			            .operator_id = op->operator_id,
			            .action = "session.open",
			            .outcome = "deny",
			            .reason = r == -EBUSY         ? "already-in-session"
			                      : r == -ENETUNREACH ? "fleet-offline"
			                                          : "revoked",
			            .detail = r == -EBUSY ? detail : NULL };
		(void)record_append(m, op->caller, &rec, NULL, NULL);
	}
	op->finished = true;
	op->done(r, o, holder, op->userdata);
	if (!op->sync)
		login_open_free(op);
}

/*
 * The logind session a client names for its login must be the one logind itself gives the
 * leader: the daemon locks and terminates the session it is told, so a wrong name would make
 * it act on someone else's. 0 with *ret the name to store (NULL: none), -EBADSLT when logind
 * puts the leader in another session. Without systemd (sd_booted() == 0) logind cannot be
 * asked and the client's name is kept; with it, a leader that logind puts in no session has
 * no logind session, whatever the client says.
 */
static int
login_logind_session(pid_t leader, const char *claimed, const char **ret, char **ret_free)
{
	*ret = claimed;
	*ret_free = NULL;
	if (!claimed)
		return 0; /* nothing claimed: the session watcher asks logind about the leader */
	char *sid = NULL;
	if (sd_pid_get_session(leader, &sid) >= 0 && sid) {
		if (strcmp(claimed, sid) != 0) {
			log_warning("OpenSession from pid %d names logind session %s, but logind "
			            "has it in session %s: refused",
			            (int)leader, claimed, sid);
			free(sid);
			return -EBADSLT;
		}
		*ret = *ret_free = sid;
		return 0;
	}
	free(sid);
	if (sd_booted() > 0) {
		log_warning("OpenSession from pid %d names logind session %s, but logind has it "
		            "in none: not kept",
		            (int)leader, claimed);
		*ret = NULL;
	}
	return 0;
}

int
login_open_session_start(Manager *m, Caller *c, const LoginSessionIn *li, LoginOpenDoneFn done,
                         void *userdata, LoginOpen **ret)
{
	const Peer *p = &c->peer;
	char mid[WIRE_MAX_ID + 1];
	uid_t uid = (uid_t)-1;
	*ret = NULL;
	/* The session's leader is the connector: once it is gone its pid is nobody's. */
	if (p->gone || !ticket_take(&m->tickets, li->ticket, p->pid, p->uid, mid, &uid))
		return -EACCES;

	StoreStaff st;
	int r = store_staff_by_id(m->store, mid, &st);
	if (r < 0)
		return -ENOENT;
	if (!st.active)
		return -EPERM;
	LoginOpen *op = calloc(1, sizeof(*op));
	if (!op)
		return -ENOMEM;
	r = store_operator_role(m->store, mid, li->operator_id, op->role);
	if (r < 0) {
		free(op);
		return -ENXIO;
	}
	/* One open session per matching ID, with no exception (R12, unless the policy turns
	 * single-session off): a ticket from a check made inside the person's own session (an
	 * unlock, su, sudo) opens nothing; a login nested in the session is refused here
	 * whatever its operator ID. */
	int64_t open_id = 0;
	if (policy_settings(m->policy)->single_session &&
	    store_session_open_for(m->store, mid, &open_id) == 0) {
		reap_dead_session(m, open_id);
		if (store_session_open_for(m->store, mid, &open_id) == 0) {
			log_info("Session for matching ID %s refused: session %lld is open", mid,
			         (long long)open_id);
			AuditRecord rec = { .matching_id = mid,
				            .operator_id = li->operator_id,
				            .action = "session.open",
				            .outcome = "deny",
				            .reason = "already-in-session" };
			(void)record_append(m, c, &rec, NULL, NULL);
			free(op);
			return -EEXIST;
		}
	}

	const char *logind_session = NULL;
	char *logind_free = NULL;
	r = login_logind_session(p->pid, li->logind_session, &logind_session, &logind_free);
	if (r < 0) {
		AuditRecord rec = { .matching_id = mid,
			            .operator_id = li->operator_id,
			            .action = "session.open",
			            .outcome = "deny",
			            .reason = "logind-session-mismatch" };
		(void)record_append(m, c, &rec, NULL, NULL);
		free(op);
		return r;
	}
	op->m = m;
	op->caller = c;
	op->done = done;
	op->userdata = userdata;
	op->uid = uid;
	op->pid = p->pid;
	snprintf(op->mid, sizeof(op->mid), "%s", mid);
	snprintf(op->operator_id, sizeof(op->operator_id), "%s", li->operator_id);
	op->tty = li->tty ? strdup(li->tty) : NULL;
	op->service = li->service ? strdup(li->service) : NULL;
	op->logind_session = logind_session ? strdup(logind_session) : NULL;
	free(logind_free);
	if ((li->tty && !op->tty) || (li->service && !op->service) ||
	    (logind_session && !op->logind_session)) {
		login_open_free(op);
		return -ENOMEM;
	}
	/* Without a fleet (or with the center known away) this answers at once. */
	op->sync = true;
	r = fleet_open_session(m->fleet, mid, li->operator_id, login_open_fleet_done, op,
	                       &op->fleet);
	op->sync = false;
	if (r < 0) {
		login_open_free(op);
		return r;
	}
	if (op->finished) {
		login_open_free(op);
		return 0;
	}
	*ret = op;
	return 0;
}

void
login_open_cancel(Manager *m, LoginOpen *op)
{
	if (!op)
		return;
	op->caller = NULL;
	fleet_open_cancel(m->fleet, op->fleet);
	/* The fleet calls back once more (cancelled: it undoes a registration itself) only when
	 * it was still asking; otherwise nothing is pending and op is ours to free. */
	if (op->fleet)
		login_open_free(op);
}

int
login_close_session(Manager *m, Caller *c, int64_t session_id)
{
	StoreSession s;
	int r = store_session_get(m->store, session_id, &s);
	if (r == -ENOENT || (r == 0 && !s.open))
		return -ENOENT;
	if (r < 0)
		return store_failure(r);
	return sessions_stop(m->sessions, session_id, &s, "logout", c);
}
