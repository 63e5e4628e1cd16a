/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * store: the daemon's SQLite database (WAL). Owns the schema and its migrations
 * (PRAGMA user_version), and every SQL statement the daemon runs. Statements are prepared,
 * never assembled from strings. Templates arrive here already sealed by secret.c: the store
 * never sees plaintext prints and never logs row contents.
 *
 * All functions return 0 (or a documented positive value) on success and -errno on failure:
 * -ENOENT for a missing row, -EEXIST for a unique conflict, -EINVAL for bad input, -EPERM when
 * the matching ID is revoked, -EBUSY when another connection held a lock past the busy
 * timeout, -EIO for a database error. Output parameters are written only on success.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "wire.h"

typedef struct Store Store;

typedef struct StoreStaffIn {
	const char *matching_id;  /* wire_valid_id */
	const char *name;         /* required */
	const char *affiliation;  /* required */
	const char *expertise;    /* may be NULL */
	const char *track_record; /* may be NULL */
	const char *nationality;  /* required; never returned by the *_json functions */
	const char *unix_user;    /* wire_valid_id; unique */
	const char *actor;        /* who, for the roster history (may be NULL) */
} StoreStaffIn;

typedef struct StoreStaff {
	char matching_id[WIRE_MAX_ID + 1];
	char unix_user[WIRE_MAX_ID + 1];
	bool active; /* false once revoked */
} StoreStaff;

typedef struct StoreFinger {
	char finger[WIRE_MAX_ID + 1];
	uint8_t *blob; /* sealed template, as stored */
	size_t blob_len;
} StoreFinger;

typedef struct StoreSessionIn {
	const char *matching_id;
	const char *operator_id;
	uid_t uid;
	pid_t leader_pid;
	const char *tty;            /* may be NULL */
	const char *service;        /* may be NULL */
	const char *logind_session; /* may be NULL */
	int64_t opened_at;          /* microseconds since the epoch */
} StoreSessionIn;

typedef struct StoreSession {
	int64_t id;
	char matching_id[WIRE_MAX_ID + 1];
	char operator_id[WIRE_MAX_ID + 1];
	uid_t uid;
	pid_t leader_pid;
	bool open;
} StoreSession;

/* Opens (creating and migrating) the database at path. WAL, secure_delete, foreign keys,
 * SQLITE_DBCONFIG_DEFENSIVE, trusted_schema=OFF; the file is created 0600. -EPROTONOSUPPORT
 * when the schema is newer than this build. */
int store_open(const char *path, Store **ret);
void store_close(Store *s);

/* Roster. Times are microseconds since the epoch (CLOCK_REALTIME), passed in by the caller.
 * add: unix_user NULL means the matching ID; -EEXIST when the matching ID was ever issued
 * (active or revoked), or when unix_user or matching_id equals another person's matching ID
 * or Unix user (a login name must never mean two people). */
int store_staff_add(Store *s, const StoreStaffIn *in, int64_t now);
int store_staff_by_id(Store *s, const char *matching_id, StoreStaff *ret);
int store_staff_by_user(Store *s, const char *unix_user, StoreStaff *ret);
/* {matching_id, name, affiliation, expertise, track_record, unix_user, state, created_at,
 *  fingers:[names], operators:[{operator_id, role}]}; never nationality. */
int store_staff_json(Store *s, const char *matching_id, json_object **ret);
int store_staff_list_json(Store *s, json_object **ret); /* array of the above */
int store_staff_count(Store *s, int64_t *ret);          /* active staff only */

/* Operator IDs. An operator ID belongs to one matching ID forever (-EEXIST if another has it,
 * or if it has another role or was revoked; granting exactly what is granted again is 0).
 * -ENOENT for an unknown matching ID, -EPERM for a revoked one. */
int store_operator_grant(Store *s, const char *matching_id, const char *operator_id,
                         const char *role, int64_t now);
/* Array of {operator_id, role} of the active operator IDs of matching_id (may be empty);
 * -ENOENT for an unknown matching ID. */
int store_operators_json(Store *s, const char *matching_id, json_object **ret);
/* The role of operator_id if it is active and belongs to matching_id; else -ENOENT. */
int store_operator_role(Store *s, const char *matching_id, const char *operator_id,
                        char ret_role[static WIRE_MAX_ID + 1]);

/* Enrolled fingers. put replaces an existing template of the same finger; -ENOENT for an
 * unknown matching ID, -EPERM for a revoked one. */
int store_finger_put(Store *s, const char *matching_id, const char *finger, const uint8_t *blob,
                     size_t blob_len, int64_t now);
/* All fingers of matching_id; *ret is an array of *ret_n entries, free with store_fingers_free.
 * No fingers: 0 with *ret NULL and *ret_n 0. -ENOENT for an unknown matching ID. */
