/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* asprintf, secure_getenv, explicit_bzero, reallocarray */
#endif
/*
 * store: the daemon's SQLite database. This file owns the schema, its migrations and every
 * SQL statement biogated runs; all statements are fixed strings prepared once at open and
 * bound with parameters, so no row value ever becomes SQL. Templates reach this file already
 * sealed by secret.c. It must never log row contents (names, nationality, templates): errors
 * are reported with SQLite's own message, which names tables and columns, not values.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "dbutil.h"
#include "store.h"

#define _cleanup_(f) __attribute__((cleanup(f)))

/* A sealed template is a serialized print plus 29 bytes; nothing sane comes near this. */
#define STORE_MAX_BLOB (1024u * 1024u)
/* Time (ms) a writer waits for another connection's lock before giving up with -EBUSY. */
#define STORE_BUSY_TIMEOUT_MS 5000

/*
 * Migrations: step i takes the database from user_version i to i + 1. A step is applied in
 * one IMMEDIATE transaction together with its user_version bump, so a crash leaves either
 * the old or the new schema. Steps are only ever appended; a shipped step never changes.
 */
static const char *const store_migrations[] = {
	/* 0 -> 1: roster, operator IDs, templates, sessions. STRICT makes SQLite refuse values
	 * of the wrong type instead of silently storing them. */
	"CREATE TABLE staff ("
	"  matching_id TEXT PRIMARY KEY NOT NULL,"
	"  unix_user TEXT UNIQUE NOT NULL,"
	"  name TEXT NOT NULL,"
	"  affiliation TEXT NOT NULL,"
	"  expertise TEXT,"
	"  track_record TEXT,"
	"  nationality TEXT NOT NULL,"
	"  pledge_date INTEGER,"
	"  training_date INTEGER,"
	"  state TEXT NOT NULL CHECK(state IN ('active','revoked')),"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL"
	") STRICT;"
	"CREATE TABLE operators ("
	"  operator_id TEXT PRIMARY KEY NOT NULL,"
	"  matching_id TEXT NOT NULL REFERENCES staff(matching_id),"
	"  role TEXT NOT NULL,"
	"  state TEXT NOT NULL CHECK(state IN ('active','revoked')),"
	"  granted_at INTEGER NOT NULL,"
	"  UNIQUE(operator_id, matching_id)"
	") STRICT;"
	"CREATE INDEX operators_by_staff ON operators(matching_id);"
	"CREATE TABLE fingers ("
	"  matching_id TEXT NOT NULL REFERENCES staff(matching_id),"
	"  finger TEXT NOT NULL,"
	"  template BLOB NOT NULL,"
	"  enrolled_at INTEGER NOT NULL,"
	"  PRIMARY KEY(matching_id, finger)"
	") STRICT;"
	/* AUTOINCREMENT: a session ID is never reused, so audit records naming one stay
	 * unambiguous. The composite key ties the operator ID to the person it belongs to. */
	"CREATE TABLE sessions ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  matching_id TEXT NOT NULL REFERENCES staff(matching_id),"
	"  operator_id TEXT NOT NULL,"
	"  uid INTEGER NOT NULL,"
	"  leader_pid INTEGER NOT NULL,"
	"  tty TEXT,"
	"  service TEXT,"
	"  logind_session TEXT,"
	"  opened_at INTEGER NOT NULL,"
	"  closed_at INTEGER,"
	"  close_reason TEXT,"
	"  CHECK((closed_at IS NULL) = (close_reason IS NULL)),"
	"  FOREIGN KEY(operator_id, matching_id) REFERENCES operators(operator_id, matching_id)"
	") STRICT;"
	"CREATE INDEX sessions_open ON sessions(id) WHERE closed_at IS NULL;"
	"PRAGMA user_version = 1;",
	/* 1 -> 2: the work schedule (R8) and failed matches kept across restarts (lockout).
	 * pledge_date and training_date hold YYYYMMDD. */
	"CREATE TABLE shifts ("
	"  id INTEGER PRIMARY KEY,"
	"  matching_id TEXT NOT NULL REFERENCES staff(matching_id),"
	"  start_at INTEGER NOT NULL,"
	"  end_at INTEGER NOT NULL,"
	"  imported_at INTEGER NOT NULL,"
	"  CHECK(end_at > start_at)"
	") STRICT;"
	"CREATE INDEX shifts_by_staff ON shifts(matching_id, start_at);"
	"CREATE INDEX shifts_by_start ON shifts(start_at);"
	"CREATE TABLE failures ("
	"  matching_id TEXT NOT NULL REFERENCES staff(matching_id),"
	"  at INTEGER NOT NULL"
	") STRICT;"
	"CREATE INDEX failures_by_staff ON failures(matching_id, at);"
	"PRAGMA user_version = 2;",
	/* 2 -> 3: roster history (R6: who changed which field when, old and new values, never
	 * nationality), written by triggers so that no code path can forget it; and the
	 * disposal plan (R16). The actor of a change is set in change_context inside the same
	 * transaction. */
	"CREATE TABLE staff_history ("
	"  id INTEGER PRIMARY KEY,"
	"  matching_id TEXT NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  actor TEXT,"
	"  field TEXT NOT NULL,"
	"  old_value TEXT,"
	"  new_value TEXT"
	") STRICT;"
	"CREATE INDEX staff_history_by_staff ON staff_history(matching_id, id);"
	"CREATE TABLE change_context (id INTEGER PRIMARY KEY CHECK(id = 1), actor TEXT) STRICT;"
	"CREATE TRIGGER staff_history_insert AFTER INSERT ON staff BEGIN"
	"  INSERT INTO staff_history (matching_id, at, actor, field, old_value, new_value) "
	"    VALUES (NEW.matching_id, NEW.created_at, (SELECT actor FROM change_context), "
	"'created', NULL, NULL);"
	"END;"
	"CREATE TRIGGER staff_history_update AFTER UPDATE ON staff BEGIN"
	"  INSERT INTO staff_history (matching_id, at, actor, field, old_value, new_value) "
	"    SELECT NEW.matching_id, NEW.updated_at, (SELECT actor FROM change_context), 'name', "
	"OLD.name, NEW.name WHERE OLD.name IS NOT NEW.name;"
	"  INSERT INTO staff_history (matching_id, at, actor, field, old_value, new_value) "
	"    SELECT NEW.matching_id, NEW.updated_at, (SELECT actor FROM change_context), "
	"'affiliation', OLD.affiliation, NEW.affiliation WHERE OLD.affiliation IS NOT "
	"NEW.affiliation;"
	"  INSERT INTO staff_history (matching_id, at, actor, field, old_value, new_value) "
	"    SELECT NEW.matching_id, NEW.updated_at, (SELECT actor FROM change_context), "
	"'expertise', OLD.expertise, NEW.expertise WHERE OLD.expertise IS NOT NEW.expertise;"
	"  INSERT INTO staff_history (matching_id, at, actor, field, old_value, new_value) "
	"    SELECT NEW.matching_id, NEW.updated_at, (SELECT actor FROM change_context), "
	"'track_record', OLD.track_record, NEW.track_record WHERE OLD.track_record IS NOT "
	"NEW.track_record;"
	"  INSERT INTO staff_history (matching_id, at, actor, field, old_value, new_value) "
	"    SELECT NEW.matching_id, NEW.updated_at, (SELECT actor FROM change_context), "
	"'unix_user', OLD.unix_user, NEW.unix_user WHERE OLD.unix_user IS NOT NEW.unix_user;"
	"  INSERT INTO staff_history (matching_id, at, actor, field, old_value, new_value) "
	"    SELECT NEW.matching_id, NEW.updated_at, (SELECT actor FROM change_context), "
	"'pledge_date', CAST(OLD.pledge_date AS TEXT), CAST(NEW.pledge_date AS TEXT) WHERE "
	"OLD.pledge_date IS NOT NEW.pledge_date;"
	"  INSERT INTO staff_history (matching_id, at, actor, field, old_value, new_value) "
	"    SELECT NEW.matching_id, NEW.updated_at, (SELECT actor FROM change_context), "
	"'training_date', CAST(OLD.training_date AS TEXT), CAST(NEW.training_date AS TEXT) WHERE "
	"OLD.training_date IS NOT NEW.training_date;"
	"  INSERT INTO staff_history (matching_id, at, actor, field, old_value, new_value) "
	"    SELECT NEW.matching_id, NEW.updated_at, (SELECT actor FROM change_context), 'state', "
	"OLD.state, NEW.state WHERE OLD.state IS NOT NEW.state;"
	"END;"
	"CREATE TABLE disposals ("
	"  id INTEGER PRIMARY KEY,"
	"  state TEXT NOT NULL CHECK(state IN ('planned','approved','executed')),"
	"  items TEXT NOT NULL,"
	"  media TEXT NOT NULL,"
	"  count INTEGER NOT NULL,"
	"  method TEXT NOT NULL,"
	"  planned_date INTEGER NOT NULL,"
	"  planned_by TEXT NOT NULL,"
	"  planned_at INTEGER NOT NULL,"
	"  approved_by TEXT,"
	"  approved_at INTEGER,"
	"  executed_by TEXT,"
	"  executed_at INTEGER,"
	"  result TEXT"
	") STRICT;"
	"PRAGMA user_version = 3;",
	/* 3 -> 4: the anchor (one row): what this database knows of the audit trail, kept
	 * here so that a trail emptied, cut or replaced is noticed at start (anchor.c), and the
	 * generation, which the audit trail's head records in turn so that a store rolled back
	 * (a damaged -wal, an old copy, an emptied file) is noticed too. The generation counts
	 * the durable changes (sessions are live state and committed without a flush, so they
	 * do not count): triggers, so that no code path can forget it. The template key's ID
	 * tells a swapped template.key from the one the templates were sealed with. */
	"CREATE TABLE anchor ("
	"  id INTEGER PRIMARY KEY CHECK(id = 1),"
	"  generation INTEGER NOT NULL,"
	"  audit_seq INTEGER NOT NULL,"
	"  audit_mac BLOB,"
	"  template_key_id BLOB"
	") STRICT;"
	"INSERT INTO anchor (id, generation, audit_seq) VALUES (1, 0, 0);"
	"CREATE TRIGGER staff_gen_insert AFTER INSERT ON staff BEGIN "
	"  UPDATE anchor SET generation = generation + 1 WHERE id = 1; END;"
	"CREATE TRIGGER staff_gen_update AFTER UPDATE ON staff BEGIN "
	"  UPDATE anchor SET generation = generation + 1 WHERE id = 1; END;"
	"CREATE TRIGGER staff_gen_delete AFTER DELETE ON staff BEGIN "
	"  UPDATE anchor SET generation = generation + 1 WHERE id = 1; END;"
	"CREATE TRIGGER operators_gen_insert AFTER INSERT ON operators BEGIN "
	"  UPDATE anchor SET generation = generation + 1 WHERE id = 1; END;"
	"CREATE TRIGGER operators_gen_update AFTER UPDATE ON operators BEGIN "
	"  UPDATE anchor SET generation = generation + 1 WHERE id = 1; END;"
	"CREATE TRIGGER operators_gen_delete AFTER DELETE ON operators BEGIN "
	"  UPDATE anchor SET generation = generation + 1 WHERE id = 1; END;"
	"CREATE TRIGGER fingers_gen_insert AFTER INSERT ON fingers BEGIN "
	"  UPDATE anchor SET generation = generation + 1 WHERE id = 1; END;"
	"CREATE TRIGGER fingers_gen_update AFTER UPDATE ON fingers BEGIN "
	"  UPDATE anchor SET generation = generation + 1 WHERE id = 1; END;"
	"CREATE TRIGGER fingers_gen_delete AFTER DELETE ON fingers BEGIN "
	"  UPDATE anchor SET generation = generation + 1 WHERE id = 1; END;"
	"CREATE TRIGGER shifts_gen_insert AFTER INSERT ON shifts BEGIN "
	"  UPDATE anchor SET generation = generation + 1 WHERE id = 1; END;"
	"CREATE TRIGGER shifts_gen_update AFTER UPDATE ON shifts BEGIN "
	"  UPDATE anchor SET generation = generation + 1 WHERE id = 1; END;"
	"CREATE TRIGGER shifts_gen_delete AFTER DELETE ON shifts BEGIN "
	"  UPDATE anchor SET generation = generation + 1 WHERE id = 1; END;"
	"CREATE TRIGGER failures_gen_insert AFTER INSERT ON failures BEGIN "
	"  UPDATE anchor SET generation = generation + 1 WHERE id = 1; END;"
	"CREATE TRIGGER failures_gen_update AFTER UPDATE ON failures BEGIN "
	"  UPDATE anchor SET generation = generation + 1 WHERE id = 1; END;"
	"CREATE TRIGGER failures_gen_delete AFTER DELETE ON failures BEGIN "
	"  UPDATE anchor SET generation = generation + 1 WHERE id = 1; END;"
	"CREATE TRIGGER disposals_gen_insert AFTER INSERT ON disposals BEGIN "
	"  UPDATE anchor SET generation = generation + 1 WHERE id = 1; END;"
	"CREATE TRIGGER disposals_gen_update AFTER UPDATE ON disposals BEGIN "
	"  UPDATE anchor SET generation = generation + 1 WHERE id = 1; END;"
	"CREATE TRIGGER disposals_gen_delete AFTER DELETE ON disposals BEGIN "
	"  UPDATE anchor SET generation = generation + 1 WHERE id = 1; END;"
	"PRAGMA user_version = 4;",
};

