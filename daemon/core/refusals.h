/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * refusals: keeps the audit trail from being a way to fill the state disk (issue 14,
 * finding 3). A refused call from a caller without a biogate session costs the caller
 * nothing, so recording each one would let any local user write the disk full and stop
 * every login (no reply goes out without its durable record). Here such refusals are
 * counted per uid and window: the first few of a window are recorded in full, the rest
 * only counted, and one summary record per uid closes the window. The module also watches
 * the free space of the state volume and raises the state-space-low incident (R17) when it
 * runs low; while it is low, refusals of callers without a session are only counted.
 *
 * It never drops a record of a caller in a session, of an allowed call, of a login, or of
 * administration: only the refusals its callers hand it, and it is told about them before
 * they are recorded.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "forward.h"

/* Bounds: uids tracked per window (a further uid is counted under the pooled entry, uid
 * "other" in the summary), distinct actions named per summary (the rest counted as
 * "other"), and the refusals recorded in full per window across all uids. */
#define REFUSALS_UIDS_MAX            256
#define REFUSALS_ACTIONS_MAX         8
#define REFUSALS_DETAILED_WINDOW_MAX 64
/* How often the state volume's free space is looked at (statvfs), besides on demand (at
 * most once a second, when a refusal is counted). */
#define REFUSALS_SPACE_CHECK_USEC (10 * 1000000ULL)

/* Needs m->event, m->config and m->state_dir; checks the free space once at once. */
int refusals_new(Manager *m, Refusals **ret);
/* Writes the summaries of the window in progress (call it before audit_close()). */
void refusals_free(Refusals *r);

/*
 * A call of uid, without a session, is being refused (action as it will be recorded;
 * violation for a refused resident record code). True: record it in full now (within the
 * uid's budget of the window, and the space is not low). False: it was counted for the
 * window's summary record, write nothing for it. r may be NULL (true).
 */
bool refusals_admit(Refusals *r, uid_t uid, const char *action, bool violation);

/* Whether the state volume was found low on space at the last look (GetStatus, tests). */
bool refusals_space_low(const Refusals *r);
