/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * server: the Varlink listener. Accepts connections, takes the peer's credentials from the
 * kernel (SO_PEERCRED, SO_PEERGROUPS), caps connections per uid and in total, frames and
 * parses input with the wire codec, and hands complete calls to methods_dispatch() one at a time
 * per connection. A message over the cap, a malformed message, a client idle too long or one that
 * does not read its replies is disconnected; none of them can stall another client or abort the
 * daemon.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stddef.h>

#include "clock.h"
#include "conn.h"
#include "log.h"
#include "manager.h"

/* A client that leaves this much unread output is dropped rather than buffered forever. */
#define CONN_MAX_PENDING_OUTPUT (1024u * 1024u)

struct Conn {
	Server *server;
	Conn *prev, *next;
	int fd;
	sd_event_source *io;
	uint64_t idle_since; /* CLOCK_MONOTONIC usec of the last finished call; 0 in a call */
	Caller caller;       /* what core is given: credentials, session cache, output hold */
	WireBuf in;
	char *out;
	size_t out_len, out_off;
	bool in_call; /* a call is being answered; further calls wait in the buffer */
	bool more;    /* the current call asked for "more" */
	bool oneway;  /* the current call wants no reply */
	bool closing; /* close once the output is flushed */
	bool dead;    /* freed at the next safe point */
	bool dispatching;
	bool writer_seen; /* a read has shown its writer (conn_writer) */
	unsigned hold;    /* records not yet durable: output waits for them */
	unsigned refs;    /* holders besides the server (pending audit callbacks) */
	ConnGoneFn gone;
	void *gone_data;
};

struct Server {
	Manager *manager;
	ServerDispatchFn dispatch;
	int fd;
	sd_event_source *listen;
	Conn *conns;
	unsigned n_conns;
	/* One sweep a second closes idle clients: a timer per connection would re-arm the
	 * kernel timer on every call of every client. */
	sd_event_source *sweep;
	/* Refused connections are logged once per window: a flood must not fill the journal
	 * any more than the trail (server_log_refused()). */
	uint64_t refused_window_start; /* CLOCK_MONOTONIC, 0: no window open */
	uint64_t refused_more;         /* refused and not logged in this window */
};

#define SERVER_REFUSED_LOG_USEC (60 * 1000000ULL)

static void conn_free(Conn *c);
static int conn_process(Conn *c);
static int conn_flush(Conn *c);
static int conn_queue(Conn *c, json_object *msg);

const Peer *
conn_peer(const Conn *c)
{
	return &c->caller.peer;
}

Manager *
conn_manager(const Conn *c)
{
	return c->server->manager;
}

Caller *
conn_caller(Conn *c)
{
	return &c->caller;
}

bool
conn_wants_more(const Conn *c)
{
	return c->more;
}

unsigned
server_connections(const Server *s)
{
	return s->n_conns;
}

static void
conn_update_events(Conn *c)
{
	uint32_t ev = EPOLLRDHUP;
	if (!c->closing)
		ev |= EPOLLIN;
	if (c->out_len > c->out_off && c->hold == 0)
		ev |= EPOLLOUT;
	(void)sd_event_source_set_io_events(c->io, ev);
}

static void
conn_arm_idle(Conn *c)
{
	uint64_t now = 0;
	(void)sd_event_now(c->server->manager->event, CLOCK_MONOTONIC, &now);
	c->idle_since = c->in_call ? 0 : now;
}
/* Frees now unless we are inside this connection's own dispatch or records still hold it;
 * then marks it and stops its event sources. */
static void
conn_kill(Conn *c)
{
	if (c->dead)
		return;
	c->dead = true;
	(void)sd_event_source_set_enabled(c->io, SD_EVENT_OFF);
	if (c->gone) {
		ConnGoneFn fn = c->gone;
		c->gone = NULL;
		fn(c, c->gone_data);
	}
	if (!c->dispatching && c->refs == 0)
		conn_free(c);
}

