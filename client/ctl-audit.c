/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * biogatectl audit verify|list|export|search-key|keys export: the audit trail (R5, R19). A search
 * key is a person's number: it is never printed and is wiped from memory and argv.
 */
#include <errno.h>
#include <getopt.h>
#include <libintl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ctl-args.h"
#include "ctl-call.h"
#include "ctl-util.h"
#include "ctl-output.h"
#include "ctl-verbs.h"

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
	{ "bad-hash", N_("its content does not match the keyless chain: the record was changed, "
	                 "or records were swapped or inserted") },
	{ "bad-checkpoint", N_("a signed checkpoint after it does not verify: the records from "
	                       "here to the checkpoint were rewritten, or the checkpoint forged") },
	{ "unsealed", N_("it is sealed only by a key of a later day than its own: the trail was "
	                 "re-sealed after that day's key was destroyed") },
};

static int
cmd_audit_verify(int argc, char **argv)
{
	int r = parse_args(argc, argv, common_options, NULL, NULL, NULL, NULL, 0);
	if (r)
		return r;
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_call(BIOGATE_METHOD_AUDIT_VERIFY, NULL, &msg, &p);
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
		int64_t cks = 0, unsealed = 0;
		if (jint(p, "checkpoints", &cks) && jint(p, "unsealed", &unsealed))
			printf(_("Signed checkpoints verified: %lld; records after the newest: "
			         "%lld.\n"),
			       (long long)cks, (long long)unsealed);
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

const CtlVerb ctl_verb_audit_verify = {
	.verb = "audit",
	.sub = "verify",
	.fn = cmd_audit_verify,
	.synopsis = "audit verify",
	.summary =
	    N_("Verify the audit trail's chain of seals; name the first bad record (exit 1 when "
	       "broken)"),
};

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
	r = ctl_call(BIOGATE_METHOD_AUDIT_LIST, params, &msg, &p);
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

const CtlVerb ctl_verb_audit_list = {
	.verb = "audit",
	.sub = "list",
	.fn = cmd_audit_list,
	.synopsis =
	    "audit list [--matching-id ID] [--operator-id ID] [--action ACTION] [--outcome "
	    "OUTCOME]\n"
	    "          [--since YYYY-MM-DD[THH:MM]] [--until YYYY-MM-DD[THH:MM]] [--limit N]",
	.summary = N_("List audit records, oldest first (at most N, default 100, up to 1000)"),
};

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
	if (strcmp(a.format, "jsonl") != 0 && strcmp(a.format, "csv") != 0 &&
	    strcmp(a.format, "sealed") != 0)
		return usage_errorf(_("unknown format '%s': use jsonl, csv or sealed"), a.format);
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

	_cleanup_(output_close) Output out = OUTPUT_INIT;
	if ((r = output_create(a.output, &out))) {
		json_object_put(params);
		return r;
	}

	_cleanup_(bg_closep) BgClient *c = NULL;
	int64_t records = -1;
	uint64_t written = 0;
	json_object *final = NULL;
	r = ctl_send_stream(BIOGATE_METHOD_AUDIT_EXPORT, params, &c);
	if (r)
		goto done;
	/* Confirmers' prompts come first. */
	r = stream_chunks(c, out.fd, true, false, UINT64_MAX, &final, &written);
	if (r)
		goto done;
	if (!jint(final, "records", &records) || records < 0) {
		r = ctl_fail_transport(-EBADMSG, NULL);
		goto done;
	}
	if ((r = output_commit(&out)))
		goto done;
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
	return r;
}

const CtlVerb ctl_verb_audit_export = {
	.verb = "audit",
	.sub = "export",
	.fn = cmd_audit_export,
	.synopsis = "audit export --format jsonl|csv|sealed [--output FILE] [--confirm-by ID]...\n"
	            "          [FILTERS as for audit list; sealed: --since and --until only]",
	.summary = N_("Export audit records as JSON Lines or CSV, or sealed for "
	              "biogate-audit-verify(1), to standard output or a new FILE (mode 0600)"),
};

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
	r = ctl_call(BIOGATE_METHOD_AUDIT_SEARCH_KEY, params, &msg, &p);
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

const CtlVerb ctl_verb_audit_search_key = {
	.verb = "audit",
	.sub = "search-key",
	.fn = cmd_audit_search_key,
	.synopsis = "audit search-key KEY|-",
	.summary =
	    N_("Say whether, when and by whom an individual number was searched (exit 1 when "
	       "never); '-' reads the number from standard input"),
};

/* audit keys export: the seals' public key list, as the city takes it down at set-up (and
 * again whenever the terminal says it made more keys). */
static int
cmd_audit_keys(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ NULL, 0, NULL, 0 },
	};
	AuditArgs a = { 0 };
	static const char *const pos_names[] = { "export" };
	const char *what = NULL;
	int r = parse_args(argc, argv, opts, audit_option, &a, pos_names, &what, 1);
	if (r)
		return r;
	if (strcmp(what, "export") != 0)
		return usage_errorf(_("unknown command 'audit keys %s': use 'audit keys export'"),
		                    what);
	if (a.output && !*a.output)
		return usage_errorf(_("the option --%s must not be empty"), "output");
	_cleanup_(json_putp) json_object *msg = NULL;
	json_object *p = NULL;
	r = ctl_call("io.biogate.AuditKeys", NULL, &msg, &p);
	if (r)
		return r;
	const char *text = jstr(p, "keys"), *fp = jstr(p, "fingerprint");
	if (!text || !fp || strlen(fp) != 64)
		return ctl_fail_transport(-EBADMSG, NULL);
	_cleanup_(output_close) Output out = OUTPUT_INIT;
	if ((r = output_create(a.output, &out)))
		return r;
	if (out.fd == STDOUT_FILENO)
		fflush(stdout);
	r = write_all(out.fd, text, strlen(text));
	if (r < 0)
		return output_error(-r);
	if ((r = output_commit(&out)))
		return r;
	/* In groups of four, to be read aloud and written down. */
	char grouped[64 + 16];
	size_t g = 0;
	for (size_t i = 0; i < 64; i++) {
		if (i && i % 4 == 0)
			grouped[g++] = i % 32 == 0 ? '\n' : ' ';
		grouped[g++] = fp[i];
	}
	grouped[g] = '\0';
	fprintf(stderr, _("Fingerprint of the public key list (SHA-256):\n%s\n"), grouped);
	return CTL_EXIT_OK;
}

const CtlVerb ctl_verb_audit_keys = {
	.verb = "audit",
	.sub = "keys",
	.fn = cmd_audit_keys,
	.synopsis = "audit keys export [--output FILE]",
	.summary = N_("Print the public keys that check the trail's signed checkpoints, with "
	              "their fingerprint (for biogate-audit-verify)"),
};
