/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * audit: the append-only operation log an auditor can verify (R5, R17, R19). Every state
 * change and every decision becomes a record, chained by HMAC-SHA256 over the record and the
 * previous record's MAC, with the key kept apart from the database (audit.key, 0600, or the
 * systemd credential biogate-audit-key). A MAC'd head (the last sequence number and MAC)
 * catches a truncated tail. Records are durable before anyone is told: appends are
 * committed in groups (one transaction and one flush for every record queued during one
 * turn of the event loop), and each caller's callback runs only after its record is on disk.
 * Never put a template, a key, a ticket or a raw individual number into a record.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>
#include <systemd/sd-event.h>

typedef struct Audit Audit;

#define AUDIT_KEY_FILE   "audit.key"
#define AUDIT_CREDENTIAL "biogate-audit-key"

typedef struct AuditRecord {
	int64_t time_usec;       /* CLOCK_REALTIME, given by the caller */
	const char *terminal;    /* this terminal's name (hostname), may be NULL */
	const char *matching_id; /* may be NULL */
	const char *operator_id; /* may be NULL */
	const char *action;      /* required: e.g. "login", "authorize.search", "staff.add" */
	const char *outcome;     /* required: "allow", "deny", "ok", "fail", "violation" */
	const char *reason;      /* may be NULL: a stable reason name */
	const char *detail;      /* may be NULL: a small JSON object as text (no secrets) */
	const char *key_hmac;    /* may be NULL: hex HMAC of a normalized search key */
} AuditRecord;

/* Called once the record is durable (r = 0, seq set) or failed to be written (r < 0). */
typedef void (*AuditDoneFn)(int r, int64_t seq, void *userdata);

/* Opens (creating and migrating) the audit database at db_path in its own SQLite file,
 * loads or creates the key under key_dir, and hooks group commit into event: an sd-event
 * defer source at SD_EVENT_PRIORITY_IDLE, so every record queued while higher-priority
 * sources are pending goes into one transaction. With event NULL, records are committed only
 * by audit_flush() and audit_close() (offline tools). The journald mirror is on when
 * journald's socket exists. Not thread-safe: one loop, one thread. */
int audit_open(sd_event *event, const char *db_path, const char *key_dir, Audit **ret);
/* Flushes what is queued (calling the callbacks) and closes. Never from a callback. */
void audit_close(Audit *a);
/* Turns the journald mirror of committed records on or off (e.g. from the configuration:
 * journald rate-limits a service at 10,000 messages per 30 s by default, far below what the
 * log itself can take). */
void audit_set_journal(Audit *a, bool on);
/* Transactions committed since open (tests and benchmarks: group commit must group). */
uint64_t audit_commits(const Audit *a);

/* Queues a record; copies every string. done may be NULL (fire and forget, still durable
 * at the end of this loop turn). Callbacks run in append order, each after the COMMIT that
 * made its record durable, or with -errno when that transaction failed (then nothing of it
 * was written and the chain is unchanged); a callback may append again. -EINVAL for a record
 * without action/outcome, with a field over 256 bytes (detail: 4096), with control
 * characters or invalid UTF-8, or with a key_hmac that is not 64 lowercase hex; -EBUSY when
 * 4096 records are already queued; -ENOMEM. */
int audit_append(Audit *a, const AuditRecord *rec, AuditDoneFn done, void *userdata);
/* Commits what is queued now (tests, shutdown, offline tools), running the callbacks.
 * 0 or -errno. */
int audit_flush(Audit *a);

/* HMAC-SHA256 of a normalized individual number under the audit key's search-key subkey,
 * as 64 lowercase hex characters + NUL. The number itself is never stored. normalized is
 * 1..64 ASCII digits (so an 11-digit resident record code can be recorded the same way);
 * anything else is -EINVAL. */
int audit_key_hmac(const Audit *a, const char *normalized, char ret_hex[static 65]);

typedef enum AuditProblem {
	AUDIT_OK,
	AUDIT_BAD_MAC,      /* a record's content or chain link does not match its MAC */
	AUDIT_GAP,          /* a sequence number is missing (a record deleted) */
	AUDIT_OUT_OF_ORDER, /* sequence numbers not increasing by one (reordered, inserted) */
	AUDIT_TRUNCATED,    /* the head names a later record than the last one present */
	AUDIT_BAD_HEAD,     /* the head's own MAC does not verify */
	/* ---- seals ---- */
	AUDIT_BAD_HASH,       /* a record's stored h(n) is not the keyless chain's */
	AUDIT_BAD_CHECKPOINT, /* a checkpoint's signature or its h(seq) does not verify */
	AUDIT_UNSEALED,       /* a record of a past epoch with no checkpoint of its epoch (or an
	                       * earlier one) covering it: the past re-sealed with a later key */
} AuditProblem;

