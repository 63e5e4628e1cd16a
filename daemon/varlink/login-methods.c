/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * login-methods: the calls of a login, and enrollment.
 *   io.biogate.Enroll {matching_id, finger} (admin, more): {stage, stages} while it runs.
 *   io.biogate.CheckAccount {user} (login): the gates, without the reader.
 *   io.biogate.Verify {user | matching_id} (login, more): {prompt} while it runs, then
 *       {matching_id, ticket, operators}.
 *   io.biogate.OpenSession {ticket, operator_id, tty?, service?, logind_session?, rhost?}
 *       (root): {session_id, operator_id, role}.
 *   io.biogate.CloseSession {session_id} (root); io.biogate.ListSessions {} (admin).
 * The reader's work keeps the connection here (a gone hook cancels it); core never sees it.
 */
#include <errno.h>
#include <string.h>

#include "custody.h"
#include "login.h"
#include "manager.h"
#include "origin.h"
#include "handlers.h"
#include "interface.h"
#include "reply.h"
#include "roster.h"
#include "store.h"
#include "tickets.h"

static const char *const finger_names[] = {
	"left-thumb",  "left-index",  "left-middle",  "left-ring",  "left-little",
	"right-thumb", "right-index", "right-middle", "right-ring", "right-little",
};

static bool
valid_finger(const char *f)
{
	for (size_t i = 0; i < sizeof(finger_names) / sizeof(finger_names[0]); i++)
		if (strcmp(f, finger_names[i]) == 0)
			return true;
	return false;
}

static json_object *
param_obj(const char *key, json_object *val)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, key, val);
	return o;
}

/* --- the reader's work, with the connection kept here -------------------------------- */

static void
sensor_gone(Conn *c, void *userdata)
{
	login_sensor_cancel(conn_manager(c), userdata);
}

static void
sensor_progress(json_object *event, void *userdata)
{
	conn_reply(userdata, event, true);
}

static void
sensor_done(int r, json_object *result, void *userdata)
{
	Conn *c = userdata;
	conn_set_gone_hook(c, NULL, NULL);
	if (r == -EEXIST) /* the finger is enrolled under another matching ID (R13) */
		conn_error(c, WIRE_ERR_NOT_PERMITTED,
		           param_obj("reason", json_object_new_string("duplicate-finger")));
	else if (r < 0)
		conn_error(c, errors_from_sensor(r), NULL);
	else
		conn_reply(c, result, false);
}

/* Maps a start that failed (nothing called back) to its error. */
static void
sensor_start_failed(Conn *c, int r)
{
	conn_error(c,
	           r == -ENOENT                ? WIRE_ERR_NOT_ENROLLED
	           : r == -EIO || r == -ENOMEM ? WIRE_ERR_INTERNAL
	           : r == -EBUSY               ? WIRE_ERR_BUSY
	                                       : WIRE_ERR_SENSOR_UNAVAILABLE,
	           NULL);
}

/* After the confirmation (R13: enrollment is two-person by default, see custody.c). */
static void
enroll_confirmed(Manager *m, Conn *c, json_object *params, const char *actor, json_object *people)
{
	LoginSensorOp *op = NULL;
	int r = login_enroll_start(m, conn_caller(c), wire_str(params, "matching_id"),
	                           wire_str(params, "finger"), actor, people, sensor_progress,
	                           sensor_done, c, &op);
	if (r < 0)
		return (void)conn_error(c,
		                        r == -ENOMEM  ? WIRE_ERR_INTERNAL
		                        : r == -EBUSY ? WIRE_ERR_BUSY
		                                      : WIRE_ERR_SENSOR_UNAVAILABLE,
		                        NULL);
	conn_set_gone_hook(c, sensor_gone, op);
	conn_defer(c);
}

void
login_method_enroll(Manager *m, Conn *c, json_object *params)
{
	const char *mid = wire_str(params, "matching_id");
	const char *finger = wire_str(params, "finger");
	if (!wire_valid_id(mid))
		return reply_invalid(c, "matching_id");
	if (!valid_finger(finger))
		return reply_invalid(c, "finger");
	int r = custody_person_active(m, mid);
	if (r < 0)
		return (void)conn_error(c, r == -ENOENT ? WIRE_ERR_NOT_ON_ROSTER : WIRE_ERR_REVOKED,
		                        NULL);
	confirm_two_person(m, c, params, "enroll", enroll_confirmed);
}

