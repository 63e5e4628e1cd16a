/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fleet_admin: what the city's admin does to the center from biogatectl, on a plain blocking
 * libpq connection (a command-line tool may wait; the daemon never uses this file).
 *
 * Migrations: the package ships fleet/sql/NNN-name.sql (installed under
 * /usr/share/biogate/fleet). Each file is one transaction (BEGIN ... COMMIT inside the file) and
 * records its version in biogate_fleet.schema_version; fleet_admin_migrate() applies, in order,
 * the files whose number is above the highest recorded version, each with one PQexec, and
 * stops at the first failure with that file rolled back. The same files work with
 * `psql -v ON_ERROR_STOP=1 -f FILE`, which stays the documented way for a DBA who will not run
 * biogatectl on the database host.
 */
#pragma once

#include <stdio.h>

#include <libpq-fe.h>

#define FLEET_MIGRATIONS_MAX 64

/* The highest applied version (0 when the schema is not there yet), or -EIO. */
int fleet_admin_schema_version(PGconn *pg);

/*
 * Applies the pending migrations from sql_dir. ret_from/ret_to (optional) get the version
 * before and after. On failure the server's message goes to err (may be NULL) and the return
 * is -EIO (SQL), -ENOENT (no migrations in sql_dir), -EINVAL (a misnamed or duplicate file),
 * or -errno from reading.
 */
int fleet_admin_migrate(PGconn *pg, const char *sql_dir, int *ret_from, int *ret_to, FILE *err);

/* Joins a terminal: creates its role and row; ret_role (optional, malloc'd) its role name. */
int fleet_admin_add_terminal(PGconn *pg, const char *name, char **ret_role, FILE *err);
