/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fleet_sync: the terminal's side of the fleet (see fleet_sync.h for the contract).
 *
 * After every connect, one pass in this order: heartbeat (our leases live on while we catch
 * up), revocations since the last one applied (all of them after a start), revocations made
 * here, this terminal's sessions (center vs here), then the audit upload. Each step is queued
 * from the previous step's callback; a step that fails because the connection went away just
 * stops, since the next connect starts the pass again. Only after the revocations are applied
 * is the host told "up", so that nobody is admitted on the strength of a center whose
 * revocations this terminal has not seen yet.
 *
 * Must never: tell the host a session is registered without the center's answer, upload
 * past a record whose MAC differs from the center's copy, or wait without a bound.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fleet_sync.h"

#define SYNC_REVOCATION_PAGE 500

struct FleetSync {
	sd_event *event;
	FleetConn *conn;
	FleetSyncHost host;
	char *terminal;
	uint32_t lease_sec, heartbeat_sec;
	uint64_t wait_usec;
	sd_event_source *heartbeat;

	bool up; /* reconciled and told the host */
	bool reconciling;
	int64_t revocation_mark;     /* the last revocation id applied in this process */
	int64_t center_seq;          /* -1: ask the center */
	bool revoking, revoke_again; /* a revocations query in flight; another NOTIFY came */
	bool uploading, upload_again, diverged;
	int64_t rows_last;          /* the last seq of the batch in flight */
	int64_t last_local_session; /* local_id handed to the center, strictly increasing */
	int64_t offline_since, last_contact;
	uint64_t uploaded, revocations_applied;
	FleetAuditRow rows[FLEET_UPLOAD_BATCH_MAX];
};

static void pass_revocations(FleetSync *s);
static void pass_local_revocations(FleetSync *s);
static void pass_sessions(FleetSync *s);
static void upload_next(FleetSync *s);

static int64_t
realtime_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
contact(FleetSync *s)
{
	s->last_contact = realtime_usec();
}

static void
went_up(FleetSync *s)
{
	s->reconciling = false;
	if (!s->up) {
		s->up = true;
		s->offline_since = 0;
		if (s->host.state)
			s->host.state(true, s->host.userdata);
	}
	/* A NOTIFY heard while reconciling may name a revocation newer than the pass read. */
	if (s->revoke_again) {
		s->revoke_again = false;
		pass_revocations(s);
	}
}

/* --- heartbeat ------------------------------------------------------------------------- */

static int64_t
local_seq(FleetSync *s)
{
	return s->host.audit_last_seq ? s->host.audit_last_seq(s->host.userdata) : 0;
}

static void
on_heartbeat(int r, int64_t n, void *userdata)
{
	FleetSync *s = userdata;

	if (r == 0)
		contact(s);
}

static void
heartbeat_send(FleetSync *s, fleet_done_cb_t cb)
{
	int64_t last = local_seq(s);
	int64_t queued = s->center_seq >= 0 && last > s->center_seq ? last - s->center_seq : 0;

	(void)fleet_center_heartbeat(s->conn, (int)s->lease_sec, queued, last,
	                             (uint64_t)s->heartbeat_sec * 1000000ULL, cb, s);
}

static int
on_heartbeat_timer(sd_event_source *es, uint64_t usec, void *userdata)
{
	FleetSync *s = userdata;

	if (fleet_conn_is_up(s->conn) && !s->reconciling) {
		heartbeat_send(s, on_heartbeat);
		/* The heartbeat extends every open session of this terminal at the center: one
		 * whose close never reached it (ended while reconnecting) would otherwise hold its
		 * person until the next cut. So the sessions are compared on every beat too. */
		if (s->up)
			pass_sessions(s);
	}
	(void)sd_event_source_set_time_relative(es, (uint64_t)s->heartbeat_sec * 1000000ULL);
	(void)sd_event_source_set_enabled(es, SD_EVENT_ON);
	return 0;
}

/* --- the pass after a connect ---------------------------------------------------------- */

static void
on_pass_heartbeat(int r, int64_t n, void *userdata)
{
	FleetSync *s = userdata;

	if (r < 0)
		return;
	contact(s);
	pass_revocations(s);
}

static void
on_conn_state(FleetConn *c, bool up, void *userdata)
{
	FleetSync *s = userdata;

	if (up) {
		s->reconciling = true;
		s->center_seq = -1;
		heartbeat_send(s, on_pass_heartbeat);
		return;
	}
	s->reconciling = false;
	s->uploading = false;
	s->upload_again = false;
	s->revoking = false;
	s->revoke_again = false;
	if (!s->offline_since)
		s->offline_since = realtime_usec();
	if (s->up) {
		s->up = false;
		if (s->host.state)
			s->host.state(false, s->host.userdata);
	}
}

