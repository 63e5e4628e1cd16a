/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dbutil: what the daemon's two SQLite files (the store, the audit trail) handle alike:
 * turning an SQLite result into -errno with one log line (naming tables and columns, never a
 * bound value), and resetting cached statements when they go out of scope.
 */
#pragma once

#include <stddef.h>

#include <sqlite3.h>

/* Logs "biogated: WHO: WHAT: message (code)" and maps the code to -errno: busy/locked
 * -EBUSY, full -ENOSPC, read-only/permission -EROFS, out of memory -ENOMEM (not logged),
 * anything else -EIO. */
int dbutil_fail(const char *who, sqlite3 *db, int rc, const char *what);

/* For _cleanup_: statements stay prepared for the life of their database; a user resets
 * them on scope exit so that none holds a read snapshot or a pointer into a caller's
 * buffers. */
void dbutil_stmt_resetp(sqlite3_stmt **st);

/* Runs sql (no bound values: pragmas, BEGIN/COMMIT, schema steps). 0 or dbutil_fail(). */
int dbutil_exec(const char *who, sqlite3 *db, const char *sql);
/* Reads a single-row, single-column result (pragmas): as an integer and/or as text. */
int dbutil_pragma_get(const char *who, sqlite3 *db, const char *sql, sqlite3_int64 *ret_int,
                      char *ret_text, size_t size);

/*
 * Migrations by user_version: step i takes the schema from version i to i + 1 and sets
 * user_version itself. Each step runs in its own IMMEDIATE transaction (two daemons racing
 * serialize there, and the second sees what the first wrote), together with after_step (may
 * be NULL) for work that must land with that step. A database newer than n_steps is refused
 * with -EPROTONOSUPPORT rather than misread.
 */
int dbutil_migrate(const char *who, sqlite3 *db, const char *const *steps, int n_steps,
                   int (*after_step)(void *userdata, sqlite3_int64 from_version), void *userdata);