#define STORE_SCHEMA_VERSION ((int)(sizeof(store_migrations) / sizeof(store_migrations[0])))

typedef enum StoreStmt {
	ST_BEGIN,
	ST_BEGIN_IMMEDIATE,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SYNC_NORMAL,
	ST_SYNC_FULL,
	ST_STAFF_INSERT,
	ST_STAFF_ID_CLASH,
	ST_STAFF_BY_ID,
	ST_STAFF_BY_USER,
	ST_STAFF_JSON,
	ST_STAFF_LIST_IDS,
	ST_STAFF_COUNT,
	ST_STAFF_FINGER_NAMES,
	ST_OPERATOR_OWNER,
	ST_OPERATOR_INSERT,
	ST_OPERATORS_ACTIVE,
	ST_OPERATOR_ROLE,
	ST_FINGER_PUT,
	ST_FINGERS_GET,
	ST_SESSION_INSERT,
	ST_SESSION_GET,
	ST_SESSION_CLOSE,
	ST_SESSIONS_OPEN,
	ST_SESSIONS_OPEN_COUNT,
	ST_SESSIONS_CLOSE_ALL,
	ST_STAFF_EDIT,
	ST_STAFF_GATES,
	ST_SESSION_OPEN_FOR,
	ST_FAILURE_ADD,
	ST_FAILURES_GET,
	ST_FAILURES_CLEAR,
	ST_FAILURES_PRUNE,
	ST_SHIFTS_DELETE_RANGE,
	ST_SHIFT_INSERT,
	ST_SHIFT_AT,
	ST_SHIFTS_RANGE,
	ST_ACTOR_SET,
	ST_REVOKE_STAFF,
	ST_REVOKE_OPERATORS,
	ST_FINGERS_DELETE,
	ST_NATIONALITY,
	ST_HISTORY,
	ST_DISPOSAL_INSERT,
	ST_DISPOSAL_GET,
	ST_DISPOSAL_APPROVE,
	ST_DISPOSAL_EXECUTE,
	ST_ERASE_STAFF,
	ST_ERASE_FINGERS,
	ST_ERASE_HISTORY,
	ST_ERASE_SHIFTS,
	ST_ERASE_FAILURES,
	ST_ANCHOR_GET,
	ST_ANCHOR_SET_AUDIT,
	ST_ANCHOR_SET_KEY_ID,
	_ST_MAX,
} StoreStmt;

static const char *const store_sql[_ST_MAX] = {
	[ST_BEGIN] = "BEGIN",
	[ST_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_SYNC_NORMAL] = "PRAGMA synchronous = NORMAL",
	[ST_SYNC_FULL] = "PRAGMA synchronous = FULL",
	[ST_STAFF_INSERT] = "INSERT INTO staff (matching_id, unix_user, name, affiliation, "
	                    "expertise, track_record, nationality, state, created_at, updated_at) "
	                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'active', ?8, ?8)",
	/* A login names either a matching ID or a Unix user; one name must never mean two
	 * people, so a new row's names may not collide across the two columns either. */
	[ST_STAFF_ID_CLASH] = "SELECT 1 FROM staff WHERE matching_id = ?1 OR unix_user = ?2 "
	                      "OR matching_id = ?2 OR unix_user = ?1 LIMIT 1",
	[ST_STAFF_BY_ID] = "SELECT matching_id, unix_user, state FROM staff WHERE matching_id = ?1",
	[ST_STAFF_BY_USER] = "SELECT matching_id, unix_user, state FROM staff WHERE unix_user = ?1",
	[ST_STAFF_JSON] = "SELECT matching_id, name, affiliation, expertise, track_record, "
	                  "unix_user, state, created_at, pledge_date, training_date "
	                  "FROM staff WHERE matching_id = ?1",
	[ST_STAFF_LIST_IDS] = "SELECT matching_id FROM staff ORDER BY matching_id",
	[ST_STAFF_COUNT] = "SELECT count(*) FROM staff WHERE state = 'active'",
	[ST_STAFF_FINGER_NAMES] =
	    "SELECT finger FROM fingers WHERE matching_id = ?1 ORDER BY finger",
	[ST_OPERATOR_OWNER] =
	    "SELECT matching_id, role, state FROM operators WHERE operator_id = ?1",
	[ST_OPERATOR_INSERT] = "INSERT INTO operators (operator_id, matching_id, role, state, "
	                       "granted_at) VALUES (?1, ?2, ?3, 'active', ?4)",
	[ST_OPERATORS_ACTIVE] = "SELECT operator_id, role FROM operators "
	                        "WHERE matching_id = ?1 AND state = 'active' ORDER BY operator_id",
	[ST_OPERATOR_ROLE] = "SELECT o.role FROM operators o JOIN staff s USING (matching_id) "
	                     "WHERE o.operator_id = ?1 AND o.matching_id = ?2 "
	                     "AND o.state = 'active' AND s.state = 'active'",
	[ST_FINGER_PUT] = "INSERT INTO fingers (matching_id, finger, template, enrolled_at) "
	                  "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (matching_id, finger) DO UPDATE "
	                  "SET template = excluded.template, enrolled_at = excluded.enrolled_at",
	[ST_FINGERS_GET] = "SELECT finger, template FROM fingers WHERE matching_id = ?1 "
	                   "ORDER BY finger",
	/* Only an active operator ID of an active person can open a session: a revoked ID
	 * stops working here even if a caller forgot to check. */
	[ST_SESSION_INSERT] =
	    "INSERT INTO sessions (matching_id, operator_id, uid, leader_pid, tty, "
	    "service, logind_session, opened_at) "
	    "SELECT o.matching_id, o.operator_id, ?3, ?4, ?5, ?6, ?7, ?8 "
	    "FROM operators o JOIN staff s USING (matching_id) "
	    "WHERE o.matching_id = ?1 AND o.operator_id = ?2 "
	    "AND o.state = 'active' AND s.state = 'active' RETURNING id",
	[ST_SESSION_GET] = "SELECT id, matching_id, operator_id, uid, leader_pid, "
	                   "closed_at IS NULL FROM sessions WHERE id = ?1",
	[ST_SESSION_CLOSE] = "UPDATE sessions SET closed_at = ?2, close_reason = ?3 "
	                     "WHERE id = ?1 AND closed_at IS NULL",
	[ST_SESSIONS_OPEN] = "SELECT id, matching_id, operator_id, uid, leader_pid, tty, service, "
	                     "logind_session, opened_at FROM sessions WHERE closed_at IS NULL "
	                     "ORDER BY id",
	[ST_SESSIONS_OPEN_COUNT] = "SELECT count(*) FROM sessions WHERE closed_at IS NULL",
	[ST_SESSIONS_CLOSE_ALL] = "UPDATE sessions SET closed_at = ?1, close_reason = ?2 "
	                          "WHERE closed_at IS NULL",
	/* NULL keeps a field: only what the admin named changes. */
	[ST_STAFF_EDIT] = "UPDATE staff SET name = coalesce(?2, name), "
	                  "affiliation = coalesce(?3, affiliation), "
	                  "expertise = coalesce(?4, expertise), "
	                  "track_record = coalesce(?5, track_record), "
	                  "pledge_date = coalesce(?6, pledge_date), "
	                  "training_date = coalesce(?7, training_date), updated_at = ?8 "
	                  "WHERE matching_id = ?1 AND state = 'active'",
	[ST_STAFF_GATES] = "SELECT pledge_date, training_date FROM staff WHERE matching_id = ?1",
	[ST_SESSION_OPEN_FOR] = "SELECT id FROM sessions WHERE matching_id = ?1 "
	                        "AND closed_at IS NULL LIMIT 1",
	[ST_FAILURE_ADD] = "INSERT INTO failures (matching_id, at) VALUES (?1, ?2)",
	[ST_FAILURES_GET] = "SELECT at FROM failures WHERE matching_id = ?1 AND at >= ?2 "
	                    "ORDER BY at DESC LIMIT ?3",
	[ST_FAILURES_CLEAR] = "DELETE FROM failures WHERE matching_id = ?1",
	[ST_FAILURES_PRUNE] = "DELETE FROM failures WHERE at < ?1",
	[ST_SHIFTS_DELETE_RANGE] = "DELETE FROM shifts WHERE start_at >= ?1 AND start_at < ?2",
	[ST_SHIFT_INSERT] = "INSERT INTO shifts (matching_id, start_at, end_at, imported_at) "
	                    "SELECT ?1, ?2, ?3, ?4 WHERE EXISTS "
	                    "(SELECT 1 FROM staff WHERE matching_id = ?1)",
	[ST_SHIFT_AT] = "SELECT start_at, end_at FROM shifts WHERE matching_id = ?1 "
	                "AND start_at <= ?2 AND end_at > ?2 ORDER BY start_at LIMIT 1",
	[ST_ACTOR_SET] = "INSERT OR REPLACE INTO change_context (id, actor) VALUES (1, ?1)",
	[ST_REVOKE_STAFF] = "UPDATE staff SET state = 'revoked', updated_at = ?2 "
	                    "WHERE matching_id = ?1 AND state = 'active'",
	[ST_REVOKE_OPERATORS] = "UPDATE operators SET state = 'revoked' WHERE matching_id = ?1",
	[ST_FINGERS_DELETE] = "DELETE FROM fingers WHERE matching_id = ?1",
	[ST_NATIONALITY] = "SELECT nationality FROM staff WHERE matching_id = ?1",
	[ST_HISTORY] = "SELECT at, actor, field, old_value, new_value FROM staff_history "
	               "WHERE matching_id = ?1 ORDER BY id",
	[ST_DISPOSAL_INSERT] = "INSERT INTO disposals (state, items, media, count, method, "
	                       "planned_date, planned_by, planned_at) "
	                       "VALUES ('planned', ?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
	[ST_DISPOSAL_GET] = "SELECT id, state, items, media, count, method, planned_date, "
	                    "planned_by, planned_at, approved_by, approved_at, executed_by, "
	                    "executed_at, result FROM disposals WHERE id = ?1",
	[ST_DISPOSAL_APPROVE] = "UPDATE disposals SET state = 'approved', approved_by = ?2, "
	                        "approved_at = ?3 WHERE id = ?1 AND state = 'planned'",
	[ST_DISPOSAL_EXECUTE] =
	    "UPDATE disposals SET state = 'executed', executed_by = ?2, "
	    "executed_at = ?3, result = ?4 WHERE id = ?1 AND state = 'approved'",
	/* Disposal keeps the matching ID (never issued again) and the audit trail, and makes
	 * every personal field unreadable. */
	[ST_ERASE_STAFF] = "UPDATE staff SET name = '', affiliation = '', expertise = NULL, "
	                   "track_record = NULL, nationality = '', unix_user = matching_id, "
	                   "pledge_date = NULL, training_date = NULL, state = 'revoked', "
	                   "updated_at = ?1",
	[ST_ERASE_FINGERS] = "DELETE FROM fingers",
	[ST_ERASE_HISTORY] = "DELETE FROM staff_history",
	[ST_ERASE_SHIFTS] = "DELETE FROM shifts",
	[ST_ERASE_FAILURES] = "DELETE FROM failures",
	[ST_ANCHOR_GET] = "SELECT generation, audit_seq, audit_mac, template_key_id FROM anchor "
	                  "WHERE id = 1",
	[ST_ANCHOR_SET_AUDIT] = "UPDATE anchor SET audit_seq = ?1, audit_mac = ?2 WHERE id = 1",
	[ST_ANCHOR_SET_KEY_ID] = "UPDATE anchor SET template_key_id = ?1 WHERE id = 1",
	[ST_SHIFTS_RANGE] =
	    "SELECT matching_id, start_at, end_at FROM shifts "
	    "WHERE (?1 IS NULL OR matching_id = ?1) AND end_at > ?2 AND start_at < ?3 "
	    "ORDER BY start_at, matching_id",
};

