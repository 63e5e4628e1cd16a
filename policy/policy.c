/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * policy: the decisions (R2, R8, R9, R11, R12, lockout). Facts come in as plain structs and
 * a decision with one stable reason goes out. This file must never do I/O, read a clock,
 * allocate on a decision path, or abort on any input: the daemon calls it for every request
 * and tests drive it with tables. Anything not explicitly allowed is denied.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "policy-internal.h"

static const char *const policy_reason_names[_POLICY_REASON_MAX] = {
	[POLICY_ALLOWED] = "allowed",
	[POLICY_NO_SESSION] = "no-session",
	[POLICY_UNKNOWN_ROLE] = "unknown-role",
	[POLICY_ACTION_NOT_PERMITTED] = "action-not-permitted",
	[POLICY_ADMIN_ONLY] = "admin-only",
	[POLICY_KEY_REQUIRED] = "key-required",
	[POLICY_KEY_NOT_ALLOWED] = "key-not-allowed",
	[POLICY_KEY_INVALID] = "key-invalid",
	[POLICY_KEY_CHECK_DIGIT] = "key-check-digit",
	[POLICY_KEY_RESIDENT_RECORD_CODE] = "key-resident-record-code",
	[POLICY_KEY_CORPORATE_NUMBER] = "key-corporate-number",
	[POLICY_NOT_ON_ROSTER] = "not-on-roster",
	[POLICY_REVOKED] = "revoked",
	[POLICY_NO_OPERATOR] = "no-operator",
	[POLICY_PLEDGE_MISSING] = "pledge-missing",
	[POLICY_TRAINING_MISSING] = "training-missing",
	[POLICY_OUTSIDE_SHIFT] = "outside-shift",
	[POLICY_ALREADY_IN_SESSION] = "already-in-session",
	[POLICY_LOCKED_OUT] = "locked-out",
};

const char *
policy_reason_name(PolicyReason r)
{
	if ((unsigned)r >= _POLICY_REASON_MAX || !policy_reason_names[r])
		return "unknown";
	return policy_reason_names[r];
}

int
policy_reason_from_name(const char *name)
{
	if (!name)
		return -EINVAL;
	for (int r = 0; r < _POLICY_REASON_MAX; r++)
		if (strcmp(policy_reason_names[r], name) == 0)
			return r;
	return -EINVAL;
}

int
policy_new_defaults(Policy **ret)
{
	if (!ret)
		return -EINVAL;
	Policy *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	/* The defaults are the strict ones: gates on, one session per person, faillock's
	 * numbers. Only the admin-session requirement is off, because the first admin must be
	 * able to enroll before any admin session can exist. */
	p->s = (PolicySettings){
		.require_pledge = true,
		.require_training = true,
		.require_shift = false,
		.single_session = true,
		.admin_requires_session = false,
		.lockout_deny = 3,
		.lockout_interval_sec = 900,
		.lockout_unlock_sec = 600,
		.idle_lock_sec = 300,
		.idle_logoff_sec = 900,
		.idle_warn_sec = 60,
		.shift_warn_sec = 300,
		.power_off_minute = -1,
		.power_off_retry_sec = 300,
		.retention_years = 7,
		.incident_window_sec = 3600,
		.forbidden_search_threshold = 3,
		.failed_match_threshold = 5,
		.admin_role = "admin",
		/* SSSD's offline_credentials_expiration is in days; a counter's shift is the
		 * unit here: a terminal cut off for a working day stops admitting anyone. */
		.fleet_offline_login = true,
		.fleet_offline_max_sec = 8 * 3600,
		.fleet_lease_sec = 60,
		.fleet_wait_ms = 500,
	};
	static const char *const two_person[] = { "revoke", "audit-export", "nationality-read",
		                                  "disposal-approve", "enroll" };
	for (size_t i = 0; i < sizeof(two_person) / sizeof(two_person[0]); i++)
		strcpy(p->two_person.names[p->two_person.n++], two_person[i]);
	strcpy(p->search_actions.names[p->search_actions.n++], "search");
	*ret = p;
	return 0;
}

void
policy_free(Policy *p)
{
	free(p);
}

bool
policy_list_has(const PolicyNameList *l, const char *name)
{
	if (!name)
		return false;
	/* Stored names are NUL-terminated within POLICY_MAX_NAME + 1 bytes, so strcmp stops
	 * within that many bytes of name whatever the caller passed. */
	for (uint32_t i = 0; i < l->n; i++)
		if (strcmp(l->names[i], name) == 0)
			return true;
	return false;
}

const PolicyRole *
policy_find_role(const Policy *p, const char *name)
{
	if (!name)
		return NULL;
	for (uint32_t i = 0; i < p->n_roles; i++)
		if (strcmp(p->roles[i].name, name) == 0)
			return &p->roles[i];
	return NULL;
}

static PolicyDecision
policy_deny(PolicyReason r)
{
	return (PolicyDecision){ .allow = false, .reason = r, .violation = false };
}

