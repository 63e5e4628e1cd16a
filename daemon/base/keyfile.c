/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * keyfile: loads or creates the daemon's 32-byte keys (see keyfile.h). It must never log a
 * key, follow a symlink, accept a key others can read, or leave a partial key file behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "keyfile.h"

#define _cleanup_(f) __attribute__((cleanup(f)))

static void
keyfile_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static void
keyfile_freep(char **p)
{
	free(*p);
}

static int
keyfile_path(const char *dir, const char *name, char **ret)
{
	if (asprintf(ret, "%s/%s", dir, name) < 0) {
		*ret = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* A refused key says which file and why, once (the caller's message names only the use). */
static int
keyfile_refuse(int r, const char *dir, const char *file, const struct stat *st)
{
	if (r == -EBADMSG)
		fprintf(stderr, "biogated: %s/%s: %lld bytes long; a key is exactly %d bytes\n",
		        dir, file, (long long)st->st_size, KEYFILE_LEN);
	else if (!S_ISREG(st->st_mode))
		fprintf(stderr, "biogated: %s/%s: not a regular file\n", dir, file);
	else if (st->st_uid != geteuid())
		fprintf(stderr, "biogated: %s/%s: owned by uid %u, not by uid %u\n", dir, file,
		        (unsigned)st->st_uid, (unsigned)geteuid());
	else
		fprintf(stderr, "biogated: %s/%s: mode %04o lets others read or change the key\n",
		        dir, file, (unsigned)(st->st_mode & 07777));
	return r;
}

/* Reads exactly KEYFILE_LEN bytes from an already-vetted regular file. */
static int
keyfile_read(int fd, uint8_t key[static KEYFILE_LEN])
{
	size_t got = 0;
	while (got < KEYFILE_LEN) {
		ssize_t n = read(fd, key + got, KEYFILE_LEN - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EBADMSG;
		got += (size_t)n;
	}
	return 0;
}

/*
 * The systemd credential: systemd places it in a directory only this service can read,
 * owned by root and opened to the service user by an ACL (which shows up as group bits),
 * so neither the owner nor the group bits say anything here. Only world access and group
 * write, which systemd never sets, are refused.
 */
static int
keyfile_credential(const char *dir, const char *credential, uint8_t key[static KEYFILE_LEN])
{
	_cleanup_(keyfile_freep) char *path = NULL;
	int r = keyfile_path(dir, credential, &path);
	if (r < 0)
		return r;
	_cleanup_(keyfile_closep) int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || (st.st_mode & (S_IWGRP | S_IRWXO))) {
		/* The owner is systemd's business here: only the mode is judged. */
		if (S_ISREG(st.st_mode))
			fprintf(stderr,
			        "biogated: %s/%s: mode %04o lets others read or change the key\n",
			        dir, credential, (unsigned)(st.st_mode & 07777));
		else
			fprintf(stderr, "biogated: %s/%s: not a regular file\n", dir, credential);
		return -EPERM;
	}
	if (st.st_size != KEYFILE_LEN)
		return keyfile_refuse(-EBADMSG, dir, credential, &st);
	return keyfile_read(fd, key);
}

/* The key file in the state directory: ours alone, exactly 32 bytes, or refused. */
static int
keyfile_file(int dirfd, const char *dir, const char *file, uint8_t key[static KEYFILE_LEN])
{
	_cleanup_(keyfile_closep) int fd =
	    openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & (S_IRWXG | S_IRWXO)))
		return keyfile_refuse(-EPERM, dir, file, &st);
	if (st.st_size != KEYFILE_LEN)
		return keyfile_refuse(-EBADMSG, dir, file, &st);
	return keyfile_read(fd, key);
}

static int
keyfile_write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/*
 * First start: the key is written under a temporary name (O_EXCL, 0600) and fsynced, then
 * linked into place, which fails rather than replaces if another process got there first.
 * A crash therefore never leaves a short key file that would refuse every later start, and
 * two daemons starting at once end up with one key. Returns -EEXIST when we lost the race.
 */
static int
keyfile_create(int dirfd, const char *file, uint8_t key[static KEYFILE_LEN])
{
	uint8_t fresh[KEYFILE_LEN];
	if (RAND_bytes(fresh, sizeof(fresh)) != 1)
		return -EIO;

	uint8_t suffix[8];
	char tmp[NAME_MAX + 1];
	if (RAND_bytes(suffix, sizeof(suffix)) != 1)
		return -EIO;
	int len = snprintf(tmp, sizeof(tmp), ".%s.", file);
	if (len < 0 || (size_t)len + 2 * sizeof(suffix) >= sizeof(tmp))
		return -ENAMETOOLONG;
	for (size_t i = 0; i < sizeof(suffix); i++)
		len += snprintf(tmp + len, sizeof(tmp) - (size_t)len, "%02x", suffix[i]);

	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
	                0600);
	if (fd < 0) {
		OPENSSL_cleanse(fresh, sizeof(fresh));
		return -errno;
	}
	int r = keyfile_write_all(fd, fresh, sizeof(fresh));
	if (r >= 0 && fsync(fd) < 0)
		r = -errno;
	close(fd);
	if (r >= 0 && linkat(dirfd, tmp, dirfd, file, 0) < 0)
		r = -errno;
	(void)unlinkat(dirfd, tmp, 0);
	if (r >= 0 && fsync(dirfd) < 0)
		r = -errno;
	if (r >= 0)
		memcpy(key, fresh, sizeof(fresh));
	OPENSSL_cleanse(fresh, sizeof(fresh));
	return r;
}

int
keyfile_load(const char *credential, const char *dir, const char *file,
             uint8_t key[static KEYFILE_LEN])
{
	int r = -ENOENT;
	/* secure_getenv: never take a key path from the environment of a setuid caller. */
	const char *creds = secure_getenv("CREDENTIALS_DIRECTORY");
	if (creds && *creds && credential)
		r = keyfile_credential(creds, credential, key);
	if (r != -ENOENT)
		return r;
	if (!dir || !*dir || !file)
		return -EINVAL;
	_cleanup_(keyfile_closep) int dirfd =
	    open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dirfd < 0)
		return -errno;
	r = keyfile_file(dirfd, dir, file, key);
	if (r == -ENOENT) {
		r = keyfile_create(dirfd, file, key);
		if (r == -EEXIST)
			r = keyfile_file(dirfd, dir, file, key);
	}
	return r;
}
