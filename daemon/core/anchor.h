/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * anchor: every state file anchored outside itself. The store keeps the audit trail's newest
 * committed record (seq and MAC) and the template key's ID; the audit trail's head keeps the
 * store's generation; a marker file says the state directory was initialized. At start the
 * daemon refuses, with one line naming the file and what is wrong, a database that existed
 * and is now empty, a trail cut or replaced below what the store saw, a store rolled back
 * below what the trail saw, and a key file missing, unreadable or different while data
 * sealed with it exists. Nothing is recreated over existing data; an admin's explicit
 * acceptance (biogated --accept-new-audit-trail / --accept-store-loss) is recorded as the
 * first record of what follows.
 */
#pragma once

#include "audit.h"
#include "secret.h"
#include "store.h"

#define ANCHOR_MARKER_FILE "biogate.state"

typedef struct AnchorAccept {
	/* The admin's reason to start a new audit trail: the old files are moved aside (named
	 * in the new trail's first record, with their head) and a new chain begins. */
	const char *new_audit_trail;
	/* The admin's reason to go on with a store rolled back or emptied, or with a template
	 * key other than the one the templates were sealed with (they must be enrolled again). */
	const char *store_loss;
} AnchorAccept;

/* Before any key or database is opened (nothing is created yet): the key files (missing
 * while their data exists, wrong mode, owner or length) and the databases (missing or empty
 * in an initialized state directory). Releases the disk reserve when the volume is nearly
 * full so that SQLite can open. With acc->new_audit_trail, moves the old trail aside.
 * 0, or -errno after one line on stderr. */
int anchor_precheck(const char *state_dir, const AnchorAccept *acc);

/* After store_open and audit_open, before the first record is appended: the cross-checks.
 * On success binds the two (each audit commit carries the store's generation and leaves its
 * position in the store) and writes the marker. On refusal abandons what the trail had
 * queued. 0, or -EUCLEAN after one line on stderr. */
int anchor_check(const char *state_dir, Store *s, Audit *a, const Secret *secret,
                 const char *terminal, const AnchorAccept *acc);
