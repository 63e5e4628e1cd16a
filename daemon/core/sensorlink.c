/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sensorlink: spawns and supervises biogated-sensor, the only process that touches the
 * reader (libfprint, GLib, USB parsing). It speaks the sensor protocol of docs/protocol.md
 * over a socketpair, parsing every byte with the wire codec: the sensor is treated as
 * hostile too. When the sensor dies, the operation in flight fails cleanly and the sensor is
 * restarted with a backoff; the daemon itself never blocks on it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "manager.h"
#include "sensorlink.h"
#include "log.h"

#define RESTART_MIN_USEC 100000u
#define RESTART_MAX_USEC 5000000u
/* A sensor that stays up this long has earned a fresh backoff. */
#define HEALTHY_USEC 10000000u

typedef enum SensorState {
	SENSOR_DOWN,
	SENSOR_STARTING, /* spawned, hello not answered yet */
	SENSOR_RUNNING,
} SensorState;

struct SensorLink {
	Manager *manager;
	SensorState state;
	pid_t pid;
	int fd;
	sd_event_source *io;
	sd_event_source *child;
	sd_event_source *restart;
	WireBuf in;
	uint64_t next_id;
	uint64_t hello_id;
	uint64_t started_usec;
	uint64_t backoff_usec;
	unsigned restarts;
	json_object *reader; /* last reader state reported */
	/* The one operation in flight. */
	uint64_t op_id;
	SensorReplyFn op_cb;
	void *op_data;
	sd_event_source *op_timer; /* kills a sensor that overruns the operation's own timeout */
	/* A cancelled operation the sensor has not finished yet, and the one request that waits
	 * for it: the sensor runs one operation at a time. */
	uint64_t drain_id;
	json_object *queued;
	SensorReplyFn queued_cb;
	void *queued_data;
};

/* A request may hold a decrypted print: wipe its string before freeing. */
static void
sensorlink_put_req(json_object *req)
{
	json_object *p = NULL;
	if (req && json_object_object_get_ex(req, "print", &p) &&
	    json_object_is_type(p, json_type_string))
		explicit_bzero((char *)(uintptr_t)json_object_get_string(p),
		               (size_t)json_object_get_string_len(p));
	json_object_put(req);
}

static int sensorlink_send_op(SensorLink *s, json_object *req, SensorReplyFn cb, void *userdata);

static int sensorlink_spawn(SensorLink *s);

static void
sensorlink_set_reader(SensorLink *s, json_object *reader)
{
	json_object_put(s->reader);
	s->reader = reader;
}

/* Ends the operation in flight with a synthesized final message. */
static void
sensorlink_fail_cb(SensorReplyFn cb, void *data, const char *error)
{
	json_object *msg = json_object_new_object();
	json_object_object_add(msg, "ok", json_object_new_boolean(0));
	json_object_object_add(msg, "error", json_object_new_string(error));
	cb(msg, true, data);
	json_object_put(msg);
}

static void
sensorlink_fail_op(SensorLink *s, const char *error)
{
	s->op_timer = sd_event_source_disable_unref(s->op_timer);
	s->drain_id = 0;
	if (s->queued) {
		SensorReplyFn qcb = s->queued_cb;
		void *qdata = s->queued_data;
		sensorlink_put_req(s->queued);
		s->queued = NULL;
		s->queued_cb = NULL;
		sensorlink_fail_cb(qcb, qdata, error);
	}
	if (!s->op_cb)
		return;
	SensorReplyFn cb = s->op_cb;
	void *data = s->op_data;
	s->op_cb = NULL;
	s->op_data = NULL;
	s->op_id = 0;
	sensorlink_fail_cb(cb, data, error);
}

/* The operation that was draining finished: send the request that waited for it. */
static void
sensorlink_drained(SensorLink *s)
{
	s->drain_id = 0;
	s->op_timer = sd_event_source_disable_unref(s->op_timer);
	if (!s->queued)
		return;
	json_object *req = s->queued;
	SensorReplyFn cb = s->queued_cb;
	void *data = s->queued_data;
	s->queued = NULL;
	s->queued_cb = NULL;
	s->queued_data = NULL;
	if (sensorlink_send_op(s, req, cb, data) < 0)
		sensorlink_fail_cb(cb, data, "sensor-died");
}

static void
sensorlink_teardown(SensorLink *s)
{
	s->io = sd_event_source_disable_unref(s->io);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	wire_buf_clear(&s->in);
	s->state = SENSOR_DOWN;
	sensorlink_fail_op(s, "sensor-died");
}

