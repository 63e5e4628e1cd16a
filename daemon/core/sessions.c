/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sessions: the live side of biogate sessions (R10, R8, R4). Keeps a table of the open
 * sessions, and one timer (every second, and exactly at the next deadline) decides for each
 * how long it has been idle (what logind knows first, the tty's atime otherwise), locks it,
 * warns it and ends it; ends it at the end of its shift; powers the terminal off at the end
 * of the day once nobody is logged in. With logind it acts only through logind and never
 * signals a process; without logind it signals the session's leader (pidfd: no pid reuse).
 * It must never write anywhere but a character device under /dev, and never block the loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-login.h>

#include "audit.h"
#include "caller.h"
#include "clock.h"
#include "log.h"
#include "logind.h"
#include "manager.h"
#include "policy.h"
#include "record.h"
#include "sessions.h"
#include "store.h"

#define USEC_PER_SEC       1000000LL
#define SESSIONS_MAX       256
#define TICK_USEC          1000000ULL
#define TICK_ACCURACY_USEC 100000ULL
/* After SIGHUP the leader (login, sshd) gets this long to end the session itself. */
#define TERM_GRACE_USEC (2 * 1000000ULL)
/* How often an open session looks its shift up again (a schedule imported meanwhile). */
#define SHIFT_RECHECK_USEC (60 * 1000000LL)
#define SHIFT_CHAIN_MAX    16
#define PROC_WALK_MAX      64

#define MSG_IDLE                                                                                                   \
	"biogate: 離席が続いたため、まもなくログオフします / you will be logged off soon for " \
	"being away"
#define MSG_SHIFT                                                                                                       \
	"biogate: 勤務時間がまもなく終わるため、ログオフします / your shift ends soon: you will " \
	"be "                                                                                                           \
	"logged off"
#define MSG_END_OF_DAY                                                                                               \
	"biogate: 終業時刻です。作業を終えてログオフしてください / the working day is over: " \
	"please "                                                                                                    \
	"finish and log off"

typedef struct Entry {
	Sessions *owner;
	int64_t id;
	char matching_id[WIRE_MAX_ID + 1];
	char operator_id[WIRE_MAX_ID + 1];
	uid_t uid;
	pid_t leader;
	unsigned long long leader_start; /* /proc starttime: recognises the leader, not its pid */
	int pidfd;                       /* -1 when the leader could not be opened */
	char tty[64];                    /* "/dev/..." or "" */
	char logind_id[LOGIND_MAX_ID + 1];
	LogindSession *ls;
	int64_t opened_at; /* CLOCK_REALTIME usec */

	/* What logind said last (valid only while logind answers). */
	bool facts_valid;
	LogindIdle facts;

	/* The idle cycle: one lock and one warning per idle period. */
	int64_t cycle_since;
	bool locked, warned, unmeasurable_logged;

	/* The shift: 0 while none is known. */
	int64_t shift_end;
	int64_t shift_checked_at;
	bool shift_warned;

	int64_t deadline; /* next moment something happens to this session, 0 none */

	/* Ended without logind: SIGTERM follows SIGHUP at term_at (CLOCK_MONOTONIC). */
	bool ending;
	uint64_t term_at;
} Entry;

struct Sessions {
	Manager *manager;
	Logind *logind;
	sd_event_source *timer;
	Entry *v[SESSIONS_MAX];
	size_t n;
	uint64_t next_tick; /* CLOCK_MONOTONIC */

	/* End of day. */
	int power_done_day; /* year * 1000 + yday of the last end of day handled */
	bool power_pending;
	int64_t power_retry_at;
	bool power_in_flight;
	bool no_power_logged;

	/* What the manager wires to the room log (sessions_set_hooks). */
	SessionsHookFn on_opened, on_ended;
	void *hook_data;
};

/* --- settings -------------------------------------------------------------------------- */

static const PolicySettings *
sessions_settings(const Sessions *s)
{
	/* The built-in defaults of policy.h, for a daemon started without a policy. */
	static const PolicySettings defaults = {
		.idle_lock_sec = 300,
		.idle_logoff_sec = 900,
		.idle_warn_sec = 60,
		.shift_warn_sec = 300,
		.power_off_minute = -1,
		.power_off_retry_sec = 300,
	};
	const PolicySettings *p = s->manager->policy ? policy_settings(s->manager->policy) : NULL;
	return p ? p : &defaults;
}

/* --- small helpers ----------------------------------------------------------------------- */

static int
local_day(int64_t now, int *ret_minute)
{
	time_t t = (time_t)(now / USEC_PER_SEC);
	struct tm tm;
	if (!localtime_r(&t, &tm))
		return -1;
	*ret_minute = tm.tm_hour * 60 + tm.tm_min;
	return (tm.tm_year + 1900) * 1000 + tm.tm_yday;
}

/*
 * A tty as PAM gives it ("tty7", "pts/3", "/dev/pts/3") as a path under /dev, or "" when it
 * is not a tty (":0", "ssh", empty). Anything that could leave /dev is refused: the daemon
 * writes warnings there.
 */
static void
sessions_normalize_tty(const char *in, char *out, size_t size)
{
	out[0] = '\0';
	if (!in || !in[0])
		return;
	const char *rel = strncmp(in, "/dev/", 5) == 0 ? in + 5 : in;
	if (!rel[0] || strlen(rel) + 6 > size || strstr(rel, "..") || rel[0] == '/')
		return;
	for (const char *p = rel; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '/' || *p == '_' || *p == '-' || *p == '.'))
			return;
	/* hvc: the console of a virtual machine (virtio, Xen). */
	if (strncmp(rel, "tty", 3) != 0 && strncmp(rel, "pts/", 4) != 0 &&
	    strncmp(rel, "console", 7) != 0 && strncmp(rel, "hvc", 3) != 0)
		return;
	snprintf(out, size, "/dev/%s", rel);
}

