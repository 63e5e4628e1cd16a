/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sealfmt: the bytes the keyless hash chain and the signed checkpoints are computed over,
 * shared by the daemon (audit.c) and the offline verifier (biogate-audit-verify), which must
 * agree on them to the bit. Pure functions over caller-checked lengths: no allocation, no I/O,
 * no key.
 *
 *   C(n)  = "BGA1" | seq (8, BE) | time (8, BE) | for each of terminal, matching_id,
 *           operator_id, action, outcome, reason, detail, key_hmac: one byte (0 NULL,
 *           1 present) | length (4, BE) | bytes            (the HMAC chain's input, minus MAC(n-1))
 *   h(0)  = 32 zero bytes;  h(n) = SHA-256(h(n-1) | C(n))
 *   checkpoint message = "BGC1" | epoch (8, BE) | seq (8, BE) | h(seq) (32) | time (8, BE) |
 *           terminal length (1) | terminal bytes (at most 255)
 *   epoch(t) = floor(t / 86,400,000,000) for t in microseconds since 1970 (UTC days)
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SEAL_FIELDS       8
#define SEAL_HASH_LEN     32
#define SEAL_PUBKEY_LEN   32
#define SEAL_SIG_LEN      64
#define SEAL_EPOCH_USEC   (86400LL * 1000000LL)
#define SEAL_TERMINAL_MAX 255
#define SEAL_MSG_MAX      (4 + 8 + 8 + SEAL_HASH_LEN + 8 + 1 + SEAL_TERMINAL_MAX)
/* The longest C(n): 7 short fields of 256 bytes and a detail of 4096. */
#define SEAL_CANON_MAX (4 + 8 + 8 + SEAL_FIELDS * 5 + 7 * 256 + 4096)
/* The first line of a public key list (biogatectl audit keys export). */
#define SEAL_KEYS_MAGIC "biogate-audit-keys 1"
/* The first member of a sealed export's opening line. */
#define SEAL_EXPORT_MAGIC "biogate_audit_export"

void sealfmt_put64(uint8_t *p, uint64_t v);
/* C(n) into buf (at least SEAL_CANON_MAX bytes; the caller has bounded every length).
 * Returns its length. */
size_t sealfmt_canonical(uint8_t *buf, int64_t seq, int64_t time_usec,
                         const char *const f[SEAL_FIELDS], const uint32_t len[SEAL_FIELDS]);
/* The checkpoint message into buf (SEAL_MSG_MAX bytes); 0 when terminal is too long. */
size_t sealfmt_checkpoint_msg(uint8_t *buf, const char *terminal, int64_t epoch, int64_t seq,
                              const uint8_t hash[static SEAL_HASH_LEN], int64_t time_usec);
int64_t sealfmt_epoch(int64_t time_usec);
/* Lowercase hex of n bytes into out (2n + 1 bytes). */
void sealfmt_hex(const uint8_t *p, size_t n, char *out);
/* Parses exactly 2n lowercase or uppercase hex characters; 0 or -EINVAL. */
int sealfmt_unhex(const char *s, size_t slen, uint8_t *out, size_t n);
