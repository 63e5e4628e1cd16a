/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * methods: the table of Varlink methods biogated answers: who may call each (a permission
 * kind, decided from the kernel's peer credentials and the caller's session only), the
 * parameter schema of each, and its handler (one file per method group, methods.h). The
 * dispatcher refuses, and records the refusal, in one place before any handler runs.
 */
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "caller.h"
#include "clock.h"
#include "devices.h"
#include "log.h"
#include "manager.h"
#include "methods.h"
#include "policy.h"
#include "record.h"
#include "reply.h"
#include "sensorlink.h"
#include "sessions.h"
#include "store.h"

typedef enum Perm {
	PERM_ANYONE,
	PERM_ADMIN,   /* root or the admin group */
	PERM_ROOT,    /* the PAM module inside a login process */
	PERM_LOGIN,   /* root, admin, or the Unix user the named person maps to (checked later) */
	PERM_SESSION, /* a process inside an open biogate session */
	PERM_ADMIN_OR_SESSION, /* admin (the staff at the counter record their visitors) */
} Perm;

typedef void (*MethodFn)(Manager *m, Conn *c, json_object *params);

typedef struct Method {
	const char *name;
	Perm perm;
	MethodFn fn;
	const WireField *fields;
	size_t n_fields;
} Method;

/* --- org.varlink.service and status ------------------------------------------------ */

static void
method_get_info(Manager *m, Conn *c, json_object *params)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "vendor", json_object_new_string("biogate"));
	json_object_object_add(o, "product", json_object_new_string("biogated"));
	json_object_object_add(o, "version", json_object_new_string(BIOGATE_VERSION));
	json_object_object_add(o, "url", json_object_new_string("https://biogate.invalid/"));
	json_object *ifs = json_object_new_array();
	json_object_array_add(ifs, json_object_new_string("org.varlink.service"));
	json_object_array_add(ifs, json_object_new_string(BIOGATE_INTERFACE));
	json_object_object_add(o, "interfaces", ifs);
	conn_reply(c, o, false);
}

static void
method_get_status(Manager *m, Conn *c, json_object *params)
{
	json_object *o = sensorlink_status(m->sensor);
	int64_t staff = 0, sessions = 0;
	(void)store_staff_count(m->store, &staff);
	(void)store_sessions_open_count(m->store, &sessions);
	json_object_object_add(o, "version", json_object_new_string(BIOGATE_VERSION));
	json_object_object_add(o, "staff", json_object_new_int64(staff));
	json_object_object_add(o, "open_sessions", json_object_new_int64(sessions));
	json_object_object_add(o, "connections",
	                       json_object_new_int64(server_connections(m->server)));
	json_object_object_add(
	    o, "uptime_ms",
	    json_object_new_int64((int64_t)((now_mono_usec() - m->started_usec) / 1000)));
	conn_reply(c, o, false);
}

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

#define FIELDS(f) f, sizeof(f) / sizeof((f)[0])
#define NO_FIELDS NULL, 0

