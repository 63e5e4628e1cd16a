/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fleet_conn: the asynchronous libpq connection (see fleet_conn.h for the contract).
 *
 * States: DOWN (waiting for the retry timer), CONNECTING (PQconnectPoll steps), LISTENING
 * (connected; the LISTEN statements are in flight), UP. Only UP accepts queries. Everything
 * that can lose the connection ends in conn_lost(), which fails what was in flight and queued,
 * tells the state callback, and arms the retry timer: one way down, one way back.
 *
 * Must never: block on the socket (the connection is non-blocking once made, and every wait is
 * an sd-event source), keep a query without a bound when it has a timeout, or log parameters.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "fleet_conn.h"

#define FLEET_QUEUE_MAX            1024
#define FLEET_BACKOFF_MIN_USEC     (100 * 1000ULL)
#define FLEET_BACKOFF_MAX_USEC     (5 * 1000 * 1000ULL)
#define FLEET_CONNECT_TIMEOUT_USEC (5 * 1000 * 1000ULL)
#define FLEET_CHANNELS_MAX         16
#define FLEET_PREPARED_MAX         32
#define FLEET_ERROR_MAX            512

typedef enum FleetState {
	FLEET_DOWN,
	FLEET_CONNECTING,
	FLEET_LISTENING,
	FLEET_UP,
} FleetState;

typedef struct FleetQuery FleetQuery;
struct FleetQuery {
	FleetQuery *next;
	FleetConn *conn;
	char *sql;
	int n_params;
	char **values;
	int *lengths;
	int *formats;
	bool internal;  /* the LISTEN batch: simple protocol, no callback */
	char *stmt;     /* a statement prepared once per connection under this name, or NULL */
	bool preparing; /* its PQsendPrepare is what is in flight */
	fleet_result_cb_t cb;
	void *userdata;
	sd_event_source *timer;
};

struct FleetConn {
	sd_event *event;
	char *conninfo;
	PGconn *pg;
	FleetState state;
	sd_event_source *io;
	sd_event_source *timer; /* retry delay while DOWN, attempt deadline while CONNECTING */
	bool want_write;

	FleetQuery *inflight;
	PGresult *result; /* what the in-flight query returned so far */
	FleetQuery *head, *tail;
	unsigned queued;

	char *channels[FLEET_CHANNELS_MAX];
	unsigned n_channels;
	/* Statements prepared on this connection (forgotten with it). */
	char *prepared[FLEET_PREPARED_MAX];
	unsigned n_prepared;

	uint64_t backoff_min, backoff_max, backoff, connect_timeout;
	unsigned connects;
	char error[FLEET_ERROR_MAX];

	fleet_state_cb_t state_cb;
	void *state_userdata;
	fleet_notify_cb_t notify_cb;
	void *notify_userdata;
};

static void conn_lost(FleetConn *c, const char *why);
static int conn_attempt(FleetConn *c);

static void
set_error(FleetConn *c, const char *msg)
{
	size_t n;

	if (!msg)
		msg = "";
	n = strlen(msg);
	/* libpq's messages end with a newline; keep the log line one line. */
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		n--;
	if (n >= sizeof(c->error))
		n = sizeof(c->error) - 1;
	memcpy(c->error, msg, n);
	c->error[n] = '\0';
}

static void
query_free(FleetQuery *q)
{
	if (!q)
		return;
	sd_event_source_disable_unref(q->timer);
	for (int i = 0; i < q->n_params; i++) {
		if (q->values[i] && q->lengths[i] > 0)
			explicit_bzero(q->values[i], (size_t)q->lengths[i]);
		free(q->values[i]);
	}
	free(q->values);
	free(q->lengths);
	free(q->formats);
	free(q->sql);
	free(q->stmt);
	free(q);
}

/* Hands one query its outcome and frees it. It is already off the queue. */
static void
query_finish(FleetConn *c, FleetQuery *q, int r, const PGresult *res)
{
	/* Off the clock before the callback, so that nothing fires for a finished query. */
	q->timer = sd_event_source_disable_unref(q->timer);
	if (q->cb)
		q->cb(c, r, res, q->userdata);
	query_free(q);
}

static FleetQuery *
queue_pop(FleetConn *c)
{
	FleetQuery *q = c->head;

	if (!q)
		return NULL;
	c->head = q->next;
	if (!c->head)
		c->tail = NULL;
	q->next = NULL;
	c->queued--;
	return q;
}

