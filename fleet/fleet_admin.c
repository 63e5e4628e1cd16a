/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fleet_admin: migrations and terminal joins on the center, for biogatectl (see fleet_admin.h).
 * Must never apply a file out of order, apply one twice, or leave a half-applied file behind
 * (each file is its own transaction; an error rolls it back here).
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "fleet_admin.h"

#define FLEET_SQL_MAX (1024 * 1024)

typedef struct Migration {
	int version;
	char name[256];
} Migration;

static void
report(FILE *err, const char *what, const char *msg)
{
	if (err)
		fprintf(err, "%s: %s%s", what, msg,
		        (*msg && msg[strlen(msg) - 1] == '\n') ? "" : "\n");
}

int
fleet_admin_schema_version(PGconn *pg)
{
	PGresult *res;
	int v = -EIO;

	/* to_regclass: NULL, not an error, while the schema does not exist yet. */
	res = PQexec(pg, "SELECT CASE WHEN to_regclass('biogate_fleet.schema_version') IS NULL "
	                 "THEN 0 ELSE (SELECT coalesce(max(version), 0) FROM "
	                 "biogate_fleet.schema_version) END");
	if (PQresultStatus(res) == PGRES_FATAL_ERROR &&
	    strcmp(PQresultErrorField(res, PG_DIAG_SQLSTATE) ?: "", "42P01") == 0)
		v = 0;
	else if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		v = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

/* NNN-name.sql: three digits, a dash, lower-case letters, digits, '-', '_' or '.'. */
static int
migration_parse(const char *name, int *ret_version)
{
	size_t n = strlen(name);

	if (n < 9 || n >= sizeof(((Migration *)0)->name) || strcmp(name + n - 4, ".sql") != 0)
		return -EINVAL;
	for (int i = 0; i < 3; i++)
		if (!isdigit((unsigned char)name[i]))
			return -EINVAL;
	if (name[3] != '-')
		return -EINVAL;
	for (size_t i = 4; i < n - 4; i++)
		if (!(islower((unsigned char)name[i]) || isdigit((unsigned char)name[i]) ||
		      name[i] == '-' || name[i] == '_' || name[i] == '.'))
			return -EINVAL;
	*ret_version = (name[0] - '0') * 100 + (name[1] - '0') * 10 + (name[2] - '0');
	return *ret_version > 0 ? 0 : -EINVAL;
}

static int
migration_cmp(const void *a, const void *b)
{
	return ((const Migration *)a)->version - ((const Migration *)b)->version;
}

static int
read_file(int dirfd, const char *name, char **ret)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > FLEET_SQL_MAX) {
		close(fd);
		return -EFBIG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t k = read(fd, buf + got, (size_t)st.st_size - got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			int r = k < 0 ? -errno : -EIO;

			free(buf);
			close(fd);
			return r;
		}
		got += (size_t)k;
	}
	close(fd);
	buf[got] = '\0';
	/* PQexec stops at a NUL: a file with one inside would be applied in part. */
	if (strlen(buf) != got) {
		free(buf);
		return -EINVAL;
	}
	*ret = buf;
	return 0;
}

