/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * methods: the table of Varlink methods biogated answers: who may call each (a permission
 * kind, decided from the kernel's peer credentials and the caller's session only), the
 * parameter schema of each, and its handler (one file per method group, methods.h). The
 * dispatcher refuses, and records the refusal, in one place before any handler runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "caller.h"
#include "clock.h"
#include "devices.h"
#include "fleet.h"
#include "interface.h"
#include "log.h"
#include "manager.h"
#include "handlers.h"
#include "methods.h"
#include "policy.h"
#include "record.h"
#include "refusals.h"
#include "reply.h"
#include "secret.h"
#include "sensorlink.h"
#include "incidents.h"
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

/* One bound method: the interface's name and parameter table (common/interface.c), who
 * may call it, and its handler. */
typedef struct Method {
	const InterfaceMethod *iface;
	Perm perm;
	MethodFn fn;
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

/* What an admin needs after installing (biogatectl status), for admin callers only: the
 * degraded modes, where the keys come from, the chain head, the incidents of the current
 * window and the end of the day. */
static bool
status_credential(const char *name)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	char path[4096];
	return dir && (size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) < sizeof(path) &&
	       access(path, R_OK) == 0;
}

static json_object *
status_admin_json(Manager *m)
{
	json_object *o = json_object_new_object();
	bool logind = sessions_have_logind(m->sessions), udev = devices_udev(m->devices);
	json_object *degraded = json_object_new_array();
	if (!logind)
		json_object_array_add(degraded, json_object_new_string("no-logind"));
	if (!udev)
		json_object_array_add(degraded, json_object_new_string("no-udev"));
	json_object_object_add(o, "degraded", degraded);
	json_object_object_add(o, "logind", json_object_new_boolean(logind));
	json_object_object_add(o, "udev", json_object_new_boolean(udev));
	json_object *keys = json_object_new_object();
	json_object_object_add(
	    keys, "template",
	    json_object_new_string(status_credential(SECRET_CREDENTIAL) ? "credential" : "file"));
	json_object_object_add(
	    keys, "audit",
	    json_object_new_string(status_credential(AUDIT_CREDENTIAL) ? "credential" : "file"));
	json_object_object_add(o, "keys", keys);
	char mac[65];
	int64_t seq = audit_head(m->audit, mac);
	json_object *head = json_object_new_object();
	json_object_object_add(head, "seq", json_object_new_int64(seq < 0 ? 0 : seq));
	json_object_object_add(head, "mac", json_object_new_string(mac));
	json_object_object_add(o, "audit_head", head);
	json_object *inc = m->incidents ? incidents_status(m->incidents) : NULL, *arr = NULL;
	if (inc && json_object_object_get_ex(inc, "incidents", &arr))
		json_object_object_add(o, "incidents", json_object_get(arr));
	else
		json_object_object_add(o, "incidents", json_object_new_array());
	json_object_put(inc);
	const PolicySettings *ps = m->policy ? policy_settings(m->policy) : NULL;
	if (ps && ps->power_off_minute >= 0) {
		char hhmm[8];
		snprintf(hhmm, sizeof(hhmm), "%02d:%02d", (int)(ps->power_off_minute / 60) % 100,
		         (int)(ps->power_off_minute % 60));
		json_object_object_add(o, "power_off_time", json_object_new_string(hhmm));
	} else
		json_object_object_add(o, "power_off_time", NULL);
	return o;
}

static void
method_get_status(Manager *m, Conn *c, json_object *params)
{
	json_object *o = sensorlink_status(m->sensor);
	json_object_object_add(o, "version", json_object_new_string(BIOGATE_VERSION));
	/* Anyone gets what a person at the terminal needs: is the service up, is the reader
	 * there. How many are on the roster, who is logged in, how busy the daemon is: admins
	 * only (a count of open sessions tells a watcher when the room is empty). */
	if (!caller_is_admin(m, conn_caller(c))) {
		json_object_object_del(o, "sensor_restarts");
		return (void)conn_reply(c, o, false);
	}
	int64_t staff = 0, sessions = 0;
	(void)store_staff_count(m->store, &staff);
	(void)store_sessions_open_count(m->store, &sessions);
	json_object_object_add(o, "staff", json_object_new_int64(staff));
	json_object_object_add(o, "open_sessions", json_object_new_int64(sessions));
	json_object_object_add(o, "connections",
	                       json_object_new_int64(server_connections(m->server)));
	json_object_object_add(
	    o, "uptime_ms",
	    json_object_new_int64((int64_t)((now_mono_usec() - m->started_usec) / 1000)));
	/* What an admin needs after installing (biogatectl status). */
	json_object_object_add(o, "admin", status_admin_json(m));
	json_object_object_add(o, "state_space_low",
	                       json_object_new_boolean(refusals_space_low(m->refusals)));
	json_object *fleet = fleet_status_json(m->fleet);
	if (fleet)
		json_object_object_add(o, "fleet", fleet);
	conn_reply(c, o, false);
}

/* The interface definition (common/io.biogate.varlink); org.varlink.service's own is not
 * served (clients know it). */
static void
method_get_interface_description(Manager *m, Conn *c, json_object *params)
{
	if (strcmp(wire_str(params, "interface"), BIOGATE_INTERFACE) != 0) {
		json_object *p = json_object_new_object();
		json_object_object_add(p, "interface",
		                       json_object_new_string(wire_str(params, "interface")));
		return (void)conn_error(c, WIRE_ERR_INTERFACE_NOT_FOUND, p);
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "description", json_object_new_string(interface_description));
	conn_reply(c, o, false);
}

