/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The sandbox test's probe, LD_PRELOADed into the real biogated-sensor (never installed).
 * It stands in for fp_context_new(), which the sensor calls right after it has demoted
 * itself and before it enumerates any reader: whatever the probe can do there, a reader
 * driver could do. It tries what the sandbox must refuse and what the sensor must still be
 * able to do, reports one line per attempt on stderr ("probe NAME ok|ERRNO"), then hands
 * over to libfprint's own fp_context_new().
 *
 * BIOGATE_PROBE_FILES: colon-separated files to open read-only and read-write.
 * BIOGATE_PROBE_PROC:  "PID/FD": a descriptor the test holds on one of them, opened again
 *                      through /proc/PID/fd/FD (a path that goes around the directory).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

static void
report(const char *what, const char *arg, int r)
{
	fprintf(stderr, "probe %s%s%s %s\n", what, arg ? " " : "", arg ? arg : "",
	        r >= 0 ? "ok" : strerrorname_np(-r));
}

static int
try_open(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static void
probe(void)
{
	const char *files = getenv("BIOGATE_PROBE_FILES");
	const char *proc = getenv("BIOGATE_PROBE_PROC");
	char path[256];
	long pid;
	int fd, r;

	if (files) {
		char *copy = strdup(files), *save = NULL;

		for (char *f = strtok_r(copy, ":", &save); f; f = strtok_r(NULL, ":", &save)) {
			report("read", f, try_open(f, O_RDONLY));
			report("write", f, try_open(f, O_RDWR));
		}
		free(copy);
	}
	if (proc) {
		snprintf(path, sizeof path, "/proc/%s", proc);
		report("proc-fd", path, try_open(path, O_RDONLY));
	}
	/* What the reader needs must still work, or the refusals above prove nothing. */
	report("read", "/dev/null", try_open("/dev/null", O_RDWR));
	report("read", "/sys/class", try_open("/sys/class", O_RDONLY));

	fd = socket(AF_INET, SOCK_STREAM, 0);
	report("socket-inet", NULL, fd < 0 ? -errno : 0);
	if (fd >= 0)
		close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	report("socket-unix", NULL, fd < 0 ? -errno : 0);
	if (fd >= 0)
		close(fd);

	/* A new process: fork() is clone() without CLONE_THREAD. */
	pid = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
	if (pid == 0)
		_exit(0);
	r = pid < 0 ? -errno : 0;
	if (pid > 0)
		waitpid((pid_t)pid, NULL, 0);
	report("fork", NULL, r);
	{
		/* Seccomp refuses before the path is looked up: EPERM, not ENOENT. */
		char prog[] = "/nonexistent/biogate-probe";
		char *argv[] = { prog, NULL };

		execv(prog, argv);
		report("exec", NULL, -errno);
	}
}

EXPORT void *fp_context_new(void);

EXPORT void *
fp_context_new(void)
{
	void *(*real)(void) = (void *(*)(void))dlsym(RTLD_NEXT, "fp_context_new");

	probe();
	fprintf(stderr, "probe done\n");
	return real();
}
