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
#include <fcntl.h>
#include <getopt.h>
#include <libintl.h>
#include <locale.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
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
	{ WIRE_ERR_PLEDGE_MISSING,
	  N_("this person's written pledge has not been recorded (staff edit --pledge-date)"),
	  CTL_EXIT_REFUSED },
	{ WIRE_ERR_TRAINING_MISSING,
	  N_("this person's security training has not been recorded (staff edit "
	     "--training-date)"),
	  CTL_EXIT_REFUSED },
	{ WIRE_ERR_IN_SESSION, N_("this matching ID is already in use in a session at a terminal"),
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
	{ WIRE_ERR_DISK_FULL, N_("the terminal's disk is full: tell the administrator"),
	  CTL_EXIT_ERROR },
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

/* Closes f, a memory stream on *buf, and returns its text cleaned for the terminal; NULL on
 * failure. */
static char *
memstream_clean(FILE *f, char **buf)
{
	if (fclose(f) != 0) {
		free(*buf);
		return NULL;
	}
	char *out = text_clean(*buf);
	free(*buf);
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

static void format_time(json_object *o, const char *key, char *buf, size_t size);
static const char *jstr(json_object *o, const char *key);

/* LockedOut may say until when, in microseconds; INT64_MAX means until an admin unlocks. */
static void
print_locked_out(json_object *params)
{
	json_object *v = NULL;
	int64_t until = 0;
	if (json_object_object_get_ex(params, "until", &v) && json_object_is_type(v, json_type_int))
		until = json_object_get_int64(v);
	char when[64];
	format_time(params, "until", when, sizeof(when));
	if (until == INT64_MAX)
		fputs(
		    _("too many failed attempts; this person is locked out until an administrator "
		      "runs 'biogatectl staff unlock'\n"),
		    stderr);
	else if (strcmp(when, "-") != 0)
		/* TRANSLATORS: %s is a local date and time, "2026-04-01 09:10:00". */
		fprintf(stderr, _("too many failed attempts; this person is locked out until %s\n"),
		        when);
	else
		fprintf(stderr, "%s\n",
		        _("too many failed attempts; this person is locked out for now"));
}

/* The reasons NotPermitted may give for two-person confirmation and disposal (custody.c). */
static const struct {
	const char *reason;
	const char *text;
} not_permitted_reasons[] = {
	{ "same-person", N_("refused: one person cannot confirm twice; two-person confirmation "
	                    "needs different people (check --confirm-by)") },
	{ "second-person-required",
	  N_("refused: this needs a second person's finger; name them with --confirm-by (outside "
	     "a biogate session, name two people)") },
	{ "not-approved",
	  N_("refused: this disposal has not been approved yet (biogatectl disposal approve)") },
	{ "before-planned-date",
	  N_("refused: the planned date of this disposal has not come yet") },
	{ "not-planned",
	  N_("refused: this disposal is no longer awaiting approval (already approved or "
	     "executed)") },
	{ "staff-entry",
	  N_("refused: a staff entry ends when that person's session ends, not by hand") },
};

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
	/* A refusal about someone other than the caller names them (a confirmer, say). */
	const char *who = jstr(rep->parameters, "matching_id");
	if (who && wire_valid_id(who))
		fprintf(stderr, "%s: ", who);
	const char *reason = jstr(rep->parameters, "reason");
	const char *reason_text = NULL;
	for (size_t i = 0;
	     reason && i < sizeof(not_permitted_reasons) / sizeof(not_permitted_reasons[0]); i++)
		if (strcmp(reason, not_permitted_reasons[i].reason) == 0)
			reason_text = _(not_permitted_reasons[i].text);
	if (strcmp(e->name, WIRE_ERR_NOT_PERMITTED) == 0 && reason_text) {
		fprintf(stderr, "%s\n", reason_text);
	} else if (strcmp(e->name, WIRE_ERR_NOT_PERMITTED) == 0) {
		fprintf(stderr,
		        _("not permitted: this needs root or membership in the %s group, or the "
		          "person's own account\n"),
		        BIOGATE_ADMIN_GROUP);
	} else if (strcmp(e->name, WIRE_ERR_LOCKED_OUT) == 0) {
		print_locked_out(rep->parameters);
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

/*
 * Connects and sends a call with "more", whose replies the caller reads from *ret. Takes
 * ownership of params. 0, or the exit code after the failure has been reported.
 */
static int
ctl_send_stream(const char *method, json_object *params, BgClient **ret)
{
	int r = ctl_connect(ret);
	if (r > 0) {
		json_object_put(params);
		return r;
	}
	r = bg_send(*ret, method, params, true);
	if (r < 0)
		return ctl_fail_transport(r, bg_socket_path(arg.socket));
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
	int r = ctl_send_stream(method, params, &c);
	if (r)
		return r;
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

/* ctl_query(): the reply is for a person; the command goes on to print it. */
#define CTL_PRINT_TEXT (-1)

/*
 * ctl_call(), or ctl_call_stream() when on_progress is given, with --json handled: the reply
 * is printed as it came. Returns CTL_PRINT_TEXT when the command is to print the reply for
 * a person, else its exit code (CTL_EXIT_OK once the JSON is printed).
 */
static int
ctl_query(const char *method, json_object *params, ProgressFn on_progress, json_object **ret_msg,
          json_object **ret_params)
{
	int r = on_progress ? ctl_call_stream(method, params, on_progress, ret_msg, ret_params)
	                    : ctl_call(method, params, ret_msg, ret_params);
	if (r)
		return r;
	if (arg.json) {
		print_json(*ret_params);
		return CTL_EXIT_OK;
	}
	return CTL_PRINT_TEXT;
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

/* The string at key, or fallback when there is none. */
static const char *
jstr_or(json_object *o, const char *key, const char *fallback)
{
	const char *s = jstr(o, key);
	return s ? s : fallback;
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

/* One line for a person, cleaned for the terminal (an empty line when out of memory). */
__attribute__((format(printf, 1, 2))) static void
print_line(const char *fmt, ...)
{
	va_list ap;
	char *raw = NULL;
	va_start(ap, fmt);
	int n = vasprintf(&raw, fmt, ap);
	va_end(ap);
	_cleanup_(freep) char *line = n < 0 ? NULL : text_clean(raw);
	free(raw);
	puts(line ? line : "");
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

/* Adds the header cells head[from] to head[n - 1]; -1 when out of memory. */
static int
table_head(Table *t, const char *const *head, size_t from, size_t n)
{
	for (size_t i = from; i < n; i++)
		if (table_add(t, head[i]) < 0)
			return -1;
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

/* Prints a complete table, or reports running out of memory; frees it. An exit code. */
static int
table_finish(Table *t, bool complete)
{
	if (complete)
		table_print(t);
	table_free(t);
	return complete ? CTL_EXIT_OK : fail_nomem();
}

typedef int (*RowFn)(Table *t, json_object *e);

/*
 * A table of one row for each element of arr, made by row (-1 when out of memory), under
 * head; when there is none, the line empty instead. An exit code.
 */
static int
table_list(json_object *arr, const char *empty, const char *const *head, size_t cols, RowFn row)
{
	size_t n = arr ? json_object_array_length(arr) : 0;
	if (n == 0) {
		puts(empty);
		return CTL_EXIT_OK;
	}
	Table t = { .cols = cols };
	if (table_head(&t, head, 0, cols) < 0)
		return table_finish(&t, false);
	for (size_t i = 0; i < n; i++)
		if (row(&t, json_object_array_get_idx(arr, i)) < 0)
			return table_finish(&t, false);
	return table_finish(&t, true);
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
		{ "active", N_("active") },
		{ "revoked", N_("revoked") },
		{ "running", N_("running") },
		{ "starting", N_("starting") },
		{ "down", N_("down") },
		{ "departed", N_("departed") },
		{ "transferred", N_("transferred") },
		{ "planned", N_("planned") },
		{ "approved", N_("approved") },
		{ "executed", N_("executed") },
		{ "allow", N_("allowed") },
		{ "deny", N_("blocked") },
		{ "allowed", N_("on the allow-list") },
		{ "not-allowed", N_("not on the allow-list") },
		{ "no-serial", N_("no serial number") },
		{ "allowlist-unreadable", N_("allow-list unreadable") },
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
	OPT_PLEDGE_DATE,
	OPT_TRAINING_DATE,
	OPT_MONTH,
	OPT_MATCHING_ID,
	OPT_KEY,
	OPT_DRY_RUN,
	OPT_OPERATOR_ID,
	OPT_ACTION,
	OPT_OUTCOME,
	OPT_SINCE,
	OPT_UNTIL,
	OPT_LIMIT,
	OPT_FORMAT,
	OPT_OUTPUT,
	OPT_REASON,
	OPT_CONFIRM_BY,
	OPT_PURPOSE,
	OPT_ITEMS,
	OPT_MEDIA,
	OPT_COUNT,
	OPT_METHOD,
	OPT_DATE,
	OPT_NOTE,
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

/* getopt_long()'s '?' (an unknown option) and ':' (a missing value) as usage errors; else 0. */
static int
getopt_failure(int c, char **argv)
{
	if (c == '?') {
		if (optopt > 0 && optopt < 0x100)
			return usage_errorf(_("unrecognized option '-%c'"), optopt);
		return usage_errorf(_("unrecognized option '%s'"), argv[optind - 1]);
	}
	if (c == ':')
		return usage_errorf(_("option '%s' needs a value"), argv[optind - 1]);
	return 0;
}

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

/* An option whose value is kept as given, and the member of a command's arguments for it. */
typedef struct OptValue {
	int opt;
	size_t offset;
} OptValue;

/* clang-format off */
#define OPT_MEMBER(opt, type, member) { (opt), offsetof(type, member) }
/* clang-format on */

/* Keeps value in the member of userdata named for option c: 0, or -1 when there is none. */
static int
opt_value_set(const OptValue *values, size_t n, int c, const char *value, void *userdata)
{
	for (size_t i = 0; i < n; i++)
		if (values[i].opt == c) {
			*(const char **)(void *)((char *)userdata + values[i].offset) = value;
			return 0;
		}
	return -1;
}

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
		int r = getopt_failure(c, argv);
		if (r)
			return r;
		r = common_option(c, optarg);
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
	ID_ACTION,
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
	case ID_ACTION:
		n = asprintf(&what, _("invalid action '%s'"), v);
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

/* A new params object holding key: value; NULL when out of memory. */
static json_object *
params_string(const char *key, const char *value)
{
	json_object *params = json_object_new_object();
	if (params)
		json_object_object_add(params, key, json_object_new_string(value));
	return params;
}

/* parse_args() for a command whose one argument is a matching ID, which is checked. */
static int
parse_matching_id(int argc, char **argv, const struct option *opts, OptFn fn, void *userdata,
                  const char **ret_id)
{
	static const char *const names[] = { "MATCHING_ID" };
	int r = parse_args(argc, argv, opts, fn, userdata, names, ret_id, 1);
	if (r)
		return r;
	return check_id(ID_MATCHING, *ret_id);
}

/* A command whose one argument is a matching ID and whose params are just that. */
static int
matching_id_params(int argc, char **argv, const char **ret_id, json_object **ret_params)
{
	int r = parse_matching_id(argc, argv, common_options, NULL, NULL, ret_id);
	if (r)
		return r;
	*ret_params = params_string("matching_id", *ret_id);
	return *ret_params ? 0 : fail_nomem();
}

/* A command whose one argument is a matching ID, which alone makes the params: as ctl_query(). */
static int
matching_id_query(int argc, char **argv, const char *method, const char **ret_id,
                  json_object **ret_msg, json_object **ret_params)
{
	json_object *params = NULL;
	int r = matching_id_params(argc, argv, ret_id, &params);
	if (r)
		return r;
	return ctl_query(method, params, NULL, ret_msg, ret_params);
}

/* 0, or (params dropped) the usage error for arguments that are not valid UTF-8. */
static int
params_check_utf8(json_object *params)
{
	if (params_valid_utf8(params))
		return 0;
	json_object_put(params);
	return usage_errorf(_("the arguments are not valid UTF-8 text"));
}

/* A command without arguments: its options, then a call without params, as ctl_query(). */
static int
ctl_query_noargs(int argc, char **argv, const char *method, json_object **ret_msg,
                 json_object **ret_params)
{
	int r = parse_args(argc, argv, common_options, NULL, NULL, NULL, NULL, 0);
	if (r)
		return r;
	return ctl_query(method, NULL, NULL, ret_msg, ret_params);
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
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	int r = ctl_query_noargs(argc, argv, "io.biogate.GetStatus", &msg, &p);
	if (r != CTL_PRINT_TEXT)
		return r;

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
		                           jstr_or(reader, "name", "?"),
		                           jstr_or(reader, "driver", "?"), (long long)stages);
	else
		reader_text = clean_printf(_("%s (driver %s)"), jstr_or(reader, "name", "?"),
		                           jstr_or(reader, "driver", "?"));

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
	return memstream_clean(f, &buf);
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
		{ _("Pledge recorded:"), text_clean(jstr(p, "pledge_date")) },
		{ _("Training done:"), text_clean(jstr(p, "training_date")) },
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
	static const OptValue values[] = {
		OPT_MEMBER(OPT_NAME, StaffArgs, name),
		OPT_MEMBER(OPT_AFFILIATION, StaffArgs, affiliation),
		OPT_MEMBER(OPT_NATIONALITY, StaffArgs, nationality),
		OPT_MEMBER(OPT_EXPERTISE, StaffArgs, expertise),
		OPT_MEMBER(OPT_TRACK_RECORD, StaffArgs, track_record),
		OPT_MEMBER(OPT_UNIX_USER, StaffArgs, unix_user),
	};
	return opt_value_set(values, sizeof(values) / sizeof(values[0]), c, value, userdata);
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
	StaffArgs a = { 0 };
	const char *id = NULL;
	int r = parse_matching_id(argc, argv, opts, staff_add_option, &a, &id);
	if (r)
		return r;
	if ((r = check_text("name", a.name, 256, true)) ||
	    (r = check_text("affiliation", a.affiliation, 256, true)) ||
	    (r = check_text("nationality", a.nationality, 64, true)) ||
	    (r = check_text("expertise", a.expertise, WIRE_MAX_TEXT, false)) ||
	    (r = check_text("track-record", a.track_record, WIRE_MAX_TEXT, false)) ||
	    (a.unix_user && (r = check_id(ID_UNIX_USER, a.unix_user))))
		return r;

	json_object *params = params_string("matching_id", id);
	if (!params)
		return fail_nomem();
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
	if ((r = params_check_utf8(params)))
		return r;

	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_query("io.biogate.AddStaff", params, NULL, &msg, &p);
	if (r != CTL_PRINT_TEXT)
		return r;
	_cleanup_(freep) char *cid = text_clean(id);
	printf(_("Added %s to the roster.\n"), cid ? cid : "?");
	print_staff(p);
	return CTL_EXIT_OK;
}

/* One person of the roster, for staff list. */
static int
staff_row(Table *t, json_object *s)
{
	json_object *fingers = jarray(s, "fingers");
	char nf[32];
	snprintf(nf, sizeof(nf), "%zu", fingers ? json_object_array_length(fingers) : 0);
	_cleanup_(freep) char *ops = join_array(jarray(s, "operators"), "operator_id", NULL, false);
	if (!ops || table_add(t, jstr(s, "matching_id")) < 0 || table_add(t, jstr(s, "name")) < 0 ||
	    table_add(t, jstr(s, "affiliation")) < 0 || table_add(t, jstr(s, "unix_user")) < 0 ||
	    table_add(t, word_label(jstr(s, "state"))) < 0 || table_add(t, nf) < 0 ||
	    table_add(t, ops) < 0)
		return -1;
	return 0;
}

static int
cmd_staff_list(int argc, char **argv)
{
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	int r = ctl_query_noargs(argc, argv, "io.biogate.ListStaff", &msg, &p);
	if (r != CTL_PRINT_TEXT)
		return r;
	const char *head[] = { _("MATCHING ID"), _("NAME"),    _("AFFILIATION"), _("UNIX USER"),
		               _("STATE"),       _("FINGERS"), _("OPERATOR IDS") };
	return table_list(jarray(p, "staff"), _("The roster is empty."), head, 7, staff_row);
}

static int
cmd_staff_show(int argc, char **argv)
{
	const char *id = NULL;
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	int r = matching_id_query(argc, argv, "io.biogate.GetStaff", &id, &msg, &p);
	if (r != CTL_PRINT_TEXT)
		return r;
	print_staff(p);
	return CTL_EXIT_OK;
}

/* --- dates and times --------------------------------------------------------------------- */

/* The value of n ASCII digits, or -1. */
static int
digits_value(const char *s, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* "YYYY-MM" with a year the daemon stores (1900..9999) and a month 01..12. */
static bool
valid_month(const char *s)
{
	if (!s || strlen(s) != 7 || s[4] != '-')
		return false;
	int y = digits_value(s, 4), m = digits_value(s + 5, 2);
	return y >= 1900 && m >= 1 && m <= 12;
}

/* "YYYY-MM-DD" naming a day that exists: the daemon only checks that the day is 1..31. */
static bool
valid_date(const char *s)
{
	static const int month_days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (!s || strlen(s) != 10 || s[7] != '-')
		return false;
	char month[8];
	memcpy(month, s, 7);
	month[7] = '\0';
	if (!valid_month(month))
		return false;
	int y = digits_value(s, 4), m = digits_value(s + 5, 2), d = digits_value(s + 8, 2);
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return d >= 1 && d <= month_days[m - 1] + (m == 2 && leap ? 1 : 0);
}

/* "HH:MM", 00:00..23:59. */
static bool
valid_hhmm(const char *s)
{
	if (!s || strlen(s) != 5 || s[2] != ':')
		return false;
	int h = digits_value(s, 2), m = digits_value(s + 3, 2);
	return h >= 0 && h <= 23 && m >= 0 && m <= 59;
}

static int
check_date(const char *option, const char *v)
{
	if (!v || valid_date(v))
		return 0;
	return usage_errorf(_("invalid date '%s' for --%s: give a real date as YYYY-MM-DD"), v,
	                    option);
}

/* --- roster edits ------------------------------------------------------------------------ */

typedef struct StaffEditArgs {
	StaffArgs s;
	const char *pledge_date, *training_date;
} StaffEditArgs;

static int
staff_edit_option(int c, const char *value, void *userdata)
{
	static const OptValue values[] = {
		OPT_MEMBER(OPT_PLEDGE_DATE, StaffEditArgs, pledge_date),
		OPT_MEMBER(OPT_TRAINING_DATE, StaffEditArgs, training_date),
	};
	if (opt_value_set(values, sizeof(values) / sizeof(values[0]), c, value, userdata) == 0)
		return 0;
	StaffEditArgs *a = userdata;
	return staff_add_option(c, value, &a->s);
}

static int
cmd_staff_edit(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{ "name", required_argument, NULL, OPT_NAME },
		{ "affiliation", required_argument, NULL, OPT_AFFILIATION },
		{ "expertise", required_argument, NULL, OPT_EXPERTISE },
		{ "track-record", required_argument, NULL, OPT_TRACK_RECORD },
		{ "pledge-date", required_argument, NULL, OPT_PLEDGE_DATE },
		{ "training-date", required_argument, NULL, OPT_TRAINING_DATE },
		{ NULL, 0, NULL, 0 },
	};
	StaffEditArgs a = { 0 };
	const char *id = NULL;
	int r = parse_matching_id(argc, argv, opts, staff_edit_option, &a, &id);
	if (r)
		return r;
	/* A name or an affiliation may change but not become empty, as in staff add. */
	if ((r = check_text("name", a.s.name, 256, a.s.name != NULL)) ||
	    (r = check_text("affiliation", a.s.affiliation, 256, a.s.affiliation != NULL)) ||
	    (r = check_text("expertise", a.s.expertise, WIRE_MAX_TEXT, false)) ||
	    (r = check_text("track-record", a.s.track_record, WIRE_MAX_TEXT, false)) ||
	    (r = check_date("pledge-date", a.pledge_date)) ||
	    (r = check_date("training-date", a.training_date)))
		return r;
	if (!a.s.name && !a.s.affiliation && !a.s.expertise && !a.s.track_record &&
	    !a.pledge_date && !a.training_date)
		return usage_errorf(_("nothing to change: give at least one of --name, "
		                      "--affiliation, --expertise, --track-record, --pledge-date, "
		                      "--training-date"));

	json_object *params = params_string("matching_id", id);
	if (!params)
		return fail_nomem();
	const struct {
		const char *key, *value;
	} set[] = {
		{ "name", a.s.name },
		{ "affiliation", a.s.affiliation },
		{ "expertise", a.s.expertise },
		{ "track_record", a.s.track_record },
		{ "pledge_date", a.pledge_date },
		{ "training_date", a.training_date },
	};
	for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++)
		if (set[i].value)
			json_object_object_add(params, set[i].key,
			                       json_object_new_string(set[i].value));
	if ((r = params_check_utf8(params)))
		return r;

	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_query("io.biogate.EditStaff", params, NULL, &msg, &p);
	if (r != CTL_PRINT_TEXT)
		return r;
	_cleanup_(freep) char *cid = text_clean(id);
	printf(_("Updated %s on the roster.\n"), cid ? cid : "?");
	print_staff(p);
	return CTL_EXIT_OK;
}

static int
cmd_staff_unlock(int argc, char **argv)
{
	const char *id = NULL;
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	int r = matching_id_query(argc, argv, "io.biogate.Unlock", &id, &msg, &p);
	if (r != CTL_PRINT_TEXT)
		return r;
	print_line(_("Unlocked %s: the failed fingerprint attempts are cleared."),
	           jstr_or(p, "matching_id", id));
	return CTL_EXIT_OK;
}

/* --- the work schedule (R8) -------------------------------------------------------------- */

/*
 * The schedule file comes from a spreadsheet on the administrator's desk and is read as
 * hostile input by this one bounded parser: at most SCHED_MAX_FILE bytes and SCHED_MAX_ROWS
 * shifts, RFC 4180 quoting, CRLF or LF, an optional UTF-8 byte order mark and an optional
 * header row. The four fields are trimmed and then checked; columns after them are
 * ignored; nothing unchecked reaches the wire.
 */
#define SCHED_MAX_FILE (1024u * 1024u)
#define SCHED_MAX_ROWS 4096u
#define CSV_FIELDS     4
/* Longer than any valid field (a 64-byte ID); a longer one fails as soon as it is seen. */
#define CSV_MAX_FIELD 128

typedef struct Csv {
	const char *path; /* for messages */
	const char *p, *end;
	unsigned line; /* physical line of p, from 1 */
} Csv;

typedef struct CsvRecord {
	unsigned line; /* where the record starts */
	size_t n;      /* fields seen; only the first CSV_FIELDS are kept */
	char field[CSV_FIELDS][CSV_MAX_FIELD + 1];
} CsvRecord;

/* "biogatectl: FILE:LINE: message" (LINE 0: no line). */
static void
csv_verror(const char *path, unsigned line, const char *fmt, va_list ap)
{
	char *raw = NULL;
	if (vasprintf(&raw, fmt, ap) < 0) {
		(void)fail_nomem();
		return;
	}
	_cleanup_(freep) char *msg = text_clean(raw);
	_cleanup_(freep) char *where = text_clean(path);
	free(raw);
	if (line > 0)
		fprintf(stderr, "%s: %s:%u: %s\n", CTL_NAME, where ? where : "?", line,
		        msg ? msg : "?");
	else
		fprintf(stderr, "%s: %s: %s\n", CTL_NAME, where ? where : "?", msg ? msg : "?");
}

/* A bad schedule file is a usage error: the person fixes the file and runs it again. */
__attribute__((format(printf, 3, 4))) static int
csv_errorf(const char *path, unsigned line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	csv_verror(path, line, fmt, ap);
	va_end(ap);
	return CTL_EXIT_USAGE;
}

/* The same for the parser, whose functions return -1 after the message. */
__attribute__((format(printf, 3, 4))) static int
csv_fail(const char *path, unsigned line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	csv_verror(path, line, fmt, ap);
	va_end(ap);
	return -1;
}

/* A field as it may appear in a message: printable ASCII, at most 40 bytes. */
static void
csv_show(const char *s, char *buf, size_t size)
{
	size_t j = 0, n = strlen(s);
	for (size_t i = 0; i < n && j + 4 < size && i < 40; i++)
		buf[j++] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (n > 40 && j + 4 < size) {
		memcpy(buf + j, "...", 3);
		j += 3;
	}
	buf[j] = '\0';
}

static bool
csv_blank(char c)
{
	return c == ' ' || c == '\t';
}

static void
csv_trim(char *s)
{
	size_t n = strlen(s), i = 0;
	while (n > 0 && csv_blank(s[n - 1]))
		n--;
	while (i < n && csv_blank(s[i]))
		i++;
	memmove(s, s + i, n - i);
	s[n - i] = '\0';
}

/* Appends ch to the field being read. 0, or -1 after the message. */
static int
csv_put(Csv *c, CsvRecord *rec, char *buf, size_t *len, char ch)
{
	if (ch == '\0')
		return csv_fail(c->path, c->line,
		                _("the file contains a NUL byte; save it as CSV (UTF-8)"));
	if (*len >= CSV_MAX_FIELD)
		return csv_fail(c->path, rec->line, _("field %zu is longer than %d bytes"),
		                rec->n + 1, CSV_MAX_FIELD);
	buf[(*len)++] = ch;
	return 0;
}

/*
 * Reads the next record, skipping blank lines. 1 with *rec filled, 0 at the end of the
 * file, or -1 after the message (the usage exit code applies).
 */
static int
csv_next(Csv *c, CsvRecord *rec)
{
	for (;;) { /* blank lines */
		const char *q = c->p;
		while (q < c->end && csv_blank(*q))
			q++;
		if (q == c->end) {
			c->p = q;
			return 0;
		}
		if (*q == '\n' || (*q == '\r' && q + 1 < c->end && q[1] == '\n')) {
			c->p = q + (*q == '\r' ? 2 : 1);
			c->line++;
			continue;
		}
		break;
	}
	rec->line = c->line;
	rec->n = 0;
	for (;;) {
		char buf[CSV_MAX_FIELD + 1];
		size_t len = 0;
		while (c->p < c->end && csv_blank(*c->p))
			c->p++;
		if (c->p < c->end && *c->p == '"') {
			c->p++;
			for (;;) {
				if (c->p == c->end)
					return csv_fail(c->path, rec->line,
					                _("a quoted field is not closed"));
				char ch = *c->p++;
				if (ch == '"') {
					if (c->p < c->end && *c->p == '"')
						c->p++;
					else
						break;
				} else if (ch == '\n') {
					c->line++;
				}
				if (csv_put(c, rec, buf, &len, ch))
					return -1;
			}
			while (c->p < c->end && csv_blank(*c->p))
				c->p++;
			if (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r')
				return csv_fail(c->path, c->line,
				                _("text after the closing quote of field %zu"),
				                rec->n + 1);
		} else {
			while (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r') {
				if (*c->p == '"')
					return csv_fail(c->path, c->line,
					                _("a quote inside field %zu, which is not "
					                  "quoted; quote the whole field"),
					                rec->n + 1);
				if (csv_put(c, rec, buf, &len, *c->p++))
					return -1;
			}
		}
		buf[len] = '\0';
		if (rec->n < CSV_FIELDS) {
			memcpy(rec->field[rec->n], buf, len + 1);
			csv_trim(rec->field[rec->n]);
		}
		rec->n++;
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		break;
	}
	if (c->p < c->end && *c->p == '\r') {
		if (c->p + 1 == c->end || c->p[1] != '\n')
			return csv_fail(c->path, c->line,
			                _("a carriage return that does not end a line"));
		c->p++;
	}
	if (c->p < c->end) { /* '\n' */
		c->p++;
		c->line++;
	}
	return 1;
}

static int
sched_read_file(const char *path, char **ret, size_t *ret_len)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return csv_errorf(path, 0, _("cannot open the file: %s"), strerror(errno));
	char *buf = malloc(SCHED_MAX_FILE + 1);
	if (!buf) {
		fclose(f);
		return fail_nomem();
	}
	size_t n = fread(buf, 1, SCHED_MAX_FILE + 1, f);
	int err = ferror(f) ? errno : 0;
	fclose(f);
	if (err || n > SCHED_MAX_FILE) {
		free(buf);
		if (err)
			return csv_errorf(path, 0, _("cannot read the file: %s"), strerror(err));
		return csv_errorf(path, 0, _("the file is larger than 1 MiB"));
	}
	*ret = buf;
	*ret_len = n;
	return 0;
}

/* Checks one data row and appends it to shifts; month is set by the first row. */
static int
sched_row(const char *path, const CsvRecord *rec, char month[8], json_object *shifts)
{
	char show[64];
	const char *id = rec->field[0], *date = rec->field[1], *start = rec->field[2],
	           *end = rec->field[3];
	/* Further columns (a name, a note) are the spreadsheet's own and are not sent. */
	if (rec->n < CSV_FIELDS)
		return csv_errorf(path, rec->line,
		                  _("expected 4 fields (matching_id,date,start,end), found %zu"),
		                  rec->n);
	if (!wire_valid_id(id)) {
		csv_show(id, show, sizeof(show));
		return csv_errorf(path, rec->line,
		                  _("invalid matching ID '%s': IDs are 1 to %d letters, digits, "
		                    "'.', '_', '@' or '-', and do not start with '-' or '.'"),
		                  show, WIRE_MAX_ID);
	}
	if (!valid_date(date)) {
		csv_show(date, show, sizeof(show));
		return csv_errorf(path, rec->line,
		                  _("invalid date '%s': give a real date as YYYY-MM-DD"), show);
	}
	if (!valid_hhmm(start) || !valid_hhmm(end)) {
		csv_show(valid_hhmm(start) ? end : start, show, sizeof(show));
		return csv_errorf(path, rec->line,
		                  _("invalid time '%s': give the time as HH:MM, 00:00 to 23:59"),
		                  show);
	}
	if (strcmp(end, start) <= 0)
		return csv_errorf(path, rec->line,
		                  _("the shift ends at %s, not after it starts (%s)"), end, start);
	if (!month[0]) {
		memcpy(month, date, 7);
		month[7] = '\0';
	} else if (strncmp(month, date, 7) != 0) {
		/* TRANSLATORS: a date, its month, then the month of the rows above it. */
		return csv_errorf(path, rec->line,
		                  _("the date %s is in %.7s, but the rows above are in %s; "
		                    "import one month per file"),
		                  date, date, month);
	}
	json_object *o = json_object_new_object();
	if (!o)
		return fail_nomem();
	json_object_object_add(o, "matching_id", json_object_new_string(id));
	json_object_object_add(o, "date", json_object_new_string(date));
	json_object_object_add(o, "start", json_object_new_string(start));
	json_object_object_add(o, "end", json_object_new_string(end));
	if (json_object_array_add(shifts, o) < 0) {
		json_object_put(o);
		return fail_nomem();
	}
	return 0;
}

/*
 * Reads a schedule file into the ImportSchedule parameters {month, shifts}. 0 with *ret
 * set, or the exit code after the message.
 */
static int
sched_parse(const char *path, json_object **ret)
{
	_cleanup_(freep) char *data = NULL;
	size_t len = 0;
	int r = sched_read_file(path, &data, &len);
	if (r)
		return r;
	Csv c = { .path = path, .p = data, .end = data + len, .line = 1 };
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		c.p += 3;
	else if (len >= 2 && (memcmp(data, "\xff\xfe", 2) == 0 || memcmp(data, "\xfe\xff", 2) == 0))
		return csv_errorf(path, 0, _("the file is UTF-16 text; save it as CSV (UTF-8)"));

	_cleanup_(json_putp) json_object *shifts = json_object_new_array();
	if (!shifts)
		return fail_nomem();
	_cleanup_(freep) CsvRecord *rec = malloc(sizeof(*rec));
	if (!rec)
		return fail_nomem();
	char month[8] = "";
	size_t rows = 0;
	for (bool first = true;; first = false) {
		r = csv_next(&c, rec);
		if (r < 0)
			return CTL_EXIT_USAGE;
		if (r == 0)
			break;
		if (first && rec->n >= CSV_FIELDS &&
		    strcasecmp(rec->field[0], "matching_id") == 0 &&
		    strcasecmp(rec->field[1], "date") == 0 &&
		    strcasecmp(rec->field[2], "start") == 0 &&
		    strcasecmp(rec->field[3], "end") == 0)
			continue;
		if (rows == SCHED_MAX_ROWS)
			return csv_errorf(path, rec->line,
			                  _("more than %u shifts; one import takes at most %u"),
			                  SCHED_MAX_ROWS, SCHED_MAX_ROWS);
		if ((r = sched_row(path, rec, month, shifts)))
			return r;
		rows++;
	}
	if (rows == 0)
		return csv_errorf(path, 0, _("the file holds no shifts"));
	json_object *params = params_string("month", month);
	if (!params)
		return fail_nomem();
	json_object_object_add(params, "shifts", shifts);
	shifts = NULL;
	*ret = params;
	return 0;
}

static int
schedule_import_option(int c, const char *value, void *userdata)
{
	(void)value;
	if (c != OPT_DRY_RUN)
		return -1;
	*(bool *)userdata = true;
	return 0;
}

static int
cmd_schedule_import(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const names[] = { "FILE" };
	const char *path = NULL;
	bool dry_run = false;
	int r = parse_args(argc, argv, opts, schedule_import_option, &dry_run, names, &path, 1);
	if (r)
		return r;
	json_object *params = NULL;
	if ((r = sched_parse(path, &params)))
		return r;
	if (dry_run) {
		print_json(params);
		json_object_put(params);
		return CTL_EXIT_OK;
	}
	/* The daemon drops a connection whose message is over WIRE_MAX_MESSAGE; say why here
	 * rather than report a lost connection. 256 bytes cover the call's envelope. */
	size_t n = json_object_array_length(jarray(params, "shifts"));
	const char *s = json_object_to_json_string_ext(params, JSON_C_TO_STRING_PLAIN);
	if (!s || strlen(s) + 256 > WIRE_MAX_MESSAGE) {
		json_object_put(params);
		return csv_errorf(path, 0,
		                  _("%zu shifts are more than the biogate service takes in one "
		                    "request (%u bytes)"),
		                  n, WIRE_MAX_MESSAGE);
	}
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_query("io.biogate.ImportSchedule", params, NULL, &msg, &p);
	if (r != CTL_PRINT_TEXT)
		return r;
	int64_t count = 0;
	if (!jint(p, "shifts", &count) || count < 0)
		count = (int64_t)n;
	print_line(ngettext("Imported %lld shift for %s", "Imported %lld shifts for %s",
	                    (unsigned long)count),
	           (long long)count, jstr_or(p, "month", "?"));
	return CTL_EXIT_OK;
}

typedef struct ScheduleShowArgs {
	const char *month, *matching_id;
} ScheduleShowArgs;

static int
schedule_show_option(int c, const char *value, void *userdata)
{
	ScheduleShowArgs *a = userdata;
	if (c == OPT_MONTH)
		a->month = value;
	else if (c == OPT_MATCHING_ID)
		a->matching_id = value;
	else
		return -1;
	return 0;
}

/* One shift, for schedule show. */
static int
shift_row(Table *t, json_object *s)
{
	if (table_add(t, jstr(s, "date")) < 0 || table_add(t, jstr(s, "start")) < 0 ||
	    table_add(t, jstr(s, "end")) < 0 || table_add(t, jstr(s, "matching_id")) < 0)
		return -1;
	return 0;
}

static int
cmd_schedule_show(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{ "month", required_argument, NULL, OPT_MONTH },
		{ "matching-id", required_argument, NULL, OPT_MATCHING_ID },
		{ NULL, 0, NULL, 0 },
	};
	ScheduleShowArgs a = { 0 };
	int r = parse_args(argc, argv, opts, schedule_show_option, &a, NULL, NULL, 0);
	if (r)
		return r;
	if (a.month && !valid_month(a.month))
		return usage_errorf(_("invalid month '%s' for --month: give it as YYYY-MM"),
		                    a.month);
	if (a.matching_id && (r = check_id(ID_MATCHING, a.matching_id)))
		return r;
	json_object *params = json_object_new_object();
	if (!params)
		return fail_nomem();
	if (a.month)
		json_object_object_add(params, "month", json_object_new_string(a.month));
	if (a.matching_id)
		json_object_object_add(params, "matching_id",
		                       json_object_new_string(a.matching_id));
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_query("io.biogate.GetSchedule", params, NULL, &msg, &p);
	if (r != CTL_PRINT_TEXT)
		return r;
	const char *head[] = { _("DATE"), _("START"), _("END"), _("MATCHING ID") };
	return table_list(jarray(p, "shifts"), _("No shifts are scheduled."), head, 4, shift_row);
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
	const char *id = NULL, *finger = NULL;
	int r = parse_matching_id(argc, argv, opts, single_option, &finger, &id);
	if (r)
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

	json_object *params = params_string("matching_id", id);
	if (!params)
		return fail_nomem();
	json_object_object_add(params, "finger", json_object_new_string(finger));
	FILE *f = prompt_out();
	/* TRANSLATORS: the first %s is a finger ("right index finger"), the second a
	 * matching ID. */
	fprintf(f, _("Enrolling the %s of %s. Touch the reader with that finger.\n"),
	        finger_label(finger), id);
	fflush(f);

	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_query("io.biogate.Enroll", params, enroll_progress, &msg, &p);
	if (r != CTL_PRINT_TEXT)
		return r;
	const char *done_finger = jstr(p, "finger");
	/* TRANSLATORS: the first %s is a finger, the second a matching ID. */
	print_line(_("Enrolled the %s of %s."), finger_label(done_finger ? done_finger : finger),
	           jstr_or(p, "matching_id", id));
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

	json_object *params = params_string("matching_id", pos[0]);
	if (!params)
		return fail_nomem();
	json_object_object_add(params, "operator_id", json_object_new_string(pos[1]));
	json_object_object_add(params, "role", json_object_new_string(role));
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_query("io.biogate.GrantOperator", params, NULL, &msg, &p);
	if (r != CTL_PRINT_TEXT)
		return r;
	/* TRANSLATORS: operator ID, role, matching ID. */
	print_line(_("Granted operator ID %s (role %s) to %s."), jstr_or(p, "operator_id", pos[1]),
	           jstr_or(p, "role", role), jstr_or(p, "matching_id", pos[0]));
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
	const char *id = NULL;
	json_object *params = NULL;
	int r = matching_id_params(argc, argv, &id, &params);
	if (r)
		return r;
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
	print_line(_("The fingerprint matches %s."), jstr_or(p, "matching_id", id));
	return CTL_EXIT_OK;
}

/* One open session, for sessions. */
static int
session_row(Table *t, json_object *s)
{
	int64_t sid = 0, uid = -1;
	char ids[32] = "-", uids[32] = "-", opened[64];
	if (jint(s, "session_id", &sid))
		snprintf(ids, sizeof(ids), "%lld", (long long)sid);
	/* (uid_t)-1: the person's Unix user does not exist on this machine. */
	if (jint(s, "uid", &uid) && uid >= 0 && uid < UINT32_MAX)
		snprintf(uids, sizeof(uids), "%lld", (long long)uid);
	format_time(s, "opened_at", opened, sizeof(opened));
	if (table_add(t, ids) < 0 || table_add(t, jstr(s, "matching_id")) < 0 ||
	    table_add(t, jstr(s, "operator_id")) < 0 || table_add(t, uids) < 0 ||
	    table_add(t, jstr(s, "tty")) < 0 || table_add(t, jstr(s, "service")) < 0 ||
	    table_add(t, opened) < 0)
		return -1;
	return 0;
}

static int
cmd_sessions(int argc, char **argv)
{
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	int r = ctl_query_noargs(argc, argv, "io.biogate.ListSessions", &msg, &p);
	if (r != CTL_PRINT_TEXT)
		return r;
	const char *head[] = { _("SESSION"), _("MATCHING ID"), _("OPERATOR ID"), _("UID"),
		               _("TTY"),     _("SERVICE"),     _("OPENED AT") };
	return table_list(jarray(p, "sessions"), _("No sessions are open."), head, 7, session_row);
}

/* --- decisions and the caller's own session ---------------------------------------------- */

/* What each of the daemon's stable reasons (policy.h) means for the person at the counter. */
static const struct {
	const char *reason;
	const char *text;
} authorize_reasons[] = {
	{ "allowed", N_("The role of this session's operator ID permits this action.") },
	{ "no-session", N_("This command is not running inside a biogate login session, so it "
	                   "acts for no operator ID.") },
	{ "unknown-role", N_("The role of this session's operator ID is not in the policy.") },
	{ "action-not-permitted",
	  N_("The role of this session's operator ID does not permit this action.") },
	{ "admin-only", N_("Only the administrator role may do this.") },
	{ "key-required", N_("This action needs a search key (--key).") },
	{ "key-not-allowed", N_("This action does not take a search key.") },
	{ "key-invalid", N_("The search key is not an individual number: after removing spaces "
	                    "and hyphens it must be 12 digits.") },
	{ "key-check-digit", N_("The search key has 12 digits but a wrong check digit: it is not a "
	                        "valid individual number. Check the number you typed.") },
	{ "key-resident-record-code",
	  N_("The search key has 11 digits: it is a resident record code, not an individual "
	     "number. Searching by a resident record code is a violation, and this attempt has "
	     "been recorded.") },
	{ "key-corporate-number", N_("The search key has 13 digits: it is a corporate number, not "
	                             "an individual number.") },
};

static int
authorize_option(int c, const char *value, void *userdata)
{
	if (c != OPT_KEY)
		return -1;
	*(const char **)userdata = value;
	return 0;
}

static int
cmd_authorize(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{ "key", required_argument, NULL, OPT_KEY },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const names[] = { "ACTION" };
	const char *action = NULL, *key = NULL;
	int r = parse_args(argc, argv, opts, authorize_option, &key, names, &action, 1);
	if (r || (r = check_id(ID_ACTION, action)))
		return r;
	/* The key is a person's number: it is sent as given (the daemon normalizes it) and
	 * never appears in any output or message of this program. */
	if (key && strlen(key) > 256)
		return usage_errorf(_("the search key is too long (at most 256 bytes)"));

	json_object *params = params_string("action", action);
	if (!params)
		return fail_nomem();
	if (key)
		json_object_object_add(params, "key", json_object_new_string(key));
	if ((r = params_check_utf8(params)))
		return r;
	/* Shortens the time the number can be read from /proc/PID/cmdline: key points into
	 * argv (getopt's optarg), which is ours to write. */
	if (key)
		explicit_bzero((char *)(uintptr_t)key, strlen(key));

	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_call("io.biogate.Authorize", params, &msg, &p);
	if (r)
		return r;
	json_object_object_del(p, "key");
	json_object *allow = NULL;
	const char *reason = jstr(p, "reason");
	if (!json_object_object_get_ex(p, "allow", &allow) ||
	    !json_object_is_type(allow, json_type_boolean) || !reason)
		return ctl_fail_transport(-EBADMSG, NULL);
	bool allowed = json_object_get_boolean(allow);
	json_object *v = NULL;
	bool violation = json_object_object_get_ex(p, "violation", &v) &&
	                 json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
	if (arg.json) {
		print_json(p);
		return allowed ? CTL_EXIT_OK : CTL_EXIT_NEGATIVE;
	}
	/* "allow" and "deny: REASON" stay untranslated for scripts; the explanation follows. */
	_cleanup_(freep) char *clean_reason = text_clean(reason);
	if (allowed)
		puts("allow");
	else
		printf("deny: %s\n", clean_reason ? clean_reason : "?");
	const char *text = NULL;
	for (size_t i = 0; i < sizeof(authorize_reasons) / sizeof(authorize_reasons[0]); i++)
		if (strcmp(reason, authorize_reasons[i].reason) == 0)
			text = _(authorize_reasons[i].text);
	puts(text ? text : _("The biogate service gave a reason this version does not know."));
	if (violation && strcmp(reason, "key-resident-record-code") != 0)
		puts(_("This attempt has been recorded as a violation."));
	return allowed ? CTL_EXIT_OK : CTL_EXIT_NEGATIVE;
}

static void
format_session_id(json_object *p, char *buf, size_t size)
{
	int64_t sid = 0;
	if (jint(p, "session_id", &sid))
		snprintf(buf, size, "%lld", (long long)sid);
	else
		snprintf(buf, size, "-");
}

static int
cmd_whoami(int argc, char **argv)
{
	int r = parse_args(argc, argv, common_options, NULL, NULL, NULL, NULL, 0);
	if (r)
		return r;
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_call("io.biogate.WhoAmI", NULL, &msg, &p);
	if (r)
		return r;
	json_object *v = NULL;
	if (!json_object_object_get_ex(p, "in_session", &v) ||
	    !json_object_is_type(v, json_type_boolean))
		return ctl_fail_transport(-EBADMSG, NULL);
	bool in_session = json_object_get_boolean(v);
	if (arg.json) {
		print_json(p);
		return in_session ? CTL_EXIT_OK : CTL_EXIT_NEGATIVE;
	}
	if (!in_session) {
		puts(_("This command is not running inside a biogate login session."));
		return CTL_EXIT_NEGATIVE;
	}
	char sid[32];
	format_session_id(p, sid, sizeof(sid));
	Field f[] = {
		{ _("Session:"), text_clean(sid) },
		{ _("Matching ID:"), text_clean(jstr(p, "matching_id")) },
		{ _("Operator ID:"), text_clean(jstr(p, "operator_id")) },
		{ _("Role:"), text_clean(jstr(p, "role")) },
	};
	fields_print(f, sizeof(f) / sizeof(f[0]));
	return CTL_EXIT_OK;
}

/* lock and logoff: the caller's own session, found by the daemon from peer credentials. */
static int
own_session_call(int argc, char **argv, bool logoff)
{
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	int r = ctl_query_noargs(argc, argv, logoff ? "io.biogate.Logoff" : "io.biogate.Lock", &msg,
	                         &p);
	if (r != CTL_PRINT_TEXT)
		return r;
	char sid[32];
	format_session_id(p, sid, sizeof(sid));
	/* TRANSLATORS: %s is a session number. */
	printf(logoff ? _("Ended session %s.\n") : _("Locked session %s.\n"), sid);
	return CTL_EXIT_OK;
}

static int
cmd_lock(int argc, char **argv)
{
	return own_session_call(argc, argv, false);
}

static int
cmd_logoff(int argc, char **argv)
{
	return own_session_call(argc, argv, true);
}

/* --- two-person confirmation (R13) ------------------------------------------------------- */

/* The daemon takes at most two confirmers besides the caller (custody.c CONFIRM_MAX). */
#define CTL_CONFIRM_MAX 2

typedef struct ConfirmArgs {
	const char *ids[CTL_CONFIRM_MAX];
	size_t n;
} ConfirmArgs;

/* --confirm-by ID, repeatable: the people who confirm, in the order they touch the reader.
 * One person named twice is left to the daemon, which refuses it and records the attempt. */
static int
confirm_option(ConfirmArgs *a, const char *value)
{
	if (a->n == CTL_CONFIRM_MAX)
		return usage_errorf(_("--confirm-by may be given at most %d times"),
		                    CTL_CONFIRM_MAX);
	int r = check_id(ID_MATCHING, value);
	if (r)
		return r;
	a->ids[a->n++] = value;
	return 0;
}

static void
confirm_params(const ConfirmArgs *a, json_object *params)
{
	if (a->n == 0)
		return;
	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < a->n; i++)
		json_object_array_add(arr, json_object_new_string(a->ids[i]));
	json_object_object_add(params, "confirm_by", arr);
}

/* A confirmer's prompt, always on stderr: stdout may be a file or a document. */
static void
confirm_progress(json_object *p)
{
	const char *pr = jstr(p, "prompt");
	const char *who = jstr(p, "matching_id");
	if (!pr)
		return;
	if (who && !wire_valid_id(who))
		who = NULL;
	if (strcmp(pr, "place-finger") == 0) {
		if (who)
			/* TRANSLATORS: %s is the matching ID of the person who confirms. */
			fprintf(stderr, _("%s: place your finger on the reader\n"), who);
		else
			fprintf(stderr, "%s\n", _("Place your finger on the reader"));
	} else if (strcmp(pr, "retry") == 0) {
		if (who)
			/* TRANSLATORS: %s is the matching ID of the person who confirms. */
			fprintf(stderr,
			        _("%s: the finger was not read; place it on the reader again\n"),
			        who);
		else
			fprintf(stderr, "%s\n",
			        _("The finger was not read; place it on the reader again"));
	}
	fflush(stderr);
}

/* --- the audit trail (R5, R19) ------------------------------------------------------------- */

/* The verification's problems (audit_problem_name() in the daemon) for a person. */
static const struct {
	const char *problem;
	const char *text;
} audit_problems[] = {
	{ "bad-mac", N_("its content does not match its seal: the record was changed, or records "
	                "were swapped or inserted") },
	{ "gap", N_("it is missing: a record was deleted") },
	{ "out-of-order", N_("the records are out of order: records were reordered or inserted") },
	{ "truncated", N_("it and the records after it are missing: the newest records were "
	                  "dropped") },
	{ "bad-head", N_("the seal over the end of the trail does not verify") },
};

static int
cmd_audit_verify(int argc, char **argv)
{
	int r = parse_args(argc, argv, common_options, NULL, NULL, NULL, NULL, 0);
	if (r)
		return r;
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_call("io.biogate.AuditVerify", NULL, &msg, &p);
	if (r)
		return r;
	json_object *v = NULL;
	const char *problem = jstr(p, "problem");
	int64_t seq = 0, records = 0;
	if (!json_object_object_get_ex(p, "ok", &v) || !json_object_is_type(v, json_type_boolean) ||
	    !problem || !jint(p, "first_bad_seq", &seq) || !jint(p, "records", &records))
		return ctl_fail_transport(-EBADMSG, NULL);
	bool ok = json_object_get_boolean(v);
	if (arg.json) {
		print_json(p);
		return ok ? CTL_EXIT_OK : CTL_EXIT_NEGATIVE;
	}
	if (ok) {
		/* "ok" and "broken: PROBLEM" stay untranslated for scripts; the explanation
		 * follows. */
		puts("ok");
		printf(ngettext("The audit trail is intact: %lld record verified.\n",
		                "The audit trail is intact: %lld records verified.\n",
		                (unsigned long)records),
		       (long long)records);
		return CTL_EXIT_OK;
	}
	_cleanup_(freep) char *clean = text_clean(problem);
	printf("broken: %s\n", clean ? clean : "?");
	const char *text = NULL;
	for (size_t i = 0; i < sizeof(audit_problems) / sizeof(audit_problems[0]); i++)
		if (strcmp(problem, audit_problems[i].problem) == 0)
			text = _(audit_problems[i].text);
	/* TRANSLATORS: %lld is a record's sequence number, %s says what is wrong with it. */
	printf(_("The audit trail is broken at record %lld: %s.\n"), (long long)seq,
	       text ? text : _("the biogate service named a problem this version does not know"));
	json_object *rec = NULL;
	if (json_object_object_get_ex(p, "record", &rec) &&
	    json_object_is_type(rec, json_type_object)) {
		char when[64];
		int64_t rseq = 0;
		format_time(rec, "time", when, sizeof(when));
		puts(_("The first bad record as it is stored now:"));
		Field f[] = {
			{ _("Record:"), jint(rec, "seq", &rseq)
			                    ? clean_printf("%lld", (long long)rseq)
			                    : text_clean(NULL) },
			{ _("Time:"), text_clean(when) },
			{ _("Terminal:"), text_clean(jstr(rec, "terminal")) },
			{ _("Matching ID:"), text_clean(jstr(rec, "matching_id")) },
			{ _("Operator ID:"), text_clean(jstr(rec, "operator_id")) },
			{ _("Action:"), text_clean(jstr(rec, "action")) },
			{ _("Outcome:"), text_clean(jstr(rec, "outcome")) },
			{ _("Reason:"), text_clean(jstr(rec, "reason")) },
		};
		fields_print(f, sizeof(f) / sizeof(f[0]));
	}
	return CTL_EXIT_NEGATIVE;
}

typedef struct AuditArgs {
	const char *matching_id, *operator_id, *action, *outcome, *since, *until, *limit;
	const char *format, *output;
	ConfirmArgs confirm;
} AuditArgs;

static int
audit_option(int c, const char *value, void *userdata)
{
	static const OptValue values[] = {
		OPT_MEMBER(OPT_MATCHING_ID, AuditArgs, matching_id),
		OPT_MEMBER(OPT_OPERATOR_ID, AuditArgs, operator_id),
		OPT_MEMBER(OPT_ACTION, AuditArgs, action),
		OPT_MEMBER(OPT_OUTCOME, AuditArgs, outcome),
		OPT_MEMBER(OPT_SINCE, AuditArgs, since),
		OPT_MEMBER(OPT_UNTIL, AuditArgs, until),
		OPT_MEMBER(OPT_LIMIT, AuditArgs, limit),
		OPT_MEMBER(OPT_FORMAT, AuditArgs, format),
		OPT_MEMBER(OPT_OUTPUT, AuditArgs, output),
	};
	AuditArgs *a = userdata;
	if (c == OPT_CONFIRM_BY)
		return confirm_option(&a->confirm, value);
	return opt_value_set(values, sizeof(values) / sizeof(values[0]), c, value, userdata);
}

/* "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM" (also with a space), the terminal's local time, as
 * microseconds since the epoch; -1 when not a real date and time. */
static int64_t
parse_local_time(const char *s)
{
	char date[11], hhmm[6] = "00:00";
	size_t n = strlen(s);
	if (n != 10 && !(n == 16 && (s[10] == 'T' || s[10] == ' ')))
		return -1;
	memcpy(date, s, 10);
	date[10] = '\0';
	if (n == 16) {
		memcpy(hhmm, s + 11, 5);
		hhmm[5] = '\0';
	}
	if (!valid_date(date) || !valid_hhmm(hhmm))
		return -1;
	struct tm tm = { .tm_year = digits_value(date, 4) - 1900,
		         .tm_mon = digits_value(date + 5, 2) - 1,
		         .tm_mday = digits_value(date + 8, 2),
		         .tm_hour = digits_value(hhmm, 2),
		         .tm_min = digits_value(hhmm + 3, 2),
		         .tm_isdst = -1 };
	time_t t = mktime(&tm);
	if (t == (time_t)-1 || t < 0)
		return -1;
	return (int64_t)t * 1000000;
}

/* The filters of audit list and audit export as call parameters. 0 or an exit code. */
static int
audit_filter_params(const AuditArgs *a, int64_t max_limit, json_object *params)
{
	int r;
	if (a->matching_id && (r = check_id(ID_MATCHING, a->matching_id)))
		return r;
	if (a->operator_id && (r = check_id(ID_OPERATOR, a->operator_id)))
		return r;
	if (a->action && (r = check_id(ID_ACTION, a->action)))
		return r;
	if (a->outcome && (r = check_id(ID_ACTION, a->outcome)))
		return r;
	static const char *const names[] = { "matching_id", "operator_id", "action", "outcome" };
	const char *const vals[] = { a->matching_id, a->operator_id, a->action, a->outcome };
	for (size_t i = 0; i < 4; i++)
		if (vals[i])
			json_object_object_add(params, names[i], json_object_new_string(vals[i]));
	int64_t since = 0, until = 0;
	if (a->since && (since = parse_local_time(a->since)) < 0)
		return usage_errorf(_("invalid time '%s' for --%s: give YYYY-MM-DD or "
		                      "YYYY-MM-DDTHH:MM (local time)"),
		                    a->since, "since");
	if (a->until && (until = parse_local_time(a->until)) < 0)
		return usage_errorf(_("invalid time '%s' for --%s: give YYYY-MM-DD or "
		                      "YYYY-MM-DDTHH:MM (local time)"),
		                    a->until, "until");
	if (a->since && a->until && until <= since)
		return usage_errorf(_("--until must be later than --since"));
	if (a->since)
		json_object_object_add(params, "since", json_object_new_int64(since));
	if (a->until)
		json_object_object_add(params, "until", json_object_new_int64(until));
	if (a->limit) {
		char *end = NULL;
		errno = 0;
		long long v = strtoll(a->limit, &end, 10);
		if (errno || !end || end == a->limit || *end || v < 1 || v > max_limit)
			return usage_errorf(
			    _("invalid limit '%s': give a whole number from 1 to %lld"), a->limit,
			    (long long)max_limit);
		json_object_object_add(params, "limit", json_object_new_int64(v));
	}
	return 0;
}

/* clang-format off */
#define AUDIT_FILTER_OPTIONS \
	{ "matching-id", required_argument, NULL, OPT_MATCHING_ID }, \
	{ "operator-id", required_argument, NULL, OPT_OPERATOR_ID }, \
	{ "action", required_argument, NULL, OPT_ACTION }, \
	{ "outcome", required_argument, NULL, OPT_OUTCOME }, \
	{ "since", required_argument, NULL, OPT_SINCE }, \
	{ "until", required_argument, NULL, OPT_UNTIL }, \
	{ "limit", required_argument, NULL, OPT_LIMIT }
/* clang-format on */

/* Adds one row of an audit record to a table: the columns of audit list and search-key. */
static int
audit_table_row(Table *t, json_object *rec, bool with_seq)
{
	char seq[32], when[64];
	int64_t s = 0;
	if (jint(rec, "seq", &s))
		snprintf(seq, sizeof(seq), "%lld", (long long)s);
	else
		snprintf(seq, sizeof(seq), "-");
	format_time(rec, "time", when, sizeof(when));
	if ((with_seq && table_add(t, seq) < 0) || table_add(t, when) < 0 ||
	    table_add(t, jstr(rec, "terminal")) < 0 || table_add(t, jstr(rec, "matching_id")) < 0 ||
	    table_add(t, jstr(rec, "operator_id")) < 0 || table_add(t, jstr(rec, "action")) < 0 ||
	    table_add(t, jstr(rec, "outcome")) < 0 || table_add(t, jstr(rec, "reason")) < 0)
		return -ENOMEM;
	return 0;
}

static int
audit_table_print(json_object *records, bool with_seq)
{
	Table t = { .cols = with_seq ? 8 : 7 };
	const char *head[] = { _("SEQ"),         _("TIME"),   _("TERMINAL"), _("MATCHING ID"),
		               _("OPERATOR ID"), _("ACTION"), _("OUTCOME"),  _("REASON") };
	if (table_head(&t, head, with_seq ? 0 : 1, 8) < 0)
		goto nomem;
	for (size_t i = 0; i < json_object_array_length(records); i++)
		if (audit_table_row(&t, json_object_array_get_idx(records, i), with_seq) < 0)
			goto nomem;
	return table_finish(&t, true);
nomem:
	return table_finish(&t, false);
}

static int
cmd_audit_list(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		AUDIT_FILTER_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	AuditArgs a = { 0 };
	int r = parse_args(argc, argv, opts, audit_option, &a, NULL, NULL, 0);
	if (r)
		return r;
	json_object *params = json_object_new_object();
	if (!params)
		return fail_nomem();
	if ((r = audit_filter_params(&a, 1000, params))) {
		json_object_put(params);
		return r;
	}
	int64_t limit = 100;
	(void)jint(params, "limit", &limit);
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_call("io.biogate.AuditList", params, &msg, &p);
	if (r)
		return r;
	json_object *records = jarray(p, "records");
	if (!records)
		return ctl_fail_transport(-EBADMSG, NULL);
	json_object *tv = NULL;
	bool truncated = json_object_object_get_ex(p, "truncated", &tv) &&
	                 json_object_is_type(tv, json_type_boolean) && json_object_get_boolean(tv);
	size_t n = json_object_array_length(records);
	if (arg.json)
		print_json(records);
	else if (n == 0)
		puts(_("No audit records match."));
	else if ((r = audit_table_print(records, true)))
		return r;
	/* The oldest records come first: say so when more may follow. */
	if (truncated || (int64_t)n >= limit)
		fprintf(
		    stderr, "%s: %s\n", CTL_NAME,
		    _("more records may match: continue with --since after the last time shown, "
		      "or narrow the filters"));
	return CTL_EXIT_OK;
}

/*
 * A new file only, readable by its owner alone: exports and reports name people (R19). 0 with
 * *ret_fd, or the exit code after a message (6 when the file exists already: nothing is ever
 * overwritten).
 */
static int
output_create(const char *path, int *ret_fd)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		int err = errno;
		_cleanup_(freep) char *clean = text_clean(path);
		fprintf(stderr, "%s: ", CTL_NAME);
		fprintf(stderr, _("cannot create %s: %s\n"), clean ? clean : "?", strerror(err));
		return err == EEXIST ? CTL_EXIT_CONFLICT : CTL_EXIT_ERROR;
	}
	*ret_fd = fd;
	return 0;
}

/* Closes an output file; half a document must not pass for a whole one. */
static void
output_finish(const char *path, int fd, int r)
{
	if (!path)
		return;
	close(fd);
	if (r != CTL_EXIT_OK)
		(void)unlink(path);
}

/* The output could not be written (err, an errno value): says so; the exit code. */
static int
output_error(int err)
{
	fprintf(stderr, "%s: %s: %s\n", CTL_NAME, _("cannot write the output"), strerror(err));
	return CTL_EXIT_ERROR;
}

static int
write_all(int fd, const char *s, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, s, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		s += w;
		len -= (size_t)w;
	}
	return 0;
}

/*
 * The rest of a streamed document after the call was sent: {"chunk"} replies are written to
 * fd as they come, confirmers' prompts (when allowed) go to confirm_progress, and the final
 * reply is handed back (owned). No cap on the number of chunks (an export may be long): each
 * is bounded by the wire and must come within the timeout; max_bytes bounds the whole. With
 * clean, C0 controls other than line breaks and tabs become '?' byte for byte (a document
 * may go to a terminal). 0, or the exit code after a message.
 */
static int
stream_chunks(BgClient *c, int fd, bool prompts_ok, bool clean, uint64_t max_bytes,
              json_object **ret_final, uint64_t *ret_written)
{
	uint64_t written = 0;
	if (fd == STDOUT_FILENO)
		fflush(stdout);
	for (unsigned prompts = 0;;) {
		json_object *m = NULL;
		WireReply rep;
		int r = bg_recv(c, timeout_ms(true), &m, &rep);
		if (r < 0)
			return ctl_fail_transport(r, bg_socket_path(arg.socket));
		if (rep.error) {
			r = ctl_fail_reply(&rep);
			json_object_put(m);
			return r;
		}
		if (!rep.continues) {
			*ret_final = json_object_get(rep.parameters);
			*ret_written = written;
			json_object_put(m);
			return 0;
		}
		if (prompts_ok && jstr(rep.parameters, "prompt")) {
			if (++prompts > CTL_MAX_STREAM_REPLIES) {
				json_object_put(m);
				return ctl_fail_transport(-EBADMSG, NULL);
			}
			confirm_progress(rep.parameters);
			json_object_put(m);
			continue;
		}
		json_object *chunk = NULL;
		if (!json_object_object_get_ex(rep.parameters, "chunk", &chunk) ||
		    !json_object_is_type(chunk, json_type_string)) {
			json_object_put(m);
			return ctl_fail_transport(-EBADMSG, NULL);
		}
		const char *s = json_object_get_string(chunk);
		size_t len = (size_t)json_object_get_string_len(chunk);
		if (len > max_bytes - written) {
			json_object_put(m);
			return ctl_fail_transport(-EBADMSG, NULL);
		}
		_cleanup_(freep) char *copy = NULL;
		if (clean && len > 0) {
			copy = malloc(len);
			if (!copy) {
				json_object_put(m);
				return fail_nomem();
			}
			for (size_t i = 0; i < len; i++) {
				unsigned char ch = (unsigned char)s[i];
				copy[i] = (ch < 0x20 && ch != '\n' && ch != '\t') || ch == 0x7f
				              ? '?'
				              : (char)ch;
			}
			s = copy;
		}
		r = write_all(fd, s, len);
		json_object_put(m);
		if (r < 0)
			return output_error(-r);
		written += len;
	}
}

static int
cmd_audit_export(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		AUDIT_FILTER_OPTIONS,
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ "confirm-by", required_argument, NULL, OPT_CONFIRM_BY },
		{ NULL, 0, NULL, 0 },
	};
	AuditArgs a = { 0 };
	int r = parse_args(argc, argv, opts, audit_option, &a, NULL, NULL, 0);
	if (r)
		return r;
	if (!a.format)
		return usage_errorf(_("the option --%s is required"), "format");
	if (strcmp(a.format, "jsonl") != 0 && strcmp(a.format, "csv") != 0)
		return usage_errorf(_("unknown format '%s': use jsonl or csv"), a.format);
	if (a.output && !*a.output)
		return usage_errorf(_("the option --%s must not be empty"), "output");
	json_object *params = params_string("format", a.format);
	if (!params)
		return fail_nomem();
	if ((r = audit_filter_params(&a, INT64_MAX, params))) {
		json_object_put(params);
		return r;
	}
	confirm_params(&a.confirm, params);

	int fd = STDOUT_FILENO;
	if (a.output && (r = output_create(a.output, &fd))) {
		json_object_put(params);
		return r;
	}

	_cleanup_(bg_closep) BgClient *c = NULL;
	int64_t records = -1;
	uint64_t written = 0;
	json_object *final = NULL;
	r = ctl_send_stream("io.biogate.AuditExport", params, &c);
	if (r)
		goto done;
	/* Confirmers' prompts come first. */
	r = stream_chunks(c, fd, true, false, UINT64_MAX, &final, &written);
	if (r)
		goto done;
	if (!jint(final, "records", &records) || records < 0) {
		r = ctl_fail_transport(-EBADMSG, NULL);
		goto done;
	}
	if (a.output && fsync(fd) < 0) {
		r = output_error(errno);
		goto done;
	}
	r = CTL_EXIT_OK;
	if (arg.json && a.output) {
		json_object_object_add(final, "output", json_object_new_string(a.output));
		print_json(final);
	} else if (!arg.json) {
		fputs(CTL_NAME ": ", stderr);
		fprintf(stderr,
		        ngettext("exported %lld audit record\n", "exported %lld audit records\n",
		                 (unsigned long)records),
		        (long long)records);
	}
done:
	json_object_put(final);
	output_finish(a.output, fd, r);
	return r;
}

