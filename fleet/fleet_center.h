/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fleet_center: what a terminal asks of the center, as typed asynchronous calls over a
 * FleetConn (the SQL lives here and in fleet/sql/, nowhere else). Each call takes a timeout
 * and calls back exactly once; the terminal's identity is its PostgreSQL role, so no call
 * names "this terminal" except the audit upload, whose rows row-level security checks.
 *
 * Errors given to callbacks: 0; -EPERM (the center refused: revoked, not this terminal's row,
 * no privilege); -ENOENT (unknown person, operator ID or terminal); -EILSEQ (an audit record
 * out of order at the center); -EINVAL (bad argument or reply); and fleet_conn's -ENOTCONN,
 * -ECONNRESET, -ETIMEDOUT (center unreachable or outcome unknown: the offline rules apply).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "fleet_conn.h"

#define FLEET_MAC_LEN          32
#define FLEET_UPLOAD_BATCH_MAX 500

typedef void (*fleet_done_cb_t)(int r, int64_t n, void *userdata);

/*
 * Registers a session (R12 across terminals). local_id is any number this terminal has not
 * used before (the center keeps (terminal, local_id) unique). r == 0 and id > 0: opened. r == 0, id
 * == 0 and holder set: the matching ID is in an open session at terminal holder (AlreadyInSession).
 * r == -EPERM: the person or operator ID is revoked or unknown at the center.
 */
typedef void (*fleet_open_session_cb_t)(int r, int64_t id, const char *holder, void *userdata);
int fleet_center_open_session(FleetConn *c, int64_t local_id, const char *matching_id,
                              const char *operator_id, int lease_seconds, uint64_t timeout_usec,
                              fleet_open_session_cb_t cb, void *userdata);
/* Closes this terminal's open session of matching_id (there is at most one in the fleet).
 * n: sessions closed (0 when the center had it closed already, e.g. by a revocation). */
int fleet_center_close_session(FleetConn *c, const char *matching_id, const char *reason,
                               uint64_t timeout_usec, fleet_done_cb_t cb, void *userdata);
/* The matching IDs of this terminal's open sessions at the center (reconciling after a cut). */
typedef void (*fleet_ids_cb_t)(int r, const char *const *ids, size_t n, void *userdata);
int fleet_center_open_sessions(FleetConn *c, uint64_t timeout_usec, fleet_ids_cb_t cb,
                               void *userdata);
/* Alive; extends this terminal's leases; n: leases extended. Also reaps dead terminals'. */
int fleet_center_heartbeat(FleetConn *c, int lease_seconds, int64_t queued, int64_t local_seq,
                           uint64_t timeout_usec, fleet_done_cb_t cb, void *userdata);

/* Files a revocation made on this terminal (the center applies it and wakes every terminal);
 * n: its id, or 0 when the person is revoked at the center already (so filing again after a
 * cut is harmless). -ENOENT: not on the center's roster. */
int fleet_center_revoke(FleetConn *c, const char *terminal, const char *matching_id,
                        const char *reason, uint64_t timeout_usec, fleet_done_cb_t cb,
                        void *userdata);

typedef struct FleetRevocation {
	int64_t id;
	const char *matching_id;
	const char *reason;
	const char *revoked_on; /* NULL: by the admin at the center */
	int64_t revoked_at_usec;
} FleetRevocation;
/* Revocations with id > after_id, oldest first, at most limit (1..1000). */
typedef void (*fleet_revocations_cb_t)(int r, const FleetRevocation *list, size_t n,
                                       void *userdata);
int fleet_center_revocations_since(FleetConn *c, int64_t after_id, int limit, uint64_t timeout_usec,
                                   fleet_revocations_cb_t cb, void *userdata);

/* Stores a sealed template enrolled here (enroll once, log in anywhere). */
int fleet_center_put_template(FleetConn *c, const char *terminal, const char *matching_id,
                              const char *finger, const uint8_t *sealed, size_t sealed_len,
                              uint64_t timeout_usec, fleet_done_cb_t cb, void *userdata);

/* One record of this terminal's chain, as audit.c chained it. */
typedef struct FleetAuditRow {
	int64_t seq;
	int64_t time_usec;
	const char *terminal; /* the record's own field (may be NULL) */
	const char *matching_id, *operator_id, *action, *outcome, *reason, *detail, *key_hmac;
	uint8_t mac[FLEET_MAC_LEN];
} FleetAuditRow;

/* The last record of this terminal at the center: seq 0 (mac NULL) when none. */
typedef void (*fleet_audit_head_cb_t)(int r, int64_t seq, const uint8_t *mac, void *userdata);
int fleet_center_audit_head(FleetConn *c, const char *terminal, uint64_t timeout_usec,
                            fleet_audit_head_cb_t cb, void *userdata);
/*
 * Uploads consecutive records (1..FLEET_UPLOAD_BATCH_MAX, seq increasing by one) in one
 * statement: all or none, and a record already there is not inserted again (idempotent by
 * (terminal, seq)), so an upload cut by a crash is simply repeated. n: rows inserted.
 */
int fleet_center_audit_upload(FleetConn *c, const char *terminal, const FleetAuditRow *rows,
                              size_t n_rows, uint64_t timeout_usec, fleet_done_cb_t cb,
                              void *userdata);
