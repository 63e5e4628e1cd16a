/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * room: R14, the record of everyone entering the working area. The room log has no table of
 * its own: every entry and every exit is an audit record ("room.enter", "room.leave"), so it
 * is kept, chained and verified like the rest of the trail (R5), and an entry's ID is the
 * sequence number of its enter record. In memory this module only knows which entries are
 * still open (so that a leave can be checked and a staff logout finds its entry); that table
 * is rebuilt from the trail at start. A staff member's entry holds the matching ID, never the
 * name: the trail outlives the roster, and disposal (R16) must leave no roster name behind;
 * names are looked up in the roster when the log is listed. A visitor's entry holds what the
 * visitor gave (name, affiliation, purpose), checked as untrusted text.
 */
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actor.h"
#include "audit.h"
#include "caller.h"
#include "clock.h"
#include "log.h"
#include "manager.h"
#include "record.h"
#include "room.h"
#include "sessions.h"
#include "store.h"

#define USEC_PER_SEC INT64_C(1000000)
#define USEC_PER_DAY (86400 * USEC_PER_SEC)
/* Name, affiliation, purpose: bytes of UTF-8 each. */
#define ROOM_TEXT_MAX 128
/* Open entries held in memory; a visitor entry left open longer than the window is not
 * reloaded at start (it stays in the trail and in RoomList, but can no longer be left). */
#define ROOM_OPEN_MAX       4096
#define ROOM_REBUILD_WINDOW (31 * USEC_PER_DAY)
/* RoomList pairs an entry with a leave at most this long after the day listed. */
#define ROOM_LEAVE_HORIZON (32 * USEC_PER_DAY)
/* What a RoomList reply may hold (the wire's message limit is 64 KiB). */
#define ROOM_REPLY_BUDGET  (60u * 1024u)
#define ROOM_STAFF_PURPOSE "work"

typedef struct RoomEntry {
	int64_t entry_id;   /* seq of the enter record */
	int64_t session_id; /* staff: the session; 0 for a visitor */
	char matching_id[WIRE_MAX_ID + 1];
	/* visitor: the matching ID of the person whose session wrote the entry ("" when an
	 * admin without a session did): only they or an admin may close it */
	char author[WIRE_MAX_ID + 1];
	bool staff;
} RoomEntry;

/* One enter record on its way to disk: the reply (visitor) or the open-entry table (staff)
 * waits for its seq. */
typedef struct RoomOp {
	Room *room;     /* NULL once the room is gone: the op only frees itself then */
	Caller *caller; /* visitor enter: its reply is held */
	RoomEnteredFn entered;
	void *userdata;
	struct RoomOp *next, *prev;
	int64_t session_id;
	int64_t logout_at; /* staff: logged out before the enter was durable */
	char matching_id[WIRE_MAX_ID + 1];
	char author[WIRE_MAX_ID + 1]; /* visitor: see RoomEntry */
	bool staff;
} RoomOp;

/* A leave on its way to disk: on failure the entry is open again. */
typedef struct RoomLeaveOp {
	Room *room;
	RoomEntry entry;
} RoomLeaveOp;

struct Room {
	Manager *manager;
	RoomEntry *open;
	size_t n_open;
	RoomOp *pending;
};

/* --- the open-entry table ------------------------------------------------------------- */

static RoomEntry *
room_find(Room *r, int64_t entry_id)
{
	for (size_t i = 0; i < r->n_open; i++)
		if (r->open[i].entry_id == entry_id)
			return &r->open[i];
	return NULL;
}

static RoomEntry *
room_find_session(Room *r, int64_t session_id)
{
	for (size_t i = 0; i < r->n_open; i++)
		if (r->open[i].staff && r->open[i].session_id == session_id)
			return &r->open[i];
	return NULL;
}

static int
room_add_open(Room *r, const RoomEntry *e)
{
	if (room_find(r, e->entry_id))
		return 0;
	if (r->n_open >= ROOM_OPEN_MAX)
		return -ENOSPC;
	r->open[r->n_open++] = *e;
	return 0;
}

static void
room_remove_open(Room *r, RoomEntry *e)
{
	size_t i = (size_t)(e - r->open);
	memmove(&r->open[i], &r->open[i + 1], (r->n_open - i - 1) * sizeof(*e));
	r->n_open--;
}

