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

/*
 * An auditor's check of one terminal's trail as the center holds it, with that terminal's
 * audit key (the 32 bytes of its audit.key): every record's MAC recomputed over the chain
 * (daemon/audit/audit.c: MAC(n) = HMAC-SHA256(HKDF-SHA256(key, "biogate audit chain v1"),
 * canonical(n) || MAC(n-1))), written again here on purpose so that the check does not run
 * the code it checks. A trail that starts above seq 1 at the center (the terminal ran alone
 * before joining) is checked from its first record's MAC on. 0 with ret filled, or -errno.
 */
typedef struct FleetVerify {
	int64_t records, first_seq, last_seq;
	int64_t first_bad;   /* 0: the chain holds */
	const char *problem; /* NULL, "bad-mac", "gap" */
} FleetVerify;
int fleet_admin_verify(PGconn *pg, const char *terminal, const unsigned char key[32],
                       FleetVerify *ret, FILE *err);