int
fleet_admin_migrate(PGconn *pg, const char *sql_dir, int *ret_from, int *ret_to, FILE *err)
{
	Migration list[FLEET_MIGRATIONS_MAX];
	size_t n = 0;
	struct dirent *de;
	DIR *d;
	int from, cur, r = 0;

	from = cur = fleet_admin_schema_version(pg);
	if (from < 0) {
		report(err, "Cannot read the schema version", PQerrorMessage(pg));
		return from;
	}
	d = opendir(sql_dir);
	if (!d) {
		r = -errno;
		if (err)
			fprintf(err, "Cannot open %s: %s\n", sql_dir, strerror(-r));
		return r;
	}
	while ((de = readdir(d))) {
		int v;

		if (de->d_name[0] == '.' || strlen(de->d_name) < 4 ||
		    strcmp(de->d_name + strlen(de->d_name) - 4, ".sql") != 0)
			continue;
		if (migration_parse(de->d_name, &v) < 0 || n >= FLEET_MIGRATIONS_MAX) {
			if (err)
				fprintf(err, "%s/%s: not a migration name (NNN-name.sql)\n",
				        sql_dir, de->d_name);
			closedir(d);
			return -EINVAL;
		}
		list[n].version = v;
		snprintf(list[n].name, sizeof(list[n].name), "%s", de->d_name);
		n++;
	}
	if (n == 0) {
		closedir(d);
		if (err)
			fprintf(err, "%s: no migrations\n", sql_dir);
		return -ENOENT;
	}
	qsort(list, n, sizeof(list[0]), migration_cmp);
	for (size_t i = 1; i < n; i++)
		if (list[i].version == list[i - 1].version) {
			if (err)
				fprintf(err, "%s: %s and %s have the same version\n", sql_dir,
				        list[i - 1].name, list[i].name);
			closedir(d);
			return -EINVAL;
		}

	for (size_t i = 0; i < n && r == 0; i++) {
		PGresult *res;
		char *sql = NULL;
		int now;

		if (list[i].version <= cur)
			continue;
		r = read_file(dirfd(d), list[i].name, &sql);
		if (r < 0) {
			if (err)
				fprintf(err, "%s/%s: %s\n", sql_dir, list[i].name, strerror(-r));
			break;
		}
		res = PQexec(pg, sql);
		free(sql);
		if (PQresultStatus(res) != PGRES_COMMAND_OK &&
		    PQresultStatus(res) != PGRES_TUPLES_OK) {
			report(err, list[i].name, PQresultErrorMessage(res));
			r = -EIO;
		}
		PQclear(res);
		/* An error inside the file's BEGIN leaves the session in a failed transaction. */
		if (PQtransactionStatus(pg) != PQTRANS_IDLE)
			PQclear(PQexec(pg, "ROLLBACK"));
		if (r < 0)
			break;
		now = fleet_admin_schema_version(pg);
		if (now != list[i].version) {
			if (err)
				fprintf(err, "%s: applied, but the schema version is %d, not %d\n",
				        list[i].name, now, list[i].version);
			r = -EINVAL;
			break;
		}
		cur = now;
	}
	closedir(d);
	if (ret_from)
		*ret_from = from;
	if (ret_to)
		*ret_to = cur;
	return r;
}

int
fleet_admin_add_terminal(PGconn *pg, const char *name, char **ret_role, FILE *err)
{
	const char *values[1] = { name };
	PGresult *res;
	int r = 0;

	res = PQexecParams(pg, "SELECT biogate_fleet.add_terminal($1)", 1, NULL, values, NULL, NULL,
	                   0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		report(err, "add_terminal", PQresultErrorMessage(res));
		PQclear(res);
		return -EIO;
	}
	if (ret_role) {
		*ret_role = strdup(PQgetvalue(res, 0, 0));
		if (!*ret_role)
			r = -ENOMEM;
	}
	PQclear(res);
	return r;
}

/* ---- the auditor's chain check ---- */

#define VERIFY_PAGE 5000
#define MAC_LEN     32

static int
chain_key(const unsigned char key[32], unsigned char out[32])
{
	static char sha256[] = "SHA256";
	static const char info[] = "biogate audit chain v1";
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *c = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	int r = -EIO;

	EVP_KDF_free(kdf);
	if (!c)
		return -ENOMEM;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, sha256, 0),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)(uintptr_t)key, 32),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)(uintptr_t)info,
		                                  strlen(info)),
		OSSL_PARAM_construct_end(),
	};
	if (EVP_KDF_derive(c, out, 32, params) == 1)
		r = 0;
	EVP_KDF_CTX_free(c);
	return r;
}

static void
put_be(unsigned char *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (unsigned char)v;
		v >>= 8;
	}
}

/* MAC of one row (columns: seq, time, rec_terminal, matching_id, operator_id, action, outcome,
 * reason, detail, key_hmac) chained on prev. */
