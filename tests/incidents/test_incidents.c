/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * incidents and devices (R17, R15) on a real audit trail (SQLite file, sd-event loop) with a
 * Manager built here: the daemon's core library (incidents.c, devices.c) linked as biogated
 * links it. Core never sees a connection: the test is the caller, with a Caller whose hold
 * and release it counts, as the varlink layer would. The monotonic clock is the test's, so windows
 * pass at once; notify commands are real shell scripts run by posix_spawn and reaped by sd-event.
 * USB decisions are taken from what the helper reports: nothing here touches /sys.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "caller.h"
#include "clock.h"
#include "devices.h"
#include "incidents.h"
#include "interface.h"
#include "manager.h"
#include "policy.h"
#include "errors.h"

#define USEC 1000000LL

static int failures;
#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);            \
			failures++;                                                                \
		}                                                                                  \
	} while (0)
#define CHECK_EQ_INT(a, b)                                                                         \
	do {                                                                                       \
		long long _a = (long long)(a), _b = (long long)(b);                                \
		if (_a != _b) {                                                                    \
			fprintf(stderr, "FAIL %s:%d: %s == %lld, expected %lld\n", __FILE__,       \
			        __LINE__, #a, _a, _b);                                             \
			failures++;                                                                \
		}                                                                                  \
	} while (0)
#define CHECK_EQ_STR(a, b)                                                                         \
	do {                                                                                       \
		const char *_a = (a), *_b = (b);                                                   \
		if (!_a || !_b || strcmp(_a, _b) != 0) {                                           \
			fprintf(stderr, "FAIL %s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__,   \
			        __LINE__, #a, _a ? _a : "(null)", _b ? _b : "(null)");             \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

/* --- the daemon's clock, the test's; the caller
 * ---------------------------------------------------------- */

static int64_t fake_mono = 1000000 * USEC; /* far from 0: windows never reach below it */
static int64_t fake_real_skew;

uint64_t
now_mono_usec(void)
{
	return (uint64_t)fake_mono;
}

int64_t
now_real_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * USEC + ts.tv_nsec / 1000 + fake_real_skew;
}

static void
advance(int64_t sec)
{
	fake_mono += sec * USEC;
	fake_real_skew += sec * USEC;
}

/* The caller core sees; the test counts the holds on its reply, as the server would. */
typedef struct Conn {
	Caller caller; /* first: core's Caller * is this Conn * */
	int holds, releases;
	bool release_ok;
	bool answered_while_held; /* the reply came while a record was pending */
	char error[128];
	json_object *reply;
} Conn;

static void
conn_hold(Caller *caller)
{
	((Conn *)caller)->holds++;
}

static void
conn_release(Caller *caller, int r)
{
	Conn *c = (Conn *)caller;
	c->releases++;
	c->release_ok = r >= 0;
}

static void
conn_reset(Conn *c)
{
	json_object_put(c->reply);
	*c = (Conn){ .caller = { .peer = { .uid = 0, .pid = getpid() },
		                 .hold = conn_hold,
		                 .release = conn_release } };
}

/* What the varlink layer's handlers do with core's answer (varlink/devices-methods.c). */
static void
answer(Conn *c, int r, const char *bad, json_object *o)
{
	if (r == -EINVAL || bad)
		snprintf(c->error, sizeof(c->error), "%s", WIRE_ERR_VARLINK_INVALID);
	else if (r < 0)
		snprintf(c->error, sizeof(c->error), "%s", errors_from_errno(r));
	else {
		c->answered_while_held = c->holds > c->releases;
		c->reply = o;
	}
}

static void
usb_change(Manager *m, Conn *c, json_object *params, bool allow)
{
	const char *bad = NULL;
	json_object *o = NULL;
	const InterfaceMethod *t = allow ? &iface_usb_allow : &iface_usb_revoke;
	if (wire_check(params, t->fields, t->n_fields, &bad) < 0)
		return answer(c, -EINVAL, bad, NULL);
	int r = devices_change(m, &c->caller, wire_str(params, "serial"),
	                       allow ? wire_str(params, "note") : NULL, allow, &bad, &o);
	answer(c, r, NULL, o);
}

static void
usb_allow(Manager *m, Conn *c, json_object *params)
{
	usb_change(m, c, params, true);
}

static void
usb_revoke(Manager *m, Conn *c, json_object *params)
{
	usb_change(m, c, params, false);
}

static void
usb_list(Manager *m, Conn *c, json_object *params)
{
	answer(c, 0, NULL, devices_list_json(m));
}

/* --- helpers ------------------------------------------------------------------------------ */

static char tmpdir[] = "/tmp/biogate-incidents-XXXXXX";
static char notify_dir[512];

static void
write_file(const char *path, const char *text, mode_t mode)
{
	(void)unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		fprintf(stderr, "cannot write %s: %m\n", path);
		exit(1);
	}
	fchmod(fd, mode);
	close(fd);
}

static char *
read_file(const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char *buf = calloc(1, 256 * 1024);
	size_t n = fread(buf, 1, 256 * 1024 - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static Policy *
make_policy(const char *notify)
{
	Policy *p = NULL;
	char text[1024], err[256] = "";
	snprintf(text, sizeof(text),
	         "[incidents]\nnotify = %s\nwindow-sec = 60\nforbidden-search-threshold = 3\n"
	         "failed-match-threshold = 5\n",
	         notify);
	if (policy_new_defaults(&p) < 0 ||
	    policy_load_string(p, "test.conf", text, strlen(text), err, sizeof(err)) < 0) {
		fprintf(stderr, "policy: %s\n", err);
		exit(1);
	}
	return p;
}

/* Runs the loop until the queued records are durable and no notify command runs. */
static void
settle(Manager *m)
{
	for (int k = 0; k < 400; k++) {
		(void)audit_flush(m->audit);
		if (incidents_notify_running(m->incidents) == 0)
			break;
		(void)sd_event_run(m->event, 100000);
	}
	(void)audit_flush(m->audit);
}

static json_object *
query(Manager *m, const char *action)
{
	json_object *arr = NULL;
	AuditFilter f = { .action = action };
	if (audit_query_json(m->audit, &f, &arr) < 0) {
		fprintf(stderr, "audit query failed\n");
		exit(1);
	}
	return arr;
}

static size_t
count_records(Manager *m, const char *action)
{
	json_object *arr = query(m, action);
	size_t n = json_object_array_length(arr);
	json_object_put(arr);
	return n;
}

static json_object *
field_json(json_object *row, const char *key)
{
	json_object *v = NULL;
	json_object_object_get_ex(row, key, &v);
	return v;
}

static const char *
field_str(json_object *row, const char *key)
{
	json_object *v = field_json(row, key);
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static json_object *
detail_of(json_object *row)
{
	const char *d = field_str(row, "detail");
	return d ? json_tokener_parse(d) : NULL;
}

/* The JSON documents the notify scripts received, in the order they were written. */
static size_t
notified(json_object **ret_all)
{
	DIR *dir = opendir(notify_dir);
	json_object *all = json_object_new_array();
	struct dirent *de;
	while (dir && (de = readdir(dir))) {
		if (!strstr(de->d_name, ".json"))
			continue;
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", notify_dir, de->d_name);
		char *text = read_file(path);
		json_object *o = text ? json_tokener_parse(text) : NULL;
		CHECK(o != NULL);
		/* Exactly one document and its newline: the command got the incident alone. */
		CHECK(text && strchr(text, '\n') == text + strlen(text) - 1);
		free(text);
		if (o)
			json_object_array_add(all, o);
	}
	if (dir)
		closedir(dir);
	size_t n = json_object_array_length(all);
	if (ret_all)
		*ret_all = all;
	else
		json_object_put(all);
	return n;
}

/* How many notifications concern rule (and, when given, matching_id). */
static size_t
notified_for(const char *rule, const char *matching_id)
{
	json_object *all = NULL;
	size_t n = notified(&all), hits = 0;
	for (size_t k = 0; k < n; k++) {
		json_object *o = json_object_array_get_idx(all, k);
		const char *r = field_str(o, "rule"), *mid = field_str(o, "matching_id");
		if (r && strcmp(r, rule) == 0 &&
		    (!matching_id || (mid && strcmp(mid, matching_id) == 0)))
			hits++;
	}
	json_object_put(all);
	return hits;
}

/* The detail of an incident record holds these six fields and nothing else (R19). */
static void
check_incident_detail(json_object *row, const char *rule, long long count, const char *situation)
{
	CHECK_EQ_STR(field_str(row, "outcome"), "incident");
	CHECK_EQ_STR(field_str(row, "reason"), rule);
	CHECK_EQ_STR(field_str(row, "terminal"), "test-terminal");
	json_object *d = detail_of(row);
	CHECK(d != NULL);
	if (!d)
		return;
	CHECK_EQ_INT(json_object_object_length(d), 6);
	CHECK_EQ_INT(json_object_get_int64(field_json(d, "count")), count);
	CHECK_EQ_INT(json_object_get_int64(field_json(d, "window_sec")), 60);
	CHECK_EQ_STR(field_str(d, "terminal"), "test-terminal");
	if (situation)
		CHECK_EQ_STR(field_str(d, "situation"), situation);
	const char *first = field_str(d, "first"), *last = field_str(d, "last");
	CHECK(first && strlen(first) == 20 && first[10] == 'T' && first[19] == 'Z');
	CHECK(last && strlen(last) == 20 && strcmp(first, last) <= 0);
	json_object_put(d);
}

/* --- incidents --------------------------------------------------------------------------- */

static void
test_forbidden_searches(Manager *m)
{
	const char *sit = "search refused: key-resident-record-code";
	incidents_note(m->incidents, INCIDENT_FORBIDDEN_SEARCHES, "alice", "op-a", sit);
	advance(1);
	incidents_note(m->incidents, INCIDENT_FORBIDDEN_SEARCHES, "alice", "op-a", sit);
	settle(m);
	CHECK_EQ_INT(count_records(m, "incident.forbidden-searches"), 0);
	CHECK_EQ_INT(notified(NULL), 0);

	advance(1);
	incidents_note(m->incidents, INCIDENT_FORBIDDEN_SEARCHES, "alice", "op-a", sit);
	/* More within the same window: counted, not raised again. */
	incidents_note(m->incidents, INCIDENT_FORBIDDEN_SEARCHES, "alice", "op-a", sit);
	incidents_note(m->incidents, INCIDENT_FORBIDDEN_SEARCHES, "alice", "op-a", sit);
	/* Someone else's searches count apart. */
	for (int k = 0; k < 3; k++)
		incidents_note(m->incidents, INCIDENT_FORBIDDEN_SEARCHES, "bob", NULL, sit);
	settle(m);

	json_object *rows = query(m, "incident.forbidden-searches");
	CHECK_EQ_INT(json_object_array_length(rows), 2);
	if (json_object_array_length(rows) == 2) {
		json_object *a = json_object_array_get_idx(rows, 0);
		CHECK_EQ_STR(field_str(a, "matching_id"), "alice");
		CHECK_EQ_STR(field_str(a, "operator_id"), "op-a");
		check_incident_detail(a, INCIDENT_FORBIDDEN_SEARCHES, 3, sit);
		json_object *d = detail_of(a);
		/* first is the earliest of the three, 2 s before the last. */
		CHECK(d && strcmp(field_str(d, "first"), field_str(d, "last")) < 0);
		json_object_put(d);
		json_object *b = json_object_array_get_idx(rows, 1);
		CHECK_EQ_STR(field_str(b, "matching_id"), "bob");
		check_incident_detail(b, INCIDENT_FORBIDDEN_SEARCHES, 3, sit);
	}
	json_object_put(rows);
	CHECK_EQ_INT(notified_for(INCIDENT_FORBIDDEN_SEARCHES, "alice"), 1);
	CHECK_EQ_INT(notified_for(INCIDENT_FORBIDDEN_SEARCHES, "bob"), 1);
	CHECK_EQ_INT(count_records(m, "incident.notify"), 2);

	/* The contact got the record's content, its seq, and no more. */
	json_object *all = NULL;
	size_t n = notified(&all);
	for (size_t k = 0; k < n; k++) {
		json_object *o = json_object_array_get_idx(all, k);
		CHECK_EQ_INT(json_object_get_int64(field_json(o, "count")), 3);
		CHECK_EQ_INT(json_object_get_int64(field_json(o, "window_sec")), 60);
		CHECK_EQ_STR(field_str(o, "terminal"), "test-terminal");
		CHECK_EQ_STR(field_str(o, "situation"), sit);
		CHECK(json_object_get_int64(field_json(o, "seq")) > 0);
		CHECK_EQ_INT(json_object_object_length(o), 11);
	}
	json_object_put(all);

	/* A window later the count starts over: two more are not enough, three are. */
	advance(61);
	incidents_note(m->incidents, INCIDENT_FORBIDDEN_SEARCHES, "alice", "op-a", sit);
	incidents_note(m->incidents, INCIDENT_FORBIDDEN_SEARCHES, "alice", "op-a", sit);
	settle(m);
	CHECK_EQ_INT(count_records(m, "incident.forbidden-searches"), 2);
	incidents_note(m->incidents, INCIDENT_FORBIDDEN_SEARCHES, "alice", "op-a", sit);
	settle(m);
	CHECK_EQ_INT(count_records(m, "incident.forbidden-searches"), 3);
	CHECK_EQ_INT(notified_for(INCIDENT_FORBIDDEN_SEARCHES, "alice"), 2);
	CHECK_EQ_INT(notified_for(INCIDENT_FORBIDDEN_SEARCHES, "bob"), 1);
}

static void
test_failed_matches(Manager *m)
{
	/* Anyone's failures count together. */
	static const char *const who[] = { "p1", "p2", "p3", "p4", "p5", "p6" };
	for (int k = 0; k < 4; k++) {
		advance(2);
		incidents_note(m->incidents, INCIDENT_FAILED_MATCHES, who[k], NULL, "no match");
	}
	settle(m);
	CHECK_EQ_INT(count_records(m, "incident.failed-matches"), 0);
	incidents_note(m->incidents, INCIDENT_FAILED_MATCHES, who[4], NULL, "no match");
	incidents_note(m->incidents, INCIDENT_FAILED_MATCHES, who[5], NULL, "no match");
	settle(m);
	json_object *rows = query(m, "incident.failed-matches");
	CHECK_EQ_INT(json_object_array_length(rows), 1);
	if (json_object_array_length(rows) == 1) {
		json_object *r = json_object_array_get_idx(rows, 0);
		CHECK_EQ_STR(field_str(r, "matching_id"), "p5");
		check_incident_detail(r, INCIDENT_FAILED_MATCHES, 5, "no match");
	}
	json_object_put(rows);
	CHECK_EQ_INT(notified_for(INCIDENT_FAILED_MATCHES, NULL), 1);

	/* Old failures slide out: 4 more after the window are below the threshold again. */
	advance(60);
	for (int k = 0; k < 4; k++)
		incidents_note(m->incidents, INCIDENT_FAILED_MATCHES, who[k], NULL, NULL);
	settle(m);
	CHECK_EQ_INT(count_records(m, "incident.failed-matches"), 1);
	incidents_note(m->incidents, INCIDENT_FAILED_MATCHES, who[4], NULL, NULL);
	settle(m);
	CHECK_EQ_INT(count_records(m, "incident.failed-matches"), 2);
	CHECK_EQ_INT(notified_for(INCIDENT_FAILED_MATCHES, NULL), 2);
}

static void
test_resident_code(Manager *m)
{
	advance(120);
	/* Every search is an incident; the contact hears once per window and person. */
	for (int k = 0; k < 3; k++)
		incidents_note(m->incidents, INCIDENT_RESIDENT_CODE_SEARCH, "carol", "op-c",
		               "resident record code searched");
	incidents_note(m->incidents, INCIDENT_RESIDENT_CODE_SEARCH, "dave", NULL, NULL);
	settle(m);
	json_object *rows = query(m, "incident.resident-record-code-search");
	CHECK_EQ_INT(json_object_array_length(rows), 4);
	if (json_object_array_length(rows) == 4) {
		for (int k = 0; k < 3; k++) {
			json_object *r = json_object_array_get_idx(rows, (size_t)k);
			CHECK_EQ_STR(field_str(r, "matching_id"), "carol");
			check_incident_detail(r, INCIDENT_RESIDENT_CODE_SEARCH, k + 1,
			                      "resident record code searched");
		}
		json_object *d = detail_of(json_object_array_get_idx(rows, 3));
		CHECK(d && json_object_is_type(field_json(d, "situation"), json_type_null));
		json_object_put(d);
	}
	json_object_put(rows);
	CHECK_EQ_INT(notified_for(INCIDENT_RESIDENT_CODE_SEARCH, "carol"), 1);
	CHECK_EQ_INT(notified_for(INCIDENT_RESIDENT_CODE_SEARCH, "dave"), 1);

	advance(59);
	incidents_note(m->incidents, INCIDENT_RESIDENT_CODE_SEARCH, "carol", "op-c", NULL);
	settle(m);
	CHECK_EQ_INT(notified_for(INCIDENT_RESIDENT_CODE_SEARCH, "carol"), 1);
	advance(1);
	incidents_note(m->incidents, INCIDENT_RESIDENT_CODE_SEARCH, "carol", "op-c", NULL);
	settle(m);
	CHECK_EQ_INT(count_records(m, "incident.resident-record-code-search"), 6);
	CHECK_EQ_INT(notified_for(INCIDENT_RESIDENT_CODE_SEARCH, "carol"), 2);
}

static void
test_chain_broken(Manager *m)
{
	advance(120);
	incidents_note(m->incidents, INCIDENT_AUDIT_TAMPERED, NULL, NULL, "bad-mac at record 7");
	advance(5);
	incidents_note(m->incidents, INCIDENT_AUDIT_TAMPERED, NULL, NULL, "bad-mac at record 7");
	/* Control characters and invalid UTF-8 never cost the record. */
	incidents_note(m->incidents, INCIDENT_AUDIT_TAMPERED, NULL, NULL, "x\x01y\xff\xc3");
	settle(m);
	json_object *rows = query(m, "incident.audit-chain-broken");
	CHECK_EQ_INT(json_object_array_length(rows), 3);
	if (json_object_array_length(rows) == 3) {
		check_incident_detail(json_object_array_get_idx(rows, 0), INCIDENT_AUDIT_TAMPERED,
		                      1, "bad-mac at record 7");
		check_incident_detail(json_object_array_get_idx(rows, 1), INCIDENT_AUDIT_TAMPERED,
		                      2, NULL);
		check_incident_detail(json_object_array_get_idx(rows, 2), INCIDENT_AUDIT_TAMPERED,
		                      3, "x?y??");
	}
	json_object_put(rows);
	CHECK_EQ_INT(notified_for(INCIDENT_AUDIT_TAMPERED, NULL), 1);

	/* An unknown rule is ignored. */
	incidents_note(m->incidents, "no-such-rule", NULL, NULL, NULL);
	settle(m);
	CHECK_EQ_INT(count_records(m, "incident.no-such-rule"), 0);

	json_object *st = incidents_status(m->incidents);
	json_object *arr = field_json(st, "incidents");
	size_t n = json_object_array_length(arr), chain = 0;
	for (size_t k = 0; k < n; k++) {
		json_object *e = json_object_array_get_idx(arr, k);
		if (strcmp(field_str(e, "rule"), INCIDENT_AUDIT_TAMPERED) == 0)
			chain++;
		/* Only the last window's: everything older was advanced past. */
		CHECK_EQ_STR(field_str(e, "rule"), INCIDENT_AUDIT_TAMPERED);
	}
	CHECK_EQ_INT(chain, 3);
	json_object_put(st);
}

static void
swap_policy(Manager *m, const char *notify)
{
	policy_free(m->policy);
	m->policy = make_policy(notify);
}

static json_object *
last_notify_record(Manager *m)
{
	json_object *rows = query(m, "incident.notify");
	size_t n = json_object_array_length(rows);
	json_object *r = n ? json_object_get(json_object_array_get_idx(rows, n - 1)) : NULL;
	json_object_put(rows);
	return r;
}

/* Live (not zombie: a container's PID 1 may never reap the orphans) members of a process
 * group, after giving SIGKILL a moment to land. */
static int
group_alive(pid_t pgid)
{
	int alive = 0;
	for (int tries = 0; tries < 20; tries++) {
		alive = 0;
		DIR *d = opendir("/proc");
		struct dirent *de;
		while (d && (de = readdir(d))) {
			char path[300], buf[512];
			snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
			FILE *f = fopen(path, "re");
			if (!f)
				continue;
			size_t n = fread(buf, 1, sizeof(buf) - 1, f);
			fclose(f);
			buf[n] = '\0';
			char *rp = strrchr(buf, ')');
			char state = 0;
			int ppid = 0, pgrp = 0;
			if (rp && sscanf(rp + 1, " %c %d %d", &state, &ppid, &pgrp) == 3 &&
			    pgrp == pgid && state != 'Z' && state != 'X')
				alive++;
		}
		if (d)
			closedir(d);
		if (!alive)
			break;
		usleep(100000);
	}
	return alive;
}

static void
test_notify_failures(Manager *m)
{
	char path[600], pidfile[600], script[2048];

	/* A command that fails is recorded with its status. */
	snprintf(path, sizeof(path), "%s/fail.sh", tmpdir);
	write_file(path, "#!/bin/sh\ncat >/dev/null\nexit 3\n", 0755);
	swap_policy(m, path);
	advance(120);
	incidents_note(m->incidents, INCIDENT_AUDIT_TAMPERED, NULL, NULL, "fail case");
	settle(m);
	json_object *r = last_notify_record(m);
	CHECK_EQ_STR(field_str(r, "outcome"), "fail");
	CHECK_EQ_STR(field_str(r, "reason"), "exit-status");
	json_object *d = detail_of(r);
	CHECK_EQ_INT(json_object_get_int64(field_json(d, "status")), 3);
	CHECK_EQ_STR(field_str(d, "rule"), INCIDENT_AUDIT_TAMPERED);
	json_object_put(d);
	json_object_put(r);

	/* One others may change is refused before it runs. */
	snprintf(path, sizeof(path), "%s/open.sh", tmpdir);
	write_file(path, "#!/bin/sh\nexit 0\n", 0777);
	swap_policy(m, path);
	advance(120);
	incidents_note(m->incidents, INCIDENT_AUDIT_TAMPERED, NULL, NULL, "bad command");
	settle(m);
	r = last_notify_record(m);
	CHECK_EQ_STR(field_str(r, "outcome"), "fail");
	CHECK_EQ_STR(field_str(r, "reason"), "bad-command");
	json_object_put(r);

	/* One that hangs, with a child of its own: both are killed after 10 s, recorded. */
	snprintf(path, sizeof(path), "%s/hang.sh", tmpdir);
	snprintf(pidfile, sizeof(pidfile), "%s/hang.pid", tmpdir);
	snprintf(script, sizeof(script), "#!/bin/sh\necho $$ > %s.tmp\nmv %s.tmp %s\nsleep 60\n",
	         pidfile, pidfile, pidfile);
	write_file(path, script, 0755);
	swap_policy(m, path);
	advance(120);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	incidents_note(m->incidents, INCIDENT_AUDIT_TAMPERED, NULL, NULL, "hang case");
	(void)audit_flush(m->audit);
	CHECK_EQ_INT(incidents_notify_running(m->incidents), 1);
	settle(m);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK_EQ_INT(incidents_notify_running(m->incidents), 0);
	/* Not a timing assertion: it is only that the kill came from the timeout. */
	CHECK(t1.tv_sec - t0.tv_sec >= 9);
	r = last_notify_record(m);
	CHECK_EQ_STR(field_str(r, "outcome"), "fail");
	CHECK_EQ_STR(field_str(r, "reason"), "timeout");
	CHECK_EQ_STR(field_str(r, "action"), "incident.notify");
	json_object_put(r);
	char *pid = read_file(pidfile);
	CHECK(pid != NULL);
	if (pid) {
		/* The script's process group is gone: sleep died with it. */
		pid_t pgid = (pid_t)atoi(pid);
		CHECK(pgid > 1);
		CHECK_EQ_INT(group_alive(pgid), 0);
		free(pid);
	}
	fprintf(stderr, "hanging notify command killed after %ld s\n",
	        (long)(t1.tv_sec - t0.tv_sec));
}

/* --- notify through biogate-notify.socket ------------------------------------------------ */

/* What systemd does for biogate-notify.socket (Accept=yes): each connection becomes stdin
 * and stdout of a new biogate-notify. Returns the accepting process. */
static pid_t
start_activator(const char *sock, const char *runner)
{
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(sock) >= sizeof(sa.sun_path))
		exit(1);
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 8) < 0) {
		fprintf(stderr, "cannot listen on %s: %m\n", sock);
		exit(1);
	}
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGCHLD, SIG_IGN); /* the runners reap themselves */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (;;) {
			int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			if (c < 0)
				continue;
			if (fork() == 0) {
				signal(SIGCHLD, SIG_DFL);
				dup2(c, STDIN_FILENO);
				dup2(c, STDOUT_FILENO);
				execl(runner, runner, (char *)NULL);
				_exit(127);
			}
			close(c);
		}
	}
	close(lfd);
	return pid;
}

