/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * incidents: R17. Counts events per rule (and per person where that makes sense) over a
 * sliding window, raises incidents into the audit trail and tells the emergency contact by
 * running the policy's notify command, once per rule (and person) per window. Memory is
 * bounded: a fixed number of people and of event times per rule. The notify command is
 * started without a shell (posix_spawn), in its own process group, with the incident JSON
 * on stdin, nothing else open, and is killed after INCIDENTS_NOTIFY_TIMEOUT_USEC. This
 * module must never put a search key, a template or a secret into a record or the JSON,
 * and never block the loop: it neither waits for nor writes to the child.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "clock.h"
#include "incidents.h"
#include "log.h"
#include "manager.h"
#include "policy.h"
#include "record.h"

#define USEC_PER_SEC       1000000LL
#define INCIDENTS_RECENT   64
#define INCIDENTS_JSON_MAX 4096
/* How long past the command's own timeout the notify service may take to answer. */
#define NOTIFY_SOCKET_GRACE_SEC 5ULL

typedef struct RuleDef {
	const char *name;
	bool per_person; /* keyed by matching ID; otherwise one key for everyone */
	bool threshold;  /* fires at a threshold once per window; otherwise on every event */
} RuleDef;

static const RuleDef rule_defs[] = {
	{ INCIDENT_RESIDENT_CODE_SEARCH, true, false }, { INCIDENT_FORBIDDEN_SEARCHES, true, true },
	{ INCIDENT_FAILED_MATCHES, false, true },       { INCIDENT_AUDIT_TAMPERED, false, false },
	{ INCIDENT_STORAGE_BLOCKED, false, false },     { INCIDENT_STATE_SPACE_LOW, false, false },
	{ INCIDENT_FLEET_CONFLICT, true, false },       { INCIDENT_DUPLICATE_FINGER, true, false },
};
#define N_RULES (sizeof(rule_defs) / sizeof(rule_defs[0]))

typedef struct Key {
	char id[WIRE_MAX_ID + 1]; /* matching ID, or "" for the rule as a whole */
	bool fired, notified;
	int64_t fired_at, notified_at; /* CLOCK_MONOTONIC usec */
	int64_t last_event;
} Key;

typedef struct Event {
	int64_t t; /* CLOCK_MONOTONIC usec */
	uint32_t key;
} Event;

typedef struct Rule {
	const RuleDef *def;
	Key *keys;
	size_t n_keys;
	Event *ev; /* ring, oldest at head */
	size_t ev_cap, ev_head, ev_n;
} Rule;

typedef struct Recent {
	const char *rule;
	char matching_id[WIRE_MAX_ID + 1];
	unsigned count;
	int64_t first, last; /* CLOCK_REALTIME usec */
	int64_t raised;      /* CLOCK_MONOTONIC usec */
	bool notified;
} Recent;

/* An incident waiting for its audit record to be durable before the contact is told. */
typedef struct Pending {
	Incidents *owner; /* NULL once incidents_free() ran */
	struct Pending *next, *prev;
	char rule[64];
	char matching_id[WIRE_MAX_ID + 1];
	bool notify;
	json_object *json;
} Pending;

typedef struct Notify {
	Incidents *owner;
	struct Notify *next, *prev;
	pid_t pid;
	sd_event_source *child, *timer;
	char rule[64];
	char matching_id[WIRE_MAX_ID + 1];
	bool timed_out;
	/* Through biogate-notify.socket: the connection, and the one line it answers. */
	int fd;
	sd_event_source *io;
	char answer[64];
	size_t got;
} Notify;

struct Incidents {
	Manager *manager;
	Rule rules[N_RULES];
	Recent recent[INCIDENTS_RECENT];
	size_t recent_next, recent_n;
	Pending *pending;
	Notify *running;
	unsigned n_running;
};

/* --- settings and small helpers -------------------------------------------------------- */

