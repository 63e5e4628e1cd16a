/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * biogatectl: the thin operator and administrator command line over biogated. Each command
 * becomes one Varlink call; the answer is printed for a person (through gettext, so the
 * people at the counter read Japanese) or for a script (--json), and every wire error maps
 * to a documented exit code (docs/biogatectl.md).
 *
 * It decides nothing: who may do what is judged by the daemon from the kernel's peer
 * credentials. It must never print a verification ticket, and it treats every reply as
 * untrusted: replies arrive bounded through bg_recv(), and text from them is stripped of
 * control characters before it reaches a terminal.
 */
#include <errno.h>
#include <getopt.h>
#include <libintl.h>
#include <locale.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include <json-c/json.h>

#include "bgclient.h"
#include "wire.h"

#define _(s)  gettext(s)
#define N_(s) s

#define _cleanup_(f) __attribute__((cleanup(f)))

#define CTL_NAME               "biogatectl"
#define CTL_STREAM_TIMEOUT_SEC 120
#define CTL_MAX_TIMEOUT_SEC    86400
/* A hostile daemon could stream "continues" replies forever; a real enrollment has a few. */
#define CTL_MAX_STREAM_REPLIES 256

/* The documented exit codes (docs/biogatectl.md, --help). */
enum {
	CTL_EXIT_OK = 0,
	CTL_EXIT_NEGATIVE = 1,
	CTL_EXIT_USAGE = 2,
	CTL_EXIT_UNREACHABLE = 3,
	CTL_EXIT_REFUSED = 4,
	CTL_EXIT_NOT_FOUND = 5,
	CTL_EXIT_CONFLICT = 6,
	CTL_EXIT_READER = 7,
	CTL_EXIT_ERROR = 8,
};

typedef struct Ctl {
	const char *socket;
	bool json;
	int timeout_sec; /* 0: the default of each kind of call */
} Ctl;

static Ctl arg = { 0 };

static void
json_putp(json_object **o)
{
	if (*o)
		json_object_put(*o);
}

static void
bg_closep(BgClient **c)
{
	bg_close(*c);
}

static void
freep(void *p)
{
	free(*(void **)p);
}

/* --- errors and exit codes ------------------------------------------------------------ */

typedef struct CtlError {
	const char *name;
	const char *message;
	int exit_code;
} CtlError;

static const CtlError ctl_errors[] = {
	{ WIRE_ERR_NOT_ON_ROSTER, N_("this matching ID is not on the roster"), CTL_EXIT_NOT_FOUND },
	{ WIRE_ERR_REVOKED, N_("this person's authorization has been revoked"), CTL_EXIT_CONFLICT },
	{ WIRE_ERR_NO_MATCH, N_("the fingerprint does not match"), CTL_EXIT_NEGATIVE },
	{ WIRE_ERR_NOT_ENROLLED, N_("no fingerprint is enrolled for this person"),
	  CTL_EXIT_NOT_FOUND },
	{ WIRE_ERR_NO_OPERATOR, N_("no operator ID is assigned to this person"),
	  CTL_EXIT_NOT_FOUND },
	{ WIRE_ERR_LOCKED_OUT, N_("too many failed attempts; this person is locked out for now"),
	  CTL_EXIT_REFUSED },
	{ WIRE_ERR_OUTSIDE_SHIFT, N_("this is outside the person's scheduled shift"),
	  CTL_EXIT_REFUSED },
	{ WIRE_ERR_NOT_PERMITTED, NULL /* names the admin group; printed in ctl_fail_reply() */,
	  CTL_EXIT_REFUSED },
	{ WIRE_ERR_FORBIDDEN_KEY, N_("this search key may not be used"), CTL_EXIT_REFUSED },
	{ WIRE_ERR_INVALID_PARAMETER, N_("the biogate service rejected a value as invalid"),
	  CTL_EXIT_ERROR },
	{ WIRE_ERR_SENSOR_UNAVAILABLE, N_("the fingerprint sensor service is not available"),
	  CTL_EXIT_READER },
	{ WIRE_ERR_NO_READER, N_("no fingerprint reader is connected"), CTL_EXIT_READER },
	{ WIRE_ERR_TIMEOUT, N_("no finger was placed on the reader in time"), CTL_EXIT_READER },
	{ WIRE_ERR_CANCELLED, N_("the fingerprint operation was cancelled"), CTL_EXIT_READER },
	{ WIRE_ERR_BUSY, N_("the fingerprint reader is busy with another request; try again"),
	  CTL_EXIT_CONFLICT },
	{ WIRE_ERR_EXISTS, N_("that ID is already in use"), CTL_EXIT_CONFLICT },
	{ WIRE_ERR_NOT_FOUND, N_("not found"), CTL_EXIT_NOT_FOUND },
	{ WIRE_ERR_TICKET, N_("the verification ticket is invalid or has expired"),
	  CTL_EXIT_ERROR },
	{ WIRE_ERR_INTERNAL, N_("the biogate service had an internal error; see its log"),
	  CTL_EXIT_ERROR },
	{ WIRE_ERR_METHOD_NOT_FOUND,
	  N_("the biogate service does not know this request (is it an older version?)"),
	  CTL_EXIT_ERROR },
	{ WIRE_ERR_INTERFACE_NOT_FOUND,
	  N_("the biogate service does not know this request (is it an older version?)"),
	  CTL_EXIT_ERROR },
	{ WIRE_ERR_VARLINK_INVALID, NULL /* names the parameter; see ctl_fail_reply() */,
	  CTL_EXIT_ERROR },
};

/* Text from the daemon goes to a terminal: no control characters (C0, DEL, C1) get through. */
static char *
text_clean(const char *s)
{
	if (!s)
		s = "-";
	size_t n = strlen(s);
	char *out = malloc(n + 1);
	if (!out)
		return NULL;
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f) {
			out[j++] = '?';
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			out[j++] = '?';
		} else {
			out[j++] = (char)c;
		}
	}
	out[j] = '\0';
	return out;
}

static void
put_clean(FILE *f, const char *s)
{
	_cleanup_(freep) char *t = text_clean(s);
	fputs(t ? t : "?", f);
}

