/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sessions: the live side of biogate sessions (R10, R8, R4). Knows which login session each
 * biogate session is (logind session, tty, leader pid, uid), watches how long it has been
 * idle (logind's IdleHint/IdleSinceHint first, the tty's atime for text sessions), warns,
 * locks after lock-after and ends it after logoff-after; warns ahead of and ends a session
 * at the end of its scheduled shift; powers the terminal off at the end of the day when no
 * session is open. Talks to logind over sd-bus; without logind it says so at start, uses
 * the tty's atime and ends a session by signalling its leader. With logind it never signals
 * a process itself.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "caller.h"
#include "forward.h"
#include "store.h"

typedef struct Sessions Sessions;

/* Connects to the system bus ($DBUS_SYSTEM_BUS_ADDRESS honoured by sd-bus), looks for
 * logind, and starts the watch timer. Missing logind is not an error. */
/* In the runtime directory, from biogate-tell.socket: the warnings go to the person's
 * terminal through biogate-tell@.service. */
#define SESSIONS_TELL_SOCKET "tell.sock"

int sessions_new(Manager *m, Sessions **ret);
/* At start, before the room log and sessions_new(): closes ("daemon-restart") every open
 * session row whose login is gone; a login still running (its leader in the same logind
 * session of the same user) keeps its row, and sessions_new() watches it again, so a restart
 * (an upgrade, the watchdog) never leaves a shell open with no biogate session. */
int sessions_close_stale(Store *store, int64_t now);
void sessions_free(Sessions *s);
bool sessions_have_logind(const Sessions *s);

/* What the manager hears of every session that opens and ends (the room log). */
typedef void (*SessionsHookFn)(const char *matching_id, int64_t session_id, int64_t at_usec,
                               void *userdata);
void sessions_set_hooks(Sessions *s, SessionsHookFn opened, SessionsHookFn ended, void *userdata);

/* The daemon registered a session in the store and recorded it (OpenSession): the opened
 * hook fires and the session is watched. */
void sessions_opened(Sessions *s, int64_t session_id, const char *matching_id, int64_t opened_at);
void sessions_closed(Sessions *s, int64_t session_id);
/* Ends a session: every way one ends goes through here (see sessions.c). row: the session
 * as the caller just read it from the store, or NULL to read it here (-ENOENT when the store
 * has no such session). c (may be NULL) waits for the record. */
int sessions_stop(Sessions *s, int64_t session_id, const StoreSession *row, const char *reason,
                  Caller *c);

/* The open session the peer's process belongs to: its logind session (sd_pid_get_session)
 * when logind is there, else the session whose leader is the process or one of its
 * ancestors (bounded walk of /proc/PID/stat). The session's uid must be the peer's uid, or
 * the peer root. -ENOENT when the process is in no open session. */
int sessions_find_by_peer(Sessions *s, const Peer *p, StoreSession *ret);

/* The caller's open session, operator ID and role: from the Caller's cache while that
 * session is still open, else resolved from its credentials (and cached when found). */
bool sessions_of_caller(Manager *m, Caller *c, PeerSession *ret);

/* Whether a session is open and not being ended (in memory: cheap enough per request). */
bool sessions_is_open(Sessions *s, int64_t session_id);

/* Lock / end one session now (the caller's own: biogatectl lock | logoff). lock: -ENOENT
 * for a session not in the table, -EOPNOTSUPP when nothing can lock it (no logind). logoff:
 * logind's TerminateSession, or SIGHUP and 2 s later SIGTERM to the leader without logind;
 * the store row closes with reason at once. */
int sessions_lock(Sessions *s, int64_t session_id);
int sessions_logoff(Sessions *s, int64_t session_id, const char *reason);
/* Ends every open session of a matching ID at once (revocation). Returns how many. */
int sessions_end_matching_id(Sessions *s, const char *matching_id, const char *reason);
/* Ends every open session of one operator ID of matching_id at once (operator revoke). */
int sessions_end_operator_id(Sessions *s, const char *matching_id, const char *operator_id,
                             const char *reason);

/* For GetStatus: {"logind": bool, "watched": n, "power_off_at": ...}. */
json_object *sessions_status(Sessions *s);
