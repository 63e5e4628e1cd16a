/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fleet: the daemon's side of the fleet (see fleet.h; the protocol is fleet/fleet_sync.c).
 *
 * The local store stays this terminal's truth when the center is away and its cache when it
 * is there: people, operator IDs and sealed templates are copied in from the center (on every
 * connect, and for one person on a biogate_roster NOTIFY); revocations are applied from the
 * center's table whoever made them. The center's copy never overrides a revocation here (a
 * revoked person is frozen in the store), and nationality never comes down (terminals cannot
 * read it: the cache holds "-").
 *
 * Must never admit a login offline beyond the policy's offline-max-sec after the last contact
 * (kept across restarts in fleet.contact), nor let a login wait for the center longer than the
 * policy's wait-ms.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "fleet.h"
#include "fleet_sync.h"
#include "incidents.h"
#include "log.h"
#include "manager.h"
#include "policy.h"
#include "record.h"
#include "sessions.h"
#include "store.h"

#define FLEET_CONTACT_FILE  "fleet.contact"
#define FLEET_CONTACT_EVERY (60 * 1000000LL) /* write the last contact at most once a minute */
#define FLEET_KICK_USEC     (1000 * 1000ULL)

struct Fleet {
	Manager *m;
	FleetSync *sync;
	char terminal[41];
	char *conninfo;
	sd_event_source *kick;
	int64_t contact_saved; /* the last contact time written to fleet.contact */
	int64_t contact_start; /* what fleet.contact said at start (0: never) */
	/* Strings for the rows handed to the upload, valid until the next read. */
	char *arena;
	size_t arena_len, arena_cap;
	FleetAuditRow *rows;
	size_t n_rows, max_rows;
};

struct FleetOpen {
	Fleet *f;
	FleetOpenDoneFn done;
	void *userdata;
	bool cancelled;
	char matching_id[WIRE_MAX_ID + 1];
};

static const PolicySettings *
settings(Fleet *f)
{
	return policy_settings(f->m->policy);
}

static void
fleet_record(Fleet *f, const char *matching_id, const char *operator_id, const char *action,
             const char *outcome, const char *reason, const char *detail)
{
	AuditRecord rec = { .matching_id = matching_id,
		            .operator_id = operator_id,
		            .action = action,
		            .outcome = outcome,
		            .reason = reason,
		            .detail = detail };
	(void)record_append(f->m, NULL, &rec, NULL, NULL);
}

/* --- the last contact, across restarts ------------------------------------------------- */

static int64_t
contact_load(Fleet *f)
{
	char path[4096], buf[32] = "";
	int64_t v = 0;

	snprintf(path, sizeof(path), "%s/%s", f->m->state_dir, FLEET_CONTACT_FILE);
	FILE *fp = fopen(path, "re");
	if (!fp)
		return 0;
	if (fgets(buf, sizeof(buf), fp))
		v = strtoll(buf, NULL, 10);
	fclose(fp);
	return v > 0 ? v : 0;
}

static void
contact_save(Fleet *f, int64_t t)
{
	char path[4096], tmp[4200], buf[32];

	if (t - f->contact_saved < FLEET_CONTACT_EVERY)
		return;
	snprintf(path, sizeof(path), "%s/%s", f->m->state_dir, FLEET_CONTACT_FILE);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return;
	int n = snprintf(buf, sizeof(buf), "%lld\n", (long long)t);
	bool ok = write(fd, buf, (size_t)n) == n && fsync(fd) == 0;
	close(fd);
	if (ok && rename(tmp, path) == 0)
		f->contact_saved = t;
	else
		(void)unlink(tmp);
}

static int64_t
last_contact(Fleet *f)
{
	FleetSyncStatus st;

	fleet_sync_status(f->sync, &st);
	if (st.last_contact_usec > 0) {
		contact_save(f, st.last_contact_usec);
		return st.last_contact_usec;
	}
	return f->contact_start;
}

/* --- the host callbacks for fleet_sync ------------------------------------------------- */

static void host_conflict(const char *kind, const char *matching_id, const char *detail,
                          void *userdata);

