/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * interface: the io.biogate Varlink interface as data, shared by biogated, biogatectl and
 * pam_biogate (as systemd's varlink-io.systemd.*.c): every method's name and parameter
 * table, every error name, and the limits the tables use. A method or a parameter is
 * added here once; the daemon binds a handler and a permission to it (varlink/methods.c),
 * clients call it by the same constant. Tables are counted by the compiler.
 */
#pragma once

#include <stddef.h>

#include "wire.h"

/* Limits the parameter tables and both sides share. */
#define BIOGATE_NAME_MAX            64   /* role and action names (policy.h POLICY_MAX_NAME) */
#define BIOGATE_CONFIRM_MAX         2    /* confirm_by: people besides the caller */
#define BIOGATE_SCHEDULE_MAX_SHIFTS 4096 /* shifts in one ImportSchedule */
#define BIOGATE_TICKET_HEX_LEN      32   /* a Verify ticket: 128 bits in hex */
#define BIOGATE_USB_SERIAL_MAX      126  /* a USB string descriptor holds 126 UTF-16 units */
#define BIOGATE_USB_NOTE_MAX        256

/* Method names. */
#define BIOGATE_METHOD_GET_INFO          "org.varlink.service.GetInfo"
#define BIOGATE_METHOD_GET_STATUS        "io.biogate.GetStatus"
#define BIOGATE_METHOD_ADD_STAFF         "io.biogate.AddStaff"
#define BIOGATE_METHOD_GET_STAFF         "io.biogate.GetStaff"
#define BIOGATE_METHOD_LIST_STAFF        "io.biogate.ListStaff"
#define BIOGATE_METHOD_GRANT_OPERATOR    "io.biogate.GrantOperator"
#define BIOGATE_METHOD_ENROLL            "io.biogate.Enroll"
#define BIOGATE_METHOD_CHECK_ACCOUNT     "io.biogate.CheckAccount"
#define BIOGATE_METHOD_VERIFY            "io.biogate.Verify"
#define BIOGATE_METHOD_OPEN_SESSION      "io.biogate.OpenSession"
#define BIOGATE_METHOD_CLOSE_SESSION     "io.biogate.CloseSession"
#define BIOGATE_METHOD_LIST_SESSIONS     "io.biogate.ListSessions"
#define BIOGATE_METHOD_EDIT_STAFF        "io.biogate.EditStaff"
#define BIOGATE_METHOD_UNLOCK            "io.biogate.Unlock"
#define BIOGATE_METHOD_IMPORT_SCHEDULE   "io.biogate.ImportSchedule"
#define BIOGATE_METHOD_GET_SCHEDULE      "io.biogate.GetSchedule"
#define BIOGATE_METHOD_AUTHORIZE         "io.biogate.Authorize"
#define BIOGATE_METHOD_WHO_AM_I          "io.biogate.WhoAmI"
#define BIOGATE_METHOD_LOCK              "io.biogate.Lock"
#define BIOGATE_METHOD_LOGOFF            "io.biogate.Logoff"
#define BIOGATE_METHOD_REVOKE            "io.biogate.Revoke"
#define BIOGATE_METHOD_STAFF_NATIONALITY "io.biogate.StaffNationality"
#define BIOGATE_METHOD_STAFF_HISTORY     "io.biogate.StaffHistory"
#define BIOGATE_METHOD_DISPOSAL_PLAN     "io.biogate.DisposalPlan"
#define BIOGATE_METHOD_DISPOSAL_APPROVE  "io.biogate.DisposalApprove"
#define BIOGATE_METHOD_DISPOSAL_EXECUTE  "io.biogate.DisposalExecute"
#define BIOGATE_METHOD_DISPOSAL_REPORT   "io.biogate.DisposalReport"
#define BIOGATE_METHOD_AUDIT_VERIFY      "io.biogate.AuditVerify"
#define BIOGATE_METHOD_AUDIT_LIST        "io.biogate.AuditList"
#define BIOGATE_METHOD_AUDIT_EXPORT      "io.biogate.AuditExport"
#define BIOGATE_METHOD_AUDIT_SEARCH_KEY  "io.biogate.AuditSearchKey"
#define BIOGATE_METHOD_AUDIT_KEYS        "io.biogate.AuditKeys"
#define BIOGATE_METHOD_ROOM_ENTER        "io.biogate.RoomEnter"
#define BIOGATE_METHOD_ROOM_LEAVE        "io.biogate.RoomLeave"
#define BIOGATE_METHOD_ROOM_LIST         "io.biogate.RoomList"
#define BIOGATE_METHOD_MONTHLY_REPORT    "io.biogate.MonthlyReport"
#define BIOGATE_METHOD_USB_ALLOW         "io.biogate.UsbAllow"
#define BIOGATE_METHOD_USB_REVOKE        "io.biogate.UsbRevoke"
#define BIOGATE_METHOD_USB_LIST          "io.biogate.UsbList"
/* Administration (issue 13). */
#define BIOGATE_METHOD_GET_INTERFACE_DESCRIPTION "org.varlink.service.GetInterfaceDescription"
#define BIOGATE_METHOD_REVOKE_OPERATOR           "io.biogate.RevokeOperator"
#define BIOGATE_METHOD_SET_OPERATOR_ROLE         "io.biogate.SetOperatorRole"
#define BIOGATE_METHOD_DELETE_FINGER             "io.biogate.DeleteFinger"
#define BIOGATE_METHOD_IMPORT_STAFF              "io.biogate.ImportStaff"
#define BIOGATE_METHOD_LIST_LOCKED               "io.biogate.ListLocked"
#define BIOGATE_STAFF_IMPORT_MAX                 4096 /* people in one ImportStaff */
/* The root-side helper biogate-usb-authorize (R15): a USB storage interface plugged in, and
 * the outcome of authorizing an allowed one. */
#define BIOGATE_METHOD_USB_ATTEMPT "io.biogate.UsbAttempt"
#define BIOGATE_USB_INTERFACE_MAX  64

/* Errors besides wire.h's WIRE_ERR_*: every name either side may see is in
 * interface_errors[]. */
#define WIRE_ERR_CANNOT_LOCK "io.biogate.CannotLock" /* Lock where nothing can lock */
/* A fleet terminal that cannot reach the center and whose offline rules refuse the login. */
#define WIRE_ERR_CENTER_UNREACHABLE "io.biogate.CenterUnreachable"
#define WIRE_ERR_LAST_FINGER        "io.biogate.LastFinger" /* DeleteFinger of the last one */

typedef struct InterfaceMethod {
	const char *name;
	const WireField *fields; /* NULL when the method takes no parameters */
	size_t n_fields;
} InterfaceMethod;

extern const InterfaceMethod iface_get_info;
extern const InterfaceMethod iface_get_status;
extern const InterfaceMethod iface_add_staff;
extern const InterfaceMethod iface_get_staff;
extern const InterfaceMethod iface_list_staff;
extern const InterfaceMethod iface_grant_operator;
extern const InterfaceMethod iface_enroll;
extern const InterfaceMethod iface_check_account;
extern const InterfaceMethod iface_verify;
extern const InterfaceMethod iface_open_session;
extern const InterfaceMethod iface_close_session;
extern const InterfaceMethod iface_list_sessions;
extern const InterfaceMethod iface_edit_staff;
extern const InterfaceMethod iface_unlock;
extern const InterfaceMethod iface_import_schedule;
extern const InterfaceMethod iface_get_schedule;
extern const InterfaceMethod iface_authorize;
extern const InterfaceMethod iface_who_am_i;
extern const InterfaceMethod iface_lock;
extern const InterfaceMethod iface_logoff;
extern const InterfaceMethod iface_revoke;
extern const InterfaceMethod iface_staff_nationality;
extern const InterfaceMethod iface_staff_history;
extern const InterfaceMethod iface_disposal_plan;
extern const InterfaceMethod iface_disposal_approve;
extern const InterfaceMethod iface_disposal_execute;
extern const InterfaceMethod iface_disposal_report;
extern const InterfaceMethod iface_audit_verify;
extern const InterfaceMethod iface_audit_list;
extern const InterfaceMethod iface_audit_export;
extern const InterfaceMethod iface_audit_search_key;
extern const InterfaceMethod iface_audit_keys;
extern const InterfaceMethod iface_room_enter;
extern const InterfaceMethod iface_room_leave;
extern const InterfaceMethod iface_room_list;
extern const InterfaceMethod iface_monthly_report;
extern const InterfaceMethod iface_usb_allow;
extern const InterfaceMethod iface_usb_revoke;
extern const InterfaceMethod iface_usb_list;
extern const InterfaceMethod iface_get_interface_description;
extern const InterfaceMethod iface_revoke_operator;
extern const InterfaceMethod iface_set_operator_role;
extern const InterfaceMethod iface_delete_finger;
extern const InterfaceMethod iface_import_staff;
extern const InterfaceMethod iface_list_locked;
extern const InterfaceMethod iface_usb_attempt;

/* Every method, in one list (for GetInfo-like listings and for tests). */
extern const InterfaceMethod *const interface_methods[];
extern const size_t interface_n_methods;
/* Every error name of the interface. */
extern const char *const interface_errors[];
extern const size_t interface_n_errors;

/* The method called name; NULL when the interface has none. */
const InterfaceMethod *interface_method(const char *name);
/* Whether name is an error of the interface (or org.varlink.service's). */
int interface_is_error(const char *name);
/* The io.biogate interface definition in the Varlink IDL (common/io.biogate.varlink, built
 * in), as org.varlink.service.GetInterfaceDescription returns it. */
extern const char interface_description[];
