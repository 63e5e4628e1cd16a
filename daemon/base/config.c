/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config: reads biogate.conf with libinih. It owns the defaults and the ranges; it must
 * never accept a key it does not know.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "config.h"
#include "log.h"

void
config_defaults(Config *c)
{
	*c = (Config){
		.verify_timeout_sec = 15,
		.enroll_timeout_sec = 60,
		.client_idle_timeout_sec = 30,
		.max_connections = 512,
		.max_connections_per_uid = 64,
		.ticket_lifetime_sec = 120,
		.refusal_window_sec = 600,
		.refusal_records_per_window = 5,
		.low_space_mb = 256,
	};
	snprintf(c->admin_group, sizeof(c->admin_group), "%s", BIOGATE_ADMIN_GROUP);
	snprintf(c->remote_services, sizeof(c->remote_services), "%s", CONFIG_REMOTE_SERVICES);
	snprintf(c->remote_ttys, sizeof(c->remote_ttys), "%s", CONFIG_REMOTE_TTYS);
	snprintf(c->sensor_path, sizeof(c->sensor_path), "%s",
	         BIOGATE_LIBEXECDIR "/biogate/biogated-sensor");
}

typedef struct ConfigCtx {
	Config *c;
	const char *path;
	FILE *f;
	int line; /* counted by config_reader: Debian's inih passes no line to handlers */
	int error;
} ConfigCtx;

static char *
config_reader(char *str, int num, void *stream)
{
	ConfigCtx *ctx = stream;
	char *r = fgets(str, num, ctx->f);
	if (r)
		ctx->line++;
	return r;
}

static bool
config_u32(const char *v, uint32_t min, uint32_t max, uint32_t *ret)
{
	char *end = NULL;
	errno = 0;
	unsigned long long x = strtoull(v, &end, 10);
	if (errno || !end || end == v || *end || v[0] == '-' || x < min || x > max)
		return false;
	*ret = (uint32_t)x;
	return true;
}

/* A space-separated list of printable ASCII words (empty is fine: nothing listed). */
static bool
config_list(const char *v, char *ret, size_t size)
{
	if (strlen(v) >= size)
		return false;
	for (const char *p = v; *p; p++)
		if (*p < ' ' || *p > '~')
			return false;
	snprintf(ret, size, "%s", v);
	return true;
}

/* The fleet's name for a terminal, as biogate_fleet.add_terminal() accepts it. */
static bool
config_terminal_name(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > 40 || !((v[0] >= 'a' && v[0] <= 'z') || (v[0] >= '0' && v[0] <= '9')))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') || v[i] == '-' ||
		      v[i] == '_'))
			return false;
	return true;
}

static int
config_handler(void *user, const char *section, const char *name, const char *value)
{
	ConfigCtx *ctx = user;
	int lineno = ctx->line;
	Config *c = ctx->c;
	bool ok = false;

	if (strcmp(section, "fleet") == 0) {
		if (strcmp(name, "conninfo") == 0)
			/* A secret in a world-readable file is what the credential is for. */
			ok =
			    strlen(value) > 0 && strlen(value) < sizeof(c->fleet_conninfo) &&
			    !strstr(value, "password") &&
			    snprintf(c->fleet_conninfo, sizeof(c->fleet_conninfo), "%s", value) > 0;
		else if (strcmp(name, "terminal") == 0)
			ok =
			    config_terminal_name(value) &&
			    snprintf(c->fleet_terminal, sizeof(c->fleet_terminal), "%s", value) > 0;
		else {
			log_error("%s:%d: unknown key '%s' in [%s]", ctx->path, lineno, name,
			          section);
			ctx->error = -EINVAL;
			return 1;
		}
		if (!ok) {
			log_error("%s:%d: invalid value for '%s'%s", ctx->path, lineno, name,
			          strcmp(name, "conninfo") == 0
			              ? " (no password here: give it as the credential "
			                "biogate-fleet-pgpass)"
			              : "");
			ctx->error = -EINVAL;
		}
		return 1;
	}
	if (strcmp(section, "daemon") != 0) {
		log_error("%s:%d: unknown section [%s]", ctx->path, lineno, section);
		ctx->error = -EINVAL;
		return 1;
	}
	if (strcmp(name, "admin-group") == 0)
		ok = strlen(value) > 0 && strlen(value) < sizeof(c->admin_group) &&
		     snprintf(c->admin_group, sizeof(c->admin_group), "%s", value) > 0;
	else if (strcmp(name, "sensor") == 0)
		ok = value[0] == '/' && strlen(value) < sizeof(c->sensor_path) &&
		     snprintf(c->sensor_path, sizeof(c->sensor_path), "%s", value) > 0;
	else if (strcmp(name, "verify-timeout-sec") == 0)
		ok = config_u32(value, 1, 300, &c->verify_timeout_sec);
	else if (strcmp(name, "enroll-timeout-sec") == 0)
		ok = config_u32(value, 5, 600, &c->enroll_timeout_sec);
	else if (strcmp(name, "client-idle-timeout-sec") == 0)
		ok = config_u32(value, 1, 3600, &c->client_idle_timeout_sec);
	else if (strcmp(name, "max-connections") == 0)
		ok = config_u32(value, 1, 65536, &c->max_connections);
	else if (strcmp(name, "max-connections-per-uid") == 0)
		ok = config_u32(value, 1, 65536, &c->max_connections_per_uid);
	else if (strcmp(name, "ticket-lifetime-sec") == 0)
		ok = config_u32(value, 5, 600, &c->ticket_lifetime_sec);
	else if (strcmp(name, "refusal-window-sec") == 0)
		ok = config_u32(value, 10, 86400, &c->refusal_window_sec);
	else if (strcmp(name, "refusal-records-per-window") == 0)
		ok = config_u32(value, 0, 1000, &c->refusal_records_per_window);
	else if (strcmp(name, "low-space-mb") == 0)
		ok = config_u32(value, 1, 1048576, &c->low_space_mb);
	else if (strcmp(name, "remote-services") == 0)
		ok = config_list(value, c->remote_services, sizeof(c->remote_services));
	else if (strcmp(name, "remote-ttys") == 0)
		ok = config_list(value, c->remote_ttys, sizeof(c->remote_ttys));
	else if (strcmp(name, "local-rhosts") == 0)
		ok = config_list(value, c->local_rhosts, sizeof(c->local_rhosts));
	else {
		log_error("%s:%d: unknown key '%s' in [%s]", ctx->path, lineno, name, section);
		ctx->error = -EINVAL;
		return 1;
	}
	if (!ok) {
		log_error("%s:%d: invalid value for '%s'", ctx->path, lineno, name);
		ctx->error = -EINVAL;
	}
	return 1;
}

int
config_load(Config *c, const char *path, bool optional)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT && optional)
			return 0;
		return log_error_errno(-errno, "Failed to open %s: %m", path);
	}
	ConfigCtx ctx = { .c = c, .path = path, .f = f };
	int r = ini_parse_stream(config_reader, &ctx, config_handler, &ctx);
	fclose(f);
	if (r > 0)
		return log_error_errno(-EINVAL, "%s:%d: syntax error", path, r);
	if (r < 0)
		return log_error_errno(-EIO, "Failed to read %s", path);
	if (ctx.error == 0 && (c->fleet_conninfo[0] != '\0') != (c->fleet_terminal[0] != '\0'))
		return log_error_errno(-EINVAL, "%s: [fleet] needs both conninfo and terminal",
		                       path);
	return ctx.error;
}
