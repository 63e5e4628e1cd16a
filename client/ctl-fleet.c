/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * biogatectl fleet init|add-terminal|status: the city's admin at the fleet center
 * (PostgreSQL), not at a terminal's daemon. The connection is libpq's: --conninfo, else the
 * PG* environment variables and ~/.pgpass, as psql would use them; the admin's role needs the
 * biogate_fleet_admin group (init: a role that may create roles, e.g. the database owner).
 *
 * Why libpq here rather than "run psql -f": one command that knows which shipped migrations
 * are applied (biogate_fleet.schema_version) and applies only the rest, each in its own
 * transaction, with the server's message on failure; no psql on the admin's PATH needed. The
 * files stay plain SQL, so `psql -v ON_ERROR_STOP=1 -f FILE` remains an equivalent way.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "ctl-args.h"
#include "ctl-util.h"
#include "ctl-verbs.h"
#include "fleet_admin.h"

#ifndef BIOGATE_FLEET_SQL_DIR
#define BIOGATE_FLEET_SQL_DIR "/usr/share/biogate/fleet"
#endif

enum {
	OPT_CONNINFO = 0x1000,
	OPT_SQL_DIR,
	OPT_AUDIT_KEY,
};

typedef struct FleetArgs {
	const char *conninfo;
	const char *sql_dir;
	const char *audit_key;
} FleetArgs;

static int
fleet_option(int c, const char *value, void *userdata)
{
	FleetArgs *a = userdata;
	if (c == OPT_CONNINFO)
		a->conninfo = value;
	else if (c == OPT_SQL_DIR)
		a->sql_dir = value;
	else if (c == OPT_AUDIT_KEY)
		a->audit_key = value;
	else
		return -1;
	return 0;
}

static const struct option fleet_opts[] = {
	COMMON_OPTIONS,
	{ "conninfo", required_argument, NULL, OPT_CONNINFO },
	{ "sql-dir", required_argument, NULL, OPT_SQL_DIR },
	{ "audit-key", required_argument, NULL, OPT_AUDIT_KEY },
	{ NULL, 0, NULL, 0 },
};

static PGconn *
fleet_connect(const FleetArgs *a)
{
	PGconn *pg = PQconnectdb(a->conninfo ? a->conninfo : "");
	if (PQstatus(pg) != CONNECTION_OK) {
		fprintf(stderr, "%s: %s: %s", CTL_NAME, _("cannot connect to the fleet center"),
		        PQerrorMessage(pg));
		PQfinish(pg);
		return NULL;
	}
	return pg;
}

static int
cmd_fleet_init(int argc, char **argv)
{
	FleetArgs a = { .sql_dir = BIOGATE_FLEET_SQL_DIR };
	int r = parse_args(argc, argv, fleet_opts, fleet_option, &a, NULL, NULL, 0);
	if (r)
		return r;
	PGconn *pg = fleet_connect(&a);
	if (!pg)
		return CTL_EXIT_UNREACHABLE;
	int from = 0, to = 0;
	r = fleet_admin_migrate(pg, a.sql_dir, &from, &to, stderr);
	PQfinish(pg);
	if (arg.json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "from", json_object_new_int(from));
		json_object_object_add(o, "to", json_object_new_int(to));
		json_object_object_add(o, "ok", json_object_new_boolean(r == 0));
		print_json(o);
		json_object_put(o);
	} else if (r == 0)
		print_line(_("fleet schema version %d (was %d)"), to, from);
	return r == 0 ? CTL_EXIT_OK : r == -EIO ? CTL_EXIT_REFUSED : CTL_EXIT_ERROR;
}

static int
cmd_fleet_add_terminal(int argc, char **argv)
{
	FleetArgs a = { 0 };
	static const char *const names[] = { "NAME" };
	const char *name = NULL;
	int r = parse_args(argc, argv, fleet_opts, fleet_option, &a, names, &name, 1);
	if (r)
		return r;
	PGconn *pg = fleet_connect(&a);
	if (!pg)
		return CTL_EXIT_UNREACHABLE;
	_cleanup_(freep) char *role = NULL;
	r = fleet_admin_add_terminal(pg, name, &role, stderr);
	PQfinish(pg);
	if (r < 0)
		return CTL_EXIT_REFUSED;
	if (arg.json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "terminal", json_object_new_string(name));
		json_object_object_add(o, "role", json_object_new_string(role));
		print_json(o);
		json_object_put(o);
	} else
		print_line(_("terminal %s joined as database role %s; give that role a password or "
		             "a client certificate (docs/fleet.md)"),
		           name, role);
	return CTL_EXIT_OK;
}

