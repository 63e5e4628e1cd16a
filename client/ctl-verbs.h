/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The verbs of biogatectl, each defined next to its function in its group's file
 * (ctl-*.c) and listed, in the order of --help, by the verb table in biogatectl.c.
 */
#pragma once

#include "ctl-util.h"

extern const CtlVerb ctl_verb_status;
extern const CtlVerb ctl_verb_staff_add;
extern const CtlVerb ctl_verb_staff_list;
extern const CtlVerb ctl_verb_staff_show;
extern const CtlVerb ctl_verb_staff_edit;
extern const CtlVerb ctl_verb_staff_unlock;
extern const CtlVerb ctl_verb_staff_import;
extern const CtlVerb ctl_verb_staff_history;
extern const CtlVerb ctl_verb_staff_nationality;
extern const CtlVerb ctl_verb_revoke;
extern const CtlVerb ctl_verb_enroll;
extern const CtlVerb ctl_verb_operator_grant;
extern const CtlVerb ctl_verb_operator_revoke;
extern const CtlVerb ctl_verb_operator_set_role;
extern const CtlVerb ctl_verb_finger_delete;
extern const CtlVerb ctl_verb_staff_locked;
extern const CtlVerb ctl_verb_verify;
extern const CtlVerb ctl_verb_schedule_import;
extern const CtlVerb ctl_verb_schedule_show;
extern const CtlVerb ctl_verb_authorize;
extern const CtlVerb ctl_verb_whoami;
extern const CtlVerb ctl_verb_sessions;
extern const CtlVerb ctl_verb_lock;
extern const CtlVerb ctl_verb_logoff;
extern const CtlVerb ctl_verb_audit_verify;
extern const CtlVerb ctl_verb_audit_list;
extern const CtlVerb ctl_verb_audit_export;
extern const CtlVerb ctl_verb_audit_search_key;
extern const CtlVerb ctl_verb_audit_keys;
extern const CtlVerb ctl_verb_disposal_plan;
extern const CtlVerb ctl_verb_disposal_approve;
extern const CtlVerb ctl_verb_disposal_execute;
extern const CtlVerb ctl_verb_disposal_report;
extern const CtlVerb ctl_verb_room_enter;
extern const CtlVerb ctl_verb_room_leave;
extern const CtlVerb ctl_verb_room_list;
extern const CtlVerb ctl_verb_report_monthly;
extern const CtlVerb ctl_verb_usb_allow;
extern const CtlVerb ctl_verb_usb_revoke;
extern const CtlVerb ctl_verb_usb_list;
extern const CtlVerb ctl_verb_policy_check;
extern const CtlVerb ctl_verb_fleet_init;
extern const CtlVerb ctl_verb_fleet_add_terminal;
extern const CtlVerb ctl_verb_fleet_status;
extern const CtlVerb ctl_verb_fleet_verify;
