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
#include <sys/statvfs.h>
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
#include "sealfmt.h"

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

/* The actions the (action, time) index holds: what start-up and the admin's lists ask of the
 * trail by action (the room log "room.*", removable storage attempts). A partial index: the
 * records a busy counter writes most (decisions, logins) cost nothing more to append. Written
 * as comparisons, not IN (...), which SQLite would evaluate through a temporary table on
 * every insert (twice the CPU of an append); a query repeats the term word for word, which
 * is how SQLite knows it may use the index. */
#define AUDIT_INDEXED_WHERE "(action >= 'room.' AND action < 'room/' OR action = 'usb.attempt')"

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
	/* 1 -> 2: the head also records the store's generation (anchor.c: a store rolled back
	 * below it is refused at start); the index serves what start-up asks of the trail by
	 * action and time (the room log of the last days) without reading all of it. */
	"ALTER TABLE head ADD COLUMN store_generation INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX records_by_action_time ON records(action, time) "
	"WHERE " AUDIT_INDEXED_WHERE ";"
	"PRAGMA user_version = 2;",
	/* 2 -> 3: the seals. Each record also carries h(n), the keyless hash chain (sealfmt.h),
	 * which anyone can recompute; checkpoints sign (epoch, seq, h(seq), time, terminal) with
	 * the epoch's Ed25519 key. Public and private halves live in separate tables so that a
	 * private key is destroyed by deleting its row (secure_delete zeroes the freed cell).
	 * The update trigger is dropped here and put back by audit_seal_backfill() once the
	 * existing records have their h(n), in the same transaction. */
	"DROP TRIGGER records_no_update;"
	"ALTER TABLE records ADD COLUMN hash BLOB;"
	"CREATE TABLE seal_public ("
	"  epoch INTEGER PRIMARY KEY,"
	"  public BLOB NOT NULL"
	") STRICT;"
	"CREATE TABLE seal_private ("
	"  epoch INTEGER PRIMARY KEY,"
	"  private BLOB NOT NULL"
	") STRICT;"
	"CREATE TABLE checkpoints ("
	"  seq INTEGER NOT NULL,"
	"  epoch INTEGER NOT NULL,"
	"  hash BLOB NOT NULL,"
	"  time INTEGER NOT NULL,"
	"  terminal TEXT NOT NULL,"
	"  signature BLOB NOT NULL"
	") STRICT;"
	"CREATE INDEX checkpoints_by_seq ON checkpoints(seq);"
	"PRAGMA user_version = 3;",
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
	AS_MAC_AT,
	AS_HEAD_SET_GEN,
	AS_EXPORT_PAGE,
	AS_QUERY_ACTION,
	AS_QUERY_ACTION_NEWEST,
	AS_AFTER,
	AS_EXPORT_SEALED_PAGE,
	_AS_MAX,
} AuditStmt;

#define AUDIT_COLUMNS                                                                              \
	"seq, time, terminal, matching_id, operator_id, action, outcome, reason, detail, key_hmac"

static const char *const audit_sql[_AS_MAX] = {
	[AS_BEGIN] = "BEGIN",
	[AS_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
	[AS_COMMIT] = "COMMIT",
	[AS_ROLLBACK] = "ROLLBACK",
	[AS_INSERT] = "INSERT INTO records (" AUDIT_COLUMNS ", mac, hash) "
	              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	[AS_HEAD_GET] = "SELECT seq, mac, head_mac, store_generation FROM head WHERE id = 1",
	[AS_HEAD_PUT] = "INSERT INTO head (id, seq, mac, head_mac, store_generation) "
	                "VALUES (1, ?1, ?2, ?3, ?4) "
	                "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, mac = excluded.mac, "
	                "head_mac = excluded.head_mac, "
	                "store_generation = max(store_generation, excluded.store_generation)",
	[AS_LAST] = "SELECT seq, mac, hash FROM records ORDER BY seq DESC LIMIT 1",
	[AS_WALK] = "SELECT " AUDIT_COLUMNS ", mac, hash FROM records ORDER BY seq",
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
	[AS_QUERY_ACTION_NEWEST] =
	    "SELECT " AUDIT_COLUMNS " FROM records WHERE " AUDIT_INDEXED_WHERE
	    " AND action = ?3 AND time >= ?5 AND time < ?6 AND "
	    "(?1 IS NULL OR matching_id = ?1) AND (?2 IS NULL OR operator_id = ?2) AND "
	    "(?4 IS NULL OR outcome = ?4) AND (?7 IS NULL OR key_hmac = ?7) "
	    "ORDER BY seq DESC LIMIT ?8",
	[AS_MAC_AT] = "SELECT mac FROM records WHERE seq = ?1",
	/* One step of the stepped export: a window of seqs, so that no step reads the whole
	 * trail and no read transaction stays open between steps. */
	[AS_EXPORT_PAGE] =
	    "SELECT " AUDIT_COLUMNS " FROM records WHERE seq > ?9 AND seq <= ?10 AND "
	    "(?1 IS NULL OR matching_id = ?1) AND (?2 IS NULL OR operator_id = ?2) AND "
	    "(?3 IS NULL OR action = ?3) AND (?4 IS NULL OR outcome = ?4) AND "
	    "(?5 IS NULL OR time >= ?5) AND (?6 IS NULL OR time < ?6) AND "
	    "(?7 IS NULL OR key_hmac = ?7) ORDER BY seq LIMIT ?8",
	/* The sealed export's window: every record of the range, with its MAC and h(n). */
	[AS_EXPORT_SEALED_PAGE] = "SELECT " AUDIT_COLUMNS ", mac, hash FROM records "
	                          "WHERE seq > ?1 AND seq <= ?2 ORDER BY seq",
	[AS_HEAD_SET_GEN] = "UPDATE head SET store_generation = ?1 WHERE id = 1",
	/* A query naming an indexed action: the (action, time) index (the IN term repeats the
	 * partial index's condition, which is how SQLite knows it may use it), so that the cost
	 * follows the rows asked for, not the size of the trail. ?5/?6 are always bound (open ends
	 * as the int64 extremes) so that the range can use the index. No INDEXED BY: a trail whose
	 * index was dropped still opens and answers, only slower (tests/audit holds the plan). */
	[AS_QUERY_ACTION] =
	    "SELECT " AUDIT_COLUMNS " FROM records WHERE " AUDIT_INDEXED_WHERE
	    " AND action = ?3 AND time >= ?5 AND time < ?6 AND "
	    "(?1 IS NULL OR matching_id = ?1) AND (?2 IS NULL OR operator_id = ?2) AND "
	    "(?4 IS NULL OR outcome = ?4) AND (?7 IS NULL OR key_hmac = ?7) ORDER BY seq LIMIT ?8",
	[AS_AFTER] =
	    "SELECT " AUDIT_COLUMNS ", mac FROM records WHERE seq > ?1 ORDER BY seq LIMIT ?2",
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
	/* The keyless chain at last_seq, and what the newest checkpoint covers. */
	uint8_t last_hash[SEAL_HASH_LEN];
	EVP_MD *sha256;
	int64_t sealed_seq;
	sd_event_source *seal_timer;
	bool seal_warned;
	char terminal[SEAL_TERMINAL_MAX + 1];

	AuditPending **queue, **batch;
	size_t n_queue;
	bool committing;
	bool journal;
	uint64_t commits;

	/* What open found (anchor.c judges it at the daemon's start). */
	AuditOpenState open_state;
	/* The other half of the cross-check: the store's generation goes into every head, and
	 * every committed position goes to the store (see audit_set_anchor). */
	const AuditAnchorOps *anchor_ops;
	void *anchor_userdata;
	int64_t store_generation;

	/* A full disk: the WAL is checkpointed and cut back, the reserve file released, and the
	 * condition logged once per window, not once per record. */
	char *reserve_path;
	bool reserve_held;
	uint64_t full_logged_usec;
	uint64_t full_events;
	uint64_t checkpoint_usec;
	/* SQLite VM steps of the last audit_query_json (tests: a query by action must not read
	 * the whole trail). */
	uint64_t last_query_steps;

	uint8_t canon[AUDIT_CANON_MAX];
	EVP_MD_CTX *md;
	bool seal_ready; /* open has finished and the trail was not abandoned */
};

static int audit_hash_step(Audit *a, uint8_t h[static SEAL_HASH_LEN], const uint8_t *c, size_t n);

/* Checkpoints as a walk over the records meets them (verify, the report's check). */
typedef struct AuditCk {
	int64_t seq, epoch, time;
	uint8_t hash[SEAL_HASH_LEN];
	bool sig_ok;
} AuditCk;
typedef struct AuditCheck {
	AuditCk *cks;
	size_t n, next;
	int64_t first_key_epoch; /* records of earlier epochs predate the seals */
	int64_t last_good;
	int64_t tail_first_seq, tail_first_epoch, last_epoch;
} AuditCheck;
static int audit_check_begin(Audit *a, AuditCheck *ret);
static bool audit_check_record(AuditCheck *c, int64_t seq, int64_t time_usec,
                               const uint8_t h[static SEAL_HASH_LEN], AuditVerifyResult *res);
static void audit_check_end(AuditCheck *c, int64_t last, AuditVerifyResult *res);
static int audit_seal_backfill(Audit *a);
static int audit_seal_start(Audit *a);
static void audit_seal_stop(Audit *a);

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
	    sqlite3_bind_blob(st, 3, hm, AUDIT_MAC_LEN, SQLITE_TRANSIENT) != SQLITE_OK ||
	    /* The schema's first step writes the head before the column exists. */
	    (sqlite3_bind_parameter_count(st) >= 4 &&
	     sqlite3_bind_int64(st, 4, a->store_generation) != SQLITE_OK))
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
	if (from_version == 2)
		return audit_seal_backfill(a);
	if (from_version != 0)
		return 0;
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(
	    a->db, "INSERT INTO head (id, seq, mac, head_mac) VALUES (1, ?1, ?2, ?3)", -1, &st,
	    NULL);
	static const uint8_t zero[AUDIT_MAC_LEN];
	int r = rc == SQLITE_OK ? audit_head_put(a, st, 0, zero) : audit_fail(a->db, rc, "prepare");
	sqlite3_finalize(st);
	return r;
}

