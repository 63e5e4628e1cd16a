/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the offline verifier's two parsers: an input is a key list, a NUL
 * byte, and a sealed export. The key list goes through seal_keys_parse(); when it is refused,
 * the export is checked against a fixed list instead, so that the export's parser and the
 * chain and checkpoint walk always run. Built as a real libFuzzer target with clang
 * (-DBIOGATE_FUZZ=ON) and, always, as a replay program that CTest runs over the corpus
 * (written by `BIOGATE_SEAL_CORPUS=DIR test_seal`).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static SealKeys *
fixed_keys(void)
{
	static SealKeys *k;
	if (k)
		return k;
	char text[512];
	int n = snprintf(text, sizeof(text),
	                 SEAL_KEYS_MAGIC "\nterminal fuzz\nepoch-usec 86400000000\n"
	                                 "key 20000 %064d\nkey 20001 %064d\n",
	                 0, 1);
	uint8_t fp[SEAL_HASH_LEN];
	char hex[2 * SEAL_HASH_LEN + 1];
	EVP_Digest(text, (size_t)n, fp, NULL, EVP_sha256(), NULL);
	sealfmt_hex(fp, sizeof(fp), hex);
	snprintf(text + n, sizeof(text) - (size_t)n, "fingerprint %s\n", hex);
	const char *msg = NULL;
	if (seal_keys_parse(text, strlen(text), &k, &msg) < 0)
		k = NULL;
	return k;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *sep = memchr(data, '\0', size);
	size_t kn = sep ? (size_t)(sep - data) : 0;
	const char *export = (const char *)(sep ? sep + 1 : data);
	size_t en = sep ? size - kn - 1 : size;
	SealKeys *keys = NULL;
	const char *msg = NULL;
	if (kn == 0 || seal_keys_parse((const char *)data, kn, &keys, &msg) < 0)
		keys = NULL;
	const SealKeys *use = keys ? keys : fixed_keys();
	SealVerdict v;
	if (use)
		(void)seal_verify(use, export, en, &v);
	seal_keys_free(keys);
	return 0;
}
