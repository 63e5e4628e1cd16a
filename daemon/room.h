/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * room: R14, the record of everyone entering the working area: name, affiliation, purpose,
 * time in and time out (visitors at the counter excluded). Staff logins and logouts are
 * entered automatically (room_staff_login / room_staff_logout, called from methods.c and
 * sessions.c). Every entry is also an audit record.
 */
#pragma once

#include <json-c/json.h>

#include "daemon.h"

typedef struct Room Room;

int room_new(Manager *m, Room **ret);
void room_free(Room *r);

void room_staff_login(Room *r, const char *matching_id, int64_t session_id, int64_t at_usec);
void room_staff_logout(Room *r, int64_t session_id, int64_t at_usec);

/* Method handlers wired into methods.c's table by the lead:
 *   io.biogate.RoomEnter {name, affiliation, purpose}  admin or any session: {entry_id}
 *   io.biogate.RoomLeave {entry_id}                    admin or any session
 *   io.biogate.RoomList {date?: "YYYY-MM-DD"}          admin: {entries:[{entry_id, name,
 *       affiliation, purpose, entered_at, left_at, staff: bool, matching_id?}]}
 */
void room_method_enter(Manager *m, Conn *c, json_object *params);
void room_method_leave(Manager *m, Conn *c, json_object *params);
void room_method_list(Manager *m, Conn *c, json_object *params);
