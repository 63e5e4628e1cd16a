/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config: the daemon's settings file (INI, parsed by libinih). Unknown sections or keys and
 * out-of-range values are errors that name the file and line: a typo must not silently
 * weaken the terminal.
 */
#pragma once

#include <stdbool.h>

#include <stdint.h>

/* The PAM services and ttys of remote logins by default: OpenSSH (its PAM service, and the
 * PAM_TTY it sets while authenticating), telnet, the r-commands, remote desktops. */
#define CONFIG_REMOTE_SERVICES                                                                     \
	"sshd sshd-session telnet telnetd rlogin rsh rexec xrdp-sesman cockpit vsftpd proftpd"
#define CONFIG_REMOTE_TTYS "ssh"

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
	/* Where a login may come from (core/origin.h): space-separated lists. */
	char remote_services[512]; /* PAM services that are remote logins */
	char remote_ttys[512];     /* ttys of remote logins; "pts/" then a star: a prefix */
	char local_rhosts[512];    /* PAM_RHOST values that are this terminal, besides "" */
	/* [fleet]: both set, or the terminal stands alone (fleet_terminal empty). The
	 * connection string holds no password: that comes from a credential (fleet.h). */
	char fleet_conninfo[1024];
	char fleet_terminal[41];
} Config;

void config_defaults(Config *c);
/* Reads path over the defaults. A missing file is fine when optional is true. 0 or -errno;
 * errors are logged with file and line. */
int config_load(Config *c, const char *path, bool optional);
