/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of policy/: the decision tables (every rule, every reason), the login gates,
 * the lockout window at its exact edges, the policy file parser (good files, each kind of
 * error with its file and line, drop-in order, caps) and the search-key rule of R11, which
 * is checked against an independent implementation written here over many random keys.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy.h"

static int failures;
static unsigned checks;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		checks++;                                                                          \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		checks++;                                                                          \
		const char *_a = (a), *_b = (b);                                                   \
		if (!_a || !_b || strcmp(_a, _b) != 0) {                                           \
			fprintf(stderr, "%s:%d: '%s' != '%s'\n", __FILE__, __LINE__,               \
			        _a ? _a : "(null)", _b ? _b : "(null)");                           \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
#define S             INT64_C(1000000)

static bool reasons_seen[_POLICY_REASON_MAX];

static Policy *
policy_from(const char *text)
{
	Policy *p = NULL;
	char err[256] = "";
	if (policy_new_defaults(&p) < 0)
		abort();
	int r = policy_load_string(p, "t.conf", text, strlen(text), err, sizeof(err));
	if (r != 0) {
		fprintf(stderr, "policy_from: %d %s\n", r, err);
		abort();
	}
	return p;
}

/* --- reasons ------------------------------------------------------------------------- */

static void
test_reason_names(void)
{
	static const char *const names[_POLICY_REASON_MAX] = {
		"allowed",
		"no-session",
		"unknown-role",
		"action-not-permitted",
		"admin-only",
		"key-required",
		"key-not-allowed",
		"key-invalid",
		"key-check-digit",
		"key-resident-record-code",
		"key-corporate-number",
		"not-on-roster",
		"revoked",
		"no-operator",
		"pledge-missing",
		"training-missing",
		"outside-shift",
		"already-in-session",
		"locked-out",
	};
	for (int r = 0; r < _POLICY_REASON_MAX; r++) {
		CHECK_STR(policy_reason_name((PolicyReason)r), names[r]);
		CHECK(policy_reason_from_name(names[r]) == r);
	}
	CHECK_STR(policy_reason_name(_POLICY_REASON_MAX), "unknown");
	CHECK_STR(policy_reason_name((PolicyReason)-1), "unknown");
	CHECK(policy_reason_from_name("Allowed") == -EINVAL);
	CHECK(policy_reason_from_name("") == -EINVAL);
	CHECK(policy_reason_from_name(NULL) == -EINVAL);
	CHECK(policy_reason_from_name("unknown") == -EINVAL);

	CHECK_STR(policy_key_class_name(POLICY_KEY_VALID), "valid");
	CHECK_STR(policy_key_class_name(POLICY_KEY_BAD_CHECK_DIGIT), "bad-check-digit");
	CHECK_STR(policy_key_class_name(POLICY_KEY_RESIDENT_CODE), "resident-record-code");
	CHECK_STR(policy_key_class_name(POLICY_KEY_CORPORATE), "corporate-number");
	CHECK_STR(policy_key_class_name(POLICY_KEY_GARBAGE), "invalid");
}

/* --- authorize ----------------------------------------------------------------------- */

static const char authz_policy[] = "[roles]\n"
                                   "counter = search view-record\n"
                                   "supervisor = search lookup approve\n"
                                   "auditor = audit-read\n"
                                   "empty =\n"
                                   "[admin]\n"
                                   "role = city\n"
                                   "actions = enroll revoke\n"
                                   "[search]\n"
                                   "actions = search lookup\n";

#define NOKEY ((const char *)NULL)

typedef struct AuthzCase {
	bool in_session;
	const char *role, *action, *key;
	bool allow;
	PolicyReason reason;
	bool violation;
	int key_class; /* -1: the key is not classified */
	const char *norm;
} AuthzCase;

static const AuthzCase authz_cases[] = {
	/* the session */
	{ false, "counter", "view-record", NOKEY, false, POLICY_NO_SESSION, false, -1, "" },
	{ false, "counter", "search", "12345678901", false, POLICY_NO_SESSION, false, -1, "" },
	/* the role */
	{ true, NULL, "view-record", NOKEY, false, POLICY_UNKNOWN_ROLE, false, -1, "" },
	{ true, "nobody", "view-record", NOKEY, false, POLICY_UNKNOWN_ROLE, false, -1, "" },
	{ true, "", "view-record", NOKEY, false, POLICY_UNKNOWN_ROLE, false, -1, "" },
	{ true, "COUNTER", "view-record", NOKEY, false, POLICY_UNKNOWN_ROLE, false, -1, "" },
	{ true, "counter ", "view-record", NOKEY, false, POLICY_UNKNOWN_ROLE, false, -1, "" },
	{ true, "admin", "enroll", NOKEY, false, POLICY_UNKNOWN_ROLE, false, -1, "" },
	{ true, "nobody", "search", "12345678901", false, POLICY_UNKNOWN_ROLE, false, -1, "" },
	/* admin-only before the role's own list */
	{ true, "counter", "enroll", NOKEY, false, POLICY_ADMIN_ONLY, false, -1, "" },
	{ true, "empty", "revoke", NOKEY, false, POLICY_ADMIN_ONLY, false, -1, "" },
	{ true, "counter", "enroll", "123456789018", false, POLICY_ADMIN_ONLY, false, -1, "" },
	{ true, "city", "enroll", NOKEY, true, POLICY_ALLOWED, false, -1, "" },
	{ true, "city", "revoke", NOKEY, true, POLICY_ALLOWED, false, -1, "" },
	/* not in the list: deny by default */
	{ true, "city", "search", "123456789018", false, POLICY_ACTION_NOT_PERMITTED, false, -1,
	  "" },
	{ true, "city", "view-record", NOKEY, false, POLICY_ACTION_NOT_PERMITTED, false, -1, "" },
	{ true, "counter", "approve", NOKEY, false, POLICY_ACTION_NOT_PERMITTED, false, -1, "" },
	{ true, "counter", NULL, NOKEY, false, POLICY_ACTION_NOT_PERMITTED, false, -1, "" },
	{ true, "counter", "", NOKEY, false, POLICY_ACTION_NOT_PERMITTED, false, -1, "" },
	{ true, "counter", "Search", NOKEY, false, POLICY_ACTION_NOT_PERMITTED, false, -1, "" },
	{ true, "empty", "search", "123456789018", false, POLICY_ACTION_NOT_PERMITTED, false, -1,
	  "" },
	{ true, "auditor", "search", "12345678901", false, POLICY_ACTION_NOT_PERMITTED, false, -1,
	  "" },
	/* keys on actions that take none */
	{ true, "counter", "view-record", NOKEY, true, POLICY_ALLOWED, false, -1, "" },
	{ true, "counter", "view-record", "123456789018", false, POLICY_KEY_NOT_ALLOWED, false, -1,
	  "" },
	{ true, "counter", "view-record", "", false, POLICY_KEY_NOT_ALLOWED, false, -1, "" },
	{ true, "city", "enroll", "123456789018", false, POLICY_KEY_NOT_ALLOWED, false, -1, "" },
	{ true, "auditor", "audit-read", "x", false, POLICY_KEY_NOT_ALLOWED, false, -1, "" },
	/* the search key (R11) */
	{ true, "counter", "search", NOKEY, false, POLICY_KEY_REQUIRED, false, -1, "" },
	{ true, "supervisor", "lookup", NOKEY, false, POLICY_KEY_REQUIRED, false, -1, "" },
	{ true, "counter", "search", "123456789018", true, POLICY_ALLOWED, false, POLICY_KEY_VALID,
	  "123456789018" },
	{ true, "supervisor", "lookup", "1234-5678-9018", true, POLICY_ALLOWED, false,
	  POLICY_KEY_VALID, "123456789018" },
	{ true, "counter", "search",
	  "\xEF\xBC\x91\xEF\xBC\x92\xEF\xBC\x93\xEF\xBC\x94\xE3\x80\x80"
	  "5678 9018",
	  true, POLICY_ALLOWED, false, POLICY_KEY_VALID, "123456789018" },
	{ true, "counter", "search", "123456789017", false, POLICY_KEY_CHECK_DIGIT, false,
	  POLICY_KEY_BAD_CHECK_DIGIT, "123456789017" },
	{ true, "counter", "search", "12345678901", false, POLICY_KEY_RESIDENT_RECORD_CODE, true,
	  POLICY_KEY_RESIDENT_CODE, "12345678901" },
	{ true, "supervisor", "search", "1234 5678 901", false, POLICY_KEY_RESIDENT_RECORD_CODE,
	  true, POLICY_KEY_RESIDENT_CODE, "12345678901" },
	{ true, "counter", "search", "1234567890123", false, POLICY_KEY_CORPORATE_NUMBER, false,
	  POLICY_KEY_CORPORATE, "1234567890123" },
	{ true, "counter", "search", "abc", false, POLICY_KEY_INVALID, false, POLICY_KEY_GARBAGE,
	  "" },
	{ true, "counter", "search", "", false, POLICY_KEY_INVALID, false, POLICY_KEY_GARBAGE, "" },
	{ true, "counter", "search", "1234567890", false, POLICY_KEY_INVALID, false,
	  POLICY_KEY_GARBAGE, "" },
	{ true, "counter", "search", "12345678901234", false, POLICY_KEY_INVALID, false,
	  POLICY_KEY_GARBAGE, "" },
	/* A resident record code in disguise is still the violation, with its digits for the
	 * HMAC (issue 14): the class stays garbage, the decision does not. */
	{ true, "counter", "search", "12345678901a", false, POLICY_KEY_RESIDENT_RECORD_CODE, true,
	  POLICY_KEY_GARBAGE, "12345678901" },
	{ true, "counter", "search",
	  "12345\xE2\x80\x8B"
	  "678901",
	  false, POLICY_KEY_RESIDENT_RECORD_CODE, true, POLICY_KEY_GARBAGE, "12345678901" },
	/* Arabic-Indic U+0661..U+0669, U+0660, U+0661 */
	{ true, "counter", "search",
	  "\xD9\xA1\xD9\xA2\xD9\xA3\xD9\xA4\xD9\xA5\xD9\xA6\xD9\xA7\xD9\xA8\xD9\xA9\xD9\xA0\xD9"
	  "\xA1",
	  false, POLICY_KEY_RESIDENT_RECORD_CODE, true, POLICY_KEY_GARBAGE, "12345678901" },
	/* Devanagari and Extended Arabic-Indic mixed, a soft hyphen, a letter in the middle */
	{ true, "counter", "search",
	  "\xE0\xA5\xA7\xDB\xB2\xC2\xAD"
	  "345x678901",
	  false, POLICY_KEY_RESIDENT_RECORD_CODE, true, POLICY_KEY_GARBAGE, "12345678901" },
	/* superscript one, circled two, a BOM */
	{ true, "counter", "search",
	  "\xC2\xB9\xE2\x91\xA1\xEF\xBB\xBF"
	  "345678901",
	  false, POLICY_KEY_RESIDENT_RECORD_CODE, true, POLICY_KEY_GARBAGE, "12345678901" },
	/* 11 ASCII digits behind an overlong encoding of a 12th and a stray continuation byte */
	{ true, "counter", "search", "12345678901\xC0\xB1\x80", false,
	  POLICY_KEY_RESIDENT_RECORD_CODE, true, POLICY_KEY_GARBAGE, "12345678901" },
	/* 10 or 12 digits in disguise: no resident record code, only an invalid key */
	{ true, "counter", "search", "1234567890a", false, POLICY_KEY_INVALID, false,
	  POLICY_KEY_GARBAGE, "" },
	{ true, "counter", "search", "123456789018\xE2\x80\x8B", false, POLICY_KEY_INVALID, false,
	  POLICY_KEY_GARBAGE, "" },
	{ true, "counter", "search",
	  "\xD9\xA1\xD9\xA2\xD9\xA3\xD9\xA4\xD9\xA5\xD9\xA6\xD9\xA7\xD9\xA8\xD9\xA9\xD9\xA0\xD9\xA1"
	  "\xD9\xA8",
	  false, POLICY_KEY_INVALID, false, POLICY_KEY_GARBAGE, "" },
};

static void
test_authorize(void)
{
	Policy *p = policy_from(authz_policy);
	for (size_t i = 0; i < ELEMENTSOF(authz_cases); i++) {
		const AuthzCase *c = &authz_cases[i];
		PolicyRequest req = {
			.in_session = c->in_session,
			.role = c->role,
			.action = c->action,
			.key = c->key,
			.key_len = c->key ? strlen(c->key) : 0,
		};
		char norm[14];
		memset(norm, 'x', sizeof(norm));
		PolicyKeyClass kc = (PolicyKeyClass)-1;
		PolicyDecision d = policy_authorize(p, &req, norm, sizeof(norm), &kc);
		if (d.allow != c->allow || d.reason != c->reason || d.violation != c->violation ||
		    (int)kc != c->key_class || strcmp(norm, c->norm) != 0) {
			fprintf(stderr,
			        "authorize case %zu (%s %s): got %d %s %d class %d norm '%.14s'\n",
			        i, c->role ? c->role : "-", c->action ? c->action : "-", d.allow,
			        policy_reason_name(d.reason), d.violation, (int)kc, norm);
			failures++;
		}
		checks++;
		reasons_seen[d.reason] = true;
	}

	/* Without out-parameters, and with no request or no policy: still a decision. */
	PolicyRequest req = { .in_session = true,
		              .role = "counter",
		              .action = "search",
		              .key = "12345678901",
		              .key_len = 11 };
	PolicyDecision d = policy_authorize(p, &req, NULL, 0, NULL);
	CHECK(!d.allow && d.reason == POLICY_KEY_RESIDENT_RECORD_CODE && d.violation);
	d = policy_authorize(p, NULL, NULL, 0, NULL);
	CHECK(!d.allow && d.reason == POLICY_NO_SESSION);
	d = policy_authorize(NULL, &req, NULL, 0, NULL);
	CHECK(!d.allow && d.reason == POLICY_UNKNOWN_ROLE);
	/* key_len, not the terminator, bounds the key. */
	req.key = "123456789018999";
	req.key_len = 12;
	d = policy_authorize(p, &req, NULL, 0, NULL);
	CHECK(d.allow && d.reason == POLICY_ALLOWED);
	/* A norm buffer too small for the digits gets "" and the decision is unchanged. */
	char small[12] = "zzz";
	d = policy_authorize(p, &req, small, sizeof(small), NULL);
	CHECK(d.allow && small[0] == '\0');

	CHECK(policy_is_admin_role(p, "city"));
	CHECK(!policy_is_admin_role(p, "admin"));
	CHECK(!policy_is_admin_role(p, NULL));
	CHECK(policy_role_exists(p, "city"));
	CHECK(policy_role_exists(p, "empty"));
	CHECK(!policy_role_exists(p, "nobody"));
	CHECK(policy_is_admin_action(p, "revoke"));
	CHECK(!policy_is_admin_action(p, "search"));
	CHECK(policy_takes_key(p, "lookup"));
	CHECK(!policy_takes_key(p, "approve"));
	CHECK(policy_two_person(p, "revoke"));
	CHECK(policy_two_person(p, "disposal-approve"));
	CHECK(policy_two_person(p, "enroll")); /* issue 14: the defaults have enroll */
	CHECK(!policy_two_person(p, NULL));
	CHECK(!policy_two_person(NULL, "revoke"));
	CHECK(policy_files_loaded(p) == 1);
	policy_free(p);

	/* The defaults alone grant nothing to anyone. */
	Policy *def = NULL;
	CHECK(policy_new_defaults(&def) == 0);
	req = (PolicyRequest){ .in_session = true, .role = "admin", .action = "enroll" };
	d = policy_authorize(def, &req, NULL, 0, NULL);
	CHECK(!d.allow && d.reason == POLICY_ACTION_NOT_PERMITTED);
	req.role = "counter";
	d = policy_authorize(def, &req, NULL, 0, NULL);
	CHECK(!d.allow && d.reason == POLICY_UNKNOWN_ROLE);
	CHECK(policy_files_loaded(def) == 0);
	policy_free(def);
}

/* --- login gates --------------------------------------------------------------------- */

typedef struct LoginCase {
	int policy; /* 0 defaults, 1 shifts required, 2 every optional gate off */
	PolicyLoginFacts f;
	bool allow;
	PolicyReason reason;
} LoginCase;

/* roster, revoked, operator, pledge, training, shift, open session, locked */
#define FACTS(ro, rv, op, pl, tr, sh, os, lo)                                                      \
	{                                                                                          \
		.on_roster = ro, .revoked = rv, .has_operator = op, .pledge_recorded = pl,         \
		.training_recorded = tr, .in_shift = sh, .in_open_session = os, .locked_out = lo   \
	}

static const LoginCase login_cases[] = {
	{ 0, FACTS(1, 0, 1, 1, 1, 0, 0, 0), true, POLICY_ALLOWED },
	{ 0, FACTS(0, 0, 1, 1, 1, 1, 0, 0), false, POLICY_NOT_ON_ROSTER },
	{ 0, FACTS(0, 1, 0, 0, 0, 0, 1, 1), false, POLICY_NOT_ON_ROSTER },
	{ 0, FACTS(1, 1, 1, 1, 1, 1, 0, 0), false, POLICY_REVOKED },
	{ 0, FACTS(1, 1, 0, 0, 0, 0, 1, 1), false, POLICY_REVOKED },
	{ 0, FACTS(1, 0, 1, 1, 1, 1, 0, 1), false, POLICY_LOCKED_OUT },
	{ 0, FACTS(1, 0, 0, 0, 0, 0, 1, 1), false, POLICY_LOCKED_OUT },
	{ 0, FACTS(1, 0, 0, 1, 1, 1, 0, 0), false, POLICY_NO_OPERATOR },
	{ 0, FACTS(1, 0, 0, 0, 0, 0, 1, 0), false, POLICY_NO_OPERATOR },
	{ 0, FACTS(1, 0, 1, 0, 1, 1, 0, 0), false, POLICY_PLEDGE_MISSING },
	{ 0, FACTS(1, 0, 1, 0, 0, 0, 1, 0), false, POLICY_PLEDGE_MISSING },
	{ 0, FACTS(1, 0, 1, 1, 0, 1, 0, 0), false, POLICY_TRAINING_MISSING },
	{ 0, FACTS(1, 0, 1, 1, 0, 0, 1, 0), false, POLICY_TRAINING_MISSING },
	{ 0, FACTS(1, 0, 1, 1, 1, 0, 1, 0), false, POLICY_ALREADY_IN_SESSION },
	{ 1, FACTS(1, 0, 1, 1, 1, 0, 0, 0), false, POLICY_OUTSIDE_SHIFT },
	{ 1, FACTS(1, 0, 1, 1, 1, 0, 1, 0), false, POLICY_OUTSIDE_SHIFT },
	{ 1, FACTS(1, 0, 1, 1, 1, 1, 1, 0), false, POLICY_ALREADY_IN_SESSION },
	{ 1, FACTS(1, 0, 1, 1, 1, 1, 0, 0), true, POLICY_ALLOWED },
	{ 2, FACTS(1, 0, 1, 0, 0, 0, 1, 0), true, POLICY_ALLOWED },
	{ 2, FACTS(1, 0, 0, 0, 0, 0, 1, 0), false, POLICY_NO_OPERATOR },
	{ 2, FACTS(1, 0, 1, 0, 0, 0, 1, 1), false, POLICY_LOCKED_OUT },
	{ 2, FACTS(1, 1, 1, 0, 0, 0, 1, 0), false, POLICY_REVOKED },
};

static void
test_login(void)
{
	Policy *p[3];
	CHECK(policy_new_defaults(&p[0]) == 0);
	p[1] = policy_from("[login]\nrequire-shift = yes\n");
	p[2] = policy_from("[login]\nrequire-pledge = no\nrequire-training = no\n"
	                   "require-shift = no\nsingle-session = no\n");
	for (size_t i = 0; i < ELEMENTSOF(login_cases); i++) {
		const LoginCase *c = &login_cases[i];
		PolicyDecision d = policy_check_login(p[c->policy], &c->f);
		if (d.allow != c->allow || d.reason != c->reason || d.violation) {
			fprintf(stderr, "login case %zu: got %d %s\n", i, d.allow,
			        policy_reason_name(d.reason));
			failures++;
		}
		checks++;
		reasons_seen[d.reason] = true;
	}
	/* No facts, or no policy: closed. */
	PolicyDecision d = policy_check_login(p[0], NULL);
	CHECK(!d.allow && d.reason == POLICY_NOT_ON_ROSTER);
	PolicyLoginFacts f = FACTS(1, 0, 1, 1, 1, 0, 0, 0);
	d = policy_check_login(NULL, &f);
	CHECK(!d.allow && d.reason == POLICY_OUTSIDE_SHIFT);
	for (int i = 0; i < 3; i++)
		policy_free(p[i]);
}

/* --- lockout ------------------------------------------------------------------------- */

static void
test_lockout(void)
{
	Policy *p = NULL;
	CHECK(policy_new_defaults(&p) == 0); /* 3 / 900 / 600 */
	int64_t until = 42;

	/* Three at the window's exact edges: [latest - 900 s, latest] includes both ends. */
	int64_t a[] = { 0, 100 * S, 900 * S };
	CHECK(policy_locked_out(p, a, 3, 900 * S, &until) && until == 1500 * S);
	until = 42;
	CHECK(policy_locked_out(p, a, 3, 1500 * S - 1, &until) && until == 1500 * S);
	until = 42;
	CHECK(!policy_locked_out(p, a, 3, 1500 * S, &until) && until == 42);
	CHECK(!policy_locked_out(p, a, 3, 1500 * S + 1, &until) && until == 42);
	/* Before the latest failure (a clock that went back): still locked. */
	CHECK(policy_locked_out(p, a, 3, 0, &until) && until == 1500 * S);

	/* One microsecond too far apart: the first falls out of the window. */
	int64_t b[] = { 0, 100 * S, 900 * S + 1 };
	until = 42;
	CHECK(!policy_locked_out(p, b, 3, 900 * S + 1, &until) && until == 42);

	/* Any order. */
	int64_t c[] = { 900 * S, 0, 100 * S };
	CHECK(policy_locked_out(p, c, 3, 1000 * S, &until) && until == 1500 * S);

	/* Only two: never. */
	CHECK(!policy_locked_out(p, a + 1, 2, 1000 * S, &until));
	CHECK(!policy_locked_out(p, a, 0, 1000 * S, &until));
	CHECK(!policy_locked_out(p, NULL, 3, 1000 * S, &until));
	CHECK(!policy_locked_out(NULL, a, 3, 1000 * S, &until));

	/* pam_faillock counts back from the latest failure only: three close together long
	 * ago and one now is not a lockout. */
	int64_t d[] = { 0, 1 * S, 2 * S, 2000 * S };
	CHECK(!policy_locked_out(p, d, 4, 2000 * S, &until));
	/* Older ones outside the window do not hurt the count of the ones inside. */
	int64_t e[] = { -100000 * S, 10 * S, 20 * S, 30 * S };
	CHECK(policy_locked_out(p, e, 4, 31 * S, &until) && until == 630 * S);
	/* Duplicates count separately. */
	int64_t f[] = { 5 * S, 5 * S, 5 * S };
	CHECK(policy_locked_out(p, f, 3, 5 * S, &until) && until == 605 * S);

	/* Extreme times do not overflow. */
	int64_t g[] = { INT64_MIN, INT64_MAX, INT64_MAX - 1, INT64_MAX - 2 };
	CHECK(policy_locked_out(p, g, 4, 0, &until) && until == INT64_MAX);
	CHECK(policy_locked_out(p, g, 4, INT64_MAX, &until) && until == INT64_MAX);
	int64_t h[] = { INT64_MIN, INT64_MIN + 1, INT64_MAX };
	CHECK(!policy_locked_out(p, h, 3, 0, &until));
	policy_free(p);

	/* deny = 0 disables, deny = 1 locks on the first failure. */
	p = policy_from("[lockout]\ndeny = 0\n");
	CHECK(!policy_locked_out(p, f, 3, 5 * S, &until));
	policy_free(p);
	p = policy_from("[lockout]\ndeny = 1\nfail-interval-sec = 1\nunlock-time-sec = 1\n");
	int64_t one[] = { 7 * S };
	CHECK(policy_locked_out(p, one, 1, 7 * S, &until) && until == 8 * S);
	CHECK(!policy_locked_out(p, one, 1, 8 * S, &until));
	policy_free(p);
	/* unlock-time-sec = 0: until an admin unlocks. */
	p = policy_from("[lockout]\nunlock-time-sec = 0\n");
	CHECK(policy_locked_out(p, a, 3, INT64_MAX, &until) && until == INT64_MAX);
	policy_free(p);
	/* A 4/60/30 policy. */
	p = policy_from("[lockout]\ndeny = 4\nfail-interval-sec = 60\nunlock-time-sec = 30\n");
	int64_t k[] = { 0, 20 * S, 40 * S, 60 * S };
	CHECK(policy_locked_out(p, k, 4, 60 * S, &until) && until == 90 * S);
	CHECK(!policy_locked_out(p, k, 3, 60 * S, &until));
	int64_t m[] = { 0, 20 * S, 40 * S, 60 * S + 1 };
	CHECK(!policy_locked_out(p, m, 4, 60 * S + 1, &until));
	CHECK(!policy_locked_out(p, k, 4, 90 * S, &until));
	policy_free(p);
}

/* --- the policy file ----------------------------------------------------------------- */

typedef struct ErrCase {
	const char *text;
	int r;
	const char *error;
} ErrCase;

static const ErrCase err_cases[] = {
	{ "[rolez]\n", -EINVAL, "t.conf:1: unknown section [rolez]" },
	{ "[ roles ]\ncounter = search\n", -EINVAL, "t.conf:1: unknown section [ roles ]" },
	{ "[foo]\nx = 1\n", -EINVAL, "t.conf:1: unknown section [foo]" },
	{ "x = 1\n", -EINVAL, "t.conf:1: 'x' is outside any [section]" },
	{ "[login]\nfoo = yes\n", -EINVAL, "t.conf:2: unknown key 'foo' in [login]" },
	{ "[login]\nf\x01o = 1\n", -EINVAL, "t.conf:2: unknown key 'f?o' in [login]" },
	{ "[login]\n= yes\n", -EINVAL, "t.conf:2: a key name is missing before '='" },
	{ "[roles]\n\n[login]\nrequire-pledge = maybe\n", -EINVAL,
	  "t.conf:4: [login] require-pledge: 'maybe' is not yes or no" },
	{ "[login]\nsingle-session = YES\n", -EINVAL,
	  "t.conf:2: [login] single-session: 'YES' is not yes or no" },
	{ "[lockout]\ndeny = 101\n", -EINVAL,
	  "t.conf:2: [lockout] deny: '101' is not a number from 0 to 100" },
	{ "[lockout]\ndeny = -1\n", -EINVAL,
	  "t.conf:2: [lockout] deny: '-1' is not a number from 0 to 100" },
	{ "[lockout]\ndeny = +1\n", -EINVAL,
	  "t.conf:2: [lockout] deny: '+1' is not a number from 0 to 100" },
	{ "[lockout]\ndeny = 1x\n", -EINVAL,
	  "t.conf:2: [lockout] deny: '1x' is not a number from 0 to 100" },
	{ "[lockout]\ndeny =\n", -EINVAL,
	  "t.conf:2: [lockout] deny: '' is not a number from 0 to 100" },
	{ "[lockout]\ndeny = 4294967299\n", -EINVAL,
	  "t.conf:2: [lockout] deny: '4294967299' is not a number from 0 to 100" },
	{ "[lockout]\nfail-interval-sec = 0\n", -EINVAL,
	  "t.conf:2: [lockout] fail-interval-sec: '0' is not a number from 1 to 604800" },
	{ "[retention]\naudit-years = 0\n", -EINVAL,
	  "t.conf:2: [retention] audit-years: '0' is not a number from 1 to 100" },
	{ "[fleet]\nwait-ms = 20000\n", -EINVAL,
	  "t.conf:2: [fleet] wait-ms: '20000' is not a number from 50 to 10000" },
	{ "[fleet]\noffline-login = maybe\n", -EINVAL,
	  "t.conf:2: [fleet] offline-login: 'maybe' is not yes or no" },
	{ "[shift]\npower-off-time = 24:00\n", -EINVAL,
	  "t.conf:2: [shift] power-off-time: '24:00' is not HH:MM (00:00 to 23:59) or none" },
	{ "[shift]\npower-off-time = 23:60\n", -EINVAL,
	  "t.conf:2: [shift] power-off-time: '23:60' is not HH:MM (00:00 to 23:59) or none" },
	{ "[shift]\npower-off-time = 7:00\n", -EINVAL,
	  "t.conf:2: [shift] power-off-time: '7:00' is not HH:MM (00:00 to 23:59) or none" },
	{ "[incidents]\nnotify = bin/notify\n", -EINVAL,
	  "t.conf:2: [incidents] notify: 'bin/notify' is not an absolute path to a program (no "
	  "spaces, shorter than 512 bytes)" },
	{ "[incidents]\nnotify = /bin/notify -x\n", -EINVAL,
	  "t.conf:2: [incidents] notify: '/bin/notify -x' is not an absolute path to a program (no "
	  "spaces, shorter than 512 bytes)" },
	{ "[roles]\nCounter = search\n", -EINVAL,
	  "t.conf:2: 'Counter' is not a role name ([a-z0-9][a-z0-9._-]*)" },
	{ "[roles]\n-counter = search\n", -EINVAL,
	  "t.conf:2: '-counter' is not a role name ([a-z0-9][a-z0-9._-]*)" },
	{ "[roles]\ncounter = Search\n", -EINVAL,
	  "t.conf:2: role 'counter': 'Search' is not a name ([a-z0-9][a-z0-9._-]*)" },
	{ "[roles]\ncounter = search,view\n", -EINVAL,
	  "t.conf:2: role 'counter': 'search,view' is not a name ([a-z0-9][a-z0-9._-]*)" },
	{ "[roles]\ncounter = search search\n", -EINVAL,
	  "t.conf:2: role 'counter': 'search' is listed twice" },
	{ "[roles]\ncounter = search\nauditor = x\ncounter = y\n", -EINVAL,
	  "t.conf:4: role 'counter': set twice in this file" },
	{ "[login]\nrequire-shift = yes\n[idle]\n[login]\nrequire-shift = no\n", -EINVAL,
	  "t.conf:5: [login] require-shift: set twice in this file" },
	{ "[login]\nrequire-shift = yes\n  no\n", -EINVAL,
	  "t.conf:3: [login] require-shift takes one value; this line continues it" },
	{ "[roles]\nadmin = search\n", -EINVAL,
	  "t.conf:2: role 'admin': the admin role cannot be an operator role" },
	{ "[admin]\nactions = enroll\n[roles]\ncounter = search enroll\n", -EINVAL,
	  "t.conf:4: role 'counter': 'enroll' is an admin-only action ([admin] actions)" },
	{ "[roles]\ncounter = enroll\n[admin]\nactions = revoke enroll\n", -EINVAL,
	  "t.conf:4: [admin] actions: 'enroll' is granted to operator role 'counter'" },
	{ "[roles]\nboss = x\n[admin]\nrole = boss\n", -EINVAL,
	  "t.conf:4: [admin] role: 'boss' is an operator role in [roles]" },
	{ "[admin]\nrole =\n", -EINVAL,
	  "t.conf:2: [admin] role: '' is not a name ([a-z0-9][a-z0-9._-]*)" },
	{ "[roles\n", -EINVAL,
	  "t.conf:1: syntax error (expected [section], key = value or a comment)" },
	{ "[login]\nrequire-shift\n", -EINVAL,
	  "t.conf:2: syntax error (expected [section], key = value or a comment)" },
	/* The first error of the file is the one reported, whoever found it. */
	{ "[login]\nfoo = 1\n[bar\n", -EINVAL, "t.conf:2: unknown key 'foo' in [login]" },
	{ "[login\nfoo = 1\n", -EINVAL,
	  "t.conf:1: syntax error (expected [section], key = value or a comment)" },
	{ "[roles]\ncounter = se\0arch\n", -EINVAL, "t.conf:2: NUL byte in the file" },
	/* A trailing comment is only one after whitespace and ';' (libinih). */
	{ "[lockout]\ndeny = 3 # three\n", -EINVAL,
	  "t.conf:2: [lockout] deny: '3 # three' is not a number from 0 to 100" },
};

static int
load_text(Policy *p, const char *text, size_t len, char *err, size_t err_size)
{
	return policy_load_string(p, "t.conf", text, len, err, err_size);
}

static void
test_parse_errors(void)
{
	for (size_t i = 0; i < ELEMENTSOF(err_cases); i++) {
		const ErrCase *c = &err_cases[i];
		Policy *p = NULL;
		CHECK(policy_new_defaults(&p) == 0);
		char err[512] = "";
		/* Lengths from the table's own string: the NUL case has a NUL in the middle. */
		size_t len = strlen(c->text);
		if (strstr(c->error, "NUL byte"))
			len += 1 + strlen(c->text + len + 1);
		int r = load_text(p, c->text, len, err, sizeof(err));
		if (r != c->r || strcmp(err, c->error) != 0) {
			fprintf(stderr, "parse error case %zu: got %d '%s', want %d '%s'\n", i, r,
			        err, c->r, c->error);
			failures++;
		}
		checks++;
		/* Nothing of a failed file was applied. */
		CHECK(policy_files_loaded(p) == 0);
		CHECK(!policy_role_exists(p, "counter"));
		CHECK(policy_settings(p)->require_shift == false);
		policy_free(p);
	}

	char err[256];
	/* Names: 64 characters are fine, 65 are not. */
	char text[512], name64[65], name65[66];
	memset(name64, 'a', 64);
	name64[64] = '\0';
	memset(name65, 'b', 65);
	name65[65] = '\0';
	Policy *p = NULL;
	CHECK(policy_new_defaults(&p) == 0);
	snprintf(text, sizeof(text), "[roles]\n%s = %s\n", name64, name64);
	CHECK(load_text(p, text, strlen(text), err, sizeof(err)) == 0);
	CHECK(policy_role_exists(p, name64));
	snprintf(text, sizeof(text), "[roles]\nr = %s\n", name65);
	CHECK(load_text(p, text, strlen(text), err, sizeof(err)) == -EINVAL);
	CHECK_STR(err, "t.conf:2: role 'r': name "
	               "'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb...' is "
	               "longer than 64 characters");
	snprintf(text, sizeof(text), "[roles]\n%s = x\n", name65);
	CHECK(load_text(p, text, strlen(text), err, sizeof(err)) == -EINVAL);
	CHECK_STR(err,
	          "t.conf:2: 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb...' "
	          "is not a role name ([a-z0-9][a-z0-9._-]*)");
	CHECK(!policy_valid_name(name65));
	CHECK(policy_valid_name(name64));
	CHECK(policy_valid_name("0.a_b-c"));
	CHECK(!policy_valid_name(""));
	CHECK(!policy_valid_name(".a"));
	CHECK(!policy_valid_name("_a"));
	CHECK(!policy_valid_name("a b"));
	CHECK(!policy_valid_name("a/b"));
	CHECK(!policy_valid_name("\xc3\xa9"));
	CHECK(!policy_valid_name(NULL));

	/* A line libinih cannot hold is an error, not two lines. */
	char longline[400];
	int n = snprintf(longline, sizeof(longline), "[roles]\ncounter = ");
	memset(longline + n, 'a', 250);
	strcpy(longline + n + 250, "\n");
	CHECK(load_text(p, longline, strlen(longline), err, sizeof(err)) == -EINVAL);
	CHECK_STR(err, "t.conf:2: line longer than 197 bytes");
	policy_free(p);

	/* Caps: 32 roles fine, the 33rd is an error on its own line. */
	CHECK(policy_new_defaults(&p) == 0);
	size_t cap = 8192;
	char *big = malloc(cap);
	size_t len = (size_t)snprintf(big, cap, "[roles]\n");
	for (int i = 0; i < 33; i++)
		len += (size_t)snprintf(big + len, cap - len, "r%d = a\n", i);
	CHECK(load_text(p, big, len, err, sizeof(err)) == -EINVAL);
	CHECK_STR(err, "t.conf:34: more than 32 roles");
	len = (size_t)snprintf(big, cap, "[roles]\n");
	for (int i = 0; i < 32; i++)
		len += (size_t)snprintf(big + len, cap - len, "r%d = a\n", i);
	CHECK(load_text(p, big, len, err, sizeof(err)) == 0);
	CHECK(policy_role_exists(p, "r31"));
	policy_free(p);

	/* 64 actions in a list fine (over continuation lines), the 65th not. */
	CHECK(policy_new_defaults(&p) == 0);
	len = (size_t)snprintf(big, cap, "[roles]\nr = a0");
	for (int i = 1; i < 64; i++)
		len += (size_t)snprintf(big + len, cap - len, "%sa%d", i % 8 ? " " : "\n  ", i);
	len += (size_t)snprintf(big + len, cap - len, "\n");
	CHECK(load_text(p, big, len, err, sizeof(err)) == 0);
	PolicyRequest req = { .in_session = true, .role = "r", .action = "a63" };
	CHECK(policy_authorize(p, &req, NULL, 0, NULL).allow);
	len = (size_t)snprintf(big, cap, "[two-person]\nactions = a0");
	for (int i = 1; i < 65; i++)
		len += (size_t)snprintf(big + len, cap - len, "%sa%d", i % 8 ? " " : "\n\t", i);
	len += (size_t)snprintf(big + len, cap - len, "\n");
	CHECK(load_text(p, big, len, err, sizeof(err)) == -EINVAL);
	CHECK_STR(err, "t.conf:10: [two-person] actions: more than 64 names");
	/* And the failed file left the two-person list as it was. */
	CHECK(policy_two_person(p, "revoke"));
	CHECK(!policy_two_person(p, "a0"));

	/* Over 1 MiB is refused before parsing. */
	free(big);
	big = malloc(1024 * 1024 + 1);
	memset(big, '\n', 1024 * 1024 + 1);
	CHECK(load_text(p, big, 1024 * 1024 + 1, err, sizeof(err)) == -EFBIG);
	CHECK_STR(err, "t.conf: larger than 1048576 bytes");
	CHECK(load_text(p, big, 1024 * 1024, err, sizeof(err)) == 0);
	free(big);

	/* A buffer too small for the message is cut, never overrun; no buffer is fine. */
	char tiny[8];
	CHECK(load_text(p, "[x]\n", 4, tiny, sizeof(tiny)) == -EINVAL);
	CHECK_STR(tiny, "t.conf:");
	CHECK(load_text(p, "[x]\n", 4, NULL, 0) == -EINVAL);
	CHECK(policy_load_string(NULL, "x", "", 0, NULL, 0) == -EINVAL);
	CHECK(policy_load_string(p, "x", NULL, 0, NULL, 0) == -EINVAL);
	policy_free(p);
}

static void
test_parse_good(void)
{
	static const char full[] = "\xEF\xBB\xBF# every key, none at its default\r\n"
	                           "[roles]\r\n"
	                           "counter = search view-record ; an inline comment\r\n"
	                           "clerk =\r\n"
	                           "multi = a b\r\n"
	                           "  c\r\n"
	                           "\r\n"
	                           "\td e\r\n"
	                           "; a comment\r\n"
	                           "[admin]\r\n"
	                           "role = city\r\n"
	                           "actions = enroll\r\n"
	                           "  revoke\r\n"
	                           "require-session = yes\r\n"
	                           "[search]\r\n"
	                           "actions = search lookup\r\n"
	                           "[login]\r\n"
	                           "require-pledge = no\r\n"
	                           "require-training = no\r\n"
	                           "require-shift = yes\r\n"
	                           "single-session: no\r\n"
	                           "[lockout]\r\n"
	                           "deny = 5\r\n"
	                           "fail-interval-sec = 120\r\n"
	                           "unlock-time-sec = 0\r\n"
	                           "[idle]\r\n"
	                           "lock-after-sec = 0\r\n"
	                           "logoff-after-sec = 86400\r\n"
	                           "warn-before-sec = 3600\r\n"
	                           "[shift]\r\n"
	                           "warn-before-sec = 0\r\n"
	                           "power-off-time = 23:59\r\n"
	                           "power-off-retry-sec = 10\r\n"
	                           "[two-person]\r\n"
	                           "actions =\r\n"
	                           "[retention]\r\n"
	                           "audit-years = 100\r\n"
	                           "[incidents]\r\n"
	                           "notify = /usr/libexec/biogate/notify-incident\r\n"
	                           "window-sec = 604800\r\n"
	                           "forbidden-search-threshold = 1\r\n"
	                           "failed-match-threshold = 10000\r\n"
	                           "[fleet]\r\n"
	                           "offline-login = no\r\n"
	                           "offline-max-sec = 3600\r\n"
	                           "lease-sec = 30\r\n"
	                           "wait-ms = 250\r\n"
	                           "[idle]\r\n"
	                           "[login]\r\n";
	Policy *p = policy_from(full);
	const PolicySettings *s = policy_settings(p);
	CHECK(!s->require_pledge && !s->require_training && s->require_shift &&
	      !s->single_session && s->admin_requires_session);
	CHECK(s->lockout_deny == 5 && s->lockout_interval_sec == 120 && s->lockout_unlock_sec == 0);
	CHECK(s->idle_lock_sec == 0 && s->idle_logoff_sec == 86400 && s->idle_warn_sec == 3600);
	CHECK(s->shift_warn_sec == 0 && s->power_off_minute == 23 * 60 + 59 &&
	      s->power_off_retry_sec == 10);
	CHECK(s->retention_years == 100);
	CHECK_STR(s->notify, "/usr/libexec/biogate/notify-incident");
	CHECK(s->incident_window_sec == 604800 && s->forbidden_search_threshold == 1 &&
	      s->failed_match_threshold == 10000);
	CHECK(!s->fleet_offline_login && s->fleet_offline_max_sec == 3600 &&
	      s->fleet_lease_sec == 30 && s->fleet_wait_ms == 250);
	CHECK_STR(s->admin_role, "city");
	CHECK(policy_is_admin_action(p, "revoke") && policy_is_admin_action(p, "enroll"));
	CHECK(policy_takes_key(p, "lookup") && policy_takes_key(p, "search"));
	CHECK(!policy_two_person(p, "revoke"));
	CHECK(policy_role_exists(p, "clerk"));
	const char *multi[] = { "a", "b", "c", "d", "e" };
	for (size_t i = 0; i < ELEMENTSOF(multi); i++) {
		PolicyRequest req = { .in_session = true, .role = "multi", .action = multi[i] };
		CHECK(policy_authorize(p, &req, NULL, 0, NULL).allow);
	}
	PolicyRequest req = { .in_session = true, .role = "clerk", .action = "search" };
	CHECK(policy_authorize(p, &req, NULL, 0, NULL).reason == POLICY_ACTION_NOT_PERMITTED);
	req = (PolicyRequest){ .in_session = true, .role = "counter", .action = "view-record" };
	CHECK(policy_authorize(p, &req, NULL, 0, NULL).allow);

	/* A second string over the first: key by key, a role's list replaced, "none" and
	 * empty unset. */
	char err[256];
	static const char over[] = "[roles]\ncounter = view-record\n[login]\nrequire-pledge = yes\n"
	                           "[shift]\npower-off-time = none\n[incidents]\nnotify =\n";
	CHECK(policy_load_string(p, "u.conf", over, strlen(over), err, sizeof(err)) == 0);
	CHECK(s->require_pledge && !s->require_training && s->require_shift);
	CHECK(s->power_off_minute == -1 && s->notify[0] == '\0');
	CHECK(policy_files_loaded(p) == 2);
	req = (PolicyRequest){ .in_session = true,
		               .role = "counter",
		               .action = "search",
		               .key = "123456789018",
		               .key_len = 12 };
	CHECK(policy_authorize(p, &req, NULL, 0, NULL).reason == POLICY_ACTION_NOT_PERMITTED);
	req = (PolicyRequest){ .in_session = true, .role = "multi", .action = "e" };
	CHECK(policy_authorize(p, &req, NULL, 0, NULL).allow);
	CHECK(policy_load_string(p, "u.conf", "[shift]\npower-off-time = 00:00\n", 31, err,
	                         sizeof(err)) == 0);
	CHECK(s->power_off_minute == 0);
	/* Empty text is a valid, empty file. */
	CHECK(policy_load_string(p, "e.conf", "", 0, err, sizeof(err)) == 0);
	CHECK(policy_files_loaded(p) == 4);
	policy_free(p);
}

static char tmpdir[64];

static void
write_file(const char *rel, const char *text, mode_t mode)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
	    fchmod(fd, mode) < 0) {
		perror(path);
		abort();
	}
	close(fd);
}

