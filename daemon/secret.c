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
secret_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static void
secret_freep(char **p)
{
	free(*p);
}

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

static int
secret_path(const char *dir, const char *name, char **ret)
{
	if (asprintf(ret, "%s/%s", dir, name) < 0) {
		*ret = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Reads exactly SECRET_KEY_LEN bytes from an already-vetted regular file. */
static int
secret_read_key(int fd, uint8_t key[static SECRET_KEY_LEN])
{
	size_t got = 0;
	while (got < SECRET_KEY_LEN) {
		ssize_t n = read(fd, key + got, SECRET_KEY_LEN - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EBADMSG;
		got += (size_t)n;
	}
	return 0;
}

/*
 * The systemd credential: systemd places it in a directory only this service can read,
 * owned by root and opened to the service user by an ACL (which shows up as group bits),
 * so neither the owner nor the group bits say anything here. Only world access and group
 * write, which systemd never sets, are refused.
 */
static int
secret_load_credential(const char *dir, uint8_t key[static SECRET_KEY_LEN])
{
	_cleanup_(secret_freep) char *path = NULL;
	int r = secret_path(dir, SECRET_CREDENTIAL, &path);
	if (r < 0)
		return r;
	_cleanup_(secret_closep) int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || (st.st_mode & (S_IWGRP | S_IRWXO)))
		return -EPERM;
	if (st.st_size != SECRET_KEY_LEN)
		return -EBADMSG;
	return secret_read_key(fd, key);
}

/* The key file in the state directory: ours alone, exactly 32 bytes, or refused. */
static int
secret_load_file(int dirfd, uint8_t key[static SECRET_KEY_LEN])
{
	_cleanup_(secret_closep) int fd =
	    openat(dirfd, SECRET_KEY_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & (S_IRWXG | S_IRWXO)))
		return -EPERM;
	if (st.st_size != SECRET_KEY_LEN)
		return -EBADMSG;
	return secret_read_key(fd, key);
}

static int
secret_write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/*
 * First start: the key is written under a temporary name (O_EXCL, 0600) and fsynced, then
 * linked into place, which fails rather than replaces if another process got there first.
 * A crash therefore never leaves a short key file that would refuse every later start, and
 * two daemons starting at once end up with one key. Returns -EEXIST when we lost the race.
 */
static int
secret_create_file(int dirfd, uint8_t key[static SECRET_KEY_LEN])
{
	uint8_t fresh[SECRET_KEY_LEN];
	if (RAND_bytes(fresh, sizeof(fresh)) != 1)
		return -EIO;

	uint8_t suffix[8];
	char tmp[sizeof(SECRET_KEY_FILE) + 1 + 2 * sizeof(suffix) + 2];
	if (RAND_bytes(suffix, sizeof(suffix)) != 1)
		return -EIO;
	int len = snprintf(tmp, sizeof(tmp), "." SECRET_KEY_FILE ".");
	for (size_t i = 0; i < sizeof(suffix); i++)
		len += snprintf(tmp + len, sizeof(tmp) - (size_t)len, "%02x", suffix[i]);

	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
	                0600);
	if (fd < 0) {
		OPENSSL_cleanse(fresh, sizeof(fresh));
		return -errno;
	}
	int r = secret_write_all(fd, fresh, sizeof(fresh));
	if (r >= 0 && fsync(fd) < 0)
		r = -errno;
	close(fd);
	if (r >= 0 && linkat(dirfd, tmp, dirfd, SECRET_KEY_FILE, 0) < 0)
		r = -errno;
	(void)unlinkat(dirfd, tmp, 0);
	if (r >= 0 && fsync(dirfd) < 0)
		r = -errno;
	if (r >= 0)
		memcpy(key, fresh, sizeof(fresh));
	OPENSSL_cleanse(fresh, sizeof(fresh));
	return r;
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

	int r = -ENOENT;
	/* secure_getenv: never take a key path from the environment of a setuid caller. */
	const char *creds = secure_getenv("CREDENTIALS_DIRECTORY");
	if (creds && *creds)
		r = secret_load_credential(creds, s->key);

	if (r == -ENOENT) {
		if (!state_dir || !*state_dir) {
			secret_free(s);
			return -EINVAL;
		}
		_cleanup_(secret_closep) int dirfd =
		    open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (dirfd < 0) {
			secret_free(s);
			return -errno;
		}
		r = secret_load_file(dirfd, s->key);
		if (r == -ENOENT) {
			r = secret_create_file(dirfd, s->key);
			if (r == -EEXIST)
				r = secret_load_file(dirfd, s->key);
		}
	}
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