static int
sensorlink_on_restart(sd_event_source *es, uint64_t usec, void *userdata)
{
	SensorLink *s = userdata;
	s->restart = sd_event_source_unref(s->restart);
	if (sensorlink_spawn(s) < 0)
		log_error("Could not restart biogated-sensor");
	return 0;
}

static void
sensorlink_schedule_restart(SensorLink *s)
{
	uint64_t now = now_mono_usec();
	if (now - s->started_usec > HEALTHY_USEC)
		s->backoff_usec = RESTART_MIN_USEC;
	else if (s->backoff_usec < RESTART_MAX_USEC)
		s->backoff_usec =
		    s->backoff_usec * 2 > RESTART_MAX_USEC ? RESTART_MAX_USEC : s->backoff_usec * 2;
	if (s->restart)
		return;
	int r = sd_event_add_time_relative(s->manager->event, &s->restart, CLOCK_MONOTONIC,
	                                   s->backoff_usec, 1, sensorlink_on_restart, s);
	if (r < 0)
		log_error_errno(r, "Failed to schedule a sensor restart: %m");
}

static int
sensorlink_on_child(sd_event_source *es, const siginfo_t *si, void *userdata)
{
	SensorLink *s = userdata;
	if (si->si_code == CLD_EXITED)
		log_warning("biogated-sensor (pid %d) exited with status %d", (int)si->si_pid,
		            si->si_status);
	else
		log_warning("biogated-sensor (pid %d) killed by signal %d", (int)si->si_pid,
		            si->si_status);
	s->child = sd_event_source_unref(s->child);
	s->pid = 0;
	s->restarts++;
	sensorlink_teardown(s);
	sensorlink_schedule_restart(s);
	return 0;
}

static bool
sensorlink_valid_reader(json_object *reader)
{
	static const WireField fields[] = {
		{ "present", WIRE_BOOL, true, 0, 0, 0 },
		{ "driver", WIRE_STRING, false, WIRE_MAX_ID, 0, 0 },
		{ "name", WIRE_STRING, false, 256, 0, 0 },
		{ "enroll_stages", WIRE_INT, false, 0, 0, 100 },
		/* "busy": found but not opened (held elsewhere); the sensor retries it. */
		{ "state", WIRE_STRING, false, 16, 0, 0 },
	};
	const char *bad = NULL;
	return wire_check(reader, fields, sizeof(fields) / sizeof(fields[0]), &bad) == 0;
}

/* Handles one message from the sensor. Returns -EBADMSG when the sensor broke protocol. */
static int
sensorlink_handle(SensorLink *s, json_object *msg)
{
	json_object *v = NULL;
	int64_t id = 0;
	if (json_object_object_get_ex(msg, "id", &v)) {
		if (!json_object_is_type(v, json_type_int))
			return -EBADMSG;
		id = json_object_get_int64(v);
	}

	if (id == 0) {
		/* Unsolicited: reader plugged or unplugged. */
		const char *ev = wire_str(msg, "event");
		if (!ev || strcmp(ev, "reader") != 0)
			return -EBADMSG;
		json_object *reader = json_object_new_object();
		json_object_object_foreach(msg, key, val)
		{
			if (strcmp(key, "event") != 0)
				json_object_object_add(reader, key, json_object_get(val));
		}
		if (!sensorlink_valid_reader(reader)) {
			json_object_put(reader);
			return -EBADMSG;
		}
		log_info("Reader %s", wire_bool(reader, "present", false) ? "attached" : "removed");
		sensorlink_set_reader(s, reader);
		return 0;
	}

	bool final = json_object_object_get_ex(msg, "ok", &v);
	if (final && !json_object_is_type(v, json_type_boolean))
		return -EBADMSG;

	if ((uint64_t)id == s->hello_id && final) {
		s->hello_id = 0;
		json_object *reader = NULL;
		if (!json_object_object_get_ex(msg, "reader", &reader) ||
		    !json_object_is_type(reader, json_type_object) ||
		    !sensorlink_valid_reader(reader))
			return -EBADMSG;
		sensorlink_set_reader(s, json_object_get(reader));
		s->state = SENSOR_RUNNING;
		log_info("biogated-sensor ready (pid %d), reader %s", (int)s->pid,
		         wire_bool(reader, "present", false) ? wire_str(reader, "driver")
		                                             : "absent");
		return 0;
	}

	if ((uint64_t)id == s->drain_id) {
		if (final)
			sensorlink_drained(s);
		return 0;
	}
	if ((uint64_t)id != s->op_id || !s->op_cb)
		return 0; /* a late answer to an operation nobody waits for */

	SensorReplyFn cb = s->op_cb;
	void *data = s->op_data;
	if (final) {
		s->op_cb = NULL;
		s->op_data = NULL;
		s->op_id = 0;
		s->op_timer = sd_event_source_disable_unref(s->op_timer);
	}
	cb(msg, final, data);
	return 0;
}

