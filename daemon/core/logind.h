/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * logind: the daemon's sd-bus client of systemd-logind (org.freedesktop.login1), attached to
 * the daemon's sd-event loop. Owns the system bus connection, notices logind coming and
 * going, reads a session's idle facts and asks logind to lock or terminate a session or to
 * power the machine off. Every call is asynchronous: a slow or hung logind never stalls the
 * daemon. It never signals a process and never decides anything: sessions.c does.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#define LOGIND_MAX_ID  64
#define LOGIND_MAX_TTY 64

typedef struct Logind Logind;
typedef struct LogindSession LogindSession;

/* What logind knows about a session's idleness. idle_since_usec is CLOCK_REALTIME (0 when
 * logind does not know); for a text session logind reports the tty's atime there. */
typedef struct LogindIdle {
	bool idle_hint;
	uint64_t idle_since_usec;
	bool graphical; /* Type x11, wayland or mir: the idle hint is explicit */
	char type[16];
	char tty[LOGIND_MAX_TTY];
} LogindIdle;

/* Connects to the system bus ($DBUS_SYSTEM_BUS_ADDRESS is honoured) and looks for logind.
 * No bus or no logind is not an error: *ret is usable and logind_available() says false. */
int logind_new(sd_event *event, Logind **ret);
void logind_free(Logind *l);
bool logind_available(const Logind *l);

/* A handle on one logind session: caches its object path and owns its one query in flight.
 * Freeing it cancels the query (the callback is then never called). */
int logind_session_new(Logind *l, const char *id, LogindSession **ret);
void logind_session_free(LogindSession *ls);
const char *logind_session_id(const LogindSession *ls);

/* facts is NULL when r < 0. */
typedef void (*LogindIdleFn)(const LogindIdle *facts, int r, void *userdata);
/* Asks for the session's idle facts (GetSession once, then its properties). -EBUSY while a
 * query is in flight, -ENOTCONN without logind. */
int logind_session_query(LogindSession *ls, LogindIdleFn cb, void *userdata);

/* Fire and forget: errors (polkit refusal, unknown session) are logged when they arrive. */
int logind_lock_session(Logind *l, const char *id);
int logind_terminate_session(Logind *l, const char *id);

/* PowerOff(interactive=false). done gets 0 or the -errno logind answered with; it is not
 * called when the request is cancelled by logind_power_off_cancel() or logind_free(). */
typedef void (*LogindDoneFn)(int r, void *userdata);
int logind_power_off(Logind *l, LogindDoneFn done, void *userdata);
void logind_power_off_cancel(Logind *l);