int store_fingers_get(Store *s, const char *matching_id, StoreFinger **ret, size_t *ret_n);
void store_fingers_free(StoreFinger *f, size_t n); /* wipes the blobs */

/* Sessions. open: -ENOENT unless operator_id is an active operator ID of matching_id and
 * matching_id is active. close: -ENOENT for no such session, -EALREADY when already closed. */
int store_session_open(Store *s, const StoreSessionIn *in, int64_t *ret_id);
int store_session_get(Store *s, int64_t id, StoreSession *ret);
int store_session_close(Store *s, int64_t id, const char *reason, int64_t now);
/* Array of open sessions: {session_id, matching_id, operator_id, uid, pid, tty, service,
 * logind_session, opened_at}. */
int store_sessions_json(Store *s, json_object **ret);
int store_sessions_open_count(Store *s, int64_t *ret);
/* Marks every open session closed with reason (daemon start: sessions did not survive). */
int store_sessions_close_all(Store *s, const char *reason, int64_t now);

/* Work schedule (R8). A shift is [start, end) in microseconds since the epoch (the CSV's
 * local date and times, converted by the caller). Importing a month replaces that month's
 * shifts (by start time) in one transaction. */
typedef struct StoreShift {
	const char *matching_id;
	int64_t start_usec;
	int64_t end_usec;
} StoreShift;

int store_schedule_replace(Store *s, int64_t from_usec, int64_t to_usec, const StoreShift *shifts,
                           size_t n, int64_t now);
/* The shift of matching_id that contains at_usec; -ENOENT when none. ret's matching_id is
 * NULL. */
int store_shift_at(Store *s, const char *matching_id, int64_t at_usec, StoreShift *ret);
/* Shifts overlapping [from, to) (0 = open), of one matching ID or all (NULL), as an array of
 * {matching_id, start, end}, ordered by start. */
int store_schedule_json(Store *s, const char *matching_id, int64_t from_usec, int64_t to_usec,
                        json_object **ret);

/* Roster edits: NULL / 0 fields stay as they are. Dates are YYYYMMDD. -EPERM for a revoked
 * person (a departed person's entry is frozen), -ENOENT for an unknown one. */
typedef struct StoreStaffEdit {
	const char *name;
	const char *affiliation;
	const char *expertise;
	const char *track_record;
	int32_t pledge_date;   /* written pledge (誓約書) recorded on, R9 */
	int32_t training_date; /* security training done on, R9 */
	const char *actor;     /* who, for the roster history (may be NULL) */
} StoreStaffEdit;

int store_staff_edit(Store *s, const char *matching_id, const StoreStaffEdit *e, int64_t now);
/* The R9 dates (0 when not recorded). */
int store_staff_gates(Store *s, const char *matching_id, int32_t *ret_pledge,
                      int32_t *ret_training);
/* The open session of matching_id, if any (R12). -ENOENT when none. */
int store_session_open_for(Store *s, const char *matching_id, int64_t *ret_id);

/* Failed matches, kept so that a lockout survives a restart. get returns the newest first,
 * at most max of those at or after since_usec. */
int store_failure_add(Store *s, const char *matching_id, int64_t at_usec);
int store_failures_get(Store *s, const char *matching_id, int64_t since_usec, int64_t *ret,
                       size_t max, size_t *ret_n);
int store_failures_clear(Store *s, const char *matching_id);
int store_failures_prune(Store *s, int64_t before_usec);

/* Revocation (R4): in one transaction the person and all their operator IDs are disabled
 * and their templates deleted (secure_delete zeroes the freed content); then the WAL is
 * checkpointed and truncated so that no older page version survives. -EALREADY when already
 * revoked, -ENOENT when unknown; -EBUSY or -ECANCELED when the revocation was committed but
 * the WAL could not be truncated (*ret_fingers_erased is set then too). */
int store_revoke(Store *s, const char *matching_id, const char *actor, int64_t now,
                 int *ret_fingers_erased);
/* R7: read only by the nationality method, which records the purpose. */
int store_nationality(Store *s, const char *matching_id, char *ret, size_t size);
/* R6: every change to a roster entry, oldest first: {at, actor, field, old, new}; never
 * nationality (the triggers do not record it). */
int store_staff_history_json(Store *s, const char *matching_id, json_object **ret);

/* Disposal (R16). */
typedef struct StoreDisposalIn {
	const char *items;    /* which personal data: e.g. "templates, roster" */
	const char *media;    /* e.g. "terminal SSD (state directory)" */
	int64_t count;        /* how many (records, devices) */
	const char *method;   /* e.g. "SQLite secure_delete + VACUUM + WAL truncate" */
	int32_t planned_date; /* YYYYMMDD */
	const char *actor;
} StoreDisposalIn;

int store_disposal_plan(Store *s, const StoreDisposalIn *in, int64_t now, int64_t *ret_id);
/* {disposal_id, state, items, media, count, method, planned_date, planned_by, planned_at,
 *  approved_by, approved_at, executed_by, executed_at, result} */
