/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sealfmt: see sealfmt.h. Linked into the daemon's audit library and compiled into the
 * offline verifier: one definition of the bytes, so the two cannot drift apart.
 */
#include <errno.h>
#include <string.h>

#include "sealfmt.h"

void
sealfmt_put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

size_t
sealfmt_canonical(uint8_t *buf, int64_t seq, int64_t time_usec, const char *const f[SEAL_FIELDS],
                  const uint32_t len[SEAL_FIELDS])
{
	uint8_t *p = buf;
	memcpy(p, "BGA1", 4);
	sealfmt_put64(p + 4, (uint64_t)seq);
	sealfmt_put64(p + 12, (uint64_t)time_usec);
	p += 20;
	for (int i = 0; i < SEAL_FIELDS; i++) {
		uint32_t n = f[i] ? len[i] : 0;
		*p++ = f[i] ? 1 : 0;
		*p++ = (uint8_t)(n >> 24);
		*p++ = (uint8_t)(n >> 16);
		*p++ = (uint8_t)(n >> 8);
		*p++ = (uint8_t)n;
		if (n) {
			memcpy(p, f[i], n);
			p += n;
		}
	}
	return (size_t)(p - buf);
}

size_t
sealfmt_checkpoint_msg(uint8_t *buf, const char *terminal, int64_t epoch, int64_t seq,
                       const uint8_t hash[static SEAL_HASH_LEN], int64_t time_usec)
{
	size_t tl = terminal ? strlen(terminal) : 0;
	if (tl > SEAL_TERMINAL_MAX)
		return 0;
	uint8_t *p = buf;
	memcpy(p, "BGC1", 4);
	sealfmt_put64(p + 4, (uint64_t)epoch);
	sealfmt_put64(p + 12, (uint64_t)seq);
	memcpy(p + 20, hash, SEAL_HASH_LEN);
	sealfmt_put64(p + 20 + SEAL_HASH_LEN, (uint64_t)time_usec);
	p += 28 + SEAL_HASH_LEN;
	*p++ = (uint8_t)tl;
	if (tl)
		memcpy(p, terminal, tl);
	return (size_t)(p - buf) + tl;
}

int64_t
sealfmt_epoch(int64_t time_usec)
{
	/* Floor, also before 1970 (a record's time is the caller's). */
	int64_t e = time_usec / SEAL_EPOCH_USEC;
	if (time_usec < 0 && e * SEAL_EPOCH_USEC != time_usec)
		e--;
	return e;
}

void
sealfmt_hex(const uint8_t *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
sealfmt_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
sealfmt_unhex(const char *s, size_t slen, uint8_t *out, size_t n)
{
	if (!s || slen != 2 * n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int hi = sealfmt_nibble(s[2 * i]), lo = sealfmt_nibble(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}
