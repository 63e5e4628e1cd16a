/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* asprintf, secure_getenv */
#endif
/*
 * audit: owns the audit database (its own SQLite file, apart from the store), the audit key
 * and everything derived from it, the HMAC chain over the records, the MAC'd head, group
 * commit on the daemon's sd-event loop, the journald mirror, verification, query and export.
 *
 * Chain: MAC(n) = HMAC-SHA256(K_chain, canonical(n) || MAC(n-1)), MAC(0) = 32 zero bytes,
 * where canonical(n) is "BGA1" | seq (8 bytes, big endian) | time (8, BE) | then for each of
 * terminal, matching_id, operator_id, action, outcome, reason, detail, key_hmac: one byte
 * (0 NULL, 1 present) | length (4, BE) | bytes. Head: (last seq, last MAC,
 * HMAC-SHA256(K_head, "BGH1" | seq (8, BE) | MAC)). The sub-keys come from the 32-byte audit
 * key by HKDF-SHA256 with the info strings below; the audit key itself is dropped once they
 * are derived.
 *
 * This file must never write the key or a sub-key anywhere but the key file, never log a
 * record's detail, and never tell a caller that a record is stored before its transaction has
 * committed. The in-memory chain position (last seq and MAC) advances only on COMMIT, so a
 * failed write leaves the chain as it was and the next commit continues it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <sqlite3.h>
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "audit.h"
#include "dbutil.h"
#include "keyfile.h"

#define _cleanup_(f) __attribute__((cleanup(f)))

#define AUDIT_KEY_LEN   32
#define AUDIT_MAC_LEN   32
#define AUDIT_N_FIELDS  8
#define AUDIT_QUEUE_MAX 4096
/* Field limits. Far above what the daemon writes; they bound the canonical buffer so that
 * neither appending nor verifying ever allocates per record. */
#define AUDIT_MAX_SHORT  256
#define AUDIT_MAX_DETAIL 4096
#define AUDIT_MAX_SEARCH 64
#define AUDIT_CANON_MAX                                                                            \
	(4 + 8 + 8 + AUDIT_N_FIELDS * 5 + 7 * AUDIT_MAX_SHORT + AUDIT_MAX_DETAIL + AUDIT_MAC_LEN)
#define AUDIT_JOURNAL_SOCKET "/run/systemd/journal/socket"

static const char audit_info_chain[] = "biogate audit chain v1";
static const char audit_info_head[] = "biogate audit head v1";
static const char audit_info_search[] = "biogate search key v1";
/* OSSL_PARAM wants a mutable pointer; OpenSSL only reads it. */
static char audit_sha256[] = "SHA256";

/* The text fields in canonical order; index 6 (detail) has the long limit. */
enum {
	AF_TERMINAL,
	AF_MATCHING_ID,
	AF_OPERATOR_ID,
	AF_ACTION,
	AF_OUTCOME,
	AF_REASON,
	AF_DETAIL,
	AF_KEY_HMAC,
};

static const char *const audit_field_names[AUDIT_N_FIELDS] = {
	"terminal", "matching_id", "operator_id", "action",
	"outcome",  "reason",      "detail",      "key_hmac",
};

/* Migrations, as in store.c: step i takes user_version i to i + 1, appended only. The
 * triggers do not stop anyone holding the file (that is what the chain is for); they stop
 * this program's own SQL from ever rewriting history by mistake. */
static const char *const audit_migrations[] = {
	"CREATE TABLE records ("
	"  seq INTEGER PRIMARY KEY,"
	"  time INTEGER NOT NULL,"
	"  terminal TEXT,"
	"  matching_id TEXT,"
	"  operator_id TEXT,"
	"  action TEXT NOT NULL,"
	"  outcome TEXT NOT NULL,"
	"  reason TEXT,"
	"  detail TEXT,"
	"  key_hmac TEXT,"
	"  mac BLOB NOT NULL"
	") STRICT;"
	"CREATE TABLE head ("
	"  id INTEGER PRIMARY KEY CHECK(id = 1),"
	"  seq INTEGER NOT NULL,"
	"  mac BLOB NOT NULL,"
	"  head_mac BLOB NOT NULL"
	") STRICT;"
	"CREATE TRIGGER records_no_update BEFORE UPDATE ON records "
	"BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;"
	"CREATE TRIGGER records_no_delete BEFORE DELETE ON records "
	"BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;"
	"PRAGMA user_version = 1;",
};

#define AUDIT_SCHEMA_VERSION ((int)(sizeof(audit_migrations) / sizeof(audit_migrations[0])))

typedef enum AuditStmt {
	AS_BEGIN,
	AS_BEGIN_IMMEDIATE,
	AS_COMMIT,
	AS_ROLLBACK,
	AS_INSERT,
	AS_HEAD_GET,
	AS_HEAD_PUT,
	AS_LAST,
	AS_WALK,
	AS_QUERY,
	AS_QUERY_NEWEST,
	AS_COUNT,
	_AS_MAX,
} AuditStmt;

#define AUDIT_COLUMNS                                                                              \
	"seq, time, terminal, matching_id, operator_id, action, outcome, reason, detail, key_hmac"