static void
test_notify_service(Manager *m, const char *runner, const char *good_cmd)
{
	char run[600], sock[700], path[600];
	snprintf(run, sizeof(run), "%s/run", tmpdir);
	mkdir(run, 0755);
	snprintf(sock, sizeof(sock), "%s/%s", run, INCIDENTS_NOTIFY_SOCKET);
	pid_t act = start_activator(sock, runner);
	m->runtime_dir = run;

	/* The command runs in the service: the JSON arrives, the record says ok. */
	size_t before = notified(NULL);
	swap_policy(m, good_cmd);
	advance(120);
	incidents_note(m->incidents, INCIDENT_AUDIT_TAMPERED, NULL, NULL, "through the service");
	(void)audit_flush(m->audit);
	CHECK_EQ_INT(incidents_notify_running(m->incidents), 1);
	settle(m);
	CHECK_EQ_INT(notified(NULL), before + 1);
	json_object *r = last_notify_record(m);
	CHECK_EQ_STR(field_str(r, "outcome"), "ok");
	json_object_put(r);

	/* Its exit status comes back. */
	snprintf(path, sizeof(path), "%s/fail.sh", tmpdir);
	write_file(path, "#!/bin/sh\ncat >/dev/null\nexit 4\n", 0755);
	swap_policy(m, path);
	advance(120);
	incidents_note(m->incidents, INCIDENT_AUDIT_TAMPERED, NULL, NULL, "service fail case");
	settle(m);
	r = last_notify_record(m);
	CHECK_EQ_STR(field_str(r, "reason"), "exit-status");
	json_object *d = detail_of(r);
	CHECK_EQ_INT(json_object_get_int64(field_json(d, "status")), 4);
	json_object_put(d);
	json_object_put(r);

	/* A command others may change is refused before anything is sent. */
	snprintf(path, sizeof(path), "%s/open2.sh", tmpdir);
	write_file(path, "#!/bin/sh\nexit 0\n", 0755);
	swap_policy(m, path);
	chmod(path, 0777);
	advance(120);
	incidents_note(m->incidents, INCIDENT_AUDIT_TAMPERED, NULL, NULL, "service bad command");
	settle(m);
	r = last_notify_record(m);
	CHECK(r != NULL);
	CHECK_EQ_STR(field_str(r, "outcome"), "fail");
	CHECK_EQ_STR(field_str(r, "reason"), "bad-command");
	json_object_put(r);

	kill(act, SIGKILL);
	(void)waitpid(act, NULL, 0);
	unlink(sock);
	m->runtime_dir = NULL;
	swap_policy(m, good_cmd);
}

