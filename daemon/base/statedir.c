/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * statedir: see statedir.h. Everything is looked at through directory descriptors with
 * O_NOFOLLOW / AT_SYMLINK_NOFOLLOW, so a symlink is judged as itself and never followed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "statedir.h"

/* Deep enough for anything the daemon makes; a deeper tree is somebody else's doing. */
#define STATEDIR_DEPTH_MAX 4

static int
statedir_refuse(const char *path, const char *why)
{
	log_error("Refusing to start: %s %s", path, why);
	return -EPERM;
}

static int
statedir_check_stat(const char *path, const struct stat *st, uid_t uid)
{
	char why[96];
	if (st->st_uid != uid) {
		snprintf(why, sizeof(why), "is owned by uid %u, not by the daemon's uid %u",
		         (unsigned)st->st_uid, (unsigned)uid);
		return statedir_refuse(path, why);
	}
	/* A symlink's own mode is meaningless (always 0777): only its owner counts. */
	if (!S_ISLNK(st->st_mode) && (st->st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(why, sizeof(why), "is writable by others (mode %04o)",
		         (unsigned)(st->st_mode & 07777));
		return statedir_refuse(path, why);
	}
	/* A second name for one of our files, made while the directory was open to others,
	 * would let its maker read or replace it later. */
	if (S_ISREG(st->st_mode) && st->st_nlink > 1)
		return statedir_refuse(path, "has more than one hard link");
	return 0;
}

static int
statedir_walk(int dfd, const char *path, uid_t uid, int depth)
{
	if (depth > STATEDIR_DEPTH_MAX)
		return statedir_refuse(path, "is nested too deep");
	int fd = dup(dfd);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		int r = -errno;
		close(fd);
		return r;
	}
	int r = 0;
	struct dirent *de;
	while (r == 0 && (errno = 0, de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char child[4096];
		if ((size_t)snprintf(child, sizeof(child), "%s/%s", path, de->d_name) >=
		    sizeof(child)) {
			r = statedir_refuse(path, "holds a name too long");
			break;
		}
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = log_error_errno(-errno, "Failed to stat %s: %m", child);
			break;
		}
		r = statedir_check_stat(child, &st, uid);
		if (r == 0 && S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), de->d_name,
			                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				r = log_error_errno(-errno, "Failed to open %s: %m", child);
			else {
				r = statedir_walk(sub, child, uid, depth + 1);
				close(sub);
			}
		}
	}
	if (r == 0 && errno != 0)
		r = log_error_errno(-errno, "Failed to read %s: %m", path);
	closedir(d);
	return r;
}

int
statedir_check(const char *path, uid_t uid)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ELOOP || errno == ENOTDIR)
			return statedir_refuse(path, "is not a directory (or is a symlink)");
		return log_error_errno(-errno, "Failed to open %s: %m", path);
	}
	struct stat st;
	int r = fstat(fd, &st) < 0 ? -errno : 0;
	if (r == 0)
		r = statedir_check_stat(path, &st, uid);
	if (r == 0)
		r = statedir_walk(fd, path, uid, 1);
	close(fd);
	return r;
}