static void
queue_remove(FleetConn *c, FleetQuery *q)
{
	FleetQuery **p, *prev = NULL;

	for (p = &c->head; *p; prev = *p, p = &(*p)->next)
		if (*p == q) {
			*p = q->next;
			if (c->tail == q)
				c->tail = prev;
			q->next = NULL;
			c->queued--;
			return;
		}
}

static int
io_update(FleetConn *c, uint32_t events)
{
	if (!c->io)
		return -ENOTCONN;
	return sd_event_source_set_io_events(c->io, events);
}

static int
flush_out(FleetConn *c)
{
	int r = PQflush(c->pg);

	if (r < 0)
		return -EIO;
	c->want_write = r > 0;
	return io_update(c, EPOLLIN | (c->want_write ? EPOLLOUT : 0));
}

static bool
prepared_has(const FleetConn *c, const char *name)
{
	for (unsigned i = 0; i < c->n_prepared; i++)
		if (strcmp(c->prepared[i], name) == 0)
			return true;
	return false;
}

static void
prepared_forget(FleetConn *c)
{
	for (unsigned i = 0; i < c->n_prepared; i++)
		free(c->prepared[i]);
	c->n_prepared = 0;
}

/* Puts q on the wire: a named statement is prepared first, once per connection (the server
 * then skips parsing and planning it on every later call: most of a short query's cost). */
static int
send_query(FleetConn *c, FleetQuery *q)
{
	if (q->internal)
		return PQsendQuery(c->pg, q->sql);
	if (q->stmt && !prepared_has(c, q->stmt) && c->n_prepared < FLEET_PREPARED_MAX) {
		q->preparing = true;
		return PQsendPrepare(c->pg, q->stmt, q->sql, q->n_params, NULL);
	}
	if (q->stmt && prepared_has(c, q->stmt))
		return PQsendQueryPrepared(c->pg, q->stmt, q->n_params,
		                           (const char *const *)q->values, q->lengths, q->formats,
		                           0);
	return PQsendQueryParams(c->pg, q->sql, q->n_params, NULL, (const char *const *)q->values,
	                         q->lengths, q->formats, 0);
}

/* Sends the next queued query if the connection is idle. */
static void
send_next(FleetConn *c)
{
	FleetQuery *q;
	int ok;

	if (c->inflight || !c->head)
		return;
	if (c->state != FLEET_UP && !(c->state == FLEET_LISTENING && c->head->internal))
		return;
	q = queue_pop(c);
	ok = send_query(c, q);
	if (!ok) {
		/* Never reached the server: this one hears -ENOTCONN like the rest of the queue. */
		set_error(c, PQerrorMessage(c->pg));
		if (q->internal)
			query_free(q);
		else
			query_finish(c, q, -ENOTCONN, NULL);
		conn_lost(c, NULL);
		return;
	}
	c->inflight = q;
	if (flush_out(c) < 0)
		conn_lost(c, PQerrorMessage(c->pg));
}

static int
on_query_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	FleetQuery *q = userdata;
	FleetConn *c = q->conn;

	if (c->inflight == q) {
		/* The server has it and may still answer: the only bounded way out with libpq 15 is
		 * to drop the connection (PQcancel blocks). conn_lost() reports -ECONNRESET to the
		 * others; this one learns it timed out. */
		c->inflight = NULL;
		query_finish(c, q, -ETIMEDOUT, NULL);
		conn_lost(c, "query timed out");
		return 0;
	}
	queue_remove(c, q);
	query_finish(c, q, -ETIMEDOUT, NULL);
	return 0;
}

static void
finish_inflight(FleetConn *c)
{
	FleetQuery *q = c->inflight;
	PGresult *res = c->result;
	ExecStatusType st;
	int r;

	c->result = NULL;
	st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	r = (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) ? 0 : -EIO;
	if (q->preparing) {
		q->preparing = false;
		if (r == 0) {
			char *name = strdup(q->stmt);
			PQclear(res);
			if (name)
				c->prepared[c->n_prepared++] = name;
			/* Now the statement itself, still this query's turn. */
			if (!send_query(c, q) || flush_out(c) < 0)
				conn_lost(c, PQerrorMessage(c->pg));
			return;
		}
	}
	c->inflight = NULL;
	if (q->internal) {
		if (r < 0) {
			set_error(c, res ? PQresultErrorMessage(res) : "LISTEN failed");
			PQclear(res);
			query_free(q);
			conn_lost(c, c->error);
			return;
		}
		query_free(q);
		PQclear(res);
		if (c->state == FLEET_LISTENING) {
			c->state = FLEET_UP;
			c->connects++;
			c->backoff = c->backoff_min;
			if (c->state_cb)
				c->state_cb(c, true, c->state_userdata);
		}
		return;
	}
	query_finish(c, q, r, res);
	PQclear(res);
}

