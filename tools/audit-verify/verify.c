/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The offline verifier (see verify.h). Reads only what it is given, trusts none of it: every
 * line is bounded before it is parsed, every field checked for type and length, and nothing
 * in the export decides which key checks a checkpoint but the epoch, looked up in the key
 * list the city holds. The rules are those of audit_verify() in the daemon: the keyless chain
 * h(n) recomputed from each record's fields, each checkpoint's Ed25519 signature over
 * (epoch, seq, h(seq), time, terminal) under that epoch's public key and its h(seq) equal to
 * the recomputed one, and each record of a sealed epoch covered by a checkpoint of its own
 * epoch or an earlier one (a later key means the past was re-sealed by whoever held the
 * terminal later).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "verify.h"

/* A line longer than this cannot be a record (7 x 256 + 4096 bytes of text, escaped at most
 * sixfold, plus the names) nor anything else the daemon writes. */
#define SEAL_LINE_MAX     (64 * 1024)
#define SEAL_KEYS_MAX     100000
#define SEAL_FIELD_SHORT  256
#define SEAL_FIELD_DETAIL 4096

static const char *const seal_field_names[SEAL_FIELDS] = {
	"terminal", "matching_id", "operator_id", "action",
	"outcome",  "reason",      "detail",      "key_hmac",
};

typedef struct SealKey {
	int64_t epoch;
	uint8_t pub[SEAL_PUBKEY_LEN];
} SealKey;

struct SealKeys {
	SealKey *v;
	size_t n;
	char fingerprint[2 * SEAL_HASH_LEN + 1];
};

void
seal_keys_free(SealKeys *k)
{
	if (!k)
		return;
	free(k->v);
	free(k);
}

const char *
seal_keys_fingerprint(const SealKeys *k)
{
	return k ? k->fingerprint : "";
}

static int
seal_parse_i64(const char *s, size_t n, int64_t *ret)
{
	if (n == 0 || n > 20)
		return -EINVAL;
	char buf[24];
	memcpy(buf, s, n);
	buf[n] = '\0';
	char *end = NULL;
	errno = 0;
	long long v = strtoll(buf, &end, 10);
	if (errno || end != buf + n || (buf[0] != '-' && (buf[0] < '0' || buf[0] > '9')))
		return -EINVAL;
	*ret = v;
	return 0;
}

int
seal_keys_parse(const char *text, size_t n, SealKeys **ret, const char **msg)
{
	*msg = NULL;
	SealKeys *k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	size_t cap = 0, pos = 0, lineno = 0;
	bool have_fp = false, have_epoch = false;
	int r = 0;
	while (pos < n && r >= 0) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', n - pos);
		if (!nl) {
			*msg = "the key list does not end with a new line";
			r = -EINVAL;
			break;
		}
		size_t len = (size_t)(nl - line);
		size_t line_start = pos;
		pos += len + 1;
		lineno++;
		if (have_fp) {
			*msg = "lines after the fingerprint";
			r = -EINVAL;
		} else if (lineno == 1) {
			if (len != strlen(SEAL_KEYS_MAGIC) ||
			    memcmp(line, SEAL_KEYS_MAGIC, len) != 0) {
				*msg = "not a biogate audit key list (first line)";
				r = -EINVAL;
			}
		} else if (len > 9 && memcmp(line, "terminal ", 9) == 0) {
			/* Informational: each checkpoint names its terminal and is signed with it.
			 */
		} else if (len > 11 && memcmp(line, "epoch-usec ", 11) == 0) {
			int64_t e = 0;
			if (seal_parse_i64(line + 11, len - 11, &e) < 0 || e != SEAL_EPOCH_USEC) {
				*msg = "an epoch length this verifier does not know";
				r = -EINVAL;
			}
			have_epoch = true;
		} else if (len > 4 && memcmp(line, "key ", 4) == 0) {
			const char *sp = memchr(line + 4, ' ', len - 4);
			int64_t e = 0;
			if (!sp || seal_parse_i64(line + 4, (size_t)(sp - line - 4), &e) < 0) {
				*msg = "a key line without an epoch";
				r = -EINVAL;
				break;
			}
			if (k->n > 0 && e <= k->v[k->n - 1].epoch) {
				*msg = "key epochs not in increasing order";
				r = -EINVAL;
				break;
			}
			if (k->n == SEAL_KEYS_MAX) {
				*msg = "too many keys";
				r = -EINVAL;
				break;
			}
			if (k->n == cap) {
				size_t nc = cap ? 2 * cap : 512;
				SealKey *nv = realloc(k->v, nc * sizeof(*nv));
				if (!nv) {
					r = -ENOMEM;
					break;
				}
				k->v = nv;
				cap = nc;
			}
			SealKey *key = &k->v[k->n];
			key->epoch = e;
			if (sealfmt_unhex(sp + 1, (size_t)(line + len - sp - 1), key->pub,
			                  SEAL_PUBKEY_LEN) < 0) {
				*msg = "a key that is not 64 hex characters";
				r = -EINVAL;
				break;
			}
			k->n++;
		} else if (len > 12 && memcmp(line, "fingerprint ", 12) == 0) {
			uint8_t want[SEAL_HASH_LEN], got[SEAL_HASH_LEN];
			if (sealfmt_unhex(line + 12, len - 12, want, sizeof(want)) < 0 ||
			    EVP_Digest(text, line_start, got, NULL, EVP_sha256(), NULL) != 1 ||
			    CRYPTO_memcmp(want, got, sizeof(got)) != 0) {
				*msg = "the fingerprint does not match the list: it was changed or "
				       "damaged";
				r = -EINVAL;
				break;
			}
			sealfmt_hex(got, sizeof(got), k->fingerprint);
			have_fp = true;
		} else {
			*msg = "a line this verifier does not know";
			r = -EINVAL;
		}
	}
	if (r >= 0 && (!have_fp || !have_epoch || k->n == 0)) {
		*msg = "the key list is incomplete (no keys, epoch length or fingerprint)";
		r = -EINVAL;
	}
	if (r < 0) {
		seal_keys_free(k);
		return r;
	}
	*ret = k;
	return 0;
}

