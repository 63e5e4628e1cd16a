/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* asprintf, secure_getenv, explicit_bzero, reallocarray */
#endif
/*
 * Unit tests of daemon/store.c and daemon/secret.c on a real SQLite file in a private
 * temporary directory: schema migration, roster, operator IDs, templates, sessions, the
 * template key's file handling, sealing, and finally that no plaintext template or key byte
 * reaches the database files (R19). Runs under any umask; the process sets umask 0 so that
 * the 0600 checks test the code, not the environment.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <sqlite3.h>

#include "secret.h"
#include "store.h"

static int failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

#define CHECK_R(expr, want)                                                                        \
	do {                                                                                       \
		int _r = (expr);                                                                   \
		if (_r != (want)) {                                                                \
			fprintf(stderr, "%s:%d: %s = %d (%s), want %d\n", __FILE__, __LINE__,      \
			        #expr, _r, strerror(_r < 0 ? -_r : _r), (want));                   \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

/* Fatal: later checks would only crash or mislead. */
#define REQUIRE(cond)                                                                              \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond); \
			exit(EXIT_FAILURE);                                                        \
		}                                                                                  \
	} while (0)

static char tmpdir[] = "/tmp/biogate-test-store.XXXXXX";

static char *
path_in(const char *dir, const char *name)
{
	char *p = NULL;
	REQUIRE(asprintf(&p, "%s/%s", dir, name) > 0);
	return p;
}

static char *
make_dir(const char *name)
{
	char *p = path_in(tmpdir, name);
	REQUIRE(mkdir(p, 0700) == 0);
	return p;
}

static int
rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

static void
cleanup_tmpdir(void)
{
	if (!getenv("BIOGATE_TEST_KEEP"))
		nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Reads a whole file; NULL with *len 0 when it does not exist. */
static uint8_t *
slurp(const char *path, size_t *len)
{
	*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		REQUIRE(errno == ENOENT);
		return NULL;
	}
	struct stat st;
	REQUIRE(fstat(fd, &st) == 0);
	uint8_t *buf = malloc((size_t)st.st_size + 1);
	REQUIRE(buf);
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		REQUIRE(n > 0);
		got += (size_t)n;
	}
	close(fd);
	*len = got;
	return buf;
}

static bool
contains(const uint8_t *hay, size_t hay_len, const void *needle, size_t n)
{
	if (n == 0 || hay_len < n)
		return false;
	for (size_t i = 0; i + n <= hay_len; i++)
		if (memcmp(hay + i, needle, n) == 0)
			return true;
	return false;
}

/* Whether needle occurs in the database file or its -wal / -shm companions. */
static bool
db_files_contain(const char *db, const void *needle, size_t n)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	bool found = false;
	for (size_t i = 0; i < 3; i++) {
		char *p = NULL;
		REQUIRE(asprintf(&p, "%s%s", db, suffix[i]) > 0);
		size_t len;
		uint8_t *buf = slurp(p, &len);
		found = found || contains(buf, len, needle, n);
		free(buf);
		free(p);
	}
	return found;
}

