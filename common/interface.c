/* SPDX-License-Identifier: GPL-2.0-or-later */
/* interface: see interface.h. Each parameter table is written once, here. */
#include <string.h>

#include "interface.h"

#define FIELDS(f) f, sizeof(f) / sizeof((f)[0])
#define NO_FIELDS NULL, 0

static const WireField staff_add_fields[] = {
	{ "matching_id", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
	{ "name", WIRE_STRING, true, 256, 0, 0 },
	{ "affiliation", WIRE_STRING, true, 256, 0, 0 },
	{ "expertise", WIRE_STRING, false, WIRE_MAX_TEXT, 0, 0 },
	{ "track_record", WIRE_STRING, false, WIRE_MAX_TEXT, 0, 0 },
	{ "nationality", WIRE_STRING, true, 64, 0, 0 },
	{ "unix_user", WIRE_STRING, false, 32, 0, 0 },
};

static const WireField staff_id_fields[] = {
	{ "matching_id", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
};

static const WireField staff_grant_fields[] = {
	{ "matching_id", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
	{ "operator_id", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
	{ "role", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
};

static const WireField login_enroll_fields[] = {
	{ "matching_id", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
	{ "finger", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
	{ "confirm_by", WIRE_ARRAY, false, BIOGATE_CONFIRM_MAX, 0, 0 },
};

static const WireField login_account_fields[] = {
	{ "user", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
};

static const WireField login_verify_fields[] = {
	{ "user", WIRE_STRING, false, WIRE_MAX_ID, 0, 0 },
	{ "matching_id", WIRE_STRING, false, WIRE_MAX_ID, 0, 0 },
};

static const WireField login_open_session_fields[] = {
	{ "ticket", WIRE_STRING, true, BIOGATE_TICKET_HEX_LEN, 0, 0 },
	{ "operator_id", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
	{ "tty", WIRE_STRING, false, 64, 0, 0 },
	{ "service", WIRE_STRING, false, 64, 0, 0 },
	{ "logind_session", WIRE_STRING, false, 64, 0, 0 },
	{ "rhost", WIRE_STRING, false, 256, 0, 0 },
};

static const WireField login_close_session_fields[] = {
	{ "session_id", WIRE_INT, true, 0, 1, INT64_MAX },
};

static const WireField staff_edit_fields[] = {
	{ "matching_id", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
	{ "name", WIRE_STRING, false, 256, 0, 0 },
	{ "affiliation", WIRE_STRING, false, 256, 0, 0 },
	{ "expertise", WIRE_STRING, false, WIRE_MAX_TEXT, 0, 0 },
	{ "track_record", WIRE_STRING, false, WIRE_MAX_TEXT, 0, 0 },
	{ "pledge_date", WIRE_STRING, false, 10, 0, 0 },
	{ "training_date", WIRE_STRING, false, 10, 0, 0 },
};

static const WireField schedule_import_fields[] = {
	{ "month", WIRE_STRING, true, 7, 0, 0 },
	{ "shifts", WIRE_ARRAY, true, BIOGATE_SCHEDULE_MAX_SHIFTS, 0, 0 },
};

static const WireField schedule_get_fields[] = {
	{ "month", WIRE_STRING, false, 7, 0, 0 },
	{ "matching_id", WIRE_STRING, false, WIRE_MAX_ID, 0, 0 },
};

static const WireField authorize_fields[] = {
	{ "action", WIRE_STRING, true, BIOGATE_NAME_MAX, 0, 0 },
	{ "key", WIRE_STRING, false, 256, 0, 0 },
};

static const WireField custody_revoke_fields[] = {
	{ "matching_id", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
	{ "reason", WIRE_STRING, true, 16, 0, 0 },
	{ "confirm_by", WIRE_ARRAY, false, BIOGATE_CONFIRM_MAX, 0, 0 },
};

static const WireField custody_nationality_fields[] = {
	{ "matching_id", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
	{ "purpose", WIRE_STRING, true, 256, 0, 0 },
	{ "confirm_by", WIRE_ARRAY, false, BIOGATE_CONFIRM_MAX, 0, 0 },
};

static const WireField custody_history_fields[] = {
	{ "matching_id", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
};

static const WireField custody_disposal_plan_fields[] = {
	{ "items", WIRE_STRING, true, 256, 0, 0 },       { "media", WIRE_STRING, true, 256, 0, 0 },
	{ "count", WIRE_INT, true, 0, 0, 1000000000 },   { "method", WIRE_STRING, true, 256, 0, 0 },
	{ "planned_date", WIRE_STRING, true, 10, 0, 0 },
};

static const WireField custody_disposal_id_fields[] = {
	{ "disposal_id", WIRE_INT, true, 0, 1, INT64_MAX },
	{ "confirm_by", WIRE_ARRAY, false, BIOGATE_CONFIRM_MAX, 0, 0 },
	{ "format", WIRE_STRING, false, 8, 0, 0 },
};

static const WireField audit_list_fields[] = {
	{ "matching_id", WIRE_STRING, false, WIRE_MAX_ID, 0, 0 },
	{ "operator_id", WIRE_STRING, false, WIRE_MAX_ID, 0, 0 },
	{ "action", WIRE_STRING, false, 256, 0, 0 },
	{ "outcome", WIRE_STRING, false, 256, 0, 0 },
	{ "since", WIRE_INT, false, 0, 0, INT64_MAX },
	{ "until", WIRE_INT, false, 0, 0, INT64_MAX },
	{ "limit", WIRE_INT, false, 0, 1, 1000 },
};

static const WireField audit_export_fields[] = {
	{ "format", WIRE_STRING, true, 8, 0, 0 },
	{ "matching_id", WIRE_STRING, false, WIRE_MAX_ID, 0, 0 },
	{ "operator_id", WIRE_STRING, false, WIRE_MAX_ID, 0, 0 },
	{ "action", WIRE_STRING, false, 256, 0, 0 },
	{ "outcome", WIRE_STRING, false, 256, 0, 0 },
	{ "since", WIRE_INT, false, 0, 0, INT64_MAX },
	{ "until", WIRE_INT, false, 0, 0, INT64_MAX },
	{ "limit", WIRE_INT, false, 0, 1, INT64_MAX },
	{ "confirm_by", WIRE_ARRAY, false, 2, 0, 0 },
};

static const WireField audit_search_key_fields[] = {
	{ "key", WIRE_STRING, true, 256, 0, 0 },
};

static const WireField room_enter_fields[] = {
	{ "name", WIRE_STRING, true, 128, 0, 0 },
	{ "affiliation", WIRE_STRING, true, 128, 0, 0 },
	{ "purpose", WIRE_STRING, true, 128, 0, 0 },
};

static const WireField room_leave_fields[] = {
	{ "entry_id", WIRE_INT, true, 0, 1, INT64_MAX },
};

static const WireField room_list_fields[] = {
	{ "date", WIRE_STRING, false, 10, 0, 0 },
};

static const WireField monthly_report_fields[] = {
	{ "month", WIRE_STRING, true, 7, 0, 0 },
	{ "format", WIRE_STRING, true, 8, 0, 0 },
};

static const WireField devices_allow_fields[] = {
	{ "serial", WIRE_STRING, true, BIOGATE_USB_SERIAL_MAX, 0, 0 },
	{ "note", WIRE_STRING, false, BIOGATE_USB_NOTE_MAX, 0, 0 },
};

static const WireField devices_serial_fields[] = {
	{ "serial", WIRE_STRING, true, BIOGATE_USB_SERIAL_MAX, 0, 0 },
};

/* Administration (issue 13). */
static const WireField describe_fields[] = {
	{ "interface", WIRE_STRING, true, 256, 0, 0 },
};

static const WireField operator_id_fields[] = {
	{ "matching_id", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
	{ "operator_id", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
};

static const WireField finger_delete_fields[] = {
	{ "matching_id", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
	{ "finger", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
	{ "force", WIRE_BOOL, false, 0, 0, 0 },
};

static const WireField staff_import_fields[] = {
	{ "staff", WIRE_ARRAY, true, BIOGATE_STAFF_IMPORT_MAX, 0, 0 },
};

const InterfaceMethod iface_get_info = { BIOGATE_METHOD_GET_INFO, NO_FIELDS };
const InterfaceMethod iface_get_status = { BIOGATE_METHOD_GET_STATUS, NO_FIELDS };
const InterfaceMethod iface_add_staff = { BIOGATE_METHOD_ADD_STAFF, FIELDS(staff_add_fields) };
const InterfaceMethod iface_get_staff = { BIOGATE_METHOD_GET_STAFF, FIELDS(staff_id_fields) };
const InterfaceMethod iface_list_staff = { BIOGATE_METHOD_LIST_STAFF, NO_FIELDS };
const InterfaceMethod iface_grant_operator = { BIOGATE_METHOD_GRANT_OPERATOR,
	                                       FIELDS(staff_grant_fields) };
const InterfaceMethod iface_enroll = { BIOGATE_METHOD_ENROLL, FIELDS(login_enroll_fields) };
const InterfaceMethod iface_check_account = { BIOGATE_METHOD_CHECK_ACCOUNT,
	                                      FIELDS(login_account_fields) };
const InterfaceMethod iface_verify = { BIOGATE_METHOD_VERIFY, FIELDS(login_verify_fields) };
const InterfaceMethod iface_open_session = { BIOGATE_METHOD_OPEN_SESSION,
	                                     FIELDS(login_open_session_fields) };
const InterfaceMethod iface_close_session = { BIOGATE_METHOD_CLOSE_SESSION,
	                                      FIELDS(login_close_session_fields) };
const InterfaceMethod iface_list_sessions = { BIOGATE_METHOD_LIST_SESSIONS, NO_FIELDS };
const InterfaceMethod iface_edit_staff = { BIOGATE_METHOD_EDIT_STAFF, FIELDS(staff_edit_fields) };
const InterfaceMethod iface_unlock = { BIOGATE_METHOD_UNLOCK, FIELDS(staff_id_fields) };
const InterfaceMethod iface_import_schedule = { BIOGATE_METHOD_IMPORT_SCHEDULE,
	                                        FIELDS(schedule_import_fields) };
const InterfaceMethod iface_get_schedule = { BIOGATE_METHOD_GET_SCHEDULE,
	                                     FIELDS(schedule_get_fields) };
const InterfaceMethod iface_authorize = { BIOGATE_METHOD_AUTHORIZE, FIELDS(authorize_fields) };
const InterfaceMethod iface_who_am_i = { BIOGATE_METHOD_WHO_AM_I, NO_FIELDS };
const InterfaceMethod iface_lock = { BIOGATE_METHOD_LOCK, NO_FIELDS };
const InterfaceMethod iface_logoff = { BIOGATE_METHOD_LOGOFF, NO_FIELDS };
const InterfaceMethod iface_revoke = { BIOGATE_METHOD_REVOKE, FIELDS(custody_revoke_fields) };
const InterfaceMethod iface_staff_nationality = { BIOGATE_METHOD_STAFF_NATIONALITY,
	                                          FIELDS(custody_nationality_fields) };
const InterfaceMethod iface_staff_history = { BIOGATE_METHOD_STAFF_HISTORY,
	                                      FIELDS(custody_history_fields) };
const InterfaceMethod iface_disposal_plan = { BIOGATE_METHOD_DISPOSAL_PLAN,
	                                      FIELDS(custody_disposal_plan_fields) };
const InterfaceMethod iface_disposal_approve = { BIOGATE_METHOD_DISPOSAL_APPROVE,
	                                         FIELDS(custody_disposal_id_fields) };
const InterfaceMethod iface_disposal_execute = { BIOGATE_METHOD_DISPOSAL_EXECUTE,
	                                         FIELDS(custody_disposal_id_fields) };
const InterfaceMethod iface_disposal_report = { BIOGATE_METHOD_DISPOSAL_REPORT,
	                                        FIELDS(custody_disposal_id_fields) };
const InterfaceMethod iface_audit_verify = { BIOGATE_METHOD_AUDIT_VERIFY, NO_FIELDS };
const InterfaceMethod iface_audit_list = { BIOGATE_METHOD_AUDIT_LIST, FIELDS(audit_list_fields) };
const InterfaceMethod iface_audit_export = { BIOGATE_METHOD_AUDIT_EXPORT,
	                                     FIELDS(audit_export_fields) };
const InterfaceMethod iface_audit_search_key = { BIOGATE_METHOD_AUDIT_SEARCH_KEY,
	                                         FIELDS(audit_search_key_fields) };
/* The seals' public key list (what the city writes down; no secret). */
const InterfaceMethod iface_audit_keys = { BIOGATE_METHOD_AUDIT_KEYS, NO_FIELDS };
const InterfaceMethod iface_room_enter = { BIOGATE_METHOD_ROOM_ENTER, FIELDS(room_enter_fields) };
const InterfaceMethod iface_room_leave = { BIOGATE_METHOD_ROOM_LEAVE, FIELDS(room_leave_fields) };
const InterfaceMethod iface_room_list = { BIOGATE_METHOD_ROOM_LIST, FIELDS(room_list_fields) };
const InterfaceMethod iface_monthly_report = { BIOGATE_METHOD_MONTHLY_REPORT,
	                                       FIELDS(monthly_report_fields) };
const InterfaceMethod iface_usb_allow = { BIOGATE_METHOD_USB_ALLOW, FIELDS(devices_allow_fields) };
const InterfaceMethod iface_usb_revoke = { BIOGATE_METHOD_USB_REVOKE,
	                                   FIELDS(devices_serial_fields) };
const InterfaceMethod iface_usb_list = { BIOGATE_METHOD_USB_LIST, NO_FIELDS };
const InterfaceMethod iface_get_interface_description = { BIOGATE_METHOD_GET_INTERFACE_DESCRIPTION,
	                                                  FIELDS(describe_fields) };
const InterfaceMethod iface_revoke_operator = { BIOGATE_METHOD_REVOKE_OPERATOR,
	                                        FIELDS(operator_id_fields) };
const InterfaceMethod iface_set_operator_role = { BIOGATE_METHOD_SET_OPERATOR_ROLE,
	                                          FIELDS(staff_grant_fields) };
const InterfaceMethod iface_delete_finger = { BIOGATE_METHOD_DELETE_FINGER,
	                                      FIELDS(finger_delete_fields) };
const InterfaceMethod iface_import_staff = { BIOGATE_METHOD_IMPORT_STAFF,
	                                     FIELDS(staff_import_fields) };
const InterfaceMethod iface_list_locked = { BIOGATE_METHOD_LIST_LOCKED, NO_FIELDS };

/* phase "plugged": the helper asks (a denied attempt is recorded before the answer);
 * phase "authorized": it says whether writing authorized=1 worked ("applied"). */
static const WireField devices_attempt_fields[] = {
	{ "phase", WIRE_STRING, true, 16, 0, 0 },
	{ "interface", WIRE_STRING, true, BIOGATE_USB_INTERFACE_MAX, 0, 0 },
	{ "serial", WIRE_STRING, false, BIOGATE_USB_SERIAL_MAX, 0, 0 },
	{ "vendor", WIRE_STRING, true, 4, 0, 0 },
	{ "product", WIRE_STRING, true, 4, 0, 0 },
	{ "applied", WIRE_BOOL, false, 0, 0, 0 },
	{ "error", WIRE_STRING, false, 128, 0, 0 },
};
const InterfaceMethod iface_usb_attempt = { BIOGATE_METHOD_USB_ATTEMPT,
	                                    FIELDS(devices_attempt_fields) };

const InterfaceMethod *const interface_methods[] = {
	&iface_get_info,
	&iface_get_status,
	&iface_add_staff,
	&iface_get_staff,
	&iface_list_staff,
	&iface_grant_operator,
	&iface_enroll,
	&iface_check_account,
	&iface_verify,
	&iface_open_session,
	&iface_close_session,
	&iface_list_sessions,
	&iface_edit_staff,
	&iface_unlock,
	&iface_import_schedule,
	&iface_get_schedule,
	&iface_authorize,
	&iface_who_am_i,
	&iface_lock,
	&iface_logoff,
	&iface_revoke,
	&iface_staff_nationality,
	&iface_staff_history,
	&iface_disposal_plan,
	&iface_disposal_approve,
	&iface_disposal_execute,
	&iface_disposal_report,
	&iface_audit_verify,
	&iface_audit_list,
	&iface_audit_export,
	&iface_audit_search_key,
	&iface_audit_keys,
	&iface_room_enter,
	&iface_room_leave,
	&iface_room_list,
	&iface_monthly_report,
	&iface_usb_allow,
	&iface_usb_revoke,
	&iface_usb_list,
	&iface_get_interface_description,
	&iface_revoke_operator,
	&iface_set_operator_role,
	&iface_delete_finger,
	&iface_import_staff,
	&iface_list_locked,
	&iface_usb_attempt,
};
const size_t interface_n_methods = sizeof(interface_methods) / sizeof(interface_methods[0]);

const char *const interface_errors[] = {
	WIRE_ERR_NOT_ON_ROSTER,
	WIRE_ERR_REVOKED,
	WIRE_ERR_NO_MATCH,
	WIRE_ERR_NOT_ENROLLED,
	WIRE_ERR_NO_OPERATOR,
	WIRE_ERR_LOCKED_OUT,
	WIRE_ERR_OUTSIDE_SHIFT,
	WIRE_ERR_PLEDGE_MISSING,
	WIRE_ERR_TRAINING_MISSING,
	WIRE_ERR_IN_SESSION,
	WIRE_ERR_NOT_PERMITTED,
	WIRE_ERR_FORBIDDEN_KEY,
	WIRE_ERR_INVALID_PARAMETER,
	WIRE_ERR_SENSOR_UNAVAILABLE,
	WIRE_ERR_NO_READER,
	WIRE_ERR_TIMEOUT,
	WIRE_ERR_CANCELLED,
	WIRE_ERR_BUSY,
	WIRE_ERR_EXISTS,
	WIRE_ERR_NOT_FOUND,
	WIRE_ERR_TICKET,
	WIRE_ERR_INTERNAL,
	WIRE_ERR_METHOD_NOT_FOUND,
	WIRE_ERR_INTERFACE_NOT_FOUND,
	WIRE_ERR_VARLINK_INVALID,
	WIRE_ERR_CANNOT_LOCK,
	WIRE_ERR_DISK_FULL,
	WIRE_ERR_CENTER_UNREACHABLE,
	WIRE_ERR_LAST_FINGER,
};
const size_t interface_n_errors = sizeof(interface_errors) / sizeof(interface_errors[0]);

const InterfaceMethod *
interface_method(const char *name)
{
	for (size_t i = 0; i < interface_n_methods; i++)
		if (strcmp(interface_methods[i]->name, name) == 0)
			return interface_methods[i];
	return NULL;
}

int
interface_is_error(const char *name)
{
	for (size_t i = 0; i < interface_n_errors; i++)
		if (strcmp(interface_errors[i], name) == 0)
			return 1;
	return 0;
}
