/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The seals end to end on real SQLite files: per-epoch keys made and destroyed (their bytes
 * gone from the database and its WAL), checkpoints at an epoch's end and on demand, the
 * keyless chain migrated onto an older trail, and every tamper case checked twice: by
 * audit_verify() on the terminal and by the offline verifier (tools/audit-verify) on a sealed
 * export with only the public key list. A trail re-sealed with the HMAC key and the current
 * epoch's signing key, but none of the past ones, must fail both.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem, asprintf */
#endif
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include "audit.h"
#include "sealfmt.h"
#include "verify.h"

static int failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
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

static char tmpdir[] = "/tmp/biogate-test-seal.XXXXXX";
static char *keydir;

/* Day 20000 (2024-10-04 UTC) and on: the epochs the test lives in. */
#define DAY0          20000
#define AT(day, hour) (((int64_t)(day)*86400 + (int64_t)(hour)*3600) * 1000000)

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
		if (n + 1 >= cap) {
			cap = cap ? 2 * cap : 65536;
			buf = realloc(buf, cap);
			REQUIRE(buf);
		}
		size_t k = fread(buf + n, 1, cap - n - 1, f);
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

static Audit *
open_audit(const char *db)
{
	Audit *a = NULL;
	int r = audit_open(NULL, db, keydir, &a);
	if (r < 0)
		fprintf(stderr, "audit_open(%s): %s\n", db, strerror(-r));
	REQUIRE(r == 0 && a);
	audit_set_journal(a, false);
	return a;
}

static void
append_at(Audit *a, int64_t t, int i, const char *terminal)
{
	char mid[32];
	snprintf(mid, sizeof(mid), "M%04d", i);
	AuditRecord rec = { .time_usec = t,
		            .terminal = terminal,
		            .matching_id = mid,
		            .action = i % 3 ? "authorize" : "login",
		            .outcome = i % 5 ? "allow" : "deny",
		            .reason = i % 2 ? "ok" : NULL,
		            .detail = "{\"n\":1}" };
	REQUIRE(audit_append(a, &rec, NULL, NULL) == 0);
}

static void
sql(const char *db, const char *stmt)
{
	sqlite3 *s = NULL;
	REQUIRE(sqlite3_open(db, &s) == SQLITE_OK);
	char *err = NULL;
	int rc = sqlite3_exec(s, stmt, NULL, NULL, &err);
	if (rc != SQLITE_OK)
		fprintf(stderr, "sql %s: %s\n", stmt, err ? err : "?");
	REQUIRE(rc == SQLITE_OK);
	sqlite3_free(err);
	REQUIRE(sqlite3_close(s) == SQLITE_OK);
}

static SealKeys *city_keys; /* the list as the city took it down at set-up */
static char *base_db;

/* The trail every case starts from: 40 records over days DAY0..DAY0+2.
 *   1-10 on DAY0, sealed at noon with DAY0's key (checkpoint at 10);
 *   11-20 on DAY0+1, sealed at the first seal of DAY0+1 (the daemon was down at midnight),
 *     with DAY0+1's key; DAY0's key is destroyed then (checkpoint at 20);
 *   21-30 on DAY0+1, sealed with DAY0+1's key (checkpoint at 30);
 *   31-35 on DAY0+2, sealed with DAY0+2's key at the next seal, which destroys DAY0+1's (35);
 *   36-40 on DAY0+2, not sealed yet. */