static void
dispatch_notifies(FleetConn *c)
{
	PGnotify *n;

	while (c->pg && (n = PQnotifies(c->pg))) {
		if (c->notify_cb)
			c->notify_cb(c, n->relname, n->extra ? n->extra : "", c->notify_userdata);
		PQfreemem(n);
	}
}

/* Reads what the server sent: results of the query in flight, then notifications. */
static void
read_input(FleetConn *c)
{
	if (!PQconsumeInput(c->pg)) {
		conn_lost(c, PQerrorMessage(c->pg));
		return;
	}
	while (c->pg && c->inflight && !PQisBusy(c->pg)) {
		PGresult *res = PQgetResult(c->pg);

		if (!res) {
			finish_inflight(c);
			if (!c->pg)
				return;
			send_next(c);
			continue;
		}
		/* A batch (the LISTENs) gives several results: keep the first error, else the last.
		 */
		if (c->result && PQresultStatus(c->result) == PGRES_FATAL_ERROR) {
			PQclear(res);
			continue;
		}
		switch (PQresultStatus(res)) {
		case PGRES_COPY_IN:
		case PGRES_COPY_OUT:
		case PGRES_COPY_BOTH:
			/* Nothing here sends COPY; a server that starts one is not ours to follow.
			 */
			PQclear(res);
			conn_lost(c, "unexpected COPY from the server");
			return;
		default:
			break;
		}
		PQclear(c->result);
		c->result = res;
	}
	if (c->pg) {
		dispatch_notifies(c);
		if (c->pg && PQstatus(c->pg) == CONNECTION_BAD)
			conn_lost(c, PQerrorMessage(c->pg));
	}
}

static int
on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	FleetConn *c = userdata;

	if (c->state == FLEET_CONNECTING) {
		(void)conn_attempt(c);
		return 0;
	}
	if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		read_input(c);
		if (!c->pg)
			return 0;
	}
	if (c->want_write && (revents & EPOLLOUT) && flush_out(c) < 0)
		conn_lost(c, PQerrorMessage(c->pg));
	return 0;
}

static uint64_t
now_usec(FleetConn *c)
{
	uint64_t t = 0;

	(void)sd_event_now(c->event, CLOCK_MONOTONIC, &t);
	return t;
}

static int
on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	FleetConn *c = userdata;

	c->timer = sd_event_source_disable_unref(c->timer);
	if (c->state == FLEET_CONNECTING) {
		/* The attempt's deadline passed. */
		conn_lost(c, "connection attempt timed out");
		return 0;
	}
	(void)fleet_conn_start(c);
	return 0;
}

static int
arm_timer(FleetConn *c, uint64_t usec)
{
	c->timer = sd_event_source_disable_unref(c->timer);
	return sd_event_add_time_relative(c->event, &c->timer, CLOCK_MONOTONIC, usec, 1000,
	                                  on_retry, c);
}

