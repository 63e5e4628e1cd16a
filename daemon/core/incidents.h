/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * incidents: R17. Rules from the policy's [incidents] section turn events into incidents:
 * any resident-record-code search, N forbidden searches within the window, a burst of failed
 * matches, a failed verification of the audit chain, a blocked storage device. An incident
 * is recorded in the audit trail (action "incident.<rule>", with content, count, place =
 * this terminal, and situation) and handed to the policy's notify command (the emergency
 * contact) once per rule (and person) per window. The notify command runs detached, with a
 * bounded runtime, no shell, and the incident as JSON on its stdin; its failure is recorded.
 */
#pragma once

#include <json-c/json.h>

#include "forward.h"
#include "wire.h"

typedef struct Incidents Incidents;

/* Rules (stable names, used in records and in the notify JSON). */
#define INCIDENT_RESIDENT_CODE_SEARCH "resident-record-code-search"
#define INCIDENT_FORBIDDEN_SEARCHES   "forbidden-searches"
#define INCIDENT_FAILED_MATCHES       "failed-matches"
#define INCIDENT_AUDIT_TAMPERED       "audit-chain-broken"
#define INCIDENT_STORAGE_BLOCKED      "storage-blocked"
#define INCIDENT_STATE_SPACE_LOW      "state-space-low"
/* The fleet center and this terminal disagree (a person in session at two terminals after a
 * cut, a session the center refuses, the center's copy of this trail differs). */
#define INCIDENT_FLEET_CONFLICT "fleet-conflict"
/* A finger being enrolled matched another matching ID's template (R13: one person, two IDs). */
#define INCIDENT_DUPLICATE_FINGER "duplicate-finger"

/* Bounds. Per rule at most this many people (keys) are tracked; when full, the one whose
 * last event is oldest is forgotten. Each rule keeps the times of its latest events, at
 * least INCIDENTS_EVENTS_MIN and at least its threshold, so a threshold is always exact and
 * a reported count saturates at that capacity. */
#define INCIDENTS_KEYS_MAX            1024
#define INCIDENTS_EVENTS_MIN          1024
#define INCIDENTS_NOTIFY_RUNNING_MAX  8
#define INCIDENTS_NOTIFY_TIMEOUT_USEC (10 * 1000000ULL)
/* In the runtime directory, from biogate-notify.socket: the command then runs in
 * biogate-notify@.service, where the network is (R17). */
#define INCIDENTS_NOTIFY_SOCKET "notify.sock"
#define INCIDENTS_SITUATION_MAX 256

/* Needs m->event (notify children are reaped through sd_event_add_child, so SIGCHLD must be
 * blocked, as biogated does). Reads m->policy's [incidents] at every event (the built-in
 * defaults when m->policy is NULL) and appends to m->audit when it is set. */
int incidents_new(Manager *m, Incidents **ret);
/* Notify commands still running are left to finish on their own (their timeout dies with the
 * loop); incidents still waiting for their audit record are dropped from notification. Call
 * it after audit_close() so that those records' callbacks still find it. */
void incidents_free(Incidents *i);

/*
 * One event that may raise an incident (the rule decides: thresholds, windows). matching_id,
 * operator_id and situation (a short English sentence, no secrets, cut at
 * INCIDENTS_SITUATION_MAX bytes) may be NULL. Per rule:
 *   resident-record-code-search  an incident for every such search; notified once per window
 *                                per person (matching_id)
 *   forbidden-searches           one incident when a person's denied key searches within the
 *                                window reach forbidden-search-threshold; then again only
 *                                once a window has passed since
 *   failed-matches               the same over failed matches of anyone (one key for all),
 *                                against failed-match-threshold
 *   audit-chain-broken,
 *   storage-blocked,
 *   state-space-low              an incident for every event; notified once per window
 *   fleet-conflict               the same, per person
 * An unknown rule is logged and ignored.
 */
void incidents_note(Incidents *i, const char *rule, const char *matching_id,
                    const char *operator_id, const char *situation);

/* {incidents:[{rule, matching_id, count, first, last, notified}]} for the incidents raised
 * within the last window (at most 64, newest last); first/last are RFC 3339 UTC. GetStatus
 * and the monthly report use it. */
json_object *incidents_status(Incidents *i);

/* Notify commands started and still running (tests and GetStatus). */
unsigned incidents_notify_running(const Incidents *i);