/* R17: a person this terminal let in offline after the center had revoked them (the
 * revocation happened during the cut). Found once, when the revocation arrives. */
static void
offline_after_revocation(Fleet *f, const FleetRevocation *rev)
{
	StoreStaff st;
	if (store_staff_by_id(f->m->store, rev->matching_id, &st) < 0 || !st.active)
		return; /* applied here before: nothing new to find */
	AuditFilter flt = { .matching_id = rev->matching_id,
		            .action = "session.open",
		            .outcome = "ok",
		            .since_usec = rev->revoked_at_usec };
	json_object *a = NULL;
	if (audit_query_json(f->m->audit, &flt, &a) < 0)
		return;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *reason = NULL;
		if (json_object_object_get_ex(json_object_array_get_idx(a, i), "reason", &reason) &&
		    json_object_get_string(reason) &&
		    strcmp(json_object_get_string(reason), "fleet-offline") == 0) {
			host_conflict("login-after-revocation", rev->matching_id,
			              rev->revoked_on ? rev->revoked_on : "center", f);
			break;
		}
	}
	json_object_put(a);
}

static int
host_apply_revocation(const FleetRevocation *rev, void *userdata)
{
	Fleet *f = userdata;
	char actor[80];
	int erased = 0;

	snprintf(actor, sizeof(actor), "fleet:%s", rev->revoked_on ? rev->revoked_on : "center");
	offline_after_revocation(f, rev);
	int r = store_revoke(f->m->store, rev->matching_id, actor, now_real_usec(), &erased);
	if (r == -EALREADY || r == -ENOENT)
		return 0; /* revoked here already, or never known here */
	if (r < 0 && r != -EBUSY && r != -ECANCELED) {
		log_error("Applying the fleet's revocation of %s failed: %s", rev->matching_id,
		          strerror(-r));
		return r;
	}
	int ended = sessions_end_matching_id(f->m->sessions, rev->matching_id, "revoked");
	log_info("Revoked matching ID %s from the fleet (by %s): %d template(s) erased, "
	         "%d session(s) ended",
	         rev->matching_id, actor, erased, ended < 0 ? 0 : ended);
	char detail[256];
	snprintf(
	    detail, sizeof(detail),
	    "{\"by\":\"%s\",\"revocation\":%lld,\"templates_erased\":%d,\"sessions_ended\":%d}",
	    actor, (long long)rev->id, erased, ended < 0 ? 0 : ended);
	fleet_record(f, rev->matching_id, NULL, "staff.revoke", "ok", rev->reason, detail);
	return 0;
}

typedef struct Each {
	fleet_sync_each_fn fn;
	void *ctx;
} Each;

static void
host_each_local_revocation(fleet_sync_each_fn fn, void *ctx, void *userdata)
{
	Fleet *f = userdata;
	json_object *a = NULL;

	if (store_staff_list_json(f->m->store, &a) < 0)
		return;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *o = json_object_array_get_idx(a, i), *v = NULL;
		if (json_object_object_get_ex(o, "state", &v) &&
		    strcmp(json_object_get_string(v), "revoked") == 0 &&
		    json_object_object_get_ex(o, "matching_id", &v))
			fn(json_object_get_string(v), "other", ctx);
	}
	json_object_put(a);
}

static void
host_each_local_session(fleet_sync_each_fn fn, void *ctx, void *userdata)
{
	Fleet *f = userdata;
	json_object *a = NULL;

	if (store_sessions_json(f->m->store, &a) < 0)
		return;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *o = json_object_array_get_idx(a, i), *mid = NULL, *oid = NULL;
		if (json_object_object_get_ex(o, "matching_id", &mid) &&
		    json_object_object_get_ex(o, "operator_id", &oid))
			fn(json_object_get_string(mid), json_object_get_string(oid), ctx);
	}
	json_object_put(a);
}

static int64_t
host_audit_last_seq(void *userdata)
{
	Fleet *f = userdata;
	return audit_last_seq(f->m->audit);
}

static const char *
arena_dup(Fleet *f, const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	if (f->arena_len + n > f->arena_cap)
		return NULL;
	char *p = f->arena + f->arena_len;
	memcpy(p, s, n);
	f->arena_len += n;
	return p;
}