/* A key read from stdin: one line, at most 256 bytes. 0, or an exit code after a message. */
static int
read_key_stdin(char *buf, size_t size)
{
	size_t n = 0;
	int ch;
	while ((ch = getchar()) != EOF && ch != '\n') {
		if (n + 1 >= size) {
			explicit_bzero(buf, size);
			return usage_errorf(_("the search key is too long (at most 256 bytes)"));
		}
		buf[n++] = (char)ch;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	if (n == 0)
		return usage_errorf(_("no search key on standard input"));
	return 0;
}

static int
cmd_audit_search_key(int argc, char **argv)
{
	static const char *const names[] = { "KEY" };
	const char *key = NULL;
	int r = parse_args(argc, argv, common_options, NULL, NULL, names, &key, 1);
	if (r)
		return r;
	/* The number is a person's: never printed, wiped from our memory and arguments as soon
	 * as it is in the call ("-" reads it from stdin, out of sight of ps). */
	char buf[258];
	if (strcmp(key, "-") == 0) {
		if ((r = read_key_stdin(buf, sizeof(buf))))
			return r;
		key = buf;
	} else if (strlen(key) > 256) {
		return usage_errorf(_("the search key is too long (at most 256 bytes)"));
	}
	json_object *params = params_string("key", key);
	if (!params)
		return fail_nomem();
	explicit_bzero((char *)(uintptr_t)key, strlen(key));
	if ((r = params_check_utf8(params)))
		return r;
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_call("io.biogate.AuditSearchKey", params, &msg, &p);
	if (r)
		return r;
	json_object *v = NULL;
	json_object *records = jarray(p, "records");
	if (!json_object_object_get_ex(p, "searched", &v) ||
	    !json_object_is_type(v, json_type_boolean) || !records)
		return ctl_fail_transport(-EBADMSG, NULL);
	bool searched = json_object_get_boolean(v);
	if (arg.json) {
		print_json(p);
		return searched ? CTL_EXIT_OK : CTL_EXIT_NEGATIVE;
	}
	const char *kc = jstr(p, "key_class");
	if (kc && strcmp(kc, "invalid") == 0) {
		puts("not searched");
		puts(_("The key is not a number of 11 to 13 digits, so no search could have used "
		       "it."));
		return CTL_EXIT_NEGATIVE;
	}
	if (!searched) {
		/* "searched" and "not searched" stay untranslated for scripts. */
		puts("not searched");
		puts(_("No search on this terminal used this number."));
		return CTL_EXIT_NEGATIVE;
	}
	size_t n = json_object_array_length(records);
	puts("searched");
	printf(ngettext("This number was used in %zu search:\n",
	                "This number was used in %zu searches:\n", (unsigned long)n),
	       n);
	if ((r = audit_table_print(records, false)))
		return r;
	json_object *tv = NULL;
	if (json_object_object_get_ex(p, "truncated", &tv) && json_object_get_boolean(tv))
		fprintf(stderr, "%s: %s\n", CTL_NAME,
		        _("more searches used this number than one answer can show"));
	return CTL_EXIT_OK;
}

/* --- revocation, nationality, the roster history (R4, R6, R7) ----------------------------- */

typedef struct RevokeArgs {
	const char *reason;
	ConfirmArgs confirm;
} RevokeArgs;

static int
revoke_option(int c, const char *value, void *userdata)
{
	RevokeArgs *a = userdata;
	if (c == OPT_REASON) {
		a->reason = value;
		return 0;
	}
	if (c == OPT_CONFIRM_BY)
		return confirm_option(&a->confirm, value);
	return -1;
}

static int
cmd_revoke(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{ "reason", required_argument, NULL, OPT_REASON },
		{ "confirm-by", required_argument, NULL, OPT_CONFIRM_BY },
		{ NULL, 0, NULL, 0 },
	};
	RevokeArgs a = { 0 };
	const char *id = NULL;
	int r = parse_matching_id(argc, argv, opts, revoke_option, &a, &id);
	if (r)
		return r;
	if (!a.reason)
		return usage_errorf(_("the option --%s is required"), "reason");
	if (strcmp(a.reason, "departed") != 0 && strcmp(a.reason, "transferred") != 0)
		return usage_errorf(_("unknown reason '%s': use departed or transferred"),
		                    a.reason);

	json_object *params = params_string("matching_id", id);
	if (!params)
		return fail_nomem();
	json_object_object_add(params, "reason", json_object_new_string(a.reason));
	confirm_params(&a.confirm, params);
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	/* Always with "more": the policy may ask for confirmers, who are prompted in turn. */
	r = ctl_query("io.biogate.Revoke", params, confirm_progress, &msg, &p);
	if (r != CTL_PRINT_TEXT)
		return r;
	int64_t erased = -1, ended = -1;
	(void)jint(p, "templates_erased", &erased);
	(void)jint(p, "sessions_ended", &ended);
	/* TRANSLATORS: a matching ID, then the reason ("departed" or "transferred"). */
	print_line(_("Revoked %s (%s): the fingerprints are erased and the IDs no longer "
	             "work."),
	           jstr_or(p, "matching_id", id), word_label(a.reason));
	Field f[] = {
		{ _("Templates erased:"),
		  erased >= 0 ? clean_printf("%lld", (long long)erased) : text_clean(NULL) },
		{ _("Sessions ended:"),
		  ended >= 0 ? clean_printf("%lld", (long long)ended) : text_clean(NULL) },
	};
	fields_print(f, sizeof(f) / sizeof(f[0]));
	return CTL_EXIT_OK;
}