static const char *const audit_sql[_AS_MAX] = {
	[AS_BEGIN] = "BEGIN",
	[AS_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
	[AS_COMMIT] = "COMMIT",
	[AS_ROLLBACK] = "ROLLBACK",
	[AS_INSERT] = "INSERT INTO records (" AUDIT_COLUMNS ", mac) "
	              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[AS_HEAD_GET] = "SELECT seq, mac, head_mac FROM head WHERE id = 1",
	[AS_HEAD_PUT] = "INSERT INTO head (id, seq, mac, head_mac) VALUES (1, ?1, ?2, ?3) "
	                "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, mac = excluded.mac, "
	                "head_mac = excluded.head_mac",
	[AS_LAST] = "SELECT seq, mac FROM records ORDER BY seq DESC LIMIT 1",
	[AS_WALK] = "SELECT " AUDIT_COLUMNS ", mac FROM records ORDER BY seq",
	/* One fixed statement for every filter: an absent filter binds NULL. */
	[AS_QUERY] = "SELECT " AUDIT_COLUMNS " FROM records WHERE "
	             "(?1 IS NULL OR matching_id = ?1) AND (?2 IS NULL OR operator_id = ?2) AND "
	             "(?3 IS NULL OR action = ?3) AND (?4 IS NULL OR outcome = ?4) AND "
	             "(?5 IS NULL OR time >= ?5) AND (?6 IS NULL OR time < ?6) AND "
	             "(?7 IS NULL OR key_hmac = ?7) ORDER BY seq LIMIT ?8",
	/* The same, newest first: "the latest N" without reading the whole range. */
	[AS_QUERY_NEWEST] =
	    "SELECT " AUDIT_COLUMNS " FROM records WHERE "
	    "(?1 IS NULL OR matching_id = ?1) AND (?2 IS NULL OR operator_id = ?2) AND "
	    "(?3 IS NULL OR action = ?3) AND (?4 IS NULL OR outcome = ?4) AND "
	    "(?5 IS NULL OR time >= ?5) AND (?6 IS NULL OR time < ?6) AND "
	    "(?7 IS NULL OR key_hmac = ?7) ORDER BY seq DESC LIMIT ?8",
	[AS_COUNT] = "SELECT count(*) FROM records",
};

/* A queued record: one allocation holding the strings it points to. */
typedef struct AuditPending {
	AuditDoneFn done;
	void *userdata;
	int64_t seq;
	int64_t time_usec;
	const char *f[AUDIT_N_FIELDS];
	uint32_t len[AUDIT_N_FIELDS];
	char data[];
} AuditPending;

struct Audit {
	sd_event *event;
	sd_event_source *defer;
	sqlite3 *db;
	sqlite3_stmt *stmt[_AS_MAX];

	/* Fetched and keyed once; every MAC re-initializes a keyed context without a key,
	 * which reuses the precomputed pads instead of hashing the key again. */
	EVP_MAC *hmac;
	EVP_MAC_CTX *chain;
	EVP_MAC_CTX *head;
	EVP_MAC_CTX *search;
	int64_t last_seq;
	/* Set at open when the head names records that are not there (the newest were
	 * dropped): the range goes into an "audit.truncated" record, so that every later
	 * verification can say what happened. */
	int64_t truncated_from, truncated_to;
	uint8_t last_mac[AUDIT_MAC_LEN];

	AuditPending **queue, **batch;
	size_t n_queue;
	bool committing;
	bool journal;
	uint64_t commits;

	uint8_t canon[AUDIT_CANON_MAX];
};

static int
audit_write_all(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int
audit_load_key(const char *key_dir, uint8_t key[static AUDIT_KEY_LEN])
{
	return keyfile_load(AUDIT_CREDENTIAL, key_dir, AUDIT_KEY_FILE, key);
}

/* ---- MACs ---- */

static int
audit_hkdf(const uint8_t key[static AUDIT_KEY_LEN], const char *info,
           uint8_t out[static AUDIT_KEY_LEN])
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	if (!kdf)
		return -ENOSYS;
	EVP_KDF_CTX *c = EVP_KDF_CTX_new(kdf);
	EVP_KDF_free(kdf);
	if (!c)
		return -ENOMEM;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, audit_sha256, 0),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)(uintptr_t)key,
		                                  AUDIT_KEY_LEN),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)(uintptr_t)info,
		                                  strlen(info)),
		OSSL_PARAM_construct_end(),
	};
	int r = EVP_KDF_derive(c, out, AUDIT_KEY_LEN, params) == 1 ? 0 : -EIO;
	EVP_KDF_CTX_free(c);
	return r;
}

static int
audit_mac_ctx(EVP_MAC *hmac, const uint8_t key[static AUDIT_KEY_LEN], const char *info,
              EVP_MAC_CTX **ret)
{
	uint8_t sub[AUDIT_KEY_LEN];
	int r = audit_hkdf(key, info, sub);
	if (r < 0)
		return r;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, audit_sha256, 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC_CTX *c = EVP_MAC_CTX_new(hmac);
	if (!c || EVP_MAC_init(c, sub, sizeof(sub), params) != 1) {
		EVP_MAC_CTX_free(c);
		OPENSSL_cleanse(sub, sizeof(sub));
		return -EIO;
	}
	OPENSSL_cleanse(sub, sizeof(sub));
	*ret = c;
	return 0;
}

/* One MAC with a keyed context: init without a key keeps the key. */
static int
audit_mac(EVP_MAC_CTX *c, const uint8_t *p, size_t n, uint8_t out[static AUDIT_MAC_LEN])
{
	size_t outl = 0;
	if (EVP_MAC_init(c, NULL, 0, NULL) != 1 || EVP_MAC_update(c, p, n) != 1 ||
	    EVP_MAC_final(c, out, &outl, AUDIT_MAC_LEN) != 1 || outl != AUDIT_MAC_LEN)
		return -EIO;
	return 0;
}

static void
audit_put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* canonical(seq, fields) || prev into a->canon; the caller has checked every length, so the
 * result always fits. Returns its length. */
static size_t
audit_canonical(Audit *a, int64_t seq, int64_t time_usec, const char *const f[AUDIT_N_FIELDS],
                const uint32_t len[AUDIT_N_FIELDS], const uint8_t prev[static AUDIT_MAC_LEN])
{
	uint8_t *p = a->canon;
	memcpy(p, "BGA1", 4);
	audit_put64(p + 4, (uint64_t)seq);
	audit_put64(p + 12, (uint64_t)time_usec);
	p += 20;
	for (int i = 0; i < AUDIT_N_FIELDS; i++) {
		uint32_t n = f[i] ? len[i] : 0;
		*p++ = f[i] ? 1 : 0;
		*p++ = (uint8_t)(n >> 24);
		*p++ = (uint8_t)(n >> 16);
		*p++ = (uint8_t)(n >> 8);
		*p++ = (uint8_t)n;
		if (n) {
			memcpy(p, f[i], n);
			p += n;
		}
	}
	memcpy(p, prev, AUDIT_MAC_LEN);
	p += AUDIT_MAC_LEN;
	return (size_t)(p - a->canon);
}

