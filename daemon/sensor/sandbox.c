/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sandbox: demotes biogated-sensor before it reads anything from a reader, as OpenSSH's
 * privsep_child_demote() does for its network child. A bug in a reader driver, in GLib or
 * in libusb's descriptor parsing must not reach biogate.db, audit.db or the key files, and
 * must not turn into a new process, a network connection or a privilege.
 *
 * Layers, each independent of the others:
 *  - PR_SET_NO_NEW_PRIVS, and when running as root every capability dropped (bounding set
 *    included): uid 0 still owns the root-owned reader nodes and /run, nothing more.
 *  - Landlock: every filesystem right the kernel knows is handled, and only the paths a
 *    reader needs are allowed (read-only system files and sysfs/udev state, read-write
 *    /dev/bus/usb and the hidraw/spidev nodes present at start, the virtual drivers'
 *    socket directories). The state directory, the runtime directory, /tmp, /home and
 *    /proc of other processes are out of reach whatever their modes. Where the kernel
 *    offers them, TCP bind/connect and signals or abstract sockets outside the sandbox are
 *    refused too.
 *  - Without Landlock (kernel without it, or disabled at boot): as root, the process
 *    switches to "nobody" (group "biogate" for the reader nodes) so the 0700 state
 *    directory owned by the daemon's user is closed to it; not as root, it says once that
 *    the state directory stays reachable and continues (it then relies on the unit).
 *  - seccomp (libseccomp, not hand-written BPF): an allow-list of the system calls GLib,
 *    libfprint, gusb/libusb and libudev make (traced on the virtual drivers; usbfs, hidraw
 *    and spidev ioctls by type for real readers); socket() only for AF_UNIX and AF_NETLINK,
 *    clone() only for threads, prctl() only for thread names. Anything else fails with
 *    EPERM, so an unexpected library path is an error a driver reports, not a crash loop.
 *
 * It must run while the process is single-threaded: Landlock binds the calling thread.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <libgen.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "sandbox.h"

/*
 * The Landlock ABI is the kernel's, stable across versions; Debian 12's headers describe
 * ABI 2 only, so the later rights and the grown ruleset are spelt out here. A kernel that
 * knows less is told less (rights are masked by the version it reports).
 */
#define LL_FS_EXECUTE     (1ULL << 0)
#define LL_FS_WRITE_FILE  (1ULL << 1)
#define LL_FS_READ_FILE   (1ULL << 2)
#define LL_FS_READ_DIR    (1ULL << 3)
#define LL_FS_REMOVE_FILE (1ULL << 5)
#define LL_FS_MAKE_SOCK   (1ULL << 9)
#define LL_FS_IOCTL_DEV   (1ULL << 15)
#define LL_FS_FILE_ONLY                                                                            \
	(LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | (1ULL << 14) | LL_FS_IOCTL_DEV)
#define LL_NET_TCP   (3ULL) /* bind, connect (ABI 4) */
#define LL_SCOPE_ALL (3ULL) /* abstract unix sockets, signals (ABI 6) */
#define LL_RULE_PATH 1

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

static uint64_t
ll_fs_rights(int abi)
{
	/* ABI 1: bits 0..12; 2: REFER (13); 3: TRUNCATE (14); 5: IOCTL_DEV (15). */
	if (abi >= 5)
		return (1ULL << 16) - 1;
	if (abi >= 3)
		return (1ULL << 15) - 1;
	if (abi >= 2)
		return (1ULL << 14) - 1;
	return (1ULL << 13) - 1;
}

static void __attribute__((format(printf, 1, 2))) sb_log(const char *fmt, ...)
{
	char line[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	fprintf(stderr, "biogated-sensor: %s\n", line);
}

/* Adds "path and what lies beneath it" with the rights that apply to its type. */
static int
ll_allow(int ruleset, const char *path, uint64_t rights, uint64_t handled)
{
	struct {
		uint64_t allowed_access;
		int32_t parent_fd;
	} __attribute__((packed)) rule;
	struct stat st;
	int fd, r = 0;

	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISDIR(st.st_mode))
		rights &= LL_FS_FILE_ONLY;
	rule.allowed_access = rights & handled;
	rule.parent_fd = fd;
	if (rule.allowed_access &&
	    syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH, &rule, 0) < 0)
		r = -errno;
out:
	close(fd);
	if (r < 0)
		sb_log("landlock: cannot allow %s: %s", path, strerror(-r));
	return r;
}

