/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * audit_bench: the driver behind bench/audit.sh. It measures daemon/audit.c as biogated uses
 * it and prints one line of figures per run; the script times the sha256sum baseline itself.
 * It never asserts a time: targets are judged by the script's reader.
 *
 *   audit_bench append DIR N PRODUCERS [journal]
 *       PRODUCERS clients, each appending one record and appending its next only when the
 *       callback says the last one is durable (as a client waiting for its reply would), on
 *       a real sd-event loop, until N records are durable.
 *   audit_bench fill DIR N       appends N records as fast as possible (offline, no loop)
 *   audit_bench verify DIR       times audit_verify over what fill wrote
 *   audit_bench export DIR FILE  writes the records as JSON Lines (a sha256sum baseline)
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "audit.h"

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what, int r)
{
	fprintf(stderr, "audit_bench: %s: %s\n", what, strerror(r < 0 ? -r : r));
	exit(EXIT_FAILURE);
}

/* A record shaped like the daemon's commonest one: a search decision with its key's HMAC. */
static AuditRecord
bench_record(int64_t i, char mid[static 16], char op[static 16])
{
	snprintf(mid, 16, "M%06" PRId64, i % 500);
	snprintf(op, 16, "OP%06" PRId64, i % 800);
	return (AuditRecord){
		.time_usec = 1735689600000000 + i * 20,
		.terminal = "counter-01",
		.matching_id = mid,
		.operator_id = op,
		.action = "authorize.search",
		.outcome = i % 50 ? "allow" : "deny",
		.reason = i % 50 ? "ok" : "not-permitted",
		.detail = NULL,
		.key_hmac = "3f7a0c9e1b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a",
	};
}

typedef struct Bench {
	Audit *a;
	sd_event *e;
	int64_t target, issued, done;
	int err;
} Bench;

static void on_done(int r, int64_t seq, void *userdata);

static void
issue(Bench *b)
{
	char mid[16], op[16];
	AuditRecord rec = bench_record(b->issued, mid, op);
	int r = audit_append(b->a, &rec, on_done, b);
	if (r < 0)
		die("append", r);
	b->issued++;
}

static void
on_done(int r, int64_t seq, void *userdata)
{
	Bench *b = userdata;
	if (r < 0 && !b->err)
		b->err = r;
	b->done++;
	if (b->done >= b->target)
		(void)sd_event_exit(b->e, 0);
	else if (b->issued < b->target)
		issue(b);
}

static char *
db_path(const char *dir)
{
	char *p = NULL;
	if (asprintf(&p, "%s/audit.db", dir) < 0)
		die("asprintf", -ENOMEM);
	return p;
}

static int
cmd_append(const char *dir, int64_t n, int producers, bool journal)
{
	Bench b = { .target = n };
	int r = sd_event_new(&b.e);
	if (r < 0)
		die("sd_event_new", r);
	char *db = db_path(dir);
	r = audit_open(b.e, db, dir, &b.a);
	if (r < 0)
		die("audit_open", r);
	audit_set_journal(b.a, journal);
	uint64_t c0 = audit_commits(b.a);
	double t0 = now_s();
	for (int i = 0; i < producers && b.issued < n; i++)
		issue(&b);
	r = sd_event_loop(b.e);
	double t = now_s() - t0;
	if (r < 0)
		die("sd_event_loop", r);
	if (b.err)
		die("commit", b.err);
	uint64_t commits = audit_commits(b.a) - c0;
	printf("append: %" PRId64 " records, %d producers, journal %s: %.3f s, %.0f records/s, "
	       "%.0f commits/s, %.1f records/commit\n",
	       n, producers, journal ? "on" : "off", t, (double)n / t, (double)commits / t,
	       (double)n / (double)commits);
	audit_close(b.a);
	sd_event_unref(b.e);
	free(db);
	return 0;
}

static int
cmd_fill(const char *dir, int64_t n)
{
	char *db = db_path(dir);
	Audit *a = NULL;
	int r = audit_open(NULL, db, dir, &a);
	if (r < 0)
		die("audit_open", r);
	audit_set_journal(a, false);
	double t0 = now_s();
	for (int64_t i = 0; i < n; i++) {
		char mid[16], op[16];
		AuditRecord rec = bench_record(i, mid, op);
		r = audit_append(a, &rec, NULL, NULL);
		if (r == -EBUSY) {
			r = audit_flush(a);
			if (r >= 0)
				r = audit_append(a, &rec, NULL, NULL);
		}
		if (r < 0)
			die("append", r);
	}
	r = audit_flush(a);
	if (r < 0)
		die("flush", r);
	double t = now_s() - t0;
	audit_close(a); /* checkpoints the WAL into the database file */
	struct stat st;
	if (stat(db, &st) < 0)
		die("stat", -errno);
	printf("fill: %" PRId64 " records in %.3f s, database %.1f MB\n", n, t,
	       (double)st.st_size / 1e6);
	free(db);
	return 0;
}