typedef struct NationalityArgs {
	const char *purpose;
	ConfirmArgs confirm;
} NationalityArgs;

static int
nationality_option(int c, const char *value, void *userdata)
{
	NationalityArgs *a = userdata;
	if (c == OPT_PURPOSE) {
		a->purpose = value;
		return 0;
	}
	if (c == OPT_CONFIRM_BY)
		return confirm_option(&a->confirm, value);
	return -1;
}

/* Characters (UTF-8 code points) of s without the blanks at either end. */
static size_t
text_chars_trimmed(const char *s)
{
	size_t n = strlen(s), i = 0, chars = 0;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	for (; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			chars++;
	return chars;
}

#define CTL_PURPOSE_MIN_CHARS 4

static int
cmd_staff_nationality(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{ "purpose", required_argument, NULL, OPT_PURPOSE },
		{ "confirm-by", required_argument, NULL, OPT_CONFIRM_BY },
		{ NULL, 0, NULL, 0 },
	};
	NationalityArgs a = { 0 };
	const char *id = NULL;
	int r = parse_matching_id(argc, argv, opts, nationality_option, &a, &id);
	if (r || (r = check_text("purpose", a.purpose, 256, true)))
		return r;
	/* The purpose is what makes the read lawful (R7): it must say something. */
	if (text_chars_trimmed(a.purpose) < CTL_PURPOSE_MIN_CHARS)
		return usage_errorf(_("the purpose must say why the nationality is read, in at "
		                      "least %d characters"),
		                    CTL_PURPOSE_MIN_CHARS);

	json_object *params = params_string("matching_id", id);
	if (!params)
		return fail_nomem();
	json_object_object_add(params, "purpose", json_object_new_string(a.purpose));
	confirm_params(&a.confirm, params);
	if ((r = params_check_utf8(params)))
		return r;
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_call_stream("io.biogate.StaffNationality", params, confirm_progress, &msg, &p);
	if (r)
		return r;
	const char *who = jstr(p, "matching_id"), *nat = jstr(p, "nationality");
	if (!nat)
		return ctl_fail_transport(-EBADMSG, NULL);
	if (arg.json) {
		/* These two fields and nothing else, whatever else the reply may carry. */
		_cleanup_(json_putp) json_object *o = json_object_new_object();
		if (!o)
			return fail_nomem();
		json_object_object_add(o, "matching_id", json_object_new_string(who ? who : id));
		json_object_object_add(o, "nationality", json_object_new_string(nat));
		print_json(o);
		return CTL_EXIT_OK;
	}
	Field f[] = {
		{ _("Matching ID:"), text_clean(who ? who : id) },
		{ _("Nationality:"), text_clean(nat) },
	};
	fields_print(f, sizeof(f) / sizeof(f[0]));
	fprintf(stderr, "%s: %s\n", CTL_NAME,
	        _("this read is recorded in the audit trail with its purpose"));
	return CTL_EXIT_OK;
}

