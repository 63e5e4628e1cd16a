/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * biogated: the privileged daemon. run() -> manager_new() -> sd_event_loop(). Under systemd
 * it takes its socket from socket activation and reports readiness and watchdog pings;
 * without systemd (--foreground) it binds its own socket in --runtime-dir. It owns the
 * database, the template key and the sensor process; it never links libfprint or GLib.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <systemd/sd-daemon.h>

#include "anchor.h"
#include "audit.h"
#include "clock.h"
#include "conn.h"
#include "devices.h"
#include "fleet.h"
#include "incidents.h"
#include "log.h"
#include "manager.h"
#include "methods.h"
#include "record.h"
#include "policy.h"
#include "refusals.h"
#include "policy-internal.h"
#include "room.h"
#include "secret.h"
#include "sensorlink.h"
#include "sessions.h"
#include "statedir.h"
#include "store.h"

typedef struct Args {
	const char *state_dir;
	const char *runtime_dir;
	const char *config;
	const char *sensor;
	const char *policy;
	bool foreground;
	AnchorAccept accept; /* anchor.h: an admin's recorded recovery */
	bool check_config;
} Args;

/* The policy chain given at start (NULL: the standard one), read again on SIGHUP. */
static const char *policy_arg;

static void
usage(FILE *f)
{
	fprintf(f,
	        "Usage: biogated [OPTIONS]\n\n"
	        "The biogate daemon: fingerprint verification, roster, operator IDs, sessions.\n\n"
	        "  --foreground         run without systemd: bind the socket ourselves\n"
	        "  --state-dir DIR      database and key (default %s)\n"
	        "  --runtime-dir DIR    socket directory (default %s)\n"
	        "  --config FILE        settings (default %s)\n"
	        "  --sensor PATH        biogated-sensor binary (overrides the config)\n"
	        "  --policy FILE        the policy file (then FILE.d/*.conf) instead of the\n"
	        "                       standard chain (datadir, sysconfdir, sysconfdir .d)\n"
	        "  --accept-new-audit-trail=REASON  move a damaged audit trail aside and\n"
	        "                       begin a new one (recorded with REASON)\n"
	        "  --accept-store-loss=REASON  go on with a rolled-back or emptied database\n"
	        "                       or a new template key (recorded with REASON)\n"
	        "  --check-config       parse the settings and the policy chain, print what\n"
	        "                       would be in force and exit (1 on the first error,\n"
	        "                       with its file and line); starts nothing\n"
	        "  --debug              log debug messages\n"
	        "  --version            print the version\n"
	        "  -h, --help           this help\n\n"
	        "See biogated(8), biogate.conf(5).\n",
	        BIOGATE_STATE_DIR, BIOGATE_RUNTIME_DIR, BIOGATE_CONFIG_FILE);
}

