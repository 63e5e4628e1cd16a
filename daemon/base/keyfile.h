/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * keyfile: the daemon's 32-byte keys (the template key, the audit key). Taken from a systemd
 * credential ($CREDENTIALS_DIRECTORY/<credential>) when there is one, else from a file in the
 * state directory: ours alone (owner, mode 0600, exactly 32 bytes) or refused; created on
 * first start under a temporary name, fsynced and linked into place, so a crash never leaves
 * a short key and two racing daemons end up with one. Never logs or copies a key.
 */
#pragma once

#include <stdint.h>

#define KEYFILE_LEN 32

/* 0, or -EPERM (a file others may read or write, or another owner), -EBADMSG (wrong size),
 * -EINVAL (no directory), -errno. */
int keyfile_load(const char *credential, const char *dir, const char *file,
                 uint8_t key[static KEYFILE_LEN]);