/* The roster fields the history names, for a person. */
static const char *
history_field_label(const char *field)
{
	static const struct {
		const char *field;
		const char *label;
	} fields[] = {
		{ "created", N_("registered") },
		{ "name", N_("name") },
		{ "affiliation", N_("affiliation") },
		{ "expertise", N_("expertise") },
		{ "track_record", N_("track record") },
		{ "unix_user", N_("Unix user") },
		{ "pledge_date", N_("pledge date") },
		{ "training_date", N_("training date") },
		{ "state", N_("state") },
	};
	for (size_t i = 0; field && i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strcmp(field, fields[i].field) == 0)
			return _(fields[i].label);
	return field ? field : "-";
}

/* One value of the history as a person reads it: dates are stored as YYYYMMDD. */
static void
history_value(const char *field, const char *v, char *buf, size_t size)
{
	bool date =
	    field && (strcmp(field, "pledge_date") == 0 || strcmp(field, "training_date") == 0);
	if (!v)
		snprintf(buf, size, "-");
	else if (date && strlen(v) == 8 && digits_value(v, 8) >= 0)
		snprintf(buf, size, "%.4s-%.2s-%.2s", v, v + 4, v + 6);
	else if (field && strcmp(field, "state") == 0)
		snprintf(buf, size, "%s", word_label(v));
	else
		snprintf(buf, size, "%s", v);
}