/* --- records ------------------------------------------------------------------------- */

static void
room_leave_done(int res, int64_t seq, void *userdata)
{
	RoomLeaveOp *op = userdata;
	if (res < 0) {
		log_error("Room log: the leave of entry %lld could not be written: %s",
		          (long long)op->entry.entry_id, strerror(-res));
		/* Not recorded means not left. */
		if (op->room)
			(void)room_add_open(op->room, &op->entry);
	}
	free(op);
}

/* Appends the leave of e (already out of the open table). With a caller its reply is held
 * until the record is durable. */
static int
room_append_leave(Room *r, Caller *c, const RoomEntry *e, int64_t at_usec, const char *reason)
{
	Manager *m = r->manager;
	RoomLeaveOp *op = calloc(1, sizeof(*op));
	if (!op)
		return -ENOMEM;
	*op = (RoomLeaveOp){ .room = r, .entry = *e };
	char detail[160];
	if (e->staff)
		snprintf(detail, sizeof(detail),
		         "{\"entry_id\":%lld,\"staff\":true,\"session_id\":%lld}",
		         (long long)e->entry_id, (long long)e->session_id);
	else if (c)
		snprintf(detail, sizeof(detail), "{\"entry_id\":%lld,\"by_uid\":%u}",
		         (long long)e->entry_id, (unsigned)c->peer.uid);
	else
		snprintf(detail, sizeof(detail), "{\"entry_id\":%lld}", (long long)e->entry_id);
	AuditRecord rec = { .time_usec = at_usec ? at_usec : now_real_usec(),
		            .matching_id = e->staff ? e->matching_id : NULL,
		            .action = "room.leave",
		            .outcome = "ok",
		            .reason = reason,
		            .detail = detail };
	if (c && !e->staff && c->session.known) {
		rec.matching_id = c->session.matching_id;
		rec.operator_id = c->session.operator_id;
	}
	/* On failure the callback does the undo (and the helper the release), exactly as when
	 * the commit fails. */
	int res = record_append(m, c, &rec, room_leave_done, op);
	return res < 0 ? res : 0;
}

static void
room_op_unlink(RoomOp *op)
{
	if (!op->room)
		return;
	if (op->prev)
		op->prev->next = op->next;
	else
		op->room->pending = op->next;
	if (op->next)
		op->next->prev = op->prev;
	op->next = op->prev = NULL;
}

static void
room_enter_done(int res, int64_t seq, void *userdata)
{
	RoomOp *op = userdata;
	Room *r = op->room;
	room_op_unlink(op);
	if (res < 0)
		log_error("Room log: an entry could not be written: %s", strerror(-res));
	RoomEntry e = { .entry_id = seq, .session_id = op->session_id, .staff = op->staff };
	memcpy(e.matching_id, op->matching_id, sizeof(e.matching_id));
	memcpy(e.author, op->author, sizeof(e.author));
	if (res >= 0 && r) {
		if (op->staff && op->logout_at)
			(void)room_append_leave(r, NULL, &e, op->logout_at, "logout");
		else if (room_add_open(r, &e) < 0)
			log_warning("Room log: %d open entries; entry %lld cannot be left by ID",
			            ROOM_OPEN_MAX, (long long)seq);
	}
	if (op->entered)
		op->entered(res, seq, op->userdata);
	free(op);
}

/* Queues an enter record; done answers / registers once it is durable. detail is taken as
 * is. */
static int
room_append_enter(Room *r, RoomOp *op, const AuditRecord *tmpl)
{
	AuditRecord rec = *tmpl;
	rec.action = "room.enter";
	rec.outcome = "ok";
	op->room = r;
	op->next = r->pending;
	if (r->pending)
		r->pending->prev = op;
	r->pending = op;
	/* On failure the helper calls room_enter_done and drops the caller, as a failed
	 * commit does. */
	return record_append(r->manager, op->caller, &rec, room_enter_done, op);
}

