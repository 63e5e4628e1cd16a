/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test helper for libfprint's virtual_device driver: one command per connection, sent
 * synchronously (see vdev.h for why). Test code only; it must not be linked into anything
 * that is installed.
 */
#include "vdev.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define VDEV_WAIT_MS 2000
/* The driver reads at most this many bytes of a command. */
#define VDEV_MAX_CMD 1024

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int
vdev_connect(const char *sock_path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	long deadline = now_ms() + VDEV_WAIT_MS;

	if (strlen(sock_path) >= sizeof sa.sun_path)
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int err;

		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
			return fd;
		err = errno;
		close(fd);
		/* The socket appears only once the sensor has opened the device. */
		if ((err != ENOENT && err != ECONNREFUSED) || now_ms() >= deadline)
			return -err;
		usleep(10000);
	}
}

int
vdev_send(const char *sock_path, const char *cmd)
{
	size_t len = strlen(cmd), off = 0;
	long deadline;
	int fd, r = 0;

	if (len == 0 || len > VDEV_MAX_CMD)
		return -EINVAL;
	fd = vdev_connect(sock_path);
	if (fd < 0)
		return fd;
	while (off < len) {
		ssize_t n = send(fd, cmd + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		off += (size_t)n;
	}
	/* The driver reads until EOF (or 1024 bytes), handles the command, then closes. */
	if (shutdown(fd, SHUT_WR) < 0) {
		r = -errno;
		goto out;
	}
	deadline = now_ms() + VDEV_WAIT_MS;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long left = deadline - now_ms();
		char buf[256];
		ssize_t n;

		if (left <= 0) {
			r = -ETIMEDOUT;
			break;
		}
		if (poll(&pfd, 1, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		n = read(fd, buf, sizeof buf);
		if (n == 0)
			break;
		if (n < 0 && errno != EINTR && errno != EAGAIN) {
			/* A reset after the command was read still means it was handled. */
			if (errno != ECONNRESET)
				r = -errno;
			break;
		}
	}
out:
	close(fd);
	return r;
}
