/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostile: clients that misbehave against a running biogated, while a well-behaved client
 * keeps being served. Each hostile connection must be closed by the daemon (we read EOF),
 * and the good client's GetStatus must succeed after each one. Usage: hostile SOCKET
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bgclient.h"

static int failures;

#define CHECK(cond, what)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "FAIL: %s\n", what);                                       \
			failures++;                                                                \
		} else {                                                                           \
			printf("ok: %s\n", what);                                                  \
		}                                                                                  \
	} while (0)

static int
raw_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("connect");
		exit(1);
	}
	return fd;
}

/* True when the daemon closes the connection within timeout_ms (EOF or reset). */
static bool
closed_by_peer(int fd, int timeout_ms)
{
	char buf[4096];
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, timeout_ms);
		if (r <= 0)
			return false;
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return true;
		if (n < 0)
			return false;
		/* An error reply before the close is fine; keep reading. */
	}
}

static bool
status_ok(BgClient *c)
{
	json_object *msg = NULL;
	WireReply rep;
	int r = bg_call(c, "io.biogate.GetStatus", NULL, 5000, &msg, &rep);
	bool ok =
	    r == 0 && !rep.error && json_object_object_get_ex(rep.parameters, "version", NULL);
	json_object_put(msg);
	return ok;
}

static void
send_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
		if (w <= 0)
			return; /* the daemon may close early: that is what we test */
		c += w;
		n -= (size_t)w;
	}
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: hostile SOCKET\n");
		return 2;
	}
	const char *path = argv[1];
	BgClient *good = NULL;
	if (bg_connect(path, 5000, &good) < 0) {
		fprintf(stderr, "cannot connect to %s\n", path);
		return 1;
	}
	CHECK(status_ok(good), "good client served before anything");

	/* A slow client: half a message, then nothing. It must not hold anyone up. */
	int slow = raw_connect(path);
	send_all(slow, "{\"method\":\"io.biogate.GetSt", 27);
	CHECK(status_ok(good), "good client served while a client sends half a message");

	/* Oversized: more than WIRE_MAX_MESSAGE bytes without a NUL. */
	int big = raw_connect(path);
	size_t n = WIRE_MAX_MESSAGE + 8192;
	char *junk = malloc(n);
	memset(junk, 'a', n);
	memcpy(junk, "{\"method\":\"", 11);
	send_all(big, junk, n);
	free(junk);
	CHECK(closed_by_peer(big, 5000), "oversized message closes the connection");
	CHECK(status_ok(good), "good client served after an oversized message");
	close(big);

	/* Malformed JSON. */
	int bad = raw_connect(path);
	send_all(bad, "{\"method\":}\0", 12);
	CHECK(closed_by_peer(bad, 5000), "malformed JSON closes the connection");
	close(bad);

	/* Valid JSON, not a call. */
	bad = raw_connect(path);
	send_all(bad, "[1,2,3]\0", 8);
	CHECK(closed_by_peer(bad, 5000), "a non-object message closes the connection");
	close(bad);

	/* A call with an unknown field is refused with an error, not a crash. */
	json_object *msg = NULL;
	WireReply rep;
	int r =
	    bg_call(good, "io.biogate.GetStaff",
	            json_tokener_parse("{\"matching_id\":\"M001\",\"evil\":1}"), 5000, &msg, &rep);
	CHECK(r == 0 && rep.error && strcmp(rep.error, WIRE_ERR_VARLINK_INVALID) == 0,
	      "unknown parameter refused with InvalidParameter");
	json_object_put(msg);
	r = bg_call(good, "io.biogate.NoSuchMethod", NULL, 5000, &msg, &rep);
	CHECK(r == 0 && rep.error && strcmp(rep.error, WIRE_ERR_METHOD_NOT_FOUND) == 0,
	      "unknown method refused with MethodNotFound");
	json_object_put(msg);
	r = bg_call(good, "io.biogate.CloseSession", json_tokener_parse("{\"session_id\":-5}"),
	            5000, &msg, &rep);
	CHECK(r == 0 && rep.error && strcmp(rep.error, WIRE_ERR_VARLINK_INVALID) == 0,
	      "out-of-range integer refused");
	json_object_put(msg);

	/* A ticket that was never issued opens no session. */
	r = bg_call(good, "io.biogate.OpenSession",
	            json_tokener_parse("{\"ticket\":\"00000000000000000000000000000000\","
	                               "\"operator_id\":\"OP-001\"}"),
	            5000, &msg, &rep);
	CHECK(r == 0 && rep.error && strcmp(rep.error, WIRE_ERR_TICKET) == 0,
	      "OpenSession without a real ticket refused");
	json_object_put(msg);

	/* Pipelined calls in one write are answered in order. */
	int pipe_fd = raw_connect(path);
	static const char two[] = "{\"method\":\"org.varlink.service.GetInfo\"}\0"
	                          "{\"method\":\"io.biogate.GetStatus\"}";
	send_all(pipe_fd, two, sizeof(two));
	char buf[8192];
	size_t got = 0;
	int nuls = 0;
	while (nuls < 2 && got < sizeof(buf)) {
		struct pollfd p = { .fd = pipe_fd, .events = POLLIN };
		if (poll(&p, 1, 5000) <= 0)
			break;
		ssize_t k = recv(pipe_fd, buf + got, sizeof(buf) - got, 0);
		if (k <= 0)
			break;
		for (ssize_t i = 0; i < k; i++)
			nuls += buf[got + (size_t)i] == '\0';
		got += (size_t)k;
	}
	CHECK(nuls == 2 && strstr(buf, "\"vendor\"") != NULL, "two pipelined calls answered");
	close(pipe_fd);

	CHECK(status_ok(good), "good client still served at the end");
	close(slow);
	bg_close(good);
	if (failures) {
		fprintf(stderr, "%d failure(s)\n", failures);
		return 1;
	}
	return 0;
}