/*
 * Fields of /proc/PID/stat after the command name. The name may hold spaces and parens, so
 * the fields start after the last ')'. ppid is field 4, starttime field 22.
 */
static int
sessions_proc_stat(pid_t pid, pid_t *ret_ppid, unsigned long long *ret_start)
{
	char path[64], buf[2048];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	int err = errno;
	close(fd);
	if (n < 0)
		return -err;
	if (n == 0 || (size_t)n >= sizeof(buf) - 1)
		return -EBADMSG;
	buf[n] = '\0';
	char *p = memrchr(buf, ')', (size_t)n);
	if (!p)
		return -EBADMSG;
	p++;
	unsigned long long ppid = 0, start = 0;
	for (int field = 3; field <= 22; field++) {
		while (*p == ' ')
			p++;
		if (!*p)
			return -EBADMSG;
		char *end = p;
		if (field == 3) {
			end = p + 1; /* the state letter */
		} else {
			errno = 0;
			unsigned long long v = strtoull(p, &end, 10);
			if (errno || end == p)
				v = 0;
			if (*p == '-') /* tty_nr and friends may be negative: not needed */
				end = p + strcspn(p, " ");
			if (field == 4)
				ppid = v;
			else if (field == 22)
				start = v;
		}
		if (*end != ' ' && *end != '\0' && *end != '\n')
			return -EBADMSG;
		p = end;
	}
	if (ppid > INT_MAX || start == 0)
		return -EBADMSG;
	if (ret_ppid)
		*ret_ppid = (pid_t)ppid;
	if (ret_start)
		*ret_start = start;
	return 0;
}

/* Hands the line to biogate-tell.socket when it is there (the installed units): the
 * person's terminal is theirs alone (TTYPERM 0600) and outside this daemon's private /dev.
 * Fire and forget: a local stream socket with Accept=yes takes these few bytes at once.
 * 1 handed over, 0 no service here, -errno. */
static int
sessions_tell_service(const Sessions *s, const Entry *e, const char *msg)
{
	const char *dir = s->manager->runtime_dir;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	if (!dir ||
	    (size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir,
	                     SESSIONS_TELL_SOCKET) >= sizeof(sa.sun_path) ||
	    lstat(sa.sun_path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return 0;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	char line[1024];
	int len = snprintf(line, sizeof(line), "%s\n%s", e->tty, msg);
	int r = 0;
	if (len < 0 || (size_t)len >= sizeof(line))
		r = -EMSGSIZE;
	else if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	         send(fd, line, (size_t)len, MSG_NOSIGNAL) != len)
		r = -errno;
	close(fd);
	return r < 0 ? r : 1;
}

/* Writes one line to the session's terminal without blocking and without acquiring it. */
static void
sessions_tell(const Entry *e, const char *msg)
{
	if (!e->tty[0])
		return;
	int r = sessions_tell_service(e->owner, e, msg);
	if (r > 0)
		return;
	if (r < 0)
		log_warning("Session %lld: the warning service cannot be reached: %s",
		            (long long)e->id, strerror(-r));
	int fd = open(e->tty, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		log_debug("Session %lld: cannot open %s: %s", (long long)e->id, e->tty,
		          strerror(errno));
		return;
	}
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISCHR(st.st_mode)) {
		char line[512];
		int len = snprintf(line, sizeof(line), "\r\n%s\r\n", msg);
		if (len > 0 && write(fd, line, (size_t)len) < 0)
			log_debug("Session %lld: cannot write to %s: %s", (long long)e->id, e->tty,
			          strerror(errno));
	}
	close(fd);
}

/* --- the table --------------------------------------------------------------------------- */

static Entry *
sessions_get(Sessions *s, int64_t id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i]->id == id && !s->v[i]->ending)
			return s->v[i];
	return NULL;
}

static size_t
sessions_active(const Sessions *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n; i++)
		n += !s->v[i]->ending;
	return n;
}

static void
entry_free(Entry *e)
{
	if (!e)
		return;
	logind_session_free(e->ls);
	if (e->pidfd >= 0)
		close(e->pidfd);
	free(e);
}

static void
sessions_drop(Sessions *s, Entry *e)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == e) {
			s->v[i] = s->v[--s->n];
			s->v[s->n] = NULL;
			break;
		}
	entry_free(e);
}

