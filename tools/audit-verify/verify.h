/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The offline verifier's core, apart from main() so that the fuzzer and the tests drive it
 * on bytes in memory: a public key list (biogatectl audit keys export) and a sealed export
 * (biogatectl audit export --format sealed) in, a verdict out. Needs no daemon and no secret.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "sealfmt.h"

/* Problem names as `biogatectl audit verify` prints them, plus the export's own. */
typedef struct SealVerdict {
	const char *problem;    /* "ok", "gap", "out-of-order", "truncated", "bad-hash",
	                         * "bad-checkpoint", "unsealed", "malformed" */
	int64_t first_bad_seq;  /* the first bad record (malformed: the line number) */
	int64_t checkpoint_seq; /* the checkpoint involved, 0 when none */
	int64_t records, checkpoints, unsealed;
	int64_t first_seq, last_seq;
	int64_t last_checkpoint_time;            /* usec, 0 when none */
	char fingerprint[2 * SEAL_HASH_LEN + 1]; /* of the key list used */
	char message[160];                       /* what exactly was wrong */
} SealVerdict;

typedef struct SealKeys SealKeys;

/* Parses a key list; its fingerprint line must match. 0 or -EINVAL with *msg set. */
int seal_keys_parse(const char *text, size_t n, SealKeys **ret, const char **msg);
void seal_keys_free(SealKeys *k);
const char *seal_keys_fingerprint(const SealKeys *k);

/* Verifies a sealed export. 0 with *ret filled (problem may be non-"ok"), -ENOMEM. */
int seal_verify(const SealKeys *k, const char *text, size_t n, SealVerdict *ret);
