/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * logind: sd-bus client of systemd-logind on the daemon's event loop. Owns the system bus
 * connection and the calls in flight; decides nothing and never signals a process. Every
 * call is asynchronous so that a slow logind (or polkit behind it) cannot stall logins.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>

#include "log.h"
#include "logind.h"

#define LOGIND_SERVICE  "org.freedesktop.login1"
#define LOGIND_PATH     "/org/freedesktop/login1"
#define LOGIND_MANAGER  "org.freedesktop.login1.Manager"
#define LOGIND_SESSION  "org.freedesktop.login1.Session"
#define DBUS_PROPERTIES "org.freedesktop.DBus.Properties"
/* Bounds every call: an unanswered request must not keep a query slot busy forever. */
#define LOGIND_TIMEOUT_USEC (5 * 1000000ULL)

struct Logind {
	sd_bus *bus;
	sd_bus_slot *name_watch;
	sd_bus_slot *power_slot;
	LogindDoneFn power_done;
	void *power_userdata;
	bool available;
};

struct LogindSession {
	Logind *logind;
	char id[LOGIND_MAX_ID + 1];
	char *path; /* from GetSession, cached */
	sd_bus_slot *slot;
	LogindIdleFn cb;
	void *userdata;
};

static int
logind_name_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	Logind *l = userdata;
	const char *name = NULL, *old_owner = NULL, *new_owner = NULL;
	if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 || !name ||
	    strcmp(name, LOGIND_SERVICE) != 0)
		return 0;
	bool now = new_owner && new_owner[0];
	if (now != l->available)
		log_info("%s", now ? "logind appeared on the bus: logind available"
		                   : "logind left the bus: idle from tty atime, sessions ended by "
		                     "signalling their leader");
	l->available = now;
	return 0;
}

int
logind_new(sd_event *event, Logind **ret)
{
	Logind *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	int r = sd_bus_open_system(&l->bus);
	if (r < 0) {
		errno = -r;
		log_info("No system bus (%m)");
		l->bus = NULL;
		goto done;
	}
	(void)sd_bus_set_method_call_timeout(l->bus, LOGIND_TIMEOUT_USEC);
	r = sd_bus_attach_event(l->bus, event, SD_EVENT_PRIORITY_NORMAL);
	if (r < 0) {
		logind_free(l);
		return log_error_errno(r, "Failed to attach the system bus to the event loop: %m");
	}
	r = sd_bus_add_match(l->bus, &l->name_watch,
	                     "type='signal',sender='org.freedesktop.DBus',"
	                     "path='/org/freedesktop/DBus',interface='org.freedesktop.DBus',"
	                     "member='NameOwnerChanged',arg0='" LOGIND_SERVICE "'",
	                     logind_name_changed, l);
	if (r < 0)
		log_warning("Cannot watch logind on the bus: %s", strerror(-r));

	/* One blocking call at start, bounded by the call timeout: the answer decides what
	 * the daemon says it can do before it serves anyone. */
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	r = sd_bus_call_method(l->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
	                       "org.freedesktop.DBus", "NameHasOwner", &err, &reply, "s",
	                       LOGIND_SERVICE);
	int has = 0;
	if (r >= 0 && sd_bus_message_read(reply, "b", &has) >= 0)
		l->available = has;
	else
		log_info("Cannot ask the bus for logind: %s", err.message ? err.message : "error");
	sd_bus_message_unref(reply);
	sd_bus_error_free(&err);
done:
	if (l->available)
		log_info("logind available");
	else
		log_info(
		    "no logind: idle from tty atime, sessions ended by signalling their leader");
	*ret = l;
	return 0;
}

void
logind_free(Logind *l)
{
	if (!l)
		return;
	sd_bus_slot_unref(l->power_slot);
	sd_bus_slot_unref(l->name_watch);
	/* Flush, so that a TerminateSession asked for just before shutdown still goes out. */
	sd_bus_flush_close_unref(l->bus);
	free(l);
}

