/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * biogated-sensor: the one process that links libfprint and GLib.
 *
 * biogated spawns it with one end of a socketpair on fd 3 and speaks docs/protocol.md
 * section 2 to it: NUL-terminated JSON objects, parsed only by the wire codec. The sensor
 * owns the reader: it opens the first device libfprint enumerates once and keeps it open
 * (login latency), runs one enroll or verify at a time with the asynchronous libfprint API
 * so that cancel requests, timeouts and hot-unplug are handled while a scan is pending,
 * and reports reader arrival and removal unsolicited.
 *
 * It must never hold keys or a database, never write prints, templates or base64 to
 * stderr, and never trust a print it is handed: a print is length-checked, decoded,
 * deserialized and checked for compatibility with the reader before it reaches the driver,
 * and the decoded bytes are wiped after use. Anything the daemon sends that is not a
 * well-formed request with a readable id ends the process with a non-zero status; the
 * daemon restarts it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fprint.h>
#include <glib-unix.h>
#include <glib.h>

#include "request.h"
#include "sandbox.h"
#include "wire.h"

#define SENSOR_FD 3
/* A blocked daemon must not wedge the sensor forever; it is restarted instead. */
#define SEND_TIMEOUT_MS 10000
/* Bounded waits at start-up and shutdown: real hardware can hang on open or close. */
#define OPEN_TIMEOUT_MS     5000
#define SHUTDOWN_TIMEOUT_MS 2000
#define ENROLL_DEFAULT_MS   60000
#define VERIFY_DEFAULT_MS   15000
/*
 * A reader that is found but cannot be opened (held by fprintd or another process, still
 * settling after a plug, or hanging on open) is tried again with a doubling delay.
 */
#define REOPEN_MIN_MS 250
#define REOPEN_MAX_MS 30000

typedef enum OpKind {
	OP_NONE,
	OP_ENROLL,
	OP_VERIFY,
} OpKind;

/* Why a running operation was cancelled; decides the error reported when it ends. */
typedef enum StopReason {
	STOP_NONE,
	STOP_CANCEL,
	STOP_TIMEOUT,
	STOP_NO_READER,
	STOP_SHUTDOWN,
} StopReason;

typedef struct Sensor {
	GMainLoop *loop;
	FpContext *ctx;
	int exit_code;
	bool quitting;
	bool serving; /* start-up done: events may be sent */

	/* fd 3 */
	int fd;
	guint fd_watch;
	WireBuf in;

	/* The reader in use: NULL, or a device we hold a reference on. */
	FpDevice *dev;
	gulong dev_notify_removed;
	gulong dev_removed;
	bool dev_opening;
	bool dev_ready; /* open, and not removed */
	bool dev_closing;
	bool dev_gone; /* libfprint reported it removed */
	GCancellable *open_cancel;

	/* A reader found but not opened: its names for status, and the retry schedule. */
	char *busy_driver;
	char *busy_name;
	guint reopen_source;
	guint reopen_ms;
	unsigned open_failures;

	/* The one running operation. */
	OpKind op;
	int64_t op_id;
	GCancellable *op_cancel;
	guint op_timeout;
	StopReason op_stop;
	FpPrint *op_print; /* verify: the enrolled print, kept for restarts after a retry */
} Sensor;

static const struct {
	const char *name;
	FpFinger finger;
} fingers[] = {
	{ "left-thumb", FP_FINGER_LEFT_THUMB },   { "left-index", FP_FINGER_LEFT_INDEX },
	{ "left-middle", FP_FINGER_LEFT_MIDDLE }, { "left-ring", FP_FINGER_LEFT_RING },
	{ "left-little", FP_FINGER_LEFT_LITTLE }, { "right-thumb", FP_FINGER_RIGHT_THUMB },
	{ "right-index", FP_FINGER_RIGHT_INDEX }, { "right-middle", FP_FINGER_RIGHT_MIDDLE },
	{ "right-ring", FP_FINGER_RIGHT_RING },   { "right-little", FP_FINGER_RIGHT_LITTLE },
};