/* One recorded change, for staff history. */
static int
history_row(Table *t, json_object *h)
{
	const char *field = jstr(h, "field");
	char when[64], from[WIRE_MAX_TEXT + 16], to[WIRE_MAX_TEXT + 16];
	format_time(h, "at", when, sizeof(when));
	history_value(field, jstr(h, "old"), from, sizeof(from));
	history_value(field, jstr(h, "new"), to, sizeof(to));
	bool created = field && strcmp(field, "created") == 0;
	_cleanup_(freep) char *change = NULL;
	if (!created && asprintf(&change, "%s → %s", from, to) < 0)
		return -1;
	if (table_add(t, when) < 0 || table_add(t, jstr(h, "actor")) < 0 ||
	    table_add(t, history_field_label(field)) < 0 ||
	    table_add(t, created ? "-" : change) < 0)
		return -1;
	return 0;
}

static int
cmd_staff_history(int argc, char **argv)
{
	const char *id = NULL;
	json_object *params = NULL;
	int r = matching_id_params(argc, argv, &id, &params);
	if (r)
		return r;
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_call("io.biogate.StaffHistory", params, &msg, &p);
	if (r)
		return r;
	json_object *history = jarray(p, "history");
	if (!history)
		return ctl_fail_transport(-EBADMSG, NULL);
	if (arg.json) {
		print_json(p);
		return CTL_EXIT_OK;
	}
	const char *head[] = { _("TIME"), _("BY"), _("FIELD"), _("CHANGE") };
	return table_list(history, _("No changes are recorded for this person."), head, 4,
	                  history_row);
}

