/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pamrun: drives a real Linux-PAM stack for tests. The service file comes from a directory
 * the test owns (pam_start_confdir), so nothing under /etc is touched. Every conversation
 * message is printed with its style, prompts are answered from --answer in order, and each
 * PAM call's result is printed by name ("auth=PAM_SUCCESS"). The exit status says only
 * whether pamrun itself worked; the PAM results are in the output for the test to parse.
 */
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

#define MAX_ANSWERS 32

typedef struct Answers {
	const char *list[MAX_ANSWERS];
	size_t n;
	size_t next;
} Answers;

static const char *const pam_names[] = {
	[PAM_SUCCESS] = "PAM_SUCCESS",
	[PAM_OPEN_ERR] = "PAM_OPEN_ERR",
	[PAM_SYMBOL_ERR] = "PAM_SYMBOL_ERR",
	[PAM_SERVICE_ERR] = "PAM_SERVICE_ERR",
	[PAM_SYSTEM_ERR] = "PAM_SYSTEM_ERR",
	[PAM_BUF_ERR] = "PAM_BUF_ERR",
	[PAM_PERM_DENIED] = "PAM_PERM_DENIED",
	[PAM_AUTH_ERR] = "PAM_AUTH_ERR",
	[PAM_CRED_INSUFFICIENT] = "PAM_CRED_INSUFFICIENT",
	[PAM_AUTHINFO_UNAVAIL] = "PAM_AUTHINFO_UNAVAIL",
	[PAM_USER_UNKNOWN] = "PAM_USER_UNKNOWN",
	[PAM_MAXTRIES] = "PAM_MAXTRIES",
	[PAM_NEW_AUTHTOK_REQD] = "PAM_NEW_AUTHTOK_REQD",
	[PAM_ACCT_EXPIRED] = "PAM_ACCT_EXPIRED",
	[PAM_SESSION_ERR] = "PAM_SESSION_ERR",
	[PAM_CRED_UNAVAIL] = "PAM_CRED_UNAVAIL",
	[PAM_CRED_EXPIRED] = "PAM_CRED_EXPIRED",
	[PAM_CRED_ERR] = "PAM_CRED_ERR",
	[PAM_NO_MODULE_DATA] = "PAM_NO_MODULE_DATA",
	[PAM_CONV_ERR] = "PAM_CONV_ERR",
	[PAM_AUTHTOK_ERR] = "PAM_AUTHTOK_ERR",
	[PAM_AUTHTOK_RECOVERY_ERR] = "PAM_AUTHTOK_RECOVERY_ERR",
	[PAM_AUTHTOK_LOCK_BUSY] = "PAM_AUTHTOK_LOCK_BUSY",
	[PAM_AUTHTOK_DISABLE_AGING] = "PAM_AUTHTOK_DISABLE_AGING",
	[PAM_TRY_AGAIN] = "PAM_TRY_AGAIN",
	[PAM_IGNORE] = "PAM_IGNORE",
	[PAM_ABORT] = "PAM_ABORT",
	[PAM_AUTHTOK_EXPIRED] = "PAM_AUTHTOK_EXPIRED",
	[PAM_MODULE_UNKNOWN] = "PAM_MODULE_UNKNOWN",
	[PAM_BAD_ITEM] = "PAM_BAD_ITEM",
	[PAM_CONV_AGAIN] = "PAM_CONV_AGAIN",
	[PAM_INCOMPLETE] = "PAM_INCOMPLETE",
};

static void
print_result(const char *what, int r)
{
	if (r >= 0 && (size_t)r < sizeof(pam_names) / sizeof(pam_names[0]) && pam_names[r])
		printf("%s=%s\n", what, pam_names[r]);
	else
		printf("%s=PAM_%d\n", what, r);
}

static int
conversation(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	Answers *a = data;
	struct pam_response *out;

	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	out = calloc((size_t)n, sizeof(*out));
	if (!out)
		return PAM_BUF_ERR;

	for (int i = 0; i < n; i++) {
		const char *text = msg[i]->msg ? msg[i]->msg : "";

		switch (msg[i]->msg_style) {
		case PAM_TEXT_INFO:
			printf("INFO: %s\n", text);
			break;
		case PAM_ERROR_MSG:
			printf("ERROR: %s\n", text);
			break;
		case PAM_PROMPT_ECHO_ON:
		case PAM_PROMPT_ECHO_OFF:
			printf("PROMPT: %s\n", text);
			if (a->next >= a->n) {
				/* Out of answers: the module must see a failed conversation. */
				printf("CONV: no answer left\n");
				goto fail;
			}
			out[i].resp = strdup(a->list[a->next++]);
			if (!out[i].resp)
				goto fail;
			break;
		default:
			printf("CONV: unknown style %d\n", msg[i]->msg_style);
			goto fail;
		}
	}
	fflush(stdout);
	*resp = out;
	return PAM_SUCCESS;

fail:
	fflush(stdout);
	for (int i = 0; i < n; i++)
		free(out[i].resp);
	free(out);
	return PAM_CONV_ERR;
}

