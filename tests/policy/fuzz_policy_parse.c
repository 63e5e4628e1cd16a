/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the policy file parser: arbitrary bytes are loaded as a policy file
 * (twice, the second time over the first, as a drop-in would be), and then the policy is
 * asked for decisions. Invariants checked: a failed load changes nothing and says
 * "fuzz.conf..." in printable ASCII; a loaded policy has only valid role names and
 * decisions that deny whatever it does not list. Built as a real libFuzzer target with
 * clang (-DBIOGATE_FUZZ=ON) and, always, as a replay program that CTest runs over the corpus.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_error(const char *err)
{
	if (strncmp(err, "fuzz.conf", 9) != 0)
		abort();
	for (const char *c = err; *c; c++)
		if (*c < 0x20 || *c > 0x7e)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Policy *p = NULL, *ref = NULL;
	if (policy_new_defaults(&p) < 0 || policy_new_defaults(&ref) < 0)
		abort();
	for (int round = 0; round < 2; round++) {
		PolicySettings before = *policy_settings(p);
		unsigned loaded = policy_files_loaded(p);
		char err[256] = "";
		int r =
		    policy_load_string(p, "fuzz.conf", (const char *)data, size, err, sizeof(err));
		if (r < 0) {
			check_error(err);
			if (memcmp(&before, policy_settings(p), sizeof(before)) != 0 ||
			    policy_files_loaded(p) != loaded)
				abort();
			break;
		}
		if (policy_files_loaded(p) != loaded + 1)
			abort();
	}

	const PolicySettings *s = policy_settings(p);
	if (!policy_valid_name(s->admin_role) || strlen(s->notify) >= POLICY_MAX_NOTIFY ||
	    (s->notify[0] && s->notify[0] != '/') || s->power_off_minute < -1 ||
	    s->power_off_minute >= 24 * 60)
		abort();

	/* Names taken from the input: whatever they are, decisions must be sane. */
	static const char *const names[] = { "counter", "admin", "search", "enroll", "a", "" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		for (size_t j = 0; j < sizeof(names) / sizeof(names[0]); j++) {
			PolicyRequest req = { .in_session = true,
				              .role = names[i],
				              .action = names[j],
				              .key = "123456789018",
				              .key_len = 12 };
			char norm[14];
			PolicyDecision d = policy_authorize(p, &req, norm, sizeof(norm), NULL);
			if (d.allow &&
			    (!policy_role_exists(p, names[i]) || !policy_takes_key(p, names[j])))
				abort();
			if (d.allow && policy_is_admin_action(p, names[j]) &&
			    !policy_is_admin_role(p, names[i]))
				abort();
			/* The defaults alone grant nothing. */
			if (policy_authorize(ref, &req, NULL, 0, NULL).allow)
				abort();
		}
	int64_t failures[] = { 0, 1, INT64_MAX };
	int64_t until = 0;
	/* The latest failure is INT64_MAX, so any lock lasts until the end of time. */
	if (policy_locked_out(p, failures, 3, 0, &until) && until != INT64_MAX)
		abort();
	policy_free(ref);
	policy_free(p);
	return 0;
}