static void
make_base(void)
{
	base_db = path_in("base.db");
	Audit *a = open_audit(base_db);
	/* Set-up: keys for 400 days from DAY0. */
	CHECK(audit_seal_at(a, AT(DAY0, 1)) == 0);
	char *text = NULL, fp[65];
	REQUIRE(audit_seal_keys_text(a, &text, fp) == 0);
	const char *msg = NULL;
	REQUIRE(seal_keys_parse(text, strlen(text), &city_keys, &msg) == 0);
	CHECK(strcmp(seal_keys_fingerprint(city_keys), fp) == 0);
	CHECK(strstr(text, "\nkey 20000 ") && strstr(text, "\nkey 20399 ") &&
	      !strstr(text, "\nkey 20400 "));
	char *kp = path_in("keys.txt");
	FILE *f = fopen(kp, "w");
	REQUIRE(f && fputs(text, f) >= 0 && fclose(f) == 0);
	free(kp);
	free(text);

	for (int i = 1; i <= 10; i++)
		append_at(a, AT(DAY0, 2) + i, i, "counter-01");
	REQUIRE(audit_flush(a) == 0);
	CHECK(audit_seal_at(a, AT(DAY0, 12)) == 0);
	audit_close(a);

	/* The private key of DAY0 as it is stored, to look for it once destroyed. */
	uint8_t sk[32];
	{
		sqlite3 *s = NULL;
		sqlite3_stmt *st = NULL;
		REQUIRE(sqlite3_open(base_db, &s) == SQLITE_OK);
		REQUIRE(sqlite3_prepare_v2(s,
		                           "SELECT private FROM seal_private WHERE epoch = 20000",
		                           -1, &st, NULL) == SQLITE_OK);
		REQUIRE(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32);
		memcpy(sk, sqlite3_column_blob(st, 0), 32);
		sqlite3_finalize(st);
		sqlite3_close(s);
	}

	a = open_audit(base_db);
	for (int i = 11; i <= 20; i++)
		append_at(a, AT(DAY0 + 1, 0) + i, i, "counter-01");
	REQUIRE(audit_flush(a) == 0);
	CHECK(audit_seal_at(a, AT(DAY0 + 1, 1)) == 0);
	/* The WAL as it is now (exclusive mode: the file is the database's own, still open). */
	{
		char *wal = NULL;
		REQUIRE(asprintf(&wal, "%s-wal", base_db) >= 0);
		size_t n = 0;
		uint8_t *b = slurp(wal, &n);
		CHECK(!b || n == 0 || !memmem(b, n, sk, sizeof(sk)));
		free(b);
		free(wal);
	}
	for (int i = 21; i <= 30; i++)
		append_at(a, AT(DAY0 + 1, 2) + i, i, "counter-01");
	REQUIRE(audit_flush(a) == 0);
	CHECK(audit_seal_at(a, AT(DAY0 + 1, 3)) == 0);
	for (int i = 31; i <= 35; i++)
		append_at(a, AT(DAY0 + 2, 0) + i, i, "counter-01");
	REQUIRE(audit_flush(a) == 0);
	CHECK(audit_seal_at(a, AT(DAY0 + 2, 1)) == 0);
	for (int i = 36; i <= 40; i++)
		append_at(a, AT(DAY0 + 2, 2) + i, i, "counter-01");
	REQUIRE(audit_flush(a) == 0);

	AuditVerifyResult v = { 0 };
	CHECK(audit_verify(a, &v) == 0);
	CHECK(v.problem == AUDIT_OK && v.records == 40 && v.checkpoints == 4 && v.unsealed == 5);
	if (v.problem != AUDIT_OK || v.checkpoints != 4 || v.unsealed != 5)
		fprintf(stderr,
		        "base: %s at %" PRId64 ", checkpoints %" PRId64 ", unsealed %" PRId64 "\n",
		        audit_problem_name(v.problem), v.first_bad_seq, v.checkpoints, v.unsealed);
	/* The monthly report's question: the checkpoints made in a range, all verified. */
	AuditSealsResult sr = { 0 };
	CHECK(audit_seals_check(a, AT(DAY0, 0), AT(DAY0 + 3, 0), &sr) == 0);
	CHECK(sr.checkpoints == 4 && sr.verified == 4 && sr.first_bad_seq == 0);
	CHECK(audit_seals_check(a, AT(DAY0 + 1, 0), AT(DAY0 + 2, 0), &sr) == 0);
	CHECK(sr.checkpoints == 2 && sr.verified == 2);
	CHECK(audit_seals_check(a, AT(DAY0 + 5, 0), AT(DAY0 + 6, 0), &sr) == 0);
	CHECK(sr.checkpoints == 0 && sr.verified == 0);
	audit_close(a);

	/* Past epochs' private keys are gone: rows, and bytes in the file and its WAL. */
	sqlite3 *s = NULL;
	sqlite3_stmt *st = NULL;
	REQUIRE(sqlite3_open(base_db, &s) == SQLITE_OK);
	REQUIRE(sqlite3_prepare_v2(s, "SELECT min(epoch), count(*) FROM seal_private", -1, &st,
	                           NULL) == SQLITE_OK);
	REQUIRE(sqlite3_step(st) == SQLITE_ROW);
	CHECK(sqlite3_column_int64(st, 0) == DAY0 + 2);
	CHECK(sqlite3_column_int64(st, 1) == 398);
	sqlite3_finalize(st);
	sqlite3_close(s);
	size_t n = 0;
	uint8_t *b = slurp(base_db, &n);
	REQUIRE(b && n > 0);
	CHECK(!memmem(b, n, sk, sizeof(sk)));
	free(b);
}

