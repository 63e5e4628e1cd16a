/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fleet: this terminal as one of a fleet sharing a roster, revocations, a session registry and
 * an audit store on PostgreSQL ([fleet] in biogate.conf; without it every call here is a
 * no-op and the terminal stands alone exactly as before). The protocol is fleet/fleet_sync.c;
 * this file is the host side: it applies the center's revocations to the store (R4 from any
 * terminal), feeds the audit trail to the upload, turns conflicts into incidents (R17),
 * decides the offline rules for a login ([fleet] in the policy file) and records each
 * decision.
 *
 * The password (or client key) never sits in biogate.conf: with the systemd credential
 * biogate-fleet-pgpass (a pgpass file) or biogate-fleet-key (a client key), the connection
 * string gets passfile= or sslkey= pointing at it.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "forward.h"

typedef struct Fleet Fleet;

/* 0 with *ret NULL when the terminal is not configured for a fleet. */
int fleet_new(Manager *m, Fleet **ret);
void fleet_free(Fleet *f);

/*
 * R12 across terminals, for a session about to open here. done(r, holder, offline) runs
 * exactly once, within the policy's wait-ms: r == 0 (registered at the center, or admitted
 * by the offline rules when offline is true), -EBUSY (in session at terminal holder),
 * -EPERM (revoked or unknown at the center), -ENETUNREACH (offline and the offline rules
 * refuse). Without a fleet, done(0, NULL, false) runs at once.
 */
typedef void (*FleetOpenDoneFn)(int r, const char *holder, bool offline, void *userdata);
typedef struct FleetOpen FleetOpen;
int fleet_open_session(Fleet *f, const char *matching_id, const char *operator_id,
                       FleetOpenDoneFn done, void *userdata, FleetOpen **ret);
/* The caller went away: done is not called; a registration that succeeds is undone. */
void fleet_open_cancel(Fleet *f, FleetOpen *op);
/* A session of matching_id ended here (every way one ends: sessions_stop's follow-up). */
void fleet_session_closed(Fleet *f, const char *matching_id, const char *reason);
/* A revocation made here (custody_revoke), for every terminal. */
void fleet_revoked(Fleet *f, const char *matching_id, const char *reason);
/* A finger enrolled here, sealed, for every terminal (enroll once, log in anywhere). */
void fleet_enrolled(Fleet *f, const char *matching_id, const char *finger, const uint8_t *sealed,
                    size_t len);
/* For GetStatus: {terminal, up, offline_since, last_contact, center_seq, local_seq, queued,
 * uploaded, revocations_applied, diverged, error}. */
json_object *fleet_status_json(Fleet *f);