typedef struct AuditVerifyResult {
	AuditProblem problem;
	/* The first record that fails, 0 when OK. GAP names the missing seq; TRUNCATED the first
	 * seq the head promises but is absent; BAD_HEAD the last seq present (1 when none). */
	int64_t first_bad_seq;
	int64_t records; /* records checked */
	/* Seals: checkpoints verified (signature and h(seq)); the checkpoint that failed
	 * (BAD_CHECKPOINT: first_bad_seq is then the first record after the last good one);
	 * records after the newest checkpoint (not sealed yet). */
	int64_t checkpoints;
	int64_t checkpoint_seq;
	int64_t unsealed;
} AuditVerifyResult;

const char *audit_problem_name(AuditProblem p);
/* Verifies the whole chain and the head (committed records only; what is still queued is not
 * seen). 0 with *ret filled (problem may be non-OK); -errno when the database cannot be read. */
int audit_verify(Audit *a, AuditVerifyResult *ret);

typedef struct AuditFilter {
	const char *matching_id, *operator_id, *action, *outcome; /* NULL: any */
	int64_t since_usec, until_usec; /* since <= time < until; 0: open */
	const char *key_hmac;           /* NULL: any */
	int64_t limit;                  /* 0: no limit */
	bool newest_first; /* query only: the newest records first (the limit keeps those) */
} AuditFilter;

/* Committed records matching the filter, oldest first, as an array of objects {seq, time
 * (usec since the epoch), terminal, matching_id, operator_id, action, outcome, reason, detail,
 * key_hmac}; a NULL field is JSON null. */
int audit_query_json(Audit *a, const AuditFilter *f, json_object **ret);
/* Streams matching records to fd as JSON Lines (the objects above) or CSV (RFC 4180: a header
 * row, CRLF line ends, fields with comma, quote, CR or LF quoted; NULL is an empty field, an
 * empty string is ""). */
int audit_export(Audit *a, const AuditFilter *f, bool csv, int fd);
/* The same export in steps, for a daemon that must go on answering others: the records up
 * to the trail's position at begin (those appended meanwhile are not part of it), read a
 * bounded window of rows per call, with no read transaction held between calls. Copies the
 * filter's strings. read: bytes of export text (at most size), 0 at the end, -EAGAIN when
 * this call's window matched nothing (call again), -errno. The Audit must outlive x; free
 * does not touch it. */
typedef struct AuditExport AuditExport;
int audit_export_begin(Audit *a, const AuditFilter *f, bool csv, AuditExport **ret);
ssize_t audit_export_read(AuditExport *x, char *buf, size_t size);
int64_t audit_export_records(const AuditExport *x);
void audit_export_free(AuditExport *x);
/* Committed records, or -errno. */
int64_t audit_count(Audit *a);
/* SQLite VM steps the last audit_query_json took: a query naming its action reads the rows of
 * that action in the time range (an index), not the trail (tests hold it to that). */
uint64_t audit_last_query_steps(const Audit *a);

/* ---- anchoring (anchor.c) ---- */

#define AUDIT_MAC_BYTES 32

/* What audit_open found, for the daemon's start-up checks (anchor.c): offline tools open a
 * damaged trail to verify it, so audit_open itself refuses nothing of this. */
typedef struct AuditOpenState {
	bool created;      /* user_version was 0: this open created the schema */
	bool head_present; /* the head row exists */
	bool head_ok;      /* its MAC verifies under this audit key */
	int64_t head_seq;
	uint8_t head_mac[AUDIT_MAC_BYTES];
	int64_t head_store_generation;
	int64_t last_present; /* the newest record present (0: none) */
} AuditOpenState;

void audit_open_state(const Audit *a, AuditOpenState *ret);
/* The stored MAC of record seq: 0, -ENOENT when there is no such record, -errno. */
int audit_mac_at(Audit *a, int64_t seq, uint8_t ret[static AUDIT_MAC_BYTES]);

/* The store's side of the cross-check. generation() is asked before each commit and written
 * into the head; committed() is told the new position after each COMMIT, before any
 * callback runs (so before any reply that depends on it). Either may be NULL. */