static void device_adopt(Sensor *s, FpDevice *dev);
static void device_adopt_first(Sensor *s);

static void __attribute__((format(printf, 1, 2))) log_line(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	/* One write per line so lines from concurrent writers to the shared stderr stay whole. */
	fprintf(stderr, "biogated-sensor: %s\n", line);
}

/*
 * json-c keeps its own copies of strings and of the last serialization. The strings that
 * carried a print are wiped in place before the object is freed: they are const only by
 * the library's API, the memory is the object's own heap buffer.
 */
static void
wipe_json_string(json_object *str)
{
	const char *p;
	size_t n;

	if (!str || !json_object_is_type(str, json_type_string))
		return;
	p = json_object_get_string(str);
	n = (size_t)json_object_get_string_len(str);
	if (p && n > 0)
		explicit_bzero((void *)(uintptr_t)p, n);
}

static void
wipe_json_serialization(json_object *obj)
{
	size_t n = 0;
	const char *p = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN, &n);

	if (p && n > 0)
		explicit_bzero((void *)(uintptr_t)p, n);
}

static void
sensor_quit(Sensor *s, int code)
{
	if (!s->quitting) {
		s->quitting = true;
		s->exit_code = code;
	}
	if (s->fd_watch) {
		g_source_remove(s->fd_watch);
		s->fd_watch = 0;
	}
	g_main_loop_quit(s->loop);
}

/*
 * Writes one message to fd 3. The fd is non-blocking for reads; a full socket buffer is
 * waited out with poll() because messages are small and ordering matters more than
 * concurrency. MSG_NOSIGNAL: a vanished daemon is an error return, not SIGPIPE.
 */
static int
send_msg(Sensor *s, json_object *msg, bool secret)
{
	char *buf = NULL;
	size_t len = 0, off = 0;
	int r;

	if (s->quitting || s->fd < 0)
		return -ESHUTDOWN;
	r = wire_serialize(msg, &buf, &len);
	if (r < 0) {
		log_line("cannot serialize a reply: %s", strerror(-r));
		sensor_quit(s, 1);
		return r;
	}
	while (off < len) {
		ssize_t n = send(s->fd, buf + off, len - off, MSG_NOSIGNAL);

		if (n >= 0) {
			off += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		/* EWOULDBLOCK is EAGAIN on Linux. */
		if (errno == EAGAIN) {
			struct pollfd pfd = { .fd = s->fd, .events = POLLOUT };
			int p = poll(&pfd, 1, SEND_TIMEOUT_MS);

			if (p > 0)
				continue;
			r = p == 0 ? -ETIMEDOUT : -errno;
		} else {
			r = -errno;
		}
		break;
	}
	if (secret) {
		explicit_bzero(buf, len);
		wipe_json_serialization(msg);
	}
	free(buf);
	if (off < len) {
		log_line("cannot write to the daemon: %s", strerror(-r));
		sensor_quit(s, 1);
		return r;
	}
	return 0;
}

static json_object *
new_reply(int64_t id, bool ok)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int64(id));
	json_object_object_add(o, "ok", json_object_new_boolean(ok));
	return o;
}

static void
send_ok(Sensor *s, int64_t id)
{
	json_object *o = new_reply(id, true);

	send_msg(s, o, false);
	json_object_put(o);
}

static void
send_error(Sensor *s, int64_t id, const char *error, const char *message)
{
	json_object *o = new_reply(id, false);

	json_object_object_add(o, "error", json_object_new_string(error));
	if (message)
		json_object_object_add(o, "message", json_object_new_string(message));
	send_msg(s, o, false);
	json_object_put(o);
}

static void
send_event(Sensor *s, int64_t id, const char *event, json_object *extra)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int64(id));
	json_object_object_add(o, "event", json_object_new_string(event));
	if (extra) {
		json_object_object_foreach(extra, k, v)
		{
			json_object_object_add(o, k, json_object_get(v));
		}
	}
	send_msg(s, o, false);
	json_object_put(o);
}

