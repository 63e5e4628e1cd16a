/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * actor: who did it, as records name the person behind a request (issue 13, item 6). The
 * caller's uid says only which account asked: after sudo that is root. The kernel's login
 * uid (audit's loginuid, set by pam_loginuid at login and kept across sudo and su) says who
 * logged in, and a caller inside a biogate session is that session's person.
 */
#pragma once

#include <stddef.h>

#include <json-c/json.h>

#include "forward.h"

/* Adds to d: by_uid; by_loginuid when the kernel knows who logged in; by_matching_id and
 * by_operator_id when the caller runs inside an open biogate session. */
void actor_describe(Manager *m, Caller *c, json_object *d);
/* "uid 0" or "uid 0 (login uid 1000)", for the roster history and disposal's "by" (fits
 * in 64 bytes). */
void actor_text(const Caller *c, char *buf, size_t size);
/* {"by_uid":...} and the rest of actor_describe(), as JSON text (the caller frees it). */
char *actor_detail(Manager *m, Caller *c);
