/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fleet_admin against a real, empty PostgreSQL 15 (with_pg.sh): the shipped migrations apply
 * from nothing, a second run applies nothing, a later file applies on top, a failing file is
 * rolled back whole and leaves the connection usable, a file that forgets its version and a
 * misnamed file are refused, and a terminal joins.
 *
 * Usage: with_pg.sh test_fleet_admin SQL_DIR
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fleet_admin.h"

#define check(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)

static char tmp[] = "/tmp/biogate-fleet-admin.XXXXXX";

static void
put(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	f = fopen(path, "w");
	check(f);
	fputs(text, f);
	check(fclose(f) == 0);
}

static void
drop(const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	check(unlink(path) == 0);
}

static int
scalar(PGconn *pg, const char *sql)
{
	PGresult *res = PQexec(pg, sql);
	int v;

	check(PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1);
	v = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

int
main(int argc, char **argv)
{
	char cmd[1024], *role = NULL;
	int from = -1, to = -1;
	PGconn *pg;

	check(argc == 2);
	pg = PQconnectdb("");
	check(PQstatus(pg) == CONNECTION_OK);
	check(mkdtemp(tmp));

	check(fleet_admin_schema_version(pg) == 0);
	check(fleet_admin_migrate(pg, tmp, NULL, NULL, stderr) == -ENOENT);

	/* The shipped files, from nothing, then again. */
	check(fleet_admin_migrate(pg, argv[1], &from, &to, stderr) == 0);
	check(from == 0 && to >= 1);
	check(fleet_admin_schema_version(pg) == to);
	check(fleet_admin_migrate(pg, argv[1], &from, &to, stderr) == 0);
	check(from == to);

	/* A later file on top of them. */
	snprintf(cmd, sizeof(cmd), "cp '%s'/*.sql '%s'/", argv[1], tmp);
	check(system(cmd) == 0);
	put("900-extra.sql", "BEGIN; CREATE TABLE biogate_fleet.extra (x int);\n"
	                     "INSERT INTO biogate_fleet.schema_version (version) VALUES (900);\n"
	                     "COMMIT;\n");
	check(fleet_admin_migrate(pg, tmp, &from, &to, stderr) == 0);
	check(to == 900 && from < 900);

	/* A file that fails half-way leaves nothing behind, and the next command works. */
	put("901-broken.sql", "BEGIN; CREATE TABLE biogate_fleet.broken (x int);\n"
	                      "SELECT 1/0;\n"
	                      "INSERT INTO biogate_fleet.schema_version (version) VALUES (901);\n"
	                      "COMMIT;\n");
	fprintf(stderr, "(a division by zero is expected next)\n");
	check(fleet_admin_migrate(pg, tmp, &from, &to, stderr) == -EIO);
	check(to == 900);
	check(fleet_admin_schema_version(pg) == 900);
	check(PQtransactionStatus(pg) == PQTRANS_IDLE);
	check(scalar(pg, "SELECT count(*) FROM pg_tables WHERE tablename = 'broken'") == 0);
	drop("901-broken.sql");

	/* A file that does not record its version is not taken as applied. */
	put("902-forgot.sql", "BEGIN; CREATE TABLE biogate_fleet.forgot (x int); COMMIT;\n");
	check(fleet_admin_migrate(pg, tmp, &from, &to, stderr) == -EINVAL);
	check(to == 900);
	drop("902-forgot.sql");

	/* Misnamed and duplicate files are refused before anything runs. */
	put("9-short.sql", "SELECT 1;\n");
	check(fleet_admin_migrate(pg, tmp, NULL, NULL, stderr) == -EINVAL);
	drop("9-short.sql");
	put("900-again.sql", "SELECT 1;\n");
	check(fleet_admin_migrate(pg, tmp, NULL, NULL, stderr) == -EINVAL);
	drop("900-again.sql");
	check(fleet_admin_migrate(pg, tmp, &from, &to, stderr) == 0);
	check(from == 900 && to == 900);

	/* Joining a terminal. */
	check(fleet_admin_add_terminal(pg, "counter-1", &role, stderr) == 0);
	check(strcmp(role, "biogate_t_counter-1") == 0);
	free(role);
	check(scalar(pg, "SELECT count(*) FROM pg_roles WHERE rolname = 'biogate_t_counter-1' "
	                 "AND rolcanlogin") == 1);
	check(fleet_admin_add_terminal(pg, "Counter 1", NULL, NULL) == -EIO);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	check(system(cmd) == 0);
	PQfinish(pg);
	printf("fleet_admin: ok\n");
	return 0;
}