static int
sensorlink_on_io(sd_event_source *es, int fd, uint32_t revents, void *userdata)
{
	SensorLink *s = userdata;
	ssize_t n = wire_buf_fill(&s->in, fd);
	if (n == -EAGAIN || n == -EINTR)
		return 0;
	if (n > 0) {
		json_object *msg = NULL;
		int r;
		while ((r = wire_buf_next(&s->in, &msg)) > 0) {
			r = sensorlink_handle(s, msg);
			json_object_put(msg);
			if (r < 0)
				break;
		}
		if (r >= 0)
			return 0;
		log_error("biogated-sensor broke protocol; restarting it");
	}
	/* EOF, error or a protocol violation: kill it, the child handler restarts it. */
	if (s->pid > 0)
		kill(s->pid, SIGKILL);
	sensorlink_teardown(s);
	return 0;
}

static int
sensorlink_send(SensorLink *s, json_object *msg)
{
	/* Requests are small (a print is a few KiB): a blocking write on a socketpair whose
	 * other end reads continuously. MSG_NOSIGNAL keeps a dead sensor from killing us. */
	char *buf = NULL;
	size_t n = 0;
	int r = wire_serialize(msg, &buf, &n);
	if (r < 0)
		return r;
	size_t off = 0;
	while (off < n) {
		ssize_t w = send(s->fd, buf + off, n - off, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		off += (size_t)w;
	}
	explicit_bzero(buf, n);
	free(buf);
	return r;
}

static int
sensorlink_spawn(SensorLink *s)
{
	Manager *m = s->manager;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return log_error_errno(-errno, "socketpair failed: %m");

	pid_t pid = fork();
	if (pid < 0) {
		int r = -errno;
		close(sv[0]);
		close(sv[1]);
		return log_error_errno(r, "fork failed: %m");
	}
	if (pid == 0) {
		/* Child: fd 3 is the link, stdin /dev/null, stderr shared for its log lines. */
		sigset_t all;
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		if (dup2(sv[1], 3) < 0)
			_exit(127);
		int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 1);
		}
		close_range(4, ~0u, 0);
		char *argv[] = { m->config.sensor_path, NULL };
		execv(m->config.sensor_path, argv);
		_exit(127);
	}
	close(sv[1]);
	s->fd = sv[0];
	s->pid = pid;
	s->started_usec = now_mono_usec();
	s->state = SENSOR_STARTING;
	(void)fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK);
	wire_buf_init(&s->in, WIRE_SENSOR_MAX_MESSAGE);

	int r = sd_event_add_child(m->event, &s->child, pid, WEXITED, sensorlink_on_child, s);
	if (r >= 0)
		r = sd_event_add_io(m->event, &s->io, s->fd, EPOLLIN, sensorlink_on_io, s);
	if (r < 0) {
		kill(pid, SIGKILL);
		return log_error_errno(r, "Failed to watch biogated-sensor: %m");
	}

	s->hello_id = ++s->next_id;
	json_object *hello = json_object_new_object();
	json_object_object_add(hello, "id", json_object_new_int64((int64_t)s->hello_id));
	json_object_object_add(hello, "op", json_object_new_string("hello"));
	/* The socket buffer holds the hello until the sensor reads it; the send cannot block. */
	(void)fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) & ~O_NONBLOCK);
	r = sensorlink_send(s, hello);
	(void)fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK);
	json_object_put(hello);
	if (r < 0)
		log_warning("Could not greet biogated-sensor: %s", strerror(-r));
	log_debug("Started biogated-sensor (pid %d)", (int)pid);
	return 0;
}