static void
test_files(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test-policy-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		abort();
	}
	char path[256], dpath[256], err[256];
	snprintf(path, sizeof(path), "%s/main.conf", tmpdir);
	snprintf(dpath, sizeof(dpath), "%s/main.conf.d", tmpdir);

	Policy *p = (Policy *)(uintptr_t)1;
	/* An explicit path must exist; *ret is not touched on failure. */
	CHECK(policy_load(path, &p, err, sizeof(err)) == -ENOENT);
	CHECK(p == (Policy *)(uintptr_t)1);
	CHECK(strstr(err, "main.conf: cannot open: No such file or directory") != NULL);

	write_file("main.conf",
	           "[roles]\ncounter = search view-record\nauditor = audit-read\n"
	           "[lockout]\ndeny = 5\n",
	           0644);
	/* No drop-in directory: the file alone. */
	CHECK(policy_load(path, &p, err, sizeof(err)) == 0);
	CHECK(policy_files_loaded(p) == 1 && policy_settings(p)->lockout_deny == 5);
	policy_free(p);

	if (mkdir(dpath, 0755) < 0)
		abort();
	write_file("main.conf.d/10-a.conf", "[roles]\ncounter = view-record\n[lockout]\ndeny = 6\n",
	           0644);
	write_file("main.conf.d/20-b.conf", "[lockout]\ndeny = 7\n", 0600);
	write_file("main.conf.d/05-c.conf", "[idle]\nlock-after-sec = 10\n[lockout]\ndeny = 9\n",
	           0644);
	write_file("main.conf.d/Z.conf", "[idle]\nlock-after-sec = 11\n", 0644);
	write_file("main.conf.d/a.conf", "[idle]\nlock-after-sec = 12\n", 0644);
	write_file("main.conf.d/.hidden.conf", "[lockout]\ndeny = 99\n", 0644);
	write_file("main.conf.d/notes.txt", "this is not a policy\n", 0644);
	write_file("main.conf.d/.conf", "garbage\n", 0644);
	CHECK(policy_load(path, &p, err, sizeof(err)) == 0);
	/* main, then 05-c, 10-a, 20-b, Z, a: byte order, where Z sorts before a (a locale's
	 * collation would put a first). */
	const PolicySettings *s = policy_settings(p);
	CHECK(policy_files_loaded(p) == 6);
	CHECK(s->lockout_deny == 7);
	CHECK(s->idle_lock_sec == 12);
	PolicyRequest req = { .in_session = true,
		              .role = "counter",
		              .action = "search",
		              .key = "123456789018",
		              .key_len = 12 };
	CHECK(policy_authorize(p, &req, NULL, 0, NULL).reason == POLICY_ACTION_NOT_PERMITTED);
	req = (PolicyRequest){ .in_session = true, .role = "auditor", .action = "audit-read" };
	CHECK(policy_authorize(p, &req, NULL, 0, NULL).allow);
	policy_free(p);

	/* An error in a drop-in names the drop-in and its line, and fails the whole load. */
	write_file("main.conf.d/30-bad.conf", "[lockout]\n\ndeny = many\n", 0644);
	p = (Policy *)(uintptr_t)1;
	CHECK(policy_load(path, &p, err, sizeof(err)) == -EINVAL);
	CHECK(p == (Policy *)(uintptr_t)1);
	char want[512];
	snprintf(want, sizeof(want),
	         "%s/30-bad.conf:3: [lockout] deny: 'many' is not a number from 0 to 100", dpath);
	CHECK_STR(err, want);

	/* A file other users can write is refused. */
	write_file("main.conf.d/30-bad.conf", "[lockout]\ndeny = 8\n", 0646);
	CHECK(policy_load(path, &p, err, sizeof(err)) == -EPERM);
	snprintf(want, sizeof(want), "%s/30-bad.conf: writable by other users; refused", dpath);
	CHECK_STR(err, want);
	write_file("main.conf.d/30-bad.conf", "[lockout]\ndeny = 8\n", 0664);
	CHECK(policy_load(path, &p, err, sizeof(err)) == 0);
	CHECK(policy_settings(p)->lockout_deny == 8);

	/* A directory is not a policy file. */
	CHECK(policy_load_file(p, dpath, err, sizeof(err)) == -EINVAL);
	snprintf(want, sizeof(want), "%s: not a regular file", dpath);
	CHECK_STR(err, want);
	CHECK(policy_load_file(p, "/nonexistent/policy.conf", err, sizeof(err)) == -ENOENT);
	CHECK(policy_load(NULL, NULL, err, sizeof(err)) == -EINVAL);
	policy_free(p);

	/* The default policy this project installs loads and means what it says. */
	CHECK(policy_load(BIOGATE_SOURCE_DIR "/policy/policy.conf", &p, err, sizeof(err)) == 0);
	s = policy_settings(p);
	CHECK(s->require_pledge && s->require_training && !s->require_shift && s->single_session);
	CHECK(!s->admin_requires_session);
	CHECK(s->lockout_deny == 3 && s->lockout_interval_sec == 900 &&
	      s->lockout_unlock_sec == 600);
	CHECK(s->idle_lock_sec == 300 && s->idle_logoff_sec == 900 && s->idle_warn_sec == 60);
	CHECK(s->shift_warn_sec == 300 && s->power_off_minute == -1);
	CHECK(s->retention_years == 7 && s->incident_window_sec == 3600);
	CHECK(s->forbidden_search_threshold == 3 && s->failed_match_threshold == 5);
	CHECK(s->fleet_offline_login && s->fleet_offline_max_sec == 28800 &&
	      s->fleet_lease_sec == 60 && s->fleet_wait_ms == 500);
	CHECK(s->notify[0] == '\0');
	CHECK_STR(s->admin_role, "admin");
	static const struct {
		const char *role, *action;
		PolicyReason reason;
	} shipped[] = {
		{ "counter", "view-record", POLICY_ALLOWED },
		{ "counter", "issue-card", POLICY_ALLOWED },
		{ "counter", "print-receipt", POLICY_ALLOWED },
		{ "counter", "approve", POLICY_ACTION_NOT_PERMITTED },
		{ "counter", "view-report", POLICY_ACTION_NOT_PERMITTED },
		{ "counter", "audit-read", POLICY_ACTION_NOT_PERMITTED },
		{ "counter", "enroll", POLICY_ADMIN_ONLY },
		{ "supervisor", "approve", POLICY_ALLOWED },
		{ "supervisor", "view-report", POLICY_ALLOWED },
		{ "supervisor", "issue-card", POLICY_ALLOWED },
		{ "supervisor", "nationality-read", POLICY_ADMIN_ONLY },
		{ "auditor", "audit-read", POLICY_ALLOWED },
		{ "auditor", "audit-verify", POLICY_ALLOWED },
		{ "auditor", "audit-export", POLICY_ADMIN_ONLY },
		{ "auditor", "view-record", POLICY_ACTION_NOT_PERMITTED },
		{ "admin", "staff-manage", POLICY_ALLOWED },
		{ "admin", "operator-grant", POLICY_ALLOWED },
		{ "admin", "enroll", POLICY_ALLOWED },
		{ "admin", "revoke", POLICY_ALLOWED },
		{ "admin", "audit-export", POLICY_ALLOWED },
		{ "admin", "nationality-read", POLICY_ALLOWED },
		{ "admin", "disposal-approve", POLICY_ALLOWED },
		{ "admin", "usb-allow", POLICY_ALLOWED },
		{ "admin", "schedule-import", POLICY_ALLOWED },
		{ "admin", "view-record", POLICY_ACTION_NOT_PERMITTED },
		{ "admin", "search", POLICY_ACTION_NOT_PERMITTED },
		{ "operator", "search", POLICY_UNKNOWN_ROLE },
	};
	for (size_t i = 0; i < ELEMENTSOF(shipped); i++) {
		req = (PolicyRequest){ .in_session = true,
			               .role = shipped[i].role,
			               .action = shipped[i].action };
		PolicyDecision d = policy_authorize(p, &req, NULL, 0, NULL);
		if (d.reason != shipped[i].reason || d.allow != (shipped[i].reason == 0)) {
			fprintf(stderr, "shipped policy: %s %s -> %s\n", shipped[i].role,
			        shipped[i].action, policy_reason_name(d.reason));
			failures++;
		}
		checks++;
	}
	for (const char *const *r = (const char *const[]){ "counter", "supervisor", NULL }; *r;
	     r++) {
		req = (PolicyRequest){ .in_session = true,
			               .role = *r,
			               .action = "search",
			               .key = "123456789018",
			               .key_len = 12 };
		CHECK(policy_authorize(p, &req, NULL, 0, NULL).allow);
		req.key = NULL;
		CHECK(policy_authorize(p, &req, NULL, 0, NULL).reason == POLICY_KEY_REQUIRED);
	}
	CHECK(policy_two_person(p, "revoke") && policy_two_person(p, "audit-export") &&
	      policy_two_person(p, "nationality-read") && policy_two_person(p, "disposal-approve"));
	CHECK(policy_two_person(p, "enroll")); /* issue 14: the shipped policy too */
	policy_free(p);

	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