static int
parse_args(int argc, char **argv, Args *a)
{
	static const struct option opts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "runtime-dir", required_argument, NULL, 'r' },
		{ "config", required_argument, NULL, 'c' },
		{ "sensor", required_argument, NULL, 'S' },
		{ "policy", required_argument, NULL, 'P' },
		{ "debug", no_argument, NULL, 'd' },
		{ "accept-new-audit-trail", required_argument, NULL, 'A' },
		{ "accept-store-loss", required_argument, NULL, 'L' },
		{ "check-config", no_argument, NULL, 't' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	*a = (Args){ .state_dir = BIOGATE_STATE_DIR,
		     .runtime_dir = BIOGATE_RUNTIME_DIR,
		     .config = BIOGATE_CONFIG_FILE };
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
		switch (c) {
		case 'f':
			a->foreground = true;
			break;
		case 's':
			a->state_dir = optarg;
			break;
		case 'r':
			a->runtime_dir = optarg;
			break;
		case 'c':
			a->config = optarg;
			break;
		case 'S':
			a->sensor = optarg;
			break;
		case 'P':
			a->policy = optarg;
			break;
		case 'd':
			log_debug_enabled = 1;
			break;
		case 'A':
			a->accept.new_audit_trail = optarg;
			break;
		case 'L':
			a->accept.store_loss = optarg;
			break;
		case 't':
			a->check_config = true;
			break;
		case 'V':
			puts(BIOGATE_VERSION);
			return 1;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

/* The socket: from systemd when activated, else bound here (mode 0666: every method
 * decides from peer credentials who may call it). */
static int
open_listen_socket(const char *runtime_dir)
{
	int n = sd_listen_fds(1);
	if (n < 0)
		return log_error_errno(n, "Failed to read the activation sockets: %m");
	if (n > 1)
		return log_error_errno(-EINVAL, "Expected one activation socket, got %d", n);
	if (n == 1) {
		if (sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1, NULL, 0) <= 0)
			return log_error_errno(-EINVAL,
			                       "The activation socket is not a Unix stream socket");
		(void)fcntl(SD_LISTEN_FDS_START, F_SETFL,
		            fcntl(SD_LISTEN_FDS_START, F_GETFL) | O_NONBLOCK);
		return SD_LISTEN_FDS_START;
	}

	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", runtime_dir,
	                     BIOGATE_SOCKET_NAME) >= sizeof(sa.sun_path))
		return log_error_errno(-ENAMETOOLONG, "Runtime directory path too long");
	if (mkdir(runtime_dir, 0755) < 0 && errno != EEXIST)
		return log_error_errno(-errno, "Failed to create %s: %m", runtime_dir);

	struct stat st;
	if (lstat(sa.sun_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return log_error_errno(-EEXIST, "%s exists and is not a socket",
			                       sa.sun_path);
		(void)unlink(sa.sun_path);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return log_error_errno(-errno, "socket failed: %m");
	mode_t old = umask(0111);
	int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || listen(fd, SOMAXCONN) < 0) {
		r = -errno;
		close(fd);
		return log_error_errno(r, "Failed to listen on %s: %m", sa.sun_path);
	}
	return fd;
}

/* Staff enter the room log when their session opens and leave it when it ends (R14). */
static void
manager_session_opened(const char *matching_id, int64_t session_id, int64_t at_usec, void *userdata)
{
	Manager *m = userdata;
	room_staff_login(m->room, matching_id, session_id, at_usec);
}

static void
manager_session_ended(const char *matching_id, int64_t session_id, int64_t at_usec, void *userdata)
{
	Manager *m = userdata;
	room_staff_logout(m->room, session_id, at_usec);
	/* R12 across terminals: the person may log in elsewhere now. */
	fleet_session_closed(m->fleet, matching_id, "ended");
}

static void
manager_free(Manager *m)
{
	if (!m)
		return;
	devices_free(m->devices);
	/* Before sessions: ending them tells the fleet, which must not be half gone. */
	fleet_free(m->fleet);
	m->fleet = NULL;
	sessions_free(m->sessions);
	/* Before the audit trail: records still queued then only free their room ops. */
	room_free(m->room);
	/* Before the audit trail: the window in progress gets its summary records. */
	refusals_free(m->refusals);
	/* Flush the queued records first: their callbacks release connections. */
	audit_close(m->audit);
	m->audit = NULL;
	/* After the audit trail: flushing it may hand incidents to the notify command. */
	incidents_free(m->incidents);
	server_free(m->server);
	sensorlink_free(m->sensor);
	store_close(m->store);
	policy_free(m->policy);
	secret_free(m->secret);
	sd_event_unref(m->event);
	free(m->state_dir);
	free(m->runtime_dir);
	explicit_bzero(&m->tickets, sizeof(m->tickets));
	free(m);
}

/* --- the policy, read again on SIGHUP ----------------------------------------------------- */

/* A new policy takes over whole or not at all: a file that does not load leaves the one in
 * force, and the daemon answers on as before (a broken file must never stop logins). Either
 * way the outcome is logged and recorded (policy.reload). Nothing keeps a pointer into the
 * policy across requests: every decision reads m->policy afresh. */
