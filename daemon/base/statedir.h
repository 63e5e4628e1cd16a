/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * statedir: the daemon trusts its state directory only when nobody else can have put
 * anything in it. Checked once at start, before a file in it is opened; it never changes
 * an owner or a mode itself (a careless directory is the admin's to repair, knowingly).
 */
#pragma once

#include <sys/types.h>

/*
 * 0 when path is a directory (not a symlink) owned by uid and not writable by group or
 * others, and so is everything below it (looked at without following symlinks; a regular
 * file must also have a single hard link). Otherwise logs "Refusing to start: PATH ..." naming
 * the first offending path and returns -EPERM (or -errno when it could not be read).
 */
int statedir_check(const char *path, uid_t uid);
