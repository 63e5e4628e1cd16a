/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * policy: the one place where biogate decides. Facts in, a decision out, with a stable
 * reason. The decision functions do no I/O, read no clock (time is a fact), allocate
 * nothing and never abort; tests drive them with plain structs. The policy file parser
 * (libinih) and the search-key rule (R11) live here too.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POLICY_MAX_NAME    64 /* role and action names: [a-z0-9][a-z0-9._-]* */
#define POLICY_MAX_ROLES   32
#define POLICY_MAX_ACTIONS 64 /* per role, and in the two-person list */
#define POLICY_MAX_NOTIFY  512

typedef struct Policy Policy;

/* Stable decision reasons: they are wire values, audit values and test values. */
typedef enum PolicyReason {
	POLICY_ALLOWED,      /* "allowed" */
	POLICY_NO_SESSION,   /* "no-session": the caller is in no biogate session */
	POLICY_UNKNOWN_ROLE, /* "unknown-role": the operator ID's role is not in the policy */
	POLICY_ACTION_NOT_PERMITTED, /* "action-not-permitted": the role lacks the action */
	POLICY_ADMIN_ONLY,           /* "admin-only": the action belongs to the admin role */
	POLICY_KEY_REQUIRED,         /* "key-required": search without a key */
	POLICY_KEY_NOT_ALLOWED, /* "key-not-allowed": a key given to an action that takes none */
	POLICY_KEY_INVALID,     /* "key-invalid": not digits after normalization, wrong length */
	POLICY_KEY_CHECK_DIGIT, /* "key-check-digit": 12 digits, wrong check digit */
	POLICY_KEY_RESIDENT_RECORD_CODE, /* "key-resident-record-code": 11 digits, a violation */
	POLICY_KEY_CORPORATE_NUMBER,     /* "key-corporate-number": 13 digits */
	POLICY_NOT_ON_ROSTER,            /* "not-on-roster" */
	POLICY_REVOKED,                  /* "revoked" */
	POLICY_NO_OPERATOR,              /* "no-operator" */
	POLICY_PLEDGE_MISSING,           /* "pledge-missing" (R9) */
	POLICY_TRAINING_MISSING,         /* "training-missing" (R9) */
	POLICY_OUTSIDE_SHIFT,            /* "outside-shift" (R8) */
	POLICY_ALREADY_IN_SESSION,       /* "already-in-session" (R12) */
	POLICY_LOCKED_OUT,               /* "locked-out" */
	_POLICY_REASON_MAX,
} PolicyReason;

/* "unknown" for a value outside the enum. */
const char *policy_reason_name(PolicyReason r);
/* The reason named name, or -EINVAL. */
int policy_reason_from_name(const char *name);

typedef struct PolicyDecision {
	bool allow;
	PolicyReason reason;
	bool violation; /* recorded as a violation (R11 resident record code), raises incidents */
} PolicyDecision;

/* --- the search key (R11) ------------------------------------------------------------- */

typedef enum PolicyKeyClass {
	POLICY_KEY_VALID,           /* 12 digits, check digit right: an individual number */
	POLICY_KEY_BAD_CHECK_DIGIT, /* 12 digits, check digit wrong */
	POLICY_KEY_RESIDENT_CODE,   /* 11 digits */
	POLICY_KEY_CORPORATE,       /* 13 digits */
	POLICY_KEY_GARBAGE,         /* anything else */
} PolicyKeyClass;

/*
 * Normalizes key[0..len) (UTF-8, hostile: any bytes, any length): full-width digits
 * U+FF10..U+FF19 become ASCII digits; U+0020, U+3000, U+002D, U+FF0D are removed; anything
 * else that is not an ASCII digit, or invalid UTF-8, makes it POLICY_KEY_GARBAGE. Writes the
 * normalized digits (NUL-terminated) to out when they fit (out_size >= 14 is enough for
 * every class), else out[0] = '\0'; for POLICY_KEY_GARBAGE out is always "". Never reads
 * past len; NULL key is garbage. More than 13 digits is garbage however it continues.
 */