static void
print_json(json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
	                                           JSON_C_TO_STRING_NOSLASHESCAPE));
}

static void
print_json_error(const char *name)
{
	_cleanup_(json_putp) json_object *o = json_object_new_object();
	if (!o)
		return;
	json_object_object_add(o, "error", json_object_new_string(name));
	print_json(o);
}

/* Prints the error reply for a person (stderr) and, with --json, for a script (stdout). */
static int
ctl_fail_reply(const WireReply *rep)
{
	const CtlError *e = NULL;
	for (size_t i = 0; i < sizeof(ctl_errors) / sizeof(ctl_errors[0]); i++)
		if (strcmp(rep->error, ctl_errors[i].name) == 0) {
			e = &ctl_errors[i];
			break;
		}
	if (arg.json)
		print_json_error(rep->error);

	fprintf(stderr, "%s: ", CTL_NAME);
	if (!e) {
		fputs(_("the biogate service answered with an unknown error: "), stderr);
		put_clean(stderr, rep->error);
		fputc('\n', stderr);
		return CTL_EXIT_ERROR;
	}
	if (strcmp(e->name, WIRE_ERR_NOT_PERMITTED) == 0) {
		fprintf(stderr,
		        _("not permitted: this needs root or membership in the %s group, or the "
		          "person's own account\n"),
		        BIOGATE_ADMIN_GROUP);
	} else if (strcmp(e->name, WIRE_ERR_VARLINK_INVALID) == 0) {
		json_object *p = NULL;
		const char *name = "?";
		if (json_object_object_get_ex(rep->parameters, "parameter", &p) &&
		    json_object_is_type(p, json_type_string))
			name = json_object_get_string(p);
		_cleanup_(freep) char *clean = text_clean(name);
		fprintf(stderr, _("the biogate service rejected the parameter '%s'\n"),
		        clean ? clean : "?");
	} else {
		fprintf(stderr, "%s\n", _(e->message));
	}
	return e->exit_code;
}

/* Transport failures: the daemon is absent, silent, or not speaking the protocol. */
static int
ctl_fail_transport(int r, const char *path)
{
	_cleanup_(freep) char *p = text_clean(path);
	const char *ps = p ? p : "?";
	fprintf(stderr, "%s: ", CTL_NAME);
	switch (r) {
	case -ENOENT:
	case -ECONNREFUSED:
		fprintf(stderr, _("the biogate service is not running (no answer at %s)\n"), ps);
		return CTL_EXIT_UNREACHABLE;
	case -EPERM:
		fprintf(stderr,
		        _("refusing to talk to %s: it is not owned by root or the biogate service "
		          "user\n"),
		        ps);
		return CTL_EXIT_UNREACHABLE;
	case -EACCES:
		fprintf(stderr, _("permission denied connecting to %s\n"), ps);
		return CTL_EXIT_UNREACHABLE;
	case -ETIMEDOUT:
		fprintf(stderr, _("the biogate service did not answer in time (%s)\n"), ps);
		return CTL_EXIT_UNREACHABLE;
	case -ECONNRESET:
		fprintf(stderr, _("the biogate service closed the connection\n"));
		return CTL_EXIT_UNREACHABLE;
	case -EBADMSG:
		fprintf(stderr, _("the biogate service sent a malformed reply\n"));
		return CTL_EXIT_ERROR;
	case -EINVAL:
		fprintf(stderr, _("invalid socket path: %s\n"), ps);
		return CTL_EXIT_USAGE;
	default:
		fprintf(stderr, _("cannot talk to the biogate service at %s: %s\n"), ps,
		        strerror(-r));
		return CTL_EXIT_UNREACHABLE;
	}
}

/* --- calls ----------------------------------------------------------------------------- */

static int
timeout_ms(bool stream)
{
	if (arg.timeout_sec > 0)
		return arg.timeout_sec * 1000;
	return stream ? CTL_STREAM_TIMEOUT_SEC * 1000 : BG_DEFAULT_TIMEOUT_MS;
}

static int
ctl_connect(BgClient **ret)
{
	const char *path = bg_socket_path(arg.socket);
	int r = bg_connect(path, timeout_ms(false), ret);
	if (r < 0)
		return ctl_fail_transport(r, path);
	return 0;
}

/*
 * One call, one reply. Takes ownership of params. Returns 0 with *ret_params borrowed from
 * *ret_msg, or the exit code after the failure has been reported.
 */
static int
ctl_call(const char *method, json_object *params, json_object **ret_msg, json_object **ret_params)
{
	_cleanup_(bg_closep) BgClient *c = NULL;
	int r = ctl_connect(&c);
	if (r > 0) {
		json_object_put(params);
		return r;
	}
	json_object *msg = NULL;
	WireReply rep;
	r = bg_call(c, method, params, timeout_ms(false), &msg, &rep);
	if (r < 0)
		return ctl_fail_transport(r, bg_socket_path(arg.socket));
	if (rep.error) {
		r = ctl_fail_reply(&rep);
		json_object_put(msg);
		return r;
	}
	if (rep.continues) {
		json_object_put(msg);
		return ctl_fail_transport(-EBADMSG, NULL);
	}
	*ret_msg = msg;
	*ret_params = rep.parameters;
	return 0;
}

typedef void (*ProgressFn)(json_object *params);

/*
 * A call with "more": intermediate replies go to on_progress, each awaited for the per-reply
 * timeout (a person is walking to the reader; the daemon enforces its own sensor timeout).
 */
static int
ctl_call_stream(const char *method, json_object *params, ProgressFn on_progress,
                json_object **ret_msg, json_object **ret_params)
{
	_cleanup_(bg_closep) BgClient *c = NULL;
	int r = ctl_connect(&c);
	if (r > 0) {
		json_object_put(params);
		return r;
	}
	r = bg_send(c, method, params, true);
	if (r < 0)
		return ctl_fail_transport(r, bg_socket_path(arg.socket));
	for (unsigned n = 0;; n++) {
		json_object *msg = NULL;
		WireReply rep;
		r = bg_recv(c, timeout_ms(true), &msg, &rep);
		if (r < 0)
			return ctl_fail_transport(r, bg_socket_path(arg.socket));
		if (rep.error) {
			r = ctl_fail_reply(&rep);
			json_object_put(msg);
			return r;
		}
		if (!rep.continues) {
			*ret_msg = msg;
			*ret_params = rep.parameters;
			return 0;
		}
		if (n >= CTL_MAX_STREAM_REPLIES) {
			json_object_put(msg);
			return ctl_fail_transport(-EBADMSG, NULL);
		}
		on_progress(rep.parameters);
		json_object_put(msg);
	}
}