/* One step of the connection: PQconnectPoll, then wait for what it asks for. */
static int
conn_attempt(FleetConn *c)
{
	PostgresPollingStatusType st = PQconnectPoll(c->pg);
	uint32_t events;
	int fd, r;

	switch (st) {
	case PGRES_POLLING_FAILED:
		conn_lost(c, PQerrorMessage(c->pg));
		return -ECONNREFUSED;
	case PGRES_POLLING_OK:
		break;
	case PGRES_POLLING_READING:
	case PGRES_POLLING_WRITING:
	default:
		events = st == PGRES_POLLING_READING ? EPOLLIN : EPOLLOUT;
		/* libpq may close the socket and open another between steps (several hosts, SSL
		 * retry), and a new socket can get the old number: register afresh every step. */
		c->io = sd_event_source_disable_unref(c->io);
		fd = PQsocket(c->pg);
		if (fd < 0) {
			conn_lost(c, "no socket");
			return -EBADF;
		}
		r = sd_event_add_io(c->event, &c->io, fd, events, on_io, c);
		if (r < 0) {
			conn_lost(c, "cannot watch the socket");
			return r;
		}
		return 0;
	}

	c->timer = sd_event_source_disable_unref(c->timer);
	if (PQsetnonblocking(c->pg, 1) < 0) {
		conn_lost(c, PQerrorMessage(c->pg));
		return -EIO;
	}
	c->io = sd_event_source_disable_unref(c->io);
	r = sd_event_add_io(c->event, &c->io, PQsocket(c->pg), EPOLLIN, on_io, c);
	if (r < 0) {
		conn_lost(c, "cannot watch the socket");
		return r;
	}
	set_error(c, "");
	c->state = FLEET_LISTENING;
	if (c->n_channels == 0) {
		/* Nothing to LISTEN on: up at once (through the same path as after LISTEN). */
		c->state = FLEET_UP;
		c->connects++;
		c->backoff = c->backoff_min;
		if (c->state_cb)
			c->state_cb(c, true, c->state_userdata);
		if (c->pg)
			send_next(c);
		return 0;
	}

	/* LISTEN on every channel in one batch, ahead of anything queued. */
	{
		size_t len = 1;
		char *sql, *p;
		FleetQuery *q;

		for (unsigned i = 0; i < c->n_channels; i++)
			len += strlen(c->channels[i]) * 2 + 16;
		sql = malloc(len);
		q = calloc(1, sizeof(*q));
		if (!sql || !q) {
			free(sql);
			free(q);
			conn_lost(c, "out of memory");
			return -ENOMEM;
		}
		p = sql;
		for (unsigned i = 0; i < c->n_channels; i++) {
			char *id =
			    PQescapeIdentifier(c->pg, c->channels[i], strlen(c->channels[i]));

			if (!id) {
				free(sql);
				free(q);
				conn_lost(c, PQerrorMessage(c->pg));
				return -ENOMEM;
			}
			p += sprintf(p, "LISTEN %s;", id);
			PQfreemem(id);
		}
		q->conn = c;
		q->sql = sql;
		q->internal = true;
		q->next = c->head;
		c->head = q;
		if (!c->tail)
			c->tail = q;
		c->queued++;
		send_next(c);
	}
	return 0;
}

static void
conn_lost(FleetConn *c, const char *why)
{
	bool was_up = c->state == FLEET_UP;
	FleetQuery *q;
	uint64_t delay, jitter;

	if (why && *why)
		set_error(c, why);
	c->io = sd_event_source_disable_unref(c->io);
	c->timer = sd_event_source_disable_unref(c->timer);
	if (c->pg) {
		PQfinish(c->pg);
		c->pg = NULL;
	}
	PQclear(c->result);
	c->result = NULL;
	c->state = FLEET_DOWN;
	c->want_write = false;
	prepared_forget(c);

	/* State first, so that a callback sees a connection that is down and does not requeue
	 * into it. */
	if ((q = c->inflight)) {
		c->inflight = NULL;
		if (q->internal)
			query_free(q);
		else
			query_finish(c, q, -ECONNRESET, NULL);
	}
	while ((q = queue_pop(c))) {
		if (q->internal)
			query_free(q);
		else
			query_finish(c, q, -ENOTCONN, NULL);
	}
	if (was_up && c->state_cb)
		c->state_cb(c, false, c->state_userdata);

	/* Between half and all of the current delay, so that twenty terminals that lost the
	 * center together do not come back in the same millisecond. */
	delay = c->backoff;
	jitter = delay / 2 ? (now_usec(c) ^ (uintptr_t)c) % (delay / 2 + 1) : 0;
	(void)arm_timer(c, delay - jitter);
	c->backoff = c->backoff * 2 > c->backoff_max ? c->backoff_max : c->backoff * 2;
}

static void
notice_ignore(void *arg, const char *message)
{
}

