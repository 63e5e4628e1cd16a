/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The running biogated-sensor cannot open biogate.db, audit.db or the key files.
 *
 * The test lays out a state directory as biogated does (0700, the databases and keys inside)
 * and starts the real sensor as biogated does, with a virtual_device reader, plus the probe
 * (probe.c) preloaded: right after the sensor has demoted itself, the probe tries to open
 * each state file for reading and for writing, directly and through /proc/PID/fd of a
 * descriptor this test holds, to open an IP socket, to fork and to exec, and checks that
 * /dev/null and sysfs still open. From outside, /proc/PID/status must show NoNewPrivs and
 * a seccomp filter while the sensor runs; and the sensor must still serve the reader.
 * It fails if any layer is missing; it never skips (the sandbox needs no privilege).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/biogate-sandbox-test.XXXXXX";
static pid_t sensor_pid;
static int failures;

static void __attribute__((format(printf, 1, 2))) check_failed(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FAIL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	failures++;
}

static void __attribute__((format(printf, 1, 2), noreturn)) die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FAIL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (sensor_pid > 0)
		kill(sensor_pid, SIGKILL);
	exit(1);
}

static void
write_file(const char *path, const char *content, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (fd < 0 || write(fd, content, strlen(content)) != (ssize_t)strlen(content))
		die("cannot write %s: %s", path, strerror(errno));
	close(fd);
}

/* Reads one NUL-terminated frame from fd within timeout_ms. */
static char *
recv_frame(int fd, int timeout_ms)
{
	static char buf[65536];
	size_t len = 0;

	while (len < sizeof buf) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, timeout_ms) <= 0)
			die("no reply from the sensor within %d ms", timeout_ms);
		n = recv(fd, buf + len, 1, 0);
		if (n <= 0)
			die("the sensor closed the link: %s", n < 0 ? strerror(errno) : "EOF");
		if (buf[len] == '\0')
			return buf;
		len++;
	}
	die("frame too long");
}

static bool
status_has(pid_t pid, const char *line)
{
	char path[64], buf[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open %s: %s", path, strerror(errno));
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		die("read %s", path);
	buf[n] = '\0';
	return strstr(buf, line) != NULL;
}

/* The probe's verdict for one attempt, e.g. "EACCES" or "ok"; NULL when it did not say. */
static const char *
verdict(const char *log, const char *attempt, char *out, size_t outlen)
{
	char key[512];
	const char *p;
	size_t n;

	snprintf(key, sizeof key, "probe %s ", attempt);
	p = strstr(log, key);
	if (!p)
		return NULL;
	p += strlen(key);
	n = strcspn(p, "\n");
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, p, n);
	out[n] = '\0';
	return out;
}

static void
expect_refused(const char *log, const char *attempt)
{
	char v[64];

	if (!verdict(log, attempt, v, sizeof v))
		check_failed("the probe did not report '%s'", attempt);
	else if (strcmp(v, "EACCES") != 0 && strcmp(v, "EPERM") != 0)
		check_failed("'%s' inside the sensor: %s (want EACCES or EPERM)", attempt, v);
	else
		fprintf(stderr, "ok: %s refused (%s)\n", attempt, v);
}

static void
expect_allowed(const char *log, const char *attempt)
{
	char v[64];

	if (!verdict(log, attempt, v, sizeof v) || strcmp(v, "ok") != 0)
		check_failed("'%s' inside the sensor: %s (want ok)", attempt,
		             verdict(log, attempt, v, sizeof v) ? v : "not reported");
	else
		fprintf(stderr, "ok: %s allowed\n", attempt);
}

