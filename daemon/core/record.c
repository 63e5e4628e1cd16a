/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * record: see record.h. The common case (no done callback) passes the Caller itself to the
 * audit callback, so the hot path (Authorize, logins) allocates nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "caller.h"
#include "clock.h"
#include "log.h"
#include "manager.h"
#include "record.h"

typedef struct RecordOp {
	Caller *caller;
	RecordDoneFn done;
	void *userdata;
} RecordOp;

static void
record_log_failure(int r)
{
	/* A full disk is logged by the audit trail once per window, not once per record. */
	if (r < 0 && r != -ENOSPC)
		log_error("An audit record could not be written: %s", strerror(-r));
}

static void
record_released(int r, int64_t seq, void *userdata)
{
	Caller *c = userdata;
	record_log_failure(r);
	if (c && c->release)
		c->release(c, r);
}

static void
record_done(int r, int64_t seq, void *userdata)
{
	RecordOp *op = userdata;
	record_log_failure(r);
	op->done(r, seq, op->userdata);
	if (op->caller && op->caller->release)
		op->caller->release(op->caller, r);
	free(op);
}

int
record_append(Manager *m, Caller *caller, AuditRecord *rec, RecordDoneFn done, void *userdata)
{
	if (!m->audit)
		return -ENOTCONN;
	rec->time_usec = rec->time_usec ? rec->time_usec : now_real_usec();
	rec->terminal = m->terminal;
	if (caller && caller->hold)
		caller->hold(caller);
	if (!done) {
		int r = audit_append(m->audit, rec, record_released, caller);
		if (r < 0)
			record_released(r, 0, caller);
		return r;
	}
	RecordOp *op = malloc(sizeof(*op));
	if (!op) {
		done(-ENOMEM, 0, userdata);
		record_released(-ENOMEM, 0, caller);
		return -ENOMEM;
	}
	*op = (RecordOp){ .caller = caller, .done = done, .userdata = userdata };
	int r = audit_append(m->audit, rec, record_done, op);
	if (r < 0)
		record_done(r, 0, op);
	return r;
}