int
fleet_conn_start(FleetConn *c)
{
	int r;

	if (!c)
		return -EINVAL;
	if (c->state != FLEET_DOWN)
		return -EALREADY;
	c->timer = sd_event_source_disable_unref(c->timer);
	c->pg = PQconnectStart(c->conninfo);
	if (!c->pg) {
		conn_lost(c, "out of memory");
		return -ENOMEM;
	}
	if (PQstatus(c->pg) == CONNECTION_BAD) {
		conn_lost(c, PQerrorMessage(c->pg));
		return 0;
	}
	/* libpq prints server notices ("terminating connection due to ...") on stderr by
	 * default; the daemon's stderr is its log, and conn_lost() already says why. */
	PQsetNoticeProcessor(c->pg, notice_ignore, NULL);
	c->state = FLEET_CONNECTING;
	r = arm_timer(c, c->connect_timeout);
	if (r < 0) {
		conn_lost(c, "cannot arm the connect timer");
		return r;
	}
	/* As the libpq manual says: before the first PQconnectPoll, act as if it asked to
	 * write. */
	c->io = sd_event_source_disable_unref(c->io);
	r = sd_event_add_io(c->event, &c->io, PQsocket(c->pg), EPOLLOUT, on_io, c);
	if (r < 0) {
		conn_lost(c, "cannot watch the socket");
		return r;
	}
	return 0;
}

int
fleet_conn_new(sd_event *event, const char *conninfo, FleetConn **ret)
{
	PQconninfoOption *opts;
	char *err = NULL;
	FleetConn *c;

	if (!event || !conninfo || !ret)
		return -EINVAL;
	opts = PQconninfoParse(conninfo, &err);
	if (!opts) {
		PQfreemem(err);
		return -EINVAL;
	}
	PQconninfoFree(opts);
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->conninfo = strdup(conninfo);
	if (!c->conninfo) {
		free(c);
		return -ENOMEM;
	}
	c->event = sd_event_ref(event);
	c->backoff_min = c->backoff = FLEET_BACKOFF_MIN_USEC;
	c->backoff_max = FLEET_BACKOFF_MAX_USEC;
	c->connect_timeout = FLEET_CONNECT_TIMEOUT_USEC;
	*ret = c;
	return 0;
}

FleetConn *
fleet_conn_free(FleetConn *c)
{
	FleetQuery *q;

	if (!c)
		return NULL;
	/* Pending callers hear -ECANCELED; nothing is called back after this returns. */
	c->state_cb = NULL;
	c->notify_cb = NULL;
	if ((q = c->inflight)) {
		c->inflight = NULL;
		query_finish(c, q, -ECANCELED, NULL);
	}
	while ((q = queue_pop(c)))
		query_finish(c, q, -ECANCELED, NULL);
	c->io = sd_event_source_disable_unref(c->io);
	c->timer = sd_event_source_disable_unref(c->timer);
	PQclear(c->result);
	if (c->pg)
		PQfinish(c->pg);
	for (unsigned i = 0; i < c->n_channels; i++)
		free(c->channels[i]);
	prepared_forget(c);
	/* The connection string may hold a password (from a credential): wipe it. */
	explicit_bzero(c->conninfo, strlen(c->conninfo));
	free(c->conninfo);
	sd_event_unref(c->event);
	free(c);
	return NULL;
}

void
fleet_conn_set_state_callback(FleetConn *c, fleet_state_cb_t cb, void *userdata)
{
	c->state_cb = cb;
	c->state_userdata = userdata;
}

void
fleet_conn_set_notify_callback(FleetConn *c, fleet_notify_cb_t cb, void *userdata)
{
	c->notify_cb = cb;
	c->notify_userdata = userdata;
}

void
fleet_conn_set_backoff(FleetConn *c, uint64_t min_usec, uint64_t max_usec)
{
	if (min_usec == 0)
		min_usec = 1000;
	if (max_usec < min_usec)
		max_usec = min_usec;
	c->backoff_min = c->backoff = min_usec;
	c->backoff_max = max_usec;
}

void
fleet_conn_set_connect_timeout(FleetConn *c, uint64_t usec)
{
	c->connect_timeout = usec ? usec : FLEET_CONNECT_TIMEOUT_USEC;
}

int
fleet_conn_listen(FleetConn *c, const char *channel)
{
	size_t n;

	if (!c || !channel)
		return -EINVAL;
	n = strlen(channel);
	if (n == 0 || n > 63)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!((channel[i] >= 'a' && channel[i] <= 'z') || channel[i] == '_' ||
		      (i > 0 && channel[i] >= '0' && channel[i] <= '9')))
			return -EINVAL;
	for (unsigned i = 0; i < c->n_channels; i++)
		if (strcmp(c->channels[i], channel) == 0)
			return 0;
	if (c->n_channels >= FLEET_CHANNELS_MAX)
		return -E2BIG;
	c->channels[c->n_channels] = strdup(channel);
	if (!c->channels[c->n_channels])
		return -ENOMEM;
	c->n_channels++;
	if (c->state == FLEET_UP) {
		/* A plain query: the channel is a checked identifier. */
		char sql[80];

		snprintf(sql, sizeof(sql), "LISTEN %s", channel);
		return fleet_conn_query(c, sql, 0, NULL, NULL, NULL, 0, NULL, NULL);
	}
	return 0;
}