/* --- the search key, against an independent implementation --------------------------- */

/* A general strict UTF-8 decoder (RFC 3629): returns the code point and its length, or -1
 * for anything ill-formed (overlong, surrogate, above U+10FFFF, truncated, stray byte). */
static int32_t
ref_decode(const unsigned char *s, size_t len, size_t *used)
{
	if (s[0] < 0x80) {
		*used = 1;
		return s[0];
	}
	int n;
	int32_t cp, min;
	if ((s[0] & 0xE0) == 0xC0) {
		n = 2, cp = s[0] & 0x1F, min = 0x80;
	} else if ((s[0] & 0xF0) == 0xE0) {
		n = 3, cp = s[0] & 0x0F, min = 0x800;
	} else if ((s[0] & 0xF8) == 0xF0) {
		n = 4, cp = s[0] & 0x07, min = 0x10000;
	} else {
		return -1;
	}
	if (len < (size_t)n)
		return -1;
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return -1;
	*used = (size_t)n;
	return cp;
}

/* The check digit from the left, with the weights reversed: 6 5 4 3 2 7 6 5 4 3 2. */
static int
ref_check_digit(const char *d)
{
	static const int w[11] = { 6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2 };
	int sum = 0;
	for (int i = 0; i < 11; i++)
		sum += (d[i] - '0') * w[i];
	int c = (11 - sum % 11) % 11;
	return c == 10 ? 0 : c;
}