static int
audit_head_mac(Audit *a, int64_t seq, const uint8_t mac[static AUDIT_MAC_LEN],
               uint8_t out[static AUDIT_MAC_LEN])
{
	uint8_t buf[4 + 8 + AUDIT_MAC_LEN];
	memcpy(buf, "BGH1", 4);
	audit_put64(buf + 4, (uint64_t)seq);
	memcpy(buf + 12, mac, AUDIT_MAC_LEN);
	return audit_mac(a->head, buf, sizeof(buf), out);
}

/* ---- field checks ---- */

static uint32_t
audit_field_max(int i)
{
	return i == AF_DETAIL ? AUDIT_MAX_DETAIL : AUDIT_MAX_SHORT;
}

/* Well-formed UTF-8 without control characters: a record must read the same in a terminal,
 * a CSV cell and a journal field, with nothing that could fake a line of its own. */
static bool
audit_valid_text(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	while (p < end) {
		unsigned c = *p;
		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return false;
			p++;
			continue;
		}
		size_t k;
		unsigned min;
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
			min = 0x80;
			c &= 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			min = 0x800;
			c &= 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			min = 0x10000;
			c &= 0x07;
		} else {
			return false;
		}
		if ((size_t)(end - p) <= k)
			return false;
		for (size_t i = 1; i <= k; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			c = (c << 6) | (p[i] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return false;
		/* C1 controls */
		if (c >= 0x80 && c <= 0x9f)
			return false;
		p += k + 1;
	}
	return true;
}

static bool
audit_valid_hex64(const char *s, size_t n)
{
	if (n != 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* ---- SQLite ---- */

static int
audit_fail(sqlite3 *db, int rc, const char *what)
{
	return dbutil_fail("audit", db, rc, what);
}

#define STMT(a, id) _cleanup_(dbutil_stmt_resetp) sqlite3_stmt *st = (a)->stmt[id]

static int
audit_exec(Audit *a, AuditStmt id, const char *what)
{
	STMT(a, id);
	int rc = sqlite3_step(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : audit_fail(a->db, rc, what);
}

static void
audit_rollback(Audit *a)
{
	/* A failed statement or COMMIT may leave the transaction open, or SQLite may already
	 * have rolled it back itself. */
	if (!sqlite3_get_autocommit(a->db))
		(void)audit_exec(a, AS_ROLLBACK, "rollback");
}

static int
audit_bind_text(sqlite3_stmt *st, int idx, const char *v, int n)
{
	int rc = v ? sqlite3_bind_text(st, idx, v, n, SQLITE_STATIC) : sqlite3_bind_null(st, idx);
	return rc == SQLITE_OK ? 0 : -ENOMEM;
}

static int
audit_pragma(Audit *a, const char *sql)
{
	return dbutil_exec("audit", a->db, sql);
}

static int
audit_pragma_get(Audit *a, const char *sql, sqlite3_int64 *ret_int, char *ret_text, size_t size)
{
	return dbutil_pragma_get("audit", a->db, sql, ret_int, ret_text, size);
}

/* Pre-creates the database 0600 whatever the umask; SQLite gives -wal the same mode. */
static int
audit_prepare_file(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (fd < 0)
		return -errno;
	struct stat st;
	int r = 0;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode))
		r = -EINVAL;
	else if ((st.st_mode & 07777) != 0600 && fchmod(fd, 0600) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* Writes the head row for (seq, mac) inside the caller's transaction. */
static int
audit_head_put(Audit *a, sqlite3_stmt *st, int64_t seq, const uint8_t mac[static AUDIT_MAC_LEN])
{
	uint8_t hm[AUDIT_MAC_LEN];
	int r = audit_head_mac(a, seq, mac, hm);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, seq) != SQLITE_OK ||
	    sqlite3_bind_blob(st, 2, mac, AUDIT_MAC_LEN, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_blob(st, 3, hm, AUDIT_MAC_LEN, SQLITE_TRANSIENT) != SQLITE_OK)
		return -ENOMEM;
	int rc = sqlite3_step(st);
	return rc == SQLITE_DONE ? 0 : audit_fail(a->db, rc, "head");
}

/* The head row is written with the schema, in the same transaction: a database whose head is
 * missing later has been tampered with (BAD_HEAD), never mistaken for a fresh one. */
static int
audit_head_init(void *userdata, sqlite3_int64 from_version)
{
	Audit *a = userdata;
	if (from_version != 0)
		return 0;
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(a->db, audit_sql[AS_HEAD_PUT], -1, &st, NULL);
	static const uint8_t zero[AUDIT_MAC_LEN];
	int r = rc == SQLITE_OK ? audit_head_put(a, st, 0, zero) : audit_fail(a->db, rc, "prepare");
	sqlite3_finalize(st);
	return r;
}

static int
audit_migrate(Audit *a)
{
	return dbutil_migrate("audit", a->db, audit_migrations, AUDIT_SCHEMA_VERSION,
	                      audit_head_init, a);
}

/* Where the chain continues: the head, unless records beyond it exist (then the last of
 * them, so appends do not collide; verify reports the inconsistent head). */
static int
audit_load_position(Audit *a)
{
	a->last_seq = 0;
	memset(a->last_mac, 0, sizeof(a->last_mac));
	{
		STMT(a, AS_HEAD_GET);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			if (sqlite3_column_bytes(st, 1) == AUDIT_MAC_LEN) {
				a->last_seq = sqlite3_column_int64(st, 0);
				memcpy(a->last_mac, sqlite3_column_blob(st, 1), AUDIT_MAC_LEN);
			}
		} else if (rc != SQLITE_DONE) {
			return audit_fail(a->db, rc, "head");
		}
	}
	STMT(a, AS_LAST);
	int rc = sqlite3_step(st);
	int64_t present = 0;
	if (rc == SQLITE_ROW)
		present = sqlite3_column_int64(st, 0);
	if (a->last_seq > present) {
		a->truncated_from = present + 1;
		a->truncated_to = a->last_seq;
	}
	if (rc == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0);
		if (seq > a->last_seq && sqlite3_column_bytes(st, 1) == AUDIT_MAC_LEN) {
			a->last_seq = seq;
			memcpy(a->last_mac, sqlite3_column_blob(st, 1), AUDIT_MAC_LEN);
		}
	} else if (rc != SQLITE_DONE) {
		return audit_fail(a->db, rc, "last");
	}
	if (a->last_seq < 0)
		a->last_seq = 0;
	return 0;
}