/* --- disposal at the end of the contract (R16) ------------------------------------------- */

/* What the daemon says it erased (store.c's names), for a person. */
static const char *
erased_label(const char *what)
{
	static const struct {
		const char *what;
		const char *label;
	} labels[] = {
		{ "templates", N_("fingerprint templates") },
		{ "roster", N_("roster entries") },
		{ "roster history", N_("roster history entries") },
		{ "schedule", N_("shifts") },
		{ "failed matches", N_("failed matches") },
	};
	for (size_t i = 0; what && i < sizeof(labels) / sizeof(labels[0]); i++)
		if (strcmp(what, labels[i].what) == 0)
			return _(labels[i].label);
	return what ? what : "?";
}

/* "fingerprint templates 3, roster entries 4, ..." or "-". */
static char *
erased_text(json_object *result)
{
	if (!result || !json_object_is_type(result, json_type_object))
		return text_clean(NULL);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	size_t done = 0;
	json_object_object_foreach(result, key, val)
	{
		if (!json_object_is_type(val, json_type_int))
			continue;
		fprintf(f, "%s%s %lld", done++ ? ", " : "", erased_label(key),
		        (long long)json_object_get_int64(val));
	}
	if (done == 0)
		fputs("-", f);
	return memstream_clean(f, &buf);
}

static void
print_disposal(json_object *p)
{
	char planned_at[64], approved_at[64], executed_at[64];
	int64_t id = 0, count = -1;
	format_time(p, "planned_at", planned_at, sizeof(planned_at));
	format_time(p, "approved_at", approved_at, sizeof(approved_at));
	format_time(p, "executed_at", executed_at, sizeof(executed_at));
	json_object *result = NULL;
	(void)json_object_object_get_ex(p, "result", &result);
	Field f[] = {
		{ _("Disposal:"), jint(p, "disposal_id", &id) ? clean_printf("%lld", (long long)id)
		                                              : text_clean(NULL) },
		{ _("State:"), text_clean(word_label(jstr(p, "state"))) },
		{ _("Items:"), text_clean(jstr(p, "items")) },
		{ _("Media:"), text_clean(jstr(p, "media")) },
		{ _("Count:"), jint(p, "count", &count) && count >= 0
		                   ? clean_printf("%lld", (long long)count)
		                   : text_clean(NULL) },
		{ _("Method:"), text_clean(jstr(p, "method")) },
		{ _("Planned date:"), text_clean(jstr(p, "planned_date")) },
		{ _("Planned by:"), text_clean(jstr(p, "planned_by")) },
		{ _("Planned at:"), text_clean(planned_at) },
		{ _("Approved by:"), text_clean(jstr(p, "approved_by")) },
		{ _("Approved at:"), text_clean(approved_at) },
		{ _("Executed by:"), text_clean(jstr(p, "executed_by")) },
		{ _("Executed at:"), text_clean(executed_at) },
		{ _("Erased:"), erased_text(result) },
	};
	fields_print(f, sizeof(f) / sizeof(f[0]));
}

typedef struct DisposalArgs {
	const char *items, *media, *count, *method, *date;
	const char *format, *output;
	ConfirmArgs confirm;
} DisposalArgs;

static int
disposal_option(int c, const char *value, void *userdata)
{
	static const OptValue values[] = {
		OPT_MEMBER(OPT_ITEMS, DisposalArgs, items),
		OPT_MEMBER(OPT_MEDIA, DisposalArgs, media),
		OPT_MEMBER(OPT_COUNT, DisposalArgs, count),
		OPT_MEMBER(OPT_METHOD, DisposalArgs, method),
		OPT_MEMBER(OPT_DATE, DisposalArgs, date),
		OPT_MEMBER(OPT_FORMAT, DisposalArgs, format),
		OPT_MEMBER(OPT_OUTPUT, DisposalArgs, output),
	};
	DisposalArgs *a = userdata;
	if (c == OPT_CONFIRM_BY)
		return confirm_option(&a->confirm, value);
	return opt_value_set(values, sizeof(values) / sizeof(values[0]), c, value, userdata);
}

/* The daemon's bound on a plan's count (custody.c custody_disposal_plan_fields). */
#define CTL_DISPOSAL_MAX_COUNT 1000000000LL

static int
cmd_disposal_plan(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{ "items", required_argument, NULL, OPT_ITEMS },
		{ "media", required_argument, NULL, OPT_MEDIA },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "method", required_argument, NULL, OPT_METHOD },
		{ "date", required_argument, NULL, OPT_DATE },
		{ NULL, 0, NULL, 0 },
	};
	DisposalArgs a = { 0 };
	int r = parse_args(argc, argv, opts, disposal_option, &a, NULL, NULL, 0);
	if (r || (r = check_text("items", a.items, 256, true)) ||
	    (r = check_text("media", a.media, 256, true)) ||
	    (r = check_text("count", a.count, 32, true)) ||
	    (r = check_text("method", a.method, 256, true)) ||
	    (r = check_text("date", a.date, 10, true)) || (r = check_date("date", a.date)))
		return r;
	char *end = NULL;
	errno = 0;
	long long count = strtoll(a.count, &end, 10);
	if (errno || !end || end == a.count || *end || a.count[0] == '+' || a.count[0] == '-' ||
	    count < 0 || count > CTL_DISPOSAL_MAX_COUNT)
		return usage_errorf(_("invalid count '%s': give a whole number from 0 to %lld"),
		                    a.count, CTL_DISPOSAL_MAX_COUNT);

	json_object *params = params_string("items", a.items);
	if (!params)
		return fail_nomem();
	json_object_object_add(params, "media", json_object_new_string(a.media));
	json_object_object_add(params, "count", json_object_new_int64(count));
	json_object_object_add(params, "method", json_object_new_string(a.method));
	json_object_object_add(params, "planned_date", json_object_new_string(a.date));
	if ((r = params_check_utf8(params)))
		return r;
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_query("io.biogate.DisposalPlan", params, NULL, &msg, &p);
	if (r != CTL_PRINT_TEXT)
		return r;
	int64_t id = 0;
	(void)jint(p, "disposal_id", &id);
	/* TRANSLATORS: %lld is the disposal's number. */
	printf(_("Planned disposal %lld; it needs approval (disposal approve %lld) before it can "
	         "be executed.\n"),
	       (long long)id, (long long)id);
	print_disposal(p);
	return CTL_EXIT_OK;
}

/* A disposal's number: 1..INT64_MAX. */
static int
parse_disposal_id(const char *s, int64_t *ret)
{
	char *end = NULL;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || !end || end == s || *end || s[0] == '+' || s[0] == '-' || v < 1)
		return usage_errorf(_("invalid disposal number '%s': give a whole number from 1"),
		                    s);
	*ret = v;
	return 0;
}