static void
on_revocations(int r, const FleetRevocation *list, size_t n, void *userdata)
{
	FleetSync *s = userdata;

	s->revoking = false;
	if (r < 0)
		return;
	contact(s);
	for (size_t i = 0; i < n; i++) {
		/* A host that could not apply one keeps the mark before it, so it comes again. */
		if (s->host.apply_revocation(&list[i], s->host.userdata) < 0)
			break;
		s->revocation_mark = list[i].id;
		s->revocations_applied++;
	}
	if ((n == SYNC_REVOCATION_PAGE && s->revocation_mark == list[n - 1].id) ||
	    (!s->reconciling && s->revoke_again)) {
		s->revoke_again = false;
		pass_revocations(s);
		return;
	}
	if (s->reconciling)
		pass_local_revocations(s);
}

static void
pass_revocations(FleetSync *s)
{
	/* One read at a time: NOTIFYs that arrive meanwhile are folded into one more read. */
	if (s->revoking) {
		s->revoke_again = true;
		return;
	}
	if (fleet_center_revocations_since(s->conn, s->revocation_mark, SYNC_REVOCATION_PAGE,
	                                   s->wait_usec * 4, on_revocations, s) >= 0)
		s->revoking = true;
}

static void
on_filed(int r, int64_t id, void *userdata)
{
	if (r == 0)
		contact(userdata);
}

static void
file_one(const char *matching_id, const char *reason, void *ctx)
{
	FleetSync *s = ctx;

	(void)fleet_center_revoke(s->conn, s->terminal, matching_id, reason ? reason : "other",
	                          s->wait_usec * 4, on_filed, s);
}

static void
pass_local_revocations(FleetSync *s)
{
	/* Filing is idempotent at the center (a person revoked there already is left alone),
	 * so every revocation made here is simply offered again. */
	if (s->host.each_local_revocation)
		s->host.each_local_revocation(file_one, s, s->host.userdata);
	pass_sessions(s);
}

typedef struct LocalOpen {
	FleetSync *s;
	char matching_id[128];
} LocalOpen;

static void
on_local_registered(int r, int64_t id, const char *holder, void *userdata)
{
	LocalOpen *lo = userdata;
	FleetSync *s = lo->s;

	if (r == 0 && holder && s->host.conflict)
		s->host.conflict("session-elsewhere", lo->matching_id, holder, s->host.userdata);
	else if ((r == -EPERM || r == -ENOENT) && s->host.conflict)
		/* Revoked or unknown at the center: the host ends it (a revocation it has applied
		 * already ended it; anything else is for the admin to see). */
		s->host.conflict("session-refused", lo->matching_id, NULL, s->host.userdata);
	free(lo);
}

static int64_t
next_local_id(FleetSync *s)
{
	/* Unique per terminal across restarts without keeping state: time, made increasing. */
	int64_t t = realtime_usec();

	s->last_local_session = t > s->last_local_session ? t : s->last_local_session + 1;
	return s->last_local_session;
}

typedef struct SessionDiff {
	FleetSync *s;
	const char *const *center;
	size_t n_center;
	bool *seen;
} SessionDiff;

static void
diff_one(const char *matching_id, const char *operator_id, void *ctx)
{
	SessionDiff *d = ctx;
	LocalOpen *lo;

	for (size_t i = 0; i < d->n_center; i++)
		if (strcmp(d->center[i], matching_id) == 0) {
			d->seen[i] = true;
			return;
		}
	/* Only the pass after a connect registers: a session the center refused then is a
	 * conflict once, not on every heartbeat. */
	if (!d->s->reconciling)
		return;
	/* Opened here while the center was away: register it now. */
	lo = calloc(1, sizeof(*lo));
	if (!lo)
		return;
	lo->s = d->s;
	snprintf(lo->matching_id, sizeof(lo->matching_id), "%s", matching_id);
	if (fleet_center_open_session(d->s->conn, next_local_id(d->s), matching_id, operator_id,
	                              (int)d->s->lease_sec, d->s->wait_usec * 4,
	                              on_local_registered, lo) < 0)
		free(lo);
}

static void
on_center_sessions(int r, const char *const *ids, size_t n, void *userdata)
{
	FleetSync *s = userdata;
	SessionDiff d = { .s = s, .center = ids, .n_center = n };

	if (r < 0)
		return;
	contact(s);
	d.seen = calloc(n ? n : 1, sizeof(bool));
	if (!d.seen)
		return;
	if (s->host.each_local_session)
		s->host.each_local_session(diff_one, &d, s->host.userdata);
	/* Open at the center, ended here while it was away. */
	for (size_t i = 0; i < n; i++)
		if (!d.seen[i])
			(void)fleet_center_close_session(s->conn, ids[i], "ended-offline",
			                                 s->wait_usec * 4, on_filed, s);
	free(d.seen);
	went_up(s);
	fleet_sync_kick(s);
}