static const PolicySettings *
incidents_settings(const Incidents *i)
{
	/* The built-in defaults of policy.h, for a daemon (or test) without a policy. */
	static const PolicySettings defaults = {
		.incident_window_sec = 3600,
		.forbidden_search_threshold = 3,
		.failed_match_threshold = 5,
	};
	const PolicySettings *p = i->manager->policy ? policy_settings(i->manager->policy) : NULL;
	return p ? p : &defaults;
}

static uint32_t
rule_threshold(const Incidents *i, const RuleDef *def)
{
	const PolicySettings *s = incidents_settings(i);
	if (!def->threshold)
		return 1;
	uint32_t t = strcmp(def->name, INCIDENT_FORBIDDEN_SEARCHES) == 0
	                 ? s->forbidden_search_threshold
	                 : s->failed_match_threshold;
	return t ? t : 1;
}

static void
format_time(int64_t real_usec, char buf[static 32])
{
	time_t t = (time_t)(real_usec / USEC_PER_SEC);
	struct tm tm;
	if (!gmtime_r(&t, &tm) || strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, 32, "unknown");
}

/* Copies at most max bytes of valid UTF-8 without control characters; anything else becomes
 * '?'. The audit trail refuses invalid text, and an incident must never be lost to it. */
static void
sanitize_text(const char *in, char *out, size_t max)
{
	size_t o = 0;
	const unsigned char *s = (const unsigned char *)in;
	while (*s && o < max) {
		size_t n = *s < 0x80             ? 1
		           : (*s & 0xe0) == 0xc0 ? 2
		           : (*s & 0xf0) == 0xe0 ? 3
		           : (*s & 0xf8) == 0xf0 ? 4
		                                 : 0;
		bool ok = n > 0 && (n > 1 || (*s >= 0x20 && *s != 0x7f));
		for (size_t k = 1; ok && k < n; k++)
			ok = (s[k] & 0xc0) == 0x80;
		/* Overlong forms and surrogates are invalid too. */
		if (ok && n == 2)
			ok = *s >= 0xc2;
		if (ok && n == 3)
			ok = !(*s == 0xe0 && s[1] < 0xa0) && !(*s == 0xed && s[1] >= 0xa0);
		if (ok && n == 4)
			ok = *s <= 0xf4 && !(*s == 0xf0 && s[1] < 0x90) &&
			     !(*s == 0xf4 && s[1] >= 0x90);
		if (!ok) {
			out[o++] = '?';
			s++;
			continue;
		}
		if (o + n > max)
			break;
		memcpy(out + o, s, n);
		o += n;
		s += n;
	}
	out[o] = '\0';
}

/* --- the sliding window -------------------------------------------------------------------- */

static Event *
rule_event(Rule *r, size_t idx)
{
	return &r->ev[(r->ev_head + idx) % r->ev_cap];
}

static int
rule_reserve(Rule *r, size_t cap)
{
	if (r->ev_cap >= cap)
		return 0;
	Event *n = calloc(cap, sizeof(*n));
	if (!n)
		return -ENOMEM;
	for (size_t k = 0; k < r->ev_n; k++)
		n[k] = *rule_event(r, k);
	free(r->ev);
	r->ev = n;
	r->ev_cap = cap;
	r->ev_head = 0;
	return 0;
}

/* Drops every event of key k (the key is being reused for someone else). */
static void
rule_forget_key(Rule *r, uint32_t k)
{
	size_t w = 0;
	for (size_t x = 0; x < r->ev_n; x++) {
		Event e = *rule_event(r, x);
		if (e.key != k)
			*rule_event(r, w++) = e;
	}
	r->ev_n = w;
}