/* {"present":...} plus driver, name and stages when a reader is usable. */
static json_object *
reader_object(Sensor *s)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "present", json_object_new_boolean(s->dev_ready));
	if (!s->dev_ready && s->busy_driver) {
		/* Found, not opened, retried: what `biogatectl status` shows as held or busy. */
		json_object_object_add(o, "state", json_object_new_string("busy"));
		json_object_object_add(o, "driver", json_object_new_string(s->busy_driver));
		json_object_object_add(o, "name", json_object_new_string(s->busy_name));
	}
	if (s->dev_ready) {
		const char *driver = fp_device_get_driver(s->dev);
		const char *name = fp_device_get_name(s->dev);

		json_object_object_add(o, "driver", json_object_new_string(driver ? driver : ""));
		json_object_object_add(o, "name", json_object_new_string(name ? name : ""));
		json_object_object_add(o, "enroll_stages",
		                       json_object_new_int(fp_device_get_nr_enroll_stages(s->dev)));
	}
	return o;
}

static void
send_reader_event(Sensor *s)
{
	json_object *o, *r;

	if (!s->serving)
		return;
	o = json_object_new_object();
	json_object_object_add(o, "event", json_object_new_string("reader"));
	r = reader_object(s);
	json_object_object_foreach(r, k, v)
	{
		json_object_object_add(o, k, json_object_get(v));
	}
	json_object_put(r);
	send_msg(s, o, false);
	json_object_put(o);
}

/* ---- running operation ------------------------------------------------------------ */

static void
op_stop(Sensor *s, StopReason why)
{
	if (s->op == OP_NONE)
		return;
	if (s->op_stop == STOP_NONE)
		s->op_stop = why;
	g_cancellable_cancel(s->op_cancel);
}

static gboolean
on_op_timeout(gpointer user_data)
{
	Sensor *s = user_data;

	s->op_timeout = 0;
	log_line("op id=%" PRId64 " timed out", s->op_id);
	op_stop(s, STOP_TIMEOUT);
	return G_SOURCE_REMOVE;
}

static void
op_begin(Sensor *s, OpKind kind, int64_t id, int64_t timeout_ms)
{
	s->op = kind;
	s->op_id = id;
	s->op_stop = STOP_NONE;
	s->op_cancel = g_cancellable_new();
	s->op_timeout = g_timeout_add((guint)timeout_ms, on_op_timeout, s);
}

static void device_maybe_close(Sensor *s);

static void
op_end(Sensor *s)
{
	if (s->op_timeout) {
		g_source_remove(s->op_timeout);
		s->op_timeout = 0;
	}
	g_clear_object(&s->op_cancel);
	g_clear_object(&s->op_print);
	s->op = OP_NONE;
	s->op_id = 0;
	s->op_stop = STOP_NONE;
	device_maybe_close(s);
}

/* Maps how an operation failed to the protocol's error names. */
static void
op_fail(Sensor *s, const GError *err)
{
	const char *error = "failed";
	const char *message = err ? err->message : NULL;

	switch (s->op_stop) {
	case STOP_CANCEL:
		error = "cancelled";
		break;
	case STOP_TIMEOUT:
		error = "timeout";
		break;
	case STOP_NO_READER:
		error = "no-reader";
		break;
	case STOP_SHUTDOWN:
	case STOP_NONE:
		if (g_error_matches(err, FP_DEVICE_ERROR, FP_DEVICE_ERROR_REMOVED) ||
		    g_error_matches(err, FP_DEVICE_ERROR, FP_DEVICE_ERROR_NOT_OPEN) || s->dev_gone)
			error = "no-reader";
		else if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			error = "cancelled";
		else if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
			error = "timeout";
		break;
	}
	log_line("%s id=%" PRId64 " failed: %s (%s)", s->op == OP_ENROLL ? "enroll" : "verify",
	         s->op_id, error, message ? message : "-");
	send_error(s, s->op_id, error, message);
	op_end(s);
}