static int
audit_migrate(Audit *a)
{
	sqlite3_int64 version = 0;
	int r = audit_pragma_get(a, "PRAGMA user_version", &version, NULL, 0);
	if (r < 0)
		return r;
	a->open_state.created = version == 0;
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
	memset(a->last_hash, 0, sizeof(a->last_hash));
	AuditOpenState *os = &a->open_state;
	{
		STMT(a, AS_HEAD_GET);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			os->head_present = true;
			os->head_seq = sqlite3_column_int64(st, 0);
			os->head_store_generation = sqlite3_column_int64(st, 3);
			a->store_generation = os->head_store_generation;
			if (sqlite3_column_bytes(st, 1) == AUDIT_MAC_LEN) {
				a->last_seq = sqlite3_column_int64(st, 0);
				memcpy(a->last_mac, sqlite3_column_blob(st, 1), AUDIT_MAC_LEN);
				memcpy(os->head_mac, a->last_mac, AUDIT_MAC_LEN);
				uint8_t want[AUDIT_MAC_LEN];
				os->head_ok =
				    sqlite3_column_bytes(st, 2) == AUDIT_MAC_LEN &&
				    audit_head_mac(a, a->last_seq, a->last_mac, want) >= 0 &&
				    CRYPTO_memcmp(want, sqlite3_column_blob(st, 2),
				                  AUDIT_MAC_LEN) == 0;
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
	os->last_present = present;
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
		/* The keyless chain continues from the newest record present. */
		if (sqlite3_column_bytes(st, 2) == SEAL_HASH_LEN)
			memcpy(a->last_hash, sqlite3_column_blob(st, 2), SEAL_HASH_LEN);
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

/* ---- a full disk ---- */

/* What the reserve file holds back: enough for the records a full disk must still let the
 * daemon write (the failure itself, a stop, a start) and for SQLite to open both databases
 * again, small enough for a 2 MB volume. */
#define AUDIT_RESERVE_BYTES (256 * 1024)
#define AUDIT_RESERVE_SPARE (1024 * 1024)
#define AUDIT_FULL_LOG_USEC (60ull * 1000000ull)

static uint64_t
audit_mono_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Takes the reserve back when there is room for it again; a partial one is removed. */
static void
audit_reserve_take(Audit *a)
{
	if (!a->reserve_path || a->reserve_held)
		return;
	struct stat st;
	if (stat(a->reserve_path, &st) == 0 && st.st_size >= AUDIT_RESERVE_BYTES &&
	    (uint64_t)st.st_blocks * 512 >= AUDIT_RESERVE_BYTES) {
		a->reserve_held = true;
		return;
	}
	/* Taken back only with room to spare: on a nearly full disk the space is worth more to
	 * the next commit than to the next emergency. */
	struct statvfs vfs;
	const char *db = sqlite3_db_filename(a->db, "main");
	if (!db || statvfs(db, &vfs) < 0 ||
	    (uint64_t)vfs.f_bavail * vfs.f_frsize < AUDIT_RESERVE_BYTES + AUDIT_RESERVE_SPARE)
		return;
	int fd = open(a->reserve_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (fd < 0)
		return;
	int e = posix_fallocate(fd, 0, AUDIT_RESERVE_BYTES);
	close(fd);
	if (e != 0) {
		(void)unlink(a->reserve_path);
		return;
	}
	a->reserve_held = true;
}

static void
audit_reserve_release(Audit *a)
{
	if (!a->reserve_path)
		return;
	if (unlink(a->reserve_path) == 0 || errno == ENOENT)
		a->reserve_held = false;
}

static int
audit_checkpoint(Audit *a)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(a->db, "PRAGMA wal_checkpoint(TRUNCATE)", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	int busy = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 1;
	sqlite3_finalize(st);
	a->checkpoint_usec = audit_mono_usec();
	if (rc != SQLITE_ROW)
		return -EIO;
	return busy ? -EBUSY : 0;
}

/* A commit failed for space: said once per window (with how often since), then the WAL is
 * folded in and cut back (a WAL grown by earlier commits is usually what ate the space) and
 * the reserve released, so that the retry, and the next start, find room. */
static void
audit_on_full(Audit *a)
{
	a->full_events++;
	uint64_t now = audit_mono_usec();
	if (a->full_logged_usec == 0 || now - a->full_logged_usec >= AUDIT_FULL_LOG_USEC) {
		fprintf(stderr,
		        "biogated: audit: the disk holding %s is full (ENOSPC, %" PRIu64
		        " failed commits so far): records cannot be written and the requests "
		        "that need them are refused until space is freed\n",
		        sqlite3_db_filename(a->db, "main"), a->full_events);
		a->full_logged_usec = now;
	}
	(void)audit_checkpoint(a);
	audit_reserve_release(a);
}

/* Writes the batch as records seq+1.. in one transaction with the head; on success *seq and
 * mac hold the new position. Nothing of a failed attempt remains. */
static int
audit_write_batch(Audit *a, AuditPending **batch, size_t n, int64_t *seq,
                  uint8_t mac[static AUDIT_MAC_LEN], uint8_t hash[static SEAL_HASH_LEN])
{
	int r = audit_exec(a, AS_BEGIN_IMMEDIATE, "begin");
	for (size_t i = 0; r >= 0 && i < n; i++) {
		AuditPending *p = batch[i];
		p->seq = ++*seq;
		size_t len = audit_canonical(a, p->seq, p->time_usec, p->f, p->len, mac);
		r = audit_mac(a->chain, a->canon, len, mac);
		if (r >= 0)
			r = audit_hash_step(a, hash, a->canon, len - AUDIT_MAC_LEN);
		if (r < 0)
			break;
		STMT(a, AS_INSERT);
		if (sqlite3_bind_int64(st, 1, p->seq) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 2, p->time_usec) != SQLITE_OK ||
		    sqlite3_bind_blob(st, 11, mac, AUDIT_MAC_LEN, SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_bind_blob(st, 12, hash, SEAL_HASH_LEN, SQLITE_STATIC) != SQLITE_OK) {
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
		r = audit_head_put(a, st, *seq, mac);
	}
	if (r >= 0)
		r = audit_exec(a, AS_COMMIT, "commit");
	if (r < 0)
		audit_rollback(a);
	return r;
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

	/* The store's generation as of now: everything it counts is already durable. */
	if (a->anchor_ops && a->anchor_ops->generation) {
		int64_t g = 0;
		if (a->anchor_ops->generation(a->anchor_userdata, &g) >= 0 &&
		    g > a->store_generation)
			a->store_generation = g;
	}

	int64_t seq = a->last_seq;
	uint8_t mac[AUDIT_MAC_LEN], hash[SEAL_HASH_LEN];
	memcpy(mac, a->last_mac, sizeof(mac));
	memcpy(hash, a->last_hash, sizeof(hash));
	int r = audit_write_batch(a, batch, n, &seq, mac, hash);
	if (r == -ENOSPC) {
		audit_on_full(a);
		seq = a->last_seq;
		memcpy(mac, a->last_mac, sizeof(mac));
		memcpy(hash, a->last_hash, sizeof(hash));
		r = audit_write_batch(a, batch, n, &seq, mac, hash);
	}
	if (r >= 0) {
		a->last_seq = seq;
		memcpy(a->last_mac, mac, sizeof(mac));
		memcpy(a->last_hash, hash, sizeof(hash));
		a->commits++;
		/* Told before any callback, so the anchor is written before any reply. */
		if (a->anchor_ops && a->anchor_ops->committed)
			a->anchor_ops->committed(a->anchor_userdata, seq, mac);
		/* The daemon (with a loop) takes its reserve back; offline tools keep none. */
		if (a->event && !a->reserve_held && a->reserve_path &&
		    audit_mono_usec() - a->checkpoint_usec >= 10u * 1000000u) {
			(void)audit_checkpoint(a);
			audit_reserve_take(a);
		}
	}
	a->committing = false;
	/* Every AUDIT_SEAL_EVERY_RECORDS records a checkpoint, in its own transaction after the
	 * batch: a failed seal never fails the records (the timer tries again). */
	if (r >= 0 && a->event && a->last_seq - a->sealed_seq >= AUDIT_SEAL_EVERY_RECORDS)
		(void)audit_seal(a);

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
	a->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	a->md = EVP_MD_CTX_new();
	if (gethostname(a->terminal, sizeof(a->terminal) - 1) < 0)
		a->terminal[0] = '\0';
	if (!a->hmac || !a->sha256 || !a->md) {
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
	/* The reserve lives beside the trail, on the same filesystem. */
	if (asprintf(&a->reserve_path, "%s.reserve", db_path) < 0) {
		a->reserve_path = NULL;
		r = -ENOMEM;
		goto fail;
	}
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
	 * callback relies on. secure_delete: records are never deleted, but an epoch's private
	 * signing key is, and its bytes must not survive in a freed cell.
	 * mmap: verify and export read the whole file; mapped reads skip a copy per page
	 * (about a fifth of verify's time). SQLite still writes with write(). */
	/* Exclusive first, before anything reads the file: with a WAL left by the last run, an
	 * earlier read would size a -shm file, which fails on a full disk. */
	r = audit_pragma(a, "PRAGMA locking_mode = EXCLUSIVE");
	if (r < 0)
		goto fail;
	r = audit_pragma(a, "PRAGMA trusted_schema = OFF;"
	                    "PRAGMA synchronous = FULL;"
	                    "PRAGMA secure_delete = ON;"
	                    "PRAGMA mmap_size = 1073741824;"
	                    /* The WAL is bounded: folded in every 256 pages (1 MiB) and cut
	                     * back to 1 MiB after, so that it never eats a small disk. */
	                    "PRAGMA wal_autocheckpoint = 256;"
	                    "PRAGMA journal_size_limit = 1048576;");
	if (r < 0)
		goto fail;
	/* Exclusive: the log belongs to the daemon alone (no -shm file, no per-transaction file
	 * locks). Set before WAL is first used. */
	char mode[16];
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
	/* Only a daemon (with a loop) keeps a reserve; offline tools must not leave one. */
	if (event) {
		a->checkpoint_usec = audit_mono_usec();
		audit_reserve_take(a);
	}
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
	a->seal_ready = true;
	/* The daemon keeps the epochs' keys and seals; offline tools only read the seals. */
	if (event) {
		r = audit_seal_start(a);
		if (r < 0)
			goto fail;
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
	/* At the daemon's stop: a checkpoint over everything written. */
	audit_seal_stop(a);
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
	EVP_MD_CTX_free(a->md);
	EVP_MD_free(a->sha256);
	free(a->queue);
	free(a->batch);
	free(a->reserve_path);
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
	case AUDIT_BAD_HASH:
		return "bad-hash";
	case AUDIT_BAD_CHECKPOINT:
		return "bad-checkpoint";
	case AUDIT_UNSEALED:
		return "unsealed";
	}
	return "unknown";
}

/* Recomputes one row's MAC from its columns (walk order: 10 columns then mac). A row that
 * this code could never have written (over-long, wrong type, missing action) fails as a bad
 * MAC without being hashed. */
static bool
audit_row_ok(Audit *a, sqlite3_stmt *st, int64_t seq, const uint8_t prev[static AUDIT_MAC_LEN],
             uint8_t ret_mac[static AUDIT_MAC_LEN], size_t *ret_canon_len)
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
	*ret_canon_len = n - AUDIT_MAC_LEN;
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
	uint8_t prev[AUDIT_MAC_LEN] = { 0 }, mac[AUDIT_MAC_LEN], h[SEAL_HASH_LEN] = { 0 };
	int64_t expected = 1;
	AuditCheck ck = { 0 };
	r = audit_check_begin(a, &ck);
	if (r < 0) {
		audit_rollback(a);
		return r;
	}
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
			size_t clen = 0;
			if (!audit_row_ok(a, st, seq, prev, mac, &clen)) {
				res.problem = AUDIT_BAD_MAC;
				res.first_bad_seq = seq;
				break;
			}
			if (audit_hash_step(a, h, a->canon, clen) < 0) {
				r = -EIO;
				break;
			}
			if (sqlite3_column_bytes(st, 11) != SEAL_HASH_LEN ||
			    memcmp(sqlite3_column_blob(st, 11), h, SEAL_HASH_LEN) != 0) {
				res.problem = AUDIT_BAD_HASH;
				res.first_bad_seq = seq;
				break;
			}
			if (audit_check_record(&ck, seq, sqlite3_column_int64(st, 1), h, &res))
				break;
			memcpy(prev, mac, sizeof(prev));
			res.records++;
			expected++;
		}
	}
	bool walked = r >= 0 && res.problem == AUDIT_OK;
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
	/* The seals' end after the head's: a head problem is the more precise name. */
	if (walked && r >= 0 && res.problem == AUDIT_OK)
		audit_check_end(&ck, expected - 1, &res);
	free(ck.cks);
	audit_rollback(a);
	if (r < 0)
		return r;
	*ret = res;
	return 0;
}

/* ---- query and export ---- */

static bool
audit_action_indexed(const char *action)
{
	/* AUDIT_INDEXED_WHERE in C. */
	return strncmp(action, "room.", 5) == 0 || strcmp(action, "usb.attempt") == 0;
}

static AuditStmt
audit_query_stmt(const AuditFilter *f)
{
	if (f && f->action && audit_action_indexed(f->action))
		return f->newest_first ? AS_QUERY_ACTION_NEWEST : AS_QUERY_ACTION;
	return f && f->newest_first ? AS_QUERY_NEWEST : AS_QUERY;
}

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
	/* The indexed statement needs both ends of the range as numbers. */
	bool range = f->action && audit_action_indexed(f->action);
	if ((f->since_usec || range
	         ? sqlite3_bind_int64(st, 5, f->since_usec ? f->since_usec : INT64_MIN)
	         : sqlite3_bind_null(st, 5)) != SQLITE_OK ||
	    (f->until_usec || range
	         ? sqlite3_bind_int64(st, 6, f->until_usec ? f->until_usec : INT64_MAX)
	         : sqlite3_bind_null(st, 6)) != SQLITE_OK)
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
	STMT(a, audit_query_stmt(f));
	sqlite3_stmt_status(st, SQLITE_STMTSTATUS_VM_STEP, 1);
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
	a->last_query_steps = (uint64_t)sqlite3_stmt_status(st, SQLITE_STMTSTATUS_VM_STEP, 0);
	if (r < 0) {
		json_object_put(arr);
		return r;
	}
	*ret = arr;
	return 0;
}

/* A small buffered writer: to an fd in constant memory (fd >= 0), or growing in memory for
 * the stepped export (fd < 0). */
typedef struct AuditOut {
	int fd;
	int r;
	size_t n, cap;
	char *buf;
} AuditOut;

#define AUDIT_OUT_FD_BUF (64 * 1024)

static void
audit_out_flush(AuditOut *o)
{
	if (o->fd >= 0 && o->r >= 0 && o->n > 0)
		o->r = audit_write_all(o->fd, o->buf, o->n);
	if (o->fd >= 0)
		o->n = 0;
}

static void
audit_out(AuditOut *o, const char *p, size_t n)
{
	while (o->r >= 0 && n > 0) {
		if (o->n == o->cap) {
			if (o->fd >= 0) {
				audit_out_flush(o);
			} else {
				size_t cap = o->cap ? 2 * o->cap : 64 * 1024;
				char *b = realloc(o->buf, cap);
				if (!b) {
					o->r = -ENOMEM;
					return;
				}
				o->buf = b;
				o->cap = cap;
			}
			continue;
		}
		size_t k = o->cap - o->n < n ? o->cap - o->n : n;
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

static const char audit_csv_header[] = "seq,time,terminal,matching_id,operator_id,action,"
                                       "outcome,reason,detail,key_hmac\r\n";

/* One row of a query statement as a CSV line or a JSON line. */
static int
audit_out_row(AuditOut *o, sqlite3_stmt *st, bool csv)
{
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
			                s ? (size_t)sqlite3_column_bytes(st, 2 + i) : 0, null);
		}
		audit_out(o, "\r\n", 2);
		return 0;
	}
	json_object *j = audit_row_json(st);
	if (!j)
		return -ENOMEM;
	size_t len = 0;
	const char *s = json_object_to_json_string_length(
	    j, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	int r = 0;
	if (s) {
		audit_out(o, s, len);
		audit_out(o, "\n", 1);
	} else {
		r = -ENOMEM;
	}
	json_object_put(j);
	return r;
}

int
audit_export(Audit *a, const AuditFilter *f, bool csv, int fd)
{
	if (!a || fd < 0)
		return -EINVAL;
	int r = 0;
	AuditOut o = { .fd = fd, .cap = AUDIT_OUT_FD_BUF, .buf = malloc(AUDIT_OUT_FD_BUF) };
	if (!o.buf)
		return -ENOMEM;
	if (csv)
		audit_out(&o, audit_csv_header, sizeof(audit_csv_header) - 1);
	STMT(a, audit_query_stmt(f));
	r = audit_query_bind(st, f);
	while (r >= 0 && o.r >= 0) {
		int rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW) {
			r = audit_fail(a->db, rc, "export");
			break;
		}
		r = audit_out_row(&o, st, csv);
	}
	audit_out_flush(&o);
	if (r >= 0)
		r = o.r;
	free(o.buf);
	return r;
}

/* ---- the stepped export ---- */

/* Rows one step may look at: a filter that matches little must not make one step read the
 * whole trail. */
#define AUDIT_EXPORT_WINDOW 8192

struct AuditExport {
	Audit *a;
	AuditFilter f;
	char *strings[5]; /* the filter's strings, owned */
	bool csv;
	bool sealed; /* the sealed format: header, records with h(n) and MAC, checkpoints, end */
	bool sealed_done;
	int64_t after, end; /* records after..end remain (end: the position at begin) */
	int64_t remaining;  /* the filter's limit left; -1: none */
	int64_t records;
	AuditOut pend;
	size_t pend_off;
};

void
audit_export_free(AuditExport *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < sizeof(x->strings) / sizeof(x->strings[0]); i++)
		free(x->strings[i]);
	free(x->pend.buf);
	free(x);
}

static int
audit_export_dup(AuditExport *x, size_t i, const char **field)
{
	if (!*field)
		return 0;
	x->strings[i] = strdup(*field);
	if (!x->strings[i])
		return -ENOMEM;
	*field = x->strings[i];
	return 0;
}

int
audit_export_begin(Audit *a, const AuditFilter *f, bool csv, AuditExport **ret)
{
	if (!a || !ret)
		return -EINVAL;
	AuditExport *x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	*x = (AuditExport){ .a = a, .csv = csv, .end = a->last_seq, .remaining = -1 };
	x->pend.fd = -1;
	if (f) {
		x->f = *f;
		x->f.newest_first = false;
		if (f->limit > 0)
			x->remaining = f->limit;
	}
	int r = 0;
	r = r ?: audit_export_dup(x, 0, &x->f.matching_id);
	r = r ?: audit_export_dup(x, 1, &x->f.operator_id);
	r = r ?: audit_export_dup(x, 2, &x->f.action);
	r = r ?: audit_export_dup(x, 3, &x->f.outcome);
	r = r ?: audit_export_dup(x, 4, &x->f.key_hmac);
	if (r < 0) {
		audit_export_free(x);
		return r;
	}
	if (csv)
		audit_out(&x->pend, audit_csv_header, sizeof(audit_csv_header) - 1);
	*ret = x;
	return 0;
}

/* Formats the next window of rows (stopping early once want bytes are pending). */
static int audit_export_sealed_window(AuditExport *x, size_t want);

static int
audit_export_window(AuditExport *x, size_t want)
{
	Audit *a = x->a;
	if (x->sealed)
		return audit_export_sealed_window(x, want);
	int64_t to =
	    x->end - x->after > AUDIT_EXPORT_WINDOW ? x->after + AUDIT_EXPORT_WINDOW : x->end;
	AuditFilter f = x->f;
	f.limit = x->remaining;
	STMT(a, AS_EXPORT_PAGE);
	int r = audit_query_bind(st, &f);
	if (r >= 0 && (sqlite3_bind_int64(st, 9, x->after) != SQLITE_OK ||
	               sqlite3_bind_int64(st, 10, to) != SQLITE_OK))
		r = -ENOMEM;
	bool stopped = false;
	while (r >= 0) {
		int rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW) {
			r = audit_fail(a->db, rc, "export");
			break;
		}
		x->after = sqlite3_column_int64(st, 0);
		r = audit_out_row(&x->pend, st, x->csv);
		x->records++;
		if (x->remaining > 0 && --x->remaining == 0)
			break;
		if (x->pend.n - x->pend_off >= want) {
			stopped = true;
			break;
		}
	}
	if (r >= 0 && !stopped)
		x->after = to;
	return r >= 0 ? x->pend.r : r;
}