static void
pass_sessions(FleetSync *s)
{
	(void)fleet_center_open_sessions(s->conn, s->wait_usec * 4, on_center_sessions, s);
}

/* --- the audit upload ------------------------------------------------------------------ */

static void
diverged(FleetSync *s, int64_t seq)
{
	char detail[64];

	s->diverged = true;
	s->uploading = false;
	snprintf(detail, sizeof(detail), "seq %lld", (long long)seq);
	if (s->host.conflict)
		s->host.conflict("audit-diverged", NULL, detail, s->host.userdata);
}

static void
on_uploaded(int r, int64_t n, void *userdata)
{
	FleetSync *s = userdata;

	if (r == -EILSEQ) {
		/* The center's view moved (another process of ours uploaded?): ask again. */
		s->center_seq = -1;
	} else if (r < 0) {
		s->uploading = false;
		return;
	} else {
		contact(s);
		s->uploaded += (uint64_t)n;
		s->center_seq = s->rows_last;
	}
	upload_next(s);
}

static void
on_head(int r, int64_t seq, const uint8_t *mac, void *userdata)
{
	FleetSync *s = userdata;
	FleetAuditRow row;
	int k;

	if (r < 0) {
		s->uploading = false;
		return;
	}
	contact(s);
	if (seq > 0) {
		/* The center's last record must be ours, byte for byte, before we go on from it. */
		k = s->host.audit_read(seq - 1, &row, 1, s->host.userdata);
		if (k != 1 || row.seq != seq || memcmp(row.mac, mac, FLEET_MAC_LEN) != 0) {
			diverged(s, seq);
			return;
		}
	}
	s->center_seq = seq;
	upload_next(s);
}

static void
upload_next(FleetSync *s)
{
	int n;

	if (!fleet_conn_is_up(s->conn) || s->diverged) {
		s->uploading = false;
		return;
	}
	if (s->center_seq < 0) {
		if (fleet_center_audit_head(s->conn, s->terminal, s->wait_usec * 4, on_head, s) < 0)
			s->uploading = false;
		return;
	}
	n = s->host.audit_read(s->center_seq, s->rows, FLEET_UPLOAD_BATCH_MAX, s->host.userdata);
	if (n <= 0) {
		s->uploading = false;
		if (s->upload_again) {
			s->upload_again = false;
			fleet_sync_kick(s);
		}
		return;
	}
	s->rows_last = s->rows[n - 1].seq;
	/* A big batch takes longer than a login's bound; give it its own. */
	if (fleet_center_audit_upload(s->conn, s->terminal, s->rows, (size_t)n, 30 * 1000000ULL,
	                              on_uploaded, s) < 0)
		s->uploading = false;
}

void
fleet_sync_kick(FleetSync *s)
{
	if (!s || !s->host.audit_read || !fleet_conn_is_up(s->conn) || s->reconciling ||
	    s->diverged)
		return;
	if (s->uploading) {
		s->upload_again = true;
		return;
	}
	s->uploading = true;
	upload_next(s);
}

/* --- notifications --------------------------------------------------------------------- */

static void
on_notify(FleetConn *c, const char *channel, const char *payload, void *userdata)
{
	FleetSync *s = userdata;

	/* The payload is only a wake-up call (anyone connected can NOTIFY): read the table. */
	if (strcmp(channel, "biogate_revoke") == 0) {
		if (s->reconciling)
			s->revoke_again = true;
		else
			pass_revocations(s);
	} else if (strcmp(channel, "biogate_roster") == 0 && s->host.roster_changed)
		s->host.roster_changed(payload, s->host.userdata);
}

/* --- the host's requests --------------------------------------------------------------- */

typedef struct OpenCall {
	fleet_sync_open_cb_t cb;
	void *userdata;
} OpenCall;

static void
on_open(int r, int64_t id, const char *holder, void *userdata)
{
	OpenCall *oc = userdata;
	FleetOpenResult res;

	if (r == 0 && holder)
		res = FLEET_OPEN_HELD;
	else if (r == 0)
		res = FLEET_OPEN_OK;
	else if (r == -EPERM || r == -ENOENT)
		res = FLEET_OPEN_REFUSED;
	else
		res = FLEET_OPEN_OFFLINE;
	oc->cb(res, holder, oc->userdata);
	free(oc);
}

int
fleet_sync_open_session(FleetSync *s, const char *matching_id, const char *operator_id,
                        fleet_sync_open_cb_t cb, void *userdata)
{
	OpenCall *oc;
	int r;

	if (!s || !matching_id || !operator_id || !cb)
		return -EINVAL;
	/* Until the revocations are caught up, the center's word is not yet this terminal's. */
	if (!s->up)
		return -ENOTCONN;
	oc = calloc(1, sizeof(*oc));
	if (!oc)
		return -ENOMEM;
	oc->cb = cb;
	oc->userdata = userdata;
	r = fleet_center_open_session(s->conn, next_local_id(s), matching_id, operator_id,
	                              (int)s->lease_sec, s->wait_usec, on_open, oc);
	if (r < 0)
		free(oc);
	return r;
}

