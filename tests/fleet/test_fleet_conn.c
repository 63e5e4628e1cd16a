/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fleet_conn against a real PostgreSQL 15 (started by center.sh with the fleet schema,
 * terminal t1, admin role city and staff M1 in place): connects without blocking, queries in
 * order, hears a revocation's NOTIFY as terminal t1, bounds a slow query and a center that
 * accepts but never answers, and comes back after `pg_ctl stop -m immediate` and a restart,
 * LISTENing again.
 *
 * Usage: test_fleet_conn PG_SH DIR   (DIR/sock is the server's socket directory)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fleet_conn.h"

#define check(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)

static const char *pg_sh, *dir;

typedef struct Probe {
	int ups, downs;
	int notifies;
	char channel[64];
	char payload[256];
} Probe;

typedef struct Result {
	bool done;
	int r;
	char value[256];
	int order;
} Result;

static uint64_t
mono_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

static void
on_state(FleetConn *c, bool up, void *userdata)
{
	Probe *p = userdata;

	if (up)
		p->ups++;
	else
		p->downs++;
}

static void
on_notify(FleetConn *c, const char *channel, const char *payload, void *userdata)
{
	Probe *p = userdata;

	p->notifies++;
	snprintf(p->channel, sizeof(p->channel), "%s", channel);
	snprintf(p->payload, sizeof(p->payload), "%s", payload);
}

static int order_counter;

static void
on_result(FleetConn *c, int r, const PGresult *res, void *userdata)
{
	Result *out = userdata;

	out->done = true;
	out->r = r;
	out->order = order_counter++;
	if (res && r == 0 && PQntuples(res) > 0 && PQnfields(res) > 0)
		snprintf(out->value, sizeof(out->value), "%s", PQgetvalue(res, 0, 0));
	else if (res)
		snprintf(out->value, sizeof(out->value), "%s",
		         PQresultErrorField(res, PG_DIAG_SQLSTATE) ?: "");
}

static bool
is_done(void *userdata)
{
	return ((Result *)userdata)->done;
}

static bool
is_up(void *userdata)
{
	return fleet_conn_is_up(userdata);
}

static bool
is_down(void *userdata)
{
	return !fleet_conn_is_up(userdata);
}

static bool
got_notify(void *userdata)
{
	return ((Probe *)userdata)->notifies > 0;
}

static int
query1(FleetConn *c, const char *sql, const char *param, uint64_t timeout, Result *out)
{
	const char *values[1] = { param };
	int r;

	memset(out, 0, sizeof(*out));
	r = fleet_conn_query(c, sql, param ? 1 : 0, param ? values : NULL, NULL, NULL, timeout,
	                     on_result, out);
	if (r < 0)
		return r;
	r = fleet_conn_wait(c, 10 * 1000000ULL, is_done, out);
	return r < 0 ? r : out->r;
}

static FleetConn *
connect_as(sd_event *e, const char *user, Probe *probe)
{
	char conninfo[512];
	FleetConn *c = NULL;

	snprintf(conninfo, sizeof(conninfo), "host=%s/sock user=%s dbname=postgres", dir, user);
	check(fleet_conn_new(e, conninfo, &c) == 0);
	fleet_conn_set_backoff(c, 50 * 1000, 500 * 1000);
	if (probe) {
		fleet_conn_set_state_callback(c, on_state, probe);
		fleet_conn_set_notify_callback(c, on_notify, probe);
	}
	return c;
}

static void
pg(const char *verb, const char *mode)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "'%s' %s '%s' %s", pg_sh, verb, dir, mode ? mode : "");
	check(system(cmd) == 0);
}