ssize_t
audit_export_read(AuditExport *x, char *buf, size_t size)
{
	if (!x || !buf || size == 0)
		return -EINVAL;
	size_t have = x->pend.n - x->pend_off;
	/* Topped up to a full read: a row's tail left over must not go out as a chunk alone. */
	if (have < size &&
	    ((x->after < x->end && x->remaining != 0) || (x->sealed && !x->sealed_done))) {
		if (have > 0)
			memmove(x->pend.buf, x->pend.buf + x->pend_off, have);
		x->pend.n = have;
		x->pend_off = 0;
		int r = audit_export_window(x, size);
		if (r < 0)
			return r;
	}
	size_t k = x->pend.n - x->pend_off < size ? x->pend.n - x->pend_off : size;
	memcpy(buf, x->pend.buf + x->pend_off, k);
	x->pend_off += k;
	/* A window with no match gives nothing yet: say so without claiming the end. */
	if (k == 0 && ((x->after < x->end && x->remaining != 0) || (x->sealed && !x->sealed_done)))
		return -EAGAIN;
	return (ssize_t)k;
}

int64_t
audit_export_records(const AuditExport *x)
{
	return x ? x->records : 0;
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

/* ---- anchoring ---- */

void
audit_open_state(const Audit *a, AuditOpenState *ret)
{
	if (a && ret)
		*ret = a->open_state;
}

int
audit_mac_at(Audit *a, int64_t seq, uint8_t ret[static AUDIT_MAC_BYTES])
{
	if (!a || !ret)
		return -EINVAL;
	STMT(a, AS_MAC_AT);
	if (sqlite3_bind_int64(st, 1, seq) != SQLITE_OK)
		return -ENOMEM;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return audit_fail(a->db, rc, "mac");
	if (sqlite3_column_bytes(st, 0) != AUDIT_MAC_LEN)
		return -EBADMSG;
	memcpy(ret, sqlite3_column_blob(st, 0), AUDIT_MAC_LEN);
	return 0;
}

void
audit_set_anchor(Audit *a, const AuditAnchorOps *ops, void *userdata)
{
	if (!a)
		return;
	a->anchor_ops = ops;
	a->anchor_userdata = userdata;
}

int
audit_set_store_generation(Audit *a, int64_t generation)
{
	if (!a || generation < 0)
		return -EINVAL;
	STMT(a, AS_HEAD_SET_GEN);
	if (sqlite3_bind_int64(st, 1, generation) != SQLITE_OK)
		return -ENOMEM;
	int rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		return audit_fail(a->db, rc, "head");
	a->store_generation = generation;
	a->open_state.head_store_generation = generation;
	return 0;
}

void
audit_abandon(Audit *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n_queue; i++) {
		if (a->queue[i]->done)
			a->queue[i]->done(-ECANCELED, 0, a->queue[i]->userdata);
		free(a->queue[i]);
		a->queue[i] = NULL;
	}
	a->n_queue = 0;
	if (a->defer)
		(void)sd_event_source_set_enabled(a->defer, SD_EVENT_OFF);
	/* A refused trail gets no checkpoint and no keys either. */
	a->seal_ready = false;
	if (a->seal_timer)
		(void)sd_event_source_set_enabled(a->seal_timer, SD_EVENT_OFF);
}

