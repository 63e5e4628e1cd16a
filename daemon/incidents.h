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

#include "daemon.h"

typedef struct Incidents Incidents;

/* Rules (stable names, used in records and in the notify JSON). */
#define INCIDENT_RESIDENT_CODE_SEARCH "resident-record-code-search"
#define INCIDENT_FORBIDDEN_SEARCHES   "forbidden-searches"
#define INCIDENT_FAILED_MATCHES       "failed-matches"
#define INCIDENT_AUDIT_TAMPERED       "audit-chain-broken"
#define INCIDENT_STORAGE_BLOCKED      "storage-blocked"

int incidents_new(Manager *m, Incidents **ret);
void incidents_free(Incidents *i);

/* One event that may raise an incident (the rule decides: thresholds, windows). matching_id,
 * operator_id and situation (a short English sentence, no secrets) may be NULL. */
void incidents_note(Incidents *i, const char *rule, const char *matching_id,
                    const char *operator_id, const char *situation);

/* {incidents:[{rule, count, first, last, notified}]} for the last window; GetStatus and the
 * monthly report use it. */
json_object *incidents_status(Incidents *i);