/* ---- group commit ---- */

static int audit_commit(Audit *a);

static int
audit_on_defer(sd_event_source *s, void *userdata)
{
	/* Errors have gone to every callback; the loop goes on. */
	(void)audit_commit(userdata);
	return 0;
}

static const char *
audit_message_id(const AuditPending *p)
{
	const char *act = p->f[AF_ACTION], *out = p->f[AF_OUTCOME];
	/* Matches biogate.catalog. */
	if (strncmp(act, "incident", 8) == 0)
		return "3c91219a1af74375b069331b8a963b40";
	if (strcmp(out, "violation") == 0)
		return "0c4acec0c60c484b81e895df4abbfd54";
	if (strncmp(act, "login", 5) == 0 || strncmp(act, "logout", 6) == 0 ||
	    strncmp(act, "session", 7) == 0)
		return "03dd1ee11ab84fd59586b5288facdafe";
	if (strncmp(act, "authorize", 9) == 0 || strcmp(out, "allow") == 0 ||
	    strcmp(out, "deny") == 0)
		return "f1690eeb78a045beb1d0984156145716";
	return "5ba83681d5ba45e68bc6a7b2742e27f5";
}

/* The journal mirror: what an admin sees in journalctl. The detail never goes there; the
 * search key's HMAC may. Failure is ignored: the database is the record. */
static void
audit_journal(const AuditPending *p)
{
	const char *out = p->f[AF_OUTCOME];
	bool warn = strcmp(out, "violation") == 0 || strncmp(p->f[AF_ACTION], "incident", 8) == 0;
	char msg[3 * AUDIT_MAX_SHORT + 64], mid[64], seq[48], action[AUDIT_MAX_SHORT + 32],
	    outcome[AUDIT_MAX_SHORT + 32], mat[AUDIT_MAX_SHORT + 32], op[AUDIT_MAX_SHORT + 32],
	    reason[AUDIT_MAX_SHORT + 32], kh[AUDIT_MAX_SHORT + 32];
	struct iovec iov[12];
	size_t n = 0;
#define AUDIT_IOV(buf, ...)                                                                        \
	do {                                                                                       \
		int _k = snprintf(buf, sizeof(buf), __VA_ARGS__);                                  \
		if (_k > 0)                                                                        \
			iov[n++] =                                                                 \
			    (struct iovec){ buf, (size_t)_k < sizeof(buf) ? (size_t)_k             \
				                                          : sizeof(buf) - 1 };     \
	} while (0)
	/* "audit #12 authorize.search deny (not-permitted) operator OP1 matching ID M1" */
	int m = snprintf(msg, sizeof(msg), "MESSAGE=audit #%" PRId64 " %s %s", p->seq,
	                 p->f[AF_ACTION], out);
	if (m > 0 && (size_t)m < sizeof(msg) && p->f[AF_REASON])
		m += snprintf(msg + m, sizeof(msg) - (size_t)m, " (%s)", p->f[AF_REASON]);
	if (m > 0 && (size_t)m < sizeof(msg) && p->f[AF_OPERATOR_ID])
		m += snprintf(msg + m, sizeof(msg) - (size_t)m, " operator %s",
		              p->f[AF_OPERATOR_ID]);
	if (m > 0 && (size_t)m < sizeof(msg) && p->f[AF_MATCHING_ID])
		m += snprintf(msg + m, sizeof(msg) - (size_t)m, " matching ID %s",
		              p->f[AF_MATCHING_ID]);
	if (m > 0)
		iov[n++] =
		    (struct iovec){ msg, (size_t)m < sizeof(msg) ? (size_t)m : sizeof(msg) - 1 };
	AUDIT_IOV(mid, "MESSAGE_ID=%s", audit_message_id(p));
	iov[n++] = (struct iovec){ (void *)(uintptr_t)(warn ? "PRIORITY=4" : "PRIORITY=6"), 10 };
	AUDIT_IOV(seq, "BIOGATE_SEQ=%" PRId64, p->seq);
	AUDIT_IOV(action, "BIOGATE_ACTION=%s", p->f[AF_ACTION]);
	AUDIT_IOV(outcome, "BIOGATE_OUTCOME=%s", out);
	if (p->f[AF_MATCHING_ID])
		AUDIT_IOV(mat, "BIOGATE_MATCHING_ID=%s", p->f[AF_MATCHING_ID]);
	if (p->f[AF_OPERATOR_ID])
		AUDIT_IOV(op, "BIOGATE_OPERATOR_ID=%s", p->f[AF_OPERATOR_ID]);
	if (p->f[AF_REASON])
		AUDIT_IOV(reason, "BIOGATE_REASON=%s", p->f[AF_REASON]);
	if (p->f[AF_KEY_HMAC])
		AUDIT_IOV(kh, "BIOGATE_KEY_HMAC=%s", p->f[AF_KEY_HMAC]);
#undef AUDIT_IOV
	(void)sd_journal_sendv(iov, (int)n);
}

/* Commits everything queued in one transaction, then tells each caller in queue order. The
 * queue is detached first, so a callback may append (that record goes to the next commit). */