/* The shift containing at, followed across shifts that start exactly where it ends. */
static int64_t
sessions_shift_end(Sessions *s, const char *matching_id, int64_t at)
{
	StoreShift sh;
	if (store_shift_at(s->manager->store, matching_id, at, &sh) < 0)
		return 0;
	int64_t end = sh.end_usec;
	for (int i = 0; i < SHIFT_CHAIN_MAX; i++) {
		if (store_shift_at(s->manager->store, matching_id, end, &sh) < 0 ||
		    sh.end_usec <= end)
			break;
		end = sh.end_usec;
	}
	return end;
}

static void
sessions_add_entry(Sessions *s, json_object *o)
{
	static const WireField fields[] = {
		{ "session_id", WIRE_INT, true, 0, 1, INT64_MAX },
		{ "matching_id", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
		{ "operator_id", WIRE_STRING, true, WIRE_MAX_ID, 0, 0 },
		{ "uid", WIRE_INT, true, 0, -1, UINT32_MAX },
		{ "pid", WIRE_INT, true, 0, 1, INT_MAX },
		{ "opened_at", WIRE_INT, true, 0, 0, INT64_MAX },
	};
	const char *bad = NULL;
	json_object *strict = json_object_new_object();
	if (!strict)
		return;
	/* Only the fields we rely on are checked; the rest (tty, service, logind_session) may be
	 * null, so they are read leniently below. */
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		json_object *v = NULL;
		if (json_object_object_get_ex(o, fields[i].name, &v) && v)
			json_object_object_add(strict, fields[i].name, json_object_get(v));
	}
	int r = wire_check(strict, fields, sizeof(fields) / sizeof(fields[0]), &bad);
	if (r < 0) {
		log_error("Session row with a bad %s: not watched", bad ? bad : "field");
		json_object_put(strict);
		return;
	}
	int64_t id = wire_int(strict, "session_id", 0);
	if (sessions_get(s, id)) {
		json_object_put(strict);
		return;
	}
	if (s->n >= SESSIONS_MAX) {
		log_error("Session %lld: more than %d open sessions, not watched", (long long)id,
		          SESSIONS_MAX);
		json_object_put(strict);
		return;
	}
	Entry *e = calloc(1, sizeof(*e));
	if (!e) {
		json_object_put(strict);
		return;
	}
	e->owner = s;
	e->id = id;
	e->pidfd = -1;
	snprintf(e->matching_id, sizeof(e->matching_id), "%s", wire_str(strict, "matching_id"));
	snprintf(e->operator_id, sizeof(e->operator_id), "%s", wire_str(strict, "operator_id"));
	e->uid = (uid_t)wire_int(strict, "uid", -1);
	e->leader = (pid_t)wire_int(strict, "pid", 0);
	e->opened_at = wire_int(strict, "opened_at", 0);
	json_object_put(strict);

	json_object *v = NULL;
	if (json_object_object_get_ex(o, "tty", &v) && json_object_is_type(v, json_type_string))
		sessions_normalize_tty(json_object_get_string(v), e->tty, sizeof(e->tty));
	if (json_object_object_get_ex(o, "logind_session", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    wire_valid_text(json_object_get_string(v), LOGIND_MAX_ID))
		snprintf(e->logind_id, sizeof(e->logind_id), "%s", json_object_get_string(v));
	/* A login stack without pam_systemd before us: ask logind where the leader lives. */
	char *sid = NULL;
	if (!e->logind_id[0] && sd_pid_get_session(e->leader, &sid) >= 0 && sid &&
	    strlen(sid) <= LOGIND_MAX_ID)
		snprintf(e->logind_id, sizeof(e->logind_id), "%s", sid);
	free(sid);
	if (e->logind_id[0])
		(void)logind_session_new(s->logind, e->logind_id, &e->ls);

	if (sessions_proc_stat(e->leader, NULL, &e->leader_start) < 0)
		log_warning("Session %lld: leader %d is not running", (long long)id,
		            (int)e->leader);
	else {
		e->pidfd = pidfd_open(e->leader, 0);
		/* The pidfd and the start time must describe the same process. */
		unsigned long long again = 0;
		if (e->pidfd >= 0 &&
		    (sessions_proc_stat(e->leader, NULL, &again) < 0 || again != e->leader_start)) {
			close(e->pidfd);
			e->pidfd = -1;
		}
	}
	int64_t now = now_real_usec();
	e->shift_end = sessions_shift_end(s, e->matching_id, e->opened_at ? e->opened_at : now);
	e->shift_checked_at = now;
	e->cycle_since = e->opened_at;
	s->v[s->n++] = e;
	log_info("Session %lld watched: logind session %s, tty %s, leader %d%s", (long long)id,
	         e->logind_id[0] ? e->logind_id : "-", e->tty[0] ? e->tty : "-", (int)e->leader,
	         e->shift_end ? ", shift end known" : "");
}

static void
sessions_load(Sessions *s, int64_t only_id)
{
	json_object *arr = NULL;
	int r = store_sessions_json(s->manager->store, &arr);
	if (r < 0) {
		log_error_errno(r, "Failed to read the open sessions: %m");
		return;
	}
	size_t n = json_object_array_length(arr);
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i), *id = NULL;
		if (!json_object_is_type(o, json_type_object) ||
		    !json_object_object_get_ex(o, "session_id", &id))
			continue;
		if (only_id && json_object_get_int64(id) != only_id)
			continue;
		sessions_add_entry(s, o);
	}
	json_object_put(arr);
}

