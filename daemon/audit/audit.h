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
} AuditProblem;

typedef struct AuditVerifyResult {
	AuditProblem problem;
	/* The first record that fails, 0 when OK. GAP names the missing seq; TRUNCATED the first
	 * seq the head promises but is absent; BAD_HEAD the last seq present (1 when none). */
	int64_t first_bad_seq;
	int64_t records; /* records checked */
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
/* Committed records, or -errno. */
int64_t audit_count(Audit *a);
/* The newest sequence number the chain holds (committed or queued) and its MAC as hex (64
 * characters; all zero before the first record). What `biogatectl status` shows an admin. */
int64_t audit_head(const Audit *a, char ret_hex[static 65]);