int
sensorlink_new(Manager *m, SensorLink **ret)
{
	SensorLink *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->manager = m;
	s->fd = -1;
	s->backoff_usec = RESTART_MIN_USEC;
	int r = sensorlink_spawn(s);
	if (r < 0) {
		free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void
sensorlink_free(SensorLink *s)
{
	if (!s)
		return;
	s->op_cb = NULL;
	sensorlink_put_req(s->queued);
	s->queued = NULL;
	s->op_timer = sd_event_source_disable_unref(s->op_timer);
	s->child = sd_event_source_disable_unref(s->child);
	s->restart = sd_event_source_disable_unref(s->restart);
	s->io = sd_event_source_disable_unref(s->io);
	if (s->fd >= 0)
		close(s->fd); /* the sensor exits on EOF */
	if (s->pid > 0) {
		/* Give it a moment to exit cleanly, then make sure. */
		for (int i = 0; i < 50; i++) {
			if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
				s->pid = 0;
				break;
			}
			usleep(10000);
		}
		if (s->pid > 0) {
			kill(s->pid, SIGKILL);
			waitpid(s->pid, NULL, 0);
		}
	}
	wire_buf_clear(&s->in);
	json_object_put(s->reader);
	free(s);
}

static int
sensorlink_on_op_timeout(sd_event_source *es, uint64_t usec, void *userdata)
{
	SensorLink *s = userdata;
	log_error("biogated-sensor overran an operation's timeout; killing it");
	s->op_timer = sd_event_source_disable_unref(s->op_timer);
	if (s->pid > 0)
		kill(s->pid, SIGKILL);
	sensorlink_teardown(s);
	return 0;
}

static int
sensorlink_send_op(SensorLink *s, json_object *req, SensorReplyFn cb, void *userdata)
{
	uint64_t id = ++s->next_id;
	int64_t timeout_ms = wire_int(req, "timeout_ms", 15000);
	json_object_object_add(req, "id", json_object_new_int64((int64_t)id));
	int r = sensorlink_send(s, req);
	sensorlink_put_req(req);
	if (r < 0)
		return -ENOTCONN;
	s->op_id = id;
	s->op_cb = cb;
	s->op_data = userdata;
	s->op_timer = sd_event_source_disable_unref(s->op_timer);
	r = sd_event_add_time_relative(s->manager->event, &s->op_timer, CLOCK_MONOTONIC,
	                               (uint64_t)timeout_ms * 1000u + 5000000u, 0,
	                               sensorlink_on_op_timeout, s);
	if (r < 0)
		log_warning("Failed to arm the sensor watchdog: %s", strerror(-r));
	return 0;
}

int
sensorlink_start(SensorLink *s, json_object *req, SensorReplyFn cb, void *userdata)
{
	if (s->state != SENSOR_RUNNING) {
		sensorlink_put_req(req);
		return -ENOTCONN;
	}
	if (s->op_cb || s->queued) {
		sensorlink_put_req(req);
		return -EBUSY;
	}
	if (s->drain_id) {
		/* Wait for the cancelled operation to finish; the ids are assigned on send. */
		s->queued = req;
		s->queued_cb = cb;
		s->queued_data = userdata;
		return 0;
	}
	return sensorlink_send_op(s, req, cb, userdata);
}

void
sensorlink_cancel(SensorLink *s, void *userdata)
{
	if (!s)
		return;
	if (s->queued && s->queued_data == userdata) {
		/* The request was still waiting for a drained operation: drop it. */
		sensorlink_put_req(s->queued);
		s->queued = NULL;
		s->queued_cb = NULL;
		s->queued_data = NULL;
		return;
	}
	if (!s->op_cb || s->op_data != userdata)
		return;
	s->op_cb = NULL;
	s->op_data = NULL;
	s->drain_id = s->op_id;
	s->op_id = 0;
	if (s->state != SENSOR_RUNNING)
		return;
	json_object *req = json_object_new_object();
	json_object_object_add(req, "id", json_object_new_int64((int64_t)++s->next_id));
	json_object_object_add(req, "op", json_object_new_string("cancel"));
	(void)sensorlink_send(s, req);
	json_object_put(req);
}

json_object *
sensorlink_status(SensorLink *s)
{
	json_object *o = json_object_new_object();
	const char *state = !s                            ? "down"
	                    : s->state == SENSOR_RUNNING  ? "running"
	                    : s->state == SENSOR_STARTING ? "starting"
	                                                  : "down";
	json_object_object_add(o, "sensor", json_object_new_string(state));
	json_object_object_add(o, "sensor_restarts",
	                       json_object_new_int64(s ? (int64_t)s->restarts : 0));
	json_object *reader =
	    s && s->reader && s->state == SENSOR_RUNNING ? json_object_get(s->reader) : NULL;
	if (!reader) {
		reader = json_object_new_object();
		json_object_object_add(reader, "present", json_object_new_boolean(0));
	}
	json_object_object_add(o, "reader", reader);
	return o;
}
