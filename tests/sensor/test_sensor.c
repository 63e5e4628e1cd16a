/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Integration test of biogated-sensor against libfprint's virtual_device reader.
 *
 * It plays biogated: spawns the real binary (argv[1]) with a socketpair on fd 3, speaks
 * docs/protocol.md section 2 with its own small reader (so a framing bug in the sensor is
 * not hidden by the shared codec), and drives the reader through tests/vdev.c. Every
 * reply is compared field by field with exact values. It needs no root and no hardware;
 * it exits 77 when libfprint offers no virtual_device driver.
 */
/* vasprintf, memmem; the top-level build may define it already. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "vdev.h"

#define RECV_TIMEOUT_MS 5000
#define SENSOR_CAP      (512u * 1024u)

typedef struct Sensor {
	pid_t pid;
	int fd;
	char *buf;
	size_t len;
} Sensor;

static const char *sensor_bin;
static char tmpdir[] = "/tmp/biogate-sensor-test.XXXXXX";
static char vdev_path[256];
static Sensor *current;

static void
cleanup(void)
{
	if (current && current->pid > 0) {
		kill(current->pid, SIGKILL);
		waitpid(current->pid, NULL, 0);
		current->pid = 0;
	}
	unlink(vdev_path);
	rmdir(vdev_path); /* test_busy_reader's stand-in for a held reader */
	rmdir(tmpdir);
}

static void __attribute__((format(printf, 1, 2), noreturn)) fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FAIL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	cleanup();
	exit(1);
}

static void
step(const char *what)
{
	fprintf(stderr, "-- %s\n", what);
}