bool
logind_available(const Logind *l)
{
	return l && l->bus && l->available && sd_bus_is_open(l->bus) > 0;
}

int
logind_session_new(Logind *l, const char *id, LogindSession **ret)
{
	if (!l || !id || !id[0] || strlen(id) > LOGIND_MAX_ID)
		return -EINVAL;
	LogindSession *ls = calloc(1, sizeof(*ls));
	if (!ls)
		return -ENOMEM;
	ls->logind = l;
	memcpy(ls->id, id, strlen(id) + 1);
	*ret = ls;
	return 0;
}

void
logind_session_free(LogindSession *ls)
{
	if (!ls)
		return;
	sd_bus_slot_unref(ls->slot);
	free(ls->path);
	free(ls);
}

const char *
logind_session_id(const LogindSession *ls)
{
	return ls->id;
}

static void
logind_copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

/* a{sv} of org.freedesktop.login1.Session: only the idle facts, everything else skipped. */
static int
logind_parse_props(sd_bus_message *m, LogindIdle *ret)
{
	LogindIdle f = { 0 };
	int r = sd_bus_message_enter_container(m, 'a', "{sv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		const char *name = NULL, *str = NULL;
		if ((r = sd_bus_message_read(m, "s", &name)) < 0)
			return r;
		if (strcmp(name, "IdleHint") == 0) {
			int b = 0;
			r = sd_bus_message_read(m, "v", "b", &b);
			f.idle_hint = b;
		} else if (strcmp(name, "IdleSinceHint") == 0)
			r = sd_bus_message_read(m, "v", "t", &f.idle_since_usec);
		else if (strcmp(name, "Type") == 0) {
			r = sd_bus_message_read(m, "v", "s", &str);
			if (r >= 0)
				logind_copy(f.type, sizeof(f.type), str);
		} else if (strcmp(name, "TTY") == 0) {
			r = sd_bus_message_read(m, "v", "s", &str);
			if (r >= 0)
				logind_copy(f.tty, sizeof(f.tty), str);
		} else
			r = sd_bus_message_skip(m, "v");
		if (r < 0)
			return r;
		if ((r = sd_bus_message_exit_container(m)) < 0)
			return r;
	}
	if (r < 0)
		return r;
	if ((r = sd_bus_message_exit_container(m)) < 0)
		return r;
	f.graphical = strcmp(f.type, "x11") == 0 || strcmp(f.type, "wayland") == 0 ||
	              strcmp(f.type, "mir") == 0;
	*ret = f;
	return 0;
}

static int
logind_reply_errno(sd_bus_message *m)
{
	const sd_bus_error *e = sd_bus_message_get_error(m);
	int r = sd_bus_error_get_errno(e);
	return r > 0 ? -r : -EIO;
}

static void
logind_session_done(LogindSession *ls, const LogindIdle *facts, int r)
{
	LogindIdleFn cb = ls->cb;
	void *userdata = ls->userdata;
	ls->cb = NULL;
	/* Last thing: the callback may free ls. */
	if (cb)
		cb(facts, r, userdata);
}

static int
logind_on_props(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	LogindSession *ls = userdata;
	ls->slot = sd_bus_slot_unref(ls->slot);
	if (sd_bus_message_is_method_error(m, NULL)) {
		/* The session object is gone or renamed: resolve the path again next time. */
		ls->path = (free(ls->path), NULL);
		logind_session_done(ls, NULL, logind_reply_errno(m));
		return 0;
	}
	LogindIdle f;
	int r = logind_parse_props(m, &f);
	logind_session_done(ls, r < 0 ? NULL : &f, r < 0 ? r : 0);
	return 0;
}

static int
logind_get_props(LogindSession *ls)
{
	return sd_bus_call_method_async(ls->logind->bus, &ls->slot, LOGIND_SERVICE, ls->path,
	                                DBUS_PROPERTIES, "GetAll", logind_on_props, ls, "s",
	                                LOGIND_SESSION);
}

