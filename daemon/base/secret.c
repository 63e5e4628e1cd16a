/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* asprintf, secure_getenv, explicit_bzero, reallocarray */
#endif
/*
 * secret: owns the template key and AES-256-GCM sealing of templates. The key is read from
 * a systemd credential or from a 0600 key file in the state directory that this file
 * creates on first start; it lives only inside struct Secret and is wiped when freed. This
 * file must never log, return or copy the key, and must treat every sealed blob as hostile
 * (a database can be tampered with): lengths are checked before anything is read.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "keyfile.h"
#include "secret.h"

#define _cleanup_(f) __attribute__((cleanup(f)))

#define SECRET_KEY_LEN   32
#define SECRET_VERSION   1
#define SECRET_NONCE_LEN 12
#define SECRET_TAG_LEN   16
#define SECRET_OVERHEAD  (1 + SECRET_NONCE_LEN + SECRET_TAG_LEN)
/* Far above any serialized print, far below EVP's int lengths. */
#define SECRET_MAX_PLAINTEXT (16u * 1024u * 1024u)

struct Secret {
	uint8_t key[SECRET_KEY_LEN];
	/* Fetched once: OpenSSL 3 otherwise looks the algorithm up on every seal and open. */
	EVP_CIPHER *cipher;
};

static void
secret_ctx_freep(EVP_CIPHER_CTX **c)
{
	EVP_CIPHER_CTX_free(*c);
}

void
secret_wipe_free(void *p, size_t n)
{
	if (!p)
		return;
	OPENSSL_cleanse(p, n);
	free(p);
}

void
secret_free(Secret *s)
{
	if (!s)
		return;
	EVP_CIPHER_free(s->cipher);
	s->cipher = NULL;
	secret_wipe_free(s, sizeof(*s));
}

int
secret_load(const char *state_dir, Secret **ret)
{
	if (!ret)
		return -EINVAL;
	Secret *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	if (!s->cipher) {
		free(s);
		return -ENOSYS;
	}

	int r = keyfile_load(SECRET_CREDENTIAL, state_dir, SECRET_KEY_FILE, s->key);
	if (r < 0) {
		secret_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

int
secret_seal(const Secret *s, const char *aad, const uint8_t *pt, size_t pt_len, uint8_t **ret,
            size_t *ret_len)
{
	if (!s || !aad || !ret || !ret_len || (!pt && pt_len > 0) ||
	    pt_len > SECRET_MAX_PLAINTEXT || strlen(aad) > INT_MAX)
		return -EINVAL;

	size_t out_len = SECRET_OVERHEAD + pt_len;
	uint8_t *out = malloc(out_len);
	if (!out)
		return -ENOMEM;
	uint8_t *nonce = out + 1, *ct = nonce + SECRET_NONCE_LEN, *tag = ct + pt_len;
	out[0] = SECRET_VERSION;

	_cleanup_(secret_ctx_freep) EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0;
	bool ok = c && RAND_bytes(nonce, SECRET_NONCE_LEN) == 1 &&
	          EVP_EncryptInit_ex(c, s->cipher, NULL, NULL, NULL) == 1 &&
	          EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, SECRET_NONCE_LEN, NULL) == 1 &&
	          EVP_EncryptInit_ex(c, NULL, NULL, s->key, nonce) == 1 &&
	          EVP_EncryptUpdate(c, NULL, &n, (const uint8_t *)aad, (int)strlen(aad)) == 1;
	if (ok && pt_len > 0)
		ok = EVP_EncryptUpdate(c, ct, &n, pt, (int)pt_len) == 1 && (size_t)n == pt_len;
	if (ok)
		ok = EVP_EncryptFinal_ex(c, ct + pt_len, &n) == 1 && n == 0 &&
		     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, SECRET_TAG_LEN, tag) == 1;
	if (!ok) {
		secret_wipe_free(out, out_len);
		return -EIO;
	}
	*ret = out;
	*ret_len = out_len;
	return 0;
}

int
secret_open(const Secret *s, const char *aad, const uint8_t *blob, size_t blob_len, uint8_t **ret,
            size_t *ret_len)
{
	if (!s || !aad || !ret || !ret_len || strlen(aad) > INT_MAX)
		return -EINVAL;
	/* Every length is checked before a byte of the blob is trusted. */
	if (!blob || blob_len < SECRET_OVERHEAD ||
	    blob_len - SECRET_OVERHEAD > SECRET_MAX_PLAINTEXT)
		return -EBADMSG;
	if (blob[0] != SECRET_VERSION)
		return -EBADMSG;

	size_t pt_len = blob_len - SECRET_OVERHEAD;
	const uint8_t *nonce = blob + 1, *ct = nonce + SECRET_NONCE_LEN, *tag = ct + pt_len;
	/* malloc(0) may return NULL; an empty plaintext still gets a buffer to hand out. */
	uint8_t *pt = malloc(pt_len ? pt_len : 1);
	if (!pt)
		return -ENOMEM;

	uint8_t tag_copy[SECRET_TAG_LEN];
	memcpy(tag_copy, tag, sizeof(tag_copy));

	_cleanup_(secret_ctx_freep) EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0;
	if (!c || EVP_DecryptInit_ex(c, s->cipher, NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, SECRET_NONCE_LEN, NULL) != 1 ||
	    EVP_DecryptInit_ex(c, NULL, NULL, s->key, nonce) != 1 ||
	    EVP_DecryptUpdate(c, NULL, &n, (const uint8_t *)aad, (int)strlen(aad)) != 1) {
		secret_wipe_free(pt, pt_len ? pt_len : 1);
		return -EIO;
	}
	bool ok = true;
	if (pt_len > 0)
		ok = EVP_DecryptUpdate(c, pt, &n, ct, (int)pt_len) == 1 && (size_t)n == pt_len;
	/* The tag decides: nothing decrypted is handed out unless it verifies. */
	if (ok)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, SECRET_TAG_LEN, tag_copy) == 1 &&
		     EVP_DecryptFinal_ex(c, pt + pt_len, &n) == 1;
	if (!ok) {
		secret_wipe_free(pt, pt_len ? pt_len : 1);
		return -EBADMSG;
	}
	*ret = pt;
	*ret_len = pt_len;
	return 0;
}

int
secret_key_id(const Secret *s, uint8_t ret[static SECRET_KEY_ID_LEN])
{
	static const char info[] = "biogate template key id v1";
	size_t n = 0;
	if (!s || !ret)
		return -EINVAL;
	if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, s->key, sizeof(s->key),
	               (const unsigned char *)info, sizeof(info) - 1, ret, SECRET_KEY_ID_LEN, &n) ||
	    n != SECRET_KEY_ID_LEN)
		return -EIO;
	return 0;
}