/* Holds the connection's output until release: a reply is not sent before the audit record
 * it depends on is durable (core's record_append() through the Caller). Release with
 * ok=false drops the connection instead. The Conn stays valid (possibly dead) until
 * released. */
static void
conn_hold_output(Conn *c)
{
	c->hold++;
	c->refs++;
}

static void
conn_release_output(Conn *c, bool ok)
{
	c->hold--;
	c->refs--;
	if (c->dead) {
		if (c->refs == 0 && !c->dispatching)
			conn_free(c);
		return;
	}
	if (!ok) {
		/* Not durable means not said: the caller hears nothing rather than a reply the
		 * audit trail does not back. */
		conn_kill(c);
		return;
	}
	if (c->hold == 0 && conn_flush(c) < 0)
		conn_kill(c);
}

size_t
conn_pending_output(const Conn *c)
{
	return c->out_len - c->out_off;
}

void
conn_release_output_disk_full(Conn *c)
{
	if (c->dead || c->hold != 1 || c->oneway) {
		conn_release_output(c, false);
		return;
	}
	/* Not durable means not said: the held reply goes, an error the client can show
	 * ("the terminal's disk is full") takes its place. */
	c->out_len = c->out_off;
	c->hold--;
	int r = conn_queue(c, wire_new_error(WIRE_ERR_DISK_FULL, NULL));
	c->hold++;
	conn_release_output(c, r >= 0);
}

static Conn *
conn_of_caller(Caller *caller)
{
	return (Conn *)((char *)caller - offsetof(Conn, caller));
}

static void
conn_caller_hold(Caller *caller)
{
	conn_hold_output(conn_of_caller(caller));
}

static void
conn_caller_release(Caller *caller, int r)
{
	if (r == -ENOSPC)
		conn_release_output_disk_full(conn_of_caller(caller));
	else
		conn_release_output(conn_of_caller(caller), r >= 0);
}

static int
conn_flush(Conn *c)
{
	/* A reply may not overtake the audit record of what it reports. */
	if (c->hold > 0)
		return 0;
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			return -errno;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out_len) {
		free(c->out);
		c->out = NULL;
		c->out_len = c->out_off = 0;
		if (c->closing)
			return -ECONNRESET;
	}
	conn_update_events(c);
	return 0;
}

static int
conn_queue(Conn *c, json_object *msg)
{
	char *buf = NULL;
	size_t n = 0;
	int r = wire_serialize(msg, &buf, &n);
	json_object_put(msg);
	if (r < 0)
		return r;
	size_t pending = c->out_len - c->out_off;
	if (pending + n > CONN_MAX_PENDING_OUTPUT) {
		free(buf);
		return -ENOBUFS;
	}
	if (pending == 0) {
		free(c->out);
		c->out = buf;
		c->out_len = n;
		c->out_off = 0;
	} else {
		char *nb = realloc(c->out, c->out_len + n);
		if (!nb) {
			free(buf);
			return -ENOMEM;
		}
		memcpy(nb + c->out_len, buf, n);
		free(buf);
		c->out = nb;
		c->out_len += n;
	}
	return conn_flush(c);
}

/* A final reply ends the call: re-arm the idle timer and look for the next queued call. */
static int
conn_end_call(Conn *c)
{
	c->in_call = false;
	c->more = c->oneway = false;
	c->gone = NULL;
	c->gone_data = NULL;
	conn_arm_idle(c);
	if (!c->dispatching && !c->dead)
		return conn_process(c);
	return 0;
}

static int
conn_send(Conn *c, json_object *msg, bool final)
{
	if (c->dead) {
		json_object_put(msg);
		return -ECONNRESET;
	}
	if (!msg)
		return -ENOMEM;
	int r = 0;
	if (c->oneway)
		json_object_put(msg);
	else
		r = conn_queue(c, msg);
	if (r < 0) {
		if (r != -ECONNRESET)
			log_debug("Dropping client pid %d: %s", (int)c->caller.peer.pid,
			          strerror(-r));
		conn_kill(c);
		return r;
	}
	if (final)
		return conn_end_call(c);
	return 0;
}