/* --- reading and printing replies ------------------------------------------------------- */

static const char *
jstr(json_object *o, const char *key)
{
	json_object *v = NULL;
	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static bool
jint(json_object *o, const char *key, int64_t *ret)
{
	json_object *v = NULL;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*ret = json_object_get_int64(v);
	return true;
}

static json_object *
jarray(json_object *o, const char *key)
{
	json_object *v = NULL;
	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

/* Columns on a terminal, not bytes: names at a Japanese counter are double width. */
static size_t
text_width(const char *s)
{
	mbstate_t st = { 0 };
	size_t w = 0, n = strlen(s);
	while (n > 0) {
		wchar_t wc;
		size_t k = mbrtowc(&wc, s, n, &st);
		if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
			memset(&st, 0, sizeof(st));
			w++;
			s++;
			n--;
			continue;
		}
		int cw = wcwidth(wc);
		w += cw > 0 ? (size_t)cw : 0;
		s += k;
		n -= k;
	}
	return w;
}

static void
put_padded(const char *s, size_t width)
{
	fputs(s, stdout);
	for (size_t w = text_width(s); w < width; w++)
		fputc(' ', stdout);
}

/* A reply's microseconds since the epoch as local time; "-" when absent or absurd. */
static void
format_time(json_object *o, const char *key, char *buf, size_t size)
{
	int64_t us = 0;
	snprintf(buf, size, "-");
	if (!jint(o, key, &us) || us <= 0)
		return;
	time_t t = (time_t)(us / 1000000);
	struct tm tm;
	if (!localtime_r(&t, &tm))
		return;
	if (strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, size, "-");
}

typedef struct Field {
	const char *label; /* translated */
	char *value;       /* owned, cleaned */
} Field;

static void
fields_print(Field *f, size_t n)
{
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		size_t lw = text_width(f[i].label);
		w = lw > w ? lw : w;
	}
	for (size_t i = 0; i < n; i++) {
		put_padded(f[i].label, w + 2);
		puts(f[i].value ? f[i].value : "?");
		free(f[i].value);
		f[i].value = NULL;
	}
}

/* Like asprintf, but the result is cleaned for the terminal; NULL on failure. */
__attribute__((format(printf, 1, 2))) static char *
clean_printf(const char *fmt, ...)
{
	va_list ap;
	char *raw = NULL;
	va_start(ap, fmt);
	int n = vasprintf(&raw, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	char *out = text_clean(raw);
	free(raw);
	return out;
}

/* A table of cleaned cells, row-major, the first row the header; columns sized by width. */
#define TABLE_MAX_COLS 8

typedef struct Table {
	size_t cols, n, alloc;
	char **cells;
} Table;

static int
table_add(Table *t, const char *text)
{
	char *cell = text_clean(text);
	if (!cell)
		return -ENOMEM;
	if (t->n == t->alloc) {
		size_t a = t->alloc ? 2 * t->alloc : 64;
		char **p = reallocarray(t->cells, a, sizeof(*p));
		if (!p) {
			free(cell);
			return -ENOMEM;
		}
		t->cells = p;
		t->alloc = a;
	}
	t->cells[t->n++] = cell;
	return 0;
}

static void
table_print(const Table *t)
{
	size_t w[TABLE_MAX_COLS] = { 0 };
	for (size_t i = 0; i < t->n; i++) {
		size_t cw = text_width(t->cells[i]);
		if (cw > w[i % t->cols])
			w[i % t->cols] = cw;
	}
	for (size_t i = 0; i < t->n; i++) {
		if (i % t->cols == t->cols - 1)
			puts(t->cells[i]);
		else
			put_padded(t->cells[i], w[i % t->cols] + 2);
	}
}

static void
table_free(Table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->cells[i]);
	free(t->cells);
	*t = (Table){ 0 };
}

static int
fail_nomem(void)
{
	fprintf(stderr, "%s: %s\n", CTL_NAME, strerror(ENOMEM));
	return CTL_EXIT_ERROR;
}

/* --- words that people read ----------------------------------------------------------- */

static const struct {
	const char *id;
	const char *label;
} finger_names[] = {
	{ "left-thumb", N_("left thumb") },          { "left-index", N_("left index finger") },
	{ "left-middle", N_("left middle finger") }, { "left-ring", N_("left ring finger") },
	{ "left-little", N_("left little finger") }, { "right-thumb", N_("right thumb") },
	{ "right-index", N_("right index finger") }, { "right-middle", N_("right middle finger") },
	{ "right-ring", N_("right ring finger") },   { "right-little", N_("right little finger") },
};

static const char *
finger_label(const char *id)
{
	for (size_t i = 0; id && i < sizeof(finger_names) / sizeof(finger_names[0]); i++)
		if (strcmp(id, finger_names[i].id) == 0)
			return _(finger_names[i].label);
	return id ? id : "?";
}

static const char *
word_label(const char *w)
{
	static const struct {
		const char *word;
		const char *label;
	} words[] = {
		{ "active", N_("active") },   { "revoked", N_("revoked") },
		{ "running", N_("running") }, { "starting", N_("starting") },
		{ "down", N_("down") },
	};
	for (size_t i = 0; w && i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(w, words[i].word) == 0)
			return _(words[i].label);
	return w ? w : "-";
}

/* The output of a streaming call's prompts: with --json, stdout holds only the one object. */
static FILE *
prompt_out(void)
{
	return arg.json ? stderr : stdout;
}

static void
prompt(const char *text)
{
	FILE *f = prompt_out();
	fputs(text, f);
	fputc('\n', f);
	fflush(f);
}

/* --- option parsing --------------------------------------------------------------------- */