static int
rule_key(Rule *r, const char *id, int64_t now)
{
	for (size_t k = 0; k < r->n_keys; k++)
		if (strcmp(r->keys[k].id, id) == 0)
			return (int)k;
	size_t k;
	if (r->n_keys < INCIDENTS_KEYS_MAX) {
		if (!r->keys) {
			r->keys = calloc(INCIDENTS_KEYS_MAX, sizeof(Key));
			if (!r->keys)
				return -ENOMEM;
		}
		k = r->n_keys++;
	} else {
		/* Full: forget whoever has been quiet longest. */
		k = 0;
		for (size_t x = 1; x < r->n_keys; x++)
			if (r->keys[x].last_event < r->keys[k].last_event)
				k = x;
		rule_forget_key(r, (uint32_t)k);
	}
	r->keys[k] = (Key){ .last_event = now };
	snprintf(r->keys[k].id, sizeof(r->keys[k].id), "%s", id);
	return (int)k;
}

static void
rule_push(Rule *r, uint32_t k, int64_t now)
{
	if (r->ev_n == r->ev_cap) {
		r->ev_head = (r->ev_head + 1) % r->ev_cap;
		r->ev_n--;
	}
	*rule_event(r, r->ev_n++) = (Event){ .t = now, .key = k };
}

/* Events of key k within (now - window, now], and the oldest of them. */
static unsigned
rule_count(Rule *r, uint32_t k, int64_t now, int64_t window, int64_t *ret_first)
{
	unsigned n = 0;
	int64_t first = now;
	for (size_t x = r->ev_n; x > 0; x--) {
		Event *e = rule_event(r, x - 1);
		if (now - e->t >= window)
			break;
		if (e->key == k) {
			n++;
			first = e->t;
		}
	}
	*ret_first = first;
	return n;
}

/* --- notify ------------------------------------------------------------------------------ */

static void
incidents_record_notify(Incidents *i, const Notify *n, const char *outcome, const char *reason,
                        int status)
{
	Manager *m = i->manager;
	if (!m->audit)
		return;
	char detail[128];
	snprintf(detail, sizeof(detail), "{\"rule\":\"%s\",\"status\":%d}", n->rule, status);
	AuditRecord rec = { .matching_id = n->matching_id[0] ? n->matching_id : NULL,
		            .action = "incident.notify",
		            .outcome = outcome,
		            .reason = reason,
		            .detail = detail };
	int r = record_append(m, NULL, &rec, NULL, NULL);
	if (r < 0)
		log_error("The notify record of incident %s could not be queued: %s", n->rule,
		          strerror(-r));
}

static void
notify_free(Notify *n)
{
	if (!n)
		return;
	if (n->owner) {
		if (n->prev)
			n->prev->next = n->next;
		else
			n->owner->running = n->next;
		if (n->next)
			n->next->prev = n->prev;
		n->owner->n_running--;
	}
	sd_event_source_unref(n->timer);
	sd_event_source_unref(n->child);
	sd_event_source_unref(n->io);
	if (n->fd >= 0)
		close(n->fd);
	free(n);
}

static int
notify_on_exit(sd_event_source *s, const siginfo_t *si, void *userdata)
{
	Notify *n = userdata;
	Incidents *i = n->owner;
	if (si->si_code == CLD_EXITED && si->si_status == 0) {
		log_info("Incident %s: the notify command succeeded", n->rule);
		incidents_record_notify(i, n, "ok", NULL, 0);
	} else if (n->timed_out) {
		log_error("Incident %s: the notify command did not finish within %llu s and was "
		          "killed",
		          n->rule, INCIDENTS_NOTIFY_TIMEOUT_USEC / 1000000ULL);
		incidents_record_notify(i, n, "fail", "timeout", -1);
	} else if (si->si_code == CLD_EXITED) {
		log_error("Incident %s: the notify command failed with status %d", n->rule,
		          si->si_status);
		incidents_record_notify(i, n, "fail", "exit-status", si->si_status);
	} else {
		log_error("Incident %s: the notify command died of signal %d", n->rule,
		          si->si_status);
		incidents_record_notify(i, n, "fail", "signal", si->si_status);
	}
	/* sd-event reaps the child once this handler returns. */
	notify_free(n);
	return 0;
}