/* --- devices ------------------------------------------------------------------------------ */

/* What biogate-usb-authorize reports for one interface (its sysfs side is tests/integration/
 * usb.sh): asks ("plugged") and, when allowed, reports a write that worked. 1 allowed, 0 not. */
static int
apply(Manager *m, const char *iface, const char *serial, const char *vendor, const char *product)
{
	DevicesAttempt a = { .interface = iface,
		             .serial = serial,
		             .vendor = vendor,
		             .product = product,
		             .applied = true };
	bool allow = false;
	const char *reason = NULL, *bad = NULL;
	int r = devices_attempt(m, NULL, &a, &allow, &reason, &bad);
	if (r < 0 || !allow)
		return r < 0 ? r : 0;
	a.authorized_phase = true;
	r = devices_attempt(m, NULL, &a, &allow, &reason, &bad);
	return r < 0 ? r : allow;
}

static void
reload(Manager *m)
{
	devices_free(m->devices);
	m->devices = NULL;
	CHECK_EQ_INT(devices_new_offline(m, &m->devices), 0);
}

static json_object *
call(Manager *m, Conn *c, void (*fn)(Manager *, Conn *, json_object *), const char *params)
{
	conn_reset(c);
	json_object *p = json_tokener_parse(params);
	fn(m, c, p);
	json_object_put(p);
	settle(m);
	if (c->holds)
		CHECK(c->holds == c->releases && c->release_ok);
	return c->reply;
}

