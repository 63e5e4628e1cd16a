/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * searchkey: the search-key rule of R11 (issue 3), and nothing else. It turns hostile bytes
 * into one of five classes and, for the numeric classes, the normalized digits; and it says
 * whether a key the rule refuses still looks like a resident record code (issue 14). It must never
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

/* --- a resident record code in disguise --------------------------------------------------- */

/* Every character Unicode 14.0 gives a digit value (Numeric_Type Decimal or Digit, what
 * Python's unicodedata.digit() answers): runs of consecutive code points with consecutive
 * values, {first, last, value of first}. Generated once from unicodedata; sorted. */
typedef struct DigitRun {
	unsigned first, last, value;
} DigitRun;

static const DigitRun digit_runs[] = {
	{ 0x00030, 0x00039, 0 }, { 0x000B2, 0x000B3, 2 }, { 0x000B9, 0x000B9, 1 },
	{ 0x00660, 0x00669, 0 }, { 0x006F0, 0x006F9, 0 }, { 0x007C0, 0x007C9, 0 },
	{ 0x00966, 0x0096F, 0 }, { 0x009E6, 0x009EF, 0 }, { 0x00A66, 0x00A6F, 0 },
	{ 0x00AE6, 0x00AEF, 0 }, { 0x00B66, 0x00B6F, 0 }, { 0x00BE6, 0x00BEF, 0 },
	{ 0x00C66, 0x00C6F, 0 }, { 0x00CE6, 0x00CEF, 0 }, { 0x00D66, 0x00D6F, 0 },
	{ 0x00DE6, 0x00DEF, 0 }, { 0x00E50, 0x00E59, 0 }, { 0x00ED0, 0x00ED9, 0 },
	{ 0x00F20, 0x00F29, 0 }, { 0x01040, 0x01049, 0 }, { 0x01090, 0x01099, 0 },
	{ 0x01369, 0x01371, 1 }, { 0x017E0, 0x017E9, 0 }, { 0x01810, 0x01819, 0 },
	{ 0x01946, 0x0194F, 0 }, { 0x019D0, 0x019D9, 0 }, { 0x019DA, 0x019DA, 1 },
	{ 0x01A80, 0x01A89, 0 }, { 0x01A90, 0x01A99, 0 }, { 0x01B50, 0x01B59, 0 },
	{ 0x01BB0, 0x01BB9, 0 }, { 0x01C40, 0x01C49, 0 }, { 0x01C50, 0x01C59, 0 },
	{ 0x02070, 0x02070, 0 }, { 0x02074, 0x02079, 4 }, { 0x02080, 0x02089, 0 },
	{ 0x02460, 0x02468, 1 }, { 0x02474, 0x0247C, 1 }, { 0x02488, 0x02490, 1 },
	{ 0x024EA, 0x024EA, 0 }, { 0x024F5, 0x024FD, 1 }, { 0x024FF, 0x024FF, 0 },
	{ 0x02776, 0x0277E, 1 }, { 0x02780, 0x02788, 1 }, { 0x0278A, 0x02792, 1 },
	{ 0x0A620, 0x0A629, 0 }, { 0x0A8D0, 0x0A8D9, 0 }, { 0x0A900, 0x0A909, 0 },
	{ 0x0A9D0, 0x0A9D9, 0 }, { 0x0A9F0, 0x0A9F9, 0 }, { 0x0AA50, 0x0AA59, 0 },
	{ 0x0ABF0, 0x0ABF9, 0 }, { 0x0FF10, 0x0FF19, 0 }, { 0x104A0, 0x104A9, 0 },
	{ 0x10A40, 0x10A43, 1 }, { 0x10D30, 0x10D39, 0 }, { 0x10E60, 0x10E68, 1 },
	{ 0x11052, 0x1105A, 1 }, { 0x11066, 0x1106F, 0 }, { 0x110F0, 0x110F9, 0 },
	{ 0x11136, 0x1113F, 0 }, { 0x111D0, 0x111D9, 0 }, { 0x112F0, 0x112F9, 0 },
	{ 0x11450, 0x11459, 0 }, { 0x114D0, 0x114D9, 0 }, { 0x11650, 0x11659, 0 },
	{ 0x116C0, 0x116C9, 0 }, { 0x11730, 0x11739, 0 }, { 0x118E0, 0x118E9, 0 },
	{ 0x11950, 0x11959, 0 }, { 0x11C50, 0x11C59, 0 }, { 0x11D50, 0x11D59, 0 },
	{ 0x11DA0, 0x11DA9, 0 }, { 0x16A60, 0x16A69, 0 }, { 0x16AC0, 0x16AC9, 0 },
	{ 0x16B50, 0x16B59, 0 }, { 0x1D7CE, 0x1D7D7, 0 }, { 0x1D7D8, 0x1D7E1, 0 },
	{ 0x1D7E2, 0x1D7EB, 0 }, { 0x1D7EC, 0x1D7F5, 0 }, { 0x1D7F6, 0x1D7FF, 0 },
	{ 0x1E140, 0x1E149, 0 }, { 0x1E2F0, 0x1E2F9, 0 }, { 0x1E950, 0x1E959, 0 },
	{ 0x1F100, 0x1F100, 0 }, { 0x1F101, 0x1F10A, 0 }, { 0x1FBF0, 0x1FBF9, 0 },
};

static int
unicode_digit(unsigned cp)
{
	size_t lo = 0, hi = sizeof(digit_runs) / sizeof(digit_runs[0]);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cp < digit_runs[mid].first)
			hi = mid;
		else if (cp > digit_runs[mid].last)
			lo = mid + 1;
		else
			return (int)(digit_runs[mid].value + (cp - digit_runs[mid].first));
	}
	return -1;
}

/* One code point of well-formed UTF-8 at k[0..len) (len > 0): its length, or 0 for a byte
 * that starts no well-formed sequence (overlong, surrogate, > U+10FFFF, truncated). */
static size_t
utf8_decode(const unsigned char *k, size_t len, unsigned *ret)
{
	unsigned c = k[0];
	size_t n = c < 0x80             ? 1
	           : (c & 0xE0) == 0xC0 ? 2
	           : (c & 0xF0) == 0xE0 ? 3
	           : (c & 0xF8) == 0xF0 ? 4
	                                : 0;
	if (n == 0 || n > len)
		return 0;
	unsigned cp = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
	for (size_t i = 1; i < n; i++) {
		if ((k[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (k[i] & 0x3F);
	}
	static const unsigned min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	*ret = cp;
	return n;
}

bool
policy_key_disguised_resident_code(const char *key, size_t len, char *out, size_t out_size)
{
	const unsigned char *k = (const unsigned char *)key;
	char digits[KEY_MAX_DIGITS + 1];
	size_t n = 0;
	bool looks = false;

	if (out && out_size > 0)
		out[0] = '\0';
	if (!key)
		return false;
	for (size_t i = 0; i < len;) {
		unsigned cp = 0;
		size_t l = utf8_decode(k + i, len - i, &cp);
		if (l == 0) {
			i++; /* a stray byte hides nothing: skipped like any other non-digit */
			continue;
		}
		i += l;
		int d = unicode_digit(cp);
		if (d < 0)
			continue; /* a separator, a letter, a zero-width or format character */
		if (n == 11)
			goto done; /* a twelfth digit: not an 11-digit code, however it is written
			            */
		digits[n++] = (char)('0' + d);
	}
	digits[n] = '\0';
	looks = n == 11;
	if (looks && out && out_size > n)
		memcpy(out, digits, n + 1);
done:
	explicit_bzero(digits, sizeof(digits));
	return looks;
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