static PolicyKeyClass
ref_classify(const char *key, size_t len, char *out, size_t *ret_n)
{
	const unsigned char *s = (const unsigned char *)key;
	size_t n = 0;
	*ret_n = 0;
	for (size_t i = 0; i < len;) {
		size_t used = 0;
		int32_t cp = ref_decode(s + i, len - i, &used);
		if (cp < 0)
			return POLICY_KEY_GARBAGE;
		i += used;
		if (cp == 0x20 || cp == 0x3000 || cp == 0x2D || cp == 0xFF0D)
			continue;
		char d;
		if (cp >= '0' && cp <= '9')
			d = (char)cp;
		else if (cp >= 0xFF10 && cp <= 0xFF19)
			d = (char)('0' + (cp - 0xFF10));
		else
			return POLICY_KEY_GARBAGE;
		if (n < 64)
			out[n] = d;
		n++;
	}
	*ret_n = n;
	if (n == 11)
		return POLICY_KEY_RESIDENT_CODE;
	if (n == 13)
		return POLICY_KEY_CORPORATE;
	if (n != 12)
		return POLICY_KEY_GARBAGE;
	return ref_check_digit(out) == out[11] - '0' ? POLICY_KEY_VALID
	                                             : POLICY_KEY_BAD_CHECK_DIGIT;
}