static int
audit_commit(Audit *a)
{
	if (a->n_queue == 0 || a->committing)
		return 0;
	a->committing = true;

	AuditPending **batch = a->queue;
	size_t n = a->n_queue;
	a->queue = a->batch;
	a->batch = batch;
	a->n_queue = 0;

	int64_t seq = a->last_seq;
	uint8_t mac[AUDIT_MAC_LEN];
	memcpy(mac, a->last_mac, sizeof(mac));

	int r = audit_exec(a, AS_BEGIN_IMMEDIATE, "begin");
	for (size_t i = 0; r >= 0 && i < n; i++) {
		AuditPending *p = batch[i];
		p->seq = ++seq;
		size_t len = audit_canonical(a, p->seq, p->time_usec, p->f, p->len, mac);
		r = audit_mac(a->chain, a->canon, len, mac);
		if (r < 0)
			break;
		STMT(a, AS_INSERT);
		if (sqlite3_bind_int64(st, 1, p->seq) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 2, p->time_usec) != SQLITE_OK ||
		    sqlite3_bind_blob(st, 11, mac, AUDIT_MAC_LEN, SQLITE_STATIC) != SQLITE_OK) {
			r = -ENOMEM;
			break;
		}
		for (int k = 0; r >= 0 && k < AUDIT_N_FIELDS; k++)
			r = audit_bind_text(st, 3 + k, p->f[k], (int)p->len[k]);
		if (r < 0)
			break;
		int rc = sqlite3_step(st);
		if (rc != SQLITE_DONE)
			r = audit_fail(a->db, rc, "insert");
	}
	if (r >= 0) {
		STMT(a, AS_HEAD_PUT);
		r = audit_head_put(a, st, seq, mac);
	}
	if (r >= 0)
		r = audit_exec(a, AS_COMMIT, "commit");
	if (r >= 0) {
		a->last_seq = seq;
		memcpy(a->last_mac, mac, sizeof(mac));
		a->commits++;
	} else {
		audit_rollback(a);
	}
	a->committing = false;

	for (size_t i = 0; i < n; i++) {
		AuditPending *p = batch[i];
		if (r >= 0 && a->journal)
			audit_journal(p);
		if (p->done)
			p->done(r < 0 ? r : 0, r < 0 ? 0 : p->seq, p->userdata);
		free(p);
		batch[i] = NULL;
	}
	/* A callback may have queued more while the defer source was off; make sure it runs. */
	if (a->n_queue > 0 && a->defer)
		(void)sd_event_source_set_enabled(a->defer, SD_EVENT_ONESHOT);
	return r < 0 ? r : 0;
}

int
audit_append(Audit *a, const AuditRecord *rec, AuditDoneFn done, void *userdata)
{
	if (!a || !rec || !rec->action || !*rec->action || !rec->outcome || !*rec->outcome)
		return -EINVAL;
	const char *f[AUDIT_N_FIELDS] = {
		rec->terminal, rec->matching_id, rec->operator_id, rec->action,
		rec->outcome,  rec->reason,      rec->detail,      rec->key_hmac,
	};
	uint32_t len[AUDIT_N_FIELDS] = { 0 };
	size_t total = 0;
	for (int i = 0; i < AUDIT_N_FIELDS; i++) {
		if (!f[i])
			continue;
		size_t l = strnlen(f[i], (size_t)audit_field_max(i) + 1);
		if (l > audit_field_max(i))
			return -EINVAL;
		if (i == AF_KEY_HMAC ? !audit_valid_hex64(f[i], l) : !audit_valid_text(f[i], l))
			return -EINVAL;
		len[i] = (uint32_t)l;
		total += l + 1;
	}
	if (a->n_queue >= AUDIT_QUEUE_MAX)
		return -EBUSY;

	AuditPending *p = malloc(sizeof(*p) + total);
	if (!p)
		return -ENOMEM;
	p->done = done;
	p->userdata = userdata;
	p->seq = 0;
	p->time_usec = rec->time_usec;
	char *d = p->data;
	for (int i = 0; i < AUDIT_N_FIELDS; i++) {
		p->len[i] = len[i];
		if (!f[i]) {
			p->f[i] = NULL;
			continue;
		}
		memcpy(d, f[i], len[i]);
		d[len[i]] = '\0';
		p->f[i] = d;
		d += len[i] + 1;
	}
	if (a->n_queue == 0 && a->defer && !a->committing) {
		int r = sd_event_source_set_enabled(a->defer, SD_EVENT_ONESHOT);
		if (r < 0) {
			free(p);
			return r;
		}
	}
	a->queue[a->n_queue++] = p;
	return 0;
}

int
audit_flush(Audit *a)
{
	if (!a)
		return -EINVAL;
	int r = 0;
	/* Callbacks may queue more; flush until quiet. */
	while (a->n_queue > 0 && !a->committing) {
		int k = audit_commit(a);
		if (k < 0 && r >= 0)
			r = k;
	}
	return r;
}

uint64_t
audit_commits(const Audit *a)
{
	return a ? a->commits : 0;
}

void
audit_set_journal(Audit *a, bool on)
{
	if (a)
		a->journal = on;
}

/* ---- open / close ---- */