PolicyKeyClass policy_key_classify(const char *key, size_t len, char *out, size_t out_size);
/*
 * Whether a key the rule calls garbage still looks like a resident record code: what the
 * rule strips (spaces, hyphens) and everything else that is not a digit (letters, zero-width
 * and other format characters, punctuation, stray bytes) is ignored, every character Unicode
 * gives a digit value (ASCII, full-width, Arabic-Indic, Devanagari, superscript, circled ...)
 * counts as that digit, and exactly 11 digits are left. Then the 11 ASCII digits are written
 * to out (when out_size >= 12, else out[0] = '\0') for the key HMAC: the probe is recorded as
 * the violation it is (R11, R19). Same promises as policy_key_classify(): never reads past
 * len, never allocates, leaves no copy.
 */
bool policy_key_disguised_resident_code(const char *key, size_t len, char *out, size_t out_size);
/* "valid", "bad-check-digit", "resident-record-code", "corporate-number", "invalid". */
const char *policy_key_class_name(PolicyKeyClass c);
/* The check digit of an individual number from its first 11 digits (ASCII); -1 when not
 * 11 ASCII digits. 12345678901 -> 8. */
int policy_check_digit(const char *first11);

/* --- the policy file ---------------------------------------------------------------- */

/*
 * INI (libinih). Sections and keys:
 *   [roles]      ROLE = ACTION ACTION ...      operator roles; deny by default
 *   [admin]      role = admin                  the admin role's name (separate from operator roles)
 *                actions = ACTION ...          actions only the admin role has
 *                require-session = yes|no      admin methods also need an admin-role session
 *   [search]     actions = search ...          actions that take a search key (R11)
 *   [login]      require-pledge = yes|no        (R9)   require-training = yes|no (R9)
 *                require-shift = yes|no         (R8)   single-session = yes|no   (R12)
 *   [lockout]    deny = N  fail-interval-sec = S  unlock-time-sec = S   (pam_faillock: 3/900/600)
 *   [idle]       lock-after-sec = S (300)  logoff-after-sec = S (900)  warn-before-sec = S (60)
 *   [shift]      warn-before-sec = S (300)  power-off-time = HH:MM (none)  power-off-retry-sec = S
 * (300) [two-person] actions = revoke audit-export nationality-read disposal-approve enroll
 * [retention]
 * audit-years = N (7) [incidents]  notify = /absolute/command    window-sec = S (3600)
 *                forbidden-search-threshold = N (3)   failed-match-threshold = N (5)
 * Later files override earlier ones key by key; a [roles] entry in a later file replaces that
 * role's list ("ROLE =" with nothing leaves the role with no actions). Inside one file a key
 * may appear once; a list may go on over indented continuation lines (lines are limited to
 * 197 bytes by libinih). The admin role may not also be an operator role and an admin-only
 * action may not be granted to one. Unknown sections or keys, bad values, names that are not
 * [a-z0-9][a-z0-9._-]*, more than the caps, a file other users can write: errors naming file
 * and line ("FILE:LINE: what", the first error of the file, written to ret_error, a buffer
 * the caller gives; 256 bytes is plenty). Returns -errno.
 */
int policy_new_defaults(Policy **ret); /* the built-in defaults above, no roles */
/* Loads path over p. A missing file is -ENOENT (the caller decides whether that is fine). */
int policy_load_file(Policy *p, const char *path, char *ret_error, size_t error_size);
/* The parser behind policy_load_file, on text[0..len) (no NUL byte allowed in it); name is
 * the file name used in messages. A file is applied whole or not at all: on any error p is
 * left as it was. Files and strings over 1 MiB are refused (-EFBIG). */
int policy_load_string(Policy *p, const char *name, const char *text, size_t len, char *ret_error,
                       size_t error_size);
/* Whether s is a role or action name: [a-z0-9][a-z0-9._-]*, at most POLICY_MAX_NAME. */
bool policy_valid_name(const char *s);
/* How many files policy_load applied (0: the built-in defaults alone, which have no roles,
 * so every request is denied). */