/* The sealed export of db, checked offline; and audit_verify on db. */
static void
expect(const char *db, const char *name, AuditProblem want, int64_t want_seq,
       const char *want_offline, int64_t want_offline_seq)
{
	Audit *a = open_audit(db);
	AuditVerifyResult v = { 0 };
	CHECK(audit_verify(a, &v) == 0);
	if (v.problem != want || v.first_bad_seq != want_seq) {
		fprintf(stderr, "%s: audit verify says %s at %" PRId64 ", want %s at %" PRId64 "\n",
		        name, audit_problem_name(v.problem), v.first_bad_seq,
		        audit_problem_name(want), want_seq);
		failures++;
	}
	char *xp = NULL;
	REQUIRE(asprintf(&xp, "%s.export", db) >= 0);
	FILE *f = fopen(xp, "w");
	REQUIRE(f);
	CHECK(audit_export_sealed(a, 0, 0, fileno(f)) == 0);
	fclose(f);
	audit_close(a);
	size_t n = 0;
	char *text = (char *)slurp(xp, &n);
	REQUIRE(text);
	SealVerdict sv;
	CHECK(seal_verify(city_keys, text, n, &sv) == 0);
	if (strcmp(sv.problem, want_offline) != 0 || sv.first_bad_seq != want_offline_seq) {
		fprintf(stderr, "%s: offline says %s at %" PRId64 " (%s), want %s at %" PRId64 "\n",
		        name, sv.problem, sv.first_bad_seq, sv.message, want_offline,
		        want_offline_seq);
		failures++;
	}
	free(text);
	free(xp);
}

static char *
tamper(const char *name, const char *stmt)
{
	char *db = NULL;
	REQUIRE(asprintf(&db, "%s/tamper-%s.db", tmpdir, name) >= 0);
	copy_file(base_db, db);
	sql(db, "DROP TRIGGER records_no_update; DROP TRIGGER records_no_delete;");
	sql(db, stmt);
	return db;
}

static void
tamper_case(const char *name, const char *stmt, AuditProblem want, int64_t want_seq,
            const char *want_offline, int64_t want_offline_seq)
{
	char *db = tamper(name, stmt);
	expect(db, name, want, want_seq, want_offline, want_offline_seq);
	free(db);
}

/* Fewer than 30 days of keys left: 366 more, recorded, and the list grows (the city takes
 * it again). The daemon was down from DAY0+2 to DAY0+371: the records of DAY0+2 left unsealed
 * are sealed with DAY0+2's key, still held, not with today's (which would fail them). */
