/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fleet_center's typed calls against a real PostgreSQL 15 (center.sh: schema, terminals t1..t3,
 * admin city, M1/O1 and M2/O2): R12 across terminals with the holder named, leases reaped,
 * sealed templates stored byte for byte under the enrolling terminal's name only, audit upload
 * idempotent by (terminal, seq) and in order, revocation from any terminal applied at the
 * center and heard by the others, and what each refusal maps to.
 *
 * Usage: center.sh test_fleet_center SQL_DIR
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fleet_center.h"

#define check(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)

#define T 5000000ULL /* every call's timeout: 5 s */

static const char *dir;

typedef struct Out {
	bool done;
	int r;
	int64_t n, id;
	char holder[64];
	char text[256];
	int64_t rev_ids[16];
	char rev_mid[16][16], rev_on[16][16];
	size_t n_rev;
	uint8_t mac[FLEET_MAC_LEN];
	bool have_mac;
	int notifies;
	char payload[256];
} Out;

static uint64_t
mono_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

static bool
is_done(void *userdata)
{
	return ((Out *)userdata)->done;
}

static bool
is_up(void *userdata)
{
	return fleet_conn_is_up(userdata);
}

static bool
got_notify(void *userdata)
{
	return ((Out *)userdata)->notifies > 0;
}

static void
on_done(int r, int64_t n, void *userdata)
{
	Out *o = userdata;

	o->done = true;
	o->r = r;
	o->n = n;
}

static void
on_open(int r, int64_t id, const char *holder, void *userdata)
{
	Out *o = userdata;

	o->done = true;
	o->r = r;
	o->id = id;
	snprintf(o->holder, sizeof(o->holder), "%s", holder ? holder : "");
}

static void
on_revs(int r, const FleetRevocation *list, size_t n, void *userdata)
{
	Out *o = userdata;

	o->done = true;
	o->r = r;
	o->n_rev = n;
	for (size_t i = 0; i < n && i < 16; i++) {
		o->rev_ids[i] = list[i].id;
		snprintf(o->rev_mid[i], sizeof(o->rev_mid[i]), "%s", list[i].matching_id);
		snprintf(o->rev_on[i], sizeof(o->rev_on[i]), "%s",
		         list[i].revoked_on ? list[i].revoked_on : "-");
		check(list[i].revoked_at_usec > 1700000000LL * 1000000);
	}
}

static void
on_head(int r, int64_t seq, const uint8_t *mac, void *userdata)
{
	Out *o = userdata;

	o->done = true;
	o->r = r;
	o->n = seq;
	o->have_mac = mac != NULL;
	if (mac)
		memcpy(o->mac, mac, FLEET_MAC_LEN);
}

static void
on_text(FleetConn *c, int r, const PGresult *res, void *userdata)
{
	Out *o = userdata;

	o->done = true;
	o->r = r;
	if (r == 0 && PQntuples(res) == 1)
		snprintf(o->text, sizeof(o->text), "%s", PQgetvalue(res, 0, 0));
}

static void
on_ids(int r, const char *const *ids, size_t n, void *userdata)
{
	Out *o = userdata;

	o->done = true;
	o->r = r;
	for (size_t i = 0; i < n; i++) {
		strncat(o->text, ids[i], sizeof(o->text) - strlen(o->text) - 2);
		strcat(o->text, ",");
	}
}

static void
on_notify(FleetConn *c, const char *channel, const char *payload, void *userdata)
{
	Out *o = userdata;

	o->notifies++;
	snprintf(o->payload, sizeof(o->payload), "%s", payload);
}

static FleetConn *
connect_as(sd_event *e, const char *user)
{
	char conninfo[512];
	FleetConn *c = NULL;

	snprintf(conninfo, sizeof(conninfo), "host=%s/sock user=%s dbname=postgres", dir, user);
	check(fleet_conn_new(e, conninfo, &c) == 0);
	check(fleet_conn_start(c) == 0);
	check(fleet_conn_wait(c, T, is_up, c) == 0);
	return c;
}

/* Waits for a queued call; r is what queuing returned. */
static Out *
wait_out(FleetConn *c, int r, Out *o)
{
	check(r == 0);
	check(fleet_conn_wait(c, 2 * T, is_done, o) == 0);
	return o;
}