static const struct option disposal_id_options[] = {
	COMMON_OPTIONS,
	{ "confirm-by", required_argument, NULL, OPT_CONFIRM_BY },
	{ NULL, 0, NULL, 0 },
};

/* disposal approve and execute: one number, the disposal object back. */
static int
disposal_step(int argc, char **argv, bool approve)
{
	static const char *const names[] = { "ID" };
	DisposalArgs a = { 0 };
	const char *pos = NULL;
	int64_t id = 0;
	int r = parse_args(argc, argv, approve ? disposal_id_options : common_options,
	                   disposal_option, &a, names, &pos, 1);
	if (r || (r = parse_disposal_id(pos, &id)))
		return r;
	json_object *params = json_object_new_object();
	if (!params)
		return fail_nomem();
	json_object_object_add(params, "disposal_id", json_object_new_int64(id));
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	if (approve) {
		confirm_params(&a.confirm, params);
		r = ctl_call_stream("io.biogate.DisposalApprove", params, confirm_progress, &msg,
		                    &p);
	} else {
		r = ctl_call("io.biogate.DisposalExecute", params, &msg, &p);
	}
	if (r)
		return r;
	if (arg.json) {
		print_json(p);
		return CTL_EXIT_OK;
	}
	if (approve)
		/* TRANSLATORS: %lld is the disposal's number. */
		printf(_("Approved disposal %lld.\n"), (long long)id);
	else
		/* TRANSLATORS: %lld is the disposal's number. */
		printf(_("Executed disposal %lld: the personal data on this terminal is erased; "
		         "the audit trail is kept.\n"),
		       (long long)id);
	print_disposal(p);
	return CTL_EXIT_OK;
}

static int
cmd_disposal_approve(int argc, char **argv)
{
	return disposal_step(argc, argv, true);
}

static int
cmd_disposal_execute(int argc, char **argv)
{
	return disposal_step(argc, argv, false);
}

/* A document from the daemon, as text: no control characters but line breaks and tabs. */
static void
document_clean(char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			*s = '?';
	}
}

static int
cmd_disposal_report(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const names[] = { "ID" };
	DisposalArgs a = { 0 };
	const char *pos = NULL;
	int64_t id = 0;
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	_cleanup_(freep) char *text = NULL;
	int r = parse_args(argc, argv, opts, disposal_option, &a, names, &pos, 1);
	if (r || (r = parse_disposal_id(pos, &id)))
		return r;
	if (a.format && strcmp(a.format, "json") != 0 && strcmp(a.format, "html") != 0)
		return usage_errorf(_("unknown format '%s': use json or html"), a.format);
	if (a.output && !*a.output)
		return usage_errorf(_("the option --%s must not be empty"), "output");
	if (a.output && !a.format)
		return usage_errorf(_("--output needs --format json or --format html"));

	int fd = STDOUT_FILENO;
	if (a.output && (r = output_create(a.output, &fd)))
		return r;
	json_object *params = json_object_new_object();
	if (!params) {
		r = fail_nomem();
		goto done;
	}
	json_object_object_add(params, "disposal_id", json_object_new_int64(id));
	bool html = a.format && strcmp(a.format, "html") == 0;
	if (a.format)
		json_object_object_add(params, "format", json_object_new_string(a.format));
	r = ctl_call("io.biogate.DisposalReport", params, &msg, &p);
	if (r)
		goto done;
	if (!a.format) {
		if (arg.json)
			print_json(p);
		else
			print_disposal(p);
		goto done;
	}
	if (html) {
		const char *doc = jstr(p, "document");
		if (!doc) {
			r = ctl_fail_transport(-EBADMSG, NULL);
			goto done;
		}
		text = strdup(doc);
		if (text)
			document_clean(text);
	} else {
		const char *j = json_object_to_json_string_ext(
		    p, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
		           JSON_C_TO_STRING_NOSLASHESCAPE);
		if (j && asprintf(&text, "%s\n", j) < 0)
			text = NULL;
	}
	if (!text) {
		r = fail_nomem();
		goto done;
	}
	if (fd == STDOUT_FILENO)
		fflush(stdout);
	int w = write_all(fd, text, strlen(text));
	if (w == 0 && a.output && fsync(fd) < 0)
		w = -errno;
	if (w < 0) {
		r = output_error(-w);
		goto done;
	}
	if (a.output && arg.json) {
		_cleanup_(json_putp) json_object *o = json_object_new_object();
		if (o) {
			json_object_object_add(o, "disposal_id", json_object_new_int64(id));
			json_object_object_add(o, "format", json_object_new_string(a.format));
			json_object_object_add(o, "output", json_object_new_string(a.output));
			print_json(o);
		}
	} else if (a.output) {
		_cleanup_(freep) char *path = text_clean(a.output);
		fprintf(stderr, "%s: ", CTL_NAME);
		/* TRANSLATORS: %lld is the disposal's number, %s a file name. */
		fprintf(stderr, _("wrote the report of disposal %lld to %s\n"), (long long)id,
		        path ? path : "?");
	}
	r = CTL_EXIT_OK;
done:
	output_finish(a.output, fd, r);
	return r;
}

/* --- the room log (R14) -------------------------------------------------------------------- */

/* The daemon's limit for what a visitor says about themselves (daemon/room.c). */
#define ROOM_TEXT_MAX 128

typedef struct RoomArgs {
	const char *name, *affiliation, *purpose, *date;
} RoomArgs;

static int
room_option(int c, const char *value, void *userdata)
{
	static const OptValue values[] = {
		OPT_MEMBER(OPT_NAME, RoomArgs, name),
		OPT_MEMBER(OPT_AFFILIATION, RoomArgs, affiliation),
		OPT_MEMBER(OPT_PURPOSE, RoomArgs, purpose),
		OPT_MEMBER(OPT_DATE, RoomArgs, date),
	};
	return opt_value_set(values, sizeof(values) / sizeof(values[0]), c, value, userdata);
}

static int
cmd_room_enter(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{ "name", required_argument, NULL, OPT_NAME },
		{ "affiliation", required_argument, NULL, OPT_AFFILIATION },
		{ "purpose", required_argument, NULL, OPT_PURPOSE },
		{ NULL, 0, NULL, 0 },
	};
	RoomArgs a = { 0 };
	int r = parse_args(argc, argv, opts, room_option, &a, NULL, NULL, 0);
	if (r || (r = check_text("name", a.name, ROOM_TEXT_MAX, true)) ||
	    (r = check_text("affiliation", a.affiliation, ROOM_TEXT_MAX, true)) ||
	    (r = check_text("purpose", a.purpose, ROOM_TEXT_MAX, true)))
		return r;
	json_object *params = params_string("name", a.name);
	if (!params)
		return fail_nomem();
	json_object_object_add(params, "affiliation", json_object_new_string(a.affiliation));
	json_object_object_add(params, "purpose", json_object_new_string(a.purpose));
	if ((r = params_check_utf8(params)))
		return r;
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_call("io.biogate.RoomEnter", params, &msg, &p);
	if (r)
		return r;
	int64_t id = 0;
	if (!jint(p, "entry_id", &id) || id < 1)
		return ctl_fail_transport(-EBADMSG, NULL);
	if (arg.json)
		print_json(p);
	else
		/* TRANSLATORS: %lld is the entry's number, needed later for "room leave". */
		printf(_("Entered in the room log as entry %lld (on leaving: biogatectl room leave "
		         "%lld).\n"),
		       (long long)id, (long long)id);
	return CTL_EXIT_OK;
}

static int
parse_entry_id(const char *s, int64_t *ret)
{
	char *end = NULL;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || !end || end == s || *end || s[0] == '+' || s[0] == '-' || v < 1)
		return usage_errorf(_("invalid entry number '%s': give a whole number from 1"), s);
	*ret = v;
	return 0;
}

static int
cmd_room_leave(int argc, char **argv)
{
	static const char *const names[] = { "ENTRY_ID" };
	const char *pos = NULL;
	int64_t id = 0;
	int r = parse_args(argc, argv, common_options, NULL, NULL, names, &pos, 1);
	if (r || (r = parse_entry_id(pos, &id)))
		return r;
	json_object *params = json_object_new_object();
	if (!params)
		return fail_nomem();
	json_object_object_add(params, "entry_id", json_object_new_int64(id));
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_query("io.biogate.RoomLeave", params, NULL, &msg, &p);
	if (r != CTL_PRINT_TEXT)
		return r;
	/* TRANSLATORS: %lld is the entry's number. */
	printf(_("Recorded the leaving of entry %lld.\n"), (long long)id);
	return CTL_EXIT_OK;
}

static int
room_table_row(Table *t, json_object *e)
{
	char id[32], in[64], out[64];
	int64_t v = 0;
	if (jint(e, "entry_id", &v))
		snprintf(id, sizeof(id), "%lld", (long long)v);
	else
		snprintf(id, sizeof(id), "-");
	format_time(e, "entered_at", in, sizeof(in));
	format_time(e, "left_at", out, sizeof(out));
	json_object *sv = NULL;
	bool staff = json_object_object_get_ex(e, "staff", &sv) &&
	             json_object_is_type(sv, json_type_boolean) && json_object_get_boolean(sv);
	/* A staff entry names the person from the roster; after disposal only the ID is left. */
	_cleanup_(freep) char *name = NULL;
	const char *mid = jstr(e, "matching_id");
	if (staff && mid && jstr(e, "name")) {
		if (asprintf(&name, "%s (%s)", jstr(e, "name"), mid) < 0)
			name = NULL;
		if (!name)
			return -ENOMEM;
	}
	const char *who = name ? name : staff && mid ? mid : jstr(e, "name");
	const char *purpose = jstr(e, "purpose");
	if (table_add(t, id) < 0 || table_add(t, in) < 0 ||
	    table_add(t, strcmp(out, "-") == 0 ? _("(inside)") : out) < 0 ||
	    table_add(t, who) < 0 || table_add(t, jstr(e, "affiliation")) < 0 ||
	    table_add(t, staff && purpose && strcmp(purpose, "work") == 0 ? _("work") : purpose) <
	        0 ||
	    table_add(t, staff ? _("staff") : _("visitor")) < 0)
		return -ENOMEM;
	return 0;
}

static int
room_table_print(json_object *entries)
{
	Table t = { .cols = 7 };
	const char *head[] = { _("ENTRY"),       _("IN"),      _("OUT"), _("NAME"),
		               _("AFFILIATION"), _("PURPOSE"), _("KIND") };
	if (table_head(&t, head, 0, 7) < 0)
		goto nomem;
	for (size_t i = 0; i < json_object_array_length(entries); i++)
		if (room_table_row(&t, json_object_array_get_idx(entries, i)) < 0)
			goto nomem;
	return table_finish(&t, true);
nomem:
	return table_finish(&t, false);
}

static int
cmd_room_list(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{ "date", required_argument, NULL, OPT_DATE },
		{ NULL, 0, NULL, 0 },
	};
	RoomArgs a = { 0 };
	int r = parse_args(argc, argv, opts, room_option, &a, NULL, NULL, 0);
	if (r || (r = check_date("date", a.date)))
		return r;
	json_object *params = json_object_new_object();
	if (!params)
		return fail_nomem();
	if (a.date)
		json_object_object_add(params, "date", json_object_new_string(a.date));
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_call("io.biogate.RoomList", params, &msg, &p);
	if (r)
		return r;
	json_object *entries = jarray(p, "entries");
	if (!entries)
		return ctl_fail_transport(-EBADMSG, NULL);
	json_object *tv = NULL;
	bool truncated = json_object_object_get_ex(p, "truncated", &tv) &&
	                 json_object_is_type(tv, json_type_boolean) && json_object_get_boolean(tv);
	if (arg.json) {
		print_json(p);
	} else if (json_object_array_length(entries) == 0) {
		_cleanup_(freep) char *day = text_clean(jstr(p, "date"));
		/* TRANSLATORS: %s is a date, YYYY-MM-DD. */
		printf(_("No one entered the room on %s.\n"), day ? day : "?");
	} else if ((r = room_table_print(entries))) {
		return r;
	}
	if (truncated)
		fprintf(
		    stderr, "%s: %s\n", CTL_NAME,
		    _("the day's entries do not fit one answer: only the first ones are shown"));
	return CTL_EXIT_OK;
}

/* --- the monthly self-inspection report (R18) -------------------------------------------- */

/* A month's report is a few hundred KiB; anything near this is not a report. */
#define CTL_REPORT_MAX_BYTES (64u * 1024u * 1024u)

typedef struct ReportArgs {
	const char *format, *output;
} ReportArgs;

static int
report_option(int c, const char *value, void *userdata)
{
	static const OptValue values[] = {
		OPT_MEMBER(OPT_FORMAT, ReportArgs, format),
		OPT_MEMBER(OPT_OUTPUT, ReportArgs, output),
	};
	return opt_value_set(values, sizeof(values) / sizeof(values[0]), c, value, userdata);
}