static void
extend_keys(void)
{
	char *db = tamper("extend", "SELECT 1");
	Audit *a = open_audit(db);
	append_at(a, AT(DAY0 + 371, 0), 41, "counter-01");
	REQUIRE(audit_flush(a) == 0);
	CHECK(audit_seal_at(a, AT(DAY0 + 371, 1)) == 0);
	char *text = NULL, fp[65];
	REQUIRE(audit_seal_keys_text(a, &text, fp) == 0);
	CHECK(strstr(text, "\nkey 20399 ") && strstr(text, "\nkey 20400 ") &&
	      strstr(text, "\nkey 20736 ") && !strstr(text, "\nkey 20737 "));
	AuditFilter f = { .action = "audit.seal-keys" };
	json_object *arr = NULL;
	CHECK(audit_query_json(a, &f, &arr) == 0);
	CHECK(arr && json_object_array_length(arr) == 1);
	if (arr && json_object_array_length(arr) == 1) {
		json_object *r = json_object_array_get_idx(arr, 0), *d = NULL;
		CHECK(json_object_object_get_ex(r, "detail", &d) &&
		      strstr(json_object_get_string(d), fp) &&
		      strstr(json_object_get_string(d), "\"from_epoch\":20400"));
	}
	json_object_put(arr);
	AuditVerifyResult v = { 0 };
	CHECK(audit_verify(a, &v) == 0 && v.problem == AUDIT_OK && v.checkpoints == 5 &&
	      v.unsealed == 0);
	if (v.problem != AUDIT_OK || v.checkpoints != 5 || v.unsealed != 0)
		fprintf(stderr,
		        "extend: %s at %" PRId64 ", checkpoints %" PRId64 ", unsealed %" PRId64
		        "\n",
		        audit_problem_name(v.problem), v.first_bad_seq, v.checkpoints, v.unsealed);
	char *xp = NULL;
	REQUIRE(asprintf(&xp, "%s.export", db) >= 0);
	FILE *f2 = fopen(xp, "w");
	REQUIRE(f2);
	CHECK(audit_export_sealed(a, 0, 0, fileno(f2)) == 0);
	fclose(f2);
	audit_close(a);
	size_t n = 0;
	char *ex = (char *)slurp(xp, &n);
	REQUIRE(ex);
	SealKeys *nk = NULL;
	const char *msg = NULL;
	REQUIRE(seal_keys_parse(text, strlen(text), &nk, &msg) == 0);
	SealVerdict sv;
	CHECK(seal_verify(nk, ex, n, &sv) == 0 && strcmp(sv.problem, "ok") == 0);
	if (strcmp(sv.problem, "ok") != 0)
		fprintf(stderr, "extend offline: %s at %" PRId64 ": %s\n", sv.problem,
		        sv.first_bad_seq, sv.message);
	seal_keys_free(nk);
	free(ex);
	free(xp);
	free(text);
	free(db);
}

