/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * searchkey: the search-key rule of R11 (issue 3), and nothing else. It turns hostile bytes
 * into one of five classes and, for the numeric classes, the normalized digits. It must never
 * allocate, read past the length it is given, log, or keep the key anywhere beyond the
 * caller's output buffer: a key is an individual number (R19).
 */
#include <string.h>

#include "policy.h"

/* 13 digits is the longest numeric class; one more digit already makes the key garbage. */
#define KEY_MAX_DIGITS 13

int
policy_check_digit(const char *first11)
{
	if (!first11)
		return -1;
	for (int i = 0; i < 11; i++)
		if (first11[i] < '0' || first11[i] > '9')
			return -1;
	/* Issue 3: P_n is the n-th digit from the right of the first 11, Q_n = n + 1 for
	 * n <= 6 and n - 5 for 7 <= n <= 11. */
	unsigned sum = 0;
	for (unsigned n = 1; n <= 11; n++) {
		unsigned p = (unsigned)(first11[11 - n] - '0');
		unsigned q = n <= 6 ? n + 1 : n - 5;
		sum += p * q;
	}
	unsigned r = sum % 11;
	return r <= 1 ? 0 : (int)(11 - r);
}

PolicyKeyClass
policy_key_classify(const char *key, size_t len, char *out, size_t out_size)
{
	const unsigned char *k = (const unsigned char *)key;
	char digits[KEY_MAX_DIGITS + 1];
	size_t n = 0;
	PolicyKeyClass c = POLICY_KEY_GARBAGE;

	if (out && out_size > 0)
		out[0] = '\0';
	if (!key)
		return POLICY_KEY_GARBAGE;

	/*
	 * Only five non-ASCII characters are allowed, so instead of decoding UTF-8 in general
	 * this matches their exact (and only) encodings: U+3000 = E3 80 80, U+FF0D = EF BC 8D,
	 * U+FF10..U+FF19 = EF BC 90..99. Every other byte sequence, whether a valid encoding of
	 * another character, an overlong form, a surrogate or a truncated sequence, does not
	 * match and makes the key garbage. That is the strict reading the rule needs.
	 */
	for (size_t i = 0; i < len;) {
		int d = -1;
		if (k[i] >= '0' && k[i] <= '9') {
			d = k[i] - '0';
			i++;
		} else if (k[i] == ' ' || k[i] == '-') {
			i++;
		} else if (k[i] == 0xE3 && len - i >= 3 && k[i + 1] == 0x80 && k[i + 2] == 0x80) {
			i += 3;
		} else if (k[i] == 0xEF && len - i >= 3 && k[i + 1] == 0xBC && k[i + 2] == 0x8D) {
			i += 3;
		} else if (k[i] == 0xEF && len - i >= 3 && k[i + 1] == 0xBC && k[i + 2] >= 0x90 &&
		           k[i + 2] <= 0x99) {
			d = k[i + 2] - 0x90;
			i += 3;
		} else {
			goto done;
		}
		if (d >= 0) {
			if (n == KEY_MAX_DIGITS)
				goto done; /* 14 digits or more: no class but garbage is left */
			digits[n++] = (char)('0' + d);
		}
	}
	digits[n] = '\0';

	switch (n) {
	case 11:
		c = POLICY_KEY_RESIDENT_CODE;
		break;
	case 12:
		c = policy_check_digit(digits) == digits[11] - '0' ? POLICY_KEY_VALID
		                                                   : POLICY_KEY_BAD_CHECK_DIGIT;
		break;
	case 13:
		c = POLICY_KEY_CORPORATE;
		break;
	default:
		goto done;
	}
	if (out && out_size > n)
		memcpy(out, digits, n + 1);

done:
	explicit_bzero(digits, sizeof(digits));
	return c;
}

const char *
policy_key_class_name(PolicyKeyClass c)
{
	switch (c) {
	case POLICY_KEY_VALID:
		return "valid";
	case POLICY_KEY_BAD_CHECK_DIGIT:
		return "bad-check-digit";
	case POLICY_KEY_RESIDENT_CODE:
		return "resident-record-code";
	case POLICY_KEY_CORPORATE:
		return "corporate-number";
	case POLICY_KEY_GARBAGE:
		break;
	}
	return "invalid";
}