static void
test_devices(Manager *m)
{
	char listpath[700];
	snprintf(listpath, sizeof(listpath), "%s/%s", m->state_dir, DEVICES_ALLOWLIST_FILE);

	CHECK_EQ_INT(devices_new_offline(m, &m->devices), 0);
	CHECK(devices_allowlist_ok(m->devices));
	Conn c;
	conn_reset(&c);

	json_object *o =
	    call(m, &c, usb_allow, "{\"serial\":\"SER-ALLOWED-1\",\"note\":\"counter 2 stick\"}");
	CHECK_EQ_STR(c.error, "");
	CHECK(o && strcmp(field_str(o, "serial"), "SER-ALLOWED-1") == 0);
	CHECK_EQ_INT(c.holds, 1);
	CHECK(c.answered_while_held); /* the server holds it until the usb.allow is durable */
	struct stat st;
	CHECK(stat(listpath, &st) == 0 && (st.st_mode & 07777) == 0600);
	CHECK_EQ_INT(count_records(m, "usb.allow"), 1);

	call(m, &c, usb_allow, "{\"serial\":\"SER-ALLOWED-1\"}");
	CHECK_EQ_STR(c.error, "io.biogate.AlreadyExists");
	/* A bad serial is refused like any bad parameter: by name. */
	call(m, &c, usb_allow, "{\"serial\":\"has space\"}");
	CHECK_EQ_STR(c.error, "org.varlink.service.InvalidParameter");
	call(m, &c, usb_allow, "{\"serial\":\"X\",\"extra\":1}");
	CHECK_EQ_STR(c.error, "org.varlink.service.InvalidParameter");

	size_t storage_before = count_records(m, "incident.storage-blocked");
	size_t notified_before = notified_for(INCIDENT_STORAGE_BLOCKED, NULL);
	advance(120);
	CHECK_EQ_INT(apply(m, "1-1:1.0", "SER-ALLOWED-1", "0781", "5581"), 1);
	CHECK_EQ_INT(apply(m, "1-2:1.0", "SER-OTHER-2", "090c", "1000"), 0);
	CHECK_EQ_INT(apply(m, "1-4:1.0", NULL, "abcd", "1234"), 0);
	/* Nothing but a USB interface's kernel name is taken. */
	CHECK_EQ_INT(apply(m, "../1-1:1.0", "SER-ALLOWED-1", "0781", "5581"), -EINVAL);
	CHECK_EQ_INT(apply(m, "1-1:1.0", "SER-ALLOWED-1", "07g1", "5581"), -EINVAL);
	settle(m);

	json_object *rows = query(m, "usb.attempt");
	CHECK_EQ_INT(json_object_array_length(rows), 3);
	if (json_object_array_length(rows) == 3) {
		static const char *const outcome[] = { "allow", "deny", "deny" };
		static const char *const reason[] = { "allowed", "not-allowed", "no-serial" };
		static const char *const vendor[] = { "0781", "090c", "abcd" };
		for (size_t k = 0; k < 3; k++) {
			json_object *r = json_object_array_get_idx(rows, k);
			CHECK_EQ_STR(field_str(r, "outcome"), outcome[k]);
			CHECK_EQ_STR(field_str(r, "reason"), reason[k]);
			json_object *d = detail_of(r);
			CHECK_EQ_STR(field_str(d, "vendor"), vendor[k]);
			CHECK(json_object_get_boolean(field_json(d, "applied")));
			json_object_put(d);
		}
		json_object *d = detail_of(json_object_array_get_idx(rows, 0));
		CHECK_EQ_STR(field_str(d, "serial"), "SER-ALLOWED-1");
		CHECK_EQ_STR(field_str(d, "product"), "5581");
		CHECK_EQ_STR(field_str(d, "interface"), "1-1:1.0");
		json_object_put(d);
	}
	json_object_put(rows);
	/* Each blocked device is an incident; the contact hears once in the window. */
	CHECK_EQ_INT(count_records(m, "incident.storage-blocked"), storage_before + 2);
	CHECK_EQ_INT(notified_for(INCIDENT_STORAGE_BLOCKED, NULL), notified_before + 1);
	rows = query(m, "incident.storage-blocked");
	size_t nb = json_object_array_length(rows);
	if (nb >= 2) {
		json_object *d = detail_of(json_object_array_get_idx(rows, nb - 2));
		CHECK_EQ_STR(field_str(d, "situation"),
		             "USB mass storage 090c:1000 with serial SER-OTHER-2 was blocked "
		             "(not-allowed)");
		json_object_put(d);
	}
	json_object_put(rows);

	o = call(m, &c, usb_list, "{}");
	CHECK_EQ_STR(c.error, "");
	CHECK_EQ_INT(json_object_array_length(field_json(o, "allowed")), 1);
	json_object *att = field_json(o, "attempts");
	CHECK_EQ_INT(json_object_array_length(att), 3);
	if (json_object_array_length(att) == 3) {
		CHECK_EQ_STR(field_str(json_object_array_get_idx(att, 0), "outcome"), "allow");
		CHECK_EQ_STR(field_str(json_object_array_get_idx(att, 1), "serial"), "SER-OTHER-2");
		CHECK(json_object_is_type(field_json(json_object_array_get_idx(att, 2), "serial"),
		                          json_type_null));
	}
	CHECK(!json_object_get_boolean(field_json(o, "watching")));

	/* The list survives a restart. */
	reload(m);
	CHECK(devices_allowlist_ok(m->devices));
	o = call(m, &c, usb_list, "{}");
	json_object *al = field_json(o, "allowed");
	CHECK_EQ_INT(json_object_array_length(al), 1);
	if (json_object_array_length(al) == 1) {
		CHECK_EQ_STR(field_str(json_object_array_get_idx(al, 0), "note"),
		             "counter 2 stick");
		CHECK(json_object_get_int64(
		          field_json(json_object_array_get_idx(al, 0), "allowed_at")) > 0);
	}
	CHECK_EQ_INT(apply(m, "1-1:1.0", "SER-ALLOWED-1", "0781", "5581"), 1);

	/* Revoked: blocked from the next attempt. */
	call(m, &c, usb_revoke, "{\"serial\":\"SER-ALLOWED-1\"}");
	CHECK_EQ_STR(c.error, "");
	CHECK_EQ_INT(count_records(m, "usb.revoke"), 1);
	CHECK_EQ_INT(apply(m, "1-1:1.0", "SER-ALLOWED-1", "0781", "5581"), 0);
	call(m, &c, usb_revoke, "{\"serial\":\"SER-ALLOWED-1\"}");
	CHECK_EQ_STR(c.error, "io.biogate.NotFound");
	CHECK(stat(listpath, &st) == 0 && (st.st_mode & 07777) == 0600);

	/* A file that is not exactly what the daemon writes is refused, and blocks all. */
	call(m, &c, usb_allow, "{\"serial\":\"SER-ALLOWED-1\"}");
	CHECK_EQ_STR(c.error, "");
	char *good = read_file(listpath);
	CHECK(good != NULL);
	char big[70 * 1024];
	memset(big, ' ', sizeof(big) - 1);
	big[0] = '{';
	big[sizeof(big) - 2] = '}';
	big[sizeof(big) - 1] = '\0';
	const char *const bad[] = {
		"{\"version\":1,\"allowed\":[{\"serial\":\"SER-ALLOWED-1\"",
		"{\"version\":1,\"allowed\":[{\"serial\":\"SER-ALLOWED-1\",\"note\":\"\","
		"\"allowed_at\":1}]} trailing",
		"{\"version\":1,\"allowed\":[{\"serial\":\"SER-ALLOWED-1\",\"note\":\"\","
		"\"allowed_at\":1,\"x\":1}]}",
		"{\"version\":2,\"allowed\":[]}",
		"{\"version\":1,\"allowed\":[{\"serial\":\"SER-ALLOWED-1\",\"note\":\"\","
		"\"allowed_at\":1},{\"serial\":\"SER-ALLOWED-1\",\"note\":\"\",\"allowed_at\":2}]}",
		"{\"version\":1,\"allowed\":[{\"serial\":\"SER ALLOWED\",\"note\":\"\","
		"\"allowed_at\":1}]}",
		"{\"version\":1,\"allowed\":[{\"serial\":\"SER-ALLOWED-1\",\"note\":\"\","
		"\"allowed_at\":-5}]}",
		"{\"version\":1,\"allowed\":[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]}",
		"[]",
		"",
		big,
	};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		write_file(listpath, bad[k], 0600);
		reload(m);
		if (devices_allowlist_ok(m->devices))
			fprintf(stderr, "FAIL: allow-list variant %zu was accepted\n", k);
		CHECK(!devices_allowlist_ok(m->devices));
		CHECK_EQ_INT(apply(m, "1-1:1.0", "SER-ALLOWED-1", "0781", "5581"), 0);
	}
	/* The right content with the wrong mode, or behind a symlink, is refused too. */
	write_file(listpath, good, 0644);
	reload(m);
	CHECK(!devices_allowlist_ok(m->devices));
	char target[700];
	snprintf(target, sizeof(target), "%s/elsewhere.json", tmpdir);
	write_file(target, good, 0600);
	(void)unlink(listpath);
	CHECK(symlink(target, listpath) == 0);
	reload(m);
	CHECK(!devices_allowlist_ok(m->devices));
	CHECK_EQ_INT(apply(m, "1-1:1.0", "SER-ALLOWED-1", "0781", "5581"), 0);
	/* And the daemon does not overwrite what it refused to read. */
	call(m, &c, usb_allow, "{\"serial\":\"SER-NEW\"}");
	CHECK_EQ_STR(c.error, "io.biogate.InternalError");
	CHECK(lstat(listpath, &st) == 0 && S_ISLNK(st.st_mode));

	/* Repaired: accepted again. */
	(void)unlink(listpath);
	write_file(listpath, good, 0600);
	reload(m);
	CHECK(devices_allowlist_ok(m->devices));
	CHECK_EQ_INT(apply(m, "1-1:1.0", "SER-ALLOWED-1", "0781", "5581"), 1);
	free(good);
	conn_reset(&c);
}

