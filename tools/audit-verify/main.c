/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * biogate-audit-verify FILE --keys PUBKEYS: checks a sealed export of a biogate audit trail
 * offline, with nothing but the terminal's public key list (as the city took it down). Needs
 * no daemon and no secret; reads two files, prints a verdict, exits 0 (ok), 1 (broken) or
 * 2 (could not check: usage, unreadable or malformed key list).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "verify.h"

/* An export of seven years of a busy counter fits; anything larger is not one. */
#define FILE_MAX ((off_t)16 << 30)

/* The export is mapped, not read: a year of records is gigabytes, and mapped pages are the
 * file's own (the kernel drops them under pressure) rather than the process's memory. */
static int
map_file(const char *path, const char **ret, size_t *ret_n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	struct stat st;
	int r = 0;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode))
		r = -EINVAL;
	else if (st.st_size > FILE_MAX)
		r = -EFBIG;
	if (r < 0) {
		close(fd);
		return r;
	}
	size_t n = (size_t)st.st_size;
	const char *p = "";
	if (n > 0) {
		void *m = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m == MAP_FAILED) {
			r = -errno;
			close(fd);
			return r;
		}
		(void)madvise(m, n, MADV_SEQUENTIAL);
		p = m;
	}
	close(fd);
	*ret = p;
	*ret_n = n;
	return 0;
}

static void
unmap_file(const char *p, size_t n)
{
	if (n > 0)
		(void)munmap((void *)(uintptr_t)p, n);
}

static void
print_time(const char *label, int64_t usec)
{
	time_t t = (time_t)(usec / 1000000);
	struct tm tm;
	char buf[64];
	if (usec > 0 && gmtime_r(&t, &tm) &&
	    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm))
		printf("%s%s\n", label, buf);
}

static void
usage(FILE *f)
{
	fputs("Usage: biogate-audit-verify EXPORT --keys PUBKEYS\n"
	      "Checks a sealed biogate audit export (biogatectl audit export --format sealed)\n"
	      "against the terminal's public key list (biogatectl audit keys export).\n",
	      f);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "keys", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *keys_path = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "k:h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			keys_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!keys_path || optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	const char *export_path = argv[optind];
	const char *kt = NULL, *et = NULL;
	size_t kn = 0, en = 0;
	int r = map_file(keys_path, &kt, &kn);
	if (r < 0) {
		fprintf(stderr, "biogate-audit-verify: %s: %s\n", keys_path, strerror(-r));
		return 2;
	}
	SealKeys *keys = NULL;
	const char *msg = NULL;
	r = seal_keys_parse(kt, kn, &keys, &msg);
	unmap_file(kt, kn);
	if (r < 0) {
		fprintf(stderr, "biogate-audit-verify: %s: %s\n", keys_path,
		        msg ? msg : strerror(-r));
		return 2;
	}
	r = map_file(export_path, &et, &en);
	if (r < 0) {
		fprintf(stderr, "biogate-audit-verify: %s: %s\n", export_path, strerror(-r));
		seal_keys_free(keys);
		return 2;
	}
	SealVerdict v;
	r = seal_verify(keys, et, en, &v);
	unmap_file(et, en);
	seal_keys_free(keys);
	if (r < 0) {
		fprintf(stderr, "biogate-audit-verify: %s\n", strerror(-r));
		return 2;
	}
	bool ok = strcmp(v.problem, "ok") == 0;
	/* "ok" and "broken: PROBLEM" as `biogatectl audit verify` prints them. */
	if (ok) {
		puts("ok");
		printf("Records %" PRId64 " to %" PRId64 " are intact: %" PRId64
		       " records, %" PRId64 " checkpoints verified.\n",
		       v.first_seq, v.last_seq, v.records, v.checkpoints);
		if (v.unsealed > 0)
			printf("The last %" PRId64 " records come after the newest checkpoint: "
			       "nothing seals them yet.\n",
			       v.unsealed);
	} else {
		printf("broken: %s\n", v.problem);
		if (strcmp(v.problem, "malformed") == 0)
			printf("The export is malformed: %s.\n", v.message);
		else
			printf("The audit trail is broken at record %" PRId64 ": %s.\n",
			       v.first_bad_seq, v.message);
		if (v.checkpoint_seq > 0)
			printf("Checkpoint at record %" PRId64 ".\n", v.checkpoint_seq);
	}
	print_time("Newest checkpoint verified: ", v.last_checkpoint_time);
	printf("Public keys: fingerprint %s\n", v.fingerprint);
	return ok ? 0 : 1;
}