static int
ll_allow_glob(int ruleset, const char *pattern, uint64_t rights, uint64_t handled)
{
	glob_t g;
	int r = 0;

	if (glob(pattern, GLOB_NOSORT, NULL, &g) != 0)
		return 0;
	for (size_t i = 0; i < g.gl_pathc && r >= 0; i++)
		r = ll_allow(ruleset, g.gl_pathv[i], rights, handled);
	globfree(&g);
	return r;
}

/* Returns 1 when applied, 0 when the kernel has no Landlock, -errno on failure. */
static int
landlock_apply(void)
{
	static const char *const read_only[] = {
		/* Libraries (GIO modules load late), locale data, usb.ids; /lib is /usr/lib. */
		"/usr",
		"/lib",
		"/lib64",
		/* The few files under /etc that libc, GLib and libudev read. */
		"/etc/ld.so.cache",
		"/etc/localtime",
		"/etc/udev",
		"/etc/nsswitch.conf",
		"/etc/passwd",
		"/etc/group",
		/* Device enumeration: sysfs attributes and descriptors, udev's database. */
		"/sys",
		"/run/udev",
		/* This process's own /proc entries (mountinfo for libmount); no other process's. */
		"/proc/self",
		"/proc/filesystems",
	};
	static const char *const virtual_env[] = {
		"FP_VIRTUAL_DEVICE",
		"FP_VIRTUAL_DEVICE_STORAGE",
		"FP_VIRTUAL_IMAGE",
	};
	const uint64_t rd = LL_FS_READ_FILE | LL_FS_READ_DIR;
	const uint64_t dev = LL_FS_READ_FILE | LL_FS_WRITE_FILE | LL_FS_IOCTL_DEV;
	struct ll_ruleset_attr attr = { 0 };
	int abi, ruleset, r = 0;

	abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0) {
		/* EPERM: a system call filter around us (the unit's) refuses Landlock itself. */
		if (errno == ENOSYS || errno == EOPNOTSUPP || errno == EPERM) {
			sb_log("Landlock unavailable: %s", strerror(errno));
			return 0;
		}
		return -errno;
	}
	attr.handled_access_fs = ll_fs_rights(abi);
	if (abi >= 4)
		attr.handled_access_net = LL_NET_TCP;
	if (abi >= 6)
		attr.scoped = LL_SCOPE_ALL;
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
	if (ruleset < 0)
		return -errno;

	for (size_t i = 0; i < sizeof read_only / sizeof read_only[0] && r >= 0; i++)
		r = ll_allow(ruleset, read_only[i], rd, attr.handled_access_fs);
	/* /dev itself may be listed (enumeration), its nodes are not opened through it. */
	if (r >= 0)
		r = ll_allow(ruleset, "/dev", LL_FS_READ_DIR, attr.handled_access_fs);
	if (r >= 0)
		r = ll_allow(ruleset, "/dev/null", dev, attr.handled_access_fs);
	if (r >= 0)
		r = ll_allow(ruleset, "/dev/urandom", LL_FS_READ_FILE, attr.handled_access_fs);
	/* usbfs: the nodes of readers plugged in later appear beneath it. */
	if (r >= 0)
		r = ll_allow(ruleset, "/dev/bus/usb", dev | LL_FS_READ_DIR, attr.handled_access_fs);
	/* hidraw and spidev readers: only the nodes present now (a rule needs the inode). */
	if (r >= 0)
		r = ll_allow_glob(ruleset, "/dev/hidraw*", dev, attr.handled_access_fs);
	if (r >= 0)
		r = ll_allow_glob(ruleset, "/dev/spidev*", dev, attr.handled_access_fs);
	/*
	 * libfprint's virtual drivers (set only by tests and by an admin trying biogate out)
	 * listen on a Unix socket they create, after removing a stale one: their directory gets
	 * exactly that, no right to open or list what else is in it.
	 */
	for (size_t i = 0; i < sizeof virtual_env / sizeof virtual_env[0] && r >= 0; i++) {
		const char *v = getenv(virtual_env[i]);
		char *copy;

		if (!v || !*v)
			continue;
		copy = strdup(v);
		if (!copy) {
			r = -ENOMEM;
			break;
		}
		r = ll_allow(ruleset, dirname(copy), LL_FS_MAKE_SOCK | LL_FS_REMOVE_FILE,
		             attr.handled_access_fs);
		free(copy);
	}
	if (r >= 0 && syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
		r = -errno;
	close(ruleset);
	if (r < 0)
		return r;
	sb_log("landlock ABI %d: state directory out of reach", abi);
	return 1;
}

