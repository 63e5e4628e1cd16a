/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl-call: the calls to biogated: connect with the timeouts of --timeout, one call and its
 * reply, or a call with "more" and its progress replies, and every wire or transport error
 * reported for a person (and with --json as {"error": NAME}) and mapped to the documented
 * exit code. Replies are untrusted: bounded by bg_recv(), a stream's length capped.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl-call.h"
#include "interface.h"
#include "ctl-util.h"

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
	{ WIRE_ERR_CENTER_UNREACHABLE,
	  N_("the fleet center cannot be reached and this terminal's offline rules refuse the "
	     "login"),
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
	{ WIRE_ERR_LAST_FINGER,
	  N_("this is the person's last enrolled finger; without it they cannot log in (enroll "
	     "another first, revoke the person, or give --force)"),
	  CTL_EXIT_CONFLICT },
};

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

/* A request made from a file's rows (staff import): a refusal naming a row (its index in
 * the request) is told as FILE:LINE, as the file's own errors are. */
static const char *row_file;
static const unsigned *row_lines;
static size_t row_n;

void
ctl_set_row_lines(const char *path, const unsigned *lines, size_t n)
{
	row_file = path;
	row_lines = lines;
	row_n = n;
}

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
	int64_t row = -1;
	if (row_file && jint(rep->parameters, "row", &row) && row >= 0 && (uint64_t)row < row_n) {
		put_clean(stderr, row_file);
		fprintf(stderr, ":%u: ", row_lines[row]);
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