typedef struct AuditAnchorOps {
	int (*generation)(void *userdata, int64_t *ret);
	void (*committed)(void *userdata, int64_t seq, const uint8_t mac[static AUDIT_MAC_BYTES]);
} AuditAnchorOps;
void audit_set_anchor(Audit *a, const AuditAnchorOps *ops, void *userdata);
/* Sets the head's store generation (an admin accepted a store rolled back below it). */
int audit_set_store_generation(Audit *a, int64_t generation);
/* Drops everything queued without writing it (callbacks hear -ECANCELED): the daemon refused
 * the trail at start and must not append to it. */
void audit_abandon(Audit *a);
/* Times a commit failed for lack of space since open (tests, the status). */
uint64_t audit_disk_full_events(const Audit *a);

/* The fleet upload (fleet/): the last committed seq (0 when none), and up to max committed
 * records with seq > after, oldest first, each handed to fn with its chain MAC (32 bytes);
 * rec's strings live only during the call. fn returning < 0 stops the walk with that value.
 * Returns how many were handed over. */
int64_t audit_last_seq(const Audit *a);
typedef int (*AuditRowFn)(int64_t seq, const AuditRecord *rec, const uint8_t *mac, void *userdata);
int audit_read_after(Audit *a, int64_t after, size_t max, AuditRowFn fn, void *userdata);

/* ---- seals: the keyless hash chain and signed checkpoints (sealfmt.h) ---- */

/* A checkpoint every 10,000 records, every 15 minutes when anything is new, at each epoch's
 * end (the key is then destroyed) and at the daemon's stop. Keys are made for 400 epochs
 * (UTC days) ahead at set-up and 366 more whenever fewer than 30 are left; each batch is
 * recorded ("audit.seal-keys", with the list's fingerprint) and must be exported again. */
#define AUDIT_SEAL_EVERY_RECORDS  10000
#define AUDIT_SEAL_EVERY_USEC     (15LL * 60 * 1000000)
#define AUDIT_SEAL_KEYS_FIRST     400
#define AUDIT_SEAL_KEYS_BATCH     366
#define AUDIT_SEAL_KEYS_MIN_AHEAD 30

/* Makes keys up to the horizon (a record per batch after the first), seals what is committed
 * with the key of the day its first unsealed record was written (or the newest held before
 * it), then destroys every past day's private key. The daemon calls it from its timer, every
 * 10,000 records and at its stop; tests call it directly. 0, -ENOKEY when no usable key is
 * held (the clock went back), or -errno. */
int audit_seal(Audit *a);
/* As audit_seal, at a given time (tests: the end of an epoch without waiting a day). */
int audit_seal_at(Audit *a, int64_t now_usec);
/* The public key list as text (SEAL_KEYS_MAGIC, terminal, one "key EPOCH HEX" line per epoch,
 * then "fingerprint HEX" over all lines before it); *ret_text is malloc'd. */
int audit_seal_keys_text(Audit *a, char **ret_text, char ret_fingerprint[static 65]);

typedef struct AuditSealsResult {
	int64_t checkpoints; /* made in [since, until) */
	int64_t verified;    /* of those, signature and h(seq) verified */
	int64_t first_bad_seq;
} AuditSealsResult;
/* The checkpoints made in [since, until): each signature checked against the epoch's public
 * key and each h(seq) against the chain recomputed from the records (from the checkpoint
 * before the range on). For the monthly report. */
int audit_seals_check(Audit *a, int64_t since_usec, int64_t until_usec, AuditSealsResult *ret);

/* The sealed export: records [first seq with time >= since, up to the first checkpoint at or
 * after the last record before until] as JSON Lines with their h(n) and MAC, with an opening
 * line (SEAL_EXPORT_MAGIC, range, h before the range), the checkpoints in the range and a
 * closing line. What biogate-audit-verify reads. Stepped like audit_export_begin. */
int audit_export_sealed_begin(Audit *a, int64_t since_usec, int64_t until_usec, AuditExport **ret);
/* The same, in one go, to fd (tests, benchmarks, offline tools). */
int audit_export_sealed(Audit *a, int64_t since_usec, int64_t until_usec, int fd);
/* The newest sequence number the chain holds (committed or queued) and its MAC as hex (64
 * characters; all zero before the first record). What `biogatectl status` shows an admin. */
int64_t audit_head(const Audit *a, char ret_hex[static 65]);