/* Without Landlock, as root: an unprivileged uid keeps the 0700 state directory closed. */
static int
switch_to_nobody(void)
{
	const struct passwd *pw = getpwnam("nobody");
	const struct group *gr = getgrnam("biogate");
	uid_t uid = pw ? pw->pw_uid : 65534;
	gid_t gid = gr ? gr->gr_gid : (pw ? pw->pw_gid : 65534);

	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		return -errno;
	if (setuid(0) == 0)
		return -EPERM; /* could go back: not demoted */
	sb_log("without Landlock: running as uid %u gid %u instead of root", (unsigned)uid,
	       (unsigned)gid);
	return 0;
}

static int
drop_capabilities(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { { 0 } };

	for (int cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return -errno;
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -errno;
	return 0;
}

static bool
single_threaded(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!d)
		return false;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n == 1;
}

#if defined(__SANITIZE_ADDRESS__)
#define SB_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SB_SANITIZER 1
#endif
#endif

static int
seccomp_apply(unsigned *ret_count)
{
	/* What GLib, libfprint, gusb/libusb, libudev and libc call once the reader is used. */
	static const int plain[] = {
		/* files and descriptors (Landlock decides which paths) */
		SCMP_SYS(read),
		SCMP_SYS(write),
		SCMP_SYS(readv),
		SCMP_SYS(writev),
		SCMP_SYS(pread64),
		SCMP_SYS(pwrite64),
		SCMP_SYS(lseek),
		SCMP_SYS(close),
		SCMP_SYS(close_range),
		SCMP_SYS(openat),
		SCMP_SYS(open),
		SCMP_SYS(newfstatat),
		SCMP_SYS(fstat),
		SCMP_SYS(stat),
		SCMP_SYS(lstat),
		SCMP_SYS(statx),
		SCMP_SYS(statfs),
		SCMP_SYS(fstatfs),
		SCMP_SYS(access),
		SCMP_SYS(faccessat),
		SCMP_SYS(faccessat2),
		SCMP_SYS(readlink),
		SCMP_SYS(readlinkat),
		SCMP_SYS(getdents64),
		SCMP_SYS(fcntl),
		SCMP_SYS(dup),
		SCMP_SYS(dup2),
		SCMP_SYS(dup3),
		SCMP_SYS(pipe2),
		SCMP_SYS(unlink),
		SCMP_SYS(unlinkat),
		SCMP_SYS(fadvise64),
		SCMP_SYS(umask),
		SCMP_SYS(getcwd),
		/* memory */
		SCMP_SYS(mmap),
		SCMP_SYS(munmap),
		SCMP_SYS(mprotect),
		SCMP_SYS(mremap),
		SCMP_SYS(madvise),
		SCMP_SYS(brk),
		/* threads, scheduling, signals to itself */
		SCMP_SYS(futex),
		SCMP_SYS(set_robust_list),
		SCMP_SYS(rseq),
		SCMP_SYS(set_tid_address),
		SCMP_SYS(gettid),
		SCMP_SYS(getpid),
		SCMP_SYS(sched_yield),
		SCMP_SYS(sched_getaffinity),
		SCMP_SYS(sched_getattr),
		SCMP_SYS(sched_setattr),
		SCMP_SYS(exit),
		SCMP_SYS(exit_group),
		SCMP_SYS(rt_sigprocmask),
		SCMP_SYS(rt_sigaction),
		SCMP_SYS(rt_sigreturn),
		SCMP_SYS(sigaltstack),
		SCMP_SYS(restart_syscall),
		SCMP_SYS(getuid),
		SCMP_SYS(geteuid),
		SCMP_SYS(getgid),
		SCMP_SYS(getegid),
		SCMP_SYS(getresuid),
		SCMP_SYS(getresgid),
		SCMP_SYS(getgroups),
		SCMP_SYS(uname),
		SCMP_SYS(getrandom),
		SCMP_SYS(getrlimit),
		/* time and the main loop (GLib, libusb's event thread) */
		SCMP_SYS(clock_gettime),
		SCMP_SYS(clock_getres),
		SCMP_SYS(clock_nanosleep),
		SCMP_SYS(nanosleep),
		SCMP_SYS(gettimeofday),
		SCMP_SYS(timerfd_create),
		SCMP_SYS(timerfd_settime),
		SCMP_SYS(timerfd_gettime),
		SCMP_SYS(eventfd2),
		SCMP_SYS(poll),
		SCMP_SYS(ppoll),
		SCMP_SYS(epoll_create1),
		SCMP_SYS(epoll_ctl),
		SCMP_SYS(epoll_wait),
		SCMP_SYS(epoll_pwait),
		SCMP_SYS(select),
		SCMP_SYS(pselect6),
		/* the link to biogated, udev's netlink monitor, the virtual drivers' sockets */
		SCMP_SYS(bind),
		SCMP_SYS(listen),
		SCMP_SYS(accept),
		SCMP_SYS(accept4),
		SCMP_SYS(connect),
		SCMP_SYS(sendto),
		SCMP_SYS(sendmsg),
		SCMP_SYS(recvfrom),
		SCMP_SYS(recvmsg),
		SCMP_SYS(shutdown),
		SCMP_SYS(getsockname),
		SCMP_SYS(getpeername),
		SCMP_SYS(getsockopt),
		SCMP_SYS(setsockopt),
	};
	/* ioctl types: usbfs ('U'), hidraw ('H'), spidev ('k'); exact requests for GLib. */
	static const unsigned long ioctl_types[] = { 'U', 'H', 'k' };
	static const unsigned long ioctl_exact[] = { TCGETS, FIONREAD, FIONBIO, FIOCLEX, FIONCLEX };
	scmp_filter_ctx ctx;
	unsigned n = 0;
	int r = 0;

	ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (!ctx)
		return -ENOMEM;
	/*
	 * Threads created later inherit the filter and there are none yet (checked), so no
	 * TSYNC: without it libseccomp can still load through prctl() where an outer filter
	 * refuses the seccomp() system call.
	 */
	for (size_t i = 0; i < sizeof plain / sizeof plain[0] && r >= 0; i++, n++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, plain[i], 0);
	for (size_t i = 0; i < sizeof ioctl_types / sizeof ioctl_types[0] && r >= 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
		                     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xff00, ioctl_types[i] << 8));
	for (size_t i = 0; i < sizeof ioctl_exact / sizeof ioctl_exact[0] && r >= 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
		                     SCMP_A1(SCMP_CMP_EQ, ioctl_exact[i]));
	n++;
	/* No new process and no raw or IP socket. */
	if (r >= 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
		                     SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	if (r >= 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
		                     SCMP_A0(SCMP_CMP_EQ, AF_NETLINK));
	n++;
	if (r >= 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socketpair), 1,
		                     SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	n++;
	/* clone3's flags sit in memory seccomp cannot read: ENOSYS makes glibc use clone(). */
	if (r >= 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (r >= 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
		                     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
	n++;
	if (r >= 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
		                     SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME));
	if (r >= 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
		                     SCMP_A0(SCMP_CMP_EQ, PR_GET_NAME));
	n++;
	/* Reading limits only (GLib, libc); setting them is refused. */
	if (r >= 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 1,
		                     SCMP_A2(SCMP_CMP_EQ, 0));
	n++;
	/* abort() and raise() signal this process only. */
	if (r >= 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
		                     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
	n++;
#ifdef SB_SANITIZER
	/*
	 * Sanitizer builds only (tests): LeakSanitizer stops the world at exit from a tracer
	 * task it clones with CLONE_VM (memory shared, still no new process image: fork stays
	 * refused), which lists /proc/PID/task with getdents, ptrace-attaches this process's
	 * threads and is waited for.
	 */
	{
		static const int lsan[] = { SCMP_SYS(ptrace),  SCMP_SYS(wait4),   SCMP_SYS(waitid),
			                    SCMP_SYS(kill),    SCMP_SYS(tkill),   SCMP_SYS(getppid),
			                    SCMP_SYS(mincore), SCMP_SYS(getdents) };

		for (size_t i = 0; i < sizeof lsan / sizeof lsan[0] && r >= 0; i++)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, lsan[i], 0);
		if (r >= 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
			                     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_VM, CLONE_VM));
		if (r >= 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 0);
	}
#endif
	if (r >= 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0)
		return r;
	*ret_count = n;
	return 0;
}

int
sensor_sandbox_apply(void)
{
	unsigned n = 0;
	int r;

	if (!single_threaded())
		return -EBUSY;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	r = landlock_apply();
	if (r < 0)
		return r;
	if (r == 0) {
		if (geteuid() == 0) {
			r = switch_to_nobody();
			if (r < 0)
				return r;
		} else {
			sb_log("warning: no Landlock in this kernel; the state directory stays "
			       "reachable to this process's user");
		}
	}
	if (geteuid() == 0) {
		r = drop_capabilities();
		if (r < 0)
			return r;
	}
	r = seccomp_apply(&n);
	if (r < 0)
		return r;
	sb_log("demoted: no new privileges, seccomp allow-list of %u system calls", n);
	return 0;
}