int
main(int argc, char **argv)
{
	static const char *const names[] = { "biogate.db", "audit.db", "template.key",
		                             "audit.key" };
	char state[300], sockdir[300], vdev[320], files[2048] = "", proc[64],
	                                          hello[] = "{\"id\":1,\"op\":\"hello\"}";
	char log[65536];
	size_t loglen = 0;
	int sv[2], errpipe[2], held, status;
	const char *reply;

	if (argc != 3) {
		fprintf(stderr, "usage: %s PATH-TO-biogated-sensor PATH-TO-probe.so\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(tmpdir))
		die("mkdtemp: %s", strerror(errno));
	snprintf(state, sizeof state, "%s/state", tmpdir);
	snprintf(sockdir, sizeof sockdir, "%s/run", tmpdir);
	snprintf(vdev, sizeof vdev, "%s/vdev.sock", sockdir);
	if (mkdir(state, 0700) < 0 || mkdir(sockdir, 0700) < 0)
		die("mkdir: %s", strerror(errno));
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char path[400];

		snprintf(path, sizeof path, "%s/%s", state, names[i]);
		write_file(path, "secret\n", 0600);
		if (files[0])
			strcat(files, ":");
		strcat(files, path);
	}
	/* A descriptor on the store held by the sensor's parent, as biogated holds one. */
	{
		char path[400];

		snprintf(path, sizeof path, "%s/biogate.db", state);
		held = open(path, O_RDWR | O_CLOEXEC);
		if (held < 0)
			die("open %s: %s", path, strerror(errno));
		snprintf(proc, sizeof proc, "%d/fd/%d", (int)getpid(), held);
	}

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    pipe2(errpipe, O_CLOEXEC) < 0)
		die("socketpair/pipe: %s", strerror(errno));
	sensor_pid = fork();
	if (sensor_pid < 0)
		die("fork: %s", strerror(errno));
	if (sensor_pid == 0) {
		const char *asan = getenv("ASAN_OPTIONS");
		char *asan_opts = NULL;
		int nul = open("/dev/null", O_RDONLY);

		if (nul < 0 || dup2(nul, 0) < 0 || dup2(sv[1], 3) < 0 || dup2(errpipe[1], 2) < 0)
			_exit(127);
		/* The probe is preloaded ahead of the sanitizer runtime in sanitizer builds. */
		if (asprintf(&asan_opts, "%s%sverify_asan_link_order=0", asan ? asan : "",
		             asan ? ":" : "") < 0)
			_exit(127);
		setenv("ASAN_OPTIONS", asan_opts, 1);
		setenv("LD_PRELOAD", argv[2], 1);
		setenv("BIOGATE_PROBE_FILES", files, 1);
		setenv("BIOGATE_PROBE_PROC", proc, 1);
		setenv("FP_VIRTUAL_DEVICE", vdev, 1);
		setenv("FP_DRIVERS_WHITELIST", "virtual_device", 1);
		unsetenv("FP_VIRTUAL_DEVICE_STORAGE");
		unsetenv("FP_VIRTUAL_IMAGE");
		execl(argv[1], argv[1], (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	close(errpipe[1]);

	/* The demoted sensor still serves its reader. */
	if (send(sv[0], hello, sizeof hello, MSG_NOSIGNAL) != (ssize_t)sizeof hello)
		die("send hello: %s", strerror(errno));
	reply = recv_frame(sv[0], 15000);
	if (!strstr(reply, "\"present\":true") || !strstr(reply, "\"driver\":\"virtual_device\""))
		check_failed("the sandboxed sensor has no reader: %s", reply);
	else
		fprintf(stderr, "ok: the sandboxed sensor serves the virtual reader\n");

	/* Seen from outside while it runs. */
	if (!status_has(sensor_pid, "NoNewPrivs:\t1"))
		check_failed("the running sensor lacks NoNewPrivs");
	if (!status_has(sensor_pid, "Seccomp:\t2"))
		check_failed("the running sensor has no seccomp filter");
	else
		fprintf(stderr, "ok: /proc/%d/status: NoNewPrivs 1, Seccomp 2\n", (int)sensor_pid);

	/* EOF on fd 3 ends it cleanly. */
	close(sv[0]);
	if (waitpid(sensor_pid, &status, 0) != sensor_pid)
		die("waitpid: %s", strerror(errno));
	sensor_pid = 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		check_failed("the sensor did not exit cleanly on EOF (status %#x)", status);
	for (;;) {
		ssize_t n = read(errpipe[0], log + loglen, sizeof log - 1 - loglen);

		if (n <= 0)
			break;
		loglen += (size_t)n;
	}
	log[loglen] = '\0';
	if (!strstr(log, "probe done"))
		check_failed("the probe did not run");

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char attempt[420];

		snprintf(attempt, sizeof attempt, "read %s/%s", state, names[i]);
		expect_refused(log, attempt);
		snprintf(attempt, sizeof attempt, "write %s/%s", state, names[i]);
		expect_refused(log, attempt);
	}
	{
		char attempt[100];

		snprintf(attempt, sizeof attempt, "proc-fd /proc/%s", proc);
		expect_refused(log, attempt);
	}
	expect_refused(log, "socket-inet");
	expect_refused(log, "fork");
	expect_refused(log, "exec");
	expect_allowed(log, "read /dev/null");
	expect_allowed(log, "read /sys/class");
	expect_allowed(log, "socket-unix");

	/* The files are still there and readable to their owner: the refusals were real. */
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char path[400];

		snprintf(path, sizeof path, "%s/%s", state, names[i]);
		if (access(path, R_OK) != 0)
			check_failed("%s vanished", path);
		unlink(path);
	}
	close(held);
	unlink(vdev);
	rmdir(sockdir);
	rmdir(state);
	rmdir(tmpdir);
	if (failures) {
		fprintf(stderr, "--- sensor stderr ---\n%s", log);
		return 1;
	}
	fprintf(stderr, "PASS\n");
	return 0;
}