static int64_t
audit_now_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
audit_open(sd_event *event, const char *db_path, const char *key_dir, Audit **ret)
{
	if (!db_path || !*db_path || !ret)
		return -EINVAL;
	Audit *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	int r = -ENOMEM;
	a->queue = calloc(AUDIT_QUEUE_MAX, sizeof(*a->queue));
	a->batch = calloc(AUDIT_QUEUE_MAX, sizeof(*a->batch));
	if (!a->queue || !a->batch)
		goto fail;

	/* Fetched once: OpenSSL 3 otherwise looks HMAC and SHA-256 up on every new context. */
	a->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!a->hmac) {
		r = -ENOSYS;
		goto fail;
	}
	{
		uint8_t key[AUDIT_KEY_LEN];
		r = audit_load_key(key_dir, key);
		if (r >= 0)
			r = audit_mac_ctx(a->hmac, key, audit_info_chain, &a->chain);
		if (r >= 0)
			r = audit_mac_ctx(a->hmac, key, audit_info_head, &a->head);
		if (r >= 0)
			r = audit_mac_ctx(a->hmac, key, audit_info_search, &a->search);
		OPENSSL_cleanse(key, sizeof(key));
		if (r < 0)
			goto fail;
	}

	r = audit_prepare_file(db_path);
	if (r < 0)
		goto fail;
	int rc = sqlite3_open_v2(db_path, &a->db,
	                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
	                             SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_EXRESCODE,
	                         NULL);
	if (rc != SQLITE_OK) {
		r = audit_fail(a->db, rc, "open");
		goto fail;
	}
	static const int off_on[][2] = {
		{ SQLITE_DBCONFIG_DEFENSIVE, 1 },
		{ SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0 },
		{ SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0 },
		{ SQLITE_DBCONFIG_DQS_DDL, 0 },
		{ SQLITE_DBCONFIG_DQS_DML, 0 },
	};
	for (size_t i = 0; i < sizeof(off_on) / sizeof(off_on[0]); i++) {
		int got = -1;
		rc = sqlite3_db_config(a->db, off_on[i][0], off_on[i][1], &got);
		if (rc != SQLITE_OK || got != off_on[i][1]) {
			r = audit_fail(a->db, rc == SQLITE_OK ? SQLITE_ERROR : rc, "db_config");
			goto fail;
		}
	}
	/* synchronous=FULL: a record is on disk when COMMIT returns, which is the promise every
	 * callback relies on. Nothing here is ever deleted, so secure_delete buys nothing.
	 * mmap: verify and export read the whole file; mapped reads skip a copy per page
	 * (about a fifth of verify's time). SQLite still writes with write(). */
	r = audit_pragma(a, "PRAGMA trusted_schema = OFF;"
	                    "PRAGMA synchronous = FULL;"
	                    "PRAGMA mmap_size = 1073741824;");
	if (r < 0)
		goto fail;
	/* Exclusive: the log belongs to the daemon alone (no -shm file, no per-transaction file
	 * locks). Set before WAL is first used. */
	char mode[16];
	r = audit_pragma_get(a, "PRAGMA locking_mode = EXCLUSIVE", NULL, mode, sizeof(mode));
	if (r >= 0)
		r = audit_pragma_get(a, "PRAGMA journal_mode = WAL", NULL, mode, sizeof(mode));
	if (r < 0)
		goto fail;
	if (strcmp(mode, "wal") != 0) {
		fprintf(stderr, "biogated: audit: cannot switch the database to WAL mode\n");
		r = -EIO;
		goto fail;
	}
	r = audit_migrate(a);
	if (r < 0)
		goto fail;
	for (int i = 0; i < _AS_MAX; i++) {
		rc = sqlite3_prepare_v3(a->db, audit_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
		                        &a->stmt[i], NULL);
		if (rc != SQLITE_OK) {
			r = audit_fail(a->db, rc, "prepare");
			goto fail;
		}
	}
	r = audit_load_position(a);
	if (r < 0)
		goto fail;
	if (a->truncated_from) {
		fprintf(stderr,
		        "biogated: audit: records %" PRId64 " to %" PRId64
		        " are missing from the end of the trail\n",
		        a->truncated_from, a->truncated_to);
	}
	if (event) {
		a->event = sd_event_ref(event);
		r = sd_event_add_defer(event, &a->defer, audit_on_defer, a);
		if (r >= 0)
			r = sd_event_source_set_priority(a->defer, SD_EVENT_PRIORITY_IDLE);
		if (r >= 0)
			r = sd_event_source_set_enabled(a->defer, SD_EVENT_OFF);
		if (r >= 0)
			(void)sd_event_source_set_description(a->defer, "audit-commit");
		if (r < 0)
			goto fail;
	}
	/* Without journald, sending would cost a failing sendmsg() per record for nothing. */ a
	    ->journal = access(AUDIT_JOURNAL_SOCKET, W_OK) == 0;

	if (a->truncated_from) {
		char detail[96];
		snprintf(detail, sizeof(detail), "{\"from\":%" PRId64 ",\"to\":%" PRId64 "}",
		         a->truncated_from, a->truncated_to);
		AuditRecord rec = { .time_usec = audit_now_usec(),
			            .action = "audit.truncated",
			            .outcome = "fail",
			            .reason = "truncated",
			            .detail = detail };
		(void)audit_append(a, &rec, NULL, NULL);
	}
	*ret = a;
	return 0;
fail:
	audit_close(a);
	return r;
}

void
audit_close(Audit *a)
{
	if (!a)
		return;
	if (a->db)
		(void)audit_flush(a);
	/* Anything still queued (no database) hears that it was not written. */
	for (size_t i = 0; i < a->n_queue; i++) {
		if (a->queue[i]->done)
			a->queue[i]->done(-ESHUTDOWN, 0, a->queue[i]->userdata);
		free(a->queue[i]);
	}
	a->defer = sd_event_source_disable_unref(a->defer);
	sd_event_unref(a->event);
	for (int i = 0; i < _AS_MAX; i++)
		sqlite3_finalize(a->stmt[i]);
	if (a->db) {
		int rc = sqlite3_close(a->db);
		if (rc != SQLITE_OK)
			fprintf(stderr, "biogated: audit: close: %s (%d)\n", sqlite3_errstr(rc),
			        rc);
	}
	/* Freeing an HMAC context cleanses its keyed state. */
	EVP_MAC_CTX_free(a->chain);
	EVP_MAC_CTX_free(a->head);
	EVP_MAC_CTX_free(a->search);
	EVP_MAC_free(a->hmac);
	free(a->queue);
	free(a->batch);
	OPENSSL_cleanse(a, sizeof(*a));
	free(a);
}

/* ---- search key ---- */

int
audit_key_hmac(const Audit *a, const char *normalized, char ret_hex[static 65])
{
	if (!a || !normalized || !ret_hex)
		return -EINVAL;
	size_t n = strnlen(normalized, AUDIT_MAX_SEARCH + 1);
	if (n == 0 || n > AUDIT_MAX_SEARCH)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (normalized[i] < '0' || normalized[i] > '9')
			return -EINVAL;
	uint8_t mac[AUDIT_MAC_LEN];
	/* Domain-separated from the chain and the head by its own sub-key. */
	int r = audit_mac(a->search, (const uint8_t *)normalized, n, mac);
	if (r < 0)
		return r;
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < AUDIT_MAC_LEN; i++) {
		ret_hex[2 * i] = hex[mac[i] >> 4];
		ret_hex[2 * i + 1] = hex[mac[i] & 15];
	}
	ret_hex[64] = '\0';
	return 0;
}

/* ---- verify ---- */

const char *
audit_problem_name(AuditProblem p)
{
	switch (p) {
	case AUDIT_OK:
		return "ok";
	case AUDIT_BAD_MAC:
		return "bad-mac";
	case AUDIT_GAP:
		return "gap";
	case AUDIT_OUT_OF_ORDER:
		return "out-of-order";
	case AUDIT_TRUNCATED:
		return "truncated";
	case AUDIT_BAD_HEAD:
		return "bad-head";
	}
	return "unknown";
}

/* Recomputes one row's MAC from its columns (walk order: 10 columns then mac). A row that
 * this code could never have written (over-long, wrong type, missing action) fails as a bad
 * MAC without being hashed. */