/* --- ending, locking --------------------------------------------------------------------- */

static int
sessions_signal(Entry *e, int sig)
{
	if (e->pidfd < 0)
		return -ESRCH;
	if (pidfd_send_signal(e->pidfd, sig, NULL, 0) < 0)
		return -errno;
	return 0;
}

/* What happened to a session, in the audit trail (R5, R10): ends, locks, warnings. */
static void
sessions_record(Sessions *s, const Entry *e, const char *action, const char *reason)
{
	char detail[64];
	snprintf(detail, sizeof(detail), "{\"session_id\":%lld}", (long long)e->id);
	AuditRecord rec = { .matching_id = e->matching_id,
		            .operator_id = e->operator_id,
		            .action = action,
		            .outcome = "ok",
		            .reason = reason,
		            .detail = detail };
	(void)record_append(s->manager, NULL, &rec, NULL, NULL);
}

/* A session opened by a stack where pam_biogate ran before pam_systemd has no logind
 * session yet at CloseSession time; once pam_systemd has run, logind knows where the leader
 * lives. Looked up again before anything needs it (lock, end, idle facts). */
static bool
entry_refresh_logind(Sessions *s, Entry *e)
{
	if (e->logind_id[0])
		return true;
	if (e->pidfd < 0 || !logind_available(s->logind))
		return false;
	char *sid = NULL;
	uid_t uid = (uid_t)-1;
	bool found = sd_pid_get_session(e->leader, &sid) >= 0 && sid &&
	             strlen(sid) <= LOGIND_MAX_ID && sd_session_get_uid(sid, &uid) >= 0 &&
	             (e->uid == (uid_t)-1 || uid == e->uid);
	if (found) {
		snprintf(e->logind_id, sizeof(e->logind_id), "%s", sid);
		(void)logind_session_new(s->logind, e->logind_id, &e->ls);
		log_info("Session %lld: logind session %s (found from leader %d)", (long long)e->id,
		         e->logind_id, (int)e->leader);
	}
	free(sid);
	return found;
}

/* Without logind, or when logind knows no session of the leader: the login ends the way a
 * hang-up ends it, SIGHUP now and SIGTERM after TERM_GRACE_USEC (pidfd: no pid reuse). */
static void
sessions_end_leader(Entry *e)
{
	int r = sessions_signal(e, SIGHUP);
	if (r < 0 && r != -ESRCH)
		log_error_errno(r, "Session %lld: cannot signal leader %d: %m", (long long)e->id,
		                (int)e->leader);
	else if (r == 0)
		log_info("Session %lld: sent SIGHUP to leader %d", (long long)e->id,
		         (int)e->leader);
	if (r == 0) {
		e->ending = true;
		e->term_at = now_mono_usec() + TERM_GRACE_USEC;
	}
}

/* Ends one session: logind terminates it, or its leader is signalled; the store row closes
 * with reason and the session leaves the table (after SIGTERM when signalling). */
static void
sessions_end(Sessions *s, Entry *e, const char *reason)
{
	if (logind_available(s->logind) && entry_refresh_logind(s, e)) {
		int r = logind_terminate_session(s->logind, e->logind_id);
		if (r < 0) {
			log_error_errno(r, "Session %lld: TerminateSession failed: %m",
			                (long long)e->id);
			/* The record must not end while the shell stays open. */
			sessions_end_leader(e);
		}
	} else {
		if (logind_available(s->logind))
			log_warning(
			    "Session %lld: logind knows no session of leader %d: ending the "
			    "leader itself",
			    (long long)e->id, (int)e->leader);
		sessions_end_leader(e);
	}
	(void)sessions_stop(s, e->id, NULL, reason, NULL);
}

/*
 * The one way a biogate session ends, as logind's session_stop(). Its callers: CloseSession
 * ("logout", from the PAM module), a session whose leader died found by the login gates
 * ("leader-gone"), and sessions_end() for idle logoff, shift end, revocation and Logoff.
 * It closes the store row with the reason, fires the ended hook (the room log's leave),
 * forgets the session (unless its leader is still being signalled) and writes one record:
 * "session.close" for a logout, "session.end" with the reason otherwise. With a caller,
 * its reply waits for that record.
 */
int
sessions_stop(Sessions *s, int64_t session_id, const StoreSession *known, const char *reason,
              Caller *c)
{
	Manager *m = s->manager;
	StoreSession row;
	int r = 0;
	if (known)
		row = *known;
	else if ((r = store_session_get(m->store, session_id, &row)) < 0)
		return r;
	int64_t now = now_real_usec();
	r = store_session_close(m->store, session_id, reason, now);
	if (r < 0 && r != -EALREADY)
		return log_error_errno(r, "Session %lld: failed to close its record: %m",
		                       (long long)session_id);
	if (s->on_ended)
		s->on_ended(row.matching_id, session_id, now, s->hook_data);
	log_info("Session %lld ended (%s): matching ID %s, operator ID %s", (long long)session_id,
	         reason, row.matching_id, row.operator_id);
	Entry *e = sessions_get(s, session_id);
	if (e && !e->ending)
		sessions_drop(s, e);
	bool logout = strcmp(reason, "logout") == 0;
	char detail[64];
	snprintf(detail, sizeof(detail), "{\"session_id\":%lld}", (long long)session_id);
	AuditRecord rec = { .time_usec = now,
		            .matching_id = row.matching_id,
		            .operator_id = row.operator_id,
		            .action = logout ? "session.close" : "session.end",
		            .outcome = "ok",
		            .reason = reason,
		            .detail = detail };
	(void)record_append(m, c, &rec, NULL, NULL);
	return 0;
}