static void
on_enroll_progress(FpDevice *dev, gint completed, FpPrint *print, gpointer user_data, GError *error)
{
	Sensor *s = user_data;
	json_object *extra = json_object_new_object();

	if (s->op != OP_ENROLL) {
		json_object_put(extra);
		return;
	}
	if (error) {
		log_line("enroll id=%" PRId64 " retry: %s", s->op_id, error->message);
		json_object_object_add(extra, "message", json_object_new_string(error->message));
		send_event(s, s->op_id, "retry", extra);
	} else {
		log_line("enroll id=%" PRId64 " stage %d/%d", s->op_id, completed,
		         fp_device_get_nr_enroll_stages(dev));
		json_object_object_add(extra, "stage", json_object_new_int(completed));
		json_object_object_add(extra, "stages",
		                       json_object_new_int(fp_device_get_nr_enroll_stages(dev)));
		send_event(s, s->op_id, "progress", extra);
	}
	json_object_put(extra);
}

static void
on_enroll_done(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Sensor *s = user_data;
	g_autoptr(GError) err = NULL;
	g_autoptr(FpPrint) print = NULL;
	guchar *data = NULL;
	gsize len = 0;
	gchar *b64;
	json_object *reply, *str;

	print = fp_device_enroll_finish(FP_DEVICE(source), res, &err);
	if (!print) {
		op_fail(s, err);
		return;
	}
	if (!fp_print_serialize(print, &data, &len, &err)) {
		op_fail(s, err);
		return;
	}
	/* The reply must fit the frame: base64 grows by 4/3, plus the envelope. */
	if (len == 0 || len > (WIRE_SENSOR_MAX_MESSAGE - 128) / 4 * 3) {
		explicit_bzero(data, len);
		g_free(data);
		log_line("enroll id=%" PRId64 " failed: print of %zu bytes does not fit", s->op_id,
		         (size_t)len);
		send_error(s, s->op_id, "failed", "print too large");
		op_end(s);
		return;
	}
	b64 = g_base64_encode(data, len);
	explicit_bzero(data, len);
	g_free(data);

	reply = new_reply(s->op_id, true);
	str = json_object_new_string(b64);
	explicit_bzero(b64, strlen(b64));
	g_free(b64);
	json_object_object_add(reply, "print", str);
	log_line("enroll id=%" PRId64 " done (%zu byte print)", s->op_id, (size_t)len);
	send_msg(s, reply, true);
	wipe_json_string(str);
	json_object_put(reply);
	op_end(s);
}

static void verify_start(Sensor *s);

static void
on_verify_match(FpDevice *dev, FpPrint *match, FpPrint *print, gpointer user_data, GError *error)
{
	Sensor *s = user_data;

	/* The result is sent when the operation completes; this only logs the scan. */
	if (s->op == OP_VERIFY && !error)
		log_line("verify id=%" PRId64 " scanned: %s", s->op_id,
		         match ? "match" : "no match");
}

static void
on_verify_done(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Sensor *s = user_data;
	g_autoptr(GError) err = NULL;
	gboolean match = FALSE;
	json_object *reply;

	if (!fp_device_verify_finish(FP_DEVICE(source), res, &match, NULL, &err)) {
		/* A retry is a bad scan, not a no-match: say so and scan again while time remains.
		 */
		if (err->domain == FP_DEVICE_RETRY && s->op_stop == STOP_NONE && s->dev_ready &&
		    !s->quitting) {
			json_object *extra = json_object_new_object();

			log_line("verify id=%" PRId64 " retry: %s", s->op_id, err->message);
			json_object_object_add(extra, "message",
			                       json_object_new_string(err->message));
			send_event(s, s->op_id, "retry", extra);
			json_object_put(extra);
			if (!s->quitting) {
				verify_start(s);
				return;
			}
		}
		op_fail(s, err);
		return;
	}
	log_line("verify id=%" PRId64 " done: %s", s->op_id, match ? "match" : "no match");
	reply = new_reply(s->op_id, true);
	json_object_object_add(reply, "match", json_object_new_boolean(match));
	send_msg(s, reply, false);
	json_object_put(reply);
	op_end(s);
}

static void
verify_start(Sensor *s)
{
	fp_device_verify(s->dev, s->op_print, s->op_cancel, on_verify_match, s, NULL,
	                 on_verify_done, s);
}