struct Store {
	sqlite3 *db;
	sqlite3_stmt *stmt[_ST_MAX];
	/* user_version was 0 at open: this open created the schema (anchor.c asks). */
	bool created;
};

/* Logs SQLite's message (never a bound value) and maps the result code to -errno. */
static int
store_fail(sqlite3 *db, int rc, const char *what)
{
	switch (rc & 0xff) {
	case SQLITE_CONSTRAINT:
		/* Expected outcomes of a request, not faults: no log line. */
		switch (rc) {
		case SQLITE_CONSTRAINT_PRIMARYKEY:
		case SQLITE_CONSTRAINT_UNIQUE:
			return -EEXIST;
		case SQLITE_CONSTRAINT_FOREIGNKEY:
			return -ENOENT;
		default:
			return -EINVAL;
		}
	case SQLITE_NOMEM:
		return -ENOMEM;
	default:
		break;
	}
	return dbutil_fail("store", db, rc, what);
}

#define STMT(s, id) _cleanup_(dbutil_stmt_resetp) sqlite3_stmt *st = (s)->stmt[id]

static int
store_bind_text(sqlite3_stmt *st, int idx, const char *v)
{
	int rc = v ? sqlite3_bind_text(st, idx, v, -1, SQLITE_STATIC) : sqlite3_bind_null(st, idx);
	return rc == SQLITE_OK ? 0 : -ENOMEM;
}

static int
store_bind_int(sqlite3_stmt *st, int idx, int64_t v)
{
	return sqlite3_bind_int64(st, idx, v) == SQLITE_OK ? 0 : -ENOMEM;
}

static int
store_step_done(Store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return 0;
	return store_fail(s->db, rc, what);
}

/* Copies an identifier column into a fixed buffer; an over-long value means the database
 * was written by something other than this code. */
static int
store_copy_id(sqlite3_stmt *st, int col, char out[static WIRE_MAX_ID + 1])
{
	const unsigned char *v = sqlite3_column_text(st, col);
	int n = sqlite3_column_bytes(st, col);
	if (!v || n <= 0 || n > WIRE_MAX_ID)
		return -EIO;
	memcpy(out, v, (size_t)n);
	out[n] = '\0';
	return 0;
}

static int
store_exec(Store *s, StoreStmt id, const char *what)
{
	STMT(s, id);
	return store_step_done(s, st, what);
}

static int
store_begin(Store *s, bool write)
{
	return store_exec(s, write ? ST_BEGIN_IMMEDIATE : ST_BEGIN, "begin");
}

/* Ends the transaction opened by store_begin: commits when r >= 0, else rolls back.
 * Returns r, or the commit's error. */
static int
store_end(Store *s, int r)
{
	if (r >= 0) {
		int k = store_exec(s, ST_COMMIT, "commit");
		if (k >= 0)
			return r;
		r = k;
	}
	/* A failed COMMIT may leave the transaction open; ROLLBACK is then required, and
	 * harmless when SQLite has already rolled back on its own. */
	if (!sqlite3_get_autocommit(s->db))
		(void)store_exec(s, ST_ROLLBACK, "rollback");
	return r;
}

static bool
store_valid_text(const char *v, bool required)
{
	if (!v)
		return !required;
	return (!required || *v) && wire_valid_text(v, WIRE_MAX_TEXT);
}

static bool
store_valid_short(const char *v)
{
	return !v || (*v && wire_valid_text(v, WIRE_MAX_ID));
}

static void
store_json_putp(json_object **o)
{
	json_object_put(*o);
}