/* --- the gates ------------------------------------------------------------------------ */

static const char *
gate_error(PolicyReason r)
{
	switch (r) {
	case POLICY_NOT_ON_ROSTER:
		return WIRE_ERR_NOT_ON_ROSTER;
	case POLICY_REVOKED:
		return WIRE_ERR_REVOKED;
	case POLICY_LOCKED_OUT:
		return WIRE_ERR_LOCKED_OUT;
	case POLICY_NO_OPERATOR:
		return WIRE_ERR_NO_OPERATOR;
	case POLICY_PLEDGE_MISSING:
		return WIRE_ERR_PLEDGE_MISSING;
	case POLICY_TRAINING_MISSING:
		return WIRE_ERR_TRAINING_MISSING;
	case POLICY_OUTSIDE_SHIFT:
		return WIRE_ERR_OUTSIDE_SHIFT;
	case POLICY_ALREADY_IN_SESSION:
		return WIRE_ERR_IN_SESSION;
	default:
		return WIRE_ERR_NOT_PERMITTED;
	}
}

/* Resolves the person and runs the gates; false when the caller has been answered. */
static bool
login_admit(Manager *m, Conn *c, json_object *params, const char *stage, StoreStaff *ret)
{
	const char *bad = NULL;
	int r = login_resolve(m, conn_caller(c), wire_str(params, "user"),
	                      wire_str(params, "matching_id"), ret, &bad);
	if (r == -EINVAL)
		reply_invalid(c, bad);
	else if (r == -ENOENT)
		conn_error(c, WIRE_ERR_NOT_ON_ROSTER, NULL);
	else if (r == -EACCES)
		conn_error(c, WIRE_ERR_NOT_PERMITTED, NULL);
	else if (r < 0)
		reply_errno(c, r);
	if (r < 0)
		return false;
	PolicyReason reason = POLICY_ALLOWED;
	int64_t until = 0;
	r = login_gates(m, conn_caller(c), ret, stage, &reason, &until);
	if (r == -EPERM)
		conn_error(c, gate_error(reason),
		           reason == POLICY_LOCKED_OUT
		               ? param_obj("until", json_object_new_int64(until))
		               : NULL);
	else if (r < 0)
		reply_errno(c, r);
	return r >= 0;
}

void
login_method_check_account(Manager *m, Conn *c, json_object *params)
{
	StoreStaff st;
	if (!login_admit(m, c, params, "account", &st))
		return;
	json_object *ops = NULL;
	int r = store_operators_json(m->store, st.matching_id, &ops);
	if (r < 0)
		return reply_errno(c, r);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "matching_id", json_object_new_string(st.matching_id));
	json_object_object_add(o, "operators", ops);
	conn_reply(c, o, false);
}

void
login_method_verify(Manager *m, Conn *c, json_object *params)
{
	StoreStaff st;
	if (!login_admit(m, c, params, "verify", &st))
		return;
	LoginSensorOp *op = NULL;
	int r = login_verify_start(m, conn_caller(c), &st, sensor_progress, sensor_done, c, &op);
	if (r < 0)
		return sensor_start_failed(c, r);
	conn_set_gone_hook(c, sensor_gone, op);
	conn_defer(c);
}

/* --- sessions ----------------------------------------------------------------------- */

static void
open_session_gone(Conn *c, void *userdata)
{
	login_open_cancel(conn_manager(c), userdata);
}

static void
open_session_done(int r, json_object *o, const char *holder, void *userdata)
{
	Conn *c = userdata;
	conn_set_gone_hook(c, NULL, NULL);
	if (r == 0)
		return (void)conn_reply(c, o, false);
	if (r == -EBUSY) {
		/* R12 across terminals: the error names where the person is. */
		json_object *p = json_object_new_object();
		json_object_object_add(p, "terminal", json_object_new_string(holder ? holder : ""));
		return (void)conn_error(c, WIRE_ERR_IN_SESSION, p);
	}
	if (r == -EPERM)
		return (void)conn_error(c, WIRE_ERR_REVOKED, NULL);
	if (r == -ENOENT)
		return (void)conn_error(c, WIRE_ERR_NOT_ON_ROSTER, NULL);
	if (r == -ENETUNREACH)
		return (void)conn_error(c, WIRE_ERR_CENTER_UNREACHABLE, NULL);
	reply_errno(c, r);
}

