/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dbutil: what the daemon's two SQLite files (the store, the audit trail) handle alike:
 * turning an SQLite result into -errno with one log line (naming tables and columns, never a
 * bound value), and resetting cached statements when they go out of scope.
 */
#pragma once

#include <sqlite3.h>

/* Logs "biogated: WHO: WHAT: message (code)" and maps the code to -errno: busy/locked
 * -EBUSY, full -ENOSPC, read-only/permission -EROFS, out of memory -ENOMEM (not logged),
 * anything else -EIO. */
int dbutil_fail(const char *who, sqlite3 *db, int rc, const char *what);

/* For _cleanup_: statements stay prepared for the life of their database; a user resets
 * them on scope exit so that none holds a read snapshot or a pointer into a caller's
 * buffers. */
void dbutil_stmt_resetp(sqlite3_stmt **st);