/* json-c maps a NULL value to JSON null, which is what an absent optional column means. */
static int
store_json_add(json_object *o, const char *key, json_object *v, bool nullable)
{
	if (!v && !nullable)
		return -ENOMEM;
	if (json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static int
store_json_add_text(json_object *o, const char *key, sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return store_json_add(o, key, NULL, true);
	const char *v = (const char *)sqlite3_column_text(st, col);
	if (!v)
		return -ENOMEM;
	return store_json_add(o, key, json_object_new_string(v), false);
}

static int
store_json_add_int(json_object *o, const char *key, int64_t v)
{
	return store_json_add(o, key, json_object_new_int64(v), false);
}

/* A YYYYMMDD column as "YYYY-MM-DD", or null. */
static int
store_json_add_date(json_object *o, const char *key, sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return store_json_add(o, key, NULL, true);
	int64_t v = sqlite3_column_int64(st, col);
	char buf[16];
	snprintf(buf, sizeof(buf), "%04d-%02d-%02d", (int)(v / 10000) % 10000, (int)(v / 100) % 100,
	         (int)(v % 100));
	return store_json_add(o, key, json_object_new_string(buf), false);
}

static int
store_array_add(json_object *a, json_object *v)
{
	if (!v)
		return -ENOMEM;
	if (json_object_array_add(a, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

/* Pre-creates the database 0600 whatever the umask, and tightens a file left too open.
 * SQLite gives the -wal and -shm files the database file's mode. */
static int
store_prepare_file(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (fd < 0)
		return -errno;
	struct stat st;
	int r = 0;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode))
		r = -EINVAL;
	else if ((st.st_mode & 07777) != 0600 && fchmod(fd, 0600) < 0)
		r = -errno;
	close(fd);
	return r;
}

static int
store_pragma(Store *s, const char *sql)
{
	return dbutil_exec("store", s->db, sql);
}

static int
store_pragma_get(Store *s, const char *sql, sqlite3_int64 *ret_int, char *ret_text,
                 size_t text_size)
{
	return dbutil_pragma_get("store", s->db, sql, ret_int, ret_text, text_size);
}

static int
store_migrate(Store *s)
{
	sqlite3_int64 version = 0;
	int r = store_pragma_get(s, "PRAGMA user_version", &version, NULL, 0);
	if (r < 0)
		return r;
	s->created = version == 0;
	return dbutil_migrate("store", s->db, store_migrations, STORE_SCHEMA_VERSION, NULL, NULL);
}

int
store_open(const char *path, Store **ret)
{
	if (!path || !*path || !ret)
		return -EINVAL;

	int r = store_prepare_file(path);
	if (r < 0)
		return r;

	Store *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;

	int rc = sqlite3_open_v2(path, &s->db,
	                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
	                             SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_EXRESCODE,
	                         NULL);
	if (rc != SQLITE_OK) {
		r = store_fail(s->db, rc, "open");
		goto fail;
	}

	/* DEFENSIVE refuses the ways SQL can corrupt the file (writable_schema, ...); double
	 * quoted string literals are turned off so a typo in our SQL fails loudly. */
	static const int off_on[][2] = {
		{ SQLITE_DBCONFIG_DEFENSIVE, 1 },
		{ SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0 },
		{ SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0 },
		{ SQLITE_DBCONFIG_DQS_DDL, 0 },
		{ SQLITE_DBCONFIG_DQS_DML, 0 },
	};
	for (size_t i = 0; i < sizeof(off_on) / sizeof(off_on[0]); i++) {
		int got = -1;
		rc = sqlite3_db_config(s->db, off_on[i][0], off_on[i][1], &got);
		if (rc != SQLITE_OK || got != off_on[i][1]) {
			r = store_fail(s->db, rc == SQLITE_OK ? SQLITE_ERROR : rc, "db_config");
			goto fail;
		}
	}
	sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);

	/* The database belongs to the daemon alone: exclusive locking keeps the WAL index in
	 * the daemon's memory (no -shm file for anyone to read) and saves the file-lock
	 * system calls of every transaction. First, before anything reads the file: with a
	 * WAL left by the last run, an earlier read would size a -shm file, which fails on a
	 * full disk (SQLITE_IOERR_SHMSIZE). */
	r = store_pragma(s, "PRAGMA locking_mode = EXCLUSIVE");
	if (r < 0)
		goto fail;

	/* secure_delete overwrites freed content, so an erased template does not linger in
	 * free pages. synchronous=FULL until the durable audit append takes over. */
	r = store_pragma(s, "PRAGMA trusted_schema = OFF;"
	                    "PRAGMA secure_delete = ON;"
	                    "PRAGMA foreign_keys = ON;"
	                    /* A few hundred people: 512 KiB of page cache holds all of it. */
	                    "PRAGMA cache_size = -512;"
	                    /* A full disk must not be eaten by a WAL grown past what it
	                     * needs: it is cut back to 256 KiB after each checkpoint. */
	                    "PRAGMA journal_size_limit = 262144;"
	                    "PRAGMA synchronous = FULL;");
	if (r < 0)
		goto fail;

	char mode[16];
	r = store_pragma_get(s, "PRAGMA journal_mode = WAL", NULL, mode, sizeof(mode));
	if (r < 0)
		goto fail;
	if (strcmp(mode, "wal") != 0) {
		fprintf(stderr, "biogated: store: cannot switch the database to WAL mode\n");
		r = -EIO;
		goto fail;
	}

	r = store_migrate(s);
	if (r < 0)
		goto fail;

	for (int i = 0; i < _ST_MAX; i++) {
		rc = sqlite3_prepare_v3(s->db, store_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
		                        &s->stmt[i], NULL);
		if (rc != SQLITE_OK) {
			r = store_fail(s->db, rc, "prepare");
			goto fail;
		}
	}

	*ret = s;
	return 0;

fail:
	store_close(s);
	return r;
}

void
store_close(Store *s)
{
	if (!s)
		return;
	for (int i = 0; i < _ST_MAX; i++)
		sqlite3_finalize(s->stmt[i]);
	if (s->db) {
		int rc = sqlite3_close(s->db);
		if (rc != SQLITE_OK)
			fprintf(stderr, "biogated: store: close: %s (%d)\n", sqlite3_errstr(rc),
			        rc);
	}
	free(s);
}

/* ---- roster ---- */

/* Who the triggers write into the roster history for this transaction. */
static int
store_set_actor(Store *s, const char *actor)
{
	STMT(s, ST_ACTOR_SET);
	int r = store_bind_text(st, 1, actor);
	if (r < 0)
		return r;
	return store_step_done(s, st, "actor");
}

static int
store_staff_add_txn(Store *s, const StoreStaffIn *in, const char *unix_user, int64_t now)
{
	int r = store_set_actor(s, in->actor);
	if (r < 0)
		return r;
	{
		STMT(s, ST_STAFF_ID_CLASH);
		if ((r = store_bind_text(st, 1, in->matching_id)) < 0 ||
		    (r = store_bind_text(st, 2, unix_user)) < 0)
			return r;
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			return -EEXIST;
		if (rc != SQLITE_DONE)
			return store_fail(s->db, rc, "staff add");
	}

	STMT(s, ST_STAFF_INSERT);
	if ((r = store_bind_text(st, 1, in->matching_id)) < 0 ||
	    (r = store_bind_text(st, 2, unix_user)) < 0 ||
	    (r = store_bind_text(st, 3, in->name)) < 0 ||
	    (r = store_bind_text(st, 4, in->affiliation)) < 0 ||
	    (r = store_bind_text(st, 5, in->expertise)) < 0 ||
	    (r = store_bind_text(st, 6, in->track_record)) < 0 ||
	    (r = store_bind_text(st, 7, in->nationality)) < 0 ||
	    (r = store_bind_int(st, 8, now)) < 0)
		return r;
	return store_step_done(s, st, "staff add");
}

int
store_staff_add(Store *s, const StoreStaffIn *in, int64_t now)
{
	if (!s || !in)
		return -EINVAL;
	/* The protocol's default: a person logs in under their matching ID. */
	const char *unix_user = in->unix_user ? in->unix_user : in->matching_id;
	if (!wire_valid_id(in->matching_id) || !wire_valid_id(unix_user) ||
	    !store_valid_text(in->name, true) || !store_valid_text(in->affiliation, true) ||
	    !store_valid_text(in->nationality, true) || !store_valid_text(in->expertise, false) ||
	    !store_valid_text(in->track_record, false))
		return -EINVAL;

	int r = store_begin(s, true);
	if (r < 0)
		return r;
	return store_end(s, store_staff_add_txn(s, in, unix_user, now));
}

static int
store_staff_row(Store *s, StoreStmt id, const char *key, StoreStaff *ret)
{
	if (!s || !ret || !wire_valid_id(key))
		return -EINVAL;
	STMT(s, id);
	int r = store_bind_text(st, 1, key);
	if (r < 0)
		return r;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return store_fail(s->db, rc, "staff get");

	StoreStaff out = { 0 };
	if ((r = store_copy_id(st, 0, out.matching_id)) < 0 ||
	    (r = store_copy_id(st, 1, out.unix_user)) < 0)
		return r;
	const char *state = (const char *)sqlite3_column_text(st, 2);
	out.active = state && strcmp(state, "active") == 0;
	*ret = out;
	return 0;
}

int
store_staff_by_id(Store *s, const char *matching_id, StoreStaff *ret)
{
	return store_staff_row(s, ST_STAFF_BY_ID, matching_id, ret);
}

int
store_staff_by_user(Store *s, const char *unix_user, StoreStaff *ret)
{
	return store_staff_row(s, ST_STAFF_BY_USER, unix_user, ret);
}

/* Builds [{operator_id, role}] of the active operator IDs; the caller holds a transaction. */
static int
store_operators_array(Store *s, const char *matching_id, json_object **ret)
{
	_cleanup_(store_json_putp) json_object *a = json_object_new_array();
	if (!a)
		return -ENOMEM;
	STMT(s, ST_OPERATORS_ACTIVE);
	int r = store_bind_text(st, 1, matching_id);
	if (r < 0)
		return r;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_object *o = json_object_new_object();
		if ((r = store_array_add(a, o)) < 0 ||
		    (r = store_json_add_text(o, "operator_id", st, 0)) < 0 ||
		    (r = store_json_add_text(o, "role", st, 1)) < 0)
			return r;
	}
	if (rc != SQLITE_DONE)
		return store_fail(s->db, rc, "operators");
	*ret = a;
	a = NULL;
	return 0;
}

/* The staff object of the protocol; the caller holds a transaction. Nationality is not
 * even selected, so no later edit here can leak it into a reply by accident (R7). */
static int
store_staff_object(Store *s, const char *matching_id, json_object **ret)
{
	_cleanup_(store_json_putp) json_object *o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	int r, rc;
	{
		STMT(s, ST_STAFF_JSON);
		if ((r = store_bind_text(st, 1, matching_id)) < 0)
			return r;
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			return -ENOENT;
		if (rc != SQLITE_ROW)
			return store_fail(s->db, rc, "staff json");
		if ((r = store_json_add_text(o, "matching_id", st, 0)) < 0 ||
		    (r = store_json_add_text(o, "name", st, 1)) < 0 ||
		    (r = store_json_add_text(o, "affiliation", st, 2)) < 0 ||
		    (r = store_json_add_text(o, "expertise", st, 3)) < 0 ||
		    (r = store_json_add_text(o, "track_record", st, 4)) < 0 ||
		    (r = store_json_add_text(o, "unix_user", st, 5)) < 0 ||
		    (r = store_json_add_text(o, "state", st, 6)) < 0 ||
		    (r = store_json_add_int(o, "created_at", sqlite3_column_int64(st, 7))) < 0 ||
		    (r = store_json_add_date(o, "pledge_date", st, 8)) < 0 ||
		    (r = store_json_add_date(o, "training_date", st, 9)) < 0)
			return r;
	}
	{
		json_object *fingers = json_object_new_array();
		if ((r = store_json_add(o, "fingers", fingers, false)) < 0)
			return r;
		STMT(s, ST_STAFF_FINGER_NAMES);
		if ((r = store_bind_text(st, 1, matching_id)) < 0)
			return r;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *f = (const char *)sqlite3_column_text(st, 0);
			if (!f || (r = store_array_add(fingers, json_object_new_string(f))) < 0)
				return -ENOMEM;
		}
		if (rc != SQLITE_DONE)
			return store_fail(s->db, rc, "staff fingers");
	}
	json_object *ops = NULL;
	if ((r = store_operators_array(s, matching_id, &ops)) < 0 ||
	    (r = store_json_add(o, "operators", ops, false)) < 0)
		return r;
	*ret = o;
	o = NULL;
	return 0;
}

int
store_staff_json(Store *s, const char *matching_id, json_object **ret)
{
	if (!s || !ret || !wire_valid_id(matching_id))
		return -EINVAL;
	/* One read transaction: the row, its fingers and its operators come from one
	 * snapshot. */
	int r = store_begin(s, false);
	if (r < 0)
		return r;
	json_object *o = NULL;
	r = store_end(s, store_staff_object(s, matching_id, &o));
	if (r < 0) {
		json_object_put(o);
		return r;
	}
	*ret = o;
	return 0;
}

static int
store_staff_list_txn(Store *s, json_object *a)
{
	/* The IDs are collected first: a statement cannot be reused while it is stepping,
	 * and store_staff_object uses other statements in the same connection. */
	_cleanup_(store_json_putp) json_object *ids = json_object_new_array();
	if (!ids)
		return -ENOMEM;
	int r, rc;
	{
		STMT(s, ST_STAFF_LIST_IDS);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *id = (const char *)sqlite3_column_text(st, 0);
			if (!id || (r = store_array_add(ids, json_object_new_string(id))) < 0)
				return -ENOMEM;
		}
		if (rc != SQLITE_DONE)
			return store_fail(s->db, rc, "staff list");
	}
	size_t n = json_object_array_length(ids);
	for (size_t i = 0; i < n; i++) {
		json_object *o = NULL;
		const char *id = json_object_get_string(json_object_array_get_idx(ids, i));
		if ((r = store_staff_object(s, id, &o)) < 0 || (r = store_array_add(a, o)) < 0)
			return r;
	}
	return 0;
}

int
store_staff_list_json(Store *s, json_object **ret)
{
	if (!s || !ret)
		return -EINVAL;
	json_object *a = json_object_new_array();
	if (!a)
		return -ENOMEM;
	int r = store_begin(s, false);
	if (r >= 0)
		r = store_end(s, store_staff_list_txn(s, a));
	if (r < 0) {
		json_object_put(a);
		return r;
	}
	*ret = a;
	return 0;
}

static int
store_count(Store *s, StoreStmt id, int64_t *ret)
{
	if (!s || !ret)
		return -EINVAL;
	STMT(s, id);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		return store_fail(s->db, rc, "count");
	*ret = sqlite3_column_int64(st, 0);
	return 0;
}

int
store_staff_count(Store *s, int64_t *ret)
{
	return store_count(s, ST_STAFF_COUNT, ret);
}

/* ---- operator IDs ---- */

/* -ENOENT when the person is unknown, -EPERM when revoked. */
static int
store_staff_require_active(Store *s, const char *matching_id)
{
	StoreStaff staff;
	int r = store_staff_by_id(s, matching_id, &staff);
	if (r < 0)
		return r;
	return staff.active ? 0 : -EPERM;
}

static int
store_operator_grant_txn(Store *s, const char *matching_id, const char *operator_id,
                         const char *role, int64_t now)
{
	int r = store_staff_require_active(s, matching_id);
	if (r < 0)
		return r;
	{
		STMT(s, ST_OPERATOR_OWNER);
		if ((r = store_bind_text(st, 1, operator_id)) < 0)
			return r;
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			/* Granting again exactly what is already granted is a no-op; any other
			 * reuse of an operator ID (other person, other role, revoked) is refused,
			 * since an operator ID names one person's work forever. */
			const char *owner = (const char *)sqlite3_column_text(st, 0);
			const char *have_role = (const char *)sqlite3_column_text(st, 1);
			const char *state = (const char *)sqlite3_column_text(st, 2);
			if (owner && have_role && state && strcmp(owner, matching_id) == 0 &&
			    strcmp(have_role, role) == 0 && strcmp(state, "active") == 0)
				return 0;
			return -EEXIST;
		}
		if (rc != SQLITE_DONE)
			return store_fail(s->db, rc, "operator grant");
	}
	STMT(s, ST_OPERATOR_INSERT);
	if ((r = store_bind_text(st, 1, operator_id)) < 0 ||
	    (r = store_bind_text(st, 2, matching_id)) < 0 ||
	    (r = store_bind_text(st, 3, role)) < 0 || (r = store_bind_int(st, 4, now)) < 0)
		return r;
	return store_step_done(s, st, "operator grant");
}

int
store_operator_grant(Store *s, const char *matching_id, const char *operator_id, const char *role,
                     int64_t now)
{
	if (!s || !wire_valid_id(matching_id) || !wire_valid_id(operator_id) ||
	    !wire_valid_id(role))
		return -EINVAL;
	int r = store_begin(s, true);
	if (r < 0)
		return r;
	return store_end(s, store_operator_grant_txn(s, matching_id, operator_id, role, now));
}