static int
read_row(int64_t seq, const AuditRecord *rec, const uint8_t *mac, void *userdata)
{
	Fleet *f = userdata;
	if (f->n_rows >= f->max_rows)
		return -ENOBUFS;
	FleetAuditRow *w = &f->rows[f->n_rows];
	memset(w, 0, sizeof(*w));
	w->seq = seq;
	w->time_usec = rec->time_usec;
	const char *src[] = { rec->terminal, rec->matching_id, rec->operator_id, rec->action,
		              rec->outcome,  rec->reason,      rec->detail,      rec->key_hmac };
	const char **dst[] = { &w->terminal, &w->matching_id, &w->operator_id, &w->action,
		               &w->outcome,  &w->reason,      &w->detail,      &w->key_hmac };
	for (size_t i = 0; i < sizeof(src) / sizeof(src[0]); i++) {
		*dst[i] = arena_dup(f, src[i]);
		if (src[i] && !*dst[i])
			return f->n_rows > 0 ? -ENOSPC : -ENOBUFS; /* this batch is full */
	}
	memcpy(w->mac, mac, FLEET_MAC_LEN);
	f->n_rows++;
	return 0;
}

static int
host_audit_read(int64_t after, FleetAuditRow *rows, size_t max, void *userdata)
{
	Fleet *f = userdata;
	f->arena_len = 0;
	f->n_rows = 0;
	f->rows = rows;
	f->max_rows = max;
	int r = audit_read_after(f->m->audit, after, max, read_row, f);
	if (r == -ENOSPC)
		return (int)f->n_rows; /* the rest goes in the next batch */
	return r < 0 ? r : (int)f->n_rows;
}

static void
host_conflict(const char *kind, const char *matching_id, const char *detail, void *userdata)
{
	Fleet *f = userdata;
	char situation[200], rec_detail[256];

	snprintf(situation, sizeof(situation), "fleet %s%s%s", kind, detail ? ": " : "",
	         detail ? detail : "");
	log_warning("Fleet conflict: %s %s %s", kind, matching_id ? matching_id : "-",
	            detail ? detail : "-");
	snprintf(rec_detail, sizeof(rec_detail), "{\"kind\":\"%s\",\"other\":\"%s\"}", kind,
	         detail ? detail : "");
	fleet_record(f, matching_id, NULL, "fleet.conflict", "violation", kind, rec_detail);
	incidents_note(f->m->incidents, INCIDENT_FLEET_CONFLICT, matching_id, NULL, situation);
	/* A session the center will not register (revoked there) ends here too. */
	if (matching_id && strcmp(kind, "session-refused") == 0)
		(void)sessions_end_matching_id(f->m->sessions, matching_id, "fleet-refused");
}

static void roster_fetch(Fleet *f, const char *matching_id);

static void
host_state(bool up, void *userdata)
{
	Fleet *f = userdata;

	log_info("Fleet center %s", up ? "reached" : "lost");
	fleet_record(f, NULL, NULL, up ? "fleet.online" : "fleet.offline", "ok", NULL, NULL);
	if (up) {
		(void)last_contact(f);
		roster_fetch(f, NULL);
	}
}

static void
host_roster_changed(const char *matching_id, void *userdata)
{
	Fleet *f = userdata;
	/* The payload is only a hint; an ID that is not one refetches everything. */
	roster_fetch(f, wire_valid_id(matching_id) ? matching_id : NULL);
}

/* --- the roster cache ------------------------------------------------------------------ */

static int32_t
date_yyyymmdd(const char *s)
{
	int y, mo, d;
	if (!s || sscanf(s, "%4d-%2d-%2d", &y, &mo, &d) != 3)
		return 0;
	return y * 10000 + mo * 100 + d;
}