void
sessions_set_hooks(Sessions *s, SessionsHookFn opened, SessionsHookFn ended, void *userdata)
{
	s->on_opened = opened;
	s->on_ended = ended;
	s->hook_data = userdata;
}

static int
sessions_lock_entry(Sessions *s, Entry *e)
{
	if (!logind_available(s->logind) || !entry_refresh_logind(s, e)) {
		log_info("Session %lld: cannot lock (%s)", (long long)e->id,
		         logind_available(s->logind) ? "no logind session" : "no logind");
		return -EOPNOTSUPP;
	}
	int r = logind_lock_session(s->logind, e->logind_id);
	if (r < 0)
		return log_error_errno(r, "Session %lld: LockSession failed: %m", (long long)e->id);
	log_info("Session %lld: locked (logind session %s)", (long long)e->id, e->logind_id);
	sessions_record(s, e, "session.lock", NULL);
	return 0;
}

/* --- the decisions ----------------------------------------------------------------------- */

static int64_t
entry_tty_atime(const Entry *e)
{
	struct stat st;
	if (!e->tty[0] || stat(e->tty, &st) < 0 || !S_ISCHR(st.st_mode))
		return 0;
	return (int64_t)st.st_atim.tv_sec * USEC_PER_SEC + st.st_atim.tv_nsec / 1000;
}

/*
 * Since when the session has been idle, or 0 when nobody can tell. What logind knows comes
 * first: an explicit idle hint with its time; an active graphical session; for a text
 * session the time logind reports (its tty atime). Only then the tty's atime ourselves. The
 * session's start counts as activity.
 */
static int64_t
entry_idle_since(const Entry *e, int64_t now)
{
	int64_t since = 0;
	if (e->facts_valid) {
		if (e->facts.idle_hint)
			since = e->facts.idle_since_usec ? (int64_t)e->facts.idle_since_usec
			                                 : e->opened_at;
		else if (e->facts.graphical)
			since = now;
		else if (e->facts.idle_since_usec)
			since = (int64_t)e->facts.idle_since_usec;
	}
	if (!since)
		since = entry_tty_atime(e);
	if (!since)
		return 0;
	if (since < e->opened_at)
		since = e->opened_at;
	return since > now ? now : since;
}

static void
deadline_min(int64_t *d, int64_t t, int64_t now)
{
	if (t > now && (*d == 0 || t < *d))
		*d = t;
}

/* Decides for one session at now. May end it (and free e). */
static void
sessions_evaluate(Sessions *s, Entry *e)
{
	const PolicySettings *ps = sessions_settings(s);
	int64_t now = now_real_usec();
	int64_t deadline = 0;

	/* Shift end (R8). */
	if (!e->shift_end || now < e->shift_end) {
		if (now - e->shift_checked_at >= SHIFT_RECHECK_USEC) {
			e->shift_checked_at = now;
			int64_t end = sessions_shift_end(s, e->matching_id, now);
			if (end != e->shift_end)
				e->shift_warned = false;
			e->shift_end = end;
		}
	}
	if (e->shift_end) {
		if (now >= e->shift_end)
			return sessions_end(s, e, "shift-end");
		int64_t warn_at = e->shift_end - (int64_t)ps->shift_warn_sec * USEC_PER_SEC;
		if (!e->shift_warned && now >= warn_at) {
			e->shift_warned = true;
			log_info("Session %lld: warned, shift ends in %llds", (long long)e->id,
			         (long long)((e->shift_end - now) / USEC_PER_SEC));
			sessions_tell(e, MSG_SHIFT);
			sessions_record(s, e, "session.warn", "shift-end");
		}
		deadline_min(&deadline, warn_at, now);
		deadline_min(&deadline, e->shift_end, now);
	}

	/* Idle (R10). */
	int64_t since = entry_idle_since(e, now);
	if (!since) {
		if (!e->unmeasurable_logged)
			log_info("Session %lld: idle time cannot be measured (no logind facts, no "
			         "tty)",
			         (long long)e->id);
		e->unmeasurable_logged = true;
		e->deadline = deadline;
		return;
	}
	if (since > e->cycle_since) {
		if (e->locked || e->warned)
			log_info("Session %lld: activity, idle deadlines start again",
			         (long long)e->id);
		e->locked = e->warned = false;
	}
	e->cycle_since = since;
	int64_t lock = (int64_t)ps->idle_lock_sec * USEC_PER_SEC;
	int64_t logoff = (int64_t)ps->idle_logoff_sec * USEC_PER_SEC;
	int64_t warn = (int64_t)ps->idle_warn_sec * USEC_PER_SEC;
	int64_t idle = now - since;
	if (logoff > 0) {
		if (idle >= logoff)
			return sessions_end(s, e, "idle-logoff");
		if (warn > 0 && warn < logoff) {
			if (!e->warned && idle >= logoff - warn) {
				e->warned = true;
				log_info("Session %lld: warned, idle for %llds", (long long)e->id,
				         (long long)(idle / USEC_PER_SEC));
				sessions_tell(e, MSG_IDLE);
				sessions_record(s, e, "session.warn", "idle");
			}
			deadline_min(&deadline, since + logoff - warn, now);
		}
		deadline_min(&deadline, since + logoff, now);
	}
	if (lock > 0 && (logoff == 0 || lock < logoff)) {
		if (!e->locked && idle >= lock) {
			e->locked = true; /* once per idle period, even when it cannot lock */
			(void)sessions_lock_entry(s, e);
		}
		deadline_min(&deadline, since + lock, now);
	}
	e->deadline = deadline;
}

