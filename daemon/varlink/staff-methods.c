/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * staff-methods: the roster and the schedule (admin).
 *   io.biogate.AddStaff, GetStaff, ListStaff, GrantOperator, EditStaff, Unlock,
 *   io.biogate.ImportSchedule {month, shifts}, GetSchedule {month?, matching_id?},
 *   io.biogate.RevokeOperator, SetOperatorRole, ImportStaff, ListLocked (issue 13).
 * docs/protocol.md has the parameters and replies.
 */
#include <errno.h>
#include <string.h>

#include "dates.h"
#include "manager.h"
#include "handlers.h"
#include "reply.h"
#include "roster.h"

/* A person named by the call: -ENOENT is "not on the roster". */
static void
reply_person_errno(Conn *c, int r)
{
	if (r == -ENOENT)
		return (void)conn_error(c, WIRE_ERR_NOT_ON_ROSTER, NULL);
	reply_errno(c, r);
}

void
staff_method_add(Manager *m, Conn *c, json_object *params)
{
	StoreStaffIn in = {
		.matching_id = wire_str(params, "matching_id"),
		.name = wire_str(params, "name"),
		.affiliation = wire_str(params, "affiliation"),
		.expertise = wire_str(params, "expertise"),
		.track_record = wire_str(params, "track_record"),
		.nationality = wire_str(params, "nationality"),
		.unix_user = wire_str(params, "unix_user"),
	};
	if (!in.unix_user)
		in.unix_user = in.matching_id;
	if (!wire_valid_id(in.matching_id))
		return reply_invalid(c, "matching_id");
	if (!wire_valid_id(in.unix_user) || strlen(in.unix_user) > 32)
		return reply_invalid(c, "unix_user");
	static const char *const texts[] = { "name", "affiliation", "expertise", "track_record",
		                             "nationality" };
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		const char *v = wire_str(params, texts[i]);
		if (v && (!wire_valid_text(v, WIRE_MAX_TEXT) || (i != 2 && i != 3 && v[0] == '\0')))
			return reply_invalid(c, texts[i]);
	}
	json_object *o = NULL;
	int r = roster_add(m, conn_caller(c), &in, &o);
	if (r < 0)
		return reply_errno(c, r);
	conn_reply(c, o, false);
}

void
staff_method_get(Manager *m, Conn *c, json_object *params)
{
	const char *id = wire_str(params, "matching_id");
	if (!wire_valid_id(id))
		return reply_invalid(c, "matching_id");
	json_object *o = NULL;
	int r = roster_get(m, id, &o);
	if (r < 0)
		return reply_person_errno(c, r);
	conn_reply(c, o, false);
}

void
staff_method_list(Manager *m, Conn *c, json_object *params)
{
	json_object *o = NULL;
	int r = roster_list(m, &o);
	if (r < 0)
		return reply_errno(c, r);
	conn_reply(c, o, false);
}

void
staff_method_grant(Manager *m, Conn *c, json_object *params)
{
	const char *mid = wire_str(params, "matching_id");
	const char *oid = wire_str(params, "operator_id");
	const char *role = wire_str(params, "role");
	if (!wire_valid_id(mid))
		return reply_invalid(c, "matching_id");
	if (!wire_valid_id(oid))
		return reply_invalid(c, "operator_id");
	if (!wire_valid_id(role))
		return reply_invalid(c, "role");
	json_object *o = NULL;
	int r = roster_grant(m, conn_caller(c), mid, oid, role, &o);
	if (r == -EINVAL)
		return reply_invalid(c, "role");
	if (r < 0)
		return reply_person_errno(c, r);
	conn_reply(c, o, false);
}

void
staff_method_edit(Manager *m, Conn *c, json_object *params)
{
	const char *mid = wire_str(params, "matching_id");
	if (!wire_valid_id(mid))
		return reply_invalid(c, "matching_id");
	StoreStaffEdit e = {
		.name = wire_str(params, "name"),
		.affiliation = wire_str(params, "affiliation"),
		.expertise = wire_str(params, "expertise"),
		.track_record = wire_str(params, "track_record"),
	};
	static const char *const texts[] = { "name", "affiliation", "expertise", "track_record" };
	for (size_t i = 0; i < 4; i++) {
		const char *v = wire_str(params, texts[i]);
		if (v && (!wire_valid_text(v, WIRE_MAX_TEXT) || (i < 2 && v[0] == '\0')))
			return reply_invalid(c, texts[i]);
	}
	const char *pd = wire_str(params, "pledge_date"), *td = wire_str(params, "training_date");
	if (pd && !(e.pledge_date = dates_parse_ymd(pd)))
		return reply_invalid(c, "pledge_date");
	if (td && !(e.training_date = dates_parse_ymd(td)))
		return reply_invalid(c, "training_date");
	json_object *changed = json_object_new_array();
	json_object_object_foreach(params, key, val)
	{
		(void)val;
		if (strcmp(key, "matching_id") != 0)
			json_object_array_add(changed, json_object_new_string(key));
	}
	json_object *o = NULL;
	int r = roster_edit(m, conn_caller(c), mid, &e, changed, &o);
	json_object_put(changed);
	if (r < 0)
		return reply_person_errno(c, r);
	conn_reply(c, o, false);
}

