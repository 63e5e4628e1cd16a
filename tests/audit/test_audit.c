/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* asprintf, memmem */
#endif
/*
 * Unit tests of daemon/audit.c on a real SQLite file and a real sd-event loop: group commit
 * (one transaction per loop turn, callbacks only after COMMIT, every callback told about a
 * failed write and the chain intact afterwards), the chain and head against each way of
 * tampering (each named with the exact problem and record), the search-key HMAC, that no key
 * byte reaches the database files or exports (R19), the key file's rules, filters, and JSON
 * Lines and CSV export read back by an independent parser. The process sets umask 0 so that
 * the 0600 checks test the code, not the environment.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sqlite3.h>
#include <systemd/sd-event.h>

#include "audit.h"

static int failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

#define CHECK_EQ(got, want)                                                                        \
	do {                                                                                       \
		long long _g = (long long)(got), _w = (long long)(want);                           \
		if (_g != _w) {                                                                    \
			fprintf(stderr, "%s:%d: %s = %lld, want %lld\n", __FILE__, __LINE__, #got, \
			        _g, _w);                                                           \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

#define REQUIRE(cond)                                                                              \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond); \
			exit(EXIT_FAILURE);                                                        \
		}                                                                                  \
	} while (0)

static char tmpdir[] = "/tmp/biogate-test-audit.XXXXXX";
static char *keydir;

static char *
path_in(const char *name)
{
	char *p = NULL;
	REQUIRE(asprintf(&p, "%s/%s", tmpdir, name) >= 0);
	return p;
}

static int
rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

static void
cleanup_tmpdir(void)
{
	(void)nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Reads a whole file, NUL-terminated; NULL and *len 0 when it does not exist. */