unsigned policy_files_loaded(const Policy *p);
/* The standard chain: /usr/share/biogate/policy.conf (or datadir), /etc/biogate/policy.conf,
 * /etc/biogate/policy.conf.d/ *.conf in name order; or, when path is given, path and then
 * path.d/ *.conf. Missing files in the chain are skipped; an explicit path must exist. */
int policy_load(const char *path, Policy **ret, char *ret_error, size_t error_size);
void policy_free(Policy *p);

/* --- decisions ---------------------------------------------------------------------- */

typedef struct PolicyRequest {
	bool in_session;    /* the caller's process belongs to an open biogate session */
	const char *role;   /* the session's operator role (or the admin role) */
	const char *action; /* what the caller wants to do */
	const char *key;    /* raw search key, or NULL when none was given ("" is a key) */
	size_t key_len;
} PolicyRequest;

/* Authorize (R2, R11). When a key was classified, *ret_key holds the class and norm the
 * normalized digits (norm_size >= 14) so the caller can record an HMAC of it. */
PolicyDecision policy_authorize(const Policy *p, const PolicyRequest *req, char *norm,
                                size_t norm_size, PolicyKeyClass *ret_key);

typedef struct PolicyLoginFacts {
	bool on_roster;
	bool revoked;
	bool has_operator;
	bool pledge_recorded;   /* written pledge date recorded (R9) */
	bool training_recorded; /* security training date recorded (R9) */
	bool in_shift;          /* now falls inside one of the person's scheduled shifts (R8) */
	bool in_open_session;   /* the matching ID is already in an open session (R12) */
	bool locked_out;
} PolicyLoginFacts;

/* The login gates, checked in a fixed order so each refusal has one reason:
 * roster, revoked, locked out, operator, pledge, training, shift, single session. */
PolicyDecision policy_check_login(const Policy *p, const PolicyLoginFacts *f);

/* Lockout (pam_faillock semantics). failures[] are the times (usec) of recent failed
 * matches, any order. Locked when at least [lockout] deny of them lie in
 * [latest - fail-interval, latest] (both ends included) and now < latest + unlock-time;
 * then *ret_until = latest + unlock-time. deny = 0 disables lockout; unlock-time-sec = 0
 * locks until an admin unlocks (*ret_until = INT64_MAX), as pam_faillock's unlock_time=0. */
bool policy_locked_out(const Policy *p, const int64_t *failures, size_t n, int64_t now_usec,
                       int64_t *ret_until);

/* Whether an action needs a second person's fingerprint (R13). */
bool policy_two_person(const Policy *p, const char *action);
/* True when role is the admin role. */
bool policy_is_admin_role(const Policy *p, const char *role);
/* True when role is an operator role or the admin role. */
bool policy_role_exists(const Policy *p, const char *role);
/* True when action is in [admin] actions (the daemon's admin-call gate). */
bool policy_is_admin_action(const Policy *p, const char *action);
/* True when action is in [search] actions, i.e. takes a search key. */
bool policy_takes_key(const Policy *p, const char *action);

/* Settings the daemon reads (values are seconds unless named otherwise). */
typedef struct PolicySettings {
	bool require_pledge, require_training, require_shift, single_session;
	bool admin_requires_session;
	uint32_t lockout_deny, lockout_interval_sec, lockout_unlock_sec;
	uint32_t idle_lock_sec, idle_logoff_sec, idle_warn_sec;
	uint32_t shift_warn_sec;
	int32_t power_off_minute; /* minutes after local midnight, -1 when unset */
	uint32_t power_off_retry_sec;
	uint32_t retention_years;
	uint32_t incident_window_sec, forbidden_search_threshold, failed_match_threshold;
	char notify[POLICY_MAX_NOTIFY]; /* empty when unset */
	char admin_role[POLICY_MAX_NAME + 1];
	/* [fleet]: when the center cannot be reached, whether a person this terminal already
	 * knows may log in, and for how long after the last contact with the center. */
	bool fleet_offline_login;
	uint32_t fleet_offline_max_sec;
	uint32_t fleet_lease_sec; /* how long a dead terminal's session holds its person */
	uint32_t fleet_wait_ms;   /* a login's bound on waiting for the center */
} PolicySettings;

const PolicySettings *policy_settings(const Policy *p);