void
fleet_sync_close_session(FleetSync *s, const char *matching_id, const char *reason)
{
	if (!s || !matching_id || !s->up)
		return;
	(void)fleet_center_close_session(s->conn, matching_id, reason ? reason : "closed",
	                                 s->wait_usec * 4, on_filed, s);
}

int
fleet_sync_revoke(FleetSync *s, const char *matching_id, const char *reason, fleet_done_cb_t cb,
                  void *userdata)
{
	if (!s || !matching_id || !reason)
		return -EINVAL;
	if (!fleet_conn_is_up(s->conn))
		return -ENOTCONN;
	return fleet_center_revoke(s->conn, s->terminal, matching_id, reason, s->wait_usec * 4,
	                           cb ? cb : on_filed, cb ? userdata : s);
}

int
fleet_sync_put_template(FleetSync *s, const char *matching_id, const char *finger,
                        const uint8_t *sealed, size_t len, fleet_done_cb_t cb, void *userdata)
{
	if (!s)
		return -EINVAL;
	if (!fleet_conn_is_up(s->conn))
		return -ENOTCONN;
	return fleet_center_put_template(s->conn, s->terminal, matching_id, finger, sealed, len,
	                                 s->wait_usec * 4, cb ? cb : on_filed, cb ? userdata : s);
}

/* --- life ------------------------------------------------------------------------------ */

int
fleet_sync_new(sd_event *event, const FleetSyncConfig *cfg, const FleetSyncHost *host,
               FleetSync **ret)
{
	FleetSync *s;
	int r;

	if (!event || !cfg || !cfg->conninfo || !cfg->terminal || !host ||
	    !host->apply_revocation || !ret)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->event = sd_event_ref(event);
	s->host = *host;
	s->terminal = strdup(cfg->terminal);
	s->lease_sec = cfg->lease_sec ? cfg->lease_sec : 60;
	s->heartbeat_sec = cfg->heartbeat_sec ? cfg->heartbeat_sec : s->lease_sec / 3;
	if (s->heartbeat_sec == 0)
		s->heartbeat_sec = 1;
	s->wait_usec = cfg->wait_usec ? cfg->wait_usec : 500000;
	s->center_seq = -1;
	s->offline_since = realtime_usec();
	if (!s->terminal) {
		fleet_sync_free(s);
		return -ENOMEM;
	}
	r = fleet_conn_new(event, cfg->conninfo, &s->conn);
	if (r < 0) {
		fleet_sync_free(s);
		return r;
	}
	fleet_conn_set_backoff(s->conn, 100000,
	                       cfg->backoff_max_usec ? cfg->backoff_max_usec : 5000000);
	fleet_conn_set_state_callback(s->conn, on_conn_state, s);
	fleet_conn_set_notify_callback(s->conn, on_notify, s);
	r = fleet_conn_listen(s->conn, "biogate_revoke");
	if (r >= 0)
		r = fleet_conn_listen(s->conn, "biogate_roster");
	if (r < 0) {
		fleet_sync_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

int
fleet_sync_start(FleetSync *s)
{
	int r;

	if (!s)
		return -EINVAL;
	r = sd_event_add_time_relative(s->event, &s->heartbeat, CLOCK_MONOTONIC,
	                               (uint64_t)s->heartbeat_sec * 1000000ULL, 100000,
	                               on_heartbeat_timer, s);
	if (r < 0)
		return r;
	return fleet_conn_start(s->conn);
}

FleetSync *
fleet_sync_free(FleetSync *s)
{
	if (!s)
		return NULL;
	s->heartbeat = sd_event_source_disable_unref(s->heartbeat);
	/* Pending calls are told -ECANCELED by fleet_conn; ours ignore it. */
	s->conn = fleet_conn_free(s->conn);
	free(s->terminal);
	sd_event_unref(s->event);
	free(s);
	return NULL;
}

void
fleet_sync_status(FleetSync *s, FleetSyncStatus *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->up = s->up;
	ret->connects = fleet_conn_connects(s->conn);
	ret->offline_since_usec = s->up ? 0 : s->offline_since;
	ret->last_contact_usec = s->last_contact;
	ret->center_seq = s->center_seq;
	ret->local_seq = local_seq(s);
	ret->uploaded = s->uploaded;
	ret->revocations_applied = s->revocations_applied;
	ret->diverged = s->diverged;
	ret->last_error = fleet_conn_last_error(s->conn);
}

FleetConn *
fleet_sync_conn(FleetSync *s)
{
	return s ? s->conn : NULL;
}
