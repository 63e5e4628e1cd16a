/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pam_biogate: the PAM face of biogated. It asks the daemon to verify the person's finger
 * (io.biogate.Verify), lets the person pick one of their operator IDs, checks the account
 * (io.biogate.CheckAccount) and registers the login session (io.biogate.OpenSession /
 * CloseSession) using the single-use ticket that a successful Verify returned.
 *
 * This module is loaded into every login process, so it stays small: libc, libpam, json-c
 * and the biogate client library; never GLib or libfprint. It must never return
 * PAM_SUCCESS from authentication unless the daemon answered a finished Verify with a
 * well-formed ticket; every other outcome (daemon down, malformed or late replies, unknown
 * errors) fails closed. No biometric data passes through it, every wait is bounded, and
 * the ticket is never logged and is wiped when PAM drops it.
 */
#include <errno.h>
#include <inttypes.h>
#include <libintl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define PAM_SM_AUTH
#define PAM_SM_ACCOUNT
#define PAM_SM_SESSION
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "bgclient.h"
#include "interface.h"

#define BG_TEXTDOMAIN "biogate"
#define _(s)          dgettext(BG_TEXTDOMAIN, s)
#define N_(s)         s

/* PAM_EXTERN is plain extern in Linux-PAM 1.5 and the build hides everything by default. */
#define BG_PAM_EXPORT __attribute__((visibility("default")))

#define BG_DEFAULT_SOCKET   BIOGATE_RUNTIME_DIR "/" BIOGATE_SOCKET_NAME
#define BG_CONNECT_MS       3000
#define BG_CALL_MS          10000
#define BG_VERIFY_DEFAULT_S 15
#define BG_VERIFY_MAX_S     300
#define BG_VERIFY_GRACE_S   5
#define BG_MAX_PROGRESS     64 /* intermediate Verify replies before we call it hostile */
#define BG_MAX_OPERATORS    32
#define BG_OPERATOR_TRIES   3
#define BG_TICKET_LEN       32
#define BG_MAX_ANSWER       (WIRE_MAX_ID + 16)
/* OpenSession's limits (daemon/methods.c): tty, service, logind_session; rhost. */
#define BG_MAX_TERM  64
#define BG_MAX_RHOST 256

#define BG_DATA_AUTH    "pam_biogate.auth"
#define BG_DATA_CONN    "pam_biogate.conn"
#define BG_DATA_SESSION "pam_biogate.session"

typedef struct Options {
	const char *socket; /* borrowed from argv */
	unsigned timeout_s;
	bool debug;
	const char *localedir; /* borrowed from argv */
} Options;

/* What a successful authentication leaves for account and session (pam_set_data). */
typedef struct AuthData {
	char ticket[BG_TICKET_LEN + 1];
	char matching_id[WIRE_MAX_ID + 1];
	char operator_id[WIRE_MAX_ID + 1];
	/* Verified inside the person's own open biogate session (screen unlock, su, sudo):
	 * that session's ID; no second session is opened for it (R12). "" otherwise. */
	char own_session[24];
} AuthData;

typedef struct SessionData {
	char id[WIRE_MAX_ID + 1];
	bool is_int; /* the daemon's session_id was a JSON integer; send it back as one */
	int64_t num;
} SessionData;

typedef struct Operator {
	const char *id;   /* borrowed from the reply */
	const char *role; /* borrowed from the reply */
} Operator;

/* How a daemon error becomes a PAM result. msg NULL = say nothing (fall through quietly). */
typedef struct ErrorMap {
	const char *name;
	int auth_rc;
	int acct_rc;
	const char *msg;
} ErrorMap;

static const char MSG_UNAVAILABLE[] = N_("biogate: the fingerprint service is unavailable");
static const char MSG_LOST[] = N_("biogate: lost the connection to the fingerprint service");