static int
store_operators_txn(Store *s, const char *matching_id, json_object **ret)
{
	StoreStaff staff;
	int r = store_staff_by_id(s, matching_id, &staff);
	if (r < 0)
		return r;
	return store_operators_array(s, matching_id, ret);
}

int
store_operators_json(Store *s, const char *matching_id, json_object **ret)
{
	if (!s || !ret || !wire_valid_id(matching_id))
		return -EINVAL;
	int r = store_begin(s, false);
	if (r < 0)
		return r;
	json_object *a = NULL;
	r = store_end(s, store_operators_txn(s, matching_id, &a));
	if (r < 0) {
		json_object_put(a);
		return r;
	}
	*ret = a;
	return 0;
}

int
store_operator_role(Store *s, const char *matching_id, const char *operator_id,
                    char ret_role[static WIRE_MAX_ID + 1])
{
	if (!s || !ret_role || !wire_valid_id(matching_id) || !wire_valid_id(operator_id))
		return -EINVAL;
	STMT(s, ST_OPERATOR_ROLE);
	int r;
	if ((r = store_bind_text(st, 1, operator_id)) < 0 ||
	    (r = store_bind_text(st, 2, matching_id)) < 0)
		return r;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return store_fail(s->db, rc, "operator role");
	char role[WIRE_MAX_ID + 1];
	if ((r = store_copy_id(st, 0, role)) < 0)
		return r;
	memcpy(ret_role, role, sizeof(role));
	return 0;
}

/* ---- templates ---- */

static int
store_finger_put_txn(Store *s, const char *matching_id, const char *finger, const uint8_t *blob,
                     size_t blob_len, int64_t now)
{
	int r = store_staff_require_active(s, matching_id);
	if (r < 0)
		return r;
	STMT(s, ST_FINGER_PUT);
	if ((r = store_bind_text(st, 1, matching_id)) < 0 ||
	    (r = store_bind_text(st, 2, finger)) < 0 || (r = store_bind_int(st, 4, now)) < 0)
		return r;
	if (sqlite3_bind_blob(st, 3, blob, (int)blob_len, SQLITE_STATIC) != SQLITE_OK)
		return -ENOMEM;
	return store_step_done(s, st, "finger put");
}

int
store_finger_put(Store *s, const char *matching_id, const char *finger, const uint8_t *blob,
                 size_t blob_len, int64_t now)
{
	if (!s || !wire_valid_id(matching_id) || !wire_valid_id(finger) || !blob || blob_len == 0 ||
	    blob_len > STORE_MAX_BLOB)
		return -EINVAL;
	int r = store_begin(s, true);
	if (r < 0)
		return r;
	return store_end(s, store_finger_put_txn(s, matching_id, finger, blob, blob_len, now));
}

void
store_fingers_free(StoreFinger *f, size_t n)
{
	if (!f)
		return;
	for (size_t i = 0; i < n; i++) {
		if (f[i].blob) {
			explicit_bzero(f[i].blob, f[i].blob_len);
			free(f[i].blob);
		}
	}
	explicit_bzero(f, n * sizeof(*f));
	free(f);
}

static int
store_fingers_txn(Store *s, const char *matching_id, StoreFinger **ret, size_t *ret_n)
{
	StoreStaff staff;
	int r = store_staff_by_id(s, matching_id, &staff);
	if (r < 0)
		return r;

	STMT(s, ST_FINGERS_GET);
	if ((r = store_bind_text(st, 1, matching_id)) < 0)
		return r;
	StoreFinger *v = NULL;
	size_t n = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		StoreFinger *nv = reallocarray(v, n + 1, sizeof(*v));
		if (!nv) {
			r = -ENOMEM;
			break;
		}
		v = nv;
		v[n] = (StoreFinger){ 0 };
		n++;
		if ((r = store_copy_id(st, 0, v[n - 1].finger)) < 0)
			break;
		const void *b = sqlite3_column_blob(st, 1);
		int len = sqlite3_column_bytes(st, 1);
		if (!b || len <= 0) {
			r = -EIO;
			break;
		}
		v[n - 1].blob = malloc((size_t)len);
		if (!v[n - 1].blob) {
			r = -ENOMEM;
			break;
		}
		memcpy(v[n - 1].blob, b, (size_t)len);
		v[n - 1].blob_len = (size_t)len;
	}
	if (r >= 0 && rc != SQLITE_DONE)
		r = store_fail(s->db, rc, "fingers get");
	if (r < 0) {
		store_fingers_free(v, n);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int
store_fingers_get(Store *s, const char *matching_id, StoreFinger **ret, size_t *ret_n)
{
	if (!s || !ret || !ret_n || !wire_valid_id(matching_id))
		return -EINVAL;
	int r = store_begin(s, false);
	if (r < 0)
		return r;
	StoreFinger *v = NULL;
	size_t n = 0;
	r = store_end(s, store_fingers_txn(s, matching_id, &v, &n));
	if (r < 0) {
		store_fingers_free(v, n);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* ---- sessions ---- */

static int
store_session_open_inner(Store *s, const StoreSessionIn *in, int64_t *ret_id)
{
	if (!s || !in || !ret_id || !wire_valid_id(in->matching_id) ||
	    !wire_valid_id(in->operator_id) || in->leader_pid <= 0 || !store_valid_short(in->tty) ||
	    !store_valid_short(in->service) || !store_valid_short(in->logind_session))
		return -EINVAL;
	STMT(s, ST_SESSION_INSERT);
	int r;
	if ((r = store_bind_text(st, 1, in->matching_id)) < 0 ||
	    (r = store_bind_text(st, 2, in->operator_id)) < 0 ||
	    (r = store_bind_int(st, 3, (int64_t)in->uid)) < 0 ||
	    (r = store_bind_int(st, 4, (int64_t)in->leader_pid)) < 0 ||
	    (r = store_bind_text(st, 5, in->tty)) < 0 ||
	    (r = store_bind_text(st, 6, in->service)) < 0 ||
	    (r = store_bind_text(st, 7, in->logind_session)) < 0 ||
	    (r = store_bind_int(st, 8, in->opened_at)) < 0)
		return r;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return -ENOENT; /* no active operator ID of an active person by those names */
	if (rc != SQLITE_ROW)
		return store_fail(s->db, rc, "session open");
	int64_t id = sqlite3_column_int64(st, 0);
	/* Finish the statement: with RETURNING, the row is only final once stepped to DONE. */
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		return store_fail(s->db, rc, "session open");
	*ret_id = id;
	return 0;
}

int
store_session_get(Store *s, int64_t id, StoreSession *ret)
{
	if (!s || !ret || id <= 0)
		return -EINVAL;
	STMT(s, ST_SESSION_GET);
	int r = store_bind_int(st, 1, id);
	if (r < 0)
		return r;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return store_fail(s->db, rc, "session get");
	StoreSession out = { 0 };
	out.id = sqlite3_column_int64(st, 0);
	if ((r = store_copy_id(st, 1, out.matching_id)) < 0 ||
	    (r = store_copy_id(st, 2, out.operator_id)) < 0)
		return r;
	out.uid = (uid_t)sqlite3_column_int64(st, 3);
	out.leader_pid = (pid_t)sqlite3_column_int64(st, 4);
	out.open = sqlite3_column_int(st, 5) != 0;
	*ret = out;
	return 0;
}

static int
store_session_close_txn(Store *s, int64_t id, const char *reason, int64_t now)
{
	int r;
	{
		STMT(s, ST_SESSION_CLOSE);
		if ((r = store_bind_int(st, 1, id)) < 0 || (r = store_bind_int(st, 2, now)) < 0 ||
		    (r = store_bind_text(st, 3, reason)) < 0)
			return r;
		if ((r = store_step_done(s, st, "session close")) < 0)
			return r;
		if (sqlite3_changes(s->db) > 0)
			return 0;
	}
	/* Nothing updated: tell "no such session" from "already closed". */
	StoreSession cur;
	r = store_session_get(s, id, &cur);
	return r < 0 ? r : -EALREADY;
}

static int
store_session_close_inner(Store *s, int64_t id, const char *reason, int64_t now)
{
	if (!s || id <= 0 || !reason || !store_valid_short(reason))
		return -EINVAL;
	int r = store_begin(s, true);
	if (r < 0)
		return r;
	return store_end(s, store_session_close_txn(s, id, reason, now));
}

static int
store_sessions_txn(Store *s, json_object *a)
{
	STMT(s, ST_SESSIONS_OPEN);
	int r, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_object *o = json_object_new_object();
		if ((r = store_array_add(a, o)) < 0 ||
		    (r = store_json_add_int(o, "session_id", sqlite3_column_int64(st, 0))) < 0 ||
		    (r = store_json_add_text(o, "matching_id", st, 1)) < 0 ||
		    (r = store_json_add_text(o, "operator_id", st, 2)) < 0 ||
		    (r = store_json_add_int(o, "uid", sqlite3_column_int64(st, 3))) < 0 ||
		    (r = store_json_add_int(o, "pid", sqlite3_column_int64(st, 4))) < 0 ||
		    (r = store_json_add_text(o, "tty", st, 5)) < 0 ||
		    (r = store_json_add_text(o, "service", st, 6)) < 0 ||
		    (r = store_json_add_text(o, "logind_session", st, 7)) < 0 ||
		    (r = store_json_add_int(o, "opened_at", sqlite3_column_int64(st, 8))) < 0)
			return r;
	}
	if (rc != SQLITE_DONE)
		return store_fail(s->db, rc, "sessions");
	return 0;
}

int
store_sessions_json(Store *s, json_object **ret)
{
	if (!s || !ret)
		return -EINVAL;
	json_object *a = json_object_new_array();
	if (!a)
		return -ENOMEM;
	int r = store_sessions_txn(s, a);
	if (r < 0) {
		json_object_put(a);
		return r;
	}
	*ret = a;
	return 0;
}

int
store_sessions_open_count(Store *s, int64_t *ret)
{
	return store_count(s, ST_SESSIONS_OPEN_COUNT, ret);
}

static int
store_sessions_close_all_inner(Store *s, const char *reason, int64_t now)
{
	if (!s || !reason || !store_valid_short(reason))
		return -EINVAL;
	/* One UPDATE is one implicit transaction: every open session closes, or none. */
	STMT(s, ST_SESSIONS_CLOSE_ALL);
	int r;
	if ((r = store_bind_int(st, 1, now)) < 0 || (r = store_bind_text(st, 2, reason)) < 0)
		return r;
	return store_step_done(s, st, "sessions close all");
}

/*
 * Session rows are live state, not records: every open session is closed when the daemon
 * starts, and the durable account of who logged in when belongs to the audit trail. Their
 * commits therefore skip the flush (synchronous=NORMAL; WAL keeps the database consistent
 * either way), which keeps two disk flushes off every login. Roster, operator and template
 * changes stay synchronous=FULL.
 */
static int
store_volatile(Store *s, bool on)
{
	return store_exec(s, on ? ST_SYNC_NORMAL : ST_SYNC_FULL, "synchronous");
}

int
store_session_open(Store *s, const StoreSessionIn *in, int64_t *ret_id)
{
	if (!s)
		return -EINVAL;
	int r = store_volatile(s, true);
	if (r < 0)
		return r;
	r = store_session_open_inner(s, in, ret_id);
	int k = store_volatile(s, false);
	return r < 0 ? r : k;
}

int
store_session_close(Store *s, int64_t id, const char *reason, int64_t now)
{
	if (!s)
		return -EINVAL;
	int r = store_volatile(s, true);
	if (r < 0)
		return r;
	r = store_session_close_inner(s, id, reason, now);
	int k = store_volatile(s, false);
	return r < 0 ? r : k;
}

int
store_sessions_close_all(Store *s, const char *reason, int64_t now)
{
	if (!s)
		return -EINVAL;
	int r = store_volatile(s, true);
	if (r < 0)
		return r;
	r = store_sessions_close_all_inner(s, reason, now);
	int k = store_volatile(s, false);
	return r < 0 ? r : k;
}

/* --- staff edits, login gates, failed matches, schedule (schema v2) --------------------- */

static bool
store_valid_date(int32_t d)
{
	int y = d / 10000, m = d / 100 % 100, day = d % 100;
	return y >= 1900 && y <= 9999 && m >= 1 && m <= 12 && day >= 1 && day <= 31;
}

int
store_staff_edit(Store *s, const char *matching_id, const StoreStaffEdit *e, int64_t now)
{
	if (!s || !e || !wire_valid_id(matching_id))
		return -EINVAL;
	if ((e->name && !store_valid_text(e->name, true)) ||
	    (e->affiliation && !store_valid_text(e->affiliation, true)) ||
	    (e->expertise && !store_valid_text(e->expertise, false)) ||
	    (e->track_record && !store_valid_text(e->track_record, false)) ||
	    (e->pledge_date && !store_valid_date(e->pledge_date)) ||
	    (e->training_date && !store_valid_date(e->training_date)))
		return -EINVAL;
	int r = store_begin(s, true);
	if (r < 0)
		return r;
	if ((r = store_set_actor(s, e->actor)) < 0)
		return store_end(s, r);
	{
		STMT(s, ST_STAFF_EDIT);
		if ((r = store_bind_text(st, 1, matching_id)) < 0 ||
		    (r = store_bind_text(st, 2, e->name)) < 0 ||
		    (r = store_bind_text(st, 3, e->affiliation)) < 0 ||
		    (r = store_bind_text(st, 4, e->expertise)) < 0 ||
		    (r = store_bind_text(st, 5, e->track_record)) < 0 ||
		    (r = e->pledge_date ? store_bind_int(st, 6, e->pledge_date) : 0) < 0 ||
		    (r = e->training_date ? store_bind_int(st, 7, e->training_date) : 0) < 0 ||
		    (r = store_bind_int(st, 8, now)) < 0)
			return store_end(s, r);
		r = store_step_done(s, st, "staff edit");
		if (r >= 0 && sqlite3_changes(s->db) == 0) {
			StoreStaff cur;
			r = store_staff_by_id(s, matching_id, &cur);
			r = r < 0 ? r : -EPERM; /* revoked: a departed person's entry is frozen */
		}
	}
	return store_end(s, r);
}

int
store_staff_gates(Store *s, const char *matching_id, int32_t *ret_pledge, int32_t *ret_training)
{
	if (!s || !ret_pledge || !ret_training)
		return -EINVAL;
	STMT(s, ST_STAFF_GATES);
	int r = store_bind_text(st, 1, matching_id);
	if (r < 0)
		return r;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return store_fail(s->db, rc, "staff gates");
	*ret_pledge = (int32_t)sqlite3_column_int64(st, 0);
	*ret_training = (int32_t)sqlite3_column_int64(st, 1);
	return 0;
}

int
store_session_open_for(Store *s, const char *matching_id, int64_t *ret_id)
{
	if (!s || !ret_id)
		return -EINVAL;
	STMT(s, ST_SESSION_OPEN_FOR);
	int r = store_bind_text(st, 1, matching_id);
	if (r < 0)
		return r;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return store_fail(s->db, rc, "session open for");
	*ret_id = sqlite3_column_int64(st, 0);
	return 0;
}

int
store_failure_add(Store *s, const char *matching_id, int64_t at_usec)
{
	if (!s || !wire_valid_id(matching_id))
		return -EINVAL;
	STMT(s, ST_FAILURE_ADD);
	int r;
	if ((r = store_bind_text(st, 1, matching_id)) < 0 ||
	    (r = store_bind_int(st, 2, at_usec)) < 0)
		return r;
	return store_step_done(s, st, "failure add");
}

int
store_failures_get(Store *s, const char *matching_id, int64_t since_usec, int64_t *ret, size_t max,
                   size_t *ret_n)
{
	if (!s || !ret || !ret_n || max == 0 || max > INT32_MAX)
		return -EINVAL;
	STMT(s, ST_FAILURES_GET);
	int r;
	if ((r = store_bind_text(st, 1, matching_id)) < 0 ||
	    (r = store_bind_int(st, 2, since_usec)) < 0 ||
	    (r = store_bind_int(st, 3, (int64_t)max)) < 0)
		return r;
	size_t n = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < max)
		ret[n++] = sqlite3_column_int64(st, 0);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_fail(s->db, rc, "failures get");
	*ret_n = n;
	return 0;
}

int
store_failures_clear(Store *s, const char *matching_id)
{
	if (!s || !wire_valid_id(matching_id))
		return -EINVAL;
	STMT(s, ST_FAILURES_CLEAR);
	int r = store_bind_text(st, 1, matching_id);
	if (r < 0)
		return r;
	return store_step_done(s, st, "failures clear");
}

int
store_failures_prune(Store *s, int64_t before_usec)
{
	if (!s)
		return -EINVAL;
	STMT(s, ST_FAILURES_PRUNE);
	int r = store_bind_int(st, 1, before_usec);
	if (r < 0)
		return r;
	return store_step_done(s, st, "failures prune");
}

static int
store_schedule_replace_txn(Store *s, int64_t from_usec, int64_t to_usec, const StoreShift *shifts,
                           size_t n, int64_t now)
{
	int r;
	{
		STMT(s, ST_SHIFTS_DELETE_RANGE);
		if ((r = store_bind_int(st, 1, from_usec)) < 0 ||
		    (r = store_bind_int(st, 2, to_usec)) < 0 ||
		    (r = store_step_done(s, st, "shifts delete")) < 0)
			return r;
	}
	for (size_t i = 0; i < n; i++) {
		STMT(s, ST_SHIFT_INSERT);
		if ((r = store_bind_text(st, 1, shifts[i].matching_id)) < 0 ||
		    (r = store_bind_int(st, 2, shifts[i].start_usec)) < 0 ||
		    (r = store_bind_int(st, 3, shifts[i].end_usec)) < 0 ||
		    (r = store_bind_int(st, 4, now)) < 0 ||
		    (r = store_step_done(s, st, "shift insert")) < 0)
			return r;
		if (sqlite3_changes(s->db) == 0)
			return -ENOENT; /* a matching ID that is not on the roster */
	}
	return 0;
}

int
store_schedule_replace(Store *s, int64_t from_usec, int64_t to_usec, const StoreShift *shifts,
                       size_t n, int64_t now)
{
	if (!s || (n && !shifts) || to_usec <= from_usec)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!wire_valid_id(shifts[i].matching_id) ||
		    shifts[i].end_usec <= shifts[i].start_usec ||
		    shifts[i].start_usec < from_usec || shifts[i].start_usec >= to_usec)
			return -EINVAL;
	int r = store_begin(s, true);
	if (r < 0)
		return r;
	return store_end(s, store_schedule_replace_txn(s, from_usec, to_usec, shifts, n, now));
}

