/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fleet_sync: a terminal's life in the fleet, on its sd-event loop, apart from what the
 * terminal stores. It keeps the connection to the center, heartbeats (this terminal's session
 * leases), hears revocations (LISTEN biogate_revoke) and hands each to the host once per
 * process life, registers and closes sessions (R12 across terminals) within a bounded wait,
 * uploads the local audit trail in order and idempotently, and after every (re)connect
 * reconciles what the cut left different: revocations made here go to the center, sessions
 * opened here while offline are registered (a person in session at two terminals is a
 * conflict the host records as an incident), sessions closed here while offline close at the
 * center, and the trail resumes from the center's last record after checking that record's
 * MAC against the local one.
 *
 * The host (the daemon's core) gives plain callbacks over its store and audit trail; this
 * module never touches either and never decides a login: it says "registered", "held at
 * terminal X", "refused by the center" or "offline", and the host applies its policy.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fleet_center.h"
#include "fleet_conn.h"

typedef struct FleetSync FleetSync;

typedef void (*fleet_sync_each_fn)(const char *matching_id, const char *other, void *ctx);

typedef struct FleetSyncHost {
	void *userdata;
	/* A revocation the center holds. Applied locally (templates erased, IDs disabled,
	 * sessions ended, recorded) and idempotent: every revocation comes again once after
	 * each start. 0, or -errno to have it offered again at the next reconnect. */
	int (*apply_revocation)(const FleetRevocation *rev, void *userdata);
	/* Calls fn(matching_id, reason, ctx) for every person revoked here. */
	void (*each_local_revocation)(fleet_sync_each_fn fn, void *ctx, void *userdata);
	/* Calls fn(matching_id, operator_id, ctx) for every session open here now. */
	void (*each_local_session)(fleet_sync_each_fn fn, void *ctx, void *userdata);
	/* The local trail's last seq (0 when empty). */
	int64_t (*audit_last_seq)(void *userdata);
	/* Up to max records with seq > after, oldest first, consecutive. Strings stay valid
	 * until the next call. Count, or -errno. */
	int (*audit_read)(int64_t after, FleetAuditRow *rows, size_t max, void *userdata);
	/* What the center and this terminal disagree on (R17): kind is "session-elsewhere" (a
	 * session opened here offline while the person was in session at other, detail the
	 * other terminal), "session-refused" (a session opened here offline whose person or
	 * operator ID the center does not accept: end it) or "audit-diverged" (the center's
	 * copy of this trail differs from the local one: uploading stops). May be NULL. */
	void (*conflict)(const char *kind, const char *matching_id, const char *detail,
	                 void *userdata);
	/* The center came (after reconciling) or went. May be NULL. */
	void (*state)(bool up, void *userdata);
	/* The roster changed at the center for matching_id (a cache to refill). May be NULL. */
	void (*roster_changed)(const char *matching_id, void *userdata);
} FleetSyncHost;

typedef struct FleetSyncConfig {
	const char *conninfo;
	const char *terminal;      /* this terminal's fleet name */
	uint32_t lease_sec;        /* default 60: how long a dead terminal holds a session */
	uint32_t heartbeat_sec;    /* default lease_sec / 3 */
	uint64_t wait_usec;        /* default 500 ms: the bound on a login's wait for the center */
	uint64_t backoff_max_usec; /* default 5 s */
} FleetSyncConfig;

int fleet_sync_new(sd_event *event, const FleetSyncConfig *cfg, const FleetSyncHost *host,
                   FleetSync **ret);
int fleet_sync_start(FleetSync *s);
FleetSync *fleet_sync_free(FleetSync *s);

typedef enum FleetOpenResult {
	FLEET_OPEN_OK,      /* registered at the center */
	FLEET_OPEN_HELD,    /* in an open session at another terminal (holder) */
	FLEET_OPEN_REFUSED, /* the center says revoked or unknown */
	FLEET_OPEN_OFFLINE, /* no answer within the bound: the offline rules decide */
} FleetOpenResult;
typedef void (*fleet_sync_open_cb_t)(FleetOpenResult result, const char *holder, void *userdata);

/* Registers a session about to open here. 0: cb runs exactly once, within wait_usec (plus a
 * loop turn). -ENOTCONN: the center is away now, nothing is called back (offline rules). */
int fleet_sync_open_session(FleetSync *s, const char *matching_id, const char *operator_id,
                            fleet_sync_open_cb_t cb, void *userdata);
/* A session of matching_id ended here. Sent now when up; reconciled after a cut otherwise. */
void fleet_sync_close_session(FleetSync *s, const char *matching_id, const char *reason);
/* A revocation made here. cb(r, id) (may be NULL) when the center has it; -ENOTCONN when the
 * center is away (it is filed at the next reconnect from each_local_revocation). */
int fleet_sync_revoke(FleetSync *s, const char *matching_id, const char *reason, fleet_done_cb_t cb,
                      void *userdata);
/* A sealed template enrolled here, for every terminal. cb may be NULL. -ENOTCONN when away. */
int fleet_sync_put_template(FleetSync *s, const char *matching_id, const char *finger,
                            const uint8_t *sealed, size_t len, fleet_done_cb_t cb, void *userdata);
/* New local records: upload them when up (batched; cheap to call on every append). */
void fleet_sync_kick(FleetSync *s);

typedef struct FleetSyncStatus {
	bool up;
	unsigned connects;
	int64_t offline_since_usec; /* CLOCK_REALTIME; 0 while up */
	int64_t last_contact_usec;  /* CLOCK_REALTIME of the last answer from the center */
	int64_t center_seq;         /* this terminal's last record at the center; -1 unknown */
	int64_t local_seq;
	uint64_t uploaded;            /* records inserted by this process */
	uint64_t revocations_applied; /* by this process */
	bool diverged;                /* uploading stopped: see conflict "audit-diverged" */
	const char *last_error;
} FleetSyncStatus;
void fleet_sync_status(FleetSync *s, FleetSyncStatus *ret);
/* For tests and offline tools: the connection underneath. */
FleetConn *fleet_sync_conn(FleetSync *s);