PolicyDecision
policy_authorize(const Policy *p, const PolicyRequest *req, char *norm, size_t norm_size,
                 PolicyKeyClass *ret_key)
{
	if (norm && norm_size > 0)
		norm[0] = '\0';
	if (!req || !req->in_session)
		return policy_deny(POLICY_NO_SESSION);
	if (!p)
		return policy_deny(POLICY_UNKNOWN_ROLE);

	const PolicyNameList *allowed;
	bool is_admin = policy_is_admin_role(p, req->role);
	if (is_admin) {
		allowed = &p->admin_actions;
	} else {
		const PolicyRole *role = policy_find_role(p, req->role);
		if (!role)
			return policy_deny(POLICY_UNKNOWN_ROLE);
		if (policy_list_has(&p->admin_actions, req->action))
			return policy_deny(POLICY_ADMIN_ONLY);
		allowed = &role->actions;
	}
	if (!policy_list_has(allowed, req->action))
		return policy_deny(POLICY_ACTION_NOT_PERMITTED);

	/* Roles first, then the key: a role that may not search learns nothing about keys. */
	bool takes_key = policy_list_has(&p->search_actions, req->action);
	if (!takes_key)
		return req->key ? policy_deny(POLICY_KEY_NOT_ALLOWED)
		                : (PolicyDecision){ .allow = true, .reason = POLICY_ALLOWED };
	if (!req->key)
		return policy_deny(POLICY_KEY_REQUIRED);

	PolicyKeyClass c = policy_key_classify(req->key, req->key_len, norm, norm_size);
	if (ret_key)
		*ret_key = c;
	switch (c) {
	case POLICY_KEY_VALID:
		return (PolicyDecision){ .allow = true, .reason = POLICY_ALLOWED };
	case POLICY_KEY_BAD_CHECK_DIGIT:
		return policy_deny(POLICY_KEY_CHECK_DIGIT);
	case POLICY_KEY_RESIDENT_CODE:
		return (PolicyDecision){ .allow = false,
			                 .reason = POLICY_KEY_RESIDENT_RECORD_CODE,
			                 .violation = true };
	case POLICY_KEY_CORPORATE:
		return policy_deny(POLICY_KEY_CORPORATE_NUMBER);
	case POLICY_KEY_GARBAGE:
		/* A resident record code behind a zero-width character, a stray letter or other
		 * digits is the same violation, recorded with its HMAC like the plain one. */
		if (policy_key_disguised_resident_code(req->key, req->key_len, norm, norm_size))
			return (PolicyDecision){ .allow = false,
				                 .reason = POLICY_KEY_RESIDENT_RECORD_CODE,
				                 .violation = true };
		break;
	}
	return policy_deny(POLICY_KEY_INVALID);
}

PolicyDecision
policy_check_login(const Policy *p, const PolicyLoginFacts *f)
{
	if (!f || !f->on_roster)
		return policy_deny(POLICY_NOT_ON_ROSTER);
	if (f->revoked)
		return policy_deny(POLICY_REVOKED);
	if (f->locked_out)
		return policy_deny(POLICY_LOCKED_OUT);
	if (!f->has_operator)
		return policy_deny(POLICY_NO_OPERATOR);
	/* Without a policy every optional gate stays closed: deny by default. */
	const PolicySettings *s = p ? &p->s : NULL;
	if ((!s || s->require_pledge) && !f->pledge_recorded)
		return policy_deny(POLICY_PLEDGE_MISSING);
	if ((!s || s->require_training) && !f->training_recorded)
		return policy_deny(POLICY_TRAINING_MISSING);
	if ((!s || s->require_shift) && !f->in_shift)
		return policy_deny(POLICY_OUTSIDE_SHIFT);
	if ((!s || s->single_session) && f->in_open_session)
		return policy_deny(POLICY_ALREADY_IN_SESSION);
	return (PolicyDecision){ .allow = true, .reason = POLICY_ALLOWED };
}

bool
policy_locked_out(const Policy *p, const int64_t *failures, size_t n, int64_t now_usec,
                  int64_t *ret_until)
{
	if (!p || !failures || n == 0 || p->s.lockout_deny == 0)
		return false;

	int64_t latest = INT64_MIN;
	for (size_t i = 0; i < n; i++)
		if (failures[i] > latest)
			latest = failures[i];

	/*
	 * pam_faillock drops a failure older than fail_interval when it records a new one, so
	 * what counts is the failures in [latest - interval, latest], both ends included.
	 * latest - f is never negative; it overflows only for a failure so far back that it is
	 * outside any window.
	 */
	int64_t interval = (int64_t)p->s.lockout_interval_sec * 1000000;
	uint32_t count = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t age;
		if (__builtin_sub_overflow(latest, failures[i], &age))
			continue;
		if (age <= interval)
			count++;
	}
	if (count < p->s.lockout_deny)
		return false;

	/* unlock-time-sec = 0 is pam_faillock's "until an admin unlocks"; an end past INT64_MAX
	 * is one that now can never reach. */
	int64_t until = INT64_MAX, end;
	if (p->s.lockout_unlock_sec > 0 &&
	    !__builtin_add_overflow(latest, (int64_t)p->s.lockout_unlock_sec * 1000000, &end)) {
		if (now_usec >= end)
			return false;
		until = end;
	}
	if (ret_until)
		*ret_until = until;
	return true;
}

bool
policy_two_person(const Policy *p, const char *action)
{
	return p && policy_list_has(&p->two_person, action);
}

bool
policy_is_admin_role(const Policy *p, const char *role)
{
	return p && role && p->s.admin_role[0] && strcmp(p->s.admin_role, role) == 0;
}

bool
policy_role_exists(const Policy *p, const char *role)
{
	return p && (policy_is_admin_role(p, role) || policy_find_role(p, role));
}

bool
policy_is_admin_action(const Policy *p, const char *action)
{
	return p && policy_list_has(&p->admin_actions, action);
}

bool
policy_takes_key(const Policy *p, const char *action)
{
	return p && policy_list_has(&p->search_actions, action);
}

unsigned
policy_files_loaded(const Policy *p)
{
	return p ? p->files_loaded : 0;
}

const PolicySettings *
policy_settings(const Policy *p)
{
	return p ? &p->s : NULL;
}