int
store_shift_at(Store *s, const char *matching_id, int64_t at_usec, StoreShift *ret)
{
	if (!s || !ret)
		return -EINVAL;
	STMT(s, ST_SHIFT_AT);
	int r;
	if ((r = store_bind_text(st, 1, matching_id)) < 0 ||
	    (r = store_bind_int(st, 2, at_usec)) < 0)
		return r;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return store_fail(s->db, rc, "shift at");
	*ret = (StoreShift){ .start_usec = sqlite3_column_int64(st, 0),
		             .end_usec = sqlite3_column_int64(st, 1) };
	return 0;
}

int
store_schedule_json(Store *s, const char *matching_id, int64_t from_usec, int64_t to_usec,
                    json_object **ret)
{
	if (!s || !ret)
		return -EINVAL;
	_cleanup_(store_json_putp) json_object *a = json_object_new_array();
	if (!a)
		return -ENOMEM;
	STMT(s, ST_SHIFTS_RANGE);
	int r;
	if ((r = store_bind_text(st, 1, matching_id)) < 0 ||
	    (r = store_bind_int(st, 2, from_usec)) < 0 ||
	    (r = store_bind_int(st, 3, to_usec > 0 ? to_usec : INT64_MAX)) < 0)
		return r;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_object *o = json_object_new_object();
		if ((r = store_array_add(a, o)) < 0 ||
		    (r = store_json_add_text(o, "matching_id", st, 0)) < 0 ||
		    (r = store_json_add_int(o, "start", sqlite3_column_int64(st, 1))) < 0 ||
		    (r = store_json_add_int(o, "end", sqlite3_column_int64(st, 2))) < 0)
			return r;
	}
	if (rc != SQLITE_DONE)
		return store_fail(s->db, rc, "schedule");
	*ret = a;
	a = NULL;
	return 0;
}

/* --- revocation, nationality, roster history, disposal (schema v3) ---------------------- */

/* After an erasure: fold the WAL into the database and truncate it, so that no earlier
 * version of an erased page survives in the -wal file (secure_delete already zeroed the
 * freed content in the pages themselves). */
static int
store_checkpoint_truncate(Store *s)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, "PRAGMA wal_checkpoint(TRUNCATE)", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_fail(s->db, rc, "checkpoint");
	rc = sqlite3_step(st);
	int busy = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 1;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return store_fail(s->db, rc, "checkpoint");
	return busy ? -EBUSY : 0;
}

static int
store_revoke_txn(Store *s, const char *matching_id, const char *actor, int64_t now,
                 int *ret_fingers)
{
	int r = store_set_actor(s, actor);
	if (r < 0)
		return r;
	{
		STMT(s, ST_REVOKE_STAFF);
		if ((r = store_bind_text(st, 1, matching_id)) < 0 ||
		    (r = store_bind_int(st, 2, now)) < 0 ||
		    (r = store_step_done(s, st, "revoke staff")) < 0)
			return r;
		if (sqlite3_changes(s->db) == 0) {
			StoreStaff cur;
			r = store_staff_by_id(s, matching_id, &cur);
			return r < 0 ? r : -EALREADY;
		}
	}
	{
		STMT(s, ST_REVOKE_OPERATORS);
		if ((r = store_bind_text(st, 1, matching_id)) < 0 ||
		    (r = store_step_done(s, st, "revoke operators")) < 0)
			return r;
	}
	{
		STMT(s, ST_FINGERS_DELETE);
		if ((r = store_bind_text(st, 1, matching_id)) < 0 ||
		    (r = store_step_done(s, st, "erase fingers")) < 0)
			return r;
		*ret_fingers = sqlite3_changes(s->db);
	}
	{
		STMT(s, ST_FAILURES_CLEAR);
		if ((r = store_bind_text(st, 1, matching_id)) < 0 ||
		    (r = store_step_done(s, st, "failures clear")) < 0)
			return r;
	}
	return 0;
}

int
store_revoke(Store *s, const char *matching_id, const char *actor, int64_t now,
             int *ret_fingers_erased)
{
	if (!s || !wire_valid_id(matching_id) || !ret_fingers_erased)
		return -EINVAL;
	int n = 0;
	int r = store_begin(s, true);
	if (r < 0)
		return r;
	r = store_end(s, store_revoke_txn(s, matching_id, actor, now, &n));
	if (r < 0)
		return r;
	*ret_fingers_erased = n;
	/* Committed: the revocation stands whatever the checkpoint says. */
	r = store_checkpoint_truncate(s);
	return r < 0 && r != -EBUSY ? -ECANCELED : r;
}

