/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl-util: what every biogatectl verb shares: the calls to biogated (one reply, or a
 * stream of progress replies), the mapping of wire errors to messages and exit codes, reading
 * fields of a reply, and printing for a person (text cleaned of control characters, columns
 * measured in terminal cells, tables) or for a script (--json). It never prints a ticket and
 * treats every reply as untrusted.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include <json-c/json.h>

#include "ctl-util.h"

Ctl arg = { 0 };

void
json_putp(json_object **o)
{
	if (*o)
		json_object_put(*o);
}

void
bg_closep(BgClient **c)
{
	bg_close(*c);
}

void
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
char *
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
char *
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

void
put_clean(FILE *f, const char *s)
{
	_cleanup_(freep) char *t = text_clean(s);
	fputs(t ? t : "?", f);
}

void
print_json(json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
	                                           JSON_C_TO_STRING_NOSLASHESCAPE));
}

void
print_json_error(const char *name)
{
	_cleanup_(json_putp) json_object *o = json_object_new_object();
	if (!o)
		return;
	json_object_object_add(o, "error", json_object_new_string(name));
	print_json(o);
}

/* LockedOut may say until when, in microseconds; INT64_MAX means until an admin unlocks. */
void
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
int
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
int
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

int
timeout_ms(bool stream)
{
	if (arg.timeout_sec > 0)
		return arg.timeout_sec * 1000;
	return stream ? CTL_STREAM_TIMEOUT_SEC * 1000 : BG_DEFAULT_TIMEOUT_MS;
}

int
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
int
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
int
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

/*
 * A call with "more": intermediate replies go to on_progress, each awaited for the per-reply
 * timeout (a person is walking to the reader; the daemon enforces its own sensor timeout).
 */
int
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

/*
 * ctl_call(), or ctl_call_stream() when on_progress is given, with --json handled: the reply
 * is printed as it came. Returns CTL_PRINT_TEXT when the command is to print the reply for
 * a person, else its exit code (CTL_EXIT_OK once the JSON is printed).
 */
int
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

const char *
jstr(json_object *o, const char *key)
{
	json_object *v = NULL;
	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* The string at key, or fallback when there is none. */
const char *
jstr_or(json_object *o, const char *key, const char *fallback)
{
	const char *s = jstr(o, key);
	return s ? s : fallback;
}

bool
jint(json_object *o, const char *key, int64_t *ret)
{
	json_object *v = NULL;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*ret = json_object_get_int64(v);
	return true;
}

json_object *
jarray(json_object *o, const char *key)
{
	json_object *v = NULL;
	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

/* Columns on a terminal, not bytes: names at a Japanese counter are double width. */
size_t
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

void
put_padded(const char *s, size_t width)
{
	fputs(s, stdout);
	for (size_t w = text_width(s); w < width; w++)
		fputc(' ', stdout);
}

/* A reply's microseconds since the epoch as local time; "-" when absent or absurd. */
void
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

void
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
__attribute__((format(printf, 1, 2))) char *
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
__attribute__((format(printf, 1, 2))) void
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

int
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
int
table_head(Table *t, const char *const *head, size_t from, size_t n)
{
	for (size_t i = from; i < n; i++)
		if (table_add(t, head[i]) < 0)
			return -1;
	return 0;
}

void
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

void
table_free(Table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->cells[i]);
	free(t->cells);
	*t = (Table){ 0 };
}

int
fail_nomem(void)
{
	fprintf(stderr, "%s: %s\n", CTL_NAME, strerror(ENOMEM));
	return CTL_EXIT_ERROR;
}

/* Prints a complete table, or reports running out of memory; frees it. An exit code. */
int
table_finish(Table *t, bool complete)
{
	if (complete)
		table_print(t);
	table_free(t);
	return complete ? CTL_EXIT_OK : fail_nomem();
}

/*
 * A table of one row for each element of arr, made by row (-1 when out of memory), under
 * head; when there is none, the line empty instead. An exit code.
 */
int
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

const char *
finger_label(const char *id)
{
	for (size_t i = 0; id && i < sizeof(finger_names) / sizeof(finger_names[0]); i++)
		if (strcmp(id, finger_names[i].id) == 0)
			return _(finger_names[i].label);
	return id ? id : "?";
}

bool
finger_known(const char *id)
{
	for (size_t i = 0; id && i < sizeof(finger_names) / sizeof(finger_names[0]); i++)
		if (strcmp(id, finger_names[i].id) == 0)
			return true;
	return false;
}

const char *
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
FILE *
prompt_out(void)
{
	return arg.json ? stderr : stdout;
}

void
prompt(const char *text)
{
	FILE *f = prompt_out();
	fputs(text, f);
	fputc('\n', f);
	fflush(f);
}

bool
jbool(json_object *o, const char *key)
{
	json_object *v = NULL;
	return o && json_object_object_get_ex(o, key, &v) &&
	       json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

/* A confirmer's prompt, always on stderr: stdout may be a file or a document. */
void
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
