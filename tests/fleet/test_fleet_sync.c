/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fleet_sync against a real PostgreSQL 15 (center.sh: schema, terminals t1..t3, admin city,
 * M1/O1, M2/O2), with three terminals' worth of FleetSync on one loop, each over a small
 * in-memory host standing in for the daemon's store and trail:
 *  - R12 across terminals, and a revocation from t2 reaching t1's host (with its latency);
 *  - the whole local trail uploaded, in order, none twice;
 *  - the center killed (pg_ctl stop -m immediate): records, a revocation and sessions made
 *    while it is away are reconciled when it is back (revocation filed, every record exactly
 *    once, a person opened offline at two terminals reported once as a conflict);
 *  - an uploader dropped in the middle of its upload and started again: nothing lost or
 *    doubled; a local trail that differs from the center's copy stops the upload as a
 *    conflict.
 *
 * Usage: center.sh test_fleet_sync SQL_DIR
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fleet_sync.h"

#define check(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)

#define MAX_RECORDS 4000
#define T           10000000ULL

static const char *pg_sh, *dir;

/* What a daemon keeps, reduced to what fleet_sync asks for. */
typedef struct Host {
	const char *name;
	int64_t n_records;
	uint8_t macs[MAX_RECORDS + 1][FLEET_MAC_LEN];
	char revoked[8][16];
	size_t n_revoked;
	char sessions[8][16];
	size_t n_sessions;
	char applied[16][16];
	uint64_t applied_at[16];
	size_t n_applied;
	char conflicts[8][64];
	size_t n_conflicts;
	int ups, downs;
} Host;

static uint64_t
mono_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

static int
h_apply(const FleetRevocation *rev, void *userdata)
{
	Host *h = userdata;

	for (size_t i = 0; i < h->n_applied; i++)
		if (strcmp(h->applied[i], rev->matching_id) == 0)
			return 0; /* idempotent, as the daemon's must be */
	check(h->n_applied < 16);
	snprintf(h->applied[h->n_applied], 16, "%s", rev->matching_id);
	h->applied_at[h->n_applied++] = mono_usec();
	/* A revocation ends the person's session here. */
	for (size_t i = 0; i < h->n_sessions; i++)
		if (strcmp(h->sessions[i], rev->matching_id) == 0)
			h->sessions[i][0] = '\0';
	return 0;
}

static void
h_each_revocation(fleet_sync_each_fn fn, void *ctx, void *userdata)
{
	Host *h = userdata;

	for (size_t i = 0; i < h->n_revoked; i++)
		fn(h->revoked[i], "departed", ctx);
}

static void
h_each_session(fleet_sync_each_fn fn, void *ctx, void *userdata)
{
	Host *h = userdata;

	for (size_t i = 0; i < h->n_sessions; i++)
		if (h->sessions[i][0]) {
			char op[16];

			/* M<n> works as O<n>. */
			snprintf(op, sizeof(op), "O%s", h->sessions[i] + 1);
			fn(h->sessions[i], op, ctx);
		}
}

static int64_t
h_last_seq(void *userdata)
{
	return ((Host *)userdata)->n_records;
}

static int
h_read(int64_t after, FleetAuditRow *rows, size_t max, void *userdata)
{
	Host *h = userdata;
	size_t n = 0;

	for (int64_t seq = after + 1; seq <= h->n_records && n < max; seq++, n++) {
		FleetAuditRow *w = &rows[n];

		memset(w, 0, sizeof(*w));
		w->seq = seq;
		w->time_usec = 1780000000LL * 1000000 + seq;
		w->terminal = h->name;
		w->action = "login";
		w->outcome = "allow";
		memcpy(w->mac, h->macs[seq], FLEET_MAC_LEN);
	}
	return (int)n;
}