int
store_nationality(Store *s, const char *matching_id, char *ret, size_t size)
{
	if (!s || !ret || size == 0)
		return -EINVAL;
	STMT(s, ST_NATIONALITY);
	int r = store_bind_text(st, 1, matching_id);
	if (r < 0)
		return r;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return store_fail(s->db, rc, "nationality");
	const char *v = (const char *)sqlite3_column_text(st, 0);
	if ((size_t)snprintf(ret, size, "%s", v ? v : "") >= size)
		return -ENOBUFS;
	return 0;
}

int
store_staff_history_json(Store *s, const char *matching_id, json_object **ret)
{
	if (!s || !ret)
		return -EINVAL;
	_cleanup_(store_json_putp) json_object *a = json_object_new_array();
	if (!a)
		return -ENOMEM;
	STMT(s, ST_HISTORY);
	int r = store_bind_text(st, 1, matching_id);
	if (r < 0)
		return r;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_object *o = json_object_new_object();
		if ((r = store_array_add(a, o)) < 0 ||
		    (r = store_json_add_int(o, "at", sqlite3_column_int64(st, 0))) < 0 ||
		    (r = store_json_add_text(o, "actor", st, 1)) < 0 ||
		    (r = store_json_add_text(o, "field", st, 2)) < 0 ||
		    (r = store_json_add_text(o, "old", st, 3)) < 0 ||
		    (r = store_json_add_text(o, "new", st, 4)) < 0)
			return r;
	}
	if (rc != SQLITE_DONE)
		return store_fail(s->db, rc, "history");
	*ret = a;
	a = NULL;
	return 0;
}

int
store_disposal_plan(Store *s, const StoreDisposalIn *in, int64_t now, int64_t *ret_id)
{
	if (!s || !in || !ret_id || !store_valid_text(in->items, true) ||
	    !store_valid_text(in->media, true) || !store_valid_text(in->method, true) ||
	    !store_valid_text(in->actor, true) || in->count < 0 ||
	    !store_valid_date(in->planned_date))
		return -EINVAL;
	STMT(s, ST_DISPOSAL_INSERT);
	int r;
	if ((r = store_bind_text(st, 1, in->items)) < 0 ||
	    (r = store_bind_text(st, 2, in->media)) < 0 ||
	    (r = store_bind_int(st, 3, in->count)) < 0 ||
	    (r = store_bind_text(st, 4, in->method)) < 0 ||
	    (r = store_bind_int(st, 5, in->planned_date)) < 0 ||
	    (r = store_bind_text(st, 6, in->actor)) < 0 || (r = store_bind_int(st, 7, now)) < 0)
		return r;
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		return store_fail(s->db, rc, "disposal plan");
	int64_t id = sqlite3_column_int64(st, 0);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		return store_fail(s->db, rc, "disposal plan");
	*ret_id = id;
	return 0;
}

int
store_disposal_json(Store *s, int64_t id, json_object **ret)
{
	if (!s || !ret)
		return -EINVAL;
	_cleanup_(store_json_putp) json_object *o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	STMT(s, ST_DISPOSAL_GET);
	int r = store_bind_int(st, 1, id);
	if (r < 0)
		return r;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return store_fail(s->db, rc, "disposal");
	static const char *const keys[] = { "disposal_id",  "state",       "items",
		                            "media",        "count",       "method",
		                            "planned_date", "planned_by",  "planned_at",
		                            "approved_by",  "approved_at", "executed_by",
		                            "executed_at",  "result" };
	for (int i = 0; i < 14; i++) {
		if (i == 6) {
			r = store_json_add_date(o, keys[i], st, i);
		} else if (sqlite3_column_type(st, i) == SQLITE_INTEGER) {
			r = store_json_add_int(o, keys[i], sqlite3_column_int64(st, i));
		} else if (i == 13 && sqlite3_column_type(st, i) == SQLITE_TEXT) {
			json_object *res =
			    json_tokener_parse((const char *)sqlite3_column_text(st, i));
			r = store_json_add(o, keys[i], res, true);
		} else {
			r = store_json_add_text(o, keys[i], st, i);
		}
		if (r < 0)
			return r;
	}
	*ret = o;
	o = NULL;
	return 0;
}

int
store_disposal_approve(Store *s, int64_t id, const char *actor, int64_t now)
{
	if (!s || !store_valid_text(actor, true))
		return -EINVAL;
	STMT(s, ST_DISPOSAL_APPROVE);
	int r;
	if ((r = store_bind_int(st, 1, id)) < 0 || (r = store_bind_text(st, 2, actor)) < 0 ||
	    (r = store_bind_int(st, 3, now)) < 0 || (r = store_step_done(s, st, "approve")) < 0)
		return r;
	return sqlite3_changes(s->db) == 1 ? 0 : -EALREADY;
}

static int
store_disposal_execute_txn(Store *s, int64_t id, const char *actor, int64_t now,
                           json_object *result)
{
	int r = store_set_actor(s, actor);
	if (r < 0)
		return r;
	static const struct {
		StoreStmt stmt;
		const char *what;
	} steps[] = {
		{ ST_ERASE_FINGERS, "templates" },       { ST_ERASE_STAFF, "roster" },
		{ ST_ERASE_HISTORY, "roster history" },  { ST_ERASE_SHIFTS, "schedule" },
		{ ST_ERASE_FAILURES, "failed matches" },
	};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		STMT(s, steps[i].stmt);
		if (steps[i].stmt == ST_ERASE_STAFF && (r = store_bind_int(st, 1, now)) < 0)
			return r;
		if ((r = store_step_done(s, st, steps[i].what)) < 0)
			return r;
		json_object_object_add(result, steps[i].what,
		                       json_object_new_int64(sqlite3_changes(s->db)));
	}
	/* The history the roster update just wrote holds the old names: erase it too. */
	{
		STMT(s, ST_ERASE_HISTORY);
		if ((r = store_step_done(s, st, "roster history")) < 0)
			return r;
	}
	STMT(s, ST_DISPOSAL_EXECUTE);
	if ((r = store_bind_int(st, 1, id)) < 0 || (r = store_bind_text(st, 2, actor)) < 0 ||
	    (r = store_bind_int(st, 3, now)) < 0 ||
	    (r = store_bind_text(
	         st, 4, json_object_to_json_string_ext(result, JSON_C_TO_STRING_PLAIN))) < 0 ||
	    (r = store_step_done(s, st, "disposal execute")) < 0)
		return r;
	return sqlite3_changes(s->db) == 1 ? 0 : -EALREADY;
}

int
store_disposal_execute(Store *s, int64_t id, const char *actor, int64_t now, int32_t today,
                       json_object **ret_result)
{
	if (!s || !store_valid_text(actor, true) || !ret_result)
		return -EINVAL;
	json_object *d = NULL;
	int r = store_disposal_json(s, id, &d);
	if (r < 0)
		return r;
	const char *state = json_object_get_string(json_object_object_get(d, "state"));
	const char *planned = json_object_get_string(json_object_object_get(d, "planned_date"));
	int32_t pd =
	    planned ? atoi(planned) * 10000 + atoi(planned + 5) * 100 + atoi(planned + 8) : 0;
	bool approved = state && strcmp(state, "approved") == 0;
	json_object_put(d);
	if (!approved)
		return -EPERM;
	if (today < pd)
		return -EAGAIN;

	json_object *result = json_object_new_object();
	if (!result)
		return -ENOMEM;
	r = store_begin(s, true);
	if (r < 0) {
		json_object_put(result);
		return r;
	}
	r = store_end(s, store_disposal_execute_txn(s, id, actor, now, result));
	if (r >= 0) {
		/* Rewrite the file without its free pages, then drop every old page version. */
		r = store_pragma(s, "VACUUM");
		if (r >= 0)
			r = store_checkpoint_truncate(s);
	}
	if (r < 0) {
		json_object_put(result);
		return r;
	}
	*ret_result = result;
	return 0;
}

/* --- the anchor (schema v4, see anchor.c) ------------------------------------------------ */

bool
store_was_created(const Store *s)
{
	return s && s->created;
}

int
store_anchor_get(Store *s, StoreAnchor *ret)
{
	if (!s || !ret)
		return -EINVAL;
	STMT(s, ST_ANCHOR_GET);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		/* The row is written with the schema: without it the file was tampered with. */
		fprintf(stderr, "biogated: store: the anchor row is missing\n");
		return -EBADMSG;
	}
	if (rc != SQLITE_ROW)
		return store_fail(s->db, rc, "anchor");
	StoreAnchor a = {
		.generation = sqlite3_column_int64(st, 0),
		.audit_seq = sqlite3_column_int64(st, 1),
	};
	if (sqlite3_column_bytes(st, 2) == STORE_ANCHOR_MAC_LEN) {
		memcpy(a.audit_mac, sqlite3_column_blob(st, 2), STORE_ANCHOR_MAC_LEN);
		a.has_audit_mac = true;
	}
	if (sqlite3_column_bytes(st, 3) == STORE_ANCHOR_MAC_LEN) {
		memcpy(a.template_key_id, sqlite3_column_blob(st, 3), STORE_ANCHOR_MAC_LEN);
		a.has_template_key_id = true;
	}
	*ret = a;
	return 0;
}

int
store_generation(Store *s, int64_t *ret)
{
	StoreAnchor a;
	int r = store_anchor_get(s, &a);
	if (r >= 0 && ret)
		*ret = a.generation;
	return r;
}

/*
 * Called after every audit commit: one small write without a flush (synchronous=NORMAL, as
 * for sessions). A process crash keeps it (the page cache holds it); a power cut may take it
 * back to an earlier record, which anchor.c accepts (the anchor may lag the trail, never
 * lead it). The next flushed store commit or checkpoint makes it durable on the way.
 */
int
store_anchor_set_audit(Store *s, int64_t seq, const uint8_t *mac)
{
	if (!s || seq < 0)
		return -EINVAL;
	int r = store_volatile(s, true);
	if (r < 0)
		return r;
	{
		STMT(s, ST_ANCHOR_SET_AUDIT);
		r = store_bind_int(st, 1, seq);
		if (r >= 0 &&
		    (mac ? sqlite3_bind_blob(st, 2, mac, STORE_ANCHOR_MAC_LEN, SQLITE_STATIC)
		         : sqlite3_bind_null(st, 2)) != SQLITE_OK)
			r = -ENOMEM;
		if (r >= 0)
			r = store_step_done(s, st, "anchor");
	}
	int k = store_volatile(s, false);
	return r < 0 ? r : k;
}

int
store_anchor_set_key_id(Store *s, const uint8_t id[static STORE_ANCHOR_MAC_LEN])
{
	if (!s || !id)
		return -EINVAL;
	STMT(s, ST_ANCHOR_SET_KEY_ID);
	if (sqlite3_bind_blob(st, 1, id, STORE_ANCHOR_MAC_LEN, SQLITE_STATIC) != SQLITE_OK)
		return -ENOMEM;
	return store_step_done(s, st, "anchor");
}

int
store_checkpoint(Store *s)
{
	return s ? store_checkpoint_truncate(s) : -EINVAL;
}

/* --- administration (issue 13) --------------------------------------------------------------
 * Rare requests of an administrator: their statements are prepared on use rather than kept
 * in the table above. */

static void
store_finalizep(sqlite3_stmt **st)
{
	sqlite3_finalize(*st);
}

