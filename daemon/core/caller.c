/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * caller: see caller.h. Admin is decided from the kernel's credentials only.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "caller.h"
#include "manager.h"

bool
caller_is_admin(const Manager *m, const Caller *c)
{
	const Peer *p = &c->peer;
	if (p->uid == 0)
		return true;
	char buf[4096];
	struct group gr, *res = NULL;
	if (getgrnam_r(m->config.admin_group, &gr, buf, sizeof(buf), &res) != 0 || !res)
		return false;
	if (p->gid == res->gr_gid)
		return true;
	for (int i = 0; i < p->n_groups; i++)
		if (p->groups[i] == res->gr_gid)
			return true;
	return false;
}

/* --- the connector, pinned ---------------------------------------------------------------- */

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77 /* Linux 6.5 */
#endif

/* Field 22 of /proc/PID/stat (starttime, clock ticks after boot). The command name may
 * hold spaces and parentheses: the fields start after the last ')'. */
static int
proc_start_time(pid_t pid, unsigned long long *ret)
{
	char path[64], buf[2048];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	int err = errno;
	close(fd);
	if (n < 0)
		return -err;
	if (n == 0 || (size_t)n >= sizeof(buf) - 1)
		return -EBADMSG;
	buf[n] = '\0';
	char *p = memrchr(buf, ')', (size_t)n);
	if (!p)
		return -EBADMSG;
	p++;
	/* Fields 3..21 to skip, then starttime. */
	for (int field = 3; field < 22; field++) {
		p += strspn(p, " ");
		p += strcspn(p, " ");
		if (!*p)
			return -EBADMSG;
	}
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(p, &end, 10);
	if (errno || end == p || v == 0)
		return -EBADMSG;
	*ret = v;
	return 0;
}

/* 0 alive (a zombie included: its pid is not free yet), -ESRCH gone. */
static int
pidfd_alive(int pidfd)
{
	if (pidfd_send_signal(pidfd, 0, NULL, 0) == 0 || errno == EPERM)
		return 0;
	return -errno;
}

int
peer_pin(Peer *p, int fd)
{
	p->pidfd = -1;
	p->start = 0;
	p->gone = false;
	/* The kernel's own reference to the connector, when it has one: no window at all. */
	int pidfd = -1;
	socklen_t len = sizeof(pidfd);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) < 0 || pidfd < 0) {
		/* Older kernels: by number, right after accept. The connector may have exited
		 * and its pid been given to another process in between (the one window left,
		 * see caller.h). */
		pidfd = pidfd_open(p->pid, 0);
		if (pidfd < 0)
			return -errno;
	}
	unsigned long long start = 0;
	int r = proc_start_time(p->pid, &start);
	/* Alive after the read: /proc/PID was the pinned process all along. */
	if (r == 0)
		r = pidfd_alive(pidfd);
	if (r < 0) {
		close(pidfd);
		return r;
	}
	p->pidfd = pidfd;
	p->start = start;
	return 0;
}

bool
peer_connector_alive(const Peer *p)
{
	if (p->gone || p->pidfd < 0 || pidfd_alive(p->pidfd) < 0)
		return false;
	unsigned long long start = 0;
	return proc_start_time(p->pid, &start) == 0 && start == p->start;
}

void
peer_unpin(Peer *p)
{
	if (p->pidfd >= 0)
		close(p->pidfd);
	p->pidfd = -1;
}