static void
h_conflict(const char *kind, const char *matching_id, const char *detail, void *userdata)
{
	Host *h = userdata;

	check(h->n_conflicts < 8);
	snprintf(h->conflicts[h->n_conflicts++], 64, "%s %s %s", kind, matching_id ?: "-",
	         detail ?: "-");
}

static void
h_state(bool up, void *userdata)
{
	Host *h = userdata;

	if (up)
		h->ups++;
	else
		h->downs++;
}

static void
add_records(Host *h, int64_t n)
{
	for (int64_t i = 0; i < n; i++) {
		int64_t seq = ++h->n_records;

		check(seq <= MAX_RECORDS);
		for (size_t j = 0; j < FLEET_MAC_LEN; j++)
			h->macs[seq][j] = (uint8_t)(seq * 31 + (int64_t)j * 7 + h->name[1]);
	}
}

static FleetSync *
sync_new(sd_event *e, Host *h, const char *terminal)
{
	FleetSyncHost host = {
		.userdata = h,
		.apply_revocation = h_apply,
		.each_local_revocation = h_each_revocation,
		.each_local_session = h_each_session,
		.audit_last_seq = h_last_seq,
		.audit_read = h_read,
		.conflict = h_conflict,
		.state = h_state,
	};
	char conninfo[512];
	FleetSyncConfig cfg = {
		.conninfo = conninfo,
		.terminal = terminal,
		.lease_sec = 30,
		.heartbeat_sec = 1,
		.wait_usec = 2000000,
		.backoff_max_usec = 300000,
	};
	FleetSync *s = NULL;

	snprintf(conninfo, sizeof(conninfo), "host=%s/sock user=biogate_t_%s dbname=postgres", dir,
	         terminal);
	check(fleet_sync_new(e, &cfg, &host, &s) == 0);
	check(fleet_sync_start(s) == 0);
	return s;
}

static bool
is_up(void *userdata)
{
	FleetSyncStatus st;

	fleet_sync_status(userdata, &st);
	return st.up;
}

static bool
is_down(void *userdata)
{
	return !is_up(userdata);
}

typedef struct Until {
	FleetSync *s;
	int64_t seq;
} Until;

static bool
uploaded_to(void *userdata)
{
	Until *u = userdata;
	FleetSyncStatus st;

	fleet_sync_status(u->s, &st);
	return st.center_seq == u->seq;
}

typedef struct Opened {
	bool done;
	FleetOpenResult res;
	char holder[32];
} Opened;

static void
on_open(FleetOpenResult res, const char *holder, void *userdata)
{
	Opened *o = userdata;

	o->done = true;
	o->res = res;
	snprintf(o->holder, sizeof(o->holder), "%s", holder ?: "");
}

static bool
opened(void *userdata)
{
	return ((Opened *)userdata)->done;
}

typedef struct Applied {
	Host *h;
	size_t n;
} Applied;

static bool
applied(void *userdata)
{
	Applied *a = userdata;

	return a->h->n_applied >= a->n;
}

/* The admin's view, through psql: one value. */
static void
admin(const char *sql, char *out, size_t len)
{
	char cmd[2048];
	FILE *p;

	snprintf(cmd, sizeof(cmd),
	         "/usr/lib/postgresql/15/bin/psql -X -q -A -t -h '%s/sock' -U city -d postgres "
	         "-c \"%s\"",
	         dir, sql);
	p = popen(cmd, "r");
	check(p);
	if (!fgets(out, (int)len, p))
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	check(pclose(p) == 0);
}

static void
pg(const char *verb, const char *mode)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "'%s' %s '%s' %s", pg_sh, verb, dir, mode ? mode : "");
	check(system(cmd) == 0);
}

static Host h1 = { .name = "t1" }, h2 = { .name = "t2" }, h3 = { .name = "t3" };