static int
cmd_fleet_status(int argc, char **argv)
{
	FleetArgs a = { 0 };
	int r = parse_args(argc, argv, fleet_opts, fleet_option, &a, NULL, NULL, 0);
	if (r)
		return r;
	PGconn *pg = fleet_connect(&a);
	if (!pg)
		return CTL_EXIT_UNREACHABLE;
	PGresult *res = PQexec(pg, "SELECT name, to_char(last_seen AT TIME ZONE 'UTC', "
	                           "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), queued, local_seq, "
	                           "center_seq, lag, open_sessions FROM biogate_fleet.fleet_status "
	                           "ORDER BY name");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQnfields(res) != 7) {
		fprintf(stderr, "%s: %s", CTL_NAME, PQresultErrorMessage(res));
		PQclear(res);
		PQfinish(pg);
		return CTL_EXIT_REFUSED;
	}
	static const char *const keys[] = { "terminal",   "last_seen", "queued",       "local_seq",
		                            "center_seq", "lag",       "open_sessions" };
	json_object *arr = json_object_new_array();
	for (int i = 0; i < PQntuples(res); i++) {
		json_object *o = json_object_new_object();
		for (int k = 0; k < 7; k++) {
			const char *v = PQgetvalue(res, i, k);
			json_object_object_add(o, keys[k],
			                       PQgetisnull(res, i, k) ? NULL
			                       : k >= 2 ? json_object_new_int64(atoll(v))
			                                : json_object_new_string(v));
		}
		json_object_array_add(arr, o);
	}
	PQclear(res);
	PQfinish(pg);
	if (arg.json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "terminals", arr);
		print_json(o);
		json_object_put(o);
		return CTL_EXIT_OK;
	}
	/* TRANSLATORS: column heads of "biogatectl fleet status". */
	const char *head[] = { _("TERMINAL"),   _("LAST SEEN"), _("QUEUED"),  _("LOCAL SEQ"),
		               _("CENTER SEQ"), _("LAG"),       _("SESSIONS") };
	Table t = { .cols = 7 };
	r = table_head(&t, head, 0, 7);
	for (size_t i = 0; r >= 0 && i < json_object_array_length(arr); i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		for (int k = 0; r >= 0 && k < 7; k++) {
			json_object *v = json_object_object_get(o, keys[k]);
			r = table_add(&t, v ? json_object_get_string(v) : "-");
		}
	}
	json_object_put(arr);
	if (r < 0) {
		table_free(&t);
		return fail_nomem();
	}
	return table_finish(&t, true);
}

/* The terminal's audit.key: exactly 32 bytes. */
static int
read_key(const char *path, unsigned char key[32])
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	size_t n = fread(key, 1, 32, f);
	int extra = fgetc(f);
	fclose(f);
	return n == 32 && extra == EOF ? 0 : -EBADMSG;
}

static int
cmd_fleet_verify(int argc, char **argv)
{
	FleetArgs a = { 0 };
	static const char *const names[] = { "TERMINAL" };
	const char *terminal = NULL;
	unsigned char key[32];
	int r = parse_args(argc, argv, fleet_opts, fleet_option, &a, names, &terminal, 1);
	if (r)
		return r;
	if (!a.audit_key)
		return usage_errorf(_("fleet verify needs --audit-key FILE (that terminal's "
		                      "audit.key)"));
	r = read_key(a.audit_key, key);
	if (r < 0) {
		fprintf(stderr, "%s: %s: %s\n", CTL_NAME, a.audit_key,
		        r == -EBADMSG ? _("not a 32-byte audit key") : strerror(-r));
		return CTL_EXIT_ERROR;
	}
	PGconn *pg = fleet_connect(&a);
	if (!pg) {
		explicit_bzero(key, sizeof(key));
		return CTL_EXIT_UNREACHABLE;
	}
	FleetVerify v;
	r = fleet_admin_verify(pg, terminal, key, &v, stderr);
	explicit_bzero(key, sizeof(key));
	PQfinish(pg);
	if (r < 0)
		return CTL_EXIT_ERROR;
	if (arg.json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "terminal", json_object_new_string(terminal));
		json_object_object_add(o, "ok", json_object_new_boolean(!v.first_bad));
		json_object_object_add(o, "records", json_object_new_int64(v.records));
		json_object_object_add(o, "first_seq", json_object_new_int64(v.first_seq));
		json_object_object_add(o, "last_seq", json_object_new_int64(v.last_seq));
		if (v.first_bad) {
			json_object_object_add(o, "problem", json_object_new_string(v.problem));
			json_object_object_add(o, "first_bad_seq",
			                       json_object_new_int64(v.first_bad));
		}
		print_json(o);
		json_object_put(o);
	} else if (v.first_bad)
		print_line(_("%s: broken at record %lld (%s)"), terminal, (long long)v.first_bad,
		           v.problem);
	else
		print_line(_("%s: ok, records %lld (seq %lld to %lld)"), terminal,
		           (long long)v.records, (long long)v.first_seq, (long long)v.last_seq);
	return v.first_bad ? CTL_EXIT_NEGATIVE : CTL_EXIT_OK;
}

const CtlVerb ctl_verb_fleet_verify = {
	.verb = "fleet",
	.sub = "verify",
	.fn = cmd_fleet_verify,
	.synopsis = "fleet verify TERMINAL --audit-key FILE [--conninfo CONNINFO]",
	.summary =
	    N_("Verify a terminal's audit chain as the center holds it (exit 1 when broken)"),
};

const CtlVerb ctl_verb_fleet_init = {
	.verb = "fleet",
	.sub = "init",
	.fn = cmd_fleet_init,
	.synopsis = "fleet init [--conninfo CONNINFO] [--sql-dir DIR]",
	.summary = N_("Create or migrate the fleet center's schema and roles (PostgreSQL)"),
};

const CtlVerb ctl_verb_fleet_add_terminal = {
	.verb = "fleet",
	.sub = "add-terminal",
	.fn = cmd_fleet_add_terminal,
	.synopsis = "fleet add-terminal NAME [--conninfo CONNINFO]",
	.summary = N_("Let a terminal join the fleet: its own database role"),
};

const CtlVerb ctl_verb_fleet_status = {
	.verb = "fleet",
	.sub = "status",
	.fn = cmd_fleet_status,
	.synopsis = "fleet status [--conninfo CONNINFO]",
	.summary = N_("The fleet's terminals: last seen, records queued, upload lag, sessions"),
};
