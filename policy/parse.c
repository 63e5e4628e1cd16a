/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * parse: reads policy files (INI, libinih) into a Policy, and walks the standard chain of
 * files and drop-ins. It owns the keys, their ranges and the error messages ("FILE:LINE:
 * what"). A file is applied whole or not at all: it is parsed into a copy that replaces the
 * policy only when the file had no error. It must never accept a key, section or name it
 * does not know, echo unprintable bytes from a file into a message, or read a file that
 * other users can write.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "policy-internal.h"

#ifndef BIOGATE_DATADIR
#define BIOGATE_DATADIR "/usr/share"
#endif
#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

#define POLICY_MAX_FILE    (1024 * 1024) /* a policy is a few kB; this is only a bound */
#define POLICY_MAX_DROPINS 256

typedef enum PolicyType {
	POLICY_T_BOOL,
	POLICY_T_U32,
	POLICY_T_HHMM,
	POLICY_T_PATH,
	POLICY_T_NAME,
	POLICY_T_LIST,
} PolicyType;

typedef struct PolicyKey {
	const char *section;
	const char *key;
	PolicyType type;
	uint32_t min, max;
	size_t offset; /* into Policy */
} PolicyKey;

#define S(field) offsetof(Policy, s.field)

static const PolicyKey policy_keys[] = {
	{ "admin", "role", POLICY_T_NAME, 0, 0, S(admin_role) },
	{ "admin", "actions", POLICY_T_LIST, 0, 0, offsetof(Policy, admin_actions) },
	{ "admin", "require-session", POLICY_T_BOOL, 0, 0, S(admin_requires_session) },
	{ "search", "actions", POLICY_T_LIST, 0, 0, offsetof(Policy, search_actions) },
	{ "login", "require-pledge", POLICY_T_BOOL, 0, 0, S(require_pledge) },
	{ "login", "require-training", POLICY_T_BOOL, 0, 0, S(require_training) },
	{ "login", "require-shift", POLICY_T_BOOL, 0, 0, S(require_shift) },
	{ "login", "single-session", POLICY_T_BOOL, 0, 0, S(single_session) },
	{ "lockout", "deny", POLICY_T_U32, 0, 100, S(lockout_deny) },
	{ "lockout", "fail-interval-sec", POLICY_T_U32, 1, 604800, S(lockout_interval_sec) },
	{ "lockout", "unlock-time-sec", POLICY_T_U32, 0, 31536000, S(lockout_unlock_sec) },
	{ "idle", "lock-after-sec", POLICY_T_U32, 0, 86400, S(idle_lock_sec) },
	{ "idle", "logoff-after-sec", POLICY_T_U32, 0, 86400, S(idle_logoff_sec) },
	{ "idle", "warn-before-sec", POLICY_T_U32, 0, 3600, S(idle_warn_sec) },
	{ "shift", "warn-before-sec", POLICY_T_U32, 0, 86400, S(shift_warn_sec) },
	{ "shift", "power-off-time", POLICY_T_HHMM, 0, 0, S(power_off_minute) },
	{ "shift", "power-off-retry-sec", POLICY_T_U32, 1, 3600, S(power_off_retry_sec) },
	{ "two-person", "actions", POLICY_T_LIST, 0, 0, offsetof(Policy, two_person) },
	{ "retention", "audit-years", POLICY_T_U32, 1, 100, S(retention_years) },
	{ "incidents", "notify", POLICY_T_PATH, 0, 0, S(notify) },
	{ "incidents", "window-sec", POLICY_T_U32, 1, 604800, S(incident_window_sec) },
	{ "incidents", "forbidden-search-threshold", POLICY_T_U32, 1, 10000,
	  S(forbidden_search_threshold) },
	{ "incidents", "failed-match-threshold", POLICY_T_U32, 1, 10000,
	  S(failed_match_threshold) },
	{ "fleet", "offline-login", POLICY_T_BOOL, 0, 0, S(fleet_offline_login) },
	{ "fleet", "offline-max-sec", POLICY_T_U32, 0, 7 * 86400, S(fleet_offline_max_sec) },
	{ "fleet", "lease-sec", POLICY_T_U32, 10, 3600, S(fleet_lease_sec) },
	{ "fleet", "wait-ms", POLICY_T_U32, 50, 10000, S(fleet_wait_ms) },
};

#undef S

#define POLICY_N_KEYS (sizeof(policy_keys) / sizeof(policy_keys[0]))

typedef struct PolicyParse {
	Policy *p;
	const char *name; /* the file name used in messages */
	const char *text;
	size_t len, pos;
	int line; /* counted here: Debian's inih passes no line number to handlers */
	/* inih's own view of the current line, mirrored so a continuation line (indented,
	 * after a key) is recognized as one instead of as a second assignment. */
	bool have_prev, continuation;
	char section[POLICY_MAX_NAME + 1];
	char prev_name[POLICY_MAX_NAME + 1];
	bool seen_key[POLICY_N_KEYS];
	bool seen_role[POLICY_MAX_ROLES];
	int err_line; /* 0 when no error yet; -1 for an error with no line */
	char *err;
	size_t err_size;
} PolicyParse;

static const char *const policy_sections[] = {
	"roles", "admin",      "search",    "login",     "lockout", "idle",
	"shift", "two-person", "retention", "incidents", "fleet",
};

static bool
policy_known_section(const char *s)
{
	for (size_t i = 0; i < sizeof(policy_sections) / sizeof(policy_sections[0]); i++)
		if (strcmp(policy_sections[i], s) == 0)
			return true;
	return false;
}

/* Copies at most 64 bytes of s for a message, unprintable bytes as '?': a policy file is
 * not trusted to put escape sequences or invalid UTF-8 into the daemon's log. */
static const char *
policy_quote(char buf[static 72], const char *s, size_t len)
{
	size_t n = 0;
	for (; n < len && n < 64; n++)
		buf[n] = (s[n] >= 0x20 && s[n] < 0x7f) ? s[n] : '?';
	if (n < len) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

__attribute__((format(printf, 3, 4))) static void
policy_set_error(char *err, size_t err_size, const char *fmt, ...)
{
	if (!err || err_size == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, err_size, fmt, ap);
	va_end(ap);
}

/* Records the first error of the file (by line); later ones are dropped. */
__attribute__((format(printf, 3, 4))) static void
policy_error(PolicyParse *ctx, int line, const char *fmt, ...)
{
	if (ctx->err_line != 0 && (ctx->err_line < 0 || ctx->err_line <= line))
		return;
	ctx->err_line = line;
	if (!ctx->err || ctx->err_size == 0)
		return;
	char q[72];
	int n = snprintf(ctx->err, ctx->err_size,
	                 "%s:%d: ", policy_quote(q, ctx->name, strlen(ctx->name)), line);
	if (n < 0 || (size_t)n >= ctx->err_size)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ctx->err + n, ctx->err_size - (size_t)n, fmt, ap);
	va_end(ap);
}

bool
policy_valid_name(const char *s)
{
	if (!s || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	size_t i = 1;
	for (; s[i]; i++) {
		char c = s[i];
		if (i >= POLICY_MAX_NAME)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	}
	return true;
}

static char *
policy_reader(char *str, int num, void *stream)
{
	PolicyParse *ctx = stream;
	if (ctx->pos >= ctx->len || num < 2)
		return NULL;
	const char *start = ctx->text + ctx->pos;
	const char *nl = memchr(start, '\n', ctx->len - ctx->pos);
	size_t n = nl ? (size_t)(nl - start) + 1 : ctx->len - ctx->pos;
	ctx->pos += n;
	ctx->line++;
	ctx->continuation = false;

	/* inih would cut a long line in two and parse the tail as a line of its own; hand it
	 * an empty line instead and fail the file. */
	if (n > (size_t)num - 1) {
		policy_error(ctx, ctx->line, "line longer than %d bytes", num - 3);
		strcpy(str, "\n");
		return str;
	}
	memcpy(str, start, n);
	str[n] = '\0';

	/* The same classification inih makes (ini.c, ini_parse_stream): comment, continuation,
	 * section header, key line. */
	const char *s = str;
	if (ctx->line == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	bool indented = false;
	while (*s && isspace((unsigned char)*s)) {
		s++;
		indented = true;
	}
	if (*s == '\0' || *s == ';' || *s == '#')
		return str;
	if (ctx->have_prev && indented) {
		ctx->continuation = true;
		return str;
	}
	if (*s == '[') {
		const char *end = strchr(s + 1, ']');
		if (!end)
			return str; /* inih reports the syntax error */
		ctx->have_prev = false;
		size_t sl = (size_t)(end - (s + 1));
		char q[72];
		if (sl > POLICY_MAX_NAME) {
			policy_error(ctx, ctx->line, "unknown section [%s]",
			             policy_quote(q, s + 1, sl));
			ctx->section[0] = '\0';
			return str;
		}
		memcpy(ctx->section, s + 1, sl);
		ctx->section[sl] = '\0';
		/* Checked here as well as in the handler: a section with no keys in it never
		 * reaches the handler, and a misspelt one must not pass unnoticed. */
		if (!policy_known_section(ctx->section))
			policy_error(ctx, ctx->line, "unknown section [%s]",
			             policy_quote(q, ctx->section, sl));
		return str;
	}
	if (strpbrk(s, "=:"))
		ctx->have_prev = true;
	return str;
}

static bool
policy_parse_u32(const char *v, uint32_t min, uint32_t max, uint32_t *ret)
{
	uint64_t x = 0;
	size_t i = 0;
	for (; v[i]; i++) {
		if (v[i] < '0' || v[i] > '9' || i >= 10)
			return false;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	if (i == 0 || x < min || x > max)
		return false;
	*ret = (uint32_t)x;
	return true;
}

/* Appends the whitespace-separated names in v to l; the first bad one is an error. */
static bool
policy_parse_list(PolicyParse *ctx, const char *what, PolicyNameList *l, const char *v,
                  bool is_role)
{
	Policy *p = ctx->p;
	char q[72];
	while (*v) {
		while (*v == ' ' || *v == '\t')
			v++;
		if (!*v)
			break;
		size_t n = strcspn(v, " \t");
		char name[POLICY_MAX_NAME + 1];
		if (n > POLICY_MAX_NAME) {
			policy_error(ctx, ctx->line, "%s: name '%s' is longer than %d characters",
			             what, policy_quote(q, v, n), POLICY_MAX_NAME);
			return false;
		}
		memcpy(name, v, n);
		name[n] = '\0';
		v += n;
		if (!policy_valid_name(name)) {
			policy_error(ctx, ctx->line,
			             "%s: '%s' is not a name ([a-z0-9][a-z0-9._-]*)", what,
			             policy_quote(q, name, n));
			return false;
		}
		if (policy_list_has(l, name)) {
			policy_error(ctx, ctx->line, "%s: '%s' is listed twice", what, name);
			return false;
		}
		if (l->n >= POLICY_MAX_ACTIONS) {
			policy_error(ctx, ctx->line, "%s: more than %d names", what,
			             POLICY_MAX_ACTIONS);
			return false;
		}
		/* The admin role stays separate from operator roles (R2): an admin-only
		 * action can never also be granted to an operator role. */
		if (is_role && policy_list_has(&p->admin_actions, name)) {
			policy_error(ctx, ctx->line,
			             "%s: '%s' is an admin-only action ([admin] actions)", what,
			             name);
			return false;
		}
		if (l == &p->admin_actions) {
			for (uint32_t r = 0; r < p->n_roles; r++)
				if (policy_list_has(&p->roles[r].actions, name)) {
					policy_error(ctx, ctx->line,
					             "%s: '%s' is granted to operator role '%s'",
					             what, name, p->roles[r].name);
					return false;
				}
		}
		strcpy(l->names[l->n++], name);
	}
	return true;
}

static void
policy_parse_role(PolicyParse *ctx, const char *role, const char *value)
{
	Policy *p = ctx->p;
	char q[72];
	char what[POLICY_MAX_NAME + 16];

	if (!policy_valid_name(role)) {
		policy_error(ctx, ctx->line, "'%s' is not a role name ([a-z0-9][a-z0-9._-]*)",
		             policy_quote(q, role, strlen(role)));
		return;
	}
	snprintf(what, sizeof(what), "role '%s'", role);
	if (policy_is_admin_role(p, role)) {
		policy_error(ctx, ctx->line, "%s: the admin role cannot be an operator role", what);
		return;
	}
	uint32_t i = 0;
	while (i < p->n_roles && strcmp(p->roles[i].name, role) != 0)
		i++;
	if (i < p->n_roles && ctx->seen_role[i] && !ctx->continuation) {
		policy_error(ctx, ctx->line, "%s: set twice in this file", what);
		return;
	}
	if (i == p->n_roles) {
		if (p->n_roles >= POLICY_MAX_ROLES) {
			policy_error(ctx, ctx->line, "more than %d roles", POLICY_MAX_ROLES);
			return;
		}
		p->n_roles++;
		memset(&p->roles[i], 0, sizeof(p->roles[i]));
		strcpy(p->roles[i].name, role);
	}
	/* A role named in a later file replaces that role's list; a continuation line adds. */
	if (!ctx->continuation)
		p->roles[i].actions.n = 0;
	ctx->seen_role[i] = true;
	policy_parse_list(ctx, what, &p->roles[i].actions, value, true);
}

static void
policy_parse_key(PolicyParse *ctx, const char *section, const char *name, const char *value)
{
	Policy *p = ctx->p;
	char q[72], q2[72];
	size_t k = 0;
	while (k < POLICY_N_KEYS && (strcmp(policy_keys[k].section, section) != 0 ||
	                             strcmp(policy_keys[k].key, name) != 0))
		k++;
	if (k == POLICY_N_KEYS) {
		policy_error(ctx, ctx->line, "unknown key '%s' in [%s]",
		             policy_quote(q, name, strlen(name)), section);
		return;
	}
	const PolicyKey *key = &policy_keys[k];
	char what[96];
	snprintf(what, sizeof(what), "[%s] %s", key->section, key->key);
	if (ctx->continuation && key->type != POLICY_T_LIST) {
		policy_error(ctx, ctx->line, "%s takes one value; this line continues it", what);
		return;
	}
	if (ctx->seen_key[k] && !ctx->continuation) {
		policy_error(ctx, ctx->line, "%s: set twice in this file", what);
		return;
	}
	ctx->seen_key[k] = true;

	void *field = (char *)p + key->offset;
	switch (key->type) {
	case POLICY_T_BOOL:
		if (strcmp(value, "yes") == 0)
			*(bool *)field = true;
		else if (strcmp(value, "no") == 0)
			*(bool *)field = false;
		else
			policy_error(ctx, ctx->line, "%s: '%s' is not yes or no", what,
			             policy_quote(q, value, strlen(value)));
		break;
	case POLICY_T_U32:
		if (!policy_parse_u32(value, key->min, key->max, field))
			policy_error(ctx, ctx->line, "%s: '%s' is not a number from %u to %u", what,
			             policy_quote(q, value, strlen(value)), key->min, key->max);
		break;
	case POLICY_T_HHMM: {
		const char *v = value;
		if (v[0] == '\0' || strcmp(v, "none") == 0) {
			*(int32_t *)field = -1;
		} else if (strlen(v) == 5 && isdigit((unsigned char)v[0]) &&
		           isdigit((unsigned char)v[1]) && v[2] == ':' &&
		           isdigit((unsigned char)v[3]) && isdigit((unsigned char)v[4]) &&
		           (v[0] - '0') * 10 + (v[1] - '0') < 24 && v[3] < '6') {
			*(int32_t *)field = ((v[0] - '0') * 10 + (v[1] - '0')) * 60 +
			                    (v[3] - '0') * 10 + v[4] - '0';
		} else {
			policy_error(ctx, ctx->line,
			             "%s: '%s' is not HH:MM (00:00 to 23:59) or none", what,
			             policy_quote(q, value, strlen(value)));
		}
		break;
	}
	case POLICY_T_PATH: {
		size_t n = strlen(value);
		bool ok = n == 0 || (value[0] == '/' && n < POLICY_MAX_NOTIFY);
		for (size_t i = 0; ok && i < n; i++)
			ok = value[i] > 0x20 && value[i] < 0x7f;
		if (ok)
			memcpy(field, value, n + 1);
		else
			policy_error(ctx, ctx->line,
			             "%s: '%s' is not an absolute path to a program (no spaces, "
			             "shorter than %d bytes)",
			             what, policy_quote(q, value, n), POLICY_MAX_NOTIFY);
		break;
	}
	case POLICY_T_NAME:
		if (!policy_valid_name(value))
			policy_error(ctx, ctx->line,
			             "%s: '%s' is not a name ([a-z0-9][a-z0-9._-]*)", what,
			             policy_quote(q, value, strlen(value)));
		else if (policy_find_role(p, value))
			policy_error(ctx, ctx->line, "%s: '%s' is an operator role in [roles]",
			             what, policy_quote(q2, value, strlen(value)));
		else
			strcpy(field, value);
		break;
	case POLICY_T_LIST: {
		PolicyNameList *l = field;
		if (!ctx->continuation)
			l->n = 0;
		policy_parse_list(ctx, what, l, value, false);
		break;
	}
	}
}

static int
policy_handler(void *user, const char *section, const char *name, const char *value)
{
	PolicyParse *ctx = user;
	char q[72];

	/* inih hands a continuation line the previous name cut to 49 bytes; the full one
	 * was kept here. */
	if (ctx->continuation)
		name = ctx->prev_name;
	else if (strlen(name) <= POLICY_MAX_NAME)
		strcpy(ctx->prev_name, name);
	else
		ctx->prev_name[0] = '\0';

	if (section[0] == '\0') {
		policy_error(ctx, ctx->line, "'%s' is outside any [section]",
		             policy_quote(q, name, strlen(name)));
		return 1;
	}
	if (!policy_known_section(section))
		return 1; /* already reported for the section header */
	if (name[0] == '\0') {
		policy_error(ctx, ctx->line, "a key name is missing before '='");
		return 1;
	}
	if (strcmp(section, "roles") == 0)
		policy_parse_role(ctx, name, value);
	else
		policy_parse_key(ctx, section, name, value);
	/* Errors are collected in ctx with their line; inih's own return value is kept for
	 * its syntax errors. */
	return 1;
}

int
policy_load_string(Policy *p, const char *name, const char *text, size_t len, char *ret_error,
                   size_t error_size)
{
	if (!p || !text)
		return -EINVAL;
	if (!name)
		name = "(policy)";
	char q[72];
	if (len > POLICY_MAX_FILE) {
		policy_set_error(ret_error, error_size, "%s: larger than %d bytes",
		                 policy_quote(q, name, strlen(name)), POLICY_MAX_FILE);
		return -EFBIG;
	}
	const char *nul = memchr(text, '\0', len);
	if (nul) {
		int line = 1;
		for (const char *c = text; c < nul; c++)
			line += *c == '\n';
		policy_set_error(ret_error, error_size, "%s:%d: NUL byte in the file",
		                 policy_quote(q, name, strlen(name)), line);
		return -EINVAL;
	}

	Policy *copy = malloc(sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	memcpy(copy, p, sizeof(*copy));
	PolicyParse ctx = {
		.p = copy,
		.name = name,
		.text = text,
		.len = len,
		.err = ret_error,
		.err_size = error_size,
	};
	int r = ini_parse_stream(policy_reader, &ctx, policy_handler, &ctx);
	if (r > 0)
		policy_error(&ctx, r,
		             "syntax error (expected [section], key = value or a comment)");
	else if (r < 0) {
		free(copy);
		policy_set_error(ret_error, error_size, "%s: cannot parse (libinih error %d)",
		                 policy_quote(q, name, strlen(name)), r);
		return r == -2 ? -ENOMEM : -EIO;
	}
	if (ctx.err_line != 0) {
		free(copy);
		return -EINVAL;
	}
	copy->files_loaded++;
	memcpy(p, copy, sizeof(*p));
	free(copy);
	return 0;
}

int
policy_load_file(Policy *p, const char *path, char *ret_error, size_t error_size)
{
	if (!p || !path)
		return -EINVAL;
	char q[72];
	const char *qp = policy_quote(q, path, strlen(path));
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int r = -errno;
		policy_set_error(ret_error, error_size, "%s: cannot open: %s", qp, strerror(-r));
		return r;
	}
	struct stat st;
	int r = 0;
	char *buf = NULL;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		policy_set_error(ret_error, error_size, "%s: cannot stat: %s", qp, strerror(-r));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		policy_set_error(ret_error, error_size, "%s: not a regular file", qp);
		goto out;
	}
	/* Whoever can write the policy can grant themselves any action. */
	if (st.st_mode & S_IWOTH) {
		r = -EPERM;
		policy_set_error(ret_error, error_size, "%s: writable by other users; refused", qp);
		goto out;
	}
	buf = malloc(POLICY_MAX_FILE + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, buf + len, POLICY_MAX_FILE + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			policy_set_error(ret_error, error_size, "%s: cannot read: %s", qp,
			                 strerror(-r));
			goto out;
		}
		if (n == 0 || (len += (size_t)n) > POLICY_MAX_FILE)
			break;
	}
	r = policy_load_string(p, path, buf, len, ret_error, error_size);
out:
	free(buf);
	close(fd);
	return r;
}

static int
policy_dropin_filter(const struct dirent *de)
{
	size_t n = strlen(de->d_name);
	return de->d_name[0] != '.' && n > 5 && strcmp(de->d_name + n - 5, ".conf") == 0;
}

/* Byte order, not the locale's: the order files apply in must not depend on LANG. */
static int
policy_dropin_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int
policy_load_dropins(Policy *p, const char *dir, char *ret_error, size_t error_size)
{
	struct dirent **list = NULL;
	char q[72];
	int n = scandir(dir, &list, policy_dropin_filter, policy_dropin_cmp);
	if (n < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		int r = -errno;
		policy_set_error(ret_error, error_size, "%s: cannot list: %s",
		                 policy_quote(q, dir, strlen(dir)), strerror(-r));
		return r;
	}
	int r = 0;
	if (n > POLICY_MAX_DROPINS) {
		r = -E2BIG;
		policy_set_error(ret_error, error_size, "%s: more than %d drop-ins",
		                 policy_quote(q, dir, strlen(dir)), POLICY_MAX_DROPINS);
	}
	for (int i = 0; i < n; i++) {
		if (r == 0) {
			char path[4096];
			if (snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name) >=
			    (int)sizeof(path)) {
				r = -ENAMETOOLONG;
				policy_set_error(ret_error, error_size, "%s: path too long",
				                 policy_quote(q, dir, strlen(dir)));
			} else {
				r = policy_load_file(p, path, ret_error, error_size);
				if (r == -ENOENT) /* removed since the listing */
					r = 0;
			}
		}
		free(list[i]);
	}
	free(list);
	return r;
}

int
policy_load(const char *path, Policy **ret, char *ret_error, size_t error_size)
{
	if (!ret)
		return -EINVAL;
	Policy *p = NULL;
	int r = policy_new_defaults(&p);
	if (r < 0)
		return r;

	char dir[4096];
	if (path) {
		r = policy_load_file(p, path, ret_error, error_size);
		if (r == 0 && snprintf(dir, sizeof(dir), "%s.d", path) >= (int)sizeof(dir))
			r = -ENAMETOOLONG;
		if (r == 0)
			r = policy_load_dropins(p, dir, ret_error, error_size);
	} else {
		static const char *const chain[] = {
			BIOGATE_DATADIR "/biogate/policy.conf",
			SYSCONFDIR "/biogate/policy.conf",
		};
		for (size_t i = 0; r == 0 && i < sizeof(chain) / sizeof(chain[0]); i++) {
			r = policy_load_file(p, chain[i], ret_error, error_size);
			if (r == -ENOENT)
				r = 0;
		}
		if (r == 0)
			r = policy_load_dropins(p, SYSCONFDIR "/biogate/policy.conf.d", ret_error,
			                        error_size);
	}
	if (r < 0) {
		policy_free(p);
		return r;
	}
	*ret = p;
	return 0;
}