typedef struct KeyCase {
	const char *key;
	size_t len; /* 0: strlen */
	PolicyKeyClass c;
	const char *norm;
} KeyCase;

#define FW(d) "\xEF\xBC" d /* full-width digit: FW("\x90") is U+FF10 */
#define IDSP  "\xE3\x80\x80"
#define FWHY  "\xEF\xBC\x8D"

static const KeyCase key_cases[] = {
	{ "123456789018", 0, POLICY_KEY_VALID, "123456789018" },
	{ "123456789017", 0, POLICY_KEY_BAD_CHECK_DIGIT, "123456789017" },
	{ "123456789010", 0, POLICY_KEY_BAD_CHECK_DIGIT, "123456789010" },
	{ "000000000000", 0, POLICY_KEY_VALID, "000000000000" },
	{ FW("\x91") FW("\x92") FW("\x93") FW("\x94") FW("\x95") FW("\x96") FW("\x97") FW("\x98")
	      FW("\x99") FW("\x90") FW("\x91") FW("\x98"),
	  0, POLICY_KEY_VALID, "123456789018" },
	{ "1234 5678 9018", 0, POLICY_KEY_VALID, "123456789018" },
	{ "1234-5678-9018", 0, POLICY_KEY_VALID, "123456789018" },
	{ "1234" IDSP "5678" IDSP "9018", 0, POLICY_KEY_VALID, "123456789018" },
	{ "1234" FWHY "5678" FWHY "9018", 0, POLICY_KEY_VALID, "123456789018" },
	{ " -" IDSP FWHY "12345678901" FW("\x98") " - " IDSP, 0, POLICY_KEY_VALID, "123456789018" },
	{ "12345678901", 0, POLICY_KEY_RESIDENT_CODE, "12345678901" },
	{ "1234-5678-901", 0, POLICY_KEY_RESIDENT_CODE, "12345678901" },
	{ "1234567890123", 0, POLICY_KEY_CORPORATE, "1234567890123" },
	{ "1 2 3 4 5 6 7 8 9 0 1 2 3", 0, POLICY_KEY_CORPORATE, "1234567890123" },
	{ "", 0, POLICY_KEY_GARBAGE, "" },
	{ "   ", 0, POLICY_KEY_GARBAGE, "" },
	{ IDSP FWHY "-", 0, POLICY_KEY_GARBAGE, "" },
	{ "1234567890", 0, POLICY_KEY_GARBAGE, "" },
	{ "12345678901234", 0, POLICY_KEY_GARBAGE, "" },
	{ "1234567890123456789012345", 0, POLICY_KEY_GARBAGE, "" },
	{ "12345678901a", 0, POLICY_KEY_GARBAGE, "" },
	{ "+123456789018", 0, POLICY_KEY_GARBAGE, "" },
	{ "1234\t5678\t9018", 0, POLICY_KEY_GARBAGE, "" },
	{ "1234_5678_9018", 0, POLICY_KEY_GARBAGE, "" },
	{ "1234.5678.9018", 0, POLICY_KEY_GARBAGE, "" },
	{ "123456789018\n", 0, POLICY_KEY_GARBAGE, "" },
	/* NUL bytes inside and at the end */
	{ "123456\000789018", 13, POLICY_KEY_GARBAGE, "" },
	{ "123456789018\000", 13, POLICY_KEY_GARBAGE, "" },
	{ "\000", 1, POLICY_KEY_GARBAGE, "" },
	/* length, not the terminator */
	{ "123456789018999", 12, POLICY_KEY_VALID, "123456789018" },
	{ "123456789018999", 11, POLICY_KEY_RESIDENT_CODE, "12345678901" },
	/* other digits and look-alikes */
	{ "\xD9\xA1\xD9\xA2\xD9\xA3\xD9\xA4\xD9\xA5\xD9\xA6\xD9\xA7\xD9\xA8\xD9\xA9\xD9\xA0\xD9\xA1"
	  "\xD9\xA8",
	  0, POLICY_KEY_GARBAGE, "" },                                /* Arabic-Indic */
	{ "12345678901\xDB\xB8", 0, POLICY_KEY_GARBAGE, "" },         /* Extended Arabic */
	{ "12345678901\xE0\xA5\xAE", 0, POLICY_KEY_GARBAGE, "" },     /* Devanagari 8 */
	{ "12345678901\xF0\x9D\x9F\x96", 0, POLICY_KEY_GARBAGE, "" }, /* math bold 8 */
	{ "12345678901\xE2\x91\xA7", 0, POLICY_KEY_GARBAGE, "" },     /* circled 8 */
	{ "1234\xE2\x88\x92"
	  "5678901"
	  "8",
	  0, POLICY_KEY_GARBAGE, "" }, /* minus sign */
	{ "1234\xE2\x80\x90"
	  "56789018",
	  0, POLICY_KEY_GARBAGE, "" }, /* hyphen */
	{ "1234\xC2\xA0"
	  "56789018",
	  0, POLICY_KEY_GARBAGE, "" },                            /* no-break space */
	{ "12345678901\xEF\xBC\x9A", 0, POLICY_KEY_GARBAGE, "" }, /* U+FF1A */
	{ "12345678901\xEF\xBC\x8F", 0, POLICY_KEY_GARBAGE, "" }, /* U+FF0F */
	{ "12345678901\xEF\xBC\x8E", 0, POLICY_KEY_GARBAGE, "" }, /* U+FF0E */
	{ "12345678901\xEF\xBC\x8C", 0, POLICY_KEY_GARBAGE, "" }, /* U+FF0C */
	{ "1234\xE3\x80\x81"
	  "56789018",
	  0, POLICY_KEY_GARBAGE, "" }, /* U+3001 */
	{ "1234\xEF\xBD\x9E"
	  "56789018",
	  0, POLICY_KEY_GARBAGE, "" }, /* U+FF5E */
	{ "\xEF\xBB\xBF"
	  "123456789018",
	  0, POLICY_KEY_GARBAGE, "" }, /* BOM */
	/* ill-formed UTF-8 */
	{ "\xC0\xB0"
	  "23456789018",
	  0, POLICY_KEY_GARBAGE, "" }, /* overlong '0' */
	{ "\xE0\x80\xB0"
	  "23456789018",
	  0, POLICY_KEY_GARBAGE, "" }, /* overlong '0' */
	{ "\xF0\x80\x80\xB0"
	  "23456789018",
	  0, POLICY_KEY_GARBAGE, "" }, /* overlong '0' */
	{ "\xC1\xA0"
	  "123456789018",
	  0, POLICY_KEY_GARBAGE, "" }, /* overlong ' ' */
	{ "\xF0\x8F\xBC\x91"
	  "23456789018",
	  0, POLICY_KEY_GARBAGE, "" }, /* overlong U+FF11 */
	{ "\xED\xA0\x80"
	  "123456789018",
	  0, POLICY_KEY_GARBAGE, "" },                             /* surrogate */
	{ "123456789018\xED\xBF\xBF", 0, POLICY_KEY_GARBAGE, "" }, /* surrogate */
	{ "12345678901\xEF\xBC", 0, POLICY_KEY_GARBAGE, "" },      /* truncated */
	{ "12345678901\xEF", 0, POLICY_KEY_GARBAGE, "" },          /* truncated */
	{ "123456789018\xE3\x80", 0, POLICY_KEY_GARBAGE, "" },     /* truncated */
	{ "12345678901\xBC\x98", 0, POLICY_KEY_GARBAGE, "" },      /* no lead byte */
	{ "12345678901\xEF\x3C\x98", 0, POLICY_KEY_GARBAGE, "" },  /* bad continuation */
	{ "12345678901\xFF", 0, POLICY_KEY_GARBAGE, "" },
	{ "12345678901\xF4\x90\x80\x80", 0, POLICY_KEY_GARBAGE, "" }, /* > U+10FFFF */
};

