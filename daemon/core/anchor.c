/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* asprintf, secure_getenv */
#endif
/*
 * anchor: the start-up cross-checks between the state files (see anchor.h). It owns the
 * marker file and the decision to refuse a start; it must never create or rewrite a key or a
 * database over data that exists, never refuse a state that a crash (kill -9 or power cut)
 * can leave behind, and never log a key.
 *
 * Why no false alarm after a crash: the store's anchor is written after the audit COMMIT
 * returned (so it never names a record that is not durable; a power cut can only take it
 * back), and the generation the head records is read from the store after the store's own
 * flushed commits (sessions, committed without a flush, do not count).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "anchor.h"
#include "keyfile.h"

#define _cleanup_(f) __attribute__((cleanup(f)))

/* Below this much free space at start, the reserve is given back so that SQLite can open. */
#define ANCHOR_LOW_SPACE (1024 * 1024)

/* What the precheck moved aside for --accept-new-audit-trail, for the new trail's first
 * record. One daemon per process. */
static struct {
	bool moved;
	char moved_to[256];
	int64_t old_seq;
	char old_mac[2 * AUDIT_MAC_BYTES + 1];
	bool old_readable;
} anchor_replaced;

static void
anchor_freep(char **p)
{
	free(*p);
}

static int
anchor_path(const char *dir, const char *name, char **ret)
{
	if (asprintf(ret, "%s/%s", dir, name) < 0) {
		*ret = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* -1: missing, else the size. */
static off_t
anchor_size(const char *dir, const char *name)
{
	_cleanup_(anchor_freep) char *p = NULL;
	struct stat st;
	if (anchor_path(dir, name, &p) < 0 || lstat(p, &st) < 0)
		return -1;
	return st.st_size;
}

static bool
anchor_exists(const char *dir, const char *name)
{
	return anchor_size(dir, name) >= 0;
}

/* A database holds data when its file or its WAL is not empty. */
static bool
anchor_db_has_data(const char *dir, const char *db)
{
	char wal[64];
	snprintf(wal, sizeof(wal), "%s-wal", db);
	return anchor_size(dir, db) > 0 || anchor_size(dir, wal) > 0;
}

static bool
anchor_has_credential(const char *credential)
{
	const char *creds = secure_getenv("CREDENTIALS_DIRECTORY");
	if (!creds || !*creds)
		return false;
	_cleanup_(anchor_freep) char *p = NULL;
	return anchor_path(creds, credential, &p) >= 0 && access(p, F_OK) == 0;
}

/* A systemd credential: systemd owns it (root, an ACL for us), so only what it never sets is
 * refused: world access, group write, a wrong length. */
static int
anchor_credential(const char *credential)
{
	_cleanup_(anchor_freep) char *p = NULL;
	if (anchor_path(secure_getenv("CREDENTIALS_DIRECTORY"), credential, &p) < 0)
		return -ENOMEM;
	struct stat st;
	if (stat(p, &st) < 0) {
		int r = -errno;
		fprintf(stderr, "biogated: %s: cannot be examined: %s\n", p, strerror(-r));
		return r;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & (S_IWGRP | S_IRWXO))) {
		fprintf(stderr, "biogated: %s: mode %04o lets others read or change the key\n", p,
		        (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	if (st.st_size != KEYFILE_LEN) {
		fprintf(stderr, "biogated: %s: %lld bytes long; a key is exactly %d bytes\n", p,
		        (long long)st.st_size, KEYFILE_LEN);
		return -EBADMSG;
	}
	return 0;
}

/*
 * One key file, judged before keyfile_load() sees it, so that the one message names the file
 * and the problem. Missing is refused when its data exists (sealed_with names what) unless
 * the admin accepted starting over.
 */
static int
anchor_key(const char *dir, const char *file, const char *credential, bool data_exists,
           const char *sealed_with, bool accepted, const char *flag)
{
	if (anchor_has_credential(credential))
		return anchor_credential(credential);
	_cleanup_(anchor_freep) char *p = NULL;
	int r = anchor_path(dir, file, &p);
	if (r < 0)
		return r;
	struct stat st;
	if (lstat(p, &st) < 0) {
		if (errno != ENOENT) {
			r = -errno;
			fprintf(stderr, "biogated: %s: cannot be examined: %s\n", p, strerror(-r));
			return r;
		}
		if (!data_exists || accepted)
			return 0;
		fprintf(stderr,
		        "biogated: %s: missing, but %s holds data sealed with it; a new key would "
		        "make it unusable. Restore the key file (or start with %s=REASON to "
		        "begin again)\n",
		        p, sealed_with, flag);
		return -ENOKEY;
	}
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "biogated: %s: not a regular file\n", p);
		return -EPERM;
	}
	if (st.st_uid != geteuid()) {
		fprintf(stderr, "biogated: %s: owned by uid %u, not by the daemon's uid %u\n", p,
		        (unsigned)st.st_uid, (unsigned)geteuid());
		return -EPERM;
	}
	if (st.st_mode & 077) {
		fprintf(stderr,
		        "biogated: %s: mode %04o lets others read or change the key; it must be "
		        "0600\n",
		        p, (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	if (st.st_size != KEYFILE_LEN) {
		fprintf(stderr, "biogated: %s: %lld bytes long; a key is exactly %d bytes\n", p,
		        (long long)st.st_size, KEYFILE_LEN);
		return -EBADMSG;
	}
	int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		fprintf(stderr, "biogated: %s: cannot be read: %s\n", p, strerror(-r));
		return r;
	}
	close(fd);
	return 0;
}

/* A database named by the marker must be there and hold something. */
static int
anchor_db(const char *dir, const char *db, bool marker, bool accepted)
{
	if (!marker || accepted)
		return 0;
	off_t size = anchor_size(dir, db);
	if (size < 0 || !anchor_db_has_data(dir, db)) {
		fprintf(stderr,
		        "biogated: %s/%s: %s, but this state directory was initialized (%s): "
		        "its data is gone. Restore it from a backup%s\n",
		        dir, db, size < 0 ? "missing" : "empty (0 bytes)", ANCHOR_MARKER_FILE,
		        strcmp(db, "audit.db") == 0
		            ? " (or start with --accept-new-audit-trail=REASON)"
		            : " (or start with --accept-store-loss=REASON)");
		return -EUCLEAN;
	}
	return 0;
}

/* Reads the old trail's head without a key (the record names it as found). */
static void
anchor_read_old_head(const char *path)
{
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW, NULL) ==
	    SQLITE_OK) {
		sqlite3_stmt *st = NULL;
		if (sqlite3_prepare_v2(db, "SELECT seq, lower(hex(mac)) FROM head WHERE id = 1", -1,
		                       &st, NULL) == SQLITE_OK &&
		    sqlite3_step(st) == SQLITE_ROW) {
			anchor_replaced.old_seq = sqlite3_column_int64(st, 0);
			const unsigned char *m = sqlite3_column_text(st, 1);
			snprintf(anchor_replaced.old_mac, sizeof(anchor_replaced.old_mac), "%s",
			         m ? (const char *)m : "");
			anchor_replaced.old_readable = true;
		}
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
}

/* --accept-new-audit-trail: audit.db and its -wal/-shm become audit.db.replaced-TIME. */
static int
anchor_move_trail(const char *dir)
{
	if (!anchor_exists(dir, "audit.db"))
		return 0;
	char name[64];
	snprintf(name, sizeof(name), "audit.db.replaced-%lld", (long long)time(NULL));
	static const char *const suffix[] = { "-wal", "-shm", "" };
	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		_cleanup_(anchor_freep) char *from = NULL, *to = NULL;
		if (asprintf(&from, "%s/audit.db%s", dir, suffix[i]) < 0) {
			from = NULL;
			return -ENOMEM;
		}
		if (asprintf(&to, "%s/%s%s", dir, name, suffix[i]) < 0) {
			to = NULL;
			return -ENOMEM;
		}
		if (rename(from, to) < 0 && errno != ENOENT) {
			int r = -errno;
			fprintf(stderr, "biogated: %s: cannot be moved aside: %s\n", from,
			        strerror(-r));
			return r;
		}
	}
	_cleanup_(anchor_freep) char *moved = NULL;
	if (anchor_path(dir, name, &moved) < 0)
		return -ENOMEM;
	anchor_read_old_head(moved);
	anchor_replaced.moved = true;
	snprintf(anchor_replaced.moved_to, sizeof(anchor_replaced.moved_to), "%s", name);
	fprintf(stderr, "biogated: %s/audit.db: moved aside to %s; a new audit trail begins\n", dir,
	        name);
	return 0;
}

/* A nearly full volume: give the reserve back before SQLite needs room to open. */
static void
anchor_low_space(const char *dir)
{
	struct statvfs vfs;
	if (statvfs(dir, &vfs) < 0)
		return;
	unsigned long long avail = (unsigned long long)vfs.f_bavail * vfs.f_frsize;
	if (avail >= ANCHOR_LOW_SPACE)
		return;
	_cleanup_(anchor_freep) char *p = NULL;
	if (anchor_path(dir, "audit.db.reserve", &p) < 0)
		return;
	if (unlink(p) == 0)
		fprintf(stderr,
		        "biogated: %s: only %llu KiB free (ENOSPC near): released the reserve "
		        "to start\n",
		        dir, avail / 1024);
}

int
anchor_precheck(const char *state_dir, const AnchorAccept *acc)
{
	static const AnchorAccept none = { 0 };
	if (!acc)
		acc = &none;
	bool marker = anchor_exists(state_dir, ANCHOR_MARKER_FILE);
	anchor_low_space(state_dir);
	int r = anchor_key(state_dir, SECRET_KEY_FILE, SECRET_CREDENTIAL,
	                   marker || anchor_db_has_data(state_dir, "biogate.db"),
	                   "biogate.db (the enrolled fingers)", acc->store_loss != NULL,
	                   "--accept-store-loss");
	if (r < 0)
		return r;
	r = anchor_key(state_dir, AUDIT_KEY_FILE, AUDIT_CREDENTIAL,
	               marker || anchor_db_has_data(state_dir, "audit.db"),
	               "audit.db (the audit trail)", acc->new_audit_trail != NULL,
	               "--accept-new-audit-trail");
	if (r < 0)
		return r;
	r = anchor_db(state_dir, "biogate.db", marker, acc->store_loss != NULL);
	if (r < 0)
		return r;
	r = anchor_db(state_dir, "audit.db", marker, acc->new_audit_trail != NULL);
	if (r < 0)
		return r;
	if (acc->new_audit_trail)
		return anchor_move_trail(state_dir);
	return 0;
}

/* ---- after open ---- */

static int
anchor_store_generation(void *userdata, int64_t *ret)
{
	return store_generation(userdata, ret);
}

static void
anchor_committed(void *userdata, int64_t seq, const uint8_t mac[static AUDIT_MAC_BYTES])
{
	/* Failure costs only the anchor's freshness (it may lag; it never leads). */
	(void)store_anchor_set_audit(userdata, seq, mac);
}

static const AuditAnchorOps anchor_ops = {
	.generation = anchor_store_generation,
	.committed = anchor_committed,
};

static int64_t
anchor_now_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The marker: written once, atomically, after the first start that passed every check. */
static int
anchor_write_marker(const char *dir)
{
	if (anchor_exists(dir, ANCHOR_MARKER_FILE))
		return 0;
	_cleanup_(anchor_freep) char *tmp = NULL, *path = NULL;
	if (anchor_path(dir, "." ANCHOR_MARKER_FILE ".tmp", &tmp) < 0 ||
	    anchor_path(dir, ANCHOR_MARKER_FILE, &path) < 0)
		return -ENOMEM;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	static const char text[] = "biogate state directory v1: biogate.db, audit.db, "
	                           "template.key and audit.key belong here\n";
	int r = write(fd, text, sizeof(text) - 1) == (ssize_t)(sizeof(text) - 1) ? 0 : -EIO;
	if (r >= 0 && fsync(fd) < 0)
		r = -errno;
	close(fd);
	if (r >= 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		(void)unlink(tmp);
		return r;
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return 0;
}

static void
anchor_hex(const uint8_t *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* The first problem of the trail, as one line; 0 when none. */
static int
anchor_trail_problem(const char *dir, Audit *a, const StoreAnchor *sa, const AuditOpenState *os,
                     bool marker)
{
	const char *hint = "Restore audit.db (and audit.key) from a backup, or start with "
	                   "--accept-new-audit-trail=REASON";
	if (os->created && (sa->audit_seq > 0 || marker)) {
		fprintf(stderr,
		        "biogated: %s/audit.db: the audit trail is empty, but biogate.db saw "
		        "record %" PRId64 " committed: the trail was emptied or replaced. %s\n",
		        dir, sa->audit_seq, hint);
		return -EUCLEAN;
	}
	if (!os->head_present) {
		fprintf(stderr,
		        "biogated: %s/audit.db: the head row is missing (removed, perhaps with the "
		        "newest records). %s\n",
		        dir, hint);
		return -EUCLEAN;
	}
	if (!os->head_ok) {
		fprintf(stderr,
		        "biogated: %s/audit.db: its head does not verify under %s/audit.key: the "
		        "key is not the one this trail was sealed with, or the head was rewritten. "
		        "%s\n",
		        dir, dir, hint);
		return -EUCLEAN;
	}
	if (sa->audit_seq > os->head_seq) {
		fprintf(stderr,
		        "biogated: %s/audit.db: the trail ends at record %" PRId64
		        ", but biogate.db saw record %" PRId64
		        " committed: the newest records were lost with their head (a damaged "
		        "-wal, an old copy, or removed). %s\n",
		        dir, os->head_seq, sa->audit_seq, hint);
		return -EUCLEAN;
	}
	if (sa->audit_seq > 0 && sa->has_audit_mac) {
		uint8_t mac[AUDIT_MAC_BYTES];
		int r = audit_mac_at(a, sa->audit_seq, mac);
		/* A record absent below the head is a cut the trail itself reports (it records
		 * "audit.truncated" and verify names it); a different one is a replaced trail. */
		if (r >= 0 && memcmp(mac, sa->audit_mac, AUDIT_MAC_BYTES) != 0) {
			fprintf(
			    stderr,
			    "biogated: %s/audit.db: record %" PRId64
			    " is not the record biogate.db saw committed: the trail was replaced "
			    "or rewritten. %s\n",
			    dir, sa->audit_seq, hint);
			return -EUCLEAN;
		}
		if (r < 0 && r != -ENOENT)
			return r;
	}
	return 0;
}

int
anchor_check(const char *state_dir, Store *s, Audit *a, const Secret *secret, const char *terminal,
             const AnchorAccept *acc)
{
	static const AnchorAccept none = { 0 };
	if (!acc)
		acc = &none;
	StoreAnchor sa;
	int r = store_anchor_get(s, &sa);
	if (r < 0) {
		fprintf(stderr, "biogated: %s/biogate.db: its anchor cannot be read\n", state_dir);
		goto refuse;
	}
	AuditOpenState os;
	audit_open_state(a, &os);
	bool marker = anchor_exists(state_dir, ANCHOR_MARKER_FILE);
	uint8_t key_id[SECRET_KEY_ID_LEN];
	r = secret_key_id(secret, key_id);
	if (r < 0)
		goto refuse;

	if (acc->new_audit_trail) {
		/* The new trail's first record names the old one and why. */
		char detail[1024], anchor_mac[2 * AUDIT_MAC_BYTES + 1] = "";
		if (sa.has_audit_mac)
			anchor_hex(sa.audit_mac, AUDIT_MAC_BYTES, anchor_mac);
		json_object *o = json_object_new_object();
		if (!o) {
			r = -ENOMEM;
			goto refuse;
		}
		json_object_object_add(o, "reason", json_object_new_string(acc->new_audit_trail));
		json_object_object_add(o, "old_file",
		                       anchor_replaced.moved
		                           ? json_object_new_string(anchor_replaced.moved_to)
		                           : NULL);
		if (anchor_replaced.old_readable) {
			json_object_object_add(o, "old_head_seq",
			                       json_object_new_int64(anchor_replaced.old_seq));
			json_object_object_add(o, "old_head_mac",
			                       json_object_new_string(anchor_replaced.old_mac));
		}
		json_object_object_add(o, "store_anchor_seq", json_object_new_int64(sa.audit_seq));
		if (sa.has_audit_mac)
			json_object_object_add(o, "store_anchor_mac",
			                       json_object_new_string(anchor_mac));
		snprintf(detail, sizeof(detail), "%s",
		         json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
		AuditRecord rec = { .time_usec = anchor_now_usec(),
			            .terminal = terminal,
			            .action = "audit.new-trail",
			            .outcome = "ok",
			            .reason = "accepted",
			            .detail = detail };
		r = audit_append(a, &rec, NULL, NULL);
		if (r >= 0)
			r = store_anchor_set_audit(s, 0, NULL);
		if (r < 0)
			goto refuse;
		fprintf(stderr, "biogated: %s/audit.db: a new audit trail begins (accepted: %s)\n",
		        state_dir, acc->new_audit_trail);
	} else {
		r = anchor_trail_problem(state_dir, a, &sa, &os, marker);
		if (r < 0)
			goto refuse;
	}

	/* The store: rolled back below what the trail saw, emptied, or its key swapped. */
	const char *store_problem = NULL;
	char why[512] = "";
	if (sa.generation < os.head_store_generation) {
		snprintf(why, sizeof(why),
		         "its changes stop at generation %" PRId64
		         ", but the audit trail saw generation %" PRId64
		         ": the newest roster, operator or finger changes were lost (a damaged "
		         "-wal, an emptied file or an old copy)",
		         sa.generation, os.head_store_generation);
		store_problem = "rolled-back";
	} else if (store_was_created(s) && marker) {
		snprintf(why, sizeof(why),
		         "empty, but this state directory was initialized (%s): the roster is gone",
		         ANCHOR_MARKER_FILE);
		store_problem = "emptied";
	} else if (sa.has_template_key_id &&
	           memcmp(sa.template_key_id, key_id, SECRET_KEY_ID_LEN) != 0) {
		snprintf(why, sizeof(why),
		         "%s/%s is not the key its enrolled fingers were sealed with", state_dir,
		         SECRET_KEY_FILE);
		store_problem = "template-key";
	}
	if (store_problem && !acc->store_loss) {
		fprintf(stderr,
		        "biogated: %s/biogate.db: %s. Restore it from a backup, or start with "
		        "--accept-store-loss=REASON\n",
		        state_dir, why);
		r = -EUCLEAN;
		goto refuse;
	}
	if (store_problem) {
		json_object *o = json_object_new_object();
		if (!o) {
			r = -ENOMEM;
			goto refuse;
		}
		json_object_object_add(o, "reason", json_object_new_string(acc->store_loss));
		json_object_object_add(o, "problem", json_object_new_string(store_problem));
		json_object_object_add(o, "store_generation", json_object_new_int64(sa.generation));
		json_object_object_add(o, "trail_generation",
		                       json_object_new_int64(os.head_store_generation));
		char detail[1024];
		snprintf(detail, sizeof(detail), "%s",
		         json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
		AuditRecord rec = { .time_usec = anchor_now_usec(),
			            .terminal = terminal,
			            .action = "store.loss-accepted",
			            .outcome = "ok",
			            .reason = store_problem,
			            .detail = detail };
		r = audit_append(a, &rec, NULL, NULL);
		if (r >= 0)
			r = audit_set_store_generation(a, sa.generation);
		if (r < 0)
			goto refuse;
		fprintf(stderr, "biogated: %s/biogate.db: %s (accepted: %s)\n", state_dir, why,
		        acc->store_loss);
	}
	if (!sa.has_template_key_id || store_problem) {
		r = store_anchor_set_key_id(s, key_id);
		if (r < 0)
			goto refuse;
	}
	audit_set_anchor(a, &anchor_ops, s);
	r = anchor_write_marker(state_dir);
	if (r < 0)
		fprintf(stderr, "biogated: %s/%s: cannot be written: %s\n", state_dir,
		        ANCHOR_MARKER_FILE, strerror(-r));
	return 0;

refuse:
	audit_abandon(a);
	return r < 0 ? r : -EUCLEAN;
}
