/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config: the daemon's settings file (INI, parsed by libinih). Unknown sections or keys and
 * out-of-range values are errors that name the file and line: a typo must not silently
 * weaken the terminal.
 */
#pragma once

#include <stdbool.h>

#include <stdint.h>

typedef struct Config {
	char admin_group[64];
	char sensor_path[512];
	uint32_t verify_timeout_sec;
	uint32_t enroll_timeout_sec;
	uint32_t client_idle_timeout_sec;
	uint32_t max_connections;
	uint32_t max_connections_per_uid;
	uint32_t ticket_lifetime_sec;
	/* Refusals of callers without a session (core/refusals.h): the window, how many per
	 * uid are recorded in full in it, and the free space below which the state volume is
	 * low (MiB). */
	uint32_t refusal_window_sec;
	uint32_t refusal_records_per_window;
	uint32_t low_space_mb;
} Config;

void config_defaults(Config *c);
/* Reads path over the defaults. A missing file is fine when optional is true. 0 or -errno;
 * errors are logged with file and line. */
int config_load(Config *c, const char *path, bool optional);