static void
spawn(Sensor *s, bool with_reader)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		fail("socketpair: %s", strerror(errno));
	*s = (Sensor){ .fd = sv[0] };
	s->pid = fork();
	if (s->pid < 0)
		fail("fork: %s", strerror(errno));
	if (s->pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		if (null < 0 || dup2(null, 0) < 0 || dup2(sv[1], 3) < 0)
			_exit(127);
		if (with_reader)
			setenv("FP_VIRTUAL_DEVICE", vdev_path, 1);
		else
			unsetenv("FP_VIRTUAL_DEVICE");
		unsetenv("FP_VIRTUAL_DEVICE_STORAGE");
		unsetenv("FP_VIRTUAL_IMAGE");
		setenv("FP_DRIVERS_WHITELIST", "virtual_device", 1);
		execl(sensor_bin, sensor_bin, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	current = s;
}

static void
send_raw(Sensor *s, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = send(s->fd, c, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			fail("send to sensor: %s", strerror(errno));
		c += w;
		n -= (size_t)w;
	}
}

/* Sends text plus the frame's NUL. */
static void
send_frame(Sensor *s, const char *json)
{
	send_raw(s, json, strlen(json) + 1);
}

static void __attribute__((format(printf, 2, 3))) sendf(Sensor *s, const char *fmt, ...)
{
	char *p = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0)
		fail("vasprintf");
	send_frame(s, p);
	free(p);
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Next message, or NULL on timeout or EOF (*eof says which). */
static json_object *
recv_msg_timeout(Sensor *s, int timeout_ms, bool *eof)
{
	long deadline = now_ms() + timeout_ms;

	*eof = false;
	for (;;) {
		char *nul = s->buf ? memchr(s->buf, '\0', s->len) : NULL;

		if (nul) {
			size_t n = (size_t)(nul - s->buf);
			json_tokener *tok = json_tokener_new();
			json_object *o;

			json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
			o = json_tokener_parse_ex(tok, s->buf, (int)n);
			if (!o || json_tokener_get_parse_end(tok) != n ||
			    !json_object_is_type(o, json_type_object))
				fail("sensor sent a bad frame: %.*s", (int)n, s->buf);
			json_tokener_free(tok);
			memmove(s->buf, nul + 1, s->len - n - 1);
			s->len -= n + 1;
			return o;
		}
		long left = deadline - now_ms();
		struct pollfd pfd = { .fd = s->fd, .events = POLLIN };

		if (left <= 0)
			return NULL;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		char chunk[65536];
		ssize_t n = read(s->fd, chunk, sizeof chunk);

		if (n == 0 || (n < 0 && errno == ECONNRESET)) {
			*eof = true;
			return NULL;
		}
		if (n < 0)
			continue;
		if (s->len + (size_t)n > SENSOR_CAP + 1)
			fail("sensor sent more than the cap without a NUL");
		s->buf = realloc(s->buf, s->len + (size_t)n);
		if (!s->buf)
			fail("realloc");
		memcpy(s->buf + s->len, chunk, (size_t)n);
		s->len += (size_t)n;
	}
}

static json_object *
recv_msg(Sensor *s)
{
	bool eof;
	json_object *o = recv_msg_timeout(s, RECV_TIMEOUT_MS, &eof);

	if (!o)
		fail("no message from the sensor (%s)", eof ? "EOF" : "timeout");
	return o;
}

/*
 * Compares msg with the JSON text 'want': every key of 'want' must be present with an equal
 * value, and msg may carry no other keys except those named in 'extra' (comma-separated).
 */
static void
expect_msg(json_object *msg, const char *want, const char *extra)
{
	json_object *w = json_tokener_parse(want);

	if (!w)
		fail("test bug: bad expectation %s", want);
	json_object_object_foreach(w, k, v)
	{
		json_object *got = NULL;

		if (!json_object_object_get_ex(msg, k, &got) || !json_object_equal(got, v))
			fail("expected %s, got %s (key %s)", want, json_object_to_json_string(msg),
			     k);
	}
	json_object_object_foreach(msg, k2, v2)
	{
		(void)v2;
		if (json_object_object_get_ex(w, k2, NULL))
			continue;
		if (extra) {
			const char *p = strstr(extra, k2);
			size_t kl = strlen(k2);

			if (p && (p == extra || p[-1] == ',') && (p[kl] == '\0' || p[kl] == ','))
				continue;
		}
		fail("unexpected key %s in %s (expected %s)", k2, json_object_to_json_string(msg),
		     want);
	}
	json_object_put(w);
}

static void
expect(Sensor *s, const char *want, const char *extra)
{
	json_object *m = recv_msg(s);

	expect_msg(m, want, extra);
	json_object_put(m);
}

static void
expect_error(Sensor *s, long id, const char *error)
{
	char want[128];

	snprintf(want, sizeof want, "{\"id\":%ld,\"ok\":false,\"error\":\"%s\"}", id, error);
	expect(s, want, "message");
}

static void
expect_quiet(Sensor *s, int ms)
{
	bool eof;
	json_object *m = recv_msg_timeout(s, ms, &eof);

	if (m)
		fail("unexpected message %s", json_object_to_json_string(m));
	if (eof)
		fail("sensor closed the link");
}

static void
vdev(const char *cmd)
{
	int r = vdev_send(vdev_path, cmd);

	if (r < 0)
		fail("virtual device command '%s': %s", cmd, strerror(-r));
}

/* Waits for the sensor to exit; returns the wait status. */
static int
wait_exit(Sensor *s, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;
	int status;

	for (;;) {
		pid_t r = waitpid(s->pid, &status, WNOHANG);

		if (r == s->pid) {
			s->pid = 0;
			if (current == s)
				current = NULL;
			close(s->fd);
			free(s->buf);
			return status;
		}
		if (now_ms() >= deadline)
			fail("sensor did not exit");
		usleep(10000);
	}
}

static void
expect_exit(Sensor *s, bool success, const char *why)
{
	int status = wait_exit(s, 10000);

	if (!WIFEXITED(status))
		fail("%s: sensor died by signal %d", why, WTERMSIG(status));
	if (success && WEXITSTATUS(status) != 0)
		fail("%s: sensor exited %d, expected 0", why, WEXITSTATUS(status));
	if (!success && WEXITSTATUS(status) == 0)
		fail("%s: sensor exited 0, expected a failure", why);
}

/* ---- base64 (the test does not link GLib) --------------------------------------------- */

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *
b64_encode(const unsigned char *p, size_t n)
{
	char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;

	if (!out)
		fail("malloc");
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		*o++ = b64chars[(v >> 18) & 63];
		*o++ = b64chars[(v >> 12) & 63];
		*o++ = i + 1 < n ? b64chars[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? b64chars[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

static unsigned char *
b64_decode(const char *s, size_t *ret_len)
{
	size_t n = strlen(s), k = 0;
	unsigned char *out = malloc(n / 4 * 3 + 3);
	unsigned v = 0;
	int bits = 0;

	if (!out || n % 4 != 0)
		fail("bad base64 from the sensor");
	for (size_t i = 0; i < n && s[i] != '='; i++) {
		const char *c = strchr(b64chars, s[i]);

		if (!c || !*c)
			fail("bad base64 character from the sensor");
		v = (v << 6) | (unsigned)(c - b64chars);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[k++] = (unsigned char)(v >> bits);
		}
	}
	*ret_len = k;
	return out;
}

/* ---- scenarios ---------------------------------------------------------------------------- */

/* A verify request whose print the sensor refuses before touching the reader. */
static void
expect_verify_invalid(Sensor *s, long id, const char *b64)
{
	sendf(s, "{\"id\":%ld,\"op\":\"verify\",\"print\":\"%s\",\"timeout_ms\":1000}", id, b64);
	expect_error(s, id, "invalid");
}

/* Any verify that is accepted must end with a reply for its id; returns true if it ran. */
static bool
verify_runs_or_invalid(Sensor *s, long id, const char *b64)
{
	json_object *m, *v;
	bool ran = false;

	sendf(s, "{\"id\":%ld,\"op\":\"verify\",\"print\":\"%s\",\"timeout_ms\":1}", id, b64);
	for (;;) {
		m = recv_msg(s);
		if (!json_object_object_get_ex(m, "id", &v) || json_object_get_int64(v) != id)
			fail("reply for the wrong request: %s", json_object_to_json_string(m));
		if (json_object_object_get_ex(m, "event", &v)) {
			expect_msg(m, "{\"event\":\"place-finger\"}", "id");
			ran = true;
			json_object_put(m);
			continue;
		}
		if (!json_object_object_get_ex(m, "ok", &v))
			fail("reply without ok: %s", json_object_to_json_string(m));
		if (!ran)
			expect_msg(m, "{\"ok\":false,\"error\":\"invalid\"}", "id,message");
		json_object_put(m);
		return ran;
	}
}

static char *
enroll_finger_a(Sensor *s, long id)
{
	char want[128];
	json_object *m, *p;
	char *print;

	sendf(s, "{\"id\":%ld,\"op\":\"enroll\",\"finger\":\"right-index\",\"timeout_ms\":20000}",
	      id);
	/* A second operation while one runs is refused; hello is still answered. */
	sendf(s, "{\"id\":%ld,\"op\":\"verify\",\"print\":\"AAAA\"}", id + 1);
	expect_error(s, id + 1, "busy");
	sendf(s, "{\"id\":%ld,\"op\":\"enroll\",\"finger\":\"left-thumb\"}", id + 2);
	expect_error(s, id + 2, "busy");
	sendf(s, "{\"id\":%ld,\"op\":\"hello\"}", id + 3);
	expect(s, "{\"ok\":true}", "id,reader");

	vdev("SCAN finger-a");
	vdev("SCAN finger-a");
	vdev("RETRY 1");
	vdev("SCAN finger-a");
	vdev("SCAN finger-a");
	vdev("SCAN finger-a");
	for (int stage = 1; stage <= 5; stage++) {
		snprintf(want, sizeof want,
		         "{\"id\":%ld,\"event\":\"progress\",\"stage\":%d,\"stages\":5}", id,
		         stage);
		expect(s, want, NULL);
		if (stage == 2) {
			m = recv_msg(s);
			snprintf(want, sizeof want, "{\"id\":%ld,\"event\":\"retry\"}", id);
			expect_msg(m, want, "message");
			if (!json_object_object_get_ex(m, "message", &p) ||
			    !json_object_is_type(p, json_type_string) ||
			    json_object_get_string_len(p) == 0)
				fail("retry event without a message");
			json_object_put(m);
		}
	}
	m = recv_msg(s);
	snprintf(want, sizeof want, "{\"id\":%ld,\"ok\":true}", id);
	expect_msg(m, want, "print");
	if (!json_object_object_get_ex(m, "print", &p) || !json_object_is_type(p, json_type_string))
		fail("enroll reply without a print string");
	print = strdup(json_object_get_string(p));
	json_object_put(m);
	return print;
}

static void
verify_expect(Sensor *s, long id, const char *print, const char *scan, bool match)
{
	char want[128];

	sendf(s, "{\"id\":%ld,\"op\":\"verify\",\"print\":\"%s\",\"timeout_ms\":20000}", id, print);
	snprintf(want, sizeof want, "{\"id\":%ld,\"event\":\"place-finger\"}", id);
	expect(s, want, NULL);
	vdev(scan);
	snprintf(want, sizeof want, "{\"id\":%ld,\"ok\":true,\"match\":%s}", id,
	         match ? "true" : "false");
	expect(s, want, NULL);
}

static void
test_with_reader(void)
{
	static const char *const finger_names[] = {
		"left-thumb",  "left-index",  "left-middle",  "left-ring",  "left-little",
		"right-thumb", "right-index", "right-middle", "right-ring", "right-little",
	};
	Sensor s;
	json_object *m, *r;
	char *print, *b64, want[160];
	unsigned char *raw, junk[96];
	size_t rawlen;
	long id = 100;
	bool present;

	step("start with a virtual_device reader");
	spawn(&s, true);
	sendf(&s, "{\"id\":1,\"op\":\"hello\"}");
	m = recv_msg(&s);
	if (!json_object_object_get_ex(m, "reader", &r))
		fail("hello without reader: %s", json_object_to_json_string(m));
	present = json_object_get_boolean(json_object_object_get(r, "present"));
	if (!present && access(vdev_path, F_OK) != 0) {
		fprintf(stderr, "SKIP: libfprint offers no virtual_device reader here\n");
		json_object_put(m);
		cleanup();
		exit(77);
	}
	/* The hello reply is the first thing the sensor says. */
	expect_msg(
	    m,
	    "{\"id\":1,\"ok\":true,\"reader\":{\"present\":true,\"driver\":\"virtual_device\","
	    "\"name\":\"Virtual device for debugging\",\"enroll_stages\":5}}",
	    NULL);
	json_object_put(m);

	step("cancel with nothing running");
	sendf(&s, "{\"id\":2,\"op\":\"cancel\"}");
	expect(&s, "{\"id\":2,\"ok\":true}", NULL);

	step("enroll: 5 stages, a retry, busy refusals");
	print = enroll_finger_a(&s, 3);
	expect_quiet(&s, 100);

	step("verify: match, no match, retry then match");
	verify_expect(&s, 10, print, "SCAN finger-a", true);
	verify_expect(&s, 11, print, "SCAN finger-b", false);
	sendf(&s, "{\"id\":12,\"op\":\"verify\",\"print\":\"%s\",\"timeout_ms\":20000}", print);
	expect(&s, "{\"id\":12,\"event\":\"place-finger\"}", NULL);
	vdev("RETRY 1");
	expect(&s, "{\"id\":12,\"event\":\"retry\"}", "message");
	vdev("SCAN finger-a");
	expect(&s, "{\"id\":12,\"ok\":true,\"match\":true}", NULL);

	step("verify: timeout");
	sendf(&s, "{\"id\":13,\"op\":\"verify\",\"print\":\"%s\",\"timeout_ms\":500}", print);
	expect(&s, "{\"id\":13,\"event\":\"place-finger\"}", NULL);
	expect_error(&s, 13, "timeout");

	step("verify: cancel");
	sendf(&s, "{\"id\":14,\"op\":\"verify\",\"print\":\"%s\",\"timeout_ms\":20000}", print);
	expect(&s, "{\"id\":14,\"event\":\"place-finger\"}", NULL);
	sendf(&s, "{\"id\":15,\"op\":\"cancel\"}");
	expect(&s, "{\"id\":15,\"ok\":true}", NULL);
	expect_error(&s, 14, "cancelled");
	/* The reader still works after a timeout and a cancel. */
	verify_expect(&s, 16, print, "SCAN finger-a", true);

	step("enroll: every finger name is accepted");
	for (size_t i = 0; i < sizeof finger_names / sizeof finger_names[0]; i++) {
		id++;
		sendf(&s, "{\"id\":%ld,\"op\":\"enroll\",\"finger\":\"%s\"}", id, finger_names[i]);
		sendf(&s, "{\"id\":%ld,\"op\":\"cancel\"}", id + 1000);
		snprintf(want, sizeof want, "{\"id\":%ld,\"ok\":true}", id + 1000);
		expect(&s, want, NULL);
		expect_error(&s, id, "cancelled");
	}

	step("verify: hostile prints");
	expect_verify_invalid(&s, 20, "not base64!");
	expect_verify_invalid(&s, 21, "QUJD=");    /* bad length */
	expect_verify_invalid(&s, 22, "QU=JDRA="); /* padding inside */
	expect_verify_invalid(&s, 23, "");
	srand(1234);
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (unsigned char)rand();
	b64 = b64_encode(junk, sizeof junk);
	expect_verify_invalid(&s, 24, b64);
	free(b64);
	memcpy(junk, "FP3", 3);
	b64 = b64_encode(junk, sizeof junk);
	expect_verify_invalid(&s, 25, b64);
	free(b64);
	/* A well-formed print for another driver: deserializes, but is not compatible. */
	raw = b64_decode(print, &rawlen);
	{
		unsigned char *hit = memmem(raw, rawlen, "virtual_device", 14);

		if (!hit)
			fail("enrolled print does not name its driver");
		hit[13] = 'X';
		b64 = b64_encode(raw, rawlen);
		expect_verify_invalid(&s, 26, b64);
		free(b64);
		hit[13] = 'e';
	}
	/* Mutations of a valid print: each ends in a reply, none crashes the sensor. */
	for (int i = 0; i < 300; i++) {
		unsigned char *mut = malloc(rawlen);
		size_t at = (size_t)rand() % rawlen;

		memcpy(mut, raw, rawlen);
		mut[at] ^= (unsigned char)(1u + (unsigned)rand() % 255u);
		if (i % 3 == 0)
			mut[(size_t)rand() % rawlen] = (unsigned char)rand();
		b64 = b64_encode(mut, i % 5 == 0 ? at + 1 : rawlen);
		verify_runs_or_invalid(&s, 1000 + i, b64);
		free(b64);
		free(mut);
	}
	free(raw);

	step("well-formed but bad requests");
	sendf(&s, "{\"id\":30,\"op\":\"dance\"}");
	expect_error(&s, 30, "invalid");
	sendf(&s, "{\"id\":31,\"op\":\"enroll\",\"finger\":\"left-toe\"}");
	expect_error(&s, 31, "invalid");
	sendf(&s, "{\"id\":32,\"op\":\"hello\",\"extra\":1}");
	expect_error(&s, 32, "invalid");
	sendf(&s,
	      "{\"id\":33,\"op\":\"enroll\",\"finger\":\"left-index\",\"timeout_ms\":\"soon\"}");
	expect_error(&s, 33, "invalid");
	sendf(&s, "{\"id\":34,\"op\":\"verify\"}");
	expect_error(&s, 34, "invalid");
	sendf(&s, "{\"id\":35}");
	expect_error(&s, 35, "invalid");
	sendf(&s, "{\"id\":36,\"op\":\"enroll\",\"finger\":\"left-index\",\"timeout_ms\":0}");
	expect_error(&s, 36, "invalid");
	sendf(&s, "{\"id\":37,\"op\":7}");
	expect_error(&s, 37, "invalid");
	sendf(&s, "{\"id\":38,\"op\":\"hello\"}");
	expect(&s, "{\"id\":38,\"ok\":true}", "reader");

	step("unplug during a verify");
	sendf(&s, "{\"id\":40,\"op\":\"verify\",\"print\":\"%s\",\"timeout_ms\":20000}", print);
	expect(&s, "{\"id\":40,\"event\":\"place-finger\"}", NULL);
	vdev("UNPLUG");
	expect(&s, "{\"event\":\"reader\",\"present\":false}", NULL);
	expect_error(&s, 40, "no-reader");
	sendf(&s, "{\"id\":41,\"op\":\"enroll\",\"finger\":\"right-index\"}");
	expect_error(&s, 41, "no-reader");
	sendf(&s, "{\"id\":42,\"op\":\"verify\",\"print\":\"%s\"}", print);
	expect_error(&s, 42, "no-reader");
	sendf(&s, "{\"id\":43,\"op\":\"hello\"}");
	expect(&s, "{\"id\":43,\"ok\":true,\"reader\":{\"present\":false}}", NULL);
	expect_quiet(&s, 200);
	free(print);

	step("EOF on fd 3 ends the sensor cleanly");
	shutdown(s.fd, SHUT_WR);
	expect_exit(&s, true, "EOF");
}

static void
test_bad_frames(void)
{
	static const char *const bad[] = {
		"this is not json",
		"{\"op\":\"hello\"}",          /* no id */
		"{\"id\":0,\"op\":\"hello\"}", /* id out of range */
		"{\"id\":\"1\",\"op\":\"hello\"}",
		"[1,2,3]",
		"{\"id\":1,\"op\":\"hello\"} trailing",
	};
	Sensor s;
	char *big;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		step(bad[i]);
		spawn(&s, false);
		send_frame(&s, "{\"id\":1,\"op\":\"hello\"}");
		expect(&s, "{\"id\":1,\"ok\":true,\"reader\":{\"present\":false}}", NULL);
		send_frame(&s, bad[i]);
		expect_exit(&s, false, bad[i]);
	}

	step("a frame over the cap");
	spawn(&s, false);
	big = malloc(SENSOR_CAP + 64);
	if (!big)
		fail("malloc");
	memset(big, ' ', SENSOR_CAP + 64);
	big[0] = '{';
	/* The sensor may stop reading part-way; a failed send is fine, a crash is not. */
	for (size_t off = 0; off < SENSOR_CAP + 64;) {
		ssize_t w = send(s.fd, big + off, SENSOR_CAP + 64 - off, MSG_NOSIGNAL);

		if (w <= 0)
			break;
		off += (size_t)w;
	}
	free(big);
	expect_exit(&s, false, "oversized frame");
}

/*
 * A reader found but not openable (held by another process: here a directory sits where
 * the virtual driver must bind its socket) is reported "busy" and retried until it opens.
 */
static void
test_busy_reader(void)
{
	Sensor s;

	step("a busy reader is reported and retried until it opens");
	unlink(vdev_path); /* the socket an earlier sensor left */
	if (mkdir(vdev_path, 0700) < 0)
		fail("mkdir %s: %s", vdev_path, strerror(errno));
	spawn(&s, true);
	sendf(&s, "{\"id\":1,\"op\":\"hello\"}");
	expect(&s,
	       "{\"id\":1,\"ok\":true,\"reader\":{\"present\":false,\"state\":\"busy\","
	       "\"driver\":\"virtual_device\",\"name\":\"Virtual device for debugging\"}}",
	       NULL);
	/* Still busy a few retries later, and said once only. */
	expect_quiet(&s, 1000);
	sendf(&s, "{\"id\":2,\"op\":\"enroll\",\"finger\":\"left-index\"}");
	expect_error(&s, 2, "no-reader");
	if (rmdir(vdev_path) < 0)
		fail("rmdir %s: %s", vdev_path, strerror(errno));
	expect(&s,
	       "{\"event\":\"reader\",\"present\":true,\"driver\":\"virtual_device\","
	       "\"name\":\"Virtual device for debugging\",\"enroll_stages\":5}",
	       NULL);
	sendf(&s, "{\"id\":3,\"op\":\"hello\"}");
	expect(&s,
	       "{\"id\":3,\"ok\":true,\"reader\":{\"present\":true,\"driver\":\"virtual_device\","
	       "\"name\":\"Virtual device for debugging\",\"enroll_stages\":5}}",
	       NULL);
	shutdown(s.fd, SHUT_WR);
	expect_exit(&s, true, "EOF");
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH-TO-biogated-sensor\n", argv[0]);
		return 2;
	}
	sensor_bin = argv[1];
	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(tmpdir))
		fail("mkdtemp: %s", strerror(errno));
	snprintf(vdev_path, sizeof vdev_path, "%s/vdev.sock", tmpdir);

	test_with_reader();
	test_bad_frames();
	test_busy_reader();

	cleanup();
	fprintf(stderr, "PASS\n");
	return 0;
}