static const SealKey *
seal_key_find(const SealKeys *k, int64_t epoch)
{
	size_t lo = 0, hi = k->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (k->v[mid].epoch < epoch)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < k->n && k->v[lo].epoch == epoch ? &k->v[lo] : NULL;
}

/* What the walk keeps of a record: its h(n) and epoch. */
typedef struct SealRec {
	uint8_t h[SEAL_HASH_LEN];
	int64_t epoch;
} SealRec;

typedef struct SealCk {
	int64_t seq, epoch, time;
	uint8_t hash[SEAL_HASH_LEN];
	bool sig_ok;
	bool key_known; /* the list has a key for its epoch */
} SealCk;

typedef struct SealState {
	const SealKeys *keys;
	EVP_MD_CTX *md;
	SealRec *recs;
	size_t n_recs, cap_recs;
	SealCk *cks;
	size_t n_cks, cap_cks;
	uint8_t h[SEAL_HASH_LEN];
	int64_t expected;
	uint8_t canon[SEAL_CANON_MAX];
} SealState;

static void
seal_fail(SealVerdict *v, const char *problem, int64_t seq, const char *msg)
{
	v->problem = problem;
	v->first_bad_seq = seq;
	snprintf(v->message, sizeof(v->message), "%s", msg);
}

static bool
seal_get_i64(json_object *o, const char *key, int64_t *ret)
{
	json_object *v = NULL;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	errno = 0;
	*ret = json_object_get_int64(v);
	return errno == 0;
}

static bool
seal_get_hex(json_object *o, const char *key, uint8_t *out, size_t n)
{
	json_object *v = NULL;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return false;
	return sealfmt_unhex(json_object_get_string(v), (size_t)json_object_get_string_len(v), out,
	                     n) == 0;
}

