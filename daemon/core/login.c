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

#include "audit.h"
#include "caller.h"
#include "clock.h"
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
};

void
login_sensor_cancel(Manager *m, LoginSensorOp *op)
{
	if (!op)
		return;
	sensorlink_cancel(m->sensor, op);
	free(op);
}

/* The end of an operation: done runs once; op is gone before it does. */
static void
sensor_op_end(LoginSensorOp *op, int r, json_object *result)
{
	LoginDoneFn done = op->done;
	void *userdata = op->userdata;
	free(op);
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
	int existed = store_finger_exists(m->store, op->matching_id, op->finger);
	r = store_finger_put(m->store, op->matching_id, op->finger, sealed, sealed_len,
	                     now_real_usec());
	free(sealed);
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
	char detail[128];
	if (existed > 0)
		snprintf(detail, sizeof(detail),
		         "{\"finger\":\"%s\",\"replaced\":true,\"wal_truncated\":%s}", op->finger,
		         erased ? "true" : "false");
	else
		snprintf(detail, sizeof(detail), "{\"finger\":\"%s\"}", op->finger);
	AuditRecord rec = { .matching_id = op->matching_id,
		            .action = "enroll",
		            .outcome = "ok",
		            .detail = detail };
	(void)record_append(m, op->caller, &rec, NULL, NULL);
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
                   LoginProgressFn progress, LoginDoneFn done, void *userdata, LoginSensorOp **ret)
{
	LoginSensorOp *op = sensor_op_new(m, c, matching_id, progress, done, userdata);
	if (!op)
		return -ENOMEM;
	op->enroll = true;
	snprintf(op->finger, sizeof(op->finger), "%s", finger);
	json_object *req = json_object_new_object();
	json_object_object_add(req, "op", json_object_new_string("enroll"));
	json_object_object_add(req, "finger", json_object_new_string(finger));
	json_object_object_add(req, "timeout_ms",
	                       json_object_new_int64((int64_t)m->config.enroll_timeout_sec * 1000));
	int r = sensorlink_start(m->sensor, req, sensor_op_event, op);
	if (r < 0) {
		free(op);
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

int
login_open_session(Manager *m, Caller *c, const LoginSessionIn *li, json_object **ret)
{
	const Peer *p = &c->peer;
	char mid[WIRE_MAX_ID + 1];
	uid_t uid = (uid_t)-1;
	if (!ticket_take(&m->tickets, li->ticket, p->pid, p->uid, mid, &uid))
		return -EACCES;

	StoreStaff st;
	int r = store_staff_by_id(m->store, mid, &st);
	if (r < 0)
		return -ENOENT;
	if (!st.active)
		return -EPERM;
	char role[WIRE_MAX_ID + 1];
	r = store_operator_role(m->store, mid, li->operator_id, role);
	if (r < 0)
		return -ENXIO;

	StoreSessionIn in = {
		.matching_id = mid,
		.operator_id = li->operator_id,
		.uid = uid,
		.leader_pid = p->pid,
		.tty = li->tty,
		.service = li->service,
		.logind_session = li->logind_session,
		.opened_at = now_real_usec(),
	};
	int64_t id = 0;
	r = store_session_open(m->store, &in, &id);
	if (r < 0)
		return r == -EPERM || r == -EACCES || r == -ENOENT || r == -ENXIO ? -EIO : r;
	log_info("Session %lld opened: matching ID %s as operator ID %s (role %s), tty %s",
	         (long long)id, mid, li->operator_id, role, in.tty ? in.tty : "-");
	char detail[128];
	snprintf(detail, sizeof(detail), "{\"session_id\":%lld,\"role\":\"%s\"}", (long long)id,
	         role);
	AuditRecord rec = { .matching_id = mid,
		            .operator_id = li->operator_id,
		            .action = "session.open",
		            .outcome = "ok",
		            .detail = detail };
	(void)record_append(m, c, &rec, NULL, NULL);
	/* After its record: the room log's entry follows the session.open record. */
	sessions_opened(m->sessions, id, mid, in.opened_at);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "session_id", json_object_new_int64(id));
	json_object_object_add(o, "operator_id", json_object_new_string(li->operator_id));
	json_object_object_add(o, "role", json_object_new_string(role));
	*ret = o;
	return 0;
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