int store_disposal_json(Store *s, int64_t id, json_object **ret);
/* planned -> approved; -EALREADY in any other state. */
int store_disposal_approve(Store *s, int64_t id, const char *actor, int64_t now);
/* approved -> executed: erases every template and every personal field of the roster (and
 * its history, the schedule, failed matches), keeps matching IDs, sessions and the audit
 * trail, then VACUUMs and truncates the WAL. -EPERM before approval, -EAGAIN before the
 * planned date (today is YYYYMMDD, local). *ret_result: what was erased, by count. */
int store_disposal_execute(Store *s, int64_t id, const char *actor, int64_t now, int32_t today,
                           json_object **ret_result);

/* The anchor (see anchor.c): the durable-change generation of this database (bumped by
 * triggers on every roster, operator, finger, schedule, failure and disposal row written),
 * the last audit record this database saw committed, and the template key's ID. */
#define STORE_ANCHOR_MAC_LEN 32
typedef struct StoreAnchor {
	int64_t generation;
	int64_t audit_seq; /* 0: none seen yet */
	uint8_t audit_mac[STORE_ANCHOR_MAC_LEN];
	bool has_audit_mac;
	uint8_t template_key_id[STORE_ANCHOR_MAC_LEN];
	bool has_template_key_id;
} StoreAnchor;

/* True when store_open found an empty database and created the schema. */
bool store_was_created(const Store *s);
/* -EBADMSG when the anchor row is missing (the file was tampered with). */
int store_anchor_get(Store *s, StoreAnchor *ret);
int store_generation(Store *s, int64_t *ret);
/* Records the newest committed audit record (seq, 32-byte MAC; seq 0 and NULL: none), without
 * a flush: see store.c. */
int store_anchor_set_audit(Store *s, int64_t seq, const uint8_t *mac);
int store_anchor_set_key_id(Store *s, const uint8_t id[static STORE_ANCHOR_MAC_LEN]);
/* Folds the WAL into the database and truncates it (a full disk, a schedule). -EBUSY when a
 * reader kept part of it. */
int store_checkpoint(Store *s);

/* --- administration (issue 13): one operator ID, one finger, the roster from a file ------ */

/* One operator ID of an active person: revoke it (it is never granted again, as a revoked
 * person's) or give it another role (*ret_old_role: the role it had). -ENOENT unknown
 * matching ID, -EPERM revoked person, -ESRCH the person has no such operator ID, -EALREADY
 * the operator ID is already revoked. */
int store_operator_revoke(Store *s, const char *matching_id, const char *operator_id);
int store_operator_set_role(Store *s, const char *matching_id, const char *operator_id,
                            const char *role, char ret_old_role[static WIRE_MAX_ID + 1]);
/* Whether finger is enrolled for matching_id: 1, 0, or -errno. */
int store_finger_exists(Store *s, const char *matching_id, const char *finger);
/* Erases one finger's template as revocation erases them (secure_delete, then the WAL
 * checkpointed and truncated). -ENOENT unknown matching ID, -EPERM revoked, -ESRCH finger not
 * enrolled, -EMLINK it is the person's last finger and allow_last is false; -EBUSY or
 * -ECANCELED when the delete was committed but the WAL could not be truncated. */
int store_finger_delete(Store *s, const char *matching_id, const char *finger, bool allow_last);
/* Checkpoints and truncates the WAL, so that no older version of a replaced page (a
 * re-enrolled finger's old template) survives. 0, -EBUSY (a reader held it), -errno. */
int store_wal_truncate(Store *s);

/* One row of a roster import: a new matching ID is added as store_staff_add() adds (name,
 * affiliation, nationality required); an active one is edited as store_staff_edit() edits,
 * the fields given only (nationality is then ignored, never compared); unix_user may not
 * differ from the person's. */
typedef struct StoreImportRow {
	StoreStaffIn in;                    /* .actor unused: the import's actor is given once */
	int32_t pledge_date, training_date; /* 0: not given */
} StoreImportRow;

/* All rows in one transaction, or none: -EPERM a revoked matching ID, -EEXIST a new ID or
 * Unix user that clashes, -EXDEV a Unix user change, -EINVAL a missing or bad field (named
 * in *ret_field); *ret_bad is then the index of the row. Counts of people added and of
 * people with a field that changed. */
int store_staff_import(Store *s, const StoreImportRow *rows, size_t n, const char *actor,
                       int64_t now, size_t *ret_added, size_t *ret_changed, size_t *ret_bad,
                       const char **ret_field);
/* Matching IDs with failed matches at or after since_usec (the candidates for a lockout), as
 * a JSON array of strings. */
int store_failures_ids_json(Store *s, int64_t since_usec, json_object **ret);