/* ---- requests ----------------------------------------------------------------------- */

static bool
reader_usable(Sensor *s, int64_t id)
{
	if (!s->dev_ready) {
		send_error(s, id, "no-reader", "no fingerprint reader");
		return false;
	}
	if (s->op != OP_NONE) {
		send_error(s, id, "busy", "another operation is running");
		return false;
	}
	return true;
}

static void
req_hello(Sensor *s, int64_t id, json_object *msg)
{
	json_object *o = new_reply(id, true);

	json_object_object_add(o, "reader", reader_object(s));
	send_msg(s, o, false);
	json_object_put(o);
}

static void
req_cancel(Sensor *s, int64_t id, json_object *msg)
{
	if (s->op != OP_NONE)
		log_line("cancel id=%" PRId64 " of op id=%" PRId64, id, s->op_id);
	op_stop(s, STOP_CANCEL);
	send_ok(s, id);
}

static void
req_enroll(Sensor *s, int64_t id, json_object *msg)
{
	const char *name = wire_str(msg, "finger");
	FpFinger finger = FP_FINGER_UNKNOWN;
	FpPrint *template;

	for (size_t i = 0; i < G_N_ELEMENTS(fingers); i++)
		if (name && strcmp(name, fingers[i].name) == 0)
			finger = fingers[i].finger;
	if (finger == FP_FINGER_UNKNOWN) {
		send_error(s, id, "invalid", "unknown finger");
		return;
	}
	if (!reader_usable(s, id))
		return;

	op_begin(s, OP_ENROLL, id, wire_int(msg, "timeout_ms", ENROLL_DEFAULT_MS));
	log_line("enroll id=%" PRId64 " finger=%s started", id, name);
	/* Floating reference: fp_device_enroll() sinks it. */
	template = fp_print_new(s->dev);
	fp_print_set_finger(template, finger);
	fp_device_enroll(s->dev, template, s->op_cancel, on_enroll_progress, s, NULL,
	                 on_enroll_done, s);
}

static void
req_verify(Sensor *s, int64_t id, json_object *msg)
{
	unsigned char *data;
	size_t len = 0;
	g_autoptr(GError) err = NULL;
	FpPrint *print;

	if (!sensor_request_print_valid(msg)) {
		send_error(s, id, "invalid", "print is not base64");
		return;
	}
	if (!reader_usable(s, id))
		return;

	data = sensor_request_print_decode(msg, &len);
	print = sensor_print_shape_ok(data, len, fp_device_get_driver(s->dev),
	                              fp_device_get_device_id(s->dev))
	            ? fp_print_deserialize(data, len, &err)
	            : NULL;
	explicit_bzero(data, len);
	g_free(data);
	if (!print) {
		log_line("verify id=%" PRId64 " rejected: print does not deserialize", id);
		send_error(s, id, "invalid", "print does not deserialize");
		return;
	}
	if (!fp_print_compatible(print, s->dev)) {
		g_object_unref(print);
		log_line("verify id=%" PRId64 " rejected: print is for another reader", id);
		send_error(s, id, "invalid", "print is not compatible with the reader");
		return;
	}

	op_begin(s, OP_VERIFY, id, wire_int(msg, "timeout_ms", VERIFY_DEFAULT_MS));
	s->op_print = print;
	log_line("verify id=%" PRId64 " started", id);
	send_event(s, id, "place-finger", NULL);
	verify_start(s);
}

/* Indexed by SensorOp. */
static void (*const handlers[])(Sensor *s, int64_t id, json_object *msg) = {
	[SENSOR_OP_HELLO] = req_hello,
	[SENSOR_OP_ENROLL] = req_enroll,
	[SENSOR_OP_VERIFY] = req_verify,
	[SENSOR_OP_CANCEL] = req_cancel,
};