static void
usage(FILE *f)
{
	fputs("usage: pamrun --confdir DIR --service NAME --user USER [--answer TEXT]...\n"
	      "              [--rhost HOST] [--tty TTY] [--no-auth] [--acct]\n"
	      "              [--open-session] [--close-session] [--exec CMD [ARG]...]\n"
	      "--exec runs CMD as a child after the session opened (as login runs the shell),\n"
	      "prints its exit status as exec=N, and must come last.\n",
	      f);
}

int
main(int argc, char **argv)
{
	const char *confdir = NULL, *service = NULL, *user = NULL, *rhost = NULL, *tty = NULL;
	bool auth = true, acct = false, open_session = false, close_session = false;
	char **exec_argv = NULL;
	Answers answers = { .n = 0 };
	struct pam_conv conv = { conversation, &answers };
	pam_handle_t *pamh = NULL;
	int r;

	/* The module's messages follow LANG/LC_ALL, as they do in login. */
	setlocale(LC_ALL, "");

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool has_value = i + 1 < argc;

		if (strcmp(a, "--confdir") == 0 && has_value)
			confdir = argv[++i];
		else if (strcmp(a, "--service") == 0 && has_value)
			service = argv[++i];
		else if (strcmp(a, "--user") == 0 && has_value)
			user = argv[++i];
		else if (strcmp(a, "--rhost") == 0 && has_value)
			rhost = argv[++i];
		else if (strcmp(a, "--tty") == 0 && has_value)
			tty = argv[++i];
		else if (strcmp(a, "--answer") == 0 && has_value) {
			if (answers.n >= MAX_ANSWERS) {
				fprintf(stderr, "pamrun: at most %d answers\n", MAX_ANSWERS);
				return 2;
			}
			answers.list[answers.n++] = argv[++i];
		} else if (strcmp(a, "--no-auth") == 0)
			auth = false;
		else if (strcmp(a, "--acct") == 0)
			acct = true;
		else if (strcmp(a, "--open-session") == 0)
			open_session = true;
		else if (strcmp(a, "--close-session") == 0)
			close_session = true;
		else if (strcmp(a, "--exec") == 0 && has_value) {
			exec_argv = &argv[i + 1];
			break;
		} else if (strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "pamrun: bad argument: %s\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (!confdir || !service || !user) {
		usage(stderr);
		return 2;
	}

	setvbuf(stdout, NULL, _IOLBF, 0);
	r = pam_start_confdir(service, user, &conv, confdir, &pamh);
	if (r != PAM_SUCCESS) {
		print_result("start", r);
		return 1;
	}
	if (rhost && (r = pam_set_item(pamh, PAM_RHOST, rhost)) != PAM_SUCCESS) {
		print_result("set_rhost", r);
		pam_end(pamh, r);
		return 1;
	}
	if (tty && (r = pam_set_item(pamh, PAM_TTY, tty)) != PAM_SUCCESS) {
		print_result("set_tty", r);
		pam_end(pamh, r);
		return 1;
	}

	/* Every step asked for runs even after a failure: tests check that each fails closed. */
	if (auth) {
		r = pam_authenticate(pamh, 0);
		print_result("auth", r);
	}
	if (acct) {
		r = pam_acct_mgmt(pamh, 0);
		print_result("acct", r);
	}
	if (open_session) {
		const char *v;

		r = pam_open_session(pamh, 0);
		print_result("open", r);
		v = pam_getenv(pamh, "BIOGATE_SESSION_ID");
		printf("BIOGATE_SESSION_ID=%s\n", v ? v : "");
		v = pam_getenv(pamh, "BIOGATE_OPERATOR_ID");
		printf("BIOGATE_OPERATOR_ID=%s\n", v ? v : "");
	}
	if (exec_argv) {
		/* The child inherits the PAM environment, as a login shell would. */
		char **env = pam_getenvlist(pamh);
		pid_t pid = fork();
		if (pid == 0) {
			for (char **e = env; e && *e; e++)
				putenv(*e);
			execvp(exec_argv[0], exec_argv);
			_exit(127);
		}
		for (char **e = env; e && *e; e++)
			free(*e);
		free(env);
		int status = 0;
		if (pid < 0 || waitpid(pid, &status, 0) < 0)
			printf("exec=-1\n");
		else
			printf("exec=%d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128);
	}
	if (close_session) {
		/* When the close began: a test may ask what the daemon did before it. */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		printf("close_start=%lld.%06ld\n", (long long)ts.tv_sec, ts.tv_nsec / 1000);
		r = pam_close_session(pamh, 0);
		print_result("close", r);
	}
	pam_end(pamh, r);
	return 0;
}