static int
logind_on_path(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	LogindSession *ls = userdata;
	ls->slot = sd_bus_slot_unref(ls->slot);
	const char *path = NULL;
	int r;
	if (sd_bus_message_is_method_error(m, NULL))
		r = logind_reply_errno(m);
	else if ((r = sd_bus_message_read(m, "o", &path)) >= 0 && !(ls->path = strdup(path)))
		r = -ENOMEM;
	if (r >= 0)
		r = logind_get_props(ls);
	if (r < 0)
		logind_session_done(ls, NULL, r);
	return 0;
}

int
logind_session_query(LogindSession *ls, LogindIdleFn cb, void *userdata)
{
	if (!logind_available(ls->logind))
		return -ENOTCONN;
	if (ls->slot)
		return -EBUSY;
	ls->cb = cb;
	ls->userdata = userdata;
	int r;
	if (ls->path)
		r = logind_get_props(ls);
	else
		r = sd_bus_call_method_async(ls->logind->bus, &ls->slot, LOGIND_SERVICE,
		                             LOGIND_PATH, LOGIND_MANAGER, "GetSession",
		                             logind_on_path, ls, "s", ls->id);
	if (r < 0)
		ls->cb = NULL;
	return r;
}

/* The userdata of a fire-and-forget call: what was asked, for the log line. */
typedef struct LogindAsk {
	char method[24];
	char id[LOGIND_MAX_ID + 1];
} LogindAsk;

static int
logind_on_ask(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	const LogindAsk *a = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(m);
	if (e)
		log_warning("logind refused %s(%s): %s: %s", a->method, a->id,
		            e->name ? e->name : "error", e->message ? e->message : "");
	else
		log_debug("logind did %s(%s)", a->method, a->id);
	return 0;
}

static int
logind_ask(Logind *l, const char *method, const char *id)
{
	if (!logind_available(l))
		return -ENOTCONN;
	LogindAsk *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	logind_copy(a->method, sizeof(a->method), method);
	logind_copy(a->id, sizeof(a->id), id);
	sd_bus_slot *slot = NULL;
	int r = sd_bus_call_method_async(l->bus, &slot, LOGIND_SERVICE, LOGIND_PATH, LOGIND_MANAGER,
	                                 method, logind_on_ask, a, "s", id);
	if (r < 0) {
		free(a);
		return r;
	}
	/* The bus owns the slot from here; the destroy callback frees a when the reply came
	 * or the bus closed, whichever is first. */
	(void)sd_bus_slot_set_destroy_callback(slot, free);
	(void)sd_bus_slot_set_floating(slot, 1);
	sd_bus_slot_unref(slot);
	return 0;
}

int
logind_lock_session(Logind *l, const char *id)
{
	return logind_ask(l, "LockSession", id);
}

int
logind_terminate_session(Logind *l, const char *id)
{
	return logind_ask(l, "TerminateSession", id);
}

static int
logind_on_power_off(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	Logind *l = userdata;
	l->power_slot = sd_bus_slot_unref(l->power_slot);
	const sd_bus_error *e = sd_bus_message_get_error(m);
	if (e)
		log_warning("logind refused PowerOff: %s: %s", e->name ? e->name : "error",
		            e->message ? e->message : "");
	LogindDoneFn done = l->power_done;
	l->power_done = NULL;
	if (done)
		done(e ? logind_reply_errno(m) : 0, l->power_userdata);
	return 0;
}

int
logind_power_off(Logind *l, LogindDoneFn done, void *userdata)
{
	if (!logind_available(l))
		return -ENOTCONN;
	if (l->power_slot)
		return -EBUSY;
	l->power_done = done;
	l->power_userdata = userdata;
	return sd_bus_call_method_async(l->bus, &l->power_slot, LOGIND_SERVICE, LOGIND_PATH,
	                                LOGIND_MANAGER, "PowerOff", logind_on_power_off, l, "b", 0);
}

void
logind_power_off_cancel(Logind *l)
{
	if (!l)
		return;
	l->power_slot = sd_bus_slot_unref(l->power_slot);
	l->power_done = NULL;
}
