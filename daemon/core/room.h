/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * room: R14, the record of everyone entering the working area: name, affiliation, purpose,
 * time in and time out (visitors at the counter excluded). Staff logins and logouts are
 * entered automatically (room_staff_login / room_staff_logout, wired by biogated.c to the
 * sessions' opened and ended hooks). Every entry is also an audit record.
 */
#pragma once

#include <json-c/json.h>

#include <stdbool.h>
#include <stdint.h>

#include "forward.h"

typedef struct Room Room;

int room_new(Manager *m, Room **ret);
void room_free(Room *r);

void room_staff_login(Room *r, const char *matching_id, int64_t session_id, int64_t at_usec);
void room_staff_logout(Room *r, int64_t session_id, int64_t at_usec);

/* Staff entries are keyed by session: login enters (after the session.open record), and every
 * way a session ends leaves (sessions_stop(): CloseSession, a reaped dead session, Logoff,
 * idle logoff, shift end, revocation, disposal). Entries left open by a previous run are closed
 * with reason "daemon-restart" by room_new, which must run after audit_open and after the store
 * closed the old sessions. room_free before audit_close. */

/* The calls behind io.biogate.RoomEnter, RoomLeave and RoomList (docs/report.md); who may
 * call them (admin, or any session for enter and leave) is the method table's business.
 * Texts: 1..128 bytes of UTF-8, no control characters, separators or bidi overrides. */
bool room_valid_text(const char *s);
/* "YYYY-MM-DD" -> local midnight of that day and of the next; false when malformed. */
bool room_parse_date(const char *s, int64_t *ret_from, int64_t *ret_to);

/* Once the enter record is durable (r >= 0; entry_id is its audit seq) or lost (r < 0: the
 * caller is dropped after this returns). Called before c's reply is released. */
typedef void (*RoomEnteredFn)(int r, int64_t entry_id, void *userdata);
/* A visitor enters; texts already checked. 0: entered runs later (exactly once); -EBUSY
 * (too many open entries), -ENOMEM. */
int room_enter(Room *r, Caller *c, const char *name, const char *affiliation, const char *purpose,
               RoomEnteredFn entered, void *userdata);
/* A visitor leaves: -ENOENT when not open, -EPERM for a staff entry (those end with the
 * session), -EACCES when c is neither the entry's author (the person whose session wrote
 * it) nor an admin; else the leave record is queued and c's reply waits for it. */
int room_leave(Room *r, Caller *c, int64_t entry_id);
/* {date, entries:[{entry_id, name, affiliation, purpose, entered_at, left_at, staff,
 * matching_id?, session_id?}], truncated?}, recorded as room.list. A staff entry's name and
 * affiliation come from the roster at listing time. -EINVAL for a bad date. */
int room_list(Manager *m, Caller *c, const char *date, json_object **ret);