static int
notify_on_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	Notify *n = userdata;
	n->timed_out = true;
	if (n->io) {
		/* biogate-notify kills the command at its own timeout; it did not answer. */
		log_error("Incident %s: the notify service did not answer within %llu s", n->rule,
		          INCIDENTS_NOTIFY_TIMEOUT_USEC / 1000000ULL + NOTIFY_SOCKET_GRACE_SEC);
		incidents_record_notify(n->owner, n, "fail", "timeout", -1);
		notify_free(n);
		return 0;
	}
	/* The whole process group: a script's own children must not outlive it. The leader is
	 * not reaped before notify_on_exit, so its group id cannot have been reused. */
	if (kill(-n->pid, SIGKILL) < 0)
		(void)sd_event_source_send_child_signal(n->child, SIGKILL, NULL, 0);
	return 0;
}

/* The command runs as the daemon does, so it must be a file only root (or we) can change. */
static int
notify_check_command(const char *path)
{
	struct stat st;
	if (path[0] != '/')
		return -EINVAL;
	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || !(st.st_mode & S_IXUSR))
		return -EACCES;
	if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return -EPERM;
	return 0;
}

static int
notify_spawn(const char *path, const char *json, pid_t *ret_pid)
{
	int fd = memfd_create("biogate-incident", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t len = strlen(json);
	if (write(fd, json, len) != (ssize_t)len || write(fd, "\n", 1) != 1 ||
	    lseek(fd, 0, SEEK_SET) != 0) {
		int r = -errno ? -errno : -EIO;
		close(fd);
		return r;
	}

	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int r = posix_spawn_file_actions_init(&fa);
	if (r != 0) {
		close(fd);
		return -r;
	}
	r = posix_spawnattr_init(&attr);
	if (r != 0) {
		posix_spawn_file_actions_destroy(&fa);
		close(fd);
		return -r;
	}
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	r = posix_spawn_file_actions_adddup2(&fa, fd, STDIN_FILENO);
	r = r ?: posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	r = r ?: posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
	/* Nothing of the daemon's (database, sockets, keys) may reach the command. */
	r = r ?: posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
	/* biogated blocks SIGCHLD, SIGTERM and SIGINT and ignores SIGPIPE: the child gets
	 * the defaults back. Its own group lets a timeout kill what it started, too. */
	r = r ?: posix_spawnattr_setsigmask(&attr, &none);
	r = r ?: posix_spawnattr_setsigdefault(&attr, &all);
	r = r ?: posix_spawnattr_setpgroup(&attr, 0);
	r = r
	        ?: posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
	                                               POSIX_SPAWN_SETPGROUP);
	if (r == 0) {
		char arg0[POLICY_MAX_NOTIFY], env_path[] = "PATH=/usr/local/bin:/usr/bin:/bin",
		                              env_lang[] = "LANG=C.UTF-8";
		snprintf(arg0, sizeof(arg0), "%s", path);
		char *argv[] = { arg0, NULL };
		char *envp[] = { env_path, env_lang, NULL };
		r = posix_spawn(ret_pid, path, &fa, &attr, argv, envp);
	}
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	close(fd);
	return -r;
}

static void
incidents_link_notify(Incidents *i, Notify *n)
{
	n->owner = i;
	n->next = i->running;
	if (n->next)
		n->next->prev = n;
	i->running = n;
	i->n_running++;
}

/* --- notify through biogate-notify.socket ---------------------------------------------------
 * Under systemd the command runs in biogate-notify@.service, outside this daemon's sandbox
 * (no IP here): the socket is there when the package installed it; without it (tests,
 * containers, a plain `cmake --install`) the command is started here as before. */