void
login_method_open_session(Manager *m, Conn *c, json_object *params)
{
	static const char *const texts[] = { "tty", "service", "logind_session", "rhost" };
	for (size_t i = 0; i < 4; i++) {
		const char *v = wire_str(params, texts[i]);
		if (v && !wire_valid_text(v, 256))
			return reply_invalid(c, texts[i]);
	}
	LoginSessionIn in = { .ticket = wire_str(params, "ticket"),
		              .operator_id = wire_str(params, "operator_id"),
		              .tty = wire_str(params, "tty"),
		              .service = wire_str(params, "service"),
		              .logind_session = wire_str(params, "logind_session") };
	if (!wire_valid_id(in.operator_id))
		return reply_invalid(c, "operator_id");
	/* Remote logins are refused by host, service and tty before the ticket is spent. */
	const char *rhost = wire_str(params, "rhost");
	if (origin_check_session(m, conn_caller(c), rhost, in.service, in.tty) < 0) {
		json_object *why = json_object_new_object();
		json_object_object_add(why, "reason", json_object_new_string("remote-login"));
		return (void)conn_error(c, WIRE_ERR_NOT_PERMITTED, why);
	}
	LoginOpen *op = NULL;
	int r = login_open_session_start(m, conn_caller(c), &in, open_session_done, c, &op);
	if (r == -EACCES)
		return (void)conn_error(c, WIRE_ERR_TICKET, NULL);
	if (r == -ENOENT)
		return (void)conn_error(c, WIRE_ERR_NOT_ON_ROSTER, NULL);
	if (r == -EPERM)
		return (void)conn_error(c, WIRE_ERR_REVOKED, NULL);
	if (r == -ENXIO)
		return (void)conn_error(c, WIRE_ERR_NO_OPERATOR, NULL);
	if (r == -EEXIST)
		return (void)conn_error(c, WIRE_ERR_IN_SESSION, NULL);
	if (r == -EBADSLT)
		return reply_invalid(c, "logind_session");
	if (r < 0)
		return reply_errno(c, r);
	if (op) {
		/* Waiting for the fleet center (bounded by the policy's wait-ms). */
		conn_set_gone_hook(c, open_session_gone, op);
		conn_defer(c);
	}
}

void
login_method_close_session(Manager *m, Conn *c, json_object *params)
{
	int r = login_close_session(m, conn_caller(c), wire_int(params, "session_id", 0));
	if (r < 0)
		return reply_errno(c, r);
	conn_reply(c, NULL, false);
}

void
login_method_list_sessions(Manager *m, Conn *c, json_object *params)
{
	json_object *arr = NULL;
	int r = store_sessions_json(m->store, &arr);
	if (r < 0)
		return reply_errno(c, r);
	conn_reply(c, param_obj("sessions", arr), false);
}

/* DeleteFinger {matching_id, finger, force?} (admin; issue 13): one template erased as
 * revocation erases it. The last finger of a person is kept unless force: without it the
 * person could no longer log in, which is revocation's business. */
void
login_method_delete_finger(Manager *m, Conn *c, json_object *params)
{
	const char *mid = wire_str(params, "matching_id");
	const char *finger = wire_str(params, "finger");
	if (!wire_valid_id(mid))
		return reply_invalid(c, "matching_id");
	if (!valid_finger(finger))
		return reply_invalid(c, "finger");
	json_object *o = NULL;
	int r = roster_finger_delete(m, conn_caller(c), mid, finger,
	                             wire_bool(params, "force", false), &o);
	if (r >= 0)
		return (void)conn_reply(c, o, false);
	json_object *p = json_object_new_object();
	json_object_object_add(p, "matching_id", json_object_new_string(mid));
	switch (r) {
	case -ENOENT:
		return (void)conn_error(c, WIRE_ERR_NOT_ON_ROSTER, p);
	case -EPERM:
		return (void)conn_error(c, WIRE_ERR_REVOKED, p);
	case -ESRCH:
		json_object_object_add(p, "finger", json_object_new_string(finger));
		return (void)conn_error(c, WIRE_ERR_NOT_ENROLLED, p);
	case -EMLINK:
		json_object_object_add(p, "finger", json_object_new_string(finger));
		return (void)conn_error(c, WIRE_ERR_LAST_FINGER, p);
	default:
		json_object_put(p);
		return reply_errno(c, r);
	}
}