static bool
audit_row_ok(Audit *a, sqlite3_stmt *st, int64_t seq, const uint8_t prev[static AUDIT_MAC_LEN],
             uint8_t ret_mac[static AUDIT_MAC_LEN])
{
	const char *f[AUDIT_N_FIELDS];
	uint32_t len[AUDIT_N_FIELDS];
	if (sqlite3_column_type(st, 1) != SQLITE_INTEGER)
		return false;
	int64_t time_usec = sqlite3_column_int64(st, 1);
	for (int i = 0; i < AUDIT_N_FIELDS; i++) {
		int col = 2 + i;
		/* Text first: one call for the common case; the type is asked only to tell a
		 * NULL from an allocation failure. A value stored with another type reads as
		 * its text, which the MAC then judges. */
		f[i] = (const char *)sqlite3_column_text(st, col);
		if (!f[i]) {
			if (sqlite3_column_type(st, col) != SQLITE_NULL)
				return false;
			len[i] = 0;
			continue;
		}
		int n = sqlite3_column_bytes(st, col);
		if (n < 0 || (uint32_t)n > audit_field_max(i))
			return false;
		len[i] = (uint32_t)n;
	}
	if (!f[AF_ACTION] || !f[AF_OUTCOME])
		return false;
	const void *stored = sqlite3_column_blob(st, 10);
	if (sqlite3_column_bytes(st, 10) != AUDIT_MAC_LEN || !stored)
		return false;
	size_t n = audit_canonical(a, seq, time_usec, f, len, prev);
	if (audit_mac(a->chain, a->canon, n, ret_mac) < 0)
		return false;
	return CRYPTO_memcmp(ret_mac, stored, AUDIT_MAC_LEN) == 0;
}

/*
 * Walks every record in seq order and reports the first problem:
 *   a record whose MAC does not match (edited, swapped, inserted by shifting) -> BAD_MAC at
 *     that seq;
 *   a seq missing (a record deleted) -> GAP naming the missing seq;
 *   a seq <= 0 (a row this code never writes) -> OUT_OF_ORDER at it;
 *   records intact but the head names a later seq -> TRUNCATED naming the first missing seq;
 *   the head row missing, its MAC wrong, or naming an earlier seq or a different MAC than
 *     the last record -> BAD_HEAD naming the seq the head should have named.
 * Everything is read in one read transaction, so records and head are one snapshot.
 */
int
audit_verify(Audit *a, AuditVerifyResult *ret)
{
	if (!a || !ret)
		return -EINVAL;
	int r = audit_exec(a, AS_BEGIN, "begin");
	if (r < 0)
		return r;

	AuditVerifyResult res = { .problem = AUDIT_OK };
	uint8_t prev[AUDIT_MAC_LEN] = { 0 }, mac[AUDIT_MAC_LEN];
	int64_t expected = 1;
	{
		STMT(a, AS_WALK);
		for (;;) {
			int rc = sqlite3_step(st);
			if (rc == SQLITE_DONE)
				break;
			if (rc != SQLITE_ROW) {
				r = audit_fail(a->db, rc, "verify");
				break;
			}
			int64_t seq = sqlite3_column_int64(st, 0);
			if (seq <= 0 || seq < expected) {
				res.problem = AUDIT_OUT_OF_ORDER;
				res.first_bad_seq = seq;
				break;
			}
			if (seq > expected) {
				/* A hole the daemon itself found missing at its start (the newest
				 * records dropped) is a truncation; any other hole a deletion. */
				const char *act = (const char *)sqlite3_column_text(st, 5);
				res.problem = act && strcmp(act, "audit.truncated") == 0
				                  ? AUDIT_TRUNCATED
				                  : AUDIT_GAP;
				res.first_bad_seq = expected;
				break;
			}
			if (!audit_row_ok(a, st, seq, prev, mac)) {
				res.problem = AUDIT_BAD_MAC;
				res.first_bad_seq = seq;
				break;
			}
			memcpy(prev, mac, sizeof(prev));
			res.records++;
			expected++;
		}
	}
	if (r >= 0 && res.problem == AUDIT_OK) {
		int64_t last = expected - 1;
		STMT(a, AS_HEAD_GET);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			int64_t hseq = sqlite3_column_int64(st, 0);
			const void *hmac = sqlite3_column_blob(st, 1),
			           *hm = sqlite3_column_blob(st, 2);
			uint8_t want[AUDIT_MAC_LEN];
			bool ok = sqlite3_column_bytes(st, 1) == AUDIT_MAC_LEN &&
			          sqlite3_column_bytes(st, 2) == AUDIT_MAC_LEN && hmac && hm &&
			          audit_head_mac(a, hseq, hmac, want) >= 0 &&
			          CRYPTO_memcmp(want, hm, AUDIT_MAC_LEN) == 0;
			if (!ok || hseq < last) {
				res.problem = AUDIT_BAD_HEAD;
				res.first_bad_seq = last > 0 ? last : 1;
			} else if (hseq > last) {
				res.problem = AUDIT_TRUNCATED;
				res.first_bad_seq = last + 1;
			} else if (CRYPTO_memcmp(hmac, prev, AUDIT_MAC_LEN) != 0) {
				res.problem = AUDIT_BAD_HEAD;
				res.first_bad_seq = last > 0 ? last : 1;
			}
		} else if (rc == SQLITE_DONE) {
			res.problem = AUDIT_BAD_HEAD;
			res.first_bad_seq = last > 0 ? last : 1;
		} else {
			r = audit_fail(a->db, rc, "head");
		}
	}
	audit_rollback(a);
	if (r < 0)
		return r;
	*ret = res;
	return 0;
}

/* ---- query and export ---- */

static int
audit_query_bind(sqlite3_stmt *st, const AuditFilter *f)
{
	AuditFilter none = { 0 };
	if (!f)
		f = &none;
	int r = 0;
	r = r ?: audit_bind_text(st, 1, f->matching_id, -1);
	r = r ?: audit_bind_text(st, 2, f->operator_id, -1);
	r = r ?: audit_bind_text(st, 3, f->action, -1);
	r = r ?: audit_bind_text(st, 4, f->outcome, -1);
	if (r < 0)
		return r;
	if ((f->since_usec ? sqlite3_bind_int64(st, 5, f->since_usec) : sqlite3_bind_null(st, 5)) !=
	        SQLITE_OK ||
	    (f->until_usec ? sqlite3_bind_int64(st, 6, f->until_usec) : sqlite3_bind_null(st, 6)) !=
	        SQLITE_OK)
		return -ENOMEM;
	r = audit_bind_text(st, 7, f->key_hmac, -1);
	if (r < 0)
		return r;
	return sqlite3_bind_int64(st, 8, f->limit > 0 ? f->limit : -1) == SQLITE_OK ? 0 : -ENOMEM;
}