static void sessions_schedule(Sessions *s);

/* --- end of day -------------------------------------------------------------------------- */

static void
sessions_power_done(int r, void *userdata)
{
	Sessions *s = userdata;
	s->power_in_flight = false;
	if (r < 0) {
		/* Refused (polkit, another user's session, an inhibitor): try again later. */
		s->power_pending = true;
		s->power_retry_at =
		    now_real_usec() +
		    (int64_t)sessions_settings(s)->power_off_retry_sec * USEC_PER_SEC;
	} else
		log_info("End of day: logind is powering the terminal off");
}

static void
sessions_end_of_day(Sessions *s, int64_t now)
{
	const PolicySettings *ps = sessions_settings(s);
	if (ps->power_off_minute < 0) {
		s->power_pending = false;
		return;
	}
	int minute = 0;
	int day = local_day(now, &minute);
	if (day >= 0 && day != s->power_done_day && minute >= ps->power_off_minute) {
		s->power_done_day = day;
		s->power_pending = true;
		s->power_retry_at = now;
		log_info("End of day (%02d:%02d)", ps->power_off_minute / 60,
		         ps->power_off_minute % 60);
	}
	if (!s->power_pending || s->power_in_flight || now < s->power_retry_at)
		return;
	size_t open = sessions_active(s);
	if (open > 0) {
		log_info("End of day: %zu session(s) open, power-off retried in %us", open,
		         ps->power_off_retry_sec);
		for (size_t i = 0; i < s->n; i++)
			if (!s->v[i]->ending)
				sessions_tell(s->v[i], MSG_END_OF_DAY);
		s->power_retry_at = now + (int64_t)ps->power_off_retry_sec * USEC_PER_SEC;
		return;
	}
	s->power_pending = false;
	if (!logind_available(s->logind)) {
		if (!s->no_power_logged)
			log_warning("End of day: no logind, power-off unavailable");
		s->no_power_logged = true;
		return;
	}
	int r = logind_power_off(s->logind, sessions_power_done, s);
	if (r < 0) {
		log_error_errno(r, "End of day: PowerOff failed: %m");
		s->power_pending = true;
		s->power_retry_at = now + (int64_t)ps->power_off_retry_sec * USEC_PER_SEC;
		return;
	}
	s->power_in_flight = true;
	log_info("End of day: no session open, asked logind to power off");
}

/* --- the timer --------------------------------------------------------------------------- */

static void
sessions_schedule(Sessions *s)
{
	if (!s->timer)
		return;
	uint64_t mono = now_mono_usec();
	int64_t real = now_real_usec();
	uint64_t target = s->next_tick > mono ? s->next_tick : mono + TICK_USEC;
	bool exact = false;
	for (size_t i = 0; i < s->n; i++) {
		const Entry *e = s->v[i];
		uint64_t t = 0;
		if (e->ending)
			t = e->term_at;
		else if (e->deadline > real)
			t = mono + (uint64_t)(e->deadline - real);
		if (t && t < target) {
			target = t;
			exact = true;
		}
	}
	(void)sd_event_source_set_time(s->timer, target);
	(void)sd_event_source_set_time_accuracy(s->timer, exact ? 1000 : TICK_ACCURACY_USEC);
	(void)sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT);
}

/* Facts from logind for one entry: decide now, then re-arm for its next deadline. */
static void
sessions_on_facts(const LogindIdle *facts, int r, void *userdata)
{
	Entry *e = userdata;
	Sessions *s = e->owner;
	e->facts_valid = r >= 0 && facts;
	if (e->facts_valid)
		e->facts = *facts;
	else
		log_debug("Session %lld: no idle facts from logind: %s", (long long)e->id,
		          strerror(-r));
	sessions_evaluate(s, e);
	sessions_schedule(s);
}