/* Returns 0, or -EBADMSG when the request has no readable id (the caller exits). */
static int
handle_request(Sensor *s, json_object *msg)
{
	SensorRequest req;
	int r = sensor_request_check(msg, &req);

	if (r < 0)
		return r;
	if (req.refusal) {
		if (req.op_name)
			log_line("request id=%" PRId64 " op=%s refused: bad field", req.id,
			         req.op_name);
		else
			log_line("request id=%" PRId64 " refused: unknown op", req.id);
		send_error(s, req.id, "invalid", req.refusal);
		return 0;
	}
	handlers[req.op](s, req.id, msg);
	return 0;
}

/* Wipes a request that carried a print before it is freed. */
static void
request_free(json_object *msg)
{
	json_object *str = NULL;

	if (json_object_object_get_ex(msg, "print", &str))
		wipe_json_string(str);
	json_object_put(msg);
}

static gboolean
on_fd_ready(gint fd, GIOCondition cond, gpointer user_data)
{
	Sensor *s = user_data;
	ssize_t n;

	n = wire_buf_fill(&s->in, fd);
	if (n == 0) {
		log_line("daemon closed the link, exiting");
		s->fd_watch = 0;
		sensor_quit(s, 0);
		return G_SOURCE_REMOVE;
	}
	if (n < 0 && n != -EAGAIN && n != -EINTR) {
		log_line("reading from the daemon failed: %s", strerror((int)-n));
		s->fd_watch = 0;
		sensor_quit(s, 1);
		return G_SOURCE_REMOVE;
	}
	while (!s->quitting) {
		json_object *msg = NULL;
		int r = wire_buf_next(&s->in, &msg);

		if (r == 0)
			break;
		if (r > 0) {
			r = handle_request(s, msg);
			request_free(msg);
		}
		if (r < 0) {
			log_line("malformed frame from the daemon (%s), exiting", strerror(-r));
			s->fd_watch = 0;
			sensor_quit(s, 1);
			return G_SOURCE_REMOVE;
		}
	}
	return s->quitting ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

/* ---- the reader --------------------------------------------------------------------- */

static void
device_release(Sensor *s)
{
	if (!s->dev)
		return;
	g_signal_handler_disconnect(s->dev, s->dev_notify_removed);
	g_signal_handler_disconnect(s->dev, s->dev_removed);
	g_clear_object(&s->dev);
	g_clear_object(&s->open_cancel);
	s->dev_opening = s->dev_ready = s->dev_closing = s->dev_gone = false;
}

static void
on_close_done(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Sensor *s = user_data;
	g_autoptr(GError) err = NULL;

	/* A removed device reports REMOVED from a close that did close it. */
	if (!fp_device_close_finish(FP_DEVICE(source), res, &err) &&
	    !g_error_matches(err, FP_DEVICE_ERROR, FP_DEVICE_ERROR_REMOVED))
		log_line("closing the reader: %s", err->message);
	if (s->dev == FP_DEVICE(source))
		s->dev_closing = false;
}

/* A removed reader is closed once no operation holds it; libfprint then drops it. */
static void
device_maybe_close(Sensor *s)
{
	if (!s->dev || !s->dev_gone || s->op != OP_NONE || s->dev_opening || s->dev_closing ||
	    !fp_device_is_open(s->dev))
		return;
	s->dev_closing = true;
	fp_device_close(s->dev, NULL, on_close_done, s);
}

static void
on_device_notify_removed(GObject *obj, GParamSpec *pspec, gpointer user_data)
{
	Sensor *s = user_data;
	gboolean removed = FALSE;

	g_object_get(obj, "removed", &removed, NULL);
	if (!removed || s->dev_gone)
		return;
	log_line("reader %s removed", fp_device_get_driver(s->dev));
	s->dev_gone = true;
	if (s->dev_ready) {
		s->dev_ready = false;
		send_reader_event(s);
	}
	op_stop(s, STOP_NO_READER);
}

static void
on_device_removed(FpDevice *dev, gpointer user_data)
{
	Sensor *s = user_data;

	s->dev_gone = true;
	device_maybe_close(s);
}

static void
busy_clear(Sensor *s)
{
	g_clear_pointer(&s->busy_driver, g_free);
	g_clear_pointer(&s->busy_name, g_free);
	if (s->reopen_source) {
		g_source_remove(s->reopen_source);
		s->reopen_source = 0;
	}
	s->reopen_ms = 0;
	s->open_failures = 0;
}

static gboolean
on_reopen(gpointer user_data)
{
	Sensor *s = user_data;
	bool was_busy = s->busy_driver != NULL;

	s->reopen_source = 0;
	device_adopt_first(s);
	if (!s->dev && was_busy) {
		/* The reader went away while it was busy: nothing left to retry. */
		log_line("reader %s is gone", s->busy_driver);
		busy_clear(s);
		send_reader_event(s);
	}
	return G_SOURCE_REMOVE;
}

/*
 * A reader that failed to open is tried again with a doubling delay, said once in the log
 * (and again when it opens) and reported as "busy" to the daemon when that is news.
 */
static void
reopen_later(Sensor *s, FpDevice *dev, const GError *err)
{
	bool news = s->busy_driver == NULL;

	if (s->quitting)
		return;
	s->open_failures++;
	if (news) {
		const char *name = fp_device_get_name(dev);

		log_line("reader %s cannot be opened (%s); it may be held by another process "
		         "such as fprintd; retrying until it can",
		         fp_device_get_driver(dev), err ? err->message : "-");
		s->busy_driver = g_strdup(fp_device_get_driver(dev));
		s->busy_name = g_strdup(name ? name : "");
	}
	s->reopen_ms = s->reopen_ms == 0 ? REOPEN_MIN_MS : MIN(s->reopen_ms * 2, REOPEN_MAX_MS);
	if (!s->reopen_source)
		s->reopen_source = g_timeout_add(s->reopen_ms, on_reopen, s);
	if (news)
		send_reader_event(s);
}

static void
on_open_done(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Sensor *s = user_data;
	FpDevice *dev = FP_DEVICE(source);
	g_autoptr(GError) err = NULL;
	gboolean ok = fp_device_open_finish(dev, res, &err);

	if (s->dev != dev)
		return;
	s->dev_opening = false;
	g_clear_object(&s->open_cancel);
	if (!ok) {
		reopen_later(s, dev, err);
		device_release(s);
		return;
	}
	if (s->dev_gone) {
		device_maybe_close(s);
		return;
	}
	s->dev_ready = true;
	if (s->open_failures > 0)
		log_line("reader %s ready after %u failed attempts to open it",
		         fp_device_get_driver(dev), s->open_failures);
	else
		log_line("reader %s ready", fp_device_get_driver(dev));
	busy_clear(s);
	send_reader_event(s);
}

static void
device_adopt(Sensor *s, FpDevice *dev)
{
	gboolean removed = FALSE;

	g_object_get(dev, "removed", &removed, NULL);
	if (s->dev || removed || s->quitting)
		return;
	s->dev = g_object_ref(dev);
	s->dev_notify_removed =
	    g_signal_connect(dev, "notify::removed", G_CALLBACK(on_device_notify_removed), s);
	s->dev_removed = g_signal_connect(dev, "removed", G_CALLBACK(on_device_removed), s);
	s->dev_opening = true;
	s->open_cancel = g_cancellable_new();
	fp_device_open(dev, s->open_cancel, on_open_done, s);
}

/* Prefers devices in libfprint's enumeration order. */
static void
device_adopt_first(Sensor *s)
{
	GPtrArray *devs = fp_context_get_devices(s->ctx);

	for (guint i = 0; devs && i < devs->len && !s->dev; i++)
		device_adopt(s, g_ptr_array_index(devs, i));
}

static void
on_ctx_device_added(FpContext *ctx, FpDevice *dev, gpointer user_data)
{
	Sensor *s = user_data;

	log_line("reader %s appeared", fp_device_get_driver(dev));
	device_adopt(s, dev);
}

/* libfprint emits this only once the device is closed. */
static void
on_ctx_device_removed(FpContext *ctx, FpDevice *dev, gpointer user_data)
{
	Sensor *s = user_data;

	if (dev != s->dev)
		return;
	log_line("reader %s released", fp_device_get_driver(dev));
	if (s->dev_ready) {
		s->dev_ready = false;
		send_reader_event(s);
	}
	device_release(s);
	device_adopt_first(s);
}

static gboolean
on_deadline(gpointer user_data)
{
	bool *expired = user_data;

	*expired = true;
	return G_SOURCE_REMOVE;
}

static bool
op_running(const Sensor *s)
{
	return s->op != OP_NONE;
}

static bool
device_busy(const Sensor *s)
{
	return s->dev_opening || s->dev_closing;
}

/* Runs the default context while busy(s) holds, for at most timeout_ms. */
static void
iterate_while(Sensor *s, bool (*busy)(const Sensor *), guint timeout_ms)
{
	bool expired = false;
	guint id = g_timeout_add(timeout_ms, on_deadline, &expired);

	while (busy(s) && !expired)
		g_main_context_iteration(NULL, TRUE);
	if (!expired)
		g_source_remove(id);
}

/* Ends the running operation and closes the reader, each within a bounded wait. */
static void
sensor_shutdown(Sensor *s)
{
	s->quitting = true;
	op_stop(s, STOP_SHUTDOWN);
	iterate_while(s, op_running, SHUTDOWN_TIMEOUT_MS);
	if (s->dev_opening && s->open_cancel)
		g_cancellable_cancel(s->open_cancel);
	iterate_while(s, device_busy, SHUTDOWN_TIMEOUT_MS);
	if (s->dev && !op_running(s) && fp_device_is_open(s->dev)) {
		s->dev_closing = true;
		fp_device_close(s->dev, NULL, on_close_done, s);
		iterate_while(s, device_busy, SHUTDOWN_TIMEOUT_MS);
	}
	if (!op_running(s) && !device_busy(s))
		device_release(s);
	busy_clear(s);
}

int
main(int argc, char **argv)
{
	Sensor s = { .fd = SENSOR_FD };
	struct stat st;
	int flags, r;

	signal(SIGPIPE, SIG_IGN);
	if (fstat(SENSOR_FD, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		log_line("fd %d is not a socket; biogated-sensor is started by biogated",
		         SENSOR_FD);
		return 2;
	}
	flags = fcntl(SENSOR_FD, F_GETFL);
	if (flags < 0 || fcntl(SENSOR_FD, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(SENSOR_FD, F_SETFD, FD_CLOEXEC) < 0) {
		log_line("cannot set up fd %d: %s", SENSOR_FD, strerror(errno));
		return 2;
	}
	/* Demoted before libfprint enumerates, i.e. before anything is read from a device. */
	r = sensor_sandbox_apply();
	if (r < 0) {
		log_line("cannot demote the sensor, refusing to touch a reader: %s", strerror(-r));
		return 2;
	}
	wire_buf_init(&s.in, WIRE_SENSOR_MAX_MESSAGE);
	s.loop = g_main_loop_new(NULL, FALSE);

	s.ctx = fp_context_new();
	g_signal_connect(s.ctx, "device-added", G_CALLBACK(on_ctx_device_added), &s);
	g_signal_connect(s.ctx, "device-removed", G_CALLBACK(on_ctx_device_removed), &s);
	/* Iterates the main context until every device is probed; device-added adopts one. */
	fp_context_enumerate(s.ctx);
	device_adopt_first(&s);
	iterate_while(&s, device_busy, OPEN_TIMEOUT_MS);
	if (s.dev_opening && s.open_cancel) {
		/* A reader that does not open in time is given up on; the open still completes. */
		g_cancellable_cancel(s.open_cancel);
		iterate_while(&s, device_busy, SHUTDOWN_TIMEOUT_MS);
	}
	if (!s.dev_ready)
		log_line("no reader");

	s.serving = true;
	s.fd_watch = g_unix_fd_add(SENSOR_FD, G_IO_IN | G_IO_HUP | G_IO_ERR, on_fd_ready, &s);
	g_main_loop_run(s.loop);

	sensor_shutdown(&s);
	g_clear_object(&s.ctx);
	g_main_loop_unref(s.loop);
	wire_buf_clear(&s.in);
	return s.exit_code;
}