static void
check_key(const char *key, size_t len, PolicyKeyClass want, const char *want_norm, size_t idx)
{
	char out[14];
	memset(out, 'x', sizeof(out));
	PolicyKeyClass c = policy_key_classify(key, len, out, sizeof(out));
	if (c != want || strcmp(out, want_norm) != 0) {
		fprintf(stderr, "key case %zu: got %s '%.14s', want %s '%s'\n", idx,
		        policy_key_class_name(c), out, policy_key_class_name(want), want_norm);
		failures++;
	}
	checks++;
}

/* Exactly len bytes on the heap, so that ASan sees any read past the end. */
static void
check_key_heap(const char *key, size_t len, PolicyKeyClass want, const char *want_norm, size_t idx)
{
	char *k = malloc(len ? len : 1);
	memcpy(k, key, len);
	check_key(k, len, want, want_norm, idx);
	free(k);
}

static uint64_t rng_state = UINT64_C(0x9E3779B97F4A7C15);

static uint32_t
rng(void)
{
	/* xorshift64*: fixed seed, the same keys on every run. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * UINT64_C(0x2545F4914F6CDD1D)) >> 32);
}

/* Appends digit d (0-9) as ASCII or full-width, maybe followed by a separator. */
static size_t
put_digit(char *buf, size_t n, int d, unsigned mix)
{
	if (mix && rng() % 3 == 0) {
		buf[n++] = (char)0xEF;
		buf[n++] = (char)0xBC;
		buf[n++] = (char)(0x90 + d);
	} else {
		buf[n++] = (char)('0' + d);
	}
	if (mix && rng() % 4 == 0) {
		static const char *const seps[] = { " ", "-", IDSP, FWHY };
		const char *s = seps[rng() % 4];
		memcpy(buf + n, s, strlen(s));
		n += strlen(s);
	}
	return n;
}

static void
test_search_key(void)
{
	for (size_t i = 0; i < ELEMENTSOF(key_cases); i++) {
		const KeyCase *c = &key_cases[i];
		size_t len = c->len ? c->len : strlen(c->key);
		check_key_heap(c->key, len, c->c, c->norm, i);
		/* The table also checks the reference, so that the random comparison below
		 * compares with something known to be right. */
		char ref[64];
		size_t rn;
		CHECK(ref_classify(c->key, len, ref, &rn) == c->c);
	}
	CHECK(policy_key_classify(NULL, 12, NULL, 0) == POLICY_KEY_GARBAGE);
	CHECK(policy_key_classify("123456789018", 12, NULL, 0) == POLICY_KEY_VALID);
	char out[13];
	strcpy(out, "x");
	CHECK(policy_key_classify("123456789018", 12, out, 12) == POLICY_KEY_VALID && !out[0]);
	CHECK(policy_key_classify("123456789018", 12, out, 13) == POLICY_KEY_VALID &&
	      strcmp(out, "123456789018") == 0);
	CHECK(policy_key_classify("12345678901", 11, out, 12) == POLICY_KEY_RESIDENT_CODE &&
	      strcmp(out, "12345678901") == 0);

	CHECK(policy_check_digit("12345678901") == 8);
	CHECK(policy_check_digit("00000000000") == 0);
	CHECK(policy_check_digit("1234567890") == -1);
	CHECK(policy_check_digit("1234567890a") == -1);
	CHECK(policy_check_digit(NULL) == -1);
	CHECK(policy_check_digit("123456789012345") == 8); /* only the first 11 count */

	/* Very long inputs: a megabyte of separators around a number, of digits, of junk. */
	size_t big = 1024 * 1024;
	char *b = malloc(big + 16);
	memset(b, ' ', big);
	memcpy(b + big / 2, "123456789018", 12);
	check_key_heap(b, big, POLICY_KEY_VALID, "123456789018", 1000);
	for (size_t i = 0; i + 3 <= big; i += 3)
		memcpy(b + i, IDSP, 3);
	memcpy(b + 3 * 1000, "12345678901 ", 12); /* keeps the U+3000s after it aligned */
	check_key_heap(b, big - big % 3, POLICY_KEY_RESIDENT_CODE, "12345678901", 1001);
	memset(b, '7', big);
	check_key_heap(b, big, POLICY_KEY_GARBAGE, "", 1002);
	memset(b, 0, big);
	check_key_heap(b, big, POLICY_KEY_GARBAGE, "", 1003);
	free(b);

	/* Every 12-digit check digit against the reference, over random first 11 digits, and
	 * random keys of every shape against the reference classifier. */
	unsigned counts[5] = { 0 };
	unsigned mismatches = 0;
	for (unsigned iter = 0; iter < 400000; iter++) {
		char key[256], digits[16];
		size_t n = 0;
		unsigned mode = iter % 4;
		size_t ndig = mode == 0 ? 12 : (size_t)(rng() % 16);
		for (size_t i = 0; i < ndig; i++)
			digits[i] = (char)('0' + rng() % 10);
		if (mode == 0) {
			digits[11] = (char)('0' + ref_check_digit(digits));
			if (policy_check_digit(digits) != digits[11] - '0')
				mismatches++;
		}
		for (size_t i = 0; i < ndig; i++)
			n = put_digit(key, n, digits[i] - '0', iter % 8 >= 4);
		if (mode == 3 && n > 0) {
			/* Damage: replace or insert bytes drawn mostly from the interesting
			 * ones (lead bytes, continuations, NUL, look-alike digits). */
			static const unsigned char pool[] = { 0x00, 0x20, 0x2D, 0x30, 0x39, 0x80,
				                              0x8D, 0x90, 0x99, 0x9A, 0xBC, 0xBF,
				                              0xC0, 0xC1, 0xD9, 0xA0, 0xE3, 0xED,
				                              0xEF, 0xF0, 0xF4, 0xFF, 0x2F, 0x3A };
			unsigned edits = 1 + rng() % 3;
			for (unsigned e = 0; e < edits && n < sizeof(key) - 1; e++) {
				size_t at = rng() % (n + 1);
				unsigned char byte =
				    rng() % 4 ? pool[rng() % sizeof(pool)] : (unsigned char)rng();
				if (rng() % 2 && at < n) {
					key[at] = (char)byte;
				} else {
					memmove(key + at + 1, key + at, n - at);
					key[at] = (char)byte;
					n++;
				}
			}
		}
		char ref[64];
		size_t rn;
		PolicyKeyClass want = ref_classify(key, n, ref, &rn);
		char out2[14];
		memset(out2, 'x', sizeof(out2));
		char *k = malloc(n ? n : 1);
		memcpy(k, key, n);
		PolicyKeyClass got = policy_key_classify(k, n, out2, sizeof(out2));
		free(k);
		bool ok = got == want;
		if (ok && want != POLICY_KEY_GARBAGE)
			ok = strlen(out2) == rn && memcmp(out2, ref, rn) == 0;
		else if (ok)
			ok = out2[0] == '\0';
		if (!ok) {
			if (mismatches < 5)
				fprintf(stderr, "random key %u: got %s, reference %s\n", iter,
				        policy_key_class_name(got), policy_key_class_name(want));
			mismatches++;
		}
		counts[want]++;
	}
	CHECK(mismatches == 0);
	/* The random keys reached every class often enough to mean something. */
	for (int c = 0; c < 5; c++) {
		if (counts[c] < 2000)
			fprintf(stderr, "class %s reached only %u times\n",
			        policy_key_class_name((PolicyKeyClass)c), counts[c]);
		CHECK(counts[c] >= 2000);
	}
	checks += 400000;
}

int
main(void)
{
	test_reason_names();
	test_authorize();
	test_login();
	test_lockout();
	test_parse_errors();
	test_parse_good();
	test_files();
	test_search_key();

	for (int r = 0; r < _POLICY_REASON_MAX; r++)
		if (!reasons_seen[r]) {
			fprintf(stderr, "no table row gives %s\n",
			        policy_reason_name((PolicyReason)r));
			failures++;
		}
	if (failures) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("policy: %u checks passed\n", checks);
	return 0;
}
