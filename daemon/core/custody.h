/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * custody: revocation (R4), nationality reads (R7), the roster history (R6), two-person
 * confirmation (R13) and disposal (R16). Actions the policy lists under [two-person] run only
 * after a second, different, enrolled person has confirmed with a finger on this terminal.
 * Every step is an audit record naming who did it and who confirmed it (the caller's reply
 * waits for it); no record and no log line carries a personal field's value.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "forward.h"
#include "interface.h"
#include "wire.h"

#define CUSTODY_CONFIRM_MAX BIOGATE_CONFIRM_MAX

/* --- two-person confirmation (R13) --- */

typedef struct CustodyConfirm CustodyConfirm;

/* Why a confirmation was refused before it started. */
typedef struct CustodyRefusal {
	const char *parameter; /* -EINVAL: the bad parameter ("confirm_by", "more") */
	/* -EACCES: "same-person", "second-person-required", or a confirmer who may not confirm
	 * (matching_id set): "confirmer-no-operator", "confirmer-pledge-missing",
	 * "confirmer-training-missing", "confirmer-locked-out" */
	const char *reason;
	char matching_id[WIRE_MAX_ID + 1]; /* -ENOENT (not on roster), -EPERM (revoked) */
	bool reader; /* the reader could not start: -ENOENT (not enrolled), -EBUSY, -ENOTCONN */
} CustodyRefusal;

/* prompt: "place-finger" or "retry", for the confirmer matching_id. */
typedef void (*CustodyPromptFn)(const char *prompt, const char *matching_id, void *userdata);
/* r < 0: the confirmation failed: -EKEYREJECTED (no match), -ENOENT (not enrolled), the
 * reader's (verify.h); else actor names everyone ("uid 0 M001 + M002") and people lists
 * their matching IDs; -EACCES: a later confirmer was locked out meanwhile. Every check counts
 * toward the confirmer's lockout as a login's does (R10). */
typedef void (*CustodyConfirmedFn)(int r, const char *actor, json_object *people, void *userdata);

/*
 * Confirms action for caller c. When the policy does not list it, done runs at once and
 * *ret is NULL. Else the confirmers (with the caller, when in a session: at least two
 * different, active people) put their finger on the reader one after the other, and done
 * runs once at the end unless custody_confirm_cancel() came first; *ret is the handle.
 * can_prompt: whether the caller can be told to touch the reader. Returns 0, or a refusal
 * (-EINVAL, -EACCES recorded, -ENOENT, -EPERM, -ENOMEM, or with reader set the reader's,
 * filled into *ret_refusal) after which nothing is called back.
 */
int custody_confirm_start(Manager *m, Caller *c, const char *action, json_object *confirm_by,
                          bool can_prompt, CustodyPromptFn prompt, CustodyConfirmedFn done,
                          void *userdata, CustodyConfirm **ret, CustodyRefusal *ret_refusal);
void custody_confirm_cancel(Manager *m, CustodyConfirm *k);

/* --- the operations --- */

/* 0 when matching_id is on the roster and active; -ENOENT, -EPERM (revoked). */
int custody_person_active(Manager *m, const char *matching_id);
/* Revokes and erases (R4), ends the person's sessions. ret {matching_id, templates_erased,
 * sessions_ended}. -ENOENT, -EALREADY (already revoked), other -errno. */
int custody_revoke(Manager *m, Caller *c, const char *matching_id, const char *reason,
                   const char *actor, json_object *people, json_object **ret);
/* The nationality, read for a recorded purpose (R7). -ENOENT, other -errno. ret is wiped by
 * the caller after use. */
int custody_nationality(Manager *m, Caller *c, const char *matching_id, const char *purpose,
                        const char *actor, json_object *people, char *ret, size_t size);
/* {history: [...]} (R6). -ENOENT, other -errno. */
int custody_history(Manager *m, const char *matching_id, json_object **ret);

typedef struct CustodyDisposalPlan {
	const char *items, *media, *method;
	int64_t count;
	const char *planned_date; /* "YYYY-MM-DD" */
} CustodyDisposalPlan;
/* R16. ret: the disposal as stored. -EINVAL (bad planned_date), other -errno. */
int custody_disposal_plan(Manager *m, Caller *c, const CustodyDisposalPlan *p, json_object **ret);
/* -ENOENT or the disposal. */
int custody_disposal_get(Manager *m, int64_t id, json_object **ret);
/* -EALREADY (not planned), other -errno. */
int custody_disposal_approve(Manager *m, Caller *c, int64_t id, const char *actor,
                             json_object *people, json_object **ret);
/* *ret_why on -EACCES (recorded): "not-approved", "before-planned-date". */
int custody_disposal_execute(Manager *m, Caller *c, int64_t id, const char **ret_why,
                             json_object **ret);
/* Records that the report was produced (the reply waits for it). */
void custody_disposal_reported(Manager *m, Caller *c, int64_t id);