uint64_t
audit_disk_full_events(const Audit *a)
{
	return a ? a->full_events : 0;
}

uint64_t
audit_last_query_steps(const Audit *a)
{
	return a ? a->last_query_steps : 0;
}

int64_t
audit_last_seq(const Audit *a)
{
	return a ? a->last_seq : 0;
}

int
audit_read_after(Audit *a, int64_t after, size_t max, AuditRowFn fn, void *userdata)
{
	if (!a || !fn || after < 0 || max == 0 || max > INT32_MAX)
		return -EINVAL;
	STMT(a, AS_AFTER);
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	int n = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *f[AUDIT_N_FIELDS];
		for (int i = 0; i < AUDIT_N_FIELDS; i++)
			f[i] = (const char *)sqlite3_column_text(st, 2 + i);
		if (sqlite3_column_bytes(st, 2 + AUDIT_N_FIELDS) != AUDIT_MAC_LEN)
			return -EBADMSG;
		AuditRecord rec = { .time_usec = sqlite3_column_int64(st, 1),
			            .terminal = f[AF_TERMINAL],
			            .matching_id = f[AF_MATCHING_ID],
			            .operator_id = f[AF_OPERATOR_ID],
			            .action = f[AF_ACTION],
			            .outcome = f[AF_OUTCOME],
			            .reason = f[AF_REASON],
			            .detail = f[AF_DETAIL],
			            .key_hmac = f[AF_KEY_HMAC] };
		int r = fn(sqlite3_column_int64(st, 0), &rec,
		           sqlite3_column_blob(st, 2 + AUDIT_N_FIELDS), userdata);
		if (r < 0)
			return r;
		n++;
	}
	if (rc != SQLITE_DONE)
		return audit_fail(a->db, rc, "read");
	return n;
}

/* ---- seals: the keyless hash chain and signed checkpoints ----
 *
 * The HMAC chain proves nothing to someone without the audit key, and anyone with the key
 * (whoever is root on the terminal) can rewrite it. Beside it: h(n) = SHA-256(h(n-1) | C(n))
 * (sealfmt.h), which anyone can recompute, and checkpoints signing h(seq) with the Ed25519 key
 * of the current epoch (a UTC day). The private key of an epoch is deleted (secure_delete, WAL
 * truncated) once the epoch is over, so a later holder of the terminal cannot sign for it;
 * the public keys go to the city up front (audit_seal_keys_text). */