/* A checkpoint row signed by a key the attacker made, labelled with a past epoch. */
static void
forge_checkpoint(void)
{
	char *db = tamper("forged", "SELECT 1");
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	REQUIRE(k);
	sqlite3 *s = NULL;
	sqlite3_stmt *st = NULL;
	REQUIRE(sqlite3_open(db, &s) == SQLITE_OK);
	REQUIRE(sqlite3_prepare_v2(s, "SELECT hash, time FROM records WHERE seq = 15", -1, &st,
	                           NULL) == SQLITE_OK);
	REQUIRE(sqlite3_step(st) == SQLITE_ROW);
	uint8_t h[32], msg[SEAL_MSG_MAX], sig[64];
	memcpy(h, sqlite3_column_blob(st, 0), 32);
	int64_t t = sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	size_t n = sealfmt_checkpoint_msg(msg, "counter-01", DAY0 + 1, 15, h, t);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	size_t sl = sizeof(sig);
	REQUIRE(EVP_DigestSignInit(c, NULL, NULL, NULL, k) == 1 &&
	        EVP_DigestSign(c, sig, &sl, msg, n) == 1);
	EVP_MD_CTX_free(c);
	EVP_PKEY_free(k);
	char host[256];
	REQUIRE(gethostname(host, sizeof(host)) == 0);
	REQUIRE(sqlite3_prepare_v2(s,
	                           "INSERT INTO checkpoints (seq, epoch, hash, time, terminal, "
	                           "signature) VALUES (15, ?1, ?2, ?3, 'counter-01', ?4)",
	                           -1, &st, NULL) == SQLITE_OK);
	sqlite3_bind_int64(st, 1, DAY0 + 1);
	sqlite3_bind_blob(st, 2, h, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, t);
	sqlite3_bind_blob(st, 4, sig, 64, SQLITE_STATIC);
	REQUIRE(sqlite3_step(st) == SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(s);
	/* The checkpoint at 10 is good; the forged one at 15 fails: records from 11 on are not
	 * vouched for. */
	expect(db, "forged", AUDIT_BAD_CHECKPOINT, 11, "bad-checkpoint", 11);
	free(db);
}

/* Whoever holds the terminal on DAY0+2 (the audit key and DAY0+2's signing key, nothing
 * older) rewrites record 7 and builds the whole trail again: HMAC chain, head, h(n), and a
 * checkpoint with the key it has. */
static void
reseal(bool keep_old_checkpoints)
{
	const char *name = keep_old_checkpoints ? "reseal-keep" : "reseal";
	char *db = NULL;
	REQUIRE(asprintf(&db, "%s/%s.db", tmpdir, name) >= 0);
	Audit *a = open_audit(db);
	sqlite3 *s = NULL;
	sqlite3_stmt *st = NULL;
	REQUIRE(sqlite3_open(base_db, &s) == SQLITE_OK);
	REQUIRE(sqlite3_prepare_v2(s, "SELECT time FROM records ORDER BY seq", -1, &st, NULL) ==
	        SQLITE_OK);
	for (int i = 1; sqlite3_step(st) == SQLITE_ROW; i++)
		append_at(a, sqlite3_column_int64(st, 0), i, i == 7 ? "counter-02" : "counter-01");
	sqlite3_finalize(st);
	sqlite3_close(s);
	REQUIRE(audit_flush(a) == 0);
	audit_close(a);
	/* The keys it holds: every public key, the private keys not yet destroyed. */
	char *stmt = NULL;
	REQUIRE(asprintf(&stmt,
	                 "ATTACH '%s' AS old;"
	                 "INSERT INTO seal_public SELECT * FROM old.seal_public;"
	                 "INSERT INTO seal_private SELECT * FROM old.seal_private;%s",
	                 base_db,
	                 keep_old_checkpoints
	                     ? "INSERT INTO checkpoints SELECT * FROM old.checkpoints;"
	                     : "") >= 0);
	sql(db, stmt);
	free(stmt);
	a = open_audit(db);
	CHECK(audit_seal_at(a, AT(DAY0 + 2, 5)) == 0);
	audit_close(a);
	if (keep_old_checkpoints)
		/* The first checkpoint (DAY0's key) no longer matches. */
		expect(db, name, AUDIT_BAD_CHECKPOINT, 1, "bad-checkpoint", 1);
	else
		/* All sealed, but by DAY0+2's key: records of DAY0 were sealed by a later key. */
		expect(db, name, AUDIT_UNSEALED, 1, "unsealed", 1);
	free(db);
}

/* A trail from before the seals (schema 2) gets h(n) for every record at its next open. */
static void
migrate(void)
{
	char *db = NULL;
	REQUIRE(asprintf(&db, "%s/migrate.db", tmpdir) >= 0);
	copy_file(base_db, db);
	sql(db, "DROP TRIGGER records_no_update;"
	        "CREATE TABLE keep AS SELECT seq, hash FROM records;"
	        "UPDATE records SET hash = NULL;"
	        "ALTER TABLE records DROP COLUMN hash;"
	        "DROP TABLE seal_public; DROP TABLE seal_private; DROP TABLE checkpoints;"
	        "CREATE TRIGGER records_no_update BEFORE UPDATE ON records "
	        "BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;"
	        "PRAGMA user_version = 2;");
	Audit *a = open_audit(db);
	AuditVerifyResult v = { 0 };
	CHECK(audit_verify(a, &v) == 0);
	CHECK(v.problem == AUDIT_OK && v.records == 40 && v.checkpoints == 0);
	audit_close(a);
	sqlite3 *s = NULL;
	sqlite3_stmt *st = NULL;
	REQUIRE(sqlite3_open(db, &s) == SQLITE_OK);
	REQUIRE(sqlite3_prepare_v2(s,
	                           "SELECT count(*) FROM records r JOIN keep k USING (seq) "
	                           "WHERE r.hash = k.hash",
	                           -1, &st, NULL) == SQLITE_OK);
	REQUIRE(sqlite3_step(st) == SQLITE_ROW);
	CHECK(sqlite3_column_int64(st, 0) == 40);
	sqlite3_finalize(st);
	/* The update trigger is back. */
	CHECK(sqlite3_exec(s, "UPDATE records SET reason = 'x' WHERE seq = 1", NULL, NULL, NULL) !=
	      SQLITE_OK);
	sqlite3_close(s);
	free(db);
}

/* BIOGATE_SEAL_CORPUS=DIR: the fuzzer's seeds (key list, NUL, export) from this run. */
static void
corpus_write(const char *name, const char *keys, const char *text, size_t n)
{
	const char *dir = getenv("BIOGATE_SEAL_CORPUS");
	if (!dir)
		return;
	char *p = NULL;
	REQUIRE(asprintf(&p, "%s/%s", dir, name) >= 0);
	FILE *f = fopen(p, "wb");
	REQUIRE(f);
	REQUIRE(fwrite(keys, 1, strlen(keys) + 1, f) == strlen(keys) + 1);
	REQUIRE(fwrite(text, 1, n, f) == n && fclose(f) == 0);
	free(p);
}

/* The export file itself cut short or edited, with the trail intact. */
static void
export_cases(void)
{
	Audit *a = open_audit(base_db);
	char *xp = path_in("base.export");
	FILE *f = fopen(xp, "w");
	REQUIRE(f);
	CHECK(audit_export_sealed(a, 0, 0, fileno(f)) == 0);
	fclose(f);
	audit_close(a);
	size_t n = 0;
	char *text = (char *)slurp(xp, &n);
	REQUIRE(text);
	size_t kn = 0;
	char *kp = path_in("keys.txt");
	char *keys = (char *)slurp(kp, &kn);
	REQUIRE(keys);
	free(kp);
	corpus_write("sealed-ok", keys, text, n);
	corpus_write("sealed-no-keys", "", text, n);
	SealVerdict v;
	CHECK(seal_verify(city_keys, text, n, &v) == 0);
	CHECK(strcmp(v.problem, "ok") == 0 && v.records == 40 && v.checkpoints == 4 &&
	      v.unsealed == 5);
	if (strcmp(v.problem, "ok") != 0)
		fprintf(stderr, "export: %s at %" PRId64 ": %s\n", v.problem, v.first_bad_seq,
		        v.message);

	/* Cut after record 30 (the file ends there). */
	char *cut = strstr(text, "{\"seq\":31,");
	REQUIRE(cut);
	corpus_write("sealed-cut", keys, text, (size_t)(cut - text));
	CHECK(seal_verify(city_keys, text, (size_t)(cut - text), &v) == 0);
	CHECK(strcmp(v.problem, "truncated") == 0 && v.first_bad_seq == 31);
	/* A record's text changed in the file. */
	char *edit = strdup(text);
	char *m = strstr(edit, "M0012");
	REQUIRE(m);
	m[4] = '9';
	corpus_write("sealed-edit", keys, edit, n);
	CHECK(seal_verify(city_keys, edit, n, &v) == 0);
	CHECK(strcmp(v.problem, "bad-hash") == 0 && v.first_bad_seq == 12);
	free(edit);
	/* Another terminal's key list. */
	SealKeys *other = NULL;
	const char *msg = NULL;
	{
		char *od = path_in("other.db");
		Audit *o = open_audit(od);
		CHECK(audit_seal_at(o, AT(DAY0, 1)) == 0);
		char *kt = NULL, fp[65];
		REQUIRE(audit_seal_keys_text(o, &kt, fp) == 0);
		audit_close(o);
		REQUIRE(seal_keys_parse(kt, strlen(kt), &other, &msg) == 0);
		/* The list edited: its fingerprint no longer matches. */
		char *k = strstr(kt, "\nkey 20001 ");
		REQUIRE(k);
		k[12] = k[12] == '0' ? '1' : '0';
		SealKeys *bad = NULL;
		CHECK(seal_keys_parse(kt, strlen(kt), &bad, &msg) == -EINVAL && msg);
		free(kt);
		free(od);
	}
	CHECK(seal_verify(other, text, n, &v) == 0);
	CHECK(strcmp(v.problem, "bad-checkpoint") == 0 && v.first_bad_seq == 1);
	seal_keys_free(other);

	/* A day's export: the records of DAY0+1 (11-30), ending at the checkpoint at 30; and a
	 * range ending mid-day runs on to the next checkpoint (20). */
	static const struct {
		int64_t since, until, first, last, checkpoints;
	} ranges[] = {
		{ AT(DAY0 + 1, 0), AT(DAY0 + 2, 0), 11, 30, 2 },
		{ AT(DAY0 + 1, 0), AT(DAY0 + 1, 1), 11, 20, 1 },
		/* Until 14 (record 14 is at +14 us): on to 20. */
		{ AT(DAY0, 0), AT(DAY0 + 1, 0) + 15, 1, 20, 2 },
		{ AT(DAY0 + 2, 1), 0, 36, 40, 0 },
		{ AT(DAY0 + 9, 0), 0, 41, 40, 0 },
	};
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		Audit *ra = open_audit(base_db);
		char *rp = path_in("range.export");
		FILE *rf = fopen(rp, "w");
		REQUIRE(rf);
		CHECK(audit_export_sealed(ra, ranges[i].since, ranges[i].until, fileno(rf)) == 0);
		fclose(rf);
		audit_close(ra);
		size_t rn = 0;
		char *rt = (char *)slurp(rp, &rn);
		REQUIRE(rt);
		CHECK(seal_verify(city_keys, rt, rn, &v) == 0);
		if (strcmp(v.problem, "ok") != 0 || v.first_seq != ranges[i].first ||
		    v.last_seq != ranges[i].last || v.checkpoints != ranges[i].checkpoints) {
			fprintf(stderr,
			        "range %zu: %s (%s), %" PRId64 "..%" PRId64 ", %" PRId64
			        " checkpoints\n",
			        i, v.problem, v.message, v.first_seq, v.last_seq, v.checkpoints);
			failures++;
		}
		free(rt);
		free(rp);
	}
	free(keys);
	free(text);
	free(xp);
}