enum {
	OPT_JSON = 0x100,
	OPT_SOCKET,
	OPT_TIMEOUT,
	OPT_VERSION,
	OPT_NAME,
	OPT_AFFILIATION,
	OPT_NATIONALITY,
	OPT_EXPERTISE,
	OPT_TRACK_RECORD,
	OPT_UNIX_USER,
	OPT_FINGER,
	OPT_ROLE,
};

/* Every command also takes the global options, so they may follow the command words. */
/* clang-format off */
#define COMMON_OPTIONS \
	{ "json", no_argument, NULL, OPT_JSON }, \
	{ "socket", required_argument, NULL, OPT_SOCKET }, \
	{ "timeout", required_argument, NULL, OPT_TIMEOUT }, \
	{ "help", no_argument, NULL, 'h' }
/* clang-format on */

static const struct option common_options[] = { COMMON_OPTIONS, { NULL, 0, NULL, 0 } };

__attribute__((format(printf, 1, 2))) static int
usage_errorf(const char *fmt, ...)
{
	va_list ap;
	char *raw = NULL;
	va_start(ap, fmt);
	int n = vasprintf(&raw, fmt, ap);
	va_end(ap);
	if (n < 0)
		return fail_nomem();
	_cleanup_(freep) char *msg = text_clean(raw);
	free(raw);
	fprintf(stderr, "%s: %s\n", CTL_NAME, msg ? msg : "?");
	fprintf(stderr, _("Try '%s --help' for more information.\n"), CTL_NAME);
	return CTL_EXIT_USAGE;
}

static void help(void);

/* Returns 0 when handled, -1 when c is not a common option, else an exit code. */
static int
common_option(int c, const char *value)
{
	switch (c) {
	case OPT_JSON:
		arg.json = true;
		return 0;
	case OPT_SOCKET:
		if (!value || !*value)
			return usage_errorf(_("the socket path must not be empty"));
		arg.socket = value;
		return 0;
	case OPT_TIMEOUT: {
		char *end = NULL;
		errno = 0;
		long v = strtol(value, &end, 10);
		if (errno || !end || end == value || *end || v < 1 || v > CTL_MAX_TIMEOUT_SEC)
			return usage_errorf(
			    _("invalid timeout '%s': give whole seconds from 1 to %d"), value,
			    CTL_MAX_TIMEOUT_SEC);
		arg.timeout_sec = (int)v;
		return 0;
	}
	case 'h':
		help();
		exit(CTL_EXIT_OK);
	default:
		return -1;
	}
}

typedef int (*OptFn)(int c, const char *value, void *userdata);

/*
 * Parses one command's options (argv[0] is the last command word) and requires exactly
 * npos positional arguments, named in pos_names for the messages. 0 or an exit code.
 */
static int
parse_args(int argc, char **argv, const struct option *opts, OptFn fn, void *userdata,
           const char *const *pos_names, const char **ret_pos, int npos)
{
	int c;
	optind = 0; /* GNU getopt: full reinitialization for each vector */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == '?') {
			if (optopt > 0 && optopt < 0x100)
				return usage_errorf(_("unrecognized option '-%c'"), optopt);
			return usage_errorf(_("unrecognized option '%s'"), argv[optind - 1]);
		}
		if (c == ':')
			return usage_errorf(_("option '%s' needs a value"), argv[optind - 1]);
		int r = common_option(c, optarg);
		if (r == -1)
			r = fn ? fn(c, optarg, userdata) : -1;
		if (r == -1)
			return usage_errorf(_("unrecognized option '%s'"), argv[optind - 1]);
		if (r > 0)
			return r;
	}
	int have = argc - optind;
	if (have < npos)
		return usage_errorf(_("missing argument: %s"), pos_names[have]);
	if (have > npos)
		return usage_errorf(_("unexpected argument '%s'"), argv[optind + npos]);
	for (int i = 0; i < npos; i++)
		ret_pos[i] = argv[optind + i];
	return 0;
}

typedef enum IdKind {
	ID_MATCHING,
	ID_OPERATOR,
	ID_ROLE,
	ID_UNIX_USER,
} IdKind;

static int
check_id(IdKind kind, const char *v)
{
	if (wire_valid_id(v) && (kind != ID_UNIX_USER || strlen(v) <= 32))
		return 0;
	char *what = NULL;
	int n = -1;
	switch (kind) {
	case ID_MATCHING:
		n = asprintf(&what, _("invalid matching ID '%s'"), v);
		break;
	case ID_OPERATOR:
		n = asprintf(&what, _("invalid operator ID '%s'"), v);
		break;
	case ID_ROLE:
		n = asprintf(&what, _("invalid role '%s'"), v);
		break;
	case ID_UNIX_USER:
		n = asprintf(&what, _("invalid Unix user name '%s'"), v);
		break;
	}
	if (n < 0)
		return fail_nomem();
	int r = usage_errorf(_("%s: IDs are 1 to %d letters, digits, '.', '_', '@' or '-', and do "
	                       "not start with '-' or '.'"),
	                     what, kind == ID_UNIX_USER ? 32 : WIRE_MAX_ID);
	free(what);
	return r;
}

/*
 * Arguments arrive in the user's locale, the wire takes UTF-8 only, and the daemon drops a
 * connection over bad UTF-8: check with the wire's own parser, so there is one validator.
 */
static bool
params_valid_utf8(json_object *params)
{
	const char *s = json_object_to_json_string_ext(params, JSON_C_TO_STRING_PLAIN);
	json_object *o = NULL;
	if (!s || wire_parse(s, strlen(s), WIRE_MAX_MESSAGE, &o) < 0)
		return false;
	json_object_put(o);
	return true;
}

/* --- commands ---------------------------------------------------------------------------- */

static void
format_uptime(int64_t ms, char *buf, size_t size)
{
	int64_t s = ms / 1000;
	int64_t days = s / 86400;
	int h = (int)(s % 86400 / 3600), m = (int)(s % 3600 / 60), sec = (int)(s % 60);
	if (days > 0)
		snprintf(buf, size,
		         ngettext("%lld day, %02d:%02d:%02d", "%lld days, %02d:%02d:%02d",
		                  (unsigned long)days),
		         (long long)days, h, m, sec);
	else
		snprintf(buf, size, "%02d:%02d:%02d", h, m, sec);
}

