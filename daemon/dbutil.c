/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dbutil: shared SQLite error mapping and statement reset (see dbutil.h). It must never log a
 * bound value: SQLite's messages name tables and columns only.
 */
#include <errno.h>
#include <stdio.h>

#include "dbutil.h"

int
dbutil_fail(const char *who, sqlite3 *db, int rc, const char *what)
{
	if ((rc & 0xff) == SQLITE_NOMEM)
		return -ENOMEM;
	fprintf(stderr, "biogated: %s: %s: %s (%d)\n", who, what,
	        db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), rc);
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
	case SQLITE_PERM:
		return -EROFS;
	default:
		return -EIO;
	}
}

void
dbutil_stmt_resetp(sqlite3_stmt **st)
{
	if (*st) {
		sqlite3_reset(*st);
		sqlite3_clear_bindings(*st);
	}
}