static int
notify_on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	Notify *n = userdata;
	Incidents *i = n->owner;
	for (;;) {
		ssize_t k = read(fd, n->answer + n->got, sizeof(n->answer) - 1 - n->got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN)
			return 0;
		if (k > 0) {
			n->got += (size_t)k;
			if (n->got < sizeof(n->answer) - 1)
				continue;
		}
		break;
	}
	n->answer[n->got] = '\0';
	char *nl = strchr(n->answer, '\n');
	if (nl)
		*nl = '\0';
	int v = 0;
	if (strcmp(n->answer, "exited 0") == 0) {
		log_info("Incident %s: the notify command succeeded", n->rule);
		incidents_record_notify(i, n, "ok", NULL, 0);
	} else if (sscanf(n->answer, "exited %d", &v) == 1) {
		log_error("Incident %s: the notify command failed with status %d", n->rule, v);
		incidents_record_notify(i, n, "fail", "exit-status", v);
	} else if (sscanf(n->answer, "signal %d", &v) == 1) {
		log_error("Incident %s: the notify command died of signal %d", n->rule, v);
		incidents_record_notify(i, n, "fail", "signal", v);
	} else if (strcmp(n->answer, "timeout") == 0) {
		log_error("Incident %s: the notify command did not finish within %llu s and was "
		          "killed",
		          n->rule, INCIDENTS_NOTIFY_TIMEOUT_USEC / 1000000ULL);
		incidents_record_notify(i, n, "fail", "timeout", -1);
	} else if (strcmp(n->answer, "refused bad-command") == 0) {
		log_error("Incident %s: the notify service refused the command (see its log)",
		          n->rule);
		incidents_record_notify(i, n, "fail", "bad-command", -1);
	} else {
		log_error("Incident %s: the notify service failed (%s)", n->rule,
		          n->answer[0] ? n->answer : "no answer");
		incidents_record_notify(i, n, "fail", "spawn", -1);
	}
	notify_free(n);
	return 0;
}