int
conn_reply(Conn *c, json_object *params, bool continues)
{
	/* A call without "more" gets exactly one reply: drop progress it did not ask for. */
	if (continues && !c->more) {
		json_object_put(params);
		return 0;
	}
	return conn_send(c, wire_new_reply(params, continues), !continues);
}

int
conn_error(Conn *c, const char *error, json_object *params)
{
	return conn_send(c, wire_new_error(error, params), true);
}

void
conn_defer(Conn *c)
{
	/* Nothing to do: in_call stays set until the final reply. Kept as a marker. */
	(void)c;
}

void
conn_set_gone_hook(Conn *c, ConnGoneFn fn, void *userdata)
{
	c->gone = fn;
	c->gone_data = userdata;
}

/* Handles every complete call held, one at a time; stops while a call is outstanding. */
static int
conn_process(Conn *c)
{
	Manager *m = c->server->manager;
	while (!c->in_call && !c->dead && !c->closing) {
		json_object *msg = NULL;
		int r = wire_buf_next(&c->in, &msg);
		if (r == 0)
			return 0;
		if (r < 0) {
			log_debug("Client pid %d sent a %s message; closing",
			          (int)c->caller.peer.pid,
			          r == -EMSGSIZE ? "too large" : "malformed");
			conn_kill(c);
			return r;
		}
		WireCall call;
		if (wire_parse_call(msg, &call) < 0) {
			json_object_put(msg);
			conn_kill(c);
			return -EBADMSG;
		}
		/* The session of this call is the connector's only while the connector is the
		 * process that connected: once it is gone, no process acts for its session. */
		if (!c->caller.peer.gone && !peer_connector_alive(&c->caller.peer)) {
			log_debug("Client pid %d has exited; its connection is in no session",
			          (int)c->caller.peer.pid);
			c->caller.peer.gone = true;
			c->caller.session.known = false;
		}
		c->in_call = true;
		c->more = call.more;
		c->oneway = call.oneway;
		c->idle_since = 0;
		c->dispatching = true;
		c->server->dispatch(m, c, &call);
		c->dispatching = false;
		json_object_put(msg);
		if (c->dead) {
			if (c->refs == 0)
				conn_free(c);
			return -ECONNRESET;
		}
	}
	return 0;
}

/*
 * Who wrote the bytes a read would return next: with SO_PASSCRED the kernel attaches the
 * writer's pid to every write and never merges writes of different processes into one read,
 * so a peek tells whose the next read is. 0 when the connector wrote them (or nothing is
 * there), -EPERM with *ret_pid when another process did: a connection inherited by a child
 * or passed on with SCM_RIGHTS does not act for whoever connected. (Root can claim another
 * pid in SCM_CREDENTIALS; root is trusted with the daemon anyway.)
 */
static int
conn_writer(Conn *c, pid_t *ret_pid)
{
	char byte;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(struct ucred))];
	} ctl;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = sizeof(ctl)
	};
	*ret_pid = 0;
	ssize_t n = recvmsg(c->fd, &mh, MSG_PEEK | MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n <= 0)
		return 0; /* EOF, nothing yet or an error: the read that follows says which */
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h))
		if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_CREDENTIALS &&
		    h->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
			struct ucred u;
			memcpy(&u, CMSG_DATA(h), sizeof(u));
			*ret_pid = u.pid;
			/* pid 0: the kernel attached no writer, which some kernels do for writes
			 * made before the receiving end asked for credentials, i.e. before
			 * accept. Those can only be the first bytes of the connection. */
			if (u.pid == 0 && !c->writer_seen)
				return 0;
			c->writer_seen = true;
			return u.pid == c->caller.peer.pid ? 0 : -EPERM;
		}
	return -EPERM; /* no credentials: nothing proves who wrote */
}

