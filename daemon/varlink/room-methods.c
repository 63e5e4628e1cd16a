/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * room-methods: io.biogate.RoomEnter {name, affiliation, purpose} and RoomLeave {entry_id}
 * (admin or any session), RoomList {date?} (admin); docs/report.md.
 */
#include <errno.h>
#include <time.h>

#include "manager.h"
#include "handlers.h"
#include "reply.h"
#include "room.h"

static void
room_entered(int r, int64_t entry_id, void *userdata)
{
	/* On failure the record helper drops the caller: nothing to say. */
	if (r >= 0) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "entry_id", json_object_new_int64(entry_id));
		conn_reply(userdata, o, false);
	}
}

void
room_method_enter(Manager *m, Conn *c, json_object *params)
{
	static const char *const fields[] = { "name", "affiliation", "purpose" };
	for (size_t i = 0; i < 3; i++)
		if (!room_valid_text(wire_str(params, fields[i])))
			return reply_invalid(c, fields[i]);
	if (!m->room || !m->audit)
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	conn_defer(c);
	int r = room_enter(m->room, conn_caller(c), wire_str(params, "name"),
	                   wire_str(params, "affiliation"), wire_str(params, "purpose"),
	                   room_entered, c);
	if (r < 0)
		conn_error(c, r == -EBUSY ? WIRE_ERR_BUSY : WIRE_ERR_INTERNAL, NULL);
}

void
room_method_leave(Manager *m, Conn *c, json_object *params)
{
	if (!m->room || !m->audit)
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	int64_t id = wire_int(params, "entry_id", 0);
	int r = room_leave(m->room, conn_caller(c), id);
	if (r == -ENOENT)
		return (void)conn_error(c, WIRE_ERR_NOT_FOUND, NULL);
	if (r == -EPERM) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "reason", json_object_new_string("staff-entry"));
		return (void)conn_error(c, WIRE_ERR_NOT_PERMITTED, o);
	}
	if (r == -EACCES) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "reason", json_object_new_string("not-author"));
		return (void)conn_error(c, WIRE_ERR_NOT_PERMITTED, o);
	}
	if (r < 0)
		return; /* the record helper dropped the caller */
	json_object *o = json_object_new_object();
	json_object_object_add(o, "entry_id", json_object_new_int64(id));
	conn_reply(c, o, false);
}

void
room_method_list(Manager *m, Conn *c, json_object *params)
{
	if (!m->audit)
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	const char *date = wire_str(params, "date");
	char today[16];
	if (!date) {
		time_t t = time(NULL);
		struct tm tm;
		localtime_r(&t, &tm);
		strftime(today, sizeof(today), "%Y-%m-%d", &tm);
		date = today;
	}
	json_object *o = NULL;
	int r = room_list(m, conn_caller(c), date, &o);
	if (r == -EINVAL)
		return reply_invalid(c, "date");
	if (r < 0)
		return (void)conn_error(c, WIRE_ERR_INTERNAL, NULL);
	conn_reply(c, o, false);
}