static void
on_roster_staff(FleetConn *c, int r, const PGresult *res, void *userdata)
{
	Fleet *f = userdata;
	if (r < 0 || PQnfields(res) != 9)
		return;
	for (int i = 0; i < PQntuples(res); i++) {
		const char *mid = PQgetvalue(res, i, 0);
		if (strcmp(PQgetvalue(res, i, 8), "active") != 0)
			continue; /* revocations come through their own table */
		StoreStaff st;
		StoreStaffEdit e = {
			.name = PQgetvalue(res, i, 2),
			.affiliation = PQgetvalue(res, i, 3),
			.expertise = PQgetisnull(res, i, 4) ? NULL : PQgetvalue(res, i, 4),
			.track_record = PQgetisnull(res, i, 5) ? NULL : PQgetvalue(res, i, 5),
			.pledge_date = date_yyyymmdd(PQgetvalue(res, i, 6)),
			.training_date = date_yyyymmdd(PQgetvalue(res, i, 7)),
			.actor = "fleet",
		};
		int k = store_staff_by_id(f->m->store, mid, &st);
		if (k == -ENOENT) {
			StoreStaffIn in = { .matching_id = mid,
				            .unix_user = PQgetvalue(res, i, 1),
				            .name = e.name,
				            .affiliation = e.affiliation,
				            .expertise = e.expertise,
				            .track_record = e.track_record,
				            /* R7: a terminal cannot read it at the center */
				            .nationality = "-",
				            .actor = "fleet" };
			k = store_staff_add(f->m->store, &in, now_real_usec());
		}
		if (k >= 0 && (e.pledge_date || e.training_date || e.expertise || e.track_record))
			k = store_staff_edit(f->m->store, mid, &e, now_real_usec());
		if (k < 0 && k != -EPERM)
			log_warning("Fleet roster: %s not copied: %s", mid, strerror(-k));
	}
}

static void
on_roster_operators(FleetConn *c, int r, const PGresult *res, void *userdata)
{
	Fleet *f = userdata;
	if (r < 0 || PQnfields(res) != 3)
		return;
	for (int i = 0; i < PQntuples(res); i++) {
		int k =
		    store_operator_grant(f->m->store, PQgetvalue(res, i, 1), PQgetvalue(res, i, 0),
		                         PQgetvalue(res, i, 2), now_real_usec());
		if (k < 0 && k != -EPERM && k != -EEXIST)
			log_warning("Fleet roster: operator ID %s not copied: %s",
			            PQgetvalue(res, i, 0), strerror(-k));
	}
}

static void
on_roster_templates(FleetConn *c, int r, const PGresult *res, void *userdata)
{
	Fleet *f = userdata;
	if (r < 0 || PQnfields(res) != 3)
		return;
	for (int i = 0; i < PQntuples(res); i++) {
		size_t len = 0;
		unsigned char *blob =
		    PQunescapeBytea((const unsigned char *)PQgetvalue(res, i, 2), &len);
		if (!blob)
			continue;
		int k = store_finger_put(f->m->store, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		                         blob, len, now_real_usec());
		explicit_bzero(blob, len);
		PQfreemem(blob);
		if (k < 0 && k != -EPERM)
			log_warning("Fleet roster: a template of %s not copied: %s",
			            PQgetvalue(res, i, 0), strerror(-k));
	}
}

/* Copies the center's roster (one person, or everyone) into the store: people first, then
 * their operator IDs, then their sealed templates (the FIFO keeps that order). */
static void
roster_fetch(Fleet *f, const char *matching_id)
{
	FleetConn *c = fleet_sync_conn(f->sync);
	const char *v[1] = { matching_id };
	uint64_t t = 30 * 1000000ULL;

	(void)fleet_conn_query(c,
	                       "SELECT matching_id, unix_user, name, affiliation, expertise, "
	                       "track_record, pledge_date, training_date, state FROM "
	                       "biogate_fleet.staff WHERE $1::text IS NULL OR matching_id = $1",
	                       1, v, NULL, NULL, t, on_roster_staff, f);
	(void)fleet_conn_query(c,
	                       "SELECT operator_id, matching_id, role FROM biogate_fleet.operators "
	                       "WHERE state = 'active' AND ($1::text IS NULL OR matching_id = $1)",
	                       1, v, NULL, NULL, t, on_roster_operators, f);
	(void)fleet_conn_query(c,
	                       "SELECT matching_id, finger, sealed FROM biogate_fleet.templates "
	                       "WHERE $1::text IS NULL OR matching_id = $1",
	                       1, v, NULL, NULL, t, on_roster_templates, f);
}