int
main(void)
{
	REQUIRE(mkdtemp(tmpdir));
	keydir = path_in("keys");
	REQUIRE(mkdir(keydir, 0700) == 0);
	make_base();

	tamper_case("none", "SELECT 1", AUDIT_OK, 0, "ok", 0);
	tamper_case("edit", "UPDATE records SET terminal = 'counter-02' WHERE seq = 7",
	            AUDIT_BAD_MAC, 7, "bad-hash", 7);
	/* The report of DAY0+1 sees its checkpoints fail once a record of DAY0+1 changed. */
	{
		char *db = tamper("report", "UPDATE records SET reason = 'x' WHERE seq = 25");
		Audit *a = open_audit(db);
		AuditSealsResult sr = { 0 };
		CHECK(audit_seals_check(a, AT(DAY0 + 1, 0), AT(DAY0 + 2, 0), &sr) == 0);
		CHECK(sr.checkpoints == 2 && sr.verified == 1 && sr.first_bad_seq == 30);
		CHECK(audit_seals_check(a, AT(DAY0, 0), AT(DAY0 + 1, 0), &sr) == 0);
		CHECK(sr.checkpoints == 1 && sr.verified == 1);
		audit_close(a);
		free(db);
	}
	tamper_case("delete", "DELETE FROM records WHERE seq = 5", AUDIT_GAP, 5, "gap", 5);
	tamper_case("swap",
	            "UPDATE records SET seq = -8 WHERE seq = 8;"
	            "UPDATE records SET seq = 8 WHERE seq = 12;"
	            "UPDATE records SET seq = 12 WHERE seq = -8;",
	            AUDIT_BAD_MAC, 8, "bad-hash", 8);
	tamper_case("insert",
	            "UPDATE records SET seq = seq + 1000 WHERE seq >= 10;"
	            "UPDATE records SET seq = seq - 999 WHERE seq > 1000;"
	            "INSERT INTO records (seq, time, action, outcome, mac) "
	            "  SELECT 10, time, 'login', 'allow', mac FROM records WHERE seq = 9;"
	            "UPDATE head SET seq = 41, mac = (SELECT mac FROM records WHERE seq = 41)",
	            AUDIT_BAD_MAC, 10, "bad-hash", 10);
	tamper_case("drop-tail", "DELETE FROM records WHERE seq > 37", AUDIT_TRUNCATED, 38,
	            "truncated", 38);
	/* The stored h(n) edited alone (the MAC chain intact). */
	tamper_case("edit-hash", "UPDATE records SET hash = zeroblob(32) WHERE seq = 23",
	            AUDIT_BAD_HASH, 23, "bad-hash", 23);
	/* A past epoch's checkpoints removed: its records are sealed only by a later key. */
	tamper_case("drop-checkpoints", "DELETE FROM checkpoints WHERE seq <= 20", AUDIT_UNSEALED,
	            1, "unsealed", 1);
	extend_keys();
	forge_checkpoint();
	reseal(false);
	reseal(true);
	migrate();
	export_cases();

	seal_keys_free(city_keys);
	free(base_db);
	free(keydir);
	(void)nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (failures) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("seal: all checks passed\n");
	return 0;
}