void
room_staff_login(Room *r, const char *matching_id, int64_t session_id, int64_t at_usec)
{
	if (!r || !matching_id || !wire_valid_id(matching_id) || !r->manager->audit)
		return;
	RoomOp *op = calloc(1, sizeof(*op));
	if (!op) {
		log_error("Room log: out of memory recording the entry of session %lld",
		          (long long)session_id);
		return;
	}
	op->staff = true;
	op->session_id = session_id;
	snprintf(op->matching_id, sizeof(op->matching_id), "%s", matching_id);
	char detail[96];
	snprintf(detail, sizeof(detail), "{\"staff\":true,\"session_id\":%lld}",
	         (long long)session_id);
	AuditRecord rec = { .time_usec = at_usec ? at_usec : now_real_usec(),
		            .matching_id = matching_id,
		            .reason = "login",
		            .detail = detail };
	(void)room_append_enter(r, op, &rec);
}

void
room_staff_logout(Room *r, int64_t session_id, int64_t at_usec)
{
	if (!r || !r->manager->audit)
		return;
	RoomEntry *e = room_find_session(r, session_id);
	if (e) {
		RoomEntry copy = *e;
		room_remove_open(r, e);
		(void)room_append_leave(r, NULL, &copy, at_usec, "logout");
		return;
	}
	/* The login's own record may still be on its way: leave as soon as it lands. */
	for (RoomOp *op = r->pending; op; op = op->next)
		if (op->staff && op->session_id == session_id && !op->logout_at) {
			op->logout_at = at_usec ? at_usec : now_real_usec();
			return;
		}
}

/* --- start: the open entries from the trail ------------------------------------------ */