static int
cmd_status(int argc, char **argv)
{
	int r = parse_args(argc, argv, common_options, NULL, NULL, NULL, NULL, 0);
	if (r)
		return r;
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_call("io.biogate.GetStatus", NULL, &msg, &p);
	if (r)
		return r;
	if (arg.json) {
		print_json(p);
		return CTL_EXIT_OK;
	}

	json_object *reader = NULL;
	if (!json_object_object_get_ex(p, "reader", &reader) ||
	    !json_object_is_type(reader, json_type_object))
		reader = NULL;
	json_object *present = NULL;
	bool has_reader = reader && json_object_object_get_ex(reader, "present", &present) &&
	                  json_object_is_type(present, json_type_boolean) &&
	                  json_object_get_boolean(present);
	int64_t staff = -1, sessions = -1, uptime = -1, stages = 0;
	(void)jint(p, "staff", &staff);
	(void)jint(p, "open_sessions", &sessions);
	(void)jint(p, "uptime_ms", &uptime);
	char up[64] = "-";
	if (uptime >= 0)
		format_uptime(uptime, up, sizeof(up));

	char *reader_text;
	if (!has_reader)
		reader_text = clean_printf("%s", _("not connected"));
	else if (jint(reader, "enroll_stages", &stages) && stages > 0)
		reader_text = clean_printf(_("%s (driver %s), %lld scans to enroll"),
		                           jstr(reader, "name") ? jstr(reader, "name") : "?",
		                           jstr(reader, "driver") ? jstr(reader, "driver") : "?",
		                           (long long)stages);
	else
		reader_text = clean_printf(_("%s (driver %s)"),
		                           jstr(reader, "name") ? jstr(reader, "name") : "?",
		                           jstr(reader, "driver") ? jstr(reader, "driver") : "?");

	Field f[] = {
		{ _("Version:"), text_clean(jstr(p, "version")) },
		{ _("Reader:"), reader_text },
		{ _("Sensor:"), text_clean(word_label(jstr(p, "sensor"))) },
		{ _("Staff on the roster:"),
		  staff >= 0 ? clean_printf("%lld", (long long)staff) : text_clean(NULL) },
		{ _("Open sessions:"),
		  sessions >= 0 ? clean_printf("%lld", (long long)sessions) : text_clean(NULL) },
		{ _("Uptime:"), text_clean(up) },
	};
	fields_print(f, sizeof(f) / sizeof(f[0]));
	return CTL_EXIT_OK;
}

/* Joins an array of strings (or of objects' key) into "a, b"; "-" when empty. */
static char *
join_array(json_object *arr, const char *key, const char *paren_key, bool fingers)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	size_t n = arr ? json_object_array_length(arr) : 0, done = 0;
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		const char *s = NULL, *paren = NULL;
		if (key) {
			s = jstr(e, key);
			paren = paren_key ? jstr(e, paren_key) : NULL;
		} else if (json_object_is_type(e, json_type_string))
			s = json_object_get_string(e);
		if (!s)
			continue;
		fputs(done++ ? ", " : "", f);
		fputs(fingers ? finger_label(s) : s, f);
		if (paren)
			fprintf(f, " (%s)", paren);
	}
	if (done == 0)
		fputs("-", f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	char *out = text_clean(buf);
	free(buf);
	return out;
}

static void
print_staff(json_object *p)
{
	char created[64];
	format_time(p, "created_at", created, sizeof(created));
	Field f[] = {
		{ _("Matching ID:"), text_clean(jstr(p, "matching_id")) },
		{ _("Name:"), text_clean(jstr(p, "name")) },
		{ _("Affiliation:"), text_clean(jstr(p, "affiliation")) },
		{ _("Expertise:"), text_clean(jstr(p, "expertise")) },
		{ _("Track record:"), text_clean(jstr(p, "track_record")) },
		{ _("Unix user:"), text_clean(jstr(p, "unix_user")) },
		{ _("State:"), text_clean(word_label(jstr(p, "state"))) },
		{ _("Enrolled fingers:"), join_array(jarray(p, "fingers"), NULL, NULL, true) },
		{ _("Operator IDs:"),
		  join_array(jarray(p, "operators"), "operator_id", "role", false) },
		{ _("Registered:"), text_clean(created) },
	};
	fields_print(f, sizeof(f) / sizeof(f[0]));
}

typedef struct StaffArgs {
	const char *name, *affiliation, *nationality, *expertise, *track_record, *unix_user;
} StaffArgs;

static int
staff_add_option(int c, const char *value, void *userdata)
{
	StaffArgs *a = userdata;
	switch (c) {
	case OPT_NAME:
		a->name = value;
		return 0;
	case OPT_AFFILIATION:
		a->affiliation = value;
		return 0;
	case OPT_NATIONALITY:
		a->nationality = value;
		return 0;
	case OPT_EXPERTISE:
		a->expertise = value;
		return 0;
	case OPT_TRACK_RECORD:
		a->track_record = value;
		return 0;
	case OPT_UNIX_USER:
		a->unix_user = value;
		return 0;
	default:
		return -1;
	}
}

/* The daemon's limits (daemon/methods.c add_staff_fields), checked here for a clear message. */
static int
check_text(const char *option, const char *v, size_t max, bool required)
{
	if (!v) {
		if (required)
			return usage_errorf(_("the option --%s is required"), option);
		return 0;
	}
	if (required && !*v)
		return usage_errorf(_("the option --%s must not be empty"), option);
	if (!wire_valid_text(v, max))
		return usage_errorf(
		    _("the value of --%s is too long (at most %zu bytes) or contains control "
		      "characters"),
		    option, max);
	return 0;
}