void
staff_method_unlock(Manager *m, Conn *c, json_object *params)
{
	const char *mid = wire_str(params, "matching_id");
	if (!wire_valid_id(mid))
		return reply_invalid(c, "matching_id");
	int r = roster_unlock(m, conn_caller(c), mid);
	if (r < 0)
		return reply_person_errno(c, r);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "matching_id", json_object_new_string(mid));
	conn_reply(c, o, false);
}

void
staff_method_import_schedule(Manager *m, Conn *c, json_object *params)
{
	const char *month = wire_str(params, "month");
	if (!schedule_parse_month(month))
		return reply_invalid(c, "month");
	json_object *arr = NULL, *o = NULL;
	json_object_object_get_ex(params, "shifts", &arr);
	int r = schedule_import(m, conn_caller(c), month, arr, &o);
	if (r == -EINVAL)
		return reply_invalid(c, "shifts");
	if (r < 0)
		return reply_person_errno(c, r);
	conn_reply(c, o, false);
}

void
staff_method_get_schedule(Manager *m, Conn *c, json_object *params)
{
	const char *month = wire_str(params, "month");
	const char *mid = wire_str(params, "matching_id");
	if (month && !schedule_parse_month(month))
		return reply_invalid(c, "month");
	if (mid && !wire_valid_id(mid))
		return reply_invalid(c, "matching_id");
	json_object *o = NULL;
	int r = schedule_get(m, month, mid, &o);
	if (r < 0)
		return reply_errno(c, r);
	conn_reply(c, o, false);
}

/* --- administration (issue 13) --------------------------------------------------------- */

/* A named operator ID: -ESRCH (not one of the person's) and -EALREADY (revoked) are NotFound
 * {operator_id}; -EPERM is Revoked {matching_id}. */
static void
reply_operator_errno(Conn *c, int r, const char *mid, const char *oid)
{
	if (r == -ESRCH || r == -EALREADY) {
		json_object *p = json_object_new_object();
		json_object_object_add(p, "operator_id", json_object_new_string(oid));
		return (void)conn_error(c, WIRE_ERR_NOT_FOUND, p);
	}
	if (r == -EPERM) {
		json_object *p = json_object_new_object();
		json_object_object_add(p, "matching_id", json_object_new_string(mid));
		return (void)conn_error(c, WIRE_ERR_REVOKED, p);
	}
	reply_person_errno(c, r);
}

void
staff_method_revoke_operator(Manager *m, Conn *c, json_object *params)
{
	const char *mid = wire_str(params, "matching_id");
	const char *oid = wire_str(params, "operator_id");
	if (!wire_valid_id(mid))
		return reply_invalid(c, "matching_id");
	if (!wire_valid_id(oid))
		return reply_invalid(c, "operator_id");
	json_object *o = NULL;
	int r = roster_operator_revoke(m, conn_caller(c), mid, oid, &o);
	if (r < 0)
		return reply_operator_errno(c, r, mid, oid);
	conn_reply(c, o, false);
}

void
staff_method_set_operator_role(Manager *m, Conn *c, json_object *params)
{
	const char *mid = wire_str(params, "matching_id");
	const char *oid = wire_str(params, "operator_id");
	const char *role = wire_str(params, "role");
	if (!wire_valid_id(mid))
		return reply_invalid(c, "matching_id");
	if (!wire_valid_id(oid))
		return reply_invalid(c, "operator_id");
	if (!wire_valid_id(role))
		return reply_invalid(c, "role");
	json_object *o = NULL;
	int r = roster_operator_set_role(m, conn_caller(c), mid, oid, role, &o);
	if (r == -EINVAL)
		return reply_invalid(c, "role");
	if (r < 0)
		return reply_operator_errno(c, r, mid, oid);
	conn_reply(c, o, false);
}

void
staff_method_import(Manager *m, Conn *c, json_object *params)
{
	json_object *arr = NULL, *o = NULL;
	json_object_object_get_ex(params, "staff", &arr);
	size_t bad = 0;
	const char *field = NULL;
	int r = roster_import(m, conn_caller(c), arr, &o, &bad, &field);
	if (r >= 0)
		return (void)conn_reply(c, o, false);
	/* Which row (0-based, in the order sent) refused the whole import. */
	json_object *row = json_object_array_get_idx(arr, bad);
	const char *mid =
	    json_object_is_type(row, json_type_object) ? wire_str(row, "matching_id") : NULL;
	json_object *p = json_object_new_object();
	json_object_object_add(p, "row", json_object_new_int64((int64_t)bad));
	if (mid && wire_valid_id(mid))
		json_object_object_add(p, "matching_id", json_object_new_string(mid));
	switch (r) {
	case -EINVAL:
		json_object_object_add(p, "parameter",
		                       json_object_new_string(field ? field : "staff"));
		return (void)conn_error(c, WIRE_ERR_VARLINK_INVALID, p);
	case -EXDEV:
		/* A Unix user change: EditStaff cannot make it either. */
		json_object_object_add(p, "parameter", json_object_new_string("unix_user"));
		return (void)conn_error(c, WIRE_ERR_VARLINK_INVALID, p);
	case -EPERM:
		return (void)conn_error(c, WIRE_ERR_REVOKED, p);
	case -EEXIST:
		return (void)conn_error(c, WIRE_ERR_EXISTS, p);
	default:
		json_object_put(p);
		return reply_errno(c, r);
	}
}

void
staff_method_list_locked(Manager *m, Conn *c, json_object *params)
{
	json_object *o = NULL;
	int r = roster_locked(m, &o);
	if (r < 0)
		return reply_errno(c, r);
	conn_reply(c, o, false);
}
