/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * caller: who asked, as core sees it. The varlink layer fills one per connection from the
 * kernel's credentials (SO_PEERCRED, SO_PEERGROUPS) and hands core a pointer; core never
 * sees the connection itself. hold/release let core keep the caller's reply back until the
 * audit record it depends on is durable (record.h); NULL for the daemon's own work.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "forward.h"
#include "wire.h"

/* What the kernel said about the peer. */
typedef struct Peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	gid_t groups[64];
	int n_groups; /* -1 when SO_PEERGROUPS failed: treat as no groups */
	/* /proc/PID/loginuid read at accept: who logged in (kept across sudo). */
	bool has_loginuid;
	uid_t loginuid;
} Peer;

/* The biogate session the peer's process belongs to, resolved once per connection (the
 * peer's pid does not change; its session can only end, which is checked on use). */
typedef struct PeerSession {
	bool known;
	int64_t session_id;
	char matching_id[WIRE_MAX_ID + 1];
	char operator_id[WIRE_MAX_ID + 1];
	char role[WIRE_MAX_ID + 1];
} PeerSession;

struct Caller {
	Peer peer;
	PeerSession session; /* cache for sessions_of_caller() */
	/* The reply waits while holds are taken; release(ok=false) drops the caller instead
	 * of answering. The Caller stays valid until every hold is released. */
	void (*hold)(Caller *c);
	void (*release)(Caller *c, bool ok);
};

/* Root or the admin group, from the kernel's credentials. */
bool caller_is_admin(const Manager *m, const Caller *c);
