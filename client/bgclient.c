/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bgclient: connect to biogated, check who is on the other end, send calls, read bounded
 * replies. Loaded into every login process through pam_biogate.so, so it uses libc and
 * json-c only, keeps no global state, and never trusts a reply's length or shape.
 */
#include "bgclient.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct BgClient {
	int fd;
	WireBuf in;
};

const char *
bg_socket_path(const char *explicit_path)
{
	if (explicit_path && *explicit_path)
		return explicit_path;
	const char *env = secure_getenv("BIOGATE_SOCKET");
	if (env && *env)
		return env;
	return BIOGATE_RUNTIME_DIR "/" BIOGATE_SOCKET_NAME;
}

/* The daemon runs as root or as its own system user; nobody else may answer for it. */
static bool
bg_trusted_uid(uid_t uid)
{
	if (uid == 0)
		return true;
	char buf[1024];
	struct passwd pw, *res = NULL;
	if (getpwnam_r(BG_DAEMON_USER, &pw, buf, sizeof(buf), &res) != 0 || !res)
		return false;
	return res->pw_uid == uid;
}

static int64_t
bg_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
bg_wait(int fd, short events, int64_t deadline_ms)
{
	for (;;) {
		int t = -1;
		if (deadline_ms >= 0) {
			int64_t left = deadline_ms - bg_now_ms();
			if (left <= 0)
				return -ETIMEDOUT;
			t = left > 60000 ? 60000 : (int)left;
		}
		struct pollfd p = { .fd = fd, .events = events };
		int r = poll(&p, 1, t);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r > 0)
			return 0;
	}
}

int
bg_connect(const char *path, int timeout_ms, BgClient **ret)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (!path || strlen(path) >= sizeof(sa.sun_path))
		return -EINVAL;
	strcpy(sa.sun_path, path);

	struct stat st;
	if (lstat(path, &st) < 0)
		return -errno;
	if (!S_ISSOCK(st.st_mode) || !bg_trusted_uid(st.st_uid))
		return -EPERM;

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	int64_t deadline = timeout_ms < 0 ? -1 : bg_now_ms() + timeout_ms;
	int r = 0;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno != EINPROGRESS && errno != EAGAIN) {
			r = -errno;
			goto fail;
		}
		r = bg_wait(fd, POLLOUT, deadline);
		if (r < 0)
			goto fail;
		int err = 0;
		socklen_t len = sizeof(err);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
			r = err ? -err : -errno;
			goto fail;
		}
	}

	struct ucred cred;
	socklen_t clen = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0) {
		r = -errno;
		goto fail;
	}
	if (!bg_trusted_uid(cred.uid)) {
		r = -EPERM;
		goto fail;
	}

	BgClient *c = calloc(1, sizeof(*c));
	if (!c) {
		r = -ENOMEM;
		goto fail;
	}
	c->fd = fd;
	wire_buf_init(&c->in, WIRE_MAX_MESSAGE);
	*ret = c;
	return 0;
fail:
	close(fd);
	return r;
}

void
bg_close(BgClient *c)
{
	if (!c)
		return;
	close(c->fd);
	wire_buf_clear(&c->in);
	free(c);
}

int
bg_send(BgClient *c, const char *method, json_object *params, bool more)
{
	json_object *call = wire_new_call(method, params, more);
	if (!call)
		return -ENOMEM;
	char *buf = NULL;
	size_t n = 0;
	int r = wire_serialize(call, &buf, &n);
	json_object_put(call);
	if (r < 0)
		return r;
	size_t done = 0;
	int64_t deadline = bg_now_ms() + 10000;
	while (done < n) {
		ssize_t w = send(c->fd, buf + done, n - done, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				r = bg_wait(c->fd, POLLOUT, deadline);
				if (r < 0)
					break;
				continue;
			}
			r = errno == EPIPE ? -ECONNRESET : -errno;
			break;
		}
		done += (size_t)w;
	}
	explicit_bzero(buf, n);
	free(buf);
	return done == n ? 0 : (r < 0 ? r : -EIO);
}

int
bg_recv(BgClient *c, int timeout_ms, json_object **ret_msg, WireReply *ret)
{
	int64_t deadline = timeout_ms < 0 ? -1 : bg_now_ms() + timeout_ms;
	for (;;) {
		json_object *msg = NULL;
		int r = wire_buf_next(&c->in, &msg);
		if (r < 0)
			return -EBADMSG;
		if (r > 0) {
			WireReply rep;
			if (wire_parse_reply(msg, &rep) < 0) {
				json_object_put(msg);
				return -EBADMSG;
			}
			*ret_msg = msg;
			*ret = rep;
			return 0;
		}
		r = bg_wait(c->fd, POLLIN, deadline);
		if (r < 0)
			return r;
		ssize_t n = wire_buf_fill(&c->in, c->fd);
		if (n == 0)
			return -ECONNRESET;
		if (n == -EAGAIN || n == -EINTR)
			continue;
		if (n == -EMSGSIZE)
			return -EBADMSG;
		if (n < 0)
			return (int)n;
	}
}

int
bg_call(BgClient *c, const char *method, json_object *params, int timeout_ms, json_object **ret_msg,
        WireReply *ret)
{
	int r = bg_send(c, method, params, false);
	if (r < 0)
		return r;
	return bg_recv(c, timeout_ms, ret_msg, ret);
}