static int
sessions_on_tick(sd_event_source *src, uint64_t usec, void *userdata)
{
	Sessions *s = userdata;
	uint64_t mono = now_mono_usec();
	if (mono + TICK_ACCURACY_USEC >= s->next_tick)
		s->next_tick = mono + TICK_USEC;

	/* Backwards: evaluating an entry may drop it, which moves the last entry into its
	 * place, and that one was already seen. */
	for (size_t i = s->n; i > 0; i--) {
		Entry *e = s->v[i - 1];
		if (e->ending) {
			if (mono >= e->term_at) {
				int r = sessions_signal(e, SIGTERM);
				if (r == 0)
					log_info("Session %lld: sent SIGTERM to leader %d",
					         (long long)e->id, (int)e->leader);
				sessions_drop(s, e);
			}
			continue;
		}
		(void)entry_refresh_logind(s, e);
		if (e->ls && logind_available(s->logind)) {
			int r = logind_session_query(e->ls, sessions_on_facts, e);
			if (r >= 0 || r == -EBUSY)
				continue; /* decided when the facts arrive */
		}
		e->facts_valid = false;
		sessions_evaluate(s, e);
	}
	sessions_end_of_day(s, now_real_usec());
	sessions_schedule(s);
	return 0;
}

/* --- a restart ---------------------------------------------------------------------------- */

/* Whether the row's login still runs: its leader is in a logind session of the row's user
 * (the one recorded, when one was). Without logind nothing can tell a live leader from a
 * reused pid, so nothing is kept. */
static bool
sessions_row_alive(json_object *o)
{
	json_object *v = NULL;
	pid_t pid = json_object_object_get_ex(o, "pid", &v) ? (pid_t)json_object_get_int64(v) : 0;
	int64_t uid = json_object_object_get_ex(o, "uid", &v) ? json_object_get_int64(v) : -1;
	const char *want = json_object_object_get_ex(o, "logind_session", &v) &&
	                           json_object_is_type(v, json_type_string)
	                       ? json_object_get_string(v)
	                       : NULL;
	if (pid <= 1 || access("/run/systemd/seats/", F_OK) < 0)
		return false;
	char *sid = NULL;
	uid_t suid = (uid_t)-1;
	bool alive = sd_pid_get_session(pid, &sid) >= 0 && sid &&
	             sd_session_get_uid(sid, &suid) >= 0 && (uid < 0 || (int64_t)suid == uid) &&
	             (!want || !want[0] || strcmp(want, sid) == 0) &&
	             sd_session_is_active(sid) >= 0;
	free(sid);
	return alive;
}

int
sessions_close_stale(Store *store, int64_t now)
{
	json_object *arr = NULL;
	int r = store_sessions_json(store, &arr);
	if (r < 0)
		return r;
	size_t n = json_object_array_length(arr), kept = 0;
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i), *id = NULL;
		if (!json_object_object_get_ex(o, "session_id", &id))
			continue;
		if (sessions_row_alive(o)) {
			kept++;
			continue;
		}
		int k =
		    store_session_close(store, json_object_get_int64(id), "daemon-restart", now);
		if (k < 0 && k != -EALREADY)
			r = k;
	}
	json_object_put(arr);
	if (kept)
		log_info("%zu session(s) of the last run still have their login: watched again",
		         kept);
	return r;
}

/* --- the interface ----------------------------------------------------------------------- */

int
sessions_new(Manager *m, Sessions **ret)
{
	if (!m || !ret)
		return -EINVAL;
	Sessions *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->manager = m;
	s->power_done_day = -1;
	int r = logind_new(m->event, &s->logind);
	if (r < 0) {
		free(s);
		return r;
	}
	/* An end of day that passed before the daemon started is not acted on: a terminal
	 * switched on after hours must stay usable until the next one. */
	const PolicySettings *ps = sessions_settings(s);
	int minute = 0;
	int day = local_day(now_real_usec(), &minute);
	if (ps->power_off_minute >= 0 && minute >= ps->power_off_minute)
		s->power_done_day = day;

	s->next_tick = now_mono_usec() + TICK_USEC;
	r = sd_event_add_time(m->event, &s->timer, CLOCK_MONOTONIC, s->next_tick,
	                      TICK_ACCURACY_USEC, sessions_on_tick, s);
	if (r < 0) {
		logind_free(s->logind);
		free(s);
		return log_error_errno(r, "Failed to add the sessions timer: %m");
	}
	sessions_load(s, 0);
	*ret = s;
	return 0;
}

void
sessions_free(Sessions *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		entry_free(s->v[i]);
	sd_event_source_disable_unref(s->timer);
	logind_power_off_cancel(s->logind);
	logind_free(s->logind);
	free(s);
}

bool
sessions_have_logind(const Sessions *s)
{
	return s && logind_available(s->logind);
}

void
sessions_opened(Sessions *s, int64_t session_id, const char *matching_id, int64_t opened_at)
{
	if (!s || session_id <= 0)
		return;
	if (s->on_opened)
		s->on_opened(matching_id, session_id, opened_at, s->hook_data);
	sessions_load(s, session_id);
	Entry *e = sessions_get(s, session_id);
	if (!e)
		return;
	/* A login inside the warning window of its shift hears it at once; with logind, once
	 * logind said what it knows. */
	if (e->ls && logind_session_query(e->ls, sessions_on_facts, e) >= 0)
		return;
	sessions_evaluate(s, e);
	sessions_schedule(s);
}

void
sessions_closed(Sessions *s, int64_t session_id)
{
	if (!s)
		return;
	Entry *e = sessions_get(s, session_id);
	if (e)
		sessions_drop(s, e);
}

