/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tickets: see tickets.h. */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "clock.h"
#include "tickets.h"

void
ticket_issue(Tickets *tickets, uint64_t lifetime_usec, const char *matching_id, pid_t pid,
             uid_t uid, uid_t session_uid, char ret_hex[static TICKET_HEX_LEN + 1])
{
	uint8_t raw[TICKET_HEX_LEN / 2];
	if (RAND_bytes(raw, sizeof(raw)) != 1) {
		ret_hex[0] = '\0';
		return;
	}
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(ret_hex + 2 * i, 3, "%02x", raw[i]);
	OPENSSL_cleanse(raw, sizeof(raw));

	/* Reuse an expired slot, else the oldest one. */
	uint64_t now = now_mono_usec();
	Ticket *slot = &tickets->v[0];
	for (size_t i = 0; i < TICKETS_MAX; i++) {
		Ticket *t = &tickets->v[i];
		if (t->hex[0] == '\0' || t->expires_usec <= now) {
			slot = t;
			break;
		}
		if (t->expires_usec < slot->expires_usec)
			slot = t;
	}
	*slot = (Ticket){ .pid = pid, .uid = uid, .session_uid = session_uid };
	memcpy(slot->hex, ret_hex, TICKET_HEX_LEN + 1);
	snprintf(slot->matching_id, sizeof(slot->matching_id), "%s", matching_id);
	slot->expires_usec = now + lifetime_usec;
}

bool
ticket_take(Tickets *tickets, const char *hex, pid_t pid, uid_t uid,
            char ret_mid[static WIRE_MAX_ID + 1], uid_t *ret_uid)
{
	if (!hex || strlen(hex) != TICKET_HEX_LEN)
		return false;
	uint64_t now = now_mono_usec();
	for (size_t i = 0; i < TICKETS_MAX; i++) {
		Ticket *t = &tickets->v[i];
		if (t->hex[0] == '\0' || CRYPTO_memcmp(t->hex, hex, TICKET_HEX_LEN) != 0)
			continue;
		bool ok = t->expires_usec > now && t->pid == pid && t->uid == uid;
		if (ok) {
			memcpy(ret_mid, t->matching_id, WIRE_MAX_ID + 1);
			*ret_uid = t->session_uid;
		}
		OPENSSL_cleanse(t, sizeof(*t));
		return ok;
	}
	return false;
}