static uint8_t *
slurp(const char *path, size_t *len)
{
	*len = 0;
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0;
	for (;;) {
		/* Room for a terminating NUL, so text files can be used as strings. */
		if (n + 1 >= cap) {
			cap = cap ? 2 * cap : 65536;
			buf = realloc(buf, cap);
			REQUIRE(buf);
		}
		size_t k = fread(buf + n, 1, cap - n, f);
		if (k == 0)
			break;
		n += k;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void
copy_file(const char *from, const char *to)
{
	size_t n;
	uint8_t *b = slurp(from, &n);
	REQUIRE(b);
	FILE *f = fopen(to, "wb");
	REQUIRE(f && fwrite(b, 1, n, f) == n && fclose(f) == 0);
	REQUIRE(chmod(to, 0600) == 0);
	free(b);
}

/* ---- the event loop ---- */

static sd_event *loop;

static void
run_until(const int *counter, int want)
{
	for (int i = 0; i < 1000 && *counter < want; i++)
		REQUIRE(sd_event_run(loop, 1000000) >= 0);
	REQUIRE(*counter >= want);
}

typedef struct Seen {
	Audit *a;
	int n;
	int64_t seq[8192];
	int r[8192];
	int64_t count_at[8192];
} Seen;

static Seen seen;

static void
on_done(int r, int64_t seq, void *userdata)
{
	Seen *s = userdata;
	REQUIRE(s->n < 8192);
	s->r[s->n] = r;
	s->seq[s->n] = seq;
	/* What is committed when the callback runs: the record must already be there. */
	s->count_at[s->n] = s->a ? audit_count(s->a) : -1;
	s->n++;
}

static int64_t now_base = 1735689600000000; /* 2025-01-01 UTC */

static AuditRecord
rec_n(int i)
{
	static char mid[32], op[32];
	snprintf(mid, sizeof(mid), "M%04d", i % 7);
	snprintf(op, sizeof(op), "OP%04d", i % 5);
	return (AuditRecord){
		.time_usec = now_base + i,
		.terminal = "counter-01",
		.matching_id = mid,
		.operator_id = op,
		.action = i % 3 == 0 ? "login" : "authorize.search",
		.outcome = i % 4 == 0 ? "deny" : "allow",
		.reason = i % 4 == 0 ? "not-permitted" : NULL,
		.detail = i % 2 ? "{\"n\":1}" : NULL,
	};
}

static Audit *
open_audit(const char *db)
{
	Audit *a = NULL;
	int r = audit_open(loop, db, keydir, &a);
	if (r < 0)
		fprintf(stderr, "audit_open(%s): %s\n", db, strerror(-r));
	REQUIRE(r == 0 && a);
	audit_set_journal(a, false);
	return a;
}

static void
verify_expect(Audit *a, AuditProblem p, int64_t seq, const char *what)
{
	AuditVerifyResult v = { 0 };
	int r = audit_verify(a, &v);
	if (r < 0 || v.problem != p || v.first_bad_seq != seq) {
		fprintf(stderr, "verify %s: r=%d problem=%s first_bad_seq=%lld, want %s at %lld\n",
		        what, r, audit_problem_name(v.problem), (long long)v.first_bad_seq,
		        audit_problem_name(p), (long long)seq);
		failures++;
	}
}

/* ---- group commit ---- */

typedef struct Producer {
	Audit *a;
	int fd;
	int i;
} Producer;

static int
on_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	Producer *p = userdata;
	char c;
	REQUIRE(read(fd, &c, 1) == 1);
	AuditRecord rec = rec_n(p->i);
	CHECK_EQ(audit_append(p->a, &rec, on_done, &seen), 0);
	return 0;
}

static void
test_group_commit(void)
{
	char *db = path_in("group.db");
	Audit *a = open_audit(db);
	memset(&seen, 0, sizeof(seen));
	seen.a = a;

	/* 100 appends in one turn: nothing durable, nobody told, until the loop runs. */
	uint64_t c0 = audit_commits(a);
	for (int i = 0; i < 100; i++) {
		AuditRecord rec = rec_n(i);
		CHECK_EQ(audit_append(a, &rec, on_done, &seen), 0);
	}
	CHECK_EQ(seen.n, 0);
	CHECK_EQ(audit_count(a), 0);
	run_until(&seen.n, 100);
	CHECK_EQ(audit_commits(a) - c0, 1);
	for (int i = 0; i < 100; i++) {
		CHECK_EQ(seen.r[i], 0);
		CHECK_EQ(seen.seq[i], i + 1);
		CHECK_EQ(seen.count_at[i], 100);
	}

	/* Twelve clients' requests ready at once: each I/O handler appends one record, and the
	 * idle-priority commit runs only after all of them, as one transaction. */
	Producer prod[12];
	sd_event_source *src[12];
	int fds[12][2];
	for (int i = 0; i < 12; i++) {
		REQUIRE(pipe2(fds[i], O_CLOEXEC | O_NONBLOCK) == 0);
		prod[i] = (Producer){ .a = a, .fd = fds[i][0], .i = 1000 + i };
		REQUIRE(sd_event_add_io(loop, &src[i], fds[i][0], EPOLLIN, on_readable, &prod[i]) >=
		        0);
		REQUIRE(write(fds[i][1], "x", 1) == 1);
	}
	c0 = audit_commits(a);
	run_until(&seen.n, 112);
	CHECK_EQ(audit_commits(a) - c0, 1);
	for (int i = 100; i < 112; i++) {
		CHECK_EQ(seen.r[i], 0);
		CHECK_EQ(seen.seq[i], i + 1);
		CHECK_EQ(seen.count_at[i], 112);
	}
	for (int i = 0; i < 12; i++) {
		sd_event_source_disable_unref(src[i]);
		close(fds[i][0]);
		close(fds[i][1]);
	}

	/* The queue is bounded: the 4097th pending record is refused, not buffered. */
	int r = 0, n = 0;
	for (; n < 5000; n++) {
		AuditRecord rec = rec_n(n);
		r = audit_append(a, &rec, NULL, NULL);
		if (r < 0)
			break;
	}
	CHECK_EQ(r, -EBUSY);
	CHECK_EQ(n, 4096);
	c0 = audit_commits(a);
	CHECK_EQ(audit_flush(a), 0);
	CHECK_EQ(audit_commits(a) - c0, 1);
	CHECK_EQ(audit_count(a), 112 + 4096);

	verify_expect(a, AUDIT_OK, 0, "after group commits");
	AuditVerifyResult v;
	CHECK_EQ(audit_verify(a, &v), 0);
	CHECK_EQ(v.records, 112 + 4096);
	audit_close(a);
	free(db);
}

/* A write that fails (the file-size limit stops the WAL from growing): every callback of the
 * batch hears the error, nothing is stored, and the chain carries on intact afterwards. */
static void
test_write_failure(void)
{
	char *db = path_in("fail.db");
	Audit *a = open_audit(db);
	memset(&seen, 0, sizeof(seen));
	seen.a = a;
	for (int i = 0; i < 5; i++) {
		AuditRecord rec = rec_n(i);
		CHECK_EQ(audit_append(a, &rec, on_done, &seen), 0);
	}
	run_until(&seen.n, 5);

	char *wal = path_in("fail.db-wal");
	struct stat st_db, st_wal;
	REQUIRE(stat(db, &st_db) == 0 && stat(wal, &st_wal) == 0);
	struct rlimit old, lim;
	REQUIRE(getrlimit(RLIMIT_FSIZE, &old) == 0);
	lim = old;
	lim.rlim_cur = (rlim_t)(st_db.st_size > st_wal.st_size ? st_db.st_size : st_wal.st_size);
	REQUIRE(signal(SIGXFSZ, SIG_IGN) != SIG_ERR);
	REQUIRE(setrlimit(RLIMIT_FSIZE, &lim) == 0);

	/* 200 records of 4000 bytes need far more than the files' current size. */
	char *big = malloc(4001);
	REQUIRE(big);
	memset(big, 'd', 4000);
	big[4000] = '\0';
	uint64_t c0 = audit_commits(a);
	for (int i = 0; i < 200; i++) {
		AuditRecord rec = rec_n(i);
		rec.detail = big;
		CHECK_EQ(audit_append(a, &rec, on_done, &seen), 0);
	}
	run_until(&seen.n, 205);
	REQUIRE(setrlimit(RLIMIT_FSIZE, &old) == 0);
	CHECK_EQ(audit_commits(a), c0);
	for (int i = 5; i < 205; i++) {
		CHECK(seen.r[i] < 0);
		CHECK_EQ(seen.r[i], seen.r[5]);
		CHECK_EQ(seen.seq[i], 0);
	}
	CHECK_EQ(audit_count(a), 5);

	/* The chain continues from the last committed record. */
	AuditRecord rec = rec_n(99);
	CHECK_EQ(audit_append(a, &rec, on_done, &seen), 0);
	run_until(&seen.n, 206);
	CHECK_EQ(seen.r[205], 0);
	CHECK_EQ(seen.seq[205], 6);
	verify_expect(a, AUDIT_OK, 0, "after a failed write");
	audit_close(a);

	a = open_audit(db);
	verify_expect(a, AUDIT_OK, 0, "after a failed write, reopened");
	CHECK_EQ(audit_count(a), 6);
	audit_close(a);
	free(big);
	free(wal);
	free(db);
}

/* ---- tampering ---- */

static const char *base_db;

static void
make_base(void)
{
	static char *db;
	db = path_in("base.db");
	Audit *a = open_audit(db);
	for (int i = 1; i <= 20; i++) {
		AuditRecord rec = rec_n(i);
		CHECK_EQ(audit_append(a, &rec, NULL, NULL), 0);
	}
	CHECK_EQ(audit_flush(a), 0);
	verify_expect(a, AUDIT_OK, 0, "base");
	audit_close(a);
	base_db = db;
}

/* Copies the base log, changes it with plain SQL as someone holding the file would (the
 * append-only triggers are no obstacle to them), and verifies. */
static void
tamper_case(const char *name, const char *sql, AuditProblem want, int64_t want_seq)
{
	char *db = NULL;
	REQUIRE(asprintf(&db, "%s/tamper-%s.db", tmpdir, name) >= 0);
	copy_file(base_db, db);
	sqlite3 *s = NULL;
	REQUIRE(sqlite3_open(db, &s) == SQLITE_OK);
	char *err = NULL;
	int rc = sqlite3_exec(s, "DROP TRIGGER records_no_update; DROP TRIGGER records_no_delete;",
	                      NULL, NULL, &err);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(s, sql, NULL, NULL, &err);
	if (rc != SQLITE_OK)
		fprintf(stderr, "tamper %s: %s\n", name, err ? err : "?");
	REQUIRE(rc == SQLITE_OK);
	sqlite3_free(err);
	REQUIRE(sqlite3_close(s) == SQLITE_OK);

	Audit *a = open_audit(db);
	verify_expect(a, want, want_seq, name);
	audit_close(a);
	free(db);
}

static void
test_tamper(void)
{
	make_base();
	tamper_case("none", "SELECT 1", AUDIT_OK, 0);
	/* One byte: counter-01 -> counter-02. */
	tamper_case("edit-byte", "UPDATE records SET terminal = 'counter-02' WHERE seq = 7",
	            AUDIT_BAD_MAC, 7);
	tamper_case("edit-time", "UPDATE records SET time = time + 1 WHERE seq = 13", AUDIT_BAD_MAC,
	            13);
	tamper_case("null-to-empty", "UPDATE records SET reason = '' WHERE seq = 3", AUDIT_BAD_MAC,
	            3);
	tamper_case("edit-mac", "UPDATE records SET mac = zeroblob(32) WHERE seq = 20",
	            AUDIT_BAD_MAC, 20);
	tamper_case("delete", "DELETE FROM records WHERE seq = 5", AUDIT_GAP, 5);
	tamper_case("delete-first", "DELETE FROM records WHERE seq = 1", AUDIT_GAP, 1);
	/* Deleted and renumbered to close the hole: the record now at 5 was MAC'd as 6. */
	tamper_case("delete-renumber",
	            "DELETE FROM records WHERE seq = 5;"
	            "UPDATE records SET seq = seq + 1000 WHERE seq > 5;"
	            "UPDATE records SET seq = seq - 1001 WHERE seq > 1000;"
	            "UPDATE head SET seq = 19, mac = (SELECT mac FROM records WHERE seq = 19)",
	            AUDIT_BAD_MAC, 5);
	/* Two records swapped, contents and MACs alike. */
	tamper_case("swap",
	            "UPDATE records SET seq = -8 WHERE seq = 8;"
	            "UPDATE records SET seq = 8 WHERE seq = 12;"
	            "UPDATE records SET seq = 12 WHERE seq = -8;",
	            AUDIT_BAD_MAC, 8);
	tamper_case("swap-adjacent",
	            "UPDATE records SET seq = -15 WHERE seq = 15;"
	            "UPDATE records SET seq = 15 WHERE seq = 16;"
	            "UPDATE records SET seq = 16 WHERE seq = -15;",
	            AUDIT_BAD_MAC, 15);
	/* One inserted at 10 with the later ones shifted up (the head moved along). */
	tamper_case("insert",
	            "UPDATE records SET seq = seq + 1000 WHERE seq >= 10;"
	            "UPDATE records SET seq = seq - 999 WHERE seq > 1000;"
	            "INSERT INTO records (seq, time, action, outcome, mac) "
	            "  SELECT 10, time, 'login', 'allow', mac FROM records WHERE seq = 9;"
	            "UPDATE head SET seq = 21, mac = (SELECT mac FROM records WHERE seq = 21)",
	            AUDIT_BAD_MAC, 10);
	tamper_case("insert-end",
	            "INSERT INTO records (seq, time, action, outcome, mac) "
	            "  VALUES (21, 0, 'login', 'allow', zeroblob(32))",
	            AUDIT_BAD_MAC, 21);
	tamper_case("insert-zero",
	            "INSERT INTO records (seq, time, action, outcome, mac) "
	            "  VALUES (-3, 0, 'login', 'allow', zeroblob(32))",
	            AUDIT_OUT_OF_ORDER, -3);
	/* The newest three dropped; the head still names 20. */
	tamper_case("truncate", "DELETE FROM records WHERE seq > 17", AUDIT_TRUNCATED, 18);
	tamper_case("truncate-all", "DELETE FROM records", AUDIT_TRUNCATED, 1);
	/* ... and the head rewritten to match, which needs the key it does not have. */
	tamper_case("truncate-head",
	            "DELETE FROM records WHERE seq > 17;"
	            "UPDATE head SET seq = 17, mac = (SELECT mac FROM records WHERE seq = 17)",
	            AUDIT_BAD_HEAD, 17);
	tamper_case("head-seq", "UPDATE head SET seq = 25", AUDIT_BAD_HEAD, 20);
	tamper_case("head-mac", "UPDATE head SET head_mac = zeroblob(32)", AUDIT_BAD_HEAD, 20);
	tamper_case("head-gone", "DELETE FROM head", AUDIT_BAD_HEAD, 20);

	/* A truncation stays a truncation after the daemon has started on the damaged trail
	 * and appended to it: the start records the missing range, and verify names it. */
	{
		char *db = NULL;
		REQUIRE(asprintf(&db, "%s/tamper-truncate.db", tmpdir) >= 0);
		Audit *a = open_audit(db);
		CHECK(audit_flush(a) == 0);
		AuditRecord rec = { .time_usec = 99, .action = "login", .outcome = "allow" };
		CHECK(audit_append(a, &rec, NULL, NULL) == 0);
		CHECK(audit_flush(a) == 0);
		audit_close(a);
		a = open_audit(db);
		verify_expect(a, AUDIT_TRUNCATED, 18, "truncate, restarted");
		json_object *arr = NULL;
		AuditFilter f = { .action = "audit.truncated" };
		CHECK(audit_query_json(a, &f, &arr) == 0 && arr &&
		      json_object_array_length(arr) == 1);
		json_object_put(arr);
		audit_close(a);
		free(db);
	}
	/* A hole in the middle is still a deletion. */
	tamper_case("delete-then-start", "DELETE FROM records WHERE seq = 5", AUDIT_GAP, 5);
}

/* Reopening continues the chain, and a fresh key does not verify the old log. */
static void
test_reopen(void)
{
	char *db = path_in("reopen.db");
	Audit *a = open_audit(db);
	for (int i = 0; i < 3; i++) {
		AuditRecord rec = rec_n(i);
		CHECK_EQ(audit_append(a, &rec, NULL, NULL), 0);
	}
	audit_close(a); /* flushes */
	a = open_audit(db);
	CHECK_EQ(audit_count(a), 3);
	memset(&seen, 0, sizeof(seen));
	seen.a = a;
	AuditRecord rec = rec_n(3);
	CHECK_EQ(audit_append(a, &rec, on_done, &seen), 0);
	run_until(&seen.n, 1);
	CHECK_EQ(seen.seq[0], 4);
	verify_expect(a, AUDIT_OK, 0, "reopened");
	audit_close(a);

	char *otherkeys = path_in("otherkeys");
	REQUIRE(mkdir(otherkeys, 0700) == 0);
	a = NULL;
	CHECK_EQ(audit_open(loop, db, otherkeys, &a), 0);
	if (a) {
		verify_expect(a, AUDIT_BAD_MAC, 1, "another key");
		audit_close(a);
	}
	free(otherkeys);
	free(db);
}

/* ---- search key, key handling, secrets ---- */

static void
test_key_hmac_and_secrets(void)
{
	char *db = path_in("secrets.db");
	Audit *a = open_audit(db);
	char h1[65], h2[65], h3[65];
	CHECK_EQ(audit_key_hmac(a, "123456789018", h1), 0);
	CHECK_EQ(audit_key_hmac(a, "123456789018", h2), 0);
	CHECK_EQ(audit_key_hmac(a, "123456789026", h3), 0);
	CHECK(strcmp(h1, h2) == 0);
	CHECK(strcmp(h1, h3) != 0);
	CHECK_EQ(strlen(h1), 64);
	CHECK_EQ(strspn(h1, "0123456789abcdef"), 64);
	CHECK(!strstr(h1, "123456789018"));
	CHECK(!strstr(h3, "123456789026"));
	CHECK_EQ(audit_key_hmac(a, "", h2), -EINVAL);
	CHECK_EQ(audit_key_hmac(a, "1234-5678-9018", h2), -EINVAL);
	CHECK_EQ(audit_key_hmac(a, "12345678901a", h2), -EINVAL);

	/* A search recorded by its HMAC; the query by HMAC finds it. */
	AuditRecord rec = rec_n(1);
	rec.key_hmac = h1;
	CHECK_EQ(audit_append(a, &rec, NULL, NULL), 0);
	rec = rec_n(2);
	rec.key_hmac = h3;
	CHECK_EQ(audit_append(a, &rec, NULL, NULL), 0);
	rec.key_hmac = "ABCDEF";
	CHECK_EQ(audit_append(a, &rec, NULL, NULL), -EINVAL);
	CHECK_EQ(audit_flush(a), 0);
	json_object *res = NULL;
	CHECK_EQ(audit_query_json(a, &(AuditFilter){ .key_hmac = h1 }, &res), 0);
	CHECK_EQ(res ? json_object_array_length(res) : 99, 1);
	if (res && json_object_array_length(res) == 1)
		CHECK_EQ(json_object_get_int64(
		             json_object_object_get(json_object_array_get_idx(res, 0), "seq")),
		         1);
	json_object_put(res);

	/* The key file: 32 bytes, 0600, and its bytes nowhere in the database, its WAL, or an
	 * export; the number searched nowhere either. */
	char *keyfile = NULL;
	REQUIRE(asprintf(&keyfile, "%s/" AUDIT_KEY_FILE, keydir) >= 0);
	struct stat st;
	REQUIRE(stat(keyfile, &st) == 0);
	CHECK_EQ(st.st_mode & 07777, 0600);
	CHECK_EQ(st.st_size, 32);
	size_t klen;
	uint8_t *key = slurp(keyfile, &klen);
	REQUIRE(key && klen == 32);
	char keyhex[65];
	for (int i = 0; i < 32; i++)
		snprintf(keyhex + 2 * i, 3, "%02x", key[i]);

	char *jsonl = path_in("secrets.jsonl"), *csv = path_in("secrets.csv");
	int fd = open(jsonl, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	REQUIRE(fd >= 0);
	CHECK_EQ(audit_export(a, NULL, false, fd), 0);
	close(fd);
	fd = open(csv, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	REQUIRE(fd >= 0);
	CHECK_EQ(audit_export(a, NULL, true, fd), 0);
	close(fd);

	char *wal = path_in("secrets.db-wal");
	const char *files[] = { db, wal, jsonl, csv };
	for (int pass = 0; pass < 2; pass++) {
		/* Pass 0 while open (the records live in the WAL), pass 1 after close. */
		if (pass == 1)
			audit_close(a);
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			size_t n;
			uint8_t *b = slurp(files[i], &n);
			if (!b)
				continue;
			CHECK(!memmem(b, n, key, 32));
			CHECK(!memmem(b, n, keyhex, 64));
			CHECK(!memmem(b, n, "123456789018", 12));
			CHECK(!memmem(b, n, "123456789026", 12));
			if (i >= 2)
				CHECK(memmem(b, n, h1, 64));
			free(b);
		}
	}
	struct stat dbst;
	REQUIRE(stat(db, &dbst) == 0);
	CHECK_EQ(dbst.st_mode & 07777, 0600);

	/* Same key across reopen: same HMAC. */
	a = open_audit(db);
	CHECK_EQ(audit_key_hmac(a, "123456789018", h2), 0);
	CHECK(strcmp(h1, h2) == 0);
	audit_close(a);

	/* A key file others can read is refused, as is one of the wrong size. */
	REQUIRE(chmod(keyfile, 0640) == 0);
	a = NULL;
	CHECK_EQ(audit_open(loop, db, keydir, &a), -EPERM);
	CHECK(!a);
	REQUIRE(chmod(keyfile, 0600) == 0);
	REQUIRE(truncate(keyfile, 31) == 0);
	CHECK_EQ(audit_open(loop, db, keydir, &a), -EBADMSG);
	REQUIRE(truncate(keyfile, 0) == 0);
	FILE *f = fopen(keyfile, "wb");
	REQUIRE(f && fwrite(key, 1, 32, f) == 32 && fclose(f) == 0);

	/* The systemd credential wins over the key file, and nothing is created beside it. */
	char *creds = path_in("creds"), *cred = NULL, *credkeys = path_in("credkeys");
	REQUIRE(mkdir(creds, 0700) == 0 && mkdir(credkeys, 0700) == 0);
	REQUIRE(asprintf(&cred, "%s/" AUDIT_CREDENTIAL, creds) >= 0);
	f = fopen(cred, "wb");
	REQUIRE(f && fwrite(key, 1, 32, f) == 32 && fclose(f) == 0);
	REQUIRE(chmod(cred, 0400) == 0);
	REQUIRE(setenv("CREDENTIALS_DIRECTORY", creds, 1) == 0);
	a = NULL;
	CHECK_EQ(audit_open(loop, db, credkeys, &a), 0);
	if (a) {
		verify_expect(a, AUDIT_OK, 0, "key from the credential");
		audit_close(a);
	}
	char *stray = NULL;
	REQUIRE(asprintf(&stray, "%s/" AUDIT_KEY_FILE, credkeys) >= 0);
	CHECK(access(stray, F_OK) < 0);
	REQUIRE(unsetenv("CREDENTIALS_DIRECTORY") == 0);

	free(stray);
	free(cred);
	free(creds);
	free(credkeys);
	free(key);
	free(keyfile);
	free(wal);
	free(jsonl);
	free(csv);
	free(db);
}

static void
test_validation(void)
{
	char *db = path_in("valid.db");
	Audit *a = open_audit(db);
	AuditRecord rec = rec_n(1);
	rec.action = NULL;
	CHECK_EQ(audit_append(a, &rec, NULL, NULL), -EINVAL);
	rec = rec_n(1);
	rec.outcome = "";
	CHECK_EQ(audit_append(a, &rec, NULL, NULL), -EINVAL);
	rec = rec_n(1);
	rec.reason = "two\nlines";
	CHECK_EQ(audit_append(a, &rec, NULL, NULL), -EINVAL);
	rec = rec_n(1);
	rec.terminal = "bad\xff";
	CHECK_EQ(audit_append(a, &rec, NULL, NULL), -EINVAL);
	char longer[300];
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	rec = rec_n(1);
	rec.operator_id = longer;
	CHECK_EQ(audit_append(a, &rec, NULL, NULL), -EINVAL);
	rec = rec_n(1);
	rec.detail = longer; /* detail may be long */
	CHECK_EQ(audit_append(a, &rec, NULL, NULL), 0);
	CHECK_EQ(audit_flush(a), 0);
	CHECK_EQ(audit_count(a), 1);
	audit_close(a);
	free(db);
}

/* ---- export ---- */

/* An RFC 4180 reader written for this test, apart from the writer: records of fields, each
 * remembering whether it was quoted (an empty quoted field is "", an empty bare one NULL). */
typedef struct CsvField {
	char *s;
	bool quoted;
} CsvField;

static int
csv_parse(const char *p, size_t n, CsvField rows[][10], int max_rows)
{
	int row = 0, col = 0;
	size_t i = 0;
	while (i < n) {
		REQUIRE(row < max_rows && col < 10);
		char *buf = malloc(n + 1);
		REQUIRE(buf);
		size_t k = 0;
		bool quoted = false;
		if (p[i] == '"') {
			quoted = true;
			i++;
			for (;;) {
				REQUIRE(i < n);
				if (p[i] == '"') {
					if (i + 1 < n && p[i + 1] == '"') {
						buf[k++] = '"';
						i += 2;
						continue;
					}
					i++;
					break;
				}
				buf[k++] = p[i++];
			}
		} else {
			while (i < n && p[i] != ',' && p[i] != '\r') {
				REQUIRE(p[i] != '"' && p[i] != '\n');
				buf[k++] = p[i++];
			}
		}
		buf[k] = '\0';
		rows[row][col] = (CsvField){ buf, quoted };
		REQUIRE(i < n);
		if (p[i] == ',') {
			i++;
			col++;
		} else {
			REQUIRE(i + 1 < n && p[i] == '\r' && p[i + 1] == '\n');
			i += 2;
			REQUIRE(col == 9);
			row++;
			col = 0;
		}
	}
	return row;
}

static void
test_export(void)
{
	char *db = path_in("export.db");
	Audit *a = open_audit(db);
	AuditRecord recs[] = {
		{ .time_usec = now_base + 1,
		  .terminal = "counter-01",
		  .matching_id = "M1",
		  .operator_id = "OP1",
		  .action = "staff.add",
		  .outcome = "ok",
		  .reason = "comma, inside",
		  .detail = "{\"name\":\"say \\\"hi\\\"\",\"x\":1}" },
		{ .time_usec = now_base + 2,
		  .terminal = "",
		  .matching_id = NULL,
		  .operator_id = NULL,
		  .action = "login",
		  .outcome = "deny",
		  .reason = "\"quoted\"",
		  .detail = NULL },
		{ .time_usec = now_base + 3,
		  .terminal = "窓口-1",
		  .matching_id = "M2",
		  .operator_id = "OP2",
		  .action = "authorize.search",
		  .outcome = "violation",
		  .reason = "resident-record-code",
		  .detail = "{}" },
	};
	const int n = (int)(sizeof(recs) / sizeof(recs[0]));
	for (int i = 0; i < n; i++)
		CHECK_EQ(audit_append(a, &recs[i], NULL, NULL), 0);
	CHECK_EQ(audit_flush(a), 0);

	char *csvp = path_in("export.csv"), *jsonp = path_in("export.jsonl");
	int fd = open(csvp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	REQUIRE(fd >= 0);
	CHECK_EQ(audit_export(a, NULL, true, fd), 0);
	close(fd);
	fd = open(jsonp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	REQUIRE(fd >= 0);
	CHECK_EQ(audit_export(a, NULL, false, fd), 0);
	close(fd);

	size_t len;
	char *csv = (char *)slurp(csvp, &len);
	REQUIRE(csv);
	static CsvField rows[8][10];
	int nrows = csv_parse(csv, len, rows, 8);
	CHECK_EQ(nrows, n + 1);
	static const char *const header[10] = { "seq",         "time",    "terminal", "matching_id",
		                                "operator_id", "action",  "outcome",  "reason",
		                                "detail",      "key_hmac" };
	for (int c = 0; c < 10; c++)
		CHECK(strcmp(rows[0][c].s, header[c]) == 0);
	for (int i = 0; i < n && i + 1 < nrows; i++) {
		CsvField *r = rows[i + 1];
		char num[32];
		snprintf(num, sizeof(num), "%d", i + 1);
		CHECK(strcmp(r[0].s, num) == 0);
		snprintf(num, sizeof(num), "%lld", (long long)recs[i].time_usec);
		CHECK(strcmp(r[1].s, num) == 0);
		const char *want[8] = { recs[i].terminal, recs[i].matching_id, recs[i].operator_id,
			                recs[i].action,   recs[i].outcome,     recs[i].reason,
			                recs[i].detail,   recs[i].key_hmac };
		for (int c = 0; c < 8; c++) {
			CsvField *fl = &r[2 + c];
			if (!want[c]) {
				CHECK(!fl->quoted && fl->s[0] == '\0');
			} else {
				if (strcmp(fl->s, want[c]) != 0) {
					fprintf(stderr, "csv row %d col %d: '%s' want '%s'\n",
					        i + 1, c + 2, fl->s, want[c]);
					failures++;
				}
				if (want[c][0] == '\0' || strpbrk(want[c], ",\"\r\n"))
					CHECK(fl->quoted);
			}
		}
	}
	/* The quoting, byte for byte, for the row with quotes and an empty string. */
	CHECK(strstr(csv, "\r\n2,1735689600000002,\"\",,,login,deny,\"\"\"quoted\"\"\",,\r\n"));
	for (int r = 0; r < nrows; r++)
		for (int c = 0; c < 10; c++)
			free(rows[r][c].s);
	free(csv);

	char *jl = (char *)slurp(jsonp, &len);
	REQUIRE(jl);
	int line = 0;
	for (char *save = NULL, *l = strtok_r(jl, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save), line++) {
		json_object *o = json_tokener_parse(l);
		CHECK(o);
		if (!o || line >= n)
			continue;
		CHECK_EQ(json_object_get_int64(json_object_object_get(o, "seq")), line + 1);
		CHECK_EQ(json_object_get_int64(json_object_object_get(o, "time")),
		         recs[line].time_usec);
		const char *want[8] = { recs[line].terminal,    recs[line].matching_id,
			                recs[line].operator_id, recs[line].action,
			                recs[line].outcome,     recs[line].reason,
			                recs[line].detail,      recs[line].key_hmac };
		static const char *const keys[8] = { "terminal", "matching_id", "operator_id",
			                             "action",   "outcome",     "reason",
			                             "detail",   "key_hmac" };
		for (int c = 0; c < 8; c++) {
			json_object *v = NULL;
			CHECK(json_object_object_get_ex(o, keys[c], &v));
			if (!want[c])
				CHECK(v == NULL);
			else
				CHECK(v && strcmp(json_object_get_string(v), want[c]) == 0);
		}
		json_object_put(o);
	}
	CHECK_EQ(line, n);
	free(jl);

	/* Filters. */
	json_object *res = NULL;
	CHECK_EQ(audit_query_json(a, &(AuditFilter){ .outcome = "deny" }, &res), 0);
	CHECK_EQ(res ? json_object_array_length(res) : 99, 1);
	json_object_put(res);
	CHECK_EQ(
	    audit_query_json(
	        a, &(AuditFilter){ .since_usec = now_base + 2, .until_usec = now_base + 3 }, &res),
	    0);
	CHECK_EQ(res ? json_object_array_length(res) : 99, 1);
	if (res && json_object_array_length(res) == 1)
		CHECK_EQ(json_object_get_int64(
		             json_object_object_get(json_object_array_get_idx(res, 0), "seq")),
		         2);
	json_object_put(res);
	CHECK_EQ(
	    audit_query_json(a, &(AuditFilter){ .matching_id = "M2", .operator_id = "OP2" }, &res),
	    0);
	CHECK_EQ(res ? json_object_array_length(res) : 99, 1);
	json_object_put(res);
	CHECK_EQ(audit_query_json(a, &(AuditFilter){ .limit = 2 }, &res), 0);
	CHECK_EQ(res ? json_object_array_length(res) : 99, 2);
	json_object_put(res);
	/* Newest first: the limit keeps the latest. */
	CHECK_EQ(audit_query_json(a, &(AuditFilter){ .limit = 1, .newest_first = true }, &res), 0);
	CHECK_EQ(res ? json_object_array_length(res) : 99, 1);
	if (res && json_object_array_length(res) == 1)
		CHECK_EQ(json_object_get_int64(
		             json_object_object_get(json_object_array_get_idx(res, 0), "seq")),
		         3);
	json_object_put(res);
	CHECK_EQ(audit_query_json(a, NULL, &res), 0);
	CHECK_EQ(res ? json_object_array_length(res) : 99, 3);
	json_object_put(res);

	audit_close(a);
	free(csvp);
	free(jsonp);
	free(db);
}

/* The stepped export gives exactly what the one-shot export gives, window after window, with
 * filters and limits, and leaves out what was appended after it began. */
static char *
export_steps(Audit *a, const AuditFilter *f, bool csv, size_t chunk, size_t *ret_len,
             int64_t *ret_records, int append_meanwhile)
{
	AuditExport *x = NULL;
	CHECK_EQ(audit_export_begin(a, f, csv, &x), 0);
	if (!x)
		return NULL;
	for (int i = 0; i < append_meanwhile; i++) {
		AuditRecord rec = rec_n(100000 + i);
		CHECK_EQ(audit_append(a, &rec, NULL, NULL), 0);
	}
	CHECK_EQ(audit_flush(a), 0);
	size_t len = 0, cap = 1 << 20;
	char *out = malloc(cap);
	REQUIRE(out);
	char *buf = malloc(chunk);
	REQUIRE(buf);
	for (int guard = 0; guard < 1000000; guard++) {
		ssize_t k = audit_export_read(x, buf, chunk);
		if (k == -EAGAIN)
			continue;
		CHECK(k >= 0);
		if (k <= 0)
			break;
		CHECK((size_t)k <= chunk);
		if (len + (size_t)k > cap) {
			cap = 2 * (len + (size_t)k);
			out = realloc(out, cap);
			REQUIRE(out);
		}
		memcpy(out + len, buf, (size_t)k);
		len += (size_t)k;
	}
	*ret_records = audit_export_records(x);
	audit_export_free(x);
	free(buf);
	*ret_len = len;
	return out;
}

static char *
export_once(Audit *a, const AuditFilter *f, bool csv, size_t *ret_len)
{
	char *p = path_in("once.out");
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	REQUIRE(fd >= 0);
	CHECK_EQ(audit_export(a, f, csv, fd), 0);
	close(fd);
	char *out = (char *)slurp(p, ret_len);
	free(p);
	return out;
}

static size_t
count_lines(const char *p, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += p[i] == '\n';
	return k;
}

static void
test_export_steps(void)
{
	char *db = path_in("steps.db");
	Audit *a = open_audit(db);
	/* Over two windows of rows; one action every 1000th record only (windows with none). */
	for (int i = 0; i < 20000; i++) {
		AuditRecord rec = rec_n(i);
		if (i % 1000 == 7)
			rec.action = "room.enter";
		int r = audit_append(a, &rec, NULL, NULL);
		if (r == -EBUSY) {
			CHECK_EQ(audit_flush(a), 0);
			r = audit_append(a, &rec, NULL, NULL);
		}
		CHECK_EQ(r, 0);
	}
	CHECK_EQ(audit_flush(a), 0);
	const AuditFilter filters[] = {
		{ 0 },
		{ .action = "room.enter" },
		{ .limit = 5 },
		{ .action = "room.enter", .limit = 3 },
		{ .since_usec = now_base + 5000, .until_usec = now_base + 5100 },
	};
	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
		for (int csv = 0; csv < 2; csv++) {
			size_t n1 = 0, n2 = 0;
			int64_t records = -1;
			char *once = export_once(a, &filters[i], csv, &n1);
			char *steps =
			    export_steps(a, &filters[i], csv, 1000, &n2, &records, i == 0 ? 3 : 0);
			if (!once || !steps || n1 != n2 || memcmp(once, steps, n1) != 0) {
				fprintf(stderr, "stepped export %zu (%s): %zu bytes, want %zu\n", i,
				        csv ? "csv" : "jsonl", n2, n1);
				failures++;
			}
			CHECK_EQ(records, (int64_t)count_lines(once ? once : "", n1) - csv);
			free(once);
			free(steps);
		}
	}
	audit_close(a);
	free(db);
}

/* What open reports for the start-up cross-checks (anchor.c): a new trail, its head, a head
 * under another key, and the MAC of a record by seq. */
static void
test_open_state(void)
{
	char *db = path_in("state.db");
	Audit *a = open_audit(db);
	AuditOpenState os;
	audit_open_state(a, &os);
	CHECK(os.created && os.head_present && os.head_ok);
	CHECK_EQ(os.head_seq, 0);
	for (int i = 0; i < 3; i++) {
		AuditRecord rec = rec_n(i);
		CHECK_EQ(audit_append(a, &rec, NULL, NULL), 0);
	}
	CHECK_EQ(audit_flush(a), 0);
	CHECK_EQ(audit_set_store_generation(a, 7), 0);
	uint8_t mac3[AUDIT_MAC_BYTES], none[AUDIT_MAC_BYTES];
	CHECK_EQ(audit_mac_at(a, 3, mac3), 0);
	CHECK_EQ(audit_mac_at(a, 4, none), -ENOENT);
	audit_close(a);

	a = open_audit(db);
	audit_open_state(a, &os);
	CHECK(!os.created && os.head_present && os.head_ok);
	CHECK_EQ(os.head_seq, 3);
	CHECK_EQ(os.last_present, 3);
	CHECK_EQ(os.head_store_generation, 7);
	CHECK(memcmp(os.head_mac, mac3, AUDIT_MAC_BYTES) == 0);
	audit_close(a);

	char *otherkeys = path_in("statekeys");
	REQUIRE(mkdir(otherkeys, 0700) == 0);
	a = NULL;
	CHECK_EQ(audit_open(loop, db, otherkeys, &a), 0);
	if (a) {
		audit_open_state(a, &os);
		CHECK(os.head_present && !os.head_ok);
		audit_close(a);
	}
	free(otherkeys);
	free(db);
}

/* What start-up asks of the trail (the room log of the last days: a query by action and
 * time) reads the rows it returns, not the whole trail: a full scan would take at least one
 * VM step per record. */
static void
test_query_indexed(void)
{
	char *db = path_in("indexed.db");
	Audit *a = open_audit(db);
	const int n = 30000;
	for (int i = 0; i < n; i++) {
		AuditRecord rec = rec_n(i);
		if (i % 3000 == 11) {
			rec.action = "room.enter";
			rec.outcome = "ok";
		}
		int r = audit_append(a, &rec, NULL, NULL);
		if (r == -EBUSY) {
			CHECK_EQ(audit_flush(a), 0);
			r = audit_append(a, &rec, NULL, NULL);
		}
		CHECK_EQ(r, 0);
	}
	CHECK_EQ(audit_flush(a), 0);
	const AuditFilter filters[] = {
		{ .action = "room.enter", .outcome = "ok", .since_usec = now_base },
		{ .action = "room.enter",
		  .since_usec = now_base + 20000,
		  .until_usec = now_base + n },
		{ .action = "room.enter", .limit = 3, .newest_first = true },
	};
	const size_t want[] = { 10, 3, 3 };
	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
		json_object *res = NULL;
		CHECK_EQ(audit_query_json(a, &filters[i], &res), 0);
		CHECK_EQ(res ? json_object_array_length(res) : 99, want[i]);
		uint64_t steps = audit_last_query_steps(a);
		if (steps >= (uint64_t)n / 10) {
			fprintf(stderr, "query %zu by action took %llu VM steps over %d records\n",
			        i, (unsigned long long)steps, n);
			failures++;
		}
		json_object_put(res);
	}
	audit_close(a);
	free(db);
}

int
main(void)
{
	umask(0);
	REQUIRE(mkdtemp(tmpdir));
	atexit(cleanup_tmpdir);
	keydir = path_in("keys");
	REQUIRE(mkdir(keydir, 0700) == 0);
	REQUIRE(unsetenv("CREDENTIALS_DIRECTORY") == 0);
	REQUIRE(sd_event_new(&loop) >= 0);

	test_group_commit();
	test_write_failure();
	test_tamper();
	test_reopen();
	test_key_hmac_and_secrets();
	test_validation();
	test_export();
	test_export_steps();
	test_open_state();
	test_query_indexed();

	sd_event_unref(loop);
	free(keydir);
	if (failures) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return EXIT_FAILURE;
	}
	printf("audit: all checks passed\n");
	return EXIT_SUCCESS;
}
