/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * roster: the people on it (R6), their operator IDs (R2), their lockout (R8) and the monthly
 * shift schedule (R12). Every change is an audit record naming who made it, never a
 * personal field's value; the caller's reply waits for it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "forward.h"
#include "store.h"

/* The store's -errno except: -ENOENT for "not on the roster" where a person is named. */
int roster_add(Manager *m, Caller *c, StoreStaffIn *in, json_object **ret);
int roster_get(Manager *m, const char *matching_id, json_object **ret);
int roster_list(Manager *m, json_object **ret);
/* -EINVAL: a role the policy does not define; -ENOENT, -EPERM (revoked). */
int roster_grant(Manager *m, Caller *c, const char *matching_id, const char *operator_id,
                 const char *role, json_object **ret);
/* fields: the names of the fields changed (recorded, never their values). */
int roster_edit(Manager *m, Caller *c, const char *matching_id, StoreStaffEdit *e,
                json_object *fields, json_object **ret);
int roster_unlock(Manager *m, Caller *c, const char *matching_id);

/* "YYYY-MM" -> YYYYMM01, 0 when not a month. */
int32_t schedule_parse_month(const char *s);
/* Replaces month's schedule with shifts [{matching_id, date, start, end}] (local times,
 * checked here: -EINVAL names nothing, the handler says "shifts"). -ENOENT: someone named
 * is not on the roster. ret {month, shifts}. */
int schedule_import(Manager *m, Caller *c, const char *month, json_object *shifts,
                    json_object **ret);
/* {shifts:[{matching_id, start, end, date, ...}]} of month (NULL: all) and matching_id
 * (NULL: everyone), with local date and times. */
int schedule_get(Manager *m, const char *month, const char *matching_id, json_object **ret);

/* --- administration (issue 13) ---------------------------------------------------------- */

/* One operator ID: -ENOENT (no such person), -EPERM (revoked), -ESRCH (not an operator ID of
 * theirs), -EALREADY (already revoked); set_role also -EINVAL (a role the policy lacks).
 * revoke ends the open sessions of that operator ID at once; set_role leaves them open and
 * their next request is decided under the new role. */
int roster_operator_revoke(Manager *m, Caller *c, const char *matching_id, const char *operator_id,
                           json_object **ret);
int roster_operator_set_role(Manager *m, Caller *c, const char *matching_id,
                             const char *operator_id, const char *role, json_object **ret);
/* One finger's template erased as revocation erases it. -ENOENT, -EPERM, -ESRCH (not
 * enrolled), -EMLINK (the last finger and not force). */
int roster_finger_delete(Manager *m, Caller *c, const char *matching_id, const char *finger,
                         bool force, json_object **ret);
/* ImportStaff: arr [{matching_id, name?, ...}], all or nothing. On error *ret_bad is the
 * row and, for -EINVAL, *ret_field the parameter when known (NULL otherwise); -EPERM a
 * revoked person, -EEXIST a clash, -EXDEV a Unix user change. ret {added, changed}. */
int roster_import(Manager *m, Caller *c, json_object *arr, json_object **ret, size_t *ret_bad,
                  const char **ret_field);
/* {locked: [{matching_id, locked_until}]}: who is locked out now (locked_until null: until an
 * admin unlocks). */
int roster_locked(Manager *m, json_object **ret);