static int
cmd_staff_add(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{ "name", required_argument, NULL, OPT_NAME },
		{ "affiliation", required_argument, NULL, OPT_AFFILIATION },
		{ "nationality", required_argument, NULL, OPT_NATIONALITY },
		{ "expertise", required_argument, NULL, OPT_EXPERTISE },
		{ "track-record", required_argument, NULL, OPT_TRACK_RECORD },
		{ "unix-user", required_argument, NULL, OPT_UNIX_USER },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const names[] = { "MATCHING_ID" };
	StaffArgs a = { 0 };
	const char *id = NULL;
	int r = parse_args(argc, argv, opts, staff_add_option, &a, names, &id, 1);
	if (r)
		return r;
	if ((r = check_id(ID_MATCHING, id)) || (r = check_text("name", a.name, 256, true)) ||
	    (r = check_text("affiliation", a.affiliation, 256, true)) ||
	    (r = check_text("nationality", a.nationality, 64, true)) ||
	    (r = check_text("expertise", a.expertise, WIRE_MAX_TEXT, false)) ||
	    (r = check_text("track-record", a.track_record, WIRE_MAX_TEXT, false)) ||
	    (a.unix_user && (r = check_id(ID_UNIX_USER, a.unix_user))))
		return r;

	json_object *params = json_object_new_object();
	if (!params)
		return fail_nomem();
	json_object_object_add(params, "matching_id", json_object_new_string(id));
	json_object_object_add(params, "name", json_object_new_string(a.name));
	json_object_object_add(params, "affiliation", json_object_new_string(a.affiliation));
	json_object_object_add(params, "nationality", json_object_new_string(a.nationality));
	if (a.expertise)
		json_object_object_add(params, "expertise", json_object_new_string(a.expertise));
	if (a.track_record)
		json_object_object_add(params, "track_record",
		                       json_object_new_string(a.track_record));
	if (a.unix_user)
		json_object_object_add(params, "unix_user", json_object_new_string(a.unix_user));
	if (!params_valid_utf8(params)) {
		json_object_put(params);
		return usage_errorf(_("the arguments are not valid UTF-8 text"));
	}

	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_call("io.biogate.AddStaff", params, &msg, &p);
	if (r)
		return r;
	if (arg.json) {
		print_json(p);
		return CTL_EXIT_OK;
	}
	_cleanup_(freep) char *cid = text_clean(id);
	printf(_("Added %s to the roster.\n"), cid ? cid : "?");
	print_staff(p);
	return CTL_EXIT_OK;
}

static int
cmd_staff_list(int argc, char **argv)
{
	int r = parse_args(argc, argv, common_options, NULL, NULL, NULL, NULL, 0);
	if (r)
		return r;
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_call("io.biogate.ListStaff", NULL, &msg, &p);
	if (r)
		return r;
	if (arg.json) {
		print_json(p);
		return CTL_EXIT_OK;
	}
	json_object *staff = jarray(p, "staff");
	size_t n = staff ? json_object_array_length(staff) : 0;
	if (n == 0) {
		puts(_("The roster is empty."));
		return CTL_EXIT_OK;
	}
	Table t = { .cols = 7 };
	const char *head[] = { _("MATCHING ID"), _("NAME"),    _("AFFILIATION"), _("UNIX USER"),
		               _("STATE"),       _("FINGERS"), _("OPERATOR IDS") };
	for (size_t i = 0; i < 7; i++)
		if (table_add(&t, head[i]) < 0)
			goto nomem;
	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(staff, i);
		json_object *fingers = jarray(s, "fingers");
		char nf[32];
		snprintf(nf, sizeof(nf), "%zu", fingers ? json_object_array_length(fingers) : 0);
		_cleanup_(freep) char *ops =
		    join_array(jarray(s, "operators"), "operator_id", NULL, false);
		if (!ops || table_add(&t, jstr(s, "matching_id")) < 0 ||
		    table_add(&t, jstr(s, "name")) < 0 ||
		    table_add(&t, jstr(s, "affiliation")) < 0 ||
		    table_add(&t, jstr(s, "unix_user")) < 0 ||
		    table_add(&t, word_label(jstr(s, "state"))) < 0 || table_add(&t, nf) < 0 ||
		    table_add(&t, ops) < 0)
			goto nomem;
	}
	table_print(&t);
	table_free(&t);
	return CTL_EXIT_OK;
nomem:
	table_free(&t);
	return fail_nomem();
}

static int
cmd_staff_show(int argc, char **argv)
{
	static const char *const names[] = { "MATCHING_ID" };
	const char *id = NULL;
	int r = parse_args(argc, argv, common_options, NULL, NULL, names, &id, 1);
	if (r || (r = check_id(ID_MATCHING, id)))
		return r;
	json_object *params = json_object_new_object();
	if (!params)
		return fail_nomem();
	json_object_object_add(params, "matching_id", json_object_new_string(id));
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_call("io.biogate.GetStaff", params, &msg, &p);
	if (r)
		return r;
	if (arg.json)
		print_json(p);
	else
		print_staff(p);
	return CTL_EXIT_OK;
}

static int
single_option(int c, const char *value, void *userdata)
{
	if (c != OPT_FINGER && c != OPT_ROLE)
		return -1;
	*(const char **)userdata = value;
	return 0;
}

static void
enroll_progress(json_object *p)
{
	int64_t stage = 0, stages = 0;
	const char *pr = jstr(p, "prompt");
	if (pr && strcmp(pr, "retry") == 0) {
		prompt(_("The finger was not read; place it on the reader again"));
		return;
	}
	if (pr && strcmp(pr, "place-finger") == 0) {
		prompt(_("Place your finger on the reader"));
		return;
	}
	if (!jint(p, "stage", &stage) || !jint(p, "stages", &stages) || stage < 0 || stages < 1 ||
	    stage > stages || stages > 100)
		return;
	FILE *f = prompt_out();
	if (stage < stages)
		fprintf(f, _("Touch the reader again (%lld left)\n"), (long long)(stages - stage));
	else
		fprintf(f, _("All %lld scans taken; saving the fingerprint\n"), (long long)stages);
	fflush(f);
}