static int
row_mac(EVP_MAC_CTX *ctx, PGresult *res, int row, const unsigned char prev[MAC_LEN],
        unsigned char out[MAC_LEN])
{
	unsigned char head[20], len[5];
	size_t outl = 0;

	memcpy(head, "BGA1", 4);
	put_be(head + 4, (uint64_t)strtoll(PQgetvalue(res, row, 0), NULL, 10), 8);
	put_be(head + 12, (uint64_t)strtoll(PQgetvalue(res, row, 1), NULL, 10), 8);
	if (EVP_MAC_init(ctx, NULL, 0, NULL) != 1 || EVP_MAC_update(ctx, head, sizeof(head)) != 1)
		return -EIO;
	for (int f = 2; f < 10; f++) {
		bool null = PQgetisnull(res, row, f);
		size_t n = null ? 0 : (size_t)PQgetlength(res, row, f);
		len[0] = null ? 0 : 1;
		put_be(len + 1, n, 4);
		if (EVP_MAC_update(ctx, len, sizeof(len)) != 1 ||
		    (n &&
		     EVP_MAC_update(ctx, (const unsigned char *)PQgetvalue(res, row, f), n) != 1))
			return -EIO;
	}
	if (EVP_MAC_update(ctx, prev, MAC_LEN) != 1 ||
	    EVP_MAC_final(ctx, out, &outl, MAC_LEN) != 1 || outl != MAC_LEN)
		return -EIO;
	return 0;
}

int
fleet_admin_verify(PGconn *pg, const char *terminal, const unsigned char key[32], FleetVerify *ret,
                   FILE *err)
{
	static char sha256[] = "SHA256";
	unsigned char sub[32], prev[MAC_LEN] = { 0 };
	EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, sha256, 0),
		OSSL_PARAM_construct_end(),
	};
	FleetVerify v = { 0 };
	int64_t after = 0;
	int r = ctx ? chain_key(key, sub) : -ENOMEM;

	EVP_MAC_free(hmac);
	if (r == 0 && EVP_MAC_init(ctx, sub, sizeof(sub), params) != 1)
		r = -EIO;
	OPENSSL_cleanse(sub, sizeof(sub));
	while (r == 0) {
		char a[24], l[16];
		const char *values[3] = { terminal, a, l };
		snprintf(a, sizeof(a), "%lld", (long long)after);
		snprintf(l, sizeof(l), "%d", VERIFY_PAGE);
		/* mac in binary (result format 1 for all columns would make the numbers binary
		 * too): hex text, decoded below. */
		PGresult *res = PQexecParams(
		    pg,
		    "SELECT seq, time, rec_terminal, matching_id, operator_id, action, outcome, "
		    "reason, detail, key_hmac, encode(mac, 'hex') FROM biogate_fleet.audit_records "
		    "WHERE terminal = $1 AND seq > $2 ORDER BY seq LIMIT $3",
		    3, NULL, values, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_TUPLES_OK || PQnfields(res) != 11) {
			report(err, "audit_records", PQresultErrorMessage(res));
			PQclear(res);
			r = -EIO;
			break;
		}
		int n = PQntuples(res);
		for (int i = 0; i < n && !v.first_bad; i++) {
			int64_t seq = strtoll(PQgetvalue(res, i, 0), NULL, 10);
			unsigned char want[MAC_LEN], got[MAC_LEN];
			const char *hex = PQgetvalue(res, i, 10);
			for (int k = 0; k < MAC_LEN; k++) {
				unsigned x = 0;
				sscanf(hex + 2 * k, "%2x", &x);
				want[k] = (unsigned char)x;
			}
			if (v.records == 0) {
				v.first_seq = seq;
				if (seq > 1) {
					/* Joined after running alone: anchor on this record. */
					memcpy(prev, want, MAC_LEN);
					v.records++;
					v.last_seq = seq;
					continue;
				}
			} else if (seq != v.last_seq + 1) {
				v.first_bad = v.last_seq + 1;
				v.problem = "gap";
				break;
			}
			if (row_mac(ctx, res, i, prev, got) < 0) {
				r = -EIO;
				break;
			}
			if (CRYPTO_memcmp(got, want, MAC_LEN) != 0) {
				v.first_bad = seq;
				v.problem = "bad-mac";
				break;
			}
			memcpy(prev, got, MAC_LEN);
			v.records++;
			v.last_seq = seq;
		}
		PQclear(res);
		if (r < 0 || v.first_bad || n < VERIFY_PAGE)
			break;
		after = v.last_seq;
	}
	EVP_MAC_CTX_free(ctx);
	if (r == 0)
		*ret = v;
	return r;
}