#define ADHOC(s, sql, what)                                                                        \
	_cleanup_(store_finalizep) sqlite3_stmt *st = NULL;                                        \
	do {                                                                                       \
		int rc_ = sqlite3_prepare_v2((s)->db, sql, -1, &st, NULL);                         \
		if (rc_ != SQLITE_OK)                                                              \
			return store_fail((s)->db, rc_, what);                                     \
	} while (0)

/* The person's state and the operator ID's: -ENOENT, -EPERM (person revoked), -ESRCH (no
 * such operator ID of theirs), -EALREADY (operator ID revoked), or 0 with its role. */
static int
store_operator_check(Store *s, const char *mid, const char *oid,
                     char ret_role[static WIRE_MAX_ID + 1])
{
	ADHOC(s,
	      "SELECT s.state, o.state, o.role FROM staff s LEFT JOIN operators o "
	      "ON o.matching_id = s.matching_id AND o.operator_id = ?2 WHERE s.matching_id = ?1",
	      "operator check");
	int r;
	if ((r = store_bind_text(st, 1, mid)) < 0 || (r = store_bind_text(st, 2, oid)) < 0)
		return r;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return store_fail(s->db, rc, "operator check");
	const char *ps = (const char *)sqlite3_column_text(st, 0);
	const char *os = (const char *)sqlite3_column_text(st, 1);
	if (!ps || strcmp(ps, "active") != 0)
		return -EPERM;
	if (!os)
		return -ESRCH;
	if (strcmp(os, "active") != 0)
		return -EALREADY;
	return store_copy_id(st, 2, ret_role);
}

static int
store_operator_update(Store *s, const char *mid, const char *oid, const char *role,
                      char ret_old[static WIRE_MAX_ID + 1])
{
	int r = store_operator_check(s, mid, oid, ret_old);
	if (r < 0)
		return r;
	ADHOC(s,
	      role ? "UPDATE operators SET role = ?3 WHERE matching_id = ?1 AND operator_id = ?2"
	           : "UPDATE operators SET state = 'revoked' WHERE matching_id = ?1 AND "
	             "operator_id = ?2",
	      "operator update");
	if ((r = store_bind_text(st, 1, mid)) < 0 || (r = store_bind_text(st, 2, oid)) < 0 ||
	    (role && (r = store_bind_text(st, 3, role)) < 0))
		return r;
	return store_step_done(s, st, "operator update");
}

int
store_operator_revoke(Store *s, const char *matching_id, const char *operator_id)
{
	if (!s || !wire_valid_id(matching_id) || !wire_valid_id(operator_id))
		return -EINVAL;
	char old[WIRE_MAX_ID + 1];
	int r = store_begin(s, true);
	if (r < 0)
		return r;
	return store_end(s, store_operator_update(s, matching_id, operator_id, NULL, old));
}

int
store_operator_set_role(Store *s, const char *matching_id, const char *operator_id,
                        const char *role, char ret_old_role[static WIRE_MAX_ID + 1])
{
	if (!s || !wire_valid_id(matching_id) || !wire_valid_id(operator_id) ||
	    !wire_valid_id(role))
		return -EINVAL;
	char old[WIRE_MAX_ID + 1];
	int r = store_begin(s, true);
	if (r < 0)
		return r;
	r = store_end(s, store_operator_update(s, matching_id, operator_id, role, old));
	if (r >= 0)
		memcpy(ret_old_role, old, sizeof(old));
	return r;
}

int
store_finger_exists(Store *s, const char *matching_id, const char *finger)
{
	if (!s || !wire_valid_id(matching_id) || !finger)
		return -EINVAL;
	ADHOC(s, "SELECT 1 FROM fingers WHERE matching_id = ?1 AND finger = ?2", "finger exists");
	int r;
	if ((r = store_bind_text(st, 1, matching_id)) < 0 ||
	    (r = store_bind_text(st, 2, finger)) < 0)
		return r;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : store_fail(s->db, rc, "finger exists");
}

static int
store_finger_delete_txn(Store *s, const char *mid, const char *finger, bool allow_last)
{
	StoreStaff cur;
	int r = store_staff_by_id(s, mid, &cur);
	if (r < 0)
		return r;
	if (!cur.active)
		return -EPERM;
	int64_t others = 0;
	{
		ADHOC(
		    s,
		    "SELECT count(*) FILTER (WHERE finger = ?2), count(*) FILTER (WHERE finger != "
		    "?2) FROM fingers WHERE matching_id = ?1",
		    "finger count");
		if ((r = store_bind_text(st, 1, mid)) < 0 ||
		    (r = store_bind_text(st, 2, finger)) < 0)
			return r;
		int rc = sqlite3_step(st);
		if (rc != SQLITE_ROW)
			return store_fail(s->db, rc, "finger count");
		if (sqlite3_column_int64(st, 0) == 0)
			return -ESRCH;
		others = sqlite3_column_int64(st, 1);
	}
	if (others == 0 && !allow_last)
		return -EMLINK;
	ADHOC(s, "DELETE FROM fingers WHERE matching_id = ?1 AND finger = ?2", "finger delete");
	if ((r = store_bind_text(st, 1, mid)) < 0 || (r = store_bind_text(st, 2, finger)) < 0)
		return r;
	return store_step_done(s, st, "finger delete");
}

int
store_finger_delete(Store *s, const char *matching_id, const char *finger, bool allow_last)
{
	if (!s || !wire_valid_id(matching_id) || !wire_valid_id(finger))
		return -EINVAL;
	int r = store_begin(s, true);
	if (r < 0)
		return r;
	r = store_end(s, store_finger_delete_txn(s, matching_id, finger, allow_last));
	if (r < 0)
		return r;
	/* Committed: the erasure stands whatever the checkpoint says (as store_revoke). */
	r = store_checkpoint_truncate(s);
	return r < 0 && r != -EBUSY ? -ECANCELED : r;
}

int
store_wal_truncate(Store *s)
{
	return s ? store_checkpoint_truncate(s) : -EINVAL;
}

/* One row of an import, inside the transaction: 1 added, 1 changed, 0 unchanged (the edit
 * changed no field: the history triggers wrote nothing). */
static int
store_import_row(Store *s, const StoreImportRow *row, const char *actor, int64_t now,
                 bool *ret_added, const char **ret_field)
{
	StoreStaffIn add = row->in;
	const StoreStaffIn *in = &add;
	add.actor = actor; /* store_staff_add_txn() sets the history's actor from it */
	StoreStaff cur;
	int r = store_staff_by_id(s, in->matching_id, &cur);
	if (r == -ENOENT) {
		const char *unix_user = in->unix_user ? in->unix_user : in->matching_id;
		/* A new person needs what staff add needs. */
		if (!store_valid_text(in->name, true))
			*ret_field = "name";
		else if (!store_valid_text(in->affiliation, true))
			*ret_field = "affiliation";
		else if (!store_valid_text(in->nationality, true))
			*ret_field = "nationality";
		else if (!wire_valid_id(unix_user))
			*ret_field = "unix_user";
		if (*ret_field)
			return -EINVAL;
		if ((r = store_staff_add_txn(s, in, unix_user, now)) < 0)
			return r;
		*ret_added = true;
		if (!row->pledge_date && !row->training_date)
			return 1;
	} else if (r < 0)
		return r;
	else if (!cur.active)
		return -EPERM;
	else if (in->unix_user && strcmp(in->unix_user, cur.unix_user) != 0)
		return -EXDEV;
	else
		*ret_added = false;

	int before = sqlite3_total_changes(s->db);
	STMT(s, ST_STAFF_EDIT);
	/* A new person's name and affiliation are already written: only the dates remain. */
	bool edit = !*ret_added;
	if ((r = store_bind_text(st, 1, in->matching_id)) < 0 ||
	    (r = store_bind_text(st, 2, edit ? in->name : NULL)) < 0 ||
	    (r = store_bind_text(st, 3, edit ? in->affiliation : NULL)) < 0 ||
	    (r = store_bind_text(st, 4, edit ? in->expertise : NULL)) < 0 ||
	    (r = store_bind_text(st, 5, edit ? in->track_record : NULL)) < 0 ||
	    (r = row->pledge_date ? store_bind_int(st, 6, row->pledge_date) : 0) < 0 ||
	    (r = row->training_date ? store_bind_int(st, 7, row->training_date) : 0) < 0 ||
	    (r = store_bind_int(st, 8, now)) < 0 || (r = store_step_done(s, st, "import edit")) < 0)
		return r;
	/* total_changes counts the rows the history triggers inserted: one per field that
	 * changed, on top of the UPDATE itself. */
	return *ret_added ? 1 : sqlite3_total_changes(s->db) - before > 1;
}

/* The first field of a row that no person could have, or NULL. */
static const char *
store_import_bad_field(const StoreImportRow *row)
{
	const StoreStaffIn *in = &row->in;
	if (!wire_valid_id(in->matching_id))
		return "matching_id";
	if (in->unix_user && !wire_valid_id(in->unix_user))
		return "unix_user";
	if (in->name && !store_valid_text(in->name, true))
		return "name";
	if (in->affiliation && !store_valid_text(in->affiliation, true))
		return "affiliation";
	if (!store_valid_text(in->expertise, false))
		return "expertise";
	if (!store_valid_text(in->track_record, false))
		return "track_record";
	if (in->nationality && !store_valid_text(in->nationality, true))
		return "nationality";
	if (row->pledge_date && !store_valid_date(row->pledge_date))
		return "pledge_date";
	if (row->training_date && !store_valid_date(row->training_date))
		return "training_date";
	return NULL;
}

static int
store_import_txn(Store *s, const StoreImportRow *rows, size_t n, const char *actor, int64_t now,
                 size_t *ret_added, size_t *ret_changed, size_t *ret_bad, const char **ret_field)
{
	int r = store_set_actor(s, actor);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		*ret_bad = i;
		if ((*ret_field = store_import_bad_field(&rows[i])))
			return -EINVAL;
		bool added = false;
		r = store_import_row(s, &rows[i], actor, now, &added, ret_field);
		if (r < 0)
			return r;
		if (added)
			(*ret_added)++;
		else if (r > 0)
			(*ret_changed)++;
	}
	return 0;
}

int
store_staff_import(Store *s, const StoreImportRow *rows, size_t n, const char *actor, int64_t now,
                   size_t *ret_added, size_t *ret_changed, size_t *ret_bad, const char **ret_field)
{
	if (!s || (!rows && n) || !ret_added || !ret_changed || !ret_bad || !ret_field)
		return -EINVAL;
	size_t added = 0, changed = 0, bad = 0;
	const char *field = NULL;
	int r = store_begin(s, true);
	if (r < 0)
		return r;
	r = store_end(s, store_import_txn(s, rows, n, actor, now, &added, &changed, &bad, &field));
	if (r < 0) {
		*ret_bad = bad;
		*ret_field = field;
		return r;
	}
	*ret_added = added;
	*ret_changed = changed;
	return 0;
}

int
store_failures_ids_json(Store *s, int64_t since_usec, json_object **ret)
{
	if (!s || !ret)
		return -EINVAL;
	_cleanup_(store_json_putp) json_object *a = json_object_new_array();
	if (!a)
		return -ENOMEM;
	ADHOC(s, "SELECT DISTINCT matching_id FROM failures WHERE at >= ?1 ORDER BY matching_id",
	      "failures ids");
	int r = store_bind_int(st, 1, since_usec);
	if (r < 0)
		return r;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((r = store_array_add(
		         a, json_object_new_string((const char *)sqlite3_column_text(st, 0)))) < 0)
			return r;
	if (rc != SQLITE_DONE)
		return store_fail(s->db, rc, "failures ids");
	*ret = a;
	a = NULL;
	return 0;
}