/* --- the daemon's calls ---------------------------------------------------------------- */

static int
on_kick(sd_event_source *s, uint64_t usec, void *userdata)
{
	Fleet *f = userdata;
	fleet_sync_kick(f->sync);
	(void)sd_event_source_set_time_relative(s, FLEET_KICK_USEC);
	(void)sd_event_source_set_enabled(s, SD_EVENT_ON);
	return 0;
}

/* conninfo plus passfile= / sslkey= from the service's credentials, when they are there. */
static char *
fleet_conninfo(const char *base)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	char pass[4200] = "", key[4200] = "";
	char *out = NULL;

	if (dir && dir[0] == '/') {
		char p[4096];
		snprintf(p, sizeof(p), "%s/biogate-fleet-pgpass", dir);
		if (access(p, R_OK) == 0 && !strstr(base, "passfile="))
			snprintf(pass, sizeof(pass), " passfile='%s'", p);
		snprintf(p, sizeof(p), "%s/biogate-fleet-key", dir);
		if (access(p, R_OK) == 0 && !strstr(base, "sslkey="))
			snprintf(key, sizeof(key), " sslkey='%s'", p);
	}
	if (asprintf(&out, "%s%s%s", base, pass, key) < 0)
		return NULL;
	return out;
}

int
fleet_new(Manager *m, Fleet **ret)
{
	*ret = NULL;
	if (!m->config.fleet_terminal[0])
		return 0;
	Fleet *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->m = m;
	snprintf(f->terminal, sizeof(f->terminal), "%s", m->config.fleet_terminal);
	f->arena_cap = FLEET_UPLOAD_BATCH_MAX * 1024;
	f->arena = malloc(f->arena_cap);
	f->conninfo = fleet_conninfo(m->config.fleet_conninfo);
	if (!f->arena || !f->conninfo) {
		fleet_free(f);
		return -ENOMEM;
	}
	f->contact_start = contact_load(f);
	f->contact_saved = f->contact_start;
	const PolicySettings *ps = settings(f);
	FleetSyncConfig cfg = { .conninfo = f->conninfo,
		                .terminal = f->terminal,
		                .lease_sec = ps->fleet_lease_sec,
		                .wait_usec = (uint64_t)ps->fleet_wait_ms * 1000 };
	FleetSyncHost host = { .userdata = f,
		               .apply_revocation = host_apply_revocation,
		               .each_local_revocation = host_each_local_revocation,
		               .each_local_session = host_each_local_session,
		               .audit_last_seq = host_audit_last_seq,
		               .audit_read = host_audit_read,
		               .conflict = host_conflict,
		               .state = host_state,
		               .roster_changed = host_roster_changed };
	int r = fleet_sync_new(m->event, &cfg, &host, &f->sync);
	if (r < 0) {
		log_error("[fleet] conninfo is not a valid connection string");
		fleet_free(f);
		return r;
	}
	r = sd_event_add_time_relative(m->event, &f->kick, CLOCK_MONOTONIC, FLEET_KICK_USEC, 100000,
	                               on_kick, f);
	if (r >= 0)
		r = fleet_sync_start(f->sync);
	if (r < 0) {
		fleet_free(f);
		return r;
	}
	log_info("Fleet: terminal %s, center connecting", f->terminal);
	*ret = f;
	return 0;
}

void
fleet_free(Fleet *f)
{
	if (!f)
		return;
	f->kick = sd_event_source_disable_unref(f->kick);
	f->sync = fleet_sync_free(f->sync);
	if (f->conninfo) {
		explicit_bzero(f->conninfo, strlen(f->conninfo));
		free(f->conninfo);
	}
	free(f->arena);
	free(f);
}