static int
audit_hash_step(Audit *a, uint8_t h[static SEAL_HASH_LEN], const uint8_t *c, size_t n)
{
	unsigned int outl = 0;
	if (EVP_DigestInit_ex2(a->md, a->sha256, NULL) != 1 ||
	    EVP_DigestUpdate(a->md, h, SEAL_HASH_LEN) != 1 || EVP_DigestUpdate(a->md, c, n) != 1 ||
	    EVP_DigestFinal_ex(a->md, h, &outl) != 1 || outl != SEAL_HASH_LEN)
		return -EIO;
	return 0;
}

/* A row's fields (columns 2..9 of AUDIT_COLUMNS), bounded as appends bound them. */
static bool
audit_row_fields(sqlite3_stmt *st, const char *f[AUDIT_N_FIELDS], uint32_t len[AUDIT_N_FIELDS])
{
	for (int i = 0; i < AUDIT_N_FIELDS; i++) {
		f[i] = (const char *)sqlite3_column_text(st, 2 + i);
		len[i] = 0;
		if (!f[i]) {
			if (sqlite3_column_type(st, 2 + i) != SQLITE_NULL)
				return false;
			continue;
		}
		int n = sqlite3_column_bytes(st, 2 + i);
		if (n < 0 || (uint32_t)n > audit_field_max(i))
			return false;
		len[i] = (uint32_t)n;
	}
	return true;
}

/* Schema step 2 -> 3: h(n) for the records already there, then the update trigger back. A
 * row that could never have been written gets no hash (verify names it). */
static int
audit_seal_backfill(Audit *a)
{
	sqlite3_stmt *rd = NULL, *wr = NULL;
	int rc = sqlite3_prepare_v2(a->db, "SELECT " AUDIT_COLUMNS " FROM records ORDER BY seq", -1,
	                            &rd, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(a->db, "UPDATE records SET hash = ?1 WHERE seq = ?2", -1,
		                        &wr, NULL);
	int r = rc == SQLITE_OK ? 0 : audit_fail(a->db, rc, "prepare");
	uint8_t h[SEAL_HASH_LEN] = { 0 };
	while (r >= 0) {
		rc = sqlite3_step(rd);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW) {
			r = audit_fail(a->db, rc, "backfill");
			break;
		}
		const char *f[AUDIT_N_FIELDS];
		uint32_t len[AUDIT_N_FIELDS];
		if (!audit_row_fields(rd, f, len))
			continue;
		size_t n = sealfmt_canonical(a->canon, sqlite3_column_int64(rd, 0),
		                             sqlite3_column_int64(rd, 1), f, len);
		r = audit_hash_step(a, h, a->canon, n);
		if (r < 0)
			break;
		sqlite3_reset(wr);
		if (sqlite3_bind_blob(wr, 1, h, SEAL_HASH_LEN, SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_bind_int64(wr, 2, sqlite3_column_int64(rd, 0)) != SQLITE_OK) {
			r = -ENOMEM;
			break;
		}
		rc = sqlite3_step(wr);
		if (rc != SQLITE_DONE)
			r = audit_fail(a->db, rc, "backfill");
	}
	sqlite3_finalize(rd);
	sqlite3_finalize(wr);
	if (r >= 0)
		r = audit_pragma(
		    a, "CREATE TRIGGER records_no_update BEFORE UPDATE ON records "
		       "BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;");
	return r;
}

static int
audit_sql_int(Audit *a, const char *sql, int64_t bind1, int64_t *ret)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(a->db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK && sqlite3_bind_parameter_count(st) >= 1)
		rc = sqlite3_bind_int64(st, 1, bind1);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	int r = 0;
	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_type(st, 0) == SQLITE_NULL ? INT64_MIN
		                                                 : sqlite3_column_int64(st, 0);
	else
		r = rc == SQLITE_DONE ? -ENOENT : audit_fail(a->db, rc, "seal");
	sqlite3_finalize(st);
	return r;
}

/* Keys for [from, to], one transaction. */
static int
audit_seal_keygen(Audit *a, int64_t from, int64_t to)
{
	sqlite3_stmt *pub = NULL, *priv = NULL;
	int rc = sqlite3_prepare_v2(
	    a->db, "INSERT INTO seal_public (epoch, public) VALUES (?1, ?2)", -1, &pub, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(a->db,
		                        "INSERT INTO seal_private (epoch, private) VALUES (?1, ?2)",
		                        -1, &priv, NULL);
	int r = rc == SQLITE_OK ? audit_exec(a, AS_BEGIN_IMMEDIATE, "begin")
	                        : audit_fail(a->db, rc, "prepare");
	for (int64_t e = from; r >= 0 && e <= to; e++) {
		EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		uint8_t pk[SEAL_PUBKEY_LEN], sk[32];
		size_t pl = sizeof(pk), sl = sizeof(sk);
		if (!k || EVP_PKEY_get_raw_public_key(k, pk, &pl) != 1 ||
		    EVP_PKEY_get_raw_private_key(k, sk, &sl) != 1 || pl != sizeof(pk) ||
		    sl != sizeof(sk))
			r = -EIO;
		EVP_PKEY_free(k);
		sqlite3_reset(pub);
		sqlite3_reset(priv);
		if (r >= 0 &&
		    (sqlite3_bind_int64(pub, 1, e) != SQLITE_OK ||
		     sqlite3_bind_blob(pub, 2, pk, sizeof(pk), SQLITE_STATIC) != SQLITE_OK ||
		     sqlite3_bind_int64(priv, 1, e) != SQLITE_OK ||
		     sqlite3_bind_blob(priv, 2, sk, sizeof(sk), SQLITE_TRANSIENT) != SQLITE_OK))
			r = -ENOMEM;
		if (r >= 0 && (rc = sqlite3_step(pub)) != SQLITE_DONE)
			r = audit_fail(a->db, rc, "seal key");
		if (r >= 0 && (rc = sqlite3_step(priv)) != SQLITE_DONE)
			r = audit_fail(a->db, rc, "seal key");
		sqlite3_clear_bindings(priv);
		OPENSSL_cleanse(sk, sizeof(sk));
	}
	sqlite3_finalize(pub);
	sqlite3_finalize(priv);
	if (r >= 0)
		r = audit_exec(a, AS_COMMIT, "commit");
	if (r < 0)
		audit_rollback(a);
	return r;
}

/* Keys up to the horizon; a new batch is recorded with the new list's fingerprint. */
static int
audit_seal_keys_ensure(Audit *a, int64_t now_usec)
{
	int64_t now = sealfmt_epoch(now_usec), max = INT64_MIN;
	int r = audit_sql_int(a, "SELECT max(epoch) FROM seal_public", 0, &max);
	if (r < 0)
		return r;
	int64_t from, to;
	if (max == INT64_MIN) {
		from = now;
		to = now + AUDIT_SEAL_KEYS_FIRST - 1;
	} else if (max >= now + AUDIT_SEAL_KEYS_MIN_AHEAD) {
		return 0;
	} else {
		from = max + 1 > now ? max + 1 : now;
		to = now + AUDIT_SEAL_KEYS_BATCH - 1;
	}
	r = audit_seal_keygen(a, from, to);
	if (r < 0)
		return r;
	char *text = NULL;
	char fp[65], detail[192];
	r = audit_seal_keys_text(a, &text, fp);
	free(text);
	if (r < 0)
		return r;
	snprintf(detail, sizeof(detail),
	         "{\"from_epoch\":%" PRId64 ",\"to_epoch\":%" PRId64 ",\"fingerprint\":\"%s\"}",
	         from, to, fp);
	fprintf(stderr,
	        "biogated: audit: signing keys made for epochs %" PRId64 " to %" PRId64
	        "; export the public keys (biogatectl audit keys export), fingerprint %s\n",
	        from, to, fp);
	/* Set-up adds no record (the city takes the list from the terminal's set-up); an
	 * extension is recorded, so that an auditor sees when a new list had to be taken. */
	if (max == INT64_MIN)
		return 0;
	AuditRecord rec = { .time_usec = now_usec,
		            .terminal = a->terminal[0] ? a->terminal : NULL,
		            .action = "audit.seal-keys",
		            .outcome = "ok",
		            .reason = "extended",
		            .detail = detail };
	r = audit_append(a, &rec, NULL, NULL);
	return r < 0 ? r : 1;
}

/* One checkpoint over (last_seq, last_hash), signed with the raw private key sk, inside the
 * caller's transaction. */
static int
audit_seal_sign(Audit *a, int64_t epoch, const uint8_t *sk, size_t sklen, int64_t now_usec)
{
	uint8_t msg[SEAL_MSG_MAX], sig[SEAL_SIG_LEN];
	size_t n =
	    sealfmt_checkpoint_msg(msg, a->terminal, epoch, a->last_seq, a->last_hash, now_usec);
	if (n == 0 || sklen != 32)
		return -EINVAL;
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, sk, sklen);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	size_t sl = sizeof(sig);
	int r = k && c && EVP_DigestSignInit(c, NULL, NULL, NULL, k) == 1 &&
	                EVP_DigestSign(c, sig, &sl, msg, n) == 1 && sl == sizeof(sig)
	            ? 0
	            : -EIO;
	EVP_MD_CTX_free(c);
	EVP_PKEY_free(k);
	if (r < 0)
		return r;
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(a->db,
	                            "INSERT INTO checkpoints (seq, epoch, hash, time, terminal, "
	                            "signature) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	                            -1, &st, NULL);
	if (rc == SQLITE_OK &&
	    (sqlite3_bind_int64(st, 1, a->last_seq) != SQLITE_OK ||
	     sqlite3_bind_int64(st, 2, epoch) != SQLITE_OK ||
	     sqlite3_bind_blob(st, 3, a->last_hash, SEAL_HASH_LEN, SQLITE_STATIC) != SQLITE_OK ||
	     sqlite3_bind_int64(st, 4, now_usec) != SQLITE_OK ||
	     sqlite3_bind_text(st, 5, a->terminal, -1, SQLITE_STATIC) != SQLITE_OK ||
	     sqlite3_bind_blob(st, 6, sig, sizeof(sig), SQLITE_STATIC) != SQLITE_OK))
		rc = SQLITE_NOMEM;
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : audit_fail(a->db, rc, "checkpoint");
}

/* Seals with the newest held key of an epoch before `before` (when before_only) or of
 * exactly `epoch`. -ENOKEY when there is none. */
static int
audit_seal_with_held(Audit *a, const char *sql, int64_t epoch, int64_t now_usec)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(a->db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 1, epoch);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	int r;
	if (rc == SQLITE_ROW)
		r = audit_seal_sign(a, sqlite3_column_int64(st, 0), sqlite3_column_blob(st, 1),
		                    (size_t)sqlite3_column_bytes(st, 1), now_usec);
	else
		r = rc == SQLITE_DONE ? -ENOKEY : audit_fail(a->db, rc, "seal key");
	sqlite3_finalize(st);
	return r;
}