static const Method methods[] = {
	{ &iface_get_info, PERM_ANYONE, method_get_info },
	{ &iface_get_status, PERM_ANYONE, method_get_status },
	{ &iface_add_staff, PERM_ADMIN, staff_method_add },
	{ &iface_get_staff, PERM_ADMIN, staff_method_get },
	{ &iface_list_staff, PERM_ADMIN, staff_method_list },
	{ &iface_grant_operator, PERM_ADMIN, staff_method_grant },
	{ &iface_enroll, PERM_ADMIN, login_method_enroll },
	{ &iface_check_account, PERM_LOGIN, login_method_check_account },
	{ &iface_verify, PERM_LOGIN, login_method_verify },
	{ &iface_open_session, PERM_ROOT, login_method_open_session },
	{ &iface_close_session, PERM_ROOT, login_method_close_session },
	{ &iface_list_sessions, PERM_ADMIN, login_method_list_sessions },
	{ &iface_edit_staff, PERM_ADMIN, staff_method_edit },
	{ &iface_unlock, PERM_ADMIN, staff_method_unlock },
	{ &iface_import_schedule, PERM_ADMIN, staff_method_import_schedule },
	{ &iface_get_schedule, PERM_ADMIN, staff_method_get_schedule },
	{ &iface_authorize, PERM_ANYONE, authorize_method_authorize },
	{ &iface_who_am_i, PERM_ANYONE, authorize_method_whoami },
	{ &iface_lock, PERM_SESSION, sessions_method_lock },
	{ &iface_logoff, PERM_SESSION, sessions_method_logoff },
	{ &iface_revoke, PERM_ADMIN, custody_method_revoke },
	{ &iface_staff_nationality, PERM_ADMIN, custody_method_nationality },
	{ &iface_staff_history, PERM_ADMIN, custody_method_history },
	{ &iface_disposal_plan, PERM_ADMIN, custody_method_disposal_plan },
	{ &iface_disposal_approve, PERM_ADMIN, custody_method_disposal_approve },
	{ &iface_disposal_execute, PERM_ADMIN, custody_method_disposal_execute },
	{ &iface_disposal_report, PERM_ADMIN, custody_method_disposal_report },
	{ &iface_audit_verify, PERM_ADMIN, audit_method_verify },
	{ &iface_audit_list, PERM_ADMIN, audit_method_list },
	{ &iface_audit_export, PERM_ADMIN, audit_method_export },
	{ &iface_audit_search_key, PERM_ADMIN, audit_method_search_key },
	{ &iface_audit_keys, PERM_ADMIN, audit_method_keys },
	{ &iface_room_enter, PERM_ADMIN_OR_SESSION, room_method_enter },
	{ &iface_room_leave, PERM_ADMIN_OR_SESSION, room_method_leave },
	{ &iface_room_list, PERM_ADMIN, room_method_list },
	{ &iface_monthly_report, PERM_ADMIN, report_method_monthly },
	{ &iface_usb_allow, PERM_ADMIN, devices_method_allow },
	{ &iface_usb_revoke, PERM_ADMIN, devices_method_revoke },
	{ &iface_usb_list, PERM_ADMIN, devices_method_list },
	{ &iface_usb_attempt, PERM_ROOT, devices_method_attempt },
	{ &iface_get_interface_description, PERM_ANYONE, method_get_interface_description },
	{ &iface_revoke_operator, PERM_ADMIN, staff_method_revoke_operator },
	{ &iface_set_operator_role, PERM_ADMIN, staff_method_set_operator_role },
	{ &iface_delete_finger, PERM_ADMIN, login_method_delete_finger },
	{ &iface_import_staff, PERM_ADMIN, staff_method_import },
	{ &iface_list_locked, PERM_ADMIN, staff_method_list_locked },
};

void
methods_dispatch(Manager *m, Conn *c, const WireCall *call)
{
	const Method *meth = NULL;
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(call->method, methods[i].iface->name) == 0) {
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
		allowed = sessions_of_caller(m, conn_caller(c), &ps) &&
		          policy_is_admin_role(m->policy, ps.role);
		why = "no-admin-session";
	}
	if (!allowed) {
		/* A caller without a session is refused for free: beyond its budget the refusal
		 * is only counted for the window's summary record (core/refusals.h), else the
		 * trail would be any local user's way to fill the disk. */
		PeerSession own;
		if (!sessions_of_caller(m, conn_caller(c), &own) &&
		    !refusals_admit(m->refusals, p->uid, meth->iface->name, false))
			return (void)conn_error(c, WIRE_ERR_NOT_PERMITTED, NULL);
		log_info("Refused %s to uid %u pid %d", meth->iface->name, (unsigned)p->uid,
		         (int)p->pid);
		char detail[64];
		snprintf(detail, sizeof(detail), "{\"uid\":%u,\"pid\":%d}", (unsigned)p->uid,
		         (int)p->pid);
		AuditRecord rec = { .action = meth->iface->name,
			            .outcome = "deny",
			            .reason = why,
			            .detail = detail };
		(void)record_append(m, conn_caller(c), &rec, NULL, NULL);
		return (void)conn_error(c, WIRE_ERR_NOT_PERMITTED, NULL);
	}

	const char *bad = NULL;
	if (wire_check(call->parameters, meth->iface->fields, meth->iface->n_fields, &bad) < 0)
		return reply_invalid(c, bad);
	meth->fn(m, c, call->parameters);
}