int
sessions_find_by_peer(Sessions *s, const Peer *p, StoreSession *ret)
{
	if (!s || !p || !ret || p->pid <= 0)
		return -EINVAL;
	if (p->gone) /* the connector exited: its pid may be someone else's now */
		return -ENOENT;
	Entry *found = NULL;
	char *sid = NULL;
	if (sd_pid_get_session(p->pid, &sid) >= 0 && sid)
		for (size_t i = 0; i < s->n && !found; i++)
			if (!s->v[i]->ending && s->v[i]->logind_id[0] &&
			    strcmp(s->v[i]->logind_id, sid) == 0)
				found = s->v[i];
	free(sid);

	pid_t pid = p->pid;
	for (int step = 0; !found && step < PROC_WALK_MAX && pid > 1; step++) {
		pid_t ppid = 0;
		unsigned long long start = 0;
		if (sessions_proc_stat(pid, &ppid, &start) < 0)
			break;
		for (size_t i = 0; i < s->n; i++) {
			const Entry *e = s->v[i];
			if (!e->ending && e->leader == pid && e->leader_start == start) {
				found = s->v[i];
				break;
			}
		}
		pid = ppid;
	}
	if (!found)
		return -ENOENT;
	if (p->uid != 0 && p->uid != found->uid)
		return -ENOENT;
	*ret = (StoreSession){
		.id = found->id, .uid = found->uid, .leader_pid = found->leader, .open = true
	};
	memcpy(ret->matching_id, found->matching_id, sizeof(ret->matching_id));
	memcpy(ret->operator_id, found->operator_id, sizeof(ret->operator_id));
	return 0;
}

bool
sessions_is_open(Sessions *s, int64_t session_id)
{
	return s && sessions_get(s, session_id) != NULL;
}

int
sessions_lock(Sessions *s, int64_t session_id)
{
	if (!s)
		return -EINVAL;
	Entry *e = sessions_get(s, session_id);
	if (!e)
		return -ENOENT;
	return sessions_lock_entry(s, e);
}

int
sessions_logoff(Sessions *s, int64_t session_id, const char *reason)
{
	if (!s || !reason)
		return -EINVAL;
	Entry *e = sessions_get(s, session_id);
	if (!e)
		return -ENOENT;
	sessions_end(s, e, reason);
	sessions_schedule(s);
	return 0;
}

int
sessions_end_matching_id(Sessions *s, const char *matching_id, const char *reason)
{
	if (!s || !matching_id || !reason)
		return -EINVAL;
	int n = 0;
	for (size_t i = s->n; i > 0; i--) {
		Entry *e = s->v[i - 1];
		if (!e->ending && strcmp(e->matching_id, matching_id) == 0) {
			sessions_end(s, e, reason);
			n++;
		}
	}
	sessions_schedule(s);
	return n;
}

int
sessions_end_operator_id(Sessions *s, const char *matching_id, const char *operator_id,
                         const char *reason)
{
	if (!s || !matching_id || !operator_id || !reason)
		return -EINVAL;
	int n = 0;
	for (size_t i = s->n; i > 0; i--) {
		Entry *e = s->v[i - 1];
		if (!e->ending && strcmp(e->matching_id, matching_id) == 0 &&
		    strcmp(e->operator_id, operator_id) == 0) {
			sessions_end(s, e, reason);
			n++;
		}
	}
	sessions_schedule(s);
	return n;
}

json_object *
sessions_status(Sessions *s)
{
	json_object *o = json_object_new_object();
	if (!o || !s)
		return o;
	const PolicySettings *ps = sessions_settings(s);
	json_object_object_add(o, "logind", json_object_new_boolean(sessions_have_logind(s)));
	json_object_object_add(o, "watched", json_object_new_int64((int64_t)sessions_active(s)));
	if (ps->power_off_minute >= 0) {
		char hhmm[8];
		snprintf(hhmm, sizeof(hhmm), "%02d:%02d", ps->power_off_minute / 60 % 100,
		         ps->power_off_minute % 60);
		json_object_object_add(o, "power_off_at", json_object_new_string(hhmm));
	} else
		json_object_object_add(o, "power_off_at", NULL);
	json_object_object_add(o, "power_off_pending", json_object_new_boolean(s->power_pending));
	return o;
}

/* The caller's session, cached in its Caller while that session is open. */
bool
sessions_of_caller(Manager *m, Caller *c, PeerSession *ret)
{
	/* Resolved on every call, from the pinned connector (caller.h): the cache only keeps
	 * the answer for the records of this call. */
	PeerSession *ps = &c->session;
	ps->known = false;
	StoreSession s;
	char role[WIRE_MAX_ID + 1] = "";
	if (sessions_find_by_peer(m->sessions, &c->peer, &s) < 0 ||
	    store_operator_role(m->store, s.matching_id, s.operator_id, role) < 0)
		return false;
	*ps = (PeerSession){ .known = true, .session_id = s.id };
	memcpy(ps->matching_id, s.matching_id, sizeof(ps->matching_id));
	memcpy(ps->operator_id, s.operator_id, sizeof(ps->operator_id));
	memcpy(ps->role, role, sizeof(ps->role));
	*ret = *ps;
	return true;
}