/* A server that accepts and never says a word: what a hung center looks like. */
static int
mute_server(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	check(fd >= 0);
	check(strlen(path) < sizeof(sa.sun_path));
	strcpy(sa.sun_path, path);
	check(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	check(listen(fd, 8) == 0);
	return fd;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	sd_event *e = NULL;
	FleetConn *t1, *city;
	Probe p1 = { 0 }, pc = { 0 };
	Result res, many[100];
	uint64_t t0, dt, lat[500];
	int r;

	if (argc != 3) {
		fprintf(stderr, "usage: %s PG_SH DIR\n", argv[0]);
		return 2;
	}
	pg_sh = argv[1];
	dir = argv[2];
	check(sd_event_default(&e) >= 0);

	/* A bad connection string is refused before anything is tried. */
	check(fleet_conn_new(e, "host='unterminated", &t1) == -EINVAL);

	t1 = connect_as(e, "biogate_t_t1", &p1);
	city = connect_as(e, "city", &pc);
	check(fleet_conn_listen(t1, "biogate_revoke") == 0);
	check(fleet_conn_listen(t1, "Bad;channel") == -EINVAL);
	check(query1(t1, "SELECT 1", NULL, 0, &res) == -ENOTCONN);

	t0 = mono_usec();
	check(fleet_conn_start(t1) == 0);
	check(fleet_conn_start(city) == 0);
	check(mono_usec() - t0 < 100000);
	check(fleet_conn_wait(t1, 5000000, is_up, t1) == 0);
	check(fleet_conn_wait(city, 5000000, is_up, city) == 0);
	printf("connect (both, LISTEN included): %.1f ms\n", (double)(mono_usec() - t0) / 1000);
	check(p1.ups == 1 && p1.downs == 0);

	/* Parameters, results, errors with their SQLSTATE. */
	check(query1(t1, "SELECT ($1::int + 1)::text", "41", 0, &res) == 0);
	check(strcmp(res.value, "42") == 0);
	check(query1(t1, "SELECT biogate_fleet.my_terminal()", NULL, 0, &res) == 0);
	check(strcmp(res.value, "t1") == 0);
	check(query1(t1, "SELECT nationality FROM biogate_fleet.staff", NULL, 0, &res) == -EIO);
	check(strcmp(res.value, "42501") == 0); /* insufficient_privilege: R7 */
	check(query1(t1, "SELECT 'still fine'", NULL, 0, &res) == 0);

	/* Queued in order, one in flight at a time. */
	order_counter = 0;
	memset(many, 0, sizeof(many));
	for (int i = 0; i < 100; i++) {
		char v[16];
		const char *values[1] = { v };

		snprintf(v, sizeof(v), "%d", i);
		check(fleet_conn_query(t1, "SELECT $1::text", 1, values, NULL, NULL, 0, on_result,
		                       &many[i]) == 0);
	}
	check(fleet_conn_wait(t1, 10000000, is_done, &many[99]) == 0);
	for (int i = 0; i < 100; i++) {
		check(many[i].done && many[i].r == 0 && many[i].order == i);
		check(atoi(many[i].value) == i);
	}

	/* Named statements: prepared once per connection, then only executed; an urgent query
	 * overtakes what is queued but not yet sent. */
	{
		Result a, b, u;
		const char *v[1] = { "7" };

		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		memset(&u, 0, sizeof(u));
		order_counter = 0;
		check(fleet_conn_query_ex(t1, "t_double", false, "SELECT ($1::int * 2)::text", 1, v,
		                          NULL, NULL, 0, on_result, &a) == 0);
		check(fleet_conn_query_ex(t1, "t_double", false, "SELECT ($1::int * 2)::text", 1, v,
		                          NULL, NULL, 0, on_result, &b) == 0);
		check(fleet_conn_query_ex(t1, NULL, true, "SELECT 'urgent'", 0, NULL, NULL, NULL, 0,
		                          on_result, &u) == 0);
		check(fleet_conn_wait(t1, 5000000, is_done, &b) == 0);
		check(a.r == 0 && b.r == 0 && strcmp(a.value, "14") == 0 &&
		      strcmp(b.value, "14") == 0);
		/* a was on the wire already; u went ahead of b. */
		check(a.order == 0 && u.order == 1 && b.order == 2);
		check(query1(t1,
		             "SELECT count(*)::text FROM pg_prepared_statements WHERE name = "
		             "'t_double'",
		             NULL, 0, &res) == 0);
		check(strcmp(res.value, "1") == 0);
	}

	/* Round trips, for the figures. */
	for (int i = 0; i < 500; i++) {
		t0 = mono_usec();
		check(query1(t1, "SELECT 1", NULL, 0, &res) == 0);
		lat[i] = mono_usec() - t0;
	}
	qsort(lat, 500, sizeof(lat[0]), cmp_u64);
	printf("round trip SELECT 1 over the Unix socket: p50 %.3f ms, p99 %.3f ms (n=500)\n",
	       (double)lat[250] / 1000, (double)lat[495] / 1000);

	/* A revocation filed by the admin wakes terminal t1 (delivered at commit). */
	t0 = mono_usec();
	check(query1(city,
	             "INSERT INTO biogate_fleet.revocations (matching_id, reason) VALUES "
	             "($1, 'departed') RETURNING id::text",
	             "M1", 0, &res) == 0);
	check(fleet_conn_wait(t1, 5000000, got_notify, &p1) == 0);
	printf("revocation INSERT to NOTIFY at the terminal: %.3f ms\n",
	       (double)(mono_usec() - t0) / 1000);
	check(strcmp(p1.channel, "biogate_revoke") == 0);
	check(strstr(p1.payload, "\"matching_id\" : \"M1\"") != NULL);
	/* The payload is a hint; the truth is in the table. */
	check(query1(t1, "SELECT state FROM biogate_fleet.staff WHERE matching_id = $1", "M1", 0,
	             &res) == 0);
	check(strcmp(res.value, "revoked") == 0);

	/* A slow answer is bounded: the query fails with -ETIMEDOUT on time, the connection is
	 * dropped (the server may still be working on it) and comes back by itself. */
	t0 = mono_usec();
	check(query1(t1, "SELECT pg_sleep(5)", NULL, 200000, &res) == -ETIMEDOUT);
	dt = mono_usec() - t0;
	printf("slow query bounded after %.1f ms (timeout 200 ms)\n", (double)dt / 1000);
	check(dt >= 190000 && dt < 1000000);
	check(!fleet_conn_is_up(t1));
	check(p1.downs == 1);
	check(query1(t1, "SELECT 1", NULL, 0, &res) == -ENOTCONN);
	check(fleet_conn_wait(t1, 5000000, is_up, t1) == 0);
	check(p1.ups == 2);
	check(query1(t1, "SELECT 'back'", NULL, 0, &res) == 0);
	/* A new connection: the named statement is prepared again, not assumed. */
	{
		Result a;
		const char *v[1] = { "8" };

		memset(&a, 0, sizeof(a));
		check(fleet_conn_query_ex(t1, "t_double", false, "SELECT ($1::int * 2)::text", 1, v,
		                          NULL, NULL, 0, on_result, &a) == 0);
		check(fleet_conn_wait(t1, 5000000, is_done, &a) == 0);
		check(a.r == 0 && strcmp(a.value, "16") == 0);
	}

	/* The center dies without a word, then comes back: both connections notice, fail fast
	 * while it is away, reconnect, and t1 LISTENs again. */
	pg("stop", "immediate");
	check(fleet_conn_wait(t1, 5000000, is_down, t1) == 0);
	r = query1(t1, "SELECT 1", NULL, 1000000, &res);
	check(r == -ENOTCONN);
	/* Retries while it is away cost nothing but a timer: the loop keeps its pace. */
	t0 = mono_usec();
	check(fleet_conn_wait(t1, 700000, is_up, t1) == -ETIMEDOUT);
	dt = mono_usec() - t0;
	check(dt >= 690000 && dt < 900000);
	check(strlen(fleet_conn_last_error(t1)) > 0);
	printf("while down, t1 says: %s\n", fleet_conn_last_error(t1));
	pg("start", NULL);
	t0 = mono_usec();
	check(fleet_conn_wait(t1, 10000000, is_up, t1) == 0);
	check(fleet_conn_wait(city, 10000000, is_up, city) == 0);
	printf("back up %.1f ms after pg_ctl start returned (backoff max 500 ms)\n",
	       (double)(mono_usec() - t0) / 1000);
	check(fleet_conn_connects(t1) == 3);
	p1.notifies = 0;
	check(query1(city, "SELECT pg_notify('biogate_revoke', 'after restart')", NULL, 0, &res) ==
	      0);
	check(fleet_conn_wait(t1, 5000000, got_notify, &p1) == 0);
	check(strcmp(p1.payload, "after restart") == 0);

	/* A center that accepts and never answers: each attempt ends at the connect timeout and
	 * nothing in the loop waits for it. */
	{
		char path[512], conninfo[600];
		FleetConn *mute = NULL;
		int fd;

		snprintf(path, sizeof(path), "%s/mute", dir);
		check(mkdir(path, 0700) == 0);
		snprintf(path, sizeof(path), "%s/mute/.s.PGSQL.5432", dir);
		fd = mute_server(path);
		snprintf(conninfo, sizeof(conninfo), "host=%s/mute user=x dbname=x", dir);
		check(fleet_conn_new(e, conninfo, &mute) == 0);
		fleet_conn_set_connect_timeout(mute, 300000);
		t0 = mono_usec();
		check(fleet_conn_start(mute) == 0);
		check(mono_usec() - t0 < 50000);
		check(fleet_conn_wait(mute, 1000000, is_up, mute) == -ETIMEDOUT);
		check(strstr(fleet_conn_last_error(mute), "timed out") != NULL);
		/* Meanwhile the other connections kept working on the same loop. */
		check(query1(t1, "SELECT 'alive'", NULL, 0, &res) == 0);
		mute = fleet_conn_free(mute);
		close(fd);
	}

	/* Freeing with queries pending tells their callers. */
	{
		Result a, b;
		const char *v[1] = { "1" };

		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		check(fleet_conn_query(city, "SELECT pg_sleep($1)", 1, v, NULL, NULL, 0, on_result,
		                       &a) == 0);
		check(fleet_conn_query(city, "SELECT 2", 0, NULL, NULL, NULL, 0, on_result, &b) ==
		      0);
		check(fleet_conn_queued(city) == 2);
		city = fleet_conn_free(city);
		check(a.done && a.r == -ECANCELED && b.done && b.r == -ECANCELED);
	}

	t1 = fleet_conn_free(t1);
	sd_event_unref(e);
	printf("fleet_conn: ok\n");
	return 0;
}