static const Method methods[] = {
	{ "org.varlink.service.GetInfo", PERM_ANYONE, method_get_info, NO_FIELDS },
	{ "io.biogate.GetStatus", PERM_ANYONE, method_get_status, NO_FIELDS },
	{ "io.biogate.AddStaff", PERM_ADMIN, staff_method_add, FIELDS(staff_add_fields) },
	{ "io.biogate.GetStaff", PERM_ADMIN, staff_method_get, FIELDS(staff_id_fields) },
	{ "io.biogate.ListStaff", PERM_ADMIN, staff_method_list, NO_FIELDS },
	{ "io.biogate.GrantOperator", PERM_ADMIN, staff_method_grant, FIELDS(staff_grant_fields) },
	{ "io.biogate.Enroll", PERM_ADMIN, login_method_enroll, FIELDS(login_enroll_fields) },
	{ "io.biogate.CheckAccount", PERM_LOGIN, login_method_check_account,
	  FIELDS(login_account_fields) },
	{ "io.biogate.Verify", PERM_LOGIN, login_method_verify, FIELDS(login_verify_fields) },
	{ "io.biogate.OpenSession", PERM_ROOT, login_method_open_session,
	  FIELDS(login_open_session_fields) },
	{ "io.biogate.CloseSession", PERM_ROOT, login_method_close_session,
	  FIELDS(login_close_session_fields) },
	{ "io.biogate.ListSessions", PERM_ADMIN, login_method_list_sessions, NO_FIELDS },
	{ "io.biogate.EditStaff", PERM_ADMIN, staff_method_edit, FIELDS(staff_edit_fields) },
	{ "io.biogate.Unlock", PERM_ADMIN, staff_method_unlock, FIELDS(staff_id_fields) },
	{ "io.biogate.ImportSchedule", PERM_ADMIN, staff_method_import_schedule,
	  FIELDS(schedule_import_fields) },
	{ "io.biogate.GetSchedule", PERM_ADMIN, staff_method_get_schedule,
	  FIELDS(schedule_get_fields) },
	{ "io.biogate.Authorize", PERM_ANYONE, authorize_method_authorize,
	  FIELDS(authorize_fields) },
	{ "io.biogate.WhoAmI", PERM_ANYONE, authorize_method_whoami, NO_FIELDS },
	{ "io.biogate.Lock", PERM_SESSION, sessions_method_lock, NO_FIELDS },
	{ "io.biogate.Logoff", PERM_SESSION, sessions_method_logoff, NO_FIELDS },
	{ "io.biogate.Revoke", PERM_ADMIN, custody_method_revoke, custody_revoke_fields, 3 },
	{ "io.biogate.StaffNationality", PERM_ADMIN, custody_method_nationality,
	  custody_nationality_fields, 3 },
	{ "io.biogate.StaffHistory", PERM_ADMIN, custody_method_history, custody_history_fields,
	  1 },
	{ "io.biogate.DisposalPlan", PERM_ADMIN, custody_method_disposal_plan,
	  custody_disposal_plan_fields, 5 },
	{ "io.biogate.DisposalApprove", PERM_ADMIN, custody_method_disposal_approve,
	  custody_disposal_id_fields, 3 },
	{ "io.biogate.DisposalExecute", PERM_ADMIN, custody_method_disposal_execute,
	  custody_disposal_id_fields, 3 },
	{ "io.biogate.DisposalReport", PERM_ADMIN, custody_method_disposal_report,
	  custody_disposal_id_fields, 3 },
	{ "io.biogate.AuditVerify", PERM_ADMIN, audit_method_verify, NO_FIELDS },
	{ "io.biogate.AuditList", PERM_ADMIN, audit_method_list, FIELDS(audit_list_fields) },
	{ "io.biogate.AuditExport", PERM_ADMIN, audit_method_export, FIELDS(audit_export_fields) },
	{ "io.biogate.AuditSearchKey", PERM_ADMIN, audit_method_search_key,
	  FIELDS(audit_search_key_fields) },
	{ "io.biogate.RoomEnter", PERM_ADMIN_OR_SESSION, room_method_enter,
	  FIELDS(room_enter_fields) },
	{ "io.biogate.RoomLeave", PERM_ADMIN_OR_SESSION, room_method_leave,
	  FIELDS(room_leave_fields) },
	{ "io.biogate.RoomList", PERM_ADMIN, room_method_list, FIELDS(room_list_fields) },
	{ "io.biogate.MonthlyReport", PERM_ADMIN, report_method_monthly,
	  FIELDS(monthly_report_fields) },
	{ "io.biogate.UsbAllow", PERM_ADMIN, devices_method_allow, FIELDS(devices_allow_fields) },
	{ "io.biogate.UsbRevoke", PERM_ADMIN, devices_method_revoke,
	  FIELDS(devices_serial_fields) },
	{ "io.biogate.UsbList", PERM_ADMIN, devices_method_list, NO_FIELDS },
};

void
methods_dispatch(Manager *m, Conn *c, const WireCall *call)
{
	const Method *meth = NULL;
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(call->method, methods[i].name) == 0) {
			meth = &methods[i];
			break;
		}
	if (!meth) {
		const char *dot = strrchr(call->method, '.');
		size_t iflen = dot ? (size_t)(dot - call->method) : 0;
		bool known_if =
		    (iflen == strlen(BIOGATE_INTERFACE) &&
		     strncmp(call->method, BIOGATE_INTERFACE, iflen) == 0) ||
		    (iflen == 19 && strncmp(call->method, "org.varlink.service", 19) == 0);
		if (!known_if)
			return (void)conn_error(c, WIRE_ERR_INTERFACE_NOT_FOUND, NULL);
		return (void)conn_error(c, WIRE_ERR_METHOD_NOT_FOUND, NULL);
	}

	const Peer *p = conn_peer(c);
	bool allowed = false;
	const char *why = "not-admin";
	switch (meth->perm) {
	case PERM_ANYONE:
	case PERM_LOGIN:
		allowed = true;
		break;
	case PERM_ROOT:
		allowed = p->uid == 0;
		why = "not-root";
		break;
	case PERM_ADMIN:
		allowed = caller_is_admin(m, conn_caller(c));
		break;
	case PERM_SESSION:
	case PERM_ADMIN_OR_SESSION: {
		StoreSession ss;
		allowed =
		    (meth->perm == PERM_ADMIN_OR_SESSION && caller_is_admin(m, conn_caller(c))) ||
		    (m->sessions && sessions_find_by_peer(m->sessions, p, &ss) == 0);
		why = meth->perm == PERM_SESSION ? "no-session" : "not-admin-or-session";
		break;
	}
	}
	if (allowed && meth->perm == PERM_ADMIN &&
	    policy_settings(m->policy)->admin_requires_session) {
		/* The policy wants administration done in an admin-role session too. */
		PeerSession ps;
		allowed = caller_session(m, conn_caller(c), &ps) &&
		          policy_is_admin_role(m->policy, ps.role);
		why = "no-admin-session";
	}
	if (!allowed) {
		log_info("Refused %s to uid %u pid %d", meth->name, (unsigned)p->uid, (int)p->pid);
		char detail[64];
		snprintf(detail, sizeof(detail), "{\"uid\":%u,\"pid\":%d}", (unsigned)p->uid,
		         (int)p->pid);
		AuditRecord rec = {
			.action = meth->name, .outcome = "deny", .reason = why, .detail = detail
		};
		(void)record_append(m, conn_caller(c), &rec, NULL, NULL);
		return (void)conn_error(c, WIRE_ERR_NOT_PERMITTED, NULL);
	}

	const char *bad = NULL;
	if (wire_check(call->parameters, meth->fields, meth->n_fields, &bad) < 0)
		return reply_invalid(c, bad);
	meth->fn(m, c, call->parameters);
}
