/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * biogatectl report monthly: the monthly self-inspection report (R18). The daemon sends the
 * month's data as JSON; the HTML page is rendered here (report_html.c), in this unprivileged
 * process, so the privileged daemon never builds markup from texts people typed.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ctl-args.h"
#include "ctl-call.h"
#include "ctl-util.h"
#include "ctl-output.h"
#include "ctl-verbs.h"
#include "report_html.h"

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

/*
 * The month's data as JSON, checked against the length the daemon gives, then the HTML page
 * (report_html.c) written to fd, cleaned as a streamed document is. 0 with *ret_final and
 * *ret_written (the page's length), or the exit code after a message.
 */
static int
report_fetch_render(BgClient *c, int fd, json_object **ret_final, uint64_t *ret_written)
{
	_cleanup_(freep) char *doc = NULL;
	size_t len = 0;
	json_object *final = NULL;
	int r = stream_collect(c, CTL_REPORT_MAX_BYTES, &final, &doc, &len);
	if (r)
		return r;
	*ret_final = final;
	/* The daemon says how long the document is: a short one is not the report. */
	int64_t bytes = -1;
	if (!jint(final, "bytes", &bytes) || bytes < 0 || (uint64_t)bytes != len)
		return ctl_fail_transport(-EBADMSG, NULL);
	if (len > INT_MAX)
		return ctl_fail_transport(-EBADMSG, NULL);

	/* One JSON object and nothing after it. */
	json_tokener *tok = json_tokener_new();
	if (!tok)
		return fail_nomem();
	_cleanup_(json_putp) json_object *data = json_tokener_parse_ex(tok, doc, (int)len);
	bool whole = data && json_tokener_get_error(tok) == json_tokener_success &&
	             json_tokener_get_parse_end(tok) == len &&
	             json_object_is_type(data, json_type_object);
	json_tokener_free(tok);
	if (!whole)
		return ctl_fail_transport(-EBADMSG, NULL);

	_cleanup_(freep) char *html = NULL;
	size_t html_len = 0;
	r = report_render_html(data, &html, &html_len);
	if (r == -ENOMEM)
		return fail_nomem();
	if (r < 0)
		return ctl_fail_transport(-EBADMSG, NULL);
	document_clean_n(html, html_len);
	if (fd == STDOUT_FILENO)
		fflush(stdout);
	r = write_all(fd, html, html_len);
	if (r < 0)
		return output_error(-r);
	*ret_written = html_len;
	return 0;
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

	_cleanup_(output_close) Output out = OUTPUT_INIT;
	if ((r = output_create(a.output, &out)))
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
	/* The page is made here, unprivileged, from the month's data: the daemon only sends it. */
	bool render = strcmp(format, "html") == 0;
	json_object_object_add(params, "format", json_object_new_string(render ? "json" : format));
	r = ctl_send_stream(BIOGATE_METHOD_MONTHLY_REPORT, params, &c);
	if (r)
		goto done;
	if (render) {
		r = report_fetch_render(c, out.fd, &final, &written);
		if (r)
			goto done;
		bytes = (int64_t)written;
	} else {
		r = stream_chunks(c, out.fd, false, true, CTL_REPORT_MAX_BYTES, &final, &written);
		if (r)
			goto done;
		/* The daemon says how long the document is: a short one is not the report. */
		if (!jint(final, "bytes", &bytes) || bytes < 0 || (uint64_t)bytes != written) {
			r = ctl_fail_transport(-EBADMSG, NULL);
			goto done;
		}
	}
	if ((r = output_commit(&out)))
		goto done;
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
	return r;
}

const CtlVerb ctl_verb_report_monthly = {
	.verb = "report",
	.sub = "monthly",
	.fn = cmd_report_monthly,
	.synopsis = "report monthly YYYY-MM [--format html|json] [--output FILE]",
	.summary =
	    N_("Make the monthly self-inspection report: HTML (json with --json) to standard "
	       "output, or to a new FILE (mode 0600; --format required)"),
};