static int
cmd_report_monthly(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const names[] = { "YYYY-MM" };
	ReportArgs a = { 0 };
	const char *month = NULL;
	int r = parse_args(argc, argv, opts, report_option, &a, names, &month, 1);
	if (r)
		return r;
	if (!valid_month(month))
		return usage_errorf(_("invalid month '%s': give YYYY-MM"), month);
	if (a.format && strcmp(a.format, "json") != 0 && strcmp(a.format, "html") != 0)
		return usage_errorf(_("unknown format '%s': use json or html"), a.format);
	if (a.output && !*a.output)
		return usage_errorf(_("the option --%s must not be empty"), "output");
	if (a.output && !a.format)
		return usage_errorf(_("--output needs --format json or --format html"));
	/* To standard output: the page for a person, the data for a script (--json). */
	const char *format = a.format ? a.format : arg.json ? "json" : "html";

	int fd = STDOUT_FILENO;
	if (a.output && (r = output_create(a.output, &fd)))
		return r;
	_cleanup_(bg_closep) BgClient *c = NULL;
	json_object *final = NULL;
	uint64_t written = 0;
	int64_t bytes = -1;
	json_object *params = json_object_new_object();
	if (!params) {
		r = fail_nomem();
		goto done;
	}
	json_object_object_add(params, "month", json_object_new_string(month));
	json_object_object_add(params, "format", json_object_new_string(format));
	r = ctl_send_stream("io.biogate.MonthlyReport", params, &c);
	if (r)
		goto done;
	r = stream_chunks(c, fd, false, true, CTL_REPORT_MAX_BYTES, &final, &written);
	if (r)
		goto done;
	/* The daemon says how long the document is: a short one is not the report. */
	if (!jint(final, "bytes", &bytes) || bytes < 0 || (uint64_t)bytes != written) {
		r = ctl_fail_transport(-EBADMSG, NULL);
		goto done;
	}
	if (a.output && fsync(fd) < 0) {
		r = output_error(errno);
		goto done;
	}
	r = CTL_EXIT_OK;
	if (a.output && arg.json) {
		_cleanup_(json_putp) json_object *o = json_object_new_object();
		if (o) {
			json_object_object_add(o, "month", json_object_new_string(month));
			json_object_object_add(o, "format", json_object_new_string(format));
			json_object_object_add(o, "output", json_object_new_string(a.output));
			json_object_object_add(o, "bytes", json_object_new_int64(bytes));
			print_json(o);
		}
	} else if (a.output) {
		_cleanup_(freep) char *path = text_clean(a.output);
		fprintf(stderr, "%s: ", CTL_NAME);
		/* TRANSLATORS: the first %s is a month (YYYY-MM), the second a file name. */
		fprintf(stderr, _("wrote the monthly report for %s to %s\n"), month,
		        path ? path : "?");
	}
done:
	json_object_put(final);
	output_finish(a.output, fd, r);
	return r;
}

/* --- removable storage (R15) ----------------------------------------------------------------- */

/* The daemon's limits (daemon/devices.h). */
#define USB_SERIAL_MAX 126
#define USB_NOTE_MAX   256

/* A USB serial as the daemon compares it: printable ASCII without spaces. */
static int
check_serial(const char *s)
{
	size_t n = strlen(s);
	bool ok = n >= 1 && n <= USB_SERIAL_MAX;
	for (size_t i = 0; ok && i < n; i++)
		ok = s[i] > 0x20 && s[i] < 0x7f;
	if (ok)
		return 0;
	return usage_errorf(_("invalid serial number '%s': 1 to %d printable ASCII characters "
	                      "without spaces"),
	                    s, USB_SERIAL_MAX);
}

typedef struct UsbArgs {
	const char *note;
} UsbArgs;

static int
usb_option(int c, const char *value, void *userdata)
{
	UsbArgs *a = userdata;
	if (c != OPT_NOTE)
		return -1;
	a->note = value;
	return 0;
}

static int
usb_change(int argc, char **argv, bool allow)
{
	static const struct option allow_opts[] = {
		COMMON_OPTIONS,
		{ "note", required_argument, NULL, OPT_NOTE },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const names[] = { "SERIAL" };
	UsbArgs a = { 0 };
	const char *serial = NULL;
	int r = parse_args(argc, argv, allow ? allow_opts : common_options, usb_option, &a, names,
	                   &serial, 1);
	if (r || (r = check_serial(serial)) ||
	    (r = check_text("note", a.note, USB_NOTE_MAX, false)))
		return r;
	json_object *params = params_string("serial", serial);
	if (!params)
		return fail_nomem();
	if (a.note)
		json_object_object_add(params, "note", json_object_new_string(a.note));
	if ((r = params_check_utf8(params)))
		return r;
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_query(allow ? "io.biogate.UsbAllow" : "io.biogate.UsbRevoke", params, NULL, &msg,
	              &p);
	if (r != CTL_PRINT_TEXT)
		return r;
	_cleanup_(freep) char *clean = text_clean(serial);
	if (allow)
		/* TRANSLATORS: %s is a USB serial number. */
		printf(_("USB storage with serial %s is now allowed on this terminal.\n"),
		       clean ? clean : "?");
	else
		/* TRANSLATORS: %s is a USB serial number. */
		printf(_("USB storage with serial %s is no longer allowed; it stays blocked.\n"),
		       clean ? clean : "?");
	return CTL_EXIT_OK;
}

static int
cmd_usb_allow(int argc, char **argv)
{
	return usb_change(argc, argv, true);
}

static int
cmd_usb_revoke(int argc, char **argv)
{
	return usb_change(argc, argv, false);
}

static bool
jbool(json_object *o, const char *key)
{
	json_object *v = NULL;
	return o && json_object_object_get_ex(o, key, &v) &&
	       json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

/* One allowed device, for usb list. */
static int
usb_allowed_row(Table *t, json_object *e)
{
	char when[64];
	format_time(e, "allowed_at", when, sizeof(when));
	const char *note = jstr(e, "note");
	if (table_add(t, jstr(e, "serial")) < 0 || table_add(t, when) < 0 ||
	    table_add(t, note && *note ? note : "-") < 0)
		return -1;
	return 0;
}

/* One attempt to plug a device in, for usb list. */
static int
usb_attempt_row(Table *t, json_object *e)
{
	char when[64];
	format_time(e, "time", when, sizeof(when));
	const char *v = jstr(e, "vendor"), *pr = jstr(e, "product");
	_cleanup_(freep) char *dev = NULL;
	if (asprintf(&dev, "%s:%s", v ? v : "?", pr ? pr : "?") < 0)
		dev = NULL;
	if (!dev || table_add(t, when) < 0 || table_add(t, jstr(e, "serial")) < 0 ||
	    table_add(t, dev) < 0 || table_add(t, word_label(jstr(e, "outcome"))) < 0 ||
	    table_add(t, word_label(jstr(e, "reason"))) < 0)
		return -1;
	return 0;
}

static int
usb_list_print(json_object *allowed, json_object *attempts)
{
	const char *allowed_head[] = { _("SERIAL"), _("ALLOWED AT"), _("NOTE") };
	int r = table_list(allowed, _("No USB storage device is allowed: every one is blocked."),
	                   allowed_head, 3, usb_allowed_row);
	if (r)
		return r;
	putchar('\n');
	if (json_object_array_length(attempts) > 0)
		puts(_("Attempts (newest last):"));
	const char *head[] = { _("TIME"), _("SERIAL"), _("DEVICE"), _("OUTCOME"), _("REASON") };
	return table_list(attempts,
	                  _("No USB storage device was plugged in during the last 30 days."), head,
	                  5, usb_attempt_row);
}

static int
cmd_usb_list(int argc, char **argv)
{
	int r = parse_args(argc, argv, common_options, NULL, NULL, NULL, NULL, 0);
	if (r)
		return r;
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_call("io.biogate.UsbList", NULL, &msg, &p);
	if (r)
		return r;
	json_object *allowed = jarray(p, "allowed"), *attempts = jarray(p, "attempts");
	if (!allowed || !attempts)
		return ctl_fail_transport(-EBADMSG, NULL);
	if (arg.json)
		print_json(p);
	else if ((r = usb_list_print(allowed, attempts)))
		return r;
	if (!jbool(p, "allowlist_ok"))
		fprintf(stderr, "%s: %s\n", CTL_NAME,
		        _("the allow-list file could not be read: every device stays blocked and "
		          "it cannot be changed until it is repaired or removed (see the service's "
		          "log)"));
	if (!jbool(p, "watching"))
		fprintf(stderr, "%s: %s\n", CTL_NAME,
		        _("the service is not watching USB devices here (no udev): the udev rule "
		          "alone keeps storage blocked"));
	if (jbool(p, "attempts_truncated"))
		fprintf(stderr, "%s: %s\n", CTL_NAME,
		        _("more attempts were recorded than are shown: see audit list --action "
		          "usb.attempt"));
	return CTL_EXIT_OK;
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
	{ "staff", "edit", cmd_staff_edit,
	  "staff edit MATCHING_ID [--name NAME] [--affiliation TEXT] [--expertise TEXT]\n"
	  "          [--track-record TEXT] [--pledge-date YYYY-MM-DD] [--training-date YYYY-MM-DD]",
	  N_("Change a person's roster entry; record the written pledge and the security "
	     "training") },
	{ "staff", "unlock", cmd_staff_unlock, "staff unlock MATCHING_ID",
	  N_("Lift a lockout after failed fingerprint attempts") },
	{ "staff", "history", cmd_staff_history, "staff history MATCHING_ID",
	  N_("Show every recorded change to a person's roster entry: when, by whom, old and new "
	     "value") },
	{ "staff", "nationality", cmd_staff_nationality,
	  "staff nationality MATCHING_ID --purpose TEXT [--confirm-by ID]...",
	  N_("Show a person's nationality, only to trace a leak: the purpose is recorded with the "
	     "read") },
	{ "revoke", NULL, cmd_revoke,
	  "revoke MATCHING_ID --reason departed|transferred [--confirm-by ID]...",
	  N_("Revoke a person who left or moved: erase their fingerprints, disable their IDs, "
	     "end their sessions") },
	{ "enroll", NULL, cmd_enroll, "enroll MATCHING_ID --finger FINGER",
	  N_("Enroll one finger of a person; FINGER is left-thumb, left-index, ..., "
	     "right-little") },
	{ "operator", "grant", cmd_operator_grant,
	  "operator grant MATCHING_ID OPERATOR_ID --role ROLE",
	  N_("Give a person an operator ID with a role") },
	{ "verify", NULL, cmd_verify, "verify MATCHING_ID",
	  N_("Check a finger against a person's enrolled fingerprint") },
	{ "schedule", "import", cmd_schedule_import, "schedule import [--dry-run] FILE.csv",
	  N_("Replace one month of the work schedule with the shifts in a CSV file "
	     "(matching_id,date,start,end); --dry-run only checks the file and prints the "
	     "shifts") },
	{ "schedule", "show", cmd_schedule_show,
	  "schedule show [--month YYYY-MM] [--matching-id MATCHING_ID]",
	  N_("Show the scheduled shifts") },
	{ "authorize", NULL, cmd_authorize, "authorize ACTION [--key KEY]",
	  N_("Ask whether this session's operator ID may do ACTION (exit 0 allow, 1 deny)") },
	{ "whoami", NULL, cmd_whoami, "whoami",
	  N_("Show the biogate session this command runs in (exit 1 outside any)") },
	{ "sessions", NULL, cmd_sessions, "sessions", N_("List the open biogate sessions") },
	{ "lock", NULL, cmd_lock, "lock", N_("Lock the screen of your own session") },
	{ "logoff", NULL, cmd_logoff, "logoff", N_("End your own session") },
	{ "audit", "verify", cmd_audit_verify, "audit verify",
	  N_("Verify the audit trail's chain of seals; name the first bad record (exit 1 when "
	     "broken)") },
	{ "audit", "list", cmd_audit_list,
	  "audit list [--matching-id ID] [--operator-id ID] [--action ACTION] [--outcome OUTCOME]\n"
	  "          [--since YYYY-MM-DD[THH:MM]] [--until YYYY-MM-DD[THH:MM]] [--limit N]",
	  N_("List audit records, oldest first (at most N, default 100, up to 1000)") },
	{ "audit", "export", cmd_audit_export,
	  "audit export --format jsonl|csv [--output FILE] [--confirm-by ID]...\n"
	  "          [FILTERS as for audit list]",
	  N_("Export audit records as JSON Lines or CSV to standard output or a new FILE "
	     "(mode 0600)") },
	{ "audit", "search-key", cmd_audit_search_key, "audit search-key KEY|-",
	  N_("Say whether, when and by whom an individual number was searched (exit 1 when "
	     "never); '-' reads the number from standard input") },
	{ "disposal", "plan", cmd_disposal_plan,
	  "disposal plan --items TEXT --media TEXT --count N --method TEXT --date YYYY-MM-DD",
	  N_("Plan the erasure of personal data: what, on which media, how many, how, and when") },
	{ "disposal", "approve", cmd_disposal_approve, "disposal approve ID [--confirm-by ID]...",
	  N_("Approve a planned disposal (two-person confirmation)") },
	{ "disposal", "execute", cmd_disposal_execute, "disposal execute ID",
	  N_("Carry out an approved disposal on or after its planned date: erase every "
	     "fingerprint and every personal field of the roster") },
	{ "disposal", "report", cmd_disposal_report,
	  "disposal report ID [--format json|html] [--output FILE]",
	  N_("Show the report of a disposal: when, by whom, what and how; html is a printable "
	     "document; FILE is new, mode 0600") },
	{ "room", "enter", cmd_room_enter,
	  "room enter --name NAME --affiliation TEXT --purpose TEXT",
	  N_("Record a visitor entering the working area; prints the entry's number") },
	{ "room", "leave", cmd_room_leave, "room leave ENTRY_ID",
	  N_("Record a visitor leaving the working area (staff leave when their session ends)") },
	{ "room", "list", cmd_room_list, "room list [--date YYYY-MM-DD]",
	  N_("List who entered the working area on a day (default today): staff and visitors, "
	     "with times in and out") },
	{ "report", "monthly", cmd_report_monthly,
	  "report monthly YYYY-MM [--format html|json] [--output FILE]",
	  N_("Make the monthly self-inspection report: HTML (json with --json) to standard "
	     "output, or to a new FILE (mode 0600; --format required)") },
	{ "usb", "allow", cmd_usb_allow, "usb allow SERIAL [--note TEXT]",
	  N_("Allow one USB storage device on this terminal by its serial number") },
	{ "usb", "revoke", cmd_usb_revoke, "usb revoke SERIAL",
	  N_("Withdraw a USB storage device's permission") },
	{ "usb", "list", cmd_usb_list, "usb list",
	  N_("List the allowed USB storage devices and the recent attempts to plug one in") },
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
		N_("a negative answer (the fingerprint does not match, authorize denied, whoami "
		   "outside a session)"),
		N_("usage error (also a bad schedule file)"),
		N_("the daemon could not be reached, or stopped answering"),
		N_("refused (not permitted, locked out, outside the shift, pledge or training not "
		   "recorded, already in a session, a second person's confirmation missing or the "
		   "same person twice, a disposal not approved or before its date)"),
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
		int r = getopt_failure(c, argv);
		if (r)
			return r;
		if (c == OPT_VERSION) {
			printf("%s %s\n", CTL_NAME, BIOGATE_VERSION);
			return CTL_EXIT_OK;
		}
		r = common_option(c, optarg);
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