static void
on_open(FleetOpenResult res, const char *holder, void *userdata)
{
	FleetOpen *op = userdata;
	Fleet *f = op->f;
	if (op->cancelled) {
		if (res == FLEET_OPEN_OK)
			fleet_sync_close_session(f->sync, op->matching_id, "abandoned");
		free(op);
		return;
	}
	int r = 0;
	bool offline = false;
	if (res == FLEET_OPEN_HELD)
		r = -EBUSY;
	else if (res == FLEET_OPEN_REFUSED)
		r = -EPERM;
	else if (res == FLEET_OPEN_OFFLINE) {
		offline = true;
		r = 0;
	}
	if (offline) {
		/* The center did not answer in time: the same rules as when it is known away. */
		const PolicySettings *ps = settings(f);
		int64_t since = last_contact(f);
		if (!ps->fleet_offline_login || since <= 0 ||
		    now_real_usec() - since > (int64_t)ps->fleet_offline_max_sec * 1000000)
			r = -ENETUNREACH;
	}
	op->done(r, holder, offline, op->userdata);
	free(op);
}

int
fleet_open_session(Fleet *f, const char *matching_id, const char *operator_id, FleetOpenDoneFn done,
                   void *userdata, FleetOpen **ret)
{
	*ret = NULL;
	if (!f) {
		done(0, NULL, false, userdata);
		return 0;
	}
	FleetOpen *op = calloc(1, sizeof(*op));
	if (!op)
		return -ENOMEM;
	op->f = f;
	op->done = done;
	op->userdata = userdata;
	snprintf(op->matching_id, sizeof(op->matching_id), "%s", matching_id);
	int r = fleet_sync_open_session(f->sync, matching_id, operator_id, on_open, op);
	if (r == -ENOTCONN) {
		/* Known away: decide now, by the offline rules. */
		on_open(FLEET_OPEN_OFFLINE, NULL, op);
		return 0;
	}
	if (r < 0) {
		free(op);
		return r;
	}
	*ret = op;
	return 0;
}

void
fleet_open_cancel(Fleet *f, FleetOpen *op)
{
	if (op)
		op->cancelled = true;
}

void
fleet_session_closed(Fleet *f, const char *matching_id, const char *reason)
{
	if (f)
		fleet_sync_close_session(f->sync, matching_id, reason);
}

void
fleet_revoked(Fleet *f, const char *matching_id, const char *reason)
{
	if (!f)
		return;
	/* Away: filed when the center is back (each_local_revocation). */
	(void)fleet_sync_revoke(f->sync, matching_id, reason, NULL, NULL);
}

void
fleet_enrolled(Fleet *f, const char *matching_id, const char *finger, const uint8_t *sealed,
               size_t len)
{
	if (!f)
		return;
	int r = fleet_sync_put_template(f->sync, matching_id, finger, sealed, len, NULL, NULL);
	if (r < 0)
		log_warning("Fleet: the template of %s enrolled here is not at the center yet: %s",
		            matching_id, strerror(-r));
}

json_object *
fleet_status_json(Fleet *f)
{
	if (!f)
		return NULL;
	FleetSyncStatus st;
	fleet_sync_status(f->sync, &st);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "terminal", json_object_new_string(f->terminal));
	json_object_object_add(o, "up", json_object_new_boolean(st.up));
	json_object_object_add(o, "offline_since", json_object_new_int64(st.offline_since_usec));
	json_object_object_add(o, "last_contact", json_object_new_int64(last_contact(f)));
	json_object_object_add(o, "center_seq", json_object_new_int64(st.center_seq));
	json_object_object_add(o, "local_seq", json_object_new_int64(st.local_seq));
	json_object_object_add(
	    o, "queued",
	    json_object_new_int64(st.center_seq >= 0 && st.local_seq > st.center_seq
	                              ? st.local_seq - st.center_seq
	                              : 0));
	json_object_object_add(o, "uploaded", json_object_new_int64((int64_t)st.uploaded));
	json_object_object_add(o, "revocations_applied",
	                       json_object_new_int64((int64_t)st.revocations_applied));
	json_object_object_add(o, "diverged", json_object_new_boolean(st.diverged));
	json_object_object_add(o, "error", json_object_new_string(st.last_error));
	return o;
}