static int
manager_on_sighup(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata)
{
	Manager *m = userdata;
	char err[512] = "";
	Policy *p = NULL;
	int r = policy_load(policy_arg, &p, err, sizeof(err));
	json_object *d = json_object_new_object();
	AuditRecord rec = { .action = "policy.reload" };
	if (r < 0) {
		log_error("Policy reload failed; the policy in force stays: %s",
		          err[0] ? err : strerror(-r));
		json_object_object_add(d, "error",
		                       json_object_new_string(err[0] ? err : strerror(-r)));
		rec.outcome = "fail";
		rec.reason = "invalid-policy";
	} else {
		Policy *old = m->policy;
		m->policy = p;
		policy_free(old);
		log_info("Policy reloaded: %u file(s) applied", policy_files_loaded(p));
		if (policy_files_loaded(p) == 0)
			log_warning("No policy file found: every request will be denied");
		json_object_object_add(d, "files", json_object_new_int64(policy_files_loaded(p)));
		rec.outcome = "ok";
	}
	json_object_object_add(d, "signal_pid", json_object_new_int64(si->ssi_pid));
	rec.detail = json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN);
	(void)record_append(m, NULL, &rec, NULL, NULL);
	json_object_put(d);
	return 0;
}

/* --- biogated --check-config -------------------------------------------------------------- */

static void
print_names(const char *label, const PolicyNameList *l)
{
	printf("  %-28s", label);
	for (uint32_t i = 0; i < l->n; i++)
		printf("%s%s", i ? " " : "", l->names[i]);
	puts(l->n ? "" : "-");
}

/* As `sshd -t`: the settings file and the policy chain are parsed exactly as at start and
 * what would be in force is printed; the first error is printed with its file and line
 * (config_load logs it so; the policy library writes "FILE:LINE: what") and the exit status
 * is 1. Nothing else is opened: no database, no key, no socket. */
static int
check_config(const Args *a)
{
	Config c;
	config_defaults(&c);
	int r = config_load(&c, a->config, strcmp(a->config, BIOGATE_CONFIG_FILE) == 0);
	if (r < 0)
		return r;
	char err[512] = "";
	Policy *p = NULL;
	r = policy_load(a->policy, &p, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "biogated: %s\n", err[0] ? err : strerror(-r));
		return r;
	}
	const PolicySettings *s = policy_settings(p);
	printf("Settings (%s):\n", a->config);
	printf("  %-28s%s\n", "admin-group", c.admin_group);
	printf("  %-28s%s\n", "sensor", a->sensor ? a->sensor : c.sensor_path);
	printf("  %-28s%u\n", "verify-timeout-sec", c.verify_timeout_sec);
	printf("  %-28s%u\n", "enroll-timeout-sec", c.enroll_timeout_sec);
	printf("  %-28s%u\n", "client-idle-timeout-sec", c.client_idle_timeout_sec);
	printf("  %-28s%u\n", "max-connections", c.max_connections);
	printf("  %-28s%u\n", "max-connections-per-uid", c.max_connections_per_uid);
	printf("  %-28s%u\n", "ticket-lifetime-sec", c.ticket_lifetime_sec);
	printf("Policy (%s): %u file(s) applied\n", a->policy ? a->policy : "the standard chain",
	       policy_files_loaded(p));
	if (p->n_roles == 0)
		puts("  no operator roles: every request would be denied");
	for (uint32_t i = 0; i < p->n_roles; i++) {
		char label[POLICY_MAX_NAME + 8];
		snprintf(label, sizeof(label), "role %s", p->roles[i].name);
		print_names(label, &p->roles[i].actions);
	}
	printf("  %-28s%s\n", "admin role", s->admin_role);
	print_names("admin-only actions", &p->admin_actions);
	printf("  %-28s%s\n", "admin requires session", s->admin_requires_session ? "yes" : "no");
	print_names("two-person actions", &p->two_person);
	print_names("search actions", &p->search_actions);
	printf("  %-28spledge %s, training %s, shift %s, single session %s\n", "login requires",
	       s->require_pledge ? "yes" : "no", s->require_training ? "yes" : "no",
	       s->require_shift ? "yes" : "no", s->single_session ? "yes" : "no");
	printf("  %-28sdeny %u, fail-interval %u s, unlock-time %u s\n", "lockout", s->lockout_deny,
	       s->lockout_interval_sec, s->lockout_unlock_sec);
	printf("  %-28slock %u s, log off %u s, warn %u s\n", "idle", s->idle_lock_sec,
	       s->idle_logoff_sec, s->idle_warn_sec);
	printf("  %-28s%u years\n", "audit retention", s->retention_years);
	policy_free(p);
	return 0;
}