int
audit_seal_at(Audit *a, int64_t now_usec)
{
	if (!a || !a->seal_ready)
		return -EINVAL;
	int r = audit_seal_keys_ensure(a, now_usec);
	if (r < 0)
		return r;
	/* The keys-made record goes into the trail before the seal covers it. */
	if (r > 0)
		r = audit_flush(a);
	if (r < 0)
		return r;
	int64_t now = sealfmt_epoch(now_usec), sealed = a->sealed_seq, destroyed = 0;
	bool nokey = false;
	r = audit_exec(a, AS_BEGIN_IMMEDIATE, "begin");
	/* What is not sealed yet is sealed with the key of the day its first record was
	 * written (or the newest held before it): a checkpoint may vouch only for records of
	 * its own day or later, which is what a verifier holds it to. Normally that is today's
	 * key, or at midnight the ending day's; after the daemon was down for days, the day it
	 * stopped on, whose key no seal has destroyed yet. */
	if (r >= 0 && a->last_seq > sealed) {
		int64_t t = INT64_MIN, first = now;
		r = audit_sql_int(a, "SELECT time FROM records WHERE seq > ?1 ORDER BY seq LIMIT 1",
		                  sealed, &t);
		if (r == -ENOENT)
			r = 0;
		else if (r >= 0 && t != INT64_MIN && sealfmt_epoch(t) < now)
			first = sealfmt_epoch(t);
		if (r >= 0)
			r = audit_seal_with_held(
			    a,
			    "SELECT epoch, private FROM seal_private WHERE epoch "
			    "<= ?1 ORDER BY epoch DESC LIMIT 1",
			    first, now_usec);
		/* Records from before every key held (a trail older than its seals): the oldest
		 * key held up to today seals them. */
		if (r == -ENOKEY)
			r = audit_seal_with_held(
			    a,
			    "SELECT epoch, private FROM seal_private WHERE epoch "
			    "<= ?1 ORDER BY epoch LIMIT 1",
			    now, now_usec);
		if (r >= 0)
			sealed = a->last_seq;
		else if (r == -ENOKEY) {
			nokey = true;
			r = 0;
		}
	}
	/* Then every past day's key is destroyed. */
	if (r >= 0) {
		sqlite3_stmt *st = NULL;
		int rc = sqlite3_prepare_v2(a->db, "DELETE FROM seal_private WHERE epoch < ?1", -1,
		                            &st, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_int64(st, 1, now);
		if (rc == SQLITE_OK)
			rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			destroyed = sqlite3_changes64(a->db);
		else
			r = audit_fail(a->db, rc, "destroy key");
		sqlite3_finalize(st);
	}
	if (r >= 0)
		r = audit_exec(a, AS_COMMIT, "commit");
	if (r < 0) {
		audit_rollback(a);
		return r;
	}
	a->sealed_seq = sealed;
	/* The deleted key's bytes may still be in WAL frames: fold them in and cut the WAL. */
	if (destroyed > 0)
		(void)audit_checkpoint(a);
	if (nokey) {
		if (!a->seal_warned)
			fprintf(stderr,
			        "biogated: audit: no signing key is held for epoch %" PRId64
			        ": records are not sealed (was the clock set back?)\n",
			        now);
		a->seal_warned = true;
		return -ENOKEY;
	}
	return 0;
}

int
audit_seal(Audit *a)
{
	return audit_seal_at(a, audit_now_usec());
}

static int
audit_seal_on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	Audit *a = userdata;
	(void)audit_seal(a);
	/* Next: 15 minutes on, or the epoch's end if sooner. */
	int64_t now = audit_now_usec();
	int64_t next = now + AUDIT_SEAL_EVERY_USEC;
	int64_t end = (sealfmt_epoch(now) + 1) * SEAL_EPOCH_USEC;
	if (end < next)
		next = end;
	(void)sd_event_source_set_time(s, (uint64_t)next);
	(void)sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

static int
audit_seal_start(Audit *a)
{
	int64_t seq = 0;
	int r = audit_sql_int(a, "SELECT max(seq) FROM checkpoints", 0, &seq);
	if (r < 0)
		return r;
	a->sealed_seq = seq == INT64_MIN ? 0 : seq;
	/* The first run is on the first turn of the loop: after the start-up checks, so that a
	 * trail the daemon refuses gets neither keys nor a checkpoint. */
	r = sd_event_add_time(a->event, &a->seal_timer, CLOCK_REALTIME, 0, 1000000,
	                      audit_seal_on_timer, a);
	if (r >= 0)
		(void)sd_event_source_set_description(a->seal_timer, "audit-seal");
	return r;
}

static void
audit_seal_stop(Audit *a)
{
	if (a->event && a->seal_ready && a->db && a->last_seq > a->sealed_seq)
		(void)audit_seal(a);
	a->seal_timer = sd_event_source_disable_unref(a->seal_timer);
}

int
audit_seal_keys_text(Audit *a, char **ret_text, char ret_fingerprint[static 65])
{
	if (!a || !ret_text)
		return -EINVAL;
	AuditOut o = { .fd = -1 };
	char line[128 + SEAL_TERMINAL_MAX];
	int k = snprintf(line, sizeof(line), SEAL_KEYS_MAGIC "\nterminal %s\nepoch-usec %lld\n",
	                 a->terminal[0] ? a->terminal : "-", (long long)SEAL_EPOCH_USEC);
	audit_out(&o, line, (size_t)k);
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(a->db, "SELECT epoch, public FROM seal_public ORDER BY epoch",
	                            -1, &st, NULL);
	int r = rc == SQLITE_OK ? 0 : audit_fail(a->db, rc, "prepare");
	while (r >= 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 1) != SEAL_PUBKEY_LEN)
			continue;
		char hex[2 * SEAL_PUBKEY_LEN + 1];
		sealfmt_hex(sqlite3_column_blob(st, 1), SEAL_PUBKEY_LEN, hex);
		k = snprintf(line, sizeof(line), "key %" PRId64 " %s\n",
		             (int64_t)sqlite3_column_int64(st, 0), hex);
		audit_out(&o, line, (size_t)k);
	}
	if (r >= 0 && rc != SQLITE_DONE)
		r = audit_fail(a->db, rc, "seal keys");
	sqlite3_finalize(st);
	if (r >= 0)
		r = o.r;
	uint8_t fp[SEAL_HASH_LEN];
	if (r >= 0 && EVP_Digest(o.buf, o.n, fp, NULL, a->sha256, NULL) != 1)
		r = -EIO;
	if (r >= 0) {
		sealfmt_hex(fp, sizeof(fp), ret_fingerprint);
		k = snprintf(line, sizeof(line), "fingerprint %s\n", ret_fingerprint);
		audit_out(&o, line, (size_t)k);
		audit_out(&o, "", 1);
		r = o.r;
	}
	if (r < 0) {
		free(o.buf);
		return r;
	}
	*ret_text = o.buf;
	return 0;
}

/* ---- seals: verification ---- */

static bool
audit_ck_sig_ok(const uint8_t *pub, int publen, const char *terminal, int64_t epoch, int64_t seq,
                const uint8_t *hash, int64_t time_usec, const uint8_t *sig, int siglen)
{
	uint8_t msg[SEAL_MSG_MAX];
	if (!pub || publen != SEAL_PUBKEY_LEN || !sig || siglen != SEAL_SIG_LEN || !terminal)
		return false;
	size_t n = sealfmt_checkpoint_msg(msg, terminal, epoch, seq, hash, time_usec);
	if (n == 0)
		return false;
	EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, SEAL_PUBKEY_LEN);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	bool ok = k && c && EVP_DigestVerifyInit(c, NULL, NULL, NULL, k) == 1 &&
	          EVP_DigestVerify(c, sig, SEAL_SIG_LEN, msg, n) == 1;
	EVP_MD_CTX_free(c);
	EVP_PKEY_free(k);
	return ok;
}

