/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * custody: revocation (R4), nationality reads (R7), the roster history (R6), two-person
 * confirmation (R13) and disposal (R16). Method handlers for methods.c's table, with their
 * parameter tables. Actions the policy lists under [two-person] run only after a second,
 * different, enrolled person has confirmed with a finger on this terminal (confirm_by names
 * them; the call must ask for "more" to receive the prompts).
 *
 *   io.biogate.Revoke {matching_id, reason: departed|transferred, confirm_by?}
 *   io.biogate.StaffNationality {matching_id, purpose, confirm_by?}
 *   io.biogate.StaffHistory {matching_id}
 *   io.biogate.DisposalPlan {items, media, count, method, planned_date}
 *   io.biogate.DisposalApprove {disposal_id, confirm_by?}
 *   io.biogate.DisposalExecute {disposal_id}
 *   io.biogate.DisposalReport {disposal_id, format?: json|html}
 */
#pragma once

#include <stddef.h>

#include "conn.h"

/* What runs once the people an action needs have confirmed: actor names them all
 * ("uid 0 M001 + M002"), people lists their matching IDs. */
typedef void (*ConfirmedFn)(Manager *m, Conn *c, json_object *params, const char *actor,
                            json_object *people);
/* Runs then() at once when the policy does not list action under [two-person]; else after
 * the confirmers named in params' "confirm_by" (with the caller, when in a session) are
 * verified on the reader: at least two different, active, enrolled people. */
void custody_two_person(Manager *m, Conn *c, json_object *params, const char *action,
                        ConfirmedFn then);

extern const WireField custody_revoke_fields[];
extern const size_t custody_revoke_n_fields;
extern const WireField custody_nationality_fields[];
extern const size_t custody_nationality_n_fields;
extern const WireField custody_history_fields[];
extern const size_t custody_history_n_fields;
extern const WireField custody_disposal_plan_fields[];
extern const size_t custody_disposal_plan_n_fields;
extern const WireField custody_disposal_id_fields[];
extern const size_t custody_disposal_id_n_fields;

void custody_method_revoke(Manager *m, Conn *c, json_object *params);
void custody_method_nationality(Manager *m, Conn *c, json_object *params);
void custody_method_history(Manager *m, Conn *c, json_object *params);
void custody_method_disposal_plan(Manager *m, Conn *c, json_object *params);
void custody_method_disposal_approve(Manager *m, Conn *c, json_object *params);
void custody_method_disposal_execute(Manager *m, Conn *c, json_object *params);
void custody_method_disposal_report(Manager *m, Conn *c, json_object *params);
