/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * policy-internal: the layout of a loaded Policy, shared by the decision code (policy.c) and
 * the file parser (parse.c) and by nothing else. Everything is fixed-size so that a decision
 * never allocates and a policy is copied with one memcpy.
 */
#pragma once

#include "policy.h"

typedef struct PolicyNameList {
	uint32_t n;
	char names[POLICY_MAX_ACTIONS][POLICY_MAX_NAME + 1];
} PolicyNameList;

typedef struct PolicyRole {
	char name[POLICY_MAX_NAME + 1];
	PolicyNameList actions;
} PolicyRole;

struct Policy {
	PolicySettings s;
	uint32_t n_roles;
	PolicyRole roles[POLICY_MAX_ROLES];
	PolicyNameList admin_actions;
	PolicyNameList search_actions;
	PolicyNameList two_person;
	unsigned files_loaded;
};

bool policy_list_has(const PolicyNameList *l, const char *name);
const PolicyRole *policy_find_role(const Policy *p, const char *name);
