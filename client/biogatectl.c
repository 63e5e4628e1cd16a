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
 *
 * This file holds main(), the help and the verb table; each verb is defined, with its help,
 * in its group's file (ctl-staff.c, ctl-audit.c, ...), and what they share is in ctl-call.c,
 * ctl-util.c, ctl-args.c and ctl-output.c.
 */
#include <getopt.h>
#include <libintl.h>
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-args.h"
#include "ctl-util.h"
#include "ctl-verbs.h"

/* --- dispatch and help ------------------------------------------------------------------ */

/* Every verb, in the order --help lists them; each is defined with its help in ctl-*.c. */
/* clang-format off */
static const CtlVerb *const verbs[] = {
	&ctl_verb_status,
	&ctl_verb_staff_add, &ctl_verb_staff_list, &ctl_verb_staff_show, &ctl_verb_staff_edit,
	&ctl_verb_staff_unlock, &ctl_verb_staff_history, &ctl_verb_staff_nationality,
	&ctl_verb_staff_import, &ctl_verb_staff_locked,
	&ctl_verb_revoke,
	&ctl_verb_enroll, &ctl_verb_finger_delete,
	&ctl_verb_operator_grant, &ctl_verb_operator_revoke, &ctl_verb_operator_set_role,
	&ctl_verb_verify,
	&ctl_verb_schedule_import, &ctl_verb_schedule_show,
	&ctl_verb_authorize,
	&ctl_verb_whoami,
	&ctl_verb_sessions,
	&ctl_verb_lock,
	&ctl_verb_logoff,
	&ctl_verb_audit_verify, &ctl_verb_audit_list, &ctl_verb_audit_export,
	&ctl_verb_audit_search_key, &ctl_verb_audit_keys,
	&ctl_verb_disposal_plan, &ctl_verb_disposal_approve, &ctl_verb_disposal_execute,
	&ctl_verb_disposal_report,
	&ctl_verb_room_enter, &ctl_verb_room_leave, &ctl_verb_room_list,
	&ctl_verb_report_monthly,
	&ctl_verb_usb_allow, &ctl_verb_usb_revoke, &ctl_verb_usb_list,
	&ctl_verb_policy_check,
	&ctl_verb_fleet_init, &ctl_verb_fleet_add_terminal, &ctl_verb_fleet_status,
	&ctl_verb_fleet_verify,
};
/* clang-format on */

void
help(void)
{
	printf(_("Usage: %s [OPTIONS] COMMAND [ARGUMENTS]\n"), CTL_NAME);
	printf("\n%s\n\n%s\n", _("Administer biogate: the roster, fingerprints and sessions."),
	       _("Commands:"));
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		printf("  %s\n      %s\n", verbs[i]->synopsis, _(verbs[i]->summary));
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
	printf("\n%s\n", _("See biogatectl(1)."));
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
	const CtlVerb *cmd = NULL;
	bool verb_known = false;
	int skip = 0;
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]) && !cmd; i++) {
		if (strcmp(verb, verbs[i]->verb) != 0)
			continue;
		verb_known = true;
		if (!verbs[i]->sub)
			cmd = verbs[i];
		else if (optind + 1 < argc && strcmp(argv[optind + 1], verbs[i]->sub) == 0) {
			cmd = verbs[i];
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