static int
cmd_verify(const char *dir)
{
	char *db = db_path(dir);
	Audit *a = NULL;
	int r = audit_open(NULL, db, dir, &a);
	if (r < 0)
		die("audit_open", r);
	AuditVerifyResult v;
	double t0 = now_s();
	r = audit_verify(a, &v);
	double t = now_s() - t0;
	if (r < 0)
		die("verify", r);
	printf("verify: %" PRId64 " records, %s, %.3f s, %.0f records/s\n", v.records,
	       audit_problem_name(v.problem), t, (double)v.records / t);
	audit_close(a);
	free(db);
	return v.problem == AUDIT_OK ? 0 : 2;
}

static int
cmd_export(const char *dir, const char *file)
{
	char *db = db_path(dir);
	Audit *a = NULL;
	int r = audit_open(NULL, db, dir, &a);
	if (r < 0)
		die("audit_open", r);
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		die("open", -errno);
	r = audit_export(a, NULL, false, fd);
	if (r < 0)
		die("export", r);
	close(fd);
	audit_close(a);
	free(db);
	return 0;
}

/* A month of n records (30 days from day0, evenly spread), sealed as the daemon seals: a
 * checkpoint every AUDIT_SEAL_EVERY_RECORDS records, each day's key destroyed at its end; the
 * public key list goes to DIR/keys.txt. */
static int
cmd_seal_fill(const char *dir, int64_t n)
{
	char *db = db_path(dir);
	Audit *a = NULL;
	int r = audit_open(NULL, db, dir, &a);
	if (r < 0)
		die("audit_open", r);
	audit_set_journal(a, false);
	const int64_t day = 86400LL * 1000000, day0 = 20000, span = 30 * day;
	r = audit_seal_at(a, day0 * day);
	if (r < 0)
		die("seal", r);
	double t0 = now_s();
	for (int64_t i = 0; i < n; i++) {
		char mid[16], op[16];
		AuditRecord rec = bench_record(i, mid, op);
		rec.time_usec = day0 * day + i * (span / n);
		r = audit_append(a, &rec, NULL, NULL);
		if (r == -EBUSY) {
			r = audit_flush(a);
			if (r >= 0)
				r = audit_append(a, &rec, NULL, NULL);
		}
		if (r >= 0 && (i + 1) % AUDIT_SEAL_EVERY_RECORDS == 0) {
			r = audit_flush(a);
			if (r >= 0)
				r = audit_seal_at(a, rec.time_usec + 1);
		}
		if (r < 0)
			die("append", r);
	}
	r = audit_flush(a);
	if (r >= 0)
		r = audit_seal_at(a, day0 * day + span);
	if (r < 0)
		die("flush", r);
	double t = now_s() - t0;
	char *text = NULL, fp[65];
	r = audit_seal_keys_text(a, &text, fp);
	if (r < 0)
		die("keys", r);
	char *kp = NULL;
	if (asprintf(&kp, "%s/keys.txt", dir) < 0)
		die("asprintf", -ENOMEM);
	FILE *f = fopen(kp, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		die("keys.txt", -EIO);
	printf("seal-fill: %" PRId64 " records over 30 days in %.3f s\n", n, t);
	free(kp);
	free(text);
	audit_close(a);
	free(db);
	return 0;
}

static int
cmd_seal_export(const char *dir, const char *file)
{
	char *db = db_path(dir);
	Audit *a = NULL;
	int r = audit_open(NULL, db, dir, &a);
	if (r < 0)
		die("audit_open", r);
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		die("open", -errno);
	double t0 = now_s();
	r = audit_export_sealed(a, 0, 0, fd);
	if (r < 0)
		die("export", r);
	printf("seal-export: %.3f s\n", now_s() - t0);
	close(fd);
	audit_close(a);
	free(db);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 5 && strcmp(argv[1], "append") == 0)
		return cmd_append(argv[2], strtoll(argv[3], NULL, 10), atoi(argv[4]),
		                  argc >= 6 && strcmp(argv[5], "journal") == 0);
	if (argc == 4 && strcmp(argv[1], "fill") == 0)
		return cmd_fill(argv[2], strtoll(argv[3], NULL, 10));
	if (argc == 3 && strcmp(argv[1], "verify") == 0)
		return cmd_verify(argv[2]);
	if (argc == 4 && strcmp(argv[1], "export") == 0)
		return cmd_export(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "seal-fill") == 0)
		return cmd_seal_fill(argv[2], strtoll(argv[3], NULL, 10));
	if (argc == 4 && strcmp(argv[1], "seal-export") == 0)
		return cmd_seal_export(argv[2], argv[3]);
	fprintf(stderr, "usage: audit_bench append DIR N PRODUCERS [journal] | fill DIR N | "
	                "verify DIR | export DIR FILE | seal-fill DIR N | seal-export DIR FILE\n");
	return EXIT_FAILURE;
}
