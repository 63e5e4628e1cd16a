/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * biogate-notify: runs the policy's incident notify command (R17) where it can reach the
 * network. biogated itself has no IP (RestrictAddressFamilies=AF_UNIX AF_NETLINK,
 * IPAddressDeny=any), so it hands each incident to biogate-notify.socket (Accept=yes, only
 * the biogate user may connect); systemd starts one biogate-notify@.service per incident, as
 * the biogate user, with the connection on stdin and stdout.
 *
 * stdin:  "biogate-notify 1 TIMEOUT_SEC /absolute/command\n" then the incident JSON to EOF
 * stdout: one line: "exited N", "signal N", "timeout", or "refused REASON"
 *
 * The command gets the JSON on its stdin, /dev/null on stdout, this process's stderr (the
 * journal), a fixed environment, its own process group, and is killed with its group after
 * TIMEOUT_SEC. It must be a regular executable file only root or the biogate user can change,
 * as biogated checks before it sends.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define INPUT_MAX   (64 * 1024)
#define TIMEOUT_MAX 600

static int
answer(const char *line)
{
	printf("%s\n", line);
	return fflush(stdout) == 0 ? 0 : 1;
}

static int
check_command(const char *path)
{
	struct stat st;
	if (path[0] != '/')
		return -EINVAL;
	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || !(st.st_mode & S_IXUSR))
		return -EACCES;
	if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return -EPERM;
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc > 1) {
		fprintf(argc == 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr,
		        "Usage: biogate-notify < REQUEST\n\nRuns biogate's incident notify command "
		        "for biogated (biogate-notify@.service). See biogated(8), "
		        "biogate-policy(5).\n");
		return argc == 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
	}
	char *buf = malloc(INPUT_MAX + 1);
	if (!buf)
		return 1;
	size_t len = 0;
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf + len, INPUT_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return answer("refused read-error"), 1;
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == INPUT_MAX)
			return answer("refused too-long"), 1;
	}
	buf[len] = '\0';
	char *nl = memchr(buf, '\n', len);
	unsigned timeout = 0;
	char path[PATH_MAX];
	int used = 0;
	if (!nl || strlen(buf) != len)
		return answer("refused malformed"), 1;
	*nl = '\0';
	if (sscanf(buf, "biogate-notify 1 %u %n", &timeout, &used) != 1 || used == 0 ||
	    timeout == 0 || timeout > TIMEOUT_MAX || strlen(buf + used) >= sizeof(path))
		return answer("refused malformed"), 1;
	snprintf(path, sizeof(path), "%s", buf + used);
	int r = check_command(path);
	if (r < 0) {
		fprintf(stderr, "biogate-notify: refusing to run %s: %s\n", path,
		        r == -EPERM ? "others can change it" : strerror(-r));
		return answer("refused bad-command"), 0;
	}
	const char *json = nl + 1;
	size_t json_len = len - (size_t)(json - buf);

	int fd = memfd_create("biogate-incident", MFD_CLOEXEC);
	if (fd < 0 || write(fd, json, json_len) != (ssize_t)json_len || lseek(fd, 0, SEEK_SET) != 0)
		return answer("refused spawn"), 0;
	sigset_t chld, none, all;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigemptyset(&none);
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	r = posix_spawn_file_actions_adddup2(&fa, fd, STDIN_FILENO);
	r = r ?: posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	r = r ?: posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
	r = r ?: posix_spawnattr_setsigmask(&attr, &none);
	r = r ?: posix_spawnattr_setsigdefault(&attr, &all);
	r = r ?: posix_spawnattr_setpgroup(&attr, 0);
	r = r
	        ?: posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
	                                               POSIX_SPAWN_SETPGROUP);
	pid_t pid = 0;
	if (r == 0) {
		char env_path[] = "PATH=/usr/local/bin:/usr/bin:/bin", env_lang[] = "LANG=C.UTF-8";
		char *cargv[] = { path, NULL };
		char *envp[] = { env_path, env_lang, NULL };
		r = posix_spawn(&pid, path, &fa, &attr, cargv, envp);
	}
	close(fd);
	if (r != 0) {
		fprintf(stderr, "biogate-notify: cannot start %s: %s\n", path, strerror(r));
		return answer("refused spawn"), 0;
	}
	/* The child's own stdout is /dev/null: ours is the connection, for the one line. */
	struct timespec end, now;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += timeout;
	int status = 0;
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long left_ms =
		    (end.tv_sec - now.tv_sec) * 1000 + (end.tv_nsec - now.tv_nsec) / 1000000;
		if (left_ms <= 0) {
			(void)kill(-pid, SIGKILL);
			(void)waitpid(pid, &status, 0);
			fprintf(stderr,
			        "biogate-notify: %s did not finish within %u s and was killed\n",
			        path, timeout);
			return answer("timeout");
		}
		struct timespec ts = { left_ms / 1000, (left_ms % 1000) * 1000000 };
		(void)sigtimedwait(&chld, NULL, &ts);
	}
	char line[64];
	if (WIFEXITED(status))
		snprintf(line, sizeof(line), "exited %d", WEXITSTATUS(status));
	else
		snprintf(line, sizeof(line), "signal %d", WTERMSIG(status));
	return answer(line);
}
