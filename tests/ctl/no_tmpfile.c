/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * no_tmpfile: an LD_PRELOAD shim for biogatectl-output-swap that makes openat() refuse
 * O_TMPFILE with EOPNOTSUPP, as a file system without it does, so that the test also covers
 * biogatectl's named temporary file. Everything else goes to libc's openat().
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/types.h>

__attribute__((visibility("default"))) int openat(int dirfd, const char *path, int flags, ...);
__attribute__((visibility("default"))) int openat64(int dirfd, const char *path, int flags, ...);

static int
shim_openat(const char *name, int dirfd, const char *path, int flags, mode_t mode)
{
	if ((flags & O_TMPFILE) == O_TMPFILE) {
		errno = EOPNOTSUPP;
		return -1;
	}
	int (*real)(int, const char *, int, ...) =
	    (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, name);
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	return real(dirfd, path, flags, mode);
}

int
openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode =
	    (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, mode_t) : 0;
	va_end(ap);
	return shim_openat("openat", dirfd, path, flags, mode);
}

int
openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode =
	    (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, mode_t) : 0;
	va_end(ap);
	return shim_openat("openat64", dirfd, path, flags, mode);
}