static const ErrorMap error_map[] = {
	{ WIRE_ERR_NO_MATCH, PAM_AUTH_ERR, PAM_PERM_DENIED,
	  N_("biogate: the fingerprint does not match") },
	/*
	 * Quiet, so that a stack can fall through to a password for administrators; at account
	 * the module has no say about someone it does not know (PAM_IGNORE, even if "required").
	 */
	{ WIRE_ERR_NOT_ON_ROSTER, PAM_USER_UNKNOWN, PAM_IGNORE, NULL },
	{ WIRE_ERR_REVOKED, PAM_AUTH_ERR, PAM_PERM_DENIED,
	  N_("biogate: this person's authorization has been revoked") },
	{ WIRE_ERR_NOT_ENROLLED, PAM_AUTH_ERR, PAM_PERM_DENIED,
	  N_("biogate: no fingerprint is enrolled for this person") },
	{ WIRE_ERR_LOCKED_OUT, PAM_AUTH_ERR, PAM_PERM_DENIED,
	  N_("biogate: too many failed attempts; try again later") },
	{ WIRE_ERR_OUTSIDE_SHIFT, PAM_AUTH_ERR, PAM_PERM_DENIED,
	  N_("biogate: logging in is not permitted outside your scheduled shift") },
	{ WIRE_ERR_PLEDGE_MISSING, PAM_AUTH_ERR, PAM_PERM_DENIED,
	  N_("biogate: your written pledge has not been recorded; ask the administrator") },
	{ WIRE_ERR_TRAINING_MISSING, PAM_AUTH_ERR, PAM_PERM_DENIED,
	  N_("biogate: your security training has not been recorded; ask the administrator") },
	/* R12: one matching ID, one terminal at a time. */
	{ WIRE_ERR_IN_SESSION, PAM_AUTH_ERR, PAM_PERM_DENIED,
	  N_("biogate: this matching ID is already in use at a terminal") },
	{ WIRE_ERR_NOT_PERMITTED, PAM_AUTH_ERR, PAM_PERM_DENIED,
	  N_("biogate: logging in is not permitted") },
	{ WIRE_ERR_NO_OPERATOR, PAM_AUTH_ERR, PAM_PERM_DENIED,
	  N_("biogate: no operator ID is assigned to this person") },
	{ WIRE_ERR_SENSOR_UNAVAILABLE, PAM_AUTHINFO_UNAVAIL, PAM_PERM_DENIED,
	  N_("biogate: the fingerprint reader is not available") },
	{ WIRE_ERR_NO_READER, PAM_AUTHINFO_UNAVAIL, PAM_PERM_DENIED,
	  N_("biogate: the fingerprint reader is not available") },
	{ WIRE_ERR_TIMEOUT, PAM_AUTHINFO_UNAVAIL, PAM_PERM_DENIED,
	  N_("biogate: no finger was placed on the reader in time") },
	{ WIRE_ERR_BUSY, PAM_AUTHINFO_UNAVAIL, PAM_PERM_DENIED,
	  N_("biogate: the fingerprint reader is busy; try again") },
	{ WIRE_ERR_CANCELLED, PAM_AUTHINFO_UNAVAIL, PAM_PERM_DENIED,
	  N_("biogate: the fingerprint check was cancelled") },
	{ WIRE_ERR_DISK_FULL, PAM_AUTHINFO_UNAVAIL, PAM_PERM_DENIED,
	  N_("biogate: the terminal's disk is full: tell the administrator") },
	{ WIRE_ERR_INTERNAL, PAM_AUTHINFO_UNAVAIL, PAM_PERM_DENIED,
	  N_("biogate: the fingerprint service failed") },
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
parse_options(pam_handle_t *pamh, int argc, const char **argv, Options *o)
{
	*o = (Options){ .timeout_s = BG_VERIFY_DEFAULT_S };

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "debug") == 0) {
			o->debug = true;
		} else if (strncmp(a, "socket=", 7) == 0) {
			/* A relative path would depend on the login process's cwd. */
			const char *p = a + 7;
			if (p[0] == '/' &&
			    strlen(p) < sizeof(((struct sockaddr_un *)NULL)->sun_path))
				o->socket = p;
			else
				pam_syslog(pamh, LOG_ERR, "ignoring bad option: %s", a);
		} else if (strncmp(a, "timeout=", 8) == 0) {
			char *end = NULL;
			unsigned long v;

			errno = 0;
			v = strtoul(a + 8, &end, 10);
			if (errno == 0 && end != a + 8 && *end == '\0' && v >= 1 &&
			    v <= BG_VERIFY_MAX_S)
				o->timeout_s = (unsigned)v;
			else
				pam_syslog(pamh, LOG_ERR, "ignoring bad option: %s", a);
		} else if (strncmp(a, "localedir=", 10) == 0) {
			if (a[10] == '/')
				o->localedir = a + 10;
			else
				pam_syslog(pamh, LOG_ERR, "ignoring bad option: %s", a);
		} else {
			pam_syslog(pamh, LOG_ERR, "ignoring unknown option: %s", a);
		}
	}
	/*
	 * The catalogue location comes from the build or from the service file (root's), never
	 * from the environment: this module runs inside setuid programs.
	 */
	bindtextdomain(BG_TEXTDOMAIN, o->localedir ? o->localedir : BIOGATE_LOCALEDIR);
	bind_textdomain_codeset(BG_TEXTDOMAIN, "UTF-8");
}

#define debug_log(o, pamh, ...)                                                                    \
	do {                                                                                       \
		if ((o)->debug)                                                                    \
			pam_syslog((pamh), LOG_DEBUG, __VA_ARGS__);                                \
	} while (0)

/* Informational and error text; PAM_SILENT keeps it quiet. */
static void
say(pam_handle_t *pamh, int flags, int style, const char *text)
{
	if (flags & PAM_SILENT)
		return;
	(void)pam_prompt(pamh, style, NULL, "%s", text);
}

/* Local: no remote host, or this host's own name (what sudo puts there). A loopback address
 * or "localhost" is not local: it is what a login through a tunnel (ssh -L) shows, so
 * nobody is known to be at the terminal. The daemon checks service and tty too. */
static bool
is_local_rhost(const char *rhost)
{
	char host[256] = "";
	if (!rhost || rhost[0] == '\0')
		return true;
	return gethostname(host, sizeof(host) - 1) == 0 && host[0] && strcmp(rhost, host) == 0;
}

static const char *
get_item_str(pam_handle_t *pamh, int item)
{
	const void *v = NULL;

	if (pam_get_item(pamh, item, &v) != PAM_SUCCESS)
		return NULL;
	return v;
}

/* A string field of a reply: present, a string, no embedded NUL, at most max bytes. */
static const char *
reply_str(json_object *obj, const char *key, size_t max)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	if (!s || (size_t)json_object_get_string_len(v) != strlen(s) || strlen(s) > max)
		return NULL;
	return s;
}