/* 1: handed to the service (n is watched), 0: no service here, -errno: it failed. */
static int
notify_via_socket(Incidents *i, Notify *n, const char *cmd, const char *json)
{
	Manager *m = i->manager;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (!m->runtime_dir ||
	    (size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", m->runtime_dir,
	                     INCIDENTS_NOTIFY_SOCKET) >= sizeof(sa.sun_path))
		return 0;
	struct stat st;
	if (lstat(sa.sun_path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return 0;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A local stream socket with Accept=yes: connect and these few KiB do not wait. */
	char head[POLICY_MAX_NOTIFY + 64];
	int hl = snprintf(head, sizeof(head), "biogate-notify 1 %llu %s\n",
	                  INCIDENTS_NOTIFY_TIMEOUT_USEC / 1000000ULL, cmd);
	size_t jl = strlen(json);
	int r = 0;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    send(fd, head, (size_t)hl, MSG_NOSIGNAL) != hl ||
	    send(fd, json, jl, MSG_NOSIGNAL) != (ssize_t)jl ||
	    send(fd, "\n", 1, MSG_NOSIGNAL) != 1 || shutdown(fd, SHUT_WR) < 0 ||
	    fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		r = -errno;
	if (r == 0)
		r = sd_event_add_io(m->event, &n->io, fd, EPOLLIN, notify_on_io, n);
	if (r == 0)
		r = sd_event_add_time_relative(m->event, &n->timer, CLOCK_MONOTONIC,
		                               INCIDENTS_NOTIFY_TIMEOUT_USEC +
		                                   NOTIFY_SOCKET_GRACE_SEC * 1000000ULL,
		                               0, notify_on_timeout, n);
	if (r < 0) {
		n->io = sd_event_source_unref(n->io);
		close(fd);
		return r;
	}
	n->fd = fd;
	return 1;
}

static void
incidents_notify(Incidents *i, const char *rule, const char *matching_id, const char *json)
{
	Manager *m = i->manager;
	const char *cmd = incidents_settings(i)->notify;
	Notify probe = { 0 };
	snprintf(probe.rule, sizeof(probe.rule), "%s", rule);
	snprintf(probe.matching_id, sizeof(probe.matching_id), "%s",
	         matching_id ? matching_id : "");
	if (!cmd[0])
		return;
	if (i->n_running >= INCIDENTS_NOTIFY_RUNNING_MAX) {
		log_error("Incident %s: %u notify commands still running; not starting another",
		          rule, i->n_running);
		return incidents_record_notify(i, &probe, "fail", "too-many-running", -1);
	}
	int r = notify_check_command(cmd);
	if (r < 0) {
		log_error("Incident %s: refusing to run the notify command %s: %s", rule, cmd,
		          r == -EPERM ? "others can change it" : strerror(-r));
		return incidents_record_notify(i, &probe, "fail", "bad-command", -1);
	}
	Notify *n = calloc(1, sizeof(*n));
	if (!n)
		return incidents_record_notify(i, &probe, "fail", "spawn", -1);
	*n = probe;
	n->fd = -1;
	r = notify_via_socket(i, n, cmd, json);
	if (r < 0) {
		log_error("Incident %s: the notify service could not be reached: %s", rule,
		          strerror(-r));
		free(n);
		return incidents_record_notify(i, &probe, "fail", "spawn", -1);
	}
	if (r > 0) {
		incidents_link_notify(i, n);
		log_info("Incident %s: handed to the notify service", rule);
		return;
	}
	r = notify_spawn(cmd, json, &n->pid);
	if (r < 0) {
		log_error("Incident %s: the notify command %s could not be started: %s", rule, cmd,
		          strerror(-r));
		free(n);
		return incidents_record_notify(i, &probe, "fail", "spawn", -1);
	}
	r = sd_event_add_child(m->event, &n->child, n->pid, WEXITED, notify_on_exit, n);
	if (r >= 0)
		r = sd_event_add_time_relative(m->event, &n->timer, CLOCK_MONOTONIC,
		                               INCIDENTS_NOTIFY_TIMEOUT_USEC, 0, notify_on_timeout,
		                               n);
	if (r < 0) {
		/* Unwatched, it would run unbounded: stop it now. */
		log_error("Incident %s: cannot watch the notify command: %s", rule, strerror(-r));
		(void)kill(-n->pid, SIGKILL);
		if (!n->child)
			(void)waitpid(n->pid, NULL, 0);
		else
			(void)sd_event_source_set_child_process_own(n->child, true);
		sd_event_source_unref(n->child);
		free(n);
		return incidents_record_notify(i, &probe, "fail", "spawn", -1);
	}
	incidents_link_notify(i, n);
	log_info("Incident %s: notify command started (pid %d)", rule, (int)n->pid);
}

/* --- raising an incident -------------------------------------------------------------------- */

static void
pending_free(Pending *p)
{
	if (p->owner) {
		if (p->prev)
			p->prev->next = p->next;
		else
			p->owner->pending = p->next;
		if (p->next)
			p->next->prev = p->prev;
	}
	json_object_put(p->json);
	free(p);
}

static void
incident_recorded(int r, int64_t seq, void *userdata)
{
	Pending *p = userdata;
	Incidents *i = p->owner;
	if (r < 0)
		log_error("The record of incident %s could not be written: %s", p->rule,
		          strerror(-r));
	/* The contact is told even when the trail failed: that is an incident of its own. */
	if (i && p->notify) {
		if (r >= 0)
			json_object_object_add(p->json, "seq", json_object_new_int64(seq));
		incidents_notify(i, p->rule, p->matching_id,
		                 json_object_to_json_string_ext(p->json, JSON_C_TO_STRING_PLAIN));
	}
	pending_free(p);
}

static void
incidents_raise(Incidents *i, const RuleDef *def, const char *matching_id, const char *operator_id,
                const char *situation, unsigned count, int64_t first_mono, int64_t now_mono,
                bool notify)
{
	Manager *m = i->manager;
	int64_t now_real = now_real_usec();
	int64_t window = (int64_t)incidents_settings(i)->incident_window_sec;
	char first[32], last[32];
	int64_t first_real = now_real - (now_mono - first_mono);
	format_time(first_real, first);
	format_time(now_real, last);

	json_object *d = json_object_new_object();
	if (!d)
		return;
	json_object_object_add(d, "count", json_object_new_int64(count));
	json_object_object_add(d, "window_sec", json_object_new_int64(window));
	json_object_object_add(d, "terminal", json_object_new_string(m->terminal));
	json_object_object_add(d, "situation",
	                       situation ? json_object_new_string(situation) : NULL);
	json_object_object_add(d, "first", json_object_new_string(first));
	json_object_object_add(d, "last", json_object_new_string(last));
	const char *detail = json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN);

	log_warning("Incident %s%s%s: %u in %llds on %s%s%s", def->name, matching_id ? " for " : "",
	            matching_id ? matching_id : "", count, (long long)window, m->terminal,
	            situation ? ": " : "", situation ? situation : "");

	Recent *rc = &i->recent[i->recent_next];
	*rc = (Recent){ .rule = def->name,
		        .count = count,
		        .first = first_real,
		        .last = now_real,
		        .raised = now_mono,
		        .notified = notify && incidents_settings(i)->notify[0] };
	snprintf(rc->matching_id, sizeof(rc->matching_id), "%s", matching_id ? matching_id : "");
	i->recent_next = (i->recent_next + 1) % INCIDENTS_RECENT;
	if (i->recent_n < INCIDENTS_RECENT)
		i->recent_n++;

	Pending *p = calloc(1, sizeof(*p));
	if (!p) {
		json_object_put(d);
		return;
	}
	snprintf(p->rule, sizeof(p->rule), "%s", def->name);
	snprintf(p->matching_id, sizeof(p->matching_id), "%s", matching_id ? matching_id : "");
	p->notify = notify;
	if (notify) {
		/* What the contact reads: the record's content plus who and what, as JSON. */
		p->json = json_object_new_object();
		if (p->json) {
			json_object_object_add(p->json, "rule", json_object_new_string(def->name));
			json_object_object_add(p->json, "time", json_object_new_string(last));
			json_object_object_add(p->json, "matching_id",
			                       matching_id ? json_object_new_string(matching_id)
			                                   : NULL);
			json_object_object_add(p->json, "operator_id",
			                       operator_id ? json_object_new_string(operator_id)
			                                   : NULL);
			json_object_object_foreach(d, k, v)
			{
				json_object_object_add(p->json, k, json_object_get(v));
			}
		} else
			p->notify = false;
	}
	p->owner = i;
	p->next = i->pending;
	if (p->next)
		p->next->prev = p;
	i->pending = p;

	char action[96];
	snprintf(action, sizeof(action), "incident.%s", def->name);
	AuditRecord rec = { .time_usec = now_real,
		            .matching_id = matching_id,
		            .operator_id = operator_id,
		            .action = action,
		            .outcome = "incident",
		            .reason = def->name,
		            .detail = detail };
	if (m->audit)
		(void)record_append(m, NULL, &rec, incident_recorded, p);
	else
		incident_recorded(-ENODEV, 0, p);
	json_object_put(d);
}

void
incidents_note(Incidents *i, const char *rule, const char *matching_id, const char *operator_id,
               const char *situation)
{
	if (!i || !rule)
		return;
	size_t idx = 0;
	while (idx < N_RULES && strcmp(rule_defs[idx].name, rule) != 0)
		idx++;
	if (idx == N_RULES) {
		log_error("Ignoring an event of unknown incident rule '%.64s'", rule);
		return;
	}
	const RuleDef *def = &rule_defs[idx];
	Rule *r = &i->rules[idx];

	/* IDs come from the daemon's own checked state; anything else is not an ID. */
	if (matching_id && !wire_valid_id(matching_id))
		matching_id = NULL;
	if (operator_id && !wire_valid_id(operator_id))
		operator_id = NULL;
	char sit[INCIDENTS_SITUATION_MAX + 1];
	if (situation)
		sanitize_text(situation, sit, INCIDENTS_SITUATION_MAX);

	int64_t now = (int64_t)now_mono_usec();
	int64_t window = (int64_t)incidents_settings(i)->incident_window_sec * USEC_PER_SEC;
	if (window <= 0)
		window = 3600 * USEC_PER_SEC;
	uint32_t threshold = rule_threshold(i, def);
	size_t cap = threshold > INCIDENTS_EVENTS_MIN ? threshold : INCIDENTS_EVENTS_MIN;
	if (rule_reserve(r, cap) < 0) {
		log_error("Out of memory counting incident %s", def->name);
		return;
	}
	int k = rule_key(r, def->per_person && matching_id ? matching_id : "", now);
	if (k < 0) {
		log_error("Out of memory counting incident %s", def->name);
		return;
	}
	Key *key = &r->keys[k];
	key->last_event = now;
	rule_push(r, (uint32_t)k, now);

	int64_t first = now;
	unsigned count = rule_count(r, (uint32_t)k, now, window, &first);
	if (def->threshold && (count < threshold || (key->fired && now - key->fired_at < window)))
		return;
	key->fired = true;
	key->fired_at = now;
	bool notify = !key->notified || now - key->notified_at >= window;
	if (notify) {
		key->notified = true;
		key->notified_at = now;
	}
	incidents_raise(i, def, matching_id, operator_id, situation ? sit : NULL, count, first, now,
	                notify);
}

/* --- status, life cycle ------------------------------------------------------------------- */

json_object *
incidents_status(Incidents *i)
{
	json_object *o = json_object_new_object();
	json_object *arr = json_object_new_array();
	if (!o || !arr) {
		json_object_put(o);
		json_object_put(arr);
		return NULL;
	}
	int64_t now = (int64_t)now_mono_usec();
	int64_t window = (int64_t)incidents_settings(i)->incident_window_sec * USEC_PER_SEC;
	size_t start = (i->recent_next + INCIDENTS_RECENT - i->recent_n) % INCIDENTS_RECENT;
	for (size_t x = 0; x < i->recent_n; x++) {
		const Recent *rc = &i->recent[(start + x) % INCIDENTS_RECENT];
		if (now - rc->raised >= window)
			continue;
		char first[32], last[32];
		format_time(rc->first, first);
		format_time(rc->last, last);
		json_object *e = json_object_new_object();
		json_object_object_add(e, "rule", json_object_new_string(rc->rule));
		json_object_object_add(e, "matching_id",
		                       rc->matching_id[0] ? json_object_new_string(rc->matching_id)
		                                          : NULL);
		json_object_object_add(e, "count", json_object_new_int64(rc->count));
		json_object_object_add(e, "first", json_object_new_string(first));
		json_object_object_add(e, "last", json_object_new_string(last));
		json_object_object_add(e, "notified", json_object_new_boolean(rc->notified));
		json_object_array_add(arr, e);
	}
	json_object_object_add(o, "incidents", arr);
	return o;
}

unsigned
incidents_notify_running(const Incidents *i)
{
	return i ? i->n_running : 0;
}

int
incidents_new(Manager *m, Incidents **ret)
{
	if (!m || !m->event || !ret)
		return -EINVAL;
	Incidents *i = calloc(1, sizeof(*i));
	if (!i)
		return -ENOMEM;
	i->manager = m;
	for (size_t k = 0; k < N_RULES; k++)
		i->rules[k].def = &rule_defs[k];
	*ret = i;
	return 0;
}

void
incidents_free(Incidents *i)
{
	if (!i)
		return;
	while (i->pending) {
		Pending *p = i->pending;
		i->pending = p->next;
		/* Its audit callback may still come (audit_close after us): it frees it then. */
		p->owner = NULL;
		p->prev = p->next = NULL;
	}
	while (i->running) {
		Notify *n = i->running;
		i->running = n->next;
		n->owner = NULL;
		/* Not owned by the event source: unref leaves the process running; it was
		 * started in its own group and ends on its own. */
		notify_free(n);
	}
	for (size_t k = 0; k < N_RULES; k++) {
		free(i->rules[k].keys);
		free(i->rules[k].ev);
	}
	free(i);
}