static int
conn_on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	Conn *c = userdata;

	if (revents & EPOLLOUT) {
		if (conn_flush(c) < 0) {
			conn_kill(c);
			return 0;
		}
	}
	if (revents & EPOLLIN) {
		pid_t writer = 0;
		if (conn_writer(c, &writer) < 0) {
			log_info("Connection of pid %d written to by pid %d; closing",
			         (int)c->caller.peer.pid, (int)writer);
			conn_kill(c);
			return 0;
		}
		ssize_t n = wire_buf_fill(&c->in, fd);
		if (n == -EAGAIN || n == -EINTR)
			return 0;
		if (n <= 0) {
			conn_kill(c);
			return 0;
		}
		(void)conn_process(c);
		return 0;
	}
	if (revents & (EPOLLHUP | EPOLLERR | EPOLLRDHUP))
		conn_kill(c);
	return 0;
}

/* The first refused connection of a window is logged with its peer; the rest of the window
 * are counted and said in one line when the window is over (from the sweep). */
static void
server_log_refused(Server *s, const Peer *peer, uint64_t now)
{
	if (s->refused_window_start && now - s->refused_window_start < SERVER_REFUSED_LOG_USEC) {
		s->refused_more++;
		return;
	}
	log_warning("Refusing connection from uid %u pid %d: too many connections (further "
	            "refusals within %llu s are counted)",
	            (unsigned)peer->uid, (int)peer->pid,
	            (unsigned long long)(SERVER_REFUSED_LOG_USEC / 1000000));
	s->refused_window_start = now;
	s->refused_more = 0;
}

static void
server_refused_window_end(Server *s, uint64_t now)
{
	if (!s->refused_window_start || now - s->refused_window_start < SERVER_REFUSED_LOG_USEC)
		return;
	if (s->refused_more > 0)
		log_warning(
		    "Refused %llu more connections (too many connections) in the last %llu s",
		    (unsigned long long)s->refused_more,
		    (unsigned long long)(SERVER_REFUSED_LOG_USEC / 1000000));
	s->refused_window_start = 0;
	s->refused_more = 0;
}

static int
server_on_sweep(sd_event_source *es, uint64_t usec, void *userdata)
{
	Server *s = userdata;
	uint64_t limit = (uint64_t)s->manager->config.client_idle_timeout_sec * 1000000u;
	uint64_t now = usec;
	(void)sd_event_now(s->manager->event, CLOCK_MONOTONIC, &now);
	for (Conn *c = s->conns, *next; c; c = next) {
		next = c->next;
		if (!c->dead && c->idle_since && now > c->idle_since &&
		    now - c->idle_since >= limit) {
			log_debug("Client pid %d idle; closing", (int)c->caller.peer.pid);
			conn_kill(c);
		}
	}
	server_refused_window_end(s, now);
	(void)sd_event_source_set_time(es, now + 1000000u);
	return 0;
}
static void
conn_free(Conn *c)
{
	Server *s = c->server;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->n_conns--;
	sd_event_source_disable_unref(c->io);
	peer_unpin(&c->caller.peer);
	close(c->fd);
	wire_buf_clear(&c->in);
	free(c->out);
	free(c);
}

/* Who logged in, for the records (issue 13, item 6): the audit login uid the kernel keeps
 * for the peer's process (set by pam_loginuid, inherited across sudo and su). Read right
 * after SO_PEERCRED, while the peer is connected; (uid_t)-1 means no login set it. */