static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	REQUIRE(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static mode_t
file_mode(const char *path)
{
	struct stat st;
	REQUIRE(lstat(path, &st) == 0);
	return st.st_mode & 07777;
}

static int64_t
user_version(const char *db)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	int64_t v = -1;
	REQUIRE(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
	REQUIRE(sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

static void
set_user_version(const char *db, int v)
{
	sqlite3 *h = NULL;
	char sql[64];
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v);
	REQUIRE(sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK);
	REQUIRE(sqlite3_exec(h, sql, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(h);
}

static const char *
jstr(json_object *o, const char *key)
{
	json_object *v = NULL;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static StoreStaffIn
staff_in(const char *id, const char *user, const char *nationality)
{
	return (StoreStaffIn){
		.matching_id = id,
		.name = "Yamada Hanako",
		.affiliation = "Counter team 2",
		.expertise = "resident services",
		.track_record = NULL,
		.nationality = nationality,
		.unix_user = user,
	};
}

static void
test_migrations(void)
{
	char *dir = make_dir("migrate");
	char *db = path_in(dir, "biogate.db");
	Store *s = NULL;

	CHECK_R(store_open(db, &s), 0);
	REQUIRE(s);
	/* The database is the daemon's alone while it is open (exclusive locking): another
	 * connection cannot read it, and the WAL index lives in memory, not in a -shm file. */
	CHECK(user_version(db) == -1);
	CHECK(file_mode(db) == 0600);
	/* The WAL exists while the store is open and must not be wider. */
	char *wal = NULL, *shm = NULL;
	REQUIRE(asprintf(&wal, "%s-wal", db) > 0 && asprintf(&shm, "%s-shm", db) > 0);
	CHECK(access(wal, F_OK) == 0 && file_mode(wal) == 0600);
	CHECK(access(shm, F_OK) != 0);

	StoreStaffIn in = staff_in("m-0001", "hanako", "JP");
	CHECK_R(store_staff_add(s, &in, 1000), 0);
	store_close(s);

	/* Reopening neither re-runs a step nor loses data. */
	s = NULL;
	CHECK_R(store_open(db, &s), 0);
	REQUIRE(s);
	int64_t n = -1;
	CHECK_R(store_staff_count(s, &n), 0);
	CHECK(n == 1);
	store_close(s);
	CHECK(user_version(db) == 4);

	{
		sqlite3 *h = NULL;
		sqlite3_stmt *st = NULL;
		REQUIRE(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
		REQUIRE(sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK);
		CHECK(sqlite3_step(st) == SQLITE_ROW &&
		      strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0);
		sqlite3_finalize(st);
		sqlite3_close(h);
	}

	/* A database from a newer biogate is refused rather than misread. */
	set_user_version(db, 99);
	s = NULL;
	CHECK_R(store_open(db, &s), -EPROTONOSUPPORT);
	CHECK(s == NULL);
	set_user_version(db, 4);

	/* A database file left world-readable is tightened on open. */
	REQUIRE(chmod(db, 0644) == 0);
	CHECK_R(store_open(db, &s), 0);
	CHECK(file_mode(db) == 0600);
	store_close(s);

	/* A symlink in place of the database is not followed. */
	char *link = path_in(dir, "link.db");
	REQUIRE(symlink(db, link) == 0);
	s = NULL;
	CHECK(store_open(link, &s) < 0);
	CHECK(s == NULL);

	free(link);
	free(wal);
	free(shm);
	free(db);
	free(dir);
}

static void
test_staff(Store *s)
{
	StoreStaffIn a = staff_in("m-0001", "hanako", "NATIONALITY-A");
	StoreStaffIn b = staff_in("m-0002", NULL, "NATIONALITY-B"); /* unix_user defaults */
	b.name = "Suzuki Taro";
	b.track_record = "5 years at the ward office";

	CHECK_R(store_staff_add(s, &a, 1000), 0);
	CHECK_R(store_staff_add(s, &b, 2000), 0);

	/* Duplicates: the same matching ID, the same Unix user, or a name that would make a
	 * login ambiguous between the two columns. */
	StoreStaffIn dup = staff_in("m-0001", "other", "X");
	CHECK_R(store_staff_add(s, &dup, 3000), -EEXIST);
	dup = staff_in("m-0003", "hanako", "X");
	CHECK_R(store_staff_add(s, &dup, 3000), -EEXIST);
	dup = staff_in("m-0004", "m-0002", "X");
	CHECK_R(store_staff_add(s, &dup, 3000), -EEXIST);
	dup = staff_in("hanako", "someone", "X");
	CHECK_R(store_staff_add(s, &dup, 3000), -EEXIST);

	/* Bad input. */
	StoreStaffIn bad = staff_in("-bad", "u", "X");
	CHECK_R(store_staff_add(s, &bad, 3000), -EINVAL);
	bad = staff_in("m-0005", "u5", NULL);
	CHECK_R(store_staff_add(s, &bad, 3000), -EINVAL);
	bad = staff_in("m-0005", "u5", "X");
	bad.name = "line\nbreak";
	CHECK_R(store_staff_add(s, &bad, 3000), -EINVAL);
	bad.name = "";
	CHECK_R(store_staff_add(s, &bad, 3000), -EINVAL);

	StoreStaff got;
	memset(&got, 0x55, sizeof(got));
	CHECK_R(store_staff_by_id(s, "m-0001", &got), 0);
	CHECK(strcmp(got.matching_id, "m-0001") == 0);
	CHECK(strcmp(got.unix_user, "hanako") == 0);
	CHECK(got.active == true);
	CHECK_R(store_staff_by_user(s, "m-0002", &got), 0);
	CHECK(strcmp(got.matching_id, "m-0002") == 0);
	CHECK_R(store_staff_by_user(s, "m-0001", &got), -ENOENT);
	CHECK_R(store_staff_by_id(s, "nobody", &got), -ENOENT);
	/* The failed lookups left the output alone. */
	CHECK(strcmp(got.matching_id, "m-0002") == 0);

	int64_t n = -1;
	CHECK_R(store_staff_count(s, &n), 0);
	CHECK(n == 2);

	json_object *o = NULL;
	CHECK_R(store_staff_json(s, "m-0002", &o), 0);
	REQUIRE(o);
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	CHECK(strstr(text, "NATIONALITY") == NULL);
	CHECK(!json_object_object_get_ex(o, "nationality", NULL));
	CHECK(jstr(o, "matching_id") && strcmp(jstr(o, "matching_id"), "m-0002") == 0);
	CHECK(jstr(o, "name") && strcmp(jstr(o, "name"), "Suzuki Taro") == 0);
	CHECK(jstr(o, "unix_user") && strcmp(jstr(o, "unix_user"), "m-0002") == 0);
	CHECK(jstr(o, "state") && strcmp(jstr(o, "state"), "active") == 0);
	CHECK(jstr(o, "track_record") &&
	      strcmp(jstr(o, "track_record"), "5 years at the ward office") == 0);
	json_object *v = NULL;
	CHECK(json_object_object_get_ex(o, "created_at", &v) &&
	      json_object_is_type(v, json_type_int) && json_object_get_int64(v) == 2000);
	CHECK(json_object_object_get_ex(o, "fingers", &v) &&
	      json_object_is_type(v, json_type_array) && json_object_array_length(v) == 0);
	CHECK(json_object_object_get_ex(o, "operators", &v) &&
	      json_object_is_type(v, json_type_array) && json_object_array_length(v) == 0);
	json_object_put(o);

	/* An absent optional field is JSON null. */
	o = NULL;
	CHECK_R(store_staff_json(s, "m-0001", &o), 0);
	REQUIRE(o);
	CHECK(json_object_object_get_ex(o, "track_record", &v) && v == NULL);
	json_object_put(o);

	o = NULL;
	CHECK_R(store_staff_json(s, "nobody", &o), -ENOENT);
	CHECK(o == NULL);

	CHECK_R(store_staff_list_json(s, &o), 0);
	REQUIRE(o);
	CHECK(json_object_is_type(o, json_type_array) && json_object_array_length(o) == 2);
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	CHECK(strstr(text, "NATIONALITY") == NULL);
	CHECK(strstr(text, "\"m-0001\"") && strstr(text, "\"m-0002\""));
	json_object_put(o);
}

static void
test_operators(Store *s)
{
	CHECK_R(store_operator_grant(s, "m-0001", "op-1001", "counter", 5000), 0);
	CHECK_R(store_operator_grant(s, "m-0001", "op-1002", "supervisor", 5000), 0);
	/* Granting again what is already granted is idempotent ... */
	CHECK_R(store_operator_grant(s, "m-0001", "op-1001", "counter", 5001), 0);
	/* ... but an operator ID never moves to another person or another role. */
	CHECK_R(store_operator_grant(s, "m-0002", "op-1001", "counter", 5002), -EEXIST);
	CHECK_R(store_operator_grant(s, "m-0001", "op-1001", "supervisor", 5002), -EEXIST);
	CHECK_R(store_operator_grant(s, "nobody", "op-9999", "counter", 5002), -ENOENT);
	CHECK_R(store_operator_grant(s, "m-0001", "bad id", "counter", 5002), -EINVAL);
	CHECK_R(store_operator_grant(s, "m-0002", "op-2001", "counter", 5003), 0);

	char role[WIRE_MAX_ID + 1] = "";
	CHECK_R(store_operator_role(s, "m-0001", "op-1002", role), 0);
	CHECK(strcmp(role, "supervisor") == 0);
	CHECK_R(store_operator_role(s, "m-0002", "op-1002", role), -ENOENT);
	CHECK_R(store_operator_role(s, "m-0001", "op-nope", role), -ENOENT);

	json_object *a = NULL;
	CHECK_R(store_operators_json(s, "m-0001", &a), 0);
	REQUIRE(a);
	CHECK(json_object_array_length(a) == 2);
	json_object *first = json_object_array_get_idx(a, 0);
	CHECK(jstr(first, "operator_id") && strcmp(jstr(first, "operator_id"), "op-1001") == 0);
	CHECK(jstr(first, "role") && strcmp(jstr(first, "role"), "counter") == 0);
	json_object_put(a);
	a = NULL;
	CHECK_R(store_operators_json(s, "nobody", &a), -ENOENT);
	CHECK(a == NULL);

	json_object *o = NULL;
	CHECK_R(store_staff_json(s, "m-0001", &o), 0);
	REQUIRE(o);
	json_object *ops = NULL;
	CHECK(json_object_object_get_ex(o, "operators", &ops) &&
	      json_object_array_length(ops) == 2);
	json_object_put(o);
}

static void
test_fingers(Store *s)
{
	const uint8_t t1[] = { 1, 2, 3, 4 }, t2[] = { 9, 8, 7 }, t3[] = { 5, 5, 5, 5, 5 };
	CHECK_R(store_finger_put(s, "m-0001", "right-index", t1, sizeof(t1), 6000), 0);
	CHECK_R(store_finger_put(s, "m-0001", "left-index", t2, sizeof(t2), 6001), 0);
	CHECK_R(store_finger_put(s, "nobody", "left-index", t2, sizeof(t2), 6001), -ENOENT);
	CHECK_R(store_finger_put(s, "m-0001", "left-index", t2, 0, 6001), -EINVAL);

	StoreFinger *f = NULL;
	size_t n = 0;
	CHECK_R(store_fingers_get(s, "m-0001", &f, &n), 0);
	REQUIRE(n == 2 && f);
	CHECK(strcmp(f[0].finger, "left-index") == 0 && f[0].blob_len == sizeof(t2) &&
	      memcmp(f[0].blob, t2, sizeof(t2)) == 0);
	CHECK(strcmp(f[1].finger, "right-index") == 0 && f[1].blob_len == sizeof(t1) &&
	      memcmp(f[1].blob, t1, sizeof(t1)) == 0);
	store_fingers_free(f, n);

	/* Re-enrolling a finger replaces its template. */
	CHECK_R(store_finger_put(s, "m-0001", "right-index", t3, sizeof(t3), 6002), 0);
	f = NULL;
	n = 0;
	CHECK_R(store_fingers_get(s, "m-0001", &f, &n), 0);
	REQUIRE(n == 2 && f);
	CHECK(f[1].blob_len == sizeof(t3) && memcmp(f[1].blob, t3, sizeof(t3)) == 0);
	store_fingers_free(f, n);

	f = NULL;
	n = 7;
	CHECK_R(store_fingers_get(s, "m-0002", &f, &n), 0);
	CHECK(n == 0);
	store_fingers_free(f, n);
	n = 7;
	CHECK_R(store_fingers_get(s, "nobody", &f, &n), -ENOENT);
	CHECK(n == 7);

	json_object *o = NULL;
	CHECK_R(store_staff_json(s, "m-0001", &o), 0);
	REQUIRE(o);
	json_object *fingers = NULL;
	CHECK(json_object_object_get_ex(o, "fingers", &fingers) &&
	      json_object_array_length(fingers) == 2 &&
	      strcmp(json_object_get_string(json_object_array_get_idx(fingers, 0)), "left-index") ==
	          0);
	json_object_put(o);
}

static void
test_sessions(Store *s)
{
	StoreSessionIn in = {
		.matching_id = "m-0001",
		.operator_id = "op-1001",
		.uid = 1001,
		.leader_pid = 4242,
		.tty = "/dev/tty1",
		.service = "login",
		.logind_session = NULL,
		.opened_at = 7000,
	};
	int64_t id1 = 0, id2 = 0, id3 = 0, n = -1;
	CHECK_R(store_sessions_open_count(s, &n), 0);
	CHECK(n == 0);
	CHECK_R(store_session_open(s, &in, &id1), 0);
	CHECK(id1 > 0);
	in.operator_id = "op-1002";
	in.leader_pid = 4343;
	in.tty = NULL;
	in.logind_session = "c3";
	CHECK_R(store_session_open(s, &in, &id2), 0);
	CHECK(id2 > id1);

	/* An operator ID of someone else, or unknown, opens nothing. */
	int64_t none = -5;
	in.operator_id = "op-2001";
	CHECK_R(store_session_open(s, &in, &none), -ENOENT);
	in.operator_id = "op-nope";
	CHECK_R(store_session_open(s, &in, &none), -ENOENT);
	CHECK(none == -5);
	in.operator_id = "op-1001";
	in.leader_pid = 0;
	CHECK_R(store_session_open(s, &in, &none), -EINVAL);

	CHECK_R(store_sessions_open_count(s, &n), 0);
	CHECK(n == 2);

	StoreSession got = { 0 };
	CHECK_R(store_session_get(s, id1, &got), 0);
	CHECK(got.id == id1 && got.open && got.uid == 1001 && got.leader_pid == 4242);
	CHECK(strcmp(got.matching_id, "m-0001") == 0 && strcmp(got.operator_id, "op-1001") == 0);
	CHECK_R(store_session_get(s, 9999, &got), -ENOENT);

	json_object *a = NULL;
	CHECK_R(store_sessions_json(s, &a), 0);
	REQUIRE(a);
	CHECK(json_object_array_length(a) == 2);
	json_object *first = json_object_array_get_idx(a, 0), *v = NULL;
	CHECK(json_object_object_get_ex(first, "session_id", &v) &&
	      json_object_get_int64(v) == id1);
	CHECK(json_object_object_get_ex(first, "pid", &v) && json_object_get_int64(v) == 4242);
	CHECK(json_object_object_get_ex(first, "opened_at", &v) &&
	      json_object_is_type(v, json_type_int) && json_object_get_int64(v) == 7000);
	CHECK(jstr(first, "tty") && strcmp(jstr(first, "tty"), "/dev/tty1") == 0);
	CHECK(json_object_object_get_ex(first, "logind_session", &v) && v == NULL);
	json_object_put(a);

	CHECK_R(store_session_close(s, id1, "logout", 8000), 0);
	CHECK_R(store_session_close(s, id1, "logout", 8001), -EALREADY);
	CHECK_R(store_session_close(s, 9999, "logout", 8001), -ENOENT);
	CHECK_R(store_session_get(s, id1, &got), 0);
	CHECK(!got.open);
	CHECK_R(store_sessions_open_count(s, &n), 0);
	CHECK(n == 1);

	in.leader_pid = 4444;
	CHECK_R(store_session_open(s, &in, &id3), 0);
	CHECK(id3 > id2);
	CHECK_R(store_sessions_open_count(s, &n), 0);
	CHECK(n == 2);
	CHECK_R(store_sessions_close_all(s, "daemon-restart", 9000), 0);
	CHECK_R(store_sessions_open_count(s, &n), 0);
	CHECK(n == 0);
	CHECK_R(store_session_get(s, id3, &got), 0);
	CHECK(!got.open);
	a = NULL;
	CHECK_R(store_sessions_json(s, &a), 0);
	CHECK(a && json_object_array_length(a) == 0);
	json_object_put(a);
}

/* There is no revoke call yet: mark the person revoked behind the store's back, as the
 * revocation code will, and check that every path of the store honours the state. */
static void
test_revoked(const char *db)
{
	sqlite3 *h = NULL;
	REQUIRE(sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK);
	sqlite3_busy_timeout(h, 5000);
	REQUIRE(sqlite3_exec(h, "UPDATE staff SET state = 'revoked' WHERE matching_id = 'm-0001'",
	                     NULL, NULL, NULL) == SQLITE_OK);
	REQUIRE(sqlite3_changes(h) == 1);
	sqlite3_close(h);

	Store *s = NULL;
	CHECK_R(store_open(db, &s), 0);
	REQUIRE(s);
	StoreStaff got = { 0 };
	CHECK_R(store_staff_by_id(s, "m-0001", &got), 0);
	CHECK(!got.active);
	int64_t n = -1;
	CHECK_R(store_staff_count(s, &n), 0);
	CHECK(n == 1);

	/* A revoked matching ID is never issued again. */
	StoreStaffIn again = staff_in("m-0001", "hanako2", "X");
	CHECK_R(store_staff_add(s, &again, 10000), -EEXIST);

	const uint8_t t[] = { 1 };
	CHECK_R(store_operator_grant(s, "m-0001", "op-1003", "counter", 10000), -EPERM);
	CHECK_R(store_finger_put(s, "m-0001", "left-thumb", t, sizeof(t), 10000), -EPERM);
	StoreStaffEdit edit = { .name = "changed" };
	CHECK_R(store_staff_edit(s, "m-0001", &edit, 10000), -EPERM);
	char role[WIRE_MAX_ID + 1];
	CHECK_R(store_operator_role(s, "m-0001", "op-1001", role), -ENOENT);
	StoreSessionIn in = {
		.matching_id = "m-0001",
		.operator_id = "op-1001",
		.uid = 1001,
		.leader_pid = 5000,
		.opened_at = 10000,
	};
	int64_t id = -5;
	CHECK_R(store_session_open(s, &in, &id), -ENOENT);
	CHECK(id == -5);

	json_object *o = NULL;
	CHECK_R(store_staff_json(s, "m-0001", &o), 0);
	CHECK(o && jstr(o, "state") && strcmp(jstr(o, "state"), "revoked") == 0);
	json_object_put(o);
	store_close(s);
}

/* Schema v2: roster edits and the R9 dates, failed matches, the work schedule. */
static void
test_gates_and_schedule(Store *s)
{
	int32_t pledge = -1, training = -1;
	CHECK_R(store_staff_gates(s, "m-0001", &pledge, &training), 0);
	CHECK(pledge == 0 && training == 0);
	StoreStaffEdit e = { .pledge_date = 20261120 };
	CHECK_R(store_staff_edit(s, "m-0001", &e, 9000), 0);
	CHECK_R(store_staff_gates(s, "m-0001", &pledge, &training), 0);
	CHECK(pledge == 20261120 && training == 0);
	e = (StoreStaffEdit){ .training_date = 20261121, .affiliation = "委託事業者B" };
	CHECK_R(store_staff_edit(s, "m-0001", &e, 9001), 0);
	CHECK_R(store_staff_gates(s, "m-0001", &pledge, &training), 0);
	CHECK(pledge == 20261120 && training == 20261121);
	json_object *o = NULL;
	CHECK_R(store_staff_json(s, "m-0001", &o), 0);
	REQUIRE(o);
	CHECK(strcmp(json_object_get_string(json_object_object_get(o, "pledge_date")),
	             "2026-11-20") == 0);
	CHECK(strcmp(json_object_get_string(json_object_object_get(o, "affiliation")),
	             "委託事業者B") == 0);
	json_object_put(o);
	e = (StoreStaffEdit){ .pledge_date = 20261340 };
	CHECK_R(store_staff_edit(s, "m-0001", &e, 9002), -EINVAL);
	e = (StoreStaffEdit){ .name = "" };
	CHECK_R(store_staff_edit(s, "m-0001", &e, 9002), -EINVAL);
	e = (StoreStaffEdit){ .name = "x" };
	CHECK_R(store_staff_edit(s, "nobody", &e, 9002), -ENOENT);

	/* Failed matches: newest first, bounded, cleared by an unlock. */
	int64_t got[8];
	size_t n = 99;
	CHECK_R(store_failure_add(s, "m-0001", 100), 0);
	CHECK_R(store_failure_add(s, "m-0001", 300), 0);
	CHECK_R(store_failure_add(s, "m-0001", 200), 0);
	CHECK_R(store_failure_add(s, "m-0002", 250), 0);
	CHECK_R(store_failures_get(s, "m-0001", 150, got, 8, &n), 0);
	CHECK(n == 2 && got[0] == 300 && got[1] == 200);
	CHECK_R(store_failures_get(s, "m-0001", 0, got, 1, &n), 0);
	CHECK(n == 1 && got[0] == 300);
	CHECK_R(store_failures_clear(s, "m-0001"), 0);
	CHECK_R(store_failures_get(s, "m-0001", 0, got, 8, &n), 0);
	CHECK(n == 0);
	CHECK_R(store_failures_get(s, "m-0002", 0, got, 8, &n), 0);
	CHECK(n == 1 && got[0] == 250);
	CHECK_R(store_failures_prune(s, 251), 0);
	CHECK_R(store_failures_get(s, "m-0002", 0, got, 8, &n), 0);
	CHECK(n == 0);

	/* The schedule: a month replaced as a whole; shifts found by time, [start, end). */
	StoreShift month[] = {
		{ "m-0001", 1000, 2000 },
		{ "m-0002", 1500, 2500 },
		{ "m-0001", 3000, 4000 },
	};
	CHECK_R(store_schedule_replace(s, 0, 10000, month, 3, 9100), 0);
	StoreShift sh;
	CHECK_R(store_shift_at(s, "m-0001", 1000, &sh), 0);
	CHECK(sh.start_usec == 1000 && sh.end_usec == 2000);
	CHECK_R(store_shift_at(s, "m-0001", 2000, &sh), -ENOENT);
	CHECK_R(store_shift_at(s, "m-0001", 3999, &sh), 0);
	CHECK(sh.start_usec == 3000);
	CHECK_R(store_shift_at(s, "m-0002", 1000, &sh), -ENOENT);
	json_object *a = NULL;
	CHECK_R(store_schedule_json(s, NULL, 0, 0, &a), 0);
	REQUIRE(a);
	CHECK(json_object_array_length(a) == 3);
	json_object_put(a);
	CHECK_R(store_schedule_json(s, "m-0001", 2500, 0, &a), 0);
	REQUIRE(a);
	CHECK(json_object_array_length(a) == 1);
	json_object_put(a);
	/* Re-importing replaces; a person not on the roster fails the whole import. */
	StoreShift again[] = { { "m-0002", 5000, 6000 } };
	CHECK_R(store_schedule_replace(s, 0, 10000, again, 1, 9200), 0);
	CHECK_R(store_shift_at(s, "m-0001", 1000, &sh), -ENOENT);
	StoreShift stranger[] = { { "m-0002", 5000, 6000 }, { "nobody", 7000, 8000 } };
	CHECK_R(store_schedule_replace(s, 0, 10000, stranger, 2, 9300), -ENOENT);
	CHECK_R(store_shift_at(s, "m-0002", 5500, &sh), 0);
	StoreShift backwards[] = { { "m-0002", 6000, 5000 } };
	CHECK_R(store_schedule_replace(s, 0, 10000, backwards, 1, 9300), -EINVAL);
}

static void
test_store(void)
{
	char *dir = make_dir("store");
	char *db = path_in(dir, "biogate.db");
	Store *s = NULL;
	CHECK_R(store_open(db, &s), 0);
	REQUIRE(s);
	test_staff(s);
	test_operators(s);
	test_fingers(s);
	test_sessions(s);
	test_gates_and_schedule(s);
	store_close(s);
	test_revoked(db);
	free(db);
	free(dir);
}

static void
write_file(const char *path, const void *p, size_t n, mode_t mode)
{
	/* Replaced, not rewritten: a 0400 file cannot be opened for writing without root. */
	REQUIRE(unlink(path) == 0 || errno == ENOENT);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	REQUIRE(fd >= 0);
	REQUIRE(write(fd, p, n) == (ssize_t)n);
	REQUIRE(fchmod(fd, mode) == 0);
	close(fd);
}

static void
test_secret_key_file(void)
{
	char *dir = make_dir("keys");
	char *key = path_in(dir, SECRET_KEY_FILE);
	Secret *k1 = NULL, *k2 = NULL;

	CHECK_R(secret_load(dir, &k1), 0);
	REQUIRE(k1);
	CHECK(file_mode(key) == 0600);
	size_t len1 = 0, len2 = 0;
	uint8_t *bytes1 = slurp(key, &len1);
	CHECK(len1 == 32);

	/* The second start reuses the key: what k1 sealed, k2 opens. */
	CHECK_R(secret_load(dir, &k2), 0);
	REQUIRE(k2);
	uint8_t *bytes2 = slurp(key, &len2);
	CHECK(len2 == 32 && bytes1 && bytes2 && memcmp(bytes1, bytes2, 32) == 0);
	const uint8_t pt[] = "template";
	uint8_t *blob = NULL, *out = NULL;
	size_t blob_len = 0, out_len = 0;
	CHECK_R(secret_seal(k1, "aad", pt, sizeof(pt), &blob, &blob_len), 0);
	CHECK_R(secret_open(k2, "aad", blob, blob_len, &out, &out_len), 0);
	CHECK(out && out_len == sizeof(pt) && memcmp(out, pt, sizeof(pt)) == 0);
	secret_wipe_free(out, out_len);
	secret_free(k2);
	k2 = NULL;

	/* No temporary file is left behind by the creation. */
	CHECK(count_entries(dir) == 1);

	/* Group or world bits: refused. */
	REQUIRE(chmod(key, 0644) == 0);
	CHECK_R(secret_load(dir, &k2), -EPERM);
	CHECK(k2 == NULL);
	REQUIRE(chmod(key, 0640) == 0);
	CHECK_R(secret_load(dir, &k2), -EPERM);
	REQUIRE(chmod(key, 0600) == 0);

	/* Another owner: refused (only root can make that happen). */
	if (geteuid() == 0) {
		REQUIRE(chown(key, 65534, (gid_t)-1) == 0);
		CHECK_R(secret_load(dir, &k2), -EPERM);
		REQUIRE(chown(key, 0, (gid_t)-1) == 0);
	} else {
		fprintf(stderr, "note: not root, skipping the foreign-owner key check\n");
	}

	/* Wrong size: refused, and the file is left for the admin to look at. */
	write_file(key, bytes1, 31, 0600);
	CHECK_R(secret_load(dir, &k2), -EBADMSG);
	uint8_t big[33] = { 0 };
	write_file(key, big, sizeof(big), 0600);
	CHECK_R(secret_load(dir, &k2), -EBADMSG);
	size_t len3 = 0;
	uint8_t *bytes3 = slurp(key, &len3);
	CHECK(len3 == 33);
	free(bytes3);

	/* A symlink in place of the key is not followed. */
	REQUIRE(unlink(key) == 0);
	char *target = path_in(dir, "elsewhere.key");
	write_file(target, bytes1, 32, 0600);
	REQUIRE(symlink(target, key) == 0);
	CHECK(secret_load(dir, &k2) < 0);
	CHECK(k2 == NULL);

	/* A missing state directory is an error, not a key somewhere else. */
	char *missing = path_in(dir, "missing");
	CHECK_R(secret_load(missing, &k2), -ENOENT);

	free(missing);
	free(target);
	free(blob);
	free(bytes1);
	free(bytes2);
	secret_free(k1);
	free(key);
	free(dir);
}

static void
test_secret_credential(void)
{
	char *creds = make_dir("creds");
	char *state = make_dir("state-with-creds");
	char *cred = path_in(creds, SECRET_CREDENTIAL);
	uint8_t key[32];
	memset(key, 0x42, sizeof(key));
	write_file(cred, key, sizeof(key), 0400);

	REQUIRE(setenv("CREDENTIALS_DIRECTORY", creds, 1) == 0);
	Secret *c = NULL, *f = NULL;
	CHECK_R(secret_load(state, &c), 0);
	REQUIRE(c);
	/* The credential was used: no key file appeared in the state directory. */
	char *key_file = path_in(state, SECRET_KEY_FILE);
	CHECK(access(key_file, F_OK) < 0 && errno == ENOENT);

	/* A credential directory without our credential falls back to the state directory. */
	REQUIRE(unlink(cred) == 0);
	CHECK_R(secret_load(state, &f), 0);
	REQUIRE(f);
	CHECK(access(key_file, F_OK) == 0);

	/* Different keys: a blob sealed under the credential does not open with the file's. */
	const uint8_t pt[] = "x";
	uint8_t *blob = NULL, *out = NULL;
	size_t blob_len = 0, out_len = 0;
	CHECK_R(secret_seal(c, "a", pt, sizeof(pt), &blob, &blob_len), 0);
	CHECK_R(secret_open(f, "a", blob, blob_len, &out, &out_len), -EBADMSG);
	CHECK(out == NULL);

	/* A credential with world access is refused, not silently skipped. */
	write_file(cred, key, sizeof(key), 0404);
	Secret *bad = NULL;
	CHECK_R(secret_load(state, &bad), -EPERM);
	CHECK(bad == NULL);
	write_file(cred, key, 16, 0400);
	CHECK_R(secret_load(state, &bad), -EBADMSG);

	REQUIRE(unsetenv("CREDENTIALS_DIRECTORY") == 0);
	free(blob);
	secret_free(c);
	secret_free(f);
	free(key_file);
	free(cred);
	free(state);
	free(creds);
}

static void
test_secret_seal(void)
{
	char *dir = make_dir("seal");
	Secret *k = NULL;
	CHECK_R(secret_load(dir, &k), 0);
	REQUIRE(k);

	uint8_t pt[64];
	REQUIRE(RAND_bytes(pt, sizeof(pt)) == 1);
	uint8_t *blob = NULL, *out = NULL;
	size_t blob_len = 0, out_len = 0;
	CHECK_R(secret_seal(k, "m-0001/right-index", pt, sizeof(pt), &blob, &blob_len), 0);
	REQUIRE(blob && blob_len == 1 + 12 + sizeof(pt) + 16);
	CHECK(blob[0] == 1);
	CHECK(!contains(blob, blob_len, pt, sizeof(pt)));

	CHECK_R(secret_open(k, "m-0001/right-index", blob, blob_len, &out, &out_len), 0);
	CHECK(out && out_len == sizeof(pt) && memcmp(out, pt, sizeof(pt)) == 0);
	secret_wipe_free(out, out_len);

	/* Two seals of the same plaintext differ (fresh nonce). */
	uint8_t *blob2 = NULL;
	size_t blob2_len = 0;
	CHECK_R(secret_seal(k, "m-0001/right-index", pt, sizeof(pt), &blob2, &blob2_len), 0);
	CHECK(blob2 && blob2_len == blob_len && memcmp(blob, blob2, blob_len) != 0);
	free(blob2);

	/* Wrong AAD: the blob was moved to another row. */
	out = NULL;
	CHECK_R(secret_open(k, "m-0002/right-index", blob, blob_len, &out, &out_len), -EBADMSG);
	CHECK(out == NULL);

	/* Every single flipped bit anywhere in the blob fails. */
	int accepted = 0;
	for (size_t i = 0; i < blob_len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			blob[i] ^= (uint8_t)(1u << bit);
			int r =
			    secret_open(k, "m-0001/right-index", blob, blob_len, &out, &out_len);
			if (r != -EBADMSG)
				accepted++;
			blob[i] ^= (uint8_t)(1u << bit);
		}
	}
	CHECK(accepted == 0);

	/* Every truncation fails, down to the empty blob and a NULL pointer. */
	accepted = 0;
	for (size_t n = 0; n < blob_len; n++)
		if (secret_open(k, "m-0001/right-index", blob, n, &out, &out_len) != -EBADMSG)
			accepted++;
	CHECK(accepted == 0);
	CHECK_R(secret_open(k, "m-0001/right-index", NULL, 0, &out, &out_len), -EBADMSG);

	/* A trailing byte fails too. */
	uint8_t *longer = malloc(blob_len + 1);
	REQUIRE(longer);
	memcpy(longer, blob, blob_len);
	longer[blob_len] = 0;
	CHECK_R(secret_open(k, "m-0001/right-index", longer, blob_len + 1, &out, &out_len),
	        -EBADMSG);
	free(longer);

	/* An empty plaintext still round-trips. */
	CHECK_R(secret_seal(k, "e", NULL, 0, &blob2, &blob2_len), 0);
	CHECK(blob2_len == 29);
	CHECK_R(secret_open(k, "e", blob2, blob2_len, &out, &out_len), 0);
	CHECK(out_len == 0);
	secret_wipe_free(out, 1);
	free(blob2);

	free(blob);
	secret_free(k);
	free(dir);
}

/*
 * The key test (R19): a recognisable template is sealed and stored; afterwards no byte
 * sequence of it, nor of the key, may appear in the database or its WAL. The nationality
 * stored in the same database must be found by the same scan, which shows the scan works.
 */
static void
test_no_plaintext_at_rest(void)
{
	char *dir = make_dir("at-rest");
	char *db = path_in(dir, "biogate.db");
	char *key_path = path_in(dir, SECRET_KEY_FILE);
	static const char marker[] = "BIOGATE-PLAINTEXT-TEMPLATE-MARKER";
	static const char nationality[] = "NATIONALITY-SENTINEL-7c1e";

	uint8_t tmpl[64];
	REQUIRE(RAND_bytes(tmpl, sizeof(tmpl)) == 1);
	memcpy(tmpl + 8, marker, sizeof(marker) - 1);

	Secret *k = NULL;
	Store *s = NULL;
	CHECK_R(secret_load(dir, &k), 0);
	CHECK_R(store_open(db, &s), 0);
	REQUIRE(k && s);
	StoreStaffIn in = staff_in("m-0100", "rest", nationality);
	CHECK_R(store_staff_add(s, &in, 1), 0);
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	CHECK_R(secret_seal(k, "m-0100/right-thumb", tmpl, sizeof(tmpl), &blob, &blob_len), 0);
	REQUIRE(blob);
	CHECK_R(store_finger_put(s, "m-0100", "right-thumb", blob, blob_len, 2), 0);

	size_t key_len = 0;
	uint8_t *key = slurp(key_path, &key_len);
	REQUIRE(key && key_len == 32);

	/* While open, the rows live in the WAL; after close, in the main file. Scan both. */
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			store_close(s);
			s = NULL;
		}
		CHECK(db_files_contain(db, nationality, sizeof(nationality) - 1));
		CHECK(db_files_contain(db, blob + 13, 16)); /* the sealed form is stored ... */
		CHECK(!db_files_contain(db, marker, sizeof(marker) - 1)); /* ... never the plain */
		CHECK(!db_files_contain(db, tmpl, 8));
		CHECK(!db_files_contain(db, tmpl + sizeof(tmpl) - 16, 16));
		CHECK(!db_files_contain(db, key, 16));
		CHECK(!db_files_contain(db, key + 16, 16));
	}

	/* And the stored blob still opens to the template. */
	CHECK_R(store_open(db, &s), 0);
	REQUIRE(s);
	StoreFinger *f = NULL;
	size_t n = 0;
	CHECK_R(store_fingers_get(s, "m-0100", &f, &n), 0);
	REQUIRE(n == 1);
	uint8_t *out = NULL;
	size_t out_len = 0;
	CHECK_R(secret_open(k, "m-0100/right-thumb", f[0].blob, f[0].blob_len, &out, &out_len), 0);
	CHECK(out && out_len == sizeof(tmpl) && memcmp(out, tmpl, sizeof(tmpl)) == 0);
	secret_wipe_free(out, out_len);
	store_fingers_free(f, n);
	store_close(s);

	free(key);
	free(blob);
	secret_free(k);
	free(key_path);
	free(db);
	free(dir);
}

/* R4, R6, R7, R16: revocation erases the sealed template from every file, the roster
 * history records changes (never nationality), disposal erases every personal field. */
static void
test_revoke_and_dispose(void)
{
	char *dir = make_dir("revoke");
	char *db = path_in(dir, "biogate.db");
	static const char nationality[] = "NATIONALITY-SENTINEL-R";
	Store *s = NULL;
	CHECK_R(store_open(db, &s), 0);
	REQUIRE(s);
	StoreStaffIn a = staff_in("m-0200", "leaver", nationality);
	a.actor = "uid 0";
	CHECK_R(store_staff_add(s, &a, 1), 0);
	StoreStaffIn b = staff_in("m-0201", "stayer", "NATIONALITY-OTHER");
	CHECK_R(store_staff_add(s, &b, 1), 0);
	CHECK_R(store_operator_grant(s, "m-0200", "op-2000", "counter", 2), 0);

	/* A recognisable sealed blob of 3 KiB: it spans overflow pages. */
	uint8_t blob[3072];
	for (size_t i = 0; i < sizeof(blob); i++)
		blob[i] = (uint8_t)(0xA5 ^ (i * 7));
	memcpy(blob + 100, "SEALED-TEMPLATE-MARK", 20);
	memcpy(blob + 2900, "SEALED-TEMPLATE-TAIL", 20);
	CHECK_R(store_finger_put(s, "m-0200", "right-index", blob, sizeof(blob), 3), 0);
	CHECK(db_files_contain(db, "SEALED-TEMPLATE-MARK", 20));

	StoreStaffEdit e = { .name = "New Name", .actor = "uid 0" };
	CHECK_R(store_staff_edit(s, "m-0200", &e, 4), 0);
	json_object *h = NULL;
	CHECK_R(store_staff_history_json(s, "m-0200", &h), 0);
	REQUIRE(h);
	CHECK(json_object_array_length(h) == 2); /* created, name */
	json_object *last = json_object_array_get_idx(h, 1);
	CHECK(strcmp(json_object_get_string(json_object_object_get(last, "field")), "name") == 0);
	CHECK(strcmp(json_object_get_string(json_object_object_get(last, "new")), "New Name") == 0);
	CHECK(strcmp(json_object_get_string(json_object_object_get(last, "actor")), "uid 0") == 0);
	CHECK(strstr(json_object_to_json_string(h), nationality) == NULL);
	json_object_put(h);

	char nat[64] = "";
	CHECK_R(store_nationality(s, "m-0200", nat, sizeof(nat)), 0);
	CHECK(strcmp(nat, nationality) == 0);
	CHECK_R(store_nationality(s, "nobody", nat, sizeof(nat)), -ENOENT);

	int erased = -1;
	CHECK_R(store_revoke(s, "m-0200", "uid 0", 5, &erased), 0);
	CHECK(erased == 1);
	CHECK_R(store_revoke(s, "m-0200", "uid 0", 6, &erased), -EALREADY);
	CHECK_R(store_revoke(s, "nobody", "uid 0", 6, &erased), -ENOENT);
	StoreStaff st;
	CHECK_R(store_staff_by_id(s, "m-0200", &st), 0);
	CHECK(!st.active);
	char role[WIRE_MAX_ID + 1];
	CHECK_R(store_operator_role(s, "m-0200", "op-2000", role), -ENOENT);
	/* While the store is open and after it is closed, no file holds the bytes. */
	CHECK(!db_files_contain(db, "SEALED-TEMPLATE-MARK", 20));
	CHECK(!db_files_contain(db, "SEALED-TEMPLATE-TAIL", 20));
	CHECK(!db_files_contain(db, blob + 1000, 32));
	CHECK_R(store_staff_history_json(s, "m-0200", &h), 0);
	CHECK(h && strstr(json_object_to_json_string(h), "revoked") != NULL);
	json_object_put(h);

	/* Disposal: planned, approved, not before its date, then everything personal goes. */
	StoreDisposalIn plan = { .items = "templates, roster",
		                 .media = "state directory",
		                 .count = 2,
		                 .method = "secure_delete",
		                 .planned_date = 20261201,
		                 .actor = "uid 0" };
	int64_t id = 0;
	CHECK_R(store_disposal_plan(s, &plan, 7, &id), 0);
	CHECK(id > 0);
	json_object *res = NULL;
	CHECK_R(store_disposal_execute(s, id, "uid 0", 8, 20261202, &res), -EPERM);
	CHECK_R(store_disposal_approve(s, id, "uid 0 + m-0201", 9), 0);
	CHECK_R(store_disposal_approve(s, id, "uid 0 + m-0201", 9), -EALREADY);
	CHECK_R(store_disposal_execute(s, id, "uid 0", 10, 20261130, &res), -EAGAIN);
	CHECK(db_files_contain(db, "NATIONALITY-OTHER", 17));
	CHECK_R(store_disposal_execute(s, id, "uid 0", 11, 20261201, &res), 0);
	REQUIRE(res);
	CHECK(json_object_get_int64(json_object_object_get(res, "roster")) == 2);
	json_object_put(res);
	CHECK_R(store_disposal_execute(s, id, "uid 0", 12, 20261202, &res), -EPERM);
	json_object *d = NULL;
	CHECK_R(store_disposal_json(s, id, &d), 0);
	CHECK(d &&
	      strcmp(json_object_get_string(json_object_object_get(d, "state")), "executed") == 0);
	json_object_put(d);
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			store_close(s);
			s = NULL;
		}
		CHECK(!db_files_contain(db, "NATIONALITY-OTHER", 17));
		CHECK(!db_files_contain(db, nationality, sizeof(nationality) - 1));
		CHECK(!db_files_contain(db, "New Name", 8));
		CHECK(!db_files_contain(db, "Hanako", 6));
		CHECK(!db_files_contain(db, "stayer", 6));
		CHECK(db_files_contain(db, "m-0201", 6)); /* matching IDs stay: never reissued */
	}
	free(db);
	free(dir);
}

int
main(void)
{
	umask(0);
	unsetenv("CREDENTIALS_DIRECTORY");
	REQUIRE(mkdtemp(tmpdir));
	atexit(cleanup_tmpdir);

	test_migrations();
	test_store();
	test_secret_key_file();
	test_secret_credential();
	test_secret_seal();
	test_no_plaintext_at_rest();
	test_revoke_and_dispose();

	if (failures) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return EXIT_FAILURE;
	}
	printf("all store checks passed\n");
	return EXIT_SUCCESS;
}
