/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tickets: what a successful verify hands the PAM module to open a session with. A ticket
 * is 128 random bits, bound to the process and uid that verified, short-lived, and taken
 * (wiped) by its first use; compared in constant time.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "interface.h"

#define TICKET_HEX_LEN BIOGATE_TICKET_HEX_LEN
#define TICKETS_MAX    64

typedef struct Ticket {
	char hex[TICKET_HEX_LEN + 1];
	char matching_id[WIRE_MAX_ID + 1];
	pid_t pid;
	uid_t uid;
	uid_t session_uid;     /* the person's Unix uid, (uid_t)-1 when unknown */
	uint64_t expires_usec; /* CLOCK_MONOTONIC */
} Ticket;

/* The table of live tickets (in the Manager): a fixed number of slots, no allocation. */
typedef struct Tickets {
	Ticket v[TICKETS_MAX];
} Tickets;

/* Issues a ticket for matching_id to the process pid/uid, valid for lifetime_usec; ret_hex
 * is "" when no random bytes could be had. */
void ticket_issue(Tickets *t, uint64_t lifetime_usec, const char *matching_id, pid_t pid, uid_t uid,
                  uid_t session_uid, char ret_hex[static TICKET_HEX_LEN + 1]);
/* Finds and consumes a ticket of this process. */
bool ticket_take(Tickets *t, const char *hex, pid_t pid, uid_t uid,
                 char ret_mid[static WIRE_MAX_ID + 1], uid_t *ret_uid);
