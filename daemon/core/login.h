/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * login: what happens between "this person wants to log in" and an open session. Who the
 * login is for and whether the caller may ask (login_resolve), the login gates with the
 * lockout (R6, R8, R9, R12), the fingerprint check on the sensor and the ticket it earns,
 * enrollment, and opening the session the ticket pays for.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "forward.h"
#include "policy.h"
#include "store.h"

/* The person behind user xor matching_id, on the roster and active, whom the caller may act
 * for (root, admin, or the Unix user the person maps to). -EINVAL (*ret_bad names the
 * parameter), -ENOENT (not on roster, said only to root and admins), -EACCES (not this
 * caller's to ask, or not on roster for anyone else), -EPERM (revoked), other -errno. */
int login_resolve(Manager *m, Caller *c, const char *user, const char *matching_id, StoreStaff *ret,
                  const char **ret_bad);

/* The gates for a person about to verify or whose account is checked (stage "verify",
 * "account"). 0 lets the login go on; -EPERM when refused (recorded as login.<stage> deny;
 * *ret_reason says why, *ret_until when a lockout ends); other -errno. */
int login_gates(Manager *m, Caller *c, const StoreStaff *st, const char *stage,
                PolicyReason *ret_reason, int64_t *ret_until);

/* Whether matching_id is locked out now, and until when. */
int login_lockout_state(Manager *m, const char *matching_id, int64_t now, bool *ret_locked,
                        int64_t *ret_until);

/* --- the sensor: enroll and verify ---------------------------------------------------- */

typedef struct LoginSensorOp LoginSensorOp;
/* An event while the reader works: {"stage", "stages"} (enroll) or {"prompt"}. Taken. */
typedef void (*LoginProgressFn)(json_object *event, void *userdata);
/* The end: r >= 0 with result ({matching_id, finger} for enroll, {matching_id, ticket,
 * operators} for verify; taken), or r < 0: -EKEYREJECTED (no match), the sensor's
 * (verify_sensor_errno(), -EBADMSG), or the store's (-EALREADY: not found, -EEXIST, -EINVAL,
 * -EPERM, -EIO...). */
typedef void (*LoginDoneFn)(int r, json_object *result, void *userdata);

/* Enrolls finger for an active person (R3). 0: done runs later (exactly once) unless
 * login_sensor_cancel() came first. -EBUSY (reader in use), -ENOTCONN (no sensor), -ENOMEM:
 * nothing called back. */
int login_enroll_start(Manager *m, Caller *c, const char *matching_id, const char *finger,
                       const char *actor, json_object *people, LoginProgressFn progress,
                       LoginDoneFn done, void *userdata, LoginSensorOp **ret);
/* Verifies st (resolved, through the gates) for the caller; a match earns a ticket bound to
 * the caller's process. -ENOENT (not enrolled), -EBUSY, -ENOTCONN, other -errno. */
int login_verify_start(Manager *m, Caller *c, const StoreStaff *st, LoginProgressFn progress,
                       LoginDoneFn done, void *userdata, LoginSensorOp **ret);
void login_sensor_cancel(Manager *m, LoginSensorOp *op);

/* --- the session ---------------------------------------------------------------------- */

typedef struct LoginSessionIn {
	const char *ticket, *operator_id, *tty, *service, *logind_session;
} LoginSessionIn;
/* Opens the session a ticket pays for (the caller must be the process that verified). In a
 * fleet the center registers it first (R12 across terminals), within the policy's wait-ms.
 * Returns -EACCES (no such ticket), -ENOENT (not on roster), -EPERM (revoked), -ENXIO (no
 * such operator ID), -EEXIST (the matching ID has an open session here: R12, recorded),
 * -EBADSLT (logind has the caller in another logind session than the one named: recorded),
 * other -errno, with nothing called back. Else 0, and done(r, o, holder)
 * runs exactly once, maybe before this returns (then *ret is NULL): r == 0 with
 * o = {session_id, operator_id, role, offline?} (taken), -EBUSY (in session at terminal
 * holder), -EPERM (revoked), -ENETUNREACH (the center is away and the offline rules refuse),
 * other -errno. While *ret is set, login_open_cancel() stops it (done is not called). */
typedef struct LoginOpen LoginOpen;
typedef void (*LoginOpenDoneFn)(int r, json_object *o, const char *holder, void *userdata);
int login_open_session_start(Manager *m, Caller *c, const LoginSessionIn *in, LoginOpenDoneFn done,
                             void *userdata, LoginOpen **ret);
void login_open_cancel(Manager *m, LoginOpen *op);
/* CloseSession: -ENOENT when no such session is open. */
int login_close_session(Manager *m, Caller *c, int64_t session_id);