static const char *
admin_text(FleetConn *city, const char *sql)
{
	static Out o;

	memset(&o, 0, sizeof(o));
	wait_out(city, fleet_conn_query(city, sql, 0, NULL, NULL, NULL, T, on_text, &o), &o);
	check(o.r == 0);
	return o.text;
}

static void
fill_rows(FleetAuditRow *rows, int64_t first, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		FleetAuditRow *w = &rows[i];

		memset(w, 0, sizeof(*w));
		w->seq = first + (int64_t)i;
		w->time_usec = 1780000000LL * 1000000 + w->seq;
		w->terminal = "host-1";
		w->matching_id = w->seq % 2 ? "M1" : NULL;
		w->operator_id = w->seq % 2 ? "O1" : NULL;
		w->action = "login";
		w->outcome = w->seq % 3 ? "allow" : "deny";
		w->reason = w->seq % 3 ? NULL : "no-match";
		w->detail = "{\"note\":\"窓口 1\"}";
		w->key_hmac = NULL;
		for (size_t j = 0; j < FLEET_MAC_LEN; j++)
			w->mac[j] = (uint8_t)(w->seq * 7 + (int64_t)j);
		w->mac[0] = 0; /* a NUL inside: binary, not text */
	}
}

int
main(int argc, char **argv)
{
	static FleetAuditRow rows[FLEET_UPLOAD_BATCH_MAX];
	sd_event *e = NULL;
	FleetConn *t1, *t2, *t3, *city;
	Out o, heard = { 0 };
	uint8_t sealed[64];
	uint64_t t0;

	check(argc == 3);
	dir = argv[2];
	check(sd_event_default(&e) >= 0);
	t1 = connect_as(e, "biogate_t_t1");
	t2 = connect_as(e, "biogate_t_t2");
	t3 = connect_as(e, "biogate_t_t3");
	city = connect_as(e, "city");
	fleet_conn_set_notify_callback(t1, on_notify, &heard);
	check(fleet_conn_listen(t1, "biogate_revoke") == 0);

	/* R12 across terminals: the second terminal is refused and told where. */
	memset(&o, 0, sizeof(o));
	wait_out(t1, fleet_center_open_session(t1, 1, "M1", "O1", 30, T, on_open, &o), &o);
	check(o.r == 0 && o.id > 0 && o.holder[0] == '\0');
	memset(&o, 0, sizeof(o));
	wait_out(t2, fleet_center_open_session(t2, 1, "M1", "O1", 30, T, on_open, &o), &o);
	check(o.r == 0 && o.id == 0 && strcmp(o.holder, "t1") == 0);
	/* Another terminal cannot close it; its own terminal can, once. */
	memset(&o, 0, sizeof(o));
	wait_out(t2, fleet_center_close_session(t2, "M1", "logout", T, on_done, &o), &o);
	check(o.r == 0 && o.n == 0);
	memset(&o, 0, sizeof(o));
	wait_out(t1, fleet_center_close_session(t1, "M1", "logout", T, on_done, &o), &o);
	check(o.r == 0 && o.n == 1);
	memset(&o, 0, sizeof(o));
	wait_out(t1, fleet_center_close_session(t1, "M1", "logout", T, on_done, &o), &o);
	check(o.r == 0 && o.n == 0);
	memset(&o, 0, sizeof(o));
	wait_out(t2, fleet_center_open_session(t2, 1, "M1", "O1", 30, T, on_open, &o), &o);
	check(o.r == 0 && o.id > 0);
	memset(&o, 0, sizeof(o));
	wait_out(t2, fleet_center_heartbeat(t2, 30, 0, 0, T, on_done, &o), &o);
	check(o.r == 0 && o.n == 1);
	memset(&o, 0, sizeof(o));
	wait_out(t2, fleet_center_open_sessions(t2, T, on_ids, &o), &o);
	check(o.r == 0 && strcmp(o.text, "M1,") == 0);
	memset(&o, 0, sizeof(o));
	wait_out(t1, fleet_center_open_sessions(t1, T, on_ids, &o), &o);
	check(o.r == 0 && strcmp(o.text, "") == 0);
	/* A wrong operator ID for the person is refused, not registered. */
	memset(&o, 0, sizeof(o));
	wait_out(t3, fleet_center_open_session(t3, 1, "M2", "O1", 30, T, on_open, &o), &o);
	check(o.r == -EPERM);

	/* A terminal that stops heartbeating loses its sessions to the lease. */
	memset(&o, 0, sizeof(o));
	wait_out(t1, fleet_center_open_session(t1, 2, "M2", "O2", 1, T, on_open, &o), &o);
	check(o.r == 0 && o.id > 0);
	usleep(1200000);
	memset(&o, 0, sizeof(o));
	wait_out(t2, fleet_center_heartbeat(t2, 30, 5, 9, T, on_done, &o), &o);
	check(o.r == 0 && o.n == 1);
	check(strcmp(admin_text(city, "SELECT close_reason FROM biogate_fleet.sessions WHERE "
	                              "terminal = 't1' AND local_id = 2"),
	             "lease-expired") == 0);
	memset(&o, 0, sizeof(o));
	wait_out(t3, fleet_center_open_session(t3, 1, "M2", "O2", 30, T, on_open, &o), &o);
	check(o.r == 0 && o.id > 0);

	/* Sealed templates, byte for byte, only under the enrolling terminal's own name. */
	for (size_t i = 0; i < sizeof(sealed); i++)
		sealed[i] = (uint8_t)(i * 37);
	memset(&o, 0, sizeof(o));
	wait_out(t1,
	         fleet_center_put_template(t1, "t1", "M1", "right-index", sealed, sizeof(sealed), T,
	                                   on_done, &o),
	         &o);
	check(o.r == 0 && o.n == 1);
	{
		char want[2 * sizeof(sealed) + 1];
		char sql[512];

		for (size_t i = 0; i < sizeof(sealed); i++)
			sprintf(want + 2 * i, "%02x", sealed[i]);
		snprintf(sql, sizeof(sql),
		         "SELECT encode(sealed, 'hex') = '%s' AND enrolled_on = 't1' FROM "
		         "biogate_fleet.templates WHERE matching_id = 'M1'",
		         want);
		check(strcmp(admin_text(city, sql), "t") == 0);
	}
	memset(&o, 0, sizeof(o));
	wait_out(t1,
	         fleet_center_put_template(t1, "t2", "M1", "left-index", sealed, sizeof(sealed), T,
	                                   on_done, &o),
	         &o);
	check(o.r == -EPERM);

	/* Audit upload: in order, idempotent by (terminal, seq), only under its own name. */
	fill_rows(rows, 1, 3);
	memset(&o, 0, sizeof(o));
	wait_out(t1, fleet_center_audit_upload(t1, "t1", rows, 3, T, on_done, &o), &o);
	check(o.r == 0 && o.n == 3);
	memset(&o, 0, sizeof(o));
	wait_out(t1, fleet_center_audit_upload(t1, "t1", rows, 3, T, on_done, &o), &o);
	check(o.r == 0 && o.n == 0);
	fill_rows(rows, 2, 4);
	memset(&o, 0, sizeof(o));
	wait_out(t1, fleet_center_audit_upload(t1, "t1", rows, 4, T, on_done, &o), &o);
	check(o.r == 0 && o.n == 2);
	memset(&o, 0, sizeof(o));
	wait_out(t1, fleet_center_audit_head(t1, "t1", T, on_head, &o), &o);
	check(o.r == 0 && o.n == 5 && o.have_mac && memcmp(o.mac, rows[3].mac, FLEET_MAC_LEN) == 0);
	fill_rows(rows, 7, 2);
	memset(&o, 0, sizeof(o));
	wait_out(t1, fleet_center_audit_upload(t1, "t1", rows, 2, T, on_done, &o), &o);
	check(o.r == -EILSEQ);
	fill_rows(rows, 1, 2);
	memset(&o, 0, sizeof(o));
	wait_out(t1, fleet_center_audit_upload(t1, "t2", rows, 2, T, on_done, &o), &o);
	check(o.r == -EPERM);
	memset(&o, 0, sizeof(o));
	wait_out(t2, fleet_center_audit_head(t2, "t1", T, on_head, &o), &o);
	check(o.r == 0 && o.n == 0 && !o.have_mac); /* t2 cannot see t1's records */
	check(strcmp(admin_text(city, "SELECT count(*) || ' ' || count(matching_id) || ' ' || "
	                              "min(detail) || ' ' || min(rec_terminal) FROM "
	                              "biogate_fleet.audit_records WHERE terminal = 't1'"),
	             "5 3 {\"note\":\"窓口 1\"} host-1") == 0);
	fill_rows(rows, 1, 2);
	rows[1].seq = 3; /* not consecutive */
	check(fleet_center_audit_upload(t1, "t1", rows, 2, T, on_done, &o) == -EINVAL);

	/* Throughput, for the figures: 20,000 records in batches of 500, one terminal. */
	t0 = mono_usec();
	for (int64_t first = 6; first < 6 + 20000; first += FLEET_UPLOAD_BATCH_MAX) {
		fill_rows(rows, first, FLEET_UPLOAD_BATCH_MAX);
		memset(&o, 0, sizeof(o));
		wait_out(t1,
		         fleet_center_audit_upload(t1, "t1", rows, FLEET_UPLOAD_BATCH_MAX, T,
		                                   on_done, &o),
		         &o);
		check(o.r == 0 && o.n == FLEET_UPLOAD_BATCH_MAX);
	}
	printf("audit upload: 20000 records in batches of %d: %.0f records/s\n",
	       FLEET_UPLOAD_BATCH_MAX, 20000.0 / ((double)(mono_usec() - t0) / 1e6));

	/* Revocation from terminal t3: applied at the center at once, heard by t1. */
	memset(&o, 0, sizeof(o));
	wait_out(t3, fleet_center_revoke(t3, "t1", "M2", "departed", T, on_done, &o), &o);
	check(o.r == -EPERM);
	memset(&o, 0, sizeof(o));
	wait_out(t3, fleet_center_revoke(t3, "t3", "M9", "departed", T, on_done, &o), &o);
	check(o.r == -ENOENT);
	memset(&o, 0, sizeof(o));
	wait_out(t3, fleet_center_revoke(t3, "t3", "M2", "sideways", T, on_done, &o), &o);
	check(o.r == -EINVAL); /* check_violation on reason: not a known reason */
	check(heard.notifies == 0);
	memset(&o, 0, sizeof(o));
	wait_out(t3, fleet_center_revoke(t3, "t3", "M2", "departed", T, on_done, &o), &o);
	check(o.r == 0 && o.n > 0);
	check(fleet_conn_wait(t1, T, got_notify, &heard) == 0);
	check(strstr(heard.payload, "\"M2\"") != NULL);
	memset(&o, 0, sizeof(o));
	wait_out(t1, fleet_center_revocations_since(t1, 0, 100, T, on_revs, &o), &o);
	check(o.r == 0 && o.n_rev == 1 && strcmp(o.rev_mid[0], "M2") == 0 &&
	      strcmp(o.rev_on[0], "t3") == 0);
	{
		int64_t mark = o.rev_ids[0];

		memset(&o, 0, sizeof(o));
		wait_out(t1, fleet_center_revocations_since(t1, mark, 100, T, on_revs, &o), &o);
	}
	check(o.r == 0 && o.n_rev == 0);
	/* Its open session at t3 was closed by the center; it cannot open a new one. */
	memset(&o, 0, sizeof(o));
	wait_out(t3, fleet_center_close_session(t3, "M2", "logout", T, on_done, &o), &o);
	check(o.r == 0 && o.n == 0);
	memset(&o, 0, sizeof(o));
	wait_out(t2, fleet_center_open_session(t2, 7, "M2", "O2", 30, T, on_open, &o), &o);
	check(o.r == -EPERM);

	/* Arguments checked before anything is queued. */
	check(fleet_center_open_session(t1, 0, "M1", "O1", 30, T, on_open, &o) == -EINVAL);
	check(fleet_center_revocations_since(t1, 0, 0, T, on_revs, &o) == -EINVAL);
	check(fleet_center_audit_upload(t1, "t1", rows, 0, T, on_done, &o) == -EINVAL);
	check(fleet_center_heartbeat(t1, 30, 0, 0, T, NULL, NULL) == -EINVAL);

	fleet_conn_free(t1);
	fleet_conn_free(t2);
	fleet_conn_free(t3);
	fleet_conn_free(city);
	sd_event_unref(e);
	printf("fleet_center: ok\n");
	return 0;
}