bool
fleet_conn_is_up(const FleetConn *c)
{
	return c && c->state == FLEET_UP;
}

int
fleet_conn_query(FleetConn *c, const char *sql, int n_params, const char *const *values,
                 const int *lengths, const int *formats, uint64_t timeout_usec,
                 fleet_result_cb_t cb, void *userdata)
{
	return fleet_conn_query_ex(c, NULL, false, sql, n_params, values, lengths, formats,
	                           timeout_usec, cb, userdata);
}

int
fleet_conn_query_ex(FleetConn *c, const char *stmt, bool urgent, const char *sql, int n_params,
                    const char *const *values, const int *lengths, const int *formats,
                    uint64_t timeout_usec, fleet_result_cb_t cb, void *userdata)
{
	FleetQuery *q;
	int r;

	if (!c || !sql || n_params < 0 || n_params > 65535 || (n_params > 0 && !values))
		return -EINVAL;
	if (c->state != FLEET_UP)
		return -ENOTCONN;
	if (c->queued >= FLEET_QUEUE_MAX)
		return -E2BIG;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->conn = c;
	q->cb = cb;
	q->userdata = userdata;
	q->sql = strdup(sql);
	q->stmt = stmt ? strdup(stmt) : NULL;
	if (n_params > 0) {
		q->values = calloc((size_t)n_params, sizeof(*q->values));
		q->lengths = calloc((size_t)n_params, sizeof(*q->lengths));
		q->formats = calloc((size_t)n_params, sizeof(*q->formats));
	}
	q->n_params = n_params;
	if (!q->sql || (stmt && !q->stmt) ||
	    (n_params > 0 && (!q->values || !q->lengths || !q->formats))) {
		query_free(q);
		return -ENOMEM;
	}
	for (int i = 0; i < n_params; i++) {
		bool binary = formats && formats[i] == 1;
		size_t len;

		if (!values[i])
			continue;
		if (binary && (!lengths || lengths[i] < 0)) {
			query_free(q);
			return -EINVAL;
		}
		len = binary ? (size_t)lengths[i] : strlen(values[i]);
		q->values[i] = malloc(len + 1);
		if (!q->values[i]) {
			query_free(q);
			return -ENOMEM;
		}
		memcpy(q->values[i], values[i], len);
		q->values[i][len] = '\0';
		q->lengths[i] = (int)len;
		q->formats[i] = binary ? 1 : 0;
	}
	if (timeout_usec > 0) {
		r = sd_event_add_time_relative(c->event, &q->timer, CLOCK_MONOTONIC, timeout_usec,
		                               1000, on_query_timeout, q);
		if (r < 0) {
			query_free(q);
			return r;
		}
	}
	if (urgent && c->head) {
		/* Ahead of what waits (uploads, closes), behind what is already on the wire. */
		q->next = c->head;
		c->head = q;
	} else {
		if (c->tail)
			c->tail->next = q;
		else
			c->head = q;
		c->tail = q;
	}
	c->queued++;
	send_next(c);
	return 0;
}

int
fleet_conn_wait(FleetConn *c, uint64_t timeout_usec, bool (*done)(void *userdata), void *userdata)
{
	struct timespec ts;
	uint64_t start, now;
	int r;

	if (!c || !done)
		return -EINVAL;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	start = (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
	while (!done(userdata)) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
		if (now - start >= timeout_usec)
			return -ETIMEDOUT;
		r = sd_event_run(c->event, timeout_usec - (now - start));
		if (r < 0)
			return r;
	}
	return 0;
}

const char *
fleet_conn_last_error(const FleetConn *c)
{
	return c ? c->error : "";
}

unsigned
fleet_conn_connects(const FleetConn *c)
{
	return c ? c->connects : 0;
}

unsigned
fleet_conn_queued(const FleetConn *c)
{
	return c ? c->queued + (c->inflight ? 1 : 0) : 0;
}