static int
cmd_enroll(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{ "finger", required_argument, NULL, OPT_FINGER },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const names[] = { "MATCHING_ID" };
	const char *id = NULL, *finger = NULL;
	int r = parse_args(argc, argv, opts, single_option, &finger, names, &id, 1);
	if (r || (r = check_id(ID_MATCHING, id)))
		return r;
	if (!finger)
		return usage_errorf(_("the option --%s is required"), "finger");
	bool known = false;
	for (size_t i = 0; i < sizeof(finger_names) / sizeof(finger_names[0]); i++)
		known = known || strcmp(finger, finger_names[i].id) == 0;
	if (!known)
		return usage_errorf(_("unknown finger '%s'; use one of: left-thumb, left-index, "
		                      "left-middle, left-ring, left-little, right-thumb, "
		                      "right-index, right-middle, right-ring, right-little"),
		                    finger);

	json_object *params = json_object_new_object();
	if (!params)
		return fail_nomem();
	json_object_object_add(params, "matching_id", json_object_new_string(id));
	json_object_object_add(params, "finger", json_object_new_string(finger));
	FILE *f = prompt_out();
	/* TRANSLATORS: the first %s is a finger ("right index finger"), the second a
	 * matching ID. */
	fprintf(f, _("Enrolling the %s of %s. Touch the reader with that finger.\n"),
	        finger_label(finger), id);
	fflush(f);

	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_call_stream("io.biogate.Enroll", params, enroll_progress, &msg, &p);
	if (r)
		return r;
	if (arg.json) {
		print_json(p);
		return CTL_EXIT_OK;
	}
	const char *done_finger = jstr(p, "finger");
	/* TRANSLATORS: the first %s is a finger, the second a matching ID. */
	_cleanup_(freep) char *line = clean_printf(
	    _("Enrolled the %s of %s."), finger_label(done_finger ? done_finger : finger),
	    jstr(p, "matching_id") ? jstr(p, "matching_id") : id);
	puts(line ? line : "");
	return CTL_EXIT_OK;
}

static int
cmd_operator_grant(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{ "role", required_argument, NULL, OPT_ROLE },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const names[] = { "MATCHING_ID", "OPERATOR_ID" };
	const char *pos[2] = { NULL, NULL }, *role = NULL;
	int r = parse_args(argc, argv, opts, single_option, &role, names, pos, 2);
	if (r || (r = check_id(ID_MATCHING, pos[0])) || (r = check_id(ID_OPERATOR, pos[1])))
		return r;
	if (!role)
		return usage_errorf(_("the option --%s is required"), "role");
	if ((r = check_id(ID_ROLE, role)))
		return r;

	json_object *params = json_object_new_object();
	if (!params)
		return fail_nomem();
	json_object_object_add(params, "matching_id", json_object_new_string(pos[0]));
	json_object_object_add(params, "operator_id", json_object_new_string(pos[1]));
	json_object_object_add(params, "role", json_object_new_string(role));
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_call("io.biogate.GrantOperator", params, &msg, &p);
	if (r)
		return r;
	if (arg.json) {
		print_json(p);
		return CTL_EXIT_OK;
	}
	/* TRANSLATORS: operator ID, role, matching ID. */
	_cleanup_(freep) char *line =
	    clean_printf(_("Granted operator ID %s (role %s) to %s."),
	                 jstr(p, "operator_id") ? jstr(p, "operator_id") : pos[1],
	                 jstr(p, "role") ? jstr(p, "role") : role,
	                 jstr(p, "matching_id") ? jstr(p, "matching_id") : pos[0]);
	puts(line ? line : "");
	return CTL_EXIT_OK;
}

static void
verify_progress(json_object *p)
{
	const char *pr = jstr(p, "prompt");
	if (!pr)
		return;
	if (strcmp(pr, "place-finger") == 0)
		prompt(_("Place your finger on the reader"));
	else if (strcmp(pr, "retry") == 0)
		prompt(_("The finger was not read; place it on the reader again"));
}

static int
cmd_verify(int argc, char **argv)
{
	static const char *const names[] = { "MATCHING_ID" };
	const char *id = NULL;
	int r = parse_args(argc, argv, common_options, NULL, NULL, names, &id, 1);
	if (r || (r = check_id(ID_MATCHING, id)))
		return r;
	json_object *params = json_object_new_object();
	if (!params)
		return fail_nomem();
	json_object_object_add(params, "matching_id", json_object_new_string(id));
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_call_stream("io.biogate.Verify", params, verify_progress, &msg, &p);
	if (r)
		return r;
	/* The ticket opens a login session; a command line has no use for it and must not
	 * leave it in a terminal's scrollback or a script's log. */
	json_object_object_del(p, "ticket");
	if (arg.json) {
		print_json(p);
		return CTL_EXIT_OK;
	}
	_cleanup_(freep) char *line = clean_printf(
	    _("The fingerprint matches %s."), jstr(p, "matching_id") ? jstr(p, "matching_id") : id);
	puts(line ? line : "");
	return CTL_EXIT_OK;
}

static int
cmd_sessions(int argc, char **argv)
{
	int r = parse_args(argc, argv, common_options, NULL, NULL, NULL, NULL, 0);
	if (r)
		return r;
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_call("io.biogate.ListSessions", NULL, &msg, &p);
	if (r)
		return r;
	if (arg.json) {
		print_json(p);
		return CTL_EXIT_OK;
	}
	json_object *sessions = jarray(p, "sessions");
	size_t n = sessions ? json_object_array_length(sessions) : 0;
	if (n == 0) {
		puts(_("No sessions are open."));
		return CTL_EXIT_OK;
	}
	Table t = { .cols = 7 };
	const char *head[] = { _("SESSION"), _("MATCHING ID"), _("OPERATOR ID"), _("UID"),
		               _("TTY"),     _("SERVICE"),     _("OPENED AT") };
	for (size_t i = 0; i < 7; i++)
		if (table_add(&t, head[i]) < 0)
			goto nomem;
	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(sessions, i);
		int64_t sid = 0, uid = -1;
		char ids[32] = "-", uids[32] = "-", opened[64];
		if (jint(s, "session_id", &sid))
			snprintf(ids, sizeof(ids), "%lld", (long long)sid);
		/* (uid_t)-1: the person's Unix user does not exist on this machine. */
		if (jint(s, "uid", &uid) && uid >= 0 && uid < UINT32_MAX)
			snprintf(uids, sizeof(uids), "%lld", (long long)uid);
		format_time(s, "opened_at", opened, sizeof(opened));
		if (table_add(&t, ids) < 0 || table_add(&t, jstr(s, "matching_id")) < 0 ||
		    table_add(&t, jstr(s, "operator_id")) < 0 || table_add(&t, uids) < 0 ||
		    table_add(&t, jstr(s, "tty")) < 0 || table_add(&t, jstr(s, "service")) < 0 ||
		    table_add(&t, opened) < 0)
			goto nomem;
	}
	table_print(&t);
	table_free(&t);
	return CTL_EXIT_OK;
