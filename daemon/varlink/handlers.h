/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * handlers: the handlers of each method group, as bound in methods.c's table. A handler only
 * translates: typed parameters out of the call, one core call, -errno to an error name.
 * Who may call is the table's business (checked and recorded once, by the dispatcher).
 */
#pragma once

#include <json-c/json.h>

#include "conn.h"

/* custody-methods.c */
/* What runs once the people an action needs have confirmed: actor names them all
 * ("uid 0 M001 + M002"), people lists their matching IDs. */
typedef void (*ConfirmedFn)(Manager *m, Conn *c, json_object *params, const char *actor,
                            json_object *people);
/* Runs then() at once when the policy does not list action under [two-person]; else after
 * the confirmers named in params' "confirm_by" (with the caller, when in a session) are
 * verified on the reader: at least two different, active, enrolled people. The connection
 * is kept here while they do; core (custody_confirm_start) never sees it. */
void confirm_two_person(Manager *m, Conn *c, json_object *params, const char *action,
                        ConfirmedFn then);
void custody_method_revoke(Manager *m, Conn *c, json_object *params);
void custody_method_nationality(Manager *m, Conn *c, json_object *params);
void custody_method_history(Manager *m, Conn *c, json_object *params);
void custody_method_disposal_plan(Manager *m, Conn *c, json_object *params);
void custody_method_disposal_approve(Manager *m, Conn *c, json_object *params);
void custody_method_disposal_execute(Manager *m, Conn *c, json_object *params);
void custody_method_disposal_report(Manager *m, Conn *c, json_object *params);
/* login-methods.c */
void login_method_enroll(Manager *m, Conn *c, json_object *params);
void login_method_check_account(Manager *m, Conn *c, json_object *params);
void login_method_verify(Manager *m, Conn *c, json_object *params);
void login_method_open_session(Manager *m, Conn *c, json_object *params);
void login_method_close_session(Manager *m, Conn *c, json_object *params);
void login_method_list_sessions(Manager *m, Conn *c, json_object *params);
void login_method_delete_finger(Manager *m, Conn *c, json_object *params);
/* staff-methods.c */
void staff_method_add(Manager *m, Conn *c, json_object *params);
void staff_method_get(Manager *m, Conn *c, json_object *params);
void staff_method_revoke_operator(Manager *m, Conn *c, json_object *params);
void staff_method_set_operator_role(Manager *m, Conn *c, json_object *params);
void staff_method_import(Manager *m, Conn *c, json_object *params);
void staff_method_list_locked(Manager *m, Conn *c, json_object *params);
void staff_method_list(Manager *m, Conn *c, json_object *params);
void staff_method_grant(Manager *m, Conn *c, json_object *params);
void staff_method_edit(Manager *m, Conn *c, json_object *params);
void staff_method_unlock(Manager *m, Conn *c, json_object *params);
void staff_method_import_schedule(Manager *m, Conn *c, json_object *params);
void staff_method_get_schedule(Manager *m, Conn *c, json_object *params);
/* authorize-methods.c */
void authorize_method_whoami(Manager *m, Conn *c, json_object *params);
void authorize_method_authorize(Manager *m, Conn *c, json_object *params);
/* audit-methods.c */
void audit_method_verify(Manager *m, Conn *c, json_object *params);
void audit_method_list(Manager *m, Conn *c, json_object *params);
void audit_method_export(Manager *m, Conn *c, json_object *params);
void audit_method_search_key(Manager *m, Conn *c, json_object *params);
void audit_method_keys(Manager *m, Conn *c, json_object *params);
/* devices-methods.c */
void devices_method_allow(Manager *m, Conn *c, json_object *params);
void devices_method_revoke(Manager *m, Conn *c, json_object *params);
void devices_method_list(Manager *m, Conn *c, json_object *params);
void devices_method_attempt(Manager *m, Conn *c, json_object *params);
/* room-methods.c */
void room_method_enter(Manager *m, Conn *c, json_object *params);
void room_method_leave(Manager *m, Conn *c, json_object *params);
void room_method_list(Manager *m, Conn *c, json_object *params);
/* report-methods.c */
void report_method_monthly(Manager *m, Conn *c, json_object *params);
/* sessions-methods.c */
void sessions_method_lock(Manager *m, Conn *c, json_object *params);
void sessions_method_logoff(Manager *m, Conn *c, json_object *params);