static json_object *
audit_row_json(sqlite3_stmt *st)
{
	json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	if (json_object_object_add(o, "seq", json_object_new_int64(sqlite3_column_int64(st, 0))) <
	        0 ||
	    json_object_object_add(o, "time", json_object_new_int64(sqlite3_column_int64(st, 1))) <
	        0) {
		json_object_put(o);
		return NULL;
	}
	for (int i = 0; i < AUDIT_N_FIELDS; i++) {
		json_object *v = NULL;
		if (sqlite3_column_type(st, 2 + i) != SQLITE_NULL) {
			const char *s = (const char *)sqlite3_column_text(st, 2 + i);
			v = s ? json_object_new_string_len(s, sqlite3_column_bytes(st, 2 + i))
			      : NULL;
			if (!v) {
				json_object_put(o);
				return NULL;
			}
		}
		if (json_object_object_add(o, audit_field_names[i], v) < 0) {
			json_object_put(v);
			json_object_put(o);
			return NULL;
		}
	}
	return o;
}

int
audit_query_json(Audit *a, const AuditFilter *f, json_object **ret)
{
	if (!a || !ret)
		return -EINVAL;
	int r = 0;
	json_object *arr = json_object_new_array();
	if (!arr)
		return -ENOMEM;
	STMT(a, f && f->newest_first ? AS_QUERY_NEWEST : AS_QUERY);
	r = audit_query_bind(st, f);
	while (r >= 0) {
		int rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW) {
			r = audit_fail(a->db, rc, "query");
			break;
		}
		json_object *o = audit_row_json(st);
		if (!o || json_object_array_add(arr, o) < 0) {
			json_object_put(o);
			r = -ENOMEM;
		}
	}
	if (r < 0) {
		json_object_put(arr);
		return r;
	}
	*ret = arr;
	return 0;
}

/* A small buffered writer: export streams any number of records in constant memory. */
typedef struct AuditOut {
	int fd;
	int r;
	size_t n;
	char buf[64 * 1024];
} AuditOut;

static void
audit_out_flush(AuditOut *o)
{
	if (o->r >= 0 && o->n > 0)
		o->r = audit_write_all(o->fd, o->buf, o->n);
	o->n = 0;
}

static void
audit_out(AuditOut *o, const char *p, size_t n)
{
	while (o->r >= 0 && n > 0) {
		if (o->n == sizeof(o->buf))
			audit_out_flush(o);
		size_t k = sizeof(o->buf) - o->n < n ? sizeof(o->buf) - o->n : n;
		memcpy(o->buf + o->n, p, k);
		o->n += k;
		p += k;
		n -= k;
	}
}

/* RFC 4180: a field with a comma, quote, CR or LF is quoted, quotes doubled. An empty string
 * is written "" so that it stays distinct from NULL (nothing between the commas). */
static void
audit_csv_field(AuditOut *o, const char *s, size_t n, bool is_null)
{
	if (is_null)
		return;
	if (n > 0 && strcspn(s, ",\"\r\n") == n) {
		audit_out(o, s, n);
		return;
	}
	audit_out(o, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			audit_out(o, "\"", 1);
		audit_out(o, s + i, 1);
	}
	audit_out(o, "\"", 1);
}

int
audit_export(Audit *a, const AuditFilter *f, bool csv, int fd)
{
	if (!a || fd < 0)
		return -EINVAL;
	int r = 0;
	AuditOut *o = malloc(sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->fd = fd;
	o->r = 0;
	o->n = 0;
	if (csv) {
		static const char header[] = "seq,time,terminal,matching_id,operator_id,action,"
		                             "outcome,reason,detail,key_hmac\r\n";
		audit_out(o, header, sizeof(header) - 1);
	}
	STMT(a, AS_QUERY);
	r = audit_query_bind(st, f);
	while (r >= 0 && o->r >= 0) {
		int rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW) {
			r = audit_fail(a->db, rc, "export");
			break;
		}
		if (csv) {
			char num[48];
			int k = snprintf(num, sizeof(num), "%" PRId64 ",%" PRId64,
			                 (int64_t)sqlite3_column_int64(st, 0),
			                 (int64_t)sqlite3_column_int64(st, 1));
			audit_out(o, num, (size_t)k);
			for (int i = 0; i < AUDIT_N_FIELDS; i++) {
				bool null = sqlite3_column_type(st, 2 + i) == SQLITE_NULL;
				const char *s = (const char *)sqlite3_column_text(st, 2 + i);
				audit_out(o, ",", 1);
				audit_csv_field(o, s ? s : "",
				                s ? (size_t)sqlite3_column_bytes(st, 2 + i) : 0,
				                null);
			}
			audit_out(o, "\r\n", 2);
		} else {
			json_object *j = audit_row_json(st);
			if (!j) {
				r = -ENOMEM;
				break;
			}
			size_t len = 0;
			const char *s = json_object_to_json_string_length(
			    j, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
			if (s) {
				audit_out(o, s, len);
				audit_out(o, "\n", 1);
			} else {
				r = -ENOMEM;
			}
			json_object_put(j);
		}
	}
	audit_out_flush(o);
	if (r >= 0)
		r = o->r;
	free(o);
	return r;
}

int64_t
audit_count(Audit *a)
{
	if (!a)
		return -EINVAL;
	STMT(a, AS_COUNT);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		return audit_fail(a->db, rc, "count");
	return sqlite3_column_int64(st, 0);
}

/* --- the chain head, for GetStatus (read-only; kept apart from the functions above) ------- */

int64_t
audit_head(const Audit *a, char ret_hex[static 65])
{
	ret_hex[0] = '\0';
	if (!a)
		return -EINVAL;
	for (size_t k = 0; k < AUDIT_MAC_LEN; k++)
		snprintf(ret_hex + 2 * k, 3, "%02x", a->last_mac[k]);
	return a->last_seq;
}