nomem:
	table_free(&t);
	return fail_nomem();
}

/* --- dispatch and help ------------------------------------------------------------------ */

typedef struct Cmd {
	const char *verb;
	const char *sub; /* NULL: the verb alone */
	int (*fn)(int argc, char **argv);
	const char *synopsis;
	const char *summary;
} Cmd;

static const Cmd commands[] = {
	{ "status", NULL, cmd_status, "status", N_("Show the service, the reader and the sensor") },
	{ "staff", "add", cmd_staff_add,
	  "staff add MATCHING_ID --name NAME --affiliation TEXT --nationality TEXT\n"
	  "          [--expertise TEXT] [--track-record TEXT] [--unix-user USER]",
	  N_("Add a person to the roster (the Unix user defaults to the matching ID)") },
	{ "staff", "list", cmd_staff_list, "staff list", N_("List the people on the roster") },
	{ "staff", "show", cmd_staff_show, "staff show MATCHING_ID",
	  N_("Show one person on the roster") },
	{ "enroll", NULL, cmd_enroll, "enroll MATCHING_ID --finger FINGER",
	  N_("Enroll one finger of a person; FINGER is left-thumb, left-index, ..., "
	     "right-little") },
	{ "operator", "grant", cmd_operator_grant,
	  "operator grant MATCHING_ID OPERATOR_ID --role ROLE",
	  N_("Give a person an operator ID with a role") },
	{ "verify", NULL, cmd_verify, "verify MATCHING_ID",
	  N_("Check a finger against a person's enrolled fingerprint") },
	{ "sessions", NULL, cmd_sessions, "sessions", N_("List the open biogate sessions") },
};

static void
help(void)
{
	printf(_("Usage: %s [OPTIONS] COMMAND [ARGUMENTS]\n"), CTL_NAME);
	printf("\n%s\n\n%s\n", _("Administer biogate: the roster, fingerprints and sessions."),
	       _("Commands:"));
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		printf("  %s\n      %s\n", commands[i].synopsis, _(commands[i].summary));
	printf("\n%s\n", _("Options:"));
	printf("  --socket PATH\n      ");
	printf(_("The daemon's socket (default: $BIOGATE_SOCKET, else %s)"),
	       BIOGATE_RUNTIME_DIR "/" BIOGATE_SOCKET_NAME);
	putchar('\n');
	printf("  --json\n      %s\n",
	       _("Print the answer as one JSON object; errors as {\"error\":NAME}"));
	printf("  --timeout SEC\n      %s\n",
	       _("Wait at most SEC seconds for each answer (default 30; 120 for enroll and "
	         "verify)"));
	printf("  -h, --help\n      %s\n", _("Show this help"));
	printf("  --version\n      %s\n", _("Show the version"));
	printf("\n%s\n", _("Exit status:"));
	static const char *const codes[] = {
		N_("success"),
		N_("a negative answer (the fingerprint does not match)"),
		N_("usage error"),
		N_("the daemon could not be reached, or stopped answering"),
		N_("refused (not permitted, locked out, outside the shift)"),
		N_("not found (not on the roster, no fingerprint, no operator ID)"),
		N_("conflict (already exists, revoked, busy)"),
		N_("reader problem (no reader, sensor unavailable, timeout, cancelled)"),
		N_("other error (invalid parameter, protocol or internal error)"),
	};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		printf("  %zu  %s\n", i, _(codes[i]));
	printf("\n%s\n", _("See docs/biogatectl.md for details."));
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};

	setlocale(LC_ALL, "");
	/* biogatectl is not setuid, so the catalogs may come from elsewhere (the build tree in
	 * tests); secure_getenv keeps that true should it ever be installed otherwise. */
	const char *localedir = secure_getenv("BIOGATE_LOCALEDIR");
	bindtextdomain("biogate", localedir && *localedir ? localedir : BIOGATE_LOCALEDIR);
	textdomain("biogate");

	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		if (c == '?') {
			if (optopt > 0 && optopt < 0x100)
				return usage_errorf(_("unrecognized option '-%c'"), optopt);
			return usage_errorf(_("unrecognized option '%s'"), argv[optind - 1]);
		}
		if (c == ':')
			return usage_errorf(_("option '%s' needs a value"), argv[optind - 1]);
		if (c == OPT_VERSION) {
			printf("%s %s\n", CTL_NAME, BIOGATE_VERSION);
			return CTL_EXIT_OK;
		}
		int r = common_option(c, optarg);
		if (r != 0)
			return r > 0
			           ? r
			           : usage_errorf(_("unrecognized option '%s'"), argv[optind - 1]);
	}
	if (optind >= argc)
		return usage_errorf(_("no command given"));
	const char *verb = argv[optind];
	if (strcmp(verb, "help") == 0) {
		help();
		return CTL_EXIT_OK;
	}
	const Cmd *cmd = NULL;
	bool verb_known = false;
	int skip = 0;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]) && !cmd; i++) {
		if (strcmp(verb, commands[i].verb) != 0)
			continue;
		verb_known = true;
		if (!commands[i].sub)
			cmd = &commands[i];
		else if (optind + 1 < argc && strcmp(argv[optind + 1], commands[i].sub) == 0) {
			cmd = &commands[i];
			skip = 1;
		}
	}
	if (!cmd && !verb_known)
		return usage_errorf(_("unknown command '%s'"), verb);
	if (!cmd && optind + 1 < argc)
		return usage_errorf(_("unknown subcommand '%s %s'"), verb, argv[optind + 1]);
	if (!cmd)
		return usage_errorf(_("the '%s' command needs a subcommand"), verb);

	int r = cmd->fn(argc - optind - skip, argv + optind + skip);
	/* A full disk or a closed pipe must not look like success to a script. */
	if (fflush(stdout) != 0 && r == CTL_EXIT_OK) {
		fprintf(stderr, "%s: %s\n", CTL_NAME, _("cannot write the output"));
		r = CTL_EXIT_ERROR;
	}
	return r;
}