static void
server_read_loginuid(Peer *p)
{
	char path[64], buf[16];
	snprintf(path, sizeof(path), "/proc/%d/loginuid", (int)p->pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	char *end = NULL;
	errno = 0;
	unsigned long v = strtoul(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n') || v >= (unsigned long)(uid_t)-1)
		return;
	p->loginuid = (uid_t)v;
	p->has_loginuid = true;
}

static unsigned
server_count_uid(const Server *s, uid_t uid)
{
	unsigned n = 0;
	for (const Conn *c = s->conns; c; c = c->next)
		if (c->caller.peer.uid == uid && !c->dead)
			n++;
	return n;
}

static int
server_on_accept(sd_event_source *es, int fd, uint32_t revents, void *userdata)
{
	Server *s = userdata;
	Manager *m = s->manager;

	int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warning("accept failed: %m");
		return 0;
	}

	Peer peer = { .n_groups = -1 };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.pid <= 0) {
		close(cfd);
		return 0;
	}
	peer.pid = cred.pid;
	peer.uid = cred.uid;
	peer.gid = cred.gid;
	len = sizeof(peer.groups);
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERGROUPS, peer.groups, &len) == 0)
		peer.n_groups = (int)(len / sizeof(gid_t));
	/* The connector, pinned (caller.h); every read then says who wrote (conn_writer). */
	int one = 1;
	if (peer_pin(&peer, cfd) < 0 ||
	    setsockopt(cfd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0) {
		log_debug("Client pid %d gone before it could be pinned; closing", (int)peer.pid);
		peer_unpin(&peer);
		close(cfd);
		return 0;
	}
	server_read_loginuid(&peer);

	if (s->n_conns >= m->config.max_connections ||
	    server_count_uid(s, peer.uid) >= m->config.max_connections_per_uid) {
		uint64_t now = 0;
		(void)sd_event_now(m->event, CLOCK_MONOTONIC, &now);
		server_log_refused(s, &peer, now);
		peer_unpin(&peer);
		close(cfd);
		return 0;
	}

	Conn *c = calloc(1, sizeof(*c));
	if (!c) {
		peer_unpin(&peer);
		close(cfd);
		return 0;
	}
	c->server = s;
	c->fd = cfd;
	c->caller =
	    (Caller){ .peer = peer, .hold = conn_caller_hold, .release = conn_caller_release };
	wire_buf_init(&c->in, WIRE_MAX_MESSAGE);
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->n_conns++;

	int r = sd_event_add_io(m->event, &c->io, cfd, EPOLLIN | EPOLLRDHUP, conn_on_io, c);
	conn_arm_idle(c);
	if (r < 0) {
		log_error_errno(r, "Failed to watch a connection: %m");
		conn_free(c);
	}
	return 0;
}

int
server_new(Manager *m, int listen_fd, ServerDispatchFn dispatch, Server **ret)
{
	Server *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->manager = m;
	s->dispatch = dispatch;
	s->fd = listen_fd;
	/* On the listener, so that a connection has it from connect() on (Linux 6.16 and
	 * later copy it then): writes that come before accept carry their writer too. */
	int one = 1;
	if (setsockopt(listen_fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0)
		log_warning("Cannot set SO_PASSCRED on the listening socket: %m");
	int r = sd_event_add_io(m->event, &s->listen, listen_fd, EPOLLIN, server_on_accept, s);
	if (r >= 0) {
		r = sd_event_add_time_relative(m->event, &s->sweep, CLOCK_MONOTONIC, 1000000u,
		                               100000u, server_on_sweep, s);
		if (r >= 0)
			r = sd_event_source_set_enabled(s->sweep, SD_EVENT_ON);
		if (r < 0)
			s->listen = sd_event_source_disable_unref(s->listen);
	}
	if (r < 0) {
		free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void
server_free(Server *s)
{
	if (!s)
		return;
	while (s->conns) {
		Conn *c = s->conns;
		c->dispatching = false;
		if (c->gone) {
			ConnGoneFn fn = c->gone;
			c->gone = NULL;
			fn(c, c->gone_data);
		}
		conn_free(c);
	}
	sd_event_source_disable_unref(s->listen);
	sd_event_source_disable_unref(s->sweep);
	close(s->fd);
	free(s);
}
