/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * record: the one way core writes to the audit trail. The rule it keeps: a reply goes out
 * only after the record it depends on is durable. record_append() fills in time and
 * terminal, takes a hold on the caller's reply, appends, and releases the hold after the
 * group COMMIT (or drops the caller when the record could not be written).
 */
#pragma once

#include <stdint.h>

#include "audit.h"
#include "forward.h"

/* Runs once the record is durable (r >= 0, seq its sequence number) or lost (r < 0),
 * before the caller's hold is released: a reply queued here goes out with the release. */
typedef void (*RecordDoneFn)(int r, int64_t seq, void *userdata);

/* caller may be NULL (the daemon's own records); done may be NULL. Without an audit trail
 * nothing happens and -ENOTCONN is returned (done is not called). Otherwise done is always
 * called exactly once, also when appending fails at once (the return value is then < 0). */
int record_append(Manager *m, Caller *caller, AuditRecord *rec, RecordDoneFn done, void *userdata);