static int64_t
room_detail_int(json_object *detail, const char *key)
{
	json_object *v = NULL;
	if (!detail || !json_object_object_get_ex(detail, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return 0;
	return json_object_get_int64(v);
}

static bool
room_detail_bool(json_object *detail, const char *key)
{
	json_object *v = NULL;
	return detail && json_object_object_get_ex(detail, key, &v) &&
	       json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

static const char *
room_detail_str(json_object *detail, const char *key)
{
	json_object *v = NULL;
	if (!detail || !json_object_object_get_ex(detail, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* The record's detail, parsed; NULL when absent or not an object. */
static json_object *
room_record_detail(json_object *rec)
{
	json_object *d = NULL;
	if (!json_object_object_get_ex(rec, "detail", &d) ||
	    !json_object_is_type(d, json_type_string))
		return NULL;
	json_object *o = json_tokener_parse(json_object_get_string(d));
	if (o && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int64_t
room_rec_int(json_object *rec, const char *key)
{
	json_object *v = NULL;
	return json_object_object_get_ex(rec, key, &v) ? json_object_get_int64(v) : 0;
}

static const char *
room_rec_str(json_object *rec, const char *key)
{
	json_object *v = NULL;
	if (!json_object_object_get_ex(rec, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* The leaves, indexed by entry ID once: pairing is then a lookup per entry. */
typedef struct RoomLeaves {
	int64_t *entry_id, *at;
	size_t n;
} RoomLeaves;

static void
room_leaves_clear(RoomLeaves *l)
{
	free(l->entry_id);
	free(l->at);
	*l = (RoomLeaves){ 0 };
}

/* The room.enter records in [since, until) and the leaves in [since, leave_until) (0: open). */
static int
room_query(Audit *a, int64_t since, int64_t until, int64_t leave_until, json_object **ret_enters,
           RoomLeaves *ret_leaves)
{
	AuditFilter f = {
		.action = "room.enter", .outcome = "ok", .since_usec = since, .until_usec = until
	};
	json_object *enters = NULL, *leaves = NULL;
	int r = audit_query_json(a, &f, &enters);
	if (r < 0)
		return r;
	f.action = "room.leave";
	f.until_usec = leave_until;
	r = audit_query_json(a, &f, &leaves);
	if (r < 0) {
		json_object_put(enters);
		return r;
	}
	size_t n = json_object_array_length(leaves);
	RoomLeaves l = { .entry_id = calloc(n + 1, sizeof(int64_t)),
		         .at = calloc(n + 1, sizeof(int64_t)) };
	if (!l.entry_id || !l.at) {
		room_leaves_clear(&l);
		json_object_put(enters);
		json_object_put(leaves);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *rec = json_object_array_get_idx(leaves, i);
		json_object *d = room_record_detail(rec);
		l.entry_id[l.n] = room_detail_int(d, "entry_id");
		l.at[l.n++] = room_rec_int(rec, "time");
		json_object_put(d);
	}
	json_object_put(leaves);
	*ret_enters = enters;
	*ret_leaves = l;
	return 0;
}

/* Whether entry_id was left, and when (the first leave counts). */
static bool
room_is_left(const RoomLeaves *l, int64_t entry_id, int64_t *ret_at)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->entry_id[i] == entry_id) {
			if (ret_at)
				*ret_at = l->at[i];
			return true;
		}
	return false;
}

static int
room_rebuild(Room *r)
{
	Manager *m = r->manager;
	int64_t now = now_real_usec();
	json_object *enters = NULL;
	RoomLeaves leaves = { 0 };
	int res = room_query(m->audit, now - ROOM_REBUILD_WINDOW, 0, 0, &enters, &leaves);
	if (res < 0)
		return res;
	size_t n = json_object_array_length(enters), closed = 0;
	for (size_t i = 0; i < n; i++) {
		json_object *rec = json_object_array_get_idx(enters, i);
		int64_t seq = room_rec_int(rec, "seq");
		if (room_is_left(&leaves, seq, NULL))
			continue;
		json_object *d = room_record_detail(rec);
		RoomEntry e = { .entry_id = seq,
			        .staff = room_detail_bool(d, "staff"),
			        .session_id = room_detail_int(d, "session_id") };
		json_object_put(d);
		const char *mid = room_rec_str(rec, "matching_id");
		if (e.staff && mid)
			snprintf(e.matching_id, sizeof(e.matching_id), "%s", mid);
		/* A visitor's enter record carries the writer's matching ID: the author. */
		if (!e.staff && mid)
			snprintf(e.author, sizeof(e.author), "%s", mid);
		StoreSession row = { 0 };
		bool kept = e.staff && e.session_id > 0 && m->store &&
		            store_session_get(m->store, e.session_id, &row) >= 0 && row.open;
		if (e.staff && !kept) {
			/* A session closed at start (its login is gone, sessions_close_stale())
			 * takes the person's presence as recorded by it along; a kept one keeps it.
			 */
			(void)room_append_leave(r, NULL, &e, now, "daemon-restart");
			closed++;
		} else if (room_add_open(r, &e) < 0)
			break;
	}
	json_object_put(enters);
	room_leaves_clear(&leaves);
	if (closed)
		log_info("Room log: %zu staff entries left open by the last run closed", closed);
	return 0;
}

int
room_new(Manager *m, Room **ret)
{
	if (!m || !ret)
		return -EINVAL;
	Room *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->manager = m;
	r->open = calloc(ROOM_OPEN_MAX, sizeof(*r->open));
	if (!r->open) {
		free(r);
		return -ENOMEM;
	}
	if (m->audit) {
		int res = room_rebuild(r);
		if (res < 0) {
			room_free(r);
			return log_error_errno(res, "Room log: cannot read the audit trail: %m");
		}
	}
	*ret = r;
	return 0;
}

void
room_free(Room *r)
{
	if (!r)
		return;
	/* Records still queued keep their ops; their callbacks only free them now. */
	for (RoomOp *op = r->pending, *next; op; op = next) {
		next = op->next;
		op->room = NULL;
		op->next = op->prev = NULL;
	}
	free(r->open);
	free(r);
}

/* --- the handlers ------------------------------------------------------------------- */

/*
 * What a visitor says about themselves is shown to the admin and printed in reports: 1..128
 * bytes of valid UTF-8 without control characters of any kind (C0, DEL, C1), line or
 * paragraph separators, or the bidirectional overrides that make a printed name read
 * differently from what is stored.
 */
bool
room_valid_text(const char *s)
{
	if (!s)
		return false;
	size_t n = strlen(s);
	if (n == 0 || n > ROOM_TEXT_MAX)
		return false;
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		uint32_t cp;
		size_t len;
		if (c < 0x80) {
			cp = c;
			len = 1;
		} else if (c >= 0xc2 && c <= 0xdf) {
			cp = c & 0x1f;
			len = 2;
		} else if (c >= 0xe0 && c <= 0xef) {
			cp = c & 0x0f;
			len = 3;
		} else if (c >= 0xf0 && c <= 0xf4) {
			cp = c & 0x07;
			len = 4;
		} else
			return false;
		if (i + len > n)
			return false;
		for (size_t k = 1; k < len; k++) {
			unsigned char cc = (unsigned char)s[i + k];
			if ((cc & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (cc & 0x3f);
		}
		/* Overlong forms, surrogates, beyond U+10FFFF. */
		if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
		    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
			return false;
		i += len;
	}
	return true;
}

int
room_enter(Room *r, Caller *c, const char *name, const char *affiliation, const char *purpose,
           RoomEnteredFn entered, void *userdata)
{
	Manager *m = r->manager;
	if (r->n_open >= ROOM_OPEN_MAX)
		return -EBUSY;
	json_object *d = json_object_new_object();
	json_object_object_add(d, "name", json_object_new_string(name));
	json_object_object_add(d, "affiliation", json_object_new_string(affiliation));
	json_object_object_add(d, "purpose", json_object_new_string(purpose));
	json_object_object_add(d, "staff", json_object_new_boolean(false));
	actor_describe(m, c, d); /* by_uid, by_loginuid, by_matching_id (actor.h) */
	const char *detail = json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN);
	RoomOp *op = calloc(1, sizeof(*op));
	if (!detail || !op) {
		free(op);
		json_object_put(d);
		return -ENOMEM;
	}
	*op = (RoomOp){ .caller = c, .entered = entered, .userdata = userdata };
	/* Who wrote the entry: the caller's own session, when it has one. */
	StoreSession ss;
	bool in_session = m->sessions && sessions_find_by_peer(m->sessions, &c->peer, &ss) == 0;
	if (in_session)
		snprintf(op->author, sizeof(op->author), "%s", ss.matching_id);
	AuditRecord rec = { .time_usec = now_real_usec(),
		            .matching_id = in_session ? ss.matching_id : NULL,
		            .operator_id = in_session ? ss.operator_id : NULL,
		            .reason = "visitor",
		            .detail = detail };
	(void)room_append_enter(r, op, &rec);
	json_object_put(d);
	return 0;
}

int
room_leave(Room *r, Caller *c, int64_t entry_id)
{
	RoomEntry *e = entry_id > 0 ? room_find(r, entry_id) : NULL;
	if (!e)
		return -ENOENT;
	/* A staff entry ends with its session, never by hand: the log says when they logged
	 * out, not when someone said they did. */
	if (e->staff)
		return -EPERM;
	/* A visitor's entry is closed by the person who wrote it, or by an admin: another
	 * operator at the counter must not end someone else's record of a visit. */
	PeerSession ps;
	bool author = e->author[0] && sessions_of_caller(r->manager, c, &ps) &&
	              strcmp(ps.matching_id, e->author) == 0;
	if (!author && !caller_is_admin(r->manager, c))
		return -EACCES;
	RoomEntry copy = *e;
	room_remove_open(r, e);
	return room_append_leave(r, c, &copy, now_real_usec(), "visitor");
}

/* "YYYY-MM-DD" → local midnight of that day and of the next; false when malformed. */
bool
room_parse_date(const char *s, int64_t *ret_from, int64_t *ret_to)
{
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (size_t i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	int y = atoi(s), mo = atoi(s + 5), d = atoi(s + 8);
	if (y < 2000 || y > 2999 || mo < 1 || mo > 12 || d < 1 || d > 31)
		return false;
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_isdst = -1 };
	time_t from = mktime(&tm);
	/* mktime normalizes 2026-02-30 into March: that is not a date. */
	if (from == (time_t)-1 || tm.tm_mday != d || tm.tm_mon != mo - 1)
		return false;
	struct tm next = {
		.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d + 1, .tm_isdst = -1
	};
	time_t to = mktime(&next);
	if (to == (time_t)-1)
		return false;
	*ret_from = (int64_t)from * USEC_PER_SEC;
	*ret_to = (int64_t)to * USEC_PER_SEC;
	return true;
}

/* A listed staff entry shows the roster's current name and affiliation (none once the
 * roster entry has been erased). */
static void
room_add_staff_names(Manager *m, json_object *o, const char *matching_id)
{
	json_object *st = NULL;
	const char *name = NULL, *aff = NULL;
	if (matching_id && store_staff_json(m->store, matching_id, &st) == 0) {
		name = room_rec_str(st, "name");
		aff = room_rec_str(st, "affiliation");
	}
	json_object_object_add(o, "name", name && *name ? json_object_new_string(name) : NULL);
	json_object_object_add(o, "affiliation", aff && *aff ? json_object_new_string(aff) : NULL);
	json_object_put(st);
}

static json_object *
room_list_entry(Manager *m, json_object *rec, const RoomLeaves *leaves)
{
	json_object *d = room_record_detail(rec);
	int64_t seq = room_rec_int(rec, "seq");
	bool staff = room_detail_bool(d, "staff");
	json_object *o = json_object_new_object();
	json_object_object_add(o, "entry_id", json_object_new_int64(seq));
	if (staff) {
		const char *mid = room_rec_str(rec, "matching_id");
		room_add_staff_names(m, o, mid);
		json_object_object_add(o, "purpose", json_object_new_string(ROOM_STAFF_PURPOSE));
	} else {
		static const char *const keys[] = { "name", "affiliation", "purpose" };
		for (size_t i = 0; i < 3; i++) {
			const char *v = room_detail_str(d, keys[i]);
			json_object_object_add(o, keys[i], v ? json_object_new_string(v) : NULL);
		}
	}
	json_object_object_add(o, "entered_at", json_object_new_int64(room_rec_int(rec, "time")));
	int64_t left = 0;
	json_object_object_add(
	    o, "left_at", room_is_left(leaves, seq, &left) ? json_object_new_int64(left) : NULL);
	json_object_object_add(o, "staff", json_object_new_boolean(staff));
	if (staff) {
		const char *mid = room_rec_str(rec, "matching_id");
		json_object_object_add(o, "matching_id", mid ? json_object_new_string(mid) : NULL);
		json_object_object_add(o, "session_id",
		                       json_object_new_int64(room_detail_int(d, "session_id")));
	}
	json_object_put(d);
	return o;
}

int
room_list(Manager *m, Caller *c, const char *date, json_object **ret)
{
	int64_t from = 0, to = 0;
	if (!room_parse_date(date, &from, &to))
		return -EINVAL;

	/* Leaves come later than their entries: look ahead past the day. */
	json_object *enters = NULL;
	RoomLeaves leaves = { 0 };
	int r = room_query(m->audit, from, to, from + ROOM_LEAVE_HORIZON, &enters, &leaves);
	if (r < 0)
		return log_error_errno(r, "Room log: cannot read the audit trail: %m");
	json_object *list = json_object_new_array();
	size_t n = json_object_array_length(enters), used = 64;
	bool truncated = false;
	for (size_t i = 0; i < n; i++) {
		json_object *e = room_list_entry(m, json_object_array_get_idx(enters, i), &leaves);
		size_t len = 0;
		(void)json_object_to_json_string_length(e, JSON_C_TO_STRING_PLAIN, &len);
		if (used + len + 1 > ROOM_REPLY_BUDGET) {
			json_object_put(e);
			truncated = true;
			break;
		}
		used += len + 1;
		json_object_array_add(list, e);
	}
	json_object_put(enters);
	room_leaves_clear(&leaves);

	/* Listing shows visitors' names: who looked, and at which day, is evidence too (R5). */
	char detail[96];
	snprintf(detail, sizeof(detail), "{\"by_uid\":%u,\"date\":\"%s\"}", (unsigned)c->peer.uid,
	         date);
	AuditRecord rec = { .action = "room.list", .outcome = "ok", .detail = detail };
	(void)record_append(m, c, &rec, NULL, NULL);

	json_object *o = json_object_new_object();
	json_object_object_add(o, "date", json_object_new_string(date));
	json_object_object_add(o, "entries", list);
	if (truncated)
		json_object_object_add(o, "truncated", json_object_new_boolean(true));
	*ret = o;
	return 0;
}
