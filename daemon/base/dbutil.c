/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dbutil: shared SQLite error mapping and statement reset (see dbutil.h). It must never log a
 * bound value: SQLite's messages name tables and columns only.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "dbutil.h"

/* A full disk fails every write until space is freed: say so once a minute, not per
 * statement (the audit trail names the condition itself, see audit_on_full). */
static bool
dbutil_full_quiet(void)
{
	static time_t last;
	static unsigned long suppressed;
	time_t now = time(NULL);
	if (last != 0 && now - last < 60) {
		suppressed++;
		return true;
	}
	if (suppressed)
		fprintf(stderr, "biogated: %lu more writes failed for lack of space\n", suppressed);
	last = now;
	suppressed = 0;
	return false;
}

int
dbutil_fail(const char *who, sqlite3 *db, int rc, const char *what)
{
	if ((rc & 0xff) == SQLITE_NOMEM)
		return -ENOMEM;
	/* SQLite reports a write() that failed for space as FULL, but a WAL index or a journal
	 * that could not grow as an I/O error: the system error tells them apart. */
	bool full = (rc & 0xff) == SQLITE_FULL ||
	            (db && sqlite3_system_errno(db) == ENOSPC && (rc & 0xff) == SQLITE_IOERR);
	if (!full || !dbutil_full_quiet())
		fprintf(stderr, "biogated: %s: %s: %s (%d)%s\n", who, what,
		        db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), rc,
		        full ? ": the disk is full (ENOSPC)" : "");
	if (full)
		return -ENOSPC;
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
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

int
dbutil_exec(const char *who, sqlite3 *db, const char *sql)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : dbutil_fail(who, db, rc, "exec");
}

int
dbutil_pragma_get(const char *who, sqlite3 *db, const char *sql, sqlite3_int64 *ret_int,
                  char *ret_text, size_t size)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return dbutil_fail(who, db, rc, "pragma");
	rc = sqlite3_step(st);
	int r = 0;
	if (rc == SQLITE_ROW) {
		if (ret_int)
			*ret_int = sqlite3_column_int64(st, 0);
		if (ret_text) {
			const char *v = (const char *)sqlite3_column_text(st, 0);
			snprintf(ret_text, size, "%s", v ? v : "");
		}
	} else {
		r = rc == SQLITE_DONE ? -EIO : dbutil_fail(who, db, rc, "pragma");
	}
	sqlite3_finalize(st);
	return r;
}

int
dbutil_migrate(const char *who, sqlite3 *db, const char *const *steps, int n_steps,
               int (*after_step)(void *userdata, sqlite3_int64 from_version), void *userdata)
{
	for (;;) {
		sqlite3_int64 version = 0;
		int r = dbutil_exec(who, db, "BEGIN IMMEDIATE");
		if (r < 0)
			return r;
		r = dbutil_pragma_get(who, db, "PRAGMA user_version", &version, NULL, 0);
		if (r >= 0 && version > n_steps) {
			fprintf(stderr,
			        "biogated: %s: database schema version %lld is newer than this "
			        "biogate (%d)\n",
			        who, (long long)version, n_steps);
			r = -EPROTONOSUPPORT;
		}
		if (r >= 0 && version == n_steps) {
			(void)dbutil_exec(who, db, "COMMIT");
			return 0;
		}
		if (r >= 0 && version < 0)
			r = -EIO;
		if (r >= 0)
			r = dbutil_exec(who, db, steps[version]);
		if (r >= 0 && after_step)
			r = after_step(userdata, version);
		if (r >= 0)
			r = dbutil_exec(who, db, "COMMIT");
		if (r < 0) {
			if (!sqlite3_get_autocommit(db))
				(void)dbutil_exec(who, db, "ROLLBACK");
			return r;
		}
	}
}