static int
seal_record(SealState *s, json_object *o, int64_t lineno, SealVerdict *v)
{
	int64_t seq = 0, time_usec = 0;
	const char *f[SEAL_FIELDS];
	uint32_t len[SEAL_FIELDS];
	uint8_t stored[SEAL_HASH_LEN];
	if (!seal_get_i64(o, "seq", &seq)) {
		seal_fail(v, "malformed", lineno, "");
		snprintf(v->message, sizeof(v->message), "line %" PRId64 ": a record without seq",
		         lineno);
		return 1;
	}
	if (seq < s->expected) {
		seal_fail(v, "out-of-order", seq, "records out of order");
		return 1;
	}
	if (seq > s->expected) {
		json_object *act = NULL;
		bool trunc = json_object_object_get_ex(o, "action", &act) &&
		             json_object_is_type(act, json_type_string) &&
		             strcmp(json_object_get_string(act), "audit.truncated") == 0;
		seal_fail(v, trunc ? "truncated" : "gap", s->expected, "record missing");
		return 1;
	}
	/* A record the daemon could not have written (no time, no h(n)) fails as a changed
	 * one, at its seq. */
	if (!seal_get_i64(o, "time", &time_usec) ||
	    !seal_get_hex(o, "hash", stored, sizeof(stored))) {
		seal_fail(v, "bad-hash", seq, "a record without its time or its chain hash");
		return 1;
	}
	for (int i = 0; i < SEAL_FIELDS; i++) {
		json_object *fv = NULL;
		f[i] = NULL;
		len[i] = 0;
		if (!json_object_object_get_ex(o, seal_field_names[i], &fv)) {
			seal_fail(v, "bad-hash", seq, "");
			snprintf(v->message, sizeof(v->message), "field %s missing",
			         seal_field_names[i]);
			return 1;
		}
		if (!fv)
			continue;
		size_t max = i == 6 ? SEAL_FIELD_DETAIL : SEAL_FIELD_SHORT;
		int l =
		    json_object_is_type(fv, json_type_string) ? json_object_get_string_len(fv) : -1;
		if (l < 0 || (size_t)l > max) {
			seal_fail(v, "bad-hash", seq, "");
			snprintf(v->message, sizeof(v->message),
			         "field %s is not text of the allowed length", seal_field_names[i]);
			return 1;
		}
		f[i] = json_object_get_string(fv);
		len[i] = (uint32_t)l;
	}
	if (!f[3] || !f[4]) {
		seal_fail(v, "bad-hash", seq, "a record without action or outcome");
		return 1;
	}
	size_t n = sealfmt_canonical(s->canon, seq, time_usec, f, len);
	unsigned int outl = 0;
	if (EVP_DigestInit_ex2(s->md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(s->md, s->h, SEAL_HASH_LEN) != 1 ||
	    EVP_DigestUpdate(s->md, s->canon, n) != 1 ||
	    EVP_DigestFinal_ex(s->md, s->h, &outl) != 1)
		return -EIO;
	if (CRYPTO_memcmp(stored, s->h, SEAL_HASH_LEN) != 0) {
		seal_fail(
		    v, "bad-hash", seq,
		    "its content does not match the chain: the record was changed, or records "
		    "were swapped or inserted");
		return 1;
	}
	if (s->n_recs == s->cap_recs) {
		size_t nc = s->cap_recs ? 2 * s->cap_recs : 4096;
		SealRec *nv = realloc(s->recs, nc * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		s->recs = nv;
		s->cap_recs = nc;
	}
	memcpy(s->recs[s->n_recs].h, s->h, SEAL_HASH_LEN);
	s->recs[s->n_recs].epoch = sealfmt_epoch(time_usec);
	s->n_recs++;
	s->expected++;
	v->records++;
	return 0;
}

static int
seal_checkpoint(SealState *s, json_object *c, int64_t lineno, SealVerdict *v)
{
	int64_t seq = 0, epoch = 0, time_usec = 0;
	uint8_t hash[SEAL_HASH_LEN], sig[SEAL_SIG_LEN];
	json_object *t = NULL;
	if (!json_object_is_type(c, json_type_object) || !seal_get_i64(c, "seq", &seq) ||
	    !seal_get_i64(c, "epoch", &epoch) || !seal_get_i64(c, "time", &time_usec) ||
	    !seal_get_hex(c, "hash", hash, sizeof(hash)) ||
	    !seal_get_hex(c, "signature", sig, sizeof(sig)) ||
	    !json_object_object_get_ex(c, "terminal", &t) ||
	    !json_object_is_type(t, json_type_string) ||
	    json_object_get_string_len(t) > SEAL_TERMINAL_MAX) {
		snprintf(v->message, sizeof(v->message), "line %" PRId64 ": a malformed checkpoint",
		         lineno);
		v->problem = "malformed";
		v->first_bad_seq = lineno;
		return 1;
	}
	if (s->n_cks == s->cap_cks) {
		size_t nc = s->cap_cks ? 2 * s->cap_cks : 256;
		SealCk *nv = realloc(s->cks, nc * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		s->cks = nv;
		s->cap_cks = nc;
	}
	SealCk *k = &s->cks[s->n_cks++];
	*k = (SealCk){ .seq = seq, .epoch = epoch, .time = time_usec };
	memcpy(k->hash, hash, sizeof(hash));
	const SealKey *key = seal_key_find(s->keys, epoch);
	uint8_t msg[SEAL_MSG_MAX];
	size_t n =
	    sealfmt_checkpoint_msg(msg, json_object_get_string(t), epoch, seq, hash, time_usec);
	k->key_known = key != NULL;
	if (key && n > 0) {
		EVP_PKEY *pk =
		    EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, key->pub, SEAL_PUBKEY_LEN);
		EVP_MD_CTX *mc = EVP_MD_CTX_new();
		k->sig_ok = pk && mc && EVP_DigestVerifyInit(mc, NULL, NULL, NULL, pk) == 1 &&
		            EVP_DigestVerify(mc, sig, sizeof(sig), msg, n) == 1;
		EVP_MD_CTX_free(mc);
		EVP_PKEY_free(pk);
	}
	return 0;
}

static int
seal_ck_cmp(const void *x, const void *y)
{
	const SealCk *a = x, *b = y;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return a->epoch < b->epoch ? -1 : a->epoch > b->epoch;
}

/* The checkpoints against the recomputed chain, with the same rules as audit_verify(). */
static void
seal_walk(SealState *s, SealVerdict *v)
{
	if (s->n_cks > 0) /* an export without a checkpoint has no array to sort */
		qsort(s->cks, s->n_cks, sizeof(*s->cks), seal_ck_cmp);
	int64_t first_key_epoch = s->keys->v[0].epoch, last_good = v->first_seq - 1;
	size_t next = 0;
	int64_t tail_first = 0, tail_epoch = 0, last_epoch = 0;
	/* Checkpoints before the range seal records that are not in this export. */
	while (next < s->n_cks && s->cks[next].seq < v->first_seq)
		next++;
	for (size_t i = 0; i < s->n_recs; i++) {
		int64_t seq = v->first_seq + (int64_t)i, e = s->recs[i].epoch;
		last_epoch = e;
		if (next < s->n_cks) {
			if (e >= first_key_epoch && s->cks[next].epoch > e) {
				seal_fail(
				    v, "unsealed", seq,
				    "sealed only by a checkpoint of a later epoch: the trail was "
				    "re-sealed after its own epoch's key was destroyed");
				v->checkpoint_seq = s->cks[next].seq;
				return;
			}
		} else if (tail_first == 0) {
			tail_first = seq;
			tail_epoch = e;
		}
		for (; next < s->n_cks && s->cks[next].seq == seq; next++) {
			SealCk *k = &s->cks[next];
			if (!k->sig_ok ||
			    CRYPTO_memcmp(k->hash, s->recs[i].h, SEAL_HASH_LEN) != 0) {
				seal_fail(v, "bad-checkpoint", last_good + 1,
				          k->sig_ok
				              ? "the checkpoint does not match the records before "
				                "it: they were rewritten"
				          : k->key_known
				              ? "the checkpoint's signature does not verify under "
				                "its epoch's public key: it was forged"
				              : "the key list has no key for the checkpoint's day: "
				                "take the terminal's newer list (and check its "
				                "fingerprint), or the checkpoint is forged");
				v->checkpoint_seq = seq;
				return;
			}
			v->checkpoints++;
			v->last_checkpoint_time = k->time;
			last_good = seq;
		}
	}
	int64_t last = v->first_seq + (int64_t)s->n_recs - 1;
	if (next < s->n_cks) {
		seal_fail(v, "truncated", last + 1,
		          "a checkpoint seals records that are not in the export: the newest "
		          "records were dropped");
		v->checkpoint_seq = s->cks[next].seq;
		return;
	}
	v->unsealed = last - last_good;
	if (tail_first > 0 && tail_epoch >= first_key_epoch && tail_epoch < last_epoch) {
		seal_fail(v, "unsealed", tail_first,
		          "no checkpoint of its epoch covers it, though later records exist: the "
		          "epoch's checkpoints were removed");
		return;
	}
}

int
seal_verify(const SealKeys *k, const char *text, size_t n, SealVerdict *ret)
{
	SealVerdict v = { .problem = "ok" };
	snprintf(v.fingerprint, sizeof(v.fingerprint), "%s", k->fingerprint);
	SealState s = { .keys = k, .expected = 1 };
	s.md = EVP_MD_CTX_new();
	json_tokener *tok = json_tokener_new();
	if (!s.md || !tok) {
		EVP_MD_CTX_free(s.md);
		json_tokener_free(tok);
		return -ENOMEM;
	}
	size_t pos = 0;
	int64_t lineno = 0, end_records = -1;
	bool header = false, in_tail = false;
	int r = 0;
	while (pos < n && r == 0) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', n - pos);
		size_t len = nl ? (size_t)(nl - line) : n - pos;
		pos += len + (nl ? 1 : 0);
		lineno++;
		if (!nl || len > SEAL_LINE_MAX || end_records >= 0) {
			snprintf(v.message, sizeof(v.message), "line %" PRId64 ": %s", lineno,
			         !nl                ? "the file ends inside a line (cut short)"
			         : end_records >= 0 ? "lines after the closing line"
			                            : "a line longer than any record");
			v.problem = "malformed";
			v.first_bad_seq = lineno;
			r = 1;
			break;
		}
		json_tokener_reset(tok);
		json_object *o = json_tokener_parse_ex(tok, line, (int)len);
		if (!o || json_tokener_get_error(tok) != json_tokener_success ||
		    json_tokener_get_parse_end(tok) != len ||
		    !json_object_is_type(o, json_type_object)) {
			json_object_put(o);
			snprintf(v.message, sizeof(v.message),
			         "line %" PRId64 ": not a JSON object", lineno);
			v.problem = "malformed";
			v.first_bad_seq = lineno;
			r = 1;
			break;
		}
		json_object *c = NULL;
		if (!header) {
			int64_t magic = 0;
			uint8_t prev[SEAL_HASH_LEN];
			if (!seal_get_i64(o, SEAL_EXPORT_MAGIC, &magic) || magic != 1 ||
			    !seal_get_i64(o, "first_seq", &v.first_seq) ||
			    !seal_get_i64(o, "last_seq", &v.last_seq) ||
			    !seal_get_hex(o, "prev_hash", prev, sizeof(prev)) || v.first_seq < 1 ||
			    v.last_seq < v.first_seq - 1) {
				snprintf(v.message, sizeof(v.message),
				         "line 1: not a sealed biogate audit export");
				v.problem = "malformed";
				v.first_bad_seq = 1;
				r = 1;
			} else {
				memcpy(s.h, prev, sizeof(prev));
				s.expected = v.first_seq;
				header = true;
			}
		} else if (json_object_object_get_ex(o, "checkpoint", &c)) {
			in_tail = true;
			r = seal_checkpoint(&s, c, lineno, &v);
		} else if (json_object_object_get_ex(o, "end", &c)) {
			if (!json_object_is_type(c, json_type_object) ||
			    !seal_get_i64(c, "records", &end_records) || end_records < 0) {
				snprintf(v.message, sizeof(v.message),
				         "line %" PRId64 ": a malformed closing line", lineno);
				v.problem = "malformed";
				v.first_bad_seq = lineno;
				r = 1;
			}
		} else if (in_tail) {
			snprintf(v.message, sizeof(v.message),
			         "line %" PRId64 ": a record after the checkpoints", lineno);
			v.problem = "malformed";
			v.first_bad_seq = lineno;
			r = 1;
		} else {
			r = seal_record(&s, o, lineno, &v);
		}
		json_object_put(o);
	}
	if (r == 0) {
		int64_t last = s.expected - 1;
		if (!header) {
			v.problem = "malformed";
			v.first_bad_seq = 1;
			snprintf(v.message, sizeof(v.message), "an empty file");
		} else if (last < v.last_seq) {
			/* The export promised more records than it holds. */
			seal_fail(
			    &v, "truncated", last + 1,
			    "it and the records after it are missing: the export or the trail "
			    "was cut short");
		} else if (last > v.last_seq) {
			seal_fail(&v, "out-of-order", v.last_seq + 1,
			          "records beyond the range the export names");
		} else if (end_records < 0 || end_records != v.records) {
			v.problem = "malformed";
			v.first_bad_seq = lineno;
			snprintf(
			    v.message, sizeof(v.message),
			    "the closing line is missing or counts other records: the file was "
			    "cut short or edited");
		} else {
			seal_walk(&s, &v);
		}
	}
	free(s.recs);
	free(s.cks);
	EVP_MD_CTX_free(s.md);
	json_tokener_free(tok);
	if (r < 0)
		return r;
	*ret = v;
	return 0;
}
