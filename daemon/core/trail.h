/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * trail: what an auditor asks of the audit trail (R5, R19): verify the chain, list records,
 * export them, search by a key's HMAC. Every question is itself a record (who asked, with
 * what filter); the caller's reply waits for it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "audit.h"
#include "forward.h"

/* Verifies the chain; a broken one is recorded as a failure and an incident. *ret_record:
 * the first bad record when cheap to find (else NULL). -errno when unreadable (recorded). */
int trail_verify(Manager *m, Caller *c, AuditVerifyResult *ret, json_object **ret_record);
/* Records matching f (limit defaults to 100), recorded as audit.list. -EINVAL, -errno. */
int trail_list(Manager *m, Caller *c, AuditFilter *f, json_object **ret);
/* Writes the export into a sealed memfd from its start: *ret_fd, *ret_records. */
int trail_export(Manager *m, const AuditFilter *f, bool csv, AuditExport **ret);
/* Records the export (audit.export with the filter, actor and confirmers). */
void trail_exported(Manager *m, Caller *c, const AuditFilter *f, const char *format,
                    const char *actor, json_object *people);
/* The sealed export of f's time range (audit_export_sealed_begin). */
int trail_export_sealed(Manager *m, const AuditFilter *f, AuditExport **ret);
/* The seals' public key list and its fingerprint, recorded as audit.keys-export. */
int trail_keys(Manager *m, Caller *c, char **ret_text, char ret_fingerprint[static 65]);

typedef struct TrailSearch {
	json_object *hits; /* [{seq, time, terminal, matching_id, operator_id, action, ...}] */
	bool truncated, searched;
	int64_t earlier_lookups;
	const char *key_class;
} TrailSearch;
/* Whether key was searched (by its HMAC), recorded as audit.search-key with the HMAC only. */
int trail_search_key(Manager *m, Caller *c, const char *key, size_t key_len, TrailSearch *ret);