static int
manager_new(const Args *a, Manager **ret)
{
	Manager *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->started_usec = now_mono_usec();
	config_defaults(&m->config);
	/* The packaged default file is optional; an explicit --config must exist. */
	int r = config_load(&m->config, a->config, strcmp(a->config, BIOGATE_CONFIG_FILE) == 0);
	if (r < 0)
		goto fail;
	if (a->sensor)
		snprintf(m->config.sensor_path, sizeof(m->config.sensor_path), "%s", a->sensor);

	char err[512] = "";
	r = policy_load(a->policy, &m->policy, err, sizeof(err));
	if (r < 0) {
		log_error("Failed to load the policy: %s", err[0] ? err : strerror(-r));
		goto fail;
	}
	if (policy_files_loaded(m->policy) == 0)
		log_warning("No policy file found: every request will be denied");
	if (gethostname(m->terminal, sizeof(m->terminal) - 1) < 0)
		snprintf(m->terminal, sizeof(m->terminal), "unknown");

	m->state_dir = strdup(a->state_dir);
	m->runtime_dir = strdup(a->runtime_dir);
	if (!m->state_dir || !m->runtime_dir) {
		r = -ENOMEM;
		goto fail;
	}
	if (mkdir(m->state_dir, 0700) < 0 && errno != EEXIST) {
		r = log_error_errno(-errno, "Failed to create %s: %m", m->state_dir);
		goto fail;
	}
	/* The roster, the trail and the keys are trusted only from a directory nobody else
	 * could have written: another user's biogate.db would be theirs to read. */
	r = statedir_check(m->state_dir, geteuid());
	if (r < 0)
		goto fail;

	r = sd_event_default(&m->event);
	if (r < 0)
		goto fail;
	(void)sd_event_set_watchdog(m->event, true);
	sigset_t ss;
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGCHLD);
	sigaddset(&ss, SIGHUP);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	signal(SIGPIPE, SIG_IGN);
	r = sd_event_add_signal(m->event, NULL, SIGTERM, NULL, NULL);
	if (r >= 0)
		r = sd_event_add_signal(m->event, NULL, SIGINT, NULL, NULL);
	if (r >= 0)
		r = sd_event_add_signal(m->event, NULL, SIGHUP, manager_on_sighup, m);
	if (r < 0)
		goto fail;

	/* anchor.h: refuse damaged state by name before anything is created over it. */
	r = anchor_precheck(m->state_dir, &a->accept);
	if (r < 0)
		goto fail;
	r = secret_load(m->state_dir, &m->secret);
	if (r < 0) {
		log_error_errno(r, "Failed to load the template key: %m");
		goto fail;
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/biogate.db", m->state_dir);
	r = store_open(path, &m->store);
	if (r < 0) {
		log_error_errno(r, "Failed to open the database %s: %m", path);
		goto fail;
	}
	/* A session whose login is gone is closed; one whose login still runs is kept. */
	(void)sessions_close_stale(m->store, now_real_usec());

	snprintf(path, sizeof(path), "%s/audit.db", m->state_dir);
	r = audit_open(m->event, path, m->state_dir, &m->audit);
	if (r < 0) {
		log_error_errno(r, "Failed to open the audit trail %s: %m", path);
		goto fail;
	}
	r = anchor_check(m->state_dir, m->store, m->audit, m->secret, m->terminal, &a->accept);
	if (r < 0)
		goto fail;
	AuditRecord start = { .time_usec = now_real_usec(),
		              .terminal = m->terminal,
		              .action = "daemon.start",
		              .outcome = "ok" };
	(void)audit_append(m->audit, &start, NULL, NULL);
	r = incidents_new(m, &m->incidents);
	if (r < 0) {
		log_error_errno(r, "Failed to start incident tracking: %m");
		goto fail;
	}
	/* After incidents: a state volume already low at start is an incident. */
	r = refusals_new(m, &m->refusals);
	if (r < 0) {
		log_error_errno(r, "Failed to start counting refusals: %m");
		goto fail;
	}

	int fd = open_listen_socket(m->runtime_dir);
	if (fd < 0) {
		r = fd;
		goto fail;
	}
	r = server_new(m, fd, methods_dispatch, &m->server);
	if (r < 0) {
		close(fd);
		goto fail;
	}
	r = sensorlink_new(m, &m->sensor);
	if (r < 0)
		goto fail;
	r = sessions_new(m, &m->sessions);
	if (r < 0) {
		log_error_errno(r, "Failed to start session tracking: %m");
		goto fail;
	}
	/* After the audit trail and after every old session was closed: staff entries the
	 * last run left open are closed here. */
	r = room_new(m, &m->room);
	if (r < 0)
		goto fail;
	sessions_set_hooks(m->sessions, manager_session_opened, manager_session_ended, m);
	/* After sessions, incidents and the trail: the fleet applies revocations to all three. */
	r = fleet_new(m, &m->fleet);
	if (r < 0) {
		log_error_errno(r, "Failed to start the fleet connection: %m");
		goto fail;
	}
	/* After incidents: a device blocked at start is an incident too. */
	r = devices_new(m, &m->devices);
	if (r < 0) {
		log_error_errno(r, "Failed to start the removable storage watch: %m");
		goto fail;
	}
	*ret = m;
	return 0;
fail:
	manager_free(m);
	return r;
}

