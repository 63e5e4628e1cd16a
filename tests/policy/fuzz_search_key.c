/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the search-key rule (R11): policy_key_classify on arbitrary bytes.
 * Invariants: each class comes with exactly the digits it promises (12 with the right check
 * digit for a valid key, 12 with a wrong one, 11, 13, nothing for garbage); the result does
 * not depend on the size of the output buffer; and the authorize path agrees with the
 * classifier. Built as a real libFuzzer target with clang (-DBIOGATE_FUZZ=ON) and, always,
 * as a replay program that CTest runs over the corpus.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t
digits_only(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (s[n] < '0' || s[n] > '9')
			abort();
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *key = (const char *)data;
	char out[14], small[8];
	memset(out, 'x', sizeof(out));
	PolicyKeyClass c = policy_key_classify(key, size, out, sizeof(out));
	size_t n = digits_only(out);
	switch (c) {
	case POLICY_KEY_VALID:
		if (n != 12 || policy_check_digit(out) != out[11] - '0')
			abort();
		break;
	case POLICY_KEY_BAD_CHECK_DIGIT:
		if (n != 12 || policy_check_digit(out) == out[11] - '0')
			abort();
		break;
	case POLICY_KEY_RESIDENT_CODE:
		if (n != 11)
			abort();
		break;
	case POLICY_KEY_CORPORATE:
		if (n != 13)
			abort();
		break;
	case POLICY_KEY_GARBAGE:
		if (n != 0)
			abort();
		break;
	default:
		abort();
	}
	/* A buffer too small changes the output, never the class. */
	if (policy_key_classify(key, size, small, sizeof(small)) != c || small[0] != '\0' ||
	    policy_key_classify(key, size, NULL, 0) != c)
		abort();

	/* The decision follows the class. */
	static Policy *p;
	if (!p) {
		static const char text[] = "[roles]\ncounter = search\n";
		if (policy_new_defaults(&p) < 0 ||
		    policy_load_string(p, "k.conf", text, sizeof(text) - 1, NULL, 0) < 0)
			abort();
	}
	PolicyRequest req = { .in_session = true,
		              .role = "counter",
		              .action = "search",
		              .key = key,
		              .key_len = size };
	char norm[14];
	PolicyKeyClass kc = POLICY_KEY_GARBAGE;
	PolicyDecision d = policy_authorize(p, &req, norm, sizeof(norm), &kc);
	/* Garbage that still looks like a resident record code is the violation, with its 11
	 * digits as the normalized key (issue 14). */
	char dg[14];
	bool disguised = c == POLICY_KEY_GARBAGE &&
	                 policy_key_disguised_resident_code(key, size, dg, sizeof(dg));
	if (disguised && digits_only(dg) != 11)
		abort();
	if (kc != c || strcmp(norm, disguised ? dg : out) != 0 ||
	    d.allow != (c == POLICY_KEY_VALID) ||
	    d.violation != (c == POLICY_KEY_RESIDENT_CODE || disguised))
		abort();
	return 0;
}