int
main(int argc, char **argv)
{
	sd_event *e = NULL;
	FleetSync *t1, *t2, *t3;
	FleetSyncStatus st;
	Opened o;
	char v[256];
	uint64_t t0;

	check(argc == 3);
	pg_sh = argv[1];
	dir = argv[2];
	check(sd_event_default(&e) >= 0);

	add_records(&h1, 1200);
	t1 = sync_new(e, &h1, "t1");
	t2 = sync_new(e, &h2, "t2");
	/* Before the pass after connecting is through, the center's word is not taken. */
	check(fleet_sync_open_session(t1, "M1", "O1", on_open, &o) == -ENOTCONN);
	check(fleet_conn_wait(fleet_sync_conn(t1), T, is_up, t1) == 0);
	check(fleet_conn_wait(fleet_sync_conn(t2), T, is_up, t2) == 0);
	check(h1.ups == 1 && h2.ups == 1);

	/* The trail goes up by itself after the pass. */
	{
		Until u = { t1, 1200 };

		check(fleet_conn_wait(fleet_sync_conn(t1), T, uploaded_to, &u) == 0);
	}
	admin("SELECT count(*) || ' ' || max(seq) FROM biogate_fleet.audit_records WHERE "
	      "terminal = 't1'",
	      v, sizeof(v));
	check(strcmp(v, "1200 1200") == 0);

	/* R12 across terminals. */
	memset(&o, 0, sizeof(o));
	check(fleet_sync_open_session(t1, "M1", "O1", on_open, &o) == 0);
	check(fleet_conn_wait(fleet_sync_conn(t1), T, opened, &o) == 0);
	check(o.res == FLEET_OPEN_OK);
	snprintf(h1.sessions[h1.n_sessions++], 16, "M1");
	memset(&o, 0, sizeof(o));
	check(fleet_sync_open_session(t2, "M1", "O1", on_open, &o) == 0);
	check(fleet_conn_wait(fleet_sync_conn(t2), T, opened, &o) == 0);
	check(o.res == FLEET_OPEN_HELD && strcmp(o.holder, "t1") == 0);
	memset(&o, 0, sizeof(o));
	check(fleet_sync_open_session(t2, "M2", "O2", on_open, &o) == 0);
	check(fleet_conn_wait(fleet_sync_conn(t2), T, opened, &o) == 0);
	check(o.res == FLEET_OPEN_OK);
	snprintf(h2.sessions[h2.n_sessions++], 16, "M2");

	/* A revocation made at t1 ends M2's session at t2. */
	t0 = mono_usec();
	check(fleet_sync_revoke(t1, "M2", "departed", NULL, NULL) == 0);
	{
		Applied a = { &h2, 1 };

		check(fleet_conn_wait(fleet_sync_conn(t2), T, applied, &a) == 0);
	}
	printf("revocation at t1 applied by t2's host after %.2f ms\n",
	       (double)(h2.applied_at[0] - t0) / 1000);
	check(strcmp(h2.applied[0], "M2") == 0 && h2.sessions[0][0] == '\0');
	admin("SELECT count(*) FROM biogate_fleet.sessions WHERE matching_id = 'M2' AND "
	      "closed_at IS NULL",
	      v, sizeof(v));
	check(strcmp(v, "0") == 0);

	/* The center dies. Meanwhile: t1 keeps recording, revokes M1 (its own session of M1
	 * ends), and both t1 and t2 let a person in by their offline rules. */
	pg("stop", "immediate");
	check(fleet_conn_wait(fleet_sync_conn(t1), T, is_down, t1) == 0);
	check(fleet_conn_wait(fleet_sync_conn(t2), T, is_down, t2) == 0);
	fleet_sync_status(t1, &st);
	check(!st.up && st.offline_since_usec > 0);
	check(fleet_sync_open_session(t1, "M1", "O1", on_open, &o) == -ENOTCONN);
	check(fleet_sync_revoke(t1, "M1", "departed", NULL, NULL) == -ENOTCONN);
	add_records(&h1, 300);
	fleet_sync_kick(t1);
	snprintf(h1.revoked[h1.n_revoked++], 16, "M1");
	h1.sessions[0][0] = '\0';
	fleet_sync_close_session(t1, "M1", "revoked");
	pg("start", NULL);
	check(fleet_conn_wait(fleet_sync_conn(t1), T, is_up, t1) == 0);
	check(fleet_conn_wait(fleet_sync_conn(t2), T, is_up, t2) == 0);
	{
		Until u = { t1, 1500 };
		Applied a = { &h2, 2 };

		check(fleet_conn_wait(fleet_sync_conn(t1), T, uploaded_to, &u) == 0);
		check(fleet_conn_wait(fleet_sync_conn(t2), T, applied, &a) == 0);
	}
	check(strcmp(h2.applied[1], "M1") == 0);
	admin("SELECT count(*) || ' ' || count(DISTINCT seq) || ' ' || max(seq) FROM "
	      "biogate_fleet.audit_records WHERE terminal = 't1'",
	      v, sizeof(v));
	check(strcmp(v, "1500 1500 1500") == 0);
	admin("SELECT revoked_on FROM biogate_fleet.revocations r JOIN biogate_fleet.staff s USING "
	      "(matching_id) WHERE matching_id = 'M1' AND s.state = 'revoked'",
	      v, sizeof(v));
	check(strcmp(v, "t1") == 0);
	admin("SELECT count(*) FROM biogate_fleet.sessions WHERE closed_at IS NULL", v, sizeof(v));
	check(strcmp(v, "0") == 0);
	check(h1.ups == 2 && h1.downs == 1);

	/* Offline at two terminals: a person let in at both by their offline rules is reported
	 * once, by whichever registers second. M3 joins the roster first. */
	admin("INSERT INTO biogate_fleet.staff (matching_id, unix_user, name, affiliation, "
	      "nationality) VALUES ('M3', 'u3', 'Kato', 'Counter', 'JP'); INSERT INTO "
	      "biogate_fleet.operators (operator_id, matching_id, role) VALUES ('O3', 'M3', "
	      "'clerk') RETURNING 1",
	      v, sizeof(v));
	pg("stop", "immediate");
	check(fleet_conn_wait(fleet_sync_conn(t1), T, is_down, t1) == 0);
	check(fleet_conn_wait(fleet_sync_conn(t2), T, is_down, t2) == 0);
	snprintf(h1.sessions[h1.n_sessions++], 16, "M3");
	snprintf(h2.sessions[h2.n_sessions++], 16, "M3");
	pg("start", NULL);
	check(fleet_conn_wait(fleet_sync_conn(t1), T, is_up, t1) == 0);
	check(fleet_conn_wait(fleet_sync_conn(t2), T, is_up, t2) == 0);
	/* Let the registrations queued in the pass come back. */
	{
		Until u1 = { t1, 1500 };

		check(fleet_conn_wait(fleet_sync_conn(t1), T, uploaded_to, &u1) == 0);
		memset(&o, 0, sizeof(o));
		check(fleet_sync_open_session(t1, "M9", "O9", on_open, &o) == 0);
		check(fleet_conn_wait(fleet_sync_conn(t1), T, opened, &o) == 0);
		memset(&o, 0, sizeof(o));
		check(fleet_sync_open_session(t2, "M9", "O9", on_open, &o) == 0);
		check(fleet_conn_wait(fleet_sync_conn(t2), T, opened, &o) == 0);
		check(o.res == FLEET_OPEN_REFUSED);
	}
	for (size_t i = 0; i < h1.n_conflicts; i++)
		fprintf(stderr, "t1: %s\n", h1.conflicts[i]);
	for (size_t i = 0; i < h2.n_conflicts; i++)
		fprintf(stderr, "t2: %s\n", h2.conflicts[i]);
	check(h1.n_conflicts + h2.n_conflicts == 1);
	printf("conflict: %s\n", h1.n_conflicts ? h1.conflicts[0] : h2.conflicts[0]);
	check(strstr(h1.n_conflicts ? h1.conflicts[0] : h2.conflicts[0],
	             h1.n_conflicts ? "session-elsewhere M3 t2" : "session-elsewhere M3 t1"));

	/* A session that ended here without its close reaching the center (lost while
	 * reconnecting) is closed by the next heartbeat's comparison, not held by the lease. */
	admin("SELECT terminal FROM biogate_fleet.sessions WHERE matching_id = 'M3' AND closed_at "
	      "IS NULL",
	      v, sizeof(v));
	{
		/* Whichever registered M3 first holds it. */
		bool at1 = strcmp(v, "t1") == 0;
		Host *h = at1 ? &h1 : &h2;
		FleetSync *holder = at1 ? t1 : t2;

		check(at1 || strcmp(v, "t2") == 0);
		check(strcmp(h->sessions[1], "M3") == 0);
		h->sessions[1][0] = '\0';
		for (int i = 0; i < 50; i++) {
			check(fleet_conn_wait(fleet_sync_conn(holder), 100000, opened,
			                      &(Opened){ 0 }) == -ETIMEDOUT);
			admin(
			    "SELECT count(*) FROM biogate_fleet.sessions WHERE matching_id = 'M3' "
			    "AND closed_at IS NULL",
			    v, sizeof(v));
			if (strcmp(v, "0") == 0)
				break;
		}
		check(strcmp(v, "0") == 0);
		/* The other terminal's refused copy is not registered again on each beat. */
		check(h1.n_conflicts + h2.n_conflicts == 1);
	}

	/* An uploader dropped mid-upload, then started again: every record exactly once. */
	add_records(&h3, 3000);
	t3 = sync_new(e, &h3, "t3");
	{
		Until u = { t3, 500 };

		check(fleet_conn_wait(fleet_sync_conn(t3), T, uploaded_to, &u) == 0);
		/* The second batch is in flight now. */
		fleet_sync_status(t3, &st);
		check(st.uploaded == 500);
		t3 = fleet_sync_free(t3);
		t3 = sync_new(e, &h3, "t3");
		u.s = t3;
		u.seq = 3000;
		check(fleet_conn_wait(fleet_sync_conn(t3), T, uploaded_to, &u) == 0);
	}
	admin("SELECT count(*) || ' ' || count(DISTINCT seq) || ' ' || min(seq) || ' ' || max(seq) "
	      "FROM biogate_fleet.audit_records WHERE terminal = 't3'",
	      v, sizeof(v));
	check(strcmp(v, "3000 3000 1 3000") == 0);
	/* The same terminal with a trail that differs from what the center holds. */
	t3 = fleet_sync_free(t3);
	h3.macs[3000][5] ^= 1;
	add_records(&h3, 10);
	t3 = sync_new(e, &h3, "t3");
	check(fleet_conn_wait(fleet_sync_conn(t3), T, is_up, t3) == 0);
	{
		Until u = { t3, 3010 };

		check(fleet_conn_wait(fleet_sync_conn(t3), 1000000, uploaded_to, &u) == -ETIMEDOUT);
	}
	fleet_sync_status(t3, &st);
	check(st.diverged && h3.n_conflicts == 1 &&
	      strcmp(h3.conflicts[0], "audit-diverged - seq 3000") == 0);
	admin("SELECT max(seq) FROM biogate_fleet.audit_records WHERE terminal = 't3'", v,
	      sizeof(v));
	check(strcmp(v, "3000") == 0);

	admin("SELECT string_agg(name || ':' || lag, ',' ORDER BY name) FROM "
	      "biogate_fleet.fleet_status",
	      v, sizeof(v));
	printf("fleet_status: %s\n", v);

	fleet_sync_free(t1);
	fleet_sync_free(t2);
	fleet_sync_free(t3);
	sd_event_unref(e);
	printf("fleet_sync: ok\n");
	return 0;
}
