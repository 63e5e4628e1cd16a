/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * methods: the handlers of each method group, as bound in methods.c's table. A handler only
 * translates: typed parameters out of the call, one core call, -errno to an error name.
 * Who may call is the table's business (checked and recorded once, by the dispatcher).
 */
#pragma once

#include <json-c/json.h>

#include "conn.h"

/* devices-methods.c */
void devices_method_allow(Manager *m, Conn *c, json_object *params);
void devices_method_revoke(Manager *m, Conn *c, json_object *params);
void devices_method_list(Manager *m, Conn *c, json_object *params);
/* room-methods.c */
void room_method_enter(Manager *m, Conn *c, json_object *params);
void room_method_leave(Manager *m, Conn *c, json_object *params);
void room_method_list(Manager *m, Conn *c, json_object *params);
/* report-methods.c */
void report_method_monthly(Manager *m, Conn *c, json_object *params);
/* sessions-methods.c */
void sessions_method_lock(Manager *m, Conn *c, json_object *params);
void sessions_method_logoff(Manager *m, Conn *c, json_object *params);