static bool
valid_ticket(const char *t)
{
	if (!t || strlen(t) != BG_TICKET_LEN)
		return false;
	for (size_t i = 0; i < BG_TICKET_LEN; i++) {
		char c = t[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

/* operators:[{operator_id, role}]: 0..BG_MAX_OPERATORS valid entries or false. */
static bool
parse_operators(json_object *params, Operator *ops, size_t *ret_n)
{
	json_object *arr;
	size_t n;

	if (!json_object_object_get_ex(params, "operators", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return false;
	n = json_object_array_length(arr);
	if (n > BG_MAX_OPERATORS)
		return false;
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(arr, i);

		if (!e || !json_object_is_type(e, json_type_object))
			return false;
		ops[i].id = reply_str(e, "operator_id", WIRE_MAX_ID);
		ops[i].role = reply_str(e, "role", WIRE_MAX_ID);
		if (!ops[i].id || !wire_valid_id(ops[i].id) || !ops[i].role ||
		    !wire_valid_id(ops[i].role))
			return false;
	}
	*ret_n = n;
	return true;
}

/* Daemon-supplied names go to syslog only when they look like names. */
static const char *
log_name(const char *s)
{
	return s && wire_valid_id(s) ? s : "(not a valid name)";
}

static const ErrorMap *
find_error(const char *name)
{
	for (size_t i = 0; i < sizeof(error_map) / sizeof(error_map[0]); i++)
		if (strcmp(error_map[i].name, name) == 0)
			return &error_map[i];
	return NULL;
}

static int
add_str(json_object *obj, const char *key, const char *val)
{
	json_object *s = json_object_new_string(val);

	if (!s)
		return -ENOMEM;
	if (json_object_object_add(obj, key, s) < 0) {
		json_object_put(s);
		return -ENOMEM;
	}
	return 0;
}

/*
 * Text from the PAM stack that we pass on for the audit trail. The daemon refuses the whole
 * call over one bad field, so a field it would refuse is left out (and logged) instead.
 */
static int
add_opt_text(pam_handle_t *pamh, json_object *obj, const char *key, const char *val, size_t max)
{
	if (!val || val[0] == '\0')
		return 0;
	if (!wire_valid_text(val, max)) {
		pam_syslog(pamh, LOG_NOTICE,
		           "not passing %s to biogated: not plain text or over %zu bytes", key,
		           max);
		return 0;
	}
	return add_str(obj, key, val);
}

static const char *
socket_path(const Options *o)
{
	/* Not bg_socket_path(): $BIOGATE_SOCKET must not steer a setuid program. */
	return o->socket ? o->socket : BG_DEFAULT_SOCKET;
}

/* The connection one module call leaves for the next (auth -> account -> session open), so
 * a login costs one connection to the daemon rather than three. */
typedef struct ConnHolder {
	BgClient *c;
} ConnHolder;

static void
cleanup_conn(pam_handle_t *pamh, void *data, int error_status)
{
	ConnHolder *h = data;

	if (h) {
		bg_close(h->c);
		free(h);
	}
}

static void
keep_daemon(pam_handle_t *pamh, BgClient *c)
{
	ConnHolder *h = calloc(1, sizeof(*h));

	if (!h) {
		bg_close(c);
		return;
	}
	h->c = c;
	if (pam_set_data(pamh, BG_DATA_CONN, h, cleanup_conn) != PAM_SUCCESS)
		cleanup_conn(pamh, h, 0);
}

static BgClient *
take_kept(pam_handle_t *pamh)
{
	const void *p = NULL;

	if (pam_get_data(pamh, BG_DATA_CONN, &p) != PAM_SUCCESS || !p)
		return NULL;
	ConnHolder *h = (ConnHolder *)(uintptr_t)p;
	BgClient *c = h->c;
	h->c = NULL;
	return c;
}

static int
connect_fresh(pam_handle_t *pamh, const Options *o, BgClient **ret)
{
	const char *path = socket_path(o);
	int r = bg_connect(path, BG_CONNECT_MS, ret);

	if (r < 0) {
		errno = -r;
		pam_syslog(pamh, LOG_ERR, "cannot connect to biogated at %s: %m", path);
		return r;
	}
	debug_log(o, pamh, "connected to %s", path);
	return 0;
}

/* A kept connection when there is one (*ret_reused set), else a new one. */
static int
connect_daemon(pam_handle_t *pamh, const Options *o, BgClient **ret, bool *ret_reused)
{
	BgClient *c = take_kept(pamh);

	*ret_reused = c != NULL;
	if (c) {
		*ret = c;
		return 0;
	}
	return connect_fresh(pamh, o, ret);
}

/*
 * Calls a method with a bounded wait. -errno or 0 with *ret_msg set. A kept connection the
 * daemon has meanwhile closed (its idle timeout) is replaced once: the daemon never saw the
 * call, so sending it again is safe.
 */
static int
call_simple(pam_handle_t *pamh, const Options *o, BgClient **c, bool reused, const char *method,
            json_object *params, json_object **ret_msg, WireReply *ret)
{
	if (reused)
		json_object_get(params);
	int r = bg_call(*c, method, params, BG_CALL_MS, ret_msg, ret);

	if (reused) {
		if (r == -ECONNRESET || r == -EPIPE) {
			debug_log(o, pamh, "kept connection was closed; reconnecting");
			bg_close(*c);
			*c = NULL;
			r = connect_fresh(pamh, o, c);
			if (r == 0)
				return call_simple(pamh, o, c, false, method, params, ret_msg, ret);
		}
		json_object_put(params);
	}
	if (r < 0) {
		errno = -r;
		pam_syslog(pamh, LOG_ERR, "%s failed: %m", method);
	}
	return r;
}

static void
cleanup_auth(pam_handle_t *pamh, void *data, int error_status)
{
	if (data) {
		explicit_bzero(data, sizeof(AuthData));
		free(data);
	}
}

static void
cleanup_session(pam_handle_t *pamh, void *data, int error_status)
{
	free(data);
}

static const AuthData *
get_auth_data(pam_handle_t *pamh)
{
	const void *p = NULL;

	if (pam_get_data(pamh, BG_DATA_AUTH, &p) != PAM_SUCCESS || !p)
		return NULL;
	return p;
}

static void
drop_auth_data(pam_handle_t *pamh)
{
	/* Runs cleanup_auth on what was there, which wipes the ticket. */
	(void)pam_set_data(pamh, BG_DATA_AUTH, NULL, NULL);
}

/* Asks which operator ID this login runs as; a number from the list or the ID itself. */
static int
choose_operator(pam_handle_t *pamh, int flags, const Options *o, const Operator *ops, size_t n,
                const char **ret)
{
	if (n == 0) {
		say(pamh, flags, PAM_ERROR_MSG,
		    _("biogate: no operator ID is assigned to this person"));
		return PAM_AUTH_ERR;
	}
	if (n == 1) {
		*ret = ops[0].id;
		return PAM_SUCCESS;
	}

	(void)pam_prompt(pamh, PAM_TEXT_INFO, NULL, "%s",
	                 _("Choose the operator ID for this session:"));
	for (size_t i = 0; i < n; i++)
		(void)pam_prompt(pamh, PAM_TEXT_INFO, NULL, "%zu) %s (%s)", i + 1, ops[i].id,
		                 ops[i].role);

	for (int tries = 0; tries < BG_OPERATOR_TRIES; tries++) {
		char *resp = NULL;
		const char *pick = NULL;
		int r = pam_prompt(pamh, PAM_PROMPT_ECHO_ON, &resp, "%s",
		                   _("Operator (number or ID): "));

		if (r != PAM_SUCCESS || !resp) {
			free(resp);
			pam_syslog(pamh, LOG_ERR, "conversation failed while choosing an operator");
			return PAM_CONV_ERR;
		}
		if (strnlen(resp, BG_MAX_ANSWER + 1) <= BG_MAX_ANSWER) {
			char *s = resp, *end;

			while (*s == ' ' || *s == '\t')
				s++;
			end = s + strlen(s);
			while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n'))
				*--end = '\0';
			if (s[0] >= '1' && s[0] <= '9' && strspn(s, "0123456789") == strlen(s) &&
			    strlen(s) <= 3) {
				unsigned long k = strtoul(s, NULL, 10);
				if (k >= 1 && k <= n)
					pick = ops[k - 1].id;
			}
			for (size_t i = 0; !pick && i < n; i++)
				if (strcmp(s, ops[i].id) == 0)
					pick = ops[i].id;
		}
		free(resp);
		if (pick) {
			*ret = pick;
			return PAM_SUCCESS;
		}
		say(pamh, flags, PAM_ERROR_MSG, _("That is not one of the listed operator IDs."));
	}
	say(pamh, flags, PAM_ERROR_MSG, _("biogate: no operator ID was chosen"));
	pam_syslog(pamh, LOG_NOTICE, "no operator ID chosen after %d tries", BG_OPERATOR_TRIES);
	return PAM_AUTH_ERR;
}

/* A finished successful Verify: check it, pick the operator, keep the ticket. */
static int
finish_verify(pam_handle_t *pamh, int flags, const Options *o, const char *user,
              json_object *params)
{
	Operator ops[BG_MAX_OPERATORS];
	const char *matching_id, *ticket, *operator_id = NULL;
	AuthData *d;
	size_t n_ops = 0;
	int r;

	matching_id = reply_str(params, "matching_id", WIRE_MAX_ID);
	ticket = reply_str(params, "ticket", BG_TICKET_LEN);
	if (!matching_id || !wire_valid_id(matching_id) || !valid_ticket(ticket) ||
	    !parse_operators(params, ops, &n_ops)) {
		pam_syslog(pamh, LOG_ERR, "malformed Verify reply for %s", user);
		say(pamh, flags, PAM_ERROR_MSG, _(MSG_LOST));
		return PAM_AUTHINFO_UNAVAIL;
	}

	/* Inside the person's own session the operator ID is that session's: nothing to
	 * choose, and nothing new is opened (R12: one session per matching ID). */
	json_object *in = NULL, *v = NULL;
	int64_t own = 0;
	if (json_object_object_get_ex(params, "in_session", &in)) {
		operator_id = reply_str(in, "operator_id", WIRE_MAX_ID);
		if (!json_object_is_type(in, json_type_object) ||
		    !json_object_object_get_ex(in, "session_id", &v) ||
		    !json_object_is_type(v, json_type_int) ||
		    (own = json_object_get_int64(v)) <= 0 || !operator_id ||
		    !wire_valid_id(operator_id)) {
			pam_syslog(pamh, LOG_ERR, "malformed Verify reply for %s", user);
			say(pamh, flags, PAM_ERROR_MSG, _(MSG_LOST));
			return PAM_AUTHINFO_UNAVAIL;
		}
	} else {
		r = choose_operator(pamh, flags, o, ops, n_ops, &operator_id);
		if (r != PAM_SUCCESS)
			return r;
	}

	d = calloc(1, sizeof(*d));
	if (!d)
		return PAM_BUF_ERR;
	memcpy(d->ticket, ticket, BG_TICKET_LEN);
	snprintf(d->matching_id, sizeof(d->matching_id), "%s", matching_id);
	snprintf(d->operator_id, sizeof(d->operator_id), "%s", operator_id);
	if (own > 0)
		snprintf(d->own_session, sizeof(d->own_session), "%" PRId64, own);
	if (pam_set_data(pamh, BG_DATA_AUTH, d, cleanup_auth) != PAM_SUCCESS) {
		cleanup_auth(pamh, d, 0);
		return PAM_BUF_ERR;
	}
	pam_syslog(pamh, LOG_INFO, "fingerprint verified: user %s matching ID %s operator ID %s",
	           user, d->matching_id, d->operator_id);
	return PAM_SUCCESS;
}

static int
map_auth_error(pam_handle_t *pamh, int flags, const char *user, const char *error)
{
	const ErrorMap *m = find_error(error);

	if (!m) {
		/* An error this module does not know is never a reason to let someone in. */
		pam_syslog(pamh, LOG_ERR, "Verify for %s failed with unexpected error %s", user,
		           log_name(error));
		say(pamh, flags, PAM_ERROR_MSG, _("biogate: the fingerprint service failed"));
		return PAM_AUTHINFO_UNAVAIL;
	}
	pam_syslog(pamh, m->auth_rc == PAM_AUTHINFO_UNAVAIL ? LOG_ERR : LOG_NOTICE,
	           "Verify for %s failed: %s", user, error);
	if (m->msg)
		say(pamh, flags, PAM_ERROR_MSG, _(m->msg));
	return m->auth_rc;
}

static int
verify(pam_handle_t *pamh, int flags, const Options *o, BgClient *c, const char *user)
{
	json_object *params = json_object_new_object();
	int64_t deadline;
	int r;

	if (!params || add_str(params, "user", user) < 0) {
		json_object_put(params);
		return PAM_BUF_ERR;
	}
	r = bg_send(c, BIOGATE_METHOD_VERIFY, params, true);
	if (r < 0) {
		errno = -r;
		pam_syslog(pamh, LOG_ERR, "sending Verify failed: %m");
		say(pamh, flags, PAM_ERROR_MSG, _(MSG_LOST));
		return PAM_AUTHINFO_UNAVAIL;
	}

	/* The daemon bounds the scan by timeout; we allow it a little more, then give up. */
	deadline = now_ms() + ((int64_t)o->timeout_s + BG_VERIFY_GRACE_S) * 1000;
	for (unsigned n = 0;; n++) {
		json_object *msg = NULL;
		WireReply rep;
		int64_t left = deadline - now_ms();

		if (left <= 0) {
			pam_syslog(pamh, LOG_ERR, "no Verify result for %s within %u s", user,
			           o->timeout_s + BG_VERIFY_GRACE_S);
			say(pamh, flags, PAM_ERROR_MSG,
			    _("biogate: no finger was placed on the reader in time"));
			return PAM_AUTHINFO_UNAVAIL;
		}
		r = bg_recv(c, (int)left, &msg, &rep);
		if (r < 0) {
			errno = -r;
			pam_syslog(pamh, LOG_ERR, "waiting for Verify failed: %m");
			say(pamh, flags, PAM_ERROR_MSG,
			    r == -ETIMEDOUT
			        ? _("biogate: no finger was placed on the reader in time")
			        : _(MSG_LOST));
			return PAM_AUTHINFO_UNAVAIL;
		}

		if (rep.error) {
			r = map_auth_error(pamh, flags, user, rep.error);
			json_object_put(msg);
			return r;
		}
		if (!rep.continues) {
			r = finish_verify(pamh, flags, o, user, rep.parameters);
			json_object_put(msg);
			return r;
		}

		if (n >= BG_MAX_PROGRESS) {
			json_object_put(msg);
			pam_syslog(pamh, LOG_ERR, "too many Verify progress replies");
			say(pamh, flags, PAM_ERROR_MSG, _(MSG_LOST));
			return PAM_AUTHINFO_UNAVAIL;
		}
		const char *prompt = reply_str(rep.parameters, "prompt", WIRE_MAX_ID);
		if (prompt && strcmp(prompt, "place-finger") == 0) {
			/* Not subject to PAM_SILENT: nobody would know to touch the reader. */
			(void)pam_prompt(pamh, PAM_TEXT_INFO, NULL, "%s",
			                 _("Place your finger on the reader"));
		} else if (prompt && strcmp(prompt, "retry") == 0) {
			const char *m = reply_str(rep.parameters, "message", WIRE_MAX_TEXT);
			if (m && wire_valid_text(m, WIRE_MAX_TEXT))
				debug_log(o, pamh, "retry: %s", m);
			(void)pam_prompt(
			    pamh, PAM_TEXT_INFO, NULL, "%s",
			    _("The finger was not read; place it on the reader again"));
		} else {
			debug_log(o, pamh, "ignoring unknown Verify progress reply");
		}
		json_object_put(msg);
	}
}

/*
 * Whether the daemon knows USER as a person on the roster: 0 no (NotOnRoster), 1 yes (any
 * other answer, a refusal included), -errno when it cannot be asked.
 */
static int
on_roster(pam_handle_t *pamh, const Options *o, const char *user)
{
	BgClient *c = NULL;
	bool reused = false;
	json_object *params, *msg = NULL;
	WireReply rep;
	int r;

	r = connect_daemon(pamh, o, &c, &reused);
	if (r < 0)
		return r;
	params = json_object_new_object();
	if (!params || add_str(params, "user", user) < 0) {
		json_object_put(params);
		bg_close(c);
		return -ENOMEM;
	}
	r = call_simple(pamh, o, &c, reused, "io.biogate.CheckAccount", params, &msg, &rep);
	bg_close(c);
	if (r < 0)
		return r;
	r = !(rep.error && strcmp(rep.error, WIRE_ERR_NOT_ON_ROSTER) == 0);
	json_object_put(msg);
	return r;
}

BG_PAM_EXPORT int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	Options o;
	BgClient *c = NULL;
	const char *user = NULL, *rhost;
	const void *item = NULL;
	int r;

	parse_options(pamh, argc, argv, &o);
	/* A ticket from an earlier attempt in this handle must not outlive a new one. */
	drop_auth_data(pamh);

	/* Fail closed: a handle that cannot tell where the person is counts as remote. */
	if (pam_get_item(pamh, PAM_RHOST, &item) != PAM_SUCCESS)
		item = "?";
	rhost = item;

	r = pam_get_user(pamh, &user, NULL);
	if (r != PAM_SUCCESS)
		return r == PAM_CONV_AGAIN ? PAM_INCOMPLETE : r;
	if (!user || !wire_valid_id(user)) {
		/* Such a name cannot be on the roster; let the stack fall through quietly. */
		debug_log(&o, pamh, "user name is not a valid matching ID");
		return PAM_USER_UNKNOWN;
	}

	if (!is_local_rhost(rhost)) {
		/*
		 * Nobody's finger is on this terminal's reader, so a person on the roster is
		 * refused; someone the daemon says is not on it falls through (an administrator
		 * over ssh), as at the terminal. No answer, no way in.
		 */
		if (on_roster(pamh, &o, user) == 0) {
			debug_log(&o, pamh, "remote login of %s, not on the roster", user);
			return PAM_USER_UNKNOWN;
		}
		pam_syslog(pamh, LOG_NOTICE, "refusing remote login from %s", rhost);
		say(pamh, flags, PAM_ERROR_MSG,
		    _("biogate: fingerprint login is only possible at the terminal itself"));
		return PAM_AUTHINFO_UNAVAIL;
	}

	/* Always a fresh connection: a Verify is not repeated on a stale one. */
	if (connect_fresh(pamh, &o, &c) < 0) {
		say(pamh, flags, PAM_ERROR_MSG, _(MSG_UNAVAILABLE));
		return PAM_AUTHINFO_UNAVAIL;
	}
	r = verify(pamh, flags, &o, c, user);
	if (r == PAM_SUCCESS)
		keep_daemon(pamh, c);
	else
		bg_close(c);

	/* Fail closed: success only with the ticket actually stored. */
	if (r == PAM_SUCCESS && !get_auth_data(pamh))
		r = PAM_AUTHINFO_UNAVAIL;
	if (r != PAM_SUCCESS)
		drop_auth_data(pamh);
	debug_log(&o, pamh, "authenticate: %s", pam_strerror(pamh, r));
	return r;
}

BG_PAM_EXPORT int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return PAM_SUCCESS;
}

BG_PAM_EXPORT int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	Operator ops[BG_MAX_OPERATORS];
	Options o;
	BgClient *c = NULL;
	bool reused = false;
	json_object *params, *msg = NULL;
	const AuthData *auth;
	const char *user = NULL, *matching_id;
	WireReply rep;
	size_t n_ops = 0;
	int r;

	parse_options(pamh, argc, argv, &o);

	r = pam_get_user(pamh, &user, NULL);
	if (r != PAM_SUCCESS || !user) {
		debug_log(&o, pamh, "account: no usable user name");
		return PAM_USER_UNKNOWN;
	}
	if (!wire_valid_id(user)) {
		/* Such a name cannot be on the roster: not this module's account to judge. */
		debug_log(&o, pamh, "account: user name is not a valid matching ID");
		return PAM_IGNORE;
	}

	/* PAM_AUTHINFO_UNAVAIL is not an account result; an unreachable daemon denies. */
	if (connect_daemon(pamh, &o, &c, &reused) < 0) {
		say(pamh, flags, PAM_ERROR_MSG, _(MSG_UNAVAILABLE));
		return PAM_PERM_DENIED;
	}
	params = json_object_new_object();
	if (!params || add_str(params, "user", user) < 0) {
		json_object_put(params);
		bg_close(c);
		return PAM_BUF_ERR;
	}
	r = call_simple(pamh, &o, &c, reused, BIOGATE_METHOD_CHECK_ACCOUNT, params, &msg, &rep);
	if (r == 0)
		keep_daemon(pamh, c);
	else
		bg_close(c);
	if (r < 0) {
		say(pamh, flags, PAM_ERROR_MSG, _(MSG_LOST));
		return PAM_PERM_DENIED;
	}

	if (rep.error) {
		const ErrorMap *m = find_error(rep.error);

		pam_syslog(pamh, LOG_NOTICE, "CheckAccount for %s failed: %s", user,
		           log_name(rep.error));
		r = m ? m->acct_rc : PAM_PERM_DENIED;
		if (!m)
			say(pamh, flags, PAM_ERROR_MSG, _("biogate: this person may not log in"));
		else if (m->msg)
			say(pamh, flags, PAM_ERROR_MSG, _(m->msg));
		json_object_put(msg);
		return r;
	}

	matching_id = reply_str(rep.parameters, "matching_id", WIRE_MAX_ID);
	if (!matching_id || !wire_valid_id(matching_id) ||
	    !parse_operators(rep.parameters, ops, &n_ops)) {
		pam_syslog(pamh, LOG_ERR, "malformed CheckAccount reply for %s", user);
		say(pamh, flags, PAM_ERROR_MSG, _(MSG_LOST));
		json_object_put(msg);
		return PAM_PERM_DENIED;
	}
	if (n_ops == 0) {
		pam_syslog(pamh, LOG_NOTICE, "account %s has no operator ID", user);
		say(pamh, flags, PAM_ERROR_MSG,
		    _("biogate: no operator ID is assigned to this person"));
		json_object_put(msg);
		return PAM_PERM_DENIED;
	}

	/* After our own auth: the person and the chosen operator ID must still hold. */
	auth = get_auth_data(pamh);
	r = PAM_SUCCESS;
	if (auth) {
		bool found = false;

		for (size_t i = 0; i < n_ops; i++)
			if (strcmp(ops[i].id, auth->operator_id) == 0)
				found = true;
		if (strcmp(matching_id, auth->matching_id) != 0 || !found) {
			pam_syslog(pamh, LOG_NOTICE,
			           "account %s: operator ID %s no longer granted to %s", user,
			           auth->operator_id, auth->matching_id);
			say(pamh, flags, PAM_ERROR_MSG,
			    _("biogate: the chosen operator ID is no longer valid"));
			r = PAM_PERM_DENIED;
		}
	}
	json_object_put(msg);
	debug_log(&o, pamh, "account: %s", pam_strerror(pamh, r));
	return r;
}

/* session_id: an identifier or a non-negative integer, kept in the daemon's own type. */
static bool
parse_session_id(json_object *params, SessionData *s)
{
	json_object *v;

	if (!json_object_object_get_ex(params, "session_id", &v))
		return false;
	if (json_object_is_type(v, json_type_int)) {
		s->num = json_object_get_int64(v);
		if (s->num < 0)
			return false;
		s->is_int = true;
		snprintf(s->id, sizeof(s->id), "%" PRId64, s->num);
		return true;
	}
	const char *id = reply_str(params, "session_id", WIRE_MAX_ID);
	if (!id || !wire_valid_id(id))
		return false;
	snprintf(s->id, sizeof(s->id), "%s", id);
	return true;
}

static int
put_env(pam_handle_t *pamh, const char *name, const char *value)
{
	char env[64 + WIRE_MAX_ID];

	snprintf(env, sizeof(env), "%s=%s", name, value);
	return pam_putenv(pamh, env);
}

static void
close_daemon_session(pam_handle_t *pamh, const Options *o, const SessionData *s)
{
	BgClient *c = NULL;
	bool reused = false;
	json_object *params, *msg = NULL, *id;
	WireReply rep;

	if (connect_daemon(pamh, o, &c, &reused) < 0)
		return;
	params = json_object_new_object();
	id = s->is_int ? json_object_new_int64(s->num) : json_object_new_string(s->id);
	if (!params || !id || json_object_object_add(params, "session_id", id) < 0) {
		json_object_put(id);
		json_object_put(params);
		bg_close(c);
		return;
	}
	if (call_simple(pamh, o, &c, reused, BIOGATE_METHOD_CLOSE_SESSION, params, &msg, &rep) ==
	    0) {
		if (rep.error)
			pam_syslog(pamh, LOG_ERR, "CloseSession %s failed: %s", s->id,
			           log_name(rep.error));
		else
			debug_log(o, pamh, "closed biogate session %s", s->id);
		json_object_put(msg);
	}
	bg_close(c);
}

/*
 * A session this module's auth did not verify (a password login that fell through, a key
 * login over ssh, su from root): someone not on the roster is none of its business, but a
 * person on the roster gets no session without their finger (R1), and when the daemon
 * cannot say which, nobody does (fail closed; biogate-exempt members never reach here).
 */
static int
open_without_ticket(pam_handle_t *pamh, int flags, const Options *o)
{
	const char *user = get_item_str(pamh, PAM_USER);
	int r;

	if (user && !wire_valid_id(user)) {
		debug_log(o, pamh, "session: user name is not a valid matching ID");
		return PAM_IGNORE;
	}
	r = user ? on_roster(pamh, o, user) : -EINVAL;
	if (r == 0) {
		debug_log(o, pamh, "session: %s is not on the roster", user);
		return PAM_IGNORE;
	}
	if (r > 0)
		pam_syslog(pamh, LOG_ERR, "%s is on the roster but this login passed no finger",
		           user);
	else
		pam_syslog(pamh, LOG_ERR, "no biogate authentication in this handle");
	say(pamh, flags, PAM_ERROR_MSG,
	    _("biogate: no fingerprint login for this session; it cannot be opened"));
	return PAM_SESSION_ERR;
}

BG_PAM_EXPORT int
pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	Options o;
	BgClient *c = NULL;
	bool reused = false;
	json_object *params, *msg = NULL;
	const AuthData *auth;
	const char *logind;
	char operator_id[WIRE_MAX_ID + 1];
	SessionData *s = NULL;
	WireReply rep;
	int r;

	parse_options(pamh, argc, argv, &o);

	auth = get_auth_data(pamh);
	if (!auth || !valid_ticket(auth->ticket))
		return open_without_ticket(pamh, flags, &o);
	snprintf(operator_id, sizeof(operator_id), "%s", auth->operator_id);
	if (auth->own_session[0]) {
		/* Already in this person's session (su, sudo): it goes on; a second one would
		 * break R12 and the daemon would refuse it. The unused ticket expires. */
		char own[sizeof(auth->own_session)];
		snprintf(own, sizeof(own), "%s", auth->own_session);
		drop_auth_data(pamh);
		if (put_env(pamh, "BIOGATE_SESSION_ID", own) != PAM_SUCCESS ||
		    put_env(pamh, "BIOGATE_OPERATOR_ID", operator_id) != PAM_SUCCESS)
			return PAM_BUF_ERR;
		pam_syslog(pamh, LOG_INFO, "inside biogate session %s: no second session opened",
		           own);
		return PAM_SUCCESS;
	}

	if (connect_daemon(pamh, &o, &c, &reused) < 0) {
		drop_auth_data(pamh);
		say(pamh, flags, PAM_ERROR_MSG, _(MSG_UNAVAILABLE));
		return PAM_SESSION_ERR;
	}

	logind = pam_getenv(pamh, "XDG_SESSION_ID");
	if (!logind)
		logind = getenv("XDG_SESSION_ID");
	params = json_object_new_object();
	if (!params || add_str(params, "ticket", auth->ticket) < 0 ||
	    add_str(params, "operator_id", operator_id) < 0 ||
	    add_opt_text(pamh, params, "tty", get_item_str(pamh, PAM_TTY), BG_MAX_TERM) < 0 ||
	    add_opt_text(pamh, params, "service", get_item_str(pamh, PAM_SERVICE), BG_MAX_TERM) <
	        0 ||
	    add_opt_text(pamh, params, "logind_session", logind, BG_MAX_TERM) < 0 ||
	    add_opt_text(pamh, params, "rhost", get_item_str(pamh, PAM_RHOST), BG_MAX_RHOST) < 0) {
		json_object_put(params);
		bg_close(c);
		drop_auth_data(pamh);
		return PAM_BUF_ERR;
	}
	/* The ticket is single use whatever the answer; keep no copy of it. */
	drop_auth_data(pamh);
	auth = NULL;

	r = call_simple(pamh, &o, &c, reused, BIOGATE_METHOD_OPEN_SESSION, params, &msg, &rep);
	bg_close(c);
	if (r < 0) {
		say(pamh, flags, PAM_ERROR_MSG, _(MSG_LOST));
		return PAM_SESSION_ERR;
	}
	if (rep.error) {
		pam_syslog(pamh, LOG_ERR, "OpenSession for operator ID %s failed: %s", operator_id,
		           log_name(rep.error));
		say(pamh, flags, PAM_ERROR_MSG,
		    strcmp(rep.error, WIRE_ERR_TICKET) == 0
		        ? _("biogate: the fingerprint login has expired; log in again")
		        : _("biogate: the session could not be registered"));
		json_object_put(msg);
		return PAM_SESSION_ERR;
	}

	s = calloc(1, sizeof(*s));
	if (!s || !parse_session_id(rep.parameters, s)) {
		pam_syslog(pamh, LOG_ERR, "malformed OpenSession reply for operator ID %s",
		           operator_id);
		free(s);
		json_object_put(msg);
		say(pamh, flags, PAM_ERROR_MSG, _("biogate: the session could not be registered"));
		return PAM_SESSION_ERR;
	}
	json_object_put(msg);
	if (pam_set_data(pamh, BG_DATA_SESSION, s, cleanup_session) != PAM_SUCCESS) {
		/* The daemon holds a session we cannot carry on: end it rather than leak it. */
		close_daemon_session(pamh, &o, s);
		free(s);
		return PAM_BUF_ERR;
	}
	if (put_env(pamh, "BIOGATE_SESSION_ID", s->id) != PAM_SUCCESS ||
	    put_env(pamh, "BIOGATE_OPERATOR_ID", operator_id) != PAM_SUCCESS) {
		close_daemon_session(pamh, &o, s);
		(void)pam_set_data(pamh, BG_DATA_SESSION, NULL, NULL);
		(void)pam_putenv(pamh, "BIOGATE_SESSION_ID");
		(void)pam_putenv(pamh, "BIOGATE_OPERATOR_ID");
		return PAM_BUF_ERR;
	}
	pam_syslog(pamh, LOG_INFO, "session %s opened for operator ID %s", s->id, operator_id);
	return PAM_SUCCESS;
}

BG_PAM_EXPORT int
pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	Options o;
	const void *p = NULL;

	parse_options(pamh, argc, argv, &o);
	if (pam_get_data(pamh, BG_DATA_SESSION, &p) != PAM_SUCCESS || !p) {
		debug_log(&o, pamh, "no biogate session to close");
		return PAM_SUCCESS;
	}
	close_daemon_session(pamh, &o, p);
	(void)pam_set_data(pamh, BG_DATA_SESSION, NULL, NULL);
	/* Closing must not keep anyone stuck in a session; the daemon also reaps dead ones. */
	return PAM_SUCCESS;
}
