/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * log: one-line logging to stderr (journald adds the metadata under systemd). Never pass a
 * template, a key, a ticket or a raw search key to these.
 */
#pragma once

#include <errno.h>
#include <stdio.h>

/* sd-daemon(3) priority prefixes when journald reads our stderr, plain lines otherwise. */
#define log_full(prio, fmt, ...)                                                                   \
	fprintf(stderr, "%sbiogated: " fmt "\n", log_journal ? "<" #prio ">" : "", ##__VA_ARGS__)
#define log_error(fmt, ...)   log_full(3, fmt, ##__VA_ARGS__)
#define log_warning(fmt, ...) log_full(4, fmt, ##__VA_ARGS__)
#define log_info(fmt, ...)    log_full(6, fmt, ##__VA_ARGS__)
#define log_debug(fmt, ...)                                                                        \
	do {                                                                                       \
		if (log_debug_enabled)                                                             \
			log_full(7, fmt, ##__VA_ARGS__);                                           \
	} while (0)
/* Logs with errno set from r (so %m works) and returns r (negative). */
#define log_error_errno(r, fmt, ...)                                                               \
	({                                                                                         \
		int _r = (r);                                                                      \
		errno = -_r;                                                                       \
		log_error(fmt, ##__VA_ARGS__);                                                     \
		_r;                                                                                \
	})

extern int log_debug_enabled;
extern int log_journal;
