/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * biogate-tell: writes one of biogated's warnings (idle logoff, shift end, end of day; R8,
 * R10) to a session's terminal. A login's terminal belongs to the person and, on Debian's
 * consoles (login.defs TTYPERM 0600), is writable by nobody else: biogated, with no
 * capability and a private /dev, cannot reach it. biogated hands the warning to
 * biogate-tell.socket (Accept=yes, only the biogate user may connect); systemd starts
 * biogate-tell@.service with the connection on stdin.
 *
 * stdin: "TTY\nMESSAGE" (at most 1 KiB). TTY must be a terminal: a character device of the
 * virtual consoles and serial lines, the pseudo terminals or hvc; anything else is refused.
 * The message is written with control characters replaced, never read back, without
 * blocking and without acquiring the terminal.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define INPUT_MAX 1024

/* Linux's majors: 4 tty (VTs, ttyS), 136..143 the Unix98 pseudo terminals, 229 hvc. */
static bool
terminal_major(unsigned m)
{
	return m == 4 || (m >= 136 && m <= 143) || m == 229;
}

int
main(int argc, char **argv)
{
	if (argc > 1) {
		bool h = argc == 2 && strcmp(argv[1], "--help") == 0;
		fprintf(h ? stdout : stderr,
		        "Usage: biogate-tell < REQUEST\n\nWrites biogated's warning to a session's "
		        "terminal (biogate-tell@.service). See biogated(8).\n");
		return h ? 0 : 2;
	}
	char buf[INPUT_MAX + 1];
	size_t len = 0;
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf + len, INPUT_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == INPUT_MAX)
			break;
	}
	buf[len] = '\0';
	char *nl = memchr(buf, '\n', len);
	if (!nl || strlen(buf) != len || strncmp(buf, "/dev/", 5) != 0) {
		fprintf(stderr, "biogate-tell: malformed request\n");
		return 1;
	}
	*nl = '\0';
	const char *tty = buf;
	char *msg = nl + 1;
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	int fd = open(tty, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		fprintf(stderr, "biogate-tell: cannot open %s: %s\n", tty, strerror(errno));
		return 1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || !terminal_major(major(st.st_rdev)) ||
	    !isatty(fd)) {
		fprintf(stderr, "biogate-tell: %s is not a terminal: refused\n", tty);
		close(fd);
		return 1;
	}
	char line[INPUT_MAX + 8];
	int n = snprintf(line, sizeof(line), "\r\n%s\r\n", msg);
	int r = 0;
	if (n > 0 && write(fd, line, (size_t)n) < 0) {
		fprintf(stderr, "biogate-tell: cannot write to %s: %s\n", tty, strerror(errno));
		r = 1;
	}
	close(fd);
	return r;
}
