/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * secret: the template key and AES-256-GCM sealing of templates. The key comes from a
 * systemd credential ($CREDENTIALS_DIRECTORY/biogate-template-key) when present, else from
 * a 0600 key file in the state directory created on first start. The key never leaves this
 * module, never reaches a log and is wiped on free. Sealed format:
 *   byte 0: version (1) | 12-byte random nonce | ciphertext | 16-byte tag
 * with the caller's AAD (matching ID and finger) bound in, so a blob moved to another row
 * fails to open.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct Secret Secret;

#define SECRET_KEY_FILE   "template.key"
#define SECRET_CREDENTIAL "biogate-template-key"

/* Loads or creates the key. A key file with the wrong size, a group/other permission bit,
 * or another owner is refused (-EPERM / -EBADMSG). */
int secret_load(const char *state_dir, Secret **ret);
void secret_free(Secret *s);
/* The key's ID: HMAC-SHA256(key, "biogate template key id v1"). Not secret; kept in the store
 * so that a template.key swapped for another is told from the one the templates were sealed
 * with, before any verify fails. */
#define SECRET_KEY_ID_LEN 32
int secret_key_id(const Secret *s, uint8_t ret[static SECRET_KEY_ID_LEN]);

int secret_seal(const Secret *s, const char *aad, const uint8_t *pt, size_t pt_len, uint8_t **ret,
                size_t *ret_len);
/* -EBADMSG when the blob is malformed or fails authentication. Free *ret with secret_wipe_free. */
int secret_open(const Secret *s, const char *aad, const uint8_t *blob, size_t blob_len,
                uint8_t **ret, size_t *ret_len);
void secret_wipe_free(void *p, size_t n);