/* Checkpoints with seq in [from, to], signatures checked against the stored public keys. */
static int
audit_ck_load(Audit *a, int64_t from, int64_t to, AuditCk **ret, size_t *ret_n)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(
	    a->db,
	    "SELECT c.seq, c.epoch, c.hash, c.time, c.terminal, c.signature, p.public "
	    "FROM checkpoints c LEFT JOIN seal_public p ON p.epoch = c.epoch "
	    "WHERE c.seq >= ?1 AND c.seq <= ?2 ORDER BY c.seq, c.epoch",
	    -1, &st, NULL);
	if (rc == SQLITE_OK && (sqlite3_bind_int64(st, 1, from) != SQLITE_OK ||
	                        sqlite3_bind_int64(st, 2, to) != SQLITE_OK))
		rc = SQLITE_NOMEM;
	int r = rc == SQLITE_OK ? 0 : audit_fail(a->db, rc, "checkpoints");
	AuditCk *v = NULL;
	size_t n = 0, cap = 0;
	while (r >= 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t nc = cap ? 2 * cap : 64;
			AuditCk *nv = realloc(v, nc * sizeof(*v));
			if (!nv) {
				r = -ENOMEM;
				break;
			}
			v = nv;
			cap = nc;
		}
		AuditCk *c = &v[n++];
		*c = (AuditCk){ .seq = sqlite3_column_int64(st, 0),
			        .epoch = sqlite3_column_int64(st, 1),
			        .time = sqlite3_column_int64(st, 3) };
		bool hash_ok = sqlite3_column_bytes(st, 2) == SEAL_HASH_LEN;
		if (hash_ok)
			memcpy(c->hash, sqlite3_column_blob(st, 2), SEAL_HASH_LEN);
		c->sig_ok = hash_ok &&
		            audit_ck_sig_ok(sqlite3_column_blob(st, 6), sqlite3_column_bytes(st, 6),
		                            (const char *)sqlite3_column_text(st, 4), c->epoch,
		                            c->seq, c->hash, c->time, sqlite3_column_blob(st, 5),
		                            sqlite3_column_bytes(st, 5));
	}
	if (r >= 0 && rc != SQLITE_DONE)
		r = audit_fail(a->db, rc, "checkpoints");
	sqlite3_finalize(st);
	if (r < 0) {
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static int
audit_check_begin(Audit *a, AuditCheck *ret)
{
	*ret = (AuditCheck){ .first_key_epoch = INT64_MAX };
	int64_t e0 = INT64_MIN;
	int r = audit_sql_int(a, "SELECT min(epoch) FROM seal_public", 0, &e0);
	if (r < 0)
		return r;
	if (e0 != INT64_MIN)
		ret->first_key_epoch = e0;
	return audit_ck_load(a, 1, INT64_MAX, &ret->cks, &ret->n);
}

/* One record met in seq order with its recomputed h: true when it ends the walk (res set). */
static bool
audit_check_record(AuditCheck *c, int64_t seq, int64_t time_usec,
                   const uint8_t h[static SEAL_HASH_LEN], AuditVerifyResult *res)
{
	int64_t e = sealfmt_epoch(time_usec);
	c->last_epoch = e;
	while (c->next < c->n && c->cks[c->next].seq < seq)
		c->next++;
	if (c->next < c->n) {
		/* Sealed by a key of a later epoch than its own: only a later holder of the
		 * terminal would do that, having lost the keys it needed. */
		if (e >= c->first_key_epoch && c->cks[c->next].epoch > e) {
			res->problem = AUDIT_UNSEALED;
			res->first_bad_seq = seq;
			res->checkpoint_seq = c->cks[c->next].seq;
			return true;
		}
	} else if (c->tail_first_seq == 0) {
		c->tail_first_seq = seq;
		c->tail_first_epoch = e;
	}
	while (c->next < c->n && c->cks[c->next].seq == seq) {
		AuditCk *k = &c->cks[c->next];
		if (!k->sig_ok || CRYPTO_memcmp(k->hash, h, SEAL_HASH_LEN) != 0) {
			res->problem = AUDIT_BAD_CHECKPOINT;
			res->first_bad_seq = c->last_good + 1;
			res->checkpoint_seq = seq;
			return true;
		}
		res->checkpoints++;
		c->last_good = seq;
		c->next++;
	}
	return false;
}

static void
audit_check_end(AuditCheck *c, int64_t last, AuditVerifyResult *res)
{
	if (c->next < c->n) {
		/* A checkpoint over records that are not there: the tail was dropped. */
		res->problem = AUDIT_TRUNCATED;
		res->first_bad_seq = last + 1;
		res->checkpoint_seq = c->cks[c->next].seq;
		return;
	}
	res->unsealed = last - c->last_good;
	/* Records of a past epoch that no checkpoint covers, while later ones exist: its
	 * checkpoints were removed (the epoch's key is gone, so they cannot be made again). */
	if (c->tail_first_seq > 0 && c->tail_first_epoch >= c->first_key_epoch &&
	    c->tail_first_epoch < c->last_epoch) {
		res->problem = AUDIT_UNSEALED;
		res->first_bad_seq = c->tail_first_seq;
	}
}

int
audit_seals_check(Audit *a, int64_t since_usec, int64_t until_usec, AuditSealsResult *ret)
{
	if (!a || !ret)
		return -EINVAL;
	AuditSealsResult res = { 0 };
	int r = audit_exec(a, AS_BEGIN, "begin");
	if (r < 0)
		return r;
	/* The checkpoints made in the range, and the one before them (where the walk starts). */
	int64_t lo = INT64_MIN, hi = INT64_MIN, start = INT64_MIN;
	r = audit_sql_int(a, "SELECT min(seq) FROM checkpoints WHERE time >= ?1", since_usec, &lo);
	if (r >= 0)
		r = audit_sql_int(a, "SELECT max(seq) FROM checkpoints WHERE time < ?1", until_usec,
		                  &hi);
	if (r >= 0 && lo != INT64_MIN)
		r = audit_sql_int(a, "SELECT max(seq) FROM checkpoints WHERE seq < ?1", lo, &start);
	AuditCk *cks = NULL;
	size_t n = 0;
	if (r >= 0 && lo != INT64_MIN && hi != INT64_MIN && lo <= hi)
		r = audit_ck_load(a, lo, hi, &cks, &n);
	/* h at the start: the stored one, vouched for by the checkpoint there (when it verifies,
	 * which the previous month's report said). */
	uint8_t h[SEAL_HASH_LEN] = { 0 };
	if (start == INT64_MIN)
		start = 0;
	if (r >= 0 && start > 0) {
		sqlite3_stmt *q = NULL;
		int rc = sqlite3_prepare_v2(a->db, "SELECT hash FROM records WHERE seq = ?1", -1,
		                            &q, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_int64(q, 1, start);
		if (rc == SQLITE_OK)
			rc = sqlite3_step(q);
		if (rc == SQLITE_ROW && sqlite3_column_bytes(q, 0) == SEAL_HASH_LEN)
			memcpy(h, sqlite3_column_blob(q, 0), SEAL_HASH_LEN);
		sqlite3_finalize(q);
	}
	size_t i = 0;
	int64_t expected = start + 1;
	if (r >= 0 && n > 0) {
		sqlite3_stmt *st = NULL;
		int rc = sqlite3_prepare_v2(a->db,
		                            "SELECT " AUDIT_COLUMNS " FROM records WHERE seq > ?1 "
		                            "AND seq <= ?2 ORDER BY seq",
		                            -1, &st, NULL);
		if (rc == SQLITE_OK && (sqlite3_bind_int64(st, 1, start) != SQLITE_OK ||
		                        sqlite3_bind_int64(st, 2, hi) != SQLITE_OK))
			rc = SQLITE_NOMEM;
		bool broken = rc != SQLITE_OK;
		while (!broken && i < n && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			int64_t seq = sqlite3_column_int64(st, 0);
			const char *f[AUDIT_N_FIELDS];
			uint32_t len[AUDIT_N_FIELDS];
			if (seq != expected++ || !audit_row_fields(st, f, len)) {
				broken = true;
				break;
			}
			size_t cl =
			    sealfmt_canonical(a->canon, seq, sqlite3_column_int64(st, 1), f, len);
			if (audit_hash_step(a, h, a->canon, cl) < 0) {
				broken = true;
				break;
			}
			for (; i < n && cks[i].seq == seq; i++) {
				if (cks[i].sig_ok &&
				    CRYPTO_memcmp(cks[i].hash, h, SEAL_HASH_LEN) == 0) {
					res.verified++;
				} else if (!res.first_bad_seq) {
					res.first_bad_seq = seq;
				}
			}
		}
		sqlite3_finalize(st);
		/* From a break on, nothing more verifies. */
		if (i < n && !res.first_bad_seq)
			res.first_bad_seq = cks[i].seq;
	}
	res.checkpoints = (int64_t)n;
	free(cks);
	audit_rollback(a);
	if (r < 0)
		return r;
	*ret = res;
	return 0;
}

/* ---- seals: the sealed export ---- */

static void
audit_out_json(AuditOut *o, json_object *j)
{
	size_t len = 0;
	const char *s = json_object_to_json_string_length(
	    j, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (!s) {
		o->r = -ENOMEM;
		return;
	}
	audit_out(o, s, len);
	audit_out(o, "\n", 1);
}

static json_object *
audit_json_hex(const void *p, int n)
{
	char hex[2 * 64 + 1];
	if (!p || n <= 0 || n > 64)
		return NULL;
	sealfmt_hex(p, (size_t)n, hex);
	return json_object_new_string(hex);
}

/* The checkpoints of the range and the closing line. */
static int
audit_export_sealed_tail(AuditExport *x)
{
	Audit *a = x->a;
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(a->db,
	                            "SELECT seq, epoch, hash, time, terminal, signature FROM "
	                            "checkpoints WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq, epoch",
	                            -1, &st, NULL);
	if (rc == SQLITE_OK && (sqlite3_bind_int64(st, 1, x->f.since_usec) != SQLITE_OK ||
	                        sqlite3_bind_int64(st, 2, x->end) != SQLITE_OK))
		rc = SQLITE_NOMEM;
	int r = rc == SQLITE_OK ? 0 : audit_fail(a->db, rc, "export");
	int64_t n = 0;
	while (r >= 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_object *c = json_object_new_object(), *o = json_object_new_object();
		const char *t = (const char *)sqlite3_column_text(st, 4);
		json_object_object_add(c, "seq",
		                       json_object_new_int64(sqlite3_column_int64(st, 0)));
		json_object_object_add(c, "epoch",
		                       json_object_new_int64(sqlite3_column_int64(st, 1)));
		json_object_object_add(c, "time",
		                       json_object_new_int64(sqlite3_column_int64(st, 3)));
		json_object_object_add(c, "terminal", t ? json_object_new_string(t) : NULL);
		json_object_object_add(
		    c, "hash",
		    audit_json_hex(sqlite3_column_blob(st, 2), sqlite3_column_bytes(st, 2)));
		json_object_object_add(
		    c, "signature",
		    audit_json_hex(sqlite3_column_blob(st, 5), sqlite3_column_bytes(st, 5)));
		json_object_object_add(o, "checkpoint", c);
		audit_out_json(&x->pend, o);
		json_object_put(o);
		n++;
	}
	if (r >= 0 && rc != SQLITE_DONE)
		r = audit_fail(a->db, rc, "export");
	sqlite3_finalize(st);
	if (r < 0)
		return r;
	json_object *e = json_object_new_object(), *o = json_object_new_object();
	json_object_object_add(e, "records", json_object_new_int64(x->records));
	json_object_object_add(e, "checkpoints", json_object_new_int64(n));
	json_object_object_add(o, "end", e);
	audit_out_json(&x->pend, o);
	json_object_put(o);
	x->sealed_done = true;
	return x->pend.r;
}

static int
audit_export_sealed_window(AuditExport *x, size_t want)
{
	Audit *a = x->a;
	if (x->after >= x->end)
		return audit_export_sealed_tail(x);
	int64_t to =
	    x->end - x->after > AUDIT_EXPORT_WINDOW ? x->after + AUDIT_EXPORT_WINDOW : x->end;
	STMT(a, AS_EXPORT_SEALED_PAGE);
	int r = 0;
	if (sqlite3_bind_int64(st, 1, x->after) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, to) != SQLITE_OK)
		r = -ENOMEM;
	bool stopped = false;
	while (r >= 0) {
		int rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW) {
			r = audit_fail(a->db, rc, "export");
			break;
		}
		x->after = sqlite3_column_int64(st, 0);
		json_object *j = audit_row_json(st);
		if (!j) {
			r = -ENOMEM;
			break;
		}
		json_object_object_add(
		    j, "hash",
		    audit_json_hex(sqlite3_column_blob(st, 11), sqlite3_column_bytes(st, 11)));
		json_object_object_add(
		    j, "mac",
		    audit_json_hex(sqlite3_column_blob(st, 10), sqlite3_column_bytes(st, 10)));
		audit_out_json(&x->pend, j);
		json_object_put(j);
		x->records++;
		if (x->pend.n - x->pend_off >= want) {
			stopped = true;
			break;
		}
	}
	if (r >= 0 && !stopped)
		x->after = to;
	return r >= 0 ? x->pend.r : r;
}

/* The first seq whose time is >= t (last_seq + 1 when none), by bisection over the seq
 * index: the trail is in time order as the clock gives it, and a range found this way never
 * reads the whole trail (a month out of seven years) in the daemon's loop. A clock that
 * stepped back blurs the boundary by the records of the step, which changes only where the
 * export begins, not what it proves. */
static int
audit_seq_from_time(Audit *a, int64_t t, int64_t *ret)
{
	int64_t lo = 1, hi = a->last_seq + 1;
	while (lo < hi) {
		int64_t mid = lo + (hi - lo) / 2, tm = INT64_MIN, seq = INT64_MIN;
		sqlite3_stmt *st = NULL;
		int rc = sqlite3_prepare_v2(
		    a->db, "SELECT seq, time FROM records WHERE seq >= ?1 ORDER BY seq LIMIT 1", -1,
		    &st, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_int64(st, 1, mid);
		if (rc == SQLITE_OK)
			rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			seq = sqlite3_column_int64(st, 0);
			tm = sqlite3_column_int64(st, 1);
		}
		sqlite3_finalize(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return audit_fail(a->db, rc, "export");
		if (rc == SQLITE_DONE || tm >= t)
			hi = mid;
		else
			lo = (seq > mid ? seq : mid) + 1;
	}
	*ret = lo;
	return 0;
}

int
audit_export_sealed_begin(Audit *a, int64_t since_usec, int64_t until_usec, AuditExport **ret)
{
	if (!a || !ret)
		return -EINVAL;
	int64_t first = 1, last = a->last_seq, v = INT64_MIN;
	int r = 0;
	if (since_usec > 0)
		r = audit_seq_from_time(a, since_usec, &first);
	if (r >= 0 && until_usec > 0) {
		/* On to the first checkpoint at or after the range's last record, so that every
		 * record exported is sealed (when one has been made). */
		int64_t after = 0;
		r = audit_seq_from_time(a, until_usec, &after);
		int64_t l = after - 1;
		if (r >= 0 && l >= first) {
			r = audit_sql_int(a, "SELECT min(seq) FROM checkpoints WHERE seq >= ?1", l,
			                  &v);
			last = r >= 0 && v != INT64_MIN && v <= a->last_seq ? v : a->last_seq;
		} else {
			last = first - 1;
		}
	}
	if (r < 0)
		return r;
	uint8_t prev[SEAL_HASH_LEN] = { 0 };
	if (first > 1) {
		sqlite3_stmt *q = NULL;
		int rc = sqlite3_prepare_v2(a->db, "SELECT hash FROM records WHERE seq = ?1", -1,
		                            &q, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_int64(q, 1, first - 1);
		if (rc == SQLITE_OK)
			rc = sqlite3_step(q);
		if (rc == SQLITE_ROW && sqlite3_column_bytes(q, 0) == SEAL_HASH_LEN)
			memcpy(prev, sqlite3_column_blob(q, 0), SEAL_HASH_LEN);
		sqlite3_finalize(q);
	}
	AuditExport *x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	/* f.since_usec keeps the first seq for the checkpoints' range. */
	*x = (AuditExport){
		.a = a, .sealed = true, .after = first - 1, .end = last, .remaining = -1
	};
	x->f.since_usec = first;
	x->pend.fd = -1;
	json_object *h = json_object_new_object();
	json_object_object_add(h, SEAL_EXPORT_MAGIC, json_object_new_int(1));
	json_object_object_add(h, "terminal", json_object_new_string(a->terminal));
	json_object_object_add(h, "first_seq", json_object_new_int64(first));
	json_object_object_add(h, "last_seq", json_object_new_int64(last));
	json_object_object_add(h, "prev_hash", audit_json_hex(prev, SEAL_HASH_LEN));
	json_object_object_add(h, "since", json_object_new_int64(since_usec));
	json_object_object_add(h, "until", json_object_new_int64(until_usec));
	audit_out_json(&x->pend, h);
	json_object_put(h);
	if (x->pend.r < 0) {
		r = x->pend.r;
		audit_export_free(x);
		return r;
	}
	*ret = x;
	return 0;
}

int
audit_export_sealed(Audit *a, int64_t since_usec, int64_t until_usec, int fd)
{
	AuditExport *x = NULL;
	int r = audit_export_sealed_begin(a, since_usec, until_usec, &x);
	if (r < 0)
		return r;
	char *buf = malloc(AUDIT_OUT_FD_BUF);
	if (!buf) {
		audit_export_free(x);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t k = audit_export_read(x, buf, AUDIT_OUT_FD_BUF);
		if (k == -EAGAIN)
			continue;
		if (k <= 0) {
			r = (int)k;
			break;
		}
		r = audit_write_all(fd, buf, (size_t)k);
		if (r < 0)
			break;
	}
	free(buf);
	audit_export_free(x);
	return r;
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