static int
rm_rf(const char *path)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", path);
	return system(cmd);
}

int
main(int argc, char **argv)
{
	const char *runner = argc > 1 ? argv[1] : NULL;
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(notify_dir, sizeof(notify_dir), "%s/notified", tmpdir);
	mkdir(notify_dir, 0700);
	char script[1400], path[600];
	snprintf(path, sizeof(path), "%s/notify.sh", tmpdir);
	/* One file per notification, renamed into place complete. */
	snprintf(script, sizeof(script),
	         "#!/bin/sh\nf=%s/n.$$\ncat > \"$f.tmp\" && mv \"$f.tmp\" \"$f.json\"\n",
	         notify_dir);
	write_file(path, script, 0755);

	/* As biogated: SIGCHLD blocked so sd-event can watch the notify commands. */
	sigset_t ss;
	sigemptyset(&ss);
	sigaddset(&ss, SIGCHLD);
	sigprocmask(SIG_BLOCK, &ss, NULL);

	Manager *m = calloc(1, sizeof(*m));
	snprintf(m->terminal, sizeof(m->terminal), "test-terminal");
	m->state_dir = tmpdir;
	m->policy = make_policy(path);
	if (sd_event_new(&m->event) < 0)
		return 1;
	char db[600];
	snprintf(db, sizeof(db), "%s/audit.db", tmpdir);
	if (audit_open(m->event, db, tmpdir, &m->audit) < 0) {
		fprintf(stderr, "audit_open failed\n");
		return 1;
	}
	audit_set_journal(m->audit, false);
	if (incidents_new(m, &m->incidents) < 0)
		return 1;

	test_forbidden_searches(m);
	test_failed_matches(m);
	test_resident_code(m);
	test_chain_broken(m);
	/* storage-blocked comes from devices, with the working notify command. */
	test_devices(m);
	test_notify_failures(m);
	if (runner)
		test_notify_service(m, runner, path);

	devices_free(m->devices);
	audit_close(m->audit);
	m->audit = NULL;
	incidents_free(m->incidents);
	policy_free(m->policy);
	sd_event_unref(m->event);
	free(m);
	/* Every notify command was reaped. */
	CHECK(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD);
	rm_rf(tmpdir);
	if (failures) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("incidents: all checks passed\n");
	return 0;
}
