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

/* Staff entries are keyed by session: login enters (after the session.open record), and every
 * way a session ends leaves (CloseSession, a reaped dead session, sessions.c's logoff, idle
 * logoff, shift end, revocation). Entries left open by a previous run are closed with reason
 * "daemon-restart" by room_new, which must run after audit_open and after the store closed
 * the old sessions. room_free before audit_close. */

/* Method handlers wired into methods.c's table by the lead (docs/report.md):
 *   io.biogate.RoomEnter {name, affiliation, purpose}  admin or any session: {entry_id}, sent
 *       once the enter record is durable; entry_id is that record's audit seq. Texts: 1..128
 *       bytes of UTF-8, no control characters, separators or bidi overrides.
 *   io.biogate.RoomLeave {entry_id}                    admin or any session: {entry_id};
 *       NotFound when not open, NotPermitted for a staff entry (those end with the session)
 *   io.biogate.RoomList {date?: "YYYY-MM-DD"}          admin (default today, local): {date,
 *       entries:[{entry_id, name, affiliation, purpose, entered_at, left_at, staff: bool,
 *       matching_id?, session_id?}], truncated?}. A staff entry's name and affiliation come
 *       from the roster at listing time (the trail holds only the matching ID).
 */
void room_method_enter(Manager *m, Conn *c, json_object *params);
void room_method_leave(Manager *m, Conn *c, json_object *params);
void room_method_list(Manager *m, Conn *c, json_object *params);