/* The loop is ending (SIGTERM, SIGINT): the stop is the trail's last record of this run. */
static int
manager_on_exit(sd_event_source *es, void *userdata)
{
	Manager *m = userdata;
	AuditRecord stop = { .time_usec = now_real_usec(),
		             .terminal = m->terminal,
		             .action = "daemon.stop",
		             .outcome = "ok" };
	int r = audit_append(m->audit, &stop, NULL, NULL);
	if (r >= 0)
		r = audit_flush(m->audit);
	if (r < 0)
		log_error_errno(r, "The stop could not be recorded: %m");
	return 0;
}

static int
run(int argc, char **argv)
{
	log_journal = getenv("JOURNAL_STREAM") != NULL;
	/* The daemon's crypto must not depend on the system's openssl.cnf, and error strings
	 * are never shown to anyone: skip both (about 0.5 MiB less resident memory). */
	if (OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS,
	                        NULL) != 1)
		return log_error_errno(-EIO, "Failed to initialize OpenSSL");
	Args a;
	int r = parse_args(argc, argv, &a);
	if (r != 0)
		return r > 0 ? 0 : r;
	if (a.check_config)
		return check_config(&a);
	policy_arg = a.policy;

	Manager *m = NULL;
	r = manager_new(&a, &m);
	if (r < 0)
		return r;
	log_info("biogated %s ready on %s/%s", BIOGATE_VERSION, m->runtime_dir,
	         BIOGATE_SOCKET_NAME);
	(void)sd_notify(0, "READY=1\nSTATUS=Serving");
	/* Last of the exit sources (after the refusal summaries): once sd_event_loop() has
	 * returned nothing can be queued on the trail any more, so the record is written here. */
	sd_event_source *stop = NULL;
	r = sd_event_add_exit(m->event, &stop, manager_on_exit, m);
	if (r >= 0)
		r = sd_event_source_set_priority(stop, SD_EVENT_PRIORITY_IDLE);
	if (r < 0) {
		sd_event_source_unref(stop);
		manager_free(m);
		return log_error_errno(r, "Failed to set up the stop record: %m");
	}
	r = sd_event_loop(m->event);
	(void)sd_notify(0, "STOPPING=1");
	sd_event_source_unref(stop);
	manager_free(m);
	return r < 0 ? r : 0;
}

int
main(int argc, char **argv)
{
	int r = run(argc, argv);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
