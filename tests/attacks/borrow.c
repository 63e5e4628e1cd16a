/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * borrow: tries to act for someone else's biogate session through a connection that is not
 * the caller's own (issue 14, finding 4). Prints each reply of the daemon as one line, and
 * "closed" when the daemon closes the connection.
 *
 *   borrow queued SOCKET USER: a connector sends Verify (waits for a finger) and, queued
 *     behind it, Authorize view-record; then exits while its child keeps the connection and
 *     reads the replies. Prints "connector PID" once the connector is gone and reaped, so
 *     that the test can give that pid to a process inside a session before the finger.
 *   borrow give SOCKET PATH: connects, asks Authorize view-record (from inside a session:
 *     allowed), then passes the connection with SCM_RIGHTS to the process listening on
 *     PATH and waits for it to finish.
 *   borrow receive PATH: listens on PATH, takes the connection passed to it and asks
 *     Authorize view-record on it.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static const char AUTHORIZE[] =
    "{\"method\":\"io.biogate.Authorize\",\"parameters\":{\"action\":\"view-record\"}}";

static int
unix_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("connect");
		exit(2);
	}
	return fd;
}

static void
send_all(int fd, const char *msg)
{
	size_t n = strlen(msg) + 1; /* with the NUL that ends a message */
	if (write(fd, msg, n) != (ssize_t)n) {
		perror("write");
		exit(2);
	}
}

/* Prints replies, one a line, until `want` final ones (no "continues") or the close. */
static void
print_replies(int fd, int want, int timeout_ms)
{
	char buf[65536];
	size_t len = 0;
	while (want > 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, timeout_ms) <= 0) {
			printf("timeout\n");
			fflush(stdout); /* the reader leaves by _exit() */
			return;
		}
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0) {
			printf("closed\n");
			fflush(stdout);
			return;
		}
		len += (size_t)n;
		char *end;
		while ((end = memchr(buf, '\0', len))) {
			printf("%s\n", buf);
			fflush(stdout);
			if (!strstr(buf, "\"continues\":true") &&
			    !strstr(buf, "\"continues\": true"))
				want--;
			size_t used = (size_t)(end - buf) + 1;
			memmove(buf, end + 1, len - used);
			len -= used;
		}
	}
}

static int
queued(const char *sock, const char *user)
{
	int ready[2];
	/* The reader outlives its parent, the connector: it comes to us to be waited for. */
	if (pipe(ready) < 0 || prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return 2;
	pid_t a = fork();
	if (a == 0) {
		int fd = unix_connect(sock);
		/* Both calls in one write, and the connector stays until the daemon has answered
		 * the first (its prompt): the daemon has then accepted the connection and pinned
		 * the connector while it was alive. A connector gone before that is never pinned,
		 * and its connection is closed unanswered (varlink/server.c), which is not the
		 * case this test is about. */
		char msg[1024];
		int k =
		    snprintf(msg, sizeof(msg),
		             "{\"method\":\"io.biogate.Verify\",\"parameters\":{\"user\":\"%s\"},"
		             "\"more\":true}",
		             user);
		memcpy(msg + k + 1, AUTHORIZE, sizeof(AUTHORIZE));
		size_t total = (size_t)k + 1 + sizeof(AUTHORIZE);
		if (write(fd, msg, total) != (ssize_t)total)
			_exit(2);
		char first[256];
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 30000) <= 0 || recv(fd, first, sizeof(first), MSG_PEEK) <= 0)
			_exit(2);
		pid_t b = fork();
		if (b == 0) {
			/* The connection's other holder: reads, never writes. */
			close(ready[1]);
			print_replies(fd, 2, 60000);
			_exit(0);
		}
		char pid[32];
		snprintf(pid, sizeof(pid), "%d\n", (int)b);
		(void)!write(ready[1], pid, strlen(pid));
		_exit(0);
	}
	close(ready[1]);
	char line[32] = "";
	(void)!read(ready[0], line, sizeof(line) - 1);
	pid_t b = (pid_t)atoi(line);
	waitpid(a, NULL, 0); /* reaped: its pid is free for the next process */
	printf("connector %d\n", (int)a);
	fflush(stdout);
	waitpid(b, NULL, 0);
	return 0;
}

static int
give(const char *sock, const char *path)
{
	int fd = unix_connect(sock);
	send_all(fd, AUTHORIZE);
	print_replies(fd, 1, 10000);
	int to = unix_connect(path);
	char byte = 'x';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl = { 0 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = sizeof(ctl)
	};
	struct cmsghdr *h = CMSG_FIRSTHDR(&mh);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(h), &fd, sizeof(int));
	if (sendmsg(to, &mh, 0) < 0) {
		perror("sendmsg");
		return 2;
	}
	/* Stay alive (and keep our copy) until the receiver is done with it. */
	(void)!read(to, &byte, 1);
	return 0;
}

static int
receive(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unlink(path);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 1) < 0) {
		perror("listen");
		return 2;
	}
	printf("listening\n");
	fflush(stdout);
	int c = accept(l, NULL, NULL);
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = sizeof(ctl)
	};
	if (c < 0 || recvmsg(c, &mh, 0) <= 0) {
		perror("recvmsg");
		return 2;
	}
	struct cmsghdr *h = CMSG_FIRSTHDR(&mh);
	if (!h || h->cmsg_type != SCM_RIGHTS) {
		fprintf(stderr, "no descriptor received\n");
		return 2;
	}
	int fd;
	memcpy(&fd, CMSG_DATA(h), sizeof(int));
	send_all(fd, AUTHORIZE);
	print_replies(fd, 1, 10000);
	(void)!write(c, "x", 1);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "queued") == 0)
		return queued(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "give") == 0)
		return give(argv[2], argv[3]);
	if (argc == 3 && strcmp(argv[1], "receive") == 0)
		return receive(argv[2]);
	fprintf(stderr, "usage: borrow queued SOCKET USER | give SOCKET PATH | receive PATH\n");
	return 2;
}
